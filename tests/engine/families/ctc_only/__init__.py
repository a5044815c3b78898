"""A third model family, written the way a new one would be: one folder and one registry line.

CTC-only decoding of a Speech-Transformer encoder (greedy: the best label per frame,
repeats merged, blanks dropped), with its own model class and architecture name.
tests/engine/test_backends.py registers it and drives it through the shared paths.
"""
