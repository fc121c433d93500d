"""A simulated loyalty programme whose true churn and true offer effects are known.

``simulate`` is the test bed of every model in loyalty_ml. The behavioural model, in order:

1. **Acquisition.** First purchases spread over the period, denser early on
   (``acquisition_decay``); sign-up is 0-7 days before the first purchase (never before ``start``).
   Age band, gender, region, income band, consent flags and the tier are drawn at sign-up; the
   tier reflects income and intentions (the latent rate), never later behaviour.
2. **Purchases.** Each customer has a gamma-distributed base rate (rare shoppers to cafe-like
   regulars). Orders follow a Poisson process whose intensity is that rate times a weekday and
   seasonal multiplier (busy weekends, a December peak), simulated by thinning; times of day follow
   an hourly profile. Income and age shift basket size, price sensitivity and channels mildly, so
   fairness audits find something.
3. **Dropout (churn), BG/NBD-like with a frequency boundary.** Right after the first order a
   customer leaves with a personal probability (mean ``first_order_dropout``), after the second
   with another (``second_order_dropout``). Those who stay have a latent lifetime; at its end a
   fade of 60-90 days starts (visits thin out linearly to ``fade_floor`` and baskets shrink) and
   dropout is at the end of the fade. ``truth.customers.churned_at`` is the dropout time: the
   customer's last possible organic purchase. Some customers go **dormant** once (60-200 days at a
   much reduced rate) and then return, so churn is not "no purchase for N days".
4. **Lines.** 1-6 lines per order across 8 categories (staples with low margin rates, private label
   and prepared food with high ones), from per-customer Dirichlet preferences; channel from a
   per-customer mix; store purchases at a home store (sometimes another). Price-sensitive customers
   buy more discounted lines and more private label. ``margin`` = gross value times the category
   margin rate minus the discount.
5. **Campaigns** (randomised experiments, see ``_sim_campaigns``): every ``campaign_interval_days``
   after ``first_campaign_after_days``, a random share of the customers with marketing consent and a
   purchase in the preceding year is split between control and every offer. The exact baseline
   ``p0`` (purchase in the response window without an offer) comes from the intensity integral;
   treated customers without an organic purchase in the window add a real response order with
   probability ``tau_i(o)`` (see ``_sim_offers``), so the true uplift is ``(1 - p0) tau_i(o)``.
   Response orders are the only purchases a dropped-out customer can still make.

Conventions: ``transactions`` holds one row per line, sorted by timestamp, over
``[start, end + 1 day)``; ``store_id`` is ``"S001"``... for store purchases and ``"online"`` for
app, web and delivery orders. ``customers.points_balance`` is a snapshot at the end of the period
(one point per unit of money spent, minus the points each customer has redeemed). Offer costs are
not written into transaction lines; they are in the offers catalog and paid per redemption.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from loyalty_ml._repr import summary_repr
from loyalty_ml.datasets._sim_calendar import day_multipliers, to_clock
from loyalty_ml.datasets._sim_campaigns import CampaignHistory, run_campaigns
from loyalty_ml.datasets._sim_config import SimulationConfig
from loyalty_ml.datasets._sim_customers import (
    AGE_BANDS,
    GENDERS,
    INCOME_BANDS,
    REGIONS,
    TIERS,
    UNIT_PRICE,
    Population,
    draw_population,
)
from loyalty_ml.datasets._sim_lines import build_lines, text_column
from loyalty_ml.datasets._sim_offers import OFFER_IDS, offers_frame
from loyalty_ml.datasets._sim_purchases import CHURN_REASONS, OrganicOrders, simulate_orders
from loyalty_ml.datasets._sim_truth import SimulationTruth
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import to_timestamp

__all__ = ["LoyaltyData", "SimulationConfig", "SimulationTruth", "simulate"]

#: What ``start`` and ``end`` accept.
DateLike = str | date | pd.Timestamp | np.datetime64

_SECONDS_PER_DAY = 86_400
_SEND_HOUR = 9.0 / 24.0
_TOLERANCE = 1e-6  # seconds
_MAX_CUSTOMERS = 50_000_000
_MAX_DAYS = 36_525


@dataclass(frozen=True, eq=False)
class LoyaltyData:
    """The tables of a simulated loyalty programme and its ground truth.

    Attributes
    ----------
    transactions : pandas.DataFrame
        One row per purchase line, sorted by ``timestamp`` (canonical columns and dtypes).
    customers : pandas.DataFrame
        One row per customer: sign-up date, attributes, tier, points balance at the end, consents.
    offers : pandas.DataFrame
        The rewards catalog (``offer_id``, ``name``, ``kind``, costs, ``channel``, ``min_basket``,
        ``max_per_month``).
    campaigns : pandas.DataFrame
        The randomised campaign history, one row per (campaign, customer), control rows included.
    truth : SimulationTruth
        Latent traits, churn state over time and the true effect of every offer.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    offers: pd.DataFrame
    campaigns: pd.DataFrame
    truth: SimulationTruth

    __repr__ = summary_repr


