"""The Evaluate page: a model, a manifest with reference transcripts, and where the errors are.

The page asks the window's :class:`app.model_session.ModelSession` to run
Evaluate with the chosen model (it sends LoadModel when the engine holds
another) and shows the report the engine sends back, labelled with the model
that produced it: WER and CER overall, per speaker and per gender, with
the gap between women and men and its bootstrap interval; every utterance
sorted worst first, with a coloured alignment of reference and hypothesis for
the selected one; and the accent confusions (á→a, n→ñ, ü→u ...) that tell a
model which lost its diacritics from one that mishears. The report exports as CSV (one line an utterance) and JSON.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
    QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget,
)

from app.transcript_diff import align, alignment_html, legend_html
from app.engine_messages import error_text
from app.eval_report import (
    ScoredRow, accent_confusions, gap_text, model_text_config, score_rows, summary_text, write_csv, write_json,
)
from app.i18n import QT_TRANSLATE_NOOP
from app.model_session import ModelChoice, ModelSession
from app.widgets.model_picker import ModelPicker
from engine.transcript import DecodeOptions
from engine.errors import ParceroError
from engine.protocol import Evaluate

log = logging.getLogger(__name__)

ERROR_STYLE = "QLabel { color: #c62828; font-weight: 600; }"
SUMMARY_STYLE = "QLabel { font-size: 15px; font-weight: 600; }"
MANIFEST_FILTER = QT_TRANSLATE_NOOP("EvaluatePage", "Manifests (*.jsonl);;All files (*)")
# Column headers, English; shown through EvaluatePage.tr.
GROUP_COLUMNS = ("", QT_TRANSLATE_NOOP("EvaluatePage", "utterances"), "WER %", "CER %",
                 QT_TRANSLATE_NOOP("EvaluatePage", "words"))
ROW_COLUMNS = ("id", QT_TRANSLATE_NOOP("EvaluatePage", "speaker"), QT_TRANSLATE_NOOP("EvaluatePage", "gender"),
               "WER %", "CER %", QT_TRANSLATE_NOOP("EvaluatePage", "reference"),
               QT_TRANSLATE_NOOP("EvaluatePage", "hypothesis"))
PROGRESS_UNITS = {"utterances": QT_TRANSLATE_NOOP("EvaluatePage", "utterances"),  # the engine's Progress.unit
                  "seconds": QT_TRANSLATE_NOOP("EvaluatePage", "seconds")}
ROW_INDEX = Qt.ItemDataRole.UserRole  # index into self.rows, kept on column 0 so sorting by any column works
# Widest a text column starts (px): Common Voice's 128-character speaker ids and long ids would
# otherwise push WER and CER off a 1366 px screen. Cut text is elided; its cell's tooltip holds it all.
MAX_TEXT_COLUMN = {"id": 170, "speaker": 140, "reference": 320}
MAX_GROUP_COLUMN = 110  # the speaker (or gender) column of the narrow tables on the right


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    # Columns fit their contents once per report (_fit_columns), then the user may resize them.
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setWordWrap(False)
    return table


def _fit_columns(table: QTableWidget, caps: dict[int, int]) -> None:
    """Size columns to their contents, column ``i`` at most ``caps[i]`` px wide."""
    table.resizeColumnsToContents()
    last = table.columnCount() - 1
    for column, cap in caps.items():
        if column != last and table.columnWidth(column) > cap:
            table.setColumnWidth(column, cap)


class _NumberItem(QTableWidgetItem):
    """A number shown with fixed decimals ("50.00", not "50") that still sorts as a number."""

    def __init__(self, value: float, decimals: int, key: tuple | None = None):
        super().__init__(f"{value:,.{decimals}f}")
        self.key = key if key is not None else (value,)  # ties broken by the rest of the tuple
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        theirs = getattr(other, "key", None)
        return self.key < theirs if theirs is not None else super().__lt__(other)


def _item(value, decimals: int = 0) -> QTableWidgetItem:
    """A cell: numbers right-aligned with ``decimals`` places, sorting numerically; anything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _NumberItem(float(value), decimals)
    item = QTableWidgetItem(str(value))
    item.setToolTip(str(value))  # the whole text where the column elides it
    return item


