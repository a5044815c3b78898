"""int8 dynamic quantisation of a model's Linear layers, for inference on the CPU.

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
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from engine.errors import ParceroError

QUANTIZE_CHOICES = ("none", "int8")


def quantize_model(model: nn.Module, mode: str | None, device: torch.device | str = "cpu") -> nn.Module:
    """``model`` with its ``nn.Linear`` layers in int8 when ``mode`` is "int8" (in place); unchanged for "none".

    Parameters
    ----------
    model : a model in eval mode (Speech-Transformer or Whisper).
    mode : "none" (or None) or "int8".
    device : where the model runs; int8 kernels exist for the CPU only.

    Raises
    ------
    ParceroError naming the option when the mode is unknown, the device is not the
    CPU, or this PyTorch has no dynamic quantisation.
    """
    check_quantize(mode, device)
    if mode in (None, "none"):
        return model
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
        raise ParceroError(f"quantize {mode}: int8 kernels run on the CPU only, not on {device}; "
                           "use --device cpu or no quantisation")


def is_quantized(model: nn.Module) -> bool:
    """Whether any layer of ``model`` holds int8 weights."""
    return any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules())
