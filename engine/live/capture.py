"""Audio coming in: a microphone, or a file played as if live; written to a WAV as it arrives.

Three pieces, none of them Qt:

- :class:`WavWriter` writes blocks to a 16-bit WAV on its own thread and flushes after
  each batch (libsndfile rewrites the WAV header with every write), so a crash loses nothing already
  captured; a failed write (a full disk) is kept in :attr:`WavWriter.error` instead of
  killing anyone. The window's :class:`app.audio_io.Recorder` and ``parcero live`` both
  write through it.
- :class:`FileInputStream` stands in for ``sounddevice.InputStream``: it reads a file
  and calls the same callback block by block at the pace of the real clock (``speed``
  times real time), so ``parcero live --input FILE`` goes down the microphone's path.
- :class:`Capture` opens an input stream, writes the recording and hands each block to a
  consumer (e.g. :meth:`engine.live.stream.LiveSession.push`). Streams are opened only
  through ``_input_stream_factory``, so tests replace the sound card there.

The audio callback runs on PortAudio's thread: it copies the block and hands it on,
nothing slow.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import soundfile as sf

from engine.errors import ParceroError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
BLOCK_FRAMES = 1024  # FileInputStream's block when none is asked for (64 ms at 16 kHz)
LOW_DISK_BYTES = 1_000_000  # a failed write with less free space than this is a full disk
INSTALL_PORTAUDIO = "install PortAudio, e.g. sudo apt-get install libportaudio2"


def new_recording_path(folder: str | Path, prefix: str = "recording") -> Path:
    """``folder/<prefix>-YYYYmmdd-HHMMSS.wav``, with ``-2``, ``-3``... when that name is taken."""
    folder = Path(folder)
    stem = time.strftime(f"{prefix}-%Y%m%d-%H%M%S")
    path, n = folder / f"{stem}.wav", 2
    while path.exists():
        path, n = folder / f"{stem}-{n}.wav", n + 1
    return path


SFC_SET_UPDATE_HEADER_AUTO = 0x1061  # libsndfile's sndfile.h; soundfile does not name it


def update_header_on_write(sound_file: sf.SoundFile) -> bool:
    """Ask libsndfile to rewrite the WAV header after every write, so the file on disk is a complete WAV
    (its length right) at every moment, for any reader, not only for libsndfile's forgiving one.

    Uses soundfile's private handle; where that is missing the recording still works and a crash
    leaves a file only libsndfile-based readers open whole. Returns whether it was switched on.
    """
    try:
        from soundfile import _ffi, _snd

        return bool(_snd.sf_command(sound_file._file, SFC_SET_UPDATE_HEADER_AUTO, _ffi.NULL, 1))
    except (AttributeError, ImportError, TypeError):
        log.warning("cannot ask libsndfile to keep the WAV header current; a crash leaves its length unset")
        return False


class WavWriter:
    """Write mono float32 blocks to a PCM-16 WAV file on a thread, flushing after every batch.

    Parameters
    ----------
    path : str or Path
        The WAV file; its folder is created.
    sample_rate : int
    """

    def __init__(self, path: str | Path, sample_rate: int = SAMPLE_RATE):
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        self.frames_written = 0  # frames flushed to disk, i.e. safe if the process dies now
        self.error: Exception | None = None  # why writing stopped (the blocks after it are dropped)
        self.free_bytes: int | None = None  # free disk space when the write failed, if it could be read
        self._blocks: queue.SimpleQueue = queue.SimpleQueue()
        self._file: sf.SoundFile | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Create the file and start the writer thread; raises (OSError, soundfile's errors) if it cannot."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = sf.SoundFile(self.path, "w", samplerate=self.sample_rate, channels=1, subtype="PCM_16")
        update_header_on_write(self._file)
        self._thread = threading.Thread(target=self._write_loop, args=(self._file, self._blocks),
                                        name="parcero-wav-writer", daemon=True)
        self._thread.start()

    def put(self, block: np.ndarray) -> None:
        """Queue a block, shape (n,) float32, for writing; returns at once (fit for an audio callback)."""
        self._blocks.put(block)

    def finish(self, timeout: float = 10.0) -> None:
        """Write what is queued, then close the file."""
        self._blocks.put(None)
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        if self._file is not None:
            self._file.close()
        self._thread = self._file = None

    @property
    def disk_full(self) -> bool:
        """The write failed with (almost) no free space left: libsndfile only says "System error."."""
        return self.error is not None and self.free_bytes is not None and self.free_bytes < LOW_DISK_BYTES

    @property
    def reason(self) -> str | None:
        """The write error in libsndfile's or the system's words, or None while all is well."""
        return None if self.error is None else (str(self.error) or type(self.error).__name__)

    def failure(self) -> str | None:
        """Why writing stopped, in English, naming a full disk; None while all is well."""
        if self.error is None:
            return None
        full = f"; the disk is full ({self.free_bytes // 1000} kB free)" if self.disk_full else ""
        return f"recording stopped: cannot write {self.path} ({self.reason}{full})"

    def _write_loop(self, sound_file: sf.SoundFile, blocks: queue.SimpleQueue) -> None:
        try:
            while True:
                batch = [blocks.get()]
                while not blocks.empty():  # when the disk is slow, write all that waits, flush once
                    batch.append(blocks.get())
                written = 0
                for block in batch:
                    if block is None:
                        break
                    sound_file.write(np.clip(block, -1.0, 1.0))  # PCM conversion wraps, not clips
                    written += block.shape[0]
                sound_file.flush()  # header rewritten: the file is valid up to here
                self.frames_written += written  # counted once safely on disk
                if any(block is None for block in batch):
                    return
        except Exception as error:  # disk full, folder removed
            try:
                self.free_bytes = shutil.disk_usage(self.path.parent).free
            except OSError:
                self.free_bytes = None  # the folder itself is gone; the error says enough
            self.error = error
            log.exception("writing the recording failed")


class FileInputStream:
    """A stand-in for ``sounddevice.InputStream`` that plays a file (or an array) into the callback.

    Takes ``sounddevice.InputStream``'s keywords; ``callback(indata, frames, time_info, status)``
    gets ``indata`` of shape (frames, channels) float32, one block every ``blocksize / samplerate /
    speed`` seconds, each when its last frame is due on the real clock (so it never drifts). Like
    PortAudio it reuses ``indata``'s memory: a consumer must copy it.

    Parameters
    ----------
    audio : str, Path or np.ndarray
        A file in any format and rate :func:`engine.audio.load_audio` reads (mixed to mono, resampled
        to ``samplerate``), or samples at ``samplerate``, shape (n,).
    speed : float
        1.0 is real time; 20 delivers a minute in 3 s.
    """

    def __init__(self, audio, *, samplerate: float = SAMPLE_RATE, channels: int = 1, dtype: str = "float32",
                 device=None, callback: Callable | None = None, blocksize: int | None = None, speed: float = 1.0):
        if dtype != "float32":
            raise ValueError(f"FileInputStream gives float32 samples only, not {dtype}")
        if not (speed > 0 and np.isfinite(speed)):
            raise ValueError(f"speed must be a positive number, got {speed}")
        if isinstance(audio, (str, Path)):
            from engine.audio import load_audio

            self.source: str | None = str(audio)
            samples = load_audio(audio, int(samplerate))
        else:
            self.source = None
            samples = np.asarray(audio, np.float32).reshape(-1)
        self.samples = samples  # (n,) float32
        self.samplerate, self.channels, self.dtype, self.device = float(samplerate), int(channels), dtype, device
        self.blocksize = int(blocksize) if blocksize else BLOCK_FRAMES
        self.callback, self.speed = callback, float(speed)
        self.latency = 0.0
        self.finished = threading.Event()  # set once the last block has been delivered
        self.error: BaseException | None = None  # what the callback raised, which stopped the stream
        self.closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def duration(self) -> float:
        """Seconds of audio the stream delivers in all."""
        return self.samples.size / self.samplerate

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    @property
    def stopped(self) -> bool:
        return not self.active

    def start(self) -> None:
        if self.closed:
            raise RuntimeError("FileInputStream: start() after close()")
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.finished.clear()
        self._thread = threading.Thread(target=self._run, name="parcero-file-input", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering blocks; returns once the callback has returned for the last time."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    abort = stop

    def close(self) -> None:
        self.stop()
        self.closed = True

    def __enter__(self) -> "FileInputStream":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self) -> None:
        indata = np.empty((self.blocksize, self.channels), np.float32)  # reused, as PortAudio does
        t0 = time.monotonic()
        rate = self.samplerate * self.speed  # frames per second of wall time
        for start in range(0, self.samples.size, self.blocksize):
            block = self.samples[start:start + self.blocksize]
            n = block.size
            due = t0 + (start + n) / rate  # a block exists once its last frame has been "recorded"
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            indata[:n] = block[:, None]
            now = time.monotonic()
            time_info = SimpleNamespace(inputBufferAdcTime=now - n / rate, currentTime=now)
            try:
                self.callback(indata[:n], n, time_info, 0)
            except BaseException as error:  # noqa: BLE001 - as PortAudio: a failing callback stops the stream
                if type(error).__name__ not in ("CallbackStop", "CallbackAbort"):
                    log.exception("the audio callback failed")
                    self.error = error
                return
        self.finished.set()


def _open_input_stream(**kwargs):
    # Imported on first use: importing sounddevice loads PortAudio, which raises
    # OSError("PortAudio library not found") on machines without it.
    import sounddevice

    return sounddevice.InputStream(**kwargs)


# The sound-card boundary; tests substitute fakes taking the same keywords.
_input_stream_factory = _open_input_stream


class CaptureError(ParceroError):
    """The microphone (or the stand-in stream) could not be opened."""


def check_input_backend() -> None:
    """CaptureError saying why, when PortAudio or sounddevice is missing here (cheap; opens no device)."""
    try:
        import sounddevice  # noqa: F401
    except (OSError, ImportError) as error:
        raise _backend_error(error) from error


def _backend_error(error: Exception) -> CaptureError:
    if isinstance(error, ImportError):
        return CaptureError(f"cannot record: the sounddevice package is missing ({error}); pip install sounddevice",
                            code="capture.no_sounddevice", params={"error": str(error)})
    return CaptureError(f"cannot record: {error}; {INSTALL_PORTAUDIO}", code="capture.no_portaudio",
                        params={"error": str(error)})


def _explain_open_failure(error: Exception, device) -> CaptureError:
    if isinstance(error, ImportError) or (isinstance(error, OSError) and "PortAudio" in str(error)):
        return _backend_error(error)
    which = "the microphone" if device is None else f"input device {device}"
    return CaptureError(f"could not open {which}: {error}", code="capture.input_failed",
                        params={"device": device, "error": str(error)})


def close_stream(stream) -> None:
    """Stop and close an input stream; a device already gone is logged, not raised (the file is what matters)."""
    try:
        stream.stop()
        stream.close()
    except Exception:
        log.exception("closing the input stream failed")


class Capture:
    """Record from an input stream into a WAV file and hand every block to ``consumer``.

    Parameters
    ----------
    consumer : callable or None
        Called on the audio thread with each block, shape (n,) float32 (a copy, its own); it must
        return at once, e.g. :meth:`engine.live.stream.LiveSession.push`.
    path : str or Path
        The WAV file to write.
    sample_rate : int
    device : int, str or None
        The input device (sounddevice's index or name); None: the default one.
    stream_factory : callable or None
        Opens the stream with ``sounddevice.InputStream``'s keywords; None: ``_input_stream_factory``
        (the sound card). ``functools.partial(FileInputStream, "clase.wav", speed=1)`` plays a file.
    """

    def __init__(self, consumer: Callable[[np.ndarray], None] | None, path: str | Path,
                 sample_rate: int = SAMPLE_RATE, device=None, stream_factory: Callable | None = None):
        self.consumer = consumer
        self.sample_rate, self.device = int(sample_rate), device
        self.writer = WavWriter(path, sample_rate)
        self.stream = None
        self.status_flags = 0  # callbacks that reported an overflow or another problem
        self.consumer_error: BaseException | None = None
        self._factory = stream_factory

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def frames_captured(self) -> int:
        """Frames safely in the WAV file."""
        return self.writer.frames_written

    @property
    def active(self) -> bool:
        return self.stream is not None and bool(getattr(self.stream, "active", False))

    def start(self) -> None:
        """Create the file, then open and start the stream.

        Raises
        ------
        ParceroError
            :class:`CaptureError` when the file cannot be written or the stream cannot start (no PortAudio,
            with the install hint; no such device), or the stand-in's own error (an unreadable file). No
            file is left behind.
        """
        try:
            self.writer.start()  # before the stream: the first callback may come at once
        except Exception as error:  # a folder without write permission, a name the file system refuses
            raise CaptureError(f"cannot write {self.path}: {error}", code="capture.cannot_write",
                               params={"path": str(self.path), "error": str(error)}) from error
        factory = self._factory or _input_stream_factory
        try:
            stream = factory(samplerate=self.sample_rate, channels=1, dtype="float32", device=self.device,
                             callback=self._on_audio_block)
            stream.start()
        except Exception as error:
            self.writer.finish()
            self.path.unlink(missing_ok=True)
            if isinstance(error, ParceroError):
                raise
            raise _explain_open_failure(error, self.device) from error
        self.stream = stream

    def stop(self) -> Path:
        """Stop the stream, write what is queued, close the file; returns its path."""
        stream, self.stream = self.stream, None
        if stream is not None:
            close_stream(stream)
        self.writer.finish()
        return self.path

    def _on_audio_block(self, indata, frames, time_info, status) -> None:
        """The PortAudio callback, on the audio thread: copy and hand on, nothing slow."""
        if status:
            self.status_flags += 1
        block = np.array(indata[:, 0], dtype=np.float32)  # a copy: PortAudio reuses indata
        self.writer.put(block)
        if self.consumer is not None and self.consumer_error is None:
            try:
                self.consumer(block)
            except Exception as error:  # noqa: BLE001 - the recording goes on; the owner reads consumer_error
                log.exception("the audio consumer failed")
                self.consumer_error = error
