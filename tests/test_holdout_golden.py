"""Golden holdouts: which customers a release holds out is part of its contract.

A stable holdout is only stable if the next release draws the same customers. Both draws hash
the id's text (pandas' keyed hash), so a change to the key, to the tail of the hash the share is
taken from, to how ids become text or to pandas' hash itself would move the whole control group
while every size and seed test still passed. These tests pin the members for small id ranges; if
one fails after a dependency upgrade, the control groups of live programmes move with it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import Offer, OfferCatalog, choose_offers
from loyalty_ml.tracking.policy import LoyaltyPolicy

#: LoyaltyPolicy's holdout of 10% among customers 1..200 (computed once at session 46 and pinned).
POLICY_HOLDOUT_1_200 = [3, 25, 42, 109, 114, 116, 124, 127, 131, 155, 157, 173, 178, 180, 189, 195]
#: choose_offers(holdout_fraction=0.1, random_state=0) among customers 1..100.
PLAN_HOLDOUT_1_100 = [1, 11, 14, 49, 53, 62, 77, 85, 86, 94]


@pytest.mark.parametrize("dtype", ["int64", "str", "float64"])
def test_served_policy_holds_out_the_same_customers(dtype: str) -> None:
    ids = pd.Index(np.arange(1, 201), name="customer_id").astype(dtype)
    # holdout_mask reads only the policy's holdout_fraction
    mask = LoyaltyPolicy.holdout_mask(SimpleNamespace(holdout_fraction=0.1), ids)  # type: ignore[arg-type]
    assert [int(float(i)) for i in ids[mask]] == POLICY_HOLDOUT_1_200


@pytest.mark.parametrize("dtype", ["int64", "str", "float64"])
def test_offer_plan_holds_out_the_same_customers(dtype: str) -> None:
    ids = pd.Index(np.arange(1, 101), name="customer_id").astype(dtype)
    catalog = OfferCatalog([Offer(offer_id="e", cost_per_send=0.01, cost_per_redemption=0.0)])
    plan = choose_offers(
        pd.DataFrame({"e": 0.1}, index=ids),
        catalog,
        baseline=pd.Series(0.1, index=ids),
        value_per_conversion=10.0,
        holdout_fraction=0.1,
        random_state=0,
    )
    held = plan.index[plan["reason"] == "holdout"]
    assert [int(float(i)) for i in held] == PLAN_HOLDOUT_1_100
