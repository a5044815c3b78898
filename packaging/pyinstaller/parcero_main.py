"""Entry point of the PyInstaller build: the ``parcero`` command, frozen.

The GUI's engine runs in a child process started with ``spawn``; in a frozen
build that child is this same executable started again with multiprocessing's
own arguments, which ``freeze_support`` recognises and turns into the worker.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from engine.cli import main

    sys.exit(main())
