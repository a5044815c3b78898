"""One transcription of the Transcribe page, followed from the command sent to the transcript that came back.

:meth:`TranscriptionRun.start` asks the window's :class:`app.model_session.ModelSession`
to run a Transcribe command with the chosen model (the session sends LoadModel
first when the engine holds another), then draws the engine's events for that
job into the page's views as they arrive: the text so far, one heatmap row per
token and layer, the encoder's self-attention once per chunk, each chunk's
words, the progress bar. It ends with exactly one of :attr:`~TranscriptionRun.finished`
(a :class:`app.transcript_result.TranscriptResult` labelled with the model the
engine named), :attr:`~TranscriptionRun.failed`, :attr:`~TranscriptionRun.cancelled`
(with the part transcribed before the cancel, which stays shown and exportable) or :attr:`~TranscriptionRun.interrupted` (none when the page abandons it because
other audio is shown), and then lets go of the engine's signals: whatever the
job still sends is not drawn.

The heatmaps show one chunk at a time, and the engine sends its rows as it
decodes. A cancel stops a chunk midway, so the run keeps the heatmaps of the last
chunk finished (handed over by the views as the next chunk replaces them) and
shows those again after a cancel, not the stopped chunk's first rows.

The text here belongs to the Transcribe page: it is translated in the
"TranscribePage" context, as it was when the page held this code.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QProgressBar

from app.i18n import translate
from app.time_text import clock
from app.model_session import ModelChoice, ModelSession
from app.transcript_result import TranscriptResult
from app.widgets.attention_view import END_MARK, AttentionView, SelfAttentionView
from app.widgets.transcript_view import TranscriptView
from engine.protocol import ALL_HEADS, Transcribe
from engine.export import timed_words
from engine.transcript import DecodeOptions, spread_words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunViews:
    """The page's widgets a run draws into while it goes."""

    transcript: TranscriptView
    attention: AttentionView  # the decoder's cross-attention, one row per token
    self_attention: SelfAttentionView  # the encoder's, one matrix per layer and chunk
    progress: QProgressBar


