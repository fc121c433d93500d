"""Tests that kill mutants which survived the suite (session 45's mutation run of the churn
triggers, the promotion gate, policy_value, the churn metrics, the metric inputs, the plan summary,
the send history and the offer catalog). Each test names the mutant it kills; all use small
hand-made inputs and expected values worked out by hand."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.churn_metrics import calibration_table, evaluate_churn, lift_table
from loyalty_ml.evaluation.fairness import FairnessLimits, FairnessReport, fairness_report
from loyalty_ml.evaluation.gate import check_promotion
from loyalty_ml.evaluation.policy_value import policy_value
from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning
from loyalty_ml.models._uplift_propensity import PoorOverlapWarning
from loyalty_ml.policy.triggers import (
    TriggerPolicy,
    threshold_for_capacity,
    threshold_for_precision,
    threshold_for_profit,
)
from loyalty_ml.schema import columns as C


def _customers(recency: list[float], spend: list[float] | None = None) -> pd.DataFrame:
    n = len(recency)
    return pd.DataFrame(
        {
            "recency_days": recency,
            "n_orders": 3.0,
            "spend": [1.0] * n if spend is None else spend,
        },
        index=pd.Index(range(n), name=C.CUSTOMER_ID),
    )


# -- triggers: configuration --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("medium", "high"),
    [(0.5, 0.5), (0.0, 0.5)],
)
def test_risk_bands_need_a_positive_medium_strictly_below_high(medium: float, high: float) -> None:
    """Kills T01 (medium_risk <= high_risk accepted: an empty medium band) and T02
    (medium_risk = 0 accepted: every customer at least medium risk)."""
    with pytest.raises(ConfigError, match="0 < medium_risk < high_risk <= 1"):
        TriggerPolicy(medium_risk=medium, high_risk=high)


def test_high_risk_of_one_is_allowed_and_bands_only_certain_churners() -> None:
    """Kills T03 (high_risk < 1 required): the documented range is high_risk <= 1."""
    policy = TriggerPolicy(medium_risk=0.5, high_risk=1.0)
    out = policy.assign(_customers([10.0, 10.0, 10.0]), [1.0, 0.99, 0.4])
    assert out["risk_band"].tolist() == ["high", "medium", "low"]


def test_sleep_boundary_of_zero_is_allowed_and_makes_no_one_active() -> None:
    """Kills T04 (sleep_days = 0 refused): the documented range is 0 <= sleep_days."""
    out = TriggerPolicy(sleep_days=0.0, churn_days=30.0).assign(_customers([0.0, 29.0]), [0.4, 0.4])
    assert out["boundary_state"].tolist() == ["sleeping", "sleeping"]
    assert out["action"].tolist() == ["re_engagement", "re_engagement"]


def test_sleep_boundary_equal_to_the_churn_boundary_is_refused() -> None:
    """Kills T05 (sleep_days <= churn_days accepted: no customer could ever be sleeping)."""
    with pytest.raises(ConfigError, match="0 <= sleep_days < churn_days"):
        TriggerPolicy(sleep_days=90.0, churn_days=90.0)


@pytest.mark.parametrize(("window", "ok"), [((30.0, 30.0), False), ((0.0, 60.0), True)])
def test_winback_window_needs_zero_or_more_days_to_a_later_end(
    window: tuple[float, float], ok: bool
) -> None:
    """Kills T06 (an empty window start == end accepted) and T07 (a window starting at the churn
    boundary itself, start = 0, refused)."""
    if not ok:
        with pytest.raises(ConfigError, match="'winback_window' parameter"):
            TriggerPolicy(winback_window=window)
        return
    out = TriggerPolicy(winback_window=window).assign(_customers([90.0, 149.0, 150.0]), [0.1] * 3)
    assert out["action"].tolist() == ["win_back", "win_back", "none"]


def test_win_back_uses_its_own_channel() -> None:
    """Kills T17 (win-back sent on the retention channel; both are e-mail by default)."""
    policy = TriggerPolicy(winback_channel="push", retention_channel="email")
    out = policy.assign(_customers([130.0, 20.0]), [0.9, 0.9])
    assert out["action"].tolist() == ["win_back", "retention_offer"]
    assert out["channel"].tolist() == ["push", "email"]


def test_band_warning_from_exactly_the_minimum_batch_and_share() -> None:
    """Kills T19 (a batch of exactly MIN_CUSTOMERS_FOR_BAND_CHECK = 100 skipped) and T20 (exactly
    90% high risk not warned)."""
    active = _customers([10.0] * 100)
    with pytest.warns(DataQualityWarning, match="100 of the 100 customers"):
        TriggerPolicy().assign(active, np.full(100, 0.9))
    with pytest.warns(DataQualityWarning, match=r"90 of the 100 customers .*\(90%\)"):
        TriggerPolicy().assign(active, np.r_[np.full(90, 0.9), np.full(10, 0.1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TriggerPolicy().assign(active, np.r_[np.full(89, 0.9), np.full(11, 0.1)])  # 89%


def test_a_reference_spend_threshold_judges_a_lone_customer() -> None:
    """Kills T25 (the frozen vip_spend_threshold ignored): against the reference spends 10, 20,
    ..., 110 the 0.9 quantile ("higher", position 0.9 * 10 = 9) is 100, so a lone customer
    spending 105 is valuable; judged alone, the customer is its own threshold and is not."""
    ref = _customers([10.0] * 11, spend=[10.0 * (i + 1) for i in range(11)])
    policy = TriggerPolicy(vip_rule="spend_quantile").with_reference(ref)
    assert policy.vip_spend_threshold == 100.0
    out = policy.assign(_customers([10.0], spend=[105.0]), [0.7])
    assert out["valuable"].tolist() == [True]
    assert out["action"].tolist() == ["vip_contact"]


def test_band_edges_are_inclusive_and_p_of_one_is_a_probability() -> None:
    """Kills T29 (p = 1 refused by assign)."""
    out = TriggerPolicy().assign(_customers([10.0, 10.0, 10.0]), [0.6, 1.0, 0.3])
    assert out["risk_band"].tolist() == ["high", "high", "medium"]


def test_capacity_threshold_below_a_tie_keeps_every_score_above_it() -> None:
    """Kills T39 (the highest score above a tie at the cut taken instead of the lowest): with
    k = 3 the tie at 0.5 would make 4, so the threshold is 0.8, selecting 0.9 and 0.8 (not 0.9
    alone)."""
    assert threshold_for_capacity([0.5, 0.9, 0.5, 0.8], 3) == 0.8


def test_precision_threshold_never_splits_a_tie() -> None:
    """Kills T40 (precision read inside tie groups): the score 0.5 holds a churner and a
    non-churner; taking it gives precision 2/3 < 0.75, so the threshold stays at 0.9 (reading the
    tie's first row alone, 2/2, would pick 0.5)."""
    assert threshold_for_precision([1, 1, 0], [0.9, 0.5, 0.5], 0.75) == 0.9


def test_precision_threshold_pairs_two_series_by_id() -> None:
    """Kills T44 (Series with different orders paired by position)."""
    p = pd.Series([0.9, 0.8, 0.7, 0.6, 0.2], index=[1, 2, 3, 4, 5])
    y = pd.Series([1, 1, 0, 1, 0], index=[1, 2, 3, 4, 5]).iloc[::-1]
    assert threshold_for_precision(y, p, 0.75) == 0.6


def test_profit_threshold_edges_of_its_ranges() -> None:
    """Kills T45 (a free contact refused) and T46 (a save rate of 1 refused)."""
    assert threshold_for_profit([0.5], value_saved=100.0, save_rate=0.5, contact_cost=0.0) == 0.0
    assert threshold_for_profit([0.5], value_saved=100.0, save_rate=1.0, contact_cost=5.0) == 0.05


def test_threshold_helpers_take_a_column_but_not_nothing() -> None:
    """Kills T48 (a (n, 1) column of probabilities refused) and T49 (empty p reached an
    IndexError instead of a DataError)."""
    assert threshold_for_capacity(np.array([[1.0], [0.5], [0.2]]), 1) == 1.0
    with pytest.raises(DataError, match="threshold_for_capacity: p is empty"):
        threshold_for_capacity([], 1)


# -- gate ---------------------------------------------------------------------------------------
def _plan_report(offers: list[str | None]) -> FairnessReport:
    """Offer-rate audit of four customers, groups a (1, 2) and b (3, 4)."""
    sensitive = pd.Series(["a", "a", "b", "b"], index=[1, 2, 3, 4], name="income_band")
    plan = pd.DataFrame({C.OFFER_ID: offers, "expected_cost": 1.0}, index=[1, 2, 3, 4])
    return fairness_report(sensitive, offers=plan, limits=FairnessLimits(min_group_size=1))


@pytest.mark.parametrize("flag", ["override", "require_audit"])
def test_gate_flags_must_be_bools_not_ints(flag: str) -> None:
    """Kills G08 (ints accepted as the override / require_audit flags): a 0/1 read from a form or
    a config file is refused, as the message says, rather than silently read as a bool."""
    report = _plan_report(["A", "A", None, None])
    kwargs: dict[str, Any] = {flag: 1}
    if flag == "override":
        kwargs["override_reason"] = "reviewed"
    with pytest.raises(ConfigError, match=f"'{flag}' parameter of check_promotion must be a bool"):
        check_promotion(report, **kwargs)


def test_a_passed_gate_logs_that_it_was_not_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kills G10 (the metric fairness_gate_overridden logged from promote): a plain pass is
    promoted but not overridden, so the metric is 0."""
    import mlflow

    decision = check_promotion(_plan_report(["A", None, "A", None]))
    assert (decision.promote, decision.status) == (True, "passed")
    logged: dict[str, Any] = {}
    monkeypatch.setattr(mlflow, "active_run", lambda: object())
    monkeypatch.setattr(mlflow, "set_tags", lambda tags: logged.update(tags))
    monkeypatch.setattr(mlflow, "log_metric", lambda key, value: logged.update({key: value}))
    decision.log_to_mlflow()
    assert logged == {
        "fairness_gate": "passed",
        "fairness_gate_reason": "fairness gate passed",
        "fairness_gate_overridden": 0.0,
    }


# -- churn metrics -------------------------------------------------------------------------------
def test_calibration_bins_are_numbered_from_one() -> None:
    """Kills C02 (bins numbered from 0): the table's bins, like lift's deciles, start at 1."""
    table = calibration_table([0, 1, 0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], n_bins=3)
    assert table.index.tolist() == [1, 2, 3]
    assert table["count"].tolist() == [2, 2, 2]
    assert table["mean_predicted"].tolist() == pytest.approx([0.15, 0.35, 0.55])


def test_tied_scores_straddling_a_bin_edge_share_their_observed_rate() -> None:
    """Kills C03 (calibration bins read each row's own outcome): four customers all scored 0.5,
    two churned; the bin edge falls inside the tie, so by row order the first bin would read 1.0
    and the second 0.0 (ECE 0.5); pooled, both read 0.5 and the score is perfectly calibrated."""
    y, p = [1, 1, 0, 0], [0.5, 0.5, 0.5, 0.5]
    table = calibration_table(y, p, n_bins=2)
    assert table["observed_rate"].tolist() == [0.5, 0.5]
    ev = evaluate_churn([1, 1, 0, 0, 0, 1], [0.5, 0.5, 0.5, 0.5, 0.1, 0.9], n_bins=3)
    # bins {0.1, 0.5}, {0.5, 0.5}, {0.5, 0.9}; tie rate 0.5: gaps |0.3-0.25|, 0, |0.7-0.75|
    assert ev.ece == pytest.approx((2 * 0.05 + 2 * 0.0 + 2 * 0.05) / 6)


def test_tied_scores_straddling_a_decile_edge_share_their_churn_rate() -> None:
    """Kills C04 (lift groups read each row's own outcome): a constant score has lift 1 in every
    group, not 2 in the first and 0 in the second by row order."""
    table = lift_table([1, 1, 0, 0], [0.5, 0.5, 0.5, 0.5], n_groups=2)
    assert table["churners"].tolist() == [1.0, 1.0]
    assert table["lift"].tolist() == [1.0, 1.0]
    assert table["cumulative_capture"].tolist() == [0.5, 1.0]


@pytest.mark.parametrize("bad", [-1.0, 0.5, np.nan])
def test_outcomes_other_than_zero_or_one_are_refused(bad: float) -> None:
    """Kills C13 (only y > 1 refused): a negative, fractional or missing outcome is no churn
    label; the tables would otherwise count it into the churn rates."""
    with pytest.raises(DataError, match="y_true must be 0/1"):
        lift_table([bad, 1.0, 0.0, 1.0], [0.9, 0.6, 0.3, 0.1], n_groups=2)


def test_capture_of_the_top_decile_is_its_share_of_all_churners() -> None:
    """Kills C18 (capture_top_decile read from the decile's churn rate): the top decile of ten
    customers is the one scored 0.95, a churner, with 1 of the 2 churners: capture 0.5, rate 1,
    lift 1 / 0.2 = 5."""
    y = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    p = [0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05]
    ev = evaluate_churn(y, p)
    assert ev.capture_top_decile == pytest.approx(0.5)
    assert ev.lift_top_decile == pytest.approx(5.0)
    assert ev.base_rate == pytest.approx(0.2)


def test_mean_predicted_is_the_mean_of_the_bin() -> None:
    """Kills C19 (mean_predicted taken as the median): one bin of scores 0.1, 0.2 and 0.6 has mean
    0.3 (the median is 0.2); two of three churned, so ECE = |0.3 - 2/3|."""
    table = calibration_table([1, 0, 1], [0.1, 0.2, 0.6], n_bins=1)
    assert table["mean_predicted"].tolist() == pytest.approx([0.3])
    ev = evaluate_churn([1, 0, 1], [0.1, 0.2, 0.6], n_bins=1)
    assert ev.ece == pytest.approx(2 / 3 - 0.3)


# -- policy_value ----------------------------------------------------------------------------------
_Y = np.array([1.0, 0.0, 0.0, 1.0])
_T = np.array(["a", "control", "a", "control"])


def test_policy_value_refuses_a_confidence_of_one() -> None:
    """Kills V01 (confidence = 1 accepted): a 100% normal interval is (-inf, inf)."""
    with pytest.raises(ConfigError, match="'confidence' parameter of policy_value"):
        policy_value(_Y, _T, ["a"] * 4, confidence=1.0)


def test_policy_value_refuses_a_single_bootstrap_resample() -> None:
    """Kills V02 (n_bootstrap = 1 accepted): one resample has no spread to read an interval from."""
    with pytest.raises(ConfigError, match="'n_bootstrap' parameter of policy_value"):
        policy_value(_Y, _T, ["a"] * 4, n_bootstrap=1)


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_a_missing_assignment_means_the_control_arm_as_named_by_the_caller() -> None:
    """Kills V03 (a missing assignment filled with the default label "control"): with
    control="ctl", no offer means arm "ctl", received by rows 1 and 3 (share 1/2) of which row 3
    bought: (1 / 0.5) / 4 = 0.5."""
    t = np.array(["a", "ctl", "a", "ctl"])
    result = policy_value(_Y, t, pd.Series([None, None, None, None]), control="ctl")
    assert result.value == pytest.approx(0.5)


def _experiment(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """n rows alternating arm a / control, row i rewarded i (distinct rewards: no tied draws)."""
    return np.arange(n, dtype=float), np.where(np.arange(n) % 2 == 0, "a", "control")


def test_bootstrap_interval_is_the_central_percentiles_and_se_the_sample_std() -> None:
    """Kills V10 (percentiles 1 - c and c instead of (1 -+ c) / 2) and V11 (se with ddof=0).
    With two resamples d1, d2 the 95% percentile interval is 0.95 |d1 - d2| wide and the sample
    standard deviation is |d1 - d2| / sqrt(2), so width = 0.95 * sqrt(2) * se whatever the draws."""
    y, t = _experiment()
    for seed in range(3):
        r = policy_value(y, t, ["a"] * y.size, n_bootstrap=2, random_state=seed)
        assert r.std_error > 0
        assert r.ci_high - r.ci_low == pytest.approx(0.95 * np.sqrt(2) * r.std_error)
        # arm a holds rows 0, 2, ..., 38 (rewards summing to 380) at share 1/2: 380 / 0.5 / 40
        assert r.value == pytest.approx(19.0)


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_constant_outcomes_within_each_arm_carry_no_noise_in_either_interval() -> None:
    """Kills V12 (bootstrap resampled across arms) and V13 (the zero-se warning dropped). With the
    observed shares as propensities each arm's part is a mean within the arm; when every arm-a row
    bought and no control row did, that part is exactly 1 in every resample, as in the normal
    interval: se 0, a warning, and a NaN interval."""
    y = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    t = np.array(["a", "a", "control", "control", "a", "control"])
    for n_bootstrap in (0, 50):
        with pytest.warns(DataQualityWarning, match="standard error is 0"):
            r = policy_value(y, t, ["a"] * 6, n_bootstrap=n_bootstrap, random_state=0)
        assert r.value == pytest.approx(1.0)
        assert r.std_error == pytest.approx(0.0)
        assert np.isnan(r.ci_low) and np.isnan(r.ci_high)


def _per_row_propensity(p_a: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"a": p_a, "control": 1.0 - p_a})


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_poor_overlap_is_judged_against_a_fifth_of_the_arms_mean_propensity() -> None:
    """Kills V14 (a tenth instead of a fifth): arm a's mean propensity over the rows it is given
    is (80 * 0.08 + 20 * 0.012) / 100 = 0.0664, so the limit is 0.0664 / 5 = 0.0133 (under 0.02
    and 0.2 / 2 arms) and the 20 rows at 0.012 are flagged; at a tenth (0.0066) none would be."""
    y, t = _experiment(100)
    p_a = np.where(np.arange(100) < 80, 0.08, 0.012)
    with pytest.warns(PoorOverlapWarning, match=r"gives 20 rows \(20.0%\)"):
        policy_value(y, t, ["a"] * 100, propensity=_per_row_propensity(p_a))


def test_poor_overlap_on_exactly_one_percent_of_the_rows_does_not_warn() -> None:
    """Kills V15 (warning from 1% of the rows included): one row in 100 (a control row, so its
    weight is never used) below the limit is tolerated. Arm a holds rows 0, 2, ..., 98 (rewards
    summing to 2450) at propensity 0.5: 2450 / 0.5 / 100 = 49."""
    y, t = _experiment(100)
    p_a = np.full(100, 0.5)
    p_a[1] = 0.001
    assert policy_value(y, t, ["a"] * 100, propensity=_per_row_propensity(p_a)).value == (
        pytest.approx(49.0)
    )


def test_an_assigned_arm_of_propensity_zero_is_refused() -> None:
    """Kills V16 (propensity 0 accepted): an arm nobody could receive cannot be evaluated."""
    with pytest.raises(DataError, match="needs a propensity > 0"):
        policy_value(_Y, _T, ["a"] * 4, propensity=pd.Series({"a": 0.0, "control": 1.0}))


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_an_assigned_arm_of_propensity_one_is_allowed() -> None:
    """Kills V17 (propensity 1 refused): every row received arm a for sure; the value is the
    plain mean reward 3/4."""
    y = np.array([1.0, 0.0, 1.0, 1.0])
    r = policy_value(y, ["a"] * 4, ["a"] * 4, propensity=pd.Series({"a": 1.0}))
    assert r.value == pytest.approx(0.75)


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_doubly_robust_refuses_a_missing_prediction_of_the_assigned_arm() -> None:
    """Kills V21 (the finiteness check of mu's assigned arm dropped): a NaN prediction made the
    value NaN without a word."""
    mu = pd.DataFrame({"a": [np.nan, 0.5, 0.5, 0.5], "control": 0.2})
    with pytest.raises(DataError, match=r"mu \(of the assigned arm\) is missing or infinite"):
        policy_value(_Y, _T, ["a"] * 4, method="dr", mu=mu)


def test_per_row_propensity_without_the_assigned_arm_is_refused() -> None:
    """Kills V25 (the missing-column check dropped): get_indexer's -1 silently read the last
    column, another arm's propensity."""
    propensity = pd.DataFrame({"control": [0.5, 0.5, 0.5, 0.5]})
    with pytest.raises(DataError, match=r"propensity lacks arms \['a'\]"):
        policy_value(_Y, _T, ["a"] * 4, propensity=propensity)


def test_per_row_propensity_of_another_length_is_refused() -> None:
    """Kills V27 (the row-count check dropped): five rows of propensities for four customers were
    read by position, the fifth silently ignored."""
    propensity = _per_row_propensity(np.full(5, 0.5))
    with pytest.raises(DataError, match="propensity has 5 rows but y has 4"):
        policy_value(_Y, _T, ["a"] * 4, propensity=propensity)


# -- metric inputs (evaluation/_metric_inputs.py) ---------------------------------------------------
def test_series_with_the_same_repeated_index_are_paired_by_position() -> None:
    """Kills M01 (identical indexes checked for repeats too): two Series on the very same index
    need no matching by id, so a repeated id (two scores of one customer) is fine."""
    ids = pd.Index([7, 7, 8, 9])
    table = lift_table(
        pd.Series([1, 0, 1, 0], index=ids), pd.Series([0.9, 0.1, 0.8, 0.2], index=ids), n_groups=2
    )
    assert table["churners"].tolist() == [2.0, 0.0]


@pytest.mark.parametrize("repeated", ["y_true", "p"])
def test_a_repeated_id_in_either_series_is_refused_when_matching_by_id(repeated: str) -> None:
    """Kills M02 (the repeated-id check dropped: pandas' own reindex error instead) and M12 (only
    the second Series checked: a repeated id in the first one was silently paired twice)."""
    y = pd.Series([1, 0, 1], index=[1, 2, 3])
    p = pd.Series([0.2, 0.7, 0.9], index=[3, 2, 1])
    if repeated == "y_true":
        y = pd.Series([1, 0, 1], index=[1, 1, 2])
        p = pd.Series([0.2, 0.7], index=[2, 1])
    else:
        p = pd.Series([0.2, 0.7, 0.9, 0.1], index=[3, 2, 1, 1])
    with pytest.raises(DataError, match=f"{repeated} has repeated index values"):
        calibration_table(y, p, n_bins=1)


@pytest.mark.parametrize("which", ["missing", "extra"])
def test_series_with_different_ids_are_refused(which: str) -> None:
    """Kills M03 (ids missing from p let through: they became NaN scores) and M04 (extra ids in
    p silently dropped)."""
    y = pd.Series([1, 0, 1], index=[1, 2, 3])
    p = (
        pd.Series([0.9, 0.1], index=[1, 2])
        if which == "missing"
        else pd.Series([0.9, 0.1, 0.8, 0.5], index=[1, 2, 3, 4])
    )
    with pytest.raises(DataError, match="p is not indexed by the same ids as y_true"):
        calibration_table(y, p, n_bins=1)


def test_a_single_number_is_not_one_value_per_row() -> None:
    """Kills M06 (scalars accepted): y=1.0 was read as one row."""
    with pytest.raises(DataError, match="y must be one value per row"):
        policy_value(1.0, ["a"], ["a"])


def test_missing_and_infinite_rewards_are_named_by_row() -> None:
    """Kills M08 (None in a list refused as text, not as a missing value) and M09 (infinite
    rewards let through: the value became inf)."""
    with pytest.raises(DataError, match=r"y is missing or infinite at rows \[1\]"):
        policy_value([1.0, None, 0.0, 1.0], _T, ["a"] * 4)
    with pytest.raises(DataError, match=r"y is missing or infinite at rows \[3\]"):
        policy_value([1.0, 0.0, 0.0, np.inf], _T, ["a"] * 4)


# -- plan summary (policy/plan_summary.py) ------------------------------------------------------------
def _plan() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.OFFER_ID: ["d5", "d5", None, "pts"],
            "expected_uplift": [0.1, 0.2, 0.0, 0.05],
            "expected_cost": [1.0, 2.0, 0.0, 0.5],
            "expected_net_value": [3.0, 4.0, 0.0, 1.5],
            "reason": ["max value", "max value", "no effective offer", "cheapest"],
        },
        index=pd.Index([1, 2, 3, 4], name=C.CUSTOMER_ID),
    )


def test_plan_metrics_total_money_but_not_customers() -> None:
    """Kills P08 (a plan_total_customers metric added): customers are counted per offer only."""
    from loyalty_ml.policy.plan_summary import summarize_plan

    metrics = summarize_plan(_plan()).to_dict()
    assert metrics == pytest.approx(
        {
            "plan_customers_d5": 2.0,
            "plan_customers_pts": 1.0,
            "plan_customers_total": 3.0,
            "plan_total_cost": 3.5,
            "plan_total_net_value": 8.5,
            "plan_total_uplift": 0.35,
        }
    )


def test_a_budget_without_its_prudent_cost_is_not_summarised() -> None:
    """Kills P06 (the budget read when any of budget / budget_cost is a number): a plan whose
    attrs lost budget_cost has no budget summary, rather than failing on float(None)."""
    from loyalty_ml.policy.plan_summary import summarize_plan

    plan = _plan()
    plan.attrs.update({"budget": 10.0, "budget_cost": None})
    assert summarize_plan(plan).budget is None


# -- offer catalog (policy/catalog.py) -----------------------------------------------------------------
def test_an_offer_cannot_take_the_control_arms_name() -> None:
    """Kills K01 (the reserved id "control" accepted for an offer built directly)."""
    from loyalty_ml.policy.catalog import Offer

    with pytest.raises(ConfigError, match="'control' is reserved for the control arm"):
        Offer(offer_id=C.CONTROL, cost_per_redemption=1.0)


def test_an_offer_may_apply_to_any_basket() -> None:
    """Kills K03 (min_basket = 0 refused): zero is the documented lower end (>= 0)."""
    from loyalty_ml.policy.catalog import Offer

    assert Offer(offer_id="d5", cost_per_redemption=5.0, min_basket=0.0).min_basket == 0.0
    with pytest.raises(ConfigError, match="min_basket must be >= 0 or None"):
        Offer(offer_id="d5", cost_per_redemption=5.0, min_basket=-1.0)


def test_an_offer_cost_of_true_is_not_a_number() -> None:
    """Kills K08 (bools accepted as numbers): True is a flag read into the wrong column, not a
    cost of 1."""
    from loyalty_ml.policy.catalog import Offer

    with pytest.raises(ConfigError, match="cost_per_redemption must be a finite number >= 0"):
        Offer(offer_id="d5", cost_per_redemption=True)


def test_catalog_table_keeps_the_monthly_cap_as_whole_numbers() -> None:
    """Kills K13 (the Int64 cast dropped): one offer without a cap turned the column to floats
    (2.0, NaN), which read back as a non-integer max_per_month."""
    from loyalty_ml.policy.catalog import Offer, OfferCatalog

    catalog = OfferCatalog(
        [
            Offer(offer_id="d5", cost_per_redemption=5.0, max_per_month=2),
            Offer(offer_id="pts", cost_per_redemption=4.0),
        ]
    )
    column = catalog.to_frame()["max_per_month"]
    assert str(column.dtype) == "Int64"
    assert column.tolist() == [2, pd.NA]


def test_an_offer_of_an_unknown_kind_is_refused() -> None:
    """Kills K15 (the kind check dropped for offers built directly)."""
    from loyalty_ml.policy.catalog import Offer

    with pytest.raises(ConfigError, match="kind must be one of"):
        Offer(offer_id="d5", cost_per_redemption=5.0, kind="voucherz")


# -- send history (policy/_send_history.py, through choose_offers) --------------------------------------
def _plan_after(history: pd.DataFrame, as_of: Any, **kwargs: Any) -> list[str]:
    """Reasons of choose_offers for customers 1-3, one offer "a" (uplift 0.2, cost 10, value 100)."""
    from loyalty_ml.policy.catalog import Offer, OfferCatalog
    from loyalty_ml.policy.offers import choose_offers

    max_per_month = kwargs.pop("max_per_month", None)
    catalog = OfferCatalog(
        [Offer(offer_id="a", cost_per_redemption=10.0, max_per_month=max_per_month)]
    )
    idx = pd.Index([1, 2, 3], name=C.CUSTOMER_ID)
    plan = choose_offers(
        pd.DataFrame({"a": 0.2}, index=idx),
        catalog,
        baseline=pd.Series(0.1, index=idx),
        value_per_conversion=100.0,
        history=history,
        as_of=as_of,
        **kwargs,
    )
    return plan["reason"].tolist()


@pytest.mark.parametrize("column", ["sent_at", "offer_id"])
def test_a_past_send_without_date_or_offer_is_refused(column: str) -> None:
    """Kills S02 (a send without a date dropped) and S03 (a send without an offer dropped): either
    could let a resting or capped customer through."""
    history = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2],
            C.OFFER_ID: ["a", "a"],
            C.SENT_AT: pd.to_datetime(["2024-07-10", "2024-07-12"]),
        }
    )
    history.loc[1, column] = None
    with pytest.raises(DataError, match=rf"history\.{column} is missing on 1 rows"):
        _plan_after(history, "2024-07-20", max_per_month=1)


