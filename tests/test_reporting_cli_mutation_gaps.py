"""Tests that kill mutants which survived the suite (session 45's second mutation run of the command
line and the programme report). Each test names the mutant it kills. All use small hand-made inputs
and stand-ins for the registered models: no training, no MLflow run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.cli import main, read_table
from loyalty_ml.cli.io import write_table_atomically
from loyalty_ml.cli.report import _model_quality_inputs
from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, SchemaError
from loyalty_ml.reporting import write_report
from loyalty_ml.reporting.sections import (
    churn_section,
    cohort_section,
    kpi_section,
    uplift_section,
)
from loyalty_ml.schema import validate_customers, validate_transactions


def _score(tmp_path: Path, output: str, *extra: str) -> list[str]:
    """``loyalty-ml score`` of a transactions file that does not exist: past its checks of the
    arguments, the command stops at reading it."""
    return [
        "score",
        "--transactions",
        str(tmp_path / "missing.parquet"),
        "--as-of",
        "2025-01-01 09:00",
        "--output",
        output,
        *extra,
    ]


def test_offers_sent_at_the_moment_they_are_decided_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills X1 (``sent <= decided``): offers decided on the data up to AS_OF may go out at AS_OF
    itself; only a send time before it is refused."""
    args = _score(
        tmp_path,
        str(tmp_path / "scores.csv"),
        "--sends",
        str(tmp_path / "sends.csv"),
        "--sent-at",
        "2025-01-01 09:00",
    )
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "is before --as-of" not in err
    assert "missing.parquet' does not exist" in err  # got past the checks of the arguments


@pytest.mark.parametrize(
    ("sent_at", "message"),
    [
        ("2024-12-31 09:00+00:00", "one has a time zone and the other not"),
        ("2025-01-01 10:00+01:00", "one has a time zone and the other not"),
        ("2024-12-31 09:00", "is before --as-of"),
    ],
)
def test_a_send_time_and_a_decision_time_on_different_clocks_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sent_at: str, message: str
) -> None:
    """Found by the mutation run (Z15): a send time with a zone against a decision time without one
    was never compared, so offers sent before they were decided went into the sends file."""
    sends = ("--sends", str(tmp_path / "sends.csv"), "--sent-at", sent_at)
    assert main(_score(tmp_path, str(tmp_path / "scores.csv"), *sends)) == 1
    err = capsys.readouterr().err
    assert message in err and "does not exist" not in err


def test_a_sends_file_of_unknown_format_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills X12 (no format check of ``--sends``): a .txt sends file is refused before the
    transactions are read, not after minutes of scoring."""
    args = _score(tmp_path, str(tmp_path / "scores.csv"), "--sends", str(tmp_path / "sends.txt"))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "sends.txt' has an unknown format" in err
    assert "does not exist" not in err


def test_sends_and_output_naming_one_file_two_ways_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kills X13 (``args.sends == args.output`` without resolving): ``scores.csv`` relative to the
    working folder and its absolute path are the same file; the sends would overwrite the scores."""
    monkeypatch.chdir(tmp_path)
    args = _score(tmp_path, "scores.csv", "--sends", str(tmp_path / "scores.csv"))
    assert main(args) == 1
    assert "--sends and --output name the same file" in capsys.readouterr().err


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 1],
            "timestamp": pd.to_datetime(
                ["2024-01-05 10:00", "2024-02-03 11:00", "2024-02-29 12:00"]
            ),
            "amount": [10.0, 20.0, 30.0],
        }
    )


def test_a_previous_period_starting_with_the_period_is_refused_first(tmp_path: Path) -> None:
    """Kills R4 (``previous > start``): a previous period that starts on period_start is empty
    (retention of 0 of 0) and is refused with the other checks of the arguments, before the
    inputs of the sections are looked at; here, before the uplift section finds no campaign
    whose window closed (kpis.summary would refuse it too, but only after those checks)."""
    campaigns = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["d5", "control"],
            "sent_at": pd.to_datetime(["2024-02-20", "2024-02-20"]),
        }
    )
    with pytest.raises(ConfigError, match="previous_start must be before period_start"):
        write_report(
            _tx(),
            tmp_path,
            period_start="2024-02-01",
            period_end="2024-03-01",
            previous_start="2024-02-01",
            campaigns=campaigns,
            uplift=_Uplift(),
        )


