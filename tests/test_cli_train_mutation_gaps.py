"""Tests that kill mutants which survived the suite (session 46's mutation run of the ``train`` and
``demo`` paths of the command line, the scoring run's metrics (``_log_scoring_run``) and the
pattern-table TreeSHAP). Each test names the mutant it kills; the values asserted are worked out by
hand in the comments. The command-line tests use stand-ins for the library jobs: no training.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from loyalty_ml import cli
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.models import _pattern_shap

MLFLOW_IMPORT_WARNING = "ignore:.*Any type hint is inferred as AnyType:UserWarning"


# -- loyalty-ml train ---------------------------------------------------------------------------
class _Train:
    """A stand-in for ``train_and_register`` that records its arguments and returns ``result``."""

    def __init__(self, **result: Any) -> None:
        self.kwargs: dict[str, Any] = {}
        self.result = types.SimpleNamespace(
            **{
                "model_name": "m",
                "version": "3",
                "alias": "champion",
                "reason": "r",
                "run_id": "run1",
                "tracking_uri": "sqlite:///x.db",
                "metrics": {},
                **result,
            }
        )

    def __call__(self, transactions: pd.DataFrame, **kwargs: Any) -> types.SimpleNamespace:
        self.kwargs = {"transactions": transactions, **kwargs}
        return self.result


_TABLES: dict[str, Any] = {
    "transactions": pd.DataFrame({"t": [1]}),
    "customers": pd.DataFrame({"c": [1]}),
    "campaigns": pd.DataFrame({"k": [1]}),
    "offers": pd.DataFrame({"o": [1]}),
    "events": pd.DataFrame({"e": [1]}),
}


@pytest.fixture
def train(monkeypatch: pytest.MonkeyPatch) -> _Train:
    from loyalty_ml.tracking import train as train_module

    fake = _Train()
    monkeypatch.setattr(cli, "read_inputs", lambda args: _TABLES)
    monkeypatch.setattr(train_module, "train_and_register", fake)
    return fake


def test_train_passes_every_option_through(train: _Train) -> None:
    """Kills C12-C21 (one option not passed on: --horizon-days, --n-cutoffs, --alias,
    --experiment, --promotion-tolerance, --fairness-override or its reason, --seed, --customers,
    --offers), each given a value other than its default."""
    argv = ["train", "--transactions", "t.csv", "--as-of", "2024-10-01", "--horizon-days", "60"]
    argv += ["--n-cutoffs", "6", "--model-name", "shop", "--alias", "prod", "--experiment", "exp"]
    argv += ["--promotion-tolerance", "0.02", "--fairness-override", "legal ok", "--seed", "7"]
    argv += ["--tracking-uri", "sqlite:///t.db", "--min-backtest-auc", "0.6"]
    assert cli.main(argv) == 0
    got = train.kwargs
    for name in ("transactions", "customers", "campaigns", "offers", "events"):
        assert got[name] is _TABLES[name], name
    assert {k: v for k, v in got.items() if k not in _TABLES} == {
        "as_of": "2024-10-01",
        "horizon_days": 60,
        "n_cutoffs": 6,
        "model_name": "shop",
        "alias": "prod",
        "experiment": "exp",
        "tracking_uri": "sqlite:///t.db",
        "promotion_tolerance": 0.02,
        "min_backtest_auc": 0.6,
        "fairness_override": True,
        "fairness_override_reason": "legal ok",
        "random_state": 7,
    }


def test_train_defaults(train: _Train) -> None:
    """Kills C22 (--alias default "challenger"), C23 (--experiment default "loyalty-ml") and C24
    (--seed default 1): the defaults the help text and DESIGN state, no override."""
    assert cli.main(["train", "--transactions", "t.csv", "--as-of", "2024-10-01"]) == 0
    got = {k: v for k, v in train.kwargs.items() if k not in _TABLES}
    assert got == {
        "as_of": "2024-10-01",
        "horizon_days": 90,
        "n_cutoffs": 4,
        "model_name": "loyalty_ml",
        "alias": "champion",
        "experiment": "loyalty_ml",
        "tracking_uri": None,
        "promotion_tolerance": 0.005,
        "min_backtest_auc": 0.55,
        "fairness_override": False,
        "fairness_override_reason": None,
        "random_state": 0,
    }


@pytest.mark.parametrize("missing", ["--transactions", "--as-of"])
def test_train_without_transactions_or_date_is_a_usage_error(
    train: _Train, missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills C25 / C26 (--as-of / --transactions not required): argparse refuses the command with
    status 2 and train_and_register is never called."""
    argv = {"--transactions": "t.csv", "--as-of": "2024-10-01"}
    argv.pop(missing)
    with pytest.raises(SystemExit) as info:
        cli.main(["train", *[x for pair in argv.items() for x in pair]])
    assert info.value.code == 2
    assert f"the following arguments are required: {missing}" in capsys.readouterr().err
    assert train.kwargs == {}


