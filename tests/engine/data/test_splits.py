"""Tests for engine.data.splits: speaker-disjoint splits by hours, and leak detection."""

from __future__ import annotations

import dataclasses
import os

import pytest

from engine.data import splits as splits_module
from engine.data.manifest import Utterance, read_manifest
from engine.data.splits import (
    Leak,
    find_leaks,
    format_leaks,
    leaks_between,
    split_utterances,
    write_splits,
)
from engine.data.measure import file_sha1
from engine.errors import ParceroError
from tests.engine.data import fixtures_audio as fx


def speakers_of(items):
    return {u.speaker for u in items}


def share(result, name):
    total = sum(result.hours().values())
    return result.hours()[name] / total


# --- splitting -------------------------------------------------------------------


def test_split_is_speaker_disjoint_and_complete():
    corpus = fx.speaker_corpus(40)
    r = split_utterances(corpus, dev=0.1, test=0.1, seed=0)
    assert r.by == "speaker" and r.warnings == []
    train, dev, test = speakers_of(r.train), speakers_of(r.dev), speakers_of(r.test)
    assert not (train & dev) and not (train & test) and not (dev & test)
    assert len(train | dev | test) == 40
    ids = [u.id for u in r.train + r.dev + r.test]
    assert sorted(ids) == sorted(u.id for u in corpus)
    # each set keeps the manifest's order
    position = {u.id: k for k, u in enumerate(corpus)}
    for items in (r.train, r.dev, r.test):
        assert [position[u.id] for u in items] == sorted(position[u.id] for u in items)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fractions_are_of_hours_within_half_a_speaker(seed):
    corpus = fx.speaker_corpus(40)
    r = split_utterances(corpus, dev=0.1, test=0.15, seed=seed)
    total = sum(u.duration for u in corpus)
    biggest = max(sum(u.duration for u in corpus if u.speaker == s) for s in speakers_of(corpus)) / total
    assert abs(share(r, "dev") - 0.1) <= biggest / 2 + 1e-9
    assert abs(share(r, "test") - 0.15) <= biggest / 2 + 1e-9
    assert abs(share(r, "dev") - 0.1) < 0.02 and abs(share(r, "test") - 0.15) < 0.02


def test_split_is_deterministic_per_seed_and_varies_across_seeds():
    corpus = fx.speaker_corpus(40)
    a, b = split_utterances(corpus, seed=7), split_utterances(corpus, seed=7)
    assert [u.id for u in a.dev] == [u.id for u in b.dev] and [u.id for u in a.test] == [u.id for u in b.test]
    c = split_utterances(corpus, seed=8)
    assert speakers_of(a.dev) != speakers_of(c.dev)
    # the manifest's order does not matter, only the seed
    d = split_utterances(list(reversed(corpus)), seed=7)
    assert speakers_of(d.dev) == speakers_of(a.dev) and speakers_of(d.test) == speakers_of(a.test)


def test_no_speakers_falls_back_to_utterances_with_a_warning():
    corpus = [dataclasses.replace(u, speaker="") for u in fx.speaker_corpus(10)]
    r = split_utterances(corpus, dev=0.2, test=0.2, seed=0)
    assert r.by == "utterance"
    assert r.warnings == ["no item names a speaker: split by utterance, so one voice can be in train and test"]
    assert abs(share(r, "dev") - 0.2) < 0.05 and abs(share(r, "test") - 0.2) < 0.05


def test_items_without_speaker_are_their_own_groups_and_counted():
    corpus = fx.speaker_corpus(40)
    corpus[0] = dataclasses.replace(corpus[0], speaker="")
    corpus[5] = dataclasses.replace(corpus[5], speaker="")
    r = split_utterances(corpus, seed=0)
    assert r.by == "speaker"
    assert r.warnings == ["2 utterances have no speaker: each is its own group, so their voices may be in more "
                          "than one set"]


def test_by_utterance_on_request():
    r = split_utterances(fx.speaker_corpus(10), by="utterance", seed=0)
    assert r.by == "utterance" and r.warnings == []
    assert speakers_of(r.train) & speakers_of(r.dev)  # speakers are shared, as asked


def test_dev_and_test_get_a_group_even_when_speakers_are_huge():
    corpus = [Utterance(f"u{k}", f"{k}.wav", d, "hola", speaker=f"s{k}") for k, d in enumerate([500.0, 400.0, 300.0])]
    r = split_utterances(corpus, dev=0.01, test=0.01, seed=0)
    # No speaker fits a 1% target; the smallest ones are moved out of train, dev first.
    assert ([u.id for u in r.train], [u.id for u in r.dev], [u.id for u in r.test]) == (["u0"], ["u2"], ["u1"])
    assert any("dev holds" in w for w in r.warnings) and any("test holds" in w for w in r.warnings)


def test_zero_fraction_gives_an_empty_set():
    r = split_utterances(fx.speaker_corpus(10), dev=0.0, test=0.2, seed=0)
    assert r.dev == [] and r.test and r.train


def test_unknown_durations_count_as_the_mean_with_a_warning():
    corpus = fx.speaker_corpus(40)
    corpus[3] = dataclasses.replace(corpus[3], duration=0.0)
    r = split_utterances(corpus, seed=0)
    assert len(r.warnings) == 1 and r.warnings[0].startswith("1 utterance has no duration; each counts as the mean")


@pytest.mark.parametrize("dev,test,by", [(1.0, 0.0, "speaker"), (-0.1, 0.1, "speaker"), (0.5, 0.5, "speaker"),
                                         (0.1, 0.1, "gender")])
def test_bad_arguments_raise(dev, test, by):
    with pytest.raises(ParceroError):
        split_utterances(fx.speaker_corpus(5), dev=dev, test=test, by=by)