def test_a_campaign_whose_window_closed_at_the_period_start_belongs_to_the_period_before() -> None:
    """Kills R7 (``ends >= period_start``): a window [2024-01-02, 2024-02-01) closed at the
    midnight that starts the period [2024-02-01, 2024-03-01), so its results came in during the
    previous period and are not shown in this one."""
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["c1"] * 4,
            "customer_id": [1, 2, 3, 4],
            "offer_id": ["d5", "d5", "control", "control"],
            "sent_at": pd.to_datetime(["2024-01-02"] * 4),
            "redeemed": [False] * 4,
        }
    )
    offers = pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [5.0]})
    section = kpi_section(
        _tx(),
        period_start=pd.Timestamp("2024-02-01"),
        period_end=pd.Timestamp("2024-03-01"),
        campaigns=campaigns,
        offers=offers,
        window_days=30,
    )
    assert all("Campaigns" not in t.caption for t in section.tables)
    assert any("had its 30-day response window close in the period" in n for n in section.notes)


def test_a_rewritten_output_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    """Kills X15 (the new file always gets ``0o666 & ~umask``): scores a team made private
    (0o600) stay private when the next night's run replaces them."""
    path = tmp_path / "scores.csv"
    path.write_text("customer_id\n1\n", encoding="utf-8")
    path.chmod(0o600)
    previous = os.umask(0o022)  # a new file would be 0o644
    try:
        write_table_atomically(pd.DataFrame({"customer_id": [1, 2]}), path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8").split() == ["customer_id", "1", "2"]


def test_a_file_suffix_in_capitals_is_read(tmp_path: Path) -> None:
    """Kills X21 (suffix compared as written): ``TX.CSV``, as some exports name files, is a CSV."""
    path = tmp_path / "TX.CSV"
    path.write_text("customer_id,amount\n7,1.5\n", encoding="utf-8")
    frame = read_table(path, table="transactions")
    assert frame["customer_id"].tolist() == ["7"]
    assert frame["amount"].tolist() == [1.5]


class _Churn:
    """A churn model of the registry's interface: scores 0.1 to 0.9 in row order."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.linspace(0.1, 0.9, len(X))
        return np.column_stack([1 - p, p])


class _Policy:
    """A registered policy trained on 2024-05-30 with a 30-day horizon and a 0.7 threshold."""

    training_summary: ClassVar[dict[str, object]] = {"horizon_days": 30, "as_of": "2024-05-30"}
    feature_config = None
    feature_names: ClassVar[list[str]] = []
    churn_model = _Churn()
    uplift_model = None
    high_risk_threshold = 0.7

    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        return features


def _quality_inputs(
    monkeypatch: pytest.MonkeyPatch,
    customers: pd.DataFrame | None = None,
    times: list[str] | None = None,
) -> dict[str, Any]:
    """``loyalty-ml report --model-uri``'s churn inputs with the registry replaced by _Policy.

    The last transaction is on 2024-06-29 at 15:00: the latest fully observed 30-day horizon
    starts at the midnight of 2024-05-30. Customer 4's only purchase (2024-05-30 10:00) is after
    that cutoff, so 4 has no history to score; 1 bought again on 2024-06-10 (not churned), 2 only
    on 2024-06-29 15:00, after the horizon [2024-05-30, 2024-06-29) (churned), 3 never (churned).
    """
    # scoring is imported before the patch: first imported under it, it would keep the stand-in
    # as its load_policy, and a later test of the worker would score with _Policy
    import loyalty_ml.tracking._mlflow as tracking_mlflow
    import loyalty_ml.tracking.registry as registry
    import loyalty_ml.tracking.scoring  # noqa: F401

    monkeypatch.setattr(registry, "load_policy", lambda uri, tracking_uri=None: (_Policy(), "3"))
    monkeypatch.setattr(
        tracking_mlflow, "use_tracking_uri", lambda uri=None: contextlib.nullcontext("unused")
    )
    times = times or [
        "2024-04-01 10:00",
        "2024-04-02 10:00",
        "2024-04-03 10:00",
        "2024-06-10 10:00",
        "2024-05-30 10:00",
        "2024-06-29 15:00",
    ]
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1, 4, 2],
            "timestamp": pd.to_datetime(times),
            "amount": [10.0, 20.0, 30.0, 5.0, 7.0, 1.0],
        }
    )
    if customers is None:
        customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "gender": ["f", "m", "f", "m"]})
    tables = {
        "transactions": validate_transactions(tx),
        "customers": validate_customers(customers),
        "campaigns": None,
    }
    args = argparse.Namespace(model_uri="models:/loyalty_ml/3", tracking_uri=None)
    # a handful of customers: the fairness audit says it could not judge gender
    with pytest.warns(
        DataQualityWarning, match="fairness_report could not judge the attribute 'gender'"
    ):
        return _model_quality_inputs(args, tables)


def test_the_model_is_judged_from_the_midnight_of_the_last_day_minus_the_horizon(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills X5 (cutoff = last timestamp - horizon, not normalised): at 15:00 on 2024-05-30 the
    cutoff would take in customer 4's purchase of 10:00 that day and score 4 on a horizon the data
    does not cover to its end. Also kills X6 (``cutoff <= trained``): a cutoff on the training date
    itself is out of time (labels after it were not seen), so no in-sample warning is raised (the
    suite turns warnings into errors)."""
    parts = _quality_inputs(monkeypatch)
    assert parts["X"].index.tolist() == [1, 2, 3]
    assert parts["y"].tolist() == [0, 1, 1]
    assert "judged on 3 customers as of 2024-05-30 with their next 30 days" in (
        capsys.readouterr().out
    )


def test_dates_without_times_are_judged_on_a_horizon_that_ends_with_their_last_day(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A date-only export's last day is whole: the latest fully observed horizon ends at the
    midnight after it, [2024-05-31, 2024-06-30), so customer 2's purchase on the last day counts
    (retained), and customer 4's purchase on the cutoff day is not history."""
    days = ["2024-04-01", "2024-04-02", "2024-04-03", "2024-06-10", "2024-05-31", "2024-06-29"]
    parts = _quality_inputs(monkeypatch, times=days)
    assert parts["X"].index.tolist() == [1, 2, 3]
    assert parts["y"].tolist() == [0, 0, 1]
    assert "as of 2024-05-31 with their next 30 days" in capsys.readouterr().out


def test_fairness_of_the_registered_model_is_judged_at_its_own_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills X17 (threshold 0.5): the fairness audit of the report selects the customers the
    policy calls high risk, a score of at least its high_risk_threshold (0.7 here)."""
    parts = _quality_inputs(monkeypatch)
    assert parts["fairness"].threshold == 0.7


def test_report_prints_retention_against_the_previous_start_given_without_a_period(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills X3 (the printed KPIs ignore ``--previous-start`` when no period is given): the data
    start on 2024-03-01, too late for the default previous period of the last 90 days
    [2024-04-01, 2024-06-30), but the user names one from 2024-03-01: of its customers 1 and 2,
    customer 1 bought again in the period, a retention of 1/2."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 3],
            "timestamp": [
                "2024-03-01 09:00",
                "2024-03-15 09:00",
                "2024-05-10 09:00",
                "2024-06-29 12:00",
            ],
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    tx.to_csv(tmp_path / "tx.csv", index=False)
    args = ["report", str(tmp_path / "tx.csv"), "--previous-start", "2024-03-01"]
    assert main([*args, "--out", str(tmp_path / "report")]) == 0
    printed = {
        line.split()[0]: line.split()[1]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ")
    }
    assert printed["previous_active_customers"] == "2"
    assert printed["retained_customers"] == "1"
    assert printed["retention_rate"] == "0.5"


def test_a_first_purchase_at_the_end_of_the_period_starts_no_cohort() -> None:
    """Kills R22 (``timestamp <= as_of``): the report runs up to, not including, its end, so a
    purchase at its midnight is after it; with only a return before, the cohort section says there
    is no cohort yet instead of failing in cohort_retention."""
    tx = validate_transactions(
        pd.DataFrame(
            {
                "customer_id": [1, 2],
                "timestamp": pd.to_datetime(["2024-01-10 09:00", "2024-02-01 00:00"]),
                "amount": [-5.0, 20.0],
            }
        )
    )
    section = cohort_section(tx, as_of=pd.Timestamp("2024-02-01"))
    assert section.paragraphs[0].startswith("No purchase before 2024-02-01, only returns")
    assert section.tables == () and section.figures == ()


class _Uplift:
    """An uplift model of the report's interface: one offer, d5, with effects 0 to 1 in row order."""

    control_ = "control"
    arms_: tuple[str, ...] = ("d5",)

    def predict_effects(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"d5": np.linspace(0.0, 1.0, len(X))}, index=X.index)


def _campaign(arms: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transactions and one campaign (c1, sent 2024-03-01) with ``arms`` as offer: rows. Every
    customer bought on 2024-02-10; the first three of d5 and the first of control again in March."""
    offers = [offer for offer, n in arms.items() for _ in range(n)]
    ids = list(range(1, len(offers) + 1))
    first_control = offers.index("control") + 1
    again = [1, 2, 3, first_control]
    tx = pd.DataFrame(
        {
            "customer_id": ids + again,
            "timestamp": pd.to_datetime(
                ["2024-02-10 09:00"] * len(ids) + [f"2024-03-0{d} 10:00" for d in (5, 6, 7, 8)]
            ),
            "amount": [10.0] * (len(ids) + len(again)),
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": "c1",
            "customer_id": ids,
            "offer_id": offers,
            "sent_at": pd.Timestamp("2024-03-01"),
        }
    )
    return tx, campaigns


def test_an_arm_of_exactly_the_minimum_cell_size_is_drawn() -> None:
    """Kills R16 (``rows <= MIN_CELL_SIZE``) and Z5 (arms in row order): arms of 10 customers, the smallest cell the report
    shows, keep their response rates (3/10 and 1/10) and their Qini curve; only smaller arms are
    reduced to their count."""
    tx, campaigns = _campaign({"d5": 10, "control": 10})
    section = uplift_section(
        _Uplift(), tx, campaigns=campaigns, as_of=pd.Timestamp("2024-04-01"), window_days=30
    )
    arms = section.tables[0].frame
    # Z5 (no sort of the arms): equal counts come by name, not in the campaign's row order
    assert arms.index.tolist() == ["control", "d5"]
    assert arms["rows"].to_dict() == {"control": 10, "d5": 10}
    assert arms["response_rate"].to_dict() == pytest.approx({"control": 0.1, "d5": 0.3})
    assert [f.name for f in section.figures] == ["uplift_qini"]
    assert not any("Arms of fewer than" in note for note in section.notes)


def test_members_of_unknown_signup_date_count_in_the_tiers() -> None:
    """Kills R6 (members without a signup date dropped): an unknown signup date is not a signup
    after the period, so that member stays in the tier table (gold 2: one of them undated)."""
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "tier": ["gold", "gold", "silver"],
            "signup_date": pd.to_datetime(["2023-06-01", "NaT", "2024-01-15"]),
        }
    )
    section = kpi_section(
        _tx(),
        period_start=pd.Timestamp("2024-02-01"),
        period_end=pd.Timestamp("2024-03-01"),
        customers=customers,
    )
    (tiers,) = [t.frame for t in section.tables if t.caption == "Members by tier"]
    assert tiers["members"].to_dict() == {"gold": 2, "silver": 1}


class _Explained:
    """A churn model with SHAP values: the contributions are the features themselves."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.linspace(0.05, 0.95, len(X))
        return np.column_stack([1 - p, p])

    def shap_values(self, rows: pd.DataFrame) -> pd.DataFrame:
        return rows.astype(float)


def test_churn_drivers_are_read_on_a_sample_of_the_rows_not_the_first_ones() -> None:
    """Kills R23 (``X.head(max_rows)``): features sorted by a column (here recency: 0 for the first
    ten customers, 1 for the last ten) would make the first rows explain none of it. A seeded
    sample of 10 of the 20 rows takes some of each, so recency's mean |SHAP| lies strictly between
    0 and 1; spend's is 2 whichever rows are drawn."""
    X = pd.DataFrame(
        {"recency": [0.0] * 10 + [1.0] * 10, "spend": [-2.0] * 20},
        index=pd.RangeIndex(1, 21, name="customer_id"),
    )
    y = pd.Series([0, 1] * 10, index=X.index)
    section = churn_section(_Explained(), X, y, max_explained_rows=10)
    drivers = section.tables[-1].frame["mean_abs_shap"]
    assert drivers["spend"] == 2.0
    assert 0.0 < drivers["recency"] < 1.0


def test_an_empty_fairness_override_reason_is_refused_as_a_missing_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kills X22 (``bool(args.fairness_override)``): ``--fairness-override ""`` asks for an
    override without a reason; it is refused as such (before any training), not as a reason given
    without an override."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": ["2024-01-05 09:00", "2024-02-05 09:00"],
            "amount": [10.0, 20.0],
        }
    )
    tx.to_csv(tmp_path / "tx.csv", index=False)
    args = ["train", "--transactions", str(tmp_path / "tx.csv"), "--as-of", "2024-03-01"]
    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    assert main([*args, "--tracking-uri", uri, "--fairness-override", ""]) == 1
    assert "fairness_override=True) needs fairness_override_reason" in capsys.readouterr().err
    assert not (tmp_path / "mlflow.db").exists()


