"""Tests that kill mutants which survived the suite (session 45's mutation run of the training,
scoring and serving side: loyalty_ml/tracking/ without drift.py). Each test names the mutant it
kills; the values asserted are worked out by hand in the comments."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from policy_fixtures import hand_made_features, hand_made_policy

from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, SchemaError
from loyalty_ml.features import FeatureConfig
from loyalty_ml.policy.catalog import OfferCatalog
from loyalty_ml.schema import columns as C
from loyalty_ml.tracking.policy import LoyaltyPolicy
from loyalty_ml.tracking.registry import PromotionDecision, decide_promotion, set_alias

# -- registry.py ------------------------------------------------------------------------------------


def test_a_nan_champion_metric_is_no_champion_metric() -> None:
    """Kills R02 (`math.isnan(champion_metric)` dropped): NaN - tolerance compares False, so the
    candidate would become challenger behind a champion with no usable metric."""
    decision = decide_promotion(candidate_metric=0.70, champion_metric=float("nan"))
    assert (decision.alias, decision.promoted) == ("champion", True)


def test_a_zero_promotion_tolerance_is_allowed_and_a_tie_promotes() -> None:
    """Kills R01 (`tolerance < 0` -> `<= 0`: 0, no slack at all, refused) and R03 (`>=` -> `>`:
    the documented "not worse by more than the tolerance" is inclusive; the suite's own
    boundary case, 0.796 against 0.80, is 0.001 inside it)."""
    assert decide_promotion(candidate_metric=0.75, champion_metric=0.75, tolerance=0.0).promoted
    # 0.805 - 0.005 is exactly 0.8 in floating point: worse by the tolerance, not more
    assert decide_promotion(candidate_metric=0.80, champion_metric=0.805, tolerance=0.005).promoted
    assert not decide_promotion(candidate_metric=0.7499, champion_metric=0.75, tolerance=0).promoted


def test_a_failed_fairness_gate_blocks_even_the_first_version() -> None:
    """Kills R05 (the gate read only when there is a champion): an unfair first version must not
    become champion just because nothing is there to compare with."""
    decision = decide_promotion(
        candidate_metric=0.9, champion_metric=None, fairness_passed=False, fairness_reason="gap"
    )
    assert (decision.alias, decision.promoted) == ("challenger", False)
    assert decision.reason == "fairness gate failed: gap"


class _Registry:
    """The registry calls set_alias makes, in memory (an embedded MLflow store takes seconds to
    create): aliases of one model, and each version's tags."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.tags: dict[str, dict[str, str]] = {}

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        from types import SimpleNamespace

        from mlflow.exceptions import MlflowException

        if alias not in self.aliases:
            raise MlflowException(f"no alias {alias}")
        return SimpleNamespace(version=self.aliases[alias])

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self.aliases[alias] = version

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        del self.aliases[alias]

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self.tags.setdefault(version, {})[key] = value


def test_the_challenger_retired_is_compared_by_version_number_not_text() -> None:
    """Kills R07 (`int(holder) < int(version)` -> `holder < version`): as text "9" > "10", so
    version 9, challenger to a champion no longer serving, would stay @challenger."""
    client = _Registry()
    set_alias(client, "m", "8", PromotionDecision("champion", True, "first"))
    set_alias(client, "m", "9", PromotionDecision("challenger", False, "worse"))
    set_alias(client, "m", "10", PromotionDecision("champion", True, "better"))
    assert client.aliases == {"champion": "10"}
    assert client.tags["9"]["promotion"] == ("retired: version 10 became @champion")


def test_a_challenger_promoted_to_champion_gives_up_the_challenger_alias() -> None:
    """R08, found by the mutation run: a hand call promoting @challenger's own version to
    @champion left it holding both aliases, so a system loading @challenger would A/B test the
    champion against itself. It now holds @champion alone, tagged as the champion."""
    client = _Registry()
    set_alias(client, "m", "1", PromotionDecision("champion", True, "first"))
    set_alias(client, "m", "2", PromotionDecision("challenger", False, "worse"))
    set_alias(client, "m", "2", PromotionDecision("champion", True, "won the A/B test"))
    assert client.aliases == {"champion": "2"}
    assert client.tags["2"]["promotion"] == "champion"
    assert client.tags["1"]["promotion"] == "superseded by version 2 (@champion)"


def test_re_promoting_the_alias_holder_keeps_its_own_tag() -> None:
    """Kills R06 (`previous != version` dropped): setting @champion again on the version holding
    it must not tag it "superseded by" itself."""
    client = _Registry()
    set_alias(client, "m", "1", PromotionDecision("champion", True, "first"))
    set_alias(client, "m", "1", PromotionDecision("champion", True, "again"))
    tags = client.tags["1"]
    assert (tags["promotion"], tags["promotion_reason"]) == ("champion", "again")


# -- policy.py --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return hand_made_features()


@pytest.fixture(scope="module")
def policy(features: pd.DataFrame) -> LoyaltyPolicy:
    return hand_made_policy(features)


def test_a_policy_without_holdout_and_with_one_risk_threshold_is_valid(
    policy: LoyaltyPolicy,
) -> None:
    """Kills P02 (`>` -> `>=`: equal medium and high thresholds refused, though "must not
    exceed" allows them); a holdout of 0 is valid too (P01, killed by the suite as well)."""
    assert replace(policy, holdout_fraction=0.0).holdout_fraction == 0.0
    same = replace(policy, medium_risk_threshold=0.5, high_risk_threshold=0.5)
    assert (same.medium_risk_threshold, same.high_risk_threshold) == (0.5, 0.5)


