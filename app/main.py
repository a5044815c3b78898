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
from app.about_dialog import application_icon
from app.first_run import start as start_first_run
from app.i18n import install_translator
from app.logs import start_logging
from app.main_window import MainWindow
from app.settings_dialog import apply_settings, load_settings
from engine.resources import APP_ID

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
    app.setDesktopFileName(APP_ID)  # packaging/linux/<APP_ID>.desktop: Wayland matches the window to it
    start_logging(app)  # the log folder gets the log and a report of any uncaught exception
    configure_pyqtgraph()
    install_translator(app)  # the saved language choice (ui/language); before any widget exists

    apply_settings(app, load_settings())  # theme and data folder, before the engine process starts
    app.setWindowIcon(application_icon())
    window = MainWindow()
    start_first_run(window)  # the demo model and a sample the first time, the last model later; the hint
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
