"""Real-time factor of Speech-Transformer presets: encoder + incremental decoding, greedy and beam 4.

Random weights decode to arbitrary lengths, so <eos> is banned and the real
search (engine.decode, greedy or beam) runs to a fixed number of tokens per second
of audio (15 characters/s, about Spanish read speech).

``engine`` is imported before torch, as in the application, so OpenMP threads wait
passively and decoding steps run on one thread (engine.decode.step_threads).

Each configuration is timed ``--repeats`` times, the variants of a preset
interleaved (float32, int8, float32, int8, ...) so that a shared machine's load
falls on all alike; the JSON keeps the best and the median.

    python bench/bench_inference.py --device cpu --threads 2 --quantize none int8 --out bench/results/inference-cpu-2threads.json
    python bench/bench_inference.py --device cuda --batches 1 64 --out bench/results/inference-h100.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine  # noqa: E402,F401  (first: it sets the OpenMP wait policy the application runs with)
import torch  # noqa: E402

from bench.machine import load_average, machine_info  # noqa: E402
from engine.decode import decode_encoded  # noqa: E402
from engine.transcript import DecodeOptions
from engine.speech_transformer.config import PRESETS, preset_config  # noqa: E402
from engine.speech_transformer.model import SpeechTransformer  # noqa: E402
from engine.quantize import quantize_model  # noqa: E402

CHARS_PER_SECOND = 15
VOCAB = 64
SOS, EOS = 2, 3


def make_run(model, device: str, seconds: float, batch: int, beam: int):
    """A function that encodes ``batch`` clips of ``seconds`` and decodes them; returns nothing."""
    frames = int(seconds * 100)
    feats = torch.randn(batch, frames, 80, device=device)
    lens = torch.full((batch,), frames, device=device)
    n_tokens = int(seconds * CHARS_PER_SECOND)

    def once() -> None:
        with torch.inference_mode():
            xa, enc_lens = model.encode(feats, lens)
            ratio = (n_tokens - 10 + 0.5) / xa.shape[1]  # the search caps at int(ratio * frames) + 10 tokens
            hyps = decode_encoded(model, xa, enc_lens, SOS, EOS, DecodeOptions(beam_size=beam, max_len_ratio=ratio),
                                  banned_ids=(EOS,))
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        assert all(len(h.tokens) == n_tokens for h in hyps), "the search must run to the full budget"

    return once


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--presets", nargs="*", default=list(PRESETS))
    p.add_argument("--batches", type=int, nargs="*", default=None, help="default: 1 8 (CPU), 1 64 (GPU)")
    p.add_argument("--beams", type=int, nargs="*", default=[1, 4])
    p.add_argument("--quantize", nargs="*", default=["none"], choices=["none", "int8", "fp16"])
    p.add_argument("--out")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    gpu = args.device.startswith("cuda")
    batches = args.batches or ([1, 64] if gpu else [1, 8])
    info = machine_info(args.device)
    rows = []
    for preset in args.presets:
        torch.manual_seed(0)
        base = SpeechTransformer(preset_config(preset, VOCAB)).to(args.device).eval()
        params = base.num_parameters()
        models = {q: quantize_model(copy.deepcopy(base), q, args.device) for q in args.quantize}
        for batch in batches:
            for beam in args.beams:
                runs = {q: make_run(m, args.device, args.seconds, batch, beam) for q, m in models.items()}
                times = {q: [] for q in runs}
                for once in runs.values():
                    once()  # warm-up
                for _ in range(args.repeats):
                    for q, once in runs.items():
                        t = time.perf_counter()
                        once()
                        times[q].append(time.perf_counter() - t)
                for q, ts in times.items():
                    audio = args.seconds * batch
                    row = {
                        "preset": preset, "params_m": round(params / 1e6, 2), "quantize": q, "batch": batch,
                        "beam": beam, "audio_seconds": audio, "wall_seconds_best": round(min(ts), 4),
                        "wall_seconds_median": round(statistics.median(ts), 4),
                        "rtf": round(min(ts) / audio, 5), "rtf_median": round(statistics.median(ts) / audio, 5),
                        "load_average": load_average()[:1],
                    }
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    result = {
        "benchmark": "inference_rtf", **info, "threads": args.threads if not gpu else None,
        "tokens_per_second_of_audio": CHARS_PER_SECOND, "seconds_per_clip": args.seconds,
        "note": "rtf = best wall time / audio seconds; rtf_median the median of the repeats",
        "results": rows, "load_average_end": load_average(),
    }
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
