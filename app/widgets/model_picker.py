"""Pick the model to transcribe with: bundled models, models in the user's folder, recent folders.

A model is a folder with model.safetensors, config.json and vocab.json (our
Speech-Transformer) or tokenizer.json (an imported Whisper); see
engine.models.io. The picker only lists folders that look like one.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

from app.i18n import QT_TRANSLATE_NOOP

RECENT_KEY = "models/recent"
MAX_RECENT = 8
BROWSE = QT_TRANSLATE_NOOP("ModelPicker", "Browse for a model folder…")


def is_model_dir(path: Path) -> bool:
    """A Parcero model folder: weights, config, and a vocabulary (ours) or tokenizer (Whisper)."""
    has_vocab = (path / "vocab.json").is_file() or (path / "tokenizer.json").is_file()
    return has_vocab and all((path / n).is_file() for n in ("model.safetensors", "config.json"))


def alignment_heads(path: str | Path) -> list[tuple[int, int]]:
    """A Whisper folder's alignment heads ((layer, head) pairs) from its config.json; [] for other models.

    Read here rather than asked of the engine: the heatmap can offer the choice
    as soon as the model is picked, before it is loaded.
    """
    try:
        config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
        heads = (config.get("whisper") or {}).get("alignment_heads") or []
        return [(int(layer), int(head)) for layer, head in heads]
    except (OSError, ValueError, TypeError, AttributeError):
        return []  # not a Whisper folder, or one the engine will report on when it loads it


def discover_models(*folders: Path) -> list[Path]:
    found = []
    for folder in folders:
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.is_dir() and is_model_dir(p))
    return found


class ModelPicker(QComboBox):
    model_changed = Signal(str)  # path of the chosen model folder ("" when none)

    def __init__(self, parent: QWidget | None = None, search_dirs: tuple[Path, ...] | None = None):
        super().__init__(parent)
        self.setMinimumContentsLength(24)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setToolTip(self.tr("Model used to transcribe (a folder with model.safetensors, config.json, vocab.json)"))
        from engine.models.cli import bundled_models_dir, user_models_dir

        self.search_dirs = search_dirs if search_dirs is not None else (bundled_models_dir(), user_models_dir())
        self._settings = QSettings()
        self.activated.connect(self.on_self_activated)
        self.refresh()

    def recent(self) -> list[str]:
        value = self._settings.value(RECENT_KEY, [], type=list)
        return [str(v) for v in value if v]

    def refresh(self, select: str | None = None) -> None:
        current = select if select is not None else self.current_path()
        self.blockSignals(True)
        self.clear()
        seen = set()
        for p in discover_models(*self.search_dirs) + [Path(r) for r in self.recent()]:
            key = str(p.resolve()) if p.exists() else str(p)
            if key in seen or not is_model_dir(p):
                continue
            seen.add(key)
            self.addItem(p.name, str(p))
            self.setItemData(self.count() - 1, str(p), role=3)  # tooltip: Qt.ToolTipRole
        self.addItem(self.tr(BROWSE), "")
        index = self.findData(current) if current else -1
        self.setCurrentIndex(index if index >= 0 else (0 if self.count() > 1 else -1))
        self.blockSignals(False)

    def current_path(self) -> str:
        data = self.currentData()
        return str(data) if data else ""

    def set_model_path(self, path: str | Path) -> None:
        path = str(Path(path))
        recent = [path] + [r for r in self.recent() if r != path]
        self._settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        self.refresh(select=path)
        if self.findData(path) < 0:  # not a model folder: still selectable, loading will say why
            self.insertItem(0, Path(path).name, path)
            self.setCurrentIndex(0)
        self.model_changed.emit(self.current_path())

    @Slot(int)
    def on_self_activated(self, index: int) -> None:
        if self.itemText(index) == self.tr(BROWSE):
            folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a model folder"))
            if folder:
                self.set_model_path(folder)
            else:
                self.refresh()
            return
        self.model_changed.emit(self.current_path())
