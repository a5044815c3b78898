"""Where the user's files go: the data folder and the folders inside it; where the shipped models are.

The **data folder** is platformdirs' user data folder (``~/.local/share/Parcero`` on
Linux), unless ``PARCERO_DATA_DIR`` names another one: Preferences' data folder sets
it (in the window's process, and so in the engine processes it starts), a person can
set it for a portable install, and the tests set it so that nothing lands among the
user's own files. It holds::

    models/       imported and default models, one folder each (engine.models.catalog)
    runs/         training runs the window starts
    recordings/   what the microphone recorded
    downloads/    official checkpoints while they download
    logs/         logs and crash reports, only when PARCERO_DATA_DIR is set

Shipped files (bundled models, samples) are :mod:`engine.resources`' business;
:func:`bundled_models_dir` is re-exported here so that a caller that lists models
needs one module. Every function reads the environment when called, so a data
folder changed in Preferences takes effect at once. Nothing here imports torch or Qt.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.resources import bundled_models_dir

__all__ = ["DATA_DIR_ENV", "bundled_models_dir", "data_dir", "default_data_dir", "downloads_dir", "logs_dir",
           "recordings_dir", "runs_dir", "user_models_dir"]

DATA_DIR_ENV = "PARCERO_DATA_DIR"
APP_NAME = "Parcero"  # platformdirs' application and author name


def default_data_dir() -> Path:
    """The user data folder (platformdirs), where models, runs and recordings go when none is set."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, APP_NAME))


def data_dir() -> Path:
    """``PARCERO_DATA_DIR`` (set by Preferences' data folder, or by the user), else :func:`default_data_dir`."""
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(env).expanduser() if env else default_data_dir()


def user_models_dir() -> Path:
    """The user's models, one folder each: ``<data folder>/models``."""
    return data_dir() / "models"


def runs_dir() -> Path:
    """Where the window puts training runs unless told otherwise: ``<data folder>/runs``."""
    return data_dir() / "runs"


def recordings_dir() -> Path:
    """Where the microphone's recordings go unless told otherwise: ``<data folder>/recordings``."""
    return data_dir() / "recordings"


def downloads_dir() -> Path:
    """Official checkpoints while ``parcero models download`` fetches them: ``<data folder>/downloads``."""
    return data_dir() / "downloads"


def logs_dir() -> Path:
    """Logs and crash reports: ``$PARCERO_DATA_DIR/logs`` when it is set, else platformdirs' user log folder.

    Not inside :func:`default_data_dir`: without the variable, logs go where the platform keeps logs.
    """
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser() / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, APP_NAME))
