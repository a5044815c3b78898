"""Live transcription while recording, followed in the Transcribe page's views.

:class:`LiveRun` sends a Live job with the chosen model (loading it first when the
engine holds another), hands it the recorder's audio as it arrives, and draws what
comes back: committed words join the transcript for good (links to their time),
the tentative tail after them is grey and replaced at every pass, and the heatmap
shows the cross-attention of the current pass's hypothesis, its rows scrolling with
the voice. Stopping the recording stops the job, which decodes every sample it got
and commits the rest; the run then ends like a transcription, with a
:class:`~app.transcript_result.TranscriptResult` of the recording.

It is a :class:`~app.transcription_job.TranscriptionRun`: the same heatmap and
ending rules, one "chunk" per pass.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from app.i18n import translate
from app.model_session import ModelChoice, ModelSession
from app.transcription_job import RunViews, TranscriptionRun
from engine.live.options import LIVE_BEAM_SIZE, LiveOptions
from engine.protocol import Live
from engine.transcript import DecodeOptions


class LiveRun(TranscriptionRun):
    """One Live job, fed with :meth:`feed` until :meth:`stop`; then ``finished`` as a transcription."""

    behind_changed = Signal(bool)  # True: passes take too long for the voice (fewer updates now)

    def __init__(self, engine, views: RunViews, load_job: int | None, job: int, audio: Path | None,
                 settings: dict | None = None, parent: QObject | None = None, live_beam: int = LIVE_BEAM_SIZE):
        super().__init__(engine, views, load_job, job, 0.0, audio, settings, parent)
        self.behind = False
        self.committed_words = 0
        self.heard = 0.0  # seconds of recording the last pass heard
        self.live_beam = live_beam  # the page's beam box shows it while the run lasts
        self._connections += ((engine.live_text, self.on_engine_live_text),)
        engine.live_text.connect(self.on_engine_live_text)
        views.progress.hide()  # no end to be measured against while recording
        views.transcript.clear_transcript()

    @classmethod
    def start(cls, session: ModelSession, choice: ModelChoice, options: DecodeOptions, views: RunViews, *,
              audio: Path | None, live: LiveOptions = LiveOptions(), settings: dict | None = None,
              parent: QObject | None = None) -> LiveRun:
        """Send the Live job (after a LoadModel if needed); feed it with :meth:`feed`.

        Raises ParceroError when the engine is not running: nothing was sent.
        """
        load_job, job = session.submit(choice, Live, options=options, live=live, attention=("decoder_cross",),
                                       heads="all")
        return cls(session.engine, views, load_job, job, audio, settings, parent, live_beam=options.beam_size)

    @Slot(object)
    def feed(self, samples) -> None:
        """Recorded audio (mono float32, 16 kHz) since the last call."""
        if self.job is not None and len(samples):
            self.engine.live_audio(self.job, samples)

    def stop(self) -> None:
        """The recording ended: the engine finishes every word it got; ``finished`` follows."""
        if self.job is not None:
            self.engine.stop_live(self.job)

    @Slot(int, object)
    def on_engine_live_text(self, job: int, event) -> None:
        if job != self.job:
            return
        view = self.views.transcript
        self.heard = event.audio_end
        self.committed_words += len(event.committed)
        tail = " ".join(w for w, _, _ in event.tentative)
        if event.committed:
            view.add_words(event.committed)  # clears the partial: the new tail follows
        view.set_partial(tail)
        if event.behind != self.behind:
            self.behind = event.behind
            self.behind_changed.emit(event.behind)

    @Slot(int, object)
    def on_engine_partial_transcript(self, job: int, event) -> None:
        """Only the heatmap's row labels: the transcript shows committed words and the tail, not the pass."""
        if job == self.job:
            self._take_row_labels(event)


def behind_message() -> str:
    return translate("TranscribePage", "Live transcription cannot keep up with the voice on this computer: it "
                                       "updates less often now. A smaller model keeps up better; nothing recorded "
                                       "is lost.")


