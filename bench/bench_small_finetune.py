"""Training on a few clips: wall and CPU time of the trainer with and without loader workers, old and new loader.

A person fine-tuning on a few dozen recordings of their own voice has an epoch every
step or two. The trainer used to build a new DataLoader every epoch, and with workers
that is a fork of the whole training process per worker per epoch; now one loader
serves the run and its workers live across epochs (``make_loader(persistent=True)``).

Each configuration runs ``Trainer.run()`` in a fresh Python process (so every run
pays the same start-up and its CPU time, workers included, is its own): the real
trainer, the real data pipeline (reading, resampling, log-mel, SpecAugment), the
``tiny`` preset from scratch, fp32 on the CPU, no dev set. ``--loader old`` gives
the trainer a loader without persistent workers, so it builds one per epoch as
before; ``--loader new`` is the code as it is. Configurations alternate in each
round, their order rotating from round to round.

    python bench/bench_small_finetune.py --out bench/results/small-finetune-cpu2.json

The corpus: the 10 shortest clips of ``../shared/data/cajal-es`` (real speech,
22.05 kHz WAV) where present, else 10 tone renderings of Spanish sentences
(``tests.helpers.write_tone_corpus``); ``--corpus`` chooses.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.machine import load_average, machine_info, median  # noqa: E402

CAJAL = REPO.parent / "shared" / "data" / "cajal-es"
TONE_TEXTS = ["¿qué tal, señor núñez?", "el pingüino come atún", "mañana llueve en la ciudad",
              "los niños juegan", "¡ojalá que llueva café!", "sí, año nuevo", "el miércoles",
              "comió ñoquis", "la península", "¿qué pasó?"]


def write_corpus(folder: Path, kind: str, n: int) -> tuple[Path, str]:
    """A training manifest of ``n`` short utterances; returns (its path, what it holds in words)."""
    from engine.data.manifest import Utterance, write_manifest

    if kind == "cajal":
        import soundfile as sf

        rows = [line.split("|", 1) for line in (CAJAL / "metadata.csv").read_text(encoding="utf-8").splitlines()]
        clips = sorted((sf.info(CAJAL / "wavs" / f"{i}.wav").duration, i, t) for i, t in rows)[:n]
        utts = [Utterance(i, str(CAJAL / "wavs" / f"{i}.wav"), d, t) for d, i, t in clips]
        path = folder / "train.jsonl"
        write_manifest(path, utts)
        seconds = sum(d for d, _, _ in clips)
        return path, f"the {n} shortest cajal-es clips ({seconds:.1f} s of real speech, 22.05 kHz WAV)"
    from tests.helpers import write_tone_corpus

    path = write_tone_corpus(folder, (TONE_TEXTS * n)[:n], "train")
    return path, f"{n} tone renderings of Spanish sentences (tests.helpers.write_tone_corpus, 16 kHz WAV)"


def one_run(manifest: Path, run_dir: Path, workers: int, loader: str, steps: int) -> dict:
    """Train in this process; wall time of Trainer.run() and the CPU time it took, workers included."""
    import torch

    from engine.data import batching
    from engine.training import loop
    from engine.training.config import run_config_from_dict

    if loader == "old":  # a loader without persistent workers: the trainer builds one per epoch
        loop.make_loader = lambda *a, persistent=False, **k: batching.make_loader(*a, **k)
    config = run_config_from_dict({
        "run": {"name": run_dir.name, "dir": str(run_dir)},
        "data": {"train": str(manifest), "num_workers": workers},
        "model": {"preset": "tiny"},
        "train": {"max_steps": steps, "log_every": 10, "checkpoint_every": 100_000, "device": "cpu"},
    }, base_dir=run_dir.parent)
    trainer = loop.Trainer(config)
    before = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    start = time.perf_counter()
    result = trainer.run()
    wall = time.perf_counter() - start
    after = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = {k: round(sum(getattr(a, field) - getattr(b, field) for a, b in zip(after, before)), 2)
           for k, field in (("user", "ru_utime"), ("sys", "ru_stime"))}
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    return {"workers": workers, "loader": loader, "steps": result.step, "epochs": trainer.epoch + 1,
            "wall_seconds": round(wall, 2), "user_seconds": cpu["user"], "sys_seconds": cpu["sys"],
            "losses": [r["loss"] for r in train], "torch_threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--clips", type=int, default=10)
    p.add_argument("--corpus", choices=("cajal", "tone"), default="cajal" if CAJAL.is_dir() else "tone")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--loaders", nargs="+", choices=("old", "new"), default=["old", "new"])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", type=Path)
    p.add_argument("--one", nargs=4, metavar=("MANIFEST", "RUN_DIR", "WORKERS", "LOADER"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        manifest, run_dir, workers, loader = args.one
        print(json.dumps(one_run(Path(manifest), Path(run_dir), int(workers), loader, args.steps)))
        return

    info = machine_info("cpu")
    configs = [(w, lo) for w in args.workers for lo in args.loaders]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        manifest, corpus = write_corpus(Path(tmp) / "data", args.corpus, args.clips)
        for r in range(args.rounds):
            for k in range(len(configs)):
                workers, loader = configs[(k + r) % len(configs)]
                run_dir = Path(tmp) / f"run-{r}-{workers}-{loader}"
                load = load_average()
                cmd = [sys.executable, __file__, "--steps", str(args.steps),
                       "--one", str(manifest), str(run_dir), str(workers), loader]
                done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
                if done.returncode:
                    sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
                run = {"round": r, **json.loads(done.stdout.strip().splitlines()[-1]), "load_average_before": load}
                runs.append(run)
                print(f"round {r}: workers {workers}, {loader} loader: {run['wall_seconds']:.1f} s wall, "
                      f"{run['user_seconds']:.1f} s user, {run['sys_seconds']:.1f} s sys "
                      f"({run['epochs']} epochs)", flush=True)

    summary = []
    for workers, loader in configs:
        mine = [x for x in runs if x["workers"] == workers and x["loader"] == loader]
        summary.append({"workers": workers, "loader": loader,
                        **{f"median_{k}": round(median([x[k] for x in mine]), 2)
                           for k in ("wall_seconds", "user_seconds", "sys_seconds")}})
    # The loader changes how features reach the trainer, never which: same losses, step for step.
    same = len({json.dumps(x["losses"]) for x in runs}) == 1
    out = {
        "benchmark": "small-data training: trainer wall and CPU time, "
                     "loader workers old (per epoch) vs new (persistent)",
        "machine": {**info, "load_average_end": load_average()},
        "setup": {"model": "tiny preset, from scratch, fp32", "steps": args.steps, "corpus": corpus,
                  "batching": "data defaults (max_frames 20000): the whole corpus in one batch, an epoch a step",
                  "spec_augment": "on (defaults)", "rounds": args.rounds,
                  "timing": "Trainer.run() in a fresh process each; user/sys: that process and its loader workers"},
        "summary": summary,
        "identical_losses_across_loaders_and_workers": same,
        "runs": [{k: v for k, v in x.items() if k != "losses"} | {"final_loss": x["losses"][-1]} for x in runs],
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        from engine.fileio import write_json_atomic

        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out, out)


if __name__ == "__main__":
    main()
