"""The ``loyalty-ml`` command line: ``demo``, ``train``, ``score`` and ``report``.

Each subcommand is thin wiring around a library function, so everything the command line does can also be
done from Python. Errors raised on purpose by loyalty_ml are printed as one readable message and the exit
status is 1; usage errors exit with status 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loyalty_ml.cli.io import (
    add_cleaning_options,
    add_table_options,
    check_output_format,
    read_inputs,
    read_table,
    required,
    write_table_atomically,
)
from loyalty_ml.cli.report import add_report
from loyalty_ml.exceptions import ConfigError, LoyaltyMLError, withhold_ids

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["build_parser", "main", "read_table", "read_train_config", "write_table_atomically"]

_DESCRIPTION = """\
Churn, uplift and offer decisions for loyalty programmes.

Start with `loyalty-ml demo`: it simulates a loyalty programme with known ground truth, checks its
tables against the data contracts, trains and registers the policy model in MLflow, scores every
customer with the champion, prints a summary and writes a short report folder.

MLflow: each command's --tracking-uri (after the command: loyalty-ml demo --tracking-uri ...), else
the MLFLOW_TRACKING_URI environment variable, else the embedded store
sqlite:///mlflow.db in the working folder (no server needed).
"""


class _DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """``(default: X)`` after an option's help, unless the help already says its default or
    there is none to say (``None``: "(default: None)" tells a reader nothing)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default is None:
            return text
        return super()._get_help_string(action)


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
    _add_train(sub)
    _add_score(sub)
    add_report(sub)
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
        help="simulate a programme, train and register the model, score it, write a report",
        description=(
            "Simulate a loyalty programme with known ground truth (customers, transactions, offers, "
            "randomised campaigns), validate every table against the data contracts, train and "
            "register the policy model (MLflow run + registry alias @champion or @challenger), score "
            "every customer with the champion, print a summary and write REPORT_DIR/summary.md with "
            "the plots."
        ),
        formatter_class=_DefaultsHelp,
    )
    p.add_argument("--customers", type=int, default=3_000, help="number of simulated customers")
    p.add_argument("--start", default="2023-01-01", help="first day of the simulated history")
    p.add_argument("--end", default="2024-12-31", help="last day of the simulated history")
    p.add_argument("--seed", type=int, default=0, help="random seed of the simulator")
    p.add_argument(
        "--report-dir",
        type=Path,
        default=Path("demo_output"),
        help="folder the report is written to (created if needed)",
    )
    p.add_argument("--model-name", default="loyalty_ml", help="registered model name")
    p.add_argument(
        "--no-train",
        action="store_true",
        help="only simulate, validate and summarise (no MLflow)",
    )
    _add_tracking_uri(p)
    p.set_defaults(handler=_run_demo)


def _add_tracking_uri(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here)",
    )


def _add_train(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "train",
        help="train, backtest and register the policy model from data files",
        description=(
            "Read and validate the tables (CSV or Parquet with canonical columns), train the churn "
            "model on cutoffs before AS_OF and backtest it on the latest, fit the uplift model on past "
            "campaigns when --campaigns and --offers are given, log one MLflow run and register the "
            "model: @champion when it is not worse than the current champion (and passes the "
            "fairness gate), else @challenger."
        ),
        formatter_class=_DefaultsHelp,
    )
    p.add_argument("--transactions", type=Path, required=True, help="transactions file")
    p.add_argument("--as-of", required=True, help="training date (data before it is used)")
    add_table_options(p, "customers", "campaigns", "offers", "events")
    add_cleaning_options(p)
    p.add_argument("--horizon-days", type=int, default=90, help="churn label horizon in days")
    p.add_argument("--n-cutoffs", type=int, default=4, help="number of training cutoffs")
    p.add_argument("--model-name", default="loyalty_ml", help="registered model name")
    p.add_argument("--alias", default="champion", help="alias a promoted version gets")
    p.add_argument("--experiment", default="loyalty_ml", help="MLflow experiment name")
    p.add_argument(
        "--promotion-tolerance",
        type=float,
        default=0.005,
        help="how much lower than the champion's backtest ROC AUC still promotes",
    )
    p.add_argument(
        "--min-backtest-auc",
        type=float,
        default=0.55,
        help=(
            "quality floor: a version whose backtest ROC AUC is below it is registered as "
            "challenger, never promoted (0.5 ranks no better than chance; 0 turns it off)"
        ),
    )
    p.add_argument(
        "--fairness-override",
        metavar="REASON",
        default=None,
        help=(
            "promote even when the fairness gate fails, for the reason given (recorded in the run "
            "with the override)"
        ),
    )
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help=(
            "JSON file with model settings: churn_params, uplift_params, response_window_days, "
            "cutoff_spacing_days, value_per_conversion, min_days_between_offers, "
            "boundary_days ([sleep, churn] days of the trigger policy; see "
            "models/train_config.json)"
        ),
    )
    _add_tracking_uri(p)
    p.set_defaults(handler=_run_train)


