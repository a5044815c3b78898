#!/usr/bin/env bash
# The one command a session runs on a lent GPU machine (docs/benchmarks.md, "GPU check"):
#
#   bash bench/gpu_check.sh [gpu_check.py arguments...]
#
# The machine has the image's Python with PyTorch and CUDA but no network: what it lacks comes in
# build/gpu-carry (written here by bench/gpu_pack.py, carried there). This installs the carried wheels
# into /tmp/site, joins the carried pieces of Whisper base into build/gpu-carry/whisper-base, runs
# bench/gpu_check.py (results in bench/results) and copies the results to $OUT when it is set.
# With a .venv (a machine set up by packaging/bootstrap.sh) that Python is used and nothing is installed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
carry=build/gpu-carry
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import torch' 2>/dev/null; then
    python=.venv/bin/python
else
    python=$(command -v python3)
    shopt -s nullglob
    wheels=("$carry"/*/wheels/*.whl)
    if [ ${#wheels[@]} -gt 0 ]; then
        "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site "${wheels[@]}" || echo "gpu_check.sh: some wheels did not install" >&2
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
    pieces=("$carry"/*/whisper-base/model.bin.[0-9]*)
    if [ ${#pieces[@]} -gt 0 ]; then
        mkdir -p "$carry/whisper-base"
        # pieces are numbered 00, 01, ... across the extra folders: join them in that order
        printf '%s\n' "${pieces[@]}" | awk -F. '{print $NF" "$0}' | sort -n | cut -d' ' -f2- |
            xargs cat >"$carry/whisper-base/model.bin"
        for f in "$carry"/*/whisper-base/{config.json,tokenizer.json,vocabulary.txt}; do cp "$f" "$carry/whisper-base/"; done
    fi
fi
echo "gpu_check.sh: $("$python" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())')" >&2
export PYTHONUNBUFFERED=1
data=()
[ -d "$carry/core/data" ] && data=(--data "$carry/core/data")
"$python" bench/gpu_check.py --out bench/results "${data[@]}" "$@"
status=$?
if [ -n "${OUT:-}" ]; then cp bench/results/gpu-check-* "$OUT"/ 2>/dev/null; fi
exit $status
