"""The Data page's import wizard: pick a corpus, see its layout, import and check it, write a manifest.

Steps, top to bottom: choose a folder or table file → the layout is
detected (``engine.data.importers.detect_format``) and shown with the reason,
and can be overridden → "Import and check" reads the corpus and validates
every clip (``import_corpus`` then ``validate_utterances``) on a background
thread with a progress bar → the first rows and every problem are listed,
the problems filterable by kind → "Write manifest…" saves the kept items
with audio paths relative to the manifest.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRegularExpression, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
    QSplitter, QTableView, QVBoxLayout, QWidget,
)

from app.background import BackgroundRunner
from app.i18n import QT_TRANSLATE_NOOP
from app.widgets.table_models import SORT_ROLE, RowsModel
from engine.data.importers import FORMATS, ImportResult, detect_format, import_corpus
from engine.data.manifest import KINDS, DataProblem, Utterance, relative_audio, write_manifest
from engine.data.validate import ValidationOptions, ValidationReport, validate_utterances

FORMAT_NAMES = {
    "commonvoice": "Common Voice", "openslr": "OpenSLR", "ljspeech": "LJSpeech", "librispeech": "LibriSpeech",
    "kaldi": "Kaldi", "csv": QT_TRANSLATE_NOOP("ImportPanel", "CSV/TSV table"),
    "folder": QT_TRANSLATE_NOOP("ImportPanel", "audio files with .txt transcripts"),
}  # shown through ImportPanel.tr
PREVIEW_ROWS = 200
ERROR_STYLE = "QLabel { color: #c62828; }"
MANIFEST_FILTER = QT_TRANSLATE_NOOP("ImportPanel", "Manifests (*.jsonl);;All files (*)")
READING = QT_TRANSLATE_NOOP("ImportPanel", "reading audio headers")  # stages of import_and_check
CHECKING = QT_TRANSLATE_NOOP("ImportPanel", "checking audio")


@dataclass
class ImportOutcome:
    """An import and its validation: what a corpus gives and what is wrong with it."""

    result: ImportResult
    report: ValidationReport

    @property
    def kept(self) -> list[Utterance]:
        return self.report.kept

    def problems(self) -> list[tuple[DataProblem, bool]]:
        """Every problem with whether it removed its item; import problems always did."""
        return [(p, True) for p in self.result.problems] + list(zip(self.report.problems, self.report.excluding))


def import_and_check(src: str | Path, format: str, options: ValidationOptions, progress) -> ImportOutcome:
    """Import a corpus and validate what it gives; ``progress(stage, done, total)`` is called throughout."""
    result = import_corpus(src, format, on_progress=lambda d, t: progress(READING, d, t))
    report = validate_utterances(result.utterances, None, options, on_progress=lambda d, t: progress(CHECKING, d, t))
    return ImportOutcome(result, report)


class ImportPanel(QWidget):
    imported = Signal(object)  # ImportOutcome of the finished import
    manifest_written = Signal(str)  # path of the manifest just written
    failed = Signal(str)  # why detection or import failed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.source: Path | None = None
        self.outcome: ImportOutcome | None = None
        self.options = ValidationOptions()
        self._detector = BackgroundRunner(self)
        self._importer = BackgroundRunner(self)
        self._build()
        self._connect()
        self._update_controls()

    def _build(self) -> None:
        self.folder_button = QPushButton(self.tr("Folder…"))
        self.folder_button.setToolTip(
            self.tr("A corpus folder: Common Voice, LJSpeech, LibriSpeech, Kaldi, OpenSLR…"))
        self.file_button = QPushButton(self.tr("Table file…"))
        self.file_button.setToolTip(self.tr("A Common Voice .tsv or a .csv/.tsv with audio path and text columns"))
        self.source_label = QLabel(self.tr("Choose a corpus folder or table file to import."))
        self.format_combo = QComboBox()
        self.format_combo.addItem(self.tr("auto-detect"), "auto")
        for name in FORMATS:
            self.format_combo.addItem(self._format_name(name), name)
        self.detected_label = QLabel()
        self.detected_label.setWordWrap(True)
        self.import_button = QPushButton(self.tr("Import and check"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        self.preview_model = RowsModel(("id", self.tr("text"), self.tr("speaker"), self.tr("gender"),
                                        self.tr("duration (s)")), self)
        self.preview_view = _table(self.preview_model, stretch=1)
        self.preview_view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the corpus's own order
        self.preview_label = QLabel(self.tr("Preview"))
        self.problems_model = RowsModel((self.tr("kind"), self.tr("where"), self.tr("message"), self.tr("excluded")),
                                        self, highlight_column=3)
        self.problems_proxy = QSortFilterProxyModel(self)
        self.problems_proxy.setSourceModel(self.problems_model)
        self.problems_proxy.setSortRole(SORT_ROLE)
        self.problems_proxy.setFilterKeyColumn(0)
        self.problems_view = _table(self.problems_proxy, stretch=2)
        self.problems_view.setColumnWidth(0, 190)
        self.problems_view.setColumnWidth(1, 260)
        self.problems_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.problems_view.setColumnWidth(3, 70)
        self.kind_combo = QComboBox()
        self.kind_combo.setMinimumWidth(260)
        self.write_button = QPushButton(self.tr("Write manifest…"))
        self.write_button.setToolTip(self.tr("Save the kept items as a JSONL manifest, audio paths relative to it"))

        source_row = QHBoxLayout()
        for w in (self.folder_button, self.file_button):
            source_row.addWidget(w)
        source_row.addWidget(self.source_label, 1)
        format_row = QHBoxLayout()
        format_row.addWidget(QLabel(self.tr("Layout:")))
        format_row.addWidget(self.format_combo)
        format_row.addWidget(self.detected_label, 1)
        run_row = QHBoxLayout()
        for w in (self.import_button, self.cancel_button, self.progress):
            run_row.addWidget(w)
        run_row.addWidget(self.status_label, 1)
        run_row.addWidget(self.write_button)
        problems_box = QWidget()
        problems_layout = QVBoxLayout(problems_box)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        kind_row = QHBoxLayout()
        kind_row.addWidget(QLabel(self.tr("Problems:")))
        kind_row.addWidget(self.kind_combo)
        kind_row.addStretch(1)
        problems_layout.addLayout(kind_row)
        problems_layout.addWidget(self.problems_view)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(self.preview_label)
        preview_layout.addWidget(self.preview_view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(preview_box)
        splitter.addWidget(problems_box)
        layout = QVBoxLayout(self)
        layout.addLayout(source_row)
        layout.addLayout(format_row)
        layout.addLayout(run_row)
        layout.addWidget(splitter, 1)

    def _connect(self) -> None:
        self.folder_button.clicked.connect(self.on_folder_button_clicked)
        self.file_button.clicked.connect(self.on_file_button_clicked)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button.clicked.connect(self.cancel)
        self.write_button.clicked.connect(self.on_write_button_clicked)
        self.kind_combo.currentIndexChanged.connect(self.on_kind_combo_current_index_changed)
        self.format_combo.currentIndexChanged.connect(self.on_format_combo_current_index_changed)
        self._detector.finished.connect(self.on_detector_finished)
        self._detector.failed.connect(self.on_detector_failed)
        self._importer.progress_changed.connect(self.on_importer_progress_changed)
        self._importer.finished.connect(self.on_importer_finished)
        self._importer.failed.connect(self.on_importer_failed)

    # ---- public API -----------------------------------------------------------------

    def set_source(self, path: str | Path) -> None:
        """Choose the corpus; its layout is detected in the background."""
        self.source = Path(path)
        self.source_label.setText(str(self.source))
        self.format_combo.setCurrentIndex(0)
        self._show_detected(self.tr("Detecting the layout…"), error=False)
        source = self.source
        self._detector.start(lambda progress: detect_format(source))
        self._update_controls()

    def start_import(self) -> None:
        """Import and check the chosen corpus in the background; ``imported`` follows."""
        if self.source is None or self._importer.is_running:
            return
        source, fmt, options = self.source, self.format_combo.currentData(), self.options
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status_label.setStyleSheet("")
        self.status_label.setText(self.tr("Reading the corpus…"))
        self._importer.start(lambda progress: import_and_check(source, fmt, options, progress))
        self._update_controls()

    def cancel(self) -> None:
        if not self._importer.is_running:
            return
        self._importer.cancel()
        self.progress.hide()
        self.status_label.setText(self.tr("Import cancelled."))
        self._update_controls()

    def write_manifest_to(self, path: str | Path) -> int:
        """Write the kept items to ``path`` (atomically), audio relative to it; returns how many."""
        if self.outcome is None:
            return 0
        path = Path(path)
        folder = path.resolve().parent
        items = [dataclasses.replace(u, audio=relative_audio(u.audio, folder)) for u in self.outcome.kept]
        n = write_manifest(path, items)
        self.status_label.setText(self.tr("Wrote %Ln utterance(s) to {path}.", "", n).format(path=path))
        self.manifest_written.emit(str(path))
        return n

    def shutdown(self) -> None:
        self._detector.shutdown()
        self._importer.shutdown()

    # ---- slots ----------------------------------------------------------------------

    @Slot()
    def on_folder_button_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Corpus folder"), str(self.source or ""))
        if path:
            self.set_source(path)

    @Slot()
    def on_file_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Corpus table"), str(self.source or ""),
                                              self.tr("Tables (*.tsv *.csv *.txt);;All files (*)"))
        if path:
            self.set_source(path)

    @Slot()
    def on_write_button_clicked(self) -> None:
        default = self.source.parent / f"{self.source.stem}.jsonl" if self.source else Path()
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Write manifest"), str(default), self.tr(MANIFEST_FILTER))
        if path:
            self.write_manifest_to(path)

    @Slot(object)
    def on_detector_finished(self, found: tuple[str, str]) -> None:
        name, reason = found
        index = self.format_combo.findData(name)
        self.format_combo.setCurrentIndex(index)
        self._show_detected(self.tr("Detected: {layout} ({name}) — {reason}").format(
            layout=self._format_name(name), name=name, reason=reason), error=False)
        self._update_controls()

    @Slot(str)
    def on_detector_failed(self, message: str) -> None:
        self._show_detected(message + " " + self.tr("Choose the layout from the list."), error=True)
        self._update_controls()

    @Slot(str, int, int)
    def on_importer_progress_changed(self, stage: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status_label.setText(self.tr("{stage}: {done} of {total}…").format(
            stage=self.tr(stage).capitalize(), done=f"{done:,}", total=f"{total:,}"))

    @Slot(object)
    def on_importer_finished(self, outcome: ImportOutcome) -> None:
        self.outcome = outcome
        self.progress.hide()
        kept = outcome.kept
        self.preview_model.set_rows([(u.id, u.text, u.speaker, u.gender or "unknown", u.duration)
                                     for u in kept[:PREVIEW_ROWS]])
        self.preview_label.setText(self.tr("Preview: first {shown} of {kept} kept items").format(
            shown=f"{min(len(kept), PREVIEW_ROWS):,}", kept=f"{len(kept):,}"))
        problems = outcome.problems()
        source = str(outcome.result.source.as_posix()) + "/"
        # Paths inside the corpus are shown from its folder on ("wavs/x.wav"); the folder is shown above.
        self.problems_model.set_rows([(p.kind, p.where.removeprefix(source), p.message, excl)
                                      for p, excl in problems])
        self._fill_kind_combo(problems)
        excluded = sum(excl for _, excl in problems)
        hours = outcome.report.stats.hours
        self.status_label.setText(
            self.tr("{layout}: {kept} items kept ({minutes} min), {excluded} problems removed an item, "
                    "{warnings} warnings.").format(
                layout=self._format_name(outcome.result.format), kept=f"{len(kept):,}", minutes=f"{hours * 60:.1f}",
                excluded=f"{excluded:,}", warnings=f"{len(problems) - excluded:,}")
        )
        self._update_controls()
        self.imported.emit(outcome)

    @Slot(str)
    def on_importer_failed(self, message: str) -> None:
        self.progress.hide()
        self.status_label.setStyleSheet(ERROR_STYLE)
        self.status_label.setText(message)
        self._update_controls()
        self.failed.emit(message)

    @Slot(int)
    def on_format_combo_current_index_changed(self, _index: int) -> None:
        # A slot, not a lambda holding self: PySide then tears the panel down cleanly.
        self._update_controls()

    @Slot(int)
    def on_kind_combo_current_index_changed(self, _index: int) -> None:
        kind = self.kind_combo.currentData()
        pattern = "" if not kind else f"^{re.escape(kind)}$"
        self.problems_proxy.setFilterRegularExpression(QRegularExpression(pattern))

    # ---- helpers ----------------------------------------------------------------------

    def _fill_kind_combo(self, problems: list[tuple[DataProblem, bool]]) -> None:
        counts: dict[str, int] = {}
        for p, _ in problems:
            counts[p.kind] = counts.get(p.kind, 0) + 1
        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        self.kind_combo.addItem(self.tr("all kinds ({n})").format(n=f"{len(problems):,}"), "")
        for kind in sorted(counts, key=lambda k: list(KINDS).index(k) if k in KINDS else len(KINDS)):
            self.kind_combo.addItem(f"{kind}: {KINDS.get(kind, '')} ({counts[kind]:,})", kind)
        self.kind_combo.blockSignals(False)
        self.on_kind_combo_current_index_changed(0)

    def _format_name(self, name: str) -> str:
        return self.tr(FORMAT_NAMES[name]) if name in FORMAT_NAMES else name

    def _show_detected(self, text: str, error: bool) -> None:
        self.detected_label.setText(text)
        self.detected_label.setStyleSheet(ERROR_STYLE if error else "")

    def _update_controls(self) -> None:
        running = self._importer.is_running
        self.import_button.setEnabled(self.source is not None and not running)
        self.cancel_button.setEnabled(running)
        self.write_button.setEnabled(self.outcome is not None and bool(self.outcome.kept) and not running)


def _table(model, stretch: int) -> QTableView:
    """A read-only, sortable table whose column ``stretch`` takes the spare width."""
    view = QTableView()
    view.setModel(model)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep both the folder's start and the file name
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(False)
    header.setDefaultSectionSize(120)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view
