"""Fixtures for the GUI tests: an offscreen Qt and settings that never touch the user's."""

from __future__ import annotations

import os

# Before anything creates the QApplication: no display is needed, on CI or
# over SSH, and no window flashes up on a developer's screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, QStandardPaths  # noqa: E402

from app.main import APP_NAME, ORGANIZATION, configure_pyqtgraph  # noqa: E402

# Redirects every QStandardPaths location (config, data, cache) to a
# test-only folder, so nothing a test writes lands among the user's files.
QStandardPaths.setTestModeEnabled(True)
configure_pyqtgraph()


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path):
    """Point QSettings at a fresh folder for each test; yields that folder."""
    qapp.setOrganizationName(ORGANIZATION)
    qapp.setApplicationName(APP_NAME)
    folder = tmp_path / "settings"
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder / scope.name))
    yield folder


def start_engine(qapp, timeout: float = 120.0):
    """A real engine process, started and ready (it inherits the environment as it is now)."""
    import time

    from app.engine_client import QtEngineClient

    client = QtEngineClient()
    client.start()
    deadline = time.monotonic() + timeout
    while client.state != "ready" and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.02)
    assert client.state == "ready"
    return client


@pytest.fixture(scope="module")
def engine(qapp):
    """One real engine process per test module (spawning one takes a second or two)."""
    client = start_engine(qapp)
    yield client
    client.close()


def new_window(qtbot, engine, tmp_path, *, show: bool = True):
    """A main window on the shared engine, recordings in ``tmp_path/grabaciones``, 1200 x 800, shown unless told."""
    from app.main_window import MainWindow

    window = MainWindow(device_text="CPU (test)", engine=engine, recordings_folder=tmp_path / "grabaciones")
    qtbot.addWidget(window)
    window.resize(1200, 800)
    if show:
        window.show()
    return window


@pytest.fixture(autouse=True)
def no_training_run_left_behind():
    """A failed test must not leave a training process running for hours on a shared machine."""
    yield
    from tests.helpers import kill_launched_training_runs

    kill_launched_training_runs()


# A tiny saved Whisper and the bundled demo model, for the Transcribe page's option tests.
@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory):
    from tests.engine.whisper.fixtures_whisper import save_tiny_whisper

    return save_tiny_whisper(tmp_path_factory.mktemp("models") / "diminuto")


@pytest.fixture
def demo_dir():
    from engine.resources import demo_model_dir

    path = demo_model_dir()
    if path is None:
        pytest.skip("the bundled demo model is missing")
    return path


@pytest.fixture
def views(qtbot):
    """The Transcribe page's views a transcription run draws into, each on its own."""
    from PySide6.QtWidgets import QProgressBar

    from app.transcription_job import RunViews
    from app.widgets.attention_view import AttentionView, SelfAttentionView
    from app.widgets.transcript_view import TranscriptView

    transcript, attention, self_attention, progress = (TranscriptView(), AttentionView(), SelfAttentionView(),
                                                       QProgressBar())
    for widget in (transcript, attention, self_attention, progress):
        qtbot.addWidget(widget)
    return RunViews(transcript, attention, self_attention, progress)
