#!/usr/bin/env bash
# Issue 22's experiment: train tiny models on men's voices (and on both), with and
# without homologation (VTLP, VTLN, both), and measure the women - men CER gap on
# voices none of them heard. Run from the repository root after `make test` (or
# `make run`) has created .venv; it needs espeak-ng. 54 min on 2 CPU cores: seven
# variants of about 7 min of training each (men-vtln-speaker only with --variants).
#
# Settings: homologation.toml (what every run shares) and homologation-variants.toml
# (voices, sizes, variants). Scratch: build/homologation/ (data, runs, logs, eval
# reports). Result: bench/results/homologation-synth-cpu2.json (test decoding: beam 4,
# CTC weight 0.3; --beam 1 --ctc-weight 0 for greedy).
# Extra arguments go to the driver, e.g. --reuse-data, or a reduced run
# (--steps N --train-utterances N ...), which the JSON then marks "reduced".
# A men-only training set by hand, on train_men's voices (the driver also shortens the sentences):
#   parcero data synth --out DIR --voices es+m3,es-419+m3,es+m6,es-419+m6 --utterances 1200 --noise 20 40
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH=$PWD
exec .venv/bin/python bench/bench_homologation.py "$@"
