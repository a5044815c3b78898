"""Tests for per-speaker VTLN (``FeatureConfig.vtln == "speaker"``): factors, training features, evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine import homologate
from engine.audio import save_wav
from engine.data.batching import SpeechDataset
from engine.data.manifest import Utterance
from engine.data.speaker_warp import clip_warp, sampled_clips, speaker_warps
from engine.feature_config import FeatureConfig, SpecAugmentConfig
from engine.features import compute_features
from engine.text import CharTokenizer, TextConfig
from tests.engine.test_homologate import vowels

SR = 16000
REFERENCE = 1300.0
SPEAKER = FeatureConfig(vtln="speaker", vtln_reference_hz=REFERENCE)
NO_MASKS = dict(n_freq_masks=0, n_time_masks=0)

# (speaker, formant scale, F0): ana a woman (alpha under 1 at 1300 Hz), bea a man (over 1).
CLIPS = [("ana", 1.17, 210.0), ("ana", 1.25, 220.0), ("ana", 1.1, 190.0),
         ("bea", 1.0, 110.0), ("bea", 1.05, 120.0),
         ("solo", 1.17, 210.0), ("", 1.0, 110.0)]


def voices(folder, clips=CLIPS) -> list[Utterance]:
    """WAVs of vowel-like voices, one per ``(speaker, scale, f0)``, plus their utterances."""
    utts = []
    for i, (speaker, scale, f0) in enumerate(clips):
        save_wav(folder / f"{i}.wav", vowels(scale, f0, seconds_each=0.15, seed=i), SR)
        utts.append(Utterance(f"u{i}", f"{i}.wav", 1.9, "aeiou", speaker=speaker))
    return utts


def loaded(utts, folder) -> list[np.ndarray]:
    return [u.load_samples(folder, SR) for u in utts]  # as saved: 16-bit


def geometric_mean(values) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def test_clip_warp_is_estimate_warp_but_none_without_voice():
    x = vowels(1.17, 210.0, seconds_each=0.15)
    assert clip_warp(x, SR, REFERENCE) == homologate.estimate_warp(x, SR, REFERENCE)
    assert clip_warp(np.zeros(SR, np.float32), SR, REFERENCE) is None
    assert homologate.estimate_warp(np.zeros(SR, np.float32), SR, REFERENCE) == 1.0  # which the mean must not count


def test_a_speakers_factor_is_the_geometric_mean_of_their_clips(tmp_path):
    utts = voices(tmp_path)
    save_wav(tmp_path / "quiet.wav", np.zeros(SR, np.float32), SR)
    utts += [Utterance("quiet", "quiet.wav", 1.0, "a", speaker="bea"),  # no voice: left out of bea's mean
             Utterance("gone", "missing.wav", 1.0, "a", speaker="bea")]  # unreadable: likewise
    samples = loaded(utts[:7], tmp_path)
    alphas = [homologate.estimate_warp(x, SR, REFERENCE) for x in samples]
    factors = speaker_warps(utts, tmp_path, SPEAKER)
    assert set(factors) == {"ana", "bea"}  # "solo" and the clip without a speaker: each its own estimate
    assert factors["ana"] == pytest.approx(geometric_mean(alphas[:3]), rel=1e-12)
    assert factors["bea"] == pytest.approx(geometric_mean(alphas[3:5]), rel=1e-12)
    assert factors["ana"] != pytest.approx(sum(alphas[:3]) / 3, rel=1e-4)  # geometric, not arithmetic
    assert factors["ana"] < 0.95 and factors["bea"] > 1.05  # the women warped down, the men up
    # The reference comes from the config; 0 means the default one.
    default = speaker_warps(utts, tmp_path, FeatureConfig(vtln="speaker"))
    assert default["ana"] == pytest.approx(geometric_mean(
        [homologate.estimate_warp(x, SR) for x in samples[:3]]), rel=1e-12)


def test_a_big_speaker_is_measured_on_a_seeded_sample(tmp_path):
    utts = voices(tmp_path)
    samples = loaded(utts, tmp_path)
    chosen = sampled_clips("ana", [0, 1, 2], 2)
    assert len(chosen) == 2 and chosen == sampled_clips("ana", [0, 1, 2], 2)  # the same every time
    factors = speaker_warps(utts, tmp_path, SPEAKER, max_clips=2)
    assert factors["ana"] == pytest.approx(
        geometric_mean([homologate.estimate_warp(samples[i], SR, REFERENCE) for i in chosen]), rel=1e-12)
    # Other speakers in the manifest do not change whom the sample picks.
    assert speaker_warps(utts[:3], tmp_path, SPEAKER, max_clips=2) == {"ana": factors["ana"]}
    assert len({tuple(sampled_clips("ana", list(range(30)), 20, seed=s)) for s in range(4)}) > 1  # seeded


def test_every_clip_of_a_speaker_is_trained_on_with_the_speakers_factor(tmp_path, monkeypatch):
    import engine.data.batching as batching

    utts = voices(tmp_path)
    samples = loaded(utts, tmp_path)
    tok = CharTokenizer.build(["aeiou"], TextConfig())
    data = SpeechDataset(utts, tmp_path, tok, SPEAKER, SpecAugmentConfig(**NO_MASKS), seed=4)
    factors = data.speaker_factors
    assert factors == speaker_warps(utts, tmp_path, SPEAKER)
    for i, u in enumerate(utts):
        expected = compute_features(samples[i], SPEAKER, vtln_factor=factors.get(u.speaker))
        assert torch.equal(data[i].feats, expected), u.id
    # Per clip, ana's first clip would be warped otherwise: the speaker's factor is what changed it.
    assert not torch.allclose(data[0].feats, compute_features(samples[0], SPEAKER), atol=1e-3)
    # A clip of its own (no speaker, or a lone one) is warped as "utterance" warps it.
    utterance = FeatureConfig(vtln="utterance", vtln_reference_hz=REFERENCE)
    for i in (5, 6):
        assert torch.equal(data[i].feats, compute_features(samples[i], utterance))

    # With VTLP on, it multiplies on top: every ana item gets her factor, each its own random warp,
    # and a dataset built again (a resumed run) gets the same features.
    seen = []
    real = batching.compute_features

    def spy(samples, config, warp=1.0, vtln_factor=None):
        seen.append((warp, vtln_factor))
        return real(samples, config, warp=warp, vtln_factor=vtln_factor)

    monkeypatch.setattr(batching, "compute_features", spy)
    vtlp = SpeechDataset(utts, tmp_path, tok, SPEAKER, SpecAugmentConfig(vtlp=True, **NO_MASKS), seed=4)
    first = [vtlp[i].feats for i in range(3)]
    assert [f for _, f in seen] == [factors["ana"]] * 3 and len({w for w, _ in seen}) == 3
    again = SpeechDataset(utts, tmp_path, tok, SPEAKER, SpecAugmentConfig(vtlp=True, **NO_MASKS), seed=4)
    assert all(torch.equal(again[i].feats, first[i]) for i in range(3))


def test_evaluation_warps_each_clip_by_its_speakers_factor(tmp_path):
    from engine.evaluate import evaluate
    from engine.speech_transformer.config import preset_config
    from engine.speech_transformer.model import SpeechTransformer

    utts = voices(tmp_path)[:5]  # ana's three clips and bea's two
    samples = loaded(utts, tmp_path)
    factors = speaker_warps(utts, tmp_path, SPEAKER)
    tok = CharTokenizer.build(["aeiou"], TextConfig())
    torch.manual_seed(0)
    model = SpeechTransformer(preset_config("tiny", len(tok), n_enc_layers=1, n_dec_layers=1)).eval()
    heard = []
    encode = model.encode

    def spy(feats, lens):
        heard.extend(f[:int(n)].clone() for f, n in zip(feats, lens))
        return encode(feats, lens)

    model.encode = spy
    report = evaluate(model, tok, SPEAKER, utts, tmp_path)
    assert len(report.rows) == 5 and len(heard) == 5
    for u, x in zip(utts, samples):
        expected = compute_features(x, SPEAKER, vtln_factor=factors[u.speaker])
        own = compute_features(x, SPEAKER)  # the clip's own factor
        assert sum(torch.equal(h, expected) for h in heard) == 1, u.id
        if not torch.allclose(expected, own, atol=1e-3):
            assert not any(torch.equal(h, own) for h in heard), u.id


def test_compute_features_takes_a_known_factor_unless_vtln_is_off():
    x = vowels(1.17, 210.0, seconds_each=0.15)
    utterance = FeatureConfig(vtln="utterance", vtln_reference_hz=REFERENCE)
    alpha = homologate.estimate_warp(x, SR, REFERENCE)
    # Without a factor, "speaker" is "utterance" for this one recording (transcription, live).
    assert torch.equal(compute_features(x, SPEAKER), compute_features(x, utterance))
    assert torch.equal(compute_features(x, SPEAKER, vtln_factor=alpha), compute_features(x, utterance))
    # A factor given is used instead of the clip's own estimate...
    warped = compute_features(x, SPEAKER, vtln_factor=1.1)
    assert torch.equal(warped, compute_features(x, FeatureConfig(), warp=1.1))
    assert not torch.allclose(warped, compute_features(x, utterance), atol=1e-3)
    # ... and VTLP multiplies on top of it.
    assert torch.equal(compute_features(x, SPEAKER, warp=1.05, vtln_factor=1.1),
                       compute_features(x, FeatureConfig(), warp=1.05 * 1.1))
    # "utterance" takes it too (the clip's own estimate, kept by the training dataset from an earlier epoch);
    # "none" ignores it and stays bit for bit the unwarped features.
    assert torch.equal(compute_features(x, utterance, vtln_factor=alpha), compute_features(x, utterance))
    assert torch.equal(compute_features(x, utterance, vtln_factor=1.1), warped)
    assert torch.equal(compute_features(x, FeatureConfig(), vtln_factor=1.1), compute_features(x))
    with pytest.raises(ValueError, match="vtln_factor must be positive"):
        compute_features(x, SPEAKER, vtln_factor=0.0)


def test_speaker_mode_round_trips_through_config_toml_and_checkpoints(tmp_path):
    from engine.configio import write_toml
    from engine.models.io import load_model
    from engine.training.config import load_run_config, run_config_from_dict
    from engine.training.loop import Trainer
    from tests.engine.training.test_trainer import make_config

    assert FeatureConfig.from_dict(SPEAKER.to_dict()) == SPEAKER
    toml = tmp_path / "voces.toml"
    write_toml(toml, run_config_from_dict({"data": {"train": "t.jsonl"}, "features": {"vtln": "speaker"}}).to_dict())
    assert load_run_config(toml).features.vtln == "speaker"

    # A run on the two-speaker tone corpus measures its reference, trains, evaluates and saves "speaker".
    config = make_config(tmp_path, dev_texts=["hola"], max_steps=2, log_every=1, checkpoint_every=1,
                         eval_every=1000)
    config.features = FeatureConfig(vtln="speaker")
    trainer = Trainer(config)
    reference = trainer.config.features.vtln_reference_hz
    assert reference > 0 and any("reference voice frequency" in n for n in trainer.notes)
    result = trainer.run()
    saved = load_model(result.last_checkpoint).feature_config
    assert saved.vtln == "speaker" and saved.vtln_reference_hz == reference
    assert load_run_config(result.run_dir / "config.toml").features == saved