def test_no_consent_changes_only_the_rule_of_triggered_customers(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills P04 (`silent = triggered & ~consent` -> `~consent`): a customer no trigger fired for
    is not contacted anyway; his rule stays "no trigger fired", without the consent note."""
    nobody = pd.Series(False, index=features.index)
    out = policy.decide(features, consent_marketing=nobody, reasons="none")
    quiet = out["action"] == "none"
    assert quiet.any() and (~quiet).any()  # both kinds of customer are there
    assert (out.loc[quiet, "rule"] == "no trigger fired").all()
    assert out.loc[~quiet, "rule"].str.endswith("; no marketing consent: no contact").all()
    assert (out["channel"] == "none").all()


def test_actioned_reasons_explain_triggered_customers_without_marketing_consent(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills P05 (`"actioned": triggered` -> `triggered & consent`): without marketing consent the
    action stays, with its reasons ("who is at risk, and why"); only the contact is dropped."""
    rows = features.head(25)
    nobody = pd.Series(False, index=rows.index)
    out = policy.decide(rows, consent_marketing=nobody, reasons="actioned")
    consenting = policy.decide(rows, reasons="actioned")
    reasons = ["reason_1", "reason_2", "reason_3"]
    assert out["reason_1"].notna().any()
    pd.testing.assert_frame_equal(out[reasons], consenting[reasons])


# -- _offers.py (the uplift half of training) -------------------------------------------------------


def test_design_weights_are_inverse_arm_shares_within_each_campaign_with_mean_one() -> None:
    """Kills O09 (not normalised to mean 1) and O10 (arm share taken over all campaigns)."""
    from loyalty_ml.tracking._offers import _design_weights

    # campaign 0: 1 control, 3 "a" (shares 1/4, 3/4: weights 4, 4/3); campaign 1: 2 and 2 (2, 2);
    # the raw weights sum to 16 over 8 rows (mean 2), so they are halved
    t = pd.Series(["control", "a", "a", "a", "control", "control", "a", "a"])
    number = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    weights = _design_weights(t, number)
    np.testing.assert_allclose(weights, [2, 2 / 3, 2 / 3, 2 / 3, 1, 1, 1, 1])


def _days(*values: int) -> np.ndarray:
    return (np.datetime64("2024-01-01") + np.array(values, dtype="timedelta64[D]")).astype(
        "datetime64[ns]"
    )


def test_the_uplift_backtest_pools_recent_campaigns_but_keeps_the_first_to_learn_from() -> None:
    """Kills O06 (campaign 0 pooled too), O07 (`>=` 200 rows -> `>`), O08 (`< limit` -> `<=`:
    a campaign started exactly window_days before the latest left out) and O17 (the limit set
    twice as far back)."""
    from loyalty_ml.tracking._offers import _backtest_rows

    # three campaigns of 50 rows on days 0, 10 and 20: the latest two pool to 100 rows; campaign 0
    # always stays to learn from
    key = np.repeat([0, 1, 2], 50)
    start = _days(*np.repeat([0, 10, 20], 50))
    assert _backtest_rows(key, start, 30).tolist() == (key >= 1).tolist()
    # a latest campaign of exactly 200 rows is enough on its own
    key = np.repeat([0, 1, 2], [50, 50, 200])
    start = _days(*np.repeat([0, 10, 20], [50, 50, 200]))
    assert _backtest_rows(key, start, 30).tolist() == (key == 2).tolist()
    # campaign 1 started exactly 30 days before the latest: within the window, pooled
    key = np.repeat([0, 1, 2], 50)
    start = _days(*np.repeat([0, 20, 50], 50))
    assert _backtest_rows(key, start, 30).tolist() == (key >= 1).tolist()
    # 45 days before: outside a 30-day window, not pooled
    start = _days(*np.repeat([0, 5, 50], 50))
    assert _backtest_rows(key, start, 30).tolist() == (key == 2).tolist()


def test_the_offer_model_needs_a_control_group_and_an_offer_arm() -> None:
    """Kills O04 (`and` -> `or`: offers without any control row accepted) and O05 (a control
    group alone read as control and offer)."""
    from loyalty_ml.tracking._offers import _check_arms, _has_control_and_offer

    with pytest.raises(DataError, match="no control rows"):
        _check_arms(pd.Series(["a", "b"]), window_days=30)
    with pytest.raises(DataError, match="no offer arm") as info:
        _check_arms(pd.Series(["control", "control"]), window_days=30)
    assert "nobody was held out" not in str(info.value)  # the hint is for missing controls only
    _check_arms(pd.Series(["control", "a"]), window_days=30)
    assert not _has_control_and_offer(pd.Series(["control", "control"]))
    assert _has_control_and_offer(pd.Series(["control", "a"]))


def test_a_nightly_offer_withheld_from_nobody_is_left_out_without_a_warning() -> None:
    """Kills O03 (`unexpected = ~with_control & ~nightly` -> `~with_control`): a rare offer of
    nightly_sends with no holdout customer that night is expected, not worth a warning."""
    from loyalty_ml.tracking._offers import _experiments_only

    closed = pd.DataFrame(
        {
            C.CAMPAIGN_ID: ["n:a", "n:a", "n:b"],
            C.CUSTOMER_ID: [1, 2, 3],
            C.OFFER_ID: ["a", "control", "b"],
            C.SENT_AT: pd.to_datetime(["2024-01-01"] * 3),
            "policy_offer_id": ["a", "a", "b"],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = _experiments_only(closed)
    assert kept[C.CUSTOMER_ID].tolist() == [1, 2]
    # the same campaign written by hand (no policy_offer_id) is worth a warning
    with pytest.warns(DataQualityWarning, match="1 campaign rows of 1 campaigns without a control"):
        _experiments_only(closed.drop(columns="policy_offer_id"))


def test_a_campaign_whose_response_window_closes_on_as_of_is_learned_from() -> None:
    """Kills O01 (`<= as_of` -> `<`) and O02 (see below): sent on 2024-02-01 with a 30-day
    window, the campaign's outcomes are all known by as_of 2024-03-02; it is read (and here
    refused for having no control group), not silently skipped as still open."""
    from loyalty_ml.tracking._offers import train_offer_model

    campaigns = pd.DataFrame(
        {
            C.CAMPAIGN_ID: "c1",
            C.CUSTOMER_ID: [1, 2],
            C.OFFER_ID: ["d5", "d5"],
            C.SENT_AT: pd.Timestamp("2024-02-01"),
        }
    )
    offers = pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [1.0]})
    settings: dict[str, Any] = {
        "campaigns": campaigns,
        "offers": offers,
        "customers": None,
        "config": FeatureConfig(),
        "window_days": 30,
        "feature_names": ["recency_days"],
        "random_state": 0,
    }
    with pytest.raises(
        DataError, match="30-day response window closed before as_of have no control"
    ):
        train_offer_model(_tx([1, 2]), as_of=pd.Timestamp("2024-03-02"), **settings)
    # a day earlier the window is still open: nothing to learn from yet
    assert train_offer_model(_tx([1, 2]), as_of=pd.Timestamp("2024-03-01"), **settings) is None
    # closed, with a control group, but sent to customers not in the (profiled) transactions:
    # nothing to learn from either (O02, the customer filter dropped, fails on them instead)
    others = campaigns.assign(**{C.CUSTOMER_ID: [8, 9], C.OFFER_ID: ["d5", "control"]})
    later = pd.Timestamp("2024-03-02")
    assert train_offer_model(_tx([1, 2]), as_of=later, **{**settings, "campaigns": others}) is None


# -- train.py ---------------------------------------------------------------------------------------


def test_cutoffs_must_fall_after_the_first_purchase_and_be_two() -> None:
    """Kills T01 (`c > first` -> `>=`: a cutoff on the first purchase day, with nobody to label,
    kept) and T02 (`< 2` -> `< 1`: a backtest of one cutoff, nothing left to train on)."""
    from loyalty_ml.tracking.train import _cutoffs

    as_of = pd.Timestamp("2024-04-30")
    # last cutoff 2024-03-31 (as_of - 30 days), then every 30 days: 03-01, 01-31, 01-01
    got = _cutoffs(pd.Timestamp("2024-01-01"), as_of, horizon_days=30, n_cutoffs=4, spacing=30)
    assert got == [pd.Timestamp(d) for d in ("2024-01-31", "2024-03-01", "2024-03-31")]
    with pytest.raises(DataError, match="leaves 1 cutoff"):
        _cutoffs(pd.Timestamp("2024-03-15"), as_of, horizon_days=30, n_cutoffs=4, spacing=30)


def _orders(**extra: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 1, 1, 2],
            C.ORDER_ID: ["A", "A", "B", "C"],
            C.TIMESTAMP: pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-06"]),
            C.AMOUNT: [10.0, 20.0, 30.0, -12.0],
            **extra,
        }
    )


