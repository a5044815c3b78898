"""Data-loader throughput alone: audio seconds of training features delivered per wall second.

The training pipeline as the trainer builds it (engine.data.batching): a
SpeechDataset that reads each clip, computes log-mel features and SpecAugment in
the DataLoader's worker processes, a duration-bucketed sampler, and the collate
into padded batches. Nothing is trained; with ``--device cuda`` each batch is
also copied to the GPU (pinned memory, non-blocking), as the trainer does.

The figure to compare it with is what the model consumes: ``train_throughput.py``'s
audio seconds per second. The loader must deliver more, or the GPU waits for data.

    python bench/bench_loader.py --workers 0 1 2 --out bench/results/loader-cpu2.json
    python bench/bench_loader.py --device cuda --workers 4 8 12 --clips 2000 --out bench/results/loader-h100.json

The corpus is generated: 16 kHz FLAC clips of 2-12 s of band-limited noise with a
tone, each with a Spanish sentence (FLAC, as most corpora ship; WAV decodes faster).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import load_average, machine_info  # noqa: E402
from engine.data.batching import DurationBucketSampler, SpeechDataset, make_loader  # noqa: E402
from engine.data.manifest import Utterance  # noqa: E402
from engine.feature_config import FeatureConfig, SpecAugmentConfig  # noqa: E402
from engine.text import CharTokenizer  # noqa: E402

SENTENCES = ["¿qué tal, señor núñez?", "el pingüino come atún en la península", "mañana llueve en la ciudad",
             "los niños juegan en el jardín", "¡ojalá que llueva café en el campo!"]
SR = 16000


def make_corpus(folder: Path, n: int, seed: int = 0) -> list[Utterance]:
    rng = np.random.default_rng(seed)
    utterances = []
    for i in range(n):
        seconds = float(rng.uniform(2.0, 12.0))
        t = np.arange(int(seconds * SR)) / SR
        x = 0.1 * np.sin(2 * np.pi * rng.uniform(100, 300) * t) + 0.02 * rng.standard_normal(t.size)
        path = folder / f"u{i:05d}.flac"
        sf.write(path, x.astype(np.float32), SR, subtype="PCM_16")
        utterances.append(Utterance(f"u{i:05d}", path.name, seconds, SENTENCES[i % len(SENTENCES)], sample_rate=SR))
    return utterances


def run(utterances, folder: Path, workers: int, device: str, max_frames: int, spec_augment: bool) -> dict:
    tokenizer = CharTokenizer.build(u.text for u in utterances)
    dataset = SpeechDataset(utterances, folder, tokenizer, FeatureConfig(),
                            SpecAugmentConfig() if spec_augment else None)
    sampler = DurationBucketSampler(dataset.durations(), max_frames=max_frames, seed=0)
    gpu = device.startswith("cuda")
    loader = make_loader(dataset, sampler, num_workers=workers, pin_memory=gpu)
    frames = batches = 0
    t0 = time.perf_counter()
    first = None
    for loaded in loader:
        if first is None:
            first = time.perf_counter() - t0  # worker start-up and the first batch
        b = loaded.batch
        if gpu:
            b.feats.to(device, non_blocking=True)
        frames += int(b.feat_lens.sum())
        batches += 1
    if gpu:
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    seconds = frames / 100  # 10 ms feature frames
    return {
        "workers": workers, "batches": batches, "audio_seconds": round(seconds, 1), "wall_seconds": round(wall, 2),
        "first_batch_seconds": round(first or 0.0, 2),
        "audio_seconds_per_second": round(seconds / wall, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=300)
    p.add_argument("--workers", type=int, nargs="*", default=[0, 1, 2])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2, help="torch threads of the main process")
    p.add_argument("--max-frames", type=int, default=20000, help="padded feature frames per batch")
    p.add_argument("--no-spec-augment", action="store_true")
    p.add_argument("--out")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    info = machine_info(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        utterances = make_corpus(folder, args.clips)
        rows = []
        for w in args.workers:
            row = run(utterances, folder, w, args.device, args.max_frames, not args.no_spec_augment)
            row["load_average"] = load_average()[:1]
            print(json.dumps(row), flush=True)
            rows.append(row)
    result = {"benchmark": "data_loader", **info, "clips": args.clips,
              "corpus_hours": round(sum(u.duration for u in utterances) / 3600, 2), "format": "flac 16 kHz",
              "features": "80 log-mel, 10 ms hop", "spec_augment": not args.no_spec_augment,
              "max_frames": args.max_frames, "results": rows, "load_average_end": load_average()}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
