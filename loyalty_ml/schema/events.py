"""Contract of the optional events table: engagement (app opens, e-mail clicks, visits) and
feedback (ratings, NPS answers, complaints), one dated row per event."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, SchemaError, format_examples
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._bad_rows import bad_rows
from loyalty_ml.schema._coerce import (
    coerce_customer_id,
    coerce_float,
    coerce_text,
    coerce_timestamp,
    refuse_repeated_columns,
    require_columns,
)
from loyalty_ml.schema._coerce_time import (
    CLOCK_ATTR,
    check_timezone,
    table_clock,
    written_with_offsets,
)
from loyalty_ml.schema.column_map import ColumnMap, check_column_map
from loyalty_ml.schema.report import CleaningReport
from loyalty_ml.schema.tables import exact_repeats
from loyalty_ml.schema.transactions import REPORT_ATTR

__all__ = ["validate_events"]

TABLE = "events"
#: A working column: each row's position in the table given.
_POSITION = "__position"
#: An event kind longer than this, or of more words, is a sentence someone wrote, not a kind.
_MAX_KIND_CHARS = 60
_MAX_KIND_WORDS = 5


def _refuse_free_text_kinds(kinds: pd.Series) -> None:
    """SchemaError when ``event`` holds sentences (a review's text where its kind belongs): the
    kinds name feature columns, and free text must never become a feature."""
    # the distinct kinds only: millions of app opens share a handful of labels
    codes, distinct = pd.factorize(kinds.astype("string"))
    text = pd.Series(distinct, dtype="string")
    long = (text.str.len() > _MAX_KIND_CHARS) | (text.str.count(r"\S+") > _MAX_KIND_WORDS)
    bad = np.append(long.fillna(False).to_numpy(dtype=bool), False)[codes]  # -1: missing
    if bad.any():
        raise SchemaError(
            f"{TABLE}.{C.EVENT} holds text that reads as free text, not an event kind "
            f"({int(bad.sum())} row(s) longer than {_MAX_KIND_CHARS} characters or "
            f"{_MAX_KIND_WORDS} words, {bad_rows(kinds, bad)}). Put the kind in {C.EVENT!r} "
            "(e.g. 'review'), the score in 'value', and leave the text out: free text never "
            "becomes a feature.",
            table=TABLE,
            column=C.EVENT,
        )


def _drop_missing(
    out: pd.DataFrame, missing: np.ndarray, *, column: str, report: CleaningReport
) -> pd.DataFrame:
    """``out`` without the rows of ``missing``, counted in ``report`` and warned about."""
    report.add(
        f"missing_{column}",
        f"rows without {column} dropped",
        flagged=int(missing.sum()),
        removed=int(missing.sum()),
    )
    if missing.any():
        warn_user(
            f"{TABLE}: {int(missing.sum()):,} row(s) have no {column} "
            f"(first rows {format_examples(out.index[missing].tolist())}); they are dropped: an "
            "event needs a customer, a time and a kind to be placed before or after a cut-off.",
            DataQualityWarning,
        )
    return out.loc[~missing]


def validate_events(
    raw: pd.DataFrame,
    *,
    columns: ColumnMap | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Check an events table (engagement and feedback) and return its canonical copy.

    One row per event. Required: ``customer_id``, ``timestamp`` and ``event`` (the kind as text:
    ``"app_open"``, ``"email_click"``, ``"review"``, ``"nps"``, ``"complaint"``...). Optional:
    ``value``, the number the event carries (a rating 1-5, an NPS answer 0-10; missing for plain
    engagement).

    - Rows without a customer, a time or a kind are dropped and counted (report and
      :class:`DataQualityWarning`): they cannot be placed before or after a cut-off.
    - Timestamps are read as ``validate_transactions`` reads them: zone-aware values are put on
      the clock of ``timezone`` (UTC by default); give the ``timezone`` the transactions were
      validated with.
    - Kinds lose surrounding blanks; a kind that reads as a sentence is refused, and so is a
      ``value`` that is not a number: free text never becomes a feature.
    - Every other column (a review's text, a device, an e-mail address) is left out and listed in
      the report (``left_out``), with a :class:`DataQualityWarning` when it holds text.
    - A row that repeats another exactly, in every column given, is kept once (an export
      appended twice), counted. Rows told apart only by a column left out (Retail Rocket's
      ``itemid``: two items put in the cart at the same millisecond) are two events.

    Returns the rows sorted by time, customer and kind, with a fresh index; the cleaning report is
    in ``attrs`` (:func:`loyalty_ml.cleaning_report` reads it).

    Examples
    --------
    >>> raw = pd.DataFrame({"user": [2, 1, 1], "at": ["2024-01-05", "2024-01-05", "2024-01-02"],
    ...                     "event": ["nps", " app_open", "review"], "value": [9, None, 4]})
    >>> ev = validate_events(raw, columns=ColumnMap(customer_id="user", timestamp="at"))
    >>> ev.values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[1, Timestamp('2024-01-02 00:00:00'), 'review', 4.0],
     [1, Timestamp('2024-01-05 00:00:00'), 'app_open', nan],
     [2, Timestamp('2024-01-05 00:00:00'), 'nps', 9.0]]
    """
    if not isinstance(raw, pd.DataFrame):
        raise SchemaError(f"{TABLE} must be a pandas DataFrame; got {type(raw).__name__}.")
    frame = check_column_map(columns, f"validate_{TABLE}").apply(raw, table=TABLE)
    require_columns(frame, C.EVENT_REQUIRED, table=TABLE)
    refuse_repeated_columns(frame, what=TABLE, table=TABLE)
    report = CleaningReport(table=TABLE, rows_in=len(frame))
    canonical = [c for c in C.EVENT_COLUMNS if c in frame.columns]
    extra = [c for c in frame.columns if c not in canonical]
    if extra:
        report.left_out = [str(c) for c in extra]
        texts = [
            str(c)
            for c in extra
            if not pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_datetime64_any_dtype(frame[c])
        ]
        if texts:
            report.notes.append(f"left out text columns {texts}")
            warn_user(
                f"{TABLE}: columns {format_examples(texts)} hold text and are left out: free text "
                f"(a review, a complaint) never becomes a feature. The events features read the "
                f"kind ({C.EVENT!r}) and the number ({C.EVENT_VALUE!r}) only; put a rating or "
                "score there.",
                DataQualityWarning,
            )
    out = frame[canonical].copy()
    # each row's position in frame: repeats are judged on every column given, left out or not
    out[_POSITION] = np.arange(len(frame))
    out[C.CUSTOMER_ID] = coerce_customer_id(out[C.CUSTOMER_ID], table=TABLE)
    out = _drop_missing(
        out, out[C.CUSTOMER_ID].isna().to_numpy(), column=C.CUSTOMER_ID, report=report
    )
    if out[C.CUSTOMER_ID].dtype == "Int64":
        out[C.CUSTOMER_ID] = out[C.CUSTOMER_ID].astype("int64")
    aware = isinstance(out[C.TIMESTAMP].dtype, pd.DatetimeTZDtype) or written_with_offsets(
        out[C.TIMESTAMP]
    )
    clock = check_timezone(timezone) if timezone is not None or aware else table_clock(raw)
    out[C.TIMESTAMP] = coerce_timestamp(
        out[C.TIMESTAMP], table=TABLE, column=C.TIMESTAMP, timezone=timezone, allow_na=True
    )
    out = _drop_missing(out, out[C.TIMESTAMP].isna().to_numpy(), column=C.TIMESTAMP, report=report)
    kinds = coerce_text(out[C.EVENT], table=TABLE, column=C.EVENT).astype("string").str.strip()
    kinds = kinds.mask(kinds == "")
    out[C.EVENT] = kinds
    out = _drop_missing(out, kinds.isna().to_numpy(), column=C.EVENT, report=report)
    _refuse_free_text_kinds(out[C.EVENT])
    out[C.EVENT] = out[C.EVENT].astype("str")
    if C.EVENT_VALUE in out.columns:
        out[C.EVENT_VALUE] = coerce_float(
            out[C.EVENT_VALUE], table=TABLE, column=C.EVENT_VALUE, allow_na=True
        )
    given = pd.concat(
        [
            out[canonical].reset_index(drop=True),
            frame[extra].iloc[out[_POSITION].to_numpy()].reset_index(drop=True),
        ],
        axis=1,
    )
    repeated = exact_repeats(given, [C.CUSTOMER_ID, C.TIMESTAMP, C.EVENT])
    out = out.drop(columns=_POSITION)
    report.add(
        "duplicate",
        "rows repeating another exactly kept once",
        flagged=int(repeated.sum()),
        removed=int(repeated.sum()),
    )
    if repeated.any():
        warn_user(
            f"{TABLE}: {int(repeated.sum()):,} rows repeat another row exactly (every column "
            "given); each is kept once. An export appended twice looks like this.",
            DataQualityWarning,
        )
        out = out.loc[~repeated]
    order = [C.TIMESTAMP, C.CUSTOMER_ID, *canonical[2:]]  # a shuffled table: the same copy
    out = out.sort_values(order, kind="stable").reset_index(drop=True)
    report.rows_out = len(out)
    out.attrs = {REPORT_ATTR: report.to_json()}
    if clock is not None:
        out.attrs[CLOCK_ATTR] = clock
    return out
