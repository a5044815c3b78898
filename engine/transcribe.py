"""Transcribe audio with a loaded model: the one function the CLI, the worker and the GUI share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from engine.alignment import Span, attention_spans, ctc_forced_align, uniform_spans
from engine.audio import audio_info, load_audio
from engine.chunking import split_at_silences
from engine.decode import DecodeOptions, Hypothesis, StepCallback, StepInfo, decode_encoded
from engine.errors import AudioError, ParceroError
from engine.features import compute_features
from engine.models.io import LoadedModel

SUBSAMPLING = 4  # encoder frames are 4 feature frames
DEFAULT_CHUNK_SECONDS = 20.0
TASKS = ("transcribe", "translate")
STREAM_BLOCK_SECONDS = 300.0  # a long file is read this much at a time (10 MB of samples at 16 kHz)


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


def check_decode_options(options: DecodeOptions, loaded: LoadedModel | None = None,
                         names: dict[str, str] | None = None) -> None:
    """ParceroError naming the option (``names`` maps field -> how the caller spells it) when it is unusable."""
    names = names or {}
    beam, ctc = names.get("beam_size", "options.beam_size"), names.get("ctc_weight", "options.ctc_weight")
    if options.beam_size < 1:
        raise ParceroError(f"{beam} must be at least 1, got {options.beam_size}")
    if not 0.0 <= options.ctc_weight < 1.0:
        raise ParceroError(f"{ctc} must be in [0, 1), got {options.ctc_weight}")
    if loaded is not None and options.ctc_weight > 0 and loaded.model.ctc_head is None:
        raise ParceroError(f"{loaded.name}: this model has no CTC head; use {ctc} 0")
    temperature = names.get("temperature", "options.temperature")
    if not (0.0 <= options.temperature <= 10.0):  # NaN fails too
        raise ParceroError(f"{temperature} must be from 0 to 10, got {options.temperature}")
    if options.best_of < 1:
        raise ParceroError(f"{names.get('best_of', 'options.best_of')} must be at least 1, got {options.best_of}")
    task, language = names.get("task", "options.task"), names.get("language", "options.language")
    if options.task not in TASKS:
        raise ParceroError(f"{task} must be one of {', '.join(TASKS)}, got {options.task!r}")
    if loaded is None:
        return
    whisper = getattr(loaded, "architecture", "speech-transformer") == "whisper"
    if whisper:
        known = loaded.tokenizer.languages
        if options.language is not None and known and options.language not in known:
            raise ParceroError(f"{language} {options.language!r}: {loaded.name} knows {', '.join(known)} "
                               "(or auto to detect it)")
    elif options.task != "transcribe" or options.language not in ("es", None):
        # Our Speech-Transformers know the one language they were trained on and cannot translate.
        raise ParceroError(f"{loaded.name}: {task} and {language} apply to Whisper models only "
                           f"(this one transcribes the language it was trained on)")


@dataclass(frozen=True)
class Chunk:
    index: int
    start: float  # seconds in the whole audio
    end: float
    count: int  # how many chunks the audio was cut into


def transcribe_file(
    loaded: LoadedModel,
    path: str | Path,
    options: DecodeOptions = DecodeOptions(),
    on_step: StepCallback | None = None,
    max_chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
) -> Transcript:
    """Load ``path`` (any supported format and rate) and transcribe it, long files in chunks.

    A Speech-Transformer reads a long file one block (``STREAM_BLOCK_SECONDS``) at
    a time, so a two-hour recording never sits in memory whole: each block is cut
    at silences, the chunks that end inside it are decoded, and the next block
    starts where the last of them ended. Whisper seeks by its own timestamps and
    reads the file whole.
    """
    sr = loaded.feature_config.sample_rate if loaded.feature_config is not None else 16000
    step = (lambda chunk, info: on_step(info)) if on_step is not None else None
    whisper = getattr(loaded, "architecture", "speech-transformer") == "whisper"
    duration = None if whisper else audio_info(path).duration
    if duration is None or duration <= STREAM_BLOCK_SECONDS + max_chunk_seconds:
        samples = load_audio(path, sr)
        return transcribe_long(loaded, samples, options, max_chunk_seconds=max_chunk_seconds, on_step=step,
                               source=path)
    parts: list[Transcript] = []
    start = 0  # in samples at `sr`
    while start < duration * sr - 1:
        block = load_audio(path, sr, offset=start / sr, duration=STREAM_BLOCK_SECONDS + max_chunk_seconds)
        if len(block) == 0:
            break
        ranges = split_at_silences(block, sr, max_chunk_seconds)
        if start + len(block) < duration * sr - 1:  # not the last block: stop at the last silence cut inside it
            ranges = [r for r in ranges if r[1] <= STREAM_BLOCK_SECONDS * sr] or ranges[:1]
        parts += _decode_ranges(loaded, block, ranges, options, step, source=path, offset=start)
        start += ranges[-1][1]
        del block
    joined = _join(parts, duration)
    joined.source = str(path)
    return joined


def transcribe_long(
    loaded: LoadedModel,
    samples: np.ndarray,
    options: DecodeOptions = DecodeOptions(),
    *,
    max_chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    on_step: Callable[[Chunk, StepInfo], None] | None = None,
    on_chunk: Callable[[Chunk, Transcript], None] | None = None,
    source: str | Path | None = None,
) -> Transcript:
    """Transcribe audio of any length: cut at silences, decode chunk by chunk, join.

    ``on_step(chunk, step_info)`` streams tokens and attention of the chunk being
    decoded; ``on_chunk(chunk, transcript)`` gets each chunk's result with times
    already shifted to the whole audio. A callback may raise (e.g. JobCancelled)
    to stop the work.
    """
    if getattr(loaded, "architecture", "speech-transformer") == "whisper":
        # Whisper reads its own 30 s windows and seeks by its timestamps (engine.whisper.decoding).
        from engine.whisper.decoding import WhisperOptions, transcribe_whisper

        wopts = WhisperOptions(beam_size=options.beam_size, capture_attention=options.capture_attention,
                               step_attention=options.step_attention, language=options.language,
                               task=options.task)
        return transcribe_whisper(loaded, samples, wopts, on_step=on_step, on_chunk=on_chunk, source=source)
    sr = loaded.feature_config.sample_rate
    ranges = split_at_silences(samples, sr, max_chunk_seconds)
    parts = _decode_ranges(loaded, samples, ranges, options, on_step, on_chunk, source)
    joined = _join(parts, len(samples) / sr)
    joined.source = str(source) if source is not None else None
    if len(parts) == 1:
        joined.cross_attention = parts[0].cross_attention
    return joined


def _decode_ranges(loaded, samples, ranges, options, on_step=None, on_chunk=None, source=None,
                   offset: int = 0) -> list[Transcript]:
    """Decode ``samples[a:b]`` for each range, with times in the whole audio (``offset`` samples before ``samples``)."""
    sr = loaded.feature_config.sample_rate
    min_samples = (loaded.model.MIN_FRAMES - 1) * loaded.feature_config.hop_length
    parts: list[Transcript] = []
    for i, (a, b) in enumerate(ranges):
        chunk = Chunk(i, (offset + a) / sr, (offset + b) / sr, len(ranges))
        if b - a < min_samples and len(ranges) > 1:
            continue  # a sliver at the very end: nothing to hear
        step = (lambda info, chunk=chunk: on_step(chunk, info)) if on_step is not None else None
        paths = [source] if len(ranges) == 1 else None
        [t] = transcribe_samples(loaded, [samples[a:b]], options, step, paths=paths)
        t = shifted(t, chunk.start)
        parts.append(t)
        if on_chunk is not None:
            on_chunk(chunk, t)
    return parts


def shifted(t: Transcript, offset: float) -> Transcript:
    """The same transcript with every time moved by ``offset`` seconds."""
    if offset == 0:
        return t
    move = lambda xs: [TimedText(x.text, round(x.start + offset, 3), round(x.end + offset, 3)) for x in xs]  # noqa: E731
    return Transcript(t.text, move(t.tokens), move(t.words), t.duration, t.score, t.source, t.cross_attention)


def _join(parts: list[Transcript], duration: float) -> Transcript:
    texts = [p.text.strip() for p in parts if p.text.strip()]
    tokens: list[TimedText] = []
    for p in parts:
        if tokens and p.tokens and p.text.strip():
            tokens.append(TimedText(" ", tokens[-1].end, p.tokens[0].start))
        tokens.extend(p.tokens)
    score = sum(p.score for p in parts) / len(parts) if parts else 0.0
    return Transcript(" ".join(texts), tokens, [w for p in parts for w in p.words], duration, score)


def transcribe_samples(
    loaded: LoadedModel,
    clips: Sequence[np.ndarray],
    options: DecodeOptions = DecodeOptions(),
    on_step: StepCallback | None = None,
    paths: Sequence[str | Path | None] | None = None,
) -> list[Transcript]:
    """Transcribe clips as one batch.

    Parameters
    ----------
    clips : mono float32 arrays of shape (n,), at the model's sample rate.
    on_step : called after each decoding step (see :class:`engine.decode.StepInfo`).
    """
    fc = loaded.feature_config
    hop = fc.hop_length / fc.sample_rate
    min_samples = (loaded.model.MIN_FRAMES - 1) * fc.hop_length
    for i, clip in enumerate(clips):
        if len(clip) < min_samples:
            where = paths[i] if paths else None
            raise AudioError(
                where, f"too short to transcribe ({len(clip) / fc.sample_rate * 1000:.0f} ms; "
                f"at least {min_samples / fc.sample_rate * 1000:.0f} ms needed)", "too_short",
                {"duration_ms": len(clip) / fc.sample_rate * 1000, "minimum_ms": min_samples / fc.sample_rate * 1000},
            )
    feats = [compute_features(c, fc) for c in clips]
    lens = torch.tensor([f.shape[0] for f in feats])
    batch = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
    device = loaded.device
    tok = loaded.tokenizer
    has_ctc = loaded.model.ctc_head is not None
    # Without a CTC head the cross-attention is the only clue to timing, so keep it.
    if not has_ctc and not options.capture_attention:
        options = replace(options, capture_attention=True)
    if options.ctc_weight > 0 and not has_ctc:
        raise ValueError("ctc_weight > 0 needs a model with a CTC head")
    with torch.inference_mode():
        xa, enc_lens = loaded.model.encode(batch.to(device), lens.to(device))
        ctc_lp = loaded.model.ctc_log_probs(xa) if has_ctc else None
    hyps = decode_encoded(
        loaded.model, xa, enc_lens, tok.sos_id, tok.eos_id, options,
        banned_ids=(tok.blank_id, tok.sos_id), on_step=on_step, ctc_log_probs=ctc_lp,
    )
    ctc_np = ctc_lp.cpu().numpy() if ctc_lp is not None else None
    enc_lens = enc_lens.cpu().tolist()
    frame = hop * SUBSAMPLING
    results = []
    for i, (hyp, clip) in enumerate(zip(hyps, clips)):
        n_frames = enc_lens[i]
        spans = _spans(hyp, ctc_np[i, :n_frames] if ctc_np is not None else None, n_frames, tok.blank_id)
        chars = [tok.decode([t]) for t in hyp.tokens]
        token_times = [TimedText(c, round(s.start * frame, 3), round(s.end * frame, 3)) for c, s in zip(chars, spans)]
        results.append(
            Transcript(
                text=tok.decode(hyp.tokens),
                tokens=token_times,
                words=_words(token_times),
                duration=len(clip) / fc.sample_rate,
                score=hyp.score,
                source=str(paths[i]) if paths and paths[i] is not None else None,
                cross_attention=hyp.cross_attention,
            )
        )
    return results


def _spans(hyp: Hypothesis, ctc_lp: np.ndarray | None, n_frames: int, blank_id: int) -> list[Span]:
    if ctc_lp is not None:
        spans = ctc_forced_align(ctc_lp, hyp.tokens, blank_id)
        if spans is not None:
            return spans
    if hyp.cross_attention is not None:
        return attention_spans(hyp.cross_attention, len(hyp.tokens), n_frames)
    return uniform_spans(len(hyp.tokens), n_frames)


def _words(tokens: list[TimedText]) -> list[TimedText]:
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
