"""The end-to-end demo behind ``loyalty-ml demo``: simulate a programme, validate it, summarise it.

The demo is the shortest path from a fresh install to something a reader can look at: a synthetic loyalty
programme with known ground truth, the data contracts applied to it, and a small report folder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty_ml.exceptions import ConfigError, LoyaltyMLError, index_hint
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_bool

__all__ = ["DemoResult", "ProgrammeSummary", "describe_programme", "run_demo"]

_SIMULATOR_MODULE = "loyalty_ml.datasets.simulator"


@dataclass(frozen=True)
class ProgrammeSummary:
    """Headline numbers of a loyalty programme's data, for a human reader.

    Shares are in [0, 1] and are NaN when the customers table lacks the consent flag.
    """

    n_customers: int
    n_transactions: int
    n_orders: int
    first_timestamp: pd.Timestamp
    last_timestamp: pd.Timestamp
    revenue: float
    consent_marketing_share: float
    consent_profiling_share: float
    n_campaigns: int
    n_campaign_contacts: int

    def to_text(self) -> str:
        """A few aligned lines, e.g. for a terminal or a markdown code block."""
        lines = [
            f"customers          {self.n_customers:>14,}",
            f"transactions       {self.n_transactions:>14,}",
            f"orders             {self.n_orders:>14,}",
            f"date range         {self.first_timestamp:%Y-%m-%d} .. {self.last_timestamp:%Y-%m-%d}",
            f"revenue            {self.revenue:>14,.2f}",
            f"consent marketing  {_share(self.consent_marketing_share):>14}",
            f"consent profiling  {_share(self.consent_profiling_share):>14}",
            f"campaigns          {self.n_campaigns:>14,}",
            f"campaign contacts  {self.n_campaign_contacts:>14,}",
        ]
        return "\n".join(lines)


def _share(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.1%}"


def describe_programme(
    transactions: pd.DataFrame,
    *,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
) -> ProgrammeSummary:
    """Summarise canonical programme tables.

    ``n_customers`` counts customers with at least one transaction; ``n_orders`` counts distinct
    (customer_id, order_id) pairs, or rows when there is no ``order_id``; consent shares are over the
    customers table, opt-in (a flag that is "no", False or missing is no consent, as the jobs
    read it); campaigns are counted by ``campaign_id`` (or send date when it is absent).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "order_id": [10, 10, 11],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...                    "amount": [5.0, 2.5, 10.0]})
    >>> s = describe_programme(tx)
    >>> (s.n_customers, s.n_transactions, s.n_orders, s.revenue)
    (2, 3, 2, 17.5)
    """
    missing = [c for c in C.TRANSACTION_REQUIRED if c not in transactions.columns]
    if missing:
        raise ConfigError(
            f"transactions is missing the columns {missing}; it has {list(transactions.columns)}."
            f"{index_hint(transactions, missing)} Run validate_transactions first."
        )
    if C.ORDER_ID in transactions.columns:
        n_orders = len(transactions[[C.CUSTOMER_ID, C.ORDER_ID]].drop_duplicates())
    else:
        n_orders = len(transactions)
    consent = {
        # the library's opt-in rule: "no", False and a missing flag are no consent
        flag: float(
            coerce_bool(customers[flag], table="customers", column=flag)
            .eq(True)
            .fillna(False)
            .mean()
        )
        if customers is not None and flag in customers.columns and len(customers)
        else float("nan")
        for flag in C.CONSENT_COLUMNS
    }
    n_campaigns = 0
    n_contacts = 0
    if campaigns is not None and len(campaigns):
        key = C.CAMPAIGN_ID if C.CAMPAIGN_ID in campaigns.columns else C.SENT_AT
        n_campaigns = int(campaigns[key].nunique())
        n_contacts = len(campaigns)
    return ProgrammeSummary(
        n_customers=int(transactions[C.CUSTOMER_ID].nunique()),
        n_transactions=len(transactions),
        n_orders=int(n_orders),
        first_timestamp=pd.Timestamp(transactions[C.TIMESTAMP].min()),
        last_timestamp=pd.Timestamp(transactions[C.TIMESTAMP].max()),
        revenue=float(transactions[C.AMOUNT].sum()),
        consent_marketing_share=consent[C.CONSENT_MARKETING],
        consent_profiling_share=consent[C.CONSENT_PROFILING],
        n_campaigns=n_campaigns,
        n_campaign_contacts=n_contacts,
    )


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: the programme summary, training, scores and the report folder."""

    summary: ProgrammeSummary
    report_dir: Path
    files: list[Path] = field(default_factory=list)
    training: Any | None = None
    scores: pd.DataFrame | None = field(default=None, repr=False)
    text: str = ""
    #: The registered model the demo scored with: the champion, or this version when none exists.
    model_uri: str | None = None


