"""The Transcribe page: record or open audio, see and hear it, transcribe it and watch the attention.

Transcription runs in the engine process (app.engine_client.QtEngineClient):
the page sends LoadModel and Transcribe commands and follows the events,
so the window never waits on the model. Text grows token by token; the
cross-attention heatmap grows one row per token, on the same time axis as the
waveform and spectrogram above it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QSplitter,
    QTabWidget, QVBoxLayout, QWidget,
)

from app.audio_io import Player, Recorder, audio_backend_status, list_input_devices
from app.i18n import QT_TRANSLATE_NOOP
from app.settings_dialog import load_settings
from app.widgets.attention_view import AttentionView, SelfAttentionView
from app.widgets.audio_view import AudioView
from app.widgets.level_meter import LevelMeter
from app.widgets.model_picker import ModelPicker, alignment_heads
from app.widgets.transcript_view import TranscriptView
from engine.decode import DecodeOptions
from engine.errors import ParceroError
from engine.protocol import LoadModel, Transcribe

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
AUDIO_FILTER = QT_TRANSLATE_NOOP("TranscribePage", "Audio (*.wav *.flac *.ogg *.oga *.mp3);;All files (*)")
EXPORT_FILTER = QT_TRANSLATE_NOOP("TranscribePage", "SubRip subtitles (*.srt);;WebVTT subtitles (*.vtt);;"
                                  "Plain text (*.txt);;JSON with word times (*.json)")
ERROR_STYLE = "QLabel { color: #c62828; font-weight: 600; }"
RECENT_FILES_KEY = "transcribe/recent_files"
MAX_RECENT_FILES = 10
LIVE_SECONDS = 10  # the scrolling waveform while recording shows this many seconds
LIVE_REDRAW_SECONDS = 0.25


class TranscribePage(QWidget):
    audio_loaded = Signal(str)  # path of the file now shown
    transcription_finished = Signal(object)  # engine.transcribe.Transcript
    transcription_failed = Signal(str)  # message shown to the user
    recent_files_changed = Signal(list)  # paths, newest first

    def __init__(self, engine, parent: QWidget | None = None, recordings_folder: str | Path | None = None):
        super().__init__(parent)
        self.engine = engine
        self.settings = QSettings()
        self.audio_path: Path | None = None
        self.samples: np.ndarray | None = None
        self.transcript = None  # the last finished engine.transcribe.Transcript
        self.loaded_model: str | None = None  # model folder the engine holds
        stored = load_settings(self.settings)
        self.device = stored.device  # where LoadModel puts the model: auto, cpu, cuda
        self.cpu_weights = stored.cpu_weights  # engine.quantize's mode when the model runs on the CPU
        self._load_job = self._job = None
        self.loaded_info: dict = {}
        self._partial_chunk = -1
        self._partial_temperature = 0.0
        self._token_texts: list[str] = []
        self._offset = 0.0
        self._last_live_draw = 0.0

        self.player = Player(self)
        self.recorder = Recorder(self, folder=recordings_folder)
        self._build()
        self.beam_spin.setValue(stored.beam_size)  # a bad stored value: the default
        self._connect()
        self.setAcceptDrops(True)
        self._update_controls()

    # ---- building -------------------------------------------------------------------

    def _build(self) -> None:
        self.open_button = QPushButton(self.tr("Open…"))
        self.open_button.setToolTip(self.tr("Open a WAV, FLAC, OGG or MP3 file (Ctrl+O)"))
        self.record_button = QPushButton(self.tr("● Record"))
        self.record_button.setCheckable(True)
        self.device_combo = QComboBox()
        self.level_meter = LevelMeter()
        self.play_button = QPushButton(self.tr("▶ Play"))
        self.play_button.setToolTip(self.tr("Play or pause (Space); plays the selection when there is one"))
        available, reason = audio_backend_status("input")
        for index, name in list_input_devices() if available else []:
            self.device_combo.addItem(name, index)
        self.recording_available = available
        if not available:
            self.record_button.setEnabled(False)
            self.record_button.setToolTip(self.tr("Recording is unavailable: {reason}").format(reason=reason))
            self.device_combo.setEnabled(False)
            self.device_combo.setToolTip(reason)
        else:
            self.record_button.setToolTip(self.tr("Record from the microphone (Ctrl+R); saved as it is captured"))
        self.file_label = QLabel(self.tr("No audio yet: open a file (Ctrl+O), drop one here, or record (Ctrl+R)."))

        self.model_picker = ModelPicker()
        self.beam_spin = QSpinBox()
        self.beam_spin.setRange(1, 16)
        self.beam_spin.setPrefix(self.tr("beam "))
        self.beam_spin.setToolTip(self.tr("Beam size: 1 = greedy (fastest)"))
        self.selection_check = QCheckBox(self.tr("Only the selection"))
        self.selection_check.setToolTip(self.tr("Shift+drag on the waveform to select a stretch"))
        self.transcribe_button = QPushButton(self.tr("Transcribe"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.export_button = QPushButton(self.tr("Export…"))
        self.export_button.setToolTip(self.tr("Save as SRT, VTT, TXT or JSON (Ctrl+E)"))
        self.copy_button = QPushButton(self.tr("Copy"))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.error_label = QLabel()
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        self.audio_view = AudioView()
        self.attention_view = AttentionView()
        self.attention_view.link_x(self.audio_view.waveform_plot)
        self.self_attention_view = SelfAttentionView()
        self.attention_tabs = QTabWidget()
        self.attention_tabs.addTab(self.attention_view, self.tr("Cross-attention"))
        self.attention_tabs.addTab(self.self_attention_view, self.tr("Encoder self-attention"))
        self.transcript_view = TranscriptView()

        top = QHBoxLayout()
        for w in (self.open_button, self.record_button, self.device_combo, self.level_meter, self.play_button):
            top.addWidget(w)
        top.addWidget(self.file_label, 1)
        models = QHBoxLayout()
        models.addWidget(QLabel(self.tr("Model:")))
        for w in (self.model_picker, self.beam_spin, self.selection_check, self.transcribe_button,
                  self.cancel_button, self.progress):
            models.addWidget(w)
        models.addStretch(1)
        models.addWidget(self.export_button)
        models.addWidget(self.copy_button)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.audio_view)
        left.addWidget(self.attention_tabs)
        left.setSizes([380, 320])
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.transcript_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(models)
        layout.addWidget(self.error_label)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.open_button.clicked.connect(self.choose_audio_file)
        self.record_button.toggled.connect(self.on_record_button_toggled)
        self.play_button.clicked.connect(self.toggle_playback)
        self.transcribe_button.clicked.connect(self.transcribe)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self.choose_export_file)
        self.copy_button.clicked.connect(self.on_copy_button_clicked)
        self.model_picker.model_changed.connect(self.on_model_picker_model_changed)
        self.beam_spin.valueChanged.connect(self.on_beam_spin_value_changed)
        self.recorder.level_changed.connect(self.level_meter.set_level)
        self.recorder.stopped.connect(self.on_recorder_stopped)
        self.recorder.samples_added.connect(self.on_recorder_samples_added)
        self.recorder.failed.connect(self.on_recorder_failed)
        self.player.position_changed.connect(self.audio_view.set_cursor)
        self.player.failed.connect(self.show_error)
        self.player.state_changed.connect(self.on_player_state_changed)
        self.audio_view.clicked_at.connect(self.play_from)
        self.attention_view.token_hovered.connect(self.on_token_hovered)
        self.transcript_view.word_hovered.connect(self.on_token_hovered)
        self.transcript_view.word_clicked.connect(self.on_transcript_view_word_clicked)
        e = self.engine
        e.job_finished.connect(self.on_engine_job_finished)
        e.job_failed.connect(self.on_engine_job_failed)
        e.job_cancelled.connect(self.on_engine_job_cancelled)
        e.partial_transcript.connect(self.on_engine_partial_transcript)
        e.attention_frame.connect(self.on_engine_attention_frame)
        e.chunk_finished.connect(self.on_engine_chunk_finished)
        e.progress_changed.connect(self.on_engine_progress_changed)
        e.worker_exited.connect(self.on_engine_worker_exited)
        e.state_changed.connect(self.on_engine_state_changed)

    # ---- audio ----------------------------------------------------------------------

    def load_audio_file(self, path: str | Path) -> bool:
        """Show a file; a bad one gives an inline message naming it and keeps the page usable."""
        from engine.audio import load_audio

        path = Path(path)
        try:
            samples = load_audio(path, SAMPLE_RATE)
        except (ParceroError, ValueError) as error:
            self.show_error(str(error))
            return False
        self.player.stop()
        self.audio_path, self.samples = path, samples
        self.audio_view.set_audio(samples, SAMPLE_RATE)
        self.file_label.setText(f"{path.name} · {format_duration(len(samples) / SAMPLE_RATE)}")
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

    @Slot(bool)
    def on_record_button_toggled(self, on: bool) -> None:
        if on:
            self.player.stop()
            if not self.recorder.start(device=self.device_combo.currentData(), sample_rate=SAMPLE_RATE):
                self.record_button.setChecked(False)
            else:
                self.record_button.setText(self.tr("■ Stop"))
                self.file_label.setText(self.tr("Recording to {path} …").format(path=self.recorder.path))
        else:
            self.recorder.stop()
            self.record_button.setText(self.tr("● Record"))
            self.level_meter.reset()

    def toggle_recording(self) -> None:
        if self.record_button.isEnabled():
            self.record_button.toggle()

    @Slot(object)
    def on_recorder_samples_added(self, _new) -> None:
        # The live view shows the last seconds scrolling by, redrawn a few times a second
        # (the full file view comes back when recording stops).
        now = time.monotonic()
        if now - self._last_live_draw >= LIVE_REDRAW_SECONDS:
            self._last_live_draw = now
            self.audio_view.set_audio(self.recorder.buffer()[-LIVE_SECONDS * SAMPLE_RATE:], SAMPLE_RATE)

    @Slot(str)
    def on_recorder_stopped(self, path: str) -> None:
        if path and Path(path).exists():
            self.load_audio_file(path)

    @Slot(str)
    def on_recorder_failed(self, message: str) -> None:
        self.record_button.setChecked(False)
        self.show_error(message)

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

    @Slot(int)
    def on_beam_spin_value_changed(self, value: int) -> None:
        self.settings.setValue("transcribe/beam", value)

    @Slot(str)
    def on_model_picker_model_changed(self, path: str) -> None:
        self.attention_view.set_alignment_heads(alignment_heads(path) if path else [])
        self._update_controls()

    def set_model_path(self, path: str | Path) -> None:
        self.model_picker.set_model_path(path)

    def set_device(self, device: str) -> None:
        """Where the next model load goes ("auto", "cpu", "cuda"); a change reloads the model at the next run."""
        if device != self.device:
            self.device = device
            self.loaded_model = None

    def set_cpu_weights(self, mode: str) -> None:
        """How weights are held on the CPU ("none", "int8", "fp16"); a change reloads the model at the next run."""
        if mode != self.cpu_weights:
            self.cpu_weights = mode
            self.loaded_model = None

    def _quantize(self) -> str:
        """The CPU-weights setting when the model will run on the CPU, else "none" (a GPU has its own precision)."""
        from engine.device import pick_device

        on_cpu = self.device != "cuda" and pick_device(self.device).type == "cpu"  # as the engine will decide
        return self.cpu_weights if on_cpu else "none"

    def transcribe(self) -> None:
        model = self.model_picker.current_path()
        if self.samples is None or not model or self._busy():
            return
        self.clear_error()
        self.transcript_view.clear_transcript()
        self.transcript = None
        self._partial_chunk = -1
        self._partial_temperature = 0.0
        if model != self.loaded_model:
            self._load_job = self.engine.submit(LoadModel, path=model, device=self.device, quantize=self._quantize())
        self._submit_transcription()
        self._update_controls()

    def _submit_transcription(self) -> None:
        options = DecodeOptions(beam_size=self.beam_spin.value())
        region = self.audio_view.selection() if self.selection_check.isChecked() else None
        offset, duration = (region[0], region[1] - region[0]) if region else (0.0, None)
        self._offset = offset  # the engine times the selection from its start; the views from the file's
        fields = dict(options=options, offset=offset, duration=duration, attention=("decoder_cross", "encoder_self"))
        if self.audio_path is not None:
            fields["path"] = str(self.audio_path)
        else:
            fields["samples"] = self.samples
        self._job = self.engine.submit(Transcribe, **fields)
        self.progress.setRange(0, 0)
        self.progress.show()

    def cancel(self) -> None:
        for job in (self._load_job, self._job):
            if job is not None:
                self.engine.cancel(job)

    def _busy(self) -> bool:
        return self._job is not None or self._load_job is not None

    @Slot(int, object)
    def on_engine_job_finished(self, job: int, result) -> None:
        from engine.transcribe import shifted, transcript_from_dict

        if job == self._load_job:
            self._load_job = None
            self.loaded_model = self.model_picker.current_path()
            self.loaded_info = dict(result or {})  # the engine's account: parameters, device, quantize
        elif job == self._job:
            self._job = None
            self.progress.hide()
            self.transcript = shifted(transcript_from_dict(result), self._offset)
            self.transcript_view.clear_transcript()
            self.transcript_view.add_words((w.text, w.start, w.end) for w in self.transcript.words)
            if not self.transcript.words and self.transcript.text:
                self.transcript_view.set_partial(self.transcript.text)
            self.attention_view.redraw()  # draw the last rows now, not at the next timer tick
            self.transcription_finished.emit(self.transcript)
        self._update_controls()

    @Slot(int, str, str)
    def on_engine_job_failed(self, job: int, message: str, detail: str) -> None:
        if job not in (self._load_job, self._job):
            return
        if job == self._load_job:
            self.loaded_model = None
        log.warning("engine job %s failed: %s\n%s", job, message, detail)
        self._end_jobs()
        self.show_error(message)
        self.transcription_failed.emit(message)

    @Slot(int)
    def on_engine_job_cancelled(self, job: int) -> None:
        if job in (self._load_job, self._job):
            self._end_jobs()
            self.file_label.setText(self.file_label.text() + "  " + self.tr("(transcription cancelled)"))

    @Slot(str)
    def on_engine_state_changed(self, state: str) -> None:
        self._update_controls()

    @Slot(int, str)
    def on_engine_worker_exited(self, code: int, reason: str) -> None:
        self.loaded_model = None
        if self._busy():
            self._end_jobs()

    def _end_jobs(self) -> None:
        self._job = self._load_job = None
        self.progress.hide()
        self._update_controls()

    @Slot(int, object)
    def on_engine_partial_transcript(self, job: int, event) -> None:
        if job != self._job:
            return
        if event.chunk == self._partial_chunk and event.temperature != self._partial_temperature:
            self._partial_chunk = -1  # a new attempt at the same window: its heatmap starts afresh
        self._partial_temperature = event.temperature
        self._token_texts = list(event.text)
        note = ""
        if event.temperature > 0:
            note = self.tr("(decoding this window again at temperature {t:.1f}: the first text looked "
                           "wrong) ").format(t=event.temperature)
        self.transcript_view.set_partial(note + event.text)

    @Slot(int, object)
    def on_engine_attention_frame(self, job: int, event) -> None:
        if job != self._job:
            return
        if event.kind == "encoder_self":
            if event.layer == 0:
                self.self_attention_view.reset(1, 1, event.frame_seconds, event.chunk_start + self._offset)
            self.self_attention_view.set_matrix(event.layer, event.head, event.matrix.astype(np.float32))
            return
        if event.chunk != self._partial_chunk:
            self._partial_chunk = event.chunk
            self.attention_view.reset(len(event.matrix), 1, 1, event.frame_seconds, event.chunk_start + self._offset)
        text = self._token_texts[event.step] if event.step < len(self._token_texts) else "⏎"
        self.attention_view.add_row(event.layer, event.head, event.step, event.matrix.astype(np.float32),
                                    text.replace(" ", "␣"))

    @Slot(int, object)
    def on_engine_chunk_finished(self, job: int, event) -> None:
        if job == self._job:
            self.transcript_view.add_words((w, s + self._offset, e + self._offset) for w, s, e in event.words)

    @Slot(int, float, float, str)
    def on_engine_progress_changed(self, job: int, done: float, total: float, unit: str) -> None:
        if job == self._job and total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{done:.0f} / {total:.0f} s" if unit == "seconds" else f"{done:.0f}/{total:.0f}")

    @Slot(int, float, float)
    def on_token_hovered(self, index: int, start: float, end: float) -> None:
        if index < 0:
            self.audio_view.clear_highlight()
        else:
            self.audio_view.highlight_span(start, end)

    # ---- export ---------------------------------------------------------------------

    def choose_export_file(self) -> None:
        if self.transcript is None:
            return
        stem = self.audio_path.with_suffix(".srt") if self.audio_path else Path("transcripcion.srt")
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export transcript"), str(stem), self.tr(EXPORT_FILTER))
        if path:
            self.export(path)

    def export(self, path: str | Path) -> bool:
        from engine.export import write_export

        try:
            write_export(path, self.transcript, model_name=Path(self.loaded_model or "").name,
                         settings={"beam_size": self.beam_spin.value()})
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

    def _update_controls(self) -> None:
        busy = self._busy()
        ready = getattr(self.engine, "state", "ready") in ("ready", "busy")
        has_model = bool(self.model_picker.current_path())
        self.transcribe_button.setEnabled(self.samples is not None and has_model and not busy and ready)
        self.transcribe_button.setToolTip("" if ready else self.tr("The engine is starting…"))
        self.cancel_button.setEnabled(busy)
        self.export_button.setEnabled(self.transcript is not None)
        self.copy_button.setEnabled(self.transcript is not None)
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


def format_duration(seconds: float) -> str:
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(int(minutes), 60)
    return f"{hours}:{m:02d}:{s:04.1f}" if hours else f"{m}:{s:04.1f}"
