import numpy as np
import pytest
import torch

from engine.audio import save_wav
from engine.data.batching import DurationBucketSampler, SpeechDataset, make_loader
from engine.data.manifest import Utterance
from engine.feature_config import FeatureConfig, SpecAugmentConfig
from engine.text import CharTokenizer, TextConfig
from tests.helpers import tone_speech


def durations(n=200, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 12.0, n).tolist()


def test_batches_respect_the_frame_cap_and_cover_every_utterance_once():
    d = durations()
    sampler = DurationBucketSampler(d, max_frames=3000, seed=1)
    batches = list(sampler)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(d)))
    for b in batches:
        longest = max(round(d[i] * 100) for i in b)
        assert len(b) * longest <= 3000 or len(b) == 1
    assert len(sampler) == len(batches)


def test_bucketing_keeps_padding_low():
    d = durations()
    batches = DurationBucketSampler(d, max_frames=3000, num_buckets=10, seed=0).batches()
    padded = sum(len(b) * max(d[i] for i in b) for b in batches)
    assert sum(d) / padded > 0.85  # random batching of the same data wastes about half
    naive = [list(range(i, min(i + 4, len(d)))) for i in range(0, len(d), 4)]
    assert sum(len(b) * max(d[i] for i in b) for b in naive) > padded * 1.2


def test_reshuffled_per_epoch_and_reproducible_with_a_seed():
    d = durations()
    a = DurationBucketSampler(d, 3000, seed=5)
    b = DurationBucketSampler(d, 3000, seed=5)
    assert a.batches() == b.batches()
    first = a.batches()
    a.set_epoch(1)
    assert a.batches() != first
    assert DurationBucketSampler(d, 3000, seed=6).batches() != first
    assert DurationBucketSampler(d, 3000, shuffle=False).batches() == DurationBucketSampler(d, 3000, shuffle=False).batches()


def test_resume_skips_batches_already_done():
    d = durations()
    s = DurationBucketSampler(d, 3000, seed=2)
    s.set_epoch(3)
    full = list(s)
    state = s.state_dict(batches_done=7)
    resumed = DurationBucketSampler(d, 3000, seed=0)
    resumed.load_state_dict(state)
    assert list(resumed) == full[7:]
    resumed.set_epoch(4)
    assert list(resumed) != full and len(list(resumed)) > 0


def test_distributed_shards_are_disjoint_and_equal_in_length():
    d = durations(101)
    shards = [DurationBucketSampler(d, 2500, seed=3, rank=r, world_size=3).batches() for r in range(3)]
    assert len({len(s) for s in shards}) == 1
    single = DurationBucketSampler(d, 2500, seed=3).batches()
    seen = [tuple(b) for s in shards for b in s]
    assert set(map(tuple, single)) == set(seen)  # every batch is trained on; padding repeats a few
    with pytest.raises(ValueError):
        DurationBucketSampler(d, 2500, rank=3, world_size=3)


def test_max_batch_size_and_overlong_utterances():
    d = [0.5] * 20 + [40.0]
    batches = DurationBucketSampler(d, max_frames=2000, max_batch_size=8, shuffle=False).batches()
    assert max(len(b) for b in batches) <= 8
    assert [20] in batches  # longer than the cap: alone in its batch, not dropped


def test_loader_featurises_in_workers_and_skips_bad_files(tmp_path):
    texts = ["hola", "año nuevo", "¿qué?", "sí"]
    utts = []
    for i, t in enumerate(texts):
        p = tmp_path / f"{i}.wav"
        x = tone_speech(t, seed=i)
        save_wav(p, x, 16000)
        utts.append(Utterance(f"u{i}", p.name, len(x) / 16000, t))
    (tmp_path / "roto.wav").write_bytes(b"RIFF nonsense")
    utts.append(Utterance("roto", "roto.wav", 1.0, "roto"))
    tok = CharTokenizer.build(texts + ["roto"], TextConfig())
    ds = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig())
    sampler = DurationBucketSampler(ds.durations(), max_frames=100_000, num_buckets=1, shuffle=False)
    loader = make_loader(ds, sampler, num_workers=2)
    [lb] = list(loader)
    assert sorted(lb.ids) == ["u0", "u1", "u2", "u3"]
    assert [s[0] for s in lb.skipped] == ["roto"] and "roto.wav" in lb.skipped[0][1]
    assert lb.batch.feats.shape[0] == 4 and lb.batch.feats.shape[2] == 80
    assert torch.isfinite(lb.batch.feats).all()
    i = lb.ids.index("u1")
    assert tok.decode(lb.batch.targets[i, : lb.batch.target_lens[i]].tolist()) == "año nuevo"
    # SpecAugment is seeded per (epoch, item): the same epoch gives the same masks
    again = ds[1]
    torch.testing.assert_close(again.feats, ds[1].feats)
    ds.epoch = 1
    assert not torch.equal(again.feats, ds[1].feats)


