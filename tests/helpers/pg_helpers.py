"""The PostgreSQL server of the suite (``server.testing.postgres_for_tests``), failed or skipped as CI wants."""

from __future__ import annotations

import os

import pytest

from server.testing import PostgresUnavailable, postgres_for_tests


def postgres_base_url() -> str:
    """A reachable PostgreSQL URL; without one the test fails under ``CI`` (it must run there) and skips elsewhere."""
    try:
        return postgres_for_tests()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
