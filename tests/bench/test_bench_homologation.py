"""bench/bench_homologation.py without training: the voice split, the sentences, the configs, the summary.

The experiment itself takes an hour (resources/recipes/homologation.sh); these check the
parts that decide what it measures, in well under a second each.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import bench_homologation as bh
from engine.configio import read_toml
from engine.data.synth import DEFAULT_VOICES
from engine.evaluate import EvalRow, scored
from engine.text import TextConfig
from engine.training.config import run_config_from_dict

KNOWN = {v.name: v.gender for v in DEFAULT_VOICES}


def recipe() -> tuple[dict, dict]:
    return read_toml(bh.SHARED_CONFIG), read_toml(bh.EXPERIMENT)


def test_the_recipe_split_is_disjoint_gendered_and_holds_variants_out():
    split = bh.voice_split(recipe()[1]["voices"], KNOWN)
    roles = {r: set(getattr(split, r)) for r in ("train_men", "test_men", "train_women", "test_women")}
    assert all(KNOWN[v] == "male" for v in roles["train_men"] | roles["test_men"])
    assert all(KNOWN[v] == "female" for v in roles["train_women"] | roles["test_women"])
    names = [v for r in roles.values() for v in r]
    assert len(names) == len(set(names))
    variant = lambda vs: {v.split("+")[1] for v in vs}  # noqa: E731
    assert not variant(roles["train_men"]) & variant(roles["test_men"])
    assert not variant(roles["train_women"]) & variant(roles["test_women"])


@pytest.mark.parametrize("change, message", [
    ({"test_men": ["es+m3"]}, "both"),  # a training voice tested
    ({"test_men": ["es+m7", "es+m3"]}, "both"),
    ({"train_men": ["es+m3", "es+m6"], "test_men": ["es-419+m6"]}, "variant"),  # a training voice's accent twin
    ({"test_women": ["es+m5"]}, "male voice"),
    ({"train_women": []}, "no voice"),
    ({"test_women": ["es+f9"]}, "unknown"),
])
def test_a_split_that_leaks_or_mixes_genders_is_refused(change, message):
    section = {**recipe()[1]["voices"], **change}
    with pytest.raises(ValueError, match=message):
        bh.voice_split(section, KNOWN)


def test_short_sentences_are_short_deterministic_and_avoid_the_excluded():
    first = bh.short_sentences(50, seed=7, max_words=6)
    assert len(first) == 50 and all(len(s.split()) <= 6 for s in first)
    assert bh.short_sentences(50, seed=7, max_words=6) == first
    later = bh.short_sentences(50, seed=7, max_words=6, exclude=frozenset(first[:10]))
    assert not set(later) & set(first[:10])
    with pytest.raises(ValueError, match="at most 1 words"):
        bh.short_sentences(5, seed=7, max_words=1)


def test_every_variant_config_is_a_valid_run_config_with_its_homologation(tmp_path):
    shared, experiment = recipe()
    data = {n: tmp_path / f"{n}.jsonl" for n in ("train-men", "train-both", "dev-men", "dev-both")}
    seen = {}
    for name, variant in experiment["variants"].items():
        config = bh.run_config(shared, variant, name, data, tmp_path / "runs" / name)
        parsed = run_config_from_dict(config, base_dir=tmp_path, source=name)
        assert Path(parsed.data.train) == data[f"train-{variant['train_on']}"]
        assert Path(parsed.out_dir) == tmp_path / "runs" / name
        seen[name] = (parsed.features.vtln, parsed.spec_augment.vtlp, parsed.train.max_steps)
    assert seen["men-baseline"][:2] == ("none", False) and seen["both-baseline"][:2] == ("none", False)
    assert seen["men-vtlp"][:2] == ("none", True)
    assert seen["men-vtln"][:2] == ("utterance", False)
    assert seen["men-vtln-vtlp"][:2] == seen["both-vtln-vtlp"][:2] == ("utterance", True)
    assert seen["men-vtln-speaker"][:2] == ("speaker", False) and seen["men-vtln-speaker-vtlp"][:2] == ("speaker", True)
    assert seen["men-vtln-speaker-vtlp-narrow"][:2] == ("speaker", True)
    # Only named: the ones measured worse for men, so that the recipe's default run stays under an hour.
    assert [n for n, v in experiment["variants"].items() if not v.get("default", True)] == [
        "men-vtln-speaker", "men-vtln-speaker-vtlp-narrow"]
    assert len({s[2] for s in seen.values()}) == 1  # every variant trains as long
    assert shared["train"]["max_steps"] == seen["men-baseline"][2]  # the recipe file itself is not changed
    reduced = bh.run_config(shared, experiment["variants"]["men-vtln"], "x", data, tmp_path, steps=60)
    assert reduced["train"]["max_steps"] == 60 and reduced["train"]["eval_every"] == 30
    assert reduced["features"]["vtln"] == "utterance"


def report(women: list[tuple[str, str]], men: list[tuple[str, str]]) -> dict:
    """A real ``parcero eval --json`` report (engine.evaluate.scored) of these (reference, hypothesis) rows."""
    rows = [EvalRow(f"f{i}", r, h, "es+f2", "female") for i, (r, h) in enumerate(women)]
    rows += [EvalRow(f"m{i}", r, h, "es+m5", "male") for i, (r, h) in enumerate(men)]
    return json.loads(json.dumps(scored(rows, [], TextConfig()).to_dict()))


def test_the_summary_takes_each_gender_cer_and_the_gap_with_its_interval():
    # women: 1 wrong character in 10 on each of 6 clips (CER 0.1); men: all right (CER 0)
    women = [("abcdefghij", "abcdefghiX")] * 6
    men = [("abcdefghij", "abcdefghij")] * 6
    s = bh.variant_summary(report(women, men))
    assert s["cer_women"] == pytest.approx(0.1) and s["cer_men"] == 0.0
    assert s["cer_gap"]["estimate"] == pytest.approx(0.1)
    assert s["cer_gap"]["low"] == pytest.approx(0.1) and s["cer_gap"]["high"] == pytest.approx(0.1)
    assert s["cer_gap"]["includes_zero"] is False
    assert s["utterances"] == {"female": 6, "male": 6}
    assert s["cer_overall"] == pytest.approx(0.05)


def test_a_report_without_both_genders_is_refused():
    with pytest.raises(ValueError, match="gender_gap"):
        bh.variant_summary(report([("hola", "hola")] * 6, []))


def summary(women: float, men: float) -> dict:
    return {"cer_women": women, "cer_men": men, "cer_gap": {"estimate": women - men, "low": None, "high": None}}


def test_the_target_is_a_halved_gap_with_men_within_one_point():
    base = summary(0.60, 0.20)  # gap 40 pt
    good = bh.against(base, summary(0.395, 0.205))  # gap 19 pt, men +0.5 pt
    assert good["gap_halved"] and good["men_within_1pt"] and good["target_met"]
    assert good["gap_ratio"] == pytest.approx(0.475) and good["men_cer_change_pt"] == pytest.approx(0.5)
    assert good["gap_change_pt"] == pytest.approx(-21.0)
    men_worse = bh.against(base, summary(0.42, 0.25))  # gap 17 pt, but men +5 pt
    assert men_worse["gap_halved"] and not men_worse["men_within_1pt"] and not men_worse["target_met"]
    not_halved = bh.against(base, summary(0.45, 0.20))  # gap 25 pt
    assert not not_halved["gap_halved"] and not not_halved["target_met"]
    assert bh.against(summary(0.2, 0.3), summary(0.2, 0.3))["gap_ratio"] is None  # nothing to halve


def test_summarise_puts_men_only_runs_under_gap_without_and_with():
    results = {"men-baseline": summary(0.6, 0.2), "men-vtln": summary(0.3, 0.2),
               "both-baseline": summary(0.3, 0.25), "both-vtln-vtlp": summary(0.27, 0.25)}
    out = bh.summarise(results)
    assert out["gap_without"]["cer_gap"]["estimate"] == pytest.approx(0.4)
    assert set(out["gap_with"]) == {"vtln"}
    assert out["gap_with"]["vtln"]["vs_baseline"]["gap_ratio"] == pytest.approx(0.25)
    assert out["both_genders"]["vtln-vtlp"]["vs_baseline"]["gap_change_pt"] == pytest.approx(-3.0)


def test_loss_health_catches_a_non_finite_loss_and_a_skipped_batch(tmp_path):
    good = [{"kind": "train", "step": 1, "loss": 3.2, "grad_norm": 1.0},
            {"kind": "eval", "step": 2, "dev_loss": 2.5, "cer": 0.9},
            {"kind": "train", "step": 2, "loss": 2.9, "grad_norm": 0.8}]
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in good), encoding="utf-8")
    h = bh.loss_health(path)
    assert h["all_finite"] and h["train_records"] == 2 and h["last_train_loss"] == 2.9
    path.write_text("\n".join(json.dumps(r) for r in good + [{"kind": "eval", "dev_loss": math.nan}]))
    assert not bh.loss_health(path)["all_finite"]
    path.write_text("\n".join(json.dumps(r) for r in good + [{"kind": "bad_batch", "step": 3, "ids": []}]))
    h = bh.loss_health(path)
    assert not h["all_finite"] and h["bad_batches"] == 1


def test_merged_overrides_nested_tables_and_leaves_its_inputs_alone():
    base = {"train": {"max_steps": 10, "seed": 0}, "model": {"preset": "tiny"}}
    out = bh.merged(base, {"train": {"seed": 3}, "features": {"vtln": "utterance"}})
    assert out == {"train": {"max_steps": 10, "seed": 3}, "model": {"preset": "tiny"},
                   "features": {"vtln": "utterance"}}
    assert base["train"]["seed"] == 0


def test_the_sets_keep_voices_apart_and_test_sentences_unheard(tmp_path):
    from engine.data.manifest import read_manifest
    from engine.data.synth import find_espeak
    from engine.errors import ParceroError

    try:
        find_espeak()
    except ParceroError as e:
        pytest.skip(f"espeak-ng is not installed: {e}")
    _, experiment = recipe()
    split = bh.voice_split(experiment["voices"], KNOWN)
    sizes = {"train": 3, "dev": 1, "test": 2}
    manifests = bh.make_data(experiment["data"], split, tmp_path, seed=0, sizes=sizes)
    sets = {n: read_manifest(p).utterances for n, p in manifests.items()}
    speakers = lambda utts, g: {u.speaker for u in utts if u.gender == g}  # noqa: E731
    assert speakers(sets["train-men"], "male") <= set(split.train_men) and not speakers(sets["train-men"], "female")
    assert speakers(sets["train-both"], "female") <= set(split.train_women)
    assert speakers(sets["test"], "male") <= set(split.test_men)
    assert speakers(sets["test"], "female") <= set(split.test_women)
    assert len(sets["train-both"]) == 6 and len(sets["dev-both"]) == 2 and len(sets["test"]) == 4
    heard = {u.text for n in ("train-both", "dev-both") for u in sets[n]}
    women = sorted(u.text for u in sets["test"] if u.gender == "female")
    assert women == sorted(u.text for u in sets["test"] if u.gender == "male")  # the same sentences
    assert not set(women) & heard
    ids = [u.id for n in ("train-both", "dev-both", "test") for u in sets[n]]
    assert len(ids) == len(set(ids))
    assert all(u.audio_path(manifests["test"].parent).is_file() for u in sets["test"])


def test_paired_changes_score_both_models_on_the_same_clips():
    ok, one_off = ("abcdefghij", "abcdefghij"), ("abcdefghij", "abcdefghiX")
    base = report([one_off] * 3 + [ok] * 3, [ok] * 6)  # women 5 %, men 0 %
    other = report([ok] * 6, [one_off] + [ok] * 5)  # women 0 %, men 1 wrong in 60
    text = TextConfig()
    p = bh.paired_changes(base, other, text)
    assert p["women_cer"]["estimate"] == pytest.approx(-0.05, abs=1e-6)  # rounded to 6 places
    assert p["men_cer"]["estimate"] == pytest.approx(1 / 60, abs=1e-6)
    assert p["cer_gap"]["estimate"] == pytest.approx(-0.05 - 1 / 60, abs=1e-6)
    for change in ("women_cer", "men_cer", "cer_gap"):
        assert p[change]["low"] <= p[change]["estimate"] <= p[change]["high"]
    assert p["women_cer"]["high"] < 0  # every resample has the baseline's women worse or equal
    assert bh.paired_changes(base, base, text)["cer_gap"] == {"estimate": 0.0, "low": 0.0, "high": 0.0}
    with pytest.raises(ValueError, match="same utterances"):
        bh.paired_changes(base, report([ok] * 5, [ok] * 6), text)
