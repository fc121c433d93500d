"""loyalty_ml: churn, uplift and offer decisions for loyalty programmes.

The package follows the flow of the data::

    schema (contracts) -> features (features, labels, boundaries, segments)
      -> models (churn, uplift) -> policy (triggers, offers)
      -> evaluation (metrics, fairness) and kpis -> tracking (MLflow, scoring, CLI)

Public names are imported lazily, so ``import loyalty_ml`` stays fast and has no side effects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    # errors
    "LoyaltyMLError": "loyalty_ml.exceptions",
    "SchemaError": "loyalty_ml.exceptions",
    "DataError": "loyalty_ml.exceptions",
    "LeakageError": "loyalty_ml.exceptions",
    "ConfigError": "loyalty_ml.exceptions",
    "PolicyError": "loyalty_ml.exceptions",
    "TrackingError": "loyalty_ml.exceptions",
    "NotFittedError": "loyalty_ml.exceptions",
    "ModelNotFitted": "loyalty_ml.exceptions",
    # contracts
    "ColumnMap": "loyalty_ml.schema",
    "CleaningReport": "loyalty_ml.schema",
    "cleaning_report": "loyalty_ml.schema",
    "validate_transactions": "loyalty_ml.schema",
    "validate_customers": "loyalty_ml.schema",
    "validate_offers": "loyalty_ml.schema",
    "validate_campaigns": "loyalty_ml.schema",
}
_SUBMODULES = ("datasets", "exceptions", "schema")

__all__ = sorted([*_LAZY, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"loyalty_ml.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'loyalty_ml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from loyalty_ml import datasets, exceptions, schema  # noqa: F401
    from loyalty_ml.exceptions import (  # noqa: F401
        ConfigError,
        DataError,
        LeakageError,
        LoyaltyMLError,
        ModelNotFitted,
        NotFittedError,
        PolicyError,
        SchemaError,
        TrackingError,
    )
    from loyalty_ml.schema import (  # noqa: F401
        CleaningReport,
        ColumnMap,
        cleaning_report,
        validate_campaigns,
        validate_customers,
        validate_offers,
        validate_transactions,
    )
