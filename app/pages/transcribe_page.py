"""The Transcribe page: open a recording, see its waveform, transcribe it.

Audio is read by ``engine.audio.load_audio`` (float32 mono at 16 kHz), so the
page shows exactly the samples the model will hear. Problems with a file are
shown inline in red, not in a modal dialog: the user can read the message and
open another file straight away, and tests can read the label.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.transcribe_worker import TranscribeJob
from app.waveform import envelope
from engine.errors import ParceroError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # what engine.audio.load_audio resamples to
AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.oga *.opus *.mp3);;All files (*)"
ERROR_STYLE = "QLabel { color: #c62828; font-weight: 600; }"
NO_AUDIO_TEXT = "No audio yet: open a file (Ctrl+O) or drop one here."


class TranscribePage(QWidget):
    """Open audio, show its waveform, and transcribe it with a model folder."""

    audio_loaded = Signal(str)  # path of the file now shown
    transcription_finished = Signal(str)  # the transcript
    transcription_failed = Signal(str)  # the message shown to the user

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.audio_path: Path | None = None
        self.samples: np.ndarray | None = None  # shape = (n_samples,), float32
        self._job: TranscribeJob | None = None
        self._settings = QSettings()

        self._build_widgets()
        self._build_layout()
        self.setAcceptDrops(True)

        self.open_button.clicked.connect(self.on_open_button_clicked)
        self.browse_button.clicked.connect(self.on_browse_button_clicked)
        self.transcribe_button.clicked.connect(self.on_transcribe_button_clicked)
        self.model_edit.textChanged.connect(self.on_model_edit_text_changed)
        # Re-decimate for the visible range while zooming or panning, at most
        # every 40 ms; the timer reads the range when it fires, so the last
        # change is always drawn.
        self._redraw_timer = QTimer(self, singleShot=True, interval=40)
        self._redraw_timer.timeout.connect(self.on_redraw_timer_timeout)
        self.plot_widget.getViewBox().sigXRangeChanged.connect(self.on_plot_x_range_changed)

        self.model_edit.setText(str(self._settings.value("transcribe/model_dir", "", type=str)))
        self._update_buttons()

    # ---- building -----------------------------------------------------------

    def _build_widgets(self) -> None:
        self.open_button = QPushButton("Open audio…")
        self.open_button.setToolTip("Open a WAV, FLAC, OGG or MP3 file (Ctrl+O)")
        self.file_label = QLabel(NO_AUDIO_TEXT)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        self.plot_widget = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base))
        self.plot_widget.setMinimumHeight(160)
        plot = self.plot_widget.getPlotItem()
        plot.setMouseEnabled(x=True, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=False, alpha=0.15)
        plot.setLabel("bottom", "time", units="s")
        for name in ("bottom", "left"):
            plot.getAxis(name).setTextPen(text_color)
            plot.getAxis(name).setPen(text_color)
        plot.setYRange(-1.0, 1.0, padding=0.02)
        plot.setXRange(0.0, 1.0, padding=0)
        plot.disableAutoRange()
        self.waveform_curve = plot.plot(pen=pg.mkPen(palette.color(QPalette.ColorRole.Highlight), width=1))

        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("folder with model.safetensors, config.json and vocab.json")
        self.model_edit.setClearButtonEnabled(True)
        self.browse_button = QPushButton("Browse…")
        self.transcribe_button = QPushButton("Transcribe")
        self.transcribe_button.setDefault(True)

        self.transcript_edit = QPlainTextEdit()
        self.transcript_edit.setReadOnly(True)
        self.transcript_edit.setPlaceholderText(
            "The transcript appears here. Open an audio file, choose a model folder "
            "and press Transcribe."
        )
        font = QFont(self.transcript_edit.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.transcript_edit.setFont(font)

    def _build_layout(self) -> None:
        file_row = QHBoxLayout()
        file_row.addWidget(self.open_button)
        file_row.addWidget(self.file_label, 1)

        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model folder:"))
        model_row.addWidget(self.model_edit, 1)
        model_row.addWidget(self.browse_button)
        model_row.addWidget(self.transcribe_button)

        self.error_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.addLayout(file_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.plot_widget, 3)
        layout.addLayout(model_row)
        layout.addWidget(self.transcript_edit, 2)

    # ---- public API ---------------------------------------------------------

    def load_audio_file(self, path: str | Path) -> bool:
        """Read ``path`` with the engine and show it; on failure show why and keep the old audio.

        Returns True when the file was loaded.
        """
        path = Path(path)
        if self._job is not None:
            self.show_error("wait for the transcription to finish before opening another file")
            return False
        try:
            from engine.audio import load_audio  # imports torch: only when first needed

            samples = np.asarray(load_audio(path), dtype=np.float32)
        except ParceroError as error:
            self.show_error(str(error))
            return False
        except Exception as error:  # a reader bug must not take the window down
            log.exception("loading %s failed", path)
            self.show_error(f"{path}: could not read audio ({type(error).__name__}: {error})")
            return False
        if samples.ndim != 1 or samples.size == 0:
            self.show_error(f"{path}: the file holds no audio")
            return False

        self.clear_error()
        self.audio_path = path
        self.samples = samples
        duration = samples.size / SAMPLE_RATE
        self.file_label.setText(f"{path.name}  ·  {format_duration(duration)}  ·  16 kHz mono")
        self.file_label.setToolTip(str(path))
        self.transcript_edit.clear()

        plot = self.plot_widget.getPlotItem()
        plot.setLimits(xMin=0.0, xMax=duration, minXRange=min(duration, 0.01))
        plot.setXRange(0.0, duration, padding=0)
        self._draw_waveform()
        self._settings.setValue("transcribe/audio_dir", str(path.parent))
        self._update_buttons()
        self.audio_loaded.emit(str(path))
        return True

    def set_model_path(self, path: str | Path) -> None:
        """Use the model in folder ``path`` for the next transcription."""
        self.model_edit.setText(str(path))

    def choose_audio_file(self) -> None:
        """Ask for an audio file with a dialog and load it."""
        start = str(self._settings.value("transcribe/audio_dir", str(Path.home()), type=str))
        path, _ = QFileDialog.getOpenFileName(self, "Open audio", start, AUDIO_FILTER)
        if path:
            self.load_audio_file(path)

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def is_transcribing(self) -> bool:
        return self._job is not None

    def shutdown(self) -> None:
        """Wait for a running transcription to end; call before the page goes away."""
        if self._job is not None:
            self._job.wait()

    # ---- slots ----------------------------------------------------------------

    @Slot()
    def on_open_button_clicked(self) -> None:
        self.choose_audio_file()

    @Slot()
    def on_browse_button_clicked(self) -> None:
        start = self.model_edit.text().strip() or str(Path.home())
        path = QFileDialog.getExistingDirectory(self, "Choose a model folder", start)
        if path:
            self.set_model_path(path)

    @Slot(str)
    def on_model_edit_text_changed(self, _text: str) -> None:
        self._update_buttons()

    @Slot()
    def on_transcribe_button_clicked(self) -> None:
        if self.audio_path is None or self._job is not None:
            return
        model_dir = Path(self.model_edit.text().strip()).expanduser()
        if not model_dir.is_dir():
            self.show_error(f"{model_dir}: model folder not found")
            return
        self._settings.setValue("transcribe/model_dir", str(model_dir))
        self.clear_error()
        self.transcript_edit.clear()
        self.transcribe_button.setText("Transcribing…")
        self._job = TranscribeJob(model_dir, self.audio_path, self)
        self._job.finished.connect(self.on_job_finished)
        self._job.failed.connect(self.on_job_failed)
        self._job.start()
        self._update_buttons()

    @Slot(str)
    def on_job_finished(self, text: str) -> None:
        self._end_job()
        self.transcript_edit.setPlainText(text)
        self.transcription_finished.emit(text)

    @Slot(str)
    def on_job_failed(self, message: str) -> None:
        self._end_job()
        self.show_error(message)
        self.transcription_failed.emit(message)

    @Slot()
    def on_plot_x_range_changed(self) -> None:
        if self.samples is not None and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    @Slot()
    def on_redraw_timer_timeout(self) -> None:
        self._draw_waveform()

    # ---- drag and drop ----------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.load_audio_file(paths[0])

    # ---- helpers ----------------------------------------------------------------

    def _draw_waveform(self) -> None:
        """Plot the min/max envelope of the visible samples, one bin per pixel."""
        samples = self.samples
        if samples is None:
            self.waveform_curve.setData([], [])
            return
        (x0, x1), _ = self.plot_widget.getViewBox().viewRange()
        first = max(0, int(np.floor(x0 * SAMPLE_RATE)))
        last = min(samples.size, int(np.ceil(x1 * SAMPLE_RATE)) + 1)
        if last - first < 2:
            first, last = 0, samples.size
        n_bins = max(100, self.plot_widget.width())
        x, y = envelope(samples[first:last], n_bins)
        self.waveform_curve.setData((x + first) / SAMPLE_RATE, y)

    def _end_job(self) -> None:
        if self._job is not None:
            self._job.deleteLater()  # its thread has stopped; else the page, its Qt parent, keeps it
        self._job = None
        self.transcribe_button.setText("Transcribe")
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self._job is None
        self.open_button.setEnabled(idle)
        self.browse_button.setEnabled(idle)
        self.model_edit.setEnabled(idle)
        self.transcribe_button.setEnabled(
            idle and self.audio_path is not None and bool(self.model_edit.text().strip())
        )


def format_duration(seconds: float) -> str:
    """``3.42 s`` below a minute, ``1:05.3`` up to an hour, ``1:02:03`` beyond."""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)}:{secs:04.1f}"
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{int(secs):02d}"
