"""Copy the trained demo model into resources/models/demo-es with its measured figures.

    python model_card.py RUN_DIR EVAL_SYNTHETIC.json [EVAL_CV.json] --out resources/models/demo-es
        --device "CPU, 2 cores" --hours 1.2

Writes the model folder (weights, config.json with metadata.evaluation, vocab.json)
and README.md, the model card.
"""

import argparse
import json
import shutil
from pathlib import Path

from engine.fileio import write_json_atomic, write_text_atomic

p = argparse.ArgumentParser()
p.add_argument("run", type=Path)
p.add_argument("synthetic", type=Path)
p.add_argument("cv", type=Path, nargs="?")
p.add_argument("--out", type=Path, required=True)
p.add_argument("--device", required=True)
p.add_argument("--hours", type=float, default=0.0,
               help="wall-clock training time (default: from metrics.jsonl, pauses between runs left out)")
a = p.parse_args()

best = a.run / "best"
config = json.loads((best / "config.json").read_text(encoding="utf-8"))
metrics = [json.loads(line) for line in (a.run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
steps = max(r["step"] for r in metrics if r["kind"] == "train")
evals = [r for r in metrics if r["kind"] == "eval"]
if not a.hours:
    times = [r["time"] for r in metrics]
    a.hours = sum(d for d in (b - t for t, b in zip(times, times[1:])) if d < 600) / 3600
best_eval = min(evals, key=lambda r: r["cer"])
synthetic = json.loads(a.synthetic.read_text(encoding="utf-8"))
cv = json.loads(a.cv.read_text(encoding="utf-8")) if a.cv else None


def figures(report):
    return {"cer": round(report["cer"], 4), "wer": round(report["wer"], 4), "utterances": report["utterances"],
            "by_gender": {g: {"cer": round(r["cer"], 4), "wer": round(r["wer"], 4)}
                          for g, r in report["by_gender"].items()}}


evaluation = {"synthetic_held_out": figures(synthetic)}
if cv:
    evaluation["cv_es_sample"] = figures(cv)
a.out.mkdir(parents=True, exist_ok=True)
for name in ("model.safetensors", "vocab.json"):
    shutil.copyfile(best / name, a.out / name)
config["metadata"] = {**config.get("metadata", {}), "name": "demo-es", "evaluation": evaluation,
                      "trained_steps": steps, "best_step": best_eval["step"], "device": a.device,
                      "training_hours": round(a.hours, 2)}
write_json_atomic(a.out / "config.json", config)

m = config["model"]
size_mb = (a.out / "model.safetensors").stat().st_size / 2**20


def row(name, r):
    g = r["by_gender"]
    return (f"| {name} | {r['utterances']} | {r['cer']:.1%} | {r['wer']:.1%} | "
            f"{g.get('female', {}).get('cer', float('nan')):.1%} / {g.get('male', {}).get('cer', float('nan')):.1%} |")


card = f"""# demo-es — Parcero's bundled demo model

A tiny Speech-Transformer (d_model {m['d_model']}, {m['n_enc_layers']} encoder and {m['n_dec_layers']} decoder
layers, {size_mb:.1f} MB of float32 weights) trained from nothing on **synthetic** Spanish speech, so that
Parcero transcribes and shows attention the moment it is installed, without a download.

**It knows the synthetic espeak-ng voices it was trained on and little else.** For real recordings import
Whisper (`parcero models import PATH`, see the README) and pick it in the model list.

## Data
`parcero data synth` (espeak-ng voices es / es-419, female f2 f3 f5 linda and male m3 m5 m6 m7, speed and pitch
varied, pink/white noise at 15–40 dB SNR) speaking the built-in sentence generator's Spanish (accents, ñ, ü,
numbers as words): 3000 training utterances (2.7 h, seed 1), 200 dev (seed 2), 300 test (seed 3) of which the
sentences that also occur in training were removed. Transcripts lower-cased, punctuation stripped, accents kept.

## Training
`bash resources/recipes/demo-es.sh` with `resources/recipes/demo-es.toml`: joint CTC-attention loss (CTC weight
0.3), Adam with Vaswani et al.'s schedule (warm-up 1000), SpecAugment, 80-second batches, {steps} steps;
the best dev CER was at step {best_eval['step']} ({best_eval['cer']:.1%}). Device: {a.device};
wall time {a.hours:.1f} h.

## Measured (greedy decoding, `parcero eval`)

| Test set | Utterances | CER | WER | CER female / male |
|---|---|---|---|---|
{row("synthetic, held-out sentences", evaluation["synthetic_held_out"])}
"""
if cv:
    card += row("cv-es-sample (real Common Voice speech)", evaluation["cv_es_sample"]) + "\n"
    card += ("\nThe real-speech figure is the honest one: a model that has only heard synthetic voices does not "
             "understand people. That is what Whisper is for.\n")
write_text_atomic(a.out / "README.md", card)
print(card)
