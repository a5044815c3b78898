"""Parcero's engine: audio, text, models, decoding, data and training.

Nothing under ``engine`` imports Qt; the GUI in ``app`` talks to it through
plain function calls (in a worker process) and picklable messages.
"""

import os

__version__ = "0.1.0"

# OpenMP threads that wait for work by spinning (libgomp's default) steal the CPU from
# everything else on a desktop: the GUI, a second engine job, DataLoader workers. With
# the machine shared, training a tiny model ran 5-30x slower. Passive waiting costs a
# few percent for large kernels, but waking a sleeping thread for each of a decoding
# step's small ones cost more than the work, so those steps run on one thread
# (engine.decode.step_threads; docs/benchmarks.md has the figures). It only takes effect if set
# before torch starts its thread pool, which importing `engine` first guarantees; a
# value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# MKL, torch's matrix library on x86, may sum in another order when a buffer lands on another
# memory alignment, which differs from run to run: a near-tie token ("Y" or "y") could then flip
# between two runs of the same command. Strict conditional numerical reproducibility makes its
# results independent of alignment (measured: at most a few per cent of CPU time on Whisper base,
# docs/benchmarks.md).
# Like the line above it only works before torch loads MKL; a value the user set wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