def test_the_cool_down_counts_a_send_exactly_its_days_ago_but_not_one_at_as_of() -> None:
    """Kills S04 (a send exactly min_days_between_offers days before as_of let through) and S05
    (a send at as_of itself, tonight's own, counted)."""
    as_of = pd.Timestamp("2024-07-20")
    history = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2],
            C.OFFER_ID: ["a", "a"],
            C.SENT_AT: [as_of - pd.Timedelta(days=7), as_of],
        }
    )
    reasons = _plan_after(history, as_of, min_days_between_offers=7)
    assert reasons == ["contacted recently", "cheapest effective", "cheapest effective"]


def test_a_send_at_the_first_instant_of_the_month_counts_towards_its_cap() -> None:
    """Kills S08 (the month's first instant left out of the monthly cap)."""
    history = pd.DataFrame(
        {C.CUSTOMER_ID: [1], C.OFFER_ID: ["a"], C.SENT_AT: [pd.Timestamp("2024-07-01 00:00")]}
    )
    reasons = _plan_after(history, "2024-07-20", max_per_month=1)
    assert reasons == ["monthly cap reached", "cheapest effective", "cheapest effective"]


def test_the_month_of_an_aware_as_of_is_that_of_the_sends_clock() -> None:
    """Kills S13 (an aware as_of kept on its own clock): 2024-07-31 23:00 in New York is already
    August 1st in UTC, the clock of the sends, so a send of July 15th no longer counts."""
    history = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1],
            C.OFFER_ID: ["a"],
            C.SENT_AT: [pd.Timestamp("2024-07-15 12:00", tz="UTC")],
        }
    )
    as_of = pd.Timestamp("2024-07-31 23:00", tz="America/New_York")
    assert _plan_after(history, as_of, max_per_month=1)[0] == "cheapest effective"