def test_value_per_conversion_is_net_margin_per_purchase_order() -> None:
    """Kills T12 (lines counted as orders), T13 (refunds not netted), T14 (a negative value not
    floored at 0) and T15 (the amount used although there is a margin)."""
    from loyalty_ml.tracking.train import _value_per_conversion

    # orders A (two lines) and B are purchases, C (a refund alone) is not: 2 orders;
    # net amount 10 + 20 + 30 - 12 = 48, so 24 per order
    assert _value_per_conversion(_orders()) == pytest.approx(24.0)
    # with a margin: (4 + 6 + 9 - 3) / 2 = 8
    assert _value_per_conversion(_orders(margin=[4.0, 6.0, 9.0, -3.0])) == pytest.approx(8.0)
    # refunds larger than the sales: the value is 0, not negative
    assert _value_per_conversion(_orders(margin=[1.0, 1.0, 1.0, -50.0])) == 0.0


def test_only_features_empty_in_every_backtest_training_row_are_dropped() -> None:
    """Kills T11 (`notna().any()` -> `.all()`: a feature with some missing values dropped)."""
    from loyalty_ml.tracking.train import _without_empty_features

    X = pd.DataFrame(
        {
            "some": [1.0, np.nan, 3.0, 4.0],
            "late": [np.nan, np.nan, np.nan, 5.0],  # a value in the backtest row only
            "full": [1.0, 2.0, 3.0, 4.0],
        }
    )
    train_rows = np.array([True, True, True, False])
    with pytest.warns(DataQualityWarning, match="'late'"):
        kept, dropped = _without_empty_features(X, train_rows=train_rows)
    assert (list(kept.columns), dropped) == (["some", "full"], ["late"])


def test_a_feature_with_values_only_at_the_backtest_cutoff_is_dropped() -> None:
    """Kills T10 (emptiness judged over every row, the backtest's included): a campaign sent
    between the second and the last cutoff gives days_since_last_offer a value at the backtest
    cutoff only; the backtest model never saw it, so the feature is left out."""
    from loyalty_ml.tracking.train import _churn_table

    ids = np.arange(1, 41)
    # odd customers buy monthly for 18 months, even ones stop after 10: both labels at each cutoff
    bought = [
        (i, pd.Timestamp("2023-01-05") + pd.DateOffset(months=m) + pd.Timedelta(days=int(i % 5)))
        for i in ids
        for m in range(18 if i % 2 else 10)
    ]
    tx = pd.DataFrame(bought, columns=[C.CUSTOMER_ID, C.TIMESTAMP]).assign(**{C.AMOUNT: 10.0})
    campaigns = pd.DataFrame(
        {
            C.CAMPAIGN_ID: "c",
            C.CUSTOMER_ID: ids,
            C.OFFER_ID: np.where(ids % 2, "d5", "control"),
            C.SENT_AT: pd.Timestamp("2024-01-20"),
        }
    )
    cutoffs = [pd.Timestamp(d) for d in ("2023-11-01", "2023-12-01", "2024-02-01")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, _, _, dropped = _churn_table(
            tx,
            cutoffs,
            as_of=pd.Timestamp("2024-05-01"),
            horizon_days=90,
            people=None,
            campaigns=campaigns,
            config=FeatureConfig(),
        )
    assert dropped == ["days_since_last_offer"]
    assert "days_since_last_offer" not in X.columns
    assert any("'days_since_last_offer'" in str(w.message) for w in caught)


def test_a_backtest_cutoff_with_one_class_is_refused() -> None:
    """Kills T20 (the one-class check of the backtest cutoff dropped): customers 1-20 pause from
    July to December 2023 (churned at the 2023-09-01 cutoff), then everyone buys monthly, so at
    the backtest cutoff 2024-02-01 every customer is retained and ROC AUC is undefined."""
    from loyalty_ml.tracking.train import _churn_table

    months = [m for m in range(18) if not 6 <= m < 12]
    bought = [
        (i, pd.Timestamp("2023-01-01") + pd.DateOffset(months=m) + pd.Timedelta(days=i % 20))
        for i in range(1, 41)
        for m in (months if i <= 20 else range(18))
    ]
    tx = pd.DataFrame(bought, columns=[C.CUSTOMER_ID, C.TIMESTAMP]).assign(**{C.AMOUNT: 10.0})
    cutoffs = [pd.Timestamp(d) for d in ("2023-09-01", "2023-10-01", "2024-02-01")]
    with pytest.raises(DataError, match="every customer is labelled retained over the next 90"):
        _churn_table(
            tx,
            cutoffs,
            as_of=pd.Timestamp("2024-05-01"),
            horizon_days=90,
            people=None,
            campaigns=None,
            config=FeatureConfig(),
        )


# -- _inputs.py -------------------------------------------------------------------------------------


def _tx(ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: ids,
            C.TIMESTAMP: pd.date_range("2024-01-01", periods=len(ids), freq="D"),
            C.AMOUNT: 10.0,
        }
    )


