"""Real-time factor of Speech-Transformer presets: encoder + incremental greedy decoding.

Random weights decode to arbitrary lengths, so the decoder is run for a fixed
number of steps per second of audio (15 characters/s, about Spanish read speech)
with the KV cache, exactly as greedy decoding does.

    python bench/bench_inference.py --device cpu --threads 2 --seconds 10 --out bench/results/inference-cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from engine.decode import DecodeOptions, decode_encoded
from engine.device import describe_device
from engine.models.speech_transformer import PRESETS, KVCache, SpeechTransformer, preset_config

CHARS_PER_SECOND = 15
VOCAB = 64


def run(preset: str, device: str, seconds: float, batch: int, repeats: int, beam: int) -> dict:
    model = SpeechTransformer(preset_config(preset, VOCAB)).to(device).eval()
    frames = int(seconds * 100)
    feats = torch.randn(batch, frames, 80, device=device)
    lens = torch.full((batch,), frames, device=device)
    n_tokens = int(seconds * CHARS_PER_SECOND)

    def once() -> None:
        with torch.inference_mode():
            xa, enc_lens = model.encode(feats, lens)
            if beam == 1:
                cache = KVCache()
                tok = torch.full((batch, 1), 2, device=device)
                for _ in range(n_tokens):
                    logits = model.decode(tok, xa, enc_lens, cache)
                    tok = logits[:, -1:].argmax(-1)
            else:
                # Beam search on random weights; the length is capped to the same token budget.
                ratio = n_tokens / xa.shape[1]
                decode_encoded(model, xa, enc_lens, 2, 3, DecodeOptions(beam_size=beam, max_len_ratio=ratio))
        if device == "cuda":
            torch.cuda.synchronize()

    once()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    best = min(times)
    return {
        "preset": preset, "params_m": round(model.num_parameters() / 1e6, 2), "batch": batch, "beam": beam,
        "audio_seconds": seconds * batch, "wall_seconds": round(best, 4),
        "rtf": round(best / (seconds * batch), 5),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--presets", nargs="*", default=list(PRESETS))
    p.add_argument("--out")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for preset in args.presets:
        for batch, beam in ((1, 1), (8, 1), (1, 4)):
            row = run(preset, args.device, args.seconds, batch, args.repeats, beam)
            print(json.dumps(row))
            rows.append(row)
    result = {
        "benchmark": "inference_rtf", "device": describe_device(args.device), "threads": args.threads,
        "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
        "tokens_per_second_of_audio": CHARS_PER_SECOND, "results": rows,
    }
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
