"""Where the repository's files are, whatever folder the tests run from."""

from pathlib import Path

from engine.document.presets import presets_folder

ROOT = Path(__file__).resolve().parents[1]
PRESETS = presets_folder()  # the one place that finds them, as the app does
