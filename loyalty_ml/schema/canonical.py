"""Pandera schemas of the canonical tables: the final guard of every validator.

The validators coerce raw input into canonical form; these schemas then check the result (dtypes,
nullability, value ranges), so a canonical table is canonical by construction and by check. Other code
and tests can use them directly, e.g. ``TRANSACTIONS_SCHEMA.validate(frame)``.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from loyalty_ml.exceptions import SchemaError, format_examples
from loyalty_ml.schema import columns as C

__all__ = ["CAMPAIGNS_SCHEMA", "TRANSACTIONS_SCHEMA", "check_canonical"]


def _is_id(series: pd.Series) -> bool:
    return bool(pd.api.types.is_integer_dtype(series) or pd.api.types.is_string_dtype(series))


_ID = pa.Column(checks=pa.Check(_is_id, element_wise=False, name="int64_or_str"), nullable=False)


def _discount_given_on_purchases(frame: pd.DataFrame) -> pd.Series | bool:
    """A discount is money given away (>= 0); only a return line may reverse it (a refund)."""
    if C.DISCOUNT not in frame.columns:
        return True
    discount = frame[C.DISCOUNT]
    return discount.isna() | (discount >= 0) | (frame[C.AMOUNT] < 0)


TRANSACTIONS_SCHEMA = pa.DataFrameSchema(
    {
        C.CUSTOMER_ID: _ID,
        C.TIMESTAMP: pa.Column("datetime64[ns]", nullable=False),
        C.AMOUNT: pa.Column("float64", nullable=False),
        C.QUANTITY: pa.Column("float64", nullable=True, required=False),
        C.DISCOUNT: pa.Column("float64", nullable=True, required=False),
        C.MARGIN: pa.Column("float64", nullable=True, required=False),
    },
    checks=pa.Check(_discount_given_on_purchases, name="discount_ge_0_except_on_returns"),
    name="transactions",
    strict=False,
)

CAMPAIGNS_SCHEMA = pa.DataFrameSchema(
    {
        C.CAMPAIGN_ID: pa.Column(nullable=False),
        C.CUSTOMER_ID: _ID,
        C.OFFER_ID: pa.Column(nullable=False),
        C.SENT_AT: pa.Column("datetime64[ns]", nullable=False),
        C.REDEEMED: pa.Column(bool, nullable=False),
        C.REDEEMED_AT: pa.Column("datetime64[ns]", nullable=True, required=False),
    },
    name="campaigns",
    strict=False,
)


def check_canonical(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Validate ``frame`` against a canonical schema; failures become one :class:`SchemaError`."""
    try:
        return schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        lines = []
        for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
            shown = format_examples(group["failure_case"].tolist(), total=len(group))
            lines.append(f"column {column!r} fails {check}: {shown}")
        first = cases["column"].iloc[0] if len(cases) else None
        raise SchemaError(
            f"{schema.name}: the table is not in canonical form:\n  " + "\n  ".join(lines),
            table=str(schema.name),
            column=None if first is None else str(first),
        ) from None
