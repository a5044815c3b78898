"""Logs and crash reports in the user's log folder.

``setup_logging`` sends Python's logging (and Qt's own warnings) to a rotating
``parcero.log``; warnings still reach the terminal. A :class:`CrashReporter`
replaces ``sys.excepthook`` and ``threading.excepthook``: an exception nobody
caught, in a slot, a paint event or a thread, is written to
``crash-<time>-<pid>.txt`` there (traceback, versions, time) and a dialog
says where, instead of the traceback going to a terminal nobody sees. The engine
process writes its own ``engine.log`` (jobs started, finished, failed, with the
traceback of an internal error) into the same folder.

The folder is platformdirs' user log folder (``~/.local/state/Parcero/log``
on Linux); when ``PARCERO_DATA_DIR`` is set (tests, a portable install),
``$PARCERO_DATA_DIR/logs``.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QtMsgType, QUrl, Signal, Slot, qInstallMessageHandler
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.i18n import translate
from engine.fileio import write_text_atomic
from engine.logfile import LOG_DIR_ENV, rotating_file_handler

log = logging.getLogger(__name__)

LOG_FILE = "parcero.log"
MAX_REPORTS = 20  # crash reports one session writes, so an exception in a paint event cannot fill the disk

_handlers: list[logging.Handler] = []
_folder: Path | None = None  # where setup_logging writes, once it has run
_qt_handler_installed = False
_folder_box: QMessageBox | None = None  # open_log_folder's message box, when it has no parent to keep it


def log_dir() -> Path:
    """The folder for logs and crash reports (it may not exist yet): :func:`engine.paths.logs_dir`."""
    from engine.paths import logs_dir

    return logs_dir()


def current_log_dir() -> Path:
    """The folder logging writes to now: the one ``setup_logging`` chose, else :func:`log_dir`."""
    return _folder if _folder is not None else log_dir()


def setup_logging(folder: str | Path | None = None, level: int = logging.INFO) -> Path | None:
    """Log to ``folder/parcero.log`` (rotating) and warnings to stderr; calling again replaces both.

    Returns the folder, or None when it cannot be written (then only stderr
    gets the messages, and a line there says why).
    """
    global _folder, _qt_handler_installed
    folder = Path(folder) if folder is not None else log_dir()
    root = logging.getLogger()
    for handler in _handlers:
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("parcero: %(levelname)s: %(message)s"))
    _handlers.append(console)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = rotating_file_handler(folder / LOG_FILE, level)
    except OSError as error:
        print(f"parcero: cannot write logs to {folder}: {error.strerror or error}", file=sys.stderr)
        folder = None
    else:
        _handlers.append(file_handler)
    for handler in _handlers:
        root.addHandler(handler)
    root.setLevel(min(level, logging.WARNING))
    if folder is not None:  # the engine process, started after this, writes engine.log beside ours
        os.environ[LOG_DIR_ENV] = str(folder)
    if not _qt_handler_installed:
        qInstallMessageHandler(_on_qt_message)
        _qt_handler_installed = True
    _folder = folder
    logging.getLogger("parcero").info("Parcero %s started; %s", _parcero_version(), ", ".join(
        f"{k} {v}" for k, v in versions(with_torch=False).items() if k != "Parcero"))
    return folder


def stop_logging() -> None:
    """Undo :func:`setup_logging`: close the log file, give Qt's messages back to Qt."""
    global _folder, _qt_handler_installed
    root = logging.getLogger()
    for handler in _handlers:
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
    if _qt_handler_installed:
        qInstallMessageHandler(None)
        _qt_handler_installed = False
    if _folder is not None and os.environ.get(LOG_DIR_ENV) == str(_folder):
        del os.environ[LOG_DIR_ENV]  # engines started from now on keep no log, as before setup
    _folder = None


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO, QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR, QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _on_qt_message(kind, context, message: str) -> None:
    # Qt calls this from whichever thread warned; logging is thread-safe.
    logging.getLogger("qt").log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def _parcero_version() -> str:
    import engine

    return engine.__version__


def versions(with_torch: bool = True) -> dict[str, str]:
    """What Parcero runs on, for the About box and crash reports: {name: version}.

    ``with_torch=False`` leaves out PyTorch and CUDA unless torch is already
    imported (importing it takes a second and can itself be what failed).
    """
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    found = {"Parcero": _parcero_version(), "Python": platform.python_version(), "Qt": qVersion(),
             "PySide6": pyside_version}
    if with_torch or "torch" in sys.modules:
        try:
            import torch

            found["PyTorch"] = torch.__version__
            cuda = torch.version.cuda
            if cuda and torch.cuda.is_available():
                found["CUDA"] = cuda
            else:
                found["CUDA"] = translate("About", "not available") + (
                    translate("About", " (built for {cuda}; no GPU found)").format(cuda=cuda) if cuda else "")
        except Exception as error:  # noqa: BLE001 - a broken torch is worth reporting, not crashing over
            found["PyTorch"] = translate("About", "cannot be imported: {error}").format(error=error)
    found["System"] = f"{platform.system()} {platform.release()} ({platform.machine()})"
    return found


