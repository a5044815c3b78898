"""Whisper behind :class:`engine.backends.Backend`: imported checkpoints, its fixed front end, its own decoding."""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.backends import Backend
from engine.errors import ConfigError, ParceroError
from engine.fileio import write_text_atomic
from engine.models.io import TOKENIZER
from engine.whisper import files
from engine.whisper.audio import N_FRAMES, N_SAMPLES, SAMPLE_RATE, TIME_PRECISION, log_mel, pad_or_trim
from engine.whisper.model import ARCHITECTURE


class WhisperBackend(Backend):
    architecture = ARCHITECTURE
    tokenizer_file = TOKENIZER
    takes_prompt = True
    live_policy = "stable"  # AlignAtt, and the pass before must agree (engine.live.policy.StableAlignAtt)
    uses_feature_config = False  # its own 30 s log-mel front end: no VTLN, VTLP or SpecAugment
    always_fine_tunes = True  # Whisper is never trained from nothing here
    default_peak_lr = 1e-5  # published Whisper fine-tuning recipes use 1e-5 and below

    def load(self, directory, config, device):
        return files.load_whisper(directory, config, device)

    def save(self, directory, model, tokenizer, feature_config=None, metadata=None, extra=None):
        extra = {k: v for k, v in (extra or {}).items() if k != "alignment_heads"}  # the model's own are written
        return files.save_whisper(directory, (model, tokenizer.tokenizer.to_str(), extra), metadata)

    # ---- the front end: fixed, 16 kHz log-mel in 30 s windows ------------------------

    def sample_rate(self, loaded) -> int:
        return SAMPLE_RATE

    def frame_seconds(self, loaded) -> float:
        return TIME_PRECISION  # the encoder halves the 10 ms mel frames

    def encoder_input(self, loaded, samples: np.ndarray) -> torch.Tensor:
        window = pad_or_trim(samples, N_SAMPLES)  # a 30 s window, as Whisper hears it
        return log_mel(window, n_mels=loaded.model.config.n_mels)[:N_FRAMES]

    def audio_frames(self, loaded, seconds: float) -> int:
        # Whisper pads every window to 30 s of silence; the heatmaps show (and the pipe carries) the sound.
        return max(1, math.ceil(round(seconds / TIME_PRECISION, 6)))

    # ---- decoding --------------------------------------------------------------------

    def check_options(self, loaded, options, names) -> None:
        known = loaded.tokenizer.languages
        if options.language is not None and known and options.language not in known:
            raise ParceroError(f"{names['language']} {options.language!r}: {loaded.name} knows {', '.join(known)} "
                               "(or auto to detect it)")

    def transcribe(self, loaded, samples, options, *, max_chunk_seconds, on_step=None, on_chunk=None, source=None,
                   on_encode=None):
        # Whisper reads its own 30 s windows and seeks by its timestamps: max_chunk_seconds does not apply.
        from engine.vad import VadOptions, resolve_method, speech_pieces

        batched = options.batch_size > 1
        vad = resolve_method(options.vad, batched)
        if batched:  # pieces are encoded several at a time: on_encode is not asked
            from engine.whisper.batched import transcribe_batched

            return transcribe_batched(loaded, samples, whisper_options(options), batch_size=options.batch_size,
                                      vad=vad, vad_options=VadOptions(threshold=options.vad_threshold),
                                      on_step=on_step, on_chunk=on_chunk, source=source)
        from engine.whisper.decoding import transcribe_whisper

        pieces = None
        if vad != "off":  # Whisper's own algorithm on the speech only, as faster-whisper's vad_filter
            pieces = speech_pieces(samples, vad, VadOptions(threshold=options.vad_threshold))
        return transcribe_whisper(loaded, samples, whisper_options(options), on_step=on_step, on_chunk=on_chunk,
                                  source=source, pieces=pieces, on_encode=on_encode)

    def token_labels(self, loaded, tokens):
        from engine.whisper.decoding import token_pieces

        return token_pieces(loaded.tokenizer, list(tokens))

    def evaluate(self, loaded, utterances, base_dir, options, on_progress=None):
        # 30 s windows and its own front end: one utterance at a time, scored like any transcript.
        from engine.evaluate import evaluate_by_transcribing

        return evaluate_by_transcribing(loaded, utterances, base_dir, options, on_progress)

    # ---- training --------------------------------------------------------------------

    def init_from(self, loaded, texts, run_config, notes):
        notes.append(
            f"fine-tuning Whisper ({loaded.model.num_parameters() / 1e6:.0f} M parameters) on transcripts as "
            "written; its byte-level vocabulary already covers every character. [text], [features] and "
            "[spec_augment] do not apply to Whisper, nor does the CTC loss")
        augment = run_config.spec_augment
        if run_config.features.vtln != "none" or (augment is not None and augment.vtlp):
            notes.append("homologated voices (VTLN, VTLP) are not applied: Whisper hears its own front end, "
                         "unwarped; they apply to Speech-Transformer models")
        return loaded.tokenizer, loaded.model

    def prepare_training(self, model, tokenizer, run_config, notes) -> None:
        language = run_config.train.language
        if tokenizer.is_multilingual and language not in tokenizer.languages:
            raise ConfigError(f"train.language: {language!r} is not one of this Whisper's languages "
                              f"({', '.join(sorted(tokenizer.languages)[:12])}, ...)")
        tokenizer.language = language if tokenizer.is_multilingual else "en"
        window = 2 * model.config.n_audio_ctx
        if run_config.data.max_frames < window:
            notes.append(f"data.max_frames ({run_config.data.max_frames}) is below one Whisper window "
                         f"({window} frames): one utterance per batch")

    def encoder_parameters(self, model):
        return model.encoder.parameters()

    def save_vocabulary(self, run_dir: Path, tokenizer) -> None:
        write_text_atomic(run_dir / TOKENIZER, tokenizer.tokenizer.to_str())

    def training_data(self, utterances, base_dir, tokenizer, model, run_config, train: bool):
        from engine.whisper.training_data import WhisperCollate, WhisperDataset

        tc = run_config.train
        data = WhisperDataset(utterances, base_dir, tokenizer, model.config,
                              tc.timestamp_fraction if train else 0.0, tc.seed)
        return data, WhisperCollate(tokenizer.eot)

    @torch.inference_mode()
    def dev_evaluate(self, model, tokenizer, run_config, utterances, base_dir, *, sample_ids, autocast_dtype,
                     extra: dict[str, Any] | None = None):
        """Dev loss and sample cross-attention (teacher-forced), then greedy transcripts scored as ``parcero eval``."""
        from engine.data.batching import DurationBucketSampler, make_loader
        from engine.transcript import DecodeOptions
        from engine.evaluate import evaluate_by_transcribing
        from engine.losses import joint_loss
        from engine.models.attention import AttentionRecorder
        from engine.models.io import LoadedModel

        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        dataset, collate = self.training_data(utterances, base_dir, tokenizer, model, run_config, train=False)
        sampler = DurationBucketSampler(dataset.durations(), run_config.data.max_frames, shuffle=False,
                                        num_buckets=1)
        losses, attention = [], {}
        prefix = len(tokenizer.sot_sequence(timestamps=False))  # dev utterances are read without timestamps
        autocast = torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype else nullcontext()
        for lb in make_loader(dataset, sampler, collate_fn=collate):
            if lb.batch is None:
                continue
            batch = lb.batch.to(device)
            recorder = AttentionRecorder(("decoder_cross",)) if sample_ids & set(lb.ids) else None
            with autocast:
                xa, enc_lens = model.encode(batch.feats, batch.feat_lens)
                logits = model.decode(batch.tokens_in, xa, enc_lens, recorder=recorder)
                losses.append(float(joint_loss(logits, None, enc_lens, batch, 0.0,
                                               run_config.train.label_smoothing).total))
            if recorder is None:
                continue
            layers = torch.stack(recorder.of_kind("decoder_cross"), 1).float()  # (B, layers, H, L, T)
            for i, uid in enumerate(lb.ids):
                if uid in sample_ids:
                    n, t = int(batch.target_lens[i]), int(enc_lens[i])
                    # rows: the steps that predicted t1 ... tn and <|endoftext|>; columns: the real audio
                    attention[uid] = layers[i, :, :, prefix - 1: prefix + n, :t].cpu().numpy()
        loaded = LoadedModel(model, tokenizer, None, None, {}, dict(extra or {}))
        with autocast:
            report = evaluate_by_transcribing(loaded, utterances, base_dir, DecodeOptions(beam_size=1))
        model.train(was_training)
        return replace(report, loss=sum(losses) / len(losses) if losses else None, attention=attention)


