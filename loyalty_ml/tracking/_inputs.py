"""Checks of the tables a job is given, before any work: the transactions' contract, and a customers
table that misses most of their customers or writes their ids another way (which would silently
exclude them: consent is opt-in). Ids written as text next to integer ids are aligned first by
:func:`loyalty_ml.schema._ids.align_customer_ids`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    DataError,
    DataQualityWarning,
    SchemaError,
    format_examples,
    format_ids,
)
from loyalty_ml.features._prepared import column_floats, timestamp_values
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    refuse_missing_ids,
    refuse_mixed_ids,
    refuse_repeated,
    require_columns,
)
from loyalty_ml.schema._data_end import covered_until
from loyalty_ml.schema._gaps import CONTEXT_DAYS, find_gaps
from loyalty_ml.schema._ids import align_customer_ids
from loyalty_ml.schema.tables import drop_repeated_sends, strip_offer_ids

__all__ = [
    "check_id_overlap",
    "check_job_tables",
    "check_transactions",
    "customers_with_id_column",
    "warn_if_a_day_repeats",
]


def check_transactions(transactions: object, *, caller: str) -> pd.DataFrame:
    """``transactions`` when it has the canonical required columns and a tz-naive ``timestamp``.

    Raises
    ------
    SchemaError
        Not a DataFrame, a required column missing, a missing ``customer_id`` (guest rows), or
        ``timestamp`` not tz-naive datetime64 or missing on some rows.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "amount": [9.5]})
    >>> check_transactions(tx, caller="score_customers")
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.SchemaError: score_customers: transactions.timestamp must be tz-naive ...
    """
    tx = require_columns(transactions, C.TRANSACTION_REQUIRED, table="transactions")
    refuse_repeated(tx, C.TRANSACTION_COLUMNS, table="transactions")  # which amount is meant?
    refuse_missing_ids(tx, table="transactions")  # the consent filter would drop them
    # the jobs compare amounts (purchases, refunds) and sort ids before build_features checks them
    column_floats(tx[C.AMOUNT], table="transactions", column=C.AMOUNT, allow_na=False)
    refuse_mixed_ids(tx[C.CUSTOMER_ID], table="transactions", caller=caller)
    dtype = tx[C.TIMESTAMP].dtype
    if not pd.api.types.is_datetime64_dtype(dtype) or isinstance(dtype, pd.DatetimeTZDtype):
        raise SchemaError(
            f"{caller}: transactions.{C.TIMESTAMP} must be tz-naive datetime64 (NumPy-backed); got "
            f"dtype {dtype}. "
            "Run loyalty_ml.validate_transactions first (it parses text and converts time zones).",
            table="transactions",
            column=C.TIMESTAMP,
        )
    # a row without a time is before no cutoff: it would leave every job in silence
    timestamp_values(tx[C.TIMESTAMP], table="transactions", column=C.TIMESTAMP)
    return tx


def check_job_tables(
    transactions: object,
    customers: pd.DataFrame | None,
    campaigns: pd.DataFrame | None,
    *,
    caller: str,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """``(customers, campaigns)`` ready for a job, after checking the transactions' contract.

    Both jobs run this first: customers get ``customer_id`` as a column, the ids of both tables
    are aligned with the transactions' kind (see :func:`align_customer_ids`), campaign offer ids
    lose surrounding blanks (a fixed-width export's ``"control   "``), and a campaign row that
    repeats another exactly is kept once (a night's sends appended twice).
    """
    tx = check_transactions(transactions, caller=caller)
    for name, table in (("customers", customers), ("campaigns", campaigns)):
        if table is not None and not isinstance(table, pd.DataFrame):
            # a list of ids or a dict of columns: no table to read consent or sends from
            raise SchemaError(
                f"{caller}: {name} must be a pandas DataFrame (or None); got "
                f"{type(table).__name__}.",
                table=name,
            )
    customers = align_customer_ids(
        customers_with_id_column(customers),
        tx,
        table="customers",
        caller=caller,
        warn_unmatched=False,  # the jobs refuse a customers table that shares no id
    )
    if campaigns is not None:
        # once here, so that every cutoff's features, the send history and the uplift rows read
        # a send appended twice once (and the warning is given once)
        campaigns = drop_repeated_sends(strip_offer_ids(campaigns), table="campaigns")
    return customers, align_customer_ids(campaigns, tx, table="campaigns", caller=caller)


def customers_with_id_column(customers: pd.DataFrame | None) -> pd.DataFrame | None:
    """Customers with ``customer_id`` as a column (validate_customers returns it as the index)."""
    if customers is None or C.CUSTOMER_ID in customers.columns:
        return customers
    if customers.index.name == C.CUSTOMER_ID:
        return customers.reset_index()
    raise DataError(
        f"customers has no {C.CUSTOMER_ID!r} column or index; it has {list(customers.columns)}. "
        "Run validate_customers first."
    )


def check_id_overlap(
    customers: pd.DataFrame | None, transactions: pd.DataFrame, *, caller: str
) -> None:
    """Refuse or warn when the transactions' customers are missing from a customers table.

    Customers missing from a table with a ``consent_profiling`` flag are not profiled (consent is
    opt-in), so ids the table does not list silently leave customers out of the job; without the
    flag (consent managed upstream) they only miss the table's other columns:

    * a DataError when the table is empty or shares no id with the transactions;
    * a DataError when more than :data:`MISWRITTEN_SHARE` of the transactions' customers are not
      in the table as written but are once both ids are written alike (leading zeros, ``"123.0"``
      for ``123``, case, surrounding blanks): two exports that write one id two ways;
    * a DataQualityWarning when fewer such ids are found, or when more than
      :data:`UNLISTED_SHARE` of the transactions' customers are not in the table at all. A few
      unlisted customers (those who joined after the customers extract) pass in silence.

    A table of ids alone, which nothing else reads, is only refused when it shares no id.

    An id counts as written another way only when the table's id it matches is no customer of the
    transactions itself: a shop whose old card ``"12346"`` and new card ``"0000012346"`` are two
    customers is not refused.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["0017", "0042"]})
    >>> check_id_overlap(pd.DataFrame({"customer_id": ["17", "42"]}), tx, caller="score_customers")
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.DataError: score_customers: 2 of the 2 customer ids of the transactions ...
    """
    if customers is None or len(transactions) == 0:
        return
    if len(customers) == 0:
        raise DataError(
            f"{caller}: the customers table is empty, so no customer's consent is known and every "
            "one of them would be left out. Pass the customers table (a failed extract?), or "
            "customers=None when consent is managed upstream."
        )
    table_ids = _plain_ids(customers[C.CUSTOMER_ID])
    tx_ids = _plain_ids(transactions[C.CUSTOMER_ID])
    listed = np.asarray(tx_ids.isin(table_ids), dtype=bool)
    if listed.all():
        return
    means = _unlisted_means(customers, caller)
    if means is None and listed.any():
        return  # a table of ids alone, which nothing else reads
    # the table's ids that no transaction uses, by the way they read once written alike
    free = table_ids[~np.asarray(table_ids.isin(tx_ids), dtype=bool)]
    free_keys = _id_keys(free)
    by_key = pd.Series(free, index=free_keys)[~free_keys.duplicated()]
    unlisted = tx_ids[~listed]  # keys of these only: most ids of a large table are listed
    keys = _id_keys(unlisted)
    miswritten = np.asarray(keys.isin(by_key.index), dtype=bool)
    n_miswritten = int(miswritten.sum())
    mine = unlisted[miswritten]
    theirs = pd.Index(by_key.loc[keys[miswritten]].to_numpy())
    if n_miswritten > MISWRITTEN_SHARE * len(tx_ids):
        raise DataError(
            f"{caller}: {n_miswritten:,} of the {len(tx_ids):,} customer ids of the transactions "
            f"({n_miswritten / len(tx_ids):.1%}) are not in the customers table as written, but "
            f"are once both are written alike: {_how_ids_differ(mine, theirs)} (transactions "
            f"e.g. {format_ids(mine[:3].tolist(), total=n_miswritten)}, customers e.g. "
            f"{format_ids(theirs[:3].tolist(), total=n_miswritten)}). As they are, "
            f"{_NO_MATCH if means is None else 'these customers would be ' + means}. "
            "Write "
            f"{C.CUSTOMER_ID} the same way in both tables before validating them: one export "
            f"format, text ids read as text (pd.read_csv(..., dtype={{'{C.CUSTOMER_ID}': str}}))"
            f"{_padding_fix(mine, theirs)}.",
        )
    if not listed.any():
        raise DataError(
            f"{caller}: none of the {len(tx_ids):,} customer ids of the transactions (e.g. "
            f"{format_ids(tx_ids[:3].tolist())}, dtype {tx_ids.dtype}) is in the customers table "
            f"({len(table_ids):,} ids, e.g. {format_ids(table_ids[:3].tolist())}, dtype "
            f"{table_ids.dtype}). Pass the customers table of the same customers, or "
            "customers=None when consent is managed upstream.",
        )
    n_unlisted = len(unlisted)
    share = n_unlisted / len(tx_ids)
    also = (
        f" {n_miswritten:,} of them are in the table once both ids are written alike "
        f"({_how_ids_differ(mine, theirs)}; transactions e.g. {format_ids(mine[:3].tolist())}): "
        f"write {C.CUSTOMER_ID} the same way in both tables."
        if n_miswritten
        else ""
    )
    if share > UNLISTED_SHARE:
        consenting = (
            " If it lists only the customers who consented, this is expected."
            if C.CONSENT_PROFILING in customers.columns
            else ""
        )
        warn_user(
            f"{caller}: {n_unlisted:,} of the {len(tx_ids):,} customers of the transactions "
            f"({share:.0%}) are not in the customers table ({len(table_ids):,} ids), so "
            f"they are {means}. Customers who joined after the "
            "customers extract are expected to be missing, but not most of them: check that the "
            "table is the whole, current extract of the same customers, with the same ids (not "
            f"one region, a sample or another numbering).{consenting}{also}",
            DataQualityWarning,
        )
    elif n_miswritten:
        warn_user(
            f"{caller}: {n_miswritten:,} of the {len(tx_ids):,} customers of the transactions "
            f"are not in the customers table as written, so they are {means}.{also}",
            DataQualityWarning,
        )


#: The consequence of ids written another way in a table of ids alone.
_NO_MATCH = "the two tables would share no customer"


def _unlisted_means(customers: pd.DataFrame, caller: str) -> str | None:
    """What a customer missing from ``customers`` comes to (after "they are"), or None when
    nothing depends on it.

    With a profiling flag they read as not consenting and are left out. Without one, consent to
    profiling is managed upstream (:func:`loyalty_ml.privacy.consent.profiled_only`) and nobody
    is left out: they miss the table's other columns (a marketing flag: no offers).
    """
    from loyalty_ml.privacy.consent import _managed_upstream

    # (a column that looks like the flag, e.g. consent_profile, is refused here as it would be
    # by the consent rules next)
    if not _managed_upstream(customers, "profiling"):
        return f"read as not consenting and {_left_out(caller)}"
    columns = [str(c) for c in customers.columns if c != C.CUSTOMER_ID]
    if not columns:
        return None
    offers = (
        ", and read as without marketing consent (no offers)"
        if C.CONSENT_MARKETING in columns and caller != "train_and_register"
        else ""
    )
    return (
        "missing the customers table's columns "
        f"({format_examples(columns, total=len(columns))}){offers}; the table has no "
        f"{C.CONSENT_PROFILING!r} flag, so consent to profiling is managed upstream and nobody "
        "is left out"
    )


def _plain_ids(ids: pd.Series) -> pd.Index:
    """The distinct ids; text as Python strings, whose ``isin`` hashes (on pyarrow-backed text,
    pandas compares by a Python loop: seconds for a million ids)."""
    unique = pd.Index(ids.dropna().unique())
    return unique.astype(object) if pd.api.types.is_string_dtype(unique.dtype) else unique


#: Warn when more than this share of the transactions' customers is not in the customers table.
#: Those who joined after a monthly (even a yearly) customers extract are a minority of the
#: customers with purchases in the history; most of them missing means another table (a region,
#: a sample, another numbering), or a table of the consenting customers only.
UNLISTED_SHARE = 0.5
#: Refuse when more than this share of the transactions' customers is missing from the customers
#: table only because their ids are written another way there; a few such ids may be distinct
#: customers (a typo, an old card numbering), and are warned about.
MISWRITTEN_SHARE = 0.01
_WHOLE_NUMBER = re.compile(r"\d+(?:\.0*)?")


def _id_keys(ids: pd.Index) -> pd.Index:
    """The ids as they compare once written alike: text without surrounding blanks, in lower case,
    whole numbers without leading zeros or a decimal ``.0`` (``" 00123.0"`` is ``"123"``)."""
    text = pd.Series(ids.astype(str), dtype="string").str.strip().str.casefold()
    whole = text.str.fullmatch(_WHOLE_NUMBER.pattern).fillna(False).to_numpy(dtype=bool)
    digits = text[whole].str.replace(r"\.0*$", "", regex=True).str.lstrip("0")
    text[whole] = digits.mask(digits == "", "0")
    return pd.Index(text.to_numpy(dtype=object), dtype=object)  # see _plain_ids


def _how_ids_differ(mine: pd.Index, theirs: pd.Index) -> str:
    """In words, how the transactions' ids ``mine`` differ from the customers' ids ``theirs`` that
    they match once written alike (read on the first thousand pairs; no id is quoted)."""
    pairs = [(str(a), str(b)) for a, b in zip(mine[:1000], theirs[:1000], strict=True)]
    ways = []
    numbers = [(a.strip(), b.strip()) for a, b in pairs if _whole(a) and _whole(b)]
    zeros = [(a, b) for a, b in numbers if a.split(".")[0] != b.split(".")[0]]
    if zeros:
        longer = sum(len(a.split(".")[0]) > len(b.split(".")[0]) for a, b in zeros)
        if 2 * longer >= len(zeros):
            width = _width(mine)
            size = f" (text of {width} characters)" if width else ""
            ways.append(f"the transactions' ids have leading zeros{size} that the customers' lack")
        else:
            ways.append("the customers' ids have leading zeros that the transactions' lack")
    if any("." in a + b for a, b in numbers):
        ways.append("one table writes whole numbers with a decimal '.0' (ids read as floats)")
    if any(
        a.strip() != b.strip() and a.strip().casefold() == b.strip().casefold() for a, b in pairs
    ):
        ways.append("upper and lower case differ")
    if any(a != a.strip() or b != b.strip() for a, b in pairs):
        ways.append("blanks surround the ids in one table")
    return "; ".join(ways) or "they are written differently"


def _whole(value: str) -> bool:
    return _WHOLE_NUMBER.fullmatch(value.strip()) is not None


def _width(ids: pd.Index) -> int | None:
    """The one length of text ids made of digits only (card numbers padded to a width), or None."""
    if pd.api.types.is_numeric_dtype(ids.dtype) or not len(ids):
        return None
    sample = [str(v) for v in ids[:10_000]]
    lengths = {len(v) for v in sample}
    return lengths.pop() if len(lengths) == 1 and all(v.isdigit() for v in sample) else None


def _padding_fix(mine: pd.Index, theirs: pd.Index) -> str:
    """``, here e.g. customers[...].astype(str).str.zfill(10)`` when the transactions' ids are
    digits padded to one width and the customers' ids are shorter digits (else empty text)."""
    width = _width(mine)
    sample = [str(v).strip() for v in theirs[:1000]]
    if width is None or not all(v.isdigit() and len(v) < width for v in sample):
        return ""
    return (
        f"; here the transactions' ids are padded to {width} digits, so e.g. "
        f"customers['{C.CUSTOMER_ID}'] = customers['{C.CUSTOMER_ID}'].astype(str).str.zfill({width})"
    )