def test_a_clip_shorter_than_the_encoder_takes_is_skipped_with_its_length(tmp_path):
    from engine.speech_transformer.model import SpeechTransformer

    save_wav(tmp_path / "clic.wav", tone_speech("a", seed=1)[:800], 16000)  # 50 ms: 4 feature frames
    save_wav(tmp_path / "hola.wav", tone_speech("hola", seed=2), 16000)
    utts = [Utterance("clic", "clic.wav", 0.05, "a"), Utterance("hola", "hola.wav", 0.5, "hola")]
    ds = SpeechDataset(utts, tmp_path, CharTokenizer.build(["hola", "a"], TextConfig()), FeatureConfig(),
                       min_frames=SpeechTransformer.MIN_FRAMES)
    uid, reason = ds[0]
    assert uid == "clic" and "clic.wav" in reason and "too short to train on (50 ms; at least 60 ms" in reason
    assert ds[1].feats.shape[0] >= SpeechTransformer.MIN_FRAMES


class _SaysWhichProcess(SpeechDataset):
    """A SpeechDataset whose example ids end in the id of the process that loaded them."""

    def __getitem__(self, index):
        import os

        example = super().__getitem__(index)
        example.id = f"{example.id}@{os.getpid()}"
        return example


def test_a_persistent_loader_keeps_its_workers_and_each_epoch_reaches_them(tmp_path):
    # Fine-tuning on a few clips has an epoch every step or two: the workers must outlive the
    # epoch, and the epoch set here (seeded SpecAugment, the resume position) must still reach them.
    import os

    texts = ["hola", "año nuevo", "¿qué?", "sí", "el pingüino", "mañana"]
    utts = []
    for i, t in enumerate(texts):
        x = tone_speech(t, seed=i)
        save_wav(tmp_path / f"{i}.wav", x, 16000)
        utts.append(Utterance(f"u{i}", f"{i}.wav", len(x) / 16000, t))
    tok = CharTokenizer.build(texts, TextConfig())
    ds = _SaysWhichProcess(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(), seed=7)
    here = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(), seed=7)  # loads in this process
    sampler = DurationBucketSampler(ds.durations(), max_frames=100_000, max_batch_size=2, seed=7)
    loader = make_loader(ds, sampler, num_workers=2, persistent=True)
    pids = set()
    for epoch in range(4):
        sampler.set_epoch(epoch)
        sampler.start_batch = 1 if epoch == 2 else 0  # a resumed epoch starts after its first batch
        ds.epoch = here.epoch = epoch
        loaded = []
        for lb in loader:
            for j, tagged in enumerate(lb.ids):
                uid, pid = tagged.split("@")
                pids.add(int(pid))
                loaded.append(uid)
                index = int(uid[1:])
                n = int(lb.batch.feat_lens[j])
                assert torch.equal(lb.batch.feats[j, :n], here[index].feats), (epoch, uid)
        assert loaded == [f"u{i}" for b in sampler.batches()[sampler.start_batch:] for i in b]
    assert len(pids) == 2 and os.getpid() not in pids  # the same two workers all along
    # and the masks did change with the epoch, or the comparison above proved nothing
    here.epoch = 0
    first = here[0].feats
    here.epoch = 3
    assert not torch.equal(first, here[0].feats)


def test_vtlp_warps_each_item_by_its_seed_and_only_in_training(tmp_path):
    from tests.engine.test_homologate import vowels

    x = vowels(1.0, 120.0)
    save_wav(tmp_path / "a.wav", x, 16000)
    utts = [Utterance("a", "a.wav", len(x) / 16000, "a")] * 3
    tok = CharTokenizer.build(["a"], TextConfig())
    no_masks = dict(n_freq_masks=0, n_time_masks=0)
    plain = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(**no_masks), seed=4)
    vtlp = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(vtlp=True, **no_masks), seed=4)
    again = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(vtlp=True, **no_masks), seed=4)
    other = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(vtlp=True, **no_masks), seed=5)
    assert not torch.equal(vtlp[0].feats, plain[0].feats)
    assert torch.equal(vtlp[0].feats, again[0].feats)  # deterministic per (seed, epoch, item): resume is exact
    assert not torch.equal(vtlp[0].feats, vtlp[1].feats)  # each item its own warp
    assert not torch.equal(vtlp[0].feats, other[0].feats)
    again.epoch = 1
    assert not torch.equal(vtlp[0].feats, again[0].feats)
    assert all(torch.isfinite(vtlp[i].feats).all() for i in range(3))
    # VTLP off: the masks are those drawn before VTLP existed (no extra draw from the generator).
    masked = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(), seed=4)
    from engine.features import compute_features, spec_augment

    samples = utts[0].load_samples(tmp_path, 16000)  # as saved: 16-bit
    g = torch.Generator().manual_seed(hash((4, 0, 0)) & 0x7FFFFFFF)
    expected = spec_augment(compute_features(samples, FeatureConfig()), SpecAugmentConfig(), generator=g)
    assert torch.equal(masked[0].feats, expected)
    # Evaluation datasets get no augmentation at all.
    evaluation = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), None)
    assert torch.equal(evaluation[0].feats, compute_features(samples, FeatureConfig()))


