"""Render the PNG sizes of Parcero's icon from its SVG (resources/icons/hicolor/scalable/apps/).

    .venv/bin/python packaging/linux/render-icons.py

Writes resources/icons/hicolor/<N>x<N>/apps/io.github.parcero.Parcero.png for the
sizes desktops look up. Run it again after changing the SVG; the PNGs are
committed so that neither installing nor running needs Qt's SVG module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
APP_ID = "io.github.parcero.Parcero"


def render(svg: Path, hicolor: Path, sizes=SIZES) -> list[Path]:
    """Render ``svg`` at each size into ``hicolor/<N>x<N>/apps/``; returns the files written."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG file")
    written = []
    for n in sizes:
        image = QImage(n, n, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = hicolor / f"{n}x{n}" / "apps" / f"{APP_ID}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp.png")
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"{out}: could not write the PNG")
        os.replace(tmp, out)
        written.append(out)
    return written


def main() -> int:
    hicolor = Path(__file__).resolve().parents[2] / "resources" / "icons" / "hicolor"
    if QGuiApplication.instance() is None:
        QGuiApplication(sys.argv[:1])  # QPainter needs an application object
    for path in render(hicolor / "scalable" / "apps" / f"{APP_ID}.svg", hicolor):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
