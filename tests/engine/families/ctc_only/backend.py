"""The "ctc-only" family's backend: it reuses the Speech-Transformer's front end and files."""

from __future__ import annotations

import torch

from engine.errors import ParceroError
from engine.speech_transformer import files
from engine.speech_transformer.backend import SpeechTransformerBackend
from engine.speech_transformer.model import SpeechTransformer
from engine.transcript import Chunk, TimedText, Transcript, words_from_characters

ARCHITECTURE = "ctc-only"


class CtcOnlyModel(SpeechTransformer):
    """A Speech-Transformer whose decoder is never used: the CTC head alone gives the text."""

    ARCHITECTURE = ARCHITECTURE


class CtcOnlyBackend(SpeechTransformerBackend):
    architecture = ARCHITECTURE

    def load(self, directory, config, device):
        loaded = files.load_speech_transformer(directory, {**config, "architecture": "speech-transformer"}, device)
        if loaded.model.ctc_head is None:
            raise ParceroError(f"{directory}: a ctc-only model needs a CTC head")
        loaded.model.__class__ = CtcOnlyModel  # same network, this family's name
        return loaded

    def save(self, directory, model, tokenizer, feature_config, metadata=None, extra=None):
        path = files.save_model(directory, model, tokenizer, feature_config, metadata)
        import json

        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        (path / "config.json").write_text(json.dumps({**config, "architecture": ARCHITECTURE}), encoding="utf-8")
        return path

    def check_options(self, loaded, options, names) -> None:
        super().check_options(loaded, options, names)
        if options.beam_size != 1:
            raise ParceroError(f"{names.get('beam_size', 'beam_size')}: a ctc-only model decodes greedily (use 1)")

    def transcribe(self, loaded, samples, options, *, max_chunk_seconds, on_step=None, on_chunk=None, source=None):
        tok, fc = loaded.tokenizer, loaded.feature_config
        feats = self.encoder_input(loaded, samples)[None].to(loaded.device)
        with torch.inference_mode():
            xa, lens = loaded.model.encode(feats, torch.tensor([feats.shape[1]], device=loaded.device))
            best = loaded.model.ctc_log_probs(xa)[0, : int(lens[0])].argmax(-1).tolist()
        frame = self.frame_seconds(loaded)
        chars, previous = [], tok.blank_id
        for t, label in enumerate(best):
            if label != previous and label != tok.blank_id:
                chars.append(TimedText(tok.decode([label]), round(t * frame, 3), round((t + 1) * frame, 3)))
            previous = label
        duration = len(samples) / fc.sample_rate
        transcript = Transcript("".join(c.text for c in chars), chars, words_from_characters(chars), duration, 0.0,
                                str(source) if source is not None else None)
        if on_chunk is not None:
            on_chunk(Chunk(0, 0.0, duration, 1), transcript)
        return transcript

    def evaluate(self, loaded, utterances, base_dir, options, on_progress=None):
        from engine.evaluate import evaluate_by_transcribing

        return evaluate_by_transcribing(loaded, utterances, base_dir, options, on_progress)


BACKEND = CtcOnlyBackend()