def test_train_prints_the_alias_the_version_got_and_its_backtest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills C32 (the alias asked for printed instead of the one given: a version kept from
    promotion is @challenger, not @champion) and C31 (the backtest ROC AUC line left out)."""
    from loyalty_ml.tracking import train as train_module

    metrics = {"backtest_roc_auc": 0.81234, "n_training_rows": 1500.0, "other": 1.0}
    fake = _Train(alias="challenger", reason="worse than the champion", metrics=metrics)
    monkeypatch.setattr(cli, "read_inputs", lambda args: _TABLES)
    monkeypatch.setattr(train_module, "train_and_register", fake)
    assert cli.main(["train", "--transactions", "t.csv", "--as-of", "2024-10-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Registered m version 3 as @challenger",
        "  reason: worse than the champion",
        "  run:    run1 (sqlite:///x.db)",
        # {key:<24} then {value:.4g} (a count: {value:,.0f}): 0.81234 -> 0.8123, 1500.0 -> 1,500;
        # "other" is not printed
        "  backtest_roc_auc         0.8123",
        "  n_training_rows          1,500",
    ]


def test_an_explicit_artifacts_progress_bar_setting_wins(
    train: _Train, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kills C35 (the variable always set to "false"): someone who asked for MLflow's progress
    bars keeps them; only an unset variable gets the quiet default."""
    import os

    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "true")
    assert cli.main(["train", "--transactions", "t.csv", "--as-of", "2024-10-01"]) == 0
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "true"
    monkeypatch.delenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    assert cli.main(["train", "--transactions", "t.csv", "--as-of", "2024-10-01"]) == 0
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "false"


