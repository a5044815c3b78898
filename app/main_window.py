"""Parcero's main window: a page list on the left, the current page on the right."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
)

from app.about_dialog import AboutDialog, about_html
from app.engine_client import QtEngineClient
from app.engine_messages import device_text, exit_reason_text
from app.i18n import QT_TRANSLATE_NOOP, translate
from app.logs import open_log_folder
from app.model_import import ModelImport
from app.model_session import ModelSession
from app.pages.data_page import DataPage
from app.pages.evaluate_page import EvaluatePage
from app.pages.train_page import TrainPage
from app.pages.transcribe_page import TranscribePage
from app.settings_dialog import SettingsDialog, apply_to_window, preferences_shortcuts
from app.widgets.model_picker import model_catalogue
from engine.protocol import GetInfo

ENGINE_STATES = {  # engine state -> status bar text
    "starting": QT_TRANSLATE_NOOP("MainWindow", "Engine: starting…"),
    "ready": QT_TRANSLATE_NOOP("MainWindow", "Engine: ready"),
    "busy": QT_TRANSLATE_NOOP("MainWindow", "Engine: working…"),
    "stopped": QT_TRANSLATE_NOOP("MainWindow", "Engine: stopped"),
    "crashed": QT_TRANSLATE_NOOP("MainWindow", "Engine: crashed (Engine ▸ Restart)"),
}

AUTO_RESTARTS = 3  # an engine that dies unexpectedly is restarted by itself this many times ...
AUTO_RESTART_SECONDS = 120.0  # ... within this long; more often than that is a crash loop, left to the user

GEOMETRY_KEY = "main_window/geometry"
STATE_KEY = "main_window/state"
SPLITTER_KEY = "main_window/splitter"


class MainWindow(QMainWindow):
    """The workbench window; remembers its size, position and layout between runs."""

    def __init__(self, device_text: str | None = None, engine: QtEngineClient | None = None,
                 recordings_folder=None, start_engine: bool = True):
        super().__init__()
        self.setWindowTitle("Parcero")  # notr: the application's name
        self.setObjectName("MainWindow")  # saveState needs named objects

        # One engine process for the whole window; pages share it. A window given an
        # engine (tests, an embedding app) leaves its life to the giver.
        self._owns_engine = engine is None
        self.auto_restarts = AUTO_RESTARTS
        self._crash_times: list[float] = []  # monotonic times of the engine's recent unexpected exits
        self.engine = engine if engine is not None else QtEngineClient(self)
        # The one owner of "which model the engine holds": every page that decodes asks it.
        self.model_session = ModelSession(self.engine, self)
        self.transcribe_page = TranscribePage(self.engine, recordings_folder=recordings_folder,
                                              session=self.model_session)
        self.page_list = QListWidget()
        self.page_list.setObjectName("pageList")
        self.pages = QStackedWidget()
        self.data_page = DataPage()
        self._add_page(self.tr("Transcribe"), self.transcribe_page)
        self._add_page(self.tr("Data"), self.data_page)
        self.train_page = TrainPage(self.engine)
        self._add_page(self.tr("Train"), self.train_page)
        self.evaluate_page = EvaluatePage(self.engine, session=self.model_session)
        self._add_page(self.tr("Evaluate"), self.evaluate_page)
        self.train_page.training_finished.connect(self.on_train_page_training_finished)
        self.train_page.training_started.connect(self.on_train_page_training_started)
        self.page_list.setCurrentRow(0)
        self.page_list.currentRowChanged.connect(self.on_page_list_current_row_changed)
        self.page_list.setMaximumWidth(220)
        self.page_list.setStyleSheet("QListWidget::item { padding: 6px 8px; }")
        self.page_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # wide enough for the longest page name in the interface's language ("Transcribir", "Evaluar"...)
        self.page_list.setMinimumWidth(min(220, self.page_list.sizeHintForColumn(0) + 2 * self.page_list.frameWidth() + 20))

        self.splitter = QSplitter()
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.page_list)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([140, 860])
        self.setCentralWidget(self.splitter)

        self._build_menus()
        # A window given a running engine shows its state now; it may not change for a while.
        state = self.engine.state if engine is not None else "starting"
        self.engine_label = QLabel(self.tr(ENGINE_STATES.get(state, ENGINE_STATES["starting"])))
        self.engine_label.setObjectName("engineLabel")
        self.statusBar().addPermanentWidget(self.engine_label)
        self.model_label = QLabel()  # the model the engine holds, as the session knows it
        self.model_label.setObjectName("modelLabel")
        self.model_label.setToolTip(self.tr("The model the engine process holds now"))
        self.model_label.hide()
        self.statusBar().addPermanentWidget(self.model_label)
        self.device_label = QLabel(device_text if device_text is not None else _describe_device())
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setToolTip(self.tr("Where models run"))
        self.statusBar().addPermanentWidget(self.device_label)
        self.transcribe_page.audio_loaded.connect(self.on_transcribe_page_audio_loaded)
        self.transcribe_page.recent_files_changed.connect(self.on_transcribe_page_recent_files_changed)
        self.engine.state_changed.connect(self.on_engine_state_changed)
        self.model_session.model_changed.connect(self.on_model_session_model_changed)
        self.engine.info_received.connect(self.on_engine_info_received)
        self.engine.worker_exited.connect(self.on_engine_worker_exited)
        self.engine.start_failed.connect(self.on_engine_start_failed)
        self.on_transcribe_page_recent_files_changed(self.transcribe_page.recent_files())

        self.resize(QSize(1200, 800))
        self._restore_settings()
        self._fit_to_screen()
        if start_engine and engine is None:
            self.engine.start()
        if self.train_page.reattach() and self.train_page.training:  # a run went on while no window was open
            self.statusBar().showMessage(self.tr("A training run went on while Parcero was closed; the Train page "
                                                 "follows it again."), 15000)

    def _add_page(self, name: str, page) -> None:
        self.pages.addWidget(page)
        self.page_list.addItem(QListWidgetItem(name))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.open_action = QAction(self.tr("&Open audio…"), self)
        self.open_action.setShortcut(QKeySequence("Ctrl+O"))
        self.open_action.triggered.connect(self.on_open_action_triggered)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu(self.tr("Open &recent"))
        self.model_import = ModelImport(self)
        self.import_model_action = QAction(self.tr("&Import a Whisper model…"), self)
        self.import_model_action.setToolTip(self.tr("An OpenAI .pt file, or a Hugging Face or CTranslate2 folder; "
                                                    "it joins every model list"))
        self.import_model_action.triggered.connect(self.on_import_model_action_triggered)
        file_menu.addAction(self.import_model_action)
        self.open_manifest_action = QAction(self.tr("Open &manifest…"), self)
        self.open_manifest_action.setShortcut(QKeySequence("Ctrl+M"))
        self.open_manifest_action.triggered.connect(self.on_open_manifest_action_triggered)
        file_menu.addAction(self.open_manifest_action)
        self.export_action = QAction(self.tr("&Export transcript…"), self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.triggered.connect(lambda: self.transcribe_page.choose_export_file())
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        self.preferences_action = QAction(self.tr("&Preferences…"), self)
        self.preferences_action.setShortcuts(preferences_shortcuts())
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.preferences_action.triggered.connect(self.on_preferences_action_triggered)
        file_menu.addAction(self.preferences_action)
        file_menu.addSeparator()
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        audio_menu = self.menuBar().addMenu(self.tr("&Audio"))
        self.record_action = QAction(self.tr("&Record"), self)
        self.record_action.setShortcut(QKeySequence("Ctrl+R"))
        # Enabled even without a microphone: Ctrl+R then says why, instead of doing nothing.
        self.record_action.triggered.connect(self.on_record_action_triggered)
        audio_menu.addAction(self.record_action)
        self.live_file_action = QAction(self.tr("Transcribe a file &live…"), self)
        self.live_file_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.live_file_action.setToolTip(self.tr("Play an audio file as if it were spoken into the microphone, with "
                                                 "live text: what live transcription does, without a microphone"))
        self.live_file_action.triggered.connect(self.on_live_file_action_triggered)
        audio_menu.addAction(self.live_file_action)
        self.play_action = QAction(self.tr("&Play / pause"), self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.triggered.connect(self.on_play_action_triggered)
        audio_menu.addAction(self.play_action)
        self.transcribe_action = QAction(self.tr("&Transcribe"), self)
        self.transcribe_action.setShortcut(QKeySequence("Ctrl+T"))
        self.transcribe_action.triggered.connect(lambda: self.transcribe_page.transcribe())
        audio_menu.addAction(self.transcribe_action)

        engine_menu = self.menuBar().addMenu(self.tr("&Engine"))
        self.restart_action = QAction(self.tr("&Restart engine"), self)
        self.restart_action.triggered.connect(lambda: self.engine.restart())
        engine_menu.addAction(self.restart_action)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.log_folder_action = QAction(self.tr("Open &log folder"), self)
        self.log_folder_action.setToolTip(self.tr("Logs and crash reports, to attach to a bug report"))
        self.log_folder_action.triggered.connect(self.on_log_folder_action_triggered)
        help_menu.addAction(self.log_folder_action)
        help_menu.addSeparator()
        self.about_action = QAction(self.tr("&About Parcero"), self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.on_about_action_triggered)
        help_menu.addAction(self.about_action)

    # ---- settings -------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value(GEOMETRY_KEY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.value(STATE_KEY)
        if state is not None:
            self.restoreState(state)
        splitter = settings.value(SPLITTER_KEY)
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def _fit_to_screen(self) -> None:
        # The default size (or one saved on a bigger monitor) must not put the status bar below the
        # bottom of a laptop's 1366 x 768 screen: shrink to the screen's free area, and fill a small one.
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = 40  # room for the title bar the window manager adds (not counted in our size)
        width, height = min(self.width(), free.width()), min(self.height(), free.height() - frame)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
            self.move(free.left() + (free.width() - width) // 2, free.top())

    def _save_settings(self) -> None:
        settings = QSettings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(STATE_KEY, self.saveState())
        settings.setValue(SPLITTER_KEY, self.splitter.saveState())
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        # A training run lives in a process of its own (app.training_runs): it goes on after the window
        # closes, and the next window re-attaches to it. Nothing to stop or wait for here.
        self.transcribe_page.shutdown()
        self.model_import.shutdown()
        self.data_page.shutdown()
        self.train_page.shutdown()
        self._save_settings()
        if self._owns_engine:
            self.engine.close(timeout=5.0)
        super().closeEvent(event)

    # ---- slots ----------------------------------------------------------------

    @Slot(int)
    def on_page_list_current_row_changed(self, row: int) -> None:
        if 0 <= row < self.pages.count():
            self.pages.setCurrentIndex(row)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        # Back from a terminal where a model was imported: the lists look again (the watcher
        # usually has already; this covers file systems it cannot watch).
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            model_catalogue().rescan()
        super().changeEvent(event)

    @Slot()
    def on_record_action_triggered(self) -> None:
        page = self.transcribe_page
        if not page.recording_available:
            self.page_list.setCurrentRow(self.pages.indexOf(page))
            self.statusBar().showMessage(self.tr("Recording is unavailable: {reason}").format(
                reason=page.recording_unavailable_reason), 10000)
        page.toggle_recording()

    @Slot()
    def on_open_action_triggered(self) -> None:
        self.page_list.setCurrentRow(self.pages.indexOf(self.transcribe_page))
        self.transcribe_page.choose_audio_file()

    @Slot()
    def on_live_file_action_triggered(self) -> None:
        from pathlib import Path

        from PySide6.QtWidgets import QFileDialog

        from app.i18n import translate
        from app.live_run import transcribe_file_live
        from app.pages.transcribe_page import AUDIO_FILTER

        self.page_list.setCurrentRow(self.pages.indexOf(self.transcribe_page))
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Transcribe a file live"), "",
                                              translate("TranscribePage", AUDIO_FILTER))
        if path:
            transcribe_file_live(self.transcribe_page, Path(path))

    @Slot(str)
    def on_transcribe_page_audio_loaded(self, path: str) -> None:
        self.statusBar().showMessage(self.tr("Opened {path}").format(path=path), 5000)

    @Slot(str)
    def on_train_page_training_started(self, run_dir: str) -> None:
        self.statusBar().showMessage(self.tr("Training runs in a process of its own: you can transcribe and evaluate "
                                             "meanwhile, and closing Parcero does not stop it (reopening Parcero "
                                             "re-attaches to it)."), 15000)

    @Slot(dict)
    def on_train_page_training_finished(self, result: dict) -> None:
        if result.get("best_cer") is not None and result.get("run_dir"):
            from pathlib import Path

            self.evaluate_page.set_model_path(Path(result["run_dir"]) / "best")

    @Slot()
    def on_play_action_triggered(self) -> None:
        # Space plays whatever the current page shows.
        if self.pages.currentWidget() is self.data_page:
            self.data_page.toggle_playback()
        else:
            self.transcribe_page.toggle_playback()

    @Slot()
    def on_import_model_action_triggered(self) -> None:
        if self.model_import.busy:
            self.statusBar().showMessage(self.tr("An import is still running; wait for it to end."), 5000)
            return
        self.page_list.setCurrentRow(self.pages.indexOf(self.transcribe_page))
        self.model_import.choose_and_import()

    @Slot()
    def on_open_manifest_action_triggered(self) -> None:
        self.page_list.setCurrentRow(self.pages.indexOf(self.data_page))
        self.data_page.on_open_button_clicked()

    @Slot(list)
    def on_transcribe_page_recent_files_changed(self, paths: list) -> None:
        self.recent_menu.clear()
        for path in paths:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.transcribe_page.load_audio_file(p))
        self.recent_menu.setEnabled(bool(paths))

    @Slot(str)
    def on_engine_state_changed(self, state: str) -> None:
        self.engine_label.setText(self.tr(ENGINE_STATES[state]) if state in ENGINE_STATES else state)
        if state == "ready" and not getattr(self, "_asked_info", False):
            self._asked_info = True
            self.engine.submit(GetInfo)

    @Slot(object)
    def on_model_session_model_changed(self, info: dict) -> None:
        name = info.get("name") or ""
        self.model_label.setText(self.tr("Model: {name}").format(name=name) if name else "")
        self.model_label.setVisible(bool(name))

    @Slot(object)
    def on_engine_info_received(self, info) -> None:
        self.device_label.setText(device_text(info))  # worded here, in the interface's language
        versions = ", ".join(f"{k} {v}" for k, v in info.versions.items())
        self.device_label.setToolTip(self.tr("The engine process runs models here. {versions}").format(
            versions=versions))

    @Slot(int, str)
    def on_engine_worker_exited(self, code: int, reason: str) -> None:
        if reason == "shut down" or self.engine.state != "crashed":  # closed or restarted on purpose
            return
        # A crash (a native library's segfault, the out-of-memory killer) loses the loaded model,
        # not the window: start a fresh engine so that the next click works. The job that was
        # running is not sent again (it may be what crashed it), and a crash loop is left to the user.
        now = time.monotonic()
        self._crash_times = [t for t in self._crash_times if now - t < AUTO_RESTART_SECONDS] + [now]
        if len(self._crash_times) <= self.auto_restarts:
            self.statusBar().showMessage(
                self.tr("The engine process stopped: {reason}. A new one is starting; the model is loaded "
                        "again at the next run.").format(reason=exit_reason_text(reason)))
            QTimer.singleShot(0, self.engine.restart)  # after every page has seen the crash
        else:
            self.statusBar().showMessage(
                self.tr("The engine process stopped: {reason}, {count} times in {minutes} minutes. "
                        "Use Engine ▸ Restart engine.").format(reason=exit_reason_text(reason),
                                                               count=len(self._crash_times),
                                                               minutes=round(AUTO_RESTART_SECONDS / 60)))

    @Slot(str)
    def on_engine_start_failed(self, message: str) -> None:
        self.engine_label.setText(self.tr("Engine: failed to start"))
        self.transcribe_page.show_error(self.tr("The engine could not start: {message}").format(message=message))

    @Slot()
    def on_about_action_triggered(self) -> None:
        self.about_dialog = AboutDialog(self, device=self.device_label.text())
        self.about_dialog.open()

    @Slot()
    def on_preferences_action_triggered(self) -> None:
        self.settings_dialog = SettingsDialog(self)
        self.settings_dialog.settings_saved.connect(lambda values: apply_to_window(self, values))
        self.settings_dialog.open()

    @Slot()
    def on_log_folder_action_triggered(self) -> None:
        open_log_folder(self)


def about_text() -> str:
    """The About box: what Parcero is and the versions it runs on (HTML); see app.about_dialog."""
    return about_html(_describe_device())


def _describe_device() -> str:
    # Imports torch (about a second); kept out of module import so that
    # importing the window stays cheap.
    from app.engine_messages import local_device_text

    try:
        return local_device_text()
    except Exception as error:  # a broken CUDA install must not stop the window opening
        return translate("MainWindow", "device unknown ({error})").format(error=error)
