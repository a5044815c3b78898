"""What the window's attention heatmaps cost on a long recording, through the real engine process.

The Transcribe page asks the engine for every head's decoder cross-attention at every
step and one average per layer of each window's encoder self-attention
(``app/transcription_job.py``). This transcribes one file with Whisper base through the
engine process (:class:`engine.client.EngineClient`, as the window does), alternating:

- ``off``: no attention asked for (what ``parcero transcribe`` does);
- ``cross``: the decoder's cross-attention only, every head;
- ``window``: what the window asks for, cross-attention and the encoder's averages;

and reports each one's wall time (submit to Finished, on the client's side: the pipe and
the unpickling included), the worker's and the client's CPU time, the frames and megabytes
streamed, and the WER of the text (which capture must not change). Issue 20's target:
capture costs at most 10 % on long files.

    python ../shared/data/make_longform.py --minutes 10 --out build/longform
    python bench/bench_capture_longform.py --file build/longform/longform-10min.wav --rounds 2 \\
        --out bench/results/capture-longform-10min-cpu2.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.bench_longform import ours_model_dir  # noqa: E402
from bench.bench_worker import Counter  # noqa: E402
from bench.machine import load_average, machine_info  # noqa: E402
from engine.client import EngineClient  # noqa: E402
from engine.metrics import error_rates  # noqa: E402
from engine.protocol import Finished, LoadModel, Transcribe  # noqa: E402
from engine.transcript import DecodeOptions  # noqa: E402

MODES = {
    "off": {"attention": ()},
    "cross": {"attention": ("decoder_cross",), "heads": "all"},
    "window": {"attention": ("decoder_cross", "encoder_self"), "heads": "all", "encoder_heads": "average"},
}


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(client: EngineClient, tally: Counter, path: Path, mode: str, options: DecodeOptions,
            reference: str | None) -> dict:
    tally.reset()
    worker_cpu0, client_cpu0 = process_cpu_seconds(client.pid), time.process_time()
    t0 = time.perf_counter()
    *_, done = client.wait(client.submit(Transcribe, path=str(path), options=options, **MODES[mode]), timeout=7200)
    wall = time.perf_counter() - t0
    if not isinstance(done, Finished):
        raise SystemExit(f"{mode}: the engine answered {done!r}")
    text = done.result["text"]
    out = {"wall_s": round(wall, 2), "worker_cpu_s": round(process_cpu_seconds(client.pid) - worker_cpu0, 2),
           "client_cpu_s": round(time.process_time() - client_cpu0, 2), "attention_frames": tally.frames,
           "attention_mb": round(tally.attention_bytes / 1e6, 1), "load_average": load_average()[0], "text": text}
    if reference is not None:
        out["wer"] = round(error_rates([reference], [text]).wer, 4)
    print(f"{mode}: {wall:.1f} s, {tally.frames} frames, {tally.attention_bytes / 1e6:.0f} MB", file=sys.stderr)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--file", type=Path, required=True, help="the recording; a .txt beside it is its reference")
    p.add_argument("--modes", nargs="+", choices=list(MODES), default=["off", "window"])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--word-timestamps", action="store_true", help="time words too (the window's default)")
    p.add_argument("--out")
    args = p.parse_args()

    ref_path = args.file.with_suffix(".txt")
    reference = ref_path.read_text(encoding="utf-8").strip() if ref_path.is_file() else None
    options = DecodeOptions(beam_size=5, language="es", word_timestamps=args.word_timestamps)
    info = machine_info("cpu") | {"benchmark": "capture-longform", "file": args.file.name, "beam": 5,
                                  "word_timestamps": args.word_timestamps, "modes": args.modes,
                                  "rounds": args.rounds, "through": "engine process (EngineClient), as the window"}
    runs: dict[str, list[dict]] = {m: [] for m in args.modes}
    tally = Counter()  # attention frames and bytes that reach the client's callback
    with EngineClient(on_event=tally) as client:
        client.wait(client.submit(LoadModel, path=str(ours_model_dir())), timeout=300)
        for r in range(args.rounds):
            order = args.modes if r % 2 == 0 else args.modes[::-1]  # alternated, so drift hits both
            for mode in order:
                runs[mode].append(one_run(client, tally, args.file, mode, options, reference))
    base = min(x["wall_s"] for x in runs[args.modes[0]])
    summary = {}
    for mode, rs in runs.items():
        best = min(x["wall_s"] for x in rs)
        summary[mode] = {"best_wall_s": best, "extra_vs_" + args.modes[0]: round(best / base - 1, 3),
                         "same_text_as_" + args.modes[0]: all(x["text"] == runs[args.modes[0]][0]["text"] for x in rs),
                         **{k: rs[0][k] for k in ("attention_frames", "attention_mb") if k in rs[0]},
                         **({"wer": rs[0]["wer"]} if "wer" in rs[0] else {})}
    result = info | {"load_average_end": load_average(), "summary": summary,
                     "runs": {m: [{k: v for k, v in x.items() if k != "text"} for x in rs] for m, rs in runs.items()}}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
