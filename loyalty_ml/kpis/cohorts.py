"""Cohort retention: customers grouped by the period of their first purchase, followed over time."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from loyalty_ml._plot_text import legend, legend_placement, literal
from loyalty_ml.exceptions import ConfigError, DataError, format_ids
from loyalty_ml.kpis._common import check_transactions, purchase_lines, to_bound
from loyalty_ml.schema import columns as C

__all__ = [
    "cohort_counts",
    "cohort_retention",
    "plot_cohort_heatmap",
    "plot_retention_curves",
    "retention_curves",
]

Freq = Literal["D", "W", "M", "Q", "Y"]
_FREQS = ("D", "W", "M", "Q", "Y")
COHORT = "cohort"
PERIOD = "period"
CENSORED = "left_censored_cohort"


def cohort_counts(
    transactions: pd.DataFrame, *, freq: Freq = "M", as_of: object = None
) -> pd.DataFrame:
    """Active customers of each acquisition cohort in each period since their first purchase.

    A customer's cohort is the calendar period (``freq``) of their first purchase; cell ``(c, k)``
    counts the customers of cohort ``c`` with at least one purchase in period ``c + k``. Column 0 is
    the cohort size. Cells that lie after the last observed period are NaN (not yet observable), not 0.
    The last period may be partial: it ends at ``as_of`` (or the last transaction); periods up to
    ``as_of`` in which nobody bought are observed zeros.

    The cohorts are left-censored: a customer's first purchase *in the data* is not known to be
    their first. The first cohort, the period of the extract's first purchase, mixes new customers
    with every earlier customer who bought then (it reads large, with a high retention), and later
    cohorts also hold customers returning after a gap longer than the data before them (fewer the
    later the cohort). The result's ``attrs["left_censored_cohort"]`` names the first cohort, as a
    note that rides along with the table (no warning: every extract starts somewhere); read the
    cohorts from the data's true start, or leave out those that may hold earlier customers.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``).
    freq : {"D", "W", "M", "Q", "Y"}
        Calendar period: day, week, month, quarter or year.
    as_of : date-like, optional
        Use only rows with ``timestamp < as_of``; default: every row.

    Returns
    -------
    DataFrame
        Index ``cohort`` (Period), columns ``period`` (0, 1, ...), float counts.
    """
    tx, ordinal, last = _ordinals(transactions, freq=freq, as_of=as_of)
    return _note_censored(_counts(tx, ordinal, freq=freq, last=last))


def _note_censored(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``attrs["left_censored_cohort"]``: the label of its first cohort, which
    holds the customers who bought before the data too (see :func:`cohort_counts`)."""
    table.attrs[CENSORED] = str(table.index[0]) if len(table.index) else None
    return table


def _ordinals(
    transactions: pd.DataFrame, *, freq: str, as_of: object
) -> tuple[pd.DataFrame, pd.Series, int]:
    """The rows before ``as_of``, the ordinal of each row's calendar period, and the last period.

    The last observed period is the one ``as_of`` ends (the period of its last instant), not that
    of the last purchase: months in which nobody bought are zeros, not unobservable.
    """
    if freq not in _FREQS:
        raise ConfigError(f"freq must be one of {list(_FREQS)}; got {freq!r}.")
    # activity is a purchase at its order's time (a kept return alone is not; see purchase_lines)
    checked = check_transactions(transactions)
    tx = purchase_lines(checked)
    any_purchase = len(tx) > 0 or len(checked) == 0
    ts = tx[C.TIMESTAMP]
    end = None
    if as_of is not None:
        end = to_bound(as_of, name="as_of", timestamps=ts)
        keep = (ts < end).to_numpy()
        tx, ts = tx.loc[keep], ts.loc[keep]
    if len(tx) == 0:
        refunds = "" if any_purchase else " (every row is a refund, amount < 0)"
        where = "" if as_of is None else f" before as_of={as_of!r}"
        empty = " (the table has no rows)" if len(checked) == 0 else ""
        raise DataError(
            f"transactions: no purchase{where}{refunds}{empty}; nothing to put in cohorts."
        )
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)  # periods follow the local calendar of the data's zone
        end = None if end is None else end.tz_localize(None)
    ordinal = pd.Series(pd.PeriodIndex(ts, freq=freq).asi8, index=tx.index)
    last = (
        int(ordinal.max())
        if end is None
        else int(pd.Period(end - pd.Timedelta(1, "ns"), freq=freq).ordinal)
    )
    return tx, ordinal, max(last, int(ordinal.max()))


