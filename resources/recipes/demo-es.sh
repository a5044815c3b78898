#!/usr/bin/env bash
# Rebuild the bundled demo model from nothing: synthesise, train, evaluate.
# Run from the repository root after `make test` (or `make run`) has created .venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
PARCERO=${PARCERO:-.venv/bin/parcero}
export PYTHONPATH=$PWD
OUT=build/demo-es

# 1. Synthetic Spanish speech, half female and half male voices, light noise.
$PARCERO data synth --out "$OUT/train" --utterances 3000 --seed 1 --noise 15 40
$PARCERO data synth --out "$OUT/dev" --utterances 200 --seed 2 --noise 15 40
$PARCERO data synth --out "$OUT/test" --utterances 300 --seed 3 --noise 15 40

# 2. Train (CPU is enough: about an hour on 2 free cores; a GPU takes minutes).
$PARCERO train --config resources/recipes/demo-es.toml "$@"

# 3. Measure on the held-out synthetic set (sentences also in training removed).
.venv/bin/python resources/recipes/held_out.py "$OUT/train/manifest.jsonl" "$OUT/test/manifest.jsonl" "$OUT/test/held-out.jsonl"
$PARCERO eval --model "$OUT/run/best" --manifest "$OUT/test/held-out.jsonl" --json "$OUT/eval-synthetic.json"
if [ -d ../shared/data/cv-es-sample ]; then
  $PARCERO data import ../shared/data/cv-es-sample --out "$OUT/cv-es-sample.jsonl"
  $PARCERO eval --model "$OUT/run/best" --manifest "$OUT/cv-es-sample.jsonl" --json "$OUT/eval-cv-es-sample.json"
fi
# 4. Ship it: the model folder with its card, and a few held-out recordings as samples.
.venv/bin/python resources/recipes/model_card.py "$OUT/run" "$OUT/eval-synthetic.json" \
  $( [ -f "$OUT/eval-cv-es-sample.json" ] && echo "$OUT/eval-cv-es-sample.json" ) \
  --out resources/models/demo-es --device "${DEMO_DEVICE:-CPU}"
.venv/bin/python resources/recipes/pick_samples.py "$OUT/test/held-out.jsonl" resources/samples 4
