"""The input path of live transcription: a file played as if live, the crash-safe WAV writer, and
Capture with the sound card replaced at ``_input_stream_factory``; everything past the stream is real."""

from __future__ import annotations

import shutil
import sys
import threading
import time
import wave

import numpy as np
import pytest
import soundfile as sf

from engine.errors import AudioError
from engine.live import capture
from engine.live.capture import Capture, CaptureError, FileInputStream, WavWriter, new_recording_path
from tests.helpers import DiskFillsUp, NoPortAudio

SR = 16_000


def tone(seconds: float, amplitude: float = 0.5, hz: float = 440.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


class Blocks:
    """A callback that keeps a copy of every block and when it came."""

    def __init__(self):
        self.blocks: list[np.ndarray] = []
        self.arrivals: list[float] = []
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, indata, frames, time_info, status):
        self.arrivals.append(time.monotonic())
        assert indata.dtype == np.float32 and indata.shape[0] == frames and not status
        self.shapes.append(indata.shape)
        self.blocks.append(indata.copy())


def test_file_input_stream_keeps_the_real_clock_at_its_speed():
    signal = tone(4.0) * np.linspace(0, 1, 4 * SR, dtype=np.float32)  # every sample different
    got = Blocks()
    stream = FileInputStream(signal, samplerate=SR, channels=1, dtype="float32", device=None, callback=got,
                             blocksize=1024, speed=20)
    t0 = time.monotonic()
    stream.start()
    assert stream.finished.wait(5)
    wall = time.monotonic() - t0
    assert not stream.active
    stream.close()

    assert 0.2 <= wall < 0.2 + 0.3, wall  # 4 s at 20x: 0.2 s, never sooner
    np.testing.assert_array_equal(np.concatenate(got.blocks)[:, 0], signal)  # in order, every sample once
    assert [s[0] for s in got.shapes[:-1]] == [1024] * (len(got.blocks) - 1)
    assert sum(s[0] for s in got.shapes) == signal.size
    # Each block comes once its last frame is due, never before: the pace does not drift.
    ends = np.cumsum([s[0] for s in got.shapes]) / (SR * 20)
    assert all(arrival - t0 >= due - 0.002 for arrival, due in zip(got.arrivals, ends))


def test_file_input_stream_reads_any_rate_and_fills_every_channel(tmp_path):
    path = tmp_path / "estéreo 22k.wav"
    sf.write(path, np.stack([tone(1.0, sr=22050), tone(1.0, sr=22050)], axis=1), 22050)
    got = Blocks()
    stream = FileInputStream(path, samplerate=SR, channels=2, dtype="float32", callback=got, speed=50)
    stream.start()
    assert stream.finished.wait(5)
    from engine.audio import load_audio

    expected = load_audio(path, SR)
    received = np.concatenate(got.blocks)
    assert received.shape == (expected.size, 2) and stream.duration == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_array_equal(received[:, 0], expected)
    np.testing.assert_array_equal(received[:, 1], expected)


def test_file_input_stream_stops_at_once_and_names_a_bad_file(tmp_path):
    got = Blocks()
    stream = FileInputStream(tone(10.0), samplerate=SR, callback=got, speed=1)
    stream.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    stream.stop()
    assert time.monotonic() - t0 < 0.2 and not stream.active and not stream.finished.is_set()
    assert 0 < sum(b.shape[0] for b in got.blocks) < SR  # about 0.3 s of the 10
    (tmp_path / "roto.wav").write_bytes(b"RIFF esto no es audio" * 20)
    with pytest.raises(AudioError, match="roto.wav"):
        FileInputStream(tmp_path / "roto.wav", samplerate=SR, callback=got)
    with pytest.raises(ValueError, match="speed"):
        FileInputStream(tone(1.0), samplerate=SR, callback=got, speed=0)


