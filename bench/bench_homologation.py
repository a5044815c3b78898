"""Issue 22's experiment: does homologating voices close the gap between women and men?

Tiny Speech-Transformers are trained from nothing on synthetic Spanish
(espeak-ng) and tested on voices none of them heard, women's and men's:

- trained on men's voices only: no homologation (the gap *without*), VTLP
  (random vocal-tract warps in training), VTLN (every voice warped onto the
  training set's reference, in training and in testing), and both (the gaps *with*);
- trained on women's and men's voices: no homologation against VTLN + VTLP, and
  whether any loss went non-finite (it must not).

Each gap is women's CER minus men's on the same test set (women and men read the
same sentences), with the bootstrap interval ``parcero eval --json`` reports
(engine.gap). Every model reads the same test clips, so a variant's change against
its baseline (men's CER, women's, the gap) gets a paired bootstrap interval too.
The issue's target: the train-on-men gap at least halved, men's CER not worse by
more than 1 point. The intervals cover the choice of test clips, not training
noise (another seed would move every number a little).

    bash resources/recipes/homologation.sh          # the recipe: this script, full size
    python bench/bench_homologation.py --steps 300 --train-utterances 300   # reduced, marked so
    python bench/bench_homologation.py --eval-only --beam 1 --ctc-weight 0 --out ...  # test again, greedy

The settings are resources/recipes/homologation.toml (what every run shares) and
homologation-variants.toml (voices, sizes, variants); scratch goes to
build/homologation/. Training and evaluation run as the ``parcero`` commands a
person would type, one process each, so every run starts alike and its log is kept.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.machine import load_average, machine_info  # noqa: E402

RECIPES = REPO / "resources" / "recipes"
SHARED_CONFIG = RECIPES / "homologation.toml"
EXPERIMENT = RECIPES / "homologation-variants.toml"
WORK = REPO / "build" / "homologation"
OUT = REPO / "bench" / "results" / "homologation-synth-cpu2.json"
BASELINE, HOMOLOGATED = "men-baseline", ("men-vtlp", "men-vtln", "men-vtln-vtlp", "men-vtln-speaker",
                                          "men-vtln-speaker-vtlp")
BOTH = ("both-baseline", "both-vtln-vtlp")
MEN_CER_TOLERANCE = 0.01  # the "not worse by more than 1 pt"
# One synthesis seed per set, so utterance ids (synth-s<seed>-<i>) never collide in a combined manifest.
SET_SEEDS = {"train-men": 1, "train-women": 2, "dev-men": 3, "dev-women": 4, "test-men": 5, "test-women": 6}


@dataclass(frozen=True)
class VoiceSplit:
    """espeak-ng voice names ("es+m3") by role; a test voice is never a training voice."""

    train_men: tuple[str, ...]
    test_men: tuple[str, ...]
    train_women: tuple[str, ...]
    test_women: tuple[str, ...]

    def gender_of(self, role: str) -> str:
        return "female" if role.endswith("women") else "male"


def voice_split(section: dict, known: dict[str, str]) -> VoiceSplit:
    """The ``[voices]`` table checked: every voice known with the right gender, train and test disjoint.

    Parameters
    ----------
    section : dict
        ``{"train_men": [...], "test_men": [...], "train_women": [...], "test_women": [...]}``.
    known : dict
        voice name -> "male" | "female" (engine.data.synth.DEFAULT_VOICES).

    Raises
    ------
    ValueError
        A role is missing or empty, a voice unknown, of the other gender, or in two roles;
        or a held-out variant (the part after "+") is also a training variant.
    """
    roles = ("train_men", "test_men", "train_women", "test_women")
    split = VoiceSplit(**{r: tuple(section.get(r) or ()) for r in roles})
    seen: dict[str, str] = {}
    for role in roles:
        names = getattr(split, role)
        if not names:
            raise ValueError(f"voices.{role}: no voice given")
        for name in names:
            if name not in known:
                raise ValueError(f"voices.{role}: unknown voice {name!r} (known: {', '.join(sorted(known))})")
            if known[name] != split.gender_of(role):
                raise ValueError(f"voices.{role}: {name} is a {known[name]} voice")
            if name in seen:
                raise ValueError(f"voices: {name} is in both {seen[name]} and {role}")
            seen[name] = role
    for gender in ("men", "women"):
        train = {n.split("+", 1)[-1] for n in getattr(split, f"train_{gender}")}
        shared = train & {n.split("+", 1)[-1] for n in getattr(split, f"test_{gender}")}
        if shared:
            raise ValueError(f"voices: variant(s) {', '.join(sorted(shared))} in both train_{gender} "
                             f"and test_{gender}; hold a variant out whole")
    return split


def short_sentences(n: int, seed: int, max_words: int, exclude: frozenset[str] = frozenset()) -> list[str]:
    """``n`` generated sentences (engine.data.sentences) of at most ``max_words`` words, none in ``exclude``."""
    from engine.data.sentences import generate_sentences

    pool = 4 * n + 40
    while True:
        kept = [s for s in generate_sentences(pool, seed) if len(s.split()) <= max_words and s not in exclude]
        if len(kept) >= n:
            return kept[:n]
        if pool > 200 * n + 4000:
            raise ValueError(f"only {len(kept)} sentences of at most {max_words} words (seed {seed}); asked {n}")
        pool *= 2


def merged(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` merged in, tables recursively (neither is changed)."""
    out = dict(base)
    for key, value in overrides.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def run_config(shared: dict, variant: dict, name: str, data: dict[str, Path], run_dir: Path,
               steps: int | None = None) -> dict:
    """The run config of one variant: homologation.toml, the variant's overrides, this run's paths (absolute)."""
    on = variant.get("train_on")
    if on not in ("men", "both"):
        raise ValueError(f"variants.{name}.train_on: expected \"men\" or \"both\", got {on!r}")
    config = merged(shared, {k: v for k, v in variant.items() if k not in ("train_on", "default")})
    config = merged(config, {"run": {"name": f"homologation-{name}", "dir": str(run_dir)},
                             "data": {"train": str(data[f"train-{on}"]), "dev": str(data[f"dev-{on}"])}})
    if steps is not None:  # a reduced run: keep two evaluations and the warm-up's share
        t = config["train"]
        scale = steps / t["max_steps"]
        config = merged(config, {"train": {
            "max_steps": steps, "warmup": max(1, round(t["warmup"] * scale)),
            "eval_every": max(1, steps // 2), "checkpoint_every": max(1, steps // 2)}})
    return config


def variant_summary(report: dict) -> dict:
    """The numbers of one ``parcero eval --json`` report that the experiment compares (fractions, not %)."""
    gap = report.get("gender_gap")
    if gap is None:
        raise ValueError("the report has no gender_gap: the test set needs women and men")
    cer = gap["cer"]
    return {
        "cer_women": float(report["by_gender"]["female"]["cer"]), "cer_men": float(report["by_gender"]["male"]["cer"]),
        "cer_overall": float(report["overall"]["cer"]),
        "cer_gap": {"estimate": cer["estimate"], "low": cer["low"], "high": cer["high"],
                    "includes_zero": cer["low"] is None or cer["low"] <= 0.0 <= cer["high"]},
        "wer_gap": {k: gap["wer"][k] for k in ("estimate", "low", "high")},
        "wer_women": float(report["by_gender"]["female"]["wer"]),
        "wer_men": float(report["by_gender"]["male"]["wer"]),
        "utterances": dict(gap["utterances"]), "confidence": gap["confidence"], "resamples": gap["resamples"],
    }


def against(without: dict, with_: dict) -> dict:
    """How a homologated variant compares with its baseline, and whether it meets the issue's target.

    ``gap_ratio`` is the gap with over the gap without (0.5 = halved; None when the baseline
    has no positive gap to halve); ``men_cer_change_pt`` is in points, positive = worse.
    """
    g0, g1 = without["cer_gap"]["estimate"], with_["cer_gap"]["estimate"]
    ratio = g1 / g0 if g0 > 0 else None
    men_change = with_["cer_men"] - without["cer_men"]
    halved = ratio is not None and ratio <= 0.5
    men_ok = men_change <= MEN_CER_TOLERANCE + 1e-12
    return {"gap_ratio": None if ratio is None else round(ratio, 4),
            "gap_change_pt": round(100 * (g1 - g0), 2), "men_cer_change_pt": round(100 * men_change, 2),
            "women_cer_change_pt": round(100 * (with_["cer_women"] - without["cer_women"]), 2),
            "gap_halved": halved, "men_within_1pt": men_ok, "target_met": halved and men_ok}


def summarise(results: dict[str, dict], paired: dict[str, dict] | None = None) -> dict:
    """``gap_without``/``gap_with`` (men-only training) and ``both_genders`` from each variant's summary.

    ``paired`` (variant -> :func:`paired_changes` against its baseline) joins each ``vs_baseline``.
    """
    paired = paired or {}

    def compared(name: str, base: str) -> dict:
        versus = against(results[base], results[name])
        if name in paired:
            versus["paired"] = paired[name]
        return {**results[name], "vs_baseline": versus}

    out: dict = {}
    if BASELINE in results:
        out["gap_without"] = results[BASELINE]
        out["gap_with"] = {name.removeprefix("men-"): compared(name, BASELINE)
                           for name in HOMOLOGATED if name in results}
    if BOTH[0] in results:
        out["both_genders"] = {"baseline": results[BOTH[0]]}
        if BOTH[1] in results:
            out["both_genders"]["vtln-vtlp"] = compared(BOTH[1], BOTH[0])
    return out


def paired_changes(base: dict, other: dict, text_config, resamples: int = 1000, confidence: float = 0.95,
                   seed: int = 0) -> dict:
    """Another model minus the baseline on the very same test clips, with paired bootstrap intervals.

    Both ``parcero eval --json`` reports scored the same utterances, so each resample draws
    the clips (women's and men's apart, as engine.gap does) once and scores both models on
    them: the interval holds how the clips were chosen, not which clip each model got.

    Returns
    -------
    dict
        ``men_cer``, ``women_cer`` and ``cer_gap`` changes (fractions; positive = higher with
        ``other``), each ``{"estimate", "low", "high"}``; and the ``resamples``, ``confidence``, ``seed``.
    """
    import numpy as np

    from engine.metrics import utterance_errors

    def counts(report: dict) -> dict[str, tuple[int, int, str]]:
        rows = report["rows"]
        each = utterance_errors([r["reference"] for r in rows], [r["hypothesis"] for r in rows], text_config)
        return {r["id"]: (u.chars.errors, u.chars.reference_length, r["gender"]) for r, u in zip(rows, each)}

    a, b = counts(base), counts(other)
    if set(a) != set(b):
        raise ValueError("the two reports did not score the same utterances")
    rng = np.random.default_rng(seed)
    est, boot = {}, {}
    for gender in ("female", "male"):
        ids = sorted(i for i in a if a[i][2] == gender)
        x = np.array([[a[i][0], a[i][1], b[i][0], b[i][1]] for i in ids], dtype=np.int64)  # (n, 4)
        drawn = x[rng.integers(0, len(x), size=(resamples, len(x)))].sum(axis=1)  # (B, 4)
        total = x.sum(axis=0)
        est[gender] = total[2] / total[3] - total[0] / total[1]
        boot[gender] = drawn[:, 2] / drawn[:, 3] - drawn[:, 0] / drawn[:, 1]  # (B,)
    tail = (1.0 - confidence) / 2

    def interval(estimate: float, values) -> dict:
        low, high = np.quantile(values, [tail, 1.0 - tail])
        return {"estimate": round(float(estimate), 6), "low": round(float(low), 6), "high": round(float(high), 6)}

    return {"men_cer": interval(est["male"], boot["male"]), "women_cer": interval(est["female"], boot["female"]),
            "cer_gap": interval(est["female"] - est["male"], boot["female"] - boot["male"]),
            "resamples": resamples, "confidence": confidence, "seed": seed}


def loss_health(metrics_path: Path) -> dict:
    """Whether a run's losses stayed finite: from its metrics.jsonl (train, eval and bad_batch records)."""
    losses, dev_losses, bad, last = [], [], 0, None
    for line in metrics_path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)  # json reads NaN and Infinity as floats
        if r.get("kind") == "train":
            losses += [r["loss"], r.get("grad_norm", 0.0)]
            last = r["loss"]
        elif r.get("kind") == "eval" and r.get("dev_loss") is not None:
            dev_losses.append(r["dev_loss"])
        elif r.get("kind") == "bad_batch":
            bad += 1
    finite = all(math.isfinite(x) for x in losses + dev_losses)
    return {"all_finite": finite and bad == 0, "bad_batches": bad, "train_records": len(losses) // 2,
            "last_train_loss": last, "dev_losses": dev_losses}


# ---- the parts that synthesise, train and evaluate --------------------------------------------


def _parcero(*args: str, log: Path) -> float:
    """Run ``parcero ARGS`` with its output in ``log``; returns the wall seconds, raises on failure."""
    exe = os.environ.get("PARCERO") or str(Path(sys.executable).with_name("parcero"))
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run([exe, *args], cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise RuntimeError(f"parcero {' '.join(args)} failed (exit {proc.returncode}); see {log}")
    return time.perf_counter() - t0


def make_data(spec: dict, split: VoiceSplit, work: Path, seed: int, sizes: dict[str, int]) -> dict[str, Path]:
    """Synthesise every set and write the manifests the runs read; returns name -> manifest path."""
    from engine.data.manifest import read_manifest, relative_audio, write_manifest
    from engine.data.synth import DEFAULT_VOICES, SynthOptions, synthesize

    voices = {v.name: v for v in DEFAULT_VOICES}
    data = work / "data"
    texts_used: set[str] = set()
    test_texts: list[str] = []
    sets: dict[str, list] = {}
    for name, set_seed in SET_SEEDS.items():  # train and dev first: test sentences avoid theirs
        kind, gender = name.split("-")
        n = sizes[kind]
        role = f"{'test' if kind == 'test' else 'train'}_{gender}"
        s = 100 * seed + set_seed
        if kind != "test":
            texts = short_sentences(n, s, spec["max_words"])
            texts_used.update(texts)
        else:  # women and men read the same test sentences: the gap is the voices', not the texts'
            test_texts = test_texts or short_sentences(n, s, spec["max_words"], frozenset(texts_used))
            texts = test_texts
        options = SynthOptions(utterances=n, seed=s, voices=tuple(voices[v] for v in getattr(split, role)),
                               female_fraction=1.0 if gender == "women" else 0.0,
                               noise_snr_db=tuple(spec["noise_snr_db"]))
        result = synthesize(data / name, options, sentences=texts)
        for problem in result.problems:
            print(f"bench: warning: {problem}", file=sys.stderr)
        folder = data / name
        sets[name] = [replace(u, audio=relative_audio(u.audio_path(folder), data))
                      for u in read_manifest(result.manifest).utterances]
    out = {}
    for name, parts in {"train-men": ["train-men"], "train-both": ["train-men", "train-women"],
                        "dev-men": ["dev-men"], "dev-both": ["dev-men", "dev-women"],
                        "test": ["test-women", "test-men"]}.items():
        out[name] = data / f"{name}.jsonl"
        write_manifest(out[name], [u for p in parts for u in sets[p]])
    return out


def prepare_data(spec: dict, split: VoiceSplit, work: Path, seed: int, sizes: dict[str, int],
                 reuse: bool) -> tuple[dict[str, Path], float, bool]:
    """The manifests, the seconds their synthesis took, and whether an earlier run's identical sets were kept."""
    stamp = work / "data" / "stamp.json"
    wanted = json.loads(json.dumps({"seed": seed, "sizes": sizes, "spec": spec, "split": vars(split)}))
    if reuse and stamp.is_file():
        kept = json.loads(stamp.read_text(encoding="utf-8"))
        if kept.get("settings") == wanted:
            return {n: Path(p) for n, p in kept["manifests"].items()}, kept["seconds"], True
    t0 = time.perf_counter()
    manifests = make_data(spec, split, work, seed, sizes)
    seconds = round(time.perf_counter() - t0, 1)
    stamp.write_text(json.dumps({"settings": wanted, "seconds": seconds,
                                 "manifests": {n: str(p) for n, p in manifests.items()}}, indent=1), encoding="utf-8")
    return manifests, seconds, False


def describe_sets(manifests: dict[str, Path]) -> dict:
    """Clips, hours and voices of each manifest, by gender."""
    from engine.data.manifest import read_manifest

    out = {}
    for name, path in manifests.items():
        utts = read_manifest(path).utterances
        out[name] = {g: {"utterances": sum(1 for u in utts if u.gender == g),
                         "hours": round(sum(u.duration for u in utts if u.gender == g) / 3600, 3),
                         "voices": sorted({u.speaker for u in utts if u.gender == g})}
                     for g in ("female", "male") if any(u.gender == g for u in utts)}
    return out


def run_variant(name: str, config: dict, test: Path, work: Path, decoding: dict, eval_only: bool = False) -> dict:
    """Train one variant with ``parcero train``, test it with ``parcero eval``; its summary and timings.

    ``eval_only``: keep the run an earlier call trained with this very config, and only test it
    (with other ``decoding``, say); its training time is still the one its run.json recorded.
    """
    from engine.configio import read_toml, write_toml

    run_dir = Path(config["run"]["dir"])
    config_path = work / "configs" / f"{name}.toml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    if eval_only:
        record = run_dir / "run.json"
        state = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else {}
        if state.get("state") != "finished" or not config_path.is_file() or read_toml(config_path) != config:
            raise RuntimeError(f"--eval-only: {run_dir} is not a finished run of this config; train it first")
    else:
        write_toml(config_path, config)
        _parcero("train", "--config", str(config_path), log=work / "logs" / f"{name}-train.log")
    state = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    tag = f"-beam{decoding['beam']}-ctc{decoding['ctc_weight']:g}"
    report_path = work / "eval" / f"{name}{tag}.json"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    eval_s = _parcero("eval", "--model", str(run_dir / "best"), "--manifest", str(test), "--device", "cpu",
                      "--beam", str(decoding["beam"]), "--ctc-weight", str(decoding["ctc_weight"]),
                      "--json", str(report_path), log=work / "logs" / f"{name}{tag}-eval.log")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    saved = json.loads((run_dir / "best" / "config.json").read_text(encoding="utf-8"))
    return {**variant_summary(report), "eval_report": str(report_path), "loss": loss_health(run_dir / "metrics.jsonl"),
            "vtln_reference_hz": saved.get("features", {}).get("vtln_reference_hz") or None,
            "best_step": saved.get("metadata", {}).get("step"),
            "best_dev_cer": saved.get("metadata", {}).get("best_dev_cer"),
            # the trainer process's own wall time, start-up included (engine.training.runstate)
            "train_seconds": round(state["ended"] - state["process_start"], 1), "eval_seconds": round(eval_s, 1)}


def compare_paired(results: dict[str, dict], text_config) -> dict[str, dict]:
    """:func:`paired_changes` of each homologated variant against its baseline, from their eval reports."""
    def report(name: str) -> dict:
        return json.loads(Path(results[name]["eval_report"]).read_text(encoding="utf-8"))

    pairs = [(n, BASELINE) for n in HOMOLOGATED] + [(BOTH[1], BOTH[0])]
    return {name: paired_changes(report(base), report(name), text_config)
            for name, base in pairs if name in results and base in results}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--work", type=Path, default=WORK, help="scratch folder (data, runs, logs)")
    p.add_argument("--seed", type=int, help="overrides data.seed and train.seed (default: the recipe's)")
    p.add_argument("--steps", type=int, help="reduced: train steps a run instead of the recipe's")
    p.add_argument("--train-utterances", type=int, help="reduced: training clips a gender")
    p.add_argument("--test-utterances", type=int, help="reduced: test clips a gender")
    p.add_argument("--variants", nargs="+", metavar="NAME", help="reduced: only these variants")
    p.add_argument("--reuse-data", action="store_true", help="keep the synthesised sets of an earlier run")
    # Joint CTC/attention search: after 1200 steps the tiny models' CTC head is far ahead of their
    # attention decoder, whose greedy output loops (CER ~60 %, whatever the voice) and hides the gap.
    p.add_argument("--beam", type=int, default=4, help="parcero eval --beam (default: 4)")
    p.add_argument("--ctc-weight", type=float, default=0.3, help="parcero eval --ctc-weight (default: 0.3)")
    p.add_argument("--eval-only", action="store_true",
                   help="test the runs an earlier call trained (same configs) again, e.g. with another decoding")
    p.add_argument("--note", help="a line for the JSON (why a run was reduced, what else ran alongside)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from engine.configio import read_toml
    from engine.data.synth import DEFAULT_VOICES
    from engine.text import TextConfig

    args = parse_args(argv)
    shared, experiment = read_toml(SHARED_CONFIG), read_toml(EXPERIMENT)
    spec, variants = dict(experiment["data"]), experiment["variants"]
    split = voice_split(experiment["voices"], {v.name: v.gender for v in DEFAULT_VOICES})
    seed = spec["seed"] if args.seed is None else args.seed
    if args.seed is not None:
        shared = merged(shared, {"train": {"seed": args.seed}})
    reduced = {k: v for k, v in {"steps": args.steps, "train_utterances": args.train_utterances,
                                 "test_utterances": args.test_utterances, "variants": args.variants}.items()
               if v is not None}
    # A variant with `default = false` runs only when named (--variants): the recipe stays under an hour.
    names = args.variants or [n for n, v in variants.items() if v.get("default", True)]
    unknown = sorted(set(names) - set(variants))
    if unknown:
        raise SystemExit(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(variants)}")
    sizes = {"train": args.train_utterances or spec["train_utterances"], "dev": spec["dev_utterances"],
             "test": args.test_utterances or spec["test_utterances"]}
    work = args.work.resolve()
    info = machine_info("cpu")
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    data_manifests, synth_s, reused = prepare_data(spec, split, work, seed, sizes, args.reuse_data or args.eval_only)
    print(f"bench: data ready ({'reused, ' if reused else ''}synthesised in {synth_s:.0f} s)", file=sys.stderr)
    t0 = time.perf_counter()
    decoding = {"beam": args.beam, "ctc_weight": args.ctc_weight}
    results = {}
    for name in names:
        variant = variants[name]
        config = run_config(shared, variant, name, data_manifests, work / "runs" / name, steps=args.steps)
        r = results[name] = {"train_on": variant["train_on"],
                             **run_variant(name, config, data_manifests["test"], work, decoding, args.eval_only)}
        print(f"bench: {name}: CER women {r['cer_women']:.1%} men {r['cer_men']:.1%}, gap "
              f"{100 * r['cer_gap']['estimate']:+.1f} pt ({r['train_seconds']:.0f} s + {r['eval_seconds']:.0f} s)",
              file=sys.stderr)
    runs_s = time.perf_counter() - t0
    paired = compare_paired(results, TextConfig(**shared.get("text", {})))
    recipe_s = synth_s + sum(r["train_seconds"] + r["eval_seconds"] for r in results.values())
    out = {
        "benchmark": "homologation", "issue": 22, **info, "load_average_end": load_average(),
        "seed": seed, "decoding": decoding, "eval_only": args.eval_only,
        "reduced": bool(reduced), "reduced_what": reduced or None, "note": args.note,
        "command": " ".join(["bash resources/recipes/homologation.sh", *(sys.argv[1:] if argv is None else argv)]),
        "full_command": "bash resources/recipes/homologation.sh",
        "data": {"sizes_per_gender": sizes, "max_words": spec["max_words"],
                 "noise_snr_db": spec["noise_snr_db"], "voices": vars(split), "sets": describe_sets(data_manifests)},
        "settings": {"shared": str(SHARED_CONFIG.relative_to(REPO)), "variants": str(EXPERIMENT.relative_to(REPO))},
        "target": "train on men, test on women: the CER gap at least halved, men's CER not worse by more than 1 pt",
        "units": "rates as fractions (0.1 = 10 %); *_pt fields in percentage points",
        **summarise(results, paired),
        "no_nan": all(r["loss"]["all_finite"] for r in results.values()),
        "variants": results,
        "started_utc": started, "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # total: synthesis, every training and every evaluation, as one call of the recipe spends them
        "durations_s": {"total": round(recipe_s, 1), "data": synth_s, "data_reused": reused,
                        "this_call": round(runs_s, 1),
                        **{f"{n}_train": r["train_seconds"] for n, r in results.items()},
                        **{f"{n}_eval": r["eval_seconds"] for n, r in results.items()}},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"bench: wrote {args.out}; the recipe's time {recipe_s / 60:.1f} min", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