_CONFIG_KEYS = (
    "churn_params",
    "uplift_params",
    "response_window_days",
    "cutoff_spacing_days",
    "value_per_conversion",
    "min_days_between_offers",
    "boundary_days",
)


def read_train_config(path: str | Path | None) -> dict[str, object]:
    """Settings for ``train_and_register`` from a JSON file; unknown keys are refused."""
    import json

    if path is None:
        return {}
    path = Path(path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Cannot read the training config {str(path)!r}: {exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"The training config {str(path)!r} must be a JSON object.")
    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"The training config {str(path)!r} has unknown keys {unknown}; allowed: "
            f"{list(_CONFIG_KEYS)}."
        )
    return config


def _add_score(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "score",
        help="score every customer with a registered model and write the decisions",
        description=(
            "Build features as of AS_OF from the transactions file, run the registered model (by "
            "default models:/loyalty_ml@champion) and write one row per customer to OUTPUT "
            "(.parquet or .csv), atomically: a temporary file in the same folder is renamed over "
            "OUTPUT only when it is complete."
        ),
        formatter_class=_DefaultsHelp,
    )
    p.add_argument("--transactions", type=Path, required=True, help="transactions file")
    p.add_argument("--as-of", required=True, help="scoring date (data before it is used)")
    p.add_argument("--output", type=Path, required=True, help="output file (.parquet or .csv)")
    p.add_argument(
        "--excel-safe",
        action="store_true",
        help="CSV output for people who open it in a spreadsheet: text cells starting with "
        "= + - @ get a leading ' so they cannot run as formulas (off: programs read the values "
        "as written)",
    )
    add_table_options(p, "customers", "campaigns", "events")
    add_cleaning_options(p)
    p.add_argument(
        "--model-uri", default="models:/loyalty_ml@champion", help="registered model to use"
    )
    p.add_argument("--batch-size", type=int, default=100_000, help="customers per batch")
    p.add_argument(
        "--reasons",
        choices=("actioned", "all", "none"),
        default="actioned",
        help="who gets reason codes: customers with a triggered action, everyone, or nobody",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="cap on the total prudent cost of the offers made (default: no cap); a budget "
        "also switches to the knapsack's choice, even one that does not bind",
    )
    p.add_argument(
        "--strategy",
        choices=("cheapest_effective", "max_net_value"),
        default="cheapest_effective",
        help="which of a customer's effective offers to make",
    )
    p.add_argument(
        "--sends",
        type=Path,
        default=None,
        help="also write the night's campaign rows (.parquet or .csv; loyalty_ml.nightly_sends: "
        "the offers made, and the holdout customers they were withheld from as control rows): "
        "append them to the campaigns file before the next night's scoring, by column name "
        "(they add a policy_offer_id column: pd.concat of the two tables, not a text append)",
    )
    p.add_argument(
        "--sent-at", default=None, help="when the offers go out, for --sends (default: AS_OF)"
    )
    p.add_argument("--no-log-run", action="store_true", help="do not log a scoring run to MLflow")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    _add_tracking_uri(p)
    p.set_defaults(handler=_run_score)


def _run_demo(args: argparse.Namespace) -> int:
    from loyalty_ml.tracking.demo import run_demo

    result = run_demo(
        n_customers=args.customers,
        start=args.start,
        end=args.end,
        seed=args.seed,
        report_dir=args.report_dir,
        tracking_uri=args.tracking_uri,
        model_name=args.model_name,
        train=not args.no_train,
    )
    print(result.text)
    print(f"Report written to {result.report_dir}/")
    for path in result.files:
        print(f"  {os.path.relpath(path, result.report_dir)}")
    if result.training is not None and result.model_uri is not None:
        what = "the champion" if result.model_uri.endswith("@champion") else "this version"
        if what == "this version":
            print(
                f"\nNo champion yet: version {result.training.version} is "
                f"@{result.training.alias} ({result.training.reason})."
            )
        print(
            f"\nServe {what}:  mlflow models serve -m {result.model_uri} "
            "--env-manager local -p 5001"
        )
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from loyalty_ml.tracking.train import train_and_register

    tables = read_inputs(args)
    result = train_and_register(
        required(tables["transactions"]),
        as_of=args.as_of,
        customers=tables["customers"],
        campaigns=tables["campaigns"],
        offers=tables["offers"],
        events=tables.get("events"),
        horizon_days=args.horizon_days,
        n_cutoffs=args.n_cutoffs,
        model_name=args.model_name,
        alias=args.alias,
        experiment=args.experiment,
        tracking_uri=args.tracking_uri,
        promotion_tolerance=args.promotion_tolerance,
        min_backtest_auc=args.min_backtest_auc,
        fairness_override=args.fairness_override is not None,
        fairness_override_reason=args.fairness_override,
        random_state=args.seed,
        **read_train_config(args.config),  # type: ignore[arg-type]
    )
    print(f"Registered {result.model_name} version {result.version} as @{result.alias}")
    print(f"  reason: {result.reason}")
    print(f"  run:    {result.run_id} ({result.tracking_uri})")
    for key in ("backtest_roc_auc", "backtest_ece", "backtest_qini_auc_mean", "n_training_rows"):
        if key in result.metrics:
            value = result.metrics[key]
            print(
                f"  {key:<24} {value:,.0f}" if key.startswith("n_") else f"  {key:<24} {value:.4g}"
            )
    return 0