def test_the_writer_writes_what_went_in_clipped_and_flushed_as_it_goes(tmp_path):
    writer = WavWriter(tmp_path / "nueva carpeta" / "grabación.wav", SR)
    writer.start()
    loud = tone(0.5, amplitude=1.5)  # past full scale: clipped, not wrapped around
    blocks = [tone(0.5, 0.3), loud, np.zeros(SR // 4, np.float32)]
    writer.put(blocks[0])
    deadline = time.monotonic() + 5
    while writer.frames_written < blocks[0].size and time.monotonic() < deadline:
        time.sleep(0.01)
    on_disk, rate = sf.read(writer.path, dtype="float32")  # valid while still open: a crash keeps it
    assert rate == SR and on_disk.size == blocks[0].size
    # Its header is current too, so readers stricter than libsndfile (Python's wave) open it whole.
    with wave.open(str(writer.path)) as w:
        assert w.getnframes() == blocks[0].size and w.getframerate() == SR
    for block in blocks[1:]:
        writer.put(block)
    writer.finish()

    back, rate = sf.read(writer.path, dtype="float32")
    expected = np.clip(np.concatenate(blocks), -1.0, 1.0)
    assert rate == SR and back.shape == expected.shape and writer.frames_written == expected.size
    np.testing.assert_allclose(back, expected, atol=1 / 32768)  # 16-bit PCM
    assert writer.error is None and writer.failure() is None
    assert sf.info(writer.path).subtype == "PCM_16"


def test_a_failed_write_is_reported_not_raised_and_what_was_written_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(capture.sf, "SoundFile", DiskFillsUp)
    full = shutil._ntuple_diskusage(total=10**9, used=10**9 - 4096, free=4096)
    monkeypatch.setattr(capture.shutil, "disk_usage", lambda path: full)  # the disk is the boundary
    writer = WavWriter(tmp_path / "llena.wav", SR)
    writer.start()
    for _ in range(8):
        writer.put(tone(0.125))
        time.sleep(0.02)
    writer.finish()
    assert isinstance(writer.error, sf.LibsndfileError) and writer.disk_full
    assert writer.failure() == f"recording stopped: cannot write {writer.path} (System error.; the disk is full " \
                               "(4 kB free))"
    assert writer.frames_written == sf.info(writer.path).frames <= DiskFillsUp.room


def test_new_recording_paths_never_overwrite(tmp_path):
    first = new_recording_path(tmp_path)
    first.write_bytes(b"")
    second = new_recording_path(tmp_path)
    assert first.name.startswith("recording-") and first.suffix == ".wav"
    assert second != first and second.stem.startswith(first.stem) and second.stem.endswith("-2")
    assert new_recording_path(tmp_path, "clase-live").name.startswith("clase-live-")


@pytest.fixture
def sound_card(monkeypatch):
    """The sound card replaced by a file stream at 50x real time; returns the keywords it was opened with."""
    opened: list[dict] = []

    def use(signal: np.ndarray):
        def factory(**kwargs):
            opened.append(kwargs)
            return FileInputStream(signal, speed=50, blocksize=320, **kwargs)

        monkeypatch.setattr(capture, "_input_stream_factory", factory)
        return opened

    return use


def test_capture_writes_the_recording_and_hands_on_every_block(tmp_path, sound_card):
    signal = tone(2.0) * np.linspace(0, 1, 2 * SR, dtype=np.float32)
    opened = sound_card(signal)
    handed: list[np.ndarray] = []
    threads: set[str] = set()

    def consumer(block):
        threads.add(threading.current_thread().name)
        handed.append(block)

    recording = Capture(consumer, tmp_path / "toma.wav", SR, device=3)
    recording.start()
    assert opened == [{"samplerate": SR, "channels": 1, "dtype": "float32", "device": 3,
                       "callback": recording._on_audio_block}]
    assert recording.stream.finished.wait(5)
    path = recording.stop()
    assert path == tmp_path / "toma.wav" and recording.stream is None

    # The stream reuses its buffer as PortAudio does: the blocks handed on are copies of their own.
    np.testing.assert_array_equal(np.concatenate(handed), signal)
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in handed)
    assert threads == {"parcero-file-input"}  # called on the audio thread, not queued elsewhere
    back, rate = sf.read(path, dtype="float32")
    assert rate == SR and recording.frames_captured == back.size == signal.size
    np.testing.assert_allclose(back, signal, atol=1 / 32768)


def test_a_failing_consumer_does_not_stop_the_recording(tmp_path, sound_card):
    sound_card(tone(1.0))

    def consumer(block):
        raise RuntimeError("consumidor roto")

    recording = Capture(consumer, tmp_path / "toma.wav", SR)
    recording.start()
    assert recording.stream.finished.wait(5)
    recording.stop()
    assert str(recording.consumer_error) == "consumidor roto"
    assert sf.info(tmp_path / "toma.wav").frames == SR


def test_a_stream_that_cannot_open_says_why_and_leaves_no_file(tmp_path, monkeypatch):
    def no_device(**kwargs):
        raise RuntimeError("Error querying device 7")

    monkeypatch.setattr(capture, "_input_stream_factory", no_device)
    with pytest.raises(CaptureError, match="could not open input device 7: Error querying device 7"):
        Capture(None, tmp_path / "toma.wav", SR, device=7).start()
    assert list(tmp_path.iterdir()) == []


def test_missing_portaudio_is_said_with_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    with pytest.raises(CaptureError, match="PortAudio library not found; .*sudo apt-get install libportaudio2"):
        capture.check_input_backend()
    with pytest.raises(CaptureError, match="sudo apt-get install libportaudio2"):
        Capture(None, tmp_path / "toma.wav", SR).start()  # the real factory, failing to import
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # the package itself missing: ImportError
    with pytest.raises(CaptureError, match="pip install sounddevice"):
        capture.check_input_backend()


def test_a_recording_that_cannot_be_created_is_named(tmp_path):
    (tmp_path / "archivo").write_text("no es una carpeta")
    with pytest.raises(CaptureError, match="cannot write .*archivo"):
        Capture(None, tmp_path / "archivo" / "toma.wav", SR).start()
