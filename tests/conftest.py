"""Shared test setup: Qt runs offscreen; hypothesis runs without deadlines (CI is noisy)
and, by default, derandomized: every run of the suite tries the same examples, so a
fresh clone passes or fails as CI did. `TORCHWRIGHT_HYPOTHESIS=random python -m pytest`
draws new examples at every run (run it by hand; a counterexample it finds becomes an
`@example` on its test). Decoded image folders are cached in a folder of the run's own,
never in the user's cache.
"""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["TORCHWRIGHT_CACHE_DIR"] = tempfile.mkdtemp(prefix="torchwright-test-cache-")

from hypothesis import HealthCheck, settings

COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("torchwright", derandomize=True, **COMMON)
settings.register_profile("random", **COMMON)
settings.load_profile(os.environ.get("TORCHWRIGHT_HYPOTHESIS", "torchwright"))