def _counts(tx: pd.DataFrame, ordinal: pd.Series, *, freq: str, last: int) -> pd.DataFrame:
    activity = pd.DataFrame({C.CUSTOMER_ID: tx[C.CUSTOMER_ID], "ordinal": ordinal})
    activity = activity.drop_duplicates()
    first = activity.groupby(C.CUSTOMER_ID)["ordinal"].transform("min")
    activity = activity.assign(cohort=first, period=activity["ordinal"] - first)
    counts = (
        activity.groupby([COHORT, PERIOD]).size().unstack(PERIOD).astype("float64").sort_index()
    )
    cohorts = counts.index.to_numpy()
    counts = counts.reindex(columns=range(last - int(cohorts.min()) + 1))
    observable = cohorts[:, None] + counts.columns.to_numpy()[None, :] <= last
    counts = counts.fillna(0.0).where(observable)
    counts.index = pd.PeriodIndex.from_ordinals(cohorts, freq=freq, name=COHORT)  # type: ignore[attr-defined]  # missing from pandas-stubs
    counts.columns = pd.Index(counts.columns, name=PERIOD)
    return counts


def cohort_retention(
    transactions: pd.DataFrame, *, freq: Freq = "M", as_of: object = None
) -> pd.DataFrame:
    """Share of each acquisition cohort active in each later period.

    ``retention[c, k] = N_k / N_0`` with ``N_0`` the customers whose first purchase fell in period ``c``
    and ``N_k`` those of them who bought in period ``c + k`` (DESIGN.md section 8: retention N_t/N_0).
    Column 0 is 1.0 by construction; unobservable cells are NaN. See :func:`cohort_counts` for the
    counts, the parameters and the left-censored first cohort (``attrs["left_censored_cohort"]``).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-01-10"]),
    ...                    "amount": [1.0, 1.0, 1.0]})
    >>> cohort_retention(tx, freq="M").loc["2024-01"].tolist()
    [1.0, 0.5]
    """
    counts = cohort_counts(transactions, freq=freq, as_of=as_of)
    retention = counts.div(counts[0], axis=0)
    retention.attrs = dict(counts.attrs)
    return retention


def retention_curves(
    transactions: pd.DataFrame,
    *,
    freq: Freq = "M",
    as_of: object = None,
    groups: pd.Series | None = None,
) -> pd.DataFrame:
    """Retention by periods since first purchase, pooled over cohorts, optionally one curve per group.

    ``curve[k] = sum_c N_k(c) / sum_c N_0(c)`` over the cohorts ``c`` observable at age ``k`` (each
    cohort weighted by its size; younger cohorts drop out of the later points instead of counting as
    zeros).

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions.
    freq, as_of
        As in :func:`cohort_counts`.
    groups : Series, optional
        Group label per ``customer_id`` (index), e.g. an RFM segment or acquisition channel; one curve
        per label. Every customer in ``transactions`` needs a label.

    Returns
    -------
    DataFrame
        Index ``period`` (0, 1, ...), one column per group (``"all"`` without groups).
        ``attrs["left_censored_cohort"]`` names the first cohort, which also holds customers who
        bought before the data (see :func:`cohort_counts`): the oldest cohort alone makes the
        late points of the curve, so they read high when it does.
    """
    if groups is None:
        counts = cohort_counts(transactions, freq=freq, as_of=as_of)
        curves = _pool(counts).to_frame("all")
        curves.attrs = dict(counts.attrs)
        return curves
    if not isinstance(groups, pd.Series):
        raise ConfigError(f"groups must be a Series indexed by customer_id; got {type(groups)}.")
    repeated = groups.index[groups.index.duplicated()].unique()
    if len(repeated):
        raise ConfigError(
            "groups must hold one label per customer; customers "
            f"{format_ids(repeated.tolist(), total=len(repeated))} appear more than once in "
            "its index. Keep one row each, e.g. groups[~groups.index.duplicated()]."
        )
    tx, ordinal, last = _ordinals(transactions, freq=freq, as_of=as_of)
    label = tx[C.CUSTOMER_ID].map(groups)
    unlabelled = pd.unique(tx.loc[label.isna().to_numpy(), C.CUSTOMER_ID])
    if len(unlabelled):
        raise DataError(
            f"groups has no label for customers {format_ids(unlabelled, total=len(unlabelled))}."
            " Give every customer of transactions a group (e.g. fillna('unknown'))."
        )
    # One clock for every group: a group's quiet last months are zeros, not unobserved.
    curves = _pool_by_group(tx[C.CUSTOMER_ID], ordinal, label, last=last)
    curves.attrs[CENSORED] = str(pd.Period(ordinal=int(ordinal.min()), freq=freq))
    return curves


