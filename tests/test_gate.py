from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.datasets.simulator import simulate
from loyalty_ml.evaluation.fairness import FairnessLimits, FairnessReport, fairness_report
from loyalty_ml.evaluation.gate import GateDecision, check_promotion
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, PolicyError, TrackingError
from loyalty_ml.schema import columns as C

AUDITED = [C.AGE_BAND, C.GENDER, C.INCOME_BAND, C.REGION]


# -- the simulator end to end: a biased plan is flagged and blocked, a fair plan passes -----------
@pytest.fixture(scope="module")
def programme() -> Any:
    return simulate(n_customers=3_000, start="2023-01-01", end="2023-12-31", seed=11)


@pytest.fixture(scope="module")
def sensitive(programme: Any) -> pd.DataFrame:
    return programme.customers.set_index(C.CUSTOMER_ID)[AUDITED]


def _plan(index: pd.Index, offered: np.ndarray, catalog: pd.DataFrame) -> pd.DataFrame:
    """A plan shaped like choose_offers' output: one offer, its cost for those who get it."""
    offer = catalog[C.OFFER_ID].iloc[0]
    cost = float(catalog[C.COST_PER_REDEMPTION].iloc[0]) * 0.3
    return pd.DataFrame(
        {
            C.OFFER_ID: pd.Series(np.where(offered, offer, None), index=index, dtype="str"),
            "expected_uplift": np.where(offered, 0.02, 0.0),
            "expected_cost": np.where(offered, cost, 0.0),
            "expected_net_value": np.where(offered, 0.1, 0.0),
            "reason": np.where(offered, "cheapest effective", "no effective offer"),
        },
        index=index,
    )


@pytest.fixture(scope="module")
def biased(programme: Any, sensitive: pd.DataFrame) -> FairnessReport:
    offered = (sensitive[C.INCOME_BAND] == "high").to_numpy()  # offers only to the well-off
    plan = _plan(sensitive.index, offered, programme.offers)
    return fairness_report(sensitive, offers=plan)


@pytest.fixture(scope="module")
def fair(programme: Any, sensitive: pd.DataFrame) -> FairnessReport:
    rng = np.random.default_rng(0)
    offered = rng.random(len(sensitive)) < 0.3  # random, independent of every attribute
    plan = _plan(sensitive.index, offered, programme.offers)
    return fairness_report(sensitive, offers=plan)


def test_simulated_biased_plan_is_flagged(biased: FairnessReport) -> None:
    assert biased.passed is False
    flagged = biased.violations[
        (biased.violations["attribute"] == C.INCOME_BAND)
        & (biased.violations["metric"] == "offer_rate")
    ]
    assert len(flagged) == 1
    row = flagged.iloc[0]
    assert (row["statistic"], row["min_group"], row["max_group"]) == ("difference", "low", "high")
    assert row["value"] == pytest.approx(1.0) and row["excess"] == pytest.approx(0.9)
    # the offer spend per customer shows the same gap, by group
    cost = biased.by_group.xs(C.INCOME_BAND, level="attribute")["mean_offer_cost"]
    assert cost["high"] > 0 and cost["low"] == 0 and cost["middle"] == 0


def test_simulated_fair_plan_passes(fair: FairnessReport, sensitive: pd.DataFrame) -> None:
    assert fair.passed, fair.violations
    rates = fair.by_group.xs(C.INCOME_BAND, level="attribute")["offer_rate"]
    assert rates.between(0.25, 0.35).all()
    # every customer is counted once per attribute, including small groups (reported, not judged)
    for attribute in AUDITED:
        assert fair.by_group.xs(attribute, level="attribute")["count"].sum() == len(sensitive)
    summary = fair.summary.loc[(C.GENDER, "offer_rate")]
    assert summary["n_judged"] < summary["n_groups"]  # "other" is too small to be judged


