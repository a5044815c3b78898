"""``parcero live``: a file played as if live through the microphone's path, with real models; what the
user gets wrong is one line naming it; Ctrl+C and SIGTERM save everything."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio import load_audio, save_wav
from engine.cli import main
from tests.conftest import OVERFIT_TEXTS
from tests.engine.live.conftest import CAJAL, CLIPS
from tests.helpers import tone_speech

REPO = Path(__file__).resolve().parents[3]
COMMIT_LINE = re.compile(r"^\[ *(\d+\.\d) s\] (.+)$")


def commits(stdout: str) -> list[tuple[float, str]]:
    return [(float(m[1]), m[2]) for m in map(COMMIT_LINE.match, stdout.splitlines()) if m]


def saved_paths(stdout: str) -> tuple[Path, Path, Path]:
    """The recording, .txt and .json, printed last."""
    wav, txt, js = map(Path, stdout.splitlines()[-3:])
    assert (wav.suffix, txt.suffix, js.suffix) == (".wav", ".txt", ".json") and wav.stem == txt.stem == js.stem
    return wav, txt, js


@pytest.fixture
def cajal_clip() -> tuple[Path, str]:
    if not CAJAL.is_dir():
        pytest.skip("../shared/data/cajal-es is absent")
    clip = next(iter(CLIPS))  # "Prefieren el libro a la monografía ...", 7 s
    return CAJAL / "wavs" / f"{clip}.wav", CLIPS[clip]


@pytest.mark.slow
def test_whisper_live_from_a_file_prints_commits_and_saves_recording_and_transcript(whisper_base_live, cajal_clip,
                                                                                      tmp_path, capsys):
    clip, reference = cajal_clip
    code = main(["live", "--input", str(clip), "--model", str(whisper_base_live.path), "--speed", "3",
                 "--output-dir", str(tmp_path / "grabaciones")])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = commits(out)
    assert lines, out
    assert [t for t, _ in lines] == sorted(t for t, _ in lines) and lines[-1][0] < 7.1
    wav, txt, js = saved_paths(out)
    assert wav.parent == tmp_path / "grabaciones" and wav.name.startswith(f"{clip.stem}-live-")
    # The printed commits are the transcript, nothing more, nothing left out.
    text = txt.read_text(encoding="utf-8")
    assert " ".join(text.split()) == " ".join(t for _, t in lines)
    for word in ("libro", "monografía", "hipótesis", "brillantes", "audaces", "concepciones", "sólidas"):
        assert word in text.lower(), text
    # The recording is the whole file, as the model heard it: 16 kHz, clipped to full scale (resampling
    # overshoots it here and there), 16-bit PCM.
    heard, recorded = np.clip(load_audio(clip, 16000), -1, 1), load_audio(wav)
    assert recorded.shape == heard.shape
    np.testing.assert_allclose(recorded, heard, atol=1 / 32768)
    document = json.loads(js.read_text(encoding="utf-8"))
    assert document["model"] == whisper_base_live.name
    assert document["settings"]["policy"] == "stable" and document["settings"]["live"] is True
    assert document["source"] == str(wav) and document["duration"] == pytest.approx(sf.info(wav).duration, abs=0.01)
    assert " ".join(w["text"] for w in document["words"]) == " ".join(text.split())
    assert err.startswith(f"parcero: {whisper_base_live.name}, policy stable: playing {clip} as if live at 3x")
    assert "Traceback" not in err


@pytest.fixture
def tone_clip(tmp_path) -> Path:
    """One of the tone model's utterances and a second of silence, as a 22.05 kHz file (resampled on the way)."""
    from engine.audio import resample

    path = tmp_path / "señor.wav"
    audio = np.concatenate([tone_speech(OVERFIT_TEXTS[1]), np.zeros(16000, np.float32)])
    save_wav(path, resample(audio, 16000, 22050), 22050)
    return path


