"""Parcero's engine: audio, text, models, decoding, data and training.

Nothing under ``engine`` imports Qt; the GUI in ``app`` talks to it through
plain function calls (in a worker process) and picklable messages.
"""

import os

__version__ = "0.1.0"

# OpenMP threads that wait for work by spinning for long (libgomp's default: 300,000 turns, and
# without end under OMP_WAIT_POLICY=ACTIVE) steal the CPU from everything else on a desktop: the
# GUI, a second engine job, DataLoader workers. With the machine shared, training a tiny model ran
# 5-30x slower. Waiting passively (sleeping at once) fixed that, but every small kernel of a
# decoding step then paid for waking a sleeping thread: Whisper base's beam-5 step took 45 ms
# against 35 ms, a quarter of long-form decoding. So threads spin briefly (20,000 turns, tens of
# microseconds: the gap between a step's kernels) and then sleep: the speed of spinning, no CPU
# taken while idle (docs/benchmarks.md). It only takes effect if set before torch starts its
# thread pool, which importing `engine` first guarantees; values the user set win.
os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

# MKL, torch's matrix library on x86, may sum in another order when a buffer lands on another
# memory alignment, which differs from run to run: a near-tie token ("Y" or "y") could then flip
# between two runs of the same command. Strict conditional numerical reproducibility makes its
# results independent of alignment (measured: at most a few per cent of CPU time on Whisper base,
# docs/benchmarks.md).
# Like the line above it only works before torch loads MKL; a value the user set wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
