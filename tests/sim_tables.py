"""Shared test helper: the simulator's tables, validated, with features, a stacked training table
and an experiment table (what several audits start from)."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

import loyalty_ml as lml


def simulated_tables(n_customers: int, *, n_cutoffs: int, seed: int = 0) -> dict[str, Any]:
    """Validated simulator tables and the feature tables built from them.

    Keys: ``data`` (the simulation), ``tx``, ``customers``, ``people`` (customers as columns),
    ``offers``, ``campaigns``, ``X`` (features at 2024-07-01), ``X_train`` / ``y_train``
    (``n_cutoffs`` cutoffs 45 days apart up to 2024-04-01, 90-day horizon) and ``X_exp`` /
    ``y_exp`` / ``t_exp`` (30-day responses to the campaigns).
    """
    data = lml.datasets.simulate(n_customers=n_customers, seed=seed)
    tx = lml.validate_transactions(data.transactions)
    customers = lml.validate_customers(data.customers)
    offers = lml.validate_offers(data.offers)
    campaigns = lml.validate_campaigns(data.campaigns, offers=offers)
    people = customers.reset_index()
    X = lml.build_features(tx, as_of="2024-07-01", customers=people, campaigns=campaigns)
    X_train, y_train = lml.training_table(
        tx,
        cutoffs=pd.date_range(end="2024-04-01", periods=n_cutoffs, freq="45D"),
        horizon_days=90,
        customers=people,
        campaigns=campaigns,
    )
    with warnings.catch_warnings():
        # the levels are counted at the first campaign; of 200 simulated customers, its 71 hold 6
        # silver and 6 gold tiers, pooled into a tier of basic or "(rare)": rightly warned of
        warnings.filterwarnings(
            "ignore", r"customers columns \['tier'\] keep at most one level", lml.DataQualityWarning
        )
        X_exp, y_exp, t_exp = lml.experiment_table(tx, campaigns, window_days=30, customers=people)
    return {
        "data": data,
        "tx": tx,
        "customers": customers,
        "people": people,
        "offers": offers,
        "campaigns": campaigns,
        "X": X,
        "X_train": X_train,
        "y_train": y_train,
        "X_exp": X_exp,
        "y_exp": y_exp,
        "t_exp": t_exp,
    }
