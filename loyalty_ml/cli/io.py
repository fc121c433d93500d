"""Reading and writing the tables of the command line: CSV or Parquet, validated, written atomically."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.schema._coerce import strip_whole_float_text

if TYPE_CHECKING:
    import pandas as pd

    from loyalty_ml.schema.column_map import ColumnMap

__all__ = [
    "add_cleaning_options",
    "add_table_options",
    "cleaning_rules",
    "column_map",
    "read_inputs",
    "read_table",
    "required",
    "write_table_atomically",
]

_ID_COLUMNS = ("customer_id", "order_id", "product_id", "store_id", "offer_id", "campaign_id")
_TABLE_HELP = {
    "customers": "customers file (optional)",
    "campaigns": (
        "campaign history file (optional); when scoring, also the send history of the monthly "
        "caps and the contact rule (append each night's offers to it)"
    ),
    "offers": "offers catalog file (optional)",
    "events": (
        "engagement and feedback events file (optional): customer_id, timestamp, event (the "
        "kind), value (a rating or score, optional); a model trained with it needs it to score"
    ),
}


def add_table_options(p: argparse.ArgumentParser, *tables: str) -> None:
    """``--customers`` / ``--campaigns`` / ``--offers`` / ``--events`` options, read back by
    :func:`read_inputs`."""
    for name in tables:
        p.add_argument(f"--{name}", type=Path, default=None, help=_TABLE_HELP[name])


#: The cleaning rules of validate_transactions the command line sets, with their options' flags.
_CLEANING_FLAGS = {
    "returns": "--returns",
    "zero_amounts": "--zero-amounts",
    "cancellation_pattern": "--cancellation-pattern",
    "non_purchase_pattern": "--non-purchase-pattern",
    "drop_duplicates": "--drop-duplicates",
    "timezone": "--timezone",
}


def add_cleaning_options(p: argparse.ArgumentParser) -> None:
    """The cleaning rules of ``validate_transactions`` as options, read back by
    :func:`cleaning_rules`. An option not given is not set (``argparse.SUPPRESS``): the rule the
    file was cleaned with, if it records one, else validate_transactions' own default."""
    g = p.add_argument_group(
        "cleaning rules of the transactions",
        "Passed to loyalty_ml.validate_transactions (see its help). Unset, a rule is the one a "
        "Parquet file written from validate_transactions' output was cleaned with (recorded in "
        "the file), so the command reads it as the notebook did; else validate_transactions' "
        "default (shown). --timezone also applies to the customers, campaigns and events files.",
    )
    g.add_argument(
        "--returns",
        choices=("drop", "keep"),
        default=argparse.SUPPRESS,
        help="remove negative amounts (returns, refunds) or keep them to net against spend "
        "(default: drop)",
    )
    g.add_argument(
        "--zero-amounts",
        choices=("drop", "keep"),
        default=argparse.SUPPRESS,
        help="remove or keep lines with amount 0 (default: drop)",
    )
    g.add_argument(
        "--cancellation-pattern",
        metavar="REGEX",
        default=argparse.SUPPRESS,
        help="remove rows whose order_id matches it, e.g. '^C' (default: none)",
    )
    g.add_argument(
        "--non-purchase-pattern",
        metavar="REGEX",
        default=argparse.SUPPRESS,
        help="remove rows whose product_id matches it: postage, fees (default: none)",
    )
    g.add_argument(
        "--drop-duplicates",
        action=argparse.BooleanOptionalAction,
        default=argparse.SUPPRESS,
        help="remove exact duplicate rows (default: yes)",
    )
    g.add_argument(
        "--column",
        metavar="CANONICAL=YOURS",
        action="append",
        default=None,
        help="the file's name for a canonical column of the transactions (repeatable; e.g. "
        "--column amount=Betrag --column timestamp='Invoice Date'), as "
        "validate_transactions(columns=ColumnMap(...)) takes it",
    )
    g.add_argument(
        "--timezone",
        metavar="ZONE",
        default=argparse.SUPPRESS,
        help="zone aware timestamps are converted to, and the clock of the naive ones "
        "(default: UTC)",
    )


def cleaning_rules(args: argparse.Namespace, raw: pd.DataFrame) -> dict[str, Any]:
    """The keyword arguments of ``validate_transactions`` for ``raw``: the options given, else the
    rules ``raw`` was cleaned with when it is validate_transactions' output read back from
    Parquet (its ``attrs``), else none (validate_transactions' defaults).

    Cleaning such a file again with the library's defaults would apply rules it was not cleaned
    with (``returns="keep"`` data losing its returns), and the command would read the file
    otherwise than ``score_customers`` does. An option looser than the recorded rule cannot bring
    back the rows that rule removed: a DataQualityWarning says so.
    """
    given = {key: getattr(args, key, None) for key in _CLEANING_FLAGS}
    recorded, removed = _recorded_rules(raw)
    for key, value in given.items():
        if value is None or key not in recorded or recorded[key] == value:
            continue
        # a stricter rule (drop what the file kept) is applied as asked, and the printed report
        # shows it; a looser one matters only when the recorded rule removed rows
        stricter = key in ("returns", "zero_amounts", "drop_duplicates") and value in ("drop", True)
        if key == "timezone" or (not stricter and removed.get(key, 0) > 0):
            _warn_rule_mismatch(key, value, recorded[key])
    return {**recorded, **{k: v for k, v in given.items() if v is not None}}


