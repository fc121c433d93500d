"""Engagement and feedback: events of each kind before ``as_of``, how recent, and their values.

The kinds that get columns of their own are fixed once per feature table, from the events before
its levels cut-off (the earliest cut-off with a customer, as the text attributes' levels): a kind
held by at least ``FeatureConfig.min_level_customers`` customers with a purchase before it (at most
:data:`MAX_EVENT_KINDS` of them, the most held first) keeps its columns, every other kind is
pooled into ``event_rare_*``. So an event at or after a cut-off never changes the features at it,
not even which columns there are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import SchemaError, format_examples
from loyalty_ml.features._names import label_slug
from loyalty_ml.features._prepared import (
    Prepared,
    Snapshot,
    column_floats,
    days_since_latest,
    require,
    side_table_ids,
    snapshot_rows,
    timestamp_values,
)
from loyalty_ml.features._time import NS_PER_DAY
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    coerce_text,
    refuse_repeated,
)

__all__ = [
    "MAX_EVENT_KINDS",
    "PreparedEvents",
    "event_columns",
    "event_features",
    "event_stem",
    "prepare_events",
]

TABLE = "events"
PREFIX = "event_"
#: At most this many kinds get columns of their own (the most held first); the rest are pooled.
MAX_EVENT_KINDS = 20
#: The stem of the pooled kinds' columns (``event_rare_30d``...).
RARE_STEM = PREFIX + "rare"


def event_stem(kind: str) -> str:
    """The stem of a kind's columns: ``event_`` and the kind in lower case, runs of other
    characters than letters and digits (of any script) as ``_`` (``"E-mail click"`` ->
    ``event_e_mail_click``, ``"отзыв"`` -> ``event_отзыв``)."""
    return PREFIX + (label_slug(kind) or "blank")


@dataclass(frozen=True)
class PreparedEvents:
    """Events of customers of the transactions, as arrays keyed by their customer codes."""

    cust: np.ndarray  # code into Prepared.customer_ids
    ts: np.ndarray  # int64 ns
    stem: np.ndarray  # index into stems; len(stems) for a pooled kind
    value: np.ndarray | None  # float64, NaN when the event carries none; None: no value column
    stems: tuple[str, ...]  # the kinds with columns of their own
    valued: tuple[bool, ...]  # per stem: its events carried values before the levels cut-off


def _kept_stems(
    stems: np.ndarray, cust: np.ndarray, counted: np.ndarray, *, min_customers: int
) -> list[str]:
    """The stems held by at least ``min_customers`` customers over the ``counted`` rows, the most
    held first (ties by name), at most :data:`MAX_EVENT_KINDS`."""
    pairs = pd.DataFrame({"stem": stems[counted], "cust": cust[counted]}).drop_duplicates()
    held = pairs.groupby("stem", sort=True)["cust"].size()
    held = held[held >= min_customers]
    ranked = sorted(held.items(), key=lambda item: (-int(item[1]), str(item[0])))
    return [str(stem) for stem, _ in ranked[:MAX_EVENT_KINDS]]


def prepare_events(
    events: object, prepared: Prepared, config: FeatureConfig, *, levels_as_of: pd.Timestamp
) -> PreparedEvents:
    """Check the events table, key its rows by the transactions' customer codes and fix the kinds
    with columns of their own (counted over the customers with a purchase before
    ``levels_as_of`` and their events before it), or take them from ``config.event_kinds``.

    Events of customers without any transaction are not features of anyone and are dropped.
    """
    frame = require(events, C.EVENT_REQUIRED, table=TABLE)
    refuse_repeated(frame, (C.EVENT_VALUE,), table=TABLE)
    frame, ids = side_table_ids(frame, prepared, table=TABLE)
    ts = timestamp_values(frame[C.TIMESTAMP], table=TABLE, column=C.TIMESTAMP)
    kinds = coerce_text(frame[C.EVENT], table=TABLE, column=C.EVENT).astype("string").str.strip()
    missing = (kinds.isna() | (kinds == "")).to_numpy(dtype=bool)
    if missing.any():
        raise SchemaError(
            f"{TABLE}.{C.EVENT} is missing at rows "
            f"{format_examples(frame.index[missing], total=int(missing.sum()))}; every event "
            "needs its kind. Drop those rows or run loyalty_ml.validate_events first.",
            table=TABLE,
            column=C.EVENT,
        )
    value = None
    if C.EVENT_VALUE in frame.columns:
        value = column_floats(
            frame[C.EVENT_VALUE], table=TABLE, column=C.EVENT_VALUE, allow_na=True
        )
        infinite = np.isinf(value)
        if infinite.any():
            raise SchemaError(
                f"{TABLE}.{C.EVENT_VALUE} has infinite values at rows "
                f"{format_examples(frame.index[infinite], total=int(infinite.sum()))}. "
                "Drop or fix them first.",
                table=TABLE,
                column=C.EVENT_VALUE,
            )
    cust = prepared.customer_ids.get_indexer(pd.Index(ids))
    keep = cust >= 0
    cust, ts = cust[keep].astype("int64"), ts[keep]
    labels = kinds.to_numpy(dtype=object)[keep]
    value = None if value is None else value[keep]
    # one slug per distinct label, not per row: millions of app opens share a handful of kinds
    label_codes, distinct = pd.factorize(labels)
    label_stems = np.array([event_stem(k) for k in distinct], dtype=object)
    row_stems = label_stems[label_codes] if len(distinct) else np.zeros(0, dtype=object)
    _refuse_letterless(distinct, label_stems)
    # the customers of the feature table at the levels cut-off, and what they did before it
    present = np.zeros(len(prepared.customer_ids), dtype=bool)
    present[prepared.cust[prepared.ts < levels_as_of.value]] = True
    counted = present[cust] & (ts < levels_as_of.value)
    if config.event_kinds is None:
        kept = _kept_stems(row_stems, cust, counted, min_customers=config.min_level_customers)
    else:
        kept = list(dict.fromkeys(event_stem(k) for k in config.event_kinds))
    if RARE_STEM in kept:
        raise SchemaError(
            f"{TABLE}.{C.EVENT} has a kind named like the pooled kinds' columns ({RARE_STEM!r}). "
            "Rename that kind.",
            table=TABLE,
            column=C.EVENT,
        )
    index = {stem: i for i, stem in enumerate(kept)}
    label_kept = np.array([index.get(s, len(kept)) for s in label_stems], dtype="int64")
    codes = label_kept[label_codes] if len(distinct) else np.zeros(0, dtype="int64")
    if config.event_kinds is None:
        valued = tuple(
            value is not None and bool(np.isfinite(value[counted & (codes == i)]).any())
            for i in range(len(kept))
        )
    else:  # fixed, as a trained model's columns
        fixed = {event_stem(k) for k in config.event_value_kinds}
        valued = tuple(stem in fixed for stem in kept)
    out = PreparedEvents(cust, ts, codes, value, tuple(kept), valued)
    names = event_columns(out, config)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        # kinds "x" and "x_mean" with a 365-day window both make event_x_mean_365d
        raise SchemaError(
            f"{TABLE}.{C.EVENT} has kinds whose feature columns share names {twice} (kinds "
            f"{list(kept)}). Rename one of those kinds.",
            table=TABLE,
            column=C.EVENT,
        )
    return out


def _refuse_letterless(kinds: np.ndarray | pd.Index, stems: np.ndarray) -> None:
    """SchemaError when several kinds without a letter or digit ("★", "☆") would share the
    columns of ``event_blank``: they would be counted as one kind."""
    blank = [str(k) for k, stem in zip(kinds, stems, strict=True) if stem == PREFIX + "blank"]
    if len({k.strip() for k in blank}) > 1:
        raise SchemaError(
            f"{TABLE}.{C.EVENT} has kinds without a letter or digit, {format_examples(blank)}, "
            "which would be counted as one kind (event_blank). Name them, e.g. "
            "events['event'] = events['event'].replace({'★': 'star', '☆': 'empty_star'}).",
            table=TABLE,
            column=C.EVENT,
        )


def event_columns(events: PreparedEvents, config: FeatureConfig) -> list[str]:
    """The names of the columns :func:`event_features` makes, in its order."""
    longest = max(config.windows)
    names: list[str] = []
    for i, stem in enumerate((*events.stems, RARE_STEM)):
        names += [f"{stem}_{w}d" for w in config.windows] + [f"{stem}_days_since"]
        if i < len(events.stems) and events.valued[i]:
            names += [f"{stem}_mean_{longest}d", f"{stem}_last"]
    return names


def _last_values(n: int, who: np.ndarray, when: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The value of each customer's latest event (the largest of those at that instant, so the
    input's row order never matters); NaN for a customer without one."""
    out = np.full(n, np.nan)
    order = np.lexsort((values, when, who))
    who, values = who[order], values[order]
    last = np.flatnonzero(np.r_[who[1:] != who[:-1], True]) if len(who) else np.zeros(0, int)
    out[who[last]] = values[last]
    return out


