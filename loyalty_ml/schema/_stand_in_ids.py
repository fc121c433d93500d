"""Customer ids that name nobody in particular: stand-ins for unidentified shoppers.

Tills and shops write a fixed id where a shopper showed no card: ``"guest"``, ``"UNKNOWN"``, ``"-"``,
and as often a number: ``0``, ``-1``, ``99999999``, ``"0000000000"``. Kept as they are, each is
scored as one customer who buys every day. They are warned about, not dropped: the user says
whether they are stand-ins (set them to missing, and ``validate_transactions`` counts and drops
them as ``missing_customer``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, format_ids, ids_withheld

__all__ = ["warn_stand_in_ids"]

#: Text ids that name nobody (compared in lower case).
PLACEHOLDER_IDS = frozenset(
    {"guest", "anonymous", "anon", "unknown", "walk-in", "walkin", "cash", "no customer", "-"}
)
#: Numbers written as stand-ins: all zeros, all nines (4 digits or more), or negative.
_CANDIDATE = r"0+|9{4,}|-[0-9]+"
#: At most this many distinct negative ids read as stand-ins (-1, -99); hashed ids, half of them
#: negative, have thousands.
_FEW_NEGATIVE = 3
#: A number is a stand-in only when it holds at least this many times the rows of the median id
#: (and at least ``_STAND_IN_MIN_ROWS``): a till's default collects the purchases of many shoppers,
#: while customer 0 of a numbering from 0, or one customer sent to a served model, holds a few.
_STAND_IN_TIMES = 10
_STAND_IN_MIN_ROWS = 20
#: An id holding at least this share of the rows, and at least ``_OUTSIZED_TIMES`` times the rows
#: of the average id, is outsized. Online Retail II's largest wholesaler holds 1.4% of the lines
#: (130 times the median customer), the simulator's heaviest buyer at most 7% with 500 customers;
#: the guest checkouts Online Retail II leaves blank are 20% of its lines.
_OUTSIZED_SHARE = 0.15
_OUTSIZED_TIMES = 100


#: 9999, 99999, ... up to int64's range.
_ALL_NINES = frozenset(10**k - 1 for k in range(4, 19))


def _number_stand_ins(counts: pd.Series) -> np.ndarray:
    """Which ids of ``counts`` (rows per distinct id, integers or text) read as a number written
    as a stand-in: all zeros, all nines or negative (when only a few ids are), and holding many
    times the rows of the median id (see ``_STAND_IN_TIMES``)."""
    ids = counts.index
    if pd.api.types.is_integer_dtype(ids.dtype):
        values = ids.to_numpy(dtype="int64")
        odd = (values == 0) | np.isin(values, list(_ALL_NINES))
        negative = values < 0
    else:
        texts = pd.Series(ids, dtype="string")
        candidate = texts.str.fullmatch(_CANDIDATE).fillna(False).to_numpy(dtype=bool)
        negative = candidate & texts.str.startswith("-").fillna(False).to_numpy(dtype=bool)
        odd = candidate & ~negative
    if negative.sum() > _FEW_NEGATIVE:
        negative = np.zeros_like(negative)  # hashed ids, not stand-ins
    rows = counts.to_numpy()
    many = rows >= max(_STAND_IN_TIMES * float(np.median(rows)), _STAND_IN_MIN_ROWS)
    return np.asarray((odd | negative) & many, dtype=bool)


def warn_stand_in_ids(
    ids: pd.Series, *, table: str, column: str, check_share: bool = False
) -> None:
    """Warn about ids of ``ids`` (canonical: int64, Int64 or text) that look like stand-ins for
    unidentified shoppers; with ``check_share`` (transactions), also about one id that holds an
    outsized share of the rows (a stand-in nobody recognised, or a shared card)."""
    counts = ids.value_counts(dropna=True)
    if len(counts) == 0:
        return
    stand_in = _number_stand_ins(counts)
    if not pd.api.types.is_integer_dtype(counts.index.dtype):
        lower = counts.index.astype("string").str.strip().str.lower()
        stand_in |= np.asarray(lower.isin(PLACEHOLDER_IDS), dtype=bool)
    if stand_in.any():
        names = counts.index[stand_in].tolist()
        rows = int(counts[stand_in].sum())
        # ids are quoted only outside jobs (format_ids): job logs outlive the data's consent
        replace = (
            "{<the id>: None}"
            if ids_withheld()
            else "{" + ", ".join(f"{v!r}: None" for v in names[:3]) + "}"
        )
        warn_user(
            f"{table}.{column} holds {format_ids(names, total=len(names))}, which look like "
            f"stand-ins for unidentified shoppers ({rows:,} of {len(ids):,} rows): each would be "
            f"scored as one customer. Set them to missing (e.g. .replace({replace})) so that they "
            "are counted and dropped as missing_customer, if that is what they are.",
            DataQualityWarning,
        )
    if not check_share:
        return
    top, total = int(counts.iloc[0]), int(counts.sum())
    share = top / total
    if stand_in[0] or share < _OUTSIZED_SHARE or share * len(counts) < _OUTSIZED_TIMES:
        return
    median = float(counts.median())
    warn_user(
        f"{table}.{column}: one id, {format_ids([counts.index[0]])}, holds {share:.0%} of the "
        f"{total:,} rows ({top:,} rows, where the median id has {median:g}), more than one "
        "shopper plausibly buys. A stand-in for shoppers without a card (a till's default, a "
        "shared staff card) would be scored as one customer who buys every day: if it is one, "
        "set it to missing (e.g. .replace({<that id>: None}) on the id column) so that it is "
        "counted and dropped as missing_customer. A real wholesale account can stay.",
        DataQualityWarning,
    )
