"""Channel mix: shares of orders by channel, number of channels, and store spread."""

from __future__ import annotations

import numpy as np

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.features._names import label_slug
from loyalty_ml.features._prepared import (
    Prepared,
    Snapshot,
    bought_codes,
    n_distinct,
    per_customer_sum,
)
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.schema import columns as C

__all__ = ["channel_column", "channel_features", "resolve_channels"]

PREFIX = "channel_share_"


def channel_column(channel: str) -> str:
    """The feature name of a channel's share: lower case, runs of other characters than letters
    and digits (of any script) as ``_``."""
    return PREFIX + (label_slug(channel) or "blank")


def resolve_channels(
    prepared: Prepared, as_of_ns: int, config: FeatureConfig
) -> tuple[str, ...] | None:
    """The channel list of the share columns: ``config.channels``, else those seen before ``as_of``.

    Returns None when the transactions have no ``channel`` column. Raises SchemaError when two channel
    names map to the same column name.
    """
    if C.CHANNEL not in prepared.codes:
        return None
    if config.channels is not None:
        channels = config.channels
    else:
        codes, labels = prepared.codes[C.CHANNEL]
        seen = np.unique(codes[(prepared.ts < as_of_ns) & (codes >= 0)])
        channels = tuple(str(labels[i]) for i in seen)
    names = [channel_column(c) for c in channels]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        spellings = {n: [c for c in channels if channel_column(c) == n] for n in clashes}
        raise SchemaError(
            f"transactions.{C.CHANNEL} has channels that map to the same feature column: "
            + "; ".join(f"{spellings[n]} -> {n}" for n in clashes)
            + f". {_clash_fix(spellings)}",
            table="transactions",
            column=C.CHANNEL,
        )
    return tuple(channels)


def _clash_fix(spellings: dict[str, list[str]]) -> str:
    """The fix for channel names that share a feature column: one spelling when they differ only
    by case and blanks (one channel written two ways), else names that differ."""
    if all(len({s.strip().casefold() for s in names}) == 1 for names in spellings.values()):
        return (
            "They differ only by case or blanks, so they are most likely one channel written "
            "two ways: write it one way before building features, e.g. "
            f"tx['{C.CHANNEL}'] = tx['{C.CHANNEL}'].str.strip().str.lower()."
        )
    return (
        "If they are one channel, write it one way before building features; if not, rename "
        "them so that they differ by more than case or punctuation, or fix the list with "
        "FeatureConfig(channels=...)."
    )


def channel_features(snap: Snapshot, channels: tuple[str, ...] | None) -> dict[str, np.ndarray]:
    """Channel features of every customer in ``snap``, for the optional columns that exist.

    With ``channel``: ``channel_share_<name>`` for each channel in ``channels`` (the share of the
    customer's orders placed in that channel, an order's channel being that of its first purchase
    line (``amount >= 0``: a refund folded into the order, or returned at its first instant, does
    not move it), and of the first in the channels' order when several share that instant; NaN when
    none of the customer's orders has a channel; channels outside the list count in the denominator
    only; a listed channel counts every label of the same column name, so ``"app"`` counts
    ``"App"``) and ``n_channels`` (distinct channels of purchase lines). With ``store_id``:
    ``n_stores`` (distinct stores of purchase lines).
    """
    out: dict[str, np.ndarray] = {}
    if C.CHANNEL in snap.r_codes and channels is not None:
        codes, labels = snap.r_codes[C.CHANNEL]
        order_channel = _order_channel(snap, codes, len(labels))
        known = order_channel >= 0
        total = per_customer_sum(snap, snap.o_cust[known])
        # a listed channel is every label of its column's name: "app" (from a trained model's
        # channel_share_app) counts the data's "App"; a channel not in the data counts nothing
        slugs = np.array([channel_column(str(label)) for label in labels], dtype=object)
        for channel in channels:
            codes_of = np.flatnonzero(slugs == channel_column(channel))
            count = per_customer_sum(snap, snap.o_cust[np.isin(order_channel, codes_of)])
            with np.errstate(invalid="ignore", divide="ignore"):
                out[channel_column(channel)] = np.where(total > 0, count / total, np.nan)
        # the channels bought in (a refund in the app is not a channel used to buy)
        out["n_channels"] = n_distinct(snap, bought_codes(snap, codes), len(labels))
    if C.STORE_ID in snap.r_codes:
        codes, labels = snap.r_codes[C.STORE_ID]
        out["n_stores"] = n_distinct(snap, bought_codes(snap, codes), len(labels))
    return out


def _order_channel(snap: Snapshot, codes: np.ndarray, n_labels: int) -> np.ndarray:
    """Channel code of each order: that of its first purchase line (-1 when unknown).

    Purchase lines at the order's first instant are tied; the smallest code (the first channel in
    label order) wins, so the result never depends on the order of the input rows. Return lines
    (``amount < 0``) never set it: a refund booked in the app at the instant of a web order, or
    folded into it, was not an order placed in the app. Every order has a purchase line at its
    first instant (an order that starts with returns is split at its first purchase line).
    """
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    placed = snap.r_at_order_start & (codes >= 0) & (snap.r_amount >= 0)
    candidate = np.where(placed, codes, n_labels)
    first = np.minimum.reduceat(candidate, snap.o_first_row)
    return np.where(first == n_labels, -1, first)
