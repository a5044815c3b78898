"""Start the Parcero desktop application.

``parcero`` with no command (see ``engine.cli``) calls ``main`` here;
``python -m app.main`` does the same.
"""

from __future__ import annotations

import sys
from typing import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

import engine
from app.main_window import MainWindow

APP_NAME = "Parcero"
ORGANIZATION = "Parcero"


def configure_pyqtgraph() -> None:
    """pyqtgraph options for the whole application; call before any plot exists."""
    # Antialiasing costs drawing time on dense waveforms and adds nothing at
    # about one point per pixel; row-major makes image arrays
    # (spectrograms, attention maps) indexable as [row, column] like numpy.
    pg.setConfigOptions(antialias=False, imageAxisOrder="row-major")


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window and run the event loop; returns the exit status.

    Parameters
    ----------
    argv : sequence of str or None
        The command line as ``QApplication`` takes it, program name first
        (Qt options such as ``-platform offscreen`` are understood); ``None``
        uses ``sys.argv``.
    """
    app = QApplication.instance() or QApplication(list(sys.argv if argv is None else argv))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationVersion(engine.__version__)
    app.setDesktopFileName("parcero")
    configure_pyqtgraph()

    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
