"""Where the repository's files are, whatever folder the tests run from."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "presets"
