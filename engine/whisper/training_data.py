"""Fine-tuning data for Whisper: 30-second log-mel windows and prompted BPE targets.

Whisper was trained on whole windows (``2 * n_audio_ctx`` feature frames, 30 s for
the released models) padded with zeros, and its decoder reads a prompt before the
text::

    tokens_in   <|startoftranscript|> <|es|> <|transcribe|> <|notimestamps|>  t1  t2 ... tn
    tokens_out   (ignored)            (ignored) (ignored)    t1               t2  t3 ... <|endoftext|>

so the loss covers the text and the end-of-text token, never the prompt, as in
the original training. Targets are the transcript as written (case, accents and
punctuation are Whisper's to learn), with the leading space Whisper puts before
the first word.

Like Whisper's own training, a share of the utterances (``timestamp_fraction``)
is taught in timestamp mode instead: no ``<|notimestamps|>`` in the prompt and the
text framed as one segment, ``<|0.00|> t1 ... tn <|end|>``, the end being the
clip's length. Without it a fine-tuned model forgets the timestamps that
long-form transcription seeks by. Which utterances get timestamps is drawn
per epoch from the seed, so a resumed run sees the same targets. Items that cannot be used (unreadable audio, longer than a window,
text longer than the decoder's context) come back as ``(id, reason)`` and are
skipped and counted by the trainer, as with the Speech-Transformer's dataset.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from torch.utils.data import Dataset

from engine.data.batching import Example, LoadedBatch
from engine.data.manifest import Utterance
from engine.errors import ParceroError
from engine.losses import IGNORE, Batch
from engine.whisper.model import WhisperConfig
from engine.whisper.audio import FRAMES_PER_SECOND, HOP_LENGTH, SAMPLE_RATE, TIME_PRECISION, log_mel, pad_or_trim


def window_frames(config: WhisperConfig) -> int:
    """Feature frames in one encoder window (3000 = 30 s for the released models)."""
    return 2 * config.n_audio_ctx


def window_seconds(config: WhisperConfig) -> float:
    return window_frames(config) / FRAMES_PER_SECOND


def target_text(text: str) -> str:
    """What the decoder learns to write: NFC text after one space, as Whisper's own targets."""
    return " " + unicodedata.normalize("NFC", " ".join(text.split()))


class WhisperDataset(Dataset):
    """Utterances of a manifest as (padded log-mel window, text token ids)."""

    def __init__(
        self,
        utterances: Sequence[Utterance],
        base_dir: str | Path | None,
        tokenizer,
        config: WhisperConfig,
        timestamp_fraction: float = 0.0,
        seed: int = 0,
    ):
        self.utterances = list(utterances)
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.tokenizer = tokenizer
        self.config = config
        self.timestamp_fraction = timestamp_fraction
        self.seed = seed
        self.epoch = 0  # set by the trainer: which utterances get timestamps changes with it

    def __len__(self) -> int:
        return len(self.utterances)

    def durations(self) -> list[float]:
        """Every item costs a whole window, whatever its length: that is what batching must count."""
        return [window_seconds(self.config)] * len(self.utterances)

    def __getitem__(self, index: int) -> Example | tuple[str, str]:
        u = self.utterances[index]
        frames = window_frames(self.config)
        try:
            samples = u.load_samples(self.base_dir, SAMPLE_RATE)
            n_real = len(samples) // HOP_LENGTH  # feature frames of the audio itself
            if n_real > frames:
                raise ValueError(f"{len(samples) / SAMPLE_RATE:.1f} s is longer than Whisper's "
                                 f"{frames / FRAMES_PER_SECOND:.0f} s window; split it first")
            # The audio is padded with silence *before* the log-mel, as Whisper's feature extraction and
            # our long-form transcription do: the padding then reads as the spectrogram's floor
            # (its maximum minus 8), not as 0, and training sees what transcription will show.
            mel = log_mel(pad_or_trim(samples, frames * HOP_LENGTH), self.config.n_mels)
            tokens = self.tokenizer.encode(target_text(u.text))
            timestamps = self._timestamps(index)
            prompt = self.tokenizer.sot_sequence(timestamps=timestamps)
            if timestamps:
                ts = self.tokenizer.timestamp_begin
                end = min(round(n_real / FRAMES_PER_SECOND / TIME_PRECISION), frames // 2)
                tokens = [ts, *tokens, ts + end]
            if len(prompt) + len(tokens) + 1 > self.config.n_text_ctx:
                raise ValueError(f"transcript of {len(tokens)} tokens is longer than the decoder's "
                                 f"{self.config.n_text_ctx}-token context")
        except (ParceroError, ValueError) as e:
            return (u.id, str(e))
        # Only the real frames count for enc_lens; the window is padded as Whisper expects.
        return WhisperExample(u.id, mel, tokens, max(n_real, 1), prompt)

    def _timestamps(self, index: int) -> bool:
        if self.timestamp_fraction <= 0:
            return False
        if self.timestamp_fraction >= 1:
            return True
        # Seeded from integers only: str hashes change from process to process (PYTHONHASHSEED), and a run
        # resumed in a new process must choose the same utterances as the one it continues.
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) * 1_000_033 + index)
        return float(torch.rand((), generator=g)) < self.timestamp_fraction


@dataclass
class WhisperExample(Example):
    frames: int = 0  # real (unpadded) feature frames
    prompt: list[int] = field(default_factory=list)


def prompted_collate(prompts: Sequence[Sequence[int]], eot: int, feats: list[torch.Tensor], lengths: list[int],
                     token_ids: list[list[int]]) -> Batch:
    """Stack windows and build teacher-forcing inputs/targets, each row behind its own prompt.

    ``tokens_in`` is ``prompt + tokens`` padded with ``eot``; ``tokens_out`` has the
    tokens and ``eot`` one position earlier (the last prompt token predicts the first
    text token) and IGNORE everywhere else. ``targets`` holds the tokens alone.
    """
    B = len(token_ids)
    width = max((len(p) + len(t) for p, t in zip(prompts, token_ids)), default=0)
    L = max((len(t) for t in token_ids), default=0)
    tokens_in = torch.full((B, width), eot, dtype=torch.long)
    tokens_out = torch.full((B, width), IGNORE, dtype=torch.long)
    targets = torch.zeros((B, max(L, 1)), dtype=torch.long)
    for i, (prompt, ids) in enumerate(zip(prompts, token_ids)):
        P, n = len(prompt), len(ids)
        t = torch.tensor(ids, dtype=torch.long)
        tokens_in[i, :P] = torch.tensor(list(prompt), dtype=torch.long)
        tokens_in[i, P: P + n] = t
        tokens_out[i, P - 1: P - 1 + n] = t
        tokens_out[i, P - 1 + n] = eot
        targets[i, :n] = t
    return Batch(torch.stack(feats), torch.tensor(lengths), tokens_in, tokens_out, targets,
                 torch.tensor([len(t) for t in token_ids]))


class WhisperCollate:
    """Collate :class:`WhisperExample` items; ``(id, reason)`` items are passed on as skipped."""

    def __init__(self, eot: int):
        self.eot = eot

    def __call__(self, items) -> LoadedBatch:
        good = [x for x in items if isinstance(x, WhisperExample)]
        skipped = [x for x in items if not isinstance(x, WhisperExample)]
        if not good:
            return LoadedBatch(None, [], skipped)  # type: ignore[arg-type]
        batch = prompted_collate([x.prompt for x in good], self.eot, [x.feats for x in good],
                                 [x.frames for x in good], [x.tokens for x in good])
        return LoadedBatch(batch, [x.id for x in good], skipped)
