"""UpliftModel.fit warns when propensity=None reads a targeted (non-randomised) experiment as
randomised: the balance check of loyalty_ml.models._uplift_balance."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.models import _uplift_balance
from loyalty_ml.models._uplift_balance import Imbalance, imbalances
from loyalty_ml.models.uplift import UpliftModel

FAST = {"n_estimators": 10, "n_jobs": 1, "random_state": 0}
N = 4000


def _rows(seed: int = 0, targeted: bool = False) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Recency drives both the purchase and, when targeted, who got the coupon (lapsing customers)."""
    rng = np.random.default_rng(seed)
    recency = rng.exponential(60, N)
    X = pd.DataFrame(
        {
            "recency_days": recency,
            "orders": pd.array(rng.poisson(3, N), dtype="Int64"),
            "vip": rng.uniform(size=N) < 0.2,
            "region": rng.choice(["n", "s"], N),
        },
        index=pd.RangeIndex(N, name="customer_id"),
    )
    X.loc[X.index[:50], "orders"] = pd.NA
    p_coupon = np.clip(recency / 120, 0.05, 0.95) if targeted else np.full(N, 0.5)
    arm = np.where(rng.uniform(size=N) < p_coupon, "coupon", "control")
    y = rng.uniform(size=N) < 0.3 - 0.001 * np.minimum(recency, 200) + 0.05 * (arm == "coupon")
    return X, arm, y.astype(int)


def _fit_warnings(X: pd.DataFrame, arm: np.ndarray, y: np.ndarray, **kw: object) -> list[str]:
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        UpliftModel(**FAST).fit(X, y, treatment=arm, **kw)  # type: ignore[arg-type]
    return [str(w.message) for w in got if issubclass(w.category, DataQualityWarning)]


def test_a_randomised_experiment_fits_without_a_word() -> None:
    assert _fit_warnings(*_rows()) == []


def test_a_targeted_experiment_read_as_randomised_is_named_with_its_arm_and_feature() -> None:
    X, arm, y = _rows(targeted=True)
    with pytest.warns(DataQualityWarning) as got:
        UpliftModel(**FAST).fit(X, y, treatment=arm)
    message = str(got[0].message)
    assert message.startswith("UpliftModel.fit: 1 arm(s) differ from the control rows")
    auc = float(message.split("'coupon' vs control on 'recency_days': AUC ")[1][:4])
    assert auc > 0.6  # lapsing customers (high recency) got the coupon
    assert "propensity='estimate'" in message


@pytest.mark.parametrize("propensity", ["estimate", "shares", "rows"])
def test_with_propensities_given_or_estimated_there_is_no_balance_warning(
    propensity: str,
) -> None:
    X, arm, y = _rows(targeted=True)
    given_: object = propensity
    if propensity == "shares":
        given_ = pd.Series({"control": 0.5, "coupon": 0.5})
    elif propensity == "rows":
        p = np.clip(X["recency_days"].to_numpy() / 120, 0.05, 0.95)
        given_ = pd.DataFrame({"coupon": p, "control": 1 - p}, index=X.index)
    assert not any(
        "differ from the control" in m for m in _fit_warnings(X, arm, y, propensity=given_)
    )


def test_within_groups_each_arm_meets_its_own_campaigns_control() -> None:
    """Two randomised campaigns with different coupon shares, one of lapsing customers: pooled,
    the coupon looks targeted; compared campaign by campaign, it is not."""
    rng = np.random.default_rng(1)
    X, _, y = _rows()
    campaign = np.where(X["recency_days"].to_numpy() > 60, "winback", "spring")
    arm = np.where(
        rng.uniform(size=N) < np.where(campaign == "winback", 0.9, 0.2), "coupon", "control"
    )
    pooled = _fit_warnings(X, arm, y)
    assert len(pooled) == 1 and "on 'recency_days'" in pooled[0]
    assert _fit_warnings(X, arm, y, groups=campaign) == []
    # targeted within one campaign: named with its group
    targeted = np.where((campaign == "spring") & (X["recency_days"].to_numpy() > 30), "coupon", arm)
    within = _fit_warnings(X, targeted, y, groups=campaign)
    assert len(within) == 1 and "in group 'spring'" in within[0]


def test_rows_of_weight_zero_are_left_out_of_the_check() -> None:
    """A randomised experiment plus coupon rows of lapsing customers: flagged while they count,
    not once their weight is 0 (as if dropped)."""
    X, arm, y = _rows()
    lapsing = X.index[X["recency_days"].to_numpy() > 90]
    extra = X.loc[lapsing].set_axis(pd.RangeIndex(N, N + len(lapsing), name="customer_id"))
    X2 = pd.concat([X, extra])
    arm2 = np.r_[arm, np.full(len(extra), "coupon")]
    y2 = np.r_[y, np.ones(len(extra), dtype=int)]
    assert len(_fit_warnings(X2, arm2, y2)) == 1
    weight = np.r_[np.ones(N), np.zeros(len(extra))]
    assert _fit_warnings(X2, arm2, y2, sample_weight=weight) == []


