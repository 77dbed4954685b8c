"""Suite-wide settings: Qt offscreen, hypothesis profiles, tests/helpers importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# tests/helpers holds plain modules shared by several directories (pg_helpers, loopback_proxy, ...)
_HELPERS = str(Path(__file__).resolve().parent / "helpers")
if _HELPERS not in sys.path:
    sys.path.insert(0, _HELPERS)

# CI is reproducible: the same examples every run, no deadline flakiness on a
# loaded 2-core machine.  Locally, hypothesis explores freely.
settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