def test_vtlp_warps_are_drawn_in_range(tmp_path, monkeypatch):
    import engine.data.batching as batching

    save_wav(tmp_path / "a.wav", tone_speech("hola"), 16000)
    seen = []
    real = batching.compute_features

    def spy(samples, config, warp=1.0, vtln_factor=None):
        seen.append(warp)
        return real(samples, config, warp=warp, vtln_factor=vtln_factor)

    monkeypatch.setattr(batching, "compute_features", spy)
    utts = [Utterance("a", "a.wav", 0.5, "hola")] * 40
    tok = CharTokenizer.build(["hola"], TextConfig())
    ds = SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig(vtlp=True, vtlp_min=0.95, vtlp_max=1.05))
    for i in range(40):
        ds[i]
    assert all(0.95 <= w <= 1.05 for w in seen) and len(set(seen)) == 40
    assert min(seen) < 0.97 and max(seen) > 1.03  # spread over the range
    seen.clear()
    SpeechDataset(utts, tmp_path, tok, FeatureConfig(), SpecAugmentConfig())[0]
    assert seen == [1.0]


def test_vtln_reference_is_the_median_of_a_seeded_sample(tmp_path):
    from engine import homologate
    from engine.data.batching import vtln_reference
    from tests.engine.test_homologate import vowels

    utts = []
    for i, scale in enumerate((0.9, 1.0, 1.1)):
        save_wav(tmp_path / f"{i}.wav", vowels(scale, 150.0, seed=i), 16000)
        utts.append(Utterance(f"u{i}", f"{i}.wav", 3.0, "a"))
    save_wav(tmp_path / "quiet.wav", np.zeros(16000, np.float32), 16000)
    utts += [Utterance("quiet", "quiet.wav", 1.0, "a"), Utterance("gone", "missing.wav", 1.0, "a")]
    reference, voiced = vtln_reference(utts, tmp_path, FeatureConfig())
    assert voiced == 3
    middle = homologate.voice_frequency(utts[1].load_samples(tmp_path, 16000), 16000)
    assert reference == pytest.approx(middle)
    # A sample of two: which two follows the seed, the same every time.
    assert vtln_reference(utts, tmp_path, FeatureConfig(), seed=3, max_clips=2) == \
        vtln_reference(utts, tmp_path, FeatureConfig(), seed=3, max_clips=2)
    assert vtln_reference(utts[3:], tmp_path, FeatureConfig()) == (homologate.DEFAULT_REFERENCE_HZ, 0)


def test_vtln_factor_of_a_clip_is_estimated_once_and_features_stay_the_same(tmp_path, monkeypatch):
    import engine.data.batching as batching
    from engine.features import compute_features
    from tests.engine.test_homologate import vowels

    for i, scale in enumerate((0.9, 1.1)):
        save_wav(tmp_path / f"{i}.wav", vowels(scale, 150.0, seed=i), 16000)
    utts = [Utterance(f"u{i}", f"{i}.wav", 3.0, "a") for i in range(2)]
    tok = CharTokenizer.build(["a"], TextConfig())
    fc = FeatureConfig(vtln="utterance", vtln_reference_hz=1300.0)
    calls = []
    real = batching.vtln_warp
    monkeypatch.setattr(batching, "vtln_warp", lambda samples, config: calls.append(1) or real(samples, config))
    ds = SpeechDataset(utts, tmp_path, tok, fc, None)
    first = [ds[i].feats for i in range(2)]
    ds.epoch = 1
    second = [ds[i].feats for i in range(2)]
    assert len(calls) == 2  # one estimate a clip, not one a clip and epoch
    for i in range(2):
        assert torch.equal(first[i], second[i])
        # The very features the clip gets when nothing is kept (transcription, evaluation of one clip).
        assert torch.equal(first[i], compute_features(utts[i].load_samples(tmp_path, 16000), fc))
    assert not torch.equal(first[0], compute_features(utts[0].load_samples(tmp_path, 16000), FeatureConfig()))
