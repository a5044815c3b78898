"""Recording on the Transcribe page: the record button, the list of input devices and the level meter.

The bar drives an :class:`app.audio_io.Recorder`, which writes the file as it is
captured. Where recording cannot work here (no PortAudio library, no input
device), the button and the list are disabled and their tooltips say why;
:attr:`RecordBar.unavailable_reason` lets the page say it where the person looks
when Ctrl+R is pressed. While it records, the bar hands out the last seconds a
few times a second, for a waveform that scrolls by.

The text here belongs to the Transcribe page: it is translated in the
"TranscribePage" context, as it was when the page held this code.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QPushButton, QWidget

from app.audio_io import Recorder, audio_backend_status, list_input_devices
from app.i18n import translate
from app.widgets.level_meter import LevelMeter
from engine.live.options import LIVE_BEAM_SIZE

LIVE_SECONDS = 10  # the scrolling waveform while recording shows this many seconds
LIVE_REDRAW_SECONDS = 0.25
# After a recording stops by itself (a file played as if live ended), Record stays disabled this long:
# a Stop click aimed at it, landing just after, must not start a new recording from the microphone.
STOPPED_BY_ITSELF_GRACE_MS = 1000


class RecordBar(QWidget):
    """A checkable record button, the input devices and a level meter, in a row, driving ``recorder``.

    Parameters
    ----------
    recorder : app.audio_io.Recorder
        Its ``stopped`` (the file saved) and ``failed`` signals stay the page's to follow.
    sample_rate : int
        Hz of the recording.
    """

    starting = Signal()  # the microphone is about to open (playback must stop first)
    started = Signal(str)  # path of the file the recording is written to as it is captured
    live_audio_changed = Signal(object)  # np.ndarray: the last LIVE_SECONDS recorded, a few times a second

    def __init__(self, recorder: Recorder, sample_rate: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.recorder = recorder
        self.sample_rate = sample_rate
        self._last_live_draw = 0.0
        self._source: tuple | None = None  # (stream factory, path) for the next start: a file played as if live
        self.button = QPushButton(translate("TranscribePage", "● Record"))
        self.button.setCheckable(True)
        self.device_combo = QComboBox()
        self.level_meter = LevelMeter()
        self.live_check = QCheckBox(translate("TranscribePage", "Live text"))
        self.live_check.setToolTip(translate("TranscribePage", "Transcribe while recording: final words in black, "
                                             "the guess after them in grey, the model's attention as you speak. "
                                             "The recording is saved as usual. To keep up with the voice, live "
                                             "passes use beam %1, and bfloat16 weights on a CPU that has them."
                                             ).replace("%1", str(LIVE_BEAM_SIZE)))
        available, reason = audio_backend_status("input")
        for index, name in list_input_devices() if available else []:
            self.device_combo.addItem(name, index)
        self.available = available
        self.unavailable_reason = reason  # "" when recording works
        if not available:
            self.button.setEnabled(False)
            self.button.setToolTip(translate("TranscribePage", "Recording is unavailable: {reason}").format(
                reason=reason))
            self.device_combo.setEnabled(False)
            self.device_combo.setToolTip(reason)
            self.live_check.setEnabled(False)
        else:
            self.button.setToolTip(translate("TranscribePage",
                                             "Record from the microphone (Ctrl+R); saved as it is captured"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.button, self.live_check, self.device_combo, self.level_meter):
            layout.addWidget(widget)
        self.button.toggled.connect(self.on_button_toggled)
        recorder.level_changed.connect(self.level_meter.set_level)
        recorder.samples_added.connect(self.on_recorder_samples_added)
        recorder.failed.connect(self.on_recorder_failed)
        recorder.stopped.connect(self.on_recorder_stopped)

    @Slot(bool)
    def on_button_toggled(self, on: bool) -> None:
        if on:
            self.starting.emit()
            factory, path = self._source or (None, None)
            self._source = None
            if not self.recorder.start(device=self.device_combo.currentData(), sample_rate=self.sample_rate,
                                       path=path, stream_factory=factory):
                self.button.setChecked(False)
            else:
                self.started.emit(str(self.recorder.path))
                self.button.setText(translate("TranscribePage", "■ Stop"))
        else:
            self.recorder.stop()
            self.button.setText(translate("TranscribePage", "● Record"))
            self.level_meter.reset()

    def record_from(self, stream_factory, path) -> None:
        """Record from ``stream_factory`` (sounddevice's keywords) into ``path`` instead of the microphone."""
        if not self.recorder.is_recording:
            self._source = (stream_factory, path)
            self.button.setEnabled(True)  # Stop must work without a microphone too
            self.button.setChecked(True)
            self.button.setEnabled(self.recorder.is_recording or self.available)

    @Slot(object)
    def on_recorder_samples_added(self, _new) -> None:
        # The live view shows the last seconds scrolling by, redrawn a few times a second
        # (the full file view comes back when recording stops).
        now = time.monotonic()
        if now - self._last_live_draw >= LIVE_REDRAW_SECONDS:
            self._last_live_draw = now
            self.live_audio_changed.emit(self.recorder.buffer()[-LIVE_SECONDS * self.sample_rate:])

    @Slot(str)
    def on_recorder_stopped(self, _path: str) -> None:
        by_itself = self.button.isChecked()  # a Stop click unchecks the button before the recorder stops
        self.button.setChecked(False)  # it stopped by itself (a file played as if live ended): Record again
        if by_itself:
            self.button.setEnabled(False)
            QTimer.singleShot(STOPPED_BY_ITSELF_GRACE_MS, self._after_grace)
        else:
            self.button.setEnabled(self.available)

    def _after_grace(self) -> None:
        if not self.recorder.is_recording:  # a new recording (another file played live) set its own state
            self.button.setEnabled(self.available)

    @Slot(str)
    def on_recorder_failed(self, _message: str) -> None:
        self.button.setChecked(False)  # the page shows the message
