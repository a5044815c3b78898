"""Recording and playback with fake PortAudio streams; everything past the stream is real."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from app import audio_io
from app.audio_io import NO_MICROPHONE, NO_SPEAKER, Player, Recorder, audio_backend_status, dbfs, list_input_devices
from tests.helpers import NoPortAudio

SR = 16_000


def tone(seconds: float, amplitude: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


class FakeInputStream:
    """Stands in for ``sounddevice.InputStream``: a thread feeds ``signal`` to the callback in blocks."""

    seconds_per_block = 0.004  # 320 frames (20 ms) every 4 ms: five times real time, several blocks a tick

    def __init__(self, signal: np.ndarray, *, samplerate, channels, dtype, device, callback, blocksize=320):
        assert (channels, dtype) == (1, "float32")
        self.signal, self.callback, self.blocksize = signal, callback, blocksize
        self.samplerate, self.device = samplerate, device
        self.delivered = threading.Event()
        self.active = False
        self.closed = False
        self._thread: threading.Thread | None = None

    def start(self):
        self.active = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        buffer = np.empty((self.blocksize, 1), np.float32)  # reused, as PortAudio does
        for i in range(0, self.signal.size, self.blocksize):
            if not self.active:
                return
            block = self.signal[i : i + self.blocksize]
            buffer[: block.size, 0] = block
            self.callback(buffer[: block.size], block.size, None, 0)
            time.sleep(self.seconds_per_block)
        self.delivered.set()

    def stop(self):
        self.active = False
        if self._thread is not None:
            self._thread.join()

    def close(self):
        self.closed = True


class FakeOutputStream:
    """Stands in for ``sounddevice.OutputStream``: a thread asks the callback for blocks, faster than real time."""

    instances: list["FakeOutputStream"] = []
    speedup = 8.0  # times real time

    def __init__(self, *, samplerate, channels, dtype, device, callback, blocksize=256):
        self.samplerate, self.channels, self.callback = samplerate, channels, callback
        self.blocksize = blocksize
        self.latency = 0.0
        self.played: list[np.ndarray] = []
        self.active = False
        self._thread: threading.Thread | None = None
        FakeOutputStream.instances.append(self)

    def start(self):
        self.active = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while self.active:
            out = np.full((self.blocksize, self.channels), np.nan, np.float32)  # garbage, as a real buffer
            self.callback(out, self.blocksize, None, 0)
            self.played.append(out[:, 0].copy())
            time.sleep(self.blocksize / self.samplerate / self.speedup)

    def abort(self):
        self.active = False
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    stop = abort

    def close(self):
        self.abort()


@pytest.fixture
def fake_input(monkeypatch):
    """Install a fake input stream factory; returns a function that sets the signal and gives the streams."""
    streams: list[FakeInputStream] = []

    def use(signal: np.ndarray) -> list[FakeInputStream]:
        def factory(**kwargs):
            streams.append(FakeInputStream(signal, **kwargs))
            return streams[-1]

        monkeypatch.setattr(audio_io, "_input_stream_factory", factory)
        return streams

    return use


@pytest.fixture
def fake_output(monkeypatch):
    FakeOutputStream.instances = []
    monkeypatch.setattr(audio_io, "_output_stream_factory", lambda **kw: FakeOutputStream(**kw))
    return FakeOutputStream.instances


def test_recorder_writes_a_wav_that_loads_back(qtbot, tmp_path, fake_input):
    from engine.audio import load_audio

    signal = np.concatenate([tone(0.6, 0.5), np.zeros(SR // 5, np.float32), tone(0.4, 0.05)])
    streams = fake_input(signal)
    recorder = Recorder(folder=tmp_path / "recordings")
    levels, chunks = [], []
    recorder.level_changed.connect(levels.append)
    recorder.samples_added.connect(chunks.append)

    assert recorder.start()
    assert recorder.is_recording and recorder.path.parent == tmp_path / "recordings"
    qtbot.waitUntil(streams[0].delivered.is_set, timeout=5000)
    qtbot.waitUntil(lambda: len(levels) > 0, timeout=2000)  # while recording, from the timer
    with qtbot.waitSignal(recorder.stopped) as blocker:
        path = recorder.stop()
    assert blocker.args == [path] and path.endswith(".wav")
    assert streams[0].closed and not recorder.is_recording

    loaded = load_audio(path)
    assert loaded.shape == signal.shape
    np.testing.assert_allclose(loaded, signal, atol=2 / 32768)  # 16-bit PCM
    np.testing.assert_array_equal(np.concatenate(chunks), signal)  # every block, in order, once
    assert max(levels) == pytest.approx(dbfs(tone(0.6, 0.5)), abs=0.1)  # about -6 dBFS
    assert min(levels) < -20  # the quiet tail
    np.testing.assert_array_equal(recorder.buffer(), signal)


def test_the_file_on_disk_is_valid_while_recording(qtbot, tmp_path, fake_input):
    fake_input(tone(2.0))
    recorder = Recorder(folder=tmp_path)
    recorder.start()
    qtbot.waitUntil(lambda: recorder.frames_captured >= SR // 2, timeout=5000)
    # A crash now would leave this file: its header already counts the flushed frames.
    on_disk, rate = sf.read(recorder.path, dtype="float32")
    assert rate == SR and on_disk.shape[0] >= SR // 2
    recorder.stop()


def test_rolling_buffer_keeps_the_last_seconds(qtbot, tmp_path, fake_input):
    streams = fake_input(tone(3.0))
    recorder = Recorder(folder=tmp_path, buffer_seconds=1.0)
    recorder.start()
    qtbot.waitUntil(streams[0].delivered.is_set, timeout=5000)
    recorder.stop()
    kept = recorder.buffer()
    assert SR <= kept.size < 2 * SR
    np.testing.assert_array_equal(kept, tone(3.0)[-kept.size :])


def test_a_failing_stream_reports_why_and_leaves_no_file(qtbot, tmp_path, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("Error opening InputStream: Invalid sample rate [PaErrorCode -9997]")

    monkeypatch.setattr(audio_io, "_input_stream_factory", broken)
    recorder = Recorder(folder=tmp_path)
    with qtbot.waitSignal(recorder.failed) as blocker:
        assert recorder.start() is False
    assert "Invalid sample rate" in blocker.args[0]
    assert not recorder.is_recording
    assert list(tmp_path.iterdir()) == []


def test_missing_portaudio_is_reported_with_the_install_hint(qtbot, tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    available, reason = audio_backend_status()
    assert not available
    assert "PortAudio library not found" in reason and "sudo apt-get install libportaudio2" in reason
    assert list_input_devices() == []

    recorder = Recorder(folder=tmp_path)  # the real stream factory, failing to import
    with qtbot.waitSignal(recorder.failed) as blocker:
        assert recorder.start() is False
    assert "libportaudio2" in blocker.args[0]


def test_missing_sounddevice_package_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # makes the import raise ImportError
    available, reason = audio_backend_status("output")
    assert not available and "sounddevice" in reason


def test_this_machine_without_a_microphone_says_so(qtbot, tmp_path):
    sd = pytest.importorskip("sounddevice", exc_type=OSError)
    if any(d["max_input_channels"] > 0 for d in sd.query_devices()):
        pytest.skip("this machine has a microphone")
    assert audio_backend_status("input") == (False, NO_MICROPHONE)
    recorder = Recorder(folder=tmp_path)
    with qtbot.waitSignal(recorder.failed) as blocker:
        recorder.start()
    assert blocker.args[0].startswith(NO_MICROPHONE)


def test_player_advances_and_finishes(qtbot, fake_output):
    samples = tone(0.5)
    player = Player()
    positions, states = [], []
    player.position_changed.connect(positions.append)
    player.state_changed.connect(states.append)
    with qtbot.waitSignal(player.finished, timeout=5000):
        assert player.play(samples, SR)
    assert positions[-1] == pytest.approx(0.5)
    assert len(positions) >= 2 and all(b >= a for a, b in zip(positions, positions[1:]))
    assert states == ["playing", "stopped"]
    played = np.concatenate(fake_output[0].played)
    np.testing.assert_array_equal(played[: samples.size], samples)
    assert np.all(played[samples.size :] == 0)  # silence, not garbage, after the end


def test_player_plays_a_range_and_pauses(qtbot, fake_output, monkeypatch):
    monkeypatch.setattr(FakeOutputStream, "speedup", 2.0)  # time to pause between 0.7 s and 1.5 s
    samples = tone(2.0)
    player = Player()
    assert player.play(samples, SR, start_seconds=0.5, end_seconds=1.5)
    qtbot.waitUntil(lambda: player.position > 0.7, timeout=3000)
    player.pause()
    paused_at = player.position
    assert player.state == "paused" and 0.7 < paused_at < 1.5
    qtbot.wait(50)
    assert player.position == paused_at
    with qtbot.waitSignal(player.finished, timeout=5000):
        player.resume()
    assert player.position == pytest.approx(1.5)
    played = np.concatenate([np.concatenate(s.played) for s in fake_output])
    assert played[0] == samples[SR // 2]
    np.testing.assert_array_equal(played[: SR], samples[SR // 2 : 3 * SR // 2])


def test_stop_emits_no_finished(qtbot, fake_output):
    player = Player()
    finished = []
    player.finished.connect(lambda: finished.append(True))
    player.play(tone(2.0), SR)
    player.stop()
    qtbot.wait(100)
    assert player.state == "stopped" and finished == []


def test_player_without_an_output_device_fails_with_the_reason(qtbot, monkeypatch):
    def no_device(**kwargs):
        raise RuntimeError("Error querying device -1")

    monkeypatch.setattr(audio_io, "_output_stream_factory", no_device)
    player = Player()
    with qtbot.waitSignal(player.failed) as blocker:
        assert player.play(tone(0.1), SR) is False
    assert "Error querying device -1" in blocker.args[0]
    assert player.state == "stopped"


def test_this_machine_without_speakers_says_so(qtbot):
    sd = pytest.importorskip("sounddevice", exc_type=OSError)
    if any(d["max_output_channels"] > 0 for d in sd.query_devices()):
        pytest.skip("this machine has an audio output")
    player = Player()
    with qtbot.waitSignal(player.failed) as blocker:
        assert player.play(tone(0.1), SR) is False
    assert blocker.args[0].startswith(NO_SPEAKER)


def test_dbfs():
    assert dbfs(np.ones(4, np.float32)) == pytest.approx(0.0)
    assert dbfs(np.full(4, 0.5, np.float32)) == pytest.approx(-6.02, abs=0.01)
    assert dbfs(np.zeros(4, np.float32)) == -120.0
    assert dbfs(np.zeros(0, np.float32)) == -120.0
