"""A hand-made two-offer policy on 400 customers, shared by the holdout-experiment tests.

Offers ``d5`` and ``d10`` (redemptions cost 1 and 2; purchase rates 20% / 40% / 50% under control,
d5 and d10) and a 20% holdout drawn by a hash of the id; everything else is a parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.features import FeatureConfig
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.models.uplift import UpliftModel
from loyalty_ml.policy.catalog import OfferCatalog
from loyalty_ml.tracking.policy import LoyaltyPolicy


def hand_made_features(n: int = 400) -> pd.DataFrame:
    """Three numeric features of ``n`` customers, ids 1..n."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, n),
            "n_orders": rng.integers(1, 12, n).astype(float),
            "spend": rng.uniform(5, 500, n),
        },
        index=pd.Index(np.arange(1, n + 1), name="customer_id"),
    )


def hand_made_policy(
    features: pd.DataFrame, *, catalog: dict[str, list[Any]] | None = None, **fields: Any
) -> LoyaltyPolicy:
    """The policy of the module docstring; ``catalog`` adds columns to the two offers' catalog
    (e.g. ``{"max_per_month": [1, 5]}``), ``fields`` sets LoyaltyPolicy fields."""
    rng = np.random.default_rng(1)
    churned = (rng.uniform(size=len(features)) < 0.5 + features["recency_days"] / 600).astype(int)
    churn = ChurnModel(n_estimators=20, random_state=0).fit(features, churned)
    t = pd.Series(rng.choice(["control", "d5", "d10"], len(features)), index=features.index)
    bought = rng.uniform(size=len(features)) < 0.2 + 0.2 * (t == "d5") + 0.3 * (t == "d10")
    uplift = UpliftModel(n_estimators=10, random_state=0).fit(
        features, pd.Series(bought.astype(int), index=features.index), treatment=t
    )
    offers = OfferCatalog.from_frame(
        pd.DataFrame(
            {"offer_id": ["d5", "d10"], "cost_per_redemption": [1.0, 2.0], **(catalog or {})}
        )
    )
    return LoyaltyPolicy(
        **{
            "feature_config": FeatureConfig(),
            "feature_names": tuple(features.columns),
            "churn_model": churn,
            "uplift_model": uplift,
            "catalog": offers,
            "value_per_conversion": 50.0,
            "holdout_fraction": 0.2,
            **fields,
        }
    )