def test_a_customers_table_matching_some_buyers_is_enough() -> None:
    """Kills I03 (`.any()` -> `.all()`): a customers table that lists some of the buyers is a
    table of the same customers (the others are not profiled), not a wrong table."""
    from loyalty_ml.tracking._inputs import check_id_overlap

    customers = pd.DataFrame({C.CUSTOMER_ID: [1, 2]})
    check_id_overlap(customers, _tx([1, 2, 3]), caller="score_customers")
    with pytest.raises(DataError, match="none of the 2 customer ids"):
        check_id_overlap(customers, _tx([7, 8]), caller="score_customers")
    with pytest.raises(DataError, match="customers table is empty"):
        check_id_overlap(customers.iloc[:0], _tx([1]), caller="score_customers")
    check_id_overlap(customers.iloc[:0], _tx([]), caller="score_customers")  # nothing to exclude


def _daily(last: str, days: int = 60) -> pd.DataFrame:
    """Three purchases a day for ``days`` days up to ``last`` (noon)."""
    times = pd.date_range(end=pd.Timestamp(last) + pd.Timedelta(hours=12), periods=days, freq="D")
    return pd.DataFrame(
        {C.CUSTOMER_ID: 1, C.TIMESTAMP: np.repeat(times.to_numpy(), 3), C.AMOUNT: 10.0}
    )


def test_a_stale_extract_is_judged_on_purchases_and_on_the_documented_threshold() -> None:
    """Kills I04 (refunds counted as activity), I05 (`<=` -> `<` at the threshold) and I06 (the
    one-day floor dropped)."""
    from loyalty_ml.tracking._inputs import warn_if_data_ends_early

    def warns(history: pd.DataFrame, as_of: str, horizon: int) -> bool:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn_if_data_ends_early(history, pd.Timestamp(as_of), horizon, caller="score_customers")
        return any(issubclass(w.category, DataQualityWarning) for w in caught)

    # horizon 8: the limit is a quarter of it, 2 days; the last purchase at noon 2 days before
    # as_of is exactly on it (and the day between is no stretch of missing days): no warning
    history = _daily("2024-03-29")
    assert not warns(history, "2024-03-31 12:00", 8)
    assert warns(history, "2024-03-31 13:00", 8)
    # horizon 2: a quarter is half a day, but a day is always allowed
    assert not warns(history, "2024-03-30 12:00", 2)
    # sales stop on 2024-01-31; refunds run on daily to 2024-03-29: the extract is stale
    refunds = _daily("2024-03-29", days=58).assign(**{C.AMOUNT: -5.0})
    stale = pd.concat([_daily("2024-01-31"), refunds], ignore_index=True)
    assert warns(stale, "2024-03-30", 90)


def test_a_date_only_extract_is_stale_from_the_end_of_its_last_day() -> None:
    """Dates without times put the last day's purchases at its midnight; the empty days before
    as_of are counted from the end of that day, as for a timed extract from its last purchase."""
    from loyalty_ml.tracking._inputs import warn_if_data_ends_early

    def warns(history: pd.DataFrame, as_of: str) -> bool:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warn_if_data_ends_early(history, pd.Timestamp(as_of), 8, caller="score_customers")
        return any(issubclass(w.category, DataQualityWarning) for w in caught)

    # horizon 8: 2 empty days allowed; 2024-03-30 and 03-31 are empty, the 29th is not
    dated = _daily("2024-03-29").assign(**{C.TIMESTAMP: lambda t: t[C.TIMESTAMP].dt.normalize()})
    assert not warns(dated, "2024-04-01")
    assert warns(dated, "2024-04-02")
    # with times, the last purchase at noon: two and a half empty days are too many
    assert warns(_daily("2024-03-29"), "2024-04-01")


# -- policy.py: marketing consent -----------------------------------------------------------------


