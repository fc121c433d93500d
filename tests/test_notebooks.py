"""Every notebook in notebooks/ runs top to bottom on the simulator, so none of them rots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


# What each notebook SHOWS, checked in its own kernel after its last cell (appended to the copy run
# here, never to the file). Running without an error is not enough: notebook 04's serving cell
# showed 200 decisions, all "no profiling consent" with 0 offers, for weeks of green runs (its
# request had lost the consent_profiling column). Each line pins a figure the prose relies on.
CHECKS = {
    "01_churn_to_triggers": """
assert 0.6 < evaluation.roc_auc < 0.999, evaluation.roc_auc
assert p.between(0, 1).all() and p.nunique() > len(p) // 2, p.describe()
assert bounds.sleep_days < bounds.churn_days, (bounds.sleep_days, bounds.churn_days)
acted = actions["action"] != "none"
assert acted.any() and reasons.loc[acted, "reason_1"].notna().all()
assert 0 < chosen.sum() <= 200, chosen.sum()
# quoted in the prose of section 6
shown = reasons.loc[top, ["reason_1", "reason_2", "reason_3"]]
assert shown.eq("spent 511 in the last 365 days").any().any(), shown
""",
    "02_uplift_and_offer_planning": """
assert plan["offer_id"].notna().sum() > 0 and budgeted["offer_id"].notna().sum() > 0
assert 0 < budgeted["expected_cost"].sum() <= budget, budgeted["expected_cost"].sum()
assert (comparison["share_of_oracle"] <= 1 + 1e-9).all(), comparison  # no plan beats the oracle
assert comparison.loc["model, cheapest effective", "share_of_oracle"] > 0.5, comparison
# what the prose says of these tables
assert (lead["free_item"] > 0).all(), lead  # "ahead of the control in every campaign"
model_plans = comparison.loc[["model, cheapest effective", "model, max net value"], "true_net_value"]
assert abs(model_plans.diff().iloc[-1]) < 5, model_plans  # "within a few units"
assert (frontier["expected"] < frontier["true"]).all(), frontier
assert (frontier["true_cost"] <= frontier["budget"]).all(), frontier
""",
    "03_kpis_fairness_campaigns": """
assert trend["revenue"].gt(0).all() and trend["retention_rate"].iloc[1:].between(0, 1).all()
assert clv.gt(0).all(), clv
assert measured["n_treated"].gt(0).all() and measured["n_control"].gt(0).all()
assert plan["offer_id"].notna().any() and audit.passed
assert plan["offer_id"].value_counts().idxmax() == "double_points"  # "most customers"
assert [n.split(" (")[0] for n in not_judged] == ["gender = other"], not_judged  # as the prose
assert {"report.html", "churn_calibration.png", "uplift_qini.png", "fairness_by_group.png"} <= {
    p.name for p in report_path.parent.iterdir()
}
""",
    "04_jobs_mlflow_and_serving": """
assert result.metrics["backtest_uplift_rows"] < 600  # "under a hundred per arm" in the prose
scored = scores["status"] == "scored"
assert scored.any() and scores["offer_id"].notna().any()
assert scores.loc[scored, "churn_probability"].between(0, 1).all()
# the served answer: customers without profiling consent, and only they, are left unscored
no_profiling = ~request["consent_profiling"].astype(bool).to_numpy()
assert ((answer["offer_reason"] == "no profiling consent").to_numpy() == no_profiling).all()
assert answer.loc[~no_profiling, "churn_probability"].between(0, 1).all()
assert answer["offer_id"].notna().any() and answer["expected_cost"].sum() > 0
""",
}


def test_every_notebook_has_checks() -> None:
    assert sorted(CHECKS) == [p.stem for p in NOTEBOOKS]


def test_notebooks_exist() -> None:
    assert len(NOTEBOOKS) >= 3, f"expected at least three notebooks, found {NOTEBOOKS}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{path.name}: outputs must be stripped in git"
            assert cell.get("execution_count") is None, f"{path.name}: execution counts in git"
    notebook.cells.append(nbformat.v4.new_code_cell(CHECKS[path.stem]))
    # the kernel inherits the environment: run MLflow in a throw-away store in tmp_path
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("LOYALTY_ML_SALT", "notebook-test-salt")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The kernel runs in tmp_path: put this checkout first on its path, so that the notebook runs
    # against the code under test whatever is (or is not) installed in the environment.
    path_before = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", str(REPO) if not path_before else os.pathsep.join([str(REPO), path_before])
    )
    client = nbclient.NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    # a warning in a notebook is rot in the making (a deprecated call, a silent dtype change...)
    warnings = [
        output["text"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr" and "Warning" in output.get("text", "")
    ]
    assert not warnings, f"{path.name} emitted warnings: {warnings[:3]}"
