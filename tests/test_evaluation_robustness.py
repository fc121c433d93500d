"""Adversarial inputs to loyalty_ml.evaluation: a right answer or an error that says what to fix.

Each test pins one input a data scientist meets on real retail data (shuffled or filtered Series,
text labels, missing values, ids of another type...) that used to give a wrong number, a bare
pandas/numpy error or a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.churn_metrics import calibration_table, evaluate_churn, lift_table
from loyalty_ml.evaluation.fairness import FairnessLimits, fairness_report
from loyalty_ml.evaluation.gate import check_promotion
from loyalty_ml.evaluation.uplift_metrics import (
    policy_value,
    qini_auc_score,
    uplift_at_k,
    uplift_auc_score,
    uplift_report,
)
from loyalty_ml.exceptions import ConfigError, DataError, SchemaError
from loyalty_ml.schema import columns as C

IDS = pd.Index([101, 102, 103, 104, 105, 106, 107, 108], name=C.CUSTOMER_ID)
#: outcome, arm and uplift score of eight customers of a two-arm campaign
Y = pd.Series([1, 0, 1, 0, 1, 0, 0, 1], index=IDS)
T = pd.Series(["a", "control", "control", "a", "a", "control", "a", "control"], index=IDS)
S = pd.Series([0.9, 0.8, 0.2, 0.1, 0.5, 0.4, 0.3, 0.6], index=IDS)
ONE_GROUP = FairnessLimits(min_group_size=1)


# -- churn metrics ----------------------------------------------------------------------------
def test_evaluate_churn_matches_series_by_index() -> None:
    y = Y.astype(float)
    p = S.copy()
    expected = evaluate_churn(y.to_numpy(), p.to_numpy(), n_bins=2)
    shuffled = evaluate_churn(y, p.iloc[::-1], n_bins=2)
    assert shuffled.roc_auc == expected.roc_auc
    assert shuffled.brier == pytest.approx(expected.brier)


def test_evaluate_churn_refuses_series_of_other_customers() -> None:
    p = S.rename(index={108: 999})
    with pytest.raises(
        DataError, match=r"p is not indexed by the same ids as y_true.*\[108\].*\[999\]"
    ):
        evaluate_churn(Y, p)


def test_evaluate_churn_refuses_text_labels_with_the_fix() -> None:
    labels = Y.map({0: "N", 1: "Y"})
    with pytest.raises(DataError, match=r"y_true must hold numbers; 8 value.*'Y'.*\.map"):
        evaluate_churn(labels, S)
    with pytest.raises(DataError, match=r"p must hold numbers; 1 value.*'high'"):
        evaluate_churn(Y, S.astype(object).where(S != 0.9, "high"))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: calibration_table(Y, S, n_bins=0), "'n_bins' parameter of calibration_table"),
        (lambda: lift_table(Y, S, n_groups=-1), "'n_groups' parameter of lift_table"),
        (lambda: evaluate_churn(Y, S, n_bins=True), "'n_bins' parameter of evaluate_churn"),
    ],
)
def test_churn_tables_refuse_bin_counts_below_one(call: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        call()  # type: ignore[operator]


# -- uplift metrics ---------------------------------------------------------------------------
def test_uplift_metrics_match_series_by_index() -> None:
    arrays = (Y.to_numpy(), T.to_numpy(), S.to_numpy())
    order = [3, 0, 7, 5, 1, 6, 2, 4]
    shuffled = (Y, T.iloc[order], S.iloc[::-1])
    assert uplift_at_k(*shuffled, k=0.5) == uplift_at_k(*arrays, k=0.5)
    assert qini_auc_score(*shuffled) == pytest.approx(qini_auc_score(*arrays))
    by_arm = uplift_auc_score(Y, T, S.to_frame("a").iloc[order])
    assert isinstance(by_arm, pd.Series)
    assert by_arm["a"] == pytest.approx(uplift_auc_score(*arrays))


def test_uplift_metrics_refuse_a_score_indexed_by_row_numbers() -> None:
    with pytest.raises(DataError, match=r"score is not indexed by the same ids as y.*8 id\(s\)"):
        qini_auc_score(Y, T, S.reset_index(drop=True))


def test_uplift_metrics_refuse_missing_scores() -> None:
    score = S.where(S != 0.9)  # the top-ranked customer has no score
    with pytest.raises(DataError, match=r"score of arm 'a' is missing or infinite at ids \[101\]"):
        uplift_at_k(Y, T, score, k=0.5)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (Y.astype(float).where(Y.index != 102), r"y is missing or infinite at ids \[102\]"),
        (Y.map({0: "N", 1: "Y"}), r"y must hold numbers; 8 value"),
    ],
)
def test_uplift_metrics_refuse_missing_or_text_outcomes(y: pd.Series, match: str) -> None:
    with pytest.raises(DataError, match=match):
        qini_auc_score(y, T, S)


@pytest.mark.parametrize("k", ["0.3", None])
def test_uplift_at_k_refuses_a_k_that_is_not_a_number(k: object) -> None:
    with pytest.raises(ConfigError, match=r"'k' parameter of uplift_at_k must be in \(0, 1\]"):
        uplift_at_k(Y, T, S, k=k)  # type: ignore[arg-type]


def test_uplift_metrics_find_an_integer_control_arm() -> None:
    coded = T.map({"a": 2, "control": 0})
    assert uplift_at_k(Y, coded, S, k=0.5, control=0) == uplift_at_k(Y, T, S, k=0.5)  # type: ignore[arg-type]


def test_uplift_metrics_refuse_a_campaign_without_treated_rows() -> None:
    everyone_control = pd.Series("control", index=IDS)
    with pytest.raises(DataError, match="control rows only"):
        qini_auc_score(Y, everyone_control, S.to_frame("a"))


def test_uplift_report_takes_a_one_dimensional_score() -> None:
    expected = uplift_report(Y, T, S.to_frame("a"), k=0.5)
    pd.testing.assert_frame_equal(uplift_report(Y, T, S.to_numpy(), k=0.5), expected)  # type: ignore[arg-type]


# -- policy value -----------------------------------------------------------------------------
def test_policy_value_refuses_missing_arm_labels() -> None:
    received = T.where(T.index != 102, None)
    with pytest.raises(DataError, match=r"t has missing arm labels at ids \[102\]"):
        policy_value(Y, received, pd.Series("a", index=IDS))


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (Y.astype(float).where(Y.index != 103), r"y is missing or infinite at ids \[103\]"),
        (Y.map({0: "N", 1: "Y"}), r"y must hold numbers"),
    ],
)
def test_policy_value_refuses_missing_or_text_rewards(y: pd.Series, match: str) -> None:
    with pytest.raises(DataError, match=match):
        policy_value(y, T, pd.Series("a", index=IDS))


def test_policy_value_refuses_empty_inputs() -> None:
    with pytest.raises(DataError, match="empty"):
        policy_value(np.array([]), np.array([]), np.array([]))


@pytest.mark.parametrize("n_bootstrap", [-1, 1, True])
def test_policy_value_refuses_a_bootstrap_that_cannot_give_an_interval(n_bootstrap: int) -> None:
    with pytest.raises(ConfigError, match="'n_bootstrap' parameter of policy_value"):
        policy_value(Y, T, T, n_bootstrap=n_bootstrap)


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"propensity": pd.Series({"a": 1.5, "control": 0.5})}, r"<= 1; arms \['a'\] have \[1.5\]"),
        (
            {"propensity": pd.DataFrame({"a": [0.5] * 3, "control": [0.5] * 3})},
            "3 rows but y has 8",
        ),
        (
            {"method": "dr", "mu": pd.DataFrame({"a": [0.5] * 3, "control": [0.5] * 3})},
            "mu has 3 rows",
        ),
        (
            {"method": "dr", "mu": pd.DataFrame({"a": [0.5] * 7 + [np.nan], "control": 0.5})},
            r"mu \(of the assigned arm\) is missing or infinite at ids \[7\]",
        ),
    ],
)
def test_policy_value_refuses_bad_propensities_and_predictions(
    kwargs: dict[str, object], match: str
) -> None:
    # arrays, so the frames are taken by position
    with pytest.raises(DataError, match=match):
        policy_value(Y.to_numpy(), T.to_numpy(), ["a"] * 8, **kwargs)  # type: ignore[arg-type]


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_policy_value_matches_series_by_index() -> None:
    expected = policy_value(Y.to_numpy(), T.to_numpy(), T.to_numpy())
    assert policy_value(Y, T, T.iloc[::-1]).value == expected.value


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_policy_value_dr_reads_integer_arm_columns() -> None:
    arms = T.map({"a": 1, "control": 0})
    mu = pd.DataFrame({0: 0.4, 1: 0.6}, index=IDS)
    named = policy_value(Y, T, T, method="dr", mu=mu.rename(columns={0: "control", 1: "a"}))
    assert policy_value(Y, arms, arms, method="dr", mu=mu).value == pytest.approx(named.value)


# -- fairness ---------------------------------------------------------------------------------
SENSITIVE = pd.DataFrame({C.GENDER: ["F", "F", "M", "M", "F", "M", None, "F"]}, index=IDS)


@pytest.mark.parametrize(
    ("y_true", "match"),
    [
        (Y.rename(index=str), r"None of the 8 customers of y_true.*\['101', '102', '103'\] \(str"),
        (
            pd.Series(Y.to_numpy(), index=pd.MultiIndex.from_product([["2024-06-30"], IDS])),
            r"None of the 8 customers.*y_true\.droplevel\(0\) if that leaves one row",
        ),
    ],
)
def test_fairness_report_refuses_ids_that_share_nothing_with_sensitive(
    y_true: pd.Series, match: str
) -> None:
    # every customer used to land silently in the "(missing)" group
    with pytest.raises(SchemaError, match=match):
        fairness_report(SENSITIVE, y_true=y_true, limits=ONE_GROUP)


def test_fairness_report_refuses_an_empty_population() -> None:
    with pytest.raises(SchemaError, match="y_true is empty"):
        fairness_report(SENSITIVE, y_true=Y.iloc[:0], limits=ONE_GROUP)


def test_fairness_report_refuses_scores_that_are_not_probabilities() -> None:
    logits = S * 4 - 2
    with pytest.raises(
        SchemaError, match=r"y_score must be probabilities in \[0, 1\].*predict_proba"
    ):
        fairness_report(SENSITIVE, y_true=Y, y_score=logits, limits=ONE_GROUP)


def test_fairness_report_refuses_attribute_names_equal_as_text() -> None:
    sensitive = pd.DataFrame({0: ["a"] * 8, "0": ["b"] * 8}, index=IDS)
    with pytest.raises(SchemaError, match=r"duplicated column names \['0'\]"):
        fairness_report(sensitive, y_true=Y, limits=ONE_GROUP)


def test_without_small_groups_refuses_a_count_that_is_not_an_int() -> None:
    report = fairness_report(SENSITIVE, y_true=Y, limits=ONE_GROUP)
    with pytest.raises(ConfigError, match="'min_count' parameter"):
        report.without_small_groups("10")  # type: ignore[arg-type]


# -- gate -------------------------------------------------------------------------------------
def test_check_promotion_refuses_a_require_audit_that_is_not_a_bool() -> None:
    # "no" is truthy: it used to block promotion without a word
    with pytest.raises(ConfigError, match="'require_audit' parameter of check_promotion"):
        check_promotion(None, require_audit="no")  # type: ignore[arg-type]


def test_check_promotion_takes_numpy_booleans() -> None:
    # flags read from a config table arrive as numpy booleans
    assert check_promotion(None, require_audit=np.True_).promote is False
    assert check_promotion(None, require_audit=np.False_).promote is True


def test_fairness_report_reads_blank_offer_ids_as_no_offer_and_refuses_negative_costs() -> None:
    blank = pd.DataFrame(
        {"offer_id": ["A", "", " ", None, "A", "", "", ""], "expected_cost": [2.0] + [0.0] * 7},
        index=IDS,
    )
    blank.loc[105, "expected_cost"] = 2.0
    rates = fairness_report(SENSITIVE, offers=blank, limits=ONE_GROUP).by_group["offer_rate"]
    # F: 101, 102, 105, 108 -> two offers of four; a blank id used to count as an offer
    assert rates.loc[(C.GENDER, "F")] == pytest.approx(0.5)
    negative = blank.assign(expected_cost=[-2.0] + [0.0] * 7)
    with pytest.raises(
        SchemaError, match=r"expected_cost is negative for 1 customer\(s\) who get an offer \[101\]"
    ):
        fairness_report(SENSITIVE, offers=negative, limits=ONE_GROUP)


@pytest.mark.filterwarnings(
    "ignore:.*interval is too narrow:loyalty_ml.exceptions.DataQualityWarning"
)
def test_metrics_refuse_a_missing_argument_and_text_in_frames() -> None:
    with pytest.raises(DataError, match=r"y_true must be one value per row .* got None"):
        evaluate_churn(None, [0.1, 0.2])  # type: ignore[arg-type]
    y, t = np.array([1, 0, 1, 0]), np.array(["control", "a", "a", "control"])
    mu = pd.DataFrame({"control": ["0.1", "x", "0.1", "0.1"], "a": [0.2] * 4})
    with pytest.raises(DataError, match=r"mu\['control'\] must hold numbers.*\['x'\]"):
        policy_value(y, t, np.array(["a"] * 4), method="dr", mu=mu)
    shares = pd.DataFrame({"control": ["0.5"] * 4, "a": ["half"] * 4})
    with pytest.raises(DataError, match=r"propensity\['a'\] must hold numbers"):
        policy_value(y, t, np.array(["a"] * 4), propensity=shares)


def test_an_arm_named_twice_in_scores_propensities_or_mu_is_a_data_error() -> None:
    """Once a raw IndexError (a score frame with column 'a' twice, or 1 and '1') and raw pandas
    ValueErrors (a propensity or mu naming an arm twice)."""
    import loyalty_ml as lml

    rng = np.random.default_rng(0)
    t = pd.Series(rng.choice(["control", "a"], 200))
    y = pd.Series(rng.integers(0, 2, 200).astype(float))
    effect = pd.DataFrame({"a": rng.normal(size=200)})
    with pytest.raises(DataError, match=r"names the arm\(s\) \['a'\] more than once"):
        lml.qini_auc_score(y, t, pd.concat([effect, effect], axis=1))
    ones = t.map({"control": "control", "a": 1})
    with pytest.raises(DataError, match=r"names the arm\(s\) \['1'\] more than once"):
        lml.uplift_at_k(y, ones, pd.DataFrame({1: effect["a"], "1": effect["a"]}))
    everyone = pd.Series("a", index=t.index)
    twice = {
        "propensity": pd.Series([0.5, 0.5, 0.5], index=["control", "a", "a"]),
        "mu": pd.DataFrame([[0.2, 0.3, 0.3]] * 200, columns=["control", "a", "a"]),
    }
    with pytest.raises(DataError, match=r"propensity names the arm\(s\) \['a'\]"):
        lml.policy_value(y, t, everyone, propensity=twice["propensity"])
    with pytest.raises(DataError, match=r"mu names the arm\(s\) \['a'\]"):
        lml.policy_value(y, t, everyone, method="dr", mu=twice["mu"])


def test_policy_value_reads_arms_as_the_uplift_model_names_them() -> None:
    """Integer arms against a float assignment (1.0, and NaN for no offer) were refused as arms
    '1.0' that no row received: 1, 1.0 and '1' are one arm, as in UpliftModel and the metrics."""
    import loyalty_ml as lml

    rng = np.random.default_rng(0)
    t = pd.Series(rng.integers(0, 3, 300))
    y = pd.Series(rng.integers(0, 2, 300).astype(float))
    assigned = pd.Series(np.where(rng.uniform(size=300) < 0.5, 1, np.nan))
    as_ints = pd.Series(np.where(assigned.isna(), 0, 1))
    a = lml.policy_value(y, t, assigned, control=0)
    b = lml.policy_value(y, t, as_ints, control=0)
    assert (a.value, a.ci_low, a.ci_high) == (b.value, b.ci_low, b.ci_high)
    shares = pd.Series([0.4, 0.3, 0.3], index=[0.0, 1.0, 2.0])
    c = lml.policy_value(y, t.astype(float), as_ints, control=0, propensity=shares)
    assert np.isfinite(c.value)


def test_policy_value_refuses_assignment_t_and_questions_one_read_off_it() -> None:
    """assignment=t valued the sum of the arms' means (1.499 for a reward of mean 0.5, with a tight
    interval): refused. Keeping arm a for half of the rows that received it read 0.751 for 0.5:
    it warns. Arms given whole stores at a time match far more than row draws would, and are
    valued without bias: they warn too, never refuse; a policy of the features is silent."""
    import warnings

    import loyalty_ml as lml
    from loyalty_ml.exceptions import DataError, DataQualityWarning

    rng = np.random.default_rng(0)
    n = 30_000
    t = rng.choice(["control", "a", "b"], n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < 0.5).astype(float)
    with pytest.raises(DataError, match="the arm each row received, on all 30,000 rows"):
        lml.policy_value(y, t, t)
    half = np.where((t == "a") & (rng.random(n) < 0.5), "a", "control")
    with pytest.warns(DataQualityWarning, match=r"standard deviations\) if each row's arm"):
        lml.policy_value(y, t, half)
    x = rng.normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fair = lml.policy_value(y, t, np.where(x > 0, "a", "control"))
    assert fair.ci_low < 0.5 < fair.ci_high
    # 40 stores of 500 customers, arms by store; the policy follows a feature tied to the store
    store = np.repeat(np.arange(40), 500)
    arm = np.where(rng.random(40) < 0.5, "a", "control")[store]
    local = (store % 2 == 0).astype(float)
    reward = (rng.random(store.size) < 0.3 + 0.1 * (arm == "a") * local).astype(float)
    with pytest.warns(DataQualityWarning, match="whole stores, regions or days"):
        lml.policy_value(reward, arm, np.where(local > 0, "a", "control"))


def test_policy_value_warns_when_an_assigned_arm_rests_on_a_handful_of_rows() -> None:
    """Arm b given to half of 1,000 rows while 3 rows received it: the interval covered 36% of
    simulated values without a word. It now warns, naming the arm; 100 rows of b do not."""
    import warnings

    import loyalty_ml as lml

    rng = np.random.default_rng(1)
    n = 1_000
    policy = np.where(rng.random(n) < 0.5, "b", "control")
    for share, warns in ((0.003, True), (0.1, False)):
        t = np.where(np.arange(n) < round(share * n), "b", "control")
        rng.shuffle(t)
        y = np.where(t == "b", rng.random(n) < 0.3, rng.random(n) < 0.6).astype(float)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lml.policy_value(y, t, policy)
        thin = [w for w in caught if "too narrow" in str(w.message)]
        assert bool(thin) is warns, (share, [str(w.message) for w in caught])
        if warns:
            assert "'b': assigned to" in str(thin[0].message)


def test_policy_value_refuses_propensities_that_do_not_make_one() -> None:
    """Shares summing to 1.7 valued the policy at 0.18 against 0.48 with the observed shares, in
    silence; per-row propensities over 1 likewise."""
    import loyalty_ml as lml
    from loyalty_ml.exceptions import DataError

    rng = np.random.default_rng(0)
    n = 2_000
    t = rng.choice(["control", "a"], n)
    y = (rng.random(n) < 0.5).astype(float)
    policy = np.where(rng.random(n) < 0.5, "a", "control")
    with pytest.raises(DataError, match=r"sum to 1\.4"):
        lml.policy_value(y, t, policy, propensity=pd.Series({"control": 0.5, "a": 0.9}))
    rows = pd.DataFrame({"control": np.full(n, 0.5), "a": np.full(n, 0.5)})
    rows.loc[3, "a"] = 0.9
    with pytest.raises(DataError, match=r"more than 1 on 1 row\(s\) \(positions \[3\]"):
        lml.policy_value(y, t, policy, propensity=rows)
    lml.policy_value(y, t, policy, propensity=pd.Series({"control": 0.5, "a": 0.5}))


def test_uplift_metrics_say_which_scored_arms_no_row_received() -> None:
    """A score column for an arm no row of t received was dropped from the result in silence (and
    res['c'] failed later with a KeyError)."""
    import loyalty_ml as lml
    from loyalty_ml.exceptions import DataQualityWarning

    rng = np.random.default_rng(0)
    n = 400
    t = rng.choice(["control", "a"], n)
    y = (rng.random(n) < 0.3).astype(float)
    score = pd.DataFrame({"a": rng.random(n), "c": rng.random(n)})
    with pytest.warns(DataQualityWarning, match=r"columns \['c'\] for arms no row of t received"):
        result = lml.uplift_at_k(y, t, score, k=0.3)
    assert list(result.index) == ["a"]


def test_policy_value_thin_arms_count_rewards_other_than_the_most_common() -> None:
    """Spends of four different amounts among zeros counted as four rows of varied rewards, not
    four events: a spend arm with 4 purchases did not warn while a 0/1 one did. Shares of a third
    each (0.99 in all) are read as summing to 1."""
    import loyalty_ml as lml
    from loyalty_ml.exceptions import DataQualityWarning

    rng = np.random.default_rng(0)
    n = 1_000
    t = np.where(np.arange(n) % 2 == 0, "a", "control")
    policy = np.where(rng.random(n) < 0.5, "a", "control")
    spend = np.where(rng.random(n) < 0.3, 20.0, 0.0)
    matched_a = np.flatnonzero((t == "a") & (policy == "a"))
    spend[t == "a"] = 0.0
    spend[matched_a[:4]] = [37.2, 12.0, 55.1, 8.4]
    with pytest.warns(DataQualityWarning, match=r"'a': .*\(4 of them with a reward other"):
        lml.policy_value(spend, t, policy)
    three = np.array(["control", "a", "b"])[np.arange(900) % 3]
    lml.policy_value(
        np.ones(900) * (np.arange(900) % 2),
        three,
        np.where(np.arange(900) % 5 == 0, "a", "control"),
        propensity=pd.Series({"control": 0.33, "a": 0.33, "b": 0.33}),
    )