def crash_report_text(exc_type, exc, tb, thread_name: str = "MainThread") -> str:
    """The text of a crash report: when, where, on what, and the traceback. Not translated: it is for bug reports."""
    lines = [
        "Parcero crash report",  # notr: crash reports stay in English, for bug reports
        f"Time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",  # notr
        f"Thread: {thread_name}",  # notr
        f"Process: {os.getpid()}",  # notr
        f"Command: {' '.join(sys.argv)}",  # notr
        "",
        "Versions:",  # notr
    ]
    lines += [f"  {name}: {value}" for name, value in versions(with_torch=False).items()]
    lines += ["", "Traceback:", "".join(traceback.format_exception(exc_type, exc, tb)).rstrip(), ""]  # notr
    return "\n".join(lines)


def write_crash_report(exc_type, exc, tb, thread_name: str = "MainThread", folder: Path | None = None) -> Path | None:
    """Write a crash report into ``folder`` (default: the log folder); returns its path, None if it cannot."""
    folder = folder if folder is not None else current_log_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"crash-{stamp}-{os.getpid()}.txt"
    n = 1
    while path.exists():  # two reports in one second
        n += 1
        path = folder / f"crash-{stamp}-{os.getpid()}-{n}.txt"
    try:
        write_text_atomic(path, crash_report_text(exc_type, exc, tb, thread_name))
    except OSError as error:
        log.error("cannot write the crash report %s: %s", path, error)
        return None
    return path


class CrashReporter(QObject):
    """Catches what nothing else caught, writes a report, and shows one dialog per kind of failure."""

    crashed = Signal(str, str)  # (report path, "" when none could be written; one-line summary)

    def __init__(self, parent: QObject | None = None, folder: Path | None = None):
        super().__init__(parent)
        self.folder = folder
        self.reports: list[Path] = []
        self._seen: set[tuple] = set()
        self._previous = None
        self._previous_thread = None
        # Queued even from the GUI thread: the dialog opens after the failing slot has unwound.
        self.crashed.connect(self.on_self_crashed, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous, self._previous_thread = sys.excepthook, threading.excepthook
        sys.excepthook = self.handle_exception
        threading.excepthook = self.handle_thread_exception

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous, self._previous_thread
            self._previous = self._previous_thread = None

    def handle_exception(self, exc_type, exc, tb, thread_name: str | None = None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            (self._previous or sys.__excepthook__)(exc_type, exc, tb)
            return
        thread_name = thread_name or threading.current_thread().name
        log.critical("unhandled exception in thread %s", thread_name, exc_info=(exc_type, exc, tb))
        # The same failure again (a paint event fails at every repaint) gets neither a new report nor a new dialog.
        frames = traceback.extract_tb(tb)
        key = (exc_type.__qualname__, *((frames[-1].filename, frames[-1].lineno) if frames else ()))
        if key in self._seen:
            return
        self._seen.add(key)
        path = None
        if len(self.reports) < MAX_REPORTS:
            path = write_crash_report(exc_type, exc, tb, thread_name, self.folder)
            if path is not None:
                self.reports.append(path)
                print(f"parcero: unexpected error; report written to {path}", file=sys.stderr)
        summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        self.crashed.emit(str(path or ""), summary)

    def handle_thread_exception(self, args) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        self.handle_exception(args.exc_type, args.exc_value, args.exc_traceback, name)

    @Slot(str, str)
    def on_self_crashed(self, path: str, summary: str) -> None:
        if QApplication.instance() is not None:
            show_crash_dialog(QApplication.activeWindow(), path, summary)


def show_crash_dialog(parent: QWidget | None, path: str, summary: str) -> None:
    """Tell the user something went wrong, where the report is, and offer to open its folder."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(translate("CrashDialog", "Parcero: unexpected error"))
    box.setText(translate("CrashDialog", "Something went wrong inside Parcero. The window keeps working, but "
                          "what you were doing may not have finished."))
    if path:
        details = translate("CrashDialog", "A report was written to:\n{path}\n\nPlease attach it when you report "
                            "the problem.").format(path=path)
    else:
        details = translate("CrashDialog", "No report could be written to the log folder ({folder}).").format(
            folder=current_log_dir())
    box.setInformativeText(details)
    box.setDetailedText(summary)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    open_button = box.addButton(translate("CrashDialog", "Open log folder"), QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is open_button:
        open_log_folder(parent)


def open_log_folder(parent: QWidget | None = None) -> bool:
    """Open the log folder in the file manager; without one, show its path. Returns whether it opened."""
    folder = current_log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.warning("cannot create the log folder %s: %s", folder, error)
    if folder.is_dir() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return True
    box = QMessageBox(QMessageBox.Icon.Information, translate("CrashDialog", "Log folder"),
                      translate("CrashDialog", "Parcero's logs and crash reports are in:\n{folder}").format(
                          folder=folder), QMessageBox.StandardButton.Ok, parent)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    global _folder_box
    _folder_box = box  # without a parent nothing else would keep it alive once this returns
    box.open()
    return False


def start_logging(app: QObject) -> CrashReporter:
    """At start-up: log to the log folder and report uncaught exceptions there.

    Returns the installed reporter; ``app`` owns it.
    """
    setup_logging()
    reporter = CrashReporter(app)
    reporter.install()
    return reporter