def test_a_speech_transformer_works_live_too(saved_model_dir, tone_clip, tmp_path, capsys):
    code = main(["live", "--input", str(tone_clip), "--model", str(saved_model_dir), "--speed", "2",
                 "--output-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "policy ctc" in err  # the family's own, with --policy auto
    assert " ".join(t for _, t in commits(out)) == OVERFIT_TEXTS[1]
    wav, txt, _ = saved_paths(out)
    assert txt.read_text(encoding="utf-8") == OVERFIT_TEXTS[1] + "\n"
    assert sf.info(wav).frames == load_audio(tone_clip, 16000).size


def test_the_microphone_path_with_the_sound_card_replaced(saved_model_dir, tone_clip, tmp_path, capsys,
                                                         monkeypatch):
    from engine.live import capture

    opened = []

    def sound_card(**kwargs):  # a microphone that hears the clip, then is unplugged
        opened.append(kwargs)
        return capture.FileInputStream(load_audio(tone_clip, 16000), speed=4, **kwargs)

    monkeypatch.setattr(capture, "check_input_backend", lambda: None)  # PortAudio or not, on this machine
    monkeypatch.setattr(capture, "_input_stream_factory", sound_card)
    code = main(["live", "--device-index", "4", "--model", str(saved_model_dir), "--output-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [(k["device"], k["samplerate"], k["channels"]) for k in opened] == [(4, 16000, 1)]
    assert "listening to input device 4" in err
    assert "parcero: warning: the input stopped by itself (device unplugged?); saving what was heard" in err
    wav, txt, _ = saved_paths(out)
    assert wav.name.startswith("recording-") and sf.info(wav).frames == load_audio(tone_clip, 16000).size
    assert " ".join(t for _, t in commits(out)) == txt.read_text(encoding="utf-8").strip() == OVERFIT_TEXTS[1]


def test_a_disk_that_fills_up_stops_the_recording_and_says_so(saved_model_dir, tone_clip, tmp_path, capsys,
                                                             monkeypatch):
    import shutil

    from engine.live import capture
    from tests.helpers import DiskFillsUp

    monkeypatch.setattr(capture.sf, "SoundFile", DiskFillsUp)  # writes fail after 0.5 s, as on a full disk
    full = shutil._ntuple_diskusage(total=10**9, used=10**9 - 4096, free=4096)
    monkeypatch.setattr(capture.shutil, "disk_usage", lambda path: full)
    code = main(["live", "--input", str(tone_clip), "--model", str(saved_model_dir), "--speed", "4",
                 "--output-dir", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 1
    wav, txt, js = saved_paths(out)  # the transcript of what was heard is still saved (the disk had room)
    assert f"parcero: error: recording stopped: cannot write {wav} (System error.; the disk is full (4 kB free))" \
        in err
    assert 0 < sf.info(wav).frames <= DiskFillsUp.room and txt.is_file() and js.is_file()
    assert "Traceback" not in err


@pytest.mark.parametrize("args, named", [
    (["--speed", "4"], "--speed"),  # without --input
    (["--input", "{clip}", "--speed", "0"], "--speed"),
    (["--input", "{clip}", "--policy", "rápida"], "--policy"),
    (["--input", "{clip}", "--margin", "-1"], "--margin"),
    (["--input", "{clip}", "--beam-size", "0"], "--beam-size"),
    (["--input", "{missing}"], "no-existe.wav: file not found"),
    (["--input", "{broken}"], "roto.wav: cannot decode"),
])
def test_bad_arguments_are_one_line_naming_them(args, named, tone_clip, tmp_path, capsys, monkeypatch):
    import engine.models.io

    def no_load(*a, **k):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr(engine.models.io, "load_model", no_load)
    (tmp_path / "roto.wav").write_bytes(b"RIFF esto no es audio" * 20)
    paths = {"clip": tone_clip, "missing": tmp_path / "no-existe.wav", "broken": tmp_path / "roto.wav"}
    argv = ["live", *(a.format(**paths) for a in args), "--output-dir", str(tmp_path / "out")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("parcero: error:") and named in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_input_and_a_microphone_are_one_or_the_other(tone_clip, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["live", "--input", str(tone_clip), "--device-index", "2"])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_no_portaudio_is_said_with_the_install_hint_before_the_model_loads(tmp_path, capsys, monkeypatch):
    import importlib.abc

    class NoPortAudio(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")
            return None

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    assert main(["live", "--device-index", "1", "--model", str(tmp_path / "no-model")]) == 1
    err = capsys.readouterr().err
    assert err == "parcero: error: cannot record: PortAudio library not found; install PortAudio, e.g. " \
                  "sudo apt-get install libportaudio2\n"


@pytest.mark.slow
@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_stops_and_saves_everything_heard(stop_with, saved_model_dir, tmp_path):
    audio = np.concatenate([tone_speech(t, seed=i) for i, t in enumerate(OVERFIT_TEXTS)] * 2)  # ~14 s
    clip = tmp_path / "larga.wav"
    save_wav(clip, audio, 16000)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "live", "--input", str(clip), "--model",
                             str(saved_model_dir), "--output-dir", str(tmp_path / "out")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()  # "parcero: tonos-es, policy ctc: playing ... Ctrl+C stops and saves"
        assert "Ctrl+C stops and saves" in first, first + proc.stderr.read()
        time.sleep(2.0)
        proc.send_signal(stop_with)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    wav, txt, js = saved_paths(out)
    heard = sf.info(wav).frames
    assert 1.5 * 16000 < heard < 6 * 16000  # stopped after ~2 s of a 14 s file, and what was heard is kept
    np.testing.assert_allclose(sf.read(wav, dtype="float32")[0], audio[:heard], atol=1 / 32768)
    assert json.loads(js.read_text(encoding="utf-8"))["duration"] == pytest.approx(heard / 16000, abs=0.01)
    assert txt.is_file()


@pytest.mark.slow
def test_a_second_ctrl_c_gives_up_the_transcript_but_keeps_the_recording(whisper_base_live, spoken, tmp_path):
    samples, _ = spoken
    clip = tmp_path / "larga.wav"
    save_wav(clip, np.concatenate([samples] * 3), 16000)  # ~40 s, played in 2 s
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "live", "--input", str(clip), "--model",
                             str(whisper_base_live.path), "--speed", "20", "--output-dir", str(tmp_path / "out")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "Ctrl+C stops and saves" in proc.stderr.readline()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)  # ~20 s heard, most of it still to transcribe: seconds of work
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "parcero: interrupted; the recording is saved, without its transcript: " in err
    assert "Traceback" not in err and "terminate called" not in err
    wav = Path(err.split("without its transcript: ")[1].split("\n")[0])
    assert sf.info(wav).frames > 10 * 16000 and not wav.with_suffix(".txt").exists()
