"""Journeys on the command line: a person transcribes a folder of real recordings with `parcero transcribe`.

The real ``parcero`` entry point in a subprocess, real models (the bundled demo model; Whisper base,
the default, imported on first use from the installed package), real Spanish speech from
``../shared/data`` in the formats people bring: long sentences, 8 kHz telephone audio, 48 kHz stereo MP3,
a broken file in the middle, a 10-minute recording.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.journeys.conftest import REPO, copy_to

pytestmark = pytest.mark.slow


def parcero(data_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PARCERO_DATA_DIR": str(data_dir)}
    env.pop("PARCERO_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def word_error_rate(reference: str, hypothesis: str) -> float:
    from engine.metrics import error_rates

    return error_rates([reference], [hypothesis]).wer


@pytest.fixture(scope="module")
def batch(cajal, tmp_path_factory) -> dict[str, object]:
    """A folder as people have them: long sentences (wav), a telephone call, a stereo MP3, one broken file."""
    folder = tmp_path_factory.mktemp("grabaciones")
    long_ones = [(p, t) for p, t in cajal if len(t) > 100][:3]
    assert len(long_ones) == 3
    files, refs = [], {}
    for i, (path, text) in enumerate(long_ones):
        files.append(copy_to(path, folder, f"frase-larga-{i}.wav"))
        refs[files[-1].name] = text
    samples, rate = sf.read(long_ones[0][0], dtype="float32")
    from engine.audio import resample

    phone = folder / "llamada-8khz.wav"
    sf.write(phone, resample(samples, rate, 8000), 8000, subtype="PCM_16")
    refs[phone.name] = long_ones[0][1]
    stereo = resample(samples, rate, 48000)
    mp3 = folder / "estéreo-48khz.mp3"
    sf.write(mp3, np.stack([stereo, 0.8 * stereo], axis=1), 48000, format="MP3")
    refs[mp3.name] = long_ones[0][1]
    broken = folder / "rota.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage that is no audio")
    order = [files[0], broken, phone, files[1], mp3, files[2]]
    return {"files": order, "refs": refs, "broken": broken}


def test_a_batch_with_long_sentences_and_one_broken_file_transcribes_the_rest_with_the_demo_model(
        batch, journey_data_dir):
    # The demo model once crashed the whole batch on any transcript over ~63 characters (CTC alignment).
    result = parcero(journey_data_dir, "transcribe", *batch["files"], "--model", "demo-es")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1  # some failed
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and str(batch["broken"]) in errors[0], result.stderr
    assert "1 of 6 file(s) failed" in result.stderr
    lines = result.stdout.splitlines()
    transcribed = [line.split("\t", 1)[0] for line in lines]
    assert transcribed == [str(p) for p in batch["files"] if p != batch["broken"]]
    assert all(line.split("\t", 1)[1].strip() for line in lines)  # each has a transcript


def test_the_default_model_is_whisper_base_and_transcribes_every_format(batch, whisper_base, journey_data_dir):
    out = journey_data_dir / "salida"
    result = parcero(journey_data_dir, "transcribe", *batch["files"], "--format", "json", "--out-dir", out)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert str(batch["broken"]) in result.stderr
    for path in batch["files"]:
        written = out / (path.stem + ".json")
        if path == batch["broken"]:
            assert not written.exists()
            continue
        record = json.loads(written.read_text(encoding="utf-8"))
        assert record["model"] == "whisper-base"  # no --model: the default is the real model
        wer = word_error_rate(batch["refs"][path.name], record["text"])
        assert wer < 0.35, (path.name, record["text"], wer)


def test_model_names_from_the_list_work_and_unknown_ones_say_what_exists(whisper_base, journey_data_dir, cajal):
    listing = parcero(journey_data_dir, "models", "list")
    assert listing.returncode == 0
    names = [line.split()[0] for line in listing.stdout.splitlines()[1:]]
    assert "whisper-base" in names and "demo-es" in names
    clip, text = cajal[0]
    for name in ("whisper-base", "demo-es"):
        result = parcero(journey_data_dir, "transcribe", clip, "--model", name)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip()
    missing = parcero(journey_data_dir, "transcribe", clip, "--model", "whisper-grande")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "whisper-grande" in missing.stderr and "whisper-base" in missing.stderr and "demo-es" in missing.stderr


def test_language_is_spanish_by_default_auto_detects_and_translation_is_only_on_request(
        whisper_base, journey_data_dir, cajal):
    clip, reference = next((p, t) for p, t in cajal if len(t) > 80)
    spanish = parcero(journey_data_dir, "transcribe", clip, "--format", "json")
    record = json.loads(spanish.stdout)
    assert record["language"] == "es" and word_error_rate(reference, record["text"]) < 0.35
    detected = parcero(journey_data_dir, "transcribe", clip, "--language", "auto", "--format", "json")
    record = json.loads(detected.stdout)
    assert record["language"] == "es" and record["language_probability"] > 0.5
    assert "detected language es" in detected.stderr
    translated = parcero(journey_data_dir, "transcribe", clip, "--task", "translate")
    assert translated.returncode == 0
    assert word_error_rate(reference, translated.stdout) > 0.8  # English now, not the Spanish words
    bad = parcero(journey_data_dir, "transcribe", clip, "--language", "xx")
    assert bad.returncode == 1 and "--language" in bad.stderr and "Traceback" not in bad.stderr


def test_reruns_of_the_same_command_agree_exactly(whisper_base, journey_data_dir, cajal):
    # "Y sospechando" once, "y sospechando" four times: each run now gives the same text and score.
    clip = next(p for p, t in cajal if t.startswith("Y sospechando"))
    runs = [parcero(journey_data_dir, "transcribe", clip, "--beam", "5", "--format", "json") for _ in range(3)]
    records = [json.loads(r.stdout) for r in runs]
    assert all(r == records[0] for r in records)
    assert records[0]["text"].lower().startswith("y sospechando")


def test_a_ten_minute_recording(shared_data, journey_data_dir, tmp_path):
    build = subprocess.run([sys.executable, str(shared_data / "make_longform.py"), "--minutes", "10",
                            "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    audio = next(tmp_path.glob("longform-*.wav"))
    result = parcero(journey_data_dir, "transcribe", audio, "--model", "demo-es", "--format", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["duration"] == pytest.approx(sf.info(audio).duration, abs=0.1)
    assert record["words"] and record["words"][-1]["end"] > 500  # times reach the end of the recording
    assert all(a["start"] <= b["start"] for a, b in zip(record["words"], record["words"][1:]))
