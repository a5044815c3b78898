"""Lengths and times as a person reads them on a recording: 4:09, 1:05:09, 4:09.5."""

from __future__ import annotations


def clock(seconds: float, decimals: int = 0) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` from one; ``decimals`` digits of the seconds (0: whole seconds)."""
    seconds = max(0.0, float(seconds))
    scale = 10 ** decimals
    total = round(seconds * scale) / scale  # 59.96 s reads 1:00.0, never 0:60.0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    width = 2 if decimals == 0 else 3 + decimals
    secs_text = f"{secs:0{width}.{decimals}f}"
    return f"{int(hours)}:{int(minutes):02d}:{secs_text}" if hours else f"{int(minutes)}:{secs_text}"
