"""Reading and writing the tables of the command line: CSV or Parquet, validated, written atomically."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from loyalty_ml.exceptions import SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_table_options", "read_inputs", "read_table", "required", "write_table_atomically"]

_ID_COLUMNS = ("customer_id", "order_id", "product_id", "store_id", "offer_id", "campaign_id")
_TABLE_HELP = {
    "customers": "customers file (optional)",
    "campaigns": (
        "campaign history file (optional); when scoring, also the send history of the monthly "
        "caps and the contact rule (append each night's offers to it)"
    ),
    "offers": "offers catalog file (optional)",
}


def add_table_options(p: argparse.ArgumentParser, *tables: str) -> None:
    """``--customers`` / ``--campaigns`` / ``--offers`` options, read back by :func:`read_inputs`."""
    for name in tables:
        p.add_argument(f"--{name}", type=Path, default=None, help=_TABLE_HELP[name])


def read_inputs(args: argparse.Namespace) -> dict[str, pd.DataFrame | None]:
    from loyalty_ml.schema import (
        validate_campaigns,
        validate_customers,
        validate_offers,
        validate_transactions,
    )

    tables: dict[str, pd.DataFrame | None] = {
        "transactions": validate_transactions(read_table(args.transactions, table="transactions"))
    }
    optional: dict[str, Callable[..., pd.DataFrame]] = {
        "customers": validate_customers,
        "campaigns": validate_campaigns,
        "offers": validate_offers,
    }
    for name, validate in optional.items():
        path = getattr(args, name, None)
        tables[name] = validate(read_table(path, table=name)) if path is not None else None
    for frame in tables.values():
        _show_cleaning(frame)
    return tables


def _show_cleaning(frame: pd.DataFrame | None) -> None:
    """Print a validated table's cleaning report to stderr when validation flagged or noted anything."""
    import sys

    from loyalty_ml.schema import cleaning_report

    report = None if frame is None else cleaning_report(frame)
    if report is None:
        return
    if report.notes or any(step.flagged for step in report.steps):  # a removed row is flagged
        print(str(report), file=sys.stderr)


def required(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:  # pragma: no cover - transactions are always read
        raise SchemaError("transactions are required.", table="transactions")
    return frame


def check_output_format(path: Path) -> None:
    """SchemaError unless ``path`` ends in .parquet, .pq or .csv (checked before any work)."""
    if path.suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise SchemaError(
            f"output file {str(path)!r} has an unknown format; use .parquet or .csv.",
            table="scores",
        )


def write_table_atomically(frame: pd.DataFrame, path: Path, *, excel_safe: bool = False) -> None:
    """Write ``frame`` as Parquet or CSV (by suffix) so that ``path`` is never half-written.

    ``excel_safe`` (CSV only): text cells a spreadsheet would run as formulas (``=``, ``+``,
    ``-``, ``@``...) get a leading ``'`` (:func:`loyalty_ml._csv_text.spreadsheet_safe`); off by
    default, as the prefix changes the value a program loading the file reads.

    The data goes to a temporary file in the same folder (same file system), which then replaces
    ``path`` in one ``os.replace``; on any error the temporary file is removed and ``path`` is left
    as it was.
    """
    import tempfile

    check_output_format(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    # mkstemp makes the file 0600; the output is read by other services (a CRM loader): give it
    # the mode of the file it replaces, else what the umask gives a new file
    os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
    try:
        if suffix == ".csv":
            from loyalty_ml._csv_text import spreadsheet_safe

            (spreadsheet_safe(frame) if excel_safe else frame).to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask (read by setting it, then restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _whole_float_ids(ids: pd.Series) -> pd.Series:
    """``40000.0`` as ``40000`` when every id is written so (pandas writes an integer id column
    with a missing value as floats); ids such as ``000123`` or ``12.5`` are left as they are."""
    present = ids.dropna()
    if len(present) and present.str.fullmatch(r"-?[1-9]\d*\.0+|0\.0+").all():
        return ids.str.replace(r"\.0+$", "", regex=True)
    return ids


#: Separators of exports without a comma: European (;), tab, pipe; blanks last.
_SEPARATORS = (";", "\t", "|")


def _separator(file: Path) -> str:
    """The header line's separator: a comma when it has one, else ``;``, tab, ``|`` or blanks.

    Spreadsheets in much of Europe write ``;`` (the comma is the decimal mark) and older exports
    (CDNOW) align columns with blanks; read with commas, either would be one column. The header is
    the first line that is not blank, as pandas reads it.
    """
    import gzip
    from itertools import islice

    opener = gzip.open if file.suffix.lower() == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8-sig", errors="replace") as handle:
            header = next((line for line in islice(handle, 1000) if line.strip()), "")
    except OSError:
        return ","  # the reader's own error names the file
    if "," in header or not header.strip():
        return ","
    for sep in _SEPARATORS:
        if sep in header:
            return sep
    return r"\s+" if len(header.split()) > 1 else ","


def read_table(path: Path, *, table: str) -> pd.DataFrame:
    """Read a CSV or Parquet file, choosing the reader from the file suffix."""
    import pandas as pd

    if not path.exists():
        raise SchemaError(f"{table} file {str(path)!r} does not exist.", table=table)
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith(".parquet") or suffix.endswith(".pq"):
        reader: Callable[[Path], pd.DataFrame] = pd.read_parquet
    elif suffix.endswith((".csv", ".csv.gz")):
        # ids are text in a CSV: card numbers such as 000123 keep their leading zeros (pandas would
        # read 000123 and 123 as the same integer); the validators match text and integer ids
        def reader(file: Path) -> pd.DataFrame:
            frame = pd.read_csv(
                file, dtype=dict.fromkeys(_ID_COLUMNS, "string"), sep=_separator(file)
            )
            return frame.assign(
                **{c: _whole_float_ids(frame[c]) for c in _ID_COLUMNS if c in frame.columns}
            )
    else:
        raise SchemaError(
            f"{table} file {str(path)!r} has an unknown format; use .csv, .csv.gz or .parquet.",
            table=table,
        )
    try:
        return reader(path)
    # empty, truncated or mislabelled files: pandas and pyarrow raise ValueError subclasses
    # (EmptyDataError, ParserError, ArrowInvalid), OSError or UnicodeDecodeError (a ValueError)
    except (OSError, ValueError) as exc:
        ragged = "Expected" in str(exc) and "fields in line" in str(exc)
        raise SchemaError(
            f"Cannot read the {table} file {str(path)!r} as {suffix.lstrip('.')}: "
            f"{type(exc).__name__}: {exc}"
            + (
                ". A line has more fields than the header: rows with other columns were appended "
                "as text (e.g. `loyalty-ml score --sends` rows, which add policy_offer_id). "
                "Append tables by their column names, e.g. pd.concat of the two files read with "
                "pandas."
                if ragged
                else ""
            ),
            table=table,
        ) from exc
