"""Where the files Parcero ships live: bundled models, sample recordings, icons, recipes, translations.

The repository keeps them in the top-level ``resources/`` folder. Each way of
running Parcero puts that folder beside the ``engine`` package, under one of
two names:

- a source checkout or an editable install: ``resources/``;
- an installed wheel: the package ``parcero_resources/`` (pyproject.toml maps
  ``resources/`` to it; a top-level ``resources`` package would clash with
  other distributions in ``site-packages``);
- a PyInstaller one-folder build: ``parcero_resources/`` again (see
  ``packaging/pyinstaller/parcero.spec``).

``PARCERO_RESOURCES_DIR`` overrides all of them: tests point it at a
temporary folder, and a distribution package may keep the files elsewhere
(``/usr/share/parcero``). Nothing here imports torch or Qt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV = "PARCERO_RESOURCES_DIR"
# parcero_resources first: in site-packages, a "resources" folder beside engine/ may belong to someone else.
_FOLDER_NAMES = ("parcero_resources", "resources")
DEMO_MODEL = "demo-es"
SAMPLES_MANIFEST = "samples.jsonl"
APP_ID = "io.github.parcero.Parcero"  # desktop file, AppStream id and icon name


def resources_dir() -> Path:
    """The folder holding ``models/``, ``samples/``, ``icons/``, ``recipes/`` and ``translations/``.

    Always returns a path; it may not exist (a stripped install), and callers
    treat a missing subfolder as "nothing bundled".
    """
    env = os.environ.get(ENV, "").strip()
    if env:
        return Path(env).expanduser()
    root = Path(__file__).resolve().parent.parent
    for name in _FOLDER_NAMES:
        if (root / name).is_dir():
            return root / name
    return root / _FOLDER_NAMES[-1]


def bundled_models_dir() -> Path:
    return resources_dir() / "models"


def samples_dir() -> Path:
    return resources_dir() / "samples"


def icons_dir() -> Path:
    return resources_dir() / "icons"


def translations_dir() -> Path:
    return resources_dir() / "translations"


def demo_model_dir() -> Path | None:
    """The bundled demo model folder, or None while it is not there (or not a complete model folder)."""
    folder = bundled_models_dir() / DEMO_MODEL
    return folder if all((folder / n).is_file() for n in ("model.safetensors", "config.json")) else None


@dataclass(frozen=True)
class Sample:
    """One bundled recording and what is said in it."""

    path: Path
    text: str = ""
    speaker: str = ""
    gender: str = ""


def bundled_samples(real: bool = False) -> list[Sample]:
    """The sample recordings in manifest order; without a readable manifest, every audio file by name.

    ``real=False``: the synthetic voices held out from the demo model's training (``samples/``);
    ``real=True``: recordings of real people (``samples/real/``, Common Voice, CC0), for a model
    that knows real voices (Whisper). Lines of the manifest that cannot be read and files that are
    missing are left out (a broken sample must not keep the window from opening).
    """
    folder = samples_dir() / "real" if real else samples_dir()
    manifest = folder / SAMPLES_MANIFEST
    if manifest.is_file():
        from engine.data.manifest import read_manifest

        try:
            utterances = read_manifest(manifest).utterances
        except OSError:
            utterances = []
        samples = [Sample(u.audio_path(folder), u.text, u.speaker, u.gender) for u in utterances]
        samples = [s for s in samples if s.path.is_file()]
        if samples:
            return samples
    if not folder.is_dir():
        return []
    audio = (".wav", ".flac", ".ogg", ".mp3")
    return [Sample(p) for p in sorted(folder.iterdir()) if p.suffix.lower() in audio and p.is_file()]


def icon_files() -> list[Path]:
    """The application icon: the scalable SVG first, then every PNG size, from ``icons/hicolor``."""
    hicolor = icons_dir() / "hicolor"
    svg = sorted(hicolor.glob(f"scalable/apps/{APP_ID}.svg"))
    pngs = sorted(hicolor.glob(f"*/apps/{APP_ID}.png"), key=lambda p: int(p.parts[-3].split("x")[0]))
    return svg + pngs
