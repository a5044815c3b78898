"""The Speech-Transformer behind :class:`engine.backends.Backend`: character models with joint CTC-attention."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from engine.backends import Backend
from engine.errors import ParceroError
from engine.features import compute_features
from engine.models.io import VOCAB
from engine.speech_transformer import files
from engine.speech_transformer import transcribe as st
from engine.speech_transformer.config import ARCHITECTURE
from engine.text import SPECIAL_TOKENS


class SpeechTransformerBackend(Backend):
    architecture = ARCHITECTURE
    tokenizer_file = VOCAB

    def load(self, directory, config, device):
        return files.load_speech_transformer(directory, config, device)

    def save(self, directory, model, tokenizer, feature_config, metadata=None, extra=None):
        return files.save_model(directory, model, tokenizer, feature_config, metadata)

    def sample_rate(self, loaded) -> int:
        return loaded.feature_config.sample_rate

    def frame_seconds(self, loaded) -> float:
        fc = loaded.feature_config
        return fc.hop_length / fc.sample_rate * st.SUBSAMPLING

    def encoder_input(self, loaded, samples: np.ndarray) -> torch.Tensor:
        return compute_features(samples, loaded.feature_config)

    def check_options(self, loaded, options, names) -> None:
        if options.task != "transcribe" or options.language not in ("es", None):
            # Our Speech-Transformers know the one language they were trained on and cannot translate.
            raise ParceroError(f"{loaded.name}: {names['task']} and {names['language']} apply to Whisper models "
                               "only (this one transcribes the language it was trained on)")
        # Whisper's long-form machinery: a text prompt, conditioning on the windows before, the fallback
        # chain and word timings by a second attention pass. Ours decode each chunk on its own, sample at
        # one temperature, and time every character as they decode it.
        whisper_only = [names["initial_prompt"]] if options.initial_prompt else []
        whisper_only += [names[f] for f in ("condition_on_previous_text", "temperature_fallback", "word_timestamps")
                         if not getattr(options, f)]
        whisper_only += [names["batch_size"]] if options.batch_size > 1 else []
        whisper_only += [names["vad"]] if options.vad not in ("auto", "off") else []
        if whisper_only:
            raise ParceroError(f"{loaded.name}: {', '.join(whisper_only)} "
                               f"{'applies' if len(whisper_only) == 1 else 'apply'} to Whisper models only")

    def transcribe(self, loaded, samples, options, *, max_chunk_seconds, on_step=None, on_chunk=None, source=None,
                   on_encode=None):
        return st.transcribe(loaded, samples, options, max_chunk_seconds=max_chunk_seconds, on_step=on_step,
                             on_chunk=on_chunk, source=source, on_encode=on_encode)

    def transcribe_file(self, loaded, path, options, *, max_chunk_seconds, on_step=None):
        return st.transcribe_file(loaded, path, options, max_chunk_seconds=max_chunk_seconds, on_step=on_step)

    def ctc_words(self, loaded, samples: np.ndarray):
        from engine.transcript import TimedText, words_from_characters

        model, tok = loaded.model, loaded.tokenizer
        if model.ctc_head is None:
            return None
        feats = compute_features(samples, loaded.feature_config)
        with torch.inference_mode():
            xa, lens = model.encode(feats[None].to(loaded.device), torch.tensor([feats.shape[0]], device=loaded.device))
            best = model.ctc_log_probs(xa)[0, :int(lens[0])].argmax(-1).tolist()  # (T,) a label per frame
        frame = self.frame_seconds(loaded)
        chars, previous = [], tok.blank_id
        for t, label in enumerate(best):  # collapse repeats, drop blanks: each character at its spike
            if label != previous and label != tok.blank_id:
                chars.append(TimedText(tok.decode([label]), round(t * frame, 3), round((t + 1) * frame, 3)))
            previous = label
        return words_from_characters(chars)

    def token_labels(self, loaded, tokens: Sequence[int]):
        names = loaded.tokenizer.tokens  # <blank>, <unk>, <sos>, <eos>, then the characters
        return tuple(names[t] for t in tokens), tuple(t < len(SPECIAL_TOKENS) for t in tokens)

    def evaluate(self, loaded, utterances, base_dir, options, on_progress=None):
        from engine.evaluate import evaluate

        return evaluate(loaded.model, loaded.tokenizer, loaded.feature_config, utterances, base_dir, options,
                        on_progress=on_progress)

    # ---- training --------------------------------------------------------------------

    def new_model(self, texts, run_config, notes):
        from engine.speech_transformer.model import SpeechTransformer
        from engine.text import CharTokenizer

        tokenizer = CharTokenizer.build(texts, run_config.text)
        return tokenizer, SpeechTransformer(run_config.model_config(len(tokenizer)))

    def init_from(self, loaded, texts, run_config, notes):
        from engine.speech_transformer.vocab import extend_model_vocab

        tokenizer, added = loaded.tokenizer.extended(texts)
        model = extend_model_vocab(loaded.model, len(tokenizer))
        if added:
            notes.append(f"vocabulary extended with {len(added)} new character(s): {' '.join(added)}")
        wanted = run_config.features
        if not wanted.vtln_reference_hz:  # not measured yet: the model's own reference is what it means
            wanted = replace(wanted, vtln_reference_hz=loaded.feature_config.vtln_reference_hz)
        if loaded.feature_config != wanted:
            notes.append("features: using the initial model's feature settings, not the config's")
        run_config.features = loaded.feature_config
        return tokenizer, model

    def encoder_parameters(self, model):
        return [*model.subsample.parameters(), *model.encoder.parameters(), *model.enc_ln.parameters()]

    def save_vocabulary(self, run_dir: Path, tokenizer) -> None:
        tokenizer.save(run_dir / VOCAB)

    def training_data(self, utterances, base_dir, tokenizer, model, run_config, train: bool):
        from engine.data.batching import SpeechDataset

        data = SpeechDataset(utterances, base_dir, tokenizer, run_config.features,
                             run_config.spec_augment if train else None, run_config.train.seed,
                             min_frames=model.MIN_FRAMES)
        return data, None

    def dev_evaluate(self, model, tokenizer, run_config, utterances, base_dir, *, sample_ids, autocast_dtype,
                     extra: dict[str, Any] | None = None):
        from engine.evaluate import evaluate

        return evaluate(model, tokenizer, run_config.features, utterances, base_dir,
                        max_frames=run_config.data.max_frames, loss_ctc_weight=run_config.train.ctc_weight,
                        capture_ids=sample_ids, autocast_dtype=autocast_dtype)


BACKEND = SpeechTransformerBackend()
