"""The Transcribe page: record or open audio, see and hear it, transcribe it and watch the attention.

Transcription runs in the engine process (app.engine_client.QtEngineClient):
the page starts an :class:`app.transcription_job.TranscriptionRun`, which asks
the window's :class:`app.model_session.ModelSession` to run a Transcribe command
with the chosen model (it loads the model first when the engine holds another)
and draws the events into the page's views, so the window never waits on the
model. Text grows token by token; the cross-attention heatmap grows one row per
token, on the same time axis as the waveform and spectrogram above it.

A transcript belongs to the audio it came from and names the model that made
it (the engine's answer, not the model list; see app.transcript_result):
opening other audio clears it, and Export writes it under that audio's name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout,
    QWidget,
)

from app.audio_io import Player, Recorder
from app.engine_messages import error_text
from app.i18n import QT_TRANSLATE_NOOP, translate
from app.live_run import LiveRun, recording_stopped, start_live
from app.model_session import ModelChoice, ModelSession
from app.record_bar import RecordBar
from app.settings_dialog import load_settings
from app.transcribe_options import TranscribeOptions
from app.transcript_result import TranscriptResult
from app.transcription_job import RunViews, TranscriptionRun
from app.widgets.attention_view import AttentionView, SelfAttentionView
from app.widgets.audio_view import AudioView
from app.widgets.model_picker import alignment_heads
from app.widgets.transcript_view import TranscriptView
from app.time_text import clock
from engine.errors import ParceroError
from engine.transcript import DecodeOptions

SAMPLE_RATE = 16_000
AUDIO_FILTER = QT_TRANSLATE_NOOP("TranscribePage", "Audio (*.wav *.flac *.ogg *.oga *.mp3);;All files (*)")
EXPORT_FILTER = QT_TRANSLATE_NOOP("TranscribePage", "SubRip subtitles (*.srt);;WebVTT subtitles (*.vtt);;"
                                  "Plain text (*.txt);;JSON with word times (*.json)")
ERROR_STYLE = "QLabel { color: #c62828; font-weight: 600; }"
RESULT_STYLE = ""
STALE_STYLE = "QLabel { color: #b26a00; }"  # the transcript was made by another model than the one chosen now
RECENT_FILES_KEY = "transcribe/recent_files"
MAX_RECENT_FILES = 10


class TranscribePage(QWidget):
    audio_loaded = Signal(str)  # path of the file now shown
    transcription_finished = Signal(object)  # engine.transcript.Transcript
    transcription_failed = Signal(str)  # message shown to the user
    recent_files_changed = Signal(list)  # paths, newest first

    def __init__(self, engine, parent: QWidget | None = None, recordings_folder: str | Path | None = None,
                 session: ModelSession | None = None):
        super().__init__(parent)
        self.engine = engine
        # Which model the engine holds: the window's one session, shared with the other pages.
        self.session = session if session is not None else ModelSession(engine, self)
        self.settings = QSettings()
        self.audio_path: Path | None = None
        self.samples: np.ndarray | None = None
        self.result: TranscriptResult | None = None  # the last finished transcript, of self.audio_path
        self.run: TranscriptionRun | None = None  # the transcription running now
        stored = load_settings(self.settings)
        self.device = stored.device  # where LoadModel puts the model: auto, cpu, cuda
        self.cpu_weights = stored.cpu_weights  # engine.quantize's mode when the model runs on the CPU

        self.player = Player(self)
        self.recorder = Recorder(self, folder=recordings_folder)
        self._build(stored.beam_size)
        self._connect()
        self.setAcceptDrops(True)
        self._update_controls()

    # ---- building -------------------------------------------------------------------

    def _build(self, beam_size: int) -> None:
        self.open_button = QPushButton(self.tr("Open…"))
        self.open_button.setToolTip(self.tr("Open a WAV, FLAC, OGG or MP3 file (Ctrl+O)"))
        self.record_bar = RecordBar(self.recorder, SAMPLE_RATE)
        self.record_button, self.device_combo = self.record_bar.button, self.record_bar.device_combo
        self.recording_available = self.record_bar.available
        self.recording_unavailable_reason = self.record_bar.unavailable_reason  # "" when recording works
        self.play_button = QPushButton(self.tr("▶ Play"))
        self.play_button.setToolTip(self.tr("Play or pause (Space); plays the selection when there is one"))
        if self.recording_available:
            self.file_label = QLabel(self.tr("No audio yet: open a file (Ctrl+O), drop one here, or record (Ctrl+R)."))
        else:  # promise nothing that cannot work here
            self.file_label = QLabel(self.tr("No audio yet: open a file (Ctrl+O) or drop one here."))

        self.options = o = TranscribeOptions(self.settings, beam_size, self)  # the row of choices, remembered
        self.model_picker, self.beam_spin, self.language_combo, self.task_combo, self.prompt_edit = (
            o.model_picker, o.beam_spin, o.language_combo, o.task_combo, o.prompt_edit)
        self.options_dialog, self.options_button, self.selection_check = (
            o.options_dialog, o.options_button, o.selection_check)
        self.transcribe_button = QPushButton(self.tr("Transcribe"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.export_button = QPushButton(self.tr("Export…"))
        self.export_button.setToolTip(self.tr("Save as SRT, VTT, TXT or JSON (Ctrl+E)"))
        self.copy_button = QPushButton(self.tr("Copy"))
        self.progress = QProgressBar()
        # As wide as "1:02:03 / 1:15:00 · about 0:12:57 left" needs in the interface's language.
        widest = "1:02:03 / 1:15:00 · " + translate("TranscribePage", "about {time} left").format(time="0:12:57")
        self.progress.setFixedWidth(self.progress.fontMetrics().horizontalAdvance(widest) + 24)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.result_label = QLabel()  # which audio and model the transcript shown comes from
        self.result_label.setWordWrap(True)
        self.result_label.setStyleSheet(RESULT_STYLE)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.hide()

        self.audio_view = AudioView()
        self.attention_view = AttentionView()
        self.attention_view.link_x(self.audio_view.waveform_plot)
        self.self_attention_view = SelfAttentionView()
        self.attention_tabs = QTabWidget()
        self.attention_tabs.addTab(self.attention_view, self.tr("Cross-attention"))
        self.attention_tabs.addTab(self.self_attention_view, self.tr("Encoder self-attention"))
        self.transcript_view = TranscriptView()
        self.run_views = RunViews(self.transcript_view, self.attention_view, self.self_attention_view, self.progress)

        top = QHBoxLayout()
        for w in (self.open_button, self.record_bar, self.play_button):
            top.addWidget(w)
        self.file_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # a long name: cut
        top.addWidget(self.file_label, 1)
        for w in (self.progress, self.export_button, self.copy_button):  # the file's progress (room for the time
            top.addWidget(w)  # left) and its transcript's export, beside its name: the row below is full
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.audio_view)
        left.addWidget(self.attention_tabs)
        left.setSizes([380, 320])
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.transcript_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([3000, 1000])  # in proportion: the transcript gets a quarter of the width
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.options.row(self.transcribe_button, self.cancel_button))
        layout.addWidget(self.error_label)
        layout.addWidget(self.result_label)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.open_button.clicked.connect(self.choose_audio_file)
        self.record_bar.starting.connect(self.player.stop)
        self.record_bar.started.connect(self.on_record_bar_started)
        self.record_bar.live_audio_changed.connect(self.on_record_bar_live_audio_changed)
        self.play_button.clicked.connect(self.toggle_playback)
        self.transcribe_button.clicked.connect(self.transcribe)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self.choose_export_file)
        self.copy_button.clicked.connect(self.on_copy_button_clicked)
        self.model_picker.model_changed.connect(self.on_model_picker_model_changed)
        self.options.task_changed.connect(self._update_controls)
        self.recorder.stopped.connect(self.on_recorder_stopped)
        self.recorder.failed.connect(self.show_error)  # after the bar has let go of the button
        self.player.position_changed.connect(self.audio_view.set_cursor)
        self.player.failed.connect(self.show_error)
        self.player.state_changed.connect(self.on_player_state_changed)
        self.audio_view.clicked_at.connect(self.play_from)
        self.attention_view.token_hovered.connect(self.on_token_hovered)
        self.transcript_view.word_hovered.connect(self.on_token_hovered)
        self.transcript_view.word_clicked.connect(self.on_transcript_view_word_clicked)
        self.engine.state_changed.connect(self.on_engine_state_changed)

    # ---- audio ----------------------------------------------------------------------

    def load_audio_file(self, path: str | Path) -> bool:
        """Show a file; a bad one gives an inline message naming it and keeps the page usable."""
        from engine.audio import load_audio

        path = Path(path)
        try:
            samples = load_audio(path, SAMPLE_RATE)
        except (ParceroError, ValueError) as error:
            self.show_error(error_text(error))
            return False
        self.player.stop()
        self._abandon_transcription()  # it was of the audio shown before
        self._clear_result()
        self.audio_path, self.samples = path, samples
        self.audio_view.set_audio(samples, SAMPLE_RATE)
        self.file_label.setText(f"{path.name} · {clock(len(samples) / SAMPLE_RATE, 1)}")
        self.file_label.setToolTip(str(path))
        self.clear_error()
        self._remember_recent(path)
        self._update_controls()
        self.audio_loaded.emit(str(path))
        return True

    def choose_audio_file(self) -> None:
        start = str(self.audio_path.parent) if self.audio_path else ""
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open audio"), start, self.tr(AUDIO_FILTER))
        if path:
            self.load_audio_file(path)

    def recent_files(self) -> list[str]:
        return [str(p) for p in self.settings.value(RECENT_FILES_KEY, [], type=list) if p]

    def _remember_recent(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        self.settings.setValue(RECENT_FILES_KEY, recent[:MAX_RECENT_FILES])
        self.recent_files_changed.emit(recent[:MAX_RECENT_FILES])

    @Slot(str)
    def on_record_bar_started(self, path: str) -> None:
        self._abandon_transcription()  # new audio is coming: the old transcript is not its
        self._clear_result()
        self.file_label.setText(self.tr("Recording to {path} …").format(path=path))
        if self.record_bar.live_check.isChecked():  # the text as the person speaks (app.live_run)
            self.run = start_live(self, Path(path))
            self._update_controls()

    def toggle_recording(self) -> None:
        """Start or stop recording (Ctrl+R); where recording cannot work, say why where the person looks."""
        if self.record_button.isEnabled():
            self.record_button.toggle()
        elif not self.recording_available:
            self.show_error(self.tr("Recording is unavailable: {reason}").format(
                reason=self.recording_unavailable_reason))

    @Slot(object)
    def on_record_bar_live_audio_changed(self, samples: np.ndarray) -> None:
        self.audio_view.set_audio(samples, SAMPLE_RATE)  # the full file comes back when recording stops

    @Slot(str)
    def on_recorder_stopped(self, path: str) -> None:
        recording_stopped(self, path)  # the file is shown; a live run finishes its last words over it

    def toggle_playback(self) -> None:
        if self.samples is None:
            return
        if self.player.state == "playing":
            self.player.pause()
        elif self.player.state == "paused":
            self.player.resume()
        else:
            start, end = self.audio_view.selection() or (0.0, None)
            self.player.play(self.samples, SAMPLE_RATE, start, end)

    @Slot(int, float, float)
    def on_transcript_view_word_clicked(self, index: int, start: float, end: float) -> None:
        self.play_from(start)

    @Slot(float)
    def play_from(self, seconds: float) -> None:
        if self.samples is not None:
            self.audio_view.set_cursor(seconds)
            self.player.play(self.samples, SAMPLE_RATE, start_seconds=max(0.0, seconds))

    @Slot(str)
    def on_player_state_changed(self, state: str) -> None:
        self.play_button.setText(self.tr("❚❚ Pause") if state == "playing" else self.tr("▶ Play"))

    # ---- transcription --------------------------------------------------------------

    @Slot(str)
    def on_model_picker_model_changed(self, path: str) -> None:
        self.attention_view.set_alignment_heads(alignment_heads(path) if path else [])
        self._show_result_label()  # a transcript made by another model says so
        self._update_controls()

    def set_model_path(self, path: str | Path) -> None:
        self.model_picker.set_model_path(path)

    def set_device(self, device: str) -> None:
        """Where the next model load goes ("auto", "cpu", "cuda"); a change reloads the model at the next run."""
        self.device = device  # part of the ModelChoice: the session loads again when it differs

    def set_cpu_weights(self, mode: str) -> None:
        """How weights are held on the CPU ("none", "int8", "fp16"); a change reloads the model at the next run."""
        self.cpu_weights = mode

    @property
    def loaded_model(self) -> str | None:
        """The model folder the engine holds (the session's answer; None when none or not known)."""
        return self.session.loaded_path

    @property
    def loaded_info(self) -> dict:
        """The engine's account of the model it holds: name, path, parameters, device, quantize."""
        return self.session.info

    def _quantize(self) -> str:
        """The CPU-weights setting when the model will run on the CPU, else "none" (a GPU has its own precision)."""
        from engine.device import pick_device

        on_cpu = self.device != "cuda" and pick_device(self.device).type == "cpu"  # as the engine will decide
        return self.cpu_weights if on_cpu else "none"

    def decode_options(self) -> DecodeOptions:
        """The options the next run decodes with: the beam, "More options…", for Whisper language, task, prompt."""
        return self.options.decode_options()

    def transcribe(self) -> None:
        model = self.model_picker.current_path()
        if self.samples is None or not model or self._busy():
            return
        self.clear_error()
        self._clear_result()
        if _is_silent(self.samples):  # nothing to decode; a model would only make text up
            self.show_error(self._no_speech_message(len(self.samples) / SAMPLE_RATE, self.tr("the audio is silent")))
            return
        options = self.decode_options()
        region = self.audio_view.selection() if self.selection_check.isChecked() else None
        settings = self.options.recorded_settings(options)  # what its export will say of them
        try:
            run = TranscriptionRun.start(self.session, ModelChoice(model, self.device, self._quantize()), options,
                                         self.run_views, audio=self.audio_path, samples=self.samples, region=region,
                                         settings=settings, parent=self)
        except ParceroError as error:  # the engine is not running (crashed, or still starting)
            self.show_error(error_text(error))
            return
        run.finished.connect(self.on_run_finished)
        run.failed.connect(self.on_run_failed)
        run.cancelled.connect(self.on_run_cancelled)
        run.interrupted.connect(self._end_run)
        self.run = run
        self._update_controls()

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()

    def _busy(self) -> bool:
        return self.run is not None

    def _abandon_transcription(self) -> None:
        """Stop the transcription running now and ignore whatever it still sends (its audio is no longer shown)."""
        if self.run is not None:
            self.run.abandon()
        self._end_run()

    def _end_run(self) -> None:
        if self.run is not None:
            self.run.deleteLater()
        self.run = None
        self._update_controls()

    def _clear_result(self) -> None:
        """Forget the transcript and all that shows it: text, word times, both heatmaps, export and copy."""
        self.result = None
        self.transcript_view.clear_transcript()
        self.attention_view.reset(0, 1, 0)  # no heads until frames arrive
        self.self_attention_view.reset()
        self._show_result_label()
        self._update_controls()

    @property
    def transcript(self):
        """The transcript shown (engine.transcript.Transcript, of self.audio_path), None when none."""
        return self.result.transcript if self.result is not None else None

    @property
    def transcript_meta(self) -> dict:
        """How the transcript shown was made: audio, model (name, path), settings, language; {} when none."""
        return self.result.meta if self.result is not None else {}

    @Slot(object)
    def on_run_finished(self, result: TranscriptResult) -> None:
        self._end_run()
        self.result = result
        if not result.has_text:  # say why the page stays empty
            self.show_error(self._no_speech_message(result.transcript.duration))
        self._show_result_label()
        self.transcription_finished.emit(result.transcript)
        self._update_controls()

    def _no_speech_message(self, seconds: float, why: str = "") -> str:
        name = self.audio_path.name if self.audio_path is not None else self.tr("the recording")
        message = self.tr("No speech found in {file} ({seconds} s)").format(file=name, seconds=f"{seconds:.1f}")
        return f"{message}: {why}" if why else message

    @Slot(str)
    def on_run_failed(self, message: str) -> None:
        self._end_run()
        self.show_error(message)
        self.transcription_failed.emit(message)

    @Slot(object)
    def on_run_cancelled(self, done: TranscriptResult | None) -> None:
        """Cancelled: what was transcribed before stays shown, labelled as partial, and can be exported."""
        self._end_run()
        self.file_label.setText(self.file_label.text() + "  " + self.tr("(transcription cancelled)"))
        if done is not None:
            self.result = done
            self._show_result_label()
            self._update_controls()

    @Slot(str)
    def on_engine_state_changed(self, state: str) -> None:
        self._update_controls()

    @Slot(int, float, float)
    def on_token_hovered(self, index: int, start: float, end: float) -> None:
        if index < 0:
            self.audio_view.clear_highlight()
        else:
            self.audio_view.highlight_span(start, end)

    # ---- export ---------------------------------------------------------------------

    def choose_export_file(self) -> None:
        if self.result is None:
            return
        suggestion = str(self.result.export_suggestion())  # named after the audio this transcript came from
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export transcript"), suggestion, self.tr(EXPORT_FILTER))
        if path:
            self.export(path)

    def export(self, path: str | Path) -> bool:
        """Write the transcript shown, with the model that made it and the settings it was made with."""
        if self.result is None:
            return False
        try:
            self.result.export(path, **self.options_dialog.subtitle_shaping())  # lines as "More options…" says
        except (OSError, ParceroError, ValueError) as error:
            self.show_error(self.tr("{path}: could not export: {error}").format(path=path, error=error))
            return False
        return True

    @Slot()
    def on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.transcript_view.plain_text())

    # ---- state ----------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def _show_result_label(self) -> None:
        """Which audio and model the transcript shown comes from; in amber when another model is chosen now."""
        text = self.result.label() if self.result is not None else ""
        if text and self.result.made_by_another_model(self.model_picker.current_path()):
            text += " · " + self.tr("not the model chosen now: press Transcribe to run {model}").format(
                model=Path(self.model_picker.current_path()).name)
            self.result_label.setStyleSheet(STALE_STYLE)
        else:
            self.result_label.setStyleSheet(RESULT_STYLE)
        self.result_label.setText(text)
        self.result_label.setVisible(bool(text))

    def _update_controls(self) -> None:
        busy = self._busy()
        ready = getattr(self.engine, "state", "ready") in ("ready", "busy")
        has_model = bool(self.model_picker.current_path())
        self.transcribe_button.setEnabled(self.samples is not None and has_model and not busy and ready)
        self.transcribe_button.setToolTip("" if ready else self.tr("The engine is starting…"))
        # Never a silent translation: the button says what it will do.
        self.transcribe_button.setText(self.tr("Translate") if self.options.translating() else self.tr("Transcribe"))
        self.options.update_choices()
        self.options.show_live_beam(self.run.live_beam if isinstance(self.run, LiveRun) else None)
        self.cancel_button.setEnabled(busy)
        has_text = self.result is not None and self.result.has_text  # nothing found: nothing to save
        self.export_button.setEnabled(has_text)
        self.copy_button.setEnabled(has_text)
        self.play_button.setEnabled(self.samples is not None)

    def shutdown(self) -> None:
        """Stop audio and background work before the window closes."""
        self.player.stop()
        if self.recorder.is_recording:
            self.recorder.stop()
        self.audio_view.shutdown()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.load_audio_file(urls[0].toLocalFile())
            event.acceptProposedAction()


def _is_silent(samples: np.ndarray) -> bool:
    from engine.audio import signal_stats

    return signal_stats(samples).is_silent
