"""train_and_register and score_customers end to end on the embedded MLflow store (no mocks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import mlflow
import mlflow_fixtures
import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING, Registry, subprocess_env

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError, TrackingError
from loyalty_ml.tracking.drift import DriftWarning
from loyalty_ml.tracking.policy import DECISION_COLUMNS
from loyalty_ml.tracking.scoring import SCORE_COLUMNS, score_customers, score_features
from loyalty_ml.tracking.train import TrainingResult, train_and_register

registry = mlflow_fixtures.registry
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)]


def test_first_version_is_champion_and_worse_one_is_challenger(registry: Registry) -> None:
    assert (registry.champion.alias, registry.champion.promoted) == ("champion", True)
    assert (registry.challenger.alias, registry.challenger.promoted) == ("challenger", False)
    assert "worse than the champion" in registry.challenger.reason
    client = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri)
    champ = client.get_model_version_by_alias("loyalty_ml", "champion")
    chall = client.get_model_version_by_alias("loyalty_ml", "challenger")
    assert (str(champ.version), str(chall.version)) == (
        registry.champion.version,
        registry.challenger.version,
    )
    assert chall.tags["promotion_reason"] == registry.challenger.reason
    assert champ.current_stage in (None, "None")  # aliases, never stages


def test_same_window_retraining_compares_the_tagged_backtests(registry: Registry) -> None:
    """Both versions trained at one as_of: their tagged metrics share the backtest window."""
    assert "the same window" in registry.challenger.reason


def _two_versions(registry: Registry, model_name: str, *dates: str) -> list[TrainingResult]:
    """Train and register ``model_name`` at each date in turn (quick trees, no protected
    attributes, so that the fairness gate never decides), the results in order."""
    fast = {"n_estimators": 60, "early_stopping_rounds": 10}
    customers = registry.data.customers.drop(columns=["age_band", "gender", "income_band"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(registry.folder)
        return [
            train_and_register(
                registry.data.transactions,
                as_of=as_of,
                customers=customers,
                tracking_uri=registry.tracking_uri,
                model_name=model_name,
                churn_params=fast,
            )
            for as_of in dates
        ]


def test_a_later_version_is_compared_with_the_champion_on_its_own_backtest_rows(
    registry: Registry,
) -> None:
    """Each version's tag comes from its own window, and one season ranks more easily than
    another: a version trained months later is compared with the champion re-scored on the new
    version's backtest rows, which the champion never trained on."""
    older, newer = _two_versions(registry, "loyalty_ml_windows", "2024-08-01", "2024-12-01")
    assert older.reason == "no current champion with a backtest metric"
    assert "scored on this run's backtest" in newer.reason, newer.reason
    tagged = older.metrics["backtest_roc_auc"]
    # the champion's number in the reason is its AUC on the new rows, not its tag
    shown = float(newer.reason.split("than the champion ")[1].split()[0])
    assert f"its own backtest: {tagged:.4f}" in newer.reason
    assert abs(shown - tagged) > 1e-4
    client = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri)
    tag = client.get_run(newer.run_id).data.tags["promotion_champion_metric"]
    assert tag.startswith(f"champion v{older.version} scored on this run's backtest")


def test_a_champion_trained_days_before_is_not_scored_on_the_new_backtest(
    registry: Registry,
) -> None:
    """A champion whose last cutoff is days before the new backtest learnt labels from almost the
    backtest's window, for the same customers: re-scored there it wins by look-ahead (it refused
    a same-recipe retrain one day later). It may be re-scored only when its last cutoff is at
    least the cutoff spacing before the backtest, as the new run's own backtest model's is."""
    older, newer = _two_versions(registry, "loyalty_ml_next_day", "2024-08-01", "2024-08-02")
    assert "scored on this run's backtest" not in newer.reason, newer.reason
    client = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri)
    tag = client.get_run(newer.run_id).data.tags["promotion_champion_metric"]
    assert tag.startswith(f"champion v{older.version}'s own backtest"), tag
    assert "is less than 30 days before it" in tag, tag


