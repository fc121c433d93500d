"""Tracking and serving: MLflow runs, the registered policy model, batch scoring and the demo.

Nothing here talks to MLflow at import time; the tracking URI is resolved when a function that needs it
is called (argument > ``MLFLOW_TRACKING_URI`` > ``sqlite:///mlflow.db`` in the working folder).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it; imported on first use so that importing the package stays light
_LAZY: dict[str, str] = {
    "ProgrammeSummary": "loyalty_ml.tracking.demo",
    "describe_programme": "loyalty_ml.tracking.demo",
    "run_demo": "loyalty_ml.tracking.demo",
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