def event_features(
    snap: Snapshot, events: PreparedEvents, config: FeatureConfig
) -> dict[str, np.ndarray]:
    """Event features of every customer in ``snap``, from the events with ``timestamp < as_of``.

    For each kind with columns of its own (stem ``event_<kind>``) and for the pooled kinds
    (``event_rare``): ``<stem>_{w}d``, the events in ``[as_of - w days, as_of)`` for each window of
    ``config.windows`` (0 for a customer without any), and ``<stem>_days_since``, the days since
    the latest (NaN when none). For a kind whose events carry values (a rating, an NPS answer):
    ``<stem>_mean_{w}d``, the mean value in the longest window, and ``<stem>_last``, the latest
    value (NaN when none).
    """
    n = snap.n_customers
    row = snapshot_rows(snap, events.cust)
    before = (row >= 0) & (events.ts < snap.as_of_ns)
    longest = max(config.windows)
    out: dict[str, np.ndarray] = {}
    for i, stem in enumerate((*events.stems, RARE_STEM)):
        mine = before & (events.stem == i)
        for w in config.windows:
            inside = mine & (events.ts >= snap.as_of_ns - w * NS_PER_DAY)
            out[f"{stem}_{w}d"] = np.bincount(row[inside], minlength=n).astype("float64")
        out[f"{stem}_days_since"] = days_since_latest(snap, row[mine], events.ts[mine])
        if i < len(events.stems) and events.valued[i]:
            # a kind fixed as valued (FeatureConfig.event_value_kinds) in a table without values
            value = np.full(len(events.ts), np.nan) if events.value is None else events.value
            rated = mine & np.isfinite(value)
            inside = rated & (events.ts >= snap.as_of_ns - longest * NS_PER_DAY)
            total = np.bincount(row[inside], weights=value[inside], minlength=n)
            count = np.bincount(row[inside], minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"{stem}_mean_{longest}d"] = np.where(count > 0, total / count, np.nan)
            out[f"{stem}_last"] = _last_values(n, row[rated], events.ts[rated], value[rated])
    return out
