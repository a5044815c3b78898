"""Dataclasses from TOML/JSON dictionaries, with errors that name the key.

One checker for every config in the engine (run configs, model folders' config.json,
vocabularies, Whisper's dims) and for the commands that come through the worker's pipe:

    from_dict(TrainConfig, {"max_steps": 100}, "train")   # dict -> dataclass, checked
    check_fields(command, "Transcribe")                   # a built dataclass, checked

Types come from the annotations: ``int``, ``float`` (an int is accepted and made a
float: some tools write ``1.0`` as ``1``), ``bool`` (never an int), ``str``,
``X | None``, ``tuple[X, ...]``, ``list[X]``, ``dict[K, V]``, ``Literal[...]``, ``Any``,
nested dataclasses, and any other class by ``isinstance``. A field with
``metadata={"choices": (...)}`` takes only those values. Unknown keys, missing
required fields and wrong types raise :class:`ConfigError` naming the path
(``train.max_steps: expected int, got str '100'``); the class's own
``__post_init__`` then checks the values, and its errors get the path too.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import tomli_w

from engine.errors import ConfigError
from engine.fileio import write_text_atomic

T = TypeVar("T")


class _WrongType(Exception):
    """The value at ``path`` itself is of the wrong type (not something inside it); a ConfigError outside."""

    def __init__(self, path: str, expected: Any, value: Any):
        self.path = path
        super().__init__(f"{path}: expected {type_name(expected)}, got {type(value).__name__} {_short(value)}")


def from_dict(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from the mapping ``data``, checking every key and value.

    Parameters
    ----------
    cls : type
        A dataclass; fields that are dataclasses are built from nested mappings.
    data : dict
        Keys are field names; missing ones take the field's default.
    where : str
        The path of ``data`` in its file (``"train"``, ``"model"``), the start of every message.

    Raises
    ------
    ConfigError
        Naming ``where.key``: an unknown key (listing the known ones), a missing
        required field, a wrong type, or what ``cls.__post_init__`` refuses.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"[{where}] must be a table of settings, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(k) for k in data if k not in fields)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(fields)})")
    hints = _hints(cls)
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _checked(data[name], hints[name], f"{where}.{name}", f.metadata.get("choices"), False)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}.{name} is missing (it has no default)")
    try:
        return cls(**values)
    except (ConfigError, ValueError) as e:
        raise ConfigError(_within(where, cls, str(e))) from None


def check_fields(obj: Any, where: str) -> None:
    """Raise ConfigError naming ``where.field`` unless every field of dataclass ``obj`` has its annotated type.

    Nothing is converted: a tuple field must hold a tuple, a nested dataclass an
    instance (checked in turn); a float field may hold an int. For objects built
    elsewhere, e.g. unpickled from a pipe, whose ``__post_init__`` never ran here.
    """
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name, _MISSING)
        if value is _MISSING:
            raise ConfigError(f"{where}.{f.name} is missing")
        _checked(value, hints[f.name], f"{where}.{f.name}", f.metadata.get("choices"), True)


def check_value(value: Any, expected: Any, where: str) -> Any:
    """``value`` checked against the type ``expected`` (converted as :func:`from_dict` does)."""
    return _checked(value, expected, where, None, False)


def type_name(expected: Any) -> str:
    """How a message names a type: ``int``, ``str or None``, ``tuple[str, ...]``, ``one of 'a', 'b'``."""
    if expected is type(None):
        return "None"
    origin = typing.get_origin(expected)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(t) for t in typing.get_args(expected))
    if origin is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(expected)))
    if origin is not None:
        return str(expected).replace("typing.", "")
    return getattr(expected, "__name__", str(expected))


_MISSING = object()


@cache
def _hints(cls: type) -> dict[str, Any]:
    # With postponed annotations a field's type is a string; this evaluates it.
    return typing.get_type_hints(cls)


def _checked(value: Any, expected: Any, path: str, choices: Any, strict: bool) -> Any:
    """``value`` if it has type ``expected`` (in from_dict: converted), else a ConfigError naming ``path``."""
    try:
        value = _typed(value, expected, path, strict)
        if choices is not None and value not in choices:
            raise _WrongType(path, Literal[tuple(choices)], value)
    except _WrongType as e:
        raise ConfigError(str(e)) from None
    return value


def _typed(value: Any, expected: Any, path: str, strict: bool) -> Any:
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if expected is Any:
        return value
    if origin in (Union, types.UnionType):
        for option in args:
            try:
                return _typed(value, option, path, strict)
            except _WrongType as e:
                if e.path != path:  # it fits this option's shape but something inside (a tuple's item) is wrong
                    raise
        raise _WrongType(path, expected, value)
    if origin is Literal:
        # 1 == True, so compare types too: Literal[1] does not take True
        if any(value == a and type(value) is type(a) for a in args):
            return value
    elif expected is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value if strict else float(value)
    elif expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif origin in (tuple, list):
        if isinstance(value, origin) or (not strict and isinstance(value, (tuple, list))):
            return origin(_items(value, origin, args, path, strict))
    elif origin is dict:
        if isinstance(value, dict):
            key, item = args or (Any, Any)
            return {_typed(k, key, f"{path} key {k!r}", strict): _typed(v, item, f"{path}[{k!r}]", strict)
                    for k, v in value.items()}
    elif dataclasses.is_dataclass(expected):
        if isinstance(value, expected):
            if strict:
                check_fields(value, path)
            return value
        if not strict and isinstance(value, dict):
            return from_dict(expected, value, path)
    elif isinstance(value, origin or expected):
        return value
    raise _WrongType(path, expected, value)


def _items(value: tuple | list, origin: type, args: tuple, path: str, strict: bool) -> list:
    if not args:
        return list(value)
    if origin is list or args[-1] is Ellipsis:  # list[X] or tuple[X, ...]
        return [_typed(v, args[0], f"{path}[{i}]", strict) for i, v in enumerate(value)]
    if len(value) != len(args):
        raise ConfigError(f"{path}: expected {len(args)} items ({type_name(tuple[args])}), got {len(value)}")
    return [_typed(v, t, f"{path}[{i}]", strict) for i, (v, t) in enumerate(zip(value, args))]


def _within(where: str, cls: type, message: str) -> str:
    """A message of ``cls.__post_init__`` with the path in front (``FeatureConfig.n_mels`` -> ``features.n_mels``)."""
    if message.startswith((f"{where}.", f"{where}:", f"{where} ")):
        return message
    for klass in cls.__mro__:
        if message.startswith(f"{klass.__name__}.") or message.startswith(f"{klass.__name__}:"):
            return where + message[len(klass.__name__):]
    return f"{where}: {message}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def section_to_dict(obj: Any) -> dict[str, Any]:
    """A config dataclass as a TOML-able dict (None values left out: TOML has no null)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(obj).items() if v is not None}


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file", code="config.missing_file",
                          params={"path": str(path)}) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}", code="config.bad_toml",
                          params={"path": str(path), "reason": str(e)}) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text: {e}", code="config.not_utf8", params={"path": str(path)}) from None


def write_toml(path: str | Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, tomli_w.dumps(data))
