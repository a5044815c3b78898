"""Errors a person meets carry a stable code and params across the process boundary (issue 17, defect 7).

The English message stays what the CLI prints; the code and params are what the window translates
(``app.engine_messages``). These are real errors from the real functions, not hand-made exceptions.
"""

from __future__ import annotations

import errno
import pickle

import numpy as np
import pytest
import torch

from engine.audio import audio_info, load_audio, save_wav
from engine.configio import read_toml
from engine.data.manifest import open_manifest
from engine.device import describe_device, device_facts, pick_device
from engine.errors import AudioError, ConfigError, ModelFileError, ParceroError
from engine.models.io import load_model
from engine.protocol import Failed
from engine.worker import failure_for


def test_audio_errors_name_their_kind_and_file(tmp_path):
    def error_of(path, **kwargs) -> AudioError:
        with pytest.raises(AudioError) as info:
            load_audio(path, **kwargs)
        return info.value

    missing = error_of(tmp_path / "no-existe.wav")
    assert (missing.code, missing.params["path"]) == ("audio.missing", str(tmp_path / "no-existe.wav"))
    assert str(missing) == f"{tmp_path / 'no-existe.wav'}: file not found"  # the CLI's line is unchanged
    (tmp_path / "vacío.wav").write_bytes(b"")
    assert error_of(tmp_path / "vacío.wav").code == "audio.empty_file"
    assert error_of(tmp_path).code == "audio.not_a_file"
    (tmp_path / "roto.mp3").write_bytes(b"ID3 esto no es audio" * 50)
    broken = error_of(tmp_path / "roto.mp3")
    assert broken.code == "audio.unreadable" and broken.params["format"] == ".mp3" and broken.params["reason"]
    save_wav(tmp_path / "corto.wav", np.zeros(1600, dtype=np.float32), 16000)
    late = error_of(tmp_path / "corto.wav", offset=5.0)
    assert late.code == "audio.past_end" and late.params["offset"] == 5.0
    assert late.params["length"] == pytest.approx(0.1)
    with pytest.raises(AudioError) as info:
        audio_info(tmp_path / "vacío.wav")
    assert info.value.code == "audio.empty_file"


def test_a_clip_too_short_for_the_model_says_how_short(saved_model_dir, tmp_path):
    from engine.speech_transformer.transcribe import transcribe_samples

    loaded = load_model(saved_model_dir)
    with pytest.raises(AudioError) as info:
        transcribe_samples(loaded, [np.zeros(80, dtype=np.float32)], paths=[str(tmp_path / "clic.wav")])
    e = info.value
    assert e.code == "audio.too_short" and e.params["path"] == str(tmp_path / "clic.wav")
    assert e.params["duration_ms"] == pytest.approx(5.0) and e.params["minimum_ms"] > e.params["duration_ms"]


def test_model_folder_errors(saved_model_dir, tmp_path):
    def code_of(path) -> tuple[str, dict]:
        with pytest.raises(ModelFileError) as info:
            load_model(path)
        return info.value.code, info.value.params

    assert code_of(tmp_path / "no-hay")[0] == "model.missing"
    (tmp_path / "vacía").mkdir()
    code, params = code_of(tmp_path / "vacía")
    assert code == "model.not_a_model" and "model.safetensors" in params["missing"]
    broken = tmp_path / "roto"
    broken.mkdir()
    for f in saved_model_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # a download cut short
    code, params = code_of(broken)
    assert code == "model.bad_weights" and params["path"] == str(weights)
    (broken / "config.json").write_text("{ no es json", encoding="utf-8")
    assert code_of(broken)[0] == "model.bad_config"


def test_config_and_manifest_errors(tmp_path):
    with pytest.raises(ConfigError) as info:
        read_toml(tmp_path / "falta.toml")
    assert (info.value.code, info.value.params) == ("config.missing_file", {"path": str(tmp_path / "falta.toml")})
    (tmp_path / "mal.toml").write_text("[train\nmax_steps = ", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_toml(tmp_path / "mal.toml")
    assert info.value.code == "config.bad_toml"
    # Any other ConfigError is a bad value, its message the detail.
    plain = ConfigError("train.max_steps must be at least 1, got 0")
    assert (plain.code, plain.params) == ("config.bad_value", {"detail": str(plain)})
    with pytest.raises(ParceroError) as info:
        open_manifest(tmp_path)  # a folder: not readable as a manifest
    assert info.value.code == "manifest.unreadable" and info.value.params["path"] == str(tmp_path)


def test_device_errors_and_facts(monkeypatch):
    with pytest.raises(ParceroError) as info:
        pick_device("tpu")
    assert (info.value.code, info.value.params) == ("device.unknown", {"device": "tpu"})
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ParceroError) as info:
        pick_device("cuda")
    assert info.value.code == "device.no_cuda"
    facts = device_facts("cpu")
    assert facts == {"kind": "cpu", "threads": torch.get_num_threads(), "gpu_name": None, "memory_gb": None}
    assert describe_device("cpu") == f"CPU ({facts['threads']} thread{'s' if facts['threads'] != 1 else ''})"


def test_failures_carry_code_and_params_through_a_pipe(tmp_path):
    try:
        load_audio(tmp_path / "nada.wav")
    except AudioError as e:
        failed = Failed.from_error(7, e, detail="traceback")
    again = pickle.loads(pickle.dumps(failed))  # what multiprocessing does to it
    assert again == failed and again.code == "audio.missing" and again.params["path"] == str(tmp_path / "nada.wav")
    assert again.message.endswith("file not found")
    error = pickle.loads(pickle.dumps(ParceroError("x", code="c", params={"n": 1})))
    assert (error.code, error.params) == ("c", {"n": 1})


def test_unexpected_errors_in_a_job():
    oom = failure_for(3, torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert oom.code == "engine.out_of_memory" and "out of memory" in oom.message
    full = failure_for(3, OSError(errno.ENOSPC, "No space left on device", "/datos/run/metrics.jsonl"))
    assert (full.code, full.params) == ("disk.full", {"path": "/datos/run/metrics.jsonl"})
    bug = failure_for(3, KeyError("tokens"))
    assert bug.code == "engine.internal" and bug.message == "internal error: KeyError: 'tokens'"
    assert "KeyError" in bug.detail
    coded = failure_for(3, ModelFileError("/m", "no such model folder", "missing"))
    assert (coded.code, coded.message) == ("model.missing", "/m: no such model folder")
