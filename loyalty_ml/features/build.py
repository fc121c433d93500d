"""``build_features``: one row of point-in-time features per customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml._parallel import run_both
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import ConfigError, DataQualityWarning
from loyalty_ml.features._prepared import Prepared, prepare_transactions, snapshot
from loyalty_ml.features.attributes import (
    PreparedAttributes,
    attribute_features,
    levels_cutoff,
    prepare_attributes,
    warn_pooled_away,
)
from loyalty_ml.features.basket import basket_features, category_margin_rates
from loyalty_ml.features.campaign import PreparedCampaigns, campaign_features, prepare_campaigns
from loyalty_ml.features.channel import channel_features, resolve_channels
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.features.events import PreparedEvents, event_features, prepare_events
from loyalty_ml.features.price import price_features
from loyalty_ml.features.rfm import rfm_features
from loyalty_ml.features.rhythm import rhythm_features
from loyalty_ml.features.trends import trend_features
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import on_data_clock
from loyalty_ml.schema._coerce_time import same_clock, table_clock

__all__ = ["build_features"]


# The optional transactions column each basket, channel and price feature is built from (the
# families of build_features' docstring): what to ask for when a model needs a feature the data lacks.
_SOURCE_COLUMNS = {
    "n_categories": C.CATEGORY,
    "category_entropy": C.CATEGORY,
    "high_margin_share": C.MARGIN,
    "margin_rate": C.MARGIN,
    "n_products": C.PRODUCT_ID,
    "items_per_order": C.QUANTITY,
    "n_channels": C.CHANNEL,
    "n_stores": C.STORE_ID,
    "discount_share": C.DISCOUNT,
    "discount_depth": C.DISCOUNT,
}


def transactions_source(feature: str) -> str | None:
    """The optional transactions column ``feature`` is built from (None: the required columns)."""
    if feature.startswith("channel_share_"):
        return C.CHANNEL
    return _SOURCE_COLUMNS.get(feature)


def check_config(config: object) -> FeatureConfig:
    """``config`` itself, or the default FeatureConfig for None; ConfigError for anything else."""
    if config is None:
        return FeatureConfig()
    if not isinstance(config, FeatureConfig):
        raise ConfigError(
            "The 'config' parameter must be a FeatureConfig or None. "
            f"Got {type(config).__name__} instead."
        )
    return config


@dataclass(frozen=True)
class Inputs:
    """Every input of the feature families, checked and sorted once (shared by all cutoffs)."""

    transactions: Prepared
    config: FeatureConfig
    channels: tuple[str, ...] | None
    attributes: PreparedAttributes | None
    campaigns: PreparedCampaigns | None
    events: PreparedEvents | None = None


def prepare_inputs(
    transactions: object,
    *,
    customers: object,
    campaigns: object,
    config: FeatureConfig,
    events: object = None,
    channels_as_of: pd.Timestamp,
    cutoffs: Sequence[pd.Timestamp],
) -> Inputs:
    """Check and prepare all inputs; channels are those seen before ``channels_as_of`` (or fixed).

    The text attributes' levels, shared by the rows of every cut-off in ``cutoffs``, are counted
    over the customers at the earliest of them with a customer: at a later one they would count
    customers who buy after the earlier rows' cut-off (the future of those rows). The event kinds
    with columns of their own are counted there too, over the events before it.
    """
    prepared = prepare_transactions(transactions)
    if campaigns is not None:
        _warn_if_clocks_differ(transactions, campaigns)
    attributes = None
    if customers is not None:
        attributes = prepare_attributes(
            customers,
            prepared,
            config,
            levels_as_of=levels_cutoff(prepared, cutoffs),
            last_as_of=max(cutoffs),
        )
    inputs = Inputs(
        transactions=prepared,
        config=config,
        channels=resolve_channels(prepared, channels_as_of.value, config),
        attributes=attributes,
        campaigns=None if campaigns is None else prepare_campaigns(campaigns, prepared),
        events=None
        if events is None
        else prepare_events(
            events, prepared, config, levels_as_of=levels_cutoff(prepared, cutoffs)
        ),
    )
    if attributes is not None:
        warn_pooled_away(attributes)
    return inputs


def _warn_if_clocks_differ(transactions: object, campaigns: object) -> None:
    """Warn when the campaigns' sends were put on another clock than the transactions' times
    (``validate_campaigns`` without the ``timezone`` given ``validate_transactions``): a send at
    23:30 in Berlin read as 21:30 UTC counts before an ``as_of`` of 23:00 it came after."""
    sends, purchases = table_clock(campaigns), table_clock(transactions)
    if sends is None or purchases is None or sends == purchases:
        return
    if not isinstance(campaigns, pd.DataFrame) or C.SENT_AT not in campaigns.columns:
        return
    sent = pd.to_datetime(campaigns[C.SENT_AT], errors="coerce")
    if not sent.notna().any():
        return
    if same_clock(sends, purchases, pd.Timestamp(sent.min()), pd.Timestamp(sent.max())):
        return
    warn_user(
        f"build_features: the campaigns' sent_at are on the clock {sends!r} but the transactions' "
        f"timestamps on {purchases!r} (the timezone each was validated with; UTC when none was "
        "given), so every send is off by the difference: near as_of a send made after it can "
        f"count before it. Validate the campaigns with timezone={purchases!r}, as the "
        f"transactions; or, if the transactions' times are local times on {sends!r}, validate "
        f"the transactions with timezone={sends!r}.",
        DataQualityWarning,
    )


def features_at(
    inputs: Inputs, as_of: pd.Timestamp, customers: np.ndarray | None = None
) -> pd.DataFrame:
    """The feature table of ``inputs`` at ``as_of`` (see :func:`build_features`), of every
    customer or of ``customers`` (ids) only: the same rows of the full table at a fraction of the
    cost (each feature is the customer's own, but for the categories' margin rates, which are
    computed over every row)."""
    only = rates = None
    prepared = inputs.transactions
    if customers is not None:
        codes = prepared.customer_ids.get_indexer(pd.Index(pd.unique(np.asarray(customers))))
        only = codes[codes >= 0]
        if C.CATEGORY in prepared.codes and C.MARGIN in prepared.numeric:
            # the one population figure: which categories are high-margin, over every row
            before = prepared.ts < as_of.value
            categories, labels = prepared.codes[C.CATEGORY]
            rates = category_margin_rates(
                categories[before],
                prepared.numeric[C.MARGIN][before],
                prepared.amount[before],
                len(labels),
            )
    snap = snapshot(prepared, as_of.value, only)
    config = inputs.config

    def timing() -> dict[str, np.ndarray]:  # RFM, rhythm and trends
        rfm = rfm_features(snap, config)
        return {
            **rfm,
            **rhythm_features(snap, rfm["recency_days"]),
            **trend_features(snap, config),
        }

    def mix() -> dict[str, np.ndarray]:  # basket, channel and price
        return {
            **basket_features(snap, config, rates),
            **channel_features(snap, inputs.channels),
            **price_features(snap),
        }

    columns: dict[str, np.ndarray | pd.Categorical] = {}
    for part in run_both(timing, mix, rows=len(snap.r_cust)):
        columns.update(part)
    if inputs.campaigns is not None:
        columns.update(campaign_features(snap, inputs.campaigns))
    if inputs.events is not None:
        columns.update(event_features(snap, inputs.events, config))
    if inputs.attributes is not None:
        attributes = attribute_features(snap, inputs.attributes)
        clash = sorted(set(attributes) & set(columns))
        if clash:
            # a customers-table column would silently replace a point-in-time feature with the
            # export's snapshot (the future, in a training table over past cutoffs)
            raise ConfigError(
                f"FeatureConfig.extra_attributes {clash} are names of features computed from the "
                "transactions, campaigns or events; the customers table's columns would replace them. "
                "Rename those columns of customers (e.g. 'crm_spend') or drop them from "
                "extra_attributes."
            )
        columns.update(attributes)
    return pd.DataFrame(columns, index=snap.customer_ids, copy=False)


def build_features(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    config: FeatureConfig | None = None,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Point-in-time features of every customer with a purchase before ``as_of``.

    Only transactions with ``timestamp < as_of`` are read, campaign offers only when ``sent_at <
    as_of``, redemptions only when ``redeemed_at < as_of`` and events only when ``timestamp <
    as_of``. An order is one ``order_id`` of one
    customer when that column exists, otherwise one (customer, timestamp) pair; its time is that of
    its first line.

    Feature families (each present only when its input columns exist, never filled with zeros):

    - RFM (:func:`~loyalty_ml.features.rfm.rfm_features`): ``recency_days``, ``tenure_days``,
      ``n_orders``, ``spend``, ``aov``, and ``n_orders_{w}d``, ``spend_{w}d`` per window;
    - rhythm (:mod:`~loyalty_ml.features.rhythm`): ``ipi_mean``, ``ipi_median``, ``ipi_std``,
      ``ipi_cv``, ``overdue_ratio``, ``days_overdue``;
    - trends (:mod:`~loyalty_ml.features.trends`): ``freq_trend``, ``spend_trend``, ``aov_trend``;
    - basket (``category``, ``margin``, ``product_id``, ``quantity``): ``n_categories``,
      ``category_entropy``, ``high_margin_share``, ``margin_rate``, ``n_products``,
      ``items_per_order``;
    - channel (``channel``, ``store_id``): ``channel_share_<name>``, ``n_channels``, ``n_stores``;
    - price (``discount``): ``discount_share``, ``discount_depth``;
    - campaign (``campaigns`` given): ``offers_received``, ``offers_redeemed``,
      ``redemption_rate``, ``days_since_last_offer``, ``days_since_last_redemption``;
    - events (``events`` given, :mod:`~loyalty_ml.features.events`): per event kind held by
      enough customers (the others pooled as ``event_rare``), ``event_<kind>_{w}d`` per window
      and ``event_<kind>_days_since``; for kinds that carry values, ``event_<kind>_mean_{w}d``
      (the longest window) and ``event_<kind>_last``;
    - attributes (``customers`` given): ``signup_tenure_days``, ``tier``, and what the config opts
      into (``points_balance``, protected attributes, ``extra_attributes``).

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount`` and optional columns), as
        returned by :func:`loyalty_ml.validate_transactions`.
    as_of : str, date or Timestamp
        The cut-off: features use only what happened strictly before it.
    customers, campaigns : DataFrame, optional
        Customer attributes and campaign history.
    config : FeatureConfig, optional
        Windows and options; the defaults when None.
    events : DataFrame, optional
        Engagement and feedback events (``customer_id``, ``timestamp``, ``event``, optional
        ``value``), as returned by :func:`loyalty_ml.validate_events`. A customer without events
        counts 0 of each kind.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), one row per customer; categorical features have
        ``category`` dtype, all others float64.

    Raises
    ------
    SchemaError
        A table misses a needed column or has unusable values.
    ConfigError
        ``as_of`` is not a date, or ``config`` is not a FeatureConfig.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-05"]),
    ...     "amount": [10.0, 30.0, 5.0],
    ... })
    >>> X = build_features(tx, as_of="2024-01-21")
    >>> X.loc[1, ["recency_days", "n_orders", "aov", "ipi_median"]].tolist()
    [10.0, 2.0, 20.0, 10.0]
    >>> X.index.tolist()
    [1, 2]
    """
    config = check_config(config)
    cutoff = on_data_clock(as_of, transactions)
    inputs = prepare_inputs(
        transactions,
        customers=customers,
        campaigns=campaigns,
        config=config,
        channels_as_of=cutoff,
        cutoffs=[cutoff],
        events=events,
    )
    features = features_at(inputs, cutoff)
    ts = inputs.transactions.ts
    if len(features) == 0 and len(ts) and int(ts.min()) >= cutoff.value:
        first = pd.Timestamp(int(ts.min()))  # tz-naive, on the data's clock as cutoff is
        warn_user(
            f"build_features: no customer has a purchase before as_of={cutoff} (only "
            f"transactions with timestamp < as_of are read), so the feature table is empty; the "
            f"transactions start at {first}. Pass an as_of after that date.",
            DataQualityWarning,
        )
    return features