def test_a_csv_aligned_with_blanks_is_split_on_them(tmp_path: Path) -> None:
    """Kills X20 (always ``,`` without a comma, semicolon, tab or bar in the header): an older
    export that aligns its columns with blanks is read as three columns, not one."""
    path = tmp_path / "tx.csv"
    path.write_text(
        "customer_id  timestamp   amount\n7            2024-01-05  1.5\n", encoding="utf-8"
    )
    frame = read_table(path, table="transactions")
    assert frame.columns.tolist() == ["customer_id", "timestamp", "amount"]
    assert frame.iloc[0].tolist() == ["7", "2024-01-05", 1.5]


def test_campaign_send_times_that_are_not_dates_are_refused_before_any_section(
    tmp_path: Path,
) -> None:
    """Kills Y5 (no check_sent_at in write_report): send times read as text are refused as a
    schema error naming the column, even when no section would use the campaigns."""
    campaigns = pd.DataFrame(
        {"customer_id": [1, 2], "offer_id": ["d5", "control"], "sent_at": ["2024-02-01"] * 2}
    )
    with pytest.raises(SchemaError, match=r"campaigns\.sent_at must be datetime64"):
        write_report(_tx(), tmp_path, campaigns=campaigns)
    assert not (tmp_path / "report.html").exists()