def test_gate_blocks_the_biased_plan_and_passes_the_fair_one(
    biased: FairnessReport, fair: FairnessReport
) -> None:
    blocked = check_promotion(biased)
    assert (blocked.promote, blocked.status, blocked.passed) == (False, "failed", False)
    assert any(
        line.startswith("income_band offer_rate difference 1") for line in blocked.violations
    )
    assert blocked.message.startswith("fairness gate failed: ")
    with pytest.raises(PolicyError, match="Promotion blocked: fairness gate failed"):
        blocked.raise_if_blocked()
    passed = check_promotion(fair)
    assert (passed.promote, passed.status, passed.violations) == (True, "passed", ())
    passed.raise_if_blocked()  # does not raise


def test_conditional_parity_on_simulated_customers(sensitive: pd.DataFrame) -> None:
    # Risk differs by income; offers follow risk only. Raw offer rates differ by income, but at
    # equal risk they do not: judged within risk bands the plan passes.
    rng = np.random.default_rng(1)
    low_income = (sensitive[C.INCOME_BAND] == "low").to_numpy()
    high_risk = rng.random(len(sensitive)) < np.where(low_income, 0.7, 0.2)
    band = pd.Series(np.where(high_risk, "high", "low"), index=sensitive.index, name="risk_band")
    offered = high_risk & (rng.random(len(sensitive)) < 0.8)
    plan = pd.DataFrame(
        {C.OFFER_ID: np.where(offered, "A", None), "expected_cost": np.where(offered, 2.0, 0.0)},
        index=sensitive.index,
    )
    audit = sensitive[[C.INCOME_BAND]]
    assert not fairness_report(audit, offers=plan).passed
    within = fairness_report(audit, offers=plan, control=band)
    assert within.passed, within.violations
    both = fairness_report(audit, offers=plan, control=band, limits=FairnessLimits(judge="both"))
    assert not both.passed and not both.violations["conditional"].any()


# -- the override ---------------------------------------------------------------------------------
def test_override_is_explicit_and_recorded(biased: FairnessReport) -> None:
    decision = check_promotion(
        biased, override=True, override_reason="  pilot approved, ticket 42 "
    )
    assert decision.promote and decision.overridden
    assert decision.status == "failed, overridden"
    assert decision.override_reason == "pilot approved, ticket 42"
    tags = decision.as_tags()
    assert tags["fairness_gate"] == "failed, overridden"
    assert tags["fairness_override_reason"] == "pilot approved, ticket 42"
    assert "overridden: pilot approved, ticket 42" in tags["fairness_gate_reason"]
    record = decision.as_dict()
    assert record["overridden"] is True and record["violations"] == list(decision.violations)


