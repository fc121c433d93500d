"""What one training run records in MLflow, besides its parameters: plots, tables, the registered
policy model and the promotion decision (:func:`~loyalty_ml.tracking.train.train_and_register`).

Everything logged is an aggregate or synthetic: calibration and lift by band, SHAP summaries,
boundaries, cohorts with small cohorts blanked, the cleaning report's counts; the model's input
example is synthetic (:func:`~loyalty_ml.tracking.pyfunc.log_policy_model`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, LoyaltyMLError, TrackingError
from loyalty_ml.features import FeatureConfig
from loyalty_ml.tracking.policy import LoyaltyPolicy
from loyalty_ml.tracking.registry import (
    BACKTEST_METRIC_TAG,
    PromotionDecision,
    below_quality_floor,
    champion_metric,
    decide_promotion,
    load_policy,
    set_alias,
)

__all__ = ["log_cleaning", "log_plots", "register_and_promote"]


def log_plots(
    *,
    evaluation: Any,
    churn: Any,
    latest: pd.DataFrame,
    boundaries: Any | None,
    offer_figure: Any | None,
    tx: pd.DataFrame,
    as_of: pd.Timestamp,
) -> None:
    """The run's plots and backtest tables: calibration, lift, SHAP summary, boundaries, the
    offer model's Qini curves and the monthly cohorts of the training customers."""
    import mlflow

    from loyalty_ml.kpis.cohorts import cohort_retention, plot_cohort_heatmap
    from loyalty_ml.privacy.cells import blank_small_cohorts

    mlflow.log_figure(evaluation.plot_calibration(), "plots/calibration.png")
    mlflow.log_figure(evaluation.plot_lift(), "plots/lift.png")
    mlflow.log_figure(churn.plot_shap_summary(latest), "plots/shap_summary.png")
    if boundaries is not None:
        mlflow.log_figure(boundaries.plot(), "plots/boundaries.png")
        mlflow.log_metrics(
            {
                "sleep_days": float(boundaries.sleep_days),
                "churn_days": float(boundaries.churn_days),
            }
        )
    if offer_figure is not None:
        mlflow.log_figure(offer_figure, "plots/qini.png")
    # monthly cohorts of the training customers (DESIGN.md section 7): aggregates only
    retention = cohort_retention(tx, freq="M", as_of=as_of)
    # a cohort of a few customers would show their own months of purchase
    retention = blank_small_cohorts(retention, tx, freq="M", as_of=as_of)
    if retention.notna().any().any():  # every cohort small: nothing to publish
        mlflow.log_figure(plot_cohort_heatmap(retention), "plots/cohort_retention.png")
    mlflow.log_text(evaluation.calibration.to_csv(index=False), "tables/backtest_calibration.csv")
    mlflow.log_text(evaluation.lift.to_csv(index=False), "tables/backtest_lift.csv")


def register_and_promote(
    client: Any,
    policy: LoyaltyPolicy,
    *,
    example_features: pd.DataFrame,
    model_name: str,
    alias: str,
    tracking_uri: str,
    backtest_roc_auc: float,
    promotion_tolerance: float,
    min_backtest_auc: float,
    fairness: Any | None,
    fairness_override: bool,
    fairness_override_reason: str | None,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    cutoffs: list[pd.Timestamp],
    horizon_days: int,
    config: FeatureConfig,
) -> tuple[str, PromotionDecision]:
    """Register the policy model as a new version, log the fairness audit and its gate and the
    quality floor's verdict, compare the version with the champion and set its alias; the new
    version and the decision. A backtest ROC AUC below ``min_backtest_auc`` (or undefined) keeps
    the version from promotion, with a warning."""
    import mlflow

    from loyalty_ml.evaluation.gate import check_promotion
    from loyalty_ml.tracking.pyfunc import log_policy_model

    info = log_policy_model(
        policy, example_features=example_features, name="model", registered_model_name=model_name
    )
    version = str(info.registered_model_version)
    client.set_model_version_tag(model_name, version, BACKTEST_METRIC_TAG, str(backtest_roc_auc))
    if fairness is not None:
        fairness.log_to_mlflow("fairness")
    gate = check_promotion(
        fairness,
        override=fairness_override,
        override_reason=fairness_override_reason if fairness_override else None,
    )
    gate.log_to_mlflow()  # fairness_gate tag, the reason, and any override with its reason
    _log_quality_gate(backtest_roc_auc, min_backtest_auc, model_name=model_name, version=version)
    champion = _load_champion(client, model_name, alias, tracking_uri=tracking_uri)
    current, basis = _champion_on_this_backtest(
        client,
        model_name,
        alias,
        tracking_uri=tracking_uri,
        champion=champion,
        X_test=X_test,
        y_test=y_test,
        cutoffs=cutoffs,
        horizon_days=horizon_days,
        config=config,
    )
    mlflow.set_tag("promotion_champion_metric", basis)
    decision = decide_promotion(
        candidate_metric=backtest_roc_auc,
        champion_metric=current,
        champion_basis=basis,
        tolerance=promotion_tolerance,
        min_metric=min_backtest_auc,
        fairness_passed=gate.promote,
        fairness_reason="" if fairness is None else _violations_text(fairness),
        champion_alias=alias,
    )
    if decision.promoted and policy.uplift_model is None:
        decision = _keep_the_champions_offers(decision, champion, model_name)
    if decision.promoted:
        decision = _keep_the_champions_consent(decision, champion, policy, model_name)
    set_alias(client, model_name, version, decision)
    mlflow.set_tags(
        {
            "registered_model": model_name,
            "registered_version": version,
            "promotion": decision.alias,
            "promotion_reason": decision.reason,
        }
    )
    return version, decision