def _run_score(args: argparse.Namespace) -> int:
    from loyalty_ml.schema import columns as C
    from loyalty_ml.tracking.scoring import score_customers

    check_output_format(args.output)  # before minutes of scoring and a logged run
    if args.sends is not None:
        check_output_format(args.sends)
        if args.sends.resolve() == args.output.resolve():
            raise ConfigError("--sends and --output name the same file; give two paths.")
        if args.sent_at is not None:
            from loyalty_ml.schema._coerce import to_timestamp

            sent = to_timestamp(args.sent_at, name="--sent-at", keep_zone=True)
            decided = to_timestamp(args.as_of, name="--as-of", keep_zone=True)
            if (sent.tzinfo is None) != (decided.tzinfo is None):
                # a naive time is on the data's clock, unknown before the data is read
                raise ConfigError(
                    f"--sent-at {args.sent_at} and --as-of {args.as_of}: one has a time zone and "
                    "the other not, so they cannot be compared (the send must not precede the "
                    "decision). Give both with a zone (e.g. +00:00) or both without."
                )
            if sent < decided:
                raise ConfigError(
                    f"--sent-at {args.sent_at} is before --as-of {args.as_of}: offers decided on "
                    "the data up to AS_OF go out at or after it. Pass the time they are sent."
                )
    elif args.sent_at is not None:
        raise ConfigError("--sent-at is the send time of --sends; pass --sends PATH with it.")
    tables = read_inputs(args)
    scores = score_customers(
        required(tables["transactions"]),
        as_of=args.as_of,
        model_uri=args.model_uri,
        customers=tables["customers"],
        campaigns=tables["campaigns"],
        events=tables.get("events"),
        batch_size=args.batch_size,
        tracking_uri=args.tracking_uri,
        log_run=not args.no_log_run,
        reasons=args.reasons,
        budget=args.budget,
        strategy=args.strategy,
        progress=True if args.progress else None,
    )
    write_table_atomically(scores.reset_index(), args.output, excel_safe=args.excel_safe)
    version = scores.attrs.get("model_version")
    print(f"Scored with {args.model_uri}" + (f" (version {version})" if version else ""))
    print(f"Wrote {len(scores):,} rows to {args.output}")
    if "status" in scores.columns:  # always from score_customers; a stand-in may leave it out
        print(status_summary(scores))
    print(scores["action"].value_counts().to_string())
    if {C.OFFER_ID, "expected_cost"} <= set(scores.columns):
        offered = scores[C.OFFER_ID].notna()
        cost = float(scores.loc[offered, "expected_cost"].sum())
        line = f"Offers: {int(offered.sum()):,} customers, expected cost {cost:,.2f}"
        if args.budget is not None and args.budget > 0:
            # a plan far below its budget is held back by the prudent cost (README, "How big an
            # experiment the offer plan needs"), not by a lack of customers worth an offer
            line += f" ({cost / args.budget:.0%} of the budget of {args.budget:,.2f})"
        print(line)
    if args.sends is not None:
        from loyalty_ml.tracking.sends import nightly_sends

        sends = nightly_sends(scores, sent_at=args.as_of if args.sent_at is None else args.sent_at)
        write_table_atomically(sends, args.sends, excel_safe=args.excel_safe)
        withheld = int((sends["offer_id"] == "control").sum())
        print(
            f"Wrote {len(sends) - withheld:,} sends and {withheld:,} withheld (control) rows to "
            f"{args.sends}"
        )
    return 0


