"""Record from a microphone and play audio back, with sounddevice (PortAudio).

Three rules shape this module:

- PortAudio is optional. A machine without the library or without a sound
  card still runs Parcero; :func:`audio_backend_status` says why recording
  or playback is off, in words for the window and with the install hint.
- The audio thread does as little as possible: it copies each block into a
  queue and returns. The engine's :class:`~engine.live.capture.WavWriter` (a
  thread) puts blocks into the WAV file and flushes it (libsndfile rewrites the
  header on flush), so a crash loses nothing already captured. Signals are
  emitted by a ``QTimer`` on the GUI thread, never from the audio callback.
- Streams are opened only through ``_input_stream_factory`` and
  ``_output_stream_factory``, so tests replace the sound card with a fake
  stream that calls the callback with numpy blocks, and test everything else
  for real.
"""

from __future__ import annotations

import logging
import shutil  # noqa: F401 - engine.live.capture's WavWriter looks up free space with it (tests patch it here)
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import soundfile as sf  # noqa: F401 - the WavWriter's library, reachable as audio_io.sf (tests patch it here)
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.i18n import QT_TRANSLATE_NOOP, translate
from engine.live.capture import WavWriter, close_stream, new_recording_path

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
# English; the functions below return them translated (context "AudioIO").
INSTALL_HINT = QT_TRANSLATE_NOOP("AudioIO", "install PortAudio, e.g. sudo apt-get install libportaudio2")
NO_MICROPHONE = QT_TRANSLATE_NOOP("AudioIO", "no microphone found")
NO_SPEAKER = QT_TRANSLATE_NOOP("AudioIO", "no audio output device found")
TICK_MS = 33  # level, samples and position signals ~30 times a second
SILENCE_DBFS = -120.0  # level of digital silence, as in engine.audio


def _sounddevice():
    # Imported on first use: importing it loads PortAudio, which raises
    # OSError("PortAudio library not found") on machines without it.
    import sounddevice

    return sounddevice


def _open_input_stream(**kwargs):
    return _sounddevice().InputStream(**kwargs)


def _open_output_stream(**kwargs):
    return _sounddevice().OutputStream(**kwargs)


# The sound-card boundary; tests substitute fakes taking the same keywords.
_input_stream_factory = _open_input_stream
_output_stream_factory = _open_output_stream


def audio_backend_status(kind: str = "input") -> tuple[bool, str]:
    """Whether audio ``kind`` ("input" or "output") can work here, and if not, why.

    Returns
    -------
    available : bool
    reason : str
        Empty when available; otherwise a sentence for the user, e.g.
        "PortAudio library not found; install PortAudio, e.g. sudo apt-get
        install libportaudio2" or "no microphone found".
    """
    try:
        sd = _sounddevice()
    except OSError as error:
        return False, f"{error}; {translate('AudioIO', INSTALL_HINT)}"
    except ImportError as error:
        return False, translate("AudioIO", "the sounddevice package is missing ({error}); pip install "
                                "sounddevice").format(error=error)
    try:
        devices = sd.query_devices()
    except Exception as error:  # PortAudioError, or a broken host API
        return False, translate("AudioIO", "cannot list audio devices ({error})").format(error=error)
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    if not any(device[key] > 0 for device in devices):
        return False, translate("AudioIO", NO_MICROPHONE if kind == "input" else NO_SPEAKER)
    return True, ""


def list_input_devices() -> list[tuple[int, str]]:
    """(index, name) of every device that can record; empty when there is no audio backend."""
    try:
        devices = _sounddevice().query_devices()
    except Exception:  # OSError/ImportError without PortAudio, PortAudioError without devices
        return []
    return [(i, d["name"]) for i, d in enumerate(devices) if d["max_input_channels"] > 0]


def default_recordings_folder() -> Path:
    """``<data folder>/recordings`` (Preferences' data folder, else the user data folder), unless told otherwise."""
    from engine.paths import recordings_dir

    return recordings_dir()