def _keep_the_champions_offers(
    decision: PromotionDecision, champion: _Champion, model_name: str
) -> PromotionDecision:
    """``decision``, or a challenger's when the champion plans offers and the new version cannot.

    A retrain whose campaigns had no response window closed before ``as_of`` registers a policy
    without an offer model; promoted on its churn backtest alone, it stopped every nightly offer
    of a champion that planned them, with only the training job's warning to say so.
    """
    version, _, loaded = champion
    if loaded is None or loaded.uplift_model is None:
        return decision
    reason = (
        f"the champion v{version} plans offers and this version has no offer model (see the "
        "run's offer_model tag); promoted, it would stop every nightly offer"
    )
    warn_user(
        f"train_and_register: {reason}, so this version of {model_name} is registered as "
        "a challenger and not promoted. Retrain once a campaign's response "
        "window has closed, or set the alias by hand (MlflowClient.set_registered_model_alias) "
        "if the programme is to stop offers.",
        DataQualityWarning,
    )
    return PromotionDecision("challenger", False, reason)


def _keep_the_champions_consent(
    decision: PromotionDecision, champion: _Champion, policy: LoyaltyPolicy, model_name: str
) -> PromotionDecision:
    """``decision``, or a challenger's when the champion was trained with a consent flag of the
    customers table that this version's table lacked.

    Without the flag a version reads consent as managed upstream, and so does the scoring of
    every night it serves: a weekly retrain on a table whose flag an export renamed or dropped
    would, once promoted, offer to and profile every customer who said no.
    """
    version, _, loaded = champion
    had = tuple(getattr(loaded, "consent_flags", ()))  # () for policies registered before it
    lost = [flag for flag in had if flag not in policy.consent_flags]
    if not lost:
        return decision
    reason = (
        f"the champion v{version} was trained with the customers' "
        f"{', '.join(map(repr, lost))} and this version without: promoted, scoring would read "
        "consent as managed upstream and contact every customer who refused"
    )
    warn_user(
        f"train_and_register: {reason}, so this version of {model_name} is registered as a "
        "challenger and not promoted. Restore the column (renamed or dropped upstream?) and "
        "retrain, or set the alias by hand (MlflowClient.set_registered_model_alias) if consent "
        "is now managed upstream.",
        DataQualityWarning,
    )
    return PromotionDecision("challenger", False, reason)


def _log_quality_gate(auc: float, floor: float, *, model_name: str, version: str) -> None:
    """Tag the run with the quality floor's verdict (``quality_gate``, ``quality_gate_reason``, as
    the fairness gate's), and warn when the version may not be promoted for it."""
    import mlflow

    why = below_quality_floor(auc, floor)
    mlflow.set_tags(
        {
            "quality_gate": "passed" if why is None else "failed",
            "quality_gate_reason": why
            or f"backtest roc_auc {auc:.4f} >= min_backtest_auc={floor:g}",
        }
    )
    if why is not None:
        warn_user(
            f"train_and_register: {why}, so {model_name} version {version} is registered as a "
            "challenger and not promoted. Look at the run's backtest plots and data (too few "
            "customers or cutoffs, a feature that leaks or lags) before promoting it by hand; "
            "min_backtest_auc (loyalty-ml train --min-backtest-auc) sets the floor.",
            DataQualityWarning,
        )


#: The champion's version, its tagged backtest metric and its policy (None when there is no
#: champion, or it is not a loyalty_ml policy).
_Champion = tuple[str | None, float | None, LoyaltyPolicy | None]