def _left_out(caller: str) -> str:
    if caller == "train_and_register":
        return "are left out of the training"
    return "are not scored (status 'no_profiling_consent')"


#: Warn when more than this share of the latest horizon lies after the last transaction.
UNOBSERVED_WINDOW_SHARE = 0.25


def warn_if_data_ends_early(
    history: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int, *, caller: str
) -> bool:
    """DataQualityWarning when the purchases stop well before ``as_of`` (a stale extract); True
    when it warned.

    The jobs read ``as_of`` as "observed until then", so the days between the last purchase and
    ``as_of`` count as days in which nobody bought: training labels the last cutoff's customers
    churned, scoring sees every customer as inactive since the extract ended. Warns when those
    days are more than a quarter of the horizon (and a day), or, in a shop busy enough to tell, a
    stretch of days that should have held purchases (:func:`loyalty_ml.schema._gaps.find_gaps`:
    14 days or more, at the pace of the four weeks before). Only purchases count (``amount >= 0``):
    refunds kept by ``validate_transactions(returns="keep")`` that run on after the sales feed
    stopped must not hide a stale extract. A history of refunds alone is left to the jobs' checks.
    When every purchase is dated at midnight (dates without times), the empty days are counted
    from the end of the last day, as it is covered whole.
    """
    times = history.loc[(history[C.AMOUNT] >= 0).to_numpy(), C.TIMESTAMP]
    if times.empty:
        return False
    last = pd.Timestamp(times.max())
    # dates without times: the last day's purchases sit at its midnight, the day is covered whole
    covered = covered_until(times)
    gap_days = (as_of - (last if covered is None else covered)) / pd.Timedelta(days=1)
    if gap_days <= max(1.0, UNOBSERVED_WINDOW_SHARE * horizon_days):
        # the four weeks before the last purchase set the pace the empty days are judged by
        recent = times[times >= last - pd.Timedelta(days=CONTEXT_DAYS + 1)]
        ns = recent.to_numpy(dtype="datetime64[ns]").view("int64")
        last_day = pd.Timestamp(last).normalize()
        if not any(g.first > last_day for g in find_gaps(ns, end_ns=as_of.value)):
            return False
    if caller == "train_and_register":
        effect = (
            f"{min(gap_days / horizon_days, 1):.0%} of the last cutoff's {horizon_days}-day label "
            "window has no transactions at all and its customers look churned"
        )
    else:
        effect = (
            f"every customer looks inactive for at least {gap_days:.0f} days, so recency-driven "
            "risk, states and actions are inflated"
        )
    warn_user(
        f"{caller}: the purchases in the transactions end on {last.date()}, {gap_days:.0f} days "
        f"before "
        f"as_of={as_of.date()}, so {effect}. If the extract is stale, refresh it or use as_of="
        f"'{(last + pd.Timedelta(days=1)).date()}'; if the shop really had no sales (a closure), "
        "the figures are right.",
        DataQualityWarning,
    )
    return True