# openai/whisper's --temperature_increment_on_fallback: each new attempt at a window runs this much hotter.
TEMPERATURE_INCREMENT = 0.2


def fallback_temperatures(first: float, fallback: bool = True) -> tuple[float, ...]:
    """The temperatures a window is decoded at, in order, until its text passes Whisper's checks.

    From ``first`` up to 1.0 in steps of :data:`TEMPERATURE_INCREMENT` (0 gives
    Whisper's 0, 0.2, ..., 1.0); only ``first`` without ``fallback`` or from 1.0 up.
    """
    if not fallback or first >= 1.0:
        return (first,)
    steps = math.floor((1.0 - first) / TEMPERATURE_INCREMENT + 1e-6)
    return tuple(round(first + TEMPERATURE_INCREMENT * i, 6) for i in range(steps + 1))


def whisper_options(options):
    """:class:`engine.whisper.decoding.WhisperOptions` for a :class:`engine.transcript.DecodeOptions`.

    What DecodeOptions does not say keeps Whisper's defaults (thresholds, ``best_of`` 5 when sampling).
    """
    from engine.whisper.decoding import WhisperOptions

    return WhisperOptions(
        beam_size=options.beam_size, capture_attention=options.capture_attention,
        step_attention=options.step_attention, language=options.language, task=options.task,
        initial_prompt=(options.initial_prompt or "").strip() or None,
        prefix=(options.prefix or "").strip() or None,
        condition_on_previous_text=options.condition_on_previous_text,
        temperatures=fallback_temperatures(options.temperature, options.temperature_fallback),
        word_timestamps=options.word_timestamps, max_tokens_per_second=options.max_tokens_per_second,
    )


BACKEND = WhisperBackend()
