"""Smaller weights for inference on the CPU: int8 dynamic quantisation or float16 storage of Linear layers.

Decoding one utterance at a time multiplies a single row by every weight matrix
of the decoder at every step, so the CPU spends its time reading weights from
memory, not computing. Stored as int8, the weights take a quarter of the bytes;
activations are quantised on the fly, per call (PyTorch's "dynamic"
quantisation, fbgemm/x86 kernels). Embeddings, convolutions, layer norms and
the output projection tied to the embedding stay float32.

What it buys and costs is measured in ``docs/benchmarks.md`` (the Speech-Transformer's
greedy real-time factor; the tone test model's transcripts are unchanged). It is
an option, off by default: the numbers change slightly (about 1 % relative error
on encoder outputs), and CUDA has no such kernels.

"fp16" keeps every Linear weight in float16 and the arithmetic in float32
(``HalfWeightLinear``): half the bytes per decoding step, with PyTorch's
float16 matrix-vector kernels (they read float16, accumulate in float32) and no
per-call quantisation of the activations. Logits move by about 1e-4 relative, so
transcripts stay the same. It pays for the Speech-Transformer's `small` and `base`
decoding one utterance at a time; it loses when batching, and buys nothing for `tiny`
or for Whisper, whose output layer stays float32 (``docs/benchmarks.md``).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.errors import ParceroError

QUANTIZE_CHOICES = ("none", "int8", "fp16")


def quantize_model(model: nn.Module, mode: str | None, device: torch.device | str = "cpu") -> nn.Module:
    """``model`` with its ``nn.Linear`` layers in int8 ("int8") or with float16 weights ("fp16"), in place.

    Parameters
    ----------
    model : a model in eval mode (Speech-Transformer or Whisper).
    mode : "none" (or None: unchanged), "int8" or "fp16".
    device : where the model runs; int8 kernels exist for the CPU only.

    Raises
    ------
    ParceroError naming the option when the mode is unknown, the device is not the
    CPU, or this PyTorch has no dynamic quantisation.
    """
    check_quantize(mode, device)
    if mode in (None, "none"):
        return model
    for module in model.modules():  # one product for query, key and value: fewer, larger calls to speed up
        if hasattr(module, "fuse_qkv"):
            module.fuse_qkv()
    if mode == "fp16":
        return half_weights(model.eval())
    try:
        from torch.ao.quantization import quantize_dynamic
    except ImportError as e:  # announced to move to torchao; fail clearly if it has
        raise ParceroError(f"quantize {mode}: PyTorch {torch.__version__} has no torch.ao.quantization") from e
    with warnings.catch_warnings():
        # The eager-mode API warns that it is deprecated in favour of torchao, which we do not depend on.
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*deprecated.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        quantized = quantize_dynamic(model.eval(), {nn.Linear}, dtype=torch.qint8, inplace=True)
    return quantized


def check_quantize(mode: str | None, device: torch.device | str = "cpu") -> None:
    """ParceroError when ``mode`` is unknown or cannot run on ``device`` (call before loading a model)."""
    if mode in (None, "none"):
        return
    if mode not in QUANTIZE_CHOICES:
        raise ParceroError(f"quantize: expected one of {', '.join(QUANTIZE_CHOICES)}, got {mode!r}")
    if torch.device(device).type != "cpu":
        raise ParceroError(f"quantize {mode}: this option is for the CPU only, not {device}; "
                           "use --device cpu or no quantisation")


def is_quantized(model: nn.Module) -> bool:
    """Whether any layer of ``model`` holds int8 or float16 weights."""
    return any(type(m).__module__.startswith("torch.ao.nn.quantized") or isinstance(m, HalfWeightLinear)
               for m in model.modules())


class HalfWeightLinear(nn.Module):
    """A Linear layer whose weight and bias are stored in float16; it takes and returns float32.

    A few rows at a time (a decoding step: one row per utterance or beam) go through
    PyTorch's float16 matrix-vector kernels, which read half the bytes of float32 and
    accumulate in float32: a step of `small` is memory-bound, so this is where the
    time goes. Many rows (the encoder, cross-attention keys) are faster in float32
    on the CPU, so the weight is converted for that call (30 us per MB of weights,
    once per utterance there).
    """

    ROWS = 8  # up to this many rows the float16 kernel won, measured on this project's AVX-512 CPU

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight", linear.weight.detach().to(torch.float16))
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().to(torch.float16))

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() <= self.ROWS * self.in_features:
            return F.linear(x.to(torch.float16), self.weight, self.bias).to(x.dtype)
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return F.linear(x, self.weight.to(x.dtype), bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, weights=float16"


def half_weights(model: nn.Module) -> nn.Module:
    """Replace every ``nn.Linear`` of ``model`` by a ``HalfWeightLinear`` (in place); returns ``model``.

    Raises ParceroError when a weight does not fit float16 (|w| > 65504 would become infinite).
    """
    linears = [(module, f"{name}.{child_name}".lstrip("."), child_name, child)
               for name, module in model.named_modules() for child_name, child in module.named_children()
               if type(child) is nn.Linear]
    for _, full_name, _, child in linears:  # all checked first: a refusal leaves the model as it was
        if not torch.isfinite(child.weight.detach().to(torch.float16)).all():
            raise ParceroError(f"quantize fp16: layer {full_name} has weights beyond float16's range")
    for module, _, child_name, child in linears:
        setattr(module, child_name, HalfWeightLinear(child))
    return model
