"""Guards against Qt-binding bugs that once crashed the whole test run."""

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter


def test_drawing_lines_keeps_references_to_none(qapp):
    # PySide6 6.12.0 dropped a reference to None at every QPainter.drawLine(QPointF, QPointF);
    # pyqtgraph draws axis ticks that way, and Python 3.11 aborts once None's count hits zero.
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        before = sys.getrefcount(None)
        for _ in range(2000):
            painter.drawLine(QPointF(0, 0), QPointF(10, 10))
        assert sys.getrefcount(None) >= before - 10
    finally:
        painter.end()