def test_the_command_asks_openmp_threads_to_wait_passively(
    train: _Train, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LightGBM's OpenMP threads spin at barriers unless told otherwise; on a shared machine the
    multithreaded churn fits of a large training table then took 2.6-6 times as long. The command
    sets OMP_WAIT_POLICY=PASSIVE for its process when it is unset, and keeps an explicit value."""
    import os

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert cli.main(["train", "--transactions", "t.csv", "--as-of", "2024-10-01"]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert cli.main(["train", "--transactions", "t.csv", "--as-of", "2024-10-01"]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_command_line_module_does_not_load_lightgbm() -> None:
    """OpenMP reads OMP_WAIT_POLICY once, when LightGBM's library is loaded: the command can set
    it only if importing loyalty_ml.cli has not loaded lightgbm already."""
    import subprocess
    import sys

    code = "import sys, loyalty_ml.cli; print('lightgbm' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


def test_a_training_config_that_is_not_an_object_or_not_there_is_a_config_error(
    tmp_path: Path,
) -> None:
    """Kills C27 (a JSON list accepted: ``[]`` came back as the settings and broke the ``**``
    of the call) and C30 (a missing file raised FileNotFoundError, not a ConfigError)."""
    (tmp_path / "list.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        cli.read_train_config(tmp_path / "list.json")
    with pytest.raises(ConfigError, match="Cannot read the training config"):
        cli.read_train_config(tmp_path / "absent.json")


def test_every_documented_config_key_is_accepted(train: _Train, tmp_path: Path) -> None:
    """Kills C29 (``cutoff_spacing_days`` refused): the seven keys of ``--config``'s help
    (``boundary_days``: the fix train_and_register's fallback warning gives, which data with
    capped gaps such as Instacart's needs from the command line too)."""
    config = {
        "churn_params": {},
        "uplift_params": {},
        "response_window_days": 30,
        "cutoff_spacing_days": 60,
        "value_per_conversion": 25.0,
        "min_days_between_offers": 14,
        # a JSON list: train_and_register takes (sleep, churn) as a list too
        "boundary_days": [10, 14],
    }
    (tmp_path / "c.json").write_text(json.dumps(config), encoding="utf-8")
    assert cli.read_train_config(tmp_path / "c.json") == config
    argv = ["train", "--transactions", "t.csv", "--as-of", "2024-10-01"]
    assert cli.main([*argv, "--config", str(tmp_path / "c.json")]) == 0
    assert {k: train.kwargs[k] for k in config} == config


# -- loyalty-ml demo ----------------------------------------------------------------------------
class _Demo:
    """A stand-in for ``run_demo`` that records its arguments and returns a finished demo."""

    def __init__(self, folder: Path, model_uri: str | None) -> None:
        self.kwargs: dict[str, Any] = {}
        trained = types.SimpleNamespace(version="1", alias="challenger", reason="fairness gate")
        self.result = types.SimpleNamespace(
            text="SUMMARY",
            report_dir=folder,
            files=[folder / "summary.md", folder / "plots" / "lift.png"],
            training=None if model_uri is None else trained,
            model_uri=model_uri,
        )

    def __call__(self, **kwargs: Any) -> types.SimpleNamespace:
        self.kwargs = kwargs
        return self.result


def _demo(monkeypatch: pytest.MonkeyPatch, folder: Path, model_uri: str | None) -> _Demo:
    from loyalty_ml.tracking import demo

    fake = _Demo(folder, model_uri)
    monkeypatch.setattr(demo, "run_demo", fake)
    return fake


def test_demo_passes_every_option_through_and_has_the_documented_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Kills C04-C08 (--no-train inverted, --start and --end swapped, --seed, --model-name or
    --tracking-uri not passed on) and C01-C03 (the defaults of --customers, --seed and
    --report-dir, which run_demo and the help state: 3000, 0, demo_output)."""
    fake = _demo(monkeypatch, tmp_path, None)
    argv = ["demo", "--customers", "40", "--start", "2022-03-01", "--end", "2022-09-30"]
    argv += ["--seed", "5", "--report-dir", str(tmp_path), "--model-name", "shop"]
    argv += ["--no-train", "--tracking-uri", "sqlite:///d.db"]
    assert cli.main(argv) == 0
    assert fake.kwargs == {
        "n_customers": 40,
        "start": "2022-03-01",
        "end": "2022-09-30",
        "seed": 5,
        "report_dir": tmp_path,
        "tracking_uri": "sqlite:///d.db",
        "model_name": "shop",
        "train": False,
    }
    assert cli.main(["demo"]) == 0
    assert fake.kwargs == {
        "n_customers": 3_000,
        "start": "2023-01-01",
        "end": "2024-12-31",
        "seed": 0,
        "report_dir": Path("demo_output"),
        "tracking_uri": None,
        "model_name": "loyalty_ml",
        "train": True,
    }


def test_demo_says_which_model_to_serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills C10 (the "No champion yet" line flipped), C11 (always "the champion") and C37 (the
    report's files not listed, relative to the report folder)."""
    _demo(monkeypatch, tmp_path, "models:/loyalty_ml@champion")
    assert cli.main(["demo", "--report-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "No champion yet" not in out
    assert "Serve the champion:  mlflow models serve -m models:/loyalty_ml@champion" in out
    assert f"Report written to {tmp_path}/\n  summary.md\n  plots/lift.png\n" in out

    _demo(monkeypatch, tmp_path, "models:/loyalty_ml/1")
    assert cli.main(["demo", "--report-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "No champion yet: version 1 is @challenger (fairness gate)." in out
    assert "Serve this version:  mlflow models serve -m models:/loyalty_ml/1" in out


# -- the scoring run's metrics (tracking/scoring.py: _log_scoring_run) ---------------------------
def _night() -> pd.DataFrame:
    """Four scored customers and two who refused profiling (their rows carry no score)."""
    nan = np.nan
    return pd.DataFrame(
        {
            "status": ["scored"] * 4 + ["no_profiling_consent"] * 2,
            "churn_probability": [0.1, 0.4, 0.8, 0.9, nan, nan],
            "risk_band": ["low", "medium", "high", "high", None, None],
            "action": ["none", "retain", "retain", "retain", "none", "none"],
            "offer_id": [None, "d5", "d5", "d10", None, None],
            "expected_cost": [nan, 2.0, 2.0, 4.0, nan, nan],
            "expected_net_value": [nan, 3.0, 1.0, -1.0, nan, nan],
            "offer_reason": [
                "no trigger fired",
                "cheapest effective",
                "cheapest effective",
                "max net value",
                "no profiling consent",
                "no profiling consent",
            ],
        },
        index=pd.Index([1, 2, 3, 4, 5, 6], name="customer_id"),
    )


def _params(as_of: str = "2024-03-01", version: str = "7") -> dict[str, Any]:
    return {"model_uri": f"models:/m/{version}", "model_version": version, "as_of": as_of}


def _log(uri: str, out: pd.DataFrame, **kwargs: Any) -> Any:
    """One scoring run logged into the store ``uri``; returns the run (outside any other run)."""
    import mlflow

    from loyalty_ml.tracking._mlflow import use_tracking_uri
    from loyalty_ml.tracking.scoring import _log_scoring_run

    settings: dict[str, Any] = {
        "psi": pd.Series({"recency_days": 0.05}),
        "drift": (False, 0),
        "params": _params(),
        "n_transactions": 17,
        **kwargs,
    }
    with use_tracking_uri(uri):
        _log_scoring_run(mlflow, experiment="scoring", out=out, **settings)
        return mlflow.last_active_run()


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_the_scoring_run_counts_and_shares(uri: str) -> None:
    """Kills S01-S05 (refusers counted as scored, n_scored over every row, every scored customer
    counted as offered, the cost's mean, the net value read from the cost), S08 (an offer of the
    catalog not made tonight logged as NaN), S12-S15 (median for mean, percentile 100 - q, p95
    for p90, counts for shares), S16 (action shares over the refusers too), S18 (the warning flag
    for the number of drifted columns) and S21 (the drift tag from the count, not the warning)."""
    run = _log(
        uri,
        _night(),
        psi=pd.Series({"recency_days": 0.4, "frequency": 0.3, "tenure_days": 0.9}),
        drift=(False, 2),  # two columns over the limit, too few rows for the warning
        n_without_purchase=3,
        catalog_ids=("d5", "d10", "d20"),
    )
    m = run.data.metrics
    expected = {
        "n_rows": 6.0,
        "n_scored": 4.0,
        "n_no_profiling_consent": 2.0,
        "n_transactions": 17.0,
        "n_customers_without_purchase": 3.0,
        "n_offers": 3.0,
        "expected_cost_total": 8.0,  # 2 + 2 + 4
        "expected_net_value_total": 3.0,  # 3 + 1 - 1
        "n_offer_d5": 2.0,
        "n_offer_d10": 1.0,
        "n_offer_d20": 0.0,  # in the catalog, not made tonight
        "n_reason_no_trigger_fired": 1.0,
        "n_reason_cheapest_effective": 2.0,
        "n_reason_max_net_value": 1.0,
        "n_reason_no_profiling_consent": 2.0,
        "n_reason_holdout": 0.0,
        "share_risk_band_low": 0.25,
        "share_risk_band_medium": 0.25,
        "share_risk_band_high": 0.5,
        "share_action_none": 0.25,  # 1 of the 4 scored; the refusers are not in the shares
        "share_action_retain": 0.75,
        "psi_max": 0.9,
        "n_columns_psi_over_limit": 2.0,
    }
    assert {k: m[k] for k in expected} == pytest.approx(expected)
    # p = [0.1, 0.4, 0.8, 0.9]: mean 2.2 / 4; linear percentiles at positions 0.3, 1.5 and 2.7
    assert m["churn_probability_mean"] == pytest.approx(0.55)
    assert m["churn_probability_p10"] == pytest.approx(0.1 + 0.3 * 0.3)
    assert m["churn_probability_p50"] == pytest.approx(0.6)
    assert m["churn_probability_p90"] == pytest.approx(0.8 + 0.7 * 0.1)
    assert run.data.tags["drift_warning"] == "False"


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_a_night_without_refusers_still_counts_them_as_zero(uri: str) -> None:
    """Kills S10 (the no-profiling-consent reason counted only on nights that have one): every
    reason has a count every night, so a dashboard sees 0, not a gap."""
    night = _night().loc[[1, 2, 3, 4]]
    metrics = _log(uri, night).data.metrics
    assert metrics["n_reason_no_profiling_consent"] == 0.0
    assert metrics["n_no_profiling_consent"] == 0.0


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_psi_metrics_leave_out_the_columns_without_a_psi(uri: str) -> None:
    """Kills S17 (NaN PSI kept: psi_churn_probability logged as NaN) and S24 (the PSI of the
    churn probability never logged); S25 too (one scored customer still gets the statistics)."""
    night = _night().loc[[3, 5]]  # one scored customer (p = 0.8) and one refuser
    psi = pd.Series({"recency_days": 0.2, "churn_probability": np.nan})
    metrics = _log(uri, night, psi=psi).data.metrics
    assert metrics["psi_max"] == pytest.approx(0.2)
    assert "psi_churn_probability" not in metrics
    assert metrics["churn_probability_mean"] == pytest.approx(0.8)
    assert metrics["churn_probability_p90"] == pytest.approx(0.8)
    psi = pd.Series({"recency_days": 0.2, "churn_probability": 0.05})
    assert _log(uri, night, psi=psi).data.metrics["psi_churn_probability"] == pytest.approx(0.05)


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_a_shadow_model_scored_the_same_night_is_not_a_retry(uri: str) -> None:
    """Kills S19 (every earlier run of the night counted as a rescore): version 8 scored after
    version 7 on the same date neither rescores nor supersedes it; a second run of version 7
    does both."""
    import mlflow

    first = _log(uri, _night())
    shadow = _log(uri, _night(), params=_params(version="8"))
    assert "rescores" not in shadow.data.tags
    retry = _log(uri, _night())
    assert retry.data.tags["rescores"] == first.info.run_id
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert client.get_run(first.info.run_id).data.tags["superseded_by"] == retry.info.run_id
    assert "superseded_by" not in client.get_run(shadow.info.run_id).data.tags


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_a_scoring_run_inside_a_notebooks_run_is_its_child(uri: str) -> None:
    """Kills S20 (``nested=False``: MLflow refuses a second active run)."""
    import mlflow

    from loyalty_ml.tracking._mlflow import use_tracking_uri

    with use_tracking_uri(uri), mlflow.start_run() as parent:
        _log(uri, _night())
    client = mlflow.MlflowClient(tracking_uri=uri)
    (child,) = client.search_runs([client.get_experiment_by_name("scoring").experiment_id])
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id


# -- pattern-table TreeSHAP over several blocks (models/_pattern_shap.py) ------------------------
def _small_booster() -> tuple[lgb.Booster, np.ndarray]:
    """A binary booster of small trees, and 7 * 40 + 1 = 281 rows to explain."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1_000, 4))
    X[rng.random(1_000) < 0.1, 1] = np.nan
    y = (rng.random(1_000) < 1 / (1 + np.exp(-X[:, 0] - np.nan_to_num(X[:, 1])))).astype(int)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 7, "verbosity": -1, "seed": 0},
        lgb.Dataset(X, y),
        num_boost_round=15,
    )
    return booster, rng.normal(size=(281, 4))


def test_pattern_values_over_many_blocks_equal_lightgbm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills P01 (a pattern met only at a block's first row never computed), P02 (the
    representatives of a later block read from the first), P03 (a block with a single new pattern
    skipped) and P04 (a last block of one row left as np.empty): blocks of 7 rows, so that 281
    rows make 41 blocks, the last of one row. Those rows are few enough that the 64-row check
    sample misses them, so the values themselves must be right for every row."""
    booster, X = _small_booster()
    X[280] = [4.0, np.nan, -4.0, 4.0]  # the lone row of the last block, far from the others
    monkeypatch.setattr(_pattern_shap, "BLOCK_ROWS", 7)
    got = _pattern_shap.pattern_values(booster, X)
    assert got is not None
    expected = booster.predict(X, pred_contrib=True)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
