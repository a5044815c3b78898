import json
import pickle

import pytest
import torch
from safetensors.torch import load_file

from engine.errors import ModelFileError
from engine.feature_config import FeatureConfig
from engine.features import compute_features
from engine.models.io import load_model
from engine.speech_transformer.files import save_model
from engine.speech_transformer.config import preset_config
from engine.speech_transformer.model import SpeechTransformer
from engine.text import CharTokenizer, TextConfig
from tests.helpers import tone_speech


def test_save_then_load_gives_identical_outputs(overfit_model, saved_model_dir):
    model, tok, fc, _ = overfit_model
    loaded = load_model(saved_model_dir)
    assert not loaded.model.training
    assert loaded.tokenizer.to_dict() == tok.to_dict()
    assert loaded.feature_config == fc
    assert loaded.metadata["name"] == "tonos-es" and loaded.name == "tonos-es"
    feats = compute_features(tone_speech("señor Núñez"), fc)[None]
    lens = torch.tensor([feats.shape[1]])
    tokens = torch.tensor([[tok.sos_id] + tok.encode("señor")])
    with torch.no_grad():
        a = model(feats, lens, tokens)
        b = loaded.model(feats, lens, tokens)
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
    torch.testing.assert_close(a[1], b[1], rtol=0, atol=0)


def test_model_folder_is_safetensors_and_readable_json(saved_model_dir):
    config = json.loads((saved_model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["architecture"] == "speech-transformer"
    assert config["model"]["vocab_size"] == len(json.loads((saved_model_dir / "vocab.json").read_text())["tokens"])
    vocab_text = (saved_model_dir / "vocab.json").read_text(encoding="utf-8")
    assert "ñ" in vocab_text and "¿" in vocab_text  # stored as real characters, not escapes
    assert load_file(str(saved_model_dir / "model.safetensors"))  # plain tensors, no pickle
    assert not list(saved_model_dir.glob("*.tmp"))


def test_load_accepts_a_file_inside_the_folder(saved_model_dir):
    assert load_model(saved_model_dir / "model.safetensors").path == saved_model_dir


def _copy(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_missing_folder_and_missing_files_are_named(saved_model_dir, tmp_path):
    with pytest.raises(ModelFileError, match="no such model folder"):
        load_model(tmp_path / "nope")
    broken = _copy(saved_model_dir, tmp_path / "m")
    (broken / "vocab.json").unlink()
    with pytest.raises(ModelFileError, match="missing vocab.json"):
        load_model(broken)


def test_truncated_weights_are_reported(saved_model_dir, tmp_path):
    broken = _copy(saved_model_dir, tmp_path / "m")
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="model.safetensors.*truncated or corrupt"):
        load_model(broken)


def test_weights_that_do_not_match_the_config_are_reported(saved_model_dir, tmp_path):
    broken = _copy(saved_model_dir, tmp_path / "m")
    config = json.loads((broken / "config.json").read_text())
    config["model"]["d_ff"] = 2 * config["model"]["d_ff"]
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="wrong shape"):
        load_model(broken)
    config["model"]["n_enc_layers"] += 1
    config["model"]["d_ff"] //= 2
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="missing tensor"):
        load_model(broken)


def test_bad_config_json_is_reported(saved_model_dir, tmp_path):
    broken = _copy(saved_model_dir, tmp_path / "m")
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="config.json: cannot read"):
        load_model(broken)
    (broken / "config.json").write_text(json.dumps({"format": "parcero-model", "architecture": "speech-transformer",
                                                    "model": {"vocab_size": 10, "layers": 2}}))
    with pytest.raises(ModelFileError, match="unknown key"):
        load_model(broken)


def test_vocabulary_size_mismatch_is_reported(saved_model_dir, tmp_path):
    broken = _copy(saved_model_dir, tmp_path / "m")
    CharTokenizer.build(["abc"], TextConfig()).save(broken / "vocab.json")
    with pytest.raises(ModelFileError, match="vocab.json: vocabulary has 8 entries"):
        load_model(broken)


def test_pickled_weights_are_never_unpickled(saved_model_dir, tmp_path):
    broken = _copy(saved_model_dir, tmp_path / "m")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (broken / "model.safetensors").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelFileError):
        load_model(broken)
    assert not marker.exists()


def test_interrupted_save_keeps_the_previous_model(saved_model_dir, tmp_path, monkeypatch):
    target = _copy(saved_model_dir, tmp_path / "m")
    before = (target / "model.safetensors").read_bytes()
    loaded = load_model(target)

    def failing_save(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("engine.speech_transformer.files.save_file", failing_save)
    with pytest.raises(OSError):
        save_model(target, loaded.model, loaded.tokenizer, loaded.feature_config)
    assert (target / "model.safetensors").read_bytes() == before
    assert not list(target.glob(".*tmp"))
    load_model(target)


def test_saving_checks_vocabulary_size(tmp_path):
    tok = CharTokenizer.build(["hola"], TextConfig())
    model = SpeechTransformer(preset_config("tiny", len(tok) + 1))
    with pytest.raises(ValueError, match="vocabulary"):
        save_model(tmp_path / "m", model, tok, FeatureConfig())
    assert not (tmp_path / "m" / "model.safetensors").exists()
