"""The log files both processes write: the GUI's parcero.log and the engine's engine.log, side by side.

The GUI chooses the folder (``app.logs``) and tells the engine process through
``PARCERO_LOG_DIR``, which the worker reads when it starts; both rotate alike.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_DIR_ENV = "PARCERO_LOG_DIR"  # set by the GUI before it starts the engine: the worker writes engine.log there
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s]: %(message)s"
MAX_LOG_BYTES = 1_000_000
LOG_BACKUPS = 3  # NAME.log.1 ... .3: a few MB at most


def rotating_file_handler(path: Path, level: int = logging.INFO) -> logging.Handler:
    """A rotating, UTF-8 handler for ``path`` in Parcero's format; raises OSError when it cannot be opened."""
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(level)
    return handler