def run_demo(
    *,
    n_customers: int = 3_000,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    seed: int = 0,
    report_dir: str | Path = "demo_output",
    tracking_uri: str | None = None,
    model_name: str = "loyalty_ml",
    train: bool = True,
) -> DemoResult:
    """Simulate a programme, validate it, train and register the policy, score, write a report.

    Training and scoring both happen "tonight", the day after ``end``: the model is trained on all the
    history (the last churn labels end that day) and the champion then scores every customer.

    Parameters
    ----------
    n_customers, start, end, seed
        Passed to :func:`loyalty_ml.datasets.simulate`.
    report_dir : path
        Folder for the report (created if needed; files in it are overwritten).
    tracking_uri : str, optional
        MLflow tracking URI (default ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` here).
    model_name : str
        Registered model name.
    train : bool
        Train, register and score (False: only simulate, validate and summarise).

    Returns
    -------
    DemoResult
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, int) or n_customers < 1:
        raise ConfigError(f"n_customers must be an int >= 1. Got {n_customers!r} instead.")
    simulate = _load_simulator()
    from loyalty_ml.schema import (
        validate_campaigns,
        validate_customers,
        validate_offers,
        validate_transactions,
    )

    data = simulate(n_customers=n_customers, start=start, end=end, seed=seed)
    tx, cleaning = validate_transactions(data.transactions, return_report=True)
    customers = validate_customers(data.customers)
    offers = validate_offers(data.offers)
    campaigns = validate_campaigns(data.campaigns, offers=data.offers)
    summary = describe_programme(tx, customers=customers, campaigns=campaigns)
    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    sections = [
        "# loyalty_ml demo\n",
        f"Simulated programme: {n_customers:,} customers, {start} .. {end}, seed {seed}.\n",
        "## Programme\n\n```\n" + summary.to_text() + "\n```\n",
        f"## Data contracts\n\n```\n{cleaning}\n```\n\nOffers in the catalog: {len(offers)}.\n",
    ]
    files: list[Path] = []
    plots: list[Path] = []
    training = None
    scores = None
    scoring_uri: str | None = None
    if train:
        from loyalty_ml.tracking.scoring import score_customers
        from loyalty_ml.tracking.train import train_and_register

        end_ts = pd.Timestamp(end)
        score_as_of = end_ts.normalize() + pd.Timedelta(days=1)
        train_as_of = score_as_of
        training = train_and_register(
            tx,
            as_of=train_as_of,
            customers=customers,
            campaigns=campaigns,
            offers=offers,
            model_name=model_name,
            tracking_uri=tracking_uri,
            random_state=seed,
        )
        # The champion scores; when the fairness gate or the backtest kept this first version from
        # promotion, the demo still shows its decisions, from the version itself, and says so.
        scoring_uri = (
            f"models:/{model_name}@champion"
            if training.promoted or _has_champion(training)
            else training.model_uri
        )
        scores = score_customers(
            tx,
            as_of=score_as_of,
            model_uri=scoring_uri,
            customers=customers,
            campaigns=campaigns,
            tracking_uri=training.tracking_uri,
        )
        sections.append(_training_section(training, train_as_of))
        sections.append(_scoring_section(scores, score_as_of, scoring_uri))
        plots = _download_plots(training, out)
        files.extend(plots)
        decisions = out / "decisions_by_action.csv"
        _action_table(scores).to_csv(decisions)
        files.append(decisions)
    report = out / "summary.md"
    text = "\n".join(sections)
    # the file shows the plots; the terminal, which prints text, lists their files instead
    report.write_text(text + ("\n" + _plots_section(plots) if plots else ""), encoding="utf-8")
    return DemoResult(
        summary=summary,
        report_dir=out,
        files=[report, *files],
        training=training,
        scores=scores,
        text=text,
        model_uri=scoring_uri,
    )


def _metric_text(name: str, value: float) -> str:
    """A count as a whole number with thousands separators (10,180, not 1.018e+04), a score to four
    significant digits."""
    return f"{value:,.0f}" if name.startswith("n_") else f"{value:.4g}"


def _training_section(training: Any, as_of: pd.Timestamp) -> str:
    keys = [
        "backtest_roc_auc",
        "backtest_pr_auc",
        "backtest_brier",
        "backtest_ece",
        "backtest_lift_top_decile",
        "backtest_qini_auc_mean",
        "n_training_rows",
        "n_excluded_no_profiling_consent",
    ]
    lines = [
        f"  {k:<34} {_metric_text(k, training.metrics[k]):>10}"
        for k in keys
        if k in training.metrics
    ]
    return (
        f"## Training (as of {as_of.date()})\n\n```\n"
        + "\n".join(lines)
        + f"\n```\n\nRegistered {training.model_name} version {training.version} as "
        f"@{training.alias}: {training.reason}.\nMLflow: {training.tracking_uri} "
        f"(run {training.run_id}).\n"
    )


def _action_table(scores: pd.DataFrame) -> pd.DataFrame:
    table = scores.groupby(["status", "action"], dropna=False, observed=True).agg(
        customers=("action", "size"),
        with_offer=("offer_id", lambda s: int(s.notna().sum())),
        mean_churn_probability=("churn_probability", "mean"),
        expected_cost=("expected_cost", "sum"),
        expected_net_value=("expected_net_value", "sum"),
    )
    return table.round(4)


def _has_champion(training: Any) -> bool:
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(training.tracking_uri, training.tracking_uri)
    try:
        client.get_model_version_by_alias(training.model_name, "champion")
    except MlflowException:
        return False
    return True


def _scoring_section(scores: pd.DataFrame, as_of: pd.Timestamp, model_uri: str) -> str:
    scored = scores.loc[scores["status"] == "scored"]
    offers = scored["offer_id"].value_counts()
    lines = [
        f"  customers scored                   {len(scored):>10,}",
        f"  not scored (no profiling consent)  {int((scores['status'] != 'scored').sum()):>10,}",
        f"  mean churn probability             {scored['churn_probability'].mean():>10.3f}",
        "  risk bands                         "
        + ", ".join(f"{k} {v:,}" for k, v in scored["risk_band"].value_counts().items()),
        "  actions                            "
        + ", ".join(f"{k} {v:,}" for k, v in scored["action"].value_counts().items()),
        "  offers                             "
        + (", ".join(f"{k} {v:,}" for k, v in offers.items()) or "none"),
        f"  expected cost of the plan          {scored['expected_cost'].sum():>10,.2f}",
        f"  expected net value of the plan     {scored['expected_net_value'].sum():>10,.2f}",
    ]
    return f"## Scoring (as of {as_of.date()}, {model_uri})\n\n```\n" + "\n".join(lines) + "\n```\n"


def _plots_section(plots: list[Path]) -> str:
    """The training run's plots (in ``plots/`` next to summary.md), linked from the summary so that a
    Markdown viewer shows them: the summary listed none, although the plots sat next to it."""
    links = [f"![{p.stem}](plots/{p.name})" for p in sorted(plots)]
    return "## Plots of the training run\n\n" + "\n\n".join(links) + "\n"


def _download_plots(training: Any, out: Path) -> list[Path]:
    import mlflow

    client = mlflow.MlflowClient(training.tracking_uri, training.tracking_uri)
    target = out / "plots"
    target.mkdir(exist_ok=True)
    files = []
    for artifact in client.list_artifacts(training.run_id, "plots"):
        local = client.download_artifacts(training.run_id, artifact.path, str(target))
        files.append(Path(local))
    return files


def _load_simulator() -> Callable[..., Any]:
    # The simulator is developed alongside this module; say so plainly when it is not installed yet.

    try:
        module = importlib.import_module(_SIMULATOR_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != _SIMULATOR_MODULE:
            raise
        raise LoyaltyMLError(
            f"The demo needs the loyalty simulator ({_SIMULATOR_MODULE}), which is not part of this "
            "installation yet. Update loyalty_ml to a version that includes it."
        ) from exc
    simulate: Callable[..., Any] = module.simulate
    return simulate