#: Share of the recent purchase lines in channels the model does not know that is warned about.
NEW_CHANNEL_SHARE = 0.01


def warn_of_new_channels(
    history: pd.DataFrame, as_of: pd.Timestamp, channels: tuple[str, ...] | None, *, caller: str
) -> bool:
    """DataQualityWarning when a channel the model was not trained with holds at least
    :data:`NEW_CHANNEL_SHARE` of the purchase lines of the ``CONTEXT_DAYS`` days before
    ``as_of``; True when it warned.

    The model's channel shares are fixed at training (``FeatureConfig.channels``); orders in a
    channel outside the list count in a customer's orders but in no share, so a new channel (a
    kiosk, a delivery partner) lowers every known share of the customers who use it, in silence.
    Channels are compared by their feature names (``"App"`` is ``"app"``).
    """
    if not channels or C.CHANNEL not in history.columns:
        return False
    from loyalty_ml.features.channel import channel_column

    since = as_of - pd.Timedelta(days=CONTEXT_DAYS)
    recent = ((history[C.TIMESTAMP] >= since) & (history[C.AMOUNT] >= 0)).to_numpy()
    labels = history.loc[recent, C.CHANNEL].dropna()
    if labels.empty:
        return False
    counts = labels.astype("str").value_counts()
    known = {channel_column(c) for c in channels}
    new = counts[[channel_column(label) not in known for label in counts.index]]
    if new.empty or new.sum() < NEW_CHANNEL_SHARE * counts.sum():
        return False
    named = ", ".join(f"{label!r} ({n:,})" for label, n in new.head(5).items())
    named += f" and {len(new) - 5} more" if len(new) > 5 else ""
    warn_user(
        f"{caller}: {int(new.sum()):,} of the {int(counts.sum()):,} purchase lines of the "
        f"{CONTEXT_DAYS} days before as_of={as_of.date()} ({new.sum() / counts.sum():.1%}) are in "
        f"channels the model was not trained with: {named}; it knows "
        f"{', '.join(map(repr, channels))}. Their orders count in each customer's orders but in "
        "no channel share, so those customers' channel mix reads low in every known channel. "
        "Retrain to learn the new channel, or map it to a known one (e.g. "
        f"transactions['{C.CHANNEL}'] = transactions['{C.CHANNEL}'].replace("
        f"{{{str(new.index[0])!r}: {channels[0]!r}}})).",
        DataQualityWarning,
    )
    return True


