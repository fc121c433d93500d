"""Tests of loyalty_ml.policy.triggers: trigger rules and threshold helpers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    PolicyError,
    SchemaError,
)
from loyalty_ml.features.boundaries import Boundaries
from loyalty_ml.policy.triggers import (
    ACTIONS,
    TriggerPolicy,
    threshold_for_capacity,
    threshold_for_precision,
    threshold_for_profit,
)
from loyalty_ml.schema import columns as C

# sleep 60, churn 90, win-back 30-90 days past churn: [120, 180); lost from 180
POLICY = TriggerPolicy(sleep_days=60, churn_days=90)

# customer: (recency_days, n_orders, spend, p, expected action, expected channel, words in the rule)
CASES = {
    "lost": (200.0, 1.0, 10.0, 0.9, "none", None, "lost"),
    "winback": (130.0, 2.0, 20.0, 0.9, "win_back", "email", "win-back"),
    "cooling": (100.0, 2.0, 20.0, 0.9, "none", None, "wait for the win-back window"),
    "vip_high": (10.0, 9.0, 900.0, 0.7, "vip_contact", "call", "personal contact"),
    "vip_medium": (70.0, 8.0, 950.0, 0.4, "vip_contact", "sms", "medium churn risk"),
    "high": (20.0, 3.0, 30.0, 0.65, "retention_offer", "email", "retention offer"),
    "sleeping": (70.0, 3.0, 40.0, 0.35, "re_engagement", "push", "re-engagement"),
    "monitor": (5.0, 4.0, 50.0, 0.45, "none", None, "monitor"),
    "low": (30.0, 5.0, 60.0, 0.1, "none", None, "low churn risk"),
    "vip_lost": (400.0, 9.0, 800.0, 0.99, "none", None, "lost"),
}


@pytest.fixture(scope="module")
def cases() -> tuple[pd.DataFrame, np.ndarray]:
    X = pd.DataFrame(
        [c[:3] for c in CASES.values()],
        columns=["recency_days", "n_orders", "spend"],
        index=pd.Index(list(CASES), name=C.CUSTOMER_ID),
    )
    return X, np.array([c[3] for c in CASES.values()])


def test_every_rule_on_hand_written_customers(cases) -> None:
    X, p = cases
    out = POLICY.assign(X, p)
    assert out.index.equals(X.index)
    for name, (*_, action, channel, words) in CASES.items():
        row = out.loc[name]
        assert row["action"] == action, name
        assert pd.isna(row["channel"]) if channel is None else row["channel"] == channel, name
        assert words in row["rule"], name
    assert set(out["action"]) == set(ACTIONS)  # every action is reachable


def test_output_columns_and_bands(cases) -> None:
    X, p = cases
    out = POLICY.assign(X, p)
    assert list(out.columns) == [
        "churn_probability",
        "risk_band",
        "boundary_state",
        "segment",
        "valuable",
        "action",
        "channel",
        "rule",
    ]
    assert out.loc["high", "risk_band"] == "high"
    assert out.loc["sleeping", "risk_band"] == "medium"
    assert out.loc["low", "risk_band"] == "low"
    assert out.loc["winback", "boundary_state"] == "churned"
    assert out.loc["sleeping", "boundary_state"] == "sleeping"
    assert out.loc["lost", "boundary_state"] == "lost"
    assert out["rule"].str.len().min() > 10
    assert out.loc["vip_high", "valuable"]


def test_winback_and_vip_respect_channel_classes(cases) -> None:
    X, p = cases
    out = POLICY.assign(X, p)
    assert out.loc[out["action"] == "win_back", "channel"].isin(POLICY.cheap_channels).all()
    expensive = out["channel"].isin(POLICY.expensive_channels)
    assert (out.loc[expensive, "action"] == "vip_contact").all()
    assert out.loc[expensive, "boundary_state"].isin(["active", "sleeping"]).all()


def test_series_p_is_aligned_on_the_index(cases) -> None:
    X, p = cases
    shuffled = pd.Series(p, index=X.index).iloc[::-1]
    pd.testing.assert_frame_equal(POLICY.assign(X, shuffled), POLICY.assign(X, p))


def test_boundaries_object_and_spend_quantile_rule(cases) -> None:
    X, p = cases
    bounds = Boundaries(
        sleep_days=60.0,
        churn_days=90.0,
        curve=pd.DataFrame(),
        first_repeat_orders=None,
        loyalty_orders=None,
        orders_curve=pd.DataFrame(),
        sleep_level=0.5,
        churn_level=0.2,
    )
    from_bounds = TriggerPolicy(boundaries=bounds).assign(X, p)
    pd.testing.assert_frame_equal(from_bounds, POLICY.assign(X, p))
    quantile = TriggerPolicy(
        sleep_days=60, churn_days=90, vip_rule="spend_quantile", vip_spend_quantile=0.75
    )
    out = quantile.assign(X, p)
    # at most the top 25% of 10 customers: 900 and 950 (at 0.85, 900 was above an interpolated
    # quantile too, one customer over the documented 15%, until session 42)
    assert out["valuable"].sum() == 2
    assert "top 25%" in out.loc["vip_high", "rule"]
    top_15 = TriggerPolicy(
        sleep_days=60, churn_days=90, vip_rule="spend_quantile", vip_spend_quantile=0.85
    )
    assert top_15.assign(X, p)["valuable"].sum() == 1  # 950 alone


def test_default_policy_works_without_boundaries(cases) -> None:
    X, p = cases
    assert TriggerPolicy().resolved_boundaries() == (60.0, 90.0)
    assert len(TriggerPolicy().assign(X, p)) == len(X)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"high_risk": 0.3, "medium_risk": 0.5}, "0 < medium_risk < high_risk <= 1"),
        ({"sleep_days": 100, "churn_days": 90}, "0 <= sleep_days < churn_days"),
        ({"winback_window": (90.0, 30.0)}, "'winback_window' parameter of TriggerPolicy"),
        ({"vip_rule": "top_f"}, "'vip_rule' parameter of TriggerPolicy must be one of"),
        ({"vip_spend_quantile": 1.0}, "'vip_spend_quantile' parameter"),
        (
            {"winback_channel": "call"},
            "'winback_channel' parameter of TriggerPolicy must be a cheap",
        ),
        ({"vip_channel_high": "fax"}, "'vip_channel_high' parameter"),
        (
            {
                "cheap_channels": ("push", "sms"),
                "retention_channel": "push",
                "winback_channel": "push",
                "reengagement_channel": "push",
            },
            "both cheap and expensive",
        ),
    ],
)
def test_bad_config_raises(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        TriggerPolicy(**kwargs)


def test_boundaries_and_days_together_are_refused() -> None:
    bounds = Boundaries(
        sleep_days=1.0,
        churn_days=2.0,
        curve=pd.DataFrame(),
        first_repeat_orders=None,
        loyalty_orders=None,
        orders_curve=pd.DataFrame(),
        sleep_level=0.5,
        churn_level=0.2,
    )
    with pytest.raises(ConfigError, match="either 'boundaries' or explicit"):
        TriggerPolicy(boundaries=bounds, sleep_days=3)


def test_bad_inputs_raise(cases) -> None:
    X, p = cases
    with pytest.raises(DataError, match="p has 3 values but X has 10 rows"):
        POLICY.assign(X, p[:3])
    with pytest.raises(DataError, match=r"p must be probabilities in \[0, 1\]; found \[1.5\]"):
        POLICY.assign(X, np.r_[p[:-1], 1.5])
    with pytest.raises(SchemaError, match="lacks column 'recency_days'"):
        POLICY.assign(X.drop(columns="recency_days"), p)
    with pytest.raises(PolicyError, match="pass one cutoff's features"):
        POLICY.assign(pd.concat({pd.Timestamp("2024-01-01"): X}, names=[C.AS_OF]), p)
    with pytest.raises(DataError, match="index differs"):
        POLICY.assign(X, pd.Series(p))


# -- thresholds ------------------------------------------------------------------------------
def test_threshold_for_capacity_on_ties() -> None:
    p = [0.9, 0.8, 0.8, 0.1]
    assert threshold_for_capacity(p, 1) == 0.9
    assert threshold_for_capacity(p, 2) == 0.9  # the tie at 0.8 would make it 3
    assert threshold_for_capacity(p, 3) == 0.8
    assert threshold_for_capacity(p, 10) == 0.1
    assert threshold_for_capacity(p, 0) > 0.9


@settings(max_examples=60, deadline=None)
@given(
    p=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=40),
    k=st.integers(0, 45),
)
def test_threshold_for_capacity_selects_at_most_k_and_is_tight(p, k) -> None:
    prob = np.array(p)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = threshold_for_capacity(prob, k)
    selected = int((prob >= t).sum())
    assert selected <= k
    # ties at the cut that leave under half of k selected are named (once a flaky failure here)
    assert bool(caught) == (selected < k / 2 and selected < prob.size), [
        str(w.message) for w in caught
    ]
    # one step lower would select more than k (or everyone is already selected)
    lower = prob[prob < t]
    if lower.size:
        assert int((prob >= lower.max()).sum()) > k


def test_threshold_for_precision() -> None:
    y = [1, 1, 0, 1, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.2]
    assert threshold_for_precision(y, p, 0.75) == 0.6
    assert threshold_for_precision(y, p, 1.0) == 0.8
    with pytest.raises(PolicyError, match="no threshold reaches precision"):
        threshold_for_precision([0, 0, 1], [0.9, 0.8, 0.1], 0.9)
    with pytest.raises(DataError, match="y_true must be 5 values of 0/1"):
        threshold_for_precision([1, 0], p, 0.5)
    with pytest.raises(ConfigError, match="'target' parameter"):
        threshold_for_precision(y, p, 0)


def test_threshold_for_profit_is_break_even() -> None:
    t = threshold_for_profit([0.1, 0.5], value_saved=200.0, save_rate=0.2, contact_cost=4.0)
    assert t == pytest.approx(0.1)
    # expected profit p * value * rate - cost is zero at the threshold
    assert t * 200.0 * 0.2 - 4.0 == pytest.approx(0.0)
    with pytest.raises(
        ConfigError, match="'value_saved' parameter of threshold_for_profit must be > 0"
    ):
        threshold_for_profit([0.1], value_saved=0.0, save_rate=0.2, contact_cost=1.0)
    with pytest.raises(
        ConfigError, match="'save_rate' parameter of threshold_for_profit must be <= 1"
    ):
        threshold_for_profit([0.1], value_saved=1.0, save_rate=2.0, contact_cost=1.0)
    with pytest.raises(ConfigError, match="'contact_cost' parameter"):
        threshold_for_profit([0.1], value_saved=1.0, save_rate=0.5, contact_cost=-1.0)
    with pytest.raises(DataError, match="threshold_for_profit: p must be probabilities"):
        threshold_for_profit([1.1], value_saved=1.0, save_rate=0.5, contact_cost=1.0)
    with pytest.raises(ConfigError, match="'k' parameter of threshold_for_capacity"):
        threshold_for_capacity([0.5], -1)


def test_text_inputs_and_repeated_customers_get_clear_errors() -> None:
    X = pd.DataFrame(
        {"recency_days": [5.0, 50.0, 400.0], "n_orders": [3, 1, 2], "spend": [90.0, 10.0, 40.0]},
        index=pd.Index([1, 2, 3], name="customer_id"),
    )
    with pytest.raises(DataError, match="p must be numeric; could not convert string"):
        TriggerPolicy().assign(X, ["high", "low", "low"])
    with pytest.raises(DataError, match=r"X lists customers more than once \[1\]"):
        TriggerPolicy().assign(pd.concat([X, X.iloc[:1]]), [0.1, 0.2, 0.3, 0.1])
    with pytest.raises(DataError, match=r"y_true must be numeric.*\(y == 'Y'\)"):
        threshold_for_precision(["Y", "N", "Y"], [0.9, 0.5, 0.1], 0.5)


def _inside(n: int) -> pd.DataFrame:
    """``n`` customers inside the churn boundary (recency 10 to 50 days of the default 60/90)."""
    return pd.DataFrame(
        {
            "recency_days": np.linspace(10.0, 50.0, n),
            "n_orders": np.ones(n),
            "spend": np.linspace(5.0, 500.0, n),
        },
        index=pd.Index(range(n), name=C.CUSTOMER_ID),
    )


def test_bands_that_put_nearly_everyone_high_warn_with_the_fix() -> None:
    """A one-off-buyer shop at a churn base rate of 0.97: the fixed 0.6 band holds everyone."""
    X = _inside(300)
    p = np.r_[np.full(285, 0.97), np.full(15, 0.2)]  # 95% high
    with pytest.warns(DataQualityWarning, match="285 of the 300 customers") as caught:
        out = TriggerPolicy().assign(X, p)
    assert "threshold_for_capacity" in str(caught[0].message)
    assert (out["risk_band"] == "high").sum() == 285  # the assignment itself is unchanged
    # the team's capacity, as the message suggests: 30 contacts, no warning
    threshold = threshold_for_capacity(np.r_[np.linspace(0.9, 0.99, 285), np.full(15, 0.2)], 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = TriggerPolicy(high_risk=threshold, medium_risk=threshold / 2).assign(
            X, np.r_[np.linspace(0.9, 0.99, 285), np.full(15, 0.2)]
        )
    assert (out["risk_band"] == "high").sum() == 30


def test_bands_stay_quiet_below_the_share_or_on_small_batches() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TriggerPolicy().assign(_inside(300), np.r_[np.full(260, 0.97), np.full(40, 0.2)])  # 87%
        TriggerPolicy().assign(_inside(99), np.full(99, 0.97))  # every one, but 99 customers
        # high-risk customers past the churn boundary are not acted on by the bands
        X = _inside(300).assign(recency_days=np.r_[np.full(200, 200.0), np.linspace(10, 50, 100)])
        TriggerPolicy().assign(X, np.r_[np.full(250, 0.97), np.full(50, 0.1)])


# -- session 42 audit -------------------------------------------------------------------------------
def _customers(n: int, spend: np.ndarray, recency: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"recency_days": recency, "n_orders": 3.0, "spend": spend},
        index=pd.Index(range(n), name=C.CUSTOMER_ID),
    )


@pytest.mark.parametrize("n", [5, 12, 15, 19, 105, 1000])
def test_spend_quantile_vips_are_at_most_the_documented_share(n: int) -> None:
    """An interpolated quantile put one customer too many above it (2 of 12 at 0.9)."""
    spend = np.random.default_rng(n).gamma(2.0, 50.0, n)
    X = _customers(n, spend)
    policy = TriggerPolicy(vip_rule="spend_quantile", vip_spend_quantile=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        alone = policy.assign(X, np.full(n, 0.2))["valuable"]
        frozen = policy.with_reference(X).assign(X, np.full(n, 0.2))["valuable"]
    assert alone.sum() <= 0.1 * n and frozen.sum() <= 0.1 * n
    assert alone.sum() == frozen.sum() == int(np.floor(0.1 * (n - 1)))  # no ties: as many as fit


def test_negative_recency_and_yes_no_predictions_are_refused() -> None:
    X = _customers(3, np.array([10.0, 20.0, 30.0]))
    X.loc[1, "recency_days"] = -400.0
    with pytest.raises(DataError, match=r"negative for 1 customer\(s\) \(\[1\]"):
        TriggerPolicy().assign(X, [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="True/False, not churn probabilities"):
        TriggerPolicy().assign(_customers(3, np.ones(3)), np.array([True, False, True]))


def test_the_win_back_window_includes_its_first_day_and_not_its_last() -> None:
    policy = TriggerPolicy(sleep_days=60.0, churn_days=90.0)
    X = _customers(4, np.ones(4))
    X["recency_days"] = [119.0, 120.0, 179.0, 180.0]
    out = policy.assign(X, np.full(4, 0.5))
    assert out["action"].tolist() == ["none", "win_back", "win_back", "none"]
    assert out["boundary_state"].tolist() == ["churned", "churned", "churned", "lost"]
