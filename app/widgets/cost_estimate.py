"""The cost panel of the Train page: how long and how much a run would take on rented GPUs.

The arithmetic lives in app.cost (tested without Qt); this widget holds the
inputs (hours of training audio, epochs, a throughput and the device it was
measured on), an editable price table saved in QSettings, and shows each
instance's speed, hours and dollars, with the assumptions written next to the
numbers. A throughput measured on a CPU prices nothing (app.cost says why);
the panel then offers to type in a GPU's throughput or to load a GPU result
file of bench/gpu_check.py or bench/train_throughput.py.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
    QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from app.cost import (
    ASSUMPTION, CPU_MEASURED, DEFAULT_PRICES, GPU_PEAKS, PRICE_SOURCE, UNKNOWN_GPU, CostRow, InstancePrice,
    Throughput, estimate_costs, format_hours, format_usd, gpu_peak, prices_from_json, prices_to_json,
    throughputs_from_result,
)
from app.i18n import QT_TRANSLATE_NOOP

PRICES_KEY = "train/instance_prices"
COLUMNS = (QT_TRANSLATE_NOOP("CostEstimate", "Instance"), QT_TRANSLATE_NOOP("CostEstimate", "GPUs"), "GPU",
           QT_TRANSLATE_NOOP("CostEstimate", "USD / month"), QT_TRANSLATE_NOOP("CostEstimate", "USD / hour"),
           QT_TRANSLATE_NOOP("CostEstimate", "Training time"), QT_TRANSLATE_NOOP("CostEstimate", "Cost"),
           QT_TRANSLATE_NOOP("CostEstimate", "Speed per GPU"), QT_TRANSLATE_NOOP("CostEstimate", "Price quoted"))
EDITABLE = 4  # the first four columns are the user's, and the last ("Price quoted"); the rest are computed
QUOTED = len(COLUMNS) - 1
COMPUTED = range(EDITABLE, QUOTED)
NOTE_STYLE = "QLabel { color: palette(mid); font-size: 11px; }"


class CostEstimate(QWidget):
    """Hours and dollars of training per instance type, from measured throughput and an editable price table."""

    measure_requested = Signal()  # the user asked for a short warm-up run to measure throughput
    prices_changed = Signal(list)  # list[InstancePrice] after an edit (already saved)
    estimate_changed = Signal(list)  # list[CostRow]: recomputed after any input changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._settings = QSettings()
        self.audio_hours = 0.0
        self.audio_seconds_per_second: float | None = None
        self._source = ""
        self._device = ""  # where set_throughput's figures are measured: "cpu", "cuda" or "" (unknown)
        self._gpu = ""
        self._typed = False  # the figure in use was typed in or loaded from a file, not measured here
        self._rows: list[CostRow] = []

        self.audio_label = QLabel("—")
        self.audio_label.setToolTip(self.tr("Hours of audio in the training manifest"))
        self.epochs_spin = QDoubleSpinBox()
        self.epochs_spin.setRange(0.0, 100000.0)
        self.epochs_spin.setDecimals(2)
        self.epochs_spin.setMaximumWidth(160)
        self.epochs_spin.setToolTip(self.tr("Passes over the training data. Filled in from the form (epochs, or max "
                                            "steps assuming full batches); edit it to ask “what if”."))
        self.throughput_label = QLabel(self.tr("not measured yet"))
        self.measured_gpus_spin = QSpinBox()
        self.measured_gpus_spin.setRange(1, 1024)
        self.measured_gpus_spin.setToolTip(self.tr("GPUs the measured throughput came from (a torchrun run over "
                                                   "several GPUs logs their combined throughput)"))
        self.measure_button = QPushButton(self.tr("Measure throughput"))
        self.measure_button.setToolTip(self.tr("Train the configured model for a few steps and time it"))
        measured = QHBoxLayout()
        measured.addWidget(self.throughput_label, 1)
        measured.addWidget(QLabel(self.tr("on")))
        measured.addWidget(self.measured_gpus_spin)
        measured.addWidget(QLabel(self.tr("GPU(s)")))
        measured.addWidget(self.measure_button)
        self.typed_spin = QDoubleSpinBox()
        self.typed_spin.setRange(0.0, 10_000_000.0)
        self.typed_spin.setDecimals(1)
        self.typed_spin.setSuffix(self.tr(" s/s"))
        self.typed_spin.setMaximumWidth(160)
        self.typed_spin.setToolTip(self.tr("Seconds of audio trained per second on one GPU, measured elsewhere "
                                           "(0: use the measurement above)"))
        self.typed_gpu_combo = QComboBox()
        self.typed_gpu_combo.addItems([g.name for g in GPU_PEAKS])
        self.typed_gpu_combo.setToolTip(self.tr("The GPU the typed throughput was measured on"))
        self.load_button = QPushButton(self.tr("Load GPU result…"))
        self.load_button.setToolTip(self.tr("A JSON file written by bench/gpu_check.py or bench/train_throughput.py "
                                            "on a GPU machine"))
        self.result_combo = QComboBox()  # the rows of a loaded result file, best first
        self.result_combo.setVisible(False)
        self._loaded: list[Throughput] = []
        typed = QHBoxLayout()
        typed.addWidget(self.typed_spin)
        typed.addWidget(QLabel(self.tr("on")))
        typed.addWidget(self.typed_gpu_combo)
        typed.addWidget(self.load_button)
        typed.addWidget(self.result_combo)
        typed.addStretch(1)
        form = QFormLayout()
        form.addRow(self.tr("Training audio"), self.audio_label)
        form.addRow(self.tr("Epochs"), self.epochs_spin)
        form.addRow(self.tr("Throughput"), measured)
        form.addRow(self.tr("GPU throughput"), typed)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.add_button = QPushButton(self.tr("Add row"))
        self.remove_button = QPushButton(self.tr("Remove row"))
        self.reset_button = QPushButton(self.tr("Reset prices"))
        self.reset_button.setToolTip(self.tr("Back to the instances and prices Parcero ships with"))
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.reset_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.note_label = QLabel(f"{self.tr(PRICE_SOURCE)}\n{self.tr(ASSUMPTION)}")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(NOTE_STYLE)
        self.warning_label = QLabel()  # why nothing (or not everything) is priced
        self.warning_label.setWordWrap(True)
        self.warning_label.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.note_label)

        saved = prices_from_json(self._settings.value(PRICES_KEY, "", type=str))
        self._fill_prices(saved or list(DEFAULT_PRICES))
        self.epochs_spin.valueChanged.connect(self.on_input_changed)
        self.measured_gpus_spin.valueChanged.connect(self.on_input_changed)
        self.table.itemChanged.connect(self.on_table_item_changed)
        self.add_button.clicked.connect(self.on_add_button_clicked)
        self.remove_button.clicked.connect(self.on_remove_button_clicked)
        self.reset_button.clicked.connect(self.on_reset_button_clicked)
        self.measure_button.clicked.connect(self.measure_requested)
        self.typed_spin.valueChanged.connect(self.on_input_changed)
        self.typed_gpu_combo.currentIndexChanged.connect(self.on_input_changed)
        self.load_button.clicked.connect(self.on_load_button_clicked)
        self.result_combo.currentIndexChanged.connect(self.on_result_combo_changed)
        self.recompute()

    # ---- inputs -------------------------------------------------------------------

    def set_audio_hours(self, hours: float) -> None:
        self.audio_hours = max(0.0, float(hours))
        self.audio_label.setText(f"{self.audio_hours:,.2f} h ({format_hours(self.audio_hours)})")
        self.recompute()

    def set_epochs(self, epochs: float) -> None:
        self.epochs_spin.setValue(float(epochs))

    def set_measured_device(self, kind: str, gpu_name: str | None = None) -> None:
        """Where :meth:`set_throughput`'s figures are measured: the engine's device ("cpu", "cuda") and GPU name."""
        self._device, self._gpu = (kind or ""), (gpu_name or "")
        self.set_throughput(self.audio_seconds_per_second, self._source)

    def set_throughput(self, audio_seconds_per_second: float | None, source: str = "") -> None:
        """Measured training speed in seconds of audio per second (None: unknown); ``source`` says how."""
        self.audio_seconds_per_second = audio_seconds_per_second
        self._source = source
        if audio_seconds_per_second is None:
            self.throughput_label.setText(self.tr("not measured yet"))
        else:
            where = {"cpu": self.tr("on this computer's CPU"), "cuda": self._gpu}.get(self._device, "")
            how = ", ".join(x for x in (source, where) if x)
            self.throughput_label.setText(self.tr("{rate} s of audio per second").format(
                rate=f"{audio_seconds_per_second:,.1f}") + (f" ({how})" if how else ""))
        self.recompute()

    def load_result(self, path: str | Path) -> bool:
        """Read a GPU result file's training throughputs into the panel; False (and a message) if it has none."""
        try:
            self._loaded = throughputs_from_result(path)
        except (OSError, ValueError) as e:
            self._show_warning(self.tr("{file}: not read: {problem}").format(file=Path(path).name, problem=e))
            return False
        self.result_combo.blockSignals(True)
        self.result_combo.clear()
        self.result_combo.addItems([f"{t.source}: {t.audio_seconds_per_second:,.0f} s/s" for t in self._loaded])
        self.result_combo.blockSignals(False)
        self.result_combo.setVisible(True)
        self.on_result_combo_changed(0)
        return True

    def measurement(self) -> Throughput | None:
        """The throughput the table is computed from: typed in, else loaded from a file, else measured here."""
        typed = self.typed_spin.value()
        if typed > 0:
            return Throughput(typed, "cuda", self.typed_gpu_combo.currentText(), 1, None, self.tr("typed in"))
        if self.audio_seconds_per_second:
            return Throughput(self.audio_seconds_per_second, self._device, self._gpu,
                              self.measured_gpus_spin.value(), None, self._source)
        return None

    def set_measuring(self, measuring: bool) -> None:
        self.measure_button.setEnabled(not measuring)
        self.measure_button.setText(self.tr("Measuring…") if measuring else self.tr("Measure throughput"))

    # ---- outputs ------------------------------------------------------------------

    def prices(self) -> list[InstancePrice]:
        """The table's rows that parse; a row being typed into is left out until it does."""
        out = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, col).text().strip() if self.table.item(row, col) else ""
                     for col in range(EDITABLE)]
            quoted = self.table.item(row, QUOTED)
            try:
                out.append(InstancePrice(cells[0], int(cells[1]), cells[2], float(cells[3].replace(",", "")),
                                         quoted.text().strip() if quoted else ""))
            except ValueError:
                continue
        return out

    def rows(self) -> list[CostRow]:
        return list(self._rows)

    def per_gpu_throughput(self) -> float:
        measured = self.measurement()
        return measured.per_gpu if measured is not None else 0.0

    def recompute(self) -> None:
        """Refill the computed columns and the warning; emits ``estimate_changed``."""
        prices = self.prices()
        measured = self.measurement() or Throughput(0.0)
        self._rows = estimate_costs(self.audio_hours, self.epochs_spin.value(), measured, prices)
        if measured.on_cpu:
            self._show_warning(self.tr(CPU_MEASURED))
        elif measured.device == "cuda" and measured.gpu and gpu_peak(measured.gpu) is None:
            self._show_warning(self.tr(UNKNOWN_GPU).format(gpu=measured.gpu))
        else:
            self._show_warning("")
        by_name = {(r.price.instance, r.price.gpus, r.price.monthly_usd): r for r in self._rows}
        self.table.blockSignals(True)
        for row in range(self.table.rowCount()):
            parsed = self._parse_row(row)
            found = by_name.get(parsed) if parsed else None
            texts = ((format_usd(found.price.hourly_usd), format_hours(found.hours), format_usd(found.cost_usd),
                      f"{found.speed:,.0f} s/s" if found.speed else "—")
                     if found else ("—", "—", "—", "—"))
            for col, text in zip(COMPUTED, texts):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        self.estimate_changed.emit(self.rows())

    def _parse_row(self, row: int) -> tuple[str, int, float] | None:
        try:
            return (self.table.item(row, 0).text().strip(), int(self.table.item(row, 1).text()),
                    float(self.table.item(row, 3).text().replace(",", "")))
        except (AttributeError, ValueError):
            return None

    def _show_warning(self, text: str) -> None:
        self.warning_label.setText(text)
        self.warning_label.setVisible(bool(text))

    def _fill_prices(self, prices: list[InstancePrice]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for p in prices:
            self._append_row(p.instance, str(p.gpus), p.gpu, f"{p.monthly_usd:.2f}", p.quoted)
        self.table.blockSignals(False)

    def _append_row(self, instance: str, gpus: str, gpu: str, monthly: str, quoted: str = "") -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in ((0, instance), (1, gpus), (2, gpu), (3, monthly), (QUOTED, quoted)):
            item = QTableWidgetItem(text)
            if col in (1, 3):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)

    def _save(self) -> None:
        prices = self.prices()
        self._settings.setValue(PRICES_KEY, prices_to_json(prices))
        self.prices_changed.emit(prices)

    # ---- slots --------------------------------------------------------------------

    @Slot()
    def on_input_changed(self, *_args) -> None:
        self.recompute()

    @Slot()
    def on_load_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Load a GPU result"), "",
                                              self.tr("GPU results (*.json)"))
        if path:
            self.load_result(path)

    @Slot(int)
    def on_result_combo_changed(self, index: int) -> None:
        if 0 <= index < len(self._loaded):
            chosen = self._loaded[index]
            self.typed_spin.blockSignals(True)
            self.typed_spin.setValue(chosen.per_gpu)
            self.typed_spin.blockSignals(False)
            peak = gpu_peak(chosen.gpu)
            if peak is not None:
                self.typed_gpu_combo.blockSignals(True)
                self.typed_gpu_combo.setCurrentText(peak.name)
                self.typed_gpu_combo.blockSignals(False)
            self.recompute()

    @Slot(QTableWidgetItem)
    def on_table_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() < EDITABLE or item.column() == QUOTED:
            self._save()
            self.recompute()

    @Slot()
    def on_add_button_clicked(self) -> None:
        self.table.blockSignals(True)
        self._append_row("my-instance", "1", "GPU", "0.00", "")
        self.table.blockSignals(False)
        self.table.editItem(self.table.item(self.table.rowCount() - 1, 0))
        self._save()
        self.recompute()

    @Slot()
    def on_remove_button_clicked(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows or ([self.table.rowCount() - 1] if self.table.rowCount() else []):
            self.table.removeRow(row)
        self._save()
        self.recompute()

    @Slot()
    def on_reset_button_clicked(self) -> None:
        self._fill_prices(list(DEFAULT_PRICES))
        self._save()
        self.recompute()