#: Days before ``as_of`` read for an extract appended twice (the latest nightly deliveries).
REPEAT_DAYS = 7
#: Share of a day's lines that repeat another line of it exactly, from which the day reads as
#: delivered twice (all of them are, counting both copies; units of one line sold as equal rows
#: are a few of a day's lines, and a table validated to keep them is not checked).
REPEATED_DAY_SHARE = 0.5
#: What the copies do, by job: the effect and the step to drop them before.
_REPEAT_EFFECTS = {
    "score_customers": ("tonight's decisions read them so", "scoring"),
    "train_and_register": (
        "the model registered tonight reads them so (its drift reference, segment thresholds "
        "and value per conversion)",
        "training",
    ),
}


def warn_if_a_day_repeats(
    transactions: pd.DataFrame, history: pd.DataFrame, cutoff: pd.Timestamp, *, caller: str
) -> bool:
    """DataQualityWarning when most lines of one of the ``REPEAT_DAYS`` days before ``cutoff``
    repeat exactly: a night's extract appended twice after validation; True when it warned.

    ``validate_transactions`` judges each piece it is given: a history and its nightly extracts
    validated apart and appended (``pd.concat(..., ignore_index=True)``) keep a retried night's
    rows twice, and validating the whole again keeps rows whose labels differ (a later version of
    the same line). Spend, basket and price features then count that day twice (orders once, by
    ``order_id``). A table whose recorded cleaning rule keeps exact duplicates is not checked.
    ``history``: the rows of ``transactions`` before ``cutoff``; ``caller``: the job
    (``score_customers`` or ``train_and_register``), which names the effect.
    """
    from loyalty_ml.schema import cleaning_report

    report = cleaning_report(transactions)
    rules = {} if report is None else {step.rule: step.action for step in report.steps}
    if rules.get("duplicate") == "keep":
        return False
    recent = history.loc[
        (history[C.TIMESTAMP] >= cutoff - pd.Timedelta(days=REPEAT_DAYS)).to_numpy()
    ]
    if len(recent) < 2:
        return False
    day = recent[C.TIMESTAMP].dt.normalize().to_numpy()
    both = pd.Series(recent.duplicated(keep=False).to_numpy(), index=day)
    share = both.groupby(level=0).mean()
    doubled = share.index[(share >= REPEATED_DAY_SHARE).to_numpy()]
    if len(doubled) == 0:
        return False
    copies = recent.duplicated(keep="first").to_numpy() & pd.Index(day).isin(doubled)
    days = ", ".join(str(pd.Timestamp(d).date()) for d in doubled)
    effect, step = _REPEAT_EFFECTS.get(caller, ("every later step reads them so", "use"))
    warn_user(
        f"{caller}: {int(copies.sum())} transaction line(s) of {days} repeat lines of the "
        f"same day exactly ({', '.join(f'{share[d]:.0%}' for d in doubled)} of the day's lines "
        "have a copy): a night's extract appended twice after validation (validating the "
        "table again keeps rows whose labels differ)? Spend, basket and price features count "
        f"them twice, and {effect}. Drop them before {step} "
        "(transactions.drop_duplicates()), or validate_transactions(..., drop_duplicates=False) "
        "if equal rows are units of one line.",
        DataQualityWarning,
    )
    return True
