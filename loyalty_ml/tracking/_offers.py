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
from loyalty_ml.features import FeatureConfig, build_features
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
) -> tuple[pd.DataFrame, pd.Series, pd.Series, np.ndarray]:
    from loyalty_ml.features.responses import campaign_responses

    frames, ys, ts, keys = [], [], [], []
    key = C.CAMPAIGN_ID if C.CAMPAIGN_ID in campaigns.columns else C.SENT_AT
    for position, (_, rows) in enumerate(campaigns.groupby(key, sort=True)):
        sent = pd.Timestamp(rows[C.SENT_AT].min())
        X = build_features(tx, as_of=sent, customers=customers, campaigns=campaigns, config=config)
        rows = rows.loc[rows[C.CUSTOMER_ID].isin(X.index).to_numpy()]
        if len(rows) == 0:
            continue
        frames.append(X.loc[rows[C.CUSTOMER_ID].to_numpy()].reset_index(drop=True))
        ys.append(campaign_responses(rows, tx, window_days=window_days).to_numpy())
        ts.append(rows[C.OFFER_ID].astype("str").to_numpy())
        keys.append(np.full(len(rows), position))
    if not frames:
        raise DataError(
            "train_and_register: no campaign row belongs to a customer with purchase history before "
            "the send date; the uplift model has nothing to learn from."
        )
    X_all = pd.concat(frames, ignore_index=True)
    return (
        X_all,
        pd.Series(np.concatenate(ys), index=X_all.index),
        pd.Series(np.concatenate(ts), index=X_all.index),
        np.concatenate(keys),
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
        tx, closed, customers=customers, config=config, window_days=window_days
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