def _pool_by_group(
    customer: pd.Series, ordinal: pd.Series, label: pd.Series, *, last: int
) -> pd.DataFrame:
    """:func:`_pool` of every group's cohort counts, in one grouped pass over the activity.

    ``curve_g[k] = sum_c N_k(g, c) / sum_c N_0(g, c)`` over the cohorts ``c`` of group ``g`` that
    are observable at age ``k`` (``c + k <= last``); ``k`` runs to the age of the group's oldest
    cohort, as a separate :func:`_counts` per group would give (one pass instead of one per group).
    """
    activity = pd.DataFrame(
        {
            C.CUSTOMER_ID: customer.to_numpy(),
            "ordinal": ordinal.to_numpy(),
            "group": label.to_numpy(),
        }
    ).drop_duplicates([C.CUSTOMER_ID, "ordinal"])
    first = activity.groupby(C.CUSTOMER_ID)["ordinal"].transform("min")
    activity = activity.assign(
        cohort=first.to_numpy(), period=(activity["ordinal"] - first).to_numpy()
    )
    numerators = activity.groupby(["group", PERIOD], sort=False).size()
    sizes = activity.loc[activity[PERIOD] == 0].groupby(["group", COHORT]).size()
    curves = {}
    names = list(pd.unique(label))
    try:  # in the labels' order, not the rows': the same customers in another order, same table
        names.sort()
    except TypeError:  # labels of several types
        names.sort(key=str)
    for name in names:
        cohort_sizes = sizes.loc[name]  # by cohort, ascending
        cohorts = cohort_sizes.index.to_numpy()
        periods = np.arange(last - int(cohorts.min()) + 1)
        # cohorts observable at age k are those <= last - k: a running total of their sizes
        running = np.cumsum(cohort_sizes.to_numpy(dtype="float64"))
        observable = np.searchsorted(cohorts, last - periods, side="right")
        denominator = running[observable - 1]
        numerator = numerators.loc[name].reindex(periods, fill_value=0).to_numpy(dtype="float64")
        curves[name] = pd.Series(numerator / denominator, index=periods, dtype="float64")
    out = pd.DataFrame(curves)
    out.index.name = PERIOD
    return out


def _pool(counts: pd.DataFrame) -> pd.Series:
    size = counts[0]
    pooled = {k: counts[k].sum() / size[counts[k].notna()].sum() for k in counts.columns}
    return pd.Series(pooled, dtype="float64").rename_axis(PERIOD)


def plot_cohort_heatmap(
    retention: pd.DataFrame, *, title: str = "Cohort retention", annotate: bool | None = None
) -> Figure:
    """Heatmap of :func:`cohort_retention` (cohorts down, periods since first purchase across).

    ``annotate`` writes the percentage in each cell (default: when the grid has at most 24 columns).
    """
    values = retention.to_numpy(dtype="float64")
    if values.size == 0:
        raise DataError(
            "plot_cohort_heatmap: the retention table is empty (no cohort, or no period); there is "
            "nothing to plot. Check the data window given to cohort_retention."
        )
    fig = Figure(
        figsize=(1.5 + 0.45 * max(values.shape[1], 4), 1.0 + 0.35 * max(values.shape[0], 4)),
        layout="constrained",
    )
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(values.shape[1]), [literal(c) for c in retention.columns])
    ax.set_yticks(range(values.shape[0]), [literal(c) for c in retention.index])
    ax.set_xlabel("periods since first purchase")
    ax.set_ylabel("cohort (first purchase)")
    ax.set_title(title)
    if annotate is None:
        annotate = values.shape[1] <= 24
    if annotate:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                        color="white" if v < 0.5 else "black")  # fmt: skip
    fig.colorbar(image, ax=ax, label="share of cohort active")
    return fig


def plot_retention_curves(curves: pd.DataFrame, *, title: str = "Retention curves") -> Figure:
    """Line plot of :func:`retention_curves`, one line per column."""
    if len(curves.columns) == 0 or len(curves) == 0:
        raise DataError(
            "plot_retention_curves: the table has no curve (no column or no period); there is "
            "nothing to plot. Check the groups given to retention_curves."
        )
    extra, placement = legend_placement(list(curves.columns), max_inside=5)
    fig = Figure(figsize=(7 + extra, 4), layout="constrained")
    ax = fig.subplots()
    handles = [ax.plot(curves.index, curves[name], marker="o")[0] for name in curves.columns]
    ax.set_xlabel("periods since first purchase")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole periods: no 2.5 ticks
    ax.set_ylabel("share of cohort active")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    legend(ax, handles, list(curves.columns), **placement)  # group names drawn as written
    return fig