def test_poor_overlap_limit_shrinks_with_many_arms() -> None:
    """Kills V24 (the limit kept at OVERLAP_THRESHOLD = 0.02 whatever the number of arms): with 11
    assigned arms it is 0.2 / 11 = 0.0182, so rows given their arm at propensity 0.019 are not
    flagged (as in UpliftModel's overlap check). Every row bought: the value is
    0.8 / 0.5 + 0.2 / 0.019 (80% of rows at propensity 0.5, 20% at 0.019)."""
    arms = [f"o{k}" for k in range(11)]
    n = 1100
    policy = np.array(arms)[np.arange(n) % 11]
    low = (np.arange(n) // 11) % 5 == 0
    # each row's propensities make 1, as policy_value checks: the other ten arms share the rest
    own = np.where(low, 0.019, 0.5)
    values = np.repeat(((1.0 - own) / 10)[:, None], 11, axis=1)
    values[np.arange(n), np.arange(n) % 11] = own
    propensity = pd.DataFrame(values, columns=arms)
    # as a randomised draw would have it: half of the rows at 0.5 received the policy's arm, 4 of
    # the 220 at 0.019 did (sum of the propensities: 444), the rest the next arm
    matched = np.where(low, np.cumsum(low) % 55 == 1, np.arange(n) % 2 == 0)
    received = np.where(matched, policy, np.array(arms)[(np.arange(n) + 1) % 11])
    with warnings.catch_warnings():
        warnings.simplefilter("error", PoorOverlapWarning)
        warnings.filterwarnings("ignore", ".*interval is too narrow", DataQualityWarning)
        r = policy_value(np.ones(n), received, policy, propensity=propensity)
    n_low = int((matched & low).sum())
    assert n_low == 4
    assert r.value == pytest.approx(((matched & ~low).sum() / 0.5 + n_low / 0.019) / n)


def test_policy_value_of_one_row_has_no_interval_and_no_warning() -> None:
    """Kills V19 (the normal interval computed from one row: a division by n - 1 = 0). One row
    that received arm a (share 1) and bought: value 1, standard error and interval NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = policy_value([1.0], ["a"], ["a"])
    assert r.value == 1.0 and r.n == 1
    assert np.isnan(r.std_error) and np.isnan(r.ci_low) and np.isnan(r.ci_high)
