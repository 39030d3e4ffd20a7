"""Torchwright from a checkout: `python main.py` is the installed `torchwright` command
(the app, or a sub-command: check, export, train, import, presets; see gui/main.py)."""

import sys

from gui.main import main

if __name__ == "__main__":
    sys.exit(main())
