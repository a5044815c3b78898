"""Growing a trained model's vocabulary for fine-tuning on text with new characters.

The most common fine-tuning failure in ASR toolkits is a vocabulary mismatch: the
new corpus has characters (an accent, ñ, a symbol) the pretrained model never
saw. Rows for existing ids are copied unchanged, so the model's predictions over
its old vocabulary are exactly what they were; new rows start small and random
(and the CTC bias low) so the new characters are not predicted before training.
"""

from __future__ import annotations

import copy
import dataclasses

import torch

from engine.speech_transformer.model import SpeechTransformer


@torch.no_grad()
def extend_model_vocab(model: SpeechTransformer, vocab_size: int) -> SpeechTransformer:
    """A copy of ``model`` whose embedding/output and CTC layers have ``vocab_size`` rows."""
    old = model.config.vocab_size
    if vocab_size < old:
        raise ValueError(f"cannot shrink a vocabulary ({old} -> {vocab_size})")
    if vocab_size == old:
        return model
    new = copy.deepcopy(model)
    new.config = dataclasses.replace(model.config, vocab_size=vocab_size)
    d = model.config.d_model
    emb = torch.nn.Embedding(vocab_size, d)
    emb.weight.normal_(0.0, d**-0.5 * 0.1)
    emb.weight[:old] = model.embed.weight
    new.embed = emb
    if model.ctc_head is not None:
        head = torch.nn.Linear(d, vocab_size)
        head.weight.normal_(0.0, 0.01)
        head.bias.fill_(float(model.ctc_head.bias.min()) - 5.0)  # start improbable
        head.weight[:old] = model.ctc_head.weight
        head.bias[:old] = model.ctc_head.bias
        new.ctc_head = head
    return new