class TranscriptionRun(QObject):
    """One Transcribe job (and the LoadModel before it, if any) and its events, drawn into ``views``.

    Parameters
    ----------
    engine : app.engine_client.QtEngineClient
    views : RunViews
    load_job, job : int or None, int
        The ids :meth:`ModelSession.submit` returned (the LoadModel's is None when none was needed).
    offset : float
        Seconds from the start of the file to the start of the audio decoded: the engine times the
        selection from its start, the views from the file's.
    audio, settings :
        What the result's ``meta`` says it was made from and with (see TranscriptResult).
    """

    finished = Signal(object)  # TranscriptResult, already shown in the views
    failed = Signal(str)  # message shown to the user: the load's or the transcription's
    cancelled = Signal(object)  # cancelled: the TranscriptResult of what was done before (shown), or None
    interrupted = Signal()  # the engine process stopped: nothing more comes

    def __init__(self, engine, views: RunViews, load_job: int | None, job: int, offset: float = 0.0,
                 audio: Path | None = None, settings: dict | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self.views = views
        self.load_job, self.job = load_job, job
        self.offset = offset
        self.audio = audio
        self.settings = dict(settings or {})
        self._partial_chunk = -1  # the chunk whose rows the heatmap shows
        self._partial_temperature = 0.0
        self._token_texts: list[tuple[str, bool]] = []  # (row label, special) per token of the partial
        self._done_before_cancel: TranscriptResult | None = None  # what a cancelled job had finished
        self._last_finished = -1  # the last chunk the engine finished (chunks finish in order)
        self._encoder_chunk = -1  # the chunk whose encoder self-attention is shown
        # The heatmaps of the last chunk finished, once the next chunk's replaced them (views' snapshots).
        self._finished_cross: tuple | None = None
        self._finished_encoder: tuple | None = None
        self._first_progress: tuple[float, float] | None = None  # (monotonic time, seconds done) for the ETA
        self._connections = (
            (engine.job_finished, self.on_engine_job_finished), (engine.job_failed, self.on_engine_job_failed),
            (engine.job_cancelled, self.on_engine_job_cancelled),
            (engine.job_stopped_early, self.on_engine_job_stopped_early),
            (engine.partial_transcript, self.on_engine_partial_transcript),
            (engine.attention_frame, self.on_engine_attention_frame),
            (engine.chunk_finished, self.on_engine_chunk_finished),
            (engine.progress_changed, self.on_engine_progress_changed),
            (engine.worker_exited, self.on_engine_worker_exited),
        )
        for signal, slot in self._connections:
            signal.connect(slot)
        views.progress.setRange(0, 0)  # busy until the engine says how far it is
        views.progress.show()

    @classmethod
    def start(cls, session: ModelSession, choice: ModelChoice, options: DecodeOptions, views: RunViews, *,
              audio: Path | None, samples: np.ndarray, region: tuple[float, float] | None = None,
              settings: dict | None = None, parent: QObject | None = None) -> TranscriptionRun:
        """Send a Transcribe of ``audio`` (or, for a recording not saved, ``samples``) and follow it.

        ``region`` is the (start, end) in seconds to decode, None for all of it.

        Raises
        ------
        ParceroError
            The engine is not running (crashed, or still starting); nothing is followed.
        """
        offset, duration = (region[0], region[1] - region[0]) if region else (0.0, None)
        # Every head of the cross-attention, so that any layer and head (and Whisper's alignment heads)
        # can be looked at; the encoder's matrices, far larger, as one average per layer.
        fields = dict(options=options, offset=offset, duration=duration, attention=("decoder_cross", "encoder_self"),
                      heads="all", encoder_heads="average")
        if audio is not None:
            fields["path"] = str(audio)
        else:
            fields["samples"] = samples
        load_job, job = session.submit(choice, Transcribe, **fields)
        return cls(session.engine, views, load_job, job, offset, audio, settings, parent)

    @property
    def running(self) -> bool:
        return self.job is not None or self.load_job is not None

    def cancel(self) -> None:
        """Ask the engine to stop the load and the transcription; :attr:`cancelled` follows."""
        for job in (self.load_job, self.job):
            if job is not None:
                self.engine.cancel(job)

    def abandon(self) -> None:
        """Stop the transcription and ignore whatever it still sends (its audio is no longer shown); no signal."""
        if self.job is not None:
            self.engine.cancel(self.job)
        self._end()

    def _end(self) -> None:
        if not self.running:
            return
        self.job = self.load_job = None
        self.views.progress.hide()
        for signal, slot in self._connections:
            signal.disconnect(slot)

    # ---- the engine's events ------------------------------------------------------------

    @Slot(int, object)
    def on_engine_job_finished(self, job: int, result) -> None:
        if job == self.load_job:
            self.load_job = None  # the session has recorded what the engine holds now
        elif job == self.job:
            self._end()
            done = TranscriptResult.from_engine(result, self.offset, self.audio, self.settings)
            self._show(done)
            self.finished.emit(done)

    def _show(self, result: TranscriptResult) -> None:
        """The final words replace the text so far; the heatmap draws its last rows (or empties: no speech)."""
        transcript, views = result.transcript, self.views
        if transcript.words or not views.transcript.words:
            views.transcript.clear_transcript()
            # Without word timings, the words spread over the audio: finished text, not grey "still decoding".
            views.transcript.add_words((w.text, w.start, w.end) for w in timed_words(transcript))
        else:  # untimed words already shown chunk by chunk, each spread over its chunk's time: closer
            views.transcript.add_words(())
        if result.has_text:
            views.attention.redraw()  # draw the last rows now, not at the next timer tick
        else:  # an end-of-text row and nothing else: no heatmap
            views.attention.reset(0, 1, 0)  # no heads until frames arrive
            views.self_attention.reset()

    @Slot(int, str, str)
    def on_engine_job_failed(self, job: int, message: str, detail: str) -> None:
        if job not in (self.load_job, self.job):
            return
        log.warning("engine job %s failed: %s\n%s", job, message, detail)
        self._end()  # a failed load: the session cancels the transcription that waited for it
        self.failed.emit(message)

    @Slot(int, object)
    def on_engine_job_stopped_early(self, job: int, result) -> None:
        """A cancelled transcription's chunks done: kept, shown and exportable (an hour cancelled at 40 min)."""
        if job == self.job:
            done = TranscriptResult.from_engine(result, self.offset, self.audio, self.settings)
            self._done_before_cancel = done if done.has_text else None

    @Slot(int)
    def on_engine_job_cancelled(self, job: int) -> None:
        if job in (self.load_job, self.job):
            self._end()
            done = self._done_before_cancel
            if done is not None:
                self._show(done)
            self._show_finished_attention(done is not None)
            self.cancelled.emit(done)

    def _is_finished(self, chunk: int) -> bool:
        return 0 <= chunk <= self._last_finished

    def _show_finished_attention(self, kept_text: bool) -> None:
        """After a cancel: the heatmaps of the last chunk finished, not the rows of the chunk stopped midway."""
        views = self.views
        if not self._is_finished(self._partial_chunk) and self._finished_cross is not None:
            views.attention.restore(self._finished_cross)
        if not self._is_finished(self._encoder_chunk):
            if self._finished_encoder is not None:
                views.self_attention.restore(self._finished_encoder)
            else:
                views.self_attention.reset()
        if kept_text and (self._is_finished(self._partial_chunk) or self._finished_cross is not None):
            views.attention.set_note(translate("TranscribePage", "Cancelled: the last part finished, {start}–{end}")
                                     .format(start=clock(views.attention.chunk_start),
                                             end=clock(views.attention.chunk_end)))
        else:  # nothing finished (or nothing with text): no picture rather than a stopped chunk's
            views.attention.reset(0, 1, 0)
            views.self_attention.reset()
            views.attention.set_note(translate("TranscribePage", "Cancelled before the first part of the audio "
                                                                 "was transcribed: no attention to show"))

    @Slot(int, str)
    def on_engine_worker_exited(self, code: int, reason: str) -> None:
        if self.running:
            self._end()
            self.interrupted.emit()

    @Slot(int, object)
    def on_engine_partial_transcript(self, job: int, event) -> None:
        if job != self.job:
            return
        if event.chunk == self._partial_chunk and event.temperature != self._partial_temperature:
            self._partial_chunk = -1  # a new attempt at the same window: its heatmap starts afresh
        self._partial_temperature = event.temperature
        self._take_row_labels(event)
        note = ""
        if event.temperature > 0:
            note = translate("TranscribePage", "(decoding this window again at temperature {t:.1f}: the first text "
                                               "looked wrong) ").format(t=event.temperature)
        self.views.transcript.set_partial(note + event.text)

    def _take_row_labels(self, event) -> None:
        """The heatmap's row labels: the tokens as the model wrote them (Whisper's BPE pieces, a character
        model's characters), flagged when special (timestamps); an older engine sends none, and its text's
        characters stand in."""
        texts = event.token_texts or tuple(event.text)
        self._token_texts = list(zip(texts, event.special or (False,) * len(texts)))

    @Slot(int, object)
    def on_engine_attention_frame(self, job: int, event) -> None:
        if job != self.job:
            return
        # One frame holds one head, their average (head None) or all of them (ALL_HEADS, stacked).
        heads = enumerate(event.matrix) if event.head == ALL_HEADS else [(event.head, event.matrix)]
        if event.kind == "encoder_self":
            if event.layer == 0 and event.head in (None, 0, ALL_HEADS):
                if self._is_finished(self._encoder_chunk):  # kept, to show again after a cancel
                    self._finished_encoder = self.views.self_attention.snapshot()
                self._encoder_chunk = event.chunk
                # Pickers start with the average alone and grow as heads and layers arrive.
                self.views.self_attention.reset(1, 0, event.frame_seconds, event.chunk_start + self.offset)
            for head, matrix in heads:
                self.views.self_attention.set_matrix(event.layer, head, matrix)
            return
        view, labels = self.views.attention, self._token_texts
        if event.chunk != self._partial_chunk:
            if self._is_finished(self._partial_chunk):  # kept, to show again after a cancel
                self._finished_cross = view.snapshot()
            self._partial_chunk = event.chunk
            view.reset(event.matrix.shape[-1], 1, 0, event.frame_seconds, event.chunk_start + self.offset)
        if event.layer == 0 and event.head in (None, 0, ALL_HEADS):  # once a step: a beam may rewrite the past
            view.set_tokens([text for text, _ in labels], [special for _, special in labels])
        # The step past the last token is the one that ended the text.
        text, special = labels[event.step] if event.step < len(labels) else (END_MARK, True)
        for head, row in heads:
            view.add_row(event.layer, head, event.step, row, text, special)

    @Slot(int, object)
    def on_engine_chunk_finished(self, job: int, event) -> None:
        if job == self.job:
            self._last_finished = max(self._last_finished, event.chunk)
            # Without word timings (turned off), the chunk's words are spread over its time: still clickable.
            words = event.words or [(w.text, w.start, w.end) for w in spread_words(event.text, event.start, event.end)]
            self.views.transcript.add_words((w, s + self.offset, e + self.offset) for w, s, e in words)

    @Slot(int, float, float, str)
    def on_engine_progress_changed(self, job: int, done: float, total: float, unit: str) -> None:
        if job == self.job and total > 0:
            progress = self.views.progress
            progress.setRange(0, 1000)
            progress.setValue(int(1000 * done / total))
            if unit != "seconds":
                progress.setFormat(f"{done:.0f}/{total:.0f}")
                return
            text = f"{clock(done)} / {clock(total)}"
            left = self._seconds_left(done, total)
            if left is not None:
                text += " · " + translate("TranscribePage", "about {time} left").format(time=clock(left))
            progress.setFormat(text)

    def _seconds_left(self, done: float, total: float) -> float | None:
        """Wall seconds until the end at the pace since the first progress report (None until there is a pace)."""
        now = time.monotonic()
        if self._first_progress is None:
            self._first_progress = (now, done)
            return None
        since, done_then = self._first_progress
        if done <= done_then or now - since < 2.0 or done >= total:
            return None
        return (total - done) * (now - since) / (done - done_then)