def _recorded_rules(raw: pd.DataFrame) -> tuple[dict[str, Any], dict[str, int]]:
    """The cleaning rules in the cleaning report and clock ``raw`` carries (see above), and the
    rows each rule removed then."""
    import ast

    from loyalty_ml.schema import cleaning_report
    from loyalty_ml.schema._coerce_time import table_clock

    report = cleaning_report(raw)
    if report is None or report.table != "transactions":
        return {}, {}
    steps = {step.rule: step for step in report.steps}
    rules: dict[str, Any] = {}
    for key, rule in (("returns", "negative_amount"), ("zero_amounts", "zero_amount")):
        if rule in steps and steps[rule].action in ("drop", "keep"):
            rules[key] = steps[rule].action
    if "duplicate" in steps:
        rules["drop_duplicates"] = steps["duplicate"].action == "drop"
    for key, rule, column in (
        ("cancellation_pattern", "cancellation", "order_id"),
        ("non_purchase_pattern", "non_purchase", "product_id"),
    ):
        head = f"{column} matches "
        if rule in steps and steps[rule].description.startswith(head):
            try:
                pattern = ast.literal_eval(steps[rule].description[len(head) :])
            except (ValueError, SyntaxError):  # a report from another version: not a rule
                continue
            if isinstance(pattern, str):
                rules[key] = pattern
    clock = table_clock(raw)
    if clock is not None:
        rules["timezone"] = clock
    rule_of = {
        "returns": "negative_amount",
        "zero_amounts": "zero_amount",
        "drop_duplicates": "duplicate",
        "cancellation_pattern": "cancellation",
        "non_purchase_pattern": "non_purchase",
    }
    removed = {key: steps[rule].removed for key, rule in rule_of.items() if rule in steps}
    return rules, removed


def _warn_rule_mismatch(key: str, given: object, recorded: object) -> None:
    from loyalty_ml._warn import warn_user
    from loyalty_ml.exceptions import DataQualityWarning

    flag = _CLEANING_FLAGS[key]
    shown = (
        ("--drop-duplicates" if given else "--no-drop-duplicates")
        if key == "drop_duplicates"
        else f"{flag} {given}"
    )
    if key == "timezone":
        effect = (
            f"its naive timestamps are on the clock {recorded!r} and are not converted again: "
            f"{shown} only relabels them, which is right if they are {given} wall times recorded "
            f"as {recorded!r} by mistake; otherwise leave out {flag}"
        )
    elif key in ("cancellation_pattern", "non_purchase_pattern"):
        effect = (
            f"the rows {recorded!r} matched were removed then and stay removed; {shown} removes "
            "the rows it matches on top"
        )
    else:
        effect = f"the rows removed then stay removed: {shown} cannot bring them back"
    warn_user(
        f"The transactions file was cleaned by validate_transactions with {key}={recorded!r} "
        f"(recorded in the file), and {shown} was given: {effect}. Clean the raw export with the "
        "rules meant, or leave the option out to read the file as it was cleaned.",
        DataQualityWarning,
    )


def read_inputs(args: argparse.Namespace) -> dict[str, pd.DataFrame | None]:
    from loyalty_ml.schema import (
        validate_campaigns,
        validate_customers,
        validate_events,
        validate_offers,
        validate_transactions,
    )

    columns = column_map(getattr(args, "column", None))
    # a mapped id column (--column customer_id=Kundennummer) is read as text too: its zeros kept
    renamed = {} if columns is None else _mapped_names(columns)
    raw = read_table(
        args.transactions,
        table="transactions",
        text_columns=tuple(renamed[c] for c in _ID_COLUMNS if c in renamed),
    )
    rules = cleaning_rules(args, raw)
    tables: dict[str, pd.DataFrame | None] = {
        "transactions": validate_transactions(raw, columns=columns, **rules)
    }
    # customers and campaigns on the transactions' clock (their aware times converted to it)
    zone = {"timezone": rules["timezone"]} if "timezone" in rules else {}
    optional: dict[str, tuple[Callable[..., pd.DataFrame], dict[str, Any]]] = {
        "customers": (validate_customers, zone),
        "campaigns": (validate_campaigns, zone),
        "offers": (validate_offers, {}),
        "events": (validate_events, zone),
    }
    for name, (validate, options) in optional.items():
        path = getattr(args, name, None)
        tables[name] = (
            validate(read_table(path, table=name), **options) if path is not None else None
        )
    for frame in tables.values():
        _show_cleaning(frame)
    return tables