def test_marketing_consent_is_opt_in_by_customer_id(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills P15 (customers missing from consent_marketing read as consenting), P16 (a missing
    flag read as consent) and P14 (a consent Series of other customers' ids accepted)."""
    rows = features.head(40)
    everyone = policy.decide(rows, reasons="none")
    offered = everyone.index[everyone[C.OFFER_ID].notna()]
    assert len(offered) >= 2
    first, second = offered[:2]
    # first: not listed at all; second: listed with a missing flag; the others consent
    consent = pd.Series(True, index=rows.index.drop(first), dtype=object)
    consent[second] = None
    out = policy.decide(rows, consent_marketing=consent, reasons="none")
    assert out.loc[[first, second], C.OFFER_ID].isna().all()
    assert (out.loc[[first, second], "offer_reason"] == "no marketing consent").all()
    others = offered.drop([first, second])
    assert out.loc[others, C.OFFER_ID].tolist() == everyone.loc[others, C.OFFER_ID].tolist()
    with pytest.raises(DataError, match="none of which is a customer of the features"):
        policy.decide(rows, consent_marketing=pd.Series(True, index=rows.index + 10_000))


# -- scoring.py -------------------------------------------------------------------------------------


def test_scoring_on_the_training_date_is_not_before_training(policy: LoyaltyPolicy) -> None:
    """Kills S07 (`cutoff >= trained` -> `>`): scoring on the very date the model was trained at
    is the normal first night, not a look-ahead backtest."""
    from loyalty_ml.tracking.scoring import _warn_if_before_training

    trained = replace(policy, training_summary={"as_of": "2024-06-01"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_before_training(trained, pd.Timestamp("2024-06-01"), model_uri="models:/m/1")
    with pytest.warns(DataQualityWarning, match="before the training date 2024-06-01"):
        _warn_if_before_training(trained, pd.Timestamp("2024-05-31"), model_uri="models:/m/1")


def _catalog(max_per_month: list[float | None]) -> OfferCatalog:
    return OfferCatalog.from_frame(
        pd.DataFrame(
            {
                "offer_id": ["d5", "d10"],
                "cost_per_redemption": [1.0, 2.0],
                "max_per_month": max_per_month,
            }
        )
    )


def test_scoring_without_send_history_names_each_rule_it_cannot_apply(
    policy: LoyaltyPolicy,
) -> None:
    """Kills S08 (`any` capped offer -> `all`) and S18 (the contact rule named when it is off)."""
    from loyalty_ml.tracking.scoring import _warn_if_rules_are_off

    one_capped = replace(policy, catalog=_catalog([1, None]), min_days_between_offers=None)
    with pytest.warns(DataQualityWarning, match=r"no send history: the monthly caps \(max_per_mo"):
        _warn_if_rules_are_off(one_capped)
    resting = replace(policy, catalog=_catalog([None, None]), min_days_between_offers=30)
    with pytest.warns(DataQualityWarning, match=r"no send history: the contact rule \(no offer wi"):
        _warn_if_rules_are_off(resting)
    neither = replace(policy, catalog=_catalog([None, None]), min_days_between_offers=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_rules_are_off(neither)


def test_a_churn_only_policy_records_its_contact_rule_off_without_a_warning(
    policy: LoyaltyPolicy,
) -> None:
    """A churn-only policy (no catalog) is scored without campaigns= every night: its contact
    rule is listed as not applied, and no warning fires; a catalog's caps are listed too."""
    from loyalty_ml.tracking.scoring import _rules_needing_history, _warn_if_rules_are_off

    churn_only = replace(policy, uplift_model=None, catalog=None, min_days_between_offers=30)
    assert _rules_needing_history(churn_only) == [
        "the contact rule (no offer within 30 days of the last)"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_rules_are_off(churn_only)
    assert _rules_needing_history(replace(churn_only, min_days_between_offers=None)) == []
    both = replace(policy, catalog=_catalog([None, 2]), min_days_between_offers=7)
    assert _rules_needing_history(both) == [
        "the monthly caps (max_per_month)",
        "the contact rule (no offer within 7 days of the last)",
    ]


def test_a_missing_customers_table_the_model_needs_is_an_error(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills S10 (any whole table left out scored with a warning): the customers table carries
    consent, so scoring a customers-trained model without it is refused; only the campaigns
    table may be left out (its features then missing for everyone)."""
    from loyalty_ml.tracking.scoring import check_inputs_cover_the_model

    tiered = replace(policy, feature_names=(*policy.feature_names, C.TIER))
    with pytest.raises(SchemaError, match=r"Pass customers= \(as at training\)"):
        check_inputs_cover_the_model(
            tiered, features, model_uri="models:/m/1", customers=None, campaigns=None
        )
    offered = replace(policy, feature_names=(*policy.feature_names, "offers_received"))
    with pytest.warns(DataQualityWarning, match="trained with the campaigns table"):
        filled, left_out = check_inputs_cover_the_model(
            offered, features, model_uri="models:/m/1", customers=None, campaigns=None
        )
    assert left_out == ["offers_received"]
    assert filled["offers_received"].isna().all()


@pytest.fixture(scope="module")
def tiered_policy(features: pd.DataFrame) -> tuple[LoyaltyPolicy, pd.DataFrame]:
    """A churn-only policy with a category (a third of the tiers missing) and a drift profile
    of the very rows it is then scored on."""
    from loyalty_ml.models.churn import ChurnModel
    from loyalty_ml.tracking.drift import DriftProfile

    tiers = np.array(["gold", "silver", None], dtype=object)[np.arange(len(features)) % 3]
    rows = features.assign(tier=pd.Categorical(tiers, categories=["gold", "silver"]))
    y = (rows["recency_days"] > 150).astype(int)
    churn = ChurnModel(n_estimators=20, random_state=0).fit(rows, y)
    profile = DriftProfile.from_frame(
        rows.assign(churn_probability=churn.predict_proba(rows)[:, 1])
    )
    policy = LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=tuple(rows.columns),
        feature_categories={"tier": ("gold", "silver")},
        churn_model=churn,
        drift_profile=profile,
    )
    return policy, rows


def test_the_training_rows_scored_again_show_no_drift_in_any_batch_size(
    tiered_policy: tuple[LoyaltyPolicy, pd.DataFrame],
) -> None:
    """Kills S11 (each batch's model view one row short): the very rows of the profile have a
    PSI of 0 in every column, in one batch or in many."""
    from loyalty_ml.tracking.scoring import score_features

    policy, rows = tiered_policy
    for batch_size in (1000, 7):
        _, psi = score_features(policy, rows, reasons="none", batch_size=batch_size)
        assert set(psi.index) == {*rows.columns, "churn_probability"}
        assert psi.to_numpy() == pytest.approx(0.0, abs=1e-12)
    # an unseen level is "other", not missing: drift (and, since session 49, a warning)
    with pytest.warns(DataQualityWarning, match=r"features.tier holds levels .*\['bronze'\]"):
        _, psi = score_features(
            policy, rows.assign(tier=rows["tier"].astype(object).fillna("bronze")), reasons="none"
        )
    assert psi["tier"] > 0.2


def test_score_customers_refuses_a_batch_size_of_zero_before_any_work(tmp_path: Path) -> None:
    """Kills S12 (`batch_size < 1` -> `< 0`)."""
    from loyalty_ml.tracking.scoring import score_customers

    with pytest.raises(ConfigError, match="'batch_size' parameter of score_customers"):
        score_customers(
            _tx([1, 2]),
            as_of="2024-02-01",
            batch_size=0,
            tracking_uri=f"sqlite:///{(tmp_path / 'none.db').as_posix()}",
        )


# -- _train_record.py: which champion metric the promotion rule compares ----------------------------


def _champion_basis(
    monkeypatch: pytest.MonkeyPatch,
    champion: LoyaltyPolicy,
    features: pd.DataFrame,
    *,
    trained: list[str],
    horizon_days: int = 90,
) -> tuple[float | None, str]:
    """The champion metric and its basis for a run whose cutoffs are 30 days apart, ending on
    2024-09-01, against a champion (tagged 0.5) trained with the cutoffs ``trained``."""
    from loyalty_ml.tracking import _train_record

    registered = replace(
        champion, training_summary={"cutoffs": trained, "horizon_days": horizon_days}
    )
    monkeypatch.setattr(_train_record, "champion_metric", lambda *a, **k: ("1", 0.5))
    monkeypatch.setattr(_train_record, "load_policy", lambda *a, **k: (registered, "1"))
    y = (features["recency_days"] > 150).astype(int)
    return _train_record._champion_on_this_backtest(
        None,
        "m",
        "champion",
        tracking_uri="unused",
        X_test=features,
        y_test=y,
        cutoffs=[pd.Timestamp(d) for d in ("2024-07-03", "2024-08-02", "2024-09-01")],
        horizon_days=90,
        config=FeatureConfig(),
    )


def test_the_champion_is_rescored_on_this_backtest_only_when_that_is_fair(
    monkeypatch: pytest.MonkeyPatch, policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills C01 (`<= backtest - gap` -> `<`: last month's champion, exactly one spacing
    earlier, read as another window), C02 (another horizon rescored), C04 (a gap of 0: a
    champion trained 10 days ago rescored, winning by look-ahead) and C06 (the same window read
    as another one)."""
    from sklearn.metrics import roc_auc_score

    # last cutoff 2024-08-02: one spacing before this backtest, like this run's backtest model
    value, basis = _champion_basis(
        monkeypatch, policy, features, trained=["2024-07-03", "2024-08-02"]
    )
    y = (features["recency_days"] > 150).astype(int)
    expected = roc_auc_score(y, policy.churn_model.predict_proba(policy.prepare(features))[:, 1])
    assert value == pytest.approx(expected)
    assert basis.startswith("champion v1 scored on this run's backtest (2024-09-01, 400 customers")
    # the same window: the tagged metric of that window
    value, basis = _champion_basis(
        monkeypatch, policy, features, trained=["2024-08-02", "2024-09-01"]
    )
    assert (value, basis) == (
        0.5,
        "champion v1's own backtest (tag backtest_roc_auc) (the same window)",
    )
    # trained 10 days before this backtest: its labels overlap it
    value, basis = _champion_basis(
        monkeypatch, policy, features, trained=["2024-07-22", "2024-08-22"]
    )
    assert value == 0.5
    assert basis.endswith(
        "(another window: its last cutoff 2024-08-22 is less than 30 days before it)"
    )
    # another horizon predicts another target
    value, basis = _champion_basis(
        monkeypatch, policy, features, trained=["2024-07-03", "2024-08-02"], horizon_days=60
    )
    assert value == 0.5
    assert basis.endswith("(another window: its cutoffs, horizon or features differ)")
    # other feature options (no 365-day window): another model's view of the customers
    other = replace(policy, feature_config=FeatureConfig(windows=(30, 90)))
    value, basis = _champion_basis(
        monkeypatch, other, features, trained=["2024-07-03", "2024-08-02"]
    )
    assert value == 0.5
    assert basis.endswith("(another window: its cutoffs, horizon or features differ)")


# -- sends.py ---------------------------------------------------------------------------------------


def test_a_customer_sent_an_offer_is_not_also_a_control_row() -> None:
    """Kills N01 (the withheld rows not limited to customers without a send): decisions edited by
    hand, or merged from two runs, may give a customer both; the send wins, one row each."""
    from loyalty_ml.tracking.sends import nightly_sends

    decisions = pd.DataFrame(
        {C.OFFER_ID: ["d5", None, "d10"], "holdout_offer_id": ["d5", "d10", None]},
        index=pd.Index([1, 2, 3], name=C.CUSTOMER_ID),
    )
    out = nightly_sends(decisions, sent_at="2024-03-02")
    got = out[[C.CAMPAIGN_ID, C.CUSTOMER_ID, C.OFFER_ID]].to_numpy().tolist()
    assert got == [
        ["nightly-2024-03-02:d10", 2, "control"],
        ["nightly-2024-03-02:d10", 3, "d10"],
        ["nightly-2024-03-02:d5", 1, "d5"],
    ]


# -- train.py: the training history, channels, settings and the audited plan --------------------


def test_training_history_stops_before_as_of_and_counts_excluded_customers_once() -> None:
    """Kills T08 (`< cutoff` -> `<=`: a purchase at as_of, inside the first label window, in the
    features) and T09 (the excluded count counting lines, not customers)."""
    from loyalty_ml.tracking.train import _profiled_history

    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 1, 2, 2, 2, 1],
            C.TIMESTAMP: pd.to_datetime(
                ["2024-01-01", "2024-01-10", "2024-01-02", "2024-01-03", "2024-01-04", "2024-03-01"]
            ),
            C.AMOUNT: 10.0,
        }
    )
    customers = pd.DataFrame({C.CUSTOMER_ID: [1, 2], C.CONSENT_PROFILING: [True, False]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the data ends 50 days early
        kept, people, n_excluded, _ = _profiled_history(
            tx, customers, pd.Timestamp("2024-03-01"), 90
        )
    # customer 2's three lines are left out: one customer; the line at as_of is not history
    assert kept[C.TIMESTAMP].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-10")]
    assert n_excluded == 1
    assert people is not None and people[C.CUSTOMER_ID].tolist() == [1]


def test_the_training_channel_list_leaves_out_missing_channels() -> None:
    """Kills T05 (the channel list frozen with "nan" for the lines without a channel)."""
    from loyalty_ml.tracking.train import _fixed_channels

    tx = _tx([1, 2, 3]).assign(**{C.CHANNEL: ["web", None, "store"]})
    assert _fixed_channels(FeatureConfig(), tx).channels == ("store", "web")


def test_training_settings_refuse_a_blank_override_reason_but_take_a_zero_value(
    tmp_path: Path,
) -> None:
    """Kills T06 (a reason of blanks accepted as the recorded explanation of a fairness override)
    and T07 (`>= 0` -> `> 0`: a value_per_conversion of 0, pricing offers at cost only, refused)."""
    from loyalty_ml.tracking.train import _check_settings

    settings: dict[str, Any] = {
        "tracking_uri": f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}",
        "promotion_tolerance": 0.005,
        "model_name": "m",
        "alias": "champion",
        "experiment": "e",
        "fairness_override": False,
        "fairness_override_reason": None,
        "churn_params": None,
        "uplift_params": None,
        "min_days_between_offers": 30,
        "value_per_conversion": 0.0,
        "feature_config": None,
    }
    _check_settings(**settings)
    with pytest.raises(ConfigError, match="needs fairness_override_reason"):
        _check_settings(**{**settings, "fairness_override": True, "fairness_override_reason": " "})


def test_the_offers_are_audited_when_the_customers_carry_any_protected_attribute(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills T22 (`any` protected attribute -> `all`): a table with gender but no age or income
    band still gets the fairness audit of who is offered what."""
    from loyalty_ml.tracking.train import _backtest_plan

    rows = features.head(30)
    people = pd.DataFrame({C.CUSTOMER_ID: rows.index, "gender": "f"})
    plan = _backtest_plan(policy, rows, people)
    assert plan is not None
    # the decisions, and who of the holdout they planned for (the audit leaves them out)
    pd.testing.assert_frame_equal(
        plan.drop(columns="in_holdout"), policy.decide(rows, reasons="none")
    )
    assert _backtest_plan(policy, rows, people.drop(columns="gender")) is None


# -- pyfunc.py (the served model) -------------------------------------------------------------------


def _served(policy: LoyaltyPolicy) -> Any:
    from loyalty_ml.tracking.pyfunc import LoyaltyPolicyModel

    model = LoyaltyPolicyModel()
    model.policy = policy
    return model


def test_a_request_with_consent_flags_and_no_holdout_is_served_without_warnings(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills Y01 (the row-order holdout warning without a holdout) and Y06 (the missing-consent
    warning given although the request sends consent_marketing)."""
    model = _served(replace(policy, holdout_fraction=0.0))
    request = features.head(40).reset_index(drop=True).assign(consent_marketing=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model.predict(None, request, {"reasons": "none"})
    assert out[C.OFFER_ID].notna().any()  # offers were made: the consent warning had a reason


def test_a_request_contacting_nobody_is_not_warned_about_consent(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills Y03 (channel "none" read as a contact): nobody triggered, nobody contacted."""
    quiet = replace(
        policy,
        uplift_model=None,
        catalog=None,
        medium_risk_threshold=1.0,
        high_risk_threshold=1.0,
    )
    model = _served(quiet)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model.predict(None, features.head(20).reset_index(), {"reasons": "none"})
    assert (out["channel"] == "none").all()


def test_served_text_columns_are_objects_and_everyone_is_explained_by_default(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """Kills Y04 (text columns without a missing value left as str, so the answer's types depend
    on the batch) and Y07 (the default `reasons` other than the documented "all")."""
    # the 64 customers no trigger fires for (3 of them have a reason pushing their risk up)
    quiet = policy.decide(features, reasons="none")["action"] == "none"
    request = features.loc[quiet].reset_index().assign(consent_marketing=True)
    out = _served(policy).predict(None, request)
    assert out["risk_band"].notna().all()
    assert out["risk_band"].dtype == object and out["action"].dtype == object
    assert (out["action"] == "none").all()
    assert out["reason_1"].notna().any()


# -- score_customers, with the registry lookup replaced by a hand-made policy ------------------------


def _score(
    monkeypatch: pytest.MonkeyPatch, policy: LoyaltyPolicy, tx: pd.DataFrame, **kwargs: Any
) -> pd.DataFrame:
    """score_customers as the nightly job runs it, the policy standing in for the registry's
    version "7" (no MLflow store, no run logged)."""
    from loyalty_ml.tracking import scoring

    monkeypatch.setattr(scoring, "load_policy", lambda *a, **k: (policy, "7"))
    return scoring.score_customers(
        tx, as_of="2024-03-01", log_run=False, tracking_uri="sqlite:///unused.db", **kwargs
    )


def test_score_customers_rows_statuses_and_members_without_a_purchase(
    monkeypatch: pytest.MonkeyPatch, policy: LoyaltyPolicy
) -> None:
    """Kills S01 (a purchase at as_of counted as history), S04 (customers without profiling
    consent counted as members without a purchase), S05 (a customer with refunds only given a
    row) and S06 (the unlisted and the refusing customers' reasons swapped)."""
    day = pd.Timestamp("2024-02-20")
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 1, 2, 3, 4, 5],
            C.TIMESTAMP: [
                day,
                day + pd.Timedelta(days=3),
                day,
                day,
                day,
                pd.Timestamp("2024-03-01"),
            ],
            C.AMOUNT: [10.0, 20.0, 15.0, -5.0, 12.0, 30.0],
        }
    )
    # 1 consents; 2, 3 (a refund only) and 5 (who buys on as_of, after the history) do not;
    # 4 is not in the table; 6 never bought
    customers = pd.DataFrame(
        {C.CUSTOMER_ID: [1, 2, 3, 5, 6], C.CONSENT_PROFILING: [True, False, False, False, True]}
    )
    out = _score(monkeypatch, policy, tx, customers=customers)
    assert out.index.tolist() == [1, 2, 4]
    assert out["status"].tolist() == ["scored", "no_profiling_consent", "no_profiling_consent"]
    assert out.loc[2, "reason_1"] == "not scored: the customer has not consented to profiling"
    assert out.loc[4, "reason_1"].startswith("not scored: not in the customers table")
    # members 3, 5 and 6 have no row (2 has one, unscored)
    assert out.attrs["n_customers_without_purchase"] == 3
    assert out.attrs["model_version"] == "7"


def test_drift_is_warned_from_200_scored_customers_and_never_for_clock_features(
    monkeypatch: pytest.MonkeyPatch, policy: LoyaltyPolicy
) -> None:
    """Kills S03 (`>= MIN_DRIFT_ROWS` -> `>`: 200 scored customers are enough to judge) and S02
    (the clock features, tenure moving a day a day, warned on)."""
    from loyalty_ml.features import build_features
    from loyalty_ml.tracking.drift import DriftProfile, DriftWarning

    ids = np.arange(1, 201)
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: np.r_[ids, ids],
            C.TIMESTAMP: np.r_[
                pd.Timestamp("2023-06-01") + pd.to_timedelta(ids, unit="D"),
                pd.Timestamp("2024-02-01") + pd.to_timedelta(ids % 28, unit="D"),
            ],
            C.AMOUNT: np.r_[10.0 + ids, 20.0 + ids % 7],
        }
    )
    seen = build_features(tx, as_of="2024-03-01")
    p = policy.churn_model.predict_proba(policy.prepare(seen))[:, 1]

    def profiled(**shifted: pd.Series) -> LoyaltyPolicy:
        frame = seen.assign(churn_probability=p, **shifted)
        return replace(policy, drift_profile=DriftProfile.from_frame(frame))

    # trained on spends ten times larger: every customer now in the lowest bin
    with pytest.warns(
        DriftWarning, match=r"1 column\(s\) drifted past PSI 0.2 against training: spend="
    ):
        _score(monkeypatch, profiled(spend=seen["spend"] * 10), tx)
    # trained when everyone's tenure was 500 days longer: the calendar, not drift
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _score(monkeypatch, profiled(tenure_days=seen["tenure_days"] + 500), tx)
    assert len(out) == 200


@pytest.mark.slow  # an embedded MLflow store and three logged runs: a few seconds
def test_a_run_superseded_once_keeps_the_run_that_superseded_it(
    monkeypatch: pytest.MonkeyPatch, policy: LoyaltyPolicy, tmp_path: Path
) -> None:
    """Kills S15 (`superseded_by` set again on every retry): the first run of a night retried
    twice points at the second run, which replaced it, not at the third."""
    import mlflow

    from loyalty_ml.tracking import scoring

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    tx = _tx([1, 2, 3]).assign(**{C.TIMESTAMP: pd.Timestamp("2024-02-25")})

    monkeypatch.setattr(scoring, "load_policy", lambda *a, **k: (policy, "7"))
    for _ in range(3):
        scoring.score_customers(tx, as_of="2024-03-01", tracking_uri=uri, model_uri="models:/m/7")
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    first, second, third = (r.info.run_id for r in runs)
    tags = [r.data.tags for r in runs]
    assert (tags[0]["superseded_by"], tags[1]["superseded_by"]) == (second, third)
    assert "superseded_by" not in tags[2]
    assert set(tags[2]["rescores"].split(",")) == {first, second}


def test_the_training_audit_leaves_customers_without_marketing_consent_out_of_the_offers() -> None:
    """Fixed: the job's audit kept only offer_id and expected_cost of the backtest plan, so the
    customers decide gave no offer for want of marketing consent counted as "not offered"; it
    keeps offer_reason now, and the offer figures are over the contactable customers."""
    from loyalty_ml.policy._plan_reasons import CHEAPEST, NO_CONSENT
    from loyalty_ml.tracking.train import _fairness_audit

    ids = pd.Index([f"c{i}" for i in range(40)], name=C.CUSTOMER_ID)
    people = pd.DataFrame({C.CUSTOMER_ID: ids, C.GENDER: ["f", "m"] * 20})
    refused = np.arange(40) < 10
    plan = pd.DataFrame(
        {
            C.OFFER_ID: np.where(refused, None, "A"),
            "expected_cost": np.where(refused, 0.0, 1.0),
            "offer_reason": np.where(refused, NO_CONSENT, CHEAPEST),
        },
        index=ids,
    )
    y = pd.Series(np.arange(40) % 3 == 0, index=ids).astype(int)
    from loyalty_ml.evaluation.fairness import FairnessLimits

    limits = FairnessLimits(min_group_size=1)
    report = _fairness_audit(
        people, y, np.linspace(0, 1, 40), plan=plan, limits=limits, random_state=0
    )
    by_group = report.by_group.xs(C.GENDER, level="attribute")
    assert by_group["n_contactable"].tolist() == [15, 15]
    assert by_group["offer_rate"].tolist() == [1.0, 1.0]


def test_the_promotion_reason_gives_no_gap_the_published_report_withholds() -> None:
    """Fixed: the promotion_reason tags (run and model version) quoted the audited report's
    violations, so a gap the published artifacts withhold (it involves a group of 3) was stored:
    here 0.5, which with the big group's published offer rate gives the small group's back."""
    from loyalty_ml.evaluation.fairness import FairnessLimits, fairness_report
    from loyalty_ml.tracking._train_record import _violations_text

    ids = pd.RangeIndex(33, name=C.CUSTOMER_ID)
    sensitive = pd.Series(["big"] * 30 + ["RARETIER"] * 3, index=ids, name="tier")
    plan = pd.DataFrame({C.OFFER_ID: ["A"] * 15 + [None] * 18, "expected_cost": 1.0}, index=ids)
    limits = FairnessLimits(significance=None, min_group_size=1)
    report = fairness_report(sensitive, offers=plan, limits=limits)
    assert report.violations["value"].tolist() == [0.5]  # 15/30 offered against 0/3
    assert _violations_text(report) == "tier offer_rate withheld vs limit 0.1"
