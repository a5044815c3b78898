"""The About box, the log file, and crash reports written instead of the window vanishing."""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
import threading

import pytest
import torch
from PySide6.QtCore import QObject, Signal, qVersion
from PySide6.QtGui import QGuiApplication

import engine
from app import logs
from engine import logfile
from app.about_dialog import AboutDialog
from app.main_window import MainWindow


@pytest.fixture
def log_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    yield tmp_path / "datos" / "logs"
    logs.stop_logging()


def test_about_lists_the_versions_and_copies_them(qtbot):
    dialog = AboutDialog(device="CPU (2 threads)")
    qtbot.addWidget(dialog)
    text = dialog.text_label.text()
    for expected in (f"Parcero {engine.__version__}", torch.__version__, qVersion(), platform.python_version(),
                     "CUDA", "CPU (2 threads)", "https://"):
        assert expected in text
    cuda = "not available" if not torch.cuda.is_available() else torch.version.cuda
    assert cuda in text
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert f"PyTorch: {torch.__version__}" in copied and "Device: CPU (2 threads)" in copied


def test_the_help_menu_opens_about_and_the_log_folder(qtbot, engine, log_folder, monkeypatch):
    opened = []
    monkeypatch.setattr(logs.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window = MainWindow(device_text="CPU (test)", engine=engine)
    qtbot.addWidget(window)
    window.about_action.trigger()
    assert window.about_dialog.isVisible() and "CPU (test)" in window.about_dialog.text_label.text()
    window.about_dialog.close()
    window.log_folder_action.trigger()
    assert opened == [str(log_folder)] and log_folder.is_dir()


def test_without_a_file_manager_the_log_folder_is_named(qtbot, log_folder, monkeypatch):
    monkeypatch.setattr(logs.QDesktopServices, "openUrl", lambda url: False)
    from PySide6.QtWidgets import QApplication, QMessageBox

    assert not logs.open_log_folder()

    def boxes():
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]

    qtbot.waitUntil(lambda: len(boxes()) == 1, timeout=3000)
    assert str(log_folder) in boxes()[0].text()  # the path, to copy, where no file manager can open it
    boxes()[0].close()


def test_logging_goes_to_a_rotating_file(log_folder):
    assert logs.setup_logging() == log_folder
    logging.getLogger("app.prueba").info("transcripción de «señor Núñez» terminada")
    text = (log_folder / logs.LOG_FILE).read_text(encoding="utf-8")
    assert "Parcero" in text and "transcripción de «señor Núñez» terminada" in text
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler))
    assert handler.maxBytes == logfile.MAX_LOG_BYTES and handler.backupCount == logfile.LOG_BACKUPS


def test_an_unwritable_log_folder_is_reported_not_fatal(tmp_path, capsys):
    blocker = tmp_path / "no-carpeta"
    blocker.write_text("un fichero donde iría la carpeta")
    try:
        assert logs.setup_logging(blocker / "logs") is None
    finally:
        logs.stop_logging()
    assert "cannot write logs to" in capsys.readouterr().err


class Boom(QObject):
    pressed = Signal()


@pytest.fixture
def reporter(qapp, log_folder, monkeypatch):
    """A crash reporter writing into the test's log folder; the dialog is recorded instead of shown."""
    shown = []
    monkeypatch.setattr(logs, "show_crash_dialog", lambda parent, path, summary: shown.append((path, summary)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test, whatever install did
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    r = logs.CrashReporter(qapp)
    r.install()
    r.shown = shown
    yield r
    r.uninstall()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_writes_a_report_and_shows_where(qtbot, reporter, log_folder):
    def on_pressed():
        raise ZeroDivisionError("división entre cero en el botón")

    boom = Boom()
    boom.pressed.connect(on_pressed)
    boom.pressed.emit()  # the slot raises; Qt hands the exception to sys.excepthook and carries on
    qtbot.waitUntil(lambda: len(reporter.shown) == 1, timeout=5000)
    path, summary = reporter.shown[0]
    report = (log_folder / path.rsplit("/", 1)[-1])
    assert report.parent == log_folder and report.is_file()
    text = report.read_text(encoding="utf-8")
    for expected in ("Parcero crash report", f"Parcero: {engine.__version__}", "Traceback", "on_pressed",
                     "ZeroDivisionError: división entre cero en el botón", "Thread: MainThread"):
        assert expected in text
    assert "división entre cero" in summary
    boom.pressed.emit()  # the same failure again: no second report, no second dialog
    qtbot.wait(100)
    assert len(reporter.shown) == 1 and len(list(log_folder.glob("crash-*.txt"))) == 1


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_thread_is_reported_on_the_gui_thread(qtbot, reporter, log_folder):
    def work():
        raise RuntimeError("fallo en segundo plano")

    thread = threading.Thread(target=work, name="trabajador")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(reporter.shown) == 1, timeout=5000)
    (report,) = log_folder.glob("crash-*.txt")
    text = report.read_text(encoding="utf-8")
    assert "Thread: trabajador" in text and "RuntimeError: fallo en segundo plano" in text


def test_the_crash_dialog_names_the_report(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    seen = {}

    def fake_exec(box):
        seen.update(text=box.informativeText(), details=box.detailedText(),
                    buttons=[b.text() for b in box.buttons()])
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    logs.show_crash_dialog(None, str(tmp_path / "crash-1.txt"), "ValueError: malo")
    assert str(tmp_path / "crash-1.txt") in seen["text"] and seen["details"] == "ValueError: malo"
    assert "Open log folder" in seen["buttons"]


def test_the_engine_process_logs_its_jobs_beside_the_gui(log_folder, tmp_path):
    from engine.client import EngineClient
    from engine.logfile import LOG_DIR_ENV
    from engine.protocol import Failed, LoadModel

    assert logs.setup_logging() == log_folder
    assert os.environ[LOG_DIR_ENV] == str(log_folder)  # what the engine process inherits
    client = EngineClient()
    client.start()
    try:
        missing = tmp_path / "no hay modelo"
        [*_, failed] = client.wait(client.submit(LoadModel, path=str(missing)), timeout=60)
        assert isinstance(failed, Failed)
    finally:
        client.close()
    text = (log_folder / "engine.log").read_text(encoding="utf-8")
    assert f"engine {engine.__version__} started" in text and "engine stopped" in text
    assert "load_model started" in text and "failed:" in text and "no hay modelo" in text
    logs.stop_logging()
    assert LOG_DIR_ENV not in os.environ  # engines started later keep no log