def dbfs(samples: np.ndarray) -> float:
    """Peak level in dB relative to full scale; ``SILENCE_DBFS`` for silence or no samples."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return max(SILENCE_DBFS, 20.0 * np.log10(peak)) if peak > 0 else SILENCE_DBFS


def _explain(error: Exception, kind: str) -> str:
    available, reason = audio_backend_status(kind)
    if not available:
        return f"{reason} ({error})"
    if kind == "input":
        return translate("AudioIO", "could not open the microphone: {error}").format(error=error)
    return translate("AudioIO", "could not open the audio output: {error}").format(error=error)


def _write_failure(writer: WavWriter) -> str:
    """Why ``writer`` stopped, for the user.

    libsndfile reports a full disk as "System error." and nothing more, so the
    writer looks up the free space, and it is named when it is what ran out.
    """
    reason = writer.reason or ""
    if writer.disk_full:
        reason += translate("AudioIO", "; the disk is full ({free} kB free)").format(free=writer.free_bytes // 1000)
    return reason


class Recorder(QObject):
    """Record mono audio to a WAV file, showing level and samples while it runs."""

    level_changed = Signal(float)  # peak dBFS of the audio since the last emission
    samples_added = Signal(object)  # np.ndarray float32, shape (n,): audio since the last emission
    stopped = Signal(str)  # path of the finished WAV file
    failed = Signal(str)  # why recording could not start or had to stop

    def __init__(self, parent: QObject | None = None, folder: str | Path | None = None,
                 buffer_seconds: float = 30.0):
        super().__init__(parent)
        self.folder = Path(folder) if folder is not None else default_recordings_folder()
        self.buffer_seconds = buffer_seconds
        self.path: Path | None = None
        self.sample_rate = SAMPLE_RATE
        self.status_flags = 0  # callbacks that reported an overflow or another problem
        self._stream = None
        self._wav: WavWriter | None = None  # the writer thread of the current (or last) recording
        self._pending: list[np.ndarray] = []  # to the GUI thread, under _lock
        self._lock = threading.Lock()
        self._buffer: deque[np.ndarray] = deque()
        self._buffered = 0
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self.on_timer_timeout)

    @property
    def is_recording(self) -> bool:
        return self._stream is not None

    @property
    def frames_captured(self) -> int:
        """Frames of the current (or last) recording safely in its file."""
        return self._wav.frames_written if self._wav is not None else 0

    def start(self, device: int | str | None = None, sample_rate: int = SAMPLE_RATE,
              path: str | Path | None = None, stream_factory=None) -> bool:
        """Open the microphone and start writing ``path`` (default: a new file in ``folder``).

        ``stream_factory`` opens another input in the microphone's place, e.g. a file played as if live
        (:class:`engine.live.capture.FileInputStream`); recording stops by itself when it ends.
        Returns False, after emitting ``failed``, when recording cannot start.
        """
        if self.is_recording:
            return False
        path = Path(path) if path is not None else self._new_path()
        wav = WavWriter(path, sample_rate)
        try:
            wav.start()  # before the stream: the first callback may come at once
        except Exception as error:
            self.failed.emit(translate("AudioIO", "cannot write {path}: {error}").format(path=path, error=error))
            return False
        self.path, self.sample_rate, self._wav = path, sample_rate, wav
        self.status_flags = 0
        self._pending = []
        self._buffer.clear()
        self._buffered = 0
        try:
            stream = (stream_factory or _input_stream_factory)(samplerate=sample_rate, channels=1, dtype="float32",
                                                               device=device, callback=self._on_audio_block)
            stream.start()
        except Exception as error:
            wav.finish()
            path.unlink(missing_ok=True)
            self.path = None
            self.failed.emit(_explain(error, "input"))
            return False
        self._stream = stream
        self._timer.start()
        return True

    def stop(self) -> str | None:
        """Stop recording, close the file and emit ``stopped``; returns the file's path."""
        if not self.is_recording:
            return None
        stream, self._stream = self._stream, None
        self._timer.stop()
        close_stream(stream)
        self._wav.finish()
        self.on_timer_timeout()  # the last blocks, for the level meter and waveform
        self.stopped.emit(str(self.path))
        return str(self.path)

    def buffer(self) -> np.ndarray:
        """The last ``buffer_seconds`` or so of audio received on the GUI thread, shape (n,)."""
        return np.concatenate(self._buffer) if self._buffer else np.zeros(0, np.float32)

    # ---- threads -----------------------------------------------------------------------

    def _on_audio_block(self, indata, frames, time_info, status) -> None:
        """The PortAudio callback, on the audio thread: copy and hand on, nothing slow."""
        if status:
            self.status_flags += 1
        block = np.array(indata[:, 0], dtype=np.float32)  # a copy: PortAudio reuses indata
        self._wav.put(block)
        with self._lock:
            self._pending.append(block)

    def _new_path(self) -> Path:
        return new_recording_path(self.folder)

    @Slot()
    def on_timer_timeout(self) -> None:
        with self._lock:
            blocks, self._pending = self._pending, []
        if blocks:
            new = np.concatenate(blocks)
            self._buffer.append(new)
            self._buffered += new.shape[0]
            while self._buffered - self._buffer[0].shape[0] >= self.buffer_seconds * self.sample_rate:
                self._buffered -= self._buffer.popleft().shape[0]
            self.level_changed.emit(dbfs(new))
            self.samples_added.emit(new)
        if self.is_recording and self._wav.error is not None:
            message = translate("AudioIO", "recording stopped: cannot write {path} ({error})").format(
                path=self.path, error=_write_failure(self._wav))
            self.stop()
            self.failed.emit(message)
        ended = getattr(self._stream, "finished", None)  # a file played as if live has no more to give
        if self.is_recording and ended is not None and ended.is_set():
            self.stop()


