"""Opening the window does not load torch: the engine process does (about a second saved at every start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_window_loads_neither_torch_nor_a_model_family():
    code = ("import json, sys, app.main_window; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchaudio') "
            "or m.startswith(('engine.worker', 'engine.speech_transformer.model', 'engine.whisper.model')))))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"the window's import pulls in {loaded[:5]}"
