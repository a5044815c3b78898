"""Parcero's engine: audio, text, models, decoding, data and training.

Nothing under ``engine`` imports Qt; the GUI in ``app`` talks to it through
plain function calls (in a worker process) and picklable messages.
"""

import os
import sys

__version__ = "0.1.0"

# How OpenMP threads wait for work. Spinning long (libgomp's default: 300,000 turns, and without
# end under OMP_WAIT_POLICY=ACTIVE) steals the CPU from everything else on a desktop: the GUI, a
# second engine job, DataLoader workers; with the machine shared, training a tiny model ran 5-30x
# slower. Sleeping at once (PASSIVE) fixed that, but every small kernel of a decoding step then paid
# for waking a sleeping thread: Whisper base's beam-5 step took 45 ms against 35 ms, a quarter of
# long-form decoding. So a process that decodes (the window's engine, `parcero transcribe`, `live`,
# `eval`) spins briefly (20,000 turns, tens of microseconds: the gap between a step's kernels) and
# then sleeps: the speed of spinning, no CPU taken while idle. A training process sleeps at once:
# with its DataLoader workers on the same cores, even the short spin cost tiny-model training 25-40 %
# of its throughput (docs/benchmarks.md, "Waiting threads"). It only takes effect if set before torch
# starts its thread pool, which importing `engine` first guarantees; values the user set win.
# PARCERO_OMP_DEFAULTS marks the values as ours, so a child process (a training run started by the
# window inherits the window's environment) chooses again for itself.
_trains = sys.argv[1:2] == ["train"] or os.path.basename(sys.argv[0] if sys.argv else "") == "train.py"
if "OMP_WAIT_POLICY" not in os.environ or os.environ.get("PARCERO_OMP_DEFAULTS") == "1":
    os.environ["PARCERO_OMP_DEFAULTS"] = "1"
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE" if _trains else "ACTIVE"
    if _trains:
        os.environ.pop("GOMP_SPINCOUNT", None)
    else:
        os.environ["GOMP_SPINCOUNT"] = "20000"

# MKL, torch's matrix library on x86, may sum in another order when a buffer lands on another
# memory alignment, which differs from run to run: a near-tie token ("Y" or "y") could then flip
# between two runs of the same command. Strict conditional numerical reproducibility makes its
# results independent of alignment (measured: at most a few per cent of CPU time on Whisper base,
# docs/benchmarks.md).
# Like the line above it only works before torch loads MKL; a value the user set wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
