"""The ``loyalty-ml`` command line: ``demo``, ``report`` (and, as they land, ``train`` and ``score``).

Each subcommand is thin wiring around a library function, so everything the command line does can also be
done from Python. Errors raised on purpose by loyalty_ml are printed as one readable message and the exit
status is 1; usage errors exit with status 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loyalty_ml.exceptions import LoyaltyMLError, SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["build_parser", "main", "read_table"]

_DESCRIPTION = """\
Churn, uplift and offer decisions for loyalty programmes.

Start with `loyalty-ml demo`: it simulates a loyalty programme with known ground truth, checks its
tables against the data contracts, prints a summary and writes a short report folder.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``loyalty-ml`` with one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="loyalty-ml",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_demo(sub)
    _add_report(sub)
    return parser


def _version() -> str:
    # From the installed distribution's metadata: cheap, and it does not import the package.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loyalty_ml")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="simulate a programme, validate it, print a summary and write a report folder",
        description=(
            "Simulate a loyalty programme with known ground truth (customers, transactions, offers, "
            "randomised campaigns), validate every table against the data contracts, print a "
            "summary and write it to REPORT_DIR/summary.md."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--customers", type=int, default=3_000, help="number of simulated customers")
    p.add_argument("--start", default="2023-01-01", help="first day of the simulated history")
    p.add_argument("--end", default="2024-12-31", help="last day of the simulated history")
    p.add_argument("--seed", type=int, default=0, help="random seed of the simulator")
    p.add_argument(
        "--report-dir",
        type=Path,
        default=Path("loyalty_ml_demo"),
        help="folder the report is written to (created if needed)",
    )
    p.set_defaults(handler=_run_demo)


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="print the headline KPIs of a transactions file over a period",
        description=(
            "Read a transactions file (CSV or Parquet with the canonical columns customer_id, "
            "timestamp, amount and optionally order_id), validate it and print the programme KPIs "
            "over [PERIOD_START, PERIOD_END): active customers, orders, revenue, AOV, frequency, "
            "repeat rate, and retention/churn against the previous period when --previous-start is "
            "given."
        ),
    )
    p.add_argument("transactions", type=Path, help="transactions file (.csv or .parquet)")
    p.add_argument("--period-start", required=True, help="first day of the period (inclusive)")
    p.add_argument("--period-end", required=True, help="end of the period (exclusive)")
    p.add_argument(
        "--previous-start",
        default=None,
        help="start of the previous period, for retention and churn (optional)",
    )
    p.set_defaults(handler=_run_report)


def _run_demo(args: argparse.Namespace) -> int:
    from loyalty_ml.tracking.demo import run_demo

    result = run_demo(
        n_customers=args.customers,
        start=args.start,
        end=args.end,
        seed=args.seed,
        report_dir=args.report_dir,
    )
    print("Simulated loyalty programme")
    print(result.summary.to_text())
    print(f"\nReport written to {result.report_dir}/")
    for path in result.files:
        print(f"  {path.name}")
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from loyalty_ml.kpis import summary
    from loyalty_ml.schema import validate_transactions

    tx = validate_transactions(read_table(args.transactions, table="transactions"))
    kpis = summary(
        tx,
        period_start=args.period_start,
        period_end=args.period_end,
        previous_start=args.previous_start,
    )
    print(f"KPIs for [{args.period_start}, {args.period_end})")
    for name, value in kpis.items():
        print(f"  {name:<28} {value:>14,.4g}")
    return 0


def read_table(path: Path, *, table: str) -> pd.DataFrame:
    """Read a CSV or Parquet file, choosing the reader from the file suffix."""
    import pandas as pd

    if not path.exists():
        raise SchemaError(f"{table} file {str(path)!r} does not exist.", table=table)
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith(".parquet") or suffix.endswith(".pq"):
        return pd.read_parquet(path)
    if suffix.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path)
    raise SchemaError(
        f"{table} file {str(path)!r} has an unknown format; use .csv, .csv.gz or .parquet.",
        table=table,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``loyalty-ml``; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except LoyaltyMLError as exc:
        print(f"loyalty-ml {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
