"""Tracking and serving: MLflow runs, the registered policy model, batch scoring and the demo.

Nothing here talks to MLflow at import time; the tracking URI is resolved when a function that needs it
is called (argument > ``MLFLOW_TRACKING_URI`` > ``sqlite:///mlflow.db`` in the working folder).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it; imported on first use so that importing the package stays light
_LAZY: dict[str, str] = {
    "DECISION_COLUMNS": "loyalty_ml.tracking.policy",
    "DriftProfile": "loyalty_ml.tracking.drift",
    "DriftWarning": "loyalty_ml.tracking.drift",
    "LoyaltyPolicy": "loyalty_ml.tracking.policy",
    "LoyaltyPolicyModel": "loyalty_ml.tracking.pyfunc",
    "NUMERIC_DECISION_COLUMNS": "loyalty_ml.tracking.policy",
    "ProgrammeSummary": "loyalty_ml.tracking.demo",
    "PromotionDecision": "loyalty_ml.tracking.registry",
    "SCORE_COLUMNS": "loyalty_ml.tracking.scoring",
    "TrainingResult": "loyalty_ml.tracking.train",
    "decide_promotion": "loyalty_ml.tracking.registry",
    "describe_programme": "loyalty_ml.tracking.demo",
    "hash_frame": "loyalty_ml.tracking.hashing",
    "nightly_sends": "loyalty_ml.tracking.sends",
    "population_stability_index": "loyalty_ml.tracking.drift",
    "resolve_tracking_uri": "loyalty_ml.tracking._mlflow",
    "run_demo": "loyalty_ml.tracking.demo",
    "score_customers": "loyalty_ml.tracking.scoring",
    "train_and_register": "loyalty_ml.tracking.train",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loyalty_ml.tracking' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
