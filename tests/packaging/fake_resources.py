"""A stand-in for the shipped resources: a tiny demo model and one sample, in a folder of the real layout.

Tests point ``PARCERO_RESOURCES_DIR`` at it (or copy it into a source tree to build a
wheel), so they work before the real demo model and samples exist, and keep
working the same way after.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.audio import save_wav
from engine.resources import DEMO_MODEL, SAMPLES_MANIFEST
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech

SAMPLE_TEXT = OVERFIT_TEXTS[1]  # "señor Núñez": the session's tiny model transcribes it exactly


def make_resources(folder: Path, model_dir: Path, samples: int = 1) -> Path:
    """Write ``models/demo-es`` (a copy of ``model_dir``) and ``samples/`` with a manifest into ``folder``.

    The first sample says :data:`SAMPLE_TEXT`; more say the next fixture texts.
    Returns ``folder``.
    """
    shutil.copytree(model_dir, folder / "models" / DEMO_MODEL)
    sample_dir = folder / "samples"
    sample_dir.mkdir(parents=True)
    lines = []
    for i in range(samples):
        text = OVERFIT_TEXTS[(1 + i) % len(OVERFIT_TEXTS)]
        name = f"muestra-{i + 1:02d}.wav"
        audio = tone_speech(text, seed=1 + i)
        save_wav(sample_dir / name, audio, SR)
        lines.append({"id": f"muestra-{i + 1:02d}", "audio": name, "duration": round(len(audio) / SR, 3),
                      "text": text, "speaker": "tonos", "gender": "female"})
    (sample_dir / SAMPLES_MANIFEST).write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return folder
