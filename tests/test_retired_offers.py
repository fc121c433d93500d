"""Retired offers: ``max_per_month=0`` keeps an offer's costs (its campaigns are still measured
and still train the offer model) and offers it to nobody, with or without a send history."""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import choose_offers
from loyalty_ml.schema import validate_offers

IDX = pd.Index([1, 2, 3], name="customer_id")
EFFECTS = pd.DataFrame({"d5": [0.10, 0.0, 0.0], "pts": [0.05, 0.0, 0.04]}, index=IDX)
BASELINE = pd.Series([0.1, 0.5, 0.2], index=IDX)


def _catalog(cap: int | None) -> OfferCatalog:
    return OfferCatalog(
        [
            Offer(offer_id="d5", cost_per_redemption=5.0),
            Offer(offer_id="pts", cost_per_redemption=4.0, cost_per_send=0.5, max_per_month=cap),
        ]
    )


@pytest.mark.parametrize("budget", [None, 100.0])
@pytest.mark.parametrize("strategy", ["cheapest_effective", "max_net_value"])
def test_a_retired_offer_is_offered_to_nobody(budget: float | None, strategy: str) -> None:
    kwargs = {"baseline": BASELINE, "value_per_conversion": 40.0, "strategy": strategy}
    live = choose_offers(EFFECTS, _catalog(None), budget=budget, **kwargs)  # type: ignore[arg-type]
    assert "pts" in set(live["offer_id"].dropna())
    plan = choose_offers(EFFECTS, _catalog(0), budget=budget, **kwargs)  # type: ignore[arg-type]
    assert "pts" not in set(plan["offer_id"].dropna())
    assert plan.loc[1, "offer_id"] == "d5"  # the next offer that pays
    # customer 3: only the retired offer paid
    assert pd.isna(plan.loc[3, "offer_id"]) and plan.loc[3, "reason"] == "monthly cap reached"


def test_a_catalog_table_may_retire_an_offer() -> None:
    frame = pd.DataFrame(
        {"offer_id": ["d5", "pts"], "cost_per_redemption": [5.0, 4.0], "max_per_month": [None, 0]}
    )
    assert validate_offers(frame)["max_per_month"].tolist()[1] == 0
    assert OfferCatalog.from_frame(frame)["pts"].max_per_month == 0