def status_summary(scores: pd.DataFrame) -> str:
    """How many customers were scored, and how many not and why, for the night's job log.

    A customers table that lists few of the customers leaves the rest unscored (read as no
    consent); the counts make such a night visible where the decisions alone would not.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"status": ["scored", "no_profiling_consent"],
    ...                        "reason_1": ["r", "not scored: the customer has not consented"]})
    >>> print(status_summary(scores))
    Customers: 2
      scored              1 (50.0%)
      not scored          1 (50.0%)
                          1  no_profiling_consent: the customer has not consented
    """
    from collections import Counter

    n = len(scores)

    def share(count: int) -> str:
        return f"{count:>10,} ({count / n:.1%})" if n else f"{count:>10,}"

    scored = (scores["status"] == "scored").to_numpy()
    lines = [f"Customers: {n:,}", f"  scored     {share(int(scored.sum()))}"]
    lines.append(f"  not scored {share(int((~scored).sum()))}")
    rest = scores.loc[~scored]
    why = rest["reason_1"] if "reason_1" in rest.columns else [None] * len(rest)
    counts = Counter(
        (str(status), "" if not isinstance(text, str) else text.removeprefix("not scored: "))
        for status, text in zip(rest["status"], why, strict=True)
    )
    for (status, reason), count in counts.most_common():
        lines.append(f"  {'':<10} {count:>10,}  {status}" + (f": {reason}" if reason else ""))
    # no row at all: customers listed elsewhere who never bought before as_of
    for key, table in (
        ("n_customers_without_purchase", "customers table"),
        ("n_event_customers_without_purchase", "events"),
    ):
        if scores.attrs.get(key):
            lines.append(
                f"  no purchase {int(scores.attrs[key]):>9,}  in the {table}, not in the "
                "transactions before as_of: no row"
            )
    # rules that read the send history, off tonight for want of --campaigns
    for rule in scores.attrs.get("rules_not_applied") or ():
        lines.append(f"  not applied: {rule} (no --campaigns, so no send history)")
    return "\n".join(lines)


@withhold_ids
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``loyalty-ml``; returns the process exit status."""
    args = build_parser().parse_args(argv)
    # MLflow draws a progress bar for every small artifact it downloads (plots, the model); in a
    # terminal summary they are noise. An explicit setting of the variable wins.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # LightGBM's OpenMP threads (GNU libgomp on Linux) spin at every barrier by default; on cores
    # that other processes share, a spinning thread waits for a descheduled one while holding its
    # own core, and the churn fits of a training table above 200,000 rows (multithreaded) took
    # 2.6-6 times as long (bench_train_scale.py). Passive waiting sleeps instead; the fitted models
    # are the same. It must be set before lightgbm is loaded: the commands import it lazily. An
    # explicit setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    plain = warnings.formatwarning
    warnings.formatwarning = _warning_line(args.command, plain)
    try:
        status: int = args.handler(args)
    except LoyaltyMLError as exc:
        message = str(exc)
        if "ColumnMap(" in message and hasattr(args, "column"):
            # the library's fix names a ColumnMap, which the commands that read files spell --column
            message += (
                " On the command line: --column <canonical>=<the file's column>, e.g. "
                "--column amount=Betrag (repeatable)."
            )
        print(f"loyalty-ml {args.command}: error: {_in_cli_words(message)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a folder that cannot be created, a file that cannot be written...
        print(f"loyalty-ml {args.command}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning = plain
    return status


#: The library's words for a table argument, and the command line's (messages are written for the
#: Python API: "pass campaigns= with every offer sent so far").
_CLI_WORDS = (
    ("customers=None", "no --customers"),
    ("campaigns=...", "--campaigns FILE"),
    ("campaigns=", "--campaigns"),
    ("customers=", "--customers"),
    ("offers=", "--offers"),
    ("events=", "--events"),
)


def _in_cli_words(message: str) -> str:
    """``message`` with the table arguments named as the command line's options."""
    for python, cli in _CLI_WORDS:
        # "campaigns= with..." is the argument; "campaigns=campaigns" (code) is left as written
        after = r"(?=\s|$)" if python.endswith("=") else ""
        message = re.sub(rf"(?<![\w.]){re.escape(python)}{after}", cli, message)
    return message


def _warning_line(command: str, plain: Callable[..., str]) -> Callable[..., str]:
    """``warnings.formatwarning`` for the command line: the library's warnings as one line,
    ``loyalty-ml score: DataQualityWarning: ...``, not the Python source line that raised them
    (``loyalty-ml:6: ... sys.exit(main())``); other warnings as Python writes them."""

    def line(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        text: str | None = None,
    ) -> str:
        if category.__module__.startswith("loyalty_ml."):  # DataQuality, Drift, PoorOverlap
            return f"loyalty-ml {command}: {category.__name__}: {_in_cli_words(str(message))}\n"
        return plain(message, category, filename, lineno, text)

    return line


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
