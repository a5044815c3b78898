"""What a transcription takes and produces, whatever the model family: its options, timed text, the transcript.

Every family's decoder takes :class:`DecodeOptions` and returns :class:`Transcript`;
the worker, the CLI, export and the window use only these types, so they never ask
which model made them. No torch here: the window imports these without loading it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DecodeOptions:
    beam_size: int = 1
    length_penalty: float = 1.0  # final score = log p / (tokens + 1) ** length_penalty
    ctc_weight: float = 0.0  # 0: attention only; needs a model with a CTC head when > 0
    max_len_ratio: float = 1.0  # at most ratio * encoder frames (40 ms each) + 10 tokens
    pre_beam_factor: float = 1.5  # joint scoring looks at this many x beam candidates per hypothesis
    capture_attention: bool = False  # keep decoder cross-attention in the results
    step_attention: bool = True  # give on_step the newest cross-attention (False: tokens only, none computed)
    length_counts_eos: bool = True  # count <eos> in the length normalisation (Whisper and CTranslate2 do not)
    # > 0: sample best_of candidates at this temperature instead of beam search. Whisper: the first
    # temperature, rising by 0.2 up to 1.0 while a window's text fails its checks (see temperature_fallback).
    temperature: float = 0.0
    best_of: int = 1  # candidates sampled per utterance when temperature > 0; the most probable one wins
    seed: int = 0  # of the sampling: the same audio and options give the same transcript
    language: str | None = "es"  # Whisper: the language spoken (None: detect it from the first 30 s)
    task: str = "transcribe"  # Whisper: "transcribe" (text in the language spoken) or "translate" (into English)
    initial_prompt: str | None = None  # Whisper: text that "came before" the audio, e.g. names and jargon to spell
    prefix: str | None = None  # Whisper, window by window: the first window's text starts with this, forced
    condition_on_previous_text: bool = True  # Whisper: prompt each 30 s window with the text before it
    temperature_fallback: bool = True  # Whisper: decode a window again, hotter, when its text looks wrong
    word_timestamps: bool = True  # Whisper: time each word by its cross-attention (False: faster, segment times)
    # Whisper: 0 or 1 reads the audio window after window, each conditioned on the text before it (Whisper's
    # own algorithm); N > 1 cuts the speech out by voice-activity detection into pieces of up to 30 s and
    # decodes N of them at once, independently (faster on long files; no conditioning on earlier text).
    batch_size: int = 0
    # Voice-activity detection: "auto" (on when batch_size > 1, off otherwise), "off", "silero" (Silero VAD,
    # a small neural network) or "energy" (loudness). On, only the speech is decoded: no text over silence.
    vad: str = "auto"
    vad_threshold: float = 0.5  # speech probability (silero) above which a 32 ms frame is speech
    # Whisper: at most this many tokens per second of a window's audio (+ 8); None: Whisper's 224 a window.
    # Live passes set it: a greedy loop ("no, no, no, ...") then costs a few steps, not 224.
    max_tokens_per_second: float | None = None


VAD_CHOICES = ("auto", "off", "silero", "energy")


@dataclass
class TimedText:
    text: str
    start: float  # seconds
    end: float


@dataclass
class Transcript:
    text: str
    tokens: list[TimedText]  # one per character
    words: list[TimedText]
    duration: float  # seconds of audio
    score: float  # length-normalised log-probability
    source: str | None = None  # file path, when transcribed from a file
    cross_attention: np.ndarray | None = field(default=None, repr=False)  # (layers, H, steps, T) float16

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("cross_attention")
        return d


@dataclass(frozen=True)
class Chunk:
    index: int
    start: float  # seconds in the whole audio
    end: float
    count: int  # how many chunks the audio was cut into


def spread_words(text: str, start: float, end: float) -> list[TimedText]:
    """The words of ``text`` spread evenly over [start, end]: times for text that has none of its own."""
    texts = text.split()
    step = (end - start) / len(texts) if texts and end > start else 0.0
    return [TimedText(t, round(start + i * step, 3), round(start + (i + 1) * step, 3)) for i, t in enumerate(texts)]


def shifted(t: Transcript, offset: float) -> Transcript:
    """The same transcript with every time moved by ``offset`` seconds."""
    if offset == 0:
        return t
    move = lambda xs: [TimedText(x.text, round(x.start + offset, 3), round(x.end + offset, 3)) for x in xs]  # noqa: E731
    return Transcript(t.text, move(t.tokens), move(t.words), t.duration, t.score, t.source, t.cross_attention)


def join_transcripts(parts: list[Transcript], duration: float) -> Transcript:
    texts = [p.text.strip() for p in parts if p.text.strip()]
    tokens: list[TimedText] = []
    for p in parts:
        if tokens and p.tokens and p.text.strip():
            tokens.append(TimedText(" ", tokens[-1].end, p.tokens[0].start))
        tokens.extend(p.tokens)
    score = sum(p.score for p in parts) / len(parts) if parts else 0.0
    return Transcript(" ".join(texts), tokens, [w for p in parts for w in p.words], duration, score)


def words_from_characters(tokens: list[TimedText]) -> list[TimedText]:
    """Group characters into words at spaces; a word spans its first to its last character."""
    words, current = [], []
    for t in tokens + [TimedText(" ", 0.0, 0.0)]:
        if t.text == " ":
            if current:
                words.append(TimedText("".join(c.text for c in current), current[0].start, current[-1].end))
            current = []
        elif t.text:  # <unk> decodes to nothing and joins no word
            current.append(t)
    return words


def transcript_from_dict(d: dict[str, Any]) -> Transcript:
    """Inverse of :meth:`Transcript.to_dict` (e.g. for a result that crossed the process boundary)."""
    timed = lambda xs: [TimedText(x["text"], float(x["start"]), float(x["end"])) for x in xs or []]  # noqa: E731
    return Transcript(
        text=d.get("text", ""), tokens=timed(d.get("tokens")), words=timed(d.get("words")),
        duration=float(d.get("duration", 0.0)), score=float(d.get("score", 0.0)), source=d.get("source"),
    )