def test_a_free_item_is_a_purchase_not_a_return_in_the_kpi_notes() -> None:
    """Kills Y8 (``amount > 0``): a line of amount 0 (a free item) is a purchase, as in summary, so
    a period holding one and a return does not say every transaction is a return."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-05 09:00", "2024-02-10 09:00", "2024-02-29 12:00"]
            ),
            "amount": [10.0, 0.0, -5.0],
        }
    )
    section = kpi_section(
        tx, period_start=pd.Timestamp("2024-02-01"), period_end=pd.Timestamp("2024-03-01")
    )
    assert not any("is a return or refund" in note for note in section.notes)


def test_campaign_arms_of_exactly_the_minimum_cell_size_get_no_small_arm_note() -> None:
    """Kills Y9 (``sizes <= MIN_CELL_SIZE``): arms of 10 treated and 10 control customers are shown
    in full (conversion 3/10 against 1/10), so the note on arms shown by their counts only is
    left out."""
    ids = list(range(1, 21))
    tx = pd.DataFrame(
        {
            "customer_id": [*ids, 1, 2, 11, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-10 09:00"] * 20
                + ["2024-02-05 10:00", "2024-02-10 10:00", "2024-02-12 10:00", "2024-02-29 12:00"]
            ),
            "amount": [10.0] * 24,
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": "c1",
            "customer_id": ids,
            "offer_id": ["d5"] * 10 + ["control"] * 10,
            "sent_at": pd.Timestamp("2024-01-31"),
            "redeemed": [True, True] + [False] * 18,
        }
    )
    offers = pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [5.0]})
    section = kpi_section(
        tx,
        period_start=pd.Timestamp("2024-02-01"),
        period_end=pd.Timestamp("2024-03-01"),
        campaigns=campaigns,
        offers=offers,
        window_days=30,
    )
    table = section.tables[-1].frame
    assert table[["conversion_rate", "control_rate"]].iloc[0].tolist() == pytest.approx([0.3, 0.1])
    assert not any("show their counts only" in note for note in section.notes)


def test_a_campaign_whose_only_known_arm_is_the_control_cannot_be_evaluated() -> None:
    """Kills Y10 (``nunique() < 1``): the model knows d5 but the campaign sent d9 and control; with
    d9 left out only the control remains, and there is nothing to compare it with. (Named: the
    automatic choice passes over such a campaign.)"""
    with pytest.raises(DataError, match="no arm the uplift model knows"):
        _named_section({"d9": 10, "control": 10})


def test_no_qini_figure_when_every_offer_arm_is_too_small() -> None:
    """Kills Y11 (figure drawn without any curve): d5 has 9 customers, under the minimum cell of
    10, so it keeps its count only and no Qini curve is left to draw. (Named: the automatic
    choice passes over a campaign without a curve to draw.)"""
    section = _named_section({"d5": 9, "control": 10})
    assert section.figures == ()
    assert any("no curve nor metric: d5" in note for note in section.notes)


def test_the_cohort_heatmap_shows_the_latest_cohorts() -> None:
    """Kills Y13 (``retention.head(max_cohorts)``, the oldest cohorts): with room for one cohort
    the heatmap shows February's, the latest; its 3 customers are under the minimum cell of 10,
    so it is blank and no heatmap is drawn (January's 10 customers would have made one)."""
    january = [f"2024-01-{d:02d} 09:00" for d in range(5, 15)]
    tx = pd.DataFrame(
        {
            "customer_id": [*range(1, 11), 1, 2, 3, 4, 5, 11, 12, 13],
            "timestamp": pd.to_datetime(
                january + ["2024-02-10 09:00"] * 5 + ["2024-02-20 09:00"] * 3
            ),
            "amount": [10.0] * 18,
        }
    )
    section = cohort_section(tx, as_of=pd.Timestamp("2024-03-01"), max_cohorts=1)
    assert [f.name for f in section.figures] == ["retention_curve"]
    assert any("every cohort is, so there is no heatmap" in note for note in section.notes)


def test_the_registered_model_is_judged_only_on_customers_who_allow_profiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kills Z11 (no profiled_only in the report's model quality): scoring customer 3, who refused
    profiling, to judge the model is profiling; 3 is left out of the features, the labels and the
    fairness audit."""
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "gender": ["f", "m", "f", "m"],
            "consent_profiling": [True, True, False, True],
        }
    )
    parts = _quality_inputs(monkeypatch, customers)
    assert parts["X"].index.tolist() == [1, 2]
    assert parts["y"].tolist() == [0, 1]


class _TwoOffers(_Uplift):
    """An uplift model that knows d5 and d10; its effects spread both arms' rows over the ranking
    (row i scores (37 i mod n) / n, a permutation for the 80 rows used)."""

    arms_ = ("d5", "d10")

    def predict_effects(self, X: pd.DataFrame) -> pd.DataFrame:
        d5 = (np.arange(len(X)) * 37 % len(X)) / len(X)
        return pd.DataFrame({"d5": d5, "d10": 1.0 - d5}, index=X.index)


def test_offers_the_campaign_did_not_send_get_no_curve() -> None:
    """Kills Z4 (effects of every arm the model knows kept): the campaign sent d5 and control
    only, so d10, which the model also knows, has no rows to draw or score and is not named."""
    tx, campaigns = _campaign({"d5": 40, "control": 40})
    section = uplift_section(
        _TwoOffers(), tx, campaigns=campaigns, as_of=pd.Timestamp("2024-04-01"), window_days=30
    )
    assert section.tables[0].frame.index.tolist() == ["control", "d5"]
    assert section.tables[1].frame.index.tolist() == ["d5"]
    assert not any("d10" in note for note in section.notes)


def test_a_campaign_named_as_text_is_found_among_integer_campaign_ids() -> None:
    """Review: the command line names a campaign as text; a Parquet file's integer ids read
    'uplift_campaign_id='7' is not a campaign ...; those are [7]'."""
    section = _named_section({"d5": 12, "control": 12}, campaign_id="7", stored_as=7)
    assert section.figures


def _named_section(
    arms: dict[str, int], *, campaign_id: str = "c1", stored_as: object = "c1"
) -> Any:
    """The uplift section of :func:`_campaign`'s campaign, named (stored under ``stored_as``)."""
    tx, campaigns = _campaign(arms)
    return uplift_section(
        _Uplift(),
        tx,
        campaigns=campaigns.assign(campaign_id=stored_as),
        as_of=pd.Timestamp("2024-04-01"),
        window_days=30,
        campaign_id=campaign_id,
    )
