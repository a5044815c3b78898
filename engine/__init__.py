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
