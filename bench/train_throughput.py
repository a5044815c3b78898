"""Training throughput per preset: audio seconds trained per second, tokens per second, MFU.

Synthetic batches (random features, 15 characters per second of audio) go
through the real model, joint CTC-attention loss, backward and Adam step, so
this measures the model's training speed without the data pipeline.

    python bench/train_throughput.py --device cuda --precision bf16 --out bench/results/train-h100.json
    python bench/train_throughput.py --device cpu --threads 2 --presets tiny small
    python bench/train_throughput.py --device cuda --presets small --compile   # torch.compile'd model

MFU = achieved model FLOPs / the device's peak dense bf16/fp16 rate, taken from
app.cost.GPU_PEAKS (vendor datasheets, sourced there); fp32 has no peak in that
table, so fp32 rows have no MFU.

Model FLOPs per step are
estimated as 6 x (encoder parameters x encoder frames + decoder parameters x
tokens) summed over the batch (forward + backward, attention scores ignored).

On a GPU, "GPU busy" is nvidia-smi's utilisation (the share of time a kernel was
running), sampled every 0.2 s while the timed steps run; without nvidia-smi, the
same counter through torch.cuda.utilization() (NVML).

``warmup_seconds`` is the time of the first two steps (CUDA context, kernels and,
with ``--compile``, the compilation); ``step_seconds`` the mean of the timed steps.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cost import gpu_peak  # noqa: E402  (Qt-free: the one sourced table of GPU peak rates)
from bench.machine import load_average, machine_info  # noqa: E402
from engine.losses import collate, joint_loss  # noqa: E402
from engine.speech_transformer.config import PRESETS, preset_config  # noqa: E402
from engine.speech_transformer.model import SpeechTransformer  # noqa: E402

VOCAB = 64
CHARS_PER_SECOND = 15


def model_flops_per_step(model: SpeechTransformer, enc_frames: int, tokens: int) -> float:
    enc = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("subsample", "encoder", "enc_ln", "ctc")))
    dec = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("decoder", "dec_ln", "embed")))
    return 6.0 * (enc * enc_frames + dec * tokens)


class GpuBusy:
    """Samples nvidia-smi's utilisation of one GPU in a thread; ``mean`` is None where it cannot be read."""

    def __init__(self, index: int):
        self.index, self.samples, self._stop = index, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> float:
        cmd = ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-i", str(self.index)]
        try:
            return float(subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout)
        except (OSError, ValueError, subprocess.SubprocessError):
            return float(torch.cuda.utilization(self.index))  # NVML (nvidia-ml-py); raises without it

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self._read())
            except Exception:  # noqa: BLE001 - no nvidia-smi and no NVML: "GPU busy" stays unknown
                return
            self._stop.wait(0.2)

    def __enter__(self) -> "GpuBusy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def mean(self) -> float | None:
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else None


def run(preset: str, device: str, precision: str, batch: int, seconds: float, steps: int,
        compile_model: bool = False) -> dict:
    torch.manual_seed(0)
    model = SpeechTransformer(preset_config(preset, VOCAB)).to(device).train()
    n_params = model.num_parameters()
    flops_model = model
    if compile_model:
        model = torch.compile(model)  # as the trainer does with train.compile = true
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    frames = int(seconds * 100)
    n_tok = int(seconds * CHARS_PER_SECOND)
    feats = [torch.randn(frames, 80) for _ in range(batch)]
    ids = [torch.randint(4, VOCAB, (n_tok,)).tolist() for _ in range(batch)]
    b = collate(feats, ids, 2, 3).to(device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")

    def step() -> None:
        with torch.autocast(torch.device(device).type, dtype=dtype, enabled=dtype is not None):
            logits, ctc, enc_lens = model(b.feats, b.feat_lens, b.tokens_in)
            loss = joint_loss(logits, ctc, enc_lens, b).total
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)

    t = time.perf_counter()
    for _ in range(2):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    warmup = time.perf_counter() - t
    gpu = device.startswith("cuda")
    busy = GpuBusy(torch.device(device).index or 0) if gpu else contextlib.nullcontext()
    t = time.perf_counter()
    with busy:
        for _ in range(steps):
            step()
        if gpu:
            torch.cuda.synchronize()
    dt = (time.perf_counter() - t) / steps
    enc_frames = ((frames - 1) // 2 - 1) // 2
    flops = model_flops_per_step(flops_model, enc_frames, n_tok + 1) * batch
    row = {
        "preset": preset, "params_m": round(n_params / 1e6, 2), "precision": precision, "compiled": compile_model,
        "batch": batch, "seconds_per_utterance": seconds, "warmup_seconds": round(warmup, 2),
        "step_seconds": round(dt, 4),
        "audio_seconds_per_second": round(batch * seconds / dt, 1),
        "tokens_per_second": round(batch * n_tok / dt, 1),
        "achieved_tflops": round(flops / dt / 1e12, 3),
    }
    peak = gpu_peak(torch.cuda.get_device_name(torch.device(device))) if gpu else None
    if peak is not None and precision in ("bf16", "fp16"):
        row["peak_tflops"] = peak.dense_tflops
        row["mfu"] = round(row["achieved_tflops"] / peak.dense_tflops, 4)
    if gpu:
        row["peak_memory_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        row["gpu_busy_percent"] = busy.mean
    row["load_average"] = load_average()[:1]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", default=None, choices=["fp32", "bf16", "fp16"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--presets", nargs="*", default=list(PRESETS))
    p.add_argument("--batch", type=int, default=None, help="default: 64 on GPU, 4 on CPU")
    p.add_argument("--seconds", type=float, default=8.0, help="audio seconds per utterance")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--compile", action="store_true", help="torch.compile the model (warmup_seconds then includes it)")
    p.add_argument("--out")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    gpu = args.device.startswith("cuda")
    precision = args.precision or ("bf16" if gpu else "fp32")
    batch = args.batch or (64 if gpu else 4)
    steps = args.steps or (20 if gpu else 3)
    rows = []
    for preset in args.presets:
        row = run(preset, args.device, precision, batch, args.seconds, steps, args.compile)
        print(json.dumps(row))
        rows.append(row)
    result = {"benchmark": "train_throughput", **machine_info(args.device),
              "threads": args.threads if not gpu else None, "results": rows, "load_average_end": load_average()}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