def simulate(
    n_customers: int = 10_000,
    start: DateLike = "2023-01-01",
    end: DateLike = "2024-12-31",
    seed: int = 0,
    *,
    config: SimulationConfig | None = None,
) -> LoyaltyData:
    """Simulate a loyalty programme with exact ground truth (see the module docstring).

    Parameters
    ----------
    n_customers : int
        Number of customers (each makes at least one purchase in the period).
    start, end : date-like
        First and last day of the period (``end`` included).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same tables.
    config : SimulationConfig or None
        Behavioural and campaign parameters (default ``SimulationConfig()``).

    Returns
    -------
    LoyaltyData

    Examples
    --------
    >>> data = simulate(n_customers=200, start="2023-01-01", end="2023-12-31", seed=1)
    >>> data.transactions["customer_id"].nunique()
    200
    """
    config = SimulationConfig() if config is None else config
    if not isinstance(config, SimulationConfig):
        raise ConfigError(
            f"config must be a SimulationConfig or None; got {type(config).__name__}."
        )
    if isinstance(n_customers, bool) or not isinstance(n_customers, int | np.integer):
        raise ConfigError(f"n_customers must be an int >= 1. Got {n_customers!r} instead.")
    if not 1 <= n_customers <= _MAX_CUSTOMERS:
        raise ConfigError(
            f"n_customers must be an int >= 1 (at most {_MAX_CUSTOMERS:,}). Got {n_customers!r} "
            "instead."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be an int >= 0. Got {seed!r} instead.")
    start_ts, end_ts = _parse_date(start, "start"), _parse_date(end, "end")
    if start_ts >= end_ts:
        raise ConfigError(
            f"start must be before end; got start={start_ts.date()} and end={end_ts.date()}."
        )
    if (end_ts.to_pydatetime() - start_ts.to_pydatetime()).days > _MAX_DAYS:
        raise ConfigError(
            f"The simulated period may span at most {_MAX_DAYS:,} days (100 years); got "
            f"start={start_ts.date()} and end={end_ts.date()}."
        )
    n_days = (end_ts - start_ts).days + 1
    send_days = _campaign_days(config, start_ts, n_days)

    rng = np.random.default_rng(seed)
    day_mult = day_multipliers(start_ts, n_days)
    pop = draw_population(rng, int(n_customers), n_days, config)
    orders = simulate_orders(
        rng, pop, day_mult, dorm_factor=config.dormant_rate_factor, fade_floor=config.fade_floor
    )
    organic_seconds = _to_seconds(to_clock(orders.time))
    basket_percentile = _basket_percentile(pop, config)
    history = run_campaigns(
        rng,
        pop,
        orders,
        day_mult,
        [d + _SEND_HOUR for d in send_days],
        organic_clock=organic_seconds / _SECONDS_PER_DAY,
        basket_percentile=basket_percentile,
        config=config,
    )

    customer = np.concatenate([orders.customer, history.response_customer])
    seconds = np.concatenate([organic_seconds, _to_seconds(history.response_time)])
    factor = np.concatenate([orders.basket_factor, np.ones(len(history.response_customer))])
    by_time = np.lexsort((customer, seconds))
    transactions = build_lines(
        rng,
        pop,
        customer=customer[by_time],
        seconds=seconds[by_time],
        basket_factor=factor[by_time],
        start=start_ts,
        config=config,
    )
    order_margin = transactions.groupby(C.ORDER_ID, sort=True)[C.MARGIN].sum().to_numpy()
    order_customer = customer[by_time]
    n_orders = np.bincount(order_customer, minlength=pop.n)
    mean_margin = np.bincount(order_customer, order_margin, minlength=pop.n) / n_orders
    spent = np.bincount(
        transactions[C.CUSTOMER_ID].to_numpy() - 1, transactions[C.AMOUNT].to_numpy(), pop.n
    )
    kept_share = 1.0 - rng.beta(2.0, 3.0, pop.n)

    truth = SimulationTruth(
        customers=_truth_customers(pop, orders, start_ts, n_days, basket_percentile, mean_margin),
        effects=_effects(history, start_ts),
        response_window_days=config.response_window_days,
        value_per_conversion=float(order_margin.mean()),
    )
    return LoyaltyData(
        transactions=transactions,
        customers=_customers(pop, start_ts, np.round(np.floor(spent) * kept_share)),
        offers=offers_frame(),
        campaigns=_campaigns(history, start_ts),
        truth=truth,
    )


def _parse_date(value: object, name: str) -> pd.Timestamp:
    """A simulation bound as a naive day: a zone-aware value keeps its wall-clock date."""
    ts = to_timestamp(value, name=name, keep_zone=True)
    return _wall_clock(ts).normalize()


def _wall_clock(ts: pd.Timestamp) -> pd.Timestamp:
    """``ts`` without its zone, keeping its wall-clock time."""
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _campaign_days(config: SimulationConfig, start: pd.Timestamp, n_days: int) -> list[int]:
    """Send days (days since start); every response window must end within the period."""
    last_day = n_days - config.response_window_days - 1  # a window from 09:00 must fit
    if config.campaign_dates is None:
        days = list(
            range(config.first_campaign_after_days, last_day + 1, config.campaign_interval_days)
        )
        if config.max_campaigns is not None:
            days = days[: config.max_campaigns]
        return days
    # a zoned date keeps its wall-clock date, as start and end do
    days = [(_wall_clock(pd.Timestamp(d)).normalize() - start).days for d in config.campaign_dates]
    outside = [
        d for d, day in zip(config.campaign_dates, days, strict=True) if not 0 <= day <= last_day
    ]
    if outside:
        raise ConfigError(
            f"campaign_dates {outside} fall outside the period: each send date must be on or after "
            f"start and at least response_window_days ({config.response_window_days}) days before "
            "end so that its response window is observed."
        )
    return days


def _to_seconds(days: np.ndarray) -> np.ndarray:
    """Days to whole seconds, rounding down; the tolerance keeps whole seconds exact through floats."""
    return np.floor(days * _SECONDS_PER_DAY + _TOLERANCE).astype(np.int64)


def _timestamps(start: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Days since start (nan/inf = never) to datetime64[ns], floored to whole seconds."""
    finite = np.isfinite(days)
    seconds = _to_seconds(np.where(finite, days, 0.0))
    out = start.to_datetime64().astype("datetime64[ns]") + seconds.astype("timedelta64[s]")
    return np.where(finite, out.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))


def _basket_percentile(pop: Population, config: SimulationConfig) -> np.ndarray:
    """Percentile (0-1) of each customer's expected basket value."""
    prefs = np.diff(pop.category_cum, axis=1, prepend=0.0)
    lines = 1 + (config.max_lines_per_order - 1) * pop.line_prob
    value = lines * (prefs @ UNIT_PRICE)
    ranks = np.argsort(np.argsort(value, kind="stable"), kind="stable")
    return np.asarray(ranks / max(pop.n - 1, 1), dtype=float)


def _customers(pop: Population, start: pd.Timestamp, points: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: np.arange(1, pop.n + 1, dtype=np.int64),
            C.SIGNUP_DATE: start + pd.to_timedelta(pop.signup_day, unit="D"),
            C.AGE_BAND: text_column(pop.age, AGE_BANDS),
            C.GENDER: text_column(pop.gender, GENDERS),
            C.REGION: text_column(pop.region, REGIONS),
            C.INCOME_BAND: text_column(pop.income, INCOME_BANDS),
            C.TIER: text_column(pop.tier, TIERS),
            C.POINTS_BALANCE: points.astype(float),
            C.CONSENT_MARKETING: pop.consent_marketing.astype(bool),
            C.CONSENT_PROFILING: pop.consent_profiling.astype(bool),
        }
    )


def _responder_type(pop: Population, basket_percentile: np.ndarray) -> np.ndarray:
    """A readable summary of who persuades a customer; the effects themselves are continuous."""
    kind = np.where(pop.price_sensitivity >= 0.5, 1, np.where(basket_percentile >= 0.6, 2, 3))
    return np.where(pop.responsive, kind, 0)


def _truth_customers(
    pop: Population,
    orders: OrganicOrders,
    start: pd.Timestamp,
    n_days: int,
    basket_percentile: np.ndarray,
    mean_margin: np.ndarray,
) -> pd.DataFrame:
    reasons = text_column(orders.churn_reason, CHURN_REASONS)
    # The population's draws hold a spell and a fade for everyone; only those that began before
    # the customer dropped out and before the period ended happened (else NaT).
    ended = np.minimum(orders.churn_at, n_days)
    dormant = pop.dorm_from < ended
    early = np.isin(
        orders.churn_reason,
        [CHURN_REASONS.index("after_first_order"), CHURN_REASONS.index("after_second_order")],
    )
    faded = ~early & (pop.fade_start < ended)
    frame = pd.DataFrame(
        {
            "purchase_rate": pop.rate * 7.0,
            "first_purchase_at": _timestamps(start, to_clock(pop.first)),
            "first_order_dropout": pop.first_dropout,
            "second_order_dropout": pop.second_dropout,
            "fade_start": _timestamps(start, to_clock(np.where(faded, pop.fade_start, np.inf))),
            "churned_at": _timestamps(start, to_clock(orders.churn_at)),
            "churn_reason": reasons.where(reasons != "", None).array,
            "dormant_from": _timestamps(start, to_clock(np.where(dormant, pop.dorm_from, np.inf))),
            "dormant_until": _timestamps(
                start, to_clock(np.where(dormant, pop.dorm_until, np.inf))
            ),
            "price_sensitivity": pop.price_sensitivity,
            "basket_percentile": basket_percentile,
            "responsive": pop.responsive.astype(bool),
            "responder_type": text_column(
                _responder_type(pop, basket_percentile),
                ["none", "deal_seeker", "big_basket", "lapse_driven"],
            ).array,
            "mean_order_margin": mean_margin,
        },
        index=pd.Index(np.arange(1, pop.n + 1, dtype=np.int64), name=C.CUSTOMER_ID),
    )
    return frame


def _campaign_labels(history: CampaignHistory) -> pd.Series:
    return pd.Series([f"camp{k + 1:02d}" for k in range(int(history.campaign.max(initial=-1)) + 1)])


def _campaigns(history: CampaignHistory, start: pd.Timestamp) -> pd.DataFrame:
    labels = _campaign_labels(history).tolist()
    redeemed = np.isfinite(history.redeemed_at)
    return pd.DataFrame(
        {
            C.CAMPAIGN_ID: text_column(history.campaign, labels),
            C.CUSTOMER_ID: (history.customer + 1).astype(np.int64),
            C.OFFER_ID: text_column(history.arm, [C.CONTROL, *OFFER_IDS]),
            C.SENT_AT: _timestamps(start, history.sent_at),
            C.REDEEMED: redeemed,
            C.REDEEMED_AT: _timestamps(start, history.redeemed_at),
        }
    )


def _effects(history: CampaignHistory, start: pd.Timestamp) -> pd.DataFrame:
    labels = _campaign_labels(history).tolist()
    index = pd.MultiIndex.from_arrays(
        [text_column(history.campaign, labels), (history.customer + 1).astype(np.int64)],
        names=[C.CAMPAIGN_ID, C.CUSTOMER_ID],
    )
    data = {"baseline": history.baseline}
    data.update({o: history.uplift[:, j] for j, o in enumerate(OFFER_IDS)})
    return pd.DataFrame(data, index=index)
