"""How live transcription behaves: torch-free, so the window and the protocol import it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.live.policy import DEFAULT_MARGIN, make_policy


# A live pass's beam. The rows of a beam go through the model together, and a pass decodes only the words
# not yet final (the rest is a forced prefix), so beam 5 costs little: a pass's median 0.65 s against 0.44 s
# with beam 2, on the 10-minute file (docs/live.md).
LIVE_BEAM_SIZE = 5


@dataclass(frozen=True)
class LiveOptions:
    policy: str = "auto"  # "alignatt", "agreement" (LocalAgreement-2) or "auto" (the family's), engine.live.policy
    margin: float = DEFAULT_MARGIN  # alignatt: seconds a word must end before the audio received ends
    min_update_seconds: float = 0.5  # new audio that starts the next pass
    trim_seconds: float = 10.0  # a longer buffer is cut at the end of its last committed word
    max_buffer_seconds: float = 25.0  # Whisper reads 30 s at most; past this, words are committed by force
    prompt_chars: int = 200  # committed text given to Whisper as "what came before"
    behind_seconds: float = 4.0  # a pass longer than this: the machine cannot keep up; say so, degrade

    def check(self) -> None:
        """ValueError naming the field when an option is unusable."""
        make_policy(self.policy, self.margin)
        for name in ("min_update_seconds", "trim_seconds", "max_buffer_seconds", "behind_seconds"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"live option {name} must be a positive number of seconds, got {value}")
        if self.trim_seconds >= self.max_buffer_seconds:
            raise ValueError(f"live option trim_seconds ({self.trim_seconds}) must be less than "
                             f"max_buffer_seconds ({self.max_buffer_seconds})")
        if self.max_buffer_seconds > 30:
            raise ValueError(f"live option max_buffer_seconds must be 30 or less, got {self.max_buffer_seconds}")
