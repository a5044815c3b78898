"""engine.configio: one checker from dicts (TOML, JSON) and pipes to dataclasses, errors naming the path."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from engine.configio import check_fields, check_value, from_dict, section_to_dict
from engine.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    n_head: int = 4
    rate: float = 0.5

    def __post_init__(self) -> None:
        if self.n_head < 1:
            raise ConfigError(f"Inner.n_head must be at least 1, got {self.n_head}")


@dataclass
class Outer:
    name: str  # required
    inner: Inner = field(default_factory=Inner)
    maybe: Inner | None = None
    flag: bool = False
    note: str | None = None
    tags: tuple[str, ...] = ()
    pair: tuple[int, float] = (1, 2.0)
    sizes: list[int] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)
    anything: Any = None
    mode: Literal["fast", "slow"] = "fast"
    schedule: str = field(default="noam", metadata={"choices": ("noam", "cosine")})

    def __post_init__(self) -> None:
        if self.name == "bad":
            raise ValueError("name must not be 'bad'")


def error(data: Any, cls: type = Outer, where: str = "run") -> str:
    with pytest.raises(ConfigError) as caught:
        from_dict(cls, data, where)
    assert type(caught.value) is ConfigError  # a plain one, that pickles (DataLoader workers, the pipe)
    assert str(pickle.loads(pickle.dumps(caught.value))) == str(caught.value)
    return str(caught.value)


def test_a_nested_dict_becomes_the_dataclass_with_lists_as_tuples_and_ints_as_floats():
    built = from_dict(Outer, {"name": "x", "inner": {"n_head": 8, "rate": 1}, "maybe": {}, "flag": True,
                              "tags": ["a", "b"], "pair": [3, 4], "sizes": (1, 2), "extra": {"k": 1},
                              "anything": [1, "two"], "mode": "slow", "schedule": "cosine"}, "run")
    assert built == Outer("x", Inner(8, 1.0), Inner(), True, None, ("a", "b"), (3, 4.0), [1, 2], {"k": 1},
                          [1, "two"], "slow", "cosine")
    assert type(built.inner.rate) is float and type(built.pair[1]) is float and type(built.sizes) is list
    assert from_dict(Outer, {"name": "x"}, "run") == Outer("x")  # every other field takes its default


def test_a_section_written_out_reads_back_the_same():
    value = Outer("x", Inner(2, 0.25), tags=("a",), sizes=[3])
    assert from_dict(Outer, section_to_dict(value), "run") == value


def test_unknown_and_missing_keys_are_named():
    message = error({"name": "x", "n_heads": 8})
    assert message.startswith("run: unknown key(s) n_heads (known: name, inner, maybe, flag, note, tags")
    assert error({"name": "x", "inner": {"heads": 1, "n_hed": 2}}) == \
        "run.inner: unknown key(s) heads, n_hed (known: n_head, rate)"
    assert error({}) == "run.name is missing (it has no default)"
    assert error(5) == "[run] must be a table of settings, got int"
    assert error({"name": "x", "inner": [1]}) == "run.inner: expected Inner, got list [1]"


@pytest.mark.parametrize("data, message", [
    ({"name": 3}, "run.name: expected str, got int 3"),
    ({"name": "x", "inner": {"n_head": "8"}}, "run.inner.n_head: expected int, got str '8'"),
    ({"name": "x", "inner": {"n_head": True}}, "run.inner.n_head: expected int, got bool True"),  # bool is no int
    ({"name": "x", "inner": {"n_head": 8.0}}, "run.inner.n_head: expected int, got float 8.0"),
    ({"name": "x", "inner": {"rate": False}}, "run.inner.rate: expected float, got bool False"),
    ({"name": "x", "inner": {"rate": "0.1"}}, "run.inner.rate: expected float, got str '0.1'"),
    ({"name": "x", "flag": 1}, "run.flag: expected bool, got int 1"),
    ({"name": "x", "note": 5}, "run.note: expected str or None, got int 5"),
    ({"name": "x", "tags": "ab"}, "run.tags: expected tuple[str, ...], got str 'ab'"),
    ({"name": "x", "tags": ["a", 2]}, "run.tags[1]: expected str, got int 2"),
    ({"name": "x", "pair": [1]}, "run.pair: expected 2 items (tuple[int, float]), got 1"),
    ({"name": "x", "pair": [1, "2"]}, "run.pair[1]: expected float, got str '2'"),
    ({"name": "x", "sizes": [1, None]}, "run.sizes[1]: expected int, got NoneType None"),
    ({"name": "x", "extra": {"k": "1"}}, "run.extra['k']: expected int, got str '1'"),
    ({"name": "x", "extra": {1: 1}}, "run.extra key 1: expected str, got int 1"),
    ({"name": "x", "mode": "rapid"}, "run.mode: expected one of 'fast', 'slow', got str 'rapid'"),
    ({"name": "x", "schedule": "linear"}, "run.schedule: expected one of 'noam', 'cosine', got str 'linear'"),
    ({"name": "x", "maybe": {"n_head": "2"}}, "run.maybe.n_head: expected int, got str '2'"),  # inside X | None
    ({"name": "x", "maybe": 3}, "run.maybe: expected Inner or None, got int 3"),
])
def test_wrong_types_name_the_path_the_type_and_the_value(data, message):
    assert error(data) == message


def test_long_values_are_cut_short_in_messages():
    message = error({"name": ["y" * 200]})
    assert message.startswith("run.name: expected str, got list ['yyy") and message.endswith("...")
    assert len(message) < 100


def test_the_classes_own_checks_run_and_get_the_path():
    # a message naming the class gets the path instead of the class name
    assert error({"name": "x", "inner": {"n_head": 0}}) == "run.inner.n_head must be at least 1, got 0"
    assert error({"name": "bad"}) == "run: name must not be 'bad'"  # ValueError, now a ConfigError


def test_check_fields_checks_a_built_object_without_converting():
    good = Outer("x", tags=("a",), pair=(1, 2), maybe=Inner())  # an int is fine where a float is wanted
    check_fields(good, "Outer")
    bad = Outer("x")
    object.__setattr__(bad, "tags", ["a"])  # a list where a tuple belongs: from_dict converts it, this refuses
    with pytest.raises(ConfigError, match=r"^Outer\.tags: expected tuple\[str, \.\.\.\], got list \['a'\]$"):
        check_fields(bad, "Outer")
    inner = Inner()
    object.__setattr__(inner, "n_head", "4")  # nested objects are checked too (__post_init__ never saw this)
    with pytest.raises(ConfigError, match=r"^Outer\.inner\.n_head: expected int, got str '4'$"):
        check_fields(Outer("x", inner=inner), "Outer")
    with pytest.raises(ConfigError, match=r"^Outer\.inner: expected Inner, got dict"):
        check_fields(Outer("x", inner={"n_head": 4}), "Outer")  # type: ignore[arg-type]
    gone = Outer("x")
    object.__delattr__(gone, "name")  # as an object unpickled from an older class
    with pytest.raises(ConfigError, match=r"^Outer\.name is missing$"):
        check_fields(gone, "Outer")


def test_check_value_converts_one_value():
    assert check_value(3, float, "x") == 3.0 and type(check_value(3, float, "x")) is float
    assert check_value(["a"], tuple[str, ...], "x") == ("a",)
    with pytest.raises(ConfigError, match=r"^spec\.enabled: expected bool, got str 'sí'$"):
        check_value("sí", bool, "spec.enabled")


# ---- every config class of the engine goes through the helper -----------------------------------

def _engine_configs():
    from engine.feature_config import FeatureConfig, SpecAugmentConfig
    from engine.speech_transformer.config import ModelConfig
    from engine.text import TextConfig
    from engine.training.config import DataConfig, RunSection, TrainConfig
    from engine.whisper.model import WhisperConfig

    return [
        (FeatureConfig, "features", {}, "n_mels"),
        (SpecAugmentConfig, "spec_augment", {}, "n_time_masks"),
        (TextConfig, "text", {}, "lowercase"),
        (ModelConfig, "model", {"vocab_size": 10}, "n_head"),
        (WhisperConfig, "model", {}, "n_audio_head"),
        (DataConfig, "data", {}, "num_workers"),
        (TrainConfig, "train", {}, "max_steps"),
        (RunSection, "run", {}, "name"),
    ]


@pytest.mark.parametrize("cls, where, required, key", _engine_configs(), ids=lambda x: getattr(x, "__name__", ""))
def test_engine_configs_round_trip_and_name_the_path(cls, where, required, key):
    value = from_dict(cls, required, where)
    assert from_dict(cls, dataclasses.asdict(value), where) == value
    if hasattr(cls, "from_dict"):
        assert cls.from_dict(value.to_dict()) == value
    bad = "8" if isinstance(getattr(value, key), (int, float)) and not isinstance(getattr(value, key), bool) else 8
    message = error({**required, key: bad}, cls, where)
    assert message.startswith(f"{where}.{key}: expected ") and f"got {type(bad).__name__} {bad!r}" in message
    assert error({**required, "no_such_key": 1}, cls, where).startswith(f"{where}: unknown key(s) no_such_key (known: ")


def test_the_classes_own_messages_get_the_path_of_their_section():
    from engine.feature_config import FeatureConfig, SpecAugmentConfig
    from engine.speech_transformer.config import ModelConfig
    from engine.text import CharTokenizer, TextConfig
    from engine.whisper.model import WhisperConfig

    assert error({"normalize": "global"}, FeatureConfig, "features") == \
        "features.normalize: expected one of ('utterance', 'none'), got 'global'"
    assert error({"time_mask_max_ratio": 1.5}, SpecAugmentConfig, "spec_augment") == \
        "spec_augment.time_mask_max_ratio: must be in [0, 1], got 1.5"
    assert error({"vocab_size": 10, "d_model": 100, "n_head": 3}, ModelConfig, "model") == \
        "model.d_model (100) must be divisible by model.n_head (3)"
    assert error({"n_audio_head": 0}, WhisperConfig, "model") == "model.n_audio_head must be a positive integer, got 0"
    assert error({"vocab_size": 10, "d_model": "256"}, ModelConfig, "model") == \
        "model.d_model: expected int, got str '256'"
    with pytest.raises(ConfigError, match=r"^text\.lowercase: expected bool, got str 'yes'$"):
        CharTokenizer.from_dict({**CharTokenizer.build(["ab"]).to_dict(), "text": {"lowercase": "yes"}})
    assert TextConfig.from_dict({"lowercase": False}) == TextConfig(lowercase=False)
