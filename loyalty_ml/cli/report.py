"""``loyalty-ml report``: the programme report, and a registered model judged on the latest horizon."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyalty_ml._warn import warn_user
from loyalty_ml.cli.io import add_cleaning_options, add_table_options, read_inputs, required
from loyalty_ml.exceptions import ConfigError, DataQualityWarning
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._ids import align_table_ids

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_report", "run_report"]


def add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="write the programme report (HTML + PNGs) and print the headline KPIs",
        description=(
            "Read a transactions file (CSV or Parquet with the canonical columns customer_id, "
            "timestamp, amount and optionally order_id and the other canonical columns), validate it, "
            "write a self-contained HTML report (KPIs, cohort retention, and campaign results when "
            "--campaigns and --offers are given) to --out, and print the KPIs over "
            "[PERIOD_START, PERIOD_END) with retention/churn against the previous period when "
            "--previous-start is given. Without a period, the report covers the last 90 days."
        ),
    )
    p.add_argument(
        "transactions", type=Path, nargs="?", help="transactions file (.csv or .parquet)"
    )
    p.add_argument(
        "--transactions",
        dest="transactions_option",
        type=Path,
        default=None,
        help="the transactions file as an option, like train and score take it",
    )
    p.add_argument("--period-start", default=None, help="first day of the period (inclusive)")
    p.add_argument("--period-end", default=None, help="end of the period (exclusive)")
    p.add_argument(
        "--previous-start",
        default=None,
        help="start of the previous period, for retention and churn (optional)",
    )
    add_table_options(p, "customers", "campaigns", "offers", "events")
    add_cleaning_options(p)
    p.add_argument(
        "--out",
        "--output",
        dest="out",
        type=Path,
        default=Path("loyalty_ml_report"),
        help="folder the report is written to (default: ./loyalty_ml_report)",
    )
    p.add_argument(
        "--model-uri",
        default=None,
        help=(
            "registered model to judge (e.g. models:/loyalty_ml@champion): adds churn model "
            "quality on the latest fully observed horizon, fairness of its scores when "
            "--customers has protected attributes, and the uplift model's Qini curves on the "
            "latest closed campaign large enough for a curve when --campaigns is given"
        ),
    )
    p.add_argument(
        "--uplift-campaign-id",
        default=None,
        help=(
            "campaign_id of the campaign the uplift model is judged on (with --model-uri and "
            "--campaigns; its response window must have closed by the end of the period). "
            "Default: the latest closed campaign with at least 10 control rows and 10 rows of an "
            "offer the model knows, the one with the most rows among those sent together "
            "(one night's per-offer campaigns)"
        ),
    )
    p.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (with --model-uri)")
    p.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from loyalty_ml.kpis import summary
    from loyalty_ml.reporting import write_report
    from loyalty_ml.reporting.html import format_number
    from loyalty_ml.reporting.report import report_period
    from loyalty_ml.reporting.sections import data_days_in_period

    if (args.transactions is None) == (args.transactions_option is None):
        raise ConfigError(
            "Give the transactions file once: `loyalty-ml report tx.parquet` or "
            "`loyalty-ml report --transactions tx.parquet`."
        )
    args.transactions = args.transactions or args.transactions_option
    if args.uplift_campaign_id is not None and (args.model_uri is None or args.campaigns is None):
        raise ConfigError(
            "--uplift-campaign-id names the campaign the registered model's uplift model is "
            "judged on: give it with --model-uri and --campaigns."
        )
    tables = read_inputs(args)
    tx = required(tables["transactions"])
    # a CSV's text ids next to a Parquet file's integer ids: read as the transactions hold them
    for table in ("customers", "campaigns"):
        tables[table] = align_table_ids(tables[table], tx, table=table, caller="loyalty-ml report")
    if (args.period_start is None) != (args.period_end is None):
        raise ConfigError(
            "Give both --period-start and --period-end, or neither (the report then covers the "
            "last 90 days of the data)."
        )
    if args.period_start is not None:
        kpis = summary(
            tx,
            period_start=args.period_start,
            period_end=args.period_end,
            previous_start=args.previous_start,
        )
        print(f"KPIs for [{args.period_start}, {args.period_end})")
    else:  # the report's own period: the last 90 days, against the 90 days before when covered
        start, end, previous = report_period(tx, None, None)
        kpis = summary(
            tx,
            period_start=start,
            period_end=end,
            previous_start=previous if args.previous_start is None else args.previous_start,
        )
        covered = data_days_in_period(tx, start, end)
        short = (
            f": the data starts on {covered[0].date()}, {covered[1]} of its {covered[2]} days"
            if covered is not None
            else ""
        )
        print(f"KPIs for the last 90 days of the data, [{start.date()}, {end.date()}){short}")
    for name, value in kpis.items():
        print(f"  {name:<28} {format_number(value):>14}")
    if not kpis.get("orders", 0):
        print("  (no orders in the period: the averages and rates are not defined)")
    model_parts: dict[str, Any] = {}
    if args.model_uri is not None:
        model_parts = _model_quality_inputs(args, tables)
        if args.uplift_campaign_id is not None and "uplift" not in model_parts:
            raise ConfigError(
                f"--uplift-campaign-id: {args.model_uri} has no uplift model to judge on a "
                "campaign; leave the option out."
            )
    path = write_report(
        tx,
        args.out,
        period_start=args.period_start,
        period_end=args.period_end,
        customers=tables["customers"],
        campaigns=tables["campaigns"],
        offers=tables["offers"],
        previous_start=args.previous_start,
        uplift_campaign_id=args.uplift_campaign_id,
        **model_parts,
    )
    print(f"Report written to {path}")
    return 0


def _model_quality_inputs(
    args: argparse.Namespace, tables: dict[str, pd.DataFrame | None]
) -> dict[str, Any]:
    """Churn model, features and observed labels at the latest cutoff whose horizon has ended.

    The registered model is judged out of time: its features are built as of ``last day - horizon``
    with the model's own feature configuration, and the labels are what those customers did in the
    horizon after it. Customers without profiling consent are left out; with protected attributes
    in ``--customers`` the churn scores are audited for fairness too.
    """
    import pandas as pd

    from loyalty_ml.evaluation.fairness import fairness_report
    from loyalty_ml.features import build_features, churn_labels
    from loyalty_ml.privacy.consent import profiled_only
    from loyalty_ml.schema._data_end import covered_until
    from loyalty_ml.tracking._inputs import customers_with_id_column
    from loyalty_ml.tracking._mlflow import use_tracking_uri
    from loyalty_ml.tracking.policy import scoring_config
    from loyalty_ml.tracking.registry import load_policy
    from loyalty_ml.tracking.scoring import check_inputs_cover_the_model

    tx = required(tables["transactions"])
    with use_tracking_uri(args.tracking_uri) as uri:
        policy, version = load_policy(args.model_uri, tracking_uri=uri)
    horizon = int(policy.training_summary.get("horizon_days", 90))
    # the last day may be partial: the latest horizon fully observed ends at its midnight, or at
    # the midnight after it when the timestamps are dates without times (the day is whole)
    end = covered_until(tx[C.TIMESTAMP])
    last = tx[C.TIMESTAMP].max() if end is None else end
    cutoff = last.normalize() - pd.Timedelta(days=horizon)
    customers = customers_with_id_column(tables["customers"])
    history, people, _ = profiled_only(tx, customers)
    features = build_features(
        history,
        as_of=cutoff,
        customers=people,
        campaigns=tables["campaigns"],
        # levels read against the training's by prepare, not pooled by this table's counts
        config=scoring_config(policy),
        events=tables.get("events"),
    )
    # a model trained with campaigns, reported on without them: their features are missing (and
    # said so), as when scoring
    features, _ = check_inputs_cover_the_model(
        policy,
        features,
        model_uri=args.model_uri,
        customers=people,
        campaigns=tables["campaigns"],
        events=tables.get("events"),
        caller="loyalty-ml report",
        command="loyalty-ml report",
    )
    X = policy.prepare(features)
    y = churn_labels(history, as_of=cutoff, horizon_days=horizon).reindex(X.index)
    print(
        f"Churn model {args.model_uri} (version {version}) judged on {len(X):,} customers as of "
        f"{cutoff.date()} with their next {horizon} days"
    )
    trained = policy.training_summary.get("as_of")
    if trained is not None and cutoff < pd.Timestamp(trained):
        # the model learnt from labels up to its training date: these are partly its own rows
        note = (
            f"the quality cutoff {cutoff.date()} is before the model's training date "
            f"{pd.Timestamp(trained).date()}, so its labels were part of the training data and the "
            "figures are in-sample, not out of time. Report on transactions that run at least "
            f"{horizon} days past the training date for an out-of-time check."
        )
        warn_user(f"loyalty-ml report: {note}", DataQualityWarning)  # on stderr, once
    parts: dict[str, Any] = {"churn": policy.churn_model, "X": X, "y": y}
    if policy.uplift_model is not None and tables["campaigns"] is not None:
        # Qini curves of the registered uplift model on the latest campaign whose window closed
        parts["uplift"] = policy.uplift_model
        # every value its own level: the uplift model reads them against its training levels (a
        # value it has none for as "(rare)"), not against the pooling of this table's counts
        parts["feature_config"] = scoring_config(policy)
    if people is not None:
        protected = [c for c in C.PROTECTED_ATTRIBUTES if c in people.columns]
        if protected:
            sensitive = people.set_index(C.CUSTOMER_ID)[protected].reindex(X.index)
            parts["fairness"] = fairness_report(
                sensitive,
                y_true=y,
                y_score=policy.churn_model.predict_proba(X)[:, 1],
                threshold=policy.high_risk_threshold,
            )
    return parts
