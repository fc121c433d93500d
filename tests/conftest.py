"""Shared fixtures: where the real data lives, and a skip when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

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
