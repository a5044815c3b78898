"""Table models of the Data page: plain rows, and utterances with a filter for the browser.

Views sort on ``SORT_ROLE`` (the raw value: a duration sorts as a number,
not as text), so ``"10.2"`` comes after ``"9.8"``.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from app.i18n import QT_TRANSLATE_NOOP, translate
from engine.data.manifest import Utterance

SORT_ROLE = Qt.ItemDataRole.UserRole
UTTERANCE_ROLE = Qt.ItemDataRole.UserRole + 1  # the Utterance of a row, from any column
GENDER_UNKNOWN = "unknown"
EXCLUDED_COLOR = QColor("#c62828")

Index = QModelIndex | QPersistentModelIndex


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return translate("RowsModel", "yes") if value else translate("RowsModel", "no")
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def fold(text: str) -> str:
    """Lower case without accents (``"Núñez"`` -> ``"nunez"``), for forgiving search."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class RowsModel(QAbstractTableModel):
    """Read-only rows of plain values under fixed headers.

    ``highlight_column``, when set, names a boolean column whose true rows
    are drawn in ``EXCLUDED_COLOR`` (problems that removed their item).
    """

    def __init__(self, headers: Sequence[str], parent=None, highlight_column: int | None = None):
        super().__init__(parent)
        self.headers = list(headers)
        self.rows: list[tuple] = []
        self.highlight_column = highlight_column

    def set_rows(self, rows: Sequence[tuple]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return _show(value)
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.ForegroundRole and self.highlight_column is not None:
            return EXCLUDED_COLOR if self.rows[index.row()][self.highlight_column] else None
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None


class UtteranceTableModel(QAbstractTableModel):
    """Utterances as rows: id, text, speaker, gender, duration (s)."""

    HEADERS = ("id", QT_TRANSLATE_NOOP("UtteranceTableModel", "text"),  # shown through self.tr
               QT_TRANSLATE_NOOP("UtteranceTableModel", "speaker"), QT_TRANSLATE_NOOP("UtteranceTableModel", "gender"),
               QT_TRANSLATE_NOOP("UtteranceTableModel", "duration (s)"))

    def __init__(self, parent=None):
        super().__init__(parent)
        self.utterances: list[Utterance] = []

    def set_utterances(self, utterances: Sequence[Utterance]) -> None:
        self.beginResetModel()
        self.utterances = list(utterances)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.utterances)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def value(self, row: int, column: int) -> Any:
        u = self.utterances[row]
        return (u.id, u.text, u.speaker, u.gender or GENDER_UNKNOWN, u.duration)[column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == UTTERANCE_ROLE:
            return self.utterances[index.row()]
        if role == SORT_ROLE:
            return self.value(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _show(self.value(index.row(), index.column()))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 1:
            return self.utterances[index.row()].text  # long sentences are cut in the cell
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.tr(self.HEADERS[section])
        return None


class UtteranceFilterProxy(QSortFilterProxyModel):
    """Keeps the utterances matching a search text, a gender and a duration range.

    The search looks in id, text and speaker. Typed without accents it
    ignores them (``nunez`` finds ``Núñez``); typed with accents or ñ it
    matches them exactly (``año`` does not find ``ano``), as a Spanish
    speaker searching for ``año`` means it.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._text = ""
        self._exact = False
        self._gender: str | None = None
        self._min_duration = 0.0
        self._max_duration: float | None = None

    def set_text(self, text: str) -> None:
        text = text.strip()
        exact = fold(text) != text.casefold()
        self._refilter(_text=text.casefold() if exact else fold(text), _exact=exact)

    def set_gender(self, gender: str | None) -> None:
        """``"male"``, ``"female"``, ``"unknown"`` or ``None`` for all."""
        self._refilter(_gender=gender)

    def set_duration_range(self, minimum: float = 0.0, maximum: float | None = None) -> None:
        """Seconds, inclusive; ``maximum=None`` means no upper limit."""
        self._refilter(_min_duration=minimum, _max_duration=maximum)

    def _refilter(self, **settings) -> None:
        # Qt 6.10 deprecates invalidateFilter() for this begin/end pair; older Qt lacks the pair.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self._set(settings)
            self.endFilterChange()
        else:
            self._set(settings)
            self.invalidateRowsFilter()

    def _set(self, settings: dict) -> None:
        for name, value in settings.items():
            setattr(self, name, value)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        u: Utterance = self.sourceModel().utterances[source_row]
        if self._gender is not None and (u.gender or GENDER_UNKNOWN) != self._gender:
            return False
        if u.duration < self._min_duration or (self._max_duration is not None and u.duration > self._max_duration):
            return False
        if self._text:
            haystack = f"{u.id}\n{u.text}\n{u.speaker}"
            haystack = haystack.casefold() if self._exact else fold(haystack)
            if self._text not in haystack:
                return False
        return True
