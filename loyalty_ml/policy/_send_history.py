"""Past sends, for :func:`.offers.choose_offers`' monthly caps (``max_per_month``) and its cool-down
(``min_days_between_offers``): who heard from the programme lately, and how often this month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    format_examples,
    format_ids,
    index_hint,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_label, coerce_timestamp, plus_days, to_timestamp
from loyalty_ml.schema._coerce_time import written_with_offsets
from loyalty_ml.schema._id_text import id_texts

__all__ = [
    "Sends",
    "capped_offers",
    "cooling_down",
    "customer_texts",
    "read_sends",
    "warn_if_no_send_matches",
]


@dataclass(frozen=True)
class Sends:
    """The send history read once: the decision date and the sends on one clock, offers as text."""

    when: pd.Timestamp
    sent: pd.Series
    offer_ids: pd.Series
    customers: np.ndarray


def read_sends(
    history: pd.DataFrame | None, as_of: str | pd.Timestamp | None, cool_down: int | None
) -> Sends | None:
    """``history`` read for the caps and the cool-down (None without a history)."""
    if history is None:
        if cool_down is not None:
            raise ConfigError(
                f"choose_offers: min_days_between_offers={cool_down} needs the send history; pass "
                "history (customer_id, offer_id, sent_at; e.g. the campaigns table) and as_of."
            )
        return None
    if as_of is None:
        raise ConfigError(
            "choose_offers: history was given without as_of; pass the decision date so that the "
            "monthly caps (max_per_month) and the cool-down (min_days_between_offers) can be "
            "counted."
        )
    missing = [c for c in (C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT) if c not in history.columns]
    if missing:
        raise DataError(
            f"choose_offers: history lacks columns {missing}; it has {list(history.columns)}."
            f"{index_hint(history, missing)}"
        )
    when = to_timestamp(as_of, name="as_of", keep_zone=True)
    sent = _send_dates(history[C.SENT_AT])
    if sent.isna().any():
        # a send without a date cannot be placed in a month; dropping it could let a capped offer
        # through
        raise DataError(
            f"choose_offers: history.{C.SENT_AT} is missing on {int(sent.isna().sum())} rows; "
            "every past send needs its date for the monthly caps and the cool-down. Fill or drop "
            "those rows."
        )
    # offers by text, as validate_campaigns reads them: 101, 101.0 and " 101" are offer "101"
    offer_ids = coerce_label(history[C.OFFER_ID], table="history", column=C.OFFER_ID)
    if offer_ids.isna().any():
        # a send of no known offer: dropping it could let a resting or capped customer through
        raise DataError(
            f"choose_offers: history.{C.OFFER_ID} is missing on {int(offer_ids.isna().sum())} "
            f"rows (customers {format_ids(history.loc[offer_ids.isna(), C.CUSTOMER_ID].tolist())}"
            "); every past send needs the offer it sent (the control label for control rows). "
            "Fill or drop those rows."
        )
    zone = getattr(sent.dtype, "tz", None)
    if zone is not None and when.tzinfo is None:
        try:
            when = when.tz_localize(zone)  # a naive decision date is on the clock of the sends
        except ValueError as exc:  # a clock time skipped or repeated by a daylight-saving change
            raise ConfigError(
                f"choose_offers: as_of={as_of!r} does not name one instant in {zone}: a "
                f"daylight-saving change skips or repeats that clock time ({exc}). Pass a time "
                "outside the changed hour (say 04:00), or an aware as_of."
            ) from None
    elif zone is not None:
        # the month and the days of the rules are those of the sends' clock, however as_of is written
        when = when.tz_convert(zone)
    elif when.tzinfo is not None:
        raise ConfigError(
            f"choose_offers: as_of={as_of!r} is time-zone aware but history.{C.SENT_AT} is naive; "
            "pass a naive as_of on the clock of the sends."
        )
    customers = id_texts(history[C.CUSTOMER_ID], caller="choose_offers")
    return Sends(when, sent, offer_ids, np.asarray(customers))


def _send_dates(raw: pd.Series) -> pd.Series:
    """``sent_at`` as dates, numbers refused as ``validate_campaigns`` refuses them (20240710 and
    epoch seconds are not nanoseconds of 1970); text with several UTC offsets put on UTC. Text
    without offsets is read as ``validate_campaigns`` reads it: "03/06/2024" is 3 June when some
    row can only be day-first, and warns when no row tells (pandas alone reads it 6 March, and a
    cool-down of 14 days would let a customer sent an offer a week ago through)."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return coerce_timestamp(raw, table="history", column=C.SENT_AT, allow_na=True)
    text = raw.dtype == object or isinstance(raw.dtype, pd.StringDtype)
    if text and not written_with_offsets(raw):
        return coerce_timestamp(raw, table="history", column=C.SENT_AT, allow_na=True)
    try:
        return pd.to_datetime(raw)
    except (ValueError, TypeError):  # mixed offsets, or aware next to naive values
        return coerce_timestamp(raw, table="history", column=C.SENT_AT, allow_na=True)


