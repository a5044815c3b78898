"""Small fixtures shared by the tests: tone "speech" and tiny trained models.

Real speech is not needed to test that the model learns: each character is
rendered as a short chord of two sine tones of its own, so the mapping from
sound to text is learnable, deterministic and a few kilobytes.
"""

from __future__ import annotations

import importlib.abc

import numpy as np
import soundfile as sf
import torch

from engine.feature_config import FeatureConfig
from engine.features import compute_features
from engine.losses import collate, joint_loss
from engine.speech_transformer.config import preset_config
from engine.speech_transformer.model import SpeechTransformer
from engine.text import CharTokenizer, TextConfig

SR = 16000
CHAR_SECONDS = 0.07
SPANISH = "abcdefghijklmnopqrstuvwxyzáéíóúüñ¿?¡!,."


def tone_speech(text: str, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Render ``text`` as one tone chord per character (silence for spaces), float32 (n,)."""
    rng = np.random.default_rng(seed)
    n = int(CHAR_SECONDS * sr)
    t = np.arange(n) / sr
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms fades: no clicks between characters
    pieces = [np.zeros(n // 2, dtype=np.float32)]
    for ch in text:
        if ch == " ":
            pieces.append(np.zeros(n, dtype=np.float32))
            continue
        k = SPANISH.index(ch.lower()) if ch.lower() in SPANISH else ord(ch) % 40
        f1, f2 = 250.0 + 55.0 * k, 2600.0 + 80.0 * (k % 13)
        tone = 0.3 * np.sin(2 * np.pi * f1 * t) + 0.15 * np.sin(2 * np.pi * f2 * t)
        pieces.append((tone * ramp).astype(np.float32))
    pieces.append(np.zeros(n // 2, dtype=np.float32))
    x = np.concatenate(pieces)
    return (x + 1e-4 * rng.standard_normal(x.size)).astype(np.float32)


def overfit_tiny_model(
    texts: list[str],
    steps: int = 250,
    text_config: TextConfig = TextConfig(lowercase=False, punctuation="keep"),
    seed: int = 0,
    **model_overrides,
):
    """Train a tiny Speech-Transformer on tone renderings of ``texts``.

    Returns (model in eval mode, tokenizer, feature config, final loss).
    """
    torch.manual_seed(seed)
    fc = FeatureConfig()
    tokenizer = CharTokenizer.build(texts, text_config)
    feats = [compute_features(tone_speech(t, seed=i), fc) for i, t in enumerate(texts)]
    ids = [tokenizer.encode(t) for t in texts]
    batch = collate(feats, ids, tokenizer.sos_id, tokenizer.eos_id)
    overrides = dict(dropout=0.0, d_model=96, d_ff=384, n_enc_layers=2, n_dec_layers=2, n_head=4)
    overrides.update(model_overrides)
    model = SpeechTransformer(preset_config("tiny", len(tokenizer), **overrides))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, betas=(0.9, 0.98), eps=1e-9)
    model.train()
    for step in range(steps):
        logits, ctc, enc_lens = model(batch.feats, batch.feat_lens, batch.tokens_in)
        loss = joint_loss(logits, ctc, enc_lens, batch, ctc_weight=0.3, label_smoothing=0.0).total
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model.eval(), tokenizer, fc, loss.item()


def write_tone_corpus(folder, texts: list[str], name: str = "train", speakers: int = 2):
    """Write tone renderings of ``texts`` as WAVs plus a manifest; returns the manifest path."""
    from pathlib import Path

    from engine.audio import save_wav
    from engine.data.manifest import Utterance, write_manifest

    folder = Path(folder)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    utts = []
    for i, text in enumerate(texts):
        x = tone_speech(text, seed=i)
        rel = f"wavs/{name}-{i:03d}.wav"
        save_wav(folder / rel, x, SR)
        utts.append(Utterance(f"{name}-{i:03d}", rel, len(x) / SR, text, speaker=f"spk{i % speakers}",
                              gender=("female", "male")[i % 2], sample_rate=SR))
    path = folder / f"{name}.jsonl"
    write_manifest(path, utts)
    return path


# A run config's [model] small enough that a few training steps take a second (the Train page's tests).
TINY_MODEL = {"preset": "tiny", "d_model": 96, "d_ff": 384, "n_enc_layers": 2, "n_dec_layers": 2}


def kill_launched_training_runs() -> None:
    """End every training process the window's code launched in this test session (a failed test leaves none)."""
    import os
    import signal

    from app import training_runs

    for pid in training_runs.launched_pids():
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class DiskFillsUp(sf.SoundFile):
    """A SoundFile whose disk fills up after ``room`` frames: writes then fail as libsndfile's do
    (``LibsndfileError`` "System error.", nothing more said)."""

    room = SR // 2

    def write(self, data):
        self.__dict__.setdefault("_written", 0)
        if self._written + len(data) > self.room:
            raise sf.LibsndfileError(2)
        self._written += len(data)
        return super().write(data)


class NoPortAudio(importlib.abc.MetaPathFinder):
    """Makes ``import sounddevice`` fail the way it does where libportaudio2 is missing."""

    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None
