"""The engine worker's live job: a :class:`~engine.live.stream.LiveSession` fed through the pipe.

The worker's reader thread hands :class:`~engine.protocol.LiveAudio` to the job at
once (it is never queued behind a pass); passes run on the session's thread; this
job's thread waits for StopLive or Cancel and sends the outcome. Attention and
partial hypotheses travel as a transcription's do, one "chunk" per pass.
"""

from __future__ import annotations

import dataclasses
import logging

from engine.errors import JobCancelled, ParceroError
from engine.live.stream import LiveSession, LiveStatus, LiveTranscriber, LiveUpdate
from engine.protocol import Cancelled, Finished, Live, LiveText
from engine.transcribe import check_decode_options
from engine.transcription_job import TranscriptionJob, model_identity

log = logging.getLogger("engine.worker")


def _timed(words) -> tuple[tuple[str, float, float], ...]:
    return tuple((w.text.strip(), round(w.start, 3), round(w.end, 3)) for w in words)


class LiveJob(TranscriptionJob):
    def __init__(self, job, loaded, send):  # job: the worker's _Job, fed by its reader thread
        super().__init__(job.command, loaded, job.cancel, send)
        self.job = job
        self.session: LiveSession | None = None

    def run(self):
        c: Live = self.command
        self._check_live()
        options = dataclasses.replace(c.options, step_attention="decoder_cross" in c.attention)
        # _on_step also stops a pass when the job is cancelled, so it is there even without attention.
        transcriber = LiveTranscriber(self.loaded, options, c.live, on_step=self._on_step)
        session = LiveSession(transcriber, self._on_update)
        with self.job.lock:  # audio that came while the job waited in the queue goes first
            for samples in self.job.inbox:
                session.push(samples)
            self.job.inbox.clear()
            self.job.session = session
        session.start()
        while not (self.job.stop.is_set() or self.cancel.is_set()) and session.running:
            self.job.stop.wait(0.1)
        try:
            transcript = session.stop()  # a cancel raises JobCancelled from the pass under way
        except JobCancelled:
            return self._cancelled(transcriber)
        if self.cancel.is_set():
            return self._cancelled(transcriber)
        return Finished(c.job_id, result={**transcript.to_dict(), **model_identity(self.loaded), "offset": 0.0,
                                          "live": {"passes": transcriber.passes, "policy": transcriber.policy.name}})

    def _check_live(self) -> None:
        c: Live = self.command
        rate = self.backend.sample_rate(self.loaded)
        if c.sample_rate != rate:
            raise ParceroError(f"live audio must come at the model's sample rate, {rate} Hz; got {c.sample_rate} Hz")
        if any(kind != "decoder_cross" for kind in c.attention):
            raise ParceroError(f"live attention can only be 'decoder_cross', got {', '.join(c.attention)}")
        if c.heads not in ("average", "all"):
            raise ParceroError(f"heads must be 'average' or 'all', got {c.heads!r}")
        try:
            c.live.check()
        except ValueError as e:
            raise ParceroError(str(e)) from None
        check_decode_options(c.options, self.loaded)

    def _on_update(self, update: LiveUpdate, status: LiveStatus) -> None:
        self.send(LiveText(self.command.job_id, _timed(update.committed), _timed(update.tentative),
                           round(update.audio_end, 3), round(status.backlog, 3), status.behind,
                           round(update.decode_seconds, 3), update.final, update.forced))

    def _cancelled(self, transcriber: LiveTranscriber) -> Cancelled:
        partial = transcriber.transcript()
        return Cancelled(self.command.job_id, result={**partial.to_dict(), **model_identity(self.loaded), "offset": 0.0,
                                                      "stopped_at": transcriber.audio_seconds})

