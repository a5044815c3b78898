"""Attention heatmaps: decoder cross-attention growing live, and encoder self-attention.

Cross-attention shows where in the audio the decoder looked for each token:
one row per output token, one column per encoder frame. The x axis is in
seconds of the whole recording (``chunk_start + frame * frame_seconds``), so
the map can share its time axis with :class:`app.widgets.audio_view.AudioView`
(``link_x``) and a token's bright cells sit right under the sound it came from.

Rows arrive one decoding step at a time, for every layer and head; they are
all stored (float16) and the picture is redrawn from them at most 30 times a
second by ``setImage`` on one ``ImageItem``, so a fast decoder never floods
the event loop.

Each row is labelled with its token as the model wrote it: a character for a
character model, a BPE piece for Whisper (" sospe", "chando"). Tokens that are
not text (Whisper's timestamps, an end-of-text row) are flagged special and
hidden unless "Special tokens" is ticked, so by default the rows read as the
transcript does.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.i18n import QT_TRANSLATE_NOOP, translate
from app.widgets.plot_style import palette_colors, style_plot, translucent

COLORMAP = "viridis"  # not the spectrogram's inferno: the two are told apart at a glance
REDRAW_MS = 33  # at most ~30 redraws a second
AVERAGE = QT_TRANSLATE_NOOP("_HeatmapPanel", "average")
ALIGNMENT = QT_TRANSLATE_NOOP("_HeatmapPanel", "alignment heads")
ALIGNMENT_HEADS = -2  # head value meaning "mean of the model's alignment heads, all layers" (Whisper)
SPACE_MARK = "␣"  # a space token must be visible as a tick label
END_MARK = "⏎"  # the row of the step that ended the text (<eos>, <|endoftext|>)
MAX_LABEL_CHARS = 8  # what fits the fixed-width left axis: "<|0.00|>", "␣sospe"
PEAK_FRACTION = 0.5  # a token's span: frames around its peak above half the peak


class _HeatmapPanel(QWidget):
    """Layer and head pickers above one plot holding one image; shared by both views."""

    def __init__(self, parent: QWidget | None, title: str):
        super().__init__(parent)
        background, self._text_color, self._highlight = palette_colors(self)
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(self.tr("Transformer layer"))
        self.head_combo = QComboBox()
        self.head_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # "alignment heads" whole
        self.head_combo.setToolTip(self.tr("Attention head, the average of all heads, or (Whisper) the "
                                           "alignment heads whose attention follows the speech"))
        self._alignment: list[tuple[int, int]] = []
        self.controls = QHBoxLayout()
        self.controls.addWidget(QLabel(title))
        self.controls.addStretch(1)
        self.controls.addWidget(QLabel(self.tr("Layer")))
        self.controls.addWidget(self.layer_combo)
        self.controls.addWidget(QLabel(self.tr("Head")))
        self.controls.addWidget(self.head_combo)

        self.plot_widget = pg.PlotWidget(background=background)
        self.plot = self.plot_widget.getPlotItem()
        style_plot(self.plot, self._text_color)
        self.plot.invertY(True)  # first token (or frame) at the top, read downwards
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get(COLORMAP))
        self.plot.addItem(self.image)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.controls)
        layout.addWidget(self.plot_widget, 1)
        self._set_choices(1, 1)
        self.layer_combo.currentIndexChanged.connect(self.on_picker_current_index_changed)
        self.head_combo.currentIndexChanged.connect(self.on_picker_current_index_changed)

    def _first_head_index(self) -> int:
        """Combo index of head 0: after "average" and, with alignment heads, "alignment heads"."""
        return 2 if self._alignment else 1

    def selected(self) -> tuple[int, int | None]:
        """The (layer, head) shown; head None is the average of the heads, ALIGNMENT_HEADS theirs."""
        index = self.head_combo.currentIndex()
        layer = max(0, self.layer_combo.currentIndex())
        if self._alignment and index == 1:
            return layer, ALIGNMENT_HEADS
        return layer, (None if index < self._first_head_index() else index - self._first_head_index())

    def select(self, layer: int, head: int | None) -> None:
        self.layer_combo.setCurrentIndex(layer)
        self.head_combo.setCurrentIndex(self._head_index(head))

    def _head_index(self, head: int | None) -> int:
        if head is None:
            return 0
        if head == ALIGNMENT_HEADS:
            return 1 if self._alignment else 0
        return head + self._first_head_index()

    def set_alignment_heads(self, heads) -> None:
        """Offer "alignment heads" (Whisper's (layer, head) pairs) in the head picker; empty: no such entry.

        They become the selection when the picker still shows its first choice (layer 0's
        average): theirs is the picture that follows the speech, the first layer's is not.
        """
        heads = [(int(layer), int(head)) for layer, head in heads or ()]
        if heads == self._alignment:
            return
        layer, head = self.selected()
        if heads and (layer, head) == (0, None):
            head = ALIGNMENT_HEADS
        n_layers, n_heads = self.layer_combo.count(), self.head_combo.count() - self._first_head_index()
        self._alignment = heads
        self._alignment_changed()
        self.head_combo.blockSignals(True)
        self.head_combo.clear()  # the old entries no longer map to heads the same way
        self.head_combo.blockSignals(False)
        self._set_choices(max(1, n_layers), max(0, n_heads))
        self.select(layer, head if head != ALIGNMENT_HEADS or heads else None)
        self.on_picker_current_index_changed(0)

    def _alignment_changed(self) -> None:
        """Hook for views that keep something per alignment head."""

    _HELD: tuple[str, ...] = ()  # the attributes holding what the view shows, for snapshot()

    def _reset_args(self) -> tuple:
        raise NotImplementedError

    def _choices(self) -> tuple[int, int]:
        """(layers, heads) the pickers offer."""
        return self.layer_combo.count(), self.head_combo.count() - self._first_head_index()

    def snapshot(self) -> tuple[tuple, dict]:
        """What the view shows (one chunk's attention), to show again with :meth:`restore`.

        Not a copy, so nothing is duplicated: take it just before :meth:`reset`, which
        leaves the old data to the snapshot and starts afresh.
        """
        return self._reset_args(), {name: getattr(self, name) for name in self._HELD}

    def restore(self, snapshot: tuple[tuple, dict]) -> None:
        """Show a :meth:`snapshot` again, in place of what the view shows now."""
        args, held = snapshot
        self.reset(*args)
        for name, value in held.items():
            setattr(self, name, value)
        self.redraw()

    def link_x(self, plot: pg.PlotItem | pg.PlotWidget) -> None:
        """Share the time axis with ``plot`` (e.g. ``AudioView.waveform_plot``): zoom one, zoom both."""
        self.plot.setXLink(plot.getPlotItem() if isinstance(plot, pg.PlotWidget) else plot)

    def _set_choices(self, n_layers: int, n_heads: int) -> None:
        """Offer layers 0..n_layers-1 and heads average, 0..n_heads-1, keeping the selection if it exists.

        ``n_heads`` 0 offers the average alone: the worker sent only averages, and a head
        with nothing to draw would show a blank picture.
        """
        layer, head = self.selected() if self.head_combo.count() else (0, None)
        extra = [self.tr(ALIGNMENT)] if self._alignment else []
        for combo, items in ((self.layer_combo, [str(i) for i in range(n_layers)]),
                             (self.head_combo, [self.tr(AVERAGE)] + extra + [str(i) for i in range(n_heads)])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(items)
            combo.blockSignals(False)
        self.layer_combo.setCurrentIndex(min(layer, n_layers - 1))
        self.head_combo.setCurrentIndex(0 if head is not None and head >= n_heads else self._head_index(head))

    def _grow_choices(self, layer: int, head: int | None) -> None:
        n_layers, n_heads = self.layer_combo.count(), self.head_combo.count() - self._first_head_index()
        if layer >= n_layers or (head is not None and head >= n_heads):
            self._set_choices(max(n_layers, layer + 1), max(n_heads, 0 if head is None else head + 1))

    @Slot(int)
    def on_picker_current_index_changed(self, _index: int) -> None:
        self.layer_combo.setEnabled(self.selected()[1] != ALIGNMENT_HEADS)  # they span layers
        self.redraw()

    def redraw(self) -> None:
        raise NotImplementedError


def _with_capacity(array: np.ndarray, n: int) -> np.ndarray:
    """``array`` with at least ``n`` rows, grown by doubling (zeros) so that appends stay cheap."""
    if n <= array.shape[0]:
        return array
    capacity = max(16, 2 * array.shape[0], n)
    return np.concatenate([array, np.zeros((capacity - array.shape[0], *array.shape[1:]), array.dtype)])


class AttentionView(_HeatmapPanel):
    """Live decoder cross-attention: tokens down, audio time (seconds) across."""

    token_hovered = Signal(int, float, float)  # token index, start s, end s of its attention peak; -1 on leaving
    token_clicked = Signal(int, float)  # token index, seconds where the click was
    _HELD = ("_rows", "_sums", "_tokens", "_special", "_n_tokens")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, translate("AttentionView", "Cross-attention"))
        self.row_scale_check = QCheckBox(self.tr("Scale each token"))
        self.row_scale_check.setToolTip(self.tr("Stretch every row to its own peak, so diffuse tokens show too"))
        self.row_scale_check.setChecked(True)
        self.controls.insertWidget(1, self.row_scale_check)
        self.special_check = QCheckBox(self.tr("Special tokens"))
        self.special_check.setToolTip(self.tr("Also show the rows of tokens that are not text: Whisper's "
                                              "timestamps such as <|0.00|>, and the end of the text (⏎)"))
        self.controls.insertWidget(2, self.special_check)
        self.hover_label = QLabel()  # the hovered token and its time span, in words
        self.controls.insertWidget(4, self.hover_label)
        # What the picture is where it is not the decoding going on (after a cancel): a line of its own
        # above the plot, shown only then, so that a long note never widens the controls' row.
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.hide()
        self.layout().insertWidget(1, self.note_label)
        self.row_scale_check.toggled.connect(self.on_picker_current_index_changed)
        self.special_check.toggled.connect(self.on_picker_current_index_changed)
        # No "token" title on the left axis: BPE pieces ("␣sospe") fill its fixed width, and the
        # title would be drawn over them.
        self.hover_band = pg.LinearRegionItem(orientation="horizontal", movable=False,
                                              brush=translucent(self._highlight, 70), pen=pg.mkPen(None))
        self.hover_band.hide()
        self.plot.addItem(self.hover_band, ignoreBounds=True)

        self._draw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._draw_timer.timeout.connect(self.redraw)
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self.on_scene_mouse_moved)
        scene.sigMouseClicked.connect(self.on_scene_mouse_clicked)
        self.plot.vb.sigResized.connect(self._update_token_ticks)
        self.plot_widget.installEventFilter(self)
        self.reset(0, 1, 1)

    # ---- public API ---------------------------------------------------------------------

    def reset(self, n_frames: int, n_layers: int, n_heads: int, frame_seconds: float = 0.04,
              chunk_start: float = 0.0) -> None:
        """Forget all rows and get ready for a new chunk of ``n_frames`` encoder frames."""
        self.n_frames, self.frame_seconds, self.chunk_start = int(n_frames), float(frame_seconds), float(chunk_start)
        self._rows: dict[tuple[int, int | None], tuple[np.ndarray, np.ndarray]] = {}  # key -> (rows, filled)
        # layer (or ALIGNMENT_HEADS) -> (sum of its heads' rows, how many heads sent each row)
        self._sums: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._tokens: list[str] = []
        self._special: list[bool] = []  # per token: not text (a timestamp, the end), hidden unless asked for
        self._n_tokens = 0
        self._hovered = -1
        self._set_choices(max(1, n_layers), max(0, n_heads))
        self.hover_band.hide()
        self.hover_label.clear()
        self.set_note("")
        self.image.clear()
        if self.n_frames > 0 and self.plot.vb.linkedView(pg.ViewBox.XAxis) is None:
            self.plot.setXRange(self.chunk_start, self.chunk_end, padding=0)
        self._update_token_ticks()

    def _reset_args(self) -> tuple:
        return self.n_frames, *self._choices(), self.frame_seconds, self.chunk_start

    def set_note(self, text: str) -> None:
        """Say what the picture is (e.g. after a cancel) in a line above it; "" or the next reset() removes it."""
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    @property
    def chunk_end(self) -> float:
        return self.chunk_start + self.n_frames * self.frame_seconds

    @property
    def n_tokens(self) -> int:
        return self._n_tokens

    def add_row(self, layer: int, head: int | None, step: int, row: np.ndarray, token_text: str | None,
                special: bool = False) -> None:
        """Store one step's attention over the encoder frames, shape = (n_frames,); drawn within 33 ms.

        ``head=None`` is a row already averaged over the heads (the worker
        may send only that); it is shown as the average in place of the
        mean of the stored heads. ``token_text`` labels the row (None: keep
        its label); a ``special`` row is hidden unless "Special tokens" is ticked.
        """
        row = np.asarray(row, dtype=np.float16).reshape(-1)
        if self.n_frames == 0:  # not told by reset(): the first row says
            self.n_frames = row.shape[0]
        row = row[: self.n_frames]
        key = (int(layer), None if head is None else int(head))
        rows, filled = self._rows.get(key, (np.zeros((0, self.n_frames), np.float16), np.zeros(0, bool)))
        if step >= rows.shape[0]:
            rows, filled = _with_capacity(rows, step + 1), _with_capacity(filled, step + 1)
            self._rows[key] = (rows, filled)
        # Running sums of the heads of each layer and of the alignment heads: the averages are
        # redrawn many times a second, and summing 8 heads' rows each time cost more than decoding.
        old = rows[step] if filled[step] else None  # sent again: replaced, not added
        if key[1] is not None:
            self._accumulate(key[0], step, row, old)
            if key in self._alignment:
                self._accumulate(ALIGNMENT_HEADS, step, row, old)
        rows[step, : row.shape[0]] = row
        filled[step] = True
        self._grow_choices(*key)
        self._n_tokens = max(self._n_tokens, step + 1)
        if token_text is not None:
            self._label(step, token_text, special)
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    def _accumulate(self, sum_key: int, step: int, row: np.ndarray, old: np.ndarray | None) -> None:
        """Add ``row`` to step ``step`` of the running sum ``sum_key`` (a layer, or ALIGNMENT_HEADS)."""
        total, count = self._sums.get(sum_key, (np.zeros((0, self.n_frames), np.float32), np.zeros(0, np.float32)))
        if step >= total.shape[0]:
            total, count = _with_capacity(total, step + 1), _with_capacity(count, step + 1)
            self._sums[sum_key] = total, count
        if old is not None:
            total[step] -= old
            count[step] -= 1
        total[step, : row.shape[0]] += row
        count[step] += 1

    def _alignment_changed(self) -> None:
        self._sums.pop(ALIGNMENT_HEADS, None)
        for key in self._alignment:
            rows, filled = self._rows.get(key, (None, None))
            for step in np.flatnonzero(filled) if filled is not None else ():
                self._accumulate(ALIGNMENT_HEADS, int(step), rows[step], None)

    def _mean(self, sum_key: int, n: int, t: int) -> np.ndarray:
        """A running sum divided by its count, shape = (n, t); rows nobody sent stay 0."""
        result = np.zeros((n, t), dtype=np.float32)
        if sum_key in self._sums:
            total, count = self._sums[sum_key]
            k = min(n, total.shape[0])
            result[:k] = total[:k] / np.maximum(count[:k, None], 1.0)
        return result

    def _label(self, index: int, text: str, special: bool) -> None:
        grow = index + 1 - len(self._tokens)
        if grow > 0:
            self._tokens.extend([""] * grow)
            self._special.extend([False] * grow)
        self._tokens[index], self._special[index] = text, bool(special)

    def set_tokens(self, texts: list[str], special: list[bool] | None = None) -> None:
        """Label the rows with ``texts`` (e.g. the tokens decoded so far); ``special`` flags
        the ones that are not text. Drawn within 33 ms."""
        self._tokens = list(texts)
        self._special = [bool(x) for x in special] if special is not None else [False] * len(self._tokens)
        self._special += [False] * (len(self._tokens) - len(self._special))
        del self._special[len(self._tokens):]
        self._n_tokens = max(self._n_tokens, len(self._tokens))
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    def set_attention(self, attention: np.ndarray, texts: list[str], frame_seconds: float = 0.04,
                      chunk_start: float = 0.0, special: list[bool] | None = None) -> None:
        """Show a finished result at once, e.g. ``Transcript.cross_attention``.

        ``attention`` has shape = (n_layers, n_heads, n_tokens, n_frames).
        """
        n_layers, n_heads, n_tokens, n_frames = attention.shape
        self.reset(n_frames, n_layers, n_heads, frame_seconds, chunk_start)
        for layer in range(n_layers):
            for head in range(n_heads):
                self._rows[(layer, head)] = (attention[layer, head].astype(np.float16), np.ones(n_tokens, bool))
            self._sums[layer] = attention[layer].astype(np.float32).sum(axis=0), np.full(n_tokens, n_heads, np.float32)
        self._alignment_changed()
        self._n_tokens = n_tokens
        self.set_tokens(texts, special)
        self.redraw()

    def tokens(self) -> list[str]:
        """Every row's label, special ones included."""
        return self._tokens + [""] * (self._n_tokens - len(self._tokens))

    def shown_rows(self) -> list[int]:
        """Indices of the rows drawn, top to bottom: all, or those that are text when specials are hidden."""
        if self.special_check.isChecked():
            return list(range(self._n_tokens))
        special = self._special
        return [i for i in range(self._n_tokens) if not (i < len(special) and special[i])]

    def shown_tokens(self) -> list[str]:
        """The labels of the rows drawn, as the left axis reads them top to bottom."""
        tokens = self.tokens()
        return [tokens[i] for i in self.shown_rows()]

    def matrix(self, layer: int, head: int | None) -> np.ndarray:
        """Stored attention of one layer and head (None: average), float32, shape = (n_tokens, n_frames)."""
        n, t = self._n_tokens, self.n_frames
        if head == ALIGNMENT_HEADS:  # mean of the alignment heads, across their layers
            return self._mean(ALIGNMENT_HEADS, n, t)
        if head is None:
            result = self._mean(layer, n, t)
            explicit = self._rows.get((layer, None))
            if explicit is not None:  # sent by the worker: it wins where present
                rows, filled = explicit
                k = min(n, rows.shape[0])
                result[:k][filled[:k]] = rows[:k][filled[:k]]
            return result
        result = np.zeros((n, t), dtype=np.float32)
        if (layer, head) in self._rows:
            rows, _ = self._rows[(layer, head)]
            k = min(n, rows.shape[0])
            result[:k] = rows[:k]
        return result

    def token_span(self, index: int) -> tuple[float, float]:
        """(start, end) seconds of the frames around token ``index``'s attention peak (shown layer and head)."""
        row = self.matrix(*self.selected())[index]
        if row.size == 0:
            return self.chunk_start, self.chunk_start
        peak = int(np.argmax(row))
        above = row >= PEAK_FRACTION * row[peak]
        lo = peak
        while lo > 0 and above[lo - 1]:
            lo -= 1
        hi = peak
        while hi + 1 < row.shape[0] and above[hi + 1]:
            hi += 1
        return self.chunk_start + lo * self.frame_seconds, self.chunk_start + (hi + 1) * self.frame_seconds

    def redraw(self) -> None:
        """Draw the selected layer and head now (normally the timer does this)."""
        self._draw_timer.stop()
        rows = self.shown_rows()
        if not rows or self.n_frames == 0:
            self.image.clear()
            self._update_token_ticks()
            return
        shown = self.matrix(*self.selected())[rows]
        if self.row_scale_check.isChecked():
            shown = shown / np.maximum(shown.max(axis=1, keepdims=True), 1e-6)
        self.image.setImage(shown, levels=(0.0, max(1e-6, float(shown.max()))), autoLevels=False)
        self.image.setRect(QRectF(self.chunk_start, 0.0, self.n_frames * self.frame_seconds, len(rows)))
        self._update_token_ticks()

    # ---- slots ------------------------------------------------------------------------------

    @Slot(object)
    def on_scene_mouse_moved(self, pos) -> None:
        index = self._row_at(pos)
        if index == self._hovered:
            return
        self._hovered = index
        if index < 0:
            self._end_hover()
            return
        start, end = self.token_span(index)
        position = self.shown_rows().index(index)
        self.hover_band.setRegion((position, position + 1))
        self.hover_band.show()
        self.hover_label.setText(self.tr("token {index}: “{text}”  {start}–{end} s").format(
            index=index, text=self.tokens()[index], start=f"{start:.2f}", end=f"{end:.2f}"))
        self.token_hovered.emit(index, start, end)

    @Slot(object)
    def on_scene_mouse_clicked(self, event) -> None:
        index = self._row_at(event.scenePos())
        if event.button() == Qt.MouseButton.LeftButton and index >= 0:
            x = self.plot.vb.mapSceneToView(event.scenePos()).x()
            self.token_clicked.emit(index, float(min(max(x, self.chunk_start), self.chunk_end)))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if watched is self.plot_widget and event.type() == QEvent.Type.Leave and self._hovered >= 0:
            self._hovered = -1
            self._end_hover()
        return super().eventFilter(watched, event)

    def _end_hover(self) -> None:
        self.hover_band.hide()
        self.hover_label.clear()
        self.token_hovered.emit(-1, 0.0, 0.0)

    # ---- helpers --------------------------------------------------------------------------

    def _row_at(self, scene_pos) -> int:
        """The token index of the row under ``scene_pos``, -1 outside the rows."""
        vb = self.plot.vb
        if self._n_tokens == 0 or not vb.sceneBoundingRect().contains(scene_pos):
            return -1
        point = vb.mapSceneToView(scene_pos)
        row = math.floor(point.y())
        inside = self.chunk_start <= point.x() <= self.chunk_end
        rows = self.shown_rows()
        return rows[row] if inside and 0 <= row < len(rows) else -1

    def _update_token_ticks(self) -> None:
        """Label every row when there is room; else label groups of rows with their tokens joined."""
        texts = [(t or "·").replace(" ", SPACE_MARK) for t in self.shown_tokens()]
        n = len(texts)
        self.plot.setYRange(0, max(1, n), padding=0)
        if n == 0:
            self.plot.getAxis("left").setTicks([[], []])
            return
        axis = self.plot.getAxis("left")
        line_px = self.fontMetrics().height()
        stride = max(1, math.ceil(n * line_px / max(1.0, self.plot.vb.height())))
        # The axis leaves out a label wider than itself: shorten them to its width ("␣" is wide).
        metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
        room = axis.width() - max(0, axis.style["tickLength"]) - axis.style["tickTextOffset"][0] - 2
        ticks = []
        for i in range(0, n, stride):
            group = texts[i : i + stride]
            label = "".join(group)
            if len(label) > MAX_LABEL_CHARS:
                label = label[: MAX_LABEL_CHARS - 1] + "…"
            if metrics.horizontalAdvance(label) > room:
                label = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(room))
            ticks.append((i + len(group) / 2, label))
        axis.setTicks([ticks, []])


class SelfAttentionView(_HeatmapPanel):
    """Encoder self-attention of one chunk: query time down, key time across, both in seconds."""

    _HELD = ("_matrices",)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, translate("SelfAttentionView", "Encoder self-attention"))
        self.plot.setLabel("left", self.tr("query time (s)"))
        self.note_label = QLabel()  # says why the picture is empty, where there is none
        self.controls.insertWidget(1, self.note_label)
        self.log_check = QCheckBox(self.tr("Log scale"))
        self.log_check.setToolTip(self.tr("Colour by the logarithm of the weights, so that the faint attention "
                                          "away from the diagonal shows too"))
        self.log_check.setChecked(True)
        self.controls.insertWidget(1, self.log_check)
        self.log_check.toggled.connect(self.on_picker_current_index_changed)
        self.reset()

    def reset(self, n_layers: int = 1, n_heads: int = 1, frame_seconds: float = 0.04,
              chunk_start: float = 0.0) -> None:
        """Forget all matrices; the pickers grow as matrices for more layers or heads arrive."""
        self.frame_seconds, self.chunk_start = float(frame_seconds), float(chunk_start)
        self._matrices: dict[tuple[int, int | None], np.ndarray] = {}
        self._set_choices(max(1, n_layers), max(0, n_heads))
        self.image.clear()
        self.note_label.setText(self.tr("Transcribe to see how the encoder's frames attend to each other"))

    def _reset_args(self) -> tuple:
        return *self._choices(), self.frame_seconds, self.chunk_start

    def set_matrix(self, layer: int, head: int | None, matrix: np.ndarray) -> None:
        """Store attention of one layer and head (None: the average), shape = (T, T); shows it if selected."""
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"self-attention must be square (T, T), got {matrix.shape}")
        self._matrices[(int(layer), None if head is None else int(head))] = matrix
        self._grow_choices(layer, head)
        if self.selected() in ((layer, head), (layer, None)):
            self.redraw()

    def matrix(self, layer: int, head: int | None) -> np.ndarray | None:
        """The stored matrix; for head None the one sent as average, else the mean of the heads."""
        if (layer, head) in self._matrices or head is not None:
            return self._matrices.get((layer, head))
        heads = [m for (l, h), m in self._matrices.items() if l == layer and h is not None]
        if not heads or len({m.shape for m in heads}) != 1:
            return None
        return np.mean(heads, axis=0)

    def redraw(self) -> None:
        shown = self.matrix(*self.selected())
        if shown is None:
            self.image.clear()
            return
        self.note_label.clear()
        side = shown.shape[0] * self.frame_seconds
        if self.log_check.isChecked():  # floor: a tenth of what a uniform row gives each key
            floor = 0.1 / max(1, shown.shape[1])
            shown = np.log10(np.maximum(shown, floor))
            levels = (math.log10(floor), max(math.log10(floor) + 1e-6, float(shown.max())))
        else:
            levels = (0.0, max(1e-6, float(shown.max())))
        self.image.setImage(shown, levels=levels, autoLevels=False)
        self.image.setRect(QRectF(self.chunk_start, self.chunk_start, side, side))
        self.plot.setYRange(self.chunk_start, self.chunk_start + side, padding=0)
        if self.plot.vb.linkedView(pg.ViewBox.XAxis) is None:
            self.plot.setXRange(self.chunk_start, self.chunk_start + side, padding=0)