def test_a_failed_fairness_gate_blocks_promotion(registry: Registry) -> None:
    from loyalty_ml.evaluation.fairness import FairnessLimits

    strict = FairnessLimits(max_selection_rate_difference=0.0, min_group_size=1, significance=None)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(registry.folder)
        result = train_and_register(
            registry.data.transactions,
            as_of="2024-12-01",
            customers=registry.data.customers,
            tracking_uri=registry.tracking_uri,
            churn_params={"n_estimators": 60, "early_stopping_rounds": 10},
            fairness_limits=strict,
        )
    assert (result.alias, result.promoted) == ("challenger", False)
    assert result.reason.startswith("fairness gate failed: ")
    run = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri).get_run(result.run_id)
    assert run.data.tags["fairness_gate"] == "failed"
    client = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri)
    logged = {a.path for a in client.list_artifacts(result.run_id, "fairness")}
    assert {"fairness/fairness_report.md", "fairness/by_group.csv"} <= logged
    assert run.data.metrics["fairness_passed"] == 0.0


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"value_per_conversion": "x"}, r"'value_per_conversion' .* Got 'x' instead"),
        ({"value_per_conversion": [5.0]}, r"'value_per_conversion' .* Got \[5\.0\] instead"),
        ({"value_per_conversion": -1.0}, r"'value_per_conversion' .* finite number >= 0"),
        ({"feature_config": "x"}, r"'feature_config' .* FeatureConfig or None\. Got str"),
        ({"response_window_days": "30"}, r"response_window_days"),  # without campaigns too
        ({"boundary_days": 30}, r"'boundary_days' .* \(sleep_days, churn_days\).* Got 30"),
        ({"boundary_days": (45, 30)}, r"boundary_days=\(45, 30\).*0 <= sleep_days < churn_days"),
        ({"boundary_days": (30, float("inf"))}, r"'boundary_days' .* Got \(30, inf\)"),
    ],
)
def test_plan_and_feature_settings_are_refused_before_training(
    registry: Registry, setting: dict[str, object], message: str
) -> None:
    """Once a ValueError from float() after the churn model had trained, and an AttributeError
    ('str' object has no attribute 'channels'), where build_features refuses the same value."""
    tx = registry.data.transactions
    with pytest.raises(ConfigError, match=message):
        train_and_register(tx, as_of="2024-12-01", tracking_uri=registry.tracking_uri, **setting)  # type: ignore[arg-type]


def test_a_fairness_override_needs_a_reason_and_is_recorded(registry: Registry) -> None:
    from loyalty_ml.evaluation.fairness import FairnessLimits

    strict = FairnessLimits(max_selection_rate_difference=0.0, min_group_size=1, significance=None)
    args = {
        "as_of": "2024-12-01",
        "customers": registry.data.customers,
        "tracking_uri": registry.tracking_uri,
        "churn_params": {"n_estimators": 60, "early_stopping_rounds": 10},
        "fairness_limits": strict,
        "model_name": "loyalty_ml_override",
    }
    tx = registry.data.transactions
    with pytest.raises(ConfigError, match="needs fairness_override_reason"):
        train_and_register(tx, fairness_override=True, **args)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="fairness_override=False"):
        train_and_register(tx, fairness_override_reason="why", **args)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(registry.folder)
        result = train_and_register(
            tx,
            fairness_override=True,
            fairness_override_reason="gap explained by risk; reviewed, ticket 42",
            **args,  # type: ignore[arg-type]
        )
    assert (result.alias, result.promoted) == ("champion", True)
    run = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri).get_run(result.run_id)
    assert run.data.tags["fairness_gate"] == "failed, overridden"
    assert run.data.tags["fairness_override_reason"] == "gap explained by risk; reviewed, ticket 42"
    assert run.data.metrics["fairness_gate_overridden"] == 1.0


def test_the_run_logs_params_metrics_hash_plots_and_model(registry: Registry) -> None:
    client = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri)
    run = client.get_run(registry.champion.run_id)
    assert run.data.params["as_of"] == "2024-12-01" and run.data.params["horizon_days"] == "90"
    assert len(run.data.tags["input_sha256"]) == 64
    assert run.data.tags["data_start"] >= "2023-01-01"
    for key in (
        "backtest_roc_auc",
        "backtest_ece",
        "n_training_rows",
        "n_excluded_no_profiling_consent",
    ):
        assert key in run.data.metrics
    assert run.data.metrics["backtest_roc_auc"] > 0.6
    paths = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/calibration.png", "plots/lift.png", "plots/shap_summary.png"} <= paths
    assert run.data.tags["fairness_gate"].startswith("not audited")


def test_no_customer_ids_in_the_input_example(registry: Registry) -> None:
    model = mlflow.models.Model.load(f"{registry.champion.model_uri}")
    example = model.load_input_example(
        mlflow.artifacts.download_artifacts(registry.champion.model_uri)
    )
    assert example["customer_id"].str.startswith("example_").all()
    real = set(registry.data.customers["customer_id"].astype(str))
    assert not real & set(example["customer_id"])