class Player(QObject):
    """Play a float32 array through the default output, reporting the position."""

    position_changed = Signal(float)  # seconds into the samples, ~30 times a second while playing
    state_changed = Signal(str)  # "playing", "paused" or "stopped"
    finished = Signal()  # playback reached the end (not emitted after stop())
    failed = Signal(str)  # why playback could not start

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.state = "stopped"
        self._stream = None
        self._samples = np.zeros(0, np.float32)
        self.sample_rate = SAMPLE_RATE
        self._frame = 0  # next frame to hand to PortAudio; written on the audio thread
        self._end = 0
        self._start = 0
        self._done_at: float | None = None
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self.on_timer_timeout)

    @property
    def position(self) -> float:
        """Seconds into the samples that the listener hears now (the device's latency subtracted)."""
        playing = self.state == "playing" and self._stream is not None
        latency = float(getattr(self._stream, "latency", 0.0) or 0.0) if playing else 0.0
        frame = max(self._start, self._frame - int(latency * self.sample_rate))
        return frame / self.sample_rate

    def play(self, samples: np.ndarray, sample_rate: int, start_seconds: float = 0.0,
             end_seconds: float | None = None, device: int | str | None = None) -> bool:
        """Play ``samples[start_seconds:end_seconds]`` (shape (n,)); False, after ``failed``, if it cannot."""
        self.stop()
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        start = min(samples.shape[0], max(0, int(round(start_seconds * sample_rate))))
        end = samples.shape[0] if end_seconds is None else min(samples.shape[0], int(round(end_seconds * sample_rate)))
        if end <= start:
            self.failed.emit(translate("AudioIO", "nothing to play"))
            return False
        self._samples, self.sample_rate = samples, int(sample_rate)
        self._start, self._frame, self._end, self._done_at = start, start, end, None
        try:
            stream = _output_stream_factory(samplerate=self.sample_rate, channels=1, dtype="float32",
                                            device=device, callback=self._on_audio_request)
            stream.start()
        except Exception as error:
            self.failed.emit(_explain(error, "output"))
            return False
        self._stream = stream
        self._set_state("playing")
        self._timer.start()
        return True

    def pause(self) -> None:
        if self.state != "playing":
            return
        self._stream.abort()  # at once; stop() would first play out the buffers
        # abort() drops what the device still held: resume from what was heard.
        self._frame = int(round(self.position * self.sample_rate))
        self._timer.stop()
        self._set_state("paused")
        self.position_changed.emit(self.position)

    def resume(self) -> None:
        if self.state != "paused":
            return
        self._stream.start()
        self._set_state("playing")
        self._timer.start()

    def stop(self) -> None:
        """Stop and close the stream; emits no ``finished``."""
        self._timer.stop()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:
                log.exception("closing the output stream failed")
        self._set_state("stopped")

    def _on_audio_request(self, outdata, frames, time_info, status) -> None:
        """The PortAudio callback, on the audio thread: the next ``frames`` samples, zeros past the end."""
        a = self._frame
        b = min(a + frames, self._end)
        outdata[: b - a, 0] = self._samples[a:b]
        outdata[b - a :] = 0.0
        self._frame = b

    @Slot()
    def on_timer_timeout(self) -> None:
        if self._stream is None:
            return
        if self._frame < self._end:
            self.position_changed.emit(self.position)
            return
        # Everything is handed over; let the device play out its buffer, then finish.
        latency = float(getattr(self._stream, "latency", 0.0) or 0.0)
        if self._done_at is None:
            self._done_at = time.monotonic()
        if time.monotonic() - self._done_at >= latency:
            self.stop()
            self.position_changed.emit(self._end / self.sample_rate)
            self.finished.emit()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
