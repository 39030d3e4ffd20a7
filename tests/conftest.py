"""Shared test setup: Qt runs offscreen; hypothesis runs without deadlines (CI is noisy)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "torchwright", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("torchwright")