def test_override_of_a_passing_report_is_not_recorded_as_an_override(fair: FairnessReport) -> None:
    decision = check_promotion(fair, override=True, override_reason="just in case")
    assert (decision.promote, decision.overridden, decision.override_reason) == (True, False, None)
    assert "fairness_override_reason" not in decision.as_tags()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"override": True}, "needs a non-empty override_reason"),
        ({"override": True, "override_reason": "   "}, "needs a non-empty override_reason"),
        ({"override_reason": "because"}, "override_reason but override=False"),
        ({"override": "yes"}, "'override' parameter .* must be a bool"),
        # a blank cell of a form read as NaN was recorded as the reason "nan"
        ({"override": True, "override_reason": np.nan}, "'override_reason' .* must be text"),
        ({"override": True, "override_reason": pd.NA}, "'override_reason' .* must be text"),
    ],
)
def test_override_errors(biased: FairnessReport, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_promotion(biased, **kwargs)


def test_report_type_and_missing_audit() -> None:
    with pytest.raises(ConfigError, match=r"'report' parameter .* must be a FairnessReport"):
        check_promotion({"passed": True})  # type: ignore[arg-type]
    unaudited = check_promotion(None)
    assert (unaudited.promote, unaudited.status, unaudited.passed) == (True, "not audited", None)
    required = check_promotion(None, require_audit=True)
    assert not required.promote
    with pytest.raises(PolicyError, match="an audit is required"):
        required.raise_if_blocked()


def test_conditional_violations_say_where() -> None:
    # cells of 10 customers: the line becomes a run tag, which names no smaller group
    ids = pd.RangeIndex(40, name=C.CUSTOMER_ID)
    sensitive = pd.Series(np.tile(["a", "b"], 20), index=ids, name="g")
    band = pd.Series(np.repeat(["hi", "lo"], 20), index=ids, name="risk")
    offered = (band == "hi") & (sensitive == "a")
    plan = pd.DataFrame({C.OFFER_ID: np.where(offered, "A", None), "expected_cost": 1.0}, index=ids)
    report = fairness_report(
        sensitive,
        offers=plan,
        control=band,
        limits=FairnessLimits(significance=None, min_group_size=1),
    )
    (line,) = check_promotion(report).violations
    assert line == "g offer_rate difference within hi 1 vs limit 0.1 (groups b / a)"


def test_violations_name_no_group_under_the_minimum_cell() -> None:
    """Fixed: the gate's lines (the run tag ``fairness_gate_reason``) named a group of 3
    customers, and gave the gap its rate makes, when the limits judged groups that small."""
    ids = pd.RangeIndex(33, name=C.CUSTOMER_ID)
    sensitive = pd.Series(["big"] * 30 + ["RARETIER"] * 3, index=ids, name="tier")
    plan = pd.DataFrame({C.OFFER_ID: ["A"] * 15 + [None] * 18, "expected_cost": 1.0}, index=ids)
    report = fairness_report(
        sensitive, offers=plan, limits=FairnessLimits(significance=None, min_group_size=1)
    )
    assert ("tier", "RARETIER") in report.by_group.index  # the notebook's report keeps it
    decision = check_promotion(report)
    (line,) = decision.violations
    assert line == (
        "tier offer_rate difference withheld vs limit 0.1 (groups (small groups) / (withheld))"
    )
    assert "RARETIER" not in str(decision.as_tags())


def test_log_to_mlflow(biased: FairnessReport, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    decision = check_promotion(biased, override=True, override_reason="reviewed")
    with pytest.raises(TrackingError, match="needs an active MLflow run"):
        decision.log_to_mlflow()
    # The real MLflow round trip is covered by test_fairness; here only what is sent matters.
    logged: dict[str, Any] = {}
    monkeypatch.setattr(mlflow, "active_run", lambda: object())
    monkeypatch.setattr(mlflow, "set_tags", lambda tags: logged.update(tags))
    monkeypatch.setattr(mlflow, "log_metric", lambda key, value: logged.update({key: value}))
    decision.log_to_mlflow()
    assert logged == {
        "fairness_gate": "failed, overridden",
        "fairness_gate_reason": decision.message,
        "fairness_override_reason": "reviewed",
        "fairness_gate_overridden": 1.0,
    }


def test_decision_is_immutable(fair: FairnessReport) -> None:
    decision = check_promotion(fair)
    assert isinstance(decision, GateDecision)
    with pytest.raises(AttributeError):
        decision.promote = False  # type: ignore[misc]


def test_a_pass_names_the_attributes_too_small_to_judge() -> None:
    ids = pd.Index(range(8), name=C.CUSTOMER_ID)
    sensitive = pd.DataFrame({"age": [23, 35, 35, 41, 52, 52, 60, 67]}, index=ids)  # raw years
    scores = pd.Series(np.linspace(0.1, 0.9, 8), index=ids)
    with pytest.warns(DataQualityWarning, match=r"could not judge the attribute 'age'"):
        report = fairness_report(
            sensitive, y_score=scores, limits=FairnessLimits(significance=None, min_group_size=3)
        )
    decision = check_promotion(report)
    assert (decision.promote, decision.unjudged) == (True, ("age",))
    assert decision.message == "fairness gate passed; not judged (groups too small): age"
