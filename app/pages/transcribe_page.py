"""The Transcribe page: record or open audio, see and hear it, transcribe it and watch the attention.

Transcription runs in the engine process (app.engine_client.QtEngineClient):
the page asks the window's :class:`app.model_session.ModelSession` to run a
Transcribe command with the chosen model (it loads the model first when the
engine holds another) and follows the events, so the window never waits on the
model. Text grows token by token; the cross-attention heatmap grows one row per
token, on the same time axis as the waveform and spectrogram above it.

A transcript belongs to the audio it came from and names the model that made
it (the engine's answer, not the model list): opening other audio clears it,
and Export writes it under that audio's name.
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
from app.engine_messages import error_text
from app.i18n import QT_TRANSLATE_NOOP
from app.model_session import ModelChoice, ModelSession
from app.settings_dialog import load_settings
from app.widgets.attention_view import END_MARK, AttentionView, SelfAttentionView
from app.widgets.audio_view import AudioView
from app.widgets.level_meter import LevelMeter
from app.widgets.model_picker import ModelPicker, alignment_heads, has_language_choice
from app.widgets.transcript_view import TranscriptView
from engine.transcript import DecodeOptions
from engine.errors import ParceroError
from engine.protocol import ALL_HEADS, Transcribe

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
AUDIO_FILTER = QT_TRANSLATE_NOOP("TranscribePage", "Audio (*.wav *.flac *.ogg *.oga *.mp3);;All files (*)")
EXPORT_FILTER = QT_TRANSLATE_NOOP("TranscribePage", "SubRip subtitles (*.srt);;WebVTT subtitles (*.vtt);;"
                                  "Plain text (*.txt);;JSON with word times (*.json)")
ERROR_STYLE = "QLabel { color: #c62828; font-weight: 600; }"
RESULT_STYLE = ""
STALE_STYLE = "QLabel { color: #b26a00; }"  # the transcript was made by another model than the one chosen now
# Whisper's language choice: (code, English name shown through TranscribePage.tr); "auto" = detect it.
LANGUAGES = (
    ("es", QT_TRANSLATE_NOOP("TranscribePage", "Spanish")),
    ("auto", QT_TRANSLATE_NOOP("TranscribePage", "Detect the language")),
    ("ca", QT_TRANSLATE_NOOP("TranscribePage", "Catalan")),
    ("gl", QT_TRANSLATE_NOOP("TranscribePage", "Galician")),
    ("eu", QT_TRANSLATE_NOOP("TranscribePage", "Basque")),
    ("pt", QT_TRANSLATE_NOOP("TranscribePage", "Portuguese")),
    ("en", QT_TRANSLATE_NOOP("TranscribePage", "English")),
    ("fr", QT_TRANSLATE_NOOP("TranscribePage", "French")),
    ("it", QT_TRANSLATE_NOOP("TranscribePage", "Italian")),
    ("de", QT_TRANSLATE_NOOP("TranscribePage", "German")),
)
TASKS = (("transcribe", QT_TRANSLATE_NOOP("TranscribePage", "Transcribe as spoken")),
         ("translate", QT_TRANSLATE_NOOP("TranscribePage", "Translate into English")))
LANGUAGE_KEY = "transcribe/language"
TASK_KEY = "transcribe/task"
RECENT_FILES_KEY = "transcribe/recent_files"
MAX_RECENT_FILES = 10
LIVE_SECONDS = 10  # the scrolling waveform while recording shows this many seconds
LIVE_REDRAW_SECONDS = 0.25


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
        self.transcript = None  # the last finished engine.transcript.Transcript, of self.audio_path
        self.transcript_meta: dict = {}  # how it was made: audio, model (name, path), settings, language
        self._running_meta: dict = {}  # the same for the transcription running now
        stored = load_settings(self.settings)
        self.device = stored.device  # where LoadModel puts the model: auto, cpu, cuda
        self.cpu_weights = stored.cpu_weights  # engine.quantize's mode when the model runs on the CPU
        self._load_job = self._job = None
        self._partial_chunk = -1
        self._partial_temperature = 0.0
        self._token_texts: list[tuple[str, bool]] = []  # (row label, special) per token of the partial
        self._offset = 0.0
        self._last_live_draw = 0.0

        self.player = Player(self)
        self.recorder = Recorder(self, folder=recordings_folder)
        self._build()
        self.beam_spin.setValue(stored.beam_size)  # a bad stored value: the default
        _select_data(self.language_combo, self.settings.value(LANGUAGE_KEY, "es"))
        _select_data(self.task_combo, self.settings.value(TASK_KEY, "transcribe"))
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
        self.recording_unavailable_reason = reason  # "" when recording works; shown when Ctrl+R is pressed
        if not available:
            self.record_button.setEnabled(False)
            self.record_button.setToolTip(self.tr("Recording is unavailable: {reason}").format(reason=reason))
            self.device_combo.setEnabled(False)
            self.device_combo.setToolTip(reason)
        else:
            self.record_button.setToolTip(self.tr("Record from the microphone (Ctrl+R); saved as it is captured"))
        if available:
            self.file_label = QLabel(self.tr("No audio yet: open a file (Ctrl+O), drop one here, or record (Ctrl+R)."))
        else:  # promise nothing that cannot work here
            self.file_label = QLabel(self.tr("No audio yet: open a file (Ctrl+O) or drop one here."))

        self.model_picker = ModelPicker()
        self.beam_spin = QSpinBox()
        self.beam_spin.setRange(1, 16)
        self.beam_spin.setPrefix(self.tr("beam "))
        self.beam_spin.setToolTip(self.tr("Beam size: 1 = greedy (fastest)"))
        self.language_combo = QComboBox()
        for code, name in LANGUAGES:
            self.language_combo.addItem(self.tr(name), code)
        self.task_combo = QComboBox()
        for code, name in TASKS:
            self.task_combo.addItem(self.tr(name), code)
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

        top = QHBoxLayout()
        for w in (self.open_button, self.record_button, self.device_combo, self.level_meter, self.play_button):
            top.addWidget(w)
        top.addWidget(self.file_label, 1)
        models = QHBoxLayout()
        models.addWidget(QLabel(self.tr("Model:")))
        for w in (self.model_picker, self.language_combo, self.task_combo, self.beam_spin, self.selection_check,
                  self.transcribe_button, self.cancel_button, self.progress):
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
        self.splitter.setSizes([3000, 1000])  # in proportion: the transcript gets a quarter of the width
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(models)
        layout.addWidget(self.error_label)
        layout.addWidget(self.result_label)
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
        self.language_combo.currentIndexChanged.connect(self.on_language_combo_current_index_changed)
        self.task_combo.currentIndexChanged.connect(self.on_task_combo_current_index_changed)
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
            self.show_error(error_text(error))
            return False
        self.player.stop()
        self._abandon_transcription()  # it was of the audio shown before
        self._clear_result()
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
                self._abandon_transcription()  # new audio is coming: the old transcript is not its
                self._clear_result()
                self.record_button.setText(self.tr("■ Stop"))
                self.file_label.setText(self.tr("Recording to {path} …").format(path=self.recorder.path))
        else:
            self.recorder.stop()
            self.record_button.setText(self.tr("● Record"))
            self.level_meter.reset()

    def toggle_recording(self) -> None:
        """Start or stop recording (Ctrl+R); where recording cannot work, say why where the person looks."""
        if self.record_button.isEnabled():
            self.record_button.toggle()
        elif not self.recording_available:
            self.show_error(self.tr("Recording is unavailable: {reason}").format(
                reason=self.recording_unavailable_reason))

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

    @Slot(int)
    def on_language_combo_current_index_changed(self, _index: int) -> None:
        self.settings.setValue(LANGUAGE_KEY, self.language_combo.currentData())

    @Slot(int)
    def on_task_combo_current_index_changed(self, _index: int) -> None:
        self.settings.setValue(TASK_KEY, self.task_combo.currentData())
        self._update_controls()

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
        """The options the next run decodes with: the beam, and for Whisper the language and the task."""
        if not self._language_applies():
            return DecodeOptions(beam_size=self.beam_spin.value())
        language = self.language_combo.currentData()
        return DecodeOptions(beam_size=self.beam_spin.value(), language=None if language == "auto" else language,
                             task=self.task_combo.currentData())

    def _language_applies(self) -> bool:
        return has_language_choice(self.model_picker.current_path())

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
        offset, duration = (region[0], region[1] - region[0]) if region else (0.0, None)
        self._offset = offset  # the engine times the selection from its start; the views from the file's
        # Every head of the cross-attention, so that any layer and head (and Whisper's alignment heads)
        # can be looked at; the encoder's matrices, far larger, as one average per layer.
        fields = dict(options=options, offset=offset, duration=duration, attention=("decoder_cross", "encoder_self"),
                      heads="all", encoder_heads="average")
        if self.audio_path is not None:
            fields["path"] = str(self.audio_path)
        else:
            fields["samples"] = self.samples
        choice = ModelChoice(model, self.device, self._quantize())
        try:
            self._load_job, self._job = self.session.submit(choice, Transcribe, **fields)
        except ParceroError as error:  # the engine is not running (crashed, or still starting)
            self.show_error(error_text(error))
            return
        settings = {"beam_size": options.beam_size}
        if self._language_applies():
            settings.update(language=self.language_combo.currentData(), task=options.task)
        self._running_meta = {"audio": self.audio_path, "settings": settings}
        self.progress.setRange(0, 0)
        self.progress.show()
        self._update_controls()

    def cancel(self) -> None:
        for job in (self._load_job, self._job):
            if job is not None:
                self.engine.cancel(job)

    def _busy(self) -> bool:
        return self._job is not None or self._load_job is not None

    def _abandon_transcription(self) -> None:
        """Stop the transcription running now and ignore whatever it still sends (its audio is no longer shown)."""
        if self._job is not None:
            self.engine.cancel(self._job)
        self._end_jobs()

    def _clear_result(self) -> None:
        """Forget the transcript and all that shows it: text, word times, both heatmaps, export and copy."""
        self.transcript = None
        self.transcript_meta = {}
        self._partial_chunk = -1
        self._partial_temperature = 0.0
        self._token_texts = []
        self.transcript_view.clear_transcript()
        self.attention_view.reset(0, 1, 0)  # no heads until frames arrive
        self.self_attention_view.reset()
        self._show_result_label()
        self._update_controls()

    @Slot(int, object)
    def on_engine_job_finished(self, job: int, result) -> None:
        from engine.transcript import shifted, transcript_from_dict

        if job == self._load_job:
            self._load_job = None  # the session has recorded what the engine holds now
        elif job == self._job:
            self._job = None
            self.progress.hide()
            result = dict(result or {})
            self.transcript = shifted(transcript_from_dict(result), self._offset)
            # Labelled by the engine's answer: the model that produced it, whatever the list shows now.
            self.transcript_meta = {**self._running_meta, "model": result.get("model") or "",
                                    "model_path": result.get("model_path") or "",
                                    "language": result.get("language"),
                                    "language_probability": result.get("language_probability")}
            self.transcript_view.clear_transcript()
            self.transcript_view.add_words((w.text, w.start, w.end) for w in self.transcript.words)
            if not self.transcript.words and self.transcript.text:
                self.transcript_view.set_partial(self.transcript.text)
            if self.transcript.text.strip():
                self.attention_view.redraw()  # draw the last rows now, not at the next timer tick
            else:  # an end-of-text row and nothing else: no heatmap, and say why the page stays empty
                self.attention_view.reset(0, 1, 0)  # no heads until frames arrive
                self.self_attention_view.reset()
                self.show_error(self._no_speech_message(self.transcript.duration))
            self._show_result_label()
            self.transcription_finished.emit(self.transcript)
        self._update_controls()

    def _no_speech_message(self, seconds: float, why: str = "") -> str:
        name = self.audio_path.name if self.audio_path is not None else self.tr("the recording")
        message = self.tr("No speech found in {file} ({seconds} s)").format(file=name, seconds=f"{seconds:.1f}")
        return f"{message}: {why}" if why else message

    @Slot(int, str, str)
    def on_engine_job_failed(self, job: int, message: str, detail: str) -> None:
        if job not in (self._load_job, self._job):
            return
        log.warning("engine job %s failed: %s\n%s", job, message, detail)
        self._end_jobs()  # a failed load: the session cancels the transcription that waited for it
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
        # The heatmap's row labels: the tokens as the model wrote them (Whisper's BPE pieces, a
        # character model's characters), flagged when special (timestamps); an older engine
        # sends none, and its text's characters stand in.
        texts = event.token_texts or tuple(event.text)
        self._token_texts = list(zip(texts, event.special or (False,) * len(texts)))
        note = ""
        if event.temperature > 0:
            note = self.tr("(decoding this window again at temperature {t:.1f}: the first text looked "
                           "wrong) ").format(t=event.temperature)
        self.transcript_view.set_partial(note + event.text)

    @Slot(int, object)
    def on_engine_attention_frame(self, job: int, event) -> None:
        if job != self._job:
            return
        # One frame holds one head, their average (head None) or all of them (ALL_HEADS, stacked).
        heads = enumerate(event.matrix) if event.head == ALL_HEADS else [(event.head, event.matrix)]
        if event.kind == "encoder_self":
            if event.layer == 0 and event.head in (None, 0, ALL_HEADS):
                # Pickers start with the average alone and grow as heads and layers arrive.
                self.self_attention_view.reset(1, 0, event.frame_seconds, event.chunk_start + self._offset)
            for head, matrix in heads:
                self.self_attention_view.set_matrix(event.layer, head, matrix)
            return
        if event.chunk != self._partial_chunk:
            self._partial_chunk = event.chunk
            self.attention_view.reset(event.matrix.shape[-1], 1, 0, event.frame_seconds,
                                      event.chunk_start + self._offset)
        view, labels = self.attention_view, self._token_texts
        if event.layer == 0 and event.head in (None, 0, ALL_HEADS):  # once a step: a beam may rewrite the past
            view.set_tokens([text for text, _ in labels], [special for _, special in labels])
        # The step past the last token is the one that ended the text.
        text, special = labels[event.step] if event.step < len(labels) else (END_MARK, True)
        for head, row in heads:
            view.add_row(event.layer, head, event.step, row, text, special)

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
        audio = self.transcript_meta.get("audio")  # the audio this transcript came from
        stem = Path(audio).with_suffix(".srt") if audio else Path("transcripcion.srt")
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export transcript"), str(stem), self.tr(EXPORT_FILTER))
        if path:
            self.export(path)

    def export(self, path: str | Path) -> bool:
        """Write the transcript shown, with the model that made it and the settings it was made with."""
        from engine.export import write_export

        if self.transcript is None:
            return False
        meta = self.transcript_meta
        settings = dict(meta.get("settings") or {})
        if meta.get("language_probability") is not None:
            settings["detected_language"] = meta.get("language")
            settings["language_probability"] = meta.get("language_probability")
        try:
            write_export(path, self.transcript, model_name=meta.get("model") or None, settings=settings)
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

    def result_text(self) -> str:
        """What the label over the transcript says: its audio, the model that made it, the language found."""
        meta = self.transcript_meta
        if self.transcript is None or not meta:
            return ""
        audio = meta.get("audio")
        name = Path(audio).name if audio else self.tr("the recording")
        settings = meta.get("settings") or {}
        if settings.get("task") == "translate":
            text = self.tr("English translation of {file} by {model}")
        else:
            text = self.tr("Transcript of {file} by {model}")
        text = text.format(file=name, model=meta.get("model") or "?")
        if meta.get("language_probability") is not None:
            code = meta.get("language") or "?"
            names = dict(LANGUAGES)
            text += " · " + self.tr("language found: {language} ({code}, {probability} % sure)").format(
                language=self.tr(names[code]) if code in names and code != "auto" else code, code=code,
                probability=f"{100 * meta['language_probability']:.0f}")
        return text

    def transcript_is_from_another_model(self) -> bool:
        """Whether the transcript shown was made by another model than the one chosen now."""
        made_by = self.transcript_meta.get("model_path")
        chosen = self.model_picker.current_path()
        return bool(self.transcript is not None and made_by and chosen
                    and Path(made_by).resolve() != Path(chosen).resolve())

    def _show_result_label(self) -> None:
        text = self.result_text()
        if text and self.transcript_is_from_another_model():
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
        language = self._language_applies()
        translating = language and self.task_combo.currentData() == "translate"
        # Never a silent translation: the button says what it will do.
        self.transcribe_button.setText(self.tr("Translate") if translating else self.tr("Transcribe"))
        for combo in (self.language_combo, self.task_combo):
            combo.setEnabled(language)
        why = "" if language else self.tr("This model knows one language; Whisper models take these choices")
        self.language_combo.setToolTip(why or self.tr(
            "The language spoken; detecting it reports the language found and how sure the model is"))
        self.task_combo.setToolTip(why or self.tr("Write what is said, or translate the speech into English"))
        self.cancel_button.setEnabled(busy)
        has_text = self.transcript is not None and bool(self.transcript.text.strip())  # nothing found: nothing to save
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


def format_duration(seconds: float) -> str:
    minutes, s = divmod(seconds, 60)
    hours, m = divmod(int(minutes), 60)
    return f"{hours}:{m:02d}:{s:04.1f}" if hours else f"{m}:{s:04.1f}"


def _select_data(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    if index >= 0:  # a stored value this version does not offer: the default stays
        combo.setCurrentIndex(index)


def _is_silent(samples: np.ndarray) -> bool:
    from engine.audio import signal_stats

    return signal_stats(samples).is_silent
