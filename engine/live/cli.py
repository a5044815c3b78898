"""``parcero live``: transcribe while recording, from a microphone or a file played as if live.

    parcero live [--input FILE [--speed X] | --device-index N] [--model NAME|DIR] [--policy auto|stable|alignatt|agreement|ctc]
                 [--margin S] [--beam-size N] [--language es|auto|CODE] [--quantize none|int8|fp16|bf16]
                 [--device auto|cpu|cuda] [--output-dir DIR]

Each commit is printed as it comes, one line, at its place in the recording
(``[  12.4 s] texto confirmado``). Ctrl+C (SIGINT) or SIGTERM stops the input;
the audio still queued is transcribed, and the recording (WAV) and its transcript
(``.txt`` and ``.json``, as ``parcero transcribe`` writes them) are saved in the
output folder, whose paths are printed last. A file given with ``--input`` goes
through the same path as a microphone (:class:`engine.live.capture.FileInputStream`).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
import traceback
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Iterator

from engine.errors import JobCancelled, ParceroError
from engine.live.options import LIVE_BEAM_SIZE
from engine.live.policy import DEFAULT_MARGIN, POLICIES

# How `parcero live` spells the DecodeOptions fields it sets, for the messages that refuse one.
OPTION_FLAGS = {"beam_size": "--beam-size", "language": "--language"}
FINISH_NOTICE_SECONDS = 1.0  # more audio than this still to transcribe at the end: say so


def add_live_parser(sub) -> None:
    p = sub.add_parser("live", help="transcribe while recording (a microphone, or a file played as if live)",
                       description="Transcribe while recording. Each confirmed piece of text is printed as it "
                       "comes, at its time in the recording; Ctrl+C stops, transcribes what is left and saves "
                       "the recording (WAV) and its transcript (.txt, .json).")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", type=Path, metavar="FILE",
                        help="play this audio file (wav, flac, ogg, mp3) as if it were the microphone")
    source.add_argument("--device-index", type=int, metavar="N",
                        help="the microphone, by its index in `python -m sounddevice` (default: the system's)")
    p.add_argument("--speed", type=float, metavar="X",
                   help="with --input: play X times faster than real time (default: 1, real time)")
    p.add_argument("--model", "-m", default=None, metavar="MODEL",
                   help="a model name from `parcero models list` or a model folder; default: whisper-base, "
                   "else the bundled demo model")
    p.add_argument("--policy", default="auto", metavar="POLICY",
                   help=f"when a word is final: alignatt (once it ends --margin seconds before the audio heard), "
                   f"agreement (once two passes in a row agree on it; about one update later), stable (both: "
                   f"behind the margin and read the same by the pass before), ctc (once the model's CTC head "
                   f"reads the same word, --margin seconds before the end), or auto: the model's own (stable "
                   f"for Whisper, ctc for a Speech-Transformer) "
                   f"(choices: {', '.join(POLICIES)}; default: auto)")
    p.add_argument("--margin", type=float, default=DEFAULT_MARGIN, metavar="S",
                   help=f"alignatt, stable, ctc: seconds a word must end before the end of the audio heard "
                   f"(default: {DEFAULT_MARGIN})")
    p.add_argument("--beam-size", type=int, default=LIVE_BEAM_SIZE, metavar="N",
                   help=f"beam size (default: {LIVE_BEAM_SIZE}; every update decodes the words not yet final "
                   "again, so a pass must take less time than the speech it follows: on a slow machine 1 or 2 "
                   "keep up better)")
    p.add_argument("--language", default="es", metavar="CODE",
                   help="Whisper: the language spoken (es, en, pt, ...), or auto to detect it (default: es)")
    p.add_argument("--quantize", default="none", choices=["none", "int8", "fp16", "bf16"],
                   help="as for `parcero transcribe`: int8 or fp16 (CPU) or bf16 make each pass faster "
                   "(default: none)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where the model runs (the microphone is --device-index) (default: cuda if available)")
    p.add_argument("--output-dir", type=Path, metavar="DIR",
                   help="where the recording and its transcript go (default: the window's recordings folder)")


def run_live_command(args: argparse.Namespace) -> int:
    from engine.audio import audio_info
    from engine.device import pick_device
    from engine.live.capture import Capture, FileInputStream, check_input_backend, new_recording_path
    from engine.live.stream import LiveSession, LiveTranscriber
    from engine.models.catalog import named_or_default
    from engine.models.io import load_model
    from engine.paths import recordings_dir
    from engine.quantize import check_quantize, quantize_model
    from engine.transcribe import check_decode_options
    from engine.transcript import DecodeOptions

    # Everything the user can get wrong is said before the model loads.
    live = _live_options(args)
    if args.speed is not None and args.input is None:
        raise ParceroError("--speed plays a file faster or slower: use it with --input FILE")
    speed = 1.0 if args.speed is None else args.speed
    if not (speed > 0 and math.isfinite(speed)):
        raise ParceroError(f"--speed must be a positive number, got {args.speed}")
    if args.input is not None:
        audio_info(args.input)  # missing, empty or not audio: named now, not after the model loads
    else:
        check_input_backend()  # no PortAudio: the install hint now
    language = None if args.language.strip().lower() == "auto" else args.language.strip().lower()
    asked = DecodeOptions(beam_size=args.beam_size, language=language)
    check_decode_options(asked, names=OPTION_FLAGS)
    out_dir = args.output_dir if args.output_dir is not None else recordings_dir()
    out_dir.mkdir(parents=True, exist_ok=True)

    device = pick_device(args.device)
    check_quantize(args.quantize, device)
    loaded = load_model(named_or_default(args.model, log=_stderr_log), device=device)
    quantize_model(loaded.model, args.quantize, device)
    check_decode_options(asked, loaded, OPTION_FLAGS)
    # No temperature fallback: a pass that reads badly is read again on the next update anyway, and
    # five hotter samples of it would stall the live text. (A Speech-Transformer ignores the option.)
    # on_step only looks for a second Ctrl+C: no attention for it.
    options = replace(asked, temperature_fallback=False, step_attention=False)

    cancel = threading.Event()  # set by a second Ctrl+C: the pass under way stops at its next token

    def on_step(chunk, info) -> None:
        if cancel.is_set():
            raise JobCancelled("live transcription interrupted")

    printer = _Printer()
    transcriber = LiveTranscriber(loaded, options, live, on_step=on_step)
    session = LiveSession(transcriber, printer.on_update)
    sample_rate = transcriber.sample_rate
    if args.input is not None:
        wav_path = new_recording_path(out_dir, f"{args.input.stem}-live")
        factory = partial(FileInputStream, args.input, speed=speed)
        what = f"playing {args.input} as if live" + (f" at {speed:g}x real time" if speed != 1 else "")
    else:
        wav_path = new_recording_path(out_dir)
        factory = None
        which = "the default microphone" if args.device_index is None else f"input device {args.device_index}"
        what = f"listening to {which}"
    capture = Capture(session.push, wav_path, sample_rate, device=args.device_index, stream_factory=factory)

    with _quiet_live_logs(), _stop_on_signals() as (stop, abort):
        session.start()
        try:
            capture.start()
        except BaseException:
            _abandon(session, cancel)
            raise
        print(f"parcero: {loaded.name}, policy {transcriber.policy.name}: {what}; Ctrl+C stops and saves",
              file=sys.stderr, flush=True)
        ended = _wait(capture, session, stop, playing=args.input is not None)
        wav_path = capture.stop()
        left = capture.frames_captured / sample_rate - transcriber.audio_seconds
        if session.error is None and left > FINISH_NOTICE_SECONDS:
            print(f"parcero: transcribing the last {left:.1f} s ...", file=sys.stderr, flush=True)
        try:
            finished = _finish(session, abort, cancel)
        except Exception as error:  # noqa: BLE001 - the recording is safe; say so and what went wrong
            return _transcription_failed(error, wav_path)
        if not finished:  # a second signal: the recording is on disk, its transcript given up
            print(f"parcero: interrupted; the recording is saved, without its transcript: {wav_path}",
                  file=sys.stderr)
            return 130
    failed = ended == "write-failed"
    if failed:  # the transcript is still saved, if the disk lets it
        print(f"parcero: error: {capture.writer.failure()}", file=sys.stderr)
    if ended == "input-stopped":
        print("parcero: warning: the input stopped by itself (device unplugged?); saving what was heard",
              file=sys.stderr)
    if capture.status_flags:
        print(f"parcero: warning: the sound card reported {capture.status_flags} problem(s) (e.g. overruns): "
              "some audio may be missing", file=sys.stderr)
    settings = _settings(args, transcriber.policy.name, live.margin, speed)
    _save(transcriber.transcript(str(wav_path)), wav_path, loaded.name, settings)
    return 1 if failed else 0


# ---- inside -----------------------------------------------------------------------------


def _stderr_log(line: str) -> None:
    print(f"parcero: {line}", file=sys.stderr)


class _Printer:
    """Prints each commit on stdout as it comes, and a warning on stderr when the passes fall behind."""

    def __init__(self):
        self.behind = False

    def on_update(self, update, status) -> None:
        words = [w.text.strip() for w in update.committed if w.text.strip()]
        if words:
            print(f"[{update.committed[0].start:6.1f} s] {' '.join(words)}", flush=True)
        if status.behind and not self.behind:
            print(f"parcero: warning: transcription is {status.backlog:.1f} s behind the voice; updating less "
                  "often (a smaller model, --quantize or a GPU would keep up)", file=sys.stderr, flush=True)
        self.behind = status.behind


def _live_options(args: argparse.Namespace):
    from engine.live.options import LiveOptions
    from engine.live.policy import make_policy

    if not (args.margin >= 0 and math.isfinite(args.margin)):
        raise ParceroError(f"--margin must be 0 seconds or more, got {args.margin}")
    try:
        make_policy(args.policy, args.margin)
    except ValueError as error:
        raise ParceroError(f"--policy: {error}") from error
    live = LiveOptions(policy=args.policy, margin=args.margin)
    live.check()
    return live


def _wait(capture, session, stop: threading.Event, playing: bool) -> str:
    """Until the input ends (``playing`` a file: the whole file has been played) or fails, or a signal comes;
    returns why."""
    while True:
        if stop.is_set():
            return "signal"
        if playing and capture.stream.finished.is_set():
            return "ended"
        if capture.writer.error is not None:
            return "write-failed"
        if session.error is not None:
            return "transcription-failed"
        if not capture.active:
            return "input-stopped"
        stop.wait(0.1)


def _finish(session, abort: threading.Event, cancel: threading.Event) -> bool:
    """Let the session transcribe what is left (raising what it failed with); False when ``abort`` gave up on it.

    It waits in short steps: a KeyboardInterrupt raised into a join while torch works on another thread
    aborts the interpreter at exit ("terminate called without an active exception").
    """
    while True:
        if abort.is_set():
            _abandon(session, cancel)
            return False
        session.stop(timeout=0.1)  # raises the session's error once its thread has ended with one
        if not session.running:
            return True


def _abandon(session, cancel: threading.Event) -> None:
    """Stop the transcription at once, whatever it was doing: its thread must not outlive the command."""
    cancel.set()
    try:
        session.stop(timeout=30)
    except BaseException:  # noqa: BLE001 - JobCancelled, or what the pass was failing with: given up either way
        pass


def _transcription_failed(error: Exception, wav_path: Path) -> int:
    saved = f"; the recording is saved: {wav_path}"
    if isinstance(error, ParceroError):
        print(f"parcero: error: {error}{saved}", file=sys.stderr)
        return 1
    debug = bool(os.environ.get("PARCERO_DEBUG"))
    print(f"parcero: error: live transcription failed, please report it: {type(error).__name__}: {error}{saved}"
          + ("" if debug else " (PARCERO_DEBUG=1 shows the traceback)"), file=sys.stderr)
    if debug:
        traceback.print_exception(error)
    return 1


def _settings(args: argparse.Namespace, policy: str, margin: float, speed: float) -> dict:
    return {"live": True, "policy": policy, "margin": margin, "beam_size": args.beam_size,
            "language": args.language, "quantize": args.quantize,
            "input": str(args.input) if args.input is not None else "microphone",
            "device_index": args.device_index, "speed": speed if args.input is not None else None}


def _save(transcript, wav_path: Path, model_name: str, settings: dict) -> None:
    from engine.export import write_export

    txt = write_export(wav_path.with_suffix(".txt"), transcript, "txt")
    json_path = write_export(wav_path.with_suffix(".json"), transcript, "json", model_name=model_name,
                             settings=settings)
    for path in (wav_path, txt, json_path):
        print(path, flush=True)


@contextmanager
def _stop_on_signals() -> Iterator[tuple[threading.Event, threading.Event]]:
    """Two events: ``stop`` set by the first SIGINT or SIGTERM, ``abort`` by the second; a third one acts as usual.

    The handlers only set events, which the main thread polls: see :func:`_finish` for why.
    """
    stop, abort = threading.Event(), threading.Event()
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield stop, abort
        return

    def on_signal(signum, frame) -> None:
        if stop.is_set():
            abort.set()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stop.set()

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, on_signal)
    try:
        yield stop, abort
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def _quiet_live_logs() -> Iterator[None]:
    """The live modules' log lines stay off the terminal: this command prints its own warnings and errors.

    Without any handler, Python prints warnings and tracebacks to stderr (logging.lastResort).
    PARCERO_DEBUG=1 keeps them.
    """
    if os.environ.get("PARCERO_DEBUG"):
        yield
        return
    logger, handler = logging.getLogger("engine.live"), logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