def test_score_customers_one_row_per_customer(registry: Registry) -> None:
    data = registry.data
    callers_experiment = os.environ.get("MLFLOW_EXPERIMENT_ID")
    scores = score_customers(
        data.transactions,
        as_of="2024-12-31",
        customers=data.customers,
        tracking_uri=registry.tracking_uri,
        batch_size=300,
    )
    # a month after training, the population has not moved past the PSI limit (no DriftWarning:
    # warnings are errors in this test run)
    before = data.transactions.loc[data.transactions["timestamp"] < "2024-12-31", "customer_id"]
    assert scores.index.is_unique and set(scores.index) == set(before)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    no_consent = data.customers.loc[~data.customers["consent_profiling"], "customer_id"]
    skipped = scores.loc[scores.index.isin(no_consent)]
    assert len(skipped) > 0
    assert (skipped["status"] == "no_profiling_consent").all()
    assert skipped["churn_probability"].isna().all() and (skipped["action"] == "none").all()
    scored = scores.loc[scores["status"] == "scored"]
    assert scored["churn_probability"].between(0, 1).all()
    assert set(scored["risk_band"]) <= {"low", "medium", "high"}
    # the scoring run is logged with counts and drift
    runs = mlflow.search_runs(experiment_names=["loyalty_ml_scoring"], output_format="pandas")
    assert runs["metrics.n_rows"].iloc[0] == len(scores)
    assert "metrics.psi_churn_probability" in runs.columns
    # what the night decided and why: a count per offer_reason and per offer, and the exact
    # labels in two small tables (no customer in them)
    latest = runs.iloc[0]
    by_reason = {
        c.removeprefix("metrics.n_reason_"): latest[c]
        for c in runs.columns
        if c.startswith("metrics.n_reason_")
    }
    expected_reasons = scores["offer_reason"].value_counts()
    # every reason has a count, 0 when none tonight (a dashboard sees a count fall to 0)
    assert {k: v for k, v in by_reason.items() if v} == {
        k.replace(" ", "_"): float(v) for k, v in expected_reasons.items()
    }
    assert {"contacted_recently", "budget_exhausted", "no_trigger_fired"} <= set(by_reason)
    offered = sum(latest[c] for c in runs.columns if c.startswith("metrics.n_offer_"))
    assert offered == latest["metrics.n_offers"] == scores["offer_id"].notna().sum()
    assert latest["metrics.expected_cost_total"] == pytest.approx(scores["expected_cost"].sum())
    folder = mlflow.artifacts.download_artifacts(
        run_id=latest["run_id"], artifact_path="decisions", tracking_uri=registry.tracking_uri
    )
    reasons = pd.read_csv(os.path.join(folder, "reasons.csv"), index_col="offer_reason")["n"]
    assert reasons[reasons > 0].to_dict() == expected_reasons.to_dict()
    assert os.path.exists(os.path.join(folder, "offers.csv"))
    # the caller's active experiment is left alone (no mlflow.set_experiment behind their back)
    assert os.environ.get("MLFLOW_EXPERIMENT_ID") == callers_experiment


def test_customers_missing_from_the_consent_table_are_not_profiled(registry: Registry) -> None:
    data = registry.data
    consenting = data.customers.loc[data.customers["consent_profiling"], "customer_id"]
    unlisted = consenting.iloc[:5].tolist()
    scores = score_customers(
        data.transactions,
        as_of="2024-12-31",
        customers=data.customers.loc[~data.customers["customer_id"].isin(unlisted)],
        tracking_uri=registry.tracking_uri,
        log_run=False,
    )
    before = set(
        data.transactions.loc[data.transactions["timestamp"] < "2024-12-31", "customer_id"]
    )
    gone = [c for c in unlisted if c in before]
    assert gone, "the simulated customers should have bought before the cutoff"
    assert (scores.loc[gone, "status"] == "no_profiling_consent").all()
    assert scores.loc[gone, "churn_probability"].isna().all()
    # the reason says why: not listed (consent unknown), not "has not consented" (session 42)
    assert scores.loc[gone, "reason_1"].str.contains("not in the customers table").all()
    said_no = data.customers.loc[~data.customers["consent_profiling"], "customer_id"]
    said_no = [c for c in said_no if c in before]
    assert scores.loc[said_no, "reason_1"].str.contains("has not consented").all()
    # an empty customers extract would leave every customer out: refused
    with pytest.raises(DataError, match="customers table is empty"):
        score_customers(
            data.transactions,
            as_of="2024-12-31",
            customers=data.customers.iloc[:0],
            tracking_uri=registry.tracking_uri,
            log_run=False,
        )


