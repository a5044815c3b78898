"""Choose the compute device and describe it in words for people.

``pick_device`` turns what a user typed (``--device cuda``, a setting in the
GUI) into a ``torch.device``, failing with a message that says what to do
instead of the bare ``AssertionError`` torch gives when CUDA is missing.
``describe_device`` is the one line ``parcero --version`` shows, so a user can
tell at a glance whether their GPU is in use; ``device_facts`` is the same as
data, which the window puts in words in its own language.
"""

from __future__ import annotations

import torch

from engine.errors import ParceroError

_KNOWN_TYPES = ("cpu", "cuda", "mps")


def pick_device(requested: str | None = None) -> torch.device:
    """Return the device to run on.

    Parameters
    ----------
    requested : str or None
        ``None`` or ``"auto"``: the first CUDA GPU when there is one, else the
        CPU. ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``: that device,
        which must exist.

    Raises
    ------
    ParceroError
        When the device is unknown or not available on this machine.
    """
    if requested is None or requested.strip().lower() in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    text = requested.strip().lower()
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in _KNOWN_TYPES:
        raise ParceroError(
            f"unknown device {requested!r}: use auto, cpu, cuda or cuda:N",
            code="device.unknown", params={"device": requested},
        )

    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ParceroError(_no_cuda_message(requested), code="device.no_cuda", params={"device": requested})
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ParceroError(
                f"device {requested!r} does not exist: this machine has "
                f"{count} CUDA GPU{'s' if count != 1 else ''} (cuda:0 to cuda:{count - 1})",
                code="device.no_such_gpu", params={"device": requested, "count": count},
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ParceroError(f"device {requested!r} is not available on this machine; use cpu",
                           code="device.unavailable", params={"device": requested})
    return device


def device_facts(device: str | torch.device | None = None) -> dict[str, object]:
    """The device as plain facts, for a window to put in words in its own language.

    Parameters
    ----------
    device : str, torch.device or None
        Anything ``pick_device`` accepts; ``None`` is the device ``"auto"`` would pick.

    Returns
    -------
    dict
        ``kind`` ("cpu", "cuda" or "mps"), ``threads`` (torch's CPU threads), and for a CUDA GPU
        ``gpu_name`` and ``memory_gb`` (whole GiB, which is how vendors label cards), else None.
    """
    picked = device if isinstance(device, torch.device) else pick_device(device)
    facts: dict[str, object] = {"kind": picked.type if picked.type in _KNOWN_TYPES else "cpu",
                                "threads": torch.get_num_threads(), "gpu_name": None, "memory_gb": None}
    if picked.type == "cuda":
        index = picked.index if picked.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        facts.update(gpu_name=props.name, memory_gb=round(props.total_memory / 2**30))
    return facts


def describe_device(device: str | torch.device | None = None) -> str:
    """Describe a device in one English line, e.g. ``"CUDA: NVIDIA H100 80GB HBM3, 80 GB"``.

    Parameters
    ----------
    device : str, torch.device or None
        Anything ``pick_device`` accepts; ``None`` describes the device that
        ``"auto"`` would pick.

    Returns
    -------
    str
        ``"CUDA: <name>, <memory> GB"`` for a GPU, ``"Apple GPU (MPS)"``,
        ``"CPU (N threads)"`` for the CPU with the number of threads torch
        uses for its kernels. (The window words :func:`device_facts` itself,
        in its language: ``app.engine_messages.device_text``.)
    """
    facts = device_facts(device)
    if facts["kind"] == "cuda":
        return f"CUDA: {facts['gpu_name']}, {facts['memory_gb']} GB"
    if facts["kind"] == "mps":
        return "Apple GPU (MPS)"
    threads = facts["threads"]
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"


def _no_cuda_message(requested: str) -> str:
    # Tell apart the two common causes: a CPU-only torch wheel, and a CUDA
    # wheel on a machine whose driver or GPU torch cannot see.
    if torch.version.cuda is None:
        why = f"this PyTorch ({torch.__version__}) was built without CUDA"
    else:
        why = (
            f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}) finds no usable "
            "GPU; check that the NVIDIA driver is installed (nvidia-smi)"
        )
    return f"device {requested!r} was requested but {why}; use --device cpu"