class EvaluatePage(QWidget):
    evaluation_finished = Signal(dict)  # the engine's report (EvalReport.to_dict())
    evaluation_failed = Signal(str)  # message shown to the user

    def __init__(self, engine, parent: QWidget | None = None, session: ModelSession | None = None):
        super().__init__(parent)
        self.engine = engine
        # Which model the engine holds: the window's one session, shared with the Transcribe page.
        self.session = session if session is not None else ModelSession(engine, self)
        self.report: dict | None = None
        self.rows: list[ScoredRow] = []
        self._load_job = self._job = None
        self._context: dict = {}
        self._build()
        self._connect()
        self._update_controls()

    # ---- building -------------------------------------------------------------------

    def _build(self) -> None:
        self.model_picker = ModelPicker()
        self.manifest_edit = QLineEdit()
        self.manifest_edit.setPlaceholderText(self.tr("test.jsonl: a manifest with reference transcripts"))
        self.manifest_button = QPushButton(self.tr("Browse…"))
        self.beam_spin = QSpinBox()
        self.beam_spin.setRange(1, 16)
        self.beam_spin.setPrefix(self.tr("beam "))
        self.beam_spin.setToolTip(self.tr("Beam size: 1 = greedy (fastest)"))
        self.evaluate_button = QPushButton(self.tr("Evaluate"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.summary_label = QLabel(self.tr("Choose a model and a manifest, then Evaluate."))
        self.summary_label.setStyleSheet(SUMMARY_STYLE)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setWordWrap(True)  # a long model name must not widen the window

        self.rows_table = _table([self.tr(c) for c in ROW_COLUMNS])
        self.rows_table.setSortingEnabled(True)
        self.alignment_browser = QTextBrowser()
        self.alignment_browser.setPlaceholderText(self.tr("Select an utterance to see its alignment"))
        group_columns = [self.tr(c) for c in GROUP_COLUMNS[1:]]
        self.speaker_table = _table([self.tr("speaker"), *group_columns])
        self.gender_table = _table([self.tr("gender"), *group_columns])
        self.gap_label = QLabel()
        self.gap_label.setTextFormat(Qt.TextFormat.PlainText)
        self.gap_label.setWordWrap(True)
        self.gap_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.gap_label.setToolTip(self.tr(
            "Women's error rate minus men's, in percentage points, over all their utterances. The interval "
            "comes from resampling each gender's utterances with replacement: if it includes zero, these clips "
            "cannot tell the two apart."))
        self.confusion_table = _table([self.tr("reference"), self.tr("hypothesis"), self.tr("count")])
        self.confusion_table.setToolTip(self.tr("Character substitutions that differ only in a diacritic"))
        self.export_csv_button = QPushButton(self.tr("Export CSV…"))
        self.export_json_button = QPushButton(self.tr("Export JSON…"))

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Model:")))
        top.addWidget(self.model_picker)
        top.addWidget(QLabel(self.tr("Manifest:")))
        top.addWidget(self.manifest_edit, 1)
        for w in (self.manifest_button, self.beam_spin, self.evaluate_button, self.cancel_button, self.progress):
            top.addWidget(w)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(_boxed(self.tr("Utterances, worst first"), self.rows_table))
        left.addWidget(_boxed(self.tr("Alignment of the selected utterance"), self.alignment_browser))
        left.setSizes([420, 220])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(_boxed(self.tr("By speaker"), self.speaker_table))
        right.addWidget(_boxed(self.tr("By gender"), self.gender_table, self.gap_label))
        right.addWidget(_boxed(self.tr("Accent confusions"), self.confusion_table))
        exports = QWidget()
        exports_layout = QHBoxLayout(exports)
        exports_layout.addWidget(self.export_csv_button)
        exports_layout.addWidget(self.export_json_button)
        right.addWidget(exports)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([820, 460])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.manifest_button.clicked.connect(self.choose_manifest)
        self.manifest_edit.textChanged.connect(self.on_manifest_edit_text_changed)
        self.model_picker.model_changed.connect(self.on_model_picker_model_changed)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button.clicked.connect(self.cancel)
        self.rows_table.itemSelectionChanged.connect(self.on_rows_table_item_selection_changed)
        self.export_csv_button.clicked.connect(lambda: self.choose_export_file("csv"))
        self.export_json_button.clicked.connect(lambda: self.choose_export_file("json"))
        e = self.engine
        e.eval_result.connect(self.on_engine_eval_result)
        e.progress_changed.connect(self.on_engine_progress_changed)
        e.job_finished.connect(self.on_engine_job_finished)
        e.job_failed.connect(self.on_engine_job_failed)
        e.job_cancelled.connect(self.on_engine_job_cancelled)
        e.state_changed.connect(self.on_engine_state_changed)
        e.worker_exited.connect(self.on_engine_worker_exited)

    # ---- commands -------------------------------------------------------------------

    def set_model_path(self, path: str | Path) -> None:
        self.model_picker.set_model_path(path)

    def set_manifest(self, path: str | Path) -> None:
        self.manifest_edit.setText(str(path))

    def choose_manifest(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Manifest to evaluate on"), self.manifest_edit.text(),
                                              self.tr(MANIFEST_FILTER))
        if path:
            self.set_manifest(path)

    def evaluate(self) -> bool:
        """Send LoadModel (if the model changed) and Evaluate; the report arrives as ``evaluation_finished``."""
        model, manifest = self.model_picker.current_path(), self.manifest_edit.text().strip()
        if not model or not manifest or self._busy():
            return False
        if not Path(manifest).is_file():
            self.error_label.setText(self.tr("{path}: no such manifest").format(path=manifest))
            return False
        self.error_label.clear()
        self._context = {"model": model, "manifest": manifest, "beam_size": self.beam_spin.value()}
        try:  # evaluation scores the model as saved: full precision, wherever the engine picks
            self._load_job, self._job = self.session.submit(
                ModelChoice(model), Evaluate, manifest=manifest,
                options=DecodeOptions(beam_size=self.beam_spin.value()))
        except ParceroError as e:  # the engine is not running (crashed, or still starting)
            self._end_jobs()
            self.error_label.setText(error_text(e))
            return False
        self.progress.setRange(0, 0)
        self.progress.show()
        self._update_controls()
        return True

    def cancel(self) -> None:
        for job in (self._load_job, self._job):
            if job is not None:
                self.engine.cancel(job)

    def show_report(self, report: dict, model_dir: str | Path | None = None) -> None:
        """Fill every table from an EvalReport dict (scored with the model's own text normalisation)."""
        self.report = report
        self.rows = score_rows(report.get("rows") or [], model_text_config(model_dir))
        self.summary_label.setText(summary_text(report))
        for table, groups in ((self.speaker_table, report.get("by_speaker") or {}),
                              (self.gender_table, report.get("by_gender") or {})):
            table.setRowCount(0)
            for name, rates in groups.items():
                words = rates.get("words") or {}
                n_words = words.get("substitutions", 0) + words.get("deletions", 0) + words.get("hits", 0)
                self._append(table, [_item(name), _item(rates.get("utterances", 0)), _item(100 * rates["wer"], 2),
                                     _item(100 * rates["cer"], 2), _item(n_words)])
            _fit_columns(table, {0: MAX_GROUP_COLUMN})
        self.gap_label.setText(gap_text(report))
        self.confusion_table.setRowCount(0)
        for ref, hyp, count in accent_confusions((report.get("overall") or {}).get("confusions") or {}):
            self._append(self.confusion_table, [ref, hyp, _item(count)])
        _fit_columns(self.confusion_table, {})
        self.rows_table.setSortingEnabled(False)  # filling a sorting table reorders rows under our feet
        self.rows_table.setRowCount(0)
        for i, r in enumerate(self.rows):
            first = _item(r.id)
            first.setData(ROW_INDEX, i)
            # Equal WERs sort by CER, then in the scored order (worst first, then by id), both ways round.
            wer = _NumberItem(100 * r.wer, 2, (r.wer, r.cer, -i))
            cer = _NumberItem(100 * r.cer, 2, (r.cer, r.wer, -i))
            self._append(self.rows_table, [first, _item(r.speaker), r.gender, wer, cer, _item(r.reference),
                                           _item(r.hypothesis)])
        self.rows_table.setSortingEnabled(True)
        _fit_columns(self.rows_table, {ROW_COLUMNS.index(name): cap for name, cap in MAX_TEXT_COLUMN.items()})
        self.rows_table.sortItems(ROW_COLUMNS.index("WER %"), Qt.SortOrder.DescendingOrder)
        if self.rows:
            self.rows_table.selectRow(0)
        self._update_controls()

    def export_csv(self, path: str | Path) -> bool:
        return self._export(write_csv, path, self.rows)

    def export_json(self, path: str | Path) -> bool:
        return self._export(write_json, path, self.report, self.rows, **self._context)

    def choose_export_file(self, kind: str) -> None:
        if self.report is None:
            return
        stem = Path(self._context.get("manifest", "informe")).with_suffix(f".eval.{kind}")
        caption = self.tr("Export the report as CSV") if kind == "csv" else self.tr("Export the report as JSON")
        path, _ = QFileDialog.getSaveFileName(self, caption, str(stem), f"{kind.upper()} (*.{kind})")
        if path:
            (self.export_csv if kind == "csv" else self.export_json)(path)

    def _export(self, write, path, *args, **kwargs) -> bool:
        try:
            write(path, *args, **kwargs)
        except OSError as e:
            self.error_label.setText(self.tr("{path}: could not export: {error}").format(path=path,
                                                                                     error=e.strerror or e))
            return False
        return True

    def show_alignment(self, row: ScoredRow) -> None:
        words, chars = align(row.reference, row.hypothesis, "word"), align(row.reference, row.hypothesis, "char")
        wer = self.tr("WER {rate} % ({errors}/{n} words)").format(rate=f"{100 * row.wer:.1f}",
                                                                  errors=row.word_errors, n=row.words)
        cer = self.tr("CER {rate} % ({errors}/{n} characters)").format(rate=f"{100 * row.cer:.1f}",
                                                                       errors=row.char_errors, n=row.chars)
        words_title, chars_title = self.tr("Words"), self.tr("Characters")
        self.alignment_browser.setHtml(
            f"<p><b>{row.id}</b> · {wer} · {cer}</p>"
            f"<p>{words_title}</p>{alignment_html(words, 'word')}<p>{chars_title}</p>{alignment_html(chars, 'char')}"
            f"<p>{legend_html()}</p>")

    def selected_row(self) -> ScoredRow | None:
        items = self.rows_table.selectedItems()
        if not items:
            return None
        index = self.rows_table.item(items[0].row(), 0).data(ROW_INDEX)
        return self.rows[index] if index is not None else None

    @staticmethod
    def _append(table: QTableWidget, cells: list) -> None:
        row = table.rowCount()
        table.insertRow(row)
        for col, cell in enumerate(cells):
            table.setItem(row, col, cell if isinstance(cell, QTableWidgetItem) else QTableWidgetItem(str(cell)))

    # ---- slots ----------------------------------------------------------------------

    @Slot()
    def on_rows_table_item_selection_changed(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.show_alignment(row)

    @property
    def loaded_model(self) -> str | None:
        """The model folder the engine holds (the session's answer)."""
        return self.session.loaded_path

    @Slot(int, object)
    def on_engine_eval_result(self, job: int, event) -> None:
        if job == self._job:
            # The engine names the model that produced the report; the export and the scoring follow it.
            self._context["model"] = event.report.get("model_path") or self._context.get("model")
            self.show_report(event.report, self._context.get("model"))
            if event.report.get("model"):
                self.summary_label.setText(self.summary_label.text() + "  ·  " + self.tr("model {name}").format(
                    name=event.report["model"]))

    @Slot(int, float, float, str)
    def on_engine_progress_changed(self, job: int, done: float, total: float, unit: str) -> None:
        if job == self._job and total > 0:
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(done))
            unit = self.tr(PROGRESS_UNITS[unit]) if unit in PROGRESS_UNITS else unit
            self.progress.setFormat(f"{done:.0f} / {total:.0f} {unit}")

    @Slot(int, object)
    def on_engine_job_finished(self, job: int, result) -> None:
        if job == self._load_job:
            self._load_job = None  # the session has recorded what the engine holds now
        elif job == self._job:
            self._job = None
            self.progress.hide()
            for warning in (result or {}).get("warnings", []):
                log.warning("%s", warning)
            if self.report is not None:
                self.evaluation_finished.emit(self.report)
        self._update_controls()

    @Slot(int, str, str)
    def on_engine_job_failed(self, job: int, message: str, detail: str) -> None:
        if job not in (self._load_job, self._job):
            return
        log.warning("evaluation job %s failed: %s\n%s", job, message, detail)
        self._end_jobs()
        self.error_label.setText(message)
        self.evaluation_failed.emit(message)

    @Slot(int)
    def on_engine_job_cancelled(self, job: int) -> None:
        if job in (self._load_job, self._job):
            self._end_jobs()

    @Slot(str)
    def on_engine_state_changed(self, _state: str) -> None:
        self._update_controls()

    @Slot(int, str)
    def on_engine_worker_exited(self, code: int, reason: str) -> None:
        if self._busy():
            self._end_jobs()

    @Slot(str)
    def on_model_picker_model_changed(self, _path: str) -> None:
        self._update_controls()

    @Slot(str)
    def on_manifest_edit_text_changed(self, _text: str) -> None:
        self._update_controls()

    # ---- state ----------------------------------------------------------------------

    def _busy(self) -> bool:
        return self._job is not None or self._load_job is not None

    def _end_jobs(self) -> None:
        self._job = self._load_job = None
        self.progress.hide()
        self._update_controls()

    def _update_controls(self) -> None:
        ready = getattr(self.engine, "state", "ready") in ("ready", "busy")
        can = bool(self.model_picker.current_path() and self.manifest_edit.text().strip())
        self.evaluate_button.setEnabled(ready and can and not self._busy())
        self.cancel_button.setEnabled(self._busy())
        self.export_csv_button.setEnabled(self.report is not None)
        self.export_json_button.setEnabled(self.report is not None)


def _boxed(title: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    for widget in widgets:
        layout.addWidget(widget)
    return box
