"""Programme health: active members, points liability, tiers and what tier benefits would cost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml._checks import check_window_days
from loyalty_ml.exceptions import ConfigError, DataError, SchemaError, format_examples
from loyalty_ml.kpis._common import (
    check_no_missing,
    check_transactions,
    order_keys,
    purchase_lines,
    to_bound,
    warn_past_data,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    coerce_timestamp,
    plus_days,
    refuse_missing_ids,
    require_columns,
)
from loyalty_ml.schema._ids import align_customer_ids

__all__ = [
    "TierBenefit",
    "active_members",
    "estimate_tier_costs",
    "points_liability",
    "propose_tiers",
    "tier_distribution",
]

Basis = Literal["spend", "visits"]
MIN_VALUE = "min_value"
MAX_VALUE = "max_value"


def active_members(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    window_days: int = 90,
    customers: pd.DataFrame | None = None,
) -> pd.Series:
    """Members, active members and the active share at ``as_of``.

    - ``members``: with ``customers``, its rows (those with ``signup_date < as_of`` or unknown when
      it has that column); without, the customers with a purchase before ``as_of`` (a customer
      whose only rows are refunds kept with ``returns="keep"`` is not one, as in the features).
    - ``active_members``: members with a purchase in ``[as_of - window_days, as_of)`` (an order
      whose first line falls in it, with a line of ``amount >= 0``: a kept return is not one).
    - ``active_share`` = active_members / members (NaN when there are no members).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "amount": [5.0, 5.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-06-28"])})
    >>> active_members(tx, as_of="2024-07-01", window_days=90).tolist()
    [2.0, 1.0, 0.5]
    """
    tx = check_transactions(transactions)
    ts = tx[C.TIMESTAMP]
    end = to_bound(as_of, name="as_of", timestamps=ts)
    check_window_days(window_days, owner="active_members")
    warn_past_data(
        plus_days(end, -window_days),
        end,
        ts,
        caller="active_members",
        what="the activity window",
        attrs=transactions.attrs,
    )
    bought = purchase_lines(tx)
    bought_ts = bought[C.TIMESTAMP]
    recent = ((bought_ts < end) & (bought_ts >= plus_days(end, -window_days))).to_numpy()
    active = pd.Index(pd.unique(bought.loc[recent, C.CUSTOMER_ID]))
    if customers is None:
        members = pd.Index(pd.unique(bought.loc[(bought_ts < end).to_numpy(), C.CUSTOMER_ID]))
    else:
        table = customers.reset_index() if C.CUSTOMER_ID not in customers.columns else customers
        require_columns(table, (C.CUSTOMER_ID,), table="customers")
        refuse_missing_ids(table, table="customers")
        table = align_customer_ids(table, tx, table="customers", caller="active_members")
        if C.SIGNUP_DATE in table.columns:
            zone = getattr(ts.dtype, "tz", None)
            signup = coerce_timestamp(
                table[C.SIGNUP_DATE],
                table="customers",
                column=C.SIGNUP_DATE,
                timezone=None if zone is None else str(zone),
                allow_na=True,
            )
            # an unknown signup date (NaT) does not make a customer less of a member
            table = table.loc[~(signup >= end.tz_localize(None)).to_numpy()]
        members = pd.Index(pd.unique(table[C.CUSTOMER_ID]))
    n_members = len(members)
    n_active = int(members.isin(active).sum())
    return pd.Series(
        {
            "members": float(n_members),
            "active_members": float(n_active),
            "active_share": n_active / n_members if n_members else np.nan,
        },
        name="value",
    )


def points_liability(
    balances: pd.DataFrame | pd.Series, *, point_value: float, breakage_rate: float
) -> pd.Series:
    """What the outstanding points are worth, and what is expected to be redeemed.

    - ``points_outstanding`` = sum of ``points_balance``;
    - ``gross_liability`` = points_outstanding x point_value (every point redeemed);
    - ``expected_breakage`` = gross_liability x breakage_rate (points expected to expire unused,
      typically 15-20%, DESIGN.md section 6);
    - ``net_liability`` = gross_liability x (1 - breakage_rate).

    Examples
    --------
    >>> points_liability(pd.Series([100, 300]), point_value=0.01, breakage_rate=0.2).tolist()
    [400.0, 4.0, 0.8, 3.2]
    """
    if isinstance(balances, pd.DataFrame):
        require_columns(balances, (C.POINTS_BALANCE,), table="customers")
        points = balances[C.POINTS_BALANCE]
    elif isinstance(balances, pd.Series):
        points = balances
    else:
        raise SchemaError(
            f"balances must be a customers DataFrame with {C.POINTS_BALANCE!r} or a Series; got "
            f"{type(balances).__name__}.",
            table="customers",
        )
    _in_range("point_value", point_value, 0.0, np.inf)
    _in_range("breakage_rate", breakage_rate, 0.0, 1.0)
    values = pd.to_numeric(points, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype="float64", na_value=np.nan)) | (values < 0).to_numpy()
    if bad.any():
        raise SchemaError(
            f"customers.{C.POINTS_BALANCE} must be numbers >= 0; got "
            f"{format_examples(points[bad].tolist(), total=int(bad.sum()))} at rows "
            f"{format_examples(points.index[bad].tolist())}. Fix or fill those balances (each a "
            "finite number of points).",
            table="customers",
            column=C.POINTS_BALANCE,
        )
    # as floats: an int64 sum of large balances would wrap around to a negative number
    outstanding = float(values.to_numpy(dtype="float64", na_value=np.nan).sum())
    gross = outstanding * point_value
    return pd.Series(
        {
            "points_outstanding": outstanding,
            "gross_liability": gross,
            "expected_breakage": gross * breakage_rate,
            "net_liability": gross * (1.0 - breakage_rate),
        },
        name="value",
    )


def tier_distribution(
    tiers: pd.DataFrame | pd.Series,
    *,
    order: Sequence[str] | None = None,
    missing_label: str = "no tier",
) -> pd.DataFrame:
    """Members and share of members per tier (``customers.tier`` or a Series of tiers).

    Members without a tier are counted under ``missing_label``. ``order`` lists the tiers in display
    order (tiers with no member get 0); tiers not in ``order`` are refused.

    Examples
    --------
    >>> dist = tier_distribution(pd.Series(["gold", "base", "base", None]), order=["base", "gold"])
    >>> dist["members"].to_dict(), dist["share"].tolist()
    ({'base': 2, 'gold': 1, 'no tier': 1}, [0.5, 0.25, 0.25])
    """
    if isinstance(tiers, pd.DataFrame):
        require_columns(tiers, (C.TIER,), table="customers")
        tiers = tiers[C.TIER]
    if not isinstance(tiers, pd.Series):
        raise SchemaError(
            f"tiers must be a customers DataFrame with {C.TIER!r} or a Series; got "
            f"{type(tiers).__name__}.",
            table="customers",
        )
    if isinstance(order, str):
        raise ConfigError(
            f"order must be a list of tier names; got the str {order!r}, which would be read one "
            f"character at a time. Pass [{order!r}]."
        )
    labels = tiers.astype("object").where(tiers.notna(), missing_label)
    counts = labels.value_counts(sort=False)
    if order is not None:
        order = list(order)
        twice = sorted({str(t) for t in order if order.count(t) > 1})
        if twice:
            raise ConfigError(
                f"order lists tiers more than once: {format_examples(twice)}; each tier once."
            )
        # naming the missing label in order places it; it is still counted once
        order = [t for t in order if t != missing_label]
        unknown = [t for t in counts.index if t not in order and t != missing_label]
        if unknown:
            raise ConfigError(
                f"order must list every tier; {format_examples(unknown)} are missing from "
                f"order={list(order)!r}."
            )
        index = [*order, *([missing_label] if missing_label in counts.index else [])]
        counts = counts.reindex(index, fill_value=0)
    else:
        counts = counts.sort_index(key=lambda s: s.map(lambda v: (v == missing_label, str(v))))
    total = int(counts.sum())
    out = pd.DataFrame(
        {"members": counts.astype("int64"), "share": counts / total if total else np.nan}
    )
    out.index.name = C.TIER
    return out


@dataclass(frozen=True, kw_only=True)
class TierBenefit:
    """What a tier gives its members: a share of their spend and a fixed amount per member.

    Parameters
    ----------
    spend_rate : float
        Share of the member's spend returned (cashback, points at face value), in [0, 1].
    fixed_per_member : float
        Cost per member over the period (gifts, free delivery allowance), >= 0.
    breakage_rate : float
        Share of the spend-based benefit expected to expire unused, in [0, 1].
    """

    spend_rate: float = 0.0
    fixed_per_member: float = 0.0
    breakage_rate: float = 0.0

    def __post_init__(self) -> None:
        _in_range("TierBenefit.spend_rate", self.spend_rate, 0.0, 1.0)
        _in_range("TierBenefit.fixed_per_member", self.fixed_per_member, 0.0, np.inf)
        _in_range("TierBenefit.breakage_rate", self.breakage_rate, 0.0, 1.0)


def propose_tiers(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    window_days: int = 365,
    basis: Basis = "spend",
    names: tuple[str, str, str] = ("base", "silver", "gold"),
) -> pd.DataFrame:
    """Tier thresholds from the 25/50/25 structure of RFM, on spend or visits over a window.

    Customers with a purchase in ``[as_of - window_days, as_of)`` are ranked by ``basis`` (``spend``
    = sum of ``amount``; ``visits`` = orders, distinct ``(customer_id, order_id)`` or, without order
    ids, ``(customer_id, timestamp)``). As in the
    RFM classes (worst quarter, middle half, best quarter), the thresholds are the 25% and 75%
    quantiles: ``names[0]`` below the first, ``names[1]`` from the first (inclusive) to the second,
    ``names[2]`` from the second (inclusive). Visit thresholds are rounded up to whole visits. Ties at
    a threshold all go to the higher tier, so shares can differ from 25/50/25.

    Returns
    -------
    DataFrame
        Indexed by tier: ``min_value`` (inclusive), ``max_value`` (exclusive), ``members``, ``share``,
        ``spend`` and ``visits`` of the tier's members in the window; ``attrs["basis"]`` records
        what the bounds are in, which :func:`estimate_tier_costs` reads.
    """
    values = _basis_values(
        transactions, as_of=as_of, window_days=window_days, owner="propose_tiers"
    )
    if basis not in ("spend", "visits"):
        raise ConfigError(f"basis must be 'spend' or 'visits'; got {basis!r}.")
    if len(set(names)) != 3:
        raise ConfigError(f"names must be three distinct tier names; got {names!r}.")
    low, high = np.quantile(values[basis].to_numpy(), [0.25, 0.75])
    if basis == "visits":
        low, high = float(np.ceil(low)), float(np.ceil(high))
    bounds = pd.DataFrame(
        {MIN_VALUE: [-np.inf, low, high], MAX_VALUE: [low, high, np.inf]}, index=list(names)
    )
    return _summarise_tiers(values, bounds, basis=basis)


def estimate_tier_costs(
    transactions: pd.DataFrame,
    tiers: pd.DataFrame,
    *,
    benefits: Mapping[str, TierBenefit],
    as_of: object,
    window_days: int = 365,
    basis: Basis | None = None,
) -> pd.DataFrame:
    """What each tier's benefits would have cost on the customers' history.

    Each customer active in ``[as_of - window_days, as_of)`` is placed in the tier whose
    ``[min_value, max_value)`` holds their ``basis`` value (``tiers`` as from :func:`propose_tiers`),
    and per tier ``benefit_cost = spend x spend_rate x (1 - breakage_rate) + members x
    fixed_per_member``; ``cost_share`` = benefit_cost / spend of the tier.

    ``basis`` None reads the one ``propose_tiers`` recorded in ``tiers.attrs["basis"]`` (``"spend"``
    for tiers written by hand); a ``basis`` other than the recorded one is refused: thresholds of
    9 visits read as 9 in money put 2,803 customers in the top tier instead of 810.
    """
    recorded = tiers.attrs.get("basis") if isinstance(tiers, pd.DataFrame) else None
    if basis is None:
        basis = recorded if recorded in ("spend", "visits") else "spend"
    elif recorded is not None and basis != recorded:
        raise ConfigError(
            f"estimate_tier_costs: tiers were proposed on {recorded!r} (tiers.attrs['basis']) but "
            f"basis={basis!r}: their thresholds would be read in the wrong unit. Leave basis out "
            "to use the recorded one."
        )
    require_columns(tiers, (MIN_VALUE, MAX_VALUE), table="tiers")
    missing = [t for t in tiers.index if t not in benefits]
    if missing:
        raise ConfigError(
            f"benefits has no TierBenefit for tiers {format_examples(missing)}; give one per tier "
            f"(TierBenefit() for none). Tiers: {list(tiers.index)}."
        )
    wrong = [k for k, v in benefits.items() if not isinstance(v, TierBenefit)]
    if wrong:
        raise ConfigError(f"benefits values must be TierBenefit; tiers {wrong} are not.")
    values = _basis_values(
        transactions, as_of=as_of, window_days=window_days, owner="estimate_tier_costs"
    )
    out = _summarise_tiers(values, tiers[[MIN_VALUE, MAX_VALUE]], basis=basis)
    spend_rate = pd.Series({t: benefits[t].spend_rate for t in out.index})
    breakage = pd.Series({t: benefits[t].breakage_rate for t in out.index})
    fixed = pd.Series({t: benefits[t].fixed_per_member for t in out.index})
    out["benefit_cost"] = out["spend"] * spend_rate * (1.0 - breakage) + out["members"] * fixed
    out["cost_share"] = out["benefit_cost"] / out["spend"].where(out["spend"] != 0)
    return out


def _basis_values(
    transactions: pd.DataFrame, *, as_of: object, window_days: int, owner: str
) -> pd.DataFrame:
    """Spend and visits per customer with a purchase in the window (a refund alone, kept with
    ``returns="keep"``, is not a visit: its customer is not a tier member, as in ``clv_inputs``)."""
    tx = check_transactions(transactions)
    ts = tx[C.TIMESTAMP]
    end = to_bound(as_of, name="as_of", timestamps=ts)
    check_window_days(window_days, owner=owner)
    window = tx.loc[((ts >= plus_days(end, -window_days)) & (ts < end)).to_numpy()]
    if len(window) == 0:
        raise DataError(
            f"transactions has no rows in the {window_days} days before as_of={end}; no customer "
            "to place in tiers."
        )
    bought = purchase_lines(tx)
    bought_ts = bought[C.TIMESTAMP]
    in_window = bought.loc[
        ((bought_ts >= plus_days(end, -window_days)) & (bought_ts < end)).to_numpy()
    ]
    visits = order_keys(in_window).drop_duplicates().groupby(C.CUSTOMER_ID).size()
    spend = window.groupby(C.CUSTOMER_ID)[C.AMOUNT].sum()
    out = pd.DataFrame({"spend": spend, "visits": visits.astype("float64")})
    out = out.loc[out["visits"].notna()]
    if len(out) == 0:
        raise DataError(
            f"transactions has no purchase in the {window_days} days before as_of={end}, only "
            "refunds (amount < 0); no customer to place in tiers."
        )
    return out


def _summarise_tiers(values: pd.DataFrame, bounds: pd.DataFrame, *, basis: str) -> pd.DataFrame:
    if bounds.index.has_duplicates:
        # each name's members would be counted once per row of it
        repeated = sorted({str(t) for t in bounds.index[bounds.index.duplicated()]})
        raise ConfigError(
            f"tiers lists {format_examples(repeated)} more than once; give each tier one row "
            f"with its [{MIN_VALUE}, {MAX_VALUE}) range."
        )
    for column in (MIN_VALUE, MAX_VALUE):
        check_no_missing(bounds, column, table="tiers", fix="Give every tier both bounds.")
    numbers = {c: pd.to_numeric(bounds[c], errors="coerce") for c in (MIN_VALUE, MAX_VALUE)}
    for column, read in numbers.items():
        text = read.isna().to_numpy() & bounds[column].notna().to_numpy()
        if text.any():
            raise ConfigError(
                f"tiers.{column} holds values that are not numbers "
                f"{format_examples(bounds[column][text].tolist())} (tiers "
                f"{format_examples([str(t) for t in bounds.index[text]])}); bounds are numbers "
                "(-inf for the first tier's min, inf for the last tier's max)."
            )
    # numbers written as text ("100") are read: compared as text, "100" < "20"
    bounds = bounds.assign(**numbers)
    if basis not in ("spend", "visits"):
        raise ConfigError(f"basis must be 'spend' or 'visits'; got {basis!r}.")
    ordered = bounds.sort_values(MIN_VALUE)
    low, high = ordered[MIN_VALUE].to_numpy(dtype=float), ordered[MAX_VALUE].to_numpy(dtype=float)
    # empty ranges (min == max: a tier nobody reaches) are fine; inverted or overlapping ones not
    overlap = np.flatnonzero(low[1:] < np.maximum.accumulate(high)[:-1])
    bad = np.union1d(np.flatnonzero(high < low), overlap + 1)
    if len(bad):
        raise ConfigError(
            f"tiers {format_examples(sorted(str(t) for t in ordered.index[bad]))} have inverted "
            f"or overlapping [{MIN_VALUE}, {MAX_VALUE}) ranges; each value must fall in exactly one "
            "tier (e.g. [0, 100), [100, 500), [500, inf))."
        )
    value = values[basis].to_numpy()
    tier = pd.Series(pd.NA, index=values.index, dtype="object")
    for name, row in bounds.iterrows():
        tier[(value >= row[MIN_VALUE]) & (value < row[MAX_VALUE])] = name
    placed = tier.notna().to_numpy()
    if not placed.all():
        raise ConfigError(
            f"tiers do not cover {basis} values {format_examples(value[~placed].tolist())}; make "
            f"the [{MIN_VALUE}, {MAX_VALUE}) ranges cover every value (first -inf, last inf)."
        )
    grouped = values.groupby(tier)
    out = bounds.copy()
    out["members"] = grouped.size().reindex(bounds.index, fill_value=0).astype("int64")
    out["share"] = out["members"] / len(values)
    out["spend"] = grouped["spend"].sum().reindex(bounds.index, fill_value=0.0)
    out["visits"] = grouped["visits"].sum().reindex(bounds.index, fill_value=0.0)
    out.index.name = C.TIER
    out.attrs["basis"] = basis  # what min_value / max_value are in, for estimate_tier_costs
    return out


def _in_range(name: str, value: object, low: float, high: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.number)
        or not np.isfinite(float(value))
        or not low <= float(value) <= high
    ):
        raise ConfigError(
            f"{name} must be a number in [{low}, {high}]; got {value!r}."
            + (
                " It must be finite."
                if isinstance(value, float | np.floating) and value > low
                else ""
            )
        )
