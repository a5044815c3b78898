"""The engine process as the GUI sees it: start-up time, command latency, event throughput.

Three numbers decide whether the window feels alive while the engine works:

* cold start: spawning the worker until it sends Ready (mostly importing torch);
* GetInfo round trip while idle, the floor of any command's latency (median of N);
* attention frames per second delivered to the client's callback while a long
  tone file is transcribed, next to the same transcription run in-process, so
  the cost of the process boundary (pickling, the pipe, the reader thread) shows.

Without ``--model`` the tiny model of the tests is trained first (tone speech, ~10 s on a CPU).

    python bench/bench_worker.py --out bench/results/worker-cpu2.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.machine import cpu_model, load_average  # noqa: E402
from engine.audio import save_wav  # noqa: E402
from engine.client import EngineClient  # noqa: E402
from engine.models.io import load_model  # noqa: E402
from engine.speech_transformer.files import save_model
from engine.protocol import (  # noqa: E402
    AttentionFrame, Finished, GetInfo, LoadModel, PartialTranscript, Started, Transcribe,
)
from engine.transcribe import transcribe_long  # noqa: E402
from engine.worker import default_thread_count  # noqa: E402
from tests.conftest import OVERFIT_TEXTS  # noqa: E402
from tests.helpers import SR, overfit_tiny_model, tone_speech  # noqa: E402


def build_model(folder: Path, steps: int) -> Path:
    torch.manual_seed(0)
    model, tokenizer, fc, _ = overfit_tiny_model(OVERFIT_TEXTS, steps=steps)
    return save_model(folder / "tonos-es", model, tokenizer, fc, metadata={"name": "tonos-es"})


def long_tone_file(folder: Path, rounds: int) -> tuple[Path, float]:
    samples = np.concatenate([tone_speech(t, seed=i) for _ in range(rounds) for i, t in enumerate(OVERFIT_TEXTS)])
    path = folder / "largo.wav"
    save_wav(path, samples, SR)
    return path, len(samples) / SR


def cold_starts(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        client = EngineClient()
        t = time.perf_counter()
        client.start()
        times.append(time.perf_counter() - t)
        client.close()
    return times


class Counter:
    """Counts what reaches the client's callback, with the time of the first and last event."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.frames = self.partials = self.events = self.attention_bytes = 0
        self.started = self.finished = 0.0

    def __call__(self, event) -> None:
        self.events += 1
        if isinstance(event, AttentionFrame):
            self.frames += 1
            self.attention_bytes += event.matrix.nbytes
        elif isinstance(event, PartialTranscript):
            self.partials += 1
        elif isinstance(event, Started):
            self.started = time.perf_counter()
        elif isinstance(event, Finished):
            self.finished = time.perf_counter()


def in_process_seconds(model_dir: Path, wav: Path, heads: str) -> float:
    """The same transcription without a worker, converting attention exactly as the worker does."""
    from engine.audio import load_audio

    torch.set_num_threads(default_thread_count())
    loaded = load_model(model_dir)
    samples = load_audio(wav, loaded.feature_config.sample_rate)

    def on_step(chunk, info) -> None:
        loaded.tokenizer.decode(info.tokens[0])
        for w in info.cross_attention:
            (w[0].float().mean(0) if heads == "average" else w[0]).half().cpu().numpy()

    t = time.perf_counter()
    transcribe_long(loaded, samples, on_step=on_step)
    return time.perf_counter() - t


def measure_transcription(client: EngineClient, counter: Counter, wav: Path, audio_seconds: float,
                          heads: str, repeats: int, model_dir: Path) -> dict:
    """Best of ``repeats`` transcriptions of ``wav`` through the worker, and one in-process."""
    runs = []
    for _ in range(repeats):
        counter.reset()
        [*_, done] = client.wait(client.submit(Transcribe, path=str(wav), heads=heads), timeout=600)
        assert isinstance(done, Finished), done
        runs.append((counter.finished - counter.started, counter.frames, counter.partials, counter.events,
                     counter.attention_bytes))
    wall, frames, partials, events, nbytes = min(runs)
    local = min(in_process_seconds(model_dir, wav, heads) for _ in range(repeats))
    print(f"heads={heads}: {frames / wall:.0f} attention frames/s", file=sys.stderr)
    return {
        "heads": heads, "audio_seconds": round(audio_seconds, 1), "wall_seconds": round(wall, 3),
        "rtf": round(wall / audio_seconds, 5), "attention_frames": frames,
        "attention_frames_per_second": round(frames / wall, 1),
        "partial_transcripts_per_second": round(partials / wall, 1),
        "events_per_second": round(events / wall, 1),
        "attention_mb_per_second": round(nbytes / wall / 1e6, 3),
        "in_process_wall_seconds": round(local, 3),
        "process_boundary_overhead": round(wall / local - 1, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="a Parcero model folder (default: train the tiny tone model)")
    p.add_argument("--train-steps", type=int, default=200)
    p.add_argument("--rounds", type=int, default=40, help="times the six tone sentences are repeated")
    p.add_argument("--info-repeats", type=int, default=50)
    p.add_argument("--start-repeats", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3, help="transcriptions per setting; the fastest counts")
    p.add_argument("--out")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_dir = Path(args.model) if args.model else build_model(folder, args.train_steps)
        wav, audio_seconds = long_tone_file(folder, args.rounds)

        starts = cold_starts(args.start_repeats)
        print(f"cold start: {', '.join(f'{s:.2f}' for s in starts)} s", file=sys.stderr)

        counter = Counter()
        with EngineClient(on_event=counter) as client:
            info_ms = []
            for _ in range(args.info_repeats):
                t = time.perf_counter()
                [info, _] = client.wait(client.submit(GetInfo), timeout=10)
                info_ms.append((time.perf_counter() - t) * 1000)
            print(f"GetInfo: median {statistics.median(info_ms):.2f} ms", file=sys.stderr)
            client.wait(client.submit(LoadModel, path=str(model_dir)), timeout=60)
            transcriptions = [measure_transcription(client, counter, wav, audio_seconds, heads, args.repeats,
                                                    model_dir) for heads in ("average", "all")]

    result = {
        "benchmark": "worker", "device": info.device, "worker_threads": default_thread_count(),
        "cpus": os.cpu_count(), "cpu": cpu_model(), "torch": torch.__version__, "load_average": load_average(),
        "model": str(args.model) if args.model else "tiny tone model (d_model 96, 2+2 layers, 4 heads)",
        "cold_start_seconds": {"runs": [round(s, 3) for s in starts], "median": round(statistics.median(starts), 3)},
        "get_info_round_trip_ms": {
            "repeats": len(info_ms), "median": round(statistics.median(info_ms), 3),
            "p90": round(sorted(info_ms)[int(0.9 * len(info_ms)) - 1], 3), "max": round(max(info_ms), 3),
        },
        "transcription": transcriptions,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
