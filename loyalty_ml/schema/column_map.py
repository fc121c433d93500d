"""Map a user's own column names to the canonical ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import pandas as pd

from loyalty_ml.exceptions import ConfigError, SchemaError, format_examples
from loyalty_ml.schema import columns as C

__all__ = ["ColumnMap", "check_column_map"]


@dataclass(frozen=True, kw_only=True)
class ColumnMap:
    """Names of the canonical columns in the user's table.

    Every field is the user's column name for the canonical column of the same name; ``None`` means the
    table already uses the canonical name (or does not have the column). One ``ColumnMap`` can describe
    transactions, customers, offers, campaigns and events: only the fields that belong to the table
    are used.

    Examples
    --------
    >>> cm = ColumnMap(customer_id="Customer ID", timestamp="InvoiceDate")
    >>> cm.renames(["Customer ID", "InvoiceDate", "amount"])
    {'Customer ID': 'customer_id', 'InvoiceDate': 'timestamp'}
    """

    customer_id: str | None = None
    timestamp: str | None = None
    amount: str | None = None
    order_id: str | None = None
    quantity: str | None = None
    product_id: str | None = None
    category: str | None = None
    channel: str | None = None
    store_id: str | None = None
    discount: str | None = None
    margin: str | None = None
    signup_date: str | None = None
    age_band: str | None = None
    gender: str | None = None
    income_band: str | None = None
    region: str | None = None
    tier: str | None = None
    points_balance: str | None = None
    consent_marketing: str | None = None
    consent_profiling: str | None = None
    offer_id: str | None = None
    cost_per_redemption: str | None = None
    cost_per_send: str | None = None
    kind: str | None = None
    min_basket: str | None = None
    max_per_month: str | None = None
    breakage: str | None = None
    stackable: str | None = None
    campaign_id: str | None = None
    sent_at: str | None = None
    redeemed: str | None = None
    redeemed_at: str | None = None
    event: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        given = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        for canonical, user in given.items():
            if not isinstance(user, str):
                raise ConfigError(
                    f"ColumnMap.{canonical} must be a column name (str); got {user!r}. "
                    f"Pass the name of the column in your table that holds {canonical!r}."
                )
        seen: dict[str, str] = {}
        for canonical, user in given.items():
            if user in seen:
                raise ConfigError(
                    f"ColumnMap maps column {user!r} to both {seen[user]!r} and {canonical!r}. "
                    "Each of your columns can stand for one canonical column only."
                )
            seen[user] = canonical

    @classmethod
    def from_dict(cls, mapping: Mapping[str, str]) -> ColumnMap:
        """Build from ``{canonical_name: user_name}``, refusing unknown canonical names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ConfigError(
                f"ColumnMap got unknown canonical column(s) {unknown}. Known: {sorted(known)}."
            )
        return cls(**dict(mapping))

    def renames(self, available: list[str] | pd.Index) -> dict[str, str]:
        """``{user_name: canonical_name}`` for the mapped columns present in ``available``."""
        present = set(available)
        return {
            user: f.name
            for f in fields(self)
            if (user := getattr(self, f.name)) is not None and user in present
        }

    def apply(self, frame: pd.DataFrame, *, table: str) -> pd.DataFrame:
        """Return ``frame`` with mapped columns renamed to their canonical names (a new frame).

        Raises
        ------
        SchemaError
            When a mapped column is not in the frame, or a canonical name would appear twice.
        """
        if isinstance(frame.columns, pd.MultiIndex):
            raise SchemaError(
                f"{table} has {frame.columns.nlevels}-level (MultiIndex) columns, e.g. "
                f"{format_examples(list(frame.columns[:3]))}; a table needs one name per column. "
                "Flatten them first, e.g. frame.columns = ['_'.join(map(str, c)) for c in "
                "frame.columns].",
                table=table,
            )
        mapped = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}
        missing = {
            canonical: user for canonical, user in mapped.items() if user not in frame.columns
        }
        # A mapping for a column the table does not have is only an error when the canonical name is
        # also absent: one ColumnMap may serve several tables.
        missing = {
            canonical: user for canonical, user in missing.items() if canonical not in frame.columns
        }
        relevant = _TABLE_COLUMNS.get(table)
        if relevant is not None:
            missing = {c: u for c, u in missing.items() if c in relevant}
            # a name several tables share (``channel``: the sale's, the offer's) may describe
            # another table; only this table's required columns must then be there
            required = _REQUIRED.get(table, frozenset())
            missing = {
                c: u
                for c, u in missing.items()
                if c in required
                or not any(c in cols for t, cols in _TABLE_COLUMNS.items() if t != table)
            }
        if missing:
            pairs = ", ".join(f"{c}={u!r}" for c, u in missing.items())
            as_text = {str(c) for c in frame.columns if not isinstance(c, str)}
            fix = (
                "Its column labels are not text (e.g. from pd.read_csv(..., header=None)): name "
                "them first, e.g. frame.columns = frame.columns.astype(str)."
                if as_text & set(missing.values())
                else "Fix the names in the ColumnMap."
            )
            raise SchemaError(
                f"{table}: the ColumnMap names column(s) that are not in the table ({pairs}). "
                f"The table has: {format_examples(list(frame.columns), limit=20)}. {fix}",
                table=table,
                column=next(iter(missing)),
            )
        renames = self.renames(list(frame.columns))
        clashes = [
            canonical
            for user, canonical in renames.items()
            if canonical in frame.columns and canonical != user
        ]
        if clashes:
            raise SchemaError(
                f"{table}: column(s) {clashes} exist already and are also mapped from other columns by "
                "the ColumnMap. Drop or rename one of them first.",
                table=table,
                column=clashes[0],
            )
        return frame.rename(columns=renames)