def customer_texts(index: pd.Index) -> pd.Index:
    """The plan's customer ids as the send history's are read (by text: 17, "17" and 17.0 are one
    customer); computed once per plan for the rules below."""
    return pd.Index(id_texts(index, caller="choose_offers"))


def warn_if_no_send_matches(sends: Sends, ids: pd.Index, cool_down: int | None) -> None:
    """DataQualityWarning when the sends the rules read (this month's, and the cool-down's days)
    went to no customer of ``ids`` (:func:`customer_texts`) and their ids are written another way
    (``"C0001"`` against ``1``, ``"00017"`` against ``17``): the caps and the cool-down would be
    off in silence. Ids of the same form that merely do not meet are no sign of it (a plan for
    one segment, or a policy's risk band, may well have had none of its customers sent anything),
    and say nothing."""
    when = sends.when
    start = when.normalize().replace(day=1)
    if cool_down is not None:
        start = min(start, plus_days(when, -cool_down))
    read = ((sends.sent >= start) & (sends.sent < when)).to_numpy(dtype=bool)
    if not read.any() or not len(ids):
        return
    sent_to = pd.Index(pd.unique(sends.customers[read]))
    if ids.isin(sent_to).any() or not _id_forms(ids).isdisjoint(_id_forms(sent_to)):
        return
    warn_user(
        f"choose_offers: the {int(read.sum())} sends of history that the caps and the cool-down "
        f"read (since {start.date()}) went to none of effects' customers, and the two write ids "
        f"differently: history has ids such as {format_examples(list(sent_to[:3]))}, effects "
        f"{format_examples(list(ids[:3]))}. Write them alike (a prefix, leading zeros), or "
        "nobody is held back by max_per_month or min_days_between_offers.",
        DataQualityWarning,
    )


def _id_forms(ids: pd.Index) -> set[str]:
    """How ids are written: a number (``"17"``), a number with leading zeros (``"0017"``), or
    text (``"C17"``); judged on the first 10,000."""
    text = pd.Series(ids[:10_000], dtype="string").str.strip()
    digits = text.str.fullmatch(r"-?\d+").fillna(False)
    padded = digits & text.str.match(r"-?0\d").fillna(False)
    forms = {"number"} if (digits & ~padded).any() else set()
    if padded.any():
        forms.add("zero-padded")
    if (~digits).any():
        forms.add("text")
    return forms


def cooling_down(sends: Sends, ids: pd.Index, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Customers of ``ids`` (:func:`customer_texts`) sent any offer in the ``days`` days before
    as_of, and those kept in a control group then without a send.

    Any offer counts, including one the catalog no longer holds: the rule is about how often a
    customer hears from the programme, not about one reward. A control row counts too: an offer
    inside an experiment's response window would blur what its control group measures.
    """
    when = sends.when
    recent = ((sends.sent >= plus_days(when, -days)) & (sends.sent < when)).to_numpy(dtype=bool)
    control = sends.offer_ids.eq(C.CONTROL).to_numpy(dtype=bool)
    contacted = np.asarray(ids.isin(sends.customers[recent & ~control]))
    controlled = np.asarray(ids.isin(sends.customers[recent & control])) & ~contacted
    return contacted, controlled


def capped_offers(history: pd.DataFrame, sends: Sends, ids: pd.Index, offers: list) -> np.ndarray:
    """True per (customer of ``ids``, offer) whose ``max_per_month`` is reached in the month of
    as_of (``ids`` from :func:`customer_texts`)."""
    capped = np.zeros((len(ids), len(offers)), dtype=bool)
    when, sent = sends.when, sends.sent
    month_start = when.normalize().replace(day=1)
    recent = ((sent >= month_start) & (sent < when)).to_numpy()
    # ids by value and offers by text, as everywhere else: 17, "17" and 17.0 are one customer, and
    # an offer id read as the integer 101 is offer "101"
    customers = sends.customers[recent]
    offer_ids = sends.offer_ids[recent].to_numpy()
    # one send is one row: a row appended twice (a retried feedback step, perhaps stamped a few
    # minutes later) is one send, not two; but a campaign id used every night or week (or left
    # empty) sends again on each day it sends
    campaign = (
        history.loc[recent, C.CAMPAIGN_ID].astype("string").fillna("").to_numpy()
        if C.CAMPAIGN_ID in history.columns
        else np.full(int(recent.sum()), "", dtype=object)  # as a column of empty campaign ids
    )
    day = sent[recent].dt.normalize().to_numpy()
    sends_once = ~pd.DataFrame(
        {"c": customers, "o": offer_ids, "k": campaign, "d": day}
    ).duplicated()
    counts = (
        pd.Series(
            1,
            index=pd.MultiIndex.from_arrays(
                [customers[sends_once.to_numpy()], offer_ids[sends_once.to_numpy()]]
            ),
        )
        .groupby(level=[0, 1])
        .size()
    )
    for j, offer in enumerate(offers):
        if offer.max_per_month is None:
            continue
        made = counts.xs(offer.offer_id, level=1) if offer.offer_id in set(offer_ids) else None
        per_customer = (
            np.zeros(len(ids)) if made is None else made.reindex(ids).fillna(0).to_numpy()
        )
        capped[:, j] = per_customer >= offer.max_per_month
    return capped
