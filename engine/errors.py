"""Exceptions that carry a message fit to show a user.

Every error names the file (or field) it is about and says what is wrong, so
the CLI can print it as is and the GUI can show it in a dialog.

An error a person meets in the window also carries a ``code`` (a stable name
such as ``"audio.unreadable"``) and ``params`` (the file, the numbers): they
cross the process boundary in :class:`engine.protocol.Failed`, and the window
turns them into a sentence in the interface's language (``app.engine_messages``).
The English message stays what the CLI prints and what the window shows for a
code it does not know; :func:`run_guarded` is how a command prints it.
Only the standard library: every engine module may import this one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable


class ParceroError(Exception):
    """Base class for errors caused by the user's input, not by a bug.

    Parameters
    ----------
    message : str
        One line in English, naming the file or field.
    code : str
        Stable name of the kind of error ("audio.unreadable", "model.missing"), or "" for none.
    params : dict or None
        Plain values (str, int, float, None) that the code's sentence names.
    """

    def __init__(self, *args: object, code: str = "", params: dict[str, Any] | None = None):
        super().__init__(*args)
        self.code = code
        self.params = dict(params or {})


class AudioError(ParceroError):
    """An audio file that is missing, unreadable or has unusable samples.

    ``code`` is ``"audio.<kind>"``; ``params`` hold ``path`` (None for samples
    that came without a file), ``problem`` and what ``details`` add.
    """

    # Machine-readable kinds, so callers (validation, importers) need not match message text.
    KINDS = ("missing", "not_a_file", "empty_file", "no_samples", "unreadable", "non_finite", "past_end",
             "too_short", "other")

    def __init__(self, path: str | Path | None, problem: str, kind: str = "other",
                 details: dict[str, Any] | None = None):
        self.path = None if path is None else str(path)
        self.problem = problem
        self.kind = kind
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{problem}", code=f"audio.{kind}",
                         params={"path": self.path, "problem": problem, **(details or {})})


class UnknownCharacterError(ParceroError):
    """Text holds characters that the tokenizer's vocabulary does not."""

    def __init__(self, text: str, chars: list[str]):
        self.text = text
        self.chars = chars
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)
        super().__init__(f"characters not in the vocabulary: {shown} in {text!r}", code="text.unknown_characters",
                         params={"characters": shown})


class ModelFileError(ParceroError):
    """A model directory or file that cannot be loaded.

    ``kind`` (the code is ``"model.<kind>"``): "missing" (no such folder), "not_a_model" (files
    missing: ``details["missing"]``), "bad_config", "bad_weights", "mismatch" (weights and config
    disagree), "too_new", or "broken" for anything else.
    """

    KINDS = ("missing", "not_a_model", "bad_config", "bad_weights", "mismatch", "too_new", "broken")

    def __init__(self, path: str | Path, problem: str, kind: str = "broken", details: dict[str, Any] | None = None):
        self.path = str(path)
        self.problem = problem
        self.kind = kind
        super().__init__(f"{self.path}: {problem}", code=f"model.{kind}",
                         params={"path": self.path, "problem": problem, **(details or {})})


class ConfigError(ParceroError):
    """A configuration value of the wrong type or an unknown key.

    Without a more precise ``code`` it is ``"config.bad_value"`` with the message as ``params["detail"]``.
    """

    def __init__(self, *args: object, code: str = "", params: dict[str, Any] | None = None):
        if not code:
            code, params = "config.bad_value", {"detail": str(args[0]) if args else "", **(params or {})}
        super().__init__(*args, code=code, params=params)


class JobCancelled(Exception):
    """Raised inside a running job (e.g. from a decoding callback) when the user cancelled it."""


def run_guarded(job: Callable[[], int]) -> int:
    """Run a command; user errors become one line on stderr and an exit status, never a traceback.

    ``parcero COMMAND`` (engine.cli) and ``python -m engine.train`` run their work through it.
    """
    try:
        return job()
    except ParceroError as e:
        print(f"parcero: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("parcero: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` or a closed pager: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        if e.errno is None:  # not the machine but a library that failed to load: engine.cli.main names it
            raise
        # The machine, not the input: a full disk, a folder without write permission. Writes are
        # atomic, so nothing half-written is left behind; the user needs the file and the reason.
        where = f"{e.filename}: " if e.filename else ""
        print(f"parcero: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
