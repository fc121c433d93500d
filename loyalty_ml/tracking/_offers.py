"""The offer half of training: the uplift model on past randomised campaigns, and its backtest.

Each campaign row becomes one training row: the customer's features as of the send date (only what
was known then), the arm it was randomised to, and whether it bought within the response window. The
latest campaign is the backtest (fit on the earlier ones, Qini AUC per arm on it); the registered
model is then fitted on all campaigns whose response window closed before ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import DataError
from loyalty_ml.features import FeatureConfig
from loyalty_ml.schema import columns as C

__all__ = ["OfferTraining", "train_offer_model"]


@dataclass(frozen=True)
class OfferTraining:
    """Fitted uplift model and catalog, backtest metrics (Qini AUC per arm) and the Qini plot."""

    uplift_model: Any
    catalog: Any
    metrics: dict[str, float]
    figure: Any | None
    n_rows: int
    n_campaigns: int


def _experiment_rows(
    tx: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    customers: pd.DataFrame | None,
    config: FeatureConfig,
    window_days: int,
    as_of: pd.Timestamp,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, np.ndarray]:
    """The experiment table of ``campaigns`` and each row's campaign number (0 = the earliest)."""
    from loyalty_ml.features.experiments import experiment_table

    rows = campaigns.reset_index(drop=True)
    X, y, t = experiment_table(
        tx,
        rows,
        window_days=window_days,
        customers=customers,
        config=config,
        observation_end=as_of,  # every transaction before as_of is known
        progress=False,
    )
    if len(X) == 0:
        raise DataError(
            "train_and_register: no campaign row belongs to a customer with purchase history before "
            "the send date; the uplift model has nothing to learn from."
        )
    key = C.CAMPAIGN_ID if C.CAMPAIGN_ID in rows.columns else C.SENT_AT
    number = pd.factorize(rows.loc[X.index, key], sort=True)[0]
    return (
        X.reset_index(drop=True),
        y.reset_index(drop=True),
        t.reset_index(drop=True),
        np.asarray(number),
    )


def train_offer_model(
    tx: pd.DataFrame,
    *,
    campaigns: pd.DataFrame,
    offers: pd.DataFrame,
    customers: pd.DataFrame | None,
    config: FeatureConfig,
    as_of: pd.Timestamp,
    window_days: int,
    feature_names: list[str],
    random_state: int,
    uplift_params: dict[str, Any] | None = None,
) -> OfferTraining:
    """Fit the uplift model on the campaigns whose response window closed before ``as_of``."""
    from loyalty_ml.evaluation.uplift_metrics import plot_uplift_curves, qini_auc_score
    from loyalty_ml.models.uplift import UpliftModel
    from loyalty_ml.policy.catalog import OfferCatalog

    catalog = OfferCatalog.from_frame(offers)
    closed = campaigns.loc[
        (campaigns[C.SENT_AT] + pd.Timedelta(days=window_days) <= as_of).to_numpy()
        & campaigns[C.CUSTOMER_ID].isin(tx[C.CUSTOMER_ID]).to_numpy()
    ]
    X, y, t, key = _experiment_rows(
        tx, closed, customers=customers, config=config, window_days=window_days, as_of=as_of
    )
    X = X[feature_names]
    params = {"random_state": random_state, **(uplift_params or {})}
    metrics: dict[str, float] = {}
    figure = None
    last = key == key.max()
    if key.max() >= 1 and (~last).sum() > 0:
        backtest = UpliftModel(**params).fit(X.loc[~last], y.loc[~last], treatment=t.loc[~last])
        effects = backtest.predict_effects(X.loc[last])
        qini = qini_auc_score(y.loc[last].to_numpy(), t.loc[last].to_numpy(), effects)
        if isinstance(qini, pd.Series):
            metrics.update({f"backtest_qini_auc_{arm}": float(v) for arm, v in qini.items()})
            metrics["backtest_qini_auc_mean"] = float(qini.mean())
        else:
            metrics["backtest_qini_auc_mean"] = float(qini)
        figure = plot_uplift_curves(y.loc[last].to_numpy(), t.loc[last].to_numpy(), effects)
    model = UpliftModel(**params).fit(X, y, treatment=t)
    metrics["uplift_training_rows"] = float(len(X))
    metrics["uplift_campaigns"] = float(key.max() + 1)
    return OfferTraining(model, catalog, metrics, figure, len(X), int(key.max() + 1))
