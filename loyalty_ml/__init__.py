"""loyalty_ml: churn, uplift and offer decisions for loyalty programmes.

The package follows the flow of the data::

    schema (contracts) -> features (features, labels, boundaries, segments)
      -> models (churn, uplift) -> policy (triggers, offers)
      -> evaluation (metrics, fairness) and kpis -> tracking (MLflow, scoring, CLI)

Public names are imported lazily, so ``import loyalty_ml`` stays fast and has no side effects.

Examples
--------
>>> import loyalty_ml as lml
>>> data = lml.datasets.simulate(n_customers=500, seed=0)      # doctest: +SKIP
>>> X = lml.build_features(data.transactions, as_of="2024-06-30")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# a library logs and the application configures: silent unless the application adds a handler
logging.getLogger(__name__).addHandler(logging.NullHandler())

# defining module -> public names it contributes to the top-level namespace
_EXPORTS: dict[str, tuple[str, ...]] = {
    "loyalty_ml.exceptions": (
        "LoyaltyMLError",
        "SchemaError",
        "DataError",
        "DataQualityWarning",
        "LeakageError",
        "ConfigError",
        "PolicyError",
        "TrackingError",
        "NotFittedError",
        "ModelNotFitted",
    ),
    "loyalty_ml.schema": (
        "ColumnMap",
        "CleaningReport",
        "cleaning_report",
        "validate_transactions",
        "validate_customers",
        "validate_offers",
        "validate_campaigns",
        "validate_events",
    ),
    "loyalty_ml.datasets": ("LoyaltyData", "simulate"),
    "loyalty_ml.features": (
        "Boundaries",
        "FeatureConfig",
        "build_features",
        "churn_labels",
        "estimate_boundaries",
        "experiment_table",
        "rfm_edges",
        "rfm_segments",
        "segment_migration",
        "training_table",
    ),
    "loyalty_ml.features.responses": ("campaign_responses",),
    "loyalty_ml.models.churn": ("ChurnModel",),
    "loyalty_ml.models.uplift": ("UpliftModel",),
    "loyalty_ml.evaluation.uplift_metrics": (
        "plot_uplift_curves",
        "policy_value",
        "qini_auc_score",
        "qini_curve",
        "uplift_at_k",
        "uplift_auc_score",
        "uplift_curve",
    ),
    "loyalty_ml.evaluation.fairness": ("FairnessLimits", "FairnessReport", "fairness_report"),
    "loyalty_ml.evaluation.gate": ("GateDecision", "check_promotion"),
    "loyalty_ml.models.tuning": ("tune_churn_model",),
    "loyalty_ml.models._uplift_propensity": ("PoorOverlapWarning",),
    "loyalty_ml.tracking.drift": ("DriftWarning",),
    "loyalty_ml.reporting": ("write_report",),
    "loyalty_ml.policy.catalog": ("Offer", "OfferCatalog"),
    "loyalty_ml.policy.offers": ("choose_offers", "summarize_plan"),
    "loyalty_ml.tracking": ("nightly_sends", "score_customers", "train_and_register"),
    "loyalty_ml.evaluation.churn_metrics": ("ChurnEvaluation", "evaluate_churn"),
    "loyalty_ml.policy.triggers": (
        "TriggerPolicy",
        "threshold_for_capacity",
        "threshold_for_precision",
        "threshold_for_profit",
    ),
}
_LAZY: dict[str, str] = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = (
    "datasets",
    "exceptions",
    "features",
    "kpis",
    "privacy",
    "reporting",
    "schema",
    "tracking",
)

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
    from loyalty_ml import (  # noqa: F401
        datasets,
        exceptions,
        features,
        kpis,
        privacy,
        reporting,
        schema,
        tracking,
    )
    from loyalty_ml.datasets import LoyaltyData, simulate  # noqa: F401
    from loyalty_ml.evaluation.churn_metrics import ChurnEvaluation, evaluate_churn  # noqa: F401
    from loyalty_ml.evaluation.fairness import (  # noqa: F401
        FairnessLimits,
        FairnessReport,
        fairness_report,
    )
    from loyalty_ml.evaluation.gate import GateDecision, check_promotion  # noqa: F401
    from loyalty_ml.evaluation.uplift_metrics import (  # noqa: F401
        plot_uplift_curves,
        policy_value,
        qini_auc_score,
        qini_curve,
        uplift_at_k,
        uplift_auc_score,
        uplift_curve,
    )
    from loyalty_ml.exceptions import (  # noqa: F401
        ConfigError,
        DataError,
        DataQualityWarning,
        LeakageError,
        LoyaltyMLError,
        ModelNotFitted,
        NotFittedError,
        PolicyError,
        SchemaError,
        TrackingError,
    )
    from loyalty_ml.features import (  # noqa: F401
        Boundaries,
        FeatureConfig,
        build_features,
        churn_labels,
        estimate_boundaries,
        experiment_table,
        rfm_edges,
        rfm_segments,
        segment_migration,
        training_table,
    )
    from loyalty_ml.features.responses import campaign_responses  # noqa: F401
    from loyalty_ml.models._uplift_propensity import PoorOverlapWarning  # noqa: F401
    from loyalty_ml.models.churn import ChurnModel  # noqa: F401
    from loyalty_ml.models.tuning import tune_churn_model  # noqa: F401
    from loyalty_ml.models.uplift import UpliftModel  # noqa: F401
    from loyalty_ml.policy.catalog import Offer, OfferCatalog  # noqa: F401
    from loyalty_ml.policy.offers import choose_offers, summarize_plan  # noqa: F401
    from loyalty_ml.policy.triggers import (  # noqa: F401
        TriggerPolicy,
        threshold_for_capacity,
        threshold_for_precision,
        threshold_for_profit,
    )
    from loyalty_ml.reporting import write_report  # noqa: F401
    from loyalty_ml.schema import (  # noqa: F401
        CleaningReport,
        ColumnMap,
        cleaning_report,
        validate_campaigns,
        validate_customers,
        validate_events,
        validate_offers,
        validate_transactions,
    )
    from loyalty_ml.tracking import nightly_sends, score_customers, train_and_register  # noqa: F401
    from loyalty_ml.tracking.drift import DriftWarning  # noqa: F401
