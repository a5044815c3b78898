"""The transcript as it grows: finished words are links to their time, the chunk being decoded is grey.

Words carry their start and end (from CTC alignment or attention), so clicking
one seeks playback there and hovering one highlights it on the waveform.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.i18n import QT_TRANSLATE_NOOP

PLACEHOLDER = QT_TRANSLATE_NOOP("TranscriptView", "The transcript appears here, token by token. Open or record audio, "
                                "pick a model and press Transcribe.")


class TranscriptView(QTextBrowser):
    word_clicked = Signal(int, float, float)  # word index, start s, end s
    word_hovered = Signal(int, float, float)  # word index (-1: none), start s, end s

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setPlaceholderText(self.tr(PLACEHOLDER))
        self.words: list[tuple[str, float, float]] = []  # (word, start, end) of finished chunks
        self.partial = ""
        self.anchorClicked.connect(self.on_self_anchor_clicked)
        self.highlighted.connect(self.on_self_highlighted)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.setFont(font)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        # Qt draws the placeholder on one line, cut off in a narrow pane; an empty view draws it wrapped.
        if not self.document().isEmpty() or not self.placeholderText():
            super().paintEvent(event)
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().placeholderText().color())
        margin = int(self.document().documentMargin())
        painter.drawText(self.viewport().rect().adjusted(margin, margin, -margin, -margin),
                         int(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap),
                         self.placeholderText())

    def clear_transcript(self) -> None:
        self.words = []
        self.partial = ""
        self._render()

    def set_partial(self, text: str) -> None:
        """Text decoded so far in the current chunk (replaced at every step)."""
        self.partial = text
        self._render()

    def add_words(self, words) -> None:
        """A chunk is finished: its words (word, start, end) join the transcript."""
        self.words.extend((str(w), float(s), float(e)) for w, s, e in words)
        self.partial = ""
        self._render()

    def plain_text(self) -> str:
        done = " ".join(w for w, _, _ in self.words)
        return f"{done} {self.partial}".strip()

    def _render(self) -> None:
        parts = [
            f'<a href="w:{i}" style="color: palette(text); text-decoration: none;" '
            f'title="{s:.2f}–{e:.2f} s">{html.escape(w)}</a>'
            for i, (w, s, e) in enumerate(self.words)
        ]
        if self.partial:
            parts.append(f'<span style="color: gray;">{html.escape(self.partial)}</span>')
        self.setHtml(" ".join(parts))
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def _word(self, url: QUrl) -> int:
        s = url.toString()
        return int(s[2:]) if s.startswith("w:") and s[2:].isdigit() else -1

    @Slot(QUrl)
    def on_self_anchor_clicked(self, url: QUrl) -> None:
        i = self._word(url)
        if 0 <= i < len(self.words):
            _, s, e = self.words[i]
            self.word_clicked.emit(i, s, e)

    @Slot(QUrl)
    def on_self_highlighted(self, url: QUrl) -> None:
        i = self._word(url)
        if 0 <= i < len(self.words):
            _, s, e = self.words[i]
            self.word_hovered.emit(i, s, e)
        else:
            self.word_hovered.emit(-1, 0.0, 0.0)