def transcribe_file_live(page, audio: Path) -> bool:
    """Play ``audio`` into the Transcribe page as if spoken into the microphone, with Live text on: a demo
    of live transcription without a microphone, through the same path (recorded, then shown and exportable).
    """
    from functools import partial

    from engine.audio import audio_info
    from engine.errors import ParceroError
    from engine.live.capture import FileInputStream, new_recording_path

    if page.recorder.is_recording:
        return False
    try:
        audio_info(audio)  # missing or not audio: said now, in the page
    except ParceroError as error:
        page.show_error(str(error))
        return False
    page.record_bar.live_check.setChecked(True)
    path = new_recording_path(page.recorder.folder, f"{Path(audio).stem}-live")
    page.record_bar.record_from(partial(FileInputStream, str(audio), speed=1.0), path)
    return page.recorder.is_recording


def recording_stopped(page, path: str) -> None:
    """The Transcribe page's recording ended: show the file; a live run keeps its text and finishes over it.

    Loading a file abandons the transcription of the audio shown before; a live run is of this very
    recording, and it has every sample: it finishes the last words, then ends as a transcription.
    """
    live, page.run = (page.run, None) if isinstance(page.run, LiveRun) else (None, page.run)
    view = page.transcript_view
    shown = list(view.words), view.partial  # the live text, kept
    if path and Path(path).exists():
        page.load_audio_file(path)
    if live is not None:
        view.add_words(shown[0])
        view.set_partial(shown[1])
        page.run = live
        live.stop()
        page._update_controls()


def live_weights(page) -> str:
    """How the live passes hold the model's weights: the person's CPU weights, except float32 on a CPU that
    multiplies bfloat16 in hardware, where live text uses bfloat16.

    Measured in the window (``bench/bench_live_window.py``, Whisper base, 2 cores): float32 passes take
    about 2 s and words are final about 5 s after they are spoken; bfloat16 passes 0.8 s, words 2.2 s.
    A GPU keeps its own precision.
    """
    from engine.device import pick_device
    from engine.quantize import cpu_has_bf16

    on_cpu = page.device != "cuda" and pick_device(page.device).type == "cpu"  # as the engine will decide
    return "bf16" if on_cpu and page.cpu_weights == "none" and cpu_has_bf16() else page._quantize()


def start_live(page, path: Path) -> LiveRun | None:
    """The Transcribe page's live transcription of the recording just started at ``path``; None when none.

    Without a model, or with the engine down, the recording goes on and the page says why there is no
    live text. The live beam (LIVE_BEAM_SIZE) without fallback, and :func:`live_weights`: a pass must take
    well under a second or two.
    """
    from dataclasses import replace

    from app.engine_messages import error_text
    from engine.errors import ParceroError

    model = page.model_picker.current_path()
    if not model:
        page.show_error(translate("TranscribePage", "No live text: choose a model first. The recording goes on."))
        return None
    options = replace(page.decode_options(), beam_size=LIVE_BEAM_SIZE, temperature_fallback=False)
    settings = {**page.options.recorded_settings(options), "live": True}
    try:
        run = LiveRun.start(page.session, ModelChoice(model, page.device, live_weights(page)), options,
                            page.run_views, audio=path, settings=settings, parent=page)
    except ParceroError as error:  # the engine is not running
        page.show_error(error_text(error))
        return None
    for ended in (run.finished, run.cancelled):  # a note on slow passes is not news once the text is final
        ended.connect(lambda _result: page.clear_error() if run.behind else None)
    run.finished.connect(page.on_run_finished)
    run.failed.connect(page.on_run_failed)
    run.cancelled.connect(page.on_run_cancelled)
    run.interrupted.connect(page._end_run)
    run.behind_changed.connect(lambda behind: page.show_error(behind_message()) if behind else page.clear_error())
    page.recorder.samples_added.connect(run.feed)
    return run
