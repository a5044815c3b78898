"""A two-hour recording: read in pieces, never whole, by the operations that must handle one."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from engine.data.manifest import Utterance, write_manifest
from engine.data.validate import ValidationOptions, validate_manifest
from engine.errors import JobCancelled
from engine.models.io import load_model
from engine.transcribe import transcribe_file
from tests.reliability.tools import REPO

HOURS = 2
RATE = 8000  # a phone-line recording: half the bytes of 16 kHz, and it must be resampled to be heard
BOUND = 64e6  # bytes of Python/numpy memory an operation may hold at its peak; the decoded file is 230 MB


@pytest.fixture(scope="module")
def two_hours(tmp_path_factory):
    """A 2-hour 16-bit WAV (115 MB), written a minute at a time like a recorder would."""
    path = tmp_path_factory.mktemp("largo") / "dos horas.wav"
    t = np.arange(60 * RATE) / RATE
    minute = (np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * t / 4))).astype(np.float32)
    with sf.SoundFile(str(path), "w", samplerate=RATE, channels=1, subtype="PCM_16") as f:
        for m in range(60 * HOURS):
            f.write(minute * (0.1 + 0.002 * m))
    return path


def _peak_bytes(job) -> tuple[float, object]:
    tracemalloc.start()
    try:
        result = job()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_validating_a_two_hour_file_holds_a_minute_at_a_time(two_hours):
    manifest = two_hours.parent / "largo.jsonl"
    write_manifest(manifest, [Utterance("largo", two_hours.name, 0.0, "una charla larga")])
    start = time.perf_counter()
    peak, report = _peak_bytes(lambda: validate_manifest(manifest, ValidationOptions(workers=1)))
    assert time.perf_counter() - start < 60
    assert peak < BOUND, f"validation held {peak / 1e6:.0f} MB"
    [problem] = report.problems  # decoded to the end: levels are fine, only the length is unusual
    assert problem.kind == "extreme_duration" and "7200.0 s long" in problem.message
    assert [u.duration for u in report.kept] == [pytest.approx(HOURS * 3600)]


@pytest.mark.parametrize("rates", [(8000, 16000), (44100, 16000), (96000, 16000), (22050, 16000), (16000, 8000)])
def test_long_audio_is_resampled_in_blocks_exactly_as_in_one_go(rates, monkeypatch):
    import torch
    import torchaudio.functional

    from engine import audio

    orig, new = rates
    x = (0.1 * np.random.default_rng(orig).standard_normal(30_011)).astype(np.float32)
    g = np.gcd(orig, new)
    whole = torchaudio.functional.resample(torch.from_numpy(x), orig // g, new // g).numpy()
    monkeypatch.setattr(audio, "RESAMPLE_BLOCK", 1000)  # thirty blocks instead of one
    blocks = audio.resample(x, orig, new)
    assert blocks.shape == whole.shape
    np.testing.assert_allclose(blocks, whole, rtol=0, atol=1e-6)


GROWTH = """
import resource, sys
import torch, torchaudio.functional
from engine.audio import load_audio
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
x = load_audio(sys.argv[1], 16000)
print(x.shape[0], (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


@pytest.mark.slow
def test_loading_two_hours_at_another_rate_resamples_a_block_at_a_time(two_hours):
    """Torch allocates outside tracemalloc's sight, so the growth of the peak RSS of a fresh process is measured."""
    out = subprocess.run([sys.executable, "-c", GROWTH, str(two_hours)], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    n, growth = map(int, out.stdout.split())
    assert n == HOURS * 3600 * 16000
    # the file as read (8 kHz float32) plus the result (16 kHz): 0.7 GB; torchaudio in one go unfolded 4.5 GB more
    assert growth < 1.2e9, f"loading grew the process by {growth / 1e9:.1f} GB"


@pytest.mark.slow
def test_transcribing_a_two_hour_file_holds_a_window_at_a_time(two_hours, saved_model_dir):
    loaded = load_model(saved_model_dir)

    def stop_at_first_token(info):
        raise JobCancelled  # the rest of the file would be more of the same; memory is what is measured

    def job():
        with pytest.raises(JobCancelled):
            transcribe_file(loaded, two_hours, on_step=stop_at_first_token)

    peak, _ = _peak_bytes(job)
    assert peak < BOUND, f"transcription held {peak / 1e6:.0f} MB before decoding its first chunk"