_TABLE_COLUMNS: dict[str, frozenset[str]] = {
    "transactions": frozenset(C.TRANSACTION_COLUMNS),
    "customers": frozenset(
        (
            C.CUSTOMER_ID,
            C.SIGNUP_DATE,
            C.CONSENT_MARKETING,
            C.CONSENT_PROFILING,
            C.AGE_BAND,
            C.GENDER,
            C.INCOME_BAND,
            C.REGION,
            C.TIER,
            C.POINTS_BALANCE,
        )
    ),
    "offers": frozenset(
        (C.OFFER_ID, C.COST_PER_REDEMPTION, C.COST_PER_SEND, C.KIND, C.OFFER_CHANNEL)
    ),
    "campaigns": frozenset(
        (C.CAMPAIGN_ID, C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT, C.REDEEMED, C.REDEEMED_AT)
    ),
    "events": frozenset(C.EVENT_COLUMNS),
}

_REQUIRED: dict[str, frozenset[str]] = {
    "transactions": frozenset(C.TRANSACTION_REQUIRED),
    "customers": frozenset((C.CUSTOMER_ID,)),
    "offers": frozenset((C.OFFER_ID, C.COST_PER_REDEMPTION)),
    "campaigns": frozenset((C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT)),
    "events": frozenset(C.EVENT_REQUIRED),
}


def check_column_map(columns: object, caller: str) -> ColumnMap:
    """``columns`` as a ColumnMap (None: the canonical names); a ConfigError for anything else,
    with the ColumnMap to write when it is a dict of names."""
    if columns is None:
        return ColumnMap()
    if isinstance(columns, ColumnMap):
        return columns
    hint = ""
    if isinstance(columns, Mapping):
        canonical = {f.name for f in fields(ColumnMap)}
        pairs = {
            (str(v) if str(v) in canonical else str(k)): (str(k) if str(v) in canonical else str(v))
            for k, v in columns.items()
        }
        if set(pairs) <= canonical:
            hint = (
                " Write it as ColumnMap(" + ", ".join(f"{c}={u!r}" for c, u in pairs.items()) + ")."
            )
    raise ConfigError(
        f"{caller}: the 'columns' parameter must be a loyalty_ml.ColumnMap (canonical name = your "
        f"column name); got {type(columns).__name__}.{hint}"
    )
