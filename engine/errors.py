"""Exceptions that carry a message fit to show a user.

Every error names the file (or field) it is about and says what is wrong, so
the CLI can print it as is and the GUI can show it in a dialog.
"""

from __future__ import annotations

from pathlib import Path


class ParceroError(Exception):
    """Base class for errors caused by the user's input, not by a bug."""


class AudioError(ParceroError):
    """An audio file that is missing, unreadable or has unusable samples."""

    # Machine-readable kinds, so callers (validation, importers) need not match message text.
    KINDS = ("missing", "not_a_file", "empty_file", "no_samples", "unreadable", "non_finite", "past_end",
             "too_short", "other")

    def __init__(self, path: str | Path | None, problem: str, kind: str = "other"):
        self.path = None if path is None else str(path)
        self.problem = problem
        self.kind = kind
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{problem}")


class UnknownCharacterError(ParceroError):
    """Text holds characters that the tokenizer's vocabulary does not."""

    def __init__(self, text: str, chars: list[str]):
        self.text = text
        self.chars = chars
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)
        super().__init__(f"characters not in the vocabulary: {shown} in {text!r}")


class ModelFileError(ParceroError):
    """A model directory or file that cannot be loaded."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(ParceroError):
    """A configuration value of the wrong type or an unknown key."""


class JobCancelled(Exception):
    """Raised inside a running job (e.g. from a decoding callback) when the user cancelled it."""
