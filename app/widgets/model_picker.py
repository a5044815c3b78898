"""Pick the model to transcribe with: bundled models, models in the user's folder, recent folders.

A model is a folder with model.safetensors, config.json and vocab.json (our
Speech-Transformer) or tokenizer.json (an imported Whisper); see
engine.models.io. The picker only lists folders that look like one.

Every picker follows one :class:`ModelCatalogue`, which watches the model
folders: a model imported while the window is open (``parcero models import``
in a terminal, or from the window) appears in every list at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QSettings, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

from app.i18n import QT_TRANSLATE_NOOP
from engine.models.catalog import is_model_dir  # noqa: F401 - the one definition; pages import it from here

RECENT_KEY = "models/recent"
MAX_RECENT = 8
BROWSE = QT_TRANSLATE_NOOP("ModelPicker", "Browse for a model folder…")
RESCAN_DELAY_MS = 250  # a burst of file events (an import renaming its folder into place) gives one rescan


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


def has_language_choice(path: str | Path) -> bool:
    """Whether the model in ``path`` takes a language and a task (transcribe or translate): Whisper does."""
    try:
        config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
        return config.get("architecture") == "whisper"
    except (OSError, ValueError, AttributeError):
        return False


def discover_models(*folders: Path) -> list[Path]:
    found = []
    for folder in folders:
        if folder.is_dir():
            # A hidden folder is an import still being written (engine.models.imports renames it into place).
            found += sorted(p for p in folder.iterdir()
                            if p.is_dir() and not p.name.startswith(".") and is_model_dir(p))
    return found


def model_folders() -> tuple[Path, Path]:
    """Where models are found: the bundled ones and the user's (which follows Preferences' data folder)."""
    from engine.paths import bundled_models_dir, user_models_dir

    return bundled_models_dir(), user_models_dir()


class ModelCatalogue(QObject):
    """The models in the model folders; says ``changed`` when one appears or goes, whoever put it there.

    A QFileSystemWatcher follows the folders (and, while the user's models folder
    does not exist yet, the nearest folder above it, so its creation is seen too);
    :meth:`rescan` looks again at once (the main window calls it when it is activated).
    """

    changed = Signal()  # the list of models in the folders changed

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self.on_watcher_directory_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RESCAN_DELAY_MS)
        self._timer.timeout.connect(self.rescan)
        self.models: list[Path] = []
        self.rescan()

    def rescan(self) -> None:
        """Look at the folders now; ``changed`` when the models differ from the last look."""
        folders = model_folders()
        self._watch(folders)
        models = discover_models(*folders)
        if models != self.models:
            self.models = models
            self.changed.emit()

    def _watch(self, folders) -> None:
        wanted = set()
        for folder in folders:
            while not folder.is_dir() and folder.parent != folder:  # watch where it will be created
                folder = folder.parent
            wanted.add(str(folder))
        watched = set(self.watcher.directories())
        if watched - wanted:
            self.watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self.watcher.addPaths(sorted(wanted - watched))

    @Slot(str)
    def on_watcher_directory_changed(self, _path: str) -> None:
        self._timer.start()


_catalogue: ModelCatalogue | None = None


def model_catalogue() -> ModelCatalogue:
    """The application's one catalogue, made on first use."""
    global _catalogue
    if _catalogue is None:
        _catalogue = ModelCatalogue()
    return _catalogue


class ModelPicker(QComboBox):
    model_changed = Signal(str)  # path of the chosen model folder ("" when none)

    def __init__(self, parent: QWidget | None = None, search_dirs: tuple[Path, ...] | None = None):
        super().__init__(parent)
        self.setMinimumContentsLength(18)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setToolTip(self.tr("Model used to transcribe (a folder with model.safetensors, config.json, vocab.json)"))
        self.search_dirs = search_dirs  # None: model_folders(), looked up at each refresh
        self._settings = QSettings()
        self._chosen = ""  # the model chosen last; the Browse item never counts as a choice
        self.activated.connect(self.on_self_activated)
        self.currentIndexChanged.connect(self.on_self_current_index_changed)
        catalogue = model_catalogue()
        catalogue.rescan()  # the data folder may have moved since it last looked
        catalogue.changed.connect(self.on_catalogue_changed)
        self.refresh()

    def recent(self) -> list[str]:
        value = self._settings.value(RECENT_KEY, [], type=list)
        return [str(v) for v in value if v]

    def refresh(self, select: str | None = None) -> None:
        """List the models again, keeping the choice (or choosing ``select``).

        A chosen folder that is no longer a model stays chosen, so that the next
        run says what is wrong with it instead of quietly using another model.
        """
        before = self._chosen
        current = select if select is not None else before
        self.blockSignals(True)
        self.clear()
        seen = set()
        folders = self.search_dirs if self.search_dirs is not None else model_folders()
        for p in discover_models(*folders) + [Path(r) for r in self.recent()]:
            key = str(p.resolve()) if p.exists() else str(p)
            if key in seen or not is_model_dir(p):
                continue
            seen.add(key)
            self.addItem(p.name, str(p))
            self.setItemData(self.count() - 1, str(p), role=3)  # tooltip: Qt.ToolTipRole
        self.addItem(self.tr(BROWSE), "")
        index = self.findData(current) if current else -1
        if current and index < 0:  # not (or no longer) a model folder: still chosen, loading will say why
            self.insertItem(0, Path(current).name, current)
            index = 0
        self.setCurrentIndex(index if index >= 0 else (0 if self.count() > 1 else -1))
        self.blockSignals(False)
        self._chosen = self.current_path()
        if select is None and self._chosen != before:
            self.model_changed.emit(self._chosen)

    def current_path(self) -> str:
        data = self.currentData()
        return str(data) if data else ""

    def set_model_path(self, path: str | Path) -> None:
        path = str(Path(path))
        recent = [path] + [r for r in self.recent() if r != path]
        self._settings.setValue(RECENT_KEY, recent[:MAX_RECENT])
        self.refresh(select=path)
        self.model_changed.emit(self.current_path())

    @Slot(int)
    def on_self_current_index_changed(self, _index: int) -> None:
        if self.current_path():
            self._chosen = self.current_path()

    @Slot()
    def on_catalogue_changed(self) -> None:
        self.refresh()

    @Slot(int)
    def on_self_activated(self, index: int) -> None:
        if self.itemText(index) == self.tr(BROWSE):
            start = model_folders()[1]  # the user's models folder, where imports go
            while not start.is_dir() and start.parent != start:
                start = start.parent
            folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a model folder"), str(start))
            if folder:
                self.set_model_path(folder)
            else:
                self.refresh()  # back to the model chosen before
            return
        self.model_changed.emit(self.current_path())
