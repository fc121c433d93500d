"""The simulator's ground truth: latent traits, churn state over time, and true offer effects."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from loyalty_ml._repr import summary_repr
from loyalty_ml.exceptions import ConfigError, format_examples
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import to_timestamp

__all__ = ["SimulationTruth"]


@dataclass(frozen=True, eq=False)
class SimulationTruth:
    """What really happened in a simulated programme, for checking what models recover.

    Attributes
    ----------
    customers : pandas.DataFrame
        Indexed by ``customer_id``: the latent traits (``purchase_rate`` in orders per week before
        seasonality, ``first_order_dropout`` and ``second_order_dropout`` probabilities,
        ``price_sensitivity``, ``basket_percentile``, ``responsive``, ``responder_type``,
        ``mean_order_margin``), ``first_purchase_at``, ``fade_start`` (when visits start thinning
        towards dropout; NaT when they did not start within the period, or the customer dropped
        out after a first or second order without fading), ``churned_at`` (permanent dropout;
        NaT if still alive at the end), ``churn_reason`` (``after_first_order``,
        ``after_second_order``, ``lifetime`` or NA) and the dormant spell ``dormant_from`` /
        ``dormant_until`` (NaT when the customer never went dormant: a spell drawn to start
        after the dropout or after the period's end did not happen).
    effects : pandas.DataFrame
        Indexed by (``campaign_id``, ``customer_id``) for every customer in every campaign, treated
        or control: ``baseline`` = P(a purchase in the response window | control) and one column per
        ``offer_id`` with the true uplift ``P(purchase | offer) - baseline``.
    response_window_days : int
        Length of the response window after ``sent_at``.
    value_per_conversion : float
        The mean margin of an order in the simulated transactions, the flat value of one extra
        purchase that the benchmarks plan with. The extra orders the offers create are bigger on
        average (responders buy bigger baskets: about 4.8 against 3.4 for double_points and
        early_access at 20,000 customers); ``customers["mean_order_margin"]`` is each customer's
        own.
    """

    customers: pd.DataFrame
    effects: pd.DataFrame
    response_window_days: int
    value_per_conversion: float

    __repr__ = summary_repr

    def _started_before(self, as_of: pd.Timestamp) -> pd.DataFrame:
        return self.customers.loc[self.customers["first_purchase_at"] < as_of]

    def is_churned(self, as_of: object) -> pd.Series:
        """True for customers who had permanently dropped out before ``as_of``.

        Only customers with a first purchase before ``as_of`` are listed (others did not exist yet).
        """
        ts = to_timestamp(as_of)
        rows = self._started_before(ts)
        return (rows["churned_at"] < ts).rename(C.CHURNED)

    def is_active(self, as_of: object) -> pd.Series:
        """True for customers who had not dropped out by ``as_of`` (dormant customers included)."""
        return (~self.is_churned(as_of)).rename("active")

    def is_dormant(self, as_of: object) -> pd.Series:
        """True for customers inside their dormant spell at ``as_of`` (and not dropped out)."""
        ts = to_timestamp(as_of)
        rows = self._started_before(ts)
        inside = (rows["dormant_from"] <= ts) & (rows["dormant_until"] > ts)
        return (inside & ~(rows["churned_at"] < ts)).rename("dormant")

    @property
    def campaign_ids(self) -> list[str]:
        """The campaigns in ``effects``, in date order."""
        return list(self.effects.index.get_level_values(C.CAMPAIGN_ID).unique())

    def campaign_effects(self, campaign_id: str) -> pd.DataFrame:
        """The rows of ``effects`` for one campaign, indexed by ``customer_id``."""
        known = self.campaign_ids
        if campaign_id not in known:
            raise ConfigError(
                f"campaign_id={campaign_id!r} is not a simulated campaign; known campaigns are "
                f"{format_examples(known, total=len(known), limit=10)}."
            )
        rows = self.effects.loc[self.effects.index.get_level_values(C.CAMPAIGN_ID) == campaign_id]
        return rows.droplevel(C.CAMPAIGN_ID)
