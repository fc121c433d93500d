"""Datasets: the loyalty simulator with ground truth, and loaders for public data sets.

``simulate`` builds a synthetic loyalty programme whose true churn and true offer effects are known
(the test bed of every model here); ``load_online_retail_ii`` and ``load_hillstrom`` read the public
data sets kept in ``../shared/data``.
"""

from __future__ import annotations

import importlib
from typing import Any

from loyalty_ml.datasets.hillstrom import load_hillstrom
from loyalty_ml.datasets.online_retail import ONLINE_RETAIL_NON_PURCHASE, load_online_retail_ii

_SIMULATOR = ("LoyaltyData", "SimulationConfig", "SimulationTruth", "simulate")

__all__ = ["ONLINE_RETAIL_NON_PURCHASE", "load_hillstrom", "load_online_retail_ii", *_SIMULATOR]


def __getattr__(name: str) -> Any:
    # The simulator is imported on first use so that loading the loaders stays light.
    if name in _SIMULATOR:
        return getattr(importlib.import_module("loyalty_ml.datasets.simulator"), name)
    raise AttributeError(f"module 'loyalty_ml.datasets' has no attribute {name!r}")
