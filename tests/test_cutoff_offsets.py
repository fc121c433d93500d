"""Per-cutoff intercepts of the churn booster (loyalty_ml.models._cutoff_offsets)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from loyalty_ml.models._cutoff_offsets import (
    conditional_intercepts,
    cutoff_codes,
    log_odds,
    rate_intercepts,
)


def test_cutoff_codes_need_an_as_of_level_and_two_cutoffs() -> None:
    one = pd.MultiIndex.from_product([[1], ["a", "b"]], names=["as_of", "customer_id"])
    assert cutoff_codes(one) is None
    assert cutoff_codes(pd.Index(["a", "b"], name="customer_id")) is None
    two = pd.MultiIndex.from_tuples([(5, "a"), (3, "a")], names=["as_of", "customer_id"])
    assert cutoff_codes(two).tolist() == [1, 0]


def test_rate_intercepts_are_smoothed_log_odds_of_each_cutoff() -> None:
    codes = np.array([0, 0, 0, 1, 1])
    target = np.array([1, 1, 1, 0, 0])
    np.testing.assert_allclose(rate_intercepts(codes, target), [np.log(4 / 1), np.log(1 / 3)])
    assert float(log_odds(0.0, 0.0)) == 0.0


def test_conditional_intercepts_recover_the_true_shift_that_rates_understate() -> None:
    # A strong within-cutoff driver: averaging probabilities over customers shrinks the gap between
    # the two cutoffs' rate log-odds; the conditional intercepts given the true scores do not.
    rng = np.random.default_rng(0)
    n = 200_000
    codes = np.repeat([0, 1], n // 2)
    scores = rng.normal(0, 3, n)
    true_b = np.array([-1.0, 1.0])
    target = (rng.uniform(size=n) < expit(scores + true_b[codes])).astype(int)
    rate_gap = np.diff(rate_intercepts(codes, target))[0]
    b = conditional_intercepts(scores, codes, target)
    assert rate_gap < 1.5  # attenuated
    np.testing.assert_allclose(b, true_b, atol=0.05)


def test_conditional_intercepts_stay_finite_for_a_one_class_cutoff() -> None:
    codes = np.array([0, 0, 0, 1, 1, 1])
    target = np.array([0, 0, 0, 1, 0, 1])
    b = conditional_intercepts(np.array([5.0, 4.0, 6.0, 0.0, 1.0, -1.0]), codes, target)
    assert np.isfinite(b).all()
    assert b[0] < -5  # nobody churned at cutoff 0, despite high scores


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.floats(-6, 6), st.booleans()), min_size=1, max_size=60)
)
def test_conditional_intercepts_match_each_cutoffs_smoothed_churn_count(rows) -> None:
    codes = np.array([r[0] for r in rows])
    scores = np.array([r[1] for r in rows])
    target = np.array([int(r[2]) for r in rows])
    b = conditional_intercepts(scores, codes, target, iterations=100)
    k = codes.max() + 1
    expected = np.bincount(codes, weights=target, minlength=k) + 1.0
    fitted = np.bincount(codes, weights=expit(scores + b[codes]), minlength=k) + 2 * expit(b)
    np.testing.assert_allclose(fitted, expected, atol=1e-6)