def test_a_second_model_scored_the_same_night_supersedes_nothing(registry: Registry) -> None:
    """Session 42: a shadow challenger scored after the champion tagged the champion's run
    superseded_by, so a dashboard of live runs lost the champion's night."""
    data = registry.data
    night = "2024-12-20"
    client = mlflow.MlflowClient(registry.tracking_uri)

    def score(uri: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # version 2 is the weak challenger: its bands warn
            score_customers(
                data.transactions,
                as_of=night,
                customers=data.customers,
                model_uri=uri,
                tracking_uri=registry.tracking_uri,
            )

    score("models:/loyalty_ml/1")
    score("models:/loyalty_ml/2")
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    assert experiment is not None

    def runs() -> list:
        return client.search_runs(
            [experiment.experiment_id],
            filter_string=f"params.as_of = '{night}'",
            order_by=["attributes.start_time ASC"],
        )

    first, shadow = runs()
    assert "superseded_by" not in first.data.tags and "superseded_by" not in shadow.data.tags
    score("models:/loyalty_ml/1")  # a retry of the first model's night
    first, shadow, retry = runs()
    assert first.data.tags["superseded_by"] == retry.info.run_id
    assert "superseded_by" not in shadow.data.tags
    assert retry.data.tags["rescores"] == first.info.run_id


def test_batches_do_not_change_decisions(registry: Registry) -> None:
    from loyalty_ml.features import build_features

    policy = registry.champion.policy
    X = build_features(
        registry.data.transactions,
        as_of="2024-12-01",
        customers=registry.data.customers,
        config=policy.feature_config,
    )
    a, psi_a = score_features(policy, X, batch_size=len(X))
    b, psi_b = score_features(policy, X, batch_size=400)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(psi_a, psi_b)
    with pytest.raises(
        SchemaError, match=r"features lack 1 column\(s\) the model needs: \['recency_days'\]"
    ):
        score_features(policy, X.drop(columns="recency_days"))


def test_a_customers_trigger_does_not_depend_on_who_else_is_scored(registry: Registry) -> None:
    from loyalty_ml.features import build_features

    policy = registry.champion.policy
    assert policy.trigger_policy.rfm_edges is not None  # frozen on the training population
    X = build_features(
        registry.data.transactions,
        as_of="2024-12-01",
        customers=registry.data.customers,
        config=policy.feature_config,
    )
    whole, _ = score_features(policy, X)
    columns = ["risk_band", "boundary_state", "segment", "action", "channel", "rule"]
    for rows in (X.iloc[:1], X.iloc[10:17]):
        alone, _ = score_features(policy, rows)
        pd.testing.assert_frame_equal(alone[columns], whole.loc[rows.index, columns])


def test_scoring_without_a_table_the_model_was_trained_with_names_it(registry: Registry) -> None:
    with pytest.raises(SchemaError, match=r"needs \d+ feature column\(s\).*Pass customers="):
        score_customers(
            registry.data.transactions,
            as_of="2024-12-31",
            tracking_uri=registry.tracking_uri,
            log_run=False,
        )


def test_unknown_model_and_alias_are_tracking_errors(registry: Registry) -> None:
    tx = registry.data.transactions
    with pytest.raises(
        TrackingError,
        match=r"alias 'gold'.*Registered models: loyalty_ml \(aliases: challenger, champion\)",
    ):
        score_customers(
            tx,
            as_of="2024-12-31",
            model_uri="models:/loyalty_ml@gold",
            tracking_uri=registry.tracking_uri,
        )
    with pytest.raises(TrackingError, match=r"Cannot find model 'nope'"):
        score_customers(
            tx,
            as_of="2024-12-31",
            model_uri="models:/nope@champion",
            tracking_uri=registry.tracking_uri,
        )


def test_bad_arguments(registry: Registry) -> None:
    tx = registry.data.transactions
    with pytest.raises(
        ConfigError, match="'batch_size' parameter of score_customers must be an int >= 1"
    ):
        score_customers(tx, as_of="2024-12-31", batch_size=0, tracking_uri=registry.tracking_uri)
    with pytest.raises(
        ConfigError, match="'n_cutoffs' parameter of train_and_register must be an int >= 2"
    ):
        train_and_register(tx, as_of="2024-12-01", n_cutoffs=1, tracking_uri=registry.tracking_uri)
    with pytest.raises(DataError, match="the backtest needs at least 2"):
        train_and_register(tx, as_of="2023-04-15", tracking_uri=registry.tracking_uri)


def test_pyfunc_loads_and_predicts_in_a_fresh_process(registry: Registry) -> None:
    code = (
        "import json, mlflow, pandas as pd\n"
        "m = mlflow.pyfunc.load_model('models:/loyalty_ml@champion')\n"
        "ex = m.input_example\n"
        "out = m.predict(ex)\n"
        "print(json.dumps({'columns': list(out.columns), 'n': len(out),"
        " 'p': out['churn_probability'].tolist()}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(registry.tracking_uri),
        cwd=registry.folder,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["columns"] == ["customer_id", *DECISION_COLUMNS]
    assert payload["n"] == 3 and all(0 <= p <= 1 for p in payload["p"])
    assert np.isfinite(payload["p"]).all()


def test_the_runs_drift_tag_says_what_the_warning_said(registry: Registry) -> None:
    """Session 42: the tag and metric counted every column over the limit at any batch size, so
    60 customers scored on the training date read drift_warning=True with no DriftWarning."""
    data = registry.data
    few = data.customers["customer_id"].iloc[:60]
    tx = data.transactions.loc[data.transactions["customer_id"].isin(few)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DriftWarning)  # none for a small batch
        score_customers(
            tx,
            as_of="2024-12-02",
            customers=data.customers,
            tracking_uri=registry.tracking_uri,
        )
    client = mlflow.MlflowClient(registry.tracking_uri)
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    assert experiment is not None
    (run,) = client.search_runs(
        [experiment.experiment_id], filter_string="params.as_of = '2024-12-02'"
    )
    assert run.data.tags["drift_warning"] == "False"
    folder = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="drift", tracking_uri=registry.tracking_uri
    )
    psi = pd.read_csv(os.path.join(folder, "psi.csv"), index_col="column").iloc[:, 0]
    assert (psi > 0.2).any()  # the small batch's noise: over the limit, and rightly not warned


def _record_churn_fits(mp: pytest.MonkeyPatch, fitted: list[Any]) -> None:
    """Append every ChurnModel that ``fit`` returns to ``fitted`` (the backtest model, then the
    registered one, in train_and_register)."""
    from loyalty_ml.models.churn import ChurnModel

    fit = ChurnModel.fit

    def recording_fit(self: ChurnModel, *args: object, **kwargs: object) -> ChurnModel:
        fitted.append(fit(self, *args, **kwargs))  # type: ignore[arg-type]
        return fitted[-1]

    mp.setattr(ChurnModel, "fit", recording_fit)


@pytest.mark.parametrize(
    ("n_customers", "trees"),
    # 50 customers: too few churners for the backtest model's hold-out (it grows all 1,000 trees,
    # a ceiling, not a choice) while the whole table's early-stops at 25, and keeps doing so;
    # 300: both early-stop on their own at 162 and 106 trees, and now both have 162
    [(50, 25), (300, 162)],
)
def test_the_registered_churn_model_grows_the_trees_the_backtest_model_chose(
    tmp_path: Path, n_customers: int, trees: int
) -> None:
    """The logged backtest describes the model registered: both churn fits have one tree count,
    chosen by the backtest fit when it early-stopped (162 against 106 on 300 customers before);
    a backtest fit that could not hold out chose nothing, and the registered model early-stops on
    its own (25 trees on 50 customers, where it would otherwise grow the backtest's 1,000)."""
    from loyalty_ml.datasets import simulate
    from loyalty_ml.models.churn import ChurnModel

    data = simulate(n_customers=n_customers, start="2023-01-01", end="2024-12-31", seed=3)
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    fitted: list[ChurnModel] = []
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small programme: hold-out and data-quality warnings
        mp.chdir(tmp_path)
        _record_churn_fits(mp, fitted)
        result = train_and_register(
            data.transactions, as_of="2024-12-01", customers=customers, tracking_uri=uri
        )
    backtest, registered = fitted
    assert result.policy.churn_model is registered
    assert registered.best_iteration_ == trees
    run = mlflow.MlflowClient(uri, uri).get_run(result.run_id)
    assert run.data.metrics["churn_n_trees"] == trees
    chosen_by = run.data.tags["churn_trees_chosen_by"]
    if n_customers == 50:
        assert backtest.best_iteration_ == 1000
        assert registered.get_params()["early_stopping_rounds"] is not None
        assert chosen_by.startswith(
            "the backtest model grew all n_estimators=1000 trees, without early stopping"
        )
        assert "the registered model 25, by its own" in chosen_by
    else:
        assert backtest.best_iteration_ == trees
        assert registered.get_params()["early_stopping_rounds"] is None
        assert chosen_by.startswith(f"{trees} trees, by early stopping of the backtest model")


def _memoryless_programme(n_customers: int, seed: int) -> pd.DataFrame:
    """Customers who all buy at one Poisson rate (every 60 days): nothing in the past says who
    will buy again, so no churn model has skill."""
    rng = np.random.default_rng(seed)
    start, days = pd.Timestamp("2023-01-01"), 730
    rows = []
    for customer in range(1, n_customers + 1):
        times = np.sort(rng.uniform(0, days, rng.poisson(days / 60)))
        rows += [
            (customer, start + pd.Timedelta(days=float(t)), 20.0, customer * 1000 + j)
            for j, t in enumerate(times)
        ]
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id"])


def test_a_model_without_skill_is_registered_but_not_promoted(tmp_path: Path) -> None:
    """The quality floor: a first version with a backtest ROC AUC of 0.48 once became champion
    (there was no champion to lose to, and no audit to fail); it is now a challenger, with a
    warning and the run's quality_gate tags."""
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        with pytest.warns(UserWarning, match="is below the quality floor min_backtest_auc=0.55"):
            result = train_and_register(
                _memoryless_programme(400, seed=1),
                as_of="2025-01-01",
                tracking_uri=uri,
                churn_params={"n_estimators": 100, "early_stopping_rounds": 10},
                value_per_conversion=5.0,
            )
    auc = result.metrics["backtest_roc_auc"]
    assert 0.45 < auc < 0.55
    assert (result.alias, result.promoted) == ("challenger", False)
    assert result.reason == (
        f"backtest roc_auc {auc:.4f} is below the quality floor min_backtest_auc=0.55 "
        "(0.5 ranks churners no better than chance)"
    )
    client = mlflow.MlflowClient(uri, uri)
    run = client.get_run(result.run_id)
    assert run.data.tags["quality_gate"] == "failed"
    assert run.data.tags["quality_gate_reason"] == result.reason
    assert run.data.tags["promotion_reason"] == result.reason
    assert run.data.params["min_backtest_auc"] == "0.55"
    aliases = client.get_registered_model(result.model_name).aliases
    assert {k: str(v) for k, v in aliases.items()} == {"challenger": "1"}


def test_the_quality_floor_applies_with_a_champion_and_records_a_pass(registry: Registry) -> None:
    """A version as good as the champion is still kept out below the floor; the champion's run
    says it passed."""
    client = mlflow.MlflowClient(registry.tracking_uri, registry.tracking_uri)
    passed = client.get_run(registry.champion.run_id).data.tags
    assert passed["quality_gate"] == "passed"
    assert passed["quality_gate_reason"].endswith(">= min_backtest_auc=0.55")
    customers = registry.data.customers.drop(columns=["age_band", "gender", "income_band"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(registry.folder)
        with pytest.warns(UserWarning, match="quality floor min_backtest_auc=0.999"):
            result = train_and_register(
                registry.data.transactions,
                as_of="2024-12-01",
                customers=customers,
                tracking_uri=registry.tracking_uri,
                churn_params={"n_estimators": 60, "early_stopping_rounds": 10},
                min_backtest_auc=0.999,
                model_name="loyalty_ml_floor",
            )
    assert (result.alias, result.promoted) == ("challenger", False)
    assert "below the quality floor" in result.reason


@pytest.mark.parametrize("floor", [1.5, -0.1, float("nan"), "0.6", True])
def test_a_bad_quality_floor_is_refused_before_training(registry: Registry, floor: object) -> None:
    with pytest.raises(ConfigError, match=r"'min_backtest_auc' parameter .* number in \[0, 1\]"):
        train_and_register(
            registry.data.transactions,
            as_of="2024-12-01",
            tracking_uri=registry.tracking_uri,
            min_backtest_auc=floor,  # type: ignore[arg-type]
        )


def test_a_margin_every_plan_would_refuse_is_refused_before_training(tmp_path: Path) -> None:
    """value_per_conversion=1e16 was registered, and choose_offers (bound 1e15) then refused every
    nightly plan of the policy."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "amount": [10.0, 20.0],
        }
    )
    with pytest.raises(ConfigError, match=r"'value_per_conversion' .* at most 1e\+15"):
        train_and_register(
            tx,
            as_of="2024-03-01",
            tracking_uri=f"sqlite:///{(tmp_path / 'm.db').as_posix()}",
            value_per_conversion=1e16,
        )


def test_both_churn_fits_keep_cutoffs_apart_by_the_training_horizon(tmp_path: Path) -> None:
    """train_and_register(horizon_days=120) fitted ChurnModel() with its own default of 90, so
    the early-stopping fits trained on cutoffs whose label windows overlapped the hold-out's."""
    from loyalty_ml.datasets import simulate
    from loyalty_ml.models.churn import ChurnModel

    data = simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=3)
    fitted: list[ChurnModel] = []
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small programme: data-quality warnings
        mp.chdir(tmp_path)
        _record_churn_fits(mp, fitted)
        train_and_register(
            data.transactions, as_of="2024-12-01", horizon_days=120, tracking_uri=uri
        )
    assert [model.validation_["gap_days"] for model in fitted] == [120, 120]


def test_a_raw_age_the_fairness_gate_does_not_read_is_named() -> None:
    # X5's clients table: a raw 'age' (kept out of the features as protected) and 'gender'; the
    # gate audited gender alone and nobody said that age was not audited
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.train import _fairness_audit

    rng = np.random.default_rng(0)
    ids = pd.Index(range(400), name="customer_id")
    y = pd.Series(rng.integers(0, 2, 400), index=ids)
    p = rng.random(400)
    people = pd.DataFrame(
        {
            "customer_id": ids,
            "gender": rng.choice(["F", "M"], 400),
            "age": rng.integers(18, 80, 400),
        }
    )
    with pytest.warns(
        DataQualityWarning,
        match=r"customers has \['age'\], which look like protected attributes, but the fairness "
        r"gate audits only the columns \['age_band', 'gender', 'income_band'\].*pd\.cut",
    ):
        report = _fairness_audit(people, y, p, limits=None, random_state=0)
    assert report is not None and list(report.summary.index.unique(0)) == ["gender"]
    # binned into age_band, it is audited and nothing is left unread
    banded = people.assign(age_band=pd.cut(people.pop("age"), [0, 35, 50, 120]).astype(str))
    report = _fairness_audit(banded, y, p, limits=None, random_state=0)
    assert report is not None and set(report.summary.index.unique(0)) == {"age_band", "gender"}


def test_a_raw_age_next_to_its_band_is_not_named() -> None:
    # H&M's customers.csv has a raw 'age'; binned as the warning says (customers['age_band'] =
    # pd.cut(customers['age'], ...)), the raw column stays and the warning named it still, telling
    # the user to do what they had done: the attribute is audited through its band
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.train import _fairness_audit

    rng = np.random.default_rng(0)
    ids = pd.Index(range(400), name="customer_id")
    y = pd.Series(rng.integers(0, 2, 400), index=ids)
    age = pd.Series(rng.integers(18, 80, 400))
    people = pd.DataFrame(
        {
            "customer_id": ids,
            "age": age,
            "age_band": pd.cut(age, [0, 35, 50, 120]).astype(str),
            "Gender_F": rng.integers(0, 2, 400),  # an encoding of gender, whose column is there
            "gender": rng.choice(["F", "M"], 400),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = _fairness_audit(people, y, rng.random(400), limits=None, random_state=0)
    assert report is not None and set(report.summary.index.unique(0)) == {"age_band", "gender"}
    # an attribute without its band is still named
    with pytest.warns(DataQualityWarning, match=r"customers has \['income'\]"):
        _fairness_audit(
            people.assign(income=rng.integers(1, 9, 400)),
            y,
            rng.random(400),
            limits=None,
            random_state=0,
        )


def test_bands_under_other_names_the_fairness_gate_does_not_read_are_named() -> None:
    # dunnhumby's hh_demographic: AGE_DESC and INCOME_DESC are bands already; unmapped, the gate
    # said "not audited" and the policy was promoted without a word about them
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.train import _fairness_audit

    rng = np.random.default_rng(0)
    ids = pd.Index(range(300), name="customer_id")
    y = pd.Series(rng.integers(0, 2, 300), index=ids)
    people = pd.DataFrame(
        {
            "customer_id": ids,
            "AGE_DESC": rng.choice(["25-34", "45-54", "65+"], 300),
            "INCOME_DESC": rng.choice(["Under 15K", "50-74K"], 300),
            "HOMEOWNER_DESC": rng.choice(["Homeowner", "Renter"], 300),
        }
    )
    with pytest.warns(
        DataQualityWarning,
        match=r"customers has \['AGE_DESC', 'INCOME_DESC'\], which look like protected "
        r"attributes.*ColumnMap\(age_band='AGE_DESC', income_band='INCOME_DESC'\)",
    ):
        assert _fairness_audit(people, y, rng.random(300), limits=None, random_state=0) is None


def test_a_version_without_an_offer_model_does_not_replace_a_champion_with_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retrain whose campaigns were left out (or had no response window closed) registers a
    policy without an offer model; promoted on its churn backtest alone it stopped every nightly
    offer of the champion."""
    from loyalty_ml.datasets import simulate
    from loyalty_ml.exceptions import DataQualityWarning

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    data = simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=5)
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    common = {
        "as_of": "2024-12-01",
        "customers": customers,
        "tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "churn_params": {"n_estimators": 20, "early_stopping_rounds": 5},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small programme's data-quality warnings
        first = train_and_register(
            data.transactions,
            campaigns=data.campaigns,
            offers=data.offers,
            uplift_params={"n_estimators": 7, "learning_rate": 0.1},
            **common,
        )
    assert first.promoted and first.policy.uplift_model is not None
    with (
        pytest.warns(DataQualityWarning, match="plans offers and this version has no offer"),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message="^(?!train_and_register: the champion)")
        second = train_and_register(data.transactions, **common)
    assert second.policy.uplift_model is None
    assert (second.alias, second.promoted) == ("challenger", False)
    assert f"the champion v{first.version} plans offers" in second.reason


def test_boundaries_that_cannot_be_estimated_fall_back_with_a_warning() -> None:
    # Instacart rebuilt back from each customer's last order: gaps capped at 30 days, nobody
    # leaves, so no boundary can be read. The job fell back to 60 and 90 days and said so only
    # in a run parameter, where nobody sleeps before day 60 of a clock whose gaps stop at 30
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.train import _trigger_policy

    rng = np.random.default_rng(0)
    gaps = np.minimum(np.floor(rng.exponential(20.0, (300, 12))), 30.0)
    back = np.cumsum(gaps[:, ::-1], axis=1)[:, ::-1]  # days before each customer's last order
    days = np.concatenate([-back, np.zeros((300, 1))], axis=1)
    tx = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(300), 13),
            "timestamp": pd.Timestamp("2017-06-30") + pd.to_timedelta(days.ravel(), unit="D"),
            "amount": 1.0,
        }
    )
    with pytest.warns(DataQualityWarning, match=r"capped.*defaults, sleep 60 and churn 90 days"):
        _, boundaries, note = _trigger_policy(tx, pd.Timestamp("2017-07-01"), stale=False)
    assert boundaries is None and note.startswith("defaults (could not estimate")


def test_boundaries_the_user_gives_are_the_registered_policys(tmp_path: Path) -> None:
    """Data whose gaps cannot tell the boundaries (Instacart's, capped at 30 days) had no way to
    set them: the registered policy was stuck on 60 and 90 days (the web-shop probe, session 56)."""
    from loyalty_ml.datasets import simulate
    from loyalty_ml.tracking.registry import load_policy

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=400, start="2023-06-01", end="2024-12-31", seed=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        result = train_and_register(
            data.transactions,
            as_of="2024-12-01",
            tracking_uri=uri,
            churn_params={"n_estimators": 30, "early_stopping_rounds": 10},
            boundary_days=(21, 35.5),
        )
        policy, _ = load_policy(f"models:/{result.model_name}/{result.version}", tracking_uri=uri)
    triggers = policy.trigger_policy
    assert (triggers.sleep_days, triggers.churn_days) == (21.0, 35.5)
    run = mlflow.MlflowClient(uri, uri).get_run(result.run_id)
    assert run.data.tags["boundaries"] == "given: sleep 21 days, churn 35.5 days"


def test_the_run_logs_where_the_training_history_ends_as_the_labels_read_it(
    tmp_path: Path,
) -> None:
    """Dates without times end at the midnight after their last day, as the labels read them;
    the data_end tag gave the last row's date, which on timed data dropped the time and on
    dates named a day without saying whether it was covered."""
    from loyalty_ml.datasets import simulate

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=400, start="2023-06-01", end="2024-12-31", seed=5)
    tx = data.transactions
    dated = tx.loc[tx["timestamp"] < "2024-11-28"].assign(
        timestamp=lambda t: t["timestamp"].dt.normalize()
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        result = train_and_register(
            dated,
            as_of="2024-12-01",
            tracking_uri=uri,
            churn_params={"n_estimators": 30, "early_stopping_rounds": 10},
        )
    run = mlflow.MlflowClient(uri, uri).get_run(result.run_id)
    # the last day, 2024-11-27, is covered to its end
    assert run.data.tags["data_end"] == "2024-11-28 00:00:00"


def test_the_data_end_tag_keeps_times_and_stops_at_as_of() -> None:
    from loyalty_ml.schema import validate_transactions
    from loyalty_ml.tracking.train import _data_end

    cutoff = pd.Timestamp("2024-12-01")
    timed = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-11-02 09:00", "2024-11-30 18:30"]),
            "amount": 1.0,
        }
    )
    assert _data_end(timed, cutoff) == pd.Timestamp("2024-11-30 18:30")
    # a validated table whose recorded end is after as_of: the history ends where it was cut
    later = pd.concat([timed, timed.assign(timestamp=pd.Timestamp("2024-12-05"))])
    valid = validate_transactions(later)
    history = valid.loc[valid["timestamp"] < cutoff]
    assert _data_end(history, cutoff) == cutoff


def test_a_day_appended_twice_is_warned_about_when_training(tmp_path: Path) -> None:
    """score_customers warned of a night's extract appended twice after validation; training on
    the same table counted the day twice in the registered drift reference, segment thresholds
    and value per conversion in silence."""
    from loyalty_ml.datasets import simulate
    from loyalty_ml.exceptions import DataQualityWarning

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=400, start="2023-06-01", end="2024-12-31", seed=5)
    tx = data.transactions.loc[data.transactions["timestamp"] < "2024-11-28"]
    night = tx.loc[tx["timestamp"] >= "2024-11-27"]
    doubled = pd.concat([tx, night], ignore_index=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        with pytest.warns(
            DataQualityWarning,
            match=rf"train_and_register: {len(night)} transaction line\(s\) of 2024-11-27 repeat "
            r"lines of the same day exactly \(100% .*the model registered tonight reads them so",
        ):
            train_and_register(
                doubled,
                as_of="2024-12-01",
                tracking_uri=uri,
                churn_params={"n_estimators": 30, "early_stopping_rounds": 10},
            )


def test_the_doubled_day_check_names_the_job_and_its_effect() -> None:
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking._inputs import warn_if_a_day_repeats

    cutoff = pd.Timestamp("2024-12-01")
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1, 2],
            "timestamp": pd.to_datetime(["2024-11-29"] * 2 + ["2024-11-30"] * 3),
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    assert not warn_if_a_day_repeats(tx, tx, cutoff, caller="score_customers")
    again = pd.concat([tx, tx.iloc[2:]], ignore_index=True)
    with pytest.warns(DataQualityWarning, match=r"score_customers: 3 .* of 2024-11-30 .*tonight's"):
        assert warn_if_a_day_repeats(again, again, cutoff, caller="score_customers")
    with pytest.warns(DataQualityWarning, match=r"train_and_register: 3 .*before training"):
        warn_if_a_day_repeats(again, again, cutoff, caller="train_and_register")
