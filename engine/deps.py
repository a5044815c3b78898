"""Say in one line which installed library does not load, and how to fix it, instead of a traceback.

The native libraries Parcero loads (torch, torchaudio, soundfile's libsndfile, Qt, PortAudio) fail at
import time when their versions do not fit together, e.g. torchaudio 2.11.1 installed beside torch
2.11.0: ``OSError: libtorchaudio.so: undefined symbol ...``. :func:`diagnose` runs only after such a
failure (the normal start pays nothing): it imports them one by one, in dependency order, and names
the first that fails with the installed versions and the fix.
"""

from __future__ import annotations

import importlib
from importlib import metadata

# (module, distribution) in the order they depend on each other: the first failure is the cause.
NATIVE = (
    ("numpy", "numpy"),
    ("torch", "torch"),
    ("torchaudio", "torchaudio"),
    ("soundfile", "soundfile"),
    ("safetensors", "safetensors"),
    ("tokenizers", "tokenizers"),
)
GUI = (("PySide6.QtWidgets", "PySide6-Essentials"), ("pyqtgraph", "pyqtgraph"))
FIX = ("reinstall the tested versions: in a checkout `make clean && make run` (it installs constraints.txt), "
       "elsewhere `pip install -c constraints.txt parcero`")


def version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_native() -> None:
    """Import every native library a model job needs, so a broken install fails before any work is done.

    Most are imported lazily (the window and ``parcero info`` do not need torchaudio); a command that
    runs a model calls this first, and the failure it raises gets :func:`diagnose`'s one line.
    """
    for module, _ in NATIVE:
        importlib.import_module(module)


def diagnose(gui: bool = False) -> str | None:
    """One line naming the first library that does not import, its version, torch's, and the fix; else None."""
    for module, distribution in NATIVE + (GUI if gui else ()):
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - ImportError, OSError (undefined symbol), RuntimeError...
            reason = " ".join(str(error).split())
            if len(reason) > 200:
                reason = reason[:200] + "…"
            pair = ""
            if distribution == "torchaudio":
                pair = f" with torch {version('torch')} (torchaudio needs the torch release it was built for)"
            installed = version(distribution)
            what = f"{distribution} is not installed" if installed == "not installed" else \
                f"{distribution} {installed} does not load{pair}: {type(error).__name__}: {reason}"
            return f"parcero: {what}. Fix: {FIX}."
    return None
