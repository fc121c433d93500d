"""Loader for Kevin Hillstrom's MineThatData e-mail experiment (2008; 64,000 customers, 3 arms)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pandas as pd

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.schema import columns as C

__all__ = ["HILLSTROM_ARMS", "HILLSTROM_COVARIATES", "HILLSTROM_OUTCOMES", "load_hillstrom"]

#: ``segment`` values -> arm names used by the library (the control arm is ``"control"``).
HILLSTROM_ARMS = {
    "Mens E-Mail": "mens_email",
    "Womens E-Mail": "womens_email",
    "No E-Mail": C.CONTROL,
}
HILLSTROM_COVARIATES = (
    "recency",
    "history_segment",
    "history",
    "mens",
    "womens",
    "zip_code",
    "newbie",
    "channel",
)
HILLSTROM_OUTCOMES = ("visit", "conversion", "spend")
_CATEGORICAL = ("history_segment", "zip_code", "channel")


def load_hillstrom(path: str | Path) -> pd.DataFrame:
    """Read the Hillstrom experiment as one frame indexed by ``customer_id`` (the row number).

    Columns: the eight covariates (:data:`HILLSTROM_COVARIATES`; ``history_segment``, ``zip_code`` and
    ``channel`` as pandas categories), ``offer_id`` (the arm: ``mens_email``, ``womens_email`` or
    ``control``; :data:`HILLSTROM_ARMS`), and the outcomes ``visit``, ``conversion`` (int 0/1) and
    ``spend`` (float), all measured in the two weeks after the e-mail. Rows keep file order.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Hillstrom file not found: {path}")
    try:
        raw = pd.read_csv(path)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        # not a CSV (a parquet file, an empty file, a .csv.gz cut short...)
        raise SchemaError(
            f"Cannot read the Hillstrom file {path.name} as CSV: {type(exc).__name__}: {exc}",
            table="hillstrom",
        ) from exc
    needed = [*HILLSTROM_COVARIATES, "segment", *HILLSTROM_OUTCOMES]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise SchemaError(
            f"Hillstrom file {path.name} lacks columns {missing}; it has {list(raw.columns)}.",
            table="hillstrom",
            column=missing[0],
        )
    unknown = sorted(
        {str(v) if pd.notna(v) else "<missing>" for v in raw["segment"].unique()}
        - set(HILLSTROM_ARMS)
    )
    if unknown:
        raise SchemaError(
            f"Hillstrom segment has unknown arms {unknown}; expected {sorted(HILLSTROM_ARMS)}.",
            table="hillstrom",
            column="segment",
        )
    out = raw[list(HILLSTROM_COVARIATES)].copy()
    for col in _CATEGORICAL:
        out[col] = out[col].astype("category")
    for col in (c for c in HILLSTROM_COVARIATES if c not in _CATEGORICAL):
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = (values.isna() & raw[col].notna()).to_numpy()
        if bad.any():
            # a text cell would reach the models as a category of its own, not a number
            raise SchemaError(
                f"Hillstrom {col} must be a number; {int(bad.sum())} rows are not (e.g. "
                f"{raw.loc[bad, col].head(5).tolist()}). Fix or drop those rows.",
                table="hillstrom",
                column=col,
            )
        out[col] = values
    out[C.OFFER_ID] = raw["segment"].map(HILLSTROM_ARMS).astype("str")
    for col in ("visit", "conversion"):
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = ~values.isin([0, 1]).to_numpy()
        if bad.any():
            raise SchemaError(
                f"Hillstrom {col} must be 0 or 1; {int(bad.sum())} rows are not (e.g. "
                f"{raw.loc[bad, col].head(5).tolist()}). Fix or drop those rows.",
                table="hillstrom",
                column=col,
            )
        out[col] = values.astype("int64")
    spend = pd.to_numeric(raw["spend"], errors="coerce")
    if spend.isna().any():
        raise SchemaError(
            f"Hillstrom spend is missing or not a number on {int(spend.isna().sum())} rows.",
            table="hillstrom",
            column="spend",
        )
    out["spend"] = spend.astype("float64")
    out.index = pd.RangeIndex(len(out), name=C.CUSTOMER_ID)
    return out