def test_write_splits_rewrites_audio_paths_to_resolve_from_out_dir(tmp_path):
    data = tmp_path / "data"
    (data / "clips").mkdir(parents=True)
    for name in ("a", "b", "c"):
        fx.wav(data / "clips" / f"{name}.wav", fx.tone(0.2))
    absolute = str(data / "clips" / "c.wav")
    corpus = [
        Utterance("a", "clips/a.wav", 1.0, "uno", speaker="s1"),
        Utterance("b", "clips/b.wav", 1.0, "dos", speaker="s2"),
        Utterance("c", absolute, 1.0, "tres", speaker="s3"),
    ]
    source = data / "all.jsonl"
    r = split_utterances(corpus, dev=0.3, test=0.3, seed=0)
    paths = write_splits(r, data / "splits", source)
    assert paths == {name: data / "splits" / f"{name}.jsonl" for name in ("train", "dev", "test")}
    written = {u.id: u for name in paths for u in read_manifest(paths[name]).utterances}
    assert written["a"].audio == "../clips/a.wav"
    assert written["c"].audio == absolute
    for u in written.values():
        assert u.audio_path(data / "splits").resolve() == (data / "clips" / f"{u.id}.wav").resolve()
    assert sorted(len(read_manifest(p).utterances) for p in paths.values()) == [1, 1, 1]
    with pytest.raises(ParceroError):
        write_splits(r, data / "splits", data / "splits" / "train.jsonl")


# --- leaks -------------------------------------------------------------------------


@pytest.fixture
def leaky(tmp_path):
    """train/test manifests with one speaker, one id and two audio leaks planted."""
    for name, freq in (("a", 200), ("b", 300), ("c", 400), ("d", 500)):
        fx.wav(tmp_path / f"{name}.wav", fx.tone(0.3, freq))
    fx.copy(tmp_path / "a.wav", tmp_path / "a-copy.wav")
    u = Utterance
    train = [u("t1", "a.wav", 0.3, "x", speaker="ana"), u("t2", "b.wav", 0.3, "x", speaker="leo"),
             u("shared-id", "c.wav", 0.3, "x"), u("t4", "d.wav", 0.3, "x", speaker="")]
    test = [u("e1", "a-copy.wav", 0.3, "x", speaker="eva"), u("e2", str(tmp_path / "d.wav"), 0.3, "x", speaker="leo"),
            u("shared-id", "x.wav", 0.3, "x", speaker="")]
    return {"train": train, "test": test}, {"train": tmp_path, "test": tmp_path}, tmp_path


def test_planted_leaks_are_each_found(leaky):
    manifests, base_dirs, root = leaky
    leaks = find_leaks(manifests, base_dirs)
    assert leaks == [
        Leak("speaker", "leo", ("train", "test"), ("t2", "e2")),
        Leak("id", "shared-id", ("train", "test"), ("shared-id", "shared-id")),
        *sorted([Leak("audio", file_sha1(root / "a.wav"), ("train", "test"), ("t1", "e1")),
                 Leak("audio", file_sha1(root / "d.wav"), ("train", "test"), ("t4", "e2"))], key=lambda k: k.value),
    ]


def test_without_content_check_only_same_paths_leak(leaky):
    manifests, base_dirs, root = leaky
    audio = [k for k in find_leaks(manifests, base_dirs, check_audio=False) if k.kind == "audio"]
    assert audio == [Leak("audio", str((root / "d.wav").resolve()), ("train", "test"), ("t4", "e2"))]


def test_only_files_whose_size_matches_across_sets_are_hashed(leaky, monkeypatch):
    manifests, base_dirs, root = leaky
    fx.wav(root / "b.wav", fx.tone(0.5, 300))  # a size no file of the test set has
    hashed = []
    monkeypatch.setattr(splits_module, "file_sha1", lambda p: hashed.append(os.path.basename(p)) or file_sha1(p))
    find_leaks(manifests, base_dirs)
    assert "b.wav" not in hashed and {"a.wav", "a-copy.wav"} <= set(hashed)


def test_clean_split_has_no_leaks():
    r = split_utterances(fx.speaker_corpus(40), seed=3)
    assert find_leaks(r.sets(), {}) == []
    assert format_leaks([]) == "No leaks: no speaker, id or audio appears in more than one set."


def test_segments_of_one_file_are_different_audio(tmp_path):
    fx.wav(tmp_path / "s.wav", fx.tone(2.0))
    a = [Utterance("a", "s.wav", 1.0, "x", offset=0.0, end=1.0)]
    b = [Utterance("b", "s.wav", 1.0, "x", offset=1.0, end=2.0), Utterance("c", "s.wav", 1.0, "x", offset=0.0, end=1.0)]
    leaks = find_leaks({"a": a, "b": b}, {"a": tmp_path, "b": tmp_path})
    assert [(k.kind, k.value.endswith(" [0-1 s]"), k.examples) for k in leaks] == [("audio", True, ("a", "c"))]


def test_leaks_between_files_and_format(leaky, tmp_path):
    manifests, _, root = leaky
    paths = []
    for name, items in manifests.items():
        lines = [fx.record(u.id, u.audio, u.text, speaker=u.speaker) for u in items]
        paths.append(fx.write_jsonl(root / f"{name}.jsonl", lines + ["not json"]))
    leaks, problems = leaks_between(paths)
    assert [k.kind for k in leaks] == ["speaker", "id", "audio", "audio"]
    assert leaks[0].sets == ("train.jsonl", "test.jsonl")
    assert [p.kind for p in problems] == ["bad_line", "bad_line"]
    text = format_leaks(leaks)
    assert text.splitlines()[0] == "Leaks between sets: 1 speaker, 1 id, 2 audio files."
    assert "  leo  in train.jsonl, test.jsonl  (e.g. t2, e2)" in text