@pytest.mark.parametrize("arms", [["control", "a"], ["control", "a", "b", "c"]])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_randomised_arms_are_never_flagged(arms: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    X = pd.DataFrame(
        {
            "heavy": rng.pareto(1.2, n),
            "count": rng.poisson(1, n),
            "flag": rng.uniform(size=n) < 0.05,
            "missing": np.where(rng.uniform(size=n) < 0.5, np.nan, rng.normal(size=n)),
            "inf": np.where(rng.uniform(size=n) < 0.01, np.inf, rng.normal(size=n)),
            "region": rng.choice(["n", "s", "e", "w", None], n, p=[0.4, 0.3, 0.2, 0.05, 0.05]),
            "tier": pd.Categorical(rng.choice(["gold", "silver", "rare"], n, p=[0.2, 0.79, 0.01])),
            "postcode": [f"p{i}" for i in rng.integers(0, 800, n)],
        }
    )
    assignment = rng.choice(arms, n, p=rng.dirichlet(np.full(len(arms), 5.0)))
    assert imbalances(X, assignment, "control") == []


def test_large_experiments_compare_a_random_subset_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    X, arm, _ = _rows(targeted=True)
    full = imbalances(X, arm, "control")
    monkeypatch.setattr(_uplift_balance, "MAX_ROWS", 500)
    sampled = imbalances(X, arm, "control")
    assert [(f.arm, f.feature) for f in sampled] == [(f.arm, f.feature) for f in full]
    assert abs(sampled[0].severity - full[0].severity) < 1.0
    # the same subset every time: the warning does not change from one fit to the next
    assert imbalances(X, arm, "control") == sampled


def test_a_campaign_targeted_by_a_text_feature_is_named_with_its_level() -> None:
    X, _, y = _rows()
    rng = np.random.default_rng(3)
    north = (X["region"] == "n").to_numpy()
    arm = np.where(rng.uniform(size=N) < np.where(north, 0.6, 0.4), "coupon", "control")
    messages = _fit_warnings(X, arm, y)
    assert len(messages) == 1
    assert "'coupon' vs control on 'region': level 'n' 59% vs 41%" in messages[0]
    # as a category, the same
    as_category = _fit_warnings(X.assign(region=X["region"].astype("category")), arm, y)
    assert as_category == messages


def test_small_text_columns_and_one_row_arms_are_skipped() -> None:
    X = pd.DataFrame({"region": ["n", "s", "n", "s"], "x": [1.0, 2.0, 3.0, 4.0]})
    assert imbalances(X[["region"]], np.array(["control", "a", "control", "a"]), "control") == []
    # one row of the arm: no comparison, not a flag
    assert imbalances(X[["x"]], np.array(["control", "control", "control", "a"]), "control") == []


def _two_sides(at_control: int, n_control: int, at_arm: int, n_arm: int) -> list[Imbalance]:
    """A text feature with level 'x' on the first rows of each side, 'y' on the rest."""
    region = ["x"] * at_control + ["y"] * (n_control - at_control)
    region += ["x"] * at_arm + ["y"] * (n_arm - at_arm)
    arms = np.array(["control"] * n_control + ["a"] * n_arm)
    return imbalances(pd.DataFrame({"region": region}), arms, "control")


def test_a_rare_level_in_a_small_control_is_tested_exactly_not_by_its_z() -> None:
    # 2 of 40 control rows at a level no arm row has: under random dealing the chance that both of
    # the level's 2 rows land among the 40 is (40 / 2040) * (39 / 2039), 3.8e-4 (7.5e-4 two-sided),
    # far from the 5 standard errors flagged (5.7e-7); the other level's share (100% vs 95%) read
    # by its normal z (about 10) had called it targeted (the split cannot be more lopsided, so the
    # exact tail is not even computed: p = 1)
    assert _uplift_balance._exact_p(np.array([2]), np.array([2]), 40, 2040).tolist() == [1.0]
    assert _two_sides(2, 40, 0, 2000) == []
    assert _two_sides(1, 20, 0, 5000) == []
    # 6 of 40 against 20 of 2,000: p = 1.3e-5 two-sided, not flagged either
    assert _two_sides(6, 40, 20, 2000) == []
    # 9 of 40 against 20 of 2,000 (p = 2.5e-9) is
    assert [f.detail for f in _two_sides(9, 40, 20, 2000)] == ["level 'y' 99% vs 78%"]


def test_the_exact_test_skips_levels_too_small_to_reach_the_flag() -> None:
    # K rows of a level all in a control of 200 among 15,200: the most lopsided split has a
    # probability of (200 * 199 * ...) / (15200 * 15199 * ...), 3.5e-4 for K = 2 and 4.6e-6 for
    # K = 3 (two-sided 6.9e-4 and 9.1e-6, over 5.7e-7: p = 1 without the exact tail), 6.0e-8 for
    # K = 4, whose tail is computed (1.2e-7 two-sided, flagged)
    p = _uplift_balance._exact_p(np.array([2, 3, 4, 1]), np.array([2, 3, 4, 4]), 200, 15_200)
    assert p[:2].tolist() == [1.0, 1.0]
    expected = 2 * (200 * 199 * 198 * 197) / (15_200 * 15_199 * 15_198 * 15_197)
    assert p[2] == pytest.approx(expected, rel=1e-9)
    assert p[2] < _uplift_balance._P_FLAG < p[3]


def test_a_rare_level_crowded_into_a_small_control_is_flagged_among_many_levels() -> None:
    # three levels, so no common level mirrors the rare one: 9 of 40 control rows at a level
    # that is 1% of the arm was never compared (expected on 0.46 control rows) and now is
    region = ["x"] * 9 + ["y", "z"] * 15 + ["y"] + ["x"] * 20 + ["y", "z"] * 990
    arms = np.array(["control"] * 40 + ["a"] * 2000)
    found = imbalances(pd.DataFrame({"region": region}), arms, "control")
    assert [f.detail for f in found] == ["level 'x' 1% vs 22%"]
    # 2 of 40 is within chance (p = 0.14)
    region = ["x"] * 2 + ["y", "z"] * 19 + ["x"] * 20 + ["y", "z"] * 990
    assert imbalances(pd.DataFrame({"region": region}), arms, "control") == []
