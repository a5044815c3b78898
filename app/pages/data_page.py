"""The Data page: import a corpus, browse its utterances, see its statistics, compare its voices.

One dataset at a time is shown in all four tabs. It comes from an import
(the kept items, audio paths absolute), from the manifest that import wrote,
or from a manifest opened with "Open manifest…". Everything slow (importing,
validating, counting, measuring voices, loading clips for the comparison)
runs on background threads; the page never waits.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.i18n import QT_TRANSLATE_NOOP, translate
from app.widgets.dataset_stats_view import DatasetStatsView
from app.widgets.import_panel import MANIFEST_FILTER, ImportOutcome, ImportPanel
from app.widgets.utterance_browser import UtteranceBrowser
from app.widgets.voice_compare import VoiceCompare
from engine.data.manifest import Utterance, read_manifest

ERROR_STYLE = "QLabel { color: #c62828; }"
LAST_MANIFEST_KEY = "data/last_manifest"
MAX_NAME_WIDTH = 520  # px of the dataset's name (a path) in the line above the tabs; the tooltip has it all
TAB_NAMES = (QT_TRANSLATE_NOOP("DataPage", "Import"), QT_TRANSLATE_NOOP("DataPage", "Utterances"),
             QT_TRANSLATE_NOOP("DataPage", "Statistics"), QT_TRANSLATE_NOOP("DataPage", "Voice comparison"))


class DataPage(QWidget):
    dataset_changed = Signal(str, int)  # name of the dataset shown (manifest path or corpus), utterances
    manifest_written = Signal(str)  # path of a manifest the import wrote

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = QSettings()
        self.utterances: list[Utterance] = []
        self.base_dir: Path | None = None
        self.dataset_name = ""

        self.open_button = QPushButton(self.tr("Open manifest…"))
        self.open_button.setToolTip(self.tr("Open a JSONL manifest to browse, count and compare"))
        self.dataset_label = QLabel(self.tr("No dataset yet: import a corpus or open a manifest."))
        self.dataset_label.setWordWrap(True)
        self.import_panel = ImportPanel()
        self.browser = UtteranceBrowser()
        self.stats_view = DatasetStatsView()
        self.voice_compare = VoiceCompare()
        self.tabs = QTabWidget()
        for widget, name in zip((self.import_panel, self.browser, self.stats_view, self.voice_compare), TAB_NAMES):
            self.tabs.addTab(widget, self.tr(name))

        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.dataset_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

        self.open_button.clicked.connect(self.on_open_button_clicked)
        self.import_panel.imported.connect(self.on_import_panel_imported)
        self.import_panel.manifest_written.connect(self.on_import_panel_manifest_written)

    # ---- public API -----------------------------------------------------------------

    def set_dataset(self, utterances: Sequence[Utterance], base_dir: str | Path | None, name: str,
                    note: str = "") -> None:
        """Show ``utterances`` in every tab; relative audio paths resolve against ``base_dir``."""
        self.utterances = list(utterances)
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.dataset_name = name
        self.browser.set_utterances(self.utterances, self.base_dir)
        self.stats_view.set_utterances(self.utterances)
        self.voice_compare.set_dataset(self.utterances, self.base_dir)
        self.dataset_label.setStyleSheet("")
        count = self.tr("%Ln utterance(s)", "", len(self.utterances))
        # A long path would set the page's minimum width (the label wraps at spaces only): elide its middle.
        shown = self.dataset_label.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, MAX_NAME_WIDTH)
        self.dataset_label.setText(f"<b>{html.escape(shown)}</b> · {count}{note}")
        self.dataset_label.setToolTip(name)
        self.dataset_changed.emit(name, len(self.utterances))

    def open_manifest(self, path: str | Path) -> bool:
        """Read a manifest and show it; bad lines are counted, an unreadable file is reported."""
        path = Path(path)
        try:
            read = read_manifest(path)
        except OSError as error:
            self.dataset_label.setStyleSheet(ERROR_STYLE)
            self.dataset_label.setText(self.tr("{path}: cannot read the manifest: {error}").format(
                path=path, error=error.strerror or error))
            return False
        bad = len(read.problems)
        note = " · " + self.tr("%Ln unreadable line(s) skipped", "", bad) if bad else ""
        self.settings.setValue(LAST_MANIFEST_KEY, str(path))
        self.set_dataset(read.utterances, path.resolve().parent, str(path), note)
        return True

    def import_corpus(self, path: str | Path) -> None:
        """Show the Import tab with ``path`` chosen (its layout detected); the user starts the import."""
        self.tabs.setCurrentWidget(self.import_panel)
        self.import_panel.set_source(path)

    def toggle_playback(self) -> None:
        """Play or stop the utterance shown in the Utterances tab (the main window's Space)."""
        self.browser.toggle_playback()

    def shutdown(self) -> None:
        """Stop playback and background work; call before the page goes away."""
        self.import_panel.shutdown()
        self.browser.shutdown()
        self.stats_view.shutdown()
        self.voice_compare.shutdown()

    # ---- slots -------------------------------------------------------------------------

    @Slot()
    def on_open_button_clicked(self) -> None:
        start = str(self.settings.value(LAST_MANIFEST_KEY, "") or "")
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open manifest"), start,
                                              translate("ImportPanel", MANIFEST_FILTER))
        if path and self.open_manifest(path):
            self.tabs.setCurrentWidget(self.browser)

    @Slot(object)
    def on_import_panel_imported(self, outcome: ImportOutcome) -> None:
        self.set_dataset(outcome.kept, None,
                         self.tr("{source} (imported, not yet saved)").format(source=outcome.result.source))

    @Slot(str)
    def on_import_panel_manifest_written(self, path: str) -> None:
        self.open_manifest(path)
        self.manifest_written.emit(path)