def _load_champion(client: Any, model_name: str, alias: str, *, tracking_uri: str) -> _Champion:
    """The version holding ``alias``, its tagged metric and its policy, loaded once per run."""
    version, stored = champion_metric(client, model_name, alias)
    if version is None:
        return None, stored, None
    try:
        # the version whose metric was read, not whatever the alias points at a moment later
        champion, _ = load_policy(f"models:/{model_name}/{version}", tracking_uri=tracking_uri)
    except TrackingError:  # not a loyalty_ml policy (registered by hand)
        return version, stored, None
    return version, stored, champion


def _champion_on_this_backtest(
    client: Any,
    model_name: str,
    alias: str,
    *,
    tracking_uri: str,
    champion: _Champion | None = None,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    cutoffs: list[pd.Timestamp],
    horizon_days: int,
    config: FeatureConfig,
) -> tuple[float | None, str]:
    """The champion's ROC AUC for the promotion rule, on this run's backtest rows when that is fair.

    Each version's tagged metric comes from its own backtest window, and one month's customers are
    easier to rank than another's: compared across windows, the season decides. So the champion
    scores this run's backtest rows when it never trained on them and had no more of their future
    than this run's own backtest model (its last cutoff at least one cutoff spacing before this
    backtest, as the backtest model's is) and predicts the same target from the same features
    (same ``horizon_days`` and ``FeatureConfig``); otherwise its tagged metric is used (the same
    window when its last cutoff is this one), and the basis returned says which. A champion
    trained days earlier learnt labels whose window is almost the backtest's, for the same
    customers: scored there it would win by look-ahead (by 0.003-0.007 ROC AUC on the simulator,
    as much as the default tolerance). ``champion``: what :func:`_load_champion` read, if it was.
    """
    from sklearn.metrics import roc_auc_score

    version, stored, loaded = (
        _load_champion(client, model_name, alias, tracking_uri=tracking_uri)
        if champion is None
        else champion
    )
    if version is None:
        return None, "no champion"
    tagged = f"champion v{version}'s own backtest (tag {BACKTEST_METRIC_TAG})"
    if loaded is None:  # not a loyalty_ml policy (registered by hand)
        return stored, tagged
    summary = loaded.training_summary
    try:
        trained = [pd.Timestamp(c) for c in summary.get("cutoffs", [])]
    except (TypeError, ValueError):
        trained = []
    backtest = cutoffs[-1]
    if not trained or trained[-1] == backtest:
        same = " (the same window)" if trained else ""
        return stored, tagged + same
    # the gap this run's backtest model has between its last training cutoff and the backtest
    gap = backtest - cutoffs[-2] if len(cutoffs) > 1 else pd.Timedelta(days=horizon_days)
    comparable = (
        max(trained) <= backtest - gap
        and summary.get("horizon_days") == horizon_days
        and loaded.feature_config == config
    )
    if not comparable:
        why = (
            f"its last cutoff {max(trained).date()} is less than {gap.days} days before it"
            if max(trained) < backtest and max(trained) > backtest - gap
            else "its cutoffs, horizon or features differ"
        )
        return stored, tagged + f" (another window: {why})"
    try:
        scores = loaded.churn_model.predict_proba(loaded.prepare(X_test))[:, 1]
    except LoyaltyMLError:
        return stored, tagged + " (it cannot score this run's features)"
    return (
        float(roc_auc_score(y_test.to_numpy(), scores)),
        f"champion v{version} scored on this run's backtest ({backtest.date()}, "
        f"{len(y_test):,} customers; its own backtest: "
        f"{'none tagged' if stored is None else format(stored, '.4f')})",
    )


def _violations_text(report: Any) -> str:
    """The first violations for the ``promotion_reason`` tags, with the values published.

    The tags leave the process, as the fairness artifacts do: a gap that involves a group under
    ``MIN_CELL_SIZE`` customers (or one withheld beside it) is "withheld" there, since it and the
    published figure of the other group give the small group's figure back.
    """
    from loyalty_ml.privacy.cells import MIN_CELL_SIZE

    violations = report.for_publication(MIN_CELL_SIZE).violations
    rows = violations.head(3)
    parts = [
        f"{r.attribute} {r.metric} {_published_value(r.value)} vs limit {r.limit:.3g}"
        for r in rows.itertuples()
    ]
    more = len(violations) - len(rows)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _published_value(value: float) -> str:
    return "withheld" if pd.isna(value) else f"{value:.3g}"


def log_cleaning(transactions: pd.DataFrame) -> None:
    """Log what ``validate_transactions`` removed (counts per rule, no rows): ``cleaning_report.json``
    and ``cleaning_*`` metrics, so that a run shows the data it did not see."""
    import mlflow

    from loyalty_ml.schema import cleaning_report

    report = cleaning_report(transactions)
    if report is None:
        return
    mlflow.log_dict(report.to_json(), "cleaning_report.json")
    mlflow.log_metrics({f"cleaning_{k}": float(v) for k, v in report.as_dict().items()})
