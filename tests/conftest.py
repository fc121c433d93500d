"""Shared fixtures: where the real data lives, and a skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run of `make test` (seeded by a hash of each test,
# not at random), so that CI passes or fails on the code, not on the draw. `make fuzz` runs them
# again with fresh random draws, round after round, to look for new failing cases; a case it finds
# is pinned in its test as an `@example` once fixed.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("fuzz", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online_retail_ii" / "online_retail_ii_2009_2010.parquet"
HILLSTROM = SHARED_DATA / "hillstrom" / "hillstrom.csv.gz"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (../shared/data is absent on this machine)")
    return path


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    return _require(ONLINE_RETAIL)


@pytest.fixture(scope="session")
def hillstrom_path() -> Path:
    return _require(HILLSTROM)
