"""What every benchmark result records about where it ran: CPU, cores, threads, device, load.

Timings on a shared machine mean little without the load next to them, so
:func:`machine_info` takes ``os.getloadavg()`` when called; benchmarks call it
at the start and :func:`load_average` again at the end.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys


def cpu_model() -> str:
    """The CPU's marketing name ("AMD EPYC 9454P ..."), or the architecture when unknown."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The instruction sets that change which of our modes are fast: a virtual machine's CPU is often
# named only "Intel(R) Xeon(R) Processor", and bfloat16 runs in hardware only with AMX or AVX-512 BF16.
SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """Which of :data:`SPEED_FLAGS` the CPU has (Linux /proc/cpuinfo; [] where unknown)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [flag for flag in SPEED_FLAGS if flag in have]
    except OSError:
        pass
    return []


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (runnable processes), or [] where the system has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return []


def machine_info(device: str = "cpu") -> dict:
    """CPU model, cores, torch threads, the device in words, versions and the load right now."""
    import torch

    from engine.device import describe_device

    info = {
        "cpu": cpu_model(), "cpu_flags": cpu_flags(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "device": describe_device(device), "torch": torch.__version__, "python": sys.version.split()[0],
        "load_average_start": load_average(),
    }
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def median(xs) -> float:
    return float(statistics.median(xs))
