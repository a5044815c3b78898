"""Settings for every test: offscreen Qt, few threads, fixed seeds.

Models are built on the CPU; tests in test_cuda.py also run on a GPU when one is present.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Waiting OpenMP threads sleep instead of spinning: with spawned engine workers and
# other processes sharing two cores, spinning threads slowed tiny-model steps 30-fold.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Models a test imports (the default Whisper base included) land in a folder of the test session's,
# never among the user's own (engine.paths.data_dir).
os.environ["PARCERO_DATA_DIR"] = tempfile.mkdtemp(prefix="parcero-test-data-")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))

OVERFIT_TEXTS = [
    "¿Qué pasó?",
    "señor Núñez",
    "¡El pingüino!",
    "comió ñoquis",
    "el miércoles",
    "sí, año",
]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def overfit_model():
    """A tiny model trained once per session to transcribe OVERFIT_TEXTS exactly (tone speech)."""
    from tests.helpers import overfit_tiny_model

    torch.manual_seed(0)
    model, tokenizer, fc, loss = overfit_tiny_model(OVERFIT_TEXTS, steps=200)
    return model, tokenizer, fc, loss


@pytest.fixture(scope="session")
def saved_model_dir(overfit_model, tmp_path_factory):
    """The overfit model saved as a Parcero model folder."""
    from engine.speech_transformer.files import save_model

    model, tokenizer, fc, _ = overfit_model
    path = tmp_path_factory.mktemp("models") / "tonos-es"
    save_model(path, model, tokenizer, fc, metadata={"name": "tonos-es", "note": "test fixture"})
    return path
