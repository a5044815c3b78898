"""Parcero's engine: audio, text, models, decoding, data and training.

Nothing under ``engine`` imports Qt; the GUI in ``app`` talks to it through
plain function calls (in a worker process) and picklable messages.
"""

__version__ = "0.1.0"
