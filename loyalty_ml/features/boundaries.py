"""Activity boundaries estimated from the data: when customers fall asleep, and when they are gone.

The estimator is a Kaplan-Meier survival curve of the gaps between consecutive orders. Every closed gap
(an order followed by another) is an event at its length in whole days; every customer's open gap
(from the last order to the end of the observation) is right-censored at its length, so customers
still inside a gap are not counted as "never returned". With ``S(t) = P(gap > t)`` and ``S_end`` its
value at ``t_end``, the last day on which at least ``min_at_risk`` gaps are still open,

    p_return(t) = 1 - S_end / P(gap >= t)

is the probability that a customer who has been inactive for ``t`` days buys again within the
observable range. It falls from ``p_return(0)`` (the share of gaps that close at all) to 0 at
``t_end`` and never rises, so level crossings are well defined:

- ``sleep_days``: the first day where ``p_return`` is below ``sleep_level`` x ``p_return(0)``
  (default 0.75: a quarter of the chance to return is gone; the fast fall has begun);
- ``churn_days``: the first day where it is below ``churn_level`` x ``p_return(0)`` (default 0.25:
  customers rarely come back beyond it), and at least the day after ``sleep_days`` (a regular
  rhythm, e.g. weekly orders, can pass both levels on the same day).

Both are relative to the data's own curve, so a cafe with daily visits gets boundaries of days and an
online shop with yearly orders gets boundaries of months; nothing is a hard-coded number of days.

Frequency boundaries come from the order-count curve: for each ``k``, among customers whose ``k``-th
order is at least ``churn_days`` before the end (so their next order had time to happen), ``churn(k)``
is the share without a ``(k+1)``-th order. ``first_repeat_orders`` is the ``k >= 2`` with the largest
drop ``churn(k-1) - churn(k)``; ``loyalty_orders`` is the first ``k`` from there whose churn is within
``loyalty_tolerance`` of the total drop from ``churn(1)`` (or a higher churn before the largest
drop) to the plateau (the lowest churn from
``first_repeat_orders`` on). A drop smaller than 3 binomial standard errors is noise: when no
drop is larger, both frequency boundaries are None.

The return curve pools the gaps of all customers, so frequent buyers weigh more than rare ones, and
its tail depends on how long the data runs: with one year of data no return after a year can be seen.
Re-estimate the boundaries as the history grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from loyalty_ml._checks import is_int, is_real
from loyalty_ml._repr import summary_repr
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    SchemaError,
    format_examples,
    format_ids,
)
from loyalty_ml.features._prepared import prepare_transactions, snapshot
from loyalty_ml.features._time import NS_PER_DAY
from loyalty_ml.features.rhythm import gap_days
from loyalty_ml.schema._coerce import on_data_clock

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["STATES", "Boundaries", "estimate_boundaries"]

#: Values of :meth:`Boundaries.state`, from the most to the least engaged.
STATES: tuple[str, ...] = ("active", "sleeping", "churned", "lost")
State = Literal["active", "sleeping", "churned", "lost"]


def recency_in_days(recency: pd.Series, *, what: str) -> np.ndarray:
    """Days since the last purchase as float64: Timedeltas (``as_of - last purchase``) in days,
    numbers written as text read, anything else a SchemaError naming ``what``."""
    if pd.api.types.is_timedelta64_dtype(recency.dtype):
        # a Timedelta read as a number would be nanoseconds: every customer 'lost'
        recency = recency.dt.total_seconds() / 86_400.0
    if not pd.api.types.is_numeric_dtype(recency.dtype) or pd.api.types.is_bool_dtype(
        recency.dtype
    ):
        numbers = pd.to_numeric(recency.astype(object), errors="coerce")
        bad = (numbers.isna() & recency.notna()) | recency.map(
            lambda v: isinstance(v, bool | np.bool_)
        )
        if bad.any():
            raise SchemaError(
                f"{what} must hold numbers of days (or Timedeltas); {int(bad.sum())} value(s) "
                f"are not, e.g. {recency[bad].astype(str).head(3).tolist()}.",
                column="recency_days",
            )
        recency = numbers
    days = recency.to_numpy(dtype="float64", na_value=np.nan)
    ahead = days < 0
    if ahead.any():
        # a last purchase after as_of: features of another date, or a sign flipped upstream
        raise DataError(
            f"{what} is negative for {int(ahead.sum())} customer(s) "
            f"({format_ids(recency.index[ahead].tolist(), total=int(ahead.sum()))}; e.g. "
            f"{format_examples(days[ahead].tolist())} days): a last purchase cannot come after "
            "as_of. Build the features at the date being scored (build_features(tx, as_of=...))."
        )
    return days


@dataclass(frozen=True, eq=False)
class Boundaries:
    """Activity and frequency boundaries estimated by :func:`estimate_boundaries`.

    Attributes
    ----------
    sleep_days, churn_days : float
        Days since the last purchase where the return probability starts to fall fast, and beyond
        which customers rarely return.
    curve : DataFrame
        Indexed by ``days`` since the last purchase (0 .. t_end): ``at_risk`` (gaps still open at that
        day), ``returned`` and ``censored`` (gaps closed or cut by the end of data on that day),
        ``survival`` (KM estimate of P(gap > days)) and ``p_return`` (see the module docstring).
    first_repeat_orders, loyalty_orders : int or None
        Order counts after which churn drops sharply, and after which it stays near its plateau.
        None when the data has too few repeat customers to tell.
    orders_curve : DataFrame
        Indexed by ``n_orders`` (k): ``customers`` (eligible customers with at least k orders) and
        ``churn`` (share of them without a (k+1)-th order).
    sleep_level, churn_level : float
        The levels used, relative to ``p_return(0)``.
    """

    sleep_days: float
    churn_days: float
    curve: pd.DataFrame
    first_repeat_orders: int | None
    loyalty_orders: int | None
    orders_curve: pd.DataFrame
    sleep_level: float
    churn_level: float

    __repr__ = summary_repr

    def state(self, recency_days: pd.Series, *, winback_days: float = 90) -> pd.Series:
        """The activity state of each customer from their days since the last purchase.

        ``"active"`` below ``sleep_days``, ``"sleeping"`` from ``sleep_days`` to ``churn_days``,
        ``"churned"`` from ``churn_days`` to ``churn_days + winback_days`` (the win-back period) and
        ``"lost"`` from there on: each state includes its first day and not its last, so a
        customer at exactly ``churn_days + winback_days`` is lost (as ``TriggerPolicy`` reads
        its win-back window, ``[start, end)`` days past the churn boundary). Missing recencies
        give missing states.

        Parameters
        ----------
        recency_days : Series
            Days since the last purchase (e.g. ``build_features(...)["recency_days"]``).
        winback_days : float, default 90
            Length of the win-back period after the churn boundary.

        Returns
        -------
        Series
            Ordered ``category`` dtype with categories ``STATES``, same index and name ``state``.
        """
        if not is_real(winback_days, finite=True) or winback_days < 0:
            raise ConfigError(
                "The 'winback_days' parameter of Boundaries.state must be a number >= 0. "
                f"Got {winback_days!r} instead."
            )
        if not isinstance(recency_days, pd.Series):
            raise ConfigError(
                "The 'recency_days' parameter of Boundaries.state must be a pandas Series. "
                f"Got {type(recency_days).__name__} instead."
            )
        r = recency_in_days(recency_days, what="Boundaries.state: recency_days")
        codes = np.select(
            [
                np.isnan(r),
                r < self.sleep_days,
                r < self.churn_days,
                r < self.churn_days + winback_days,
            ],
            [-1, 0, 1, 2],
            default=3,
        )
        dtype = pd.CategoricalDtype(list(STATES), ordered=True)
        values = pd.Categorical.from_codes(codes, dtype=dtype)
        return pd.Series(values, index=recency_days.index.copy(), name="state")

    def plot(self) -> Figure:
        """The return-probability curve with both boundaries, and churn by order count."""
        from matplotlib.figure import Figure  # here: importing matplotlib costs a second
        from matplotlib.ticker import MaxNLocator

        fig = Figure(figsize=(10, 4), layout="constrained")
        left, right = fig.subplots(1, 2)
        left.plot(self.curve.index, self.curve["p_return"], color="C0")
        left.axvline(self.sleep_days, color="C1", ls="--", label=f"sleep {self.sleep_days:g} d")
        left.axvline(self.churn_days, color="C3", ls="--", label=f"churn {self.churn_days:g} d")
        left.set(
            xlabel="days since last purchase",
            ylabel="P(buys again)",
            title="Return probability by inactivity",
            ylim=(0, 1),
        )
        left.legend()
        if len(self.orders_curve):
            right.plot(self.orders_curve.index, self.orders_curve["churn"], marker="o", color="C0")
            for k, name, colour in (
                (self.first_repeat_orders, "first repeat", "C1"),
                (self.loyalty_orders, "loyalty", "C2"),
            ):
                if k is not None:
                    right.axvline(k, color=colour, ls="--", label=f"{name}: {k} orders")
            if right.get_legend_handles_labels()[0]:  # no boundary found on small data: no legend
                right.legend()
        right.set(
            xlabel="orders so far",
            ylabel="P(no further order)",
            title="Churn by order count",
            ylim=(0, 1),  # a probability, from 0 as on the left: a few points are not magnified
        )
        right.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole orders: no 2.5 ticks
        if len(self.orders_curve):
            first, last = self.orders_curve.index.min(), self.orders_curve.index.max()
            if last - first < 2:  # one or two order counts: a range of whole orders around them
                right.set_xlim(first - 1, last + 1)
        return fig


def _check_level(name: str, value: object) -> float:
    if not is_real(value) or not 0 < value < 1:
        raise ConfigError(
            f"The '{name}' parameter of estimate_boundaries must be a number in (0, 1). "
            f"Got {value!r} instead."
        )
    return float(value)


def _check_count(name: str, value: object) -> int:
    if not is_int(value) or value < 1:
        raise ConfigError(
            f"The '{name}' parameter of estimate_boundaries must be an int >= 1. "
            f"Got {value!r} instead."
        )
    return int(value)


def _survival_curve(closed: np.ndarray, open_: np.ndarray, min_at_risk: int) -> pd.DataFrame:
    horizon = int(max(closed.max(initial=0), open_.max(initial=0))) + 1
    returned = np.bincount(closed, minlength=horizon)
    censored = np.bincount(open_, minlength=horizon)
    # gaps still open on day d: all gaps of length >= d
    at_risk = (returned + censored)[::-1].cumsum()[::-1]
    enough = np.flatnonzero(at_risk >= min_at_risk)
    if len(enough) == 0:
        raise DataError(
            f"estimate_boundaries needs at least min_at_risk={min_at_risk} inter-purchase gaps; the "
            f"data has {int(at_risk[0])}. Use more data or a smaller min_at_risk."
        )
    t_end = int(enough[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(at_risk > 0, returned / at_risk, 0.0)
    survival = np.cumprod(1.0 - hazard)[: t_end + 1]
    at_least = np.concatenate(([1.0], survival[:-1]))  # P(gap >= d)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_return = np.clip(1.0 - survival[-1] / at_least, 0.0, 1.0)
    days = pd.RangeIndex(t_end + 1, name="days")
    return pd.DataFrame(
        {
            "at_risk": at_risk[: t_end + 1],
            "returned": returned[: t_end + 1],
            "censored": censored[: t_end + 1],
            "survival": survival,
            "p_return": p_return,
        },
        index=days,
    )


def _orders_curve(
    order_ts: np.ndarray,
    first: np.ndarray,
    n_orders: np.ndarray,
    *,
    end_ns: int,
    settle_days: float,
    max_orders: int,
    min_customers: int,
) -> pd.DataFrame:
    rows: dict[int, tuple[int, float]] = {}
    settled_before = end_ns - settle_days * NS_PER_DAY
    for k in range(1, max_orders + 1):  # a loop over order counts, not customers
        reached = n_orders >= k
        kth = order_ts[first[reached] + k - 1]
        eligible = kth <= settled_before
        count = int(eligible.sum())
        if count < min_customers:
            break
        went_on = (n_orders[reached][eligible] > k).mean()
        rows[k] = (count, float(1.0 - went_on))
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["customers", "churn"])
    frame.index.name = "n_orders"
    return frame.astype({"customers": "int64", "churn": "float64"})


def _frequency_boundaries(curve: pd.DataFrame, tolerance: float) -> tuple[int | None, int | None]:
    if len(curve) < 2:
        return None, None
    ks = curve.index.to_numpy(dtype="int64")
    churn = curve["churn"].to_numpy(dtype="float64")
    n = curve["customers"].to_numpy(dtype="float64")
    drops = churn[:-1] - churn[1:]
    # a drop counts only when it is larger than 3 standard errors (about 20 counts are compared): no boundary from noise
    se = np.sqrt(churn[:-1] * (1 - churn[:-1]) / n[:-1] + churn[1:] * (1 - churn[1:]) / n[1:])
    real = drops > 3 * se
    if not real.any():
        return None, None
    at = (
        int(np.argmax(np.where(real, drops, -np.inf))) + 1
    )  # position of the count right after the sharpest drop
    plateau = churn[at:].min()
    # the total drop is measured from the highest churn before the sharpest drop (churn(1) unless
    # one-order customers churn less than later ones, e.g. a starter kit then one refill): > 0
    top = churn[:at].max()
    close = np.flatnonzero(churn[at:] - plateau <= tolerance * (top - plateau))
    return int(ks[at]), int(ks[at + close[0]])


#: An ``as_of`` this many days past the end of the data is warned about (a nightly job's as_of is
#: the day after its extract; a stale extract is weeks behind).
STALE_DAYS = 7


def _warn_if_past_the_data(last: pd.Timestamp | None, end_ns: int, *, dates_only: bool) -> None:
    """DataQualityWarning when ``end_ns`` (``as_of``) is more than :data:`STALE_DAYS` after the
    data's end, ``last`` (``Prepared.data_end``: ``validate_transactions``' recorded end, else the
    last row, or the end of its day for dates without times). Those days count as days without a
    return, so every boundary reads short. The message names the last day of data: on dates
    without times (``dates_only``) an end at a midnight is the end of the day before it."""
    if last is None:
        return
    beyond = (end_ns - last.value) / NS_PER_DAY
    if beyond > STALE_DAYS:
        # dates without times end at the midnight after their last day (schema._data_end)
        midnight = dates_only and last == last.normalize()
        last_day = (last - pd.Timedelta(days=1)).date() if midnight else last.date()
        warn_user(
            f"estimate_boundaries: as_of={pd.Timestamp(end_ns, unit='ns').date()} is "
            f"{beyond:.0f} days after the data end (its last day {last_day}); those days count as days "
            "in which nobody came back, so the sleep and churn boundaries read short. Use an "
            "as_of at the data's end (or leave it out), or refresh the extract.",
            DataQualityWarning,
        )


#: Share of the gaps between orders within a day of the longest one that reads as a cap.
_CAPPED_SHARE = 0.05
#: Gaps within a day of the longest one needed before calling it a cap.
_CAPPED_MIN_GAPS = 20
#: How many times the two days before them those gaps must be: a pile-up, not a tail.
_CAPPED_PILE_UP = 3.0
#: Of the six days before those two, how many must hold a gap: the gaps run on up to the cap.
_CAPPED_RUN_ON = 5


def _capped_gaps(gaps: np.ndarray) -> str:
    """What is wrong when the gaps between orders pile up at the longest one, else ``""``.

    Gaps rebuilt from a capped field (Instacart's ``days_since_prior_order``: 30 stands for "30
    or more") run on up to the cap and pile up there, with no longer gap; a real history thins
    out towards its longest gap, and a fixed rhythm (a weekly box, a monthly plan with skipped
    months) has no gaps in most of the days before its longest: a plan billed on the same day of
    each calendar month piles its two-month gaps at 61-62 days over a few at 59-60 (February),
    with none from 32 to 58.
    """
    if len(gaps) == 0:
        return ""
    days = np.floor(gaps)
    longest = float(days.max())
    at_cap = int(np.count_nonzero(days >= longest - 1))
    before = int(np.count_nonzero((days >= longest - 3) & (days < longest - 1)))
    share = at_cap / len(gaps)
    if at_cap < _CAPPED_MIN_GAPS or share < _CAPPED_SHARE:
        return ""
    if before == 0 or at_cap < _CAPPED_PILE_UP * before:
        return ""
    run_on = np.unique(days[(days >= longest - 7) & (days < longest - 1)])
    if len(run_on) < _CAPPED_RUN_ON:
        return ""
    return (
        f"{share:.0%} of the {len(gaps):,} gaps between orders are {longest - 1:.0f}-"
        f"{longest:.0f} days, {at_cap / before:.0f} times as many as in the two days before, "
        "and none is longer: they look capped (Instacart's days_since_prior_order writes 30 for "
        "'30 or more'), so a return after a longer absence cannot be seen and a boundary near "
        f"{longest:.0f} days is the cap, not the customers."
    )


def estimate_boundaries(
    transactions: pd.DataFrame,
    *,
    as_of: object = None,
    sleep_level: float = 0.75,
    churn_level: float = 0.25,
    min_at_risk: int = 30,
    min_customers: int = 30,
    max_orders: int = 20,
    loyalty_tolerance: float = 0.1,
) -> Boundaries:
    """Estimate the sleep and churn boundaries and the frequency boundaries from transactions.

    See the module docstring for the estimator. Gaps are measured between distinct orders (as in
    :func:`build_features`) in whole days. The history must be longer than the purchase cycle:
    a gap can only be seen to close within the data. In an audit's garden centre (every customer
    buys each spring, three in ten also in the autumn), 347 days of history gave boundaries of 135 and
    167 days, and 79% of the customers they called lost bought again within 90 days; with 443
    days they came out at 365 and 403. Give it two cycles where you can.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions.
    as_of : str, date or Timestamp, optional
        Use only transactions before it and treat it as the end of the observation; by default all
        transactions, observed until the last one.
    sleep_level, churn_level : float, default 0.75 and 0.25
        Levels of ``p_return`` relative to ``p_return(0)`` that define the boundaries
        (``churn_level < sleep_level``).
    min_at_risk : int, default 30
        The curve stops at the last day with at least this many gaps still open, so its tail is not
        an estimate from a handful of customers.
    min_customers : int, default 30
        The order-count curve stops at the first count with fewer eligible customers.
    max_orders : int, default 20
        Longest order count examined.
    loyalty_tolerance : float, default 0.1
        Share of the total churn drop that may remain at the loyalty boundary.

    Returns
    -------
    Boundaries

    Raises
    ------
    DataError
        Too few repeat purchases to estimate a curve.
    ConfigError
        A parameter is out of range.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> days = np.cumsum(rng.exponential(10, size=(300, 20)), axis=1)
    >>> quit_after = rng.integers(1, 21, size=300)
    >>> keep = np.arange(20) < quit_after[:, None]
    >>> customer, order = np.nonzero(keep & (days < 365))
    >>> tx = pd.DataFrame({
    ...     "customer_id": customer,
    ...     "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(days[customer, order], "D"),
    ...     "amount": 1.0,
    ... })
    >>> bounds = estimate_boundaries(tx)
    >>> bool(0 < bounds.sleep_days < bounds.churn_days)
    True
    """
    sleep = _check_level("sleep_level", sleep_level)
    churn = _check_level("churn_level", churn_level)
    if churn >= sleep:
        raise ConfigError(
            "The 'churn_level' parameter of estimate_boundaries must be below 'sleep_level'. "
            f"Got churn_level={churn_level!r} and sleep_level={sleep_level!r}."
        )
    min_at_risk = _check_count("min_at_risk", min_at_risk)
    min_customers = _check_count("min_customers", min_customers)
    max_orders = _check_count("max_orders", max_orders)
    tolerance = _check_level("loyalty_tolerance", loyalty_tolerance)
    prepared = prepare_transactions(transactions)
    if len(prepared.ts) == 0:  # refunds kept with returns="keep" are set aside: not purchases
        what = "an empty" if prepared.last_ts is None else "a refunds-only"
        raise DataError(
            f"estimate_boundaries got {what} transactions table: gaps between purchases need "
            "purchases."
        )
    if as_of is None:
        end_ns = int(prepared.ts.max())
        snap = snapshot(prepared, end_ns + 1)
    else:
        end_ns = on_data_clock(as_of, transactions).value
        snap = snapshot(prepared, end_ns)
        _warn_if_past_the_data(prepared.data_end, end_ns, dates_only=prepared.dates_only)
    gaps, _ = gap_days(snap)
    last = snap.c_first_order + snap.c_n_orders - 1
    open_gaps = (end_ns - snap.o_ts[last]).astype("float64") / NS_PER_DAY
    curve = _survival_curve(
        np.floor(gaps).astype("int64"), np.floor(open_gaps).astype("int64"), min_at_risk
    )
    p = curve["p_return"].to_numpy()
    capped = _capped_gaps(gaps)
    if p[0] <= 0:
        raise DataError(
            "estimate_boundaries found no repeat purchase within the observed range "
            f"({len(gaps)} closed gaps, {len(open_gaps)} customers): no return curve to read "
            "boundaries from."
        )
    if not (p < churn * p[0]).any():
        # argmax of no crossing would read day 0
        fix = (
            f"{capped} Give TriggerPolicy(sleep_days=..., churn_days=...) below the cap instead"
            if capped
            else "Use more customers or a longer history, a smaller min_at_risk, or a higher "
            "churn_level"
        )
        raise DataError(
            f"estimate_boundaries: the return probability never falls below churn_level={churn} "
            f"of its start ({p[0]:.3f}) within the {len(p) - 1} days that at least "
            f"min_at_risk={min_at_risk} gaps cover (it ends at {p[-1]:.3f}). {fix}."
        )
    if capped:
        warn_user(f"estimate_boundaries: {capped}", DataQualityWarning)
    sleep_days = float(np.argmax(p < sleep * p[0]))
    # a regular rhythm (a weekly order) can pass both levels on the same day; churned starts the
    # next day, so sleeping is never an empty state and the boundaries stay ordered
    churn_days = max(float(np.argmax(p < churn * p[0])), sleep_days + 1.0)
    orders = _orders_curve(
        snap.o_ts,
        snap.c_first_order,
        snap.c_n_orders,
        end_ns=end_ns,
        settle_days=churn_days,
        max_orders=max_orders,
        min_customers=min_customers,
    )
    first_repeat, loyalty = _frequency_boundaries(orders, tolerance)
    return Boundaries(
        sleep_days=sleep_days,
        churn_days=churn_days,
        curve=curve,
        first_repeat_orders=first_repeat,
        loyalty_orders=loyalty,
        orders_curve=orders,
        sleep_level=sleep,
        churn_level=churn,
    )
