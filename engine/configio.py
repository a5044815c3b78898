"""Typed configuration sections from TOML/JSON dictionaries, with errors that name the key.

Every config class is a dataclass with simple field types (int, float, str, bool,
optionally ``| None``). ``section_from_dict`` refuses unknown keys and wrong
types, naming ``section.key`` and what was expected, so a typo in a TOML file is
an error message instead of a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from engine.errors import ConfigError
from engine.fileio import write_text_atomic

T = TypeVar("T")
_SIMPLE = {"int": int, "float": float, "str": str, "bool": bool}


def _accepts(annotation: Any, value: Any) -> bool:
    if isinstance(annotation, str):
        parts = [p.strip() for p in annotation.split("|")]
        if value is None:
            return "None" in parts
        return any(_accepts(_SIMPLE.get(p, object), value) for p in parts if p != "None")
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(a, value) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in (str, bool):
        return isinstance(value, annotation)
    if origin in (tuple, list):
        return isinstance(value, (list, tuple))
    return True


def section_from_dict(cls: type[T], d: Any, section: str) -> T:
    """Build dataclass ``cls`` from mapping ``d``; ConfigError names ``section.key`` on any problem."""
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise ConfigError(f"[{section}] must be a table of settings, got {type(d).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - set(fields))
    if unknown:
        known = ", ".join(fields)
        raise ConfigError(f"{section}: unknown setting(s) {', '.join(unknown)} (known: {known})")
    values = {}
    for key, value in d.items():
        annotation = fields[key].type
        if not _accepts(annotation, value):
            expected = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
            raise ConfigError(f"{section}.{key}: expected {expected}, got {type(value).__name__} {value!r}")
        if isinstance(value, list):
            value = tuple(value)
        if annotation in ("float", float) and isinstance(value, int):
            value = float(value)
        values[key] = value
    try:
        return cls(**values)
    except ConfigError as e:
        raise ConfigError(f"{section}: {e}") from None
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{section}: {e}") from None


def section_to_dict(obj: Any) -> dict[str, Any]:
    """A config dataclass as a TOML-able dict (None values left out: TOML has no null)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(obj).items() if v is not None}


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file", code="config.missing_file",
                          params={"path": str(path)}) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}", code="config.bad_toml",
                          params={"path": str(path), "reason": str(e)}) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text: {e}", code="config.not_utf8", params={"path": str(path)}) from None


def write_toml(path: str | Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, tomli_w.dumps(data))