def column_map(pairs: list[str] | None) -> ColumnMap | None:
    """The ``--column CANONICAL=YOURS`` options as a ColumnMap (None without any)."""
    from loyalty_ml.schema import columns as C
    from loyalty_ml.schema.column_map import ColumnMap

    if not pairs:
        return None
    known = list(C.TRANSACTION_COLUMNS)
    names: dict[str, str] = {}
    for pair in pairs:
        canonical, sep, yours = pair.partition("=")
        canonical, yours = canonical.strip(), yours.strip()
        if not sep or not canonical or not yours:
            raise ConfigError(
                f"--column takes CANONICAL=YOURS, the canonical column and the file's name for "
                f"it (e.g. --column amount=Betrag); got {pair!r}."
            )
        if canonical not in known:
            raise ConfigError(
                f"--column {pair!r}: {canonical!r} is not a canonical column of the transactions; "
                f"they are {known}. The canonical name goes left of '=', the file's on the right "
                "(the other files need their canonical names)."
            )
        if canonical in names and names[canonical] != yours:
            raise ConfigError(
                f"--column names two columns for {canonical!r}: {names[canonical]!r} and {yours!r}."
            )
        names[canonical] = yours
    return ColumnMap(**names)


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


#: Separators of exports without a comma: European (;), tab, pipe; blanks last.
_SEPARATORS = (";", "\t", "|")


#: A number written with a decimal comma ("4,38", "-0,5", "1.234,56"), and one with a decimal
#: point ("4.38"), as a whole field.
_COMMA_DECIMAL = re.compile(r"^-?(\d+|\d{1,3}(\.\d{3})+),\d+$")
_POINT_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def _separator(file: Path) -> str:
    """The header line's separator: a comma when it has one, else ``;``, tab, ``|`` or blanks.

    Spreadsheets in much of Europe write ``;`` (the comma is the decimal mark) and older exports
    (CDNOW) align columns with blanks; read with commas, either would be one column. The header is
    the first line that is not blank, as pandas reads it.
    """
    return _csv_format(file)[0]


def _csv_format(file: Path) -> tuple[str, str, str | None]:
    """``(sep, decimal, thousands)`` for ``pd.read_csv``: the separator (:func:`_separator`'s
    rule) and, in a file not separated by commas whose first 1,000 lines write numbers with a
    decimal comma ("4,38", "1.234,56") and none with a decimal point, the comma as the decimal
    mark (and the point as the thousands mark when a number uses it so).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "tx.csv"
    ...     _ = path.write_text("id;amount;day\\n1;4,38;01.07.2024\\n2;1.234,5;02.07.2024\\n")
    ...     _csv_format(path)
    (';', ',', '.')
    """
    import gzip
    from itertools import islice

    opener = gzip.open if file.suffix.lower() == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8-sig", errors="replace") as handle:
            lines = [line for line in islice(handle, 1000) if line.strip()]
    except OSError:
        return ",", ".", None  # the reader's own error names the file
    header = lines[0] if lines else ""
    if "," in header or not header.strip():
        return ",", ".", None
    sep = next((s for s in _SEPARATORS if s in header), None)
    if sep is None:
        return (r"\s+" if len(header.split()) > 1 else ","), ".", None
    fields = [f.strip().strip('"') for line in lines[1:] for f in line.rstrip("\r\n").split(sep)]
    comma = [f for f in fields if _COMMA_DECIMAL.match(f)]
    if not comma or any(_POINT_DECIMAL.match(f) for f in fields):
        return sep, ".", None
    return sep, ",", ("." if any("." in f for f in comma) else None)


def _mapped_names(columns: ColumnMap) -> dict[str, str]:
    """Canonical column -> the file's name for it, for the columns ``--column`` maps."""
    import dataclasses

    return {
        f.name: getattr(columns, f.name)
        for f in dataclasses.fields(columns)
        if isinstance(getattr(columns, f.name), str) and getattr(columns, f.name) != f.name
    }


def read_table(path: Path, *, table: str, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file, choosing the reader from the file suffix; a CSV's id columns
    (the canonical ones and ``text_columns``, their names in the file) are read as text."""
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
            sep, decimal, thousands = _csv_format(file)
            frame = pd.read_csv(
                file,
                dtype=dict.fromkeys((*_ID_COLUMNS, *text_columns), "string"),
                sep=sep,
                decimal=decimal,
                thousands=thousands,
            )
            return frame.assign(
                **{
                    c: strip_whole_float_text(frame[c], table=table, column=c)
                    for c in (*_ID_COLUMNS, *text_columns)
                    if c in frame.columns
                }
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
