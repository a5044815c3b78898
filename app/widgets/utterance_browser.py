"""Browse a dataset: a sortable, filterable table of utterances; the selected one is shown and played.

Selecting a row loads that utterance (its ``offset``/``end`` segment only)
into an :class:`~app.widgets.audio_view.AudioView`; Space or the Play button
plays it (the selection within it, when there is one), double-click plays at once.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
    QSizePolicy, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from app.audio_io import Player, audio_backend_status
from app.engine_messages import error_text
from app.i18n import QT_TRANSLATE_NOOP
from app.widgets.audio_view import AudioView
from app.widgets.table_models import GENDER_UNKNOWN, UTTERANCE_ROLE, UtteranceFilterProxy, UtteranceTableModel
from engine.data.manifest import Utterance
from engine.errors import ParceroError

SAMPLE_RATE = 16_000
ERROR_STYLE = "QLabel { color: #c62828; }"
SELECT_HINT = QT_TRANSLATE_NOOP("UtteranceBrowser", "Select an utterance to see and hear it.")
SPEAKER_CHARS = 16  # a longer speaker id is cut in the info line (whole in its tooltip)


class UtteranceBrowser(QWidget):
    utterance_shown = Signal(object)  # the Utterance now in the audio view

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.base_dir: Path | None = None
        self.current: Utterance | None = None
        self.samples: np.ndarray | None = None
        self.player = Player(self)
        self._build()
        self._connect()

    def _build(self) -> None:
        self.model = UtteranceTableModel(self)
        self.proxy = UtteranceFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(self.tr("Search id, text or speaker (without accents: finds both)"))
        self.search_edit.setClearButtonEnabled(True)
        self.gender_combo = QComboBox()
        for text, value in ((self.tr("all genders"), None), (self.tr("female"), "female"), (self.tr("male"), "male"),
                            (self.tr("unknown"), GENDER_UNKNOWN)):
            self.gender_combo.addItem(text, value)
        self.min_spin = _seconds_spin(self.tr("from "), "")
        self.max_spin = _seconds_spin(self.tr("to "), self.tr("to: any length"))
        self.count_label = QLabel()

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 230), (2, 130), (3, 70), (4, 90)):
            self.table.setColumnWidth(column, width)
        self.table.installEventFilter(self)

        self.play_button = QPushButton(self.tr("▶ Play"))
        available, reason = audio_backend_status("output")
        self.play_button.setToolTip(
            self.tr("Play or stop (Space); plays the selection when there is one") if available
            else self.tr("Playback is unavailable: {reason}").format(reason=reason))
        self.info_label = QLabel(self.tr(SELECT_HINT))
        self.info_label.setWordWrap(True)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)  # all its lines
        self.audio_view = AudioView()

        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 1)
        for w in (self.gender_combo, self.min_spin, self.max_spin, self.count_label):
            filters.addWidget(w)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        info_row = QHBoxLayout()
        info_row.addWidget(self.play_button)
        info_row.addWidget(self.info_label, 1)
        bottom_layout.addLayout(info_row)
        bottom_layout.addWidget(self.audio_view, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(bottom)
        splitter.setSizes([300, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)

    def _connect(self) -> None:
        self.search_edit.textChanged.connect(self.on_search_edit_text_changed)
        self.gender_combo.currentIndexChanged.connect(self.on_gender_combo_current_index_changed)
        self.min_spin.valueChanged.connect(self.on_duration_spin_value_changed)
        self.max_spin.valueChanged.connect(self.on_duration_spin_value_changed)
        self.table.selectionModel().selectionChanged.connect(self.on_table_selection_changed)
        self.table.doubleClicked.connect(self.on_table_double_clicked)
        self.play_button.clicked.connect(self.toggle_playback)
        self.player.position_changed.connect(self.audio_view.set_cursor)
        self.player.state_changed.connect(self.on_player_state_changed)
        self.player.failed.connect(self._show_error)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

    # ---- public API -------------------------------------------------------------------

    def set_utterances(self, utterances: Sequence[Utterance], base_dir: str | Path | None) -> None:
        """Show a dataset; relative audio paths are resolved against ``base_dir`` (the manifest's folder)."""
        self.player.stop()
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.current, self.samples = None, None
        self.audio_view.clear()
        self.model.set_utterances(utterances)
        longest = max((u.duration for u in utterances), default=0.0)
        self.max_spin.setMaximum(max(3600.0, longest))
        self.info_label.setText(self.tr(SELECT_HINT))
        self._update_count()

    def visible_utterances(self) -> list[Utterance]:
        """The utterances the filters let through, in the table's order."""
        return [self.proxy.index(r, 0).data(UTTERANCE_ROLE) for r in range(self.proxy.rowCount())]

    def select_row(self, row: int) -> None:
        """Select the ``row``-th visible row (and so show its utterance)."""
        self.table.selectRow(row)

    def play(self) -> None:
        if self.samples is None:
            return
        start, end = self.audio_view.selection() or (0.0, None)
        self.player.play(self.samples, SAMPLE_RATE, start, end)

    def toggle_playback(self) -> None:
        """Play the shown utterance, or stop it if it is playing."""
        if self.player.state == "playing":
            self.player.stop()
        else:
            self.play()

    def shutdown(self) -> None:
        self.player.stop()
        self.audio_view.shutdown()

    # ---- slots -------------------------------------------------------------------------

    @Slot(str)
    def on_search_edit_text_changed(self, text: str) -> None:
        self.proxy.set_text(text)

    @Slot(int)
    def on_gender_combo_current_index_changed(self, _index: int) -> None:
        self.proxy.set_gender(self.gender_combo.currentData())

    @Slot(float)
    def on_duration_spin_value_changed(self, _value: float) -> None:
        maximum = self.max_spin.value()
        self.proxy.set_duration_range(self.min_spin.value(), maximum if maximum > 0 else None)

    @Slot(QItemSelection, QItemSelection)
    def on_table_selection_changed(self, _selected, _deselected) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.show_utterance(rows[0].data(UTTERANCE_ROLE))

    @Slot(QModelIndex)
    def on_table_double_clicked(self, _index: QModelIndex) -> None:
        self.play()  # the row is already shown: its click selected it

    @Slot(str)
    def on_player_state_changed(self, state: str) -> None:
        self.play_button.setText(self.tr("■ Stop") if state == "playing" else self.tr("▶ Play"))
        if state == "stopped":
            self.audio_view.set_cursor(None)

    def show_utterance(self, u: Utterance) -> bool:
        """Load ``u`` into the audio view; a missing or broken file is reported in the info line."""
        self.player.stop()
        try:
            samples = u.load_samples(self.base_dir, SAMPLE_RATE)
        except (ParceroError, ValueError) as error:
            self.current, self.samples = u, None
            self.audio_view.clear()
            self._show_error(error_text(error))
            return False
        self.current, self.samples = u, samples
        self.audio_view.set_audio(samples, SAMPLE_RATE)
        where = " · " + self.tr("{start}–{end} s of {file}").format(
            start=f"{u.offset:.2f}", end=f"{u.end:.2f}", file=Path(u.audio).name) if u.offset is not None else ""
        speaker = u.speaker or self.tr("no speaker")
        if len(speaker) > SPEAKER_CHARS:  # Common Voice's speakers are 128-digit hashes: the start tells them apart
            speaker = speaker[:SPEAKER_CHARS - 1] + "…"
        self.info_label.setStyleSheet("")
        # Rich text: the transcript's own < > & " are escaped, so «<ruido>» or quotes show as written.
        self.info_label.setText(f"<b>{escape(u.id)}</b> · {escape(speaker)} · {u.gender or GENDER_UNKNOWN} · "
                                f"{len(samples) / SAMPLE_RATE:.2f} s{escape(where)}<br>{escape(u.text)}")
        self.info_label.setToolTip(u.speaker)
        self.utterance_shown.emit(u)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        # Space on the table plays instead of toggling the row's selection. (Inside
        # the main window its Play action's Space shortcut gets there first.)
        if (watched is self.table and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Space):
            self.toggle_playback()
            return True
        return super().eventFilter(watched, event)

    # ---- helpers -------------------------------------------------------------------------

    def _update_count(self, *_args) -> None:
        self.count_label.setText(self.tr("{shown} of {total}").format(shown=f"{self.proxy.rowCount():,}",
                                                                       total=f"{self.model.rowCount():,}"))

    def _show_error(self, message: str) -> None:
        self.info_label.setStyleSheet(ERROR_STYLE)
        self.info_label.setText(message)


def _seconds_spin(prefix: str, special: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 3600.0)
    spin.setDecimals(1)
    spin.setSingleStep(0.5)
    spin.setPrefix(prefix)
    spin.setSuffix(" s")
    if special:
        spin.setSpecialValueText(special)  # shown at the minimum, 0: no upper limit
    return spin
