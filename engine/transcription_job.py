"""The engine worker's transcription job: audio in; partial transcripts, attention and chunk results out.

The live job (:mod:`engine.live.job`) is one of these that is fed while it runs.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import torch

from engine.audio import load_audio, resample
from engine.decode import StepInfo
from engine.errors import JobCancelled, ParceroError
from engine.models.attention import AttentionRecorder
from engine.protocol import (
    ALL_HEADS, AttentionFrame, Cancelled, ChunkResult, Finished, PartialTranscript, Progress, Transcribe,
)
from engine.transcribe import check_decode_options, transcribe_long
from engine.transcript import Chunk, Transcript, join_transcripts

ATTENTION_KINDS = ("decoder_cross", "encoder_self")


def model_identity(loaded) -> dict[str, str]:
    """Which model produced a result: its name and folder."""
    return {"model": loaded.name, "model_path": str(loaded.path)}


def frame_matrix(weights: torch.Tensor, heads: str) -> torch.Tensor:
    """What one attention frame carries of ``weights`` (H, ...): the heads' mean ("average") or every head, float16.

    One frame holds all the heads ("all"): a step of Whisper base is 6 events, not 48.
    """
    return weights.float().mean(dim=0).half() if heads == "average" else weights.half()


class TranscriptionJob:
    """One Transcribe command: audio in; partial transcripts, attention and chunk results out."""

    def __init__(self, command: Transcribe, loaded, cancel: threading.Event, send):
        self.command = command
        self.loaded = loaded
        self.cancel = cancel
        self.send = send
        self.backend = loaded.backend
        self.sample_rate = self.backend.sample_rate(loaded)
        self.frame_seconds = self.backend.frame_seconds(loaded)
        self.samples = np.zeros(0, dtype=np.float32)
        self.duration = 0.0
        self.encoded_chunks: set[int] = set()
        # The encoder self-attention recorded as the newest chunk was encoded: (chunk index, recorder).
        self.encoder_recorded: tuple[int, AttentionRecorder] | None = None
        self.done: list[Transcript] = []  # each chunk's transcript, times in the whole audio
        self.done_until = 0.0  # seconds of audio transcribed so far

    def run(self) -> Event:
        c = self.command
        self._check()
        self.samples = self._audio()
        self.duration = len(self.samples) / self.sample_rate
        # Cross-attention is computed per step only when it is to be streamed (no listener, no cost).
        options = dataclasses.replace(c.options, step_attention="decoder_cross" in c.attention)
        on_encode = self._on_encode if "encoder_self" in c.attention else None
        try:
            transcript = transcribe_long(self.loaded, self.samples, options, max_chunk_seconds=c.max_chunk_seconds,
                                         on_step=self._on_step, on_chunk=self._on_chunk, source=c.path,
                                         on_encode=on_encode)
        except JobCancelled:
            return self._stopped_early()
        # A sliver of silence at the very end is skipped without a chunk result; still end at 100 %.
        self.send(Progress(c.job_id, self.duration, self.duration, "seconds"))
        # The identity of the model that produced it travels with the result: the window labels and
        # exports the transcript with this, not with whatever its model list shows by then.
        return Finished(c.job_id, result={**transcript.to_dict(), **model_identity(self.loaded), "offset": c.offset})

    def _check(self) -> None:
        c = self.command
        if (c.path is None) == (c.samples is None):
            raise ParceroError("Transcribe needs exactly one of path (a file) or samples (an array)")
        if c.sample_rate <= 0:
            raise ParceroError(f"sample_rate must be positive, got {c.sample_rate}")
        if c.offset < 0 or (c.duration is not None and c.duration <= 0):
            raise ParceroError(f"offset must be >= 0 and duration > 0 seconds, got {c.offset} and {c.duration}")
        if c.max_chunk_seconds < 1.0:
            raise ParceroError(f"max_chunk_seconds must be at least 1 second, got {c.max_chunk_seconds}")
        unknown = [k for k in c.attention if k not in ATTENTION_KINDS]
        if unknown:
            raise ParceroError(f"unknown attention kind(s) {', '.join(map(repr, unknown))}: "
                               f"choose from {', '.join(ATTENTION_KINDS)}")
        for name, heads in (("heads", c.heads), ("encoder_heads", c.encoder_heads or c.heads)):
            if heads not in ("average", "all"):
                raise ParceroError(f"{name} must be 'average' or 'all', got {heads!r}")
        check_decode_options(c.options, self.loaded)

    def _audio(self) -> np.ndarray:
        c = self.command
        if c.path is not None:
            return load_audio(c.path, self.sample_rate, offset=c.offset, duration=c.duration)
        x = c.samples
        if x.ndim != 1 or x.size == 0 or not np.issubdtype(x.dtype, np.floating):
            raise ParceroError(f"samples: expected a non-empty float array of shape (n,), "
                               f"got {x.dtype} of shape {x.shape}")
        start = int(round(c.offset * c.sample_rate))
        if start >= x.size:
            raise ParceroError(f"offset {c.offset:.3f} s is past the end of the samples "
                               f"({x.size / c.sample_rate:.3f} s long)")
        stop = None if c.duration is None else start + max(1, int(round(c.duration * c.sample_rate)))
        x = x[start:stop]
        if not np.isfinite(x).all():
            raise ParceroError("samples: contain NaN or Inf values")
        return resample(x, c.sample_rate, self.sample_rate)

    def _on_step(self, chunk: Chunk, info: StepInfo) -> None:
        if self.cancel.is_set():
            raise JobCancelled()
        c = self.command
        if "encoder_self" in c.attention and chunk.index not in self.encoded_chunks:
            self.encoded_chunks.add(chunk.index)
            recorded, self.encoder_recorded = self.encoder_recorded, None
            if recorded is not None and recorded[0] == chunk.index:
                self._send_recorded_encoder_attention(recorded[1], chunk)
            else:  # a family that encodes several chunks at once records none: one more pass
                self._send_encoder_attention(chunk)
        tokens = info.tokens[0]
        texts, special = self._token_labels(tokens)
        self.send(PartialTranscript(c.job_id, chunk.index, tuple(tokens), self.loaded.tokenizer.decode(tokens),
                                    chunk.start, info.temperature, texts, special))
        # In a batch (Whisper's --batch-size) the followed piece may end its search while the others go
        # on: those steps hold no row of its (the search reports zeros for it), so nothing is drawn.
        ended_in_batch = len(info.finished) > 1 and info.finished[0]
        if "decoder_cross" in c.attention and info.cross_attention and not ended_in_batch:
            n = self._audio_frames(chunk)
            for layer, w in enumerate(info.cross_attention):  # w: (B=1, H, T)
                self._send_frames("decoder_cross", layer, info.step, w[0, :, :n], chunk, c.heads)

    def _token_labels(self, tokens: list[int]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
        """Each token's text as a heatmap row label, and whether it is special (not text)."""
        return self.backend.token_labels(self.loaded, tokens)

    def _audio_frames(self, chunk: Chunk) -> int | None:
        """Encoder frames of ``chunk`` that hold its audio (None: all of them)."""
        return self.backend.audio_frames(self.loaded, chunk.end - chunk.start)

    @property
    def _encoder_heads(self) -> str:
        """"average" or "all" for the encoder's frames: ``encoder_heads``, else ``heads``."""
        return self.command.encoder_heads or self.command.heads

    def _encoder_recorder(self, chunk: Chunk) -> AttentionRecorder:
        """A recorder of a chunk's encoder self-attention that keeps each layer as its frame will carry it.

        Every head of every layer of a 30 s Whisper window is 432 MB of float32; reduced as each
        layer is recorded, no more than one layer's weights exist at a time.
        """
        n = self._audio_frames(chunk)
        heads = self._encoder_heads
        return AttentionRecorder(("encoder_self",), reduce=lambda kind, w: frame_matrix(w[0, :, :n, :n], heads),
                                 mean_heads=heads == "average")

    def _on_encode(self, chunk: Chunk) -> AttentionRecorder:
        # The chunk's own encoding records its attention, sent at its first decoding step: a
        # second encoder pass cost Whisper base a third of a window's time on long recordings.
        recorder = self._encoder_recorder(chunk)
        self.encoder_recorded = (chunk.index, recorder)
        return recorder

    def _send_encoder_attention(self, chunk: Chunk) -> None:
        """Encode ``chunk`` again to record its self-attention, and send it (decoding did not record it)."""
        a, b = round(chunk.start * self.sample_rate), round(chunk.end * self.sample_rate)
        feats = self.backend.encoder_input(self.loaded, self.samples[a:b])  # (T_in, n_mels)
        device = self.loaded.device
        recorder = self._encoder_recorder(chunk)
        with torch.inference_mode():
            self.loaded.model.encode(feats[None].to(device), torch.tensor([feats.shape[0]], device=device), recorder)
        self._send_recorded_encoder_attention(recorder, chunk)

    def _send_recorded_encoder_attention(self, recorder: AttentionRecorder, chunk: Chunk) -> None:
        heads = self._encoder_heads
        for layer, matrix in enumerate(recorder.of_kind("encoder_self")):  # as frame_matrix made them
            self._send_matrix("encoder_self", layer, 0, matrix, chunk, heads)

    def _send_frames(self, kind: str, layer: int, step: int, weights: torch.Tensor, chunk: Chunk,
                     heads: str) -> None:
        """Send ``weights`` (H, ...) of one layer as one frame: the heads' mean ("average") or all of them."""
        self._send_matrix(kind, layer, step, frame_matrix(weights, heads), chunk, heads)

    def _send_matrix(self, kind: str, layer: int, step: int, matrix: torch.Tensor, chunk: Chunk, heads: str) -> None:
        c = self.command
        head = None if heads == "average" else ALL_HEADS
        self.send(AttentionFrame(c.job_id, kind, layer, head, step, matrix.cpu().numpy(), chunk.index, chunk.start,
                                 self.frame_seconds))

    def _stopped_early(self) -> Cancelled:
        """Cancelled, with what was transcribed before the stop: the chunks done, joined, and the model's identity.

        An hour-long file cancelled at minute 40 keeps its 40 minutes: the window shows and exports them.
        """
        c = self.command
        if not self.done:
            return Cancelled(c.job_id)
        partial = join_transcripts(self.done, self.duration)
        partial.source = c.path
        return Cancelled(c.job_id, result={**partial.to_dict(), **model_identity(self.loaded), "offset": c.offset,
                                           "stopped_at": self.done_until})

    def _on_chunk(self, chunk: Chunk, transcript: Transcript) -> None:
        self.done.append(transcript)
        self.done_until = chunk.end
        c = self.command
        words = tuple((w.text, w.start, w.end) for w in transcript.words)
        self.send(ChunkResult(c.job_id, chunk.index, chunk.start, chunk.end, transcript.text, words))
        self.send(Progress(c.job_id, chunk.end, self.duration, "seconds"))
