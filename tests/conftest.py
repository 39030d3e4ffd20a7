"""Shared test setup: Qt runs offscreen; hypothesis runs without deadlines (CI is noisy)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "torchwright", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("torchwright")
