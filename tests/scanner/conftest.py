"""Fixtures for the scanner tests: a fake clock, the real decoders, seeded frames."""

from __future__ import annotations

import numpy as np
import pytest

from scanner.cascade import Cascade, make_cascade
from scanner.decoders import make_decoder


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240801)


@pytest.fixture(scope="session")
def default_cascade() -> Cascade:
    return make_cascade(make_decoder("auto"))
