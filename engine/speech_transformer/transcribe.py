"""Speech-Transformer decoding: audio cut at silences, chunks decoded by the beam search, times from CTC.

:class:`engine.speech_transformer.backend.SpeechTransformerBackend` drives these;
everything else reaches them through :mod:`engine.transcribe`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from engine.audio import audio_info, load_audio
from engine.chunking import split_at_silences
from engine.decode import Hypothesis, StepCallback, decode_encoded
from engine.transcript import DecodeOptions
from engine.errors import AudioError
from engine.features import compute_features
from engine.models.attention import AttentionRecorder
from engine.speech_transformer.timing import Span, attention_spans, ctc_forced_align, uniform_spans
from engine.transcript import Chunk, TimedText, Transcript, join_transcripts, shifted, words_from_characters

SUBSAMPLING = 4  # encoder frames are 4 feature frames
STREAM_BLOCK_SECONDS = 300.0  # a long file is read this much at a time (10 MB of samples at 16 kHz)


def transcribe_file(loaded, path: str | Path, options: DecodeOptions, *, max_chunk_seconds: float,
                    on_step=None) -> Transcript:
    """Read ``path`` one block (``STREAM_BLOCK_SECONDS``) at a time, so a two-hour recording never sits in
    memory whole: each block is cut at silences, the chunks that end inside it are decoded, and the next
    block starts where the last of them ended."""
    sr = loaded.feature_config.sample_rate
    duration = audio_info(path).duration
    if duration is None or duration <= STREAM_BLOCK_SECONDS + max_chunk_seconds:
        return transcribe(loaded, load_audio(path, sr), options, max_chunk_seconds=max_chunk_seconds,
                          on_step=on_step, source=path)
    parts: list[Transcript] = []
    start = 0  # in samples at `sr`
    while start < duration * sr - 1:
        block = load_audio(path, sr, offset=start / sr, duration=STREAM_BLOCK_SECONDS + max_chunk_seconds)
        if len(block) == 0:
            break
        ranges = split_at_silences(block, sr, max_chunk_seconds)
        if start + len(block) < duration * sr - 1:  # not the last block: stop at the last silence cut inside it
            ranges = [r for r in ranges if r[1] <= STREAM_BLOCK_SECONDS * sr] or ranges[:1]
        parts += _decode_ranges(loaded, block, ranges, options, on_step, source=path, offset=start)
        start += ranges[-1][1]
        del block
    joined = join_transcripts(parts, duration)
    joined.source = str(path)
    return joined


def transcribe(loaded, samples: np.ndarray, options: DecodeOptions, *, max_chunk_seconds: float, on_step=None,
               on_chunk=None, source: str | Path | None = None, on_encode=None) -> Transcript:
    """Cut ``samples`` at silences into chunks of at most ``max_chunk_seconds``, decode each, join.

    ``on_encode(chunk)`` may return an AttentionRecorder for that chunk's encoding.
    """
    sr = loaded.feature_config.sample_rate
    ranges = split_at_silences(samples, sr, max_chunk_seconds)
    parts = _decode_ranges(loaded, samples, ranges, options, on_step, on_chunk, source, on_encode=on_encode)
    joined = join_transcripts(parts, len(samples) / sr)
    joined.source = str(source) if source is not None else None
    if len(parts) == 1:
        joined.cross_attention = parts[0].cross_attention
    return joined


def _decode_ranges(loaded, samples, ranges, options, on_step=None, on_chunk=None, source=None,
                   offset: int = 0, on_encode=None) -> list[Transcript]:
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
        recorder = on_encode(chunk) if on_encode is not None else None
        [t] = transcribe_samples(loaded, [samples[a:b]], options, step, paths=paths, encoder_recorder=recorder)
        t = shifted(t, chunk.start)
        parts.append(t)
        if on_chunk is not None:
            on_chunk(chunk, t)
    return parts


def transcribe_samples(
    loaded: LoadedModel,
    clips: Sequence[np.ndarray],
    options: DecodeOptions = DecodeOptions(),
    on_step: StepCallback | None = None,
    paths: Sequence[str | Path | None] | None = None,
    encoder_recorder: AttentionRecorder | None = None,
) -> list[Transcript]:
    """Transcribe clips as one batch.

    Parameters
    ----------
    clips : mono float32 arrays of shape (n,), at the model's sample rate.
    on_step : called after each decoding step (see :class:`engine.decode.StepInfo`).
    encoder_recorder : records the encoder's self-attention of the batch as it is encoded.
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
        xa, enc_lens = loaded.model.encode(batch.to(device), lens.to(device), encoder_recorder)
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
                words=words_from_characters(token_times),
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


