"""LoyaltyPolicy on a tiny hand-made feature table: config checks, input coercion, decisions."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.features import FeatureConfig
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.tracking.policy import DECISION_COLUMNS, LoyaltyPolicy


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, n),
            "n_orders": rng.integers(1, 12, n).astype(float),
            "spend": rng.uniform(5, 500, n),
            "tier": pd.Categorical(rng.choice(["gold", "silver"], n)),
        },
        index=pd.Index(np.arange(1, n + 1), name="customer_id"),
    )


@pytest.fixture(scope="module")
def policy(features: pd.DataFrame) -> LoyaltyPolicy:
    rng = np.random.default_rng(1)
    y = pd.Series(
        (rng.uniform(size=len(features)) < features["recency_days"] / 300).astype(int),
        index=features.index,
    )
    churn = ChurnModel(n_estimators=30, random_state=0).fit(features, y)
    return LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=tuple(features.columns),
        feature_categories={"tier": ("gold", "silver")},
        churn_model=churn,
    )


def test_decide_returns_the_decision_columns(policy: LoyaltyPolicy, features: pd.DataFrame) -> None:
    out = policy.decide(features)
    assert list(out.columns) == list(DECISION_COLUMNS)
    assert out.index.equals(features.index)
    p = out["churn_probability"]
    assert p.between(0, 1).all()
    # fallback trigger rule: high risk iff p >= 0.6, and then a retention offer by e-mail
    high = p >= 0.6
    assert ((out["risk_band"] == "high") == high).all()
    assert (out.loc[high, "action"] == "retention_offer").all()
    assert (out.loc[~high, "action"] == "none").all()
    assert out["offer_id"].isna().all() and (out["expected_net_value"] == 0).all()
    assert set(out["offer_reason"]) <= {"no offer model", "no trigger fired"}
    expected = policy.churn_model.explain(features, top_k=3)["reason_1"]
    pd.testing.assert_series_equal(out["reason_1"], expected.astype("str"), check_names=False)
    assert out["reason_1"].notna().mean() > 0.5


def test_reasons_can_be_limited_to_actioned_customers(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    out = policy.decide(features, reasons="actioned")
    acted = out["action"] != "none"
    everyone = policy.decide(features)["reason_1"]
    pd.testing.assert_series_equal(out.loc[acted, "reason_1"], everyone.loc[acted])
    assert out.loc[~acted, "reason_1"].isna().all()
    assert policy.decide(features, reasons="none")["reason_1"].isna().all()
    with pytest.raises(ConfigError, match="'reasons' parameter of decide"):
        policy.decide(features, reasons="some")  # type: ignore[arg-type]


def test_chunking_does_not_change_decisions(policy: LoyaltyPolicy, features: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        policy.decide(features, batch_size=37), policy.decide(features, batch_size=1000)
    )


def test_text_input_is_coerced_like_training(policy: LoyaltyPolicy, features: pd.DataFrame) -> None:
    # What a served model receives from JSON: text for categories, numbers possibly as text.
    served = features.astype({"tier": "str", "n_orders": "str"}).assign(extra="ignored")
    served.loc[served.index[0], "tier"] = "platinum"  # unseen level -> missing, not an error
    a = policy.decide(features.iloc[1:])
    b = policy.decide(served).iloc[1:]
    pd.testing.assert_frame_equal(a, b)


def test_missing_columns_are_listed(policy: LoyaltyPolicy, features: pd.DataFrame) -> None:
    with pytest.raises(
        SchemaError, match=r"lack 2 column\(s\) the model needs: \['n_orders', 'spend'\]"
    ):
        policy.decide(features.drop(columns=["spend", "n_orders"]))


def test_holdout_is_stable_and_about_the_right_size(policy: LoyaltyPolicy) -> None:
    ids = pd.Index(np.arange(20_000))
    mask = policy.holdout_mask(ids)
    assert 0.09 < mask.mean() < 0.11
    np.testing.assert_array_equal(policy.holdout_mask(ids[::-1]), mask[::-1])
    np.testing.assert_array_equal(policy.holdout_mask(ids[:100]), mask[:100])


def test_policy_pickles(policy: LoyaltyPolicy, features: pd.DataFrame) -> None:
    again = pickle.loads(pickle.dumps(policy))
    pd.testing.assert_frame_equal(again.decide(features), policy.decide(features))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"feature_config": "x"},
            "'feature_config' parameter of LoyaltyPolicy must be a FeatureConfig",
        ),
        ({"feature_names": ()}, "'feature_names' parameter of LoyaltyPolicy must be a non-empty"),
        (
            {"holdout_fraction": 1.5},
            r"'holdout_fraction' parameter of LoyaltyPolicy must be a number in \[0, 1\]",
        ),
        (
            {"medium_risk_threshold": 0.9},
            "'medium_risk_threshold' must not exceed 'high_risk_threshold'",
        ),
        (
            {"value_per_conversion": -1.0},
            "'value_per_conversion' parameter of LoyaltyPolicy must be a finite number >= 0",
        ),
        (
            # choose_offers refuses such a margin: every nightly plan would fail
            {"value_per_conversion": 1e16},
            r"'value_per_conversion' parameter of LoyaltyPolicy .* at most 1e\+15",
        ),
        ({"uplift_model": object()}, "needs both 'uplift_model' and 'catalog'"),
        (
            {"min_days_between_offers": 0},
            "'min_days_between_offers' parameter of LoyaltyPolicy must be None or a whole number",
        ),
        (
            {"min_days_between_offers": 7.5},
            "'min_days_between_offers' parameter of LoyaltyPolicy must be None or a whole number",
        ),
    ],
)
def test_bad_configuration(policy: LoyaltyPolicy, kwargs: dict, message: str) -> None:
    base = {
        "feature_config": FeatureConfig(),
        "feature_names": ("recency_days",),
        "churn_model": policy.churn_model,
    }
    with pytest.raises(ConfigError, match=message):
        LoyaltyPolicy(**{**base, **kwargs})


@pytest.fixture(scope="module")
def with_offers(policy: LoyaltyPolicy, features: pd.DataFrame) -> LoyaltyPolicy:
    import dataclasses

    from loyalty_ml.models.uplift import UpliftModel
    from loyalty_ml.policy.catalog import OfferCatalog

    rng = np.random.default_rng(2)
    t = pd.Series(rng.choice(["control", "d5"], len(features)), index=features.index)
    y = pd.Series((rng.uniform(size=len(features)) < 0.2 + 0.3 * (t == "d5")).astype(int))
    uplift = UpliftModel(n_estimators=10, random_state=0).fit(
        features, y.set_axis(features.index), treatment=t
    )
    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [1.0], "max_per_month": [1]})
    )
    return dataclasses.replace(
        policy, uplift_model=uplift, catalog=catalog, value_per_conversion=50.0
    )


def test_monthly_caps_apply_when_the_send_history_is_given(
    with_offers: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    free = with_offers.decide(features, reasons="none")
    offered = free.index[free["offer_id"].notna()]
    assert len(offered) > 2
    # the first two were sent d5 earlier this month (one as text ids, as a CSV gives them)
    history = pd.DataFrame(
        {
            "customer_id": [str(offered[0]), offered[1], offered[2]],
            "offer_id": ["d5", "d5", "d5"],
            "sent_at": pd.to_datetime(["2024-06-03", "2024-06-10", "2024-05-28"]),
        }
    )
    capped = with_offers.decide(features, reasons="none", history=history, as_of="2024-06-15")
    assert capped.loc[offered[:2], "offer_reason"].tolist() == ["monthly cap reached"] * 2
    assert capped.loc[offered[:2], "offer_id"].isna().all()
    assert capped.loc[offered[2], "offer_id"] == "d5"  # last month's send does not count


def test_each_offer_names_the_catalogs_channel_beside_the_triggers(
    with_offers: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """The trigger's channel says how to contact; the offer goes out by its catalog channel, whose
    send ``expected_cost`` prices (the fallback trigger says e-mail; d5 is an app offer)."""
    import dataclasses

    from loyalty_ml.policy.catalog import OfferCatalog

    app = dataclasses.replace(
        with_offers,
        catalog=OfferCatalog.from_frame(
            pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [1.0], "channel": ["app"]})
        ),
    )
    out = app.decide(features, reasons="none")
    offered = out["offer_id"].notna()
    assert offered.sum() > 2 and (~offered).sum() > 2
    assert (out.loc[offered, "offer_channel"] == "app").all()
    assert out.loc[~offered, "offer_channel"].isna().all()
    assert (out.loc[offered, "channel"] == "email").all()
    # a catalog without channels: missing, as without an offer
    assert with_offers.decide(features, reasons="none")["offer_channel"].isna().all()


def test_the_cool_down_rests_customers_sent_any_offer_recently(
    with_offers: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    import dataclasses

    resting = dataclasses.replace(with_offers, min_days_between_offers=30)
    free = resting.decide(features, reasons="none")  # no history: no rule to apply
    pd.testing.assert_frame_equal(free, with_offers.decide(features, reasons="none"))
    offered = free.index[free["offer_id"].notna()]
    assert len(offered) > 4
    history = pd.DataFrame(
        {
            "customer_id": offered[:5],
            # an offer the catalog no longer holds is a contact too; a control row rests the
            # customer as well (an offer would blur what the control group measures)
            "offer_id": ["retired", "d5", "control", "d5", "retired"],
            # 30 days before 2024-07-02 is 2024-06-02: inside; 2024-06-01 is outside; 07-02 later
            "sent_at": pd.to_datetime(
                [
                    "2024-06-02 00:00",
                    "2024-07-01 23:00",
                    "2024-07-01 00:00",
                    "2024-06-01 00:00",
                    "2024-07-02 00:00",
                ]
            ),
        }
    )
    out = resting.decide(features, reasons="none", history=history, as_of="2024-07-02")
    assert out.loc[offered[:5], "offer_reason"].tolist() == [
        "contacted recently",
        "contacted recently",
        "in a recent control group",
        "cheapest effective",
        "cheapest effective",
    ]
    assert out.loc[offered[:3], "offer_id"].isna().all()
    rest = ~out.index.isin(offered[:3])
    pd.testing.assert_frame_equal(out.loc[rest], free.loc[rest])
    # without the rule, only d5's monthly cap applies: July's send counts, June's do not
    plain = with_offers.decide(features, reasons="none", history=history, as_of="2024-07-02")
    assert plain.loc[offered[1], "offer_reason"] == "monthly cap reached"
    assert plain.loc[offered[[0, 2, 3, 4]], "offer_id"].notna().all()


def test_a_budget_is_shared_by_the_rows_decided_together(
    with_offers: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    free = with_offers.decide(features, reasons="none")
    offered = free.index[free["offer_id"].notna()]
    X = features.loc[offered]
    effect = with_offers.uplift_model.predict_effects(X)["d5"]
    base = with_offers.uplift_model.predict_baseline(X)
    # each row's expected cost is choose_offers' face-value price: p(buy | offer) x 1.0
    face = (base + effect).clip(0, 1)
    # the budget binds the price the model's held-out check gives its only offer (cost 1.0)
    from loyalty_ml.policy._prudent_cost import calibrated_probability, read_cost_calibration

    check = read_cost_calibration(with_offers.uplift_model.predict_effects(X).attrs, ["d5"])
    assert check is not None
    priced = calibrated_probability(face.to_numpy()[:, None], effect.to_numpy()[:, None], check)
    # a band checked on too few purchases leaves the factor rule: p0 + 2 x uplift (a lower bound:
    # the budget also adds the offer's standard error)
    by_factor = (base + 2.0 * effect.clip(lower=0.0)).clip(0, 1).to_numpy()
    priced[:, 0] = np.where(np.isnan(priced[:, 0]), by_factor, priced[:, 0])
    prudent = pd.Series(priced[:, 0] * 1.0, index=X.index)
    assert (prudent >= face - 1e-12).all()
    np.testing.assert_allclose(free.loc[offered, "expected_cost"], face, rtol=1e-12)
    assert (free.loc[free["offer_id"].isna(), "expected_cost"] == 0).all()
    budget = float(prudent.sum()) / 3
    for size in (len(features), 37):  # chunks do not split the budget
        capped = with_offers.decide(features, reasons="none", budget=budget, batch_size=size)
        got = capped.index[capped["offer_id"].notna()]
        assert 0 < len(got) < len(offered) and set(got) <= set(offered)
        assert prudent.loc[got].sum() <= budget + 1e-9
        out = capped.loc[offered.difference(got), "offer_reason"]
        assert (out == "budget exhausted").all()
    with pytest.raises(ConfigError, match="'budget' parameter of decide"):
        with_offers.decide(features, budget=-1.0)
    with pytest.raises(ConfigError, match="'strategy' parameter of decide"):
        with_offers.decide(features, strategy="cheapest")


def test_a_policy_pickled_before_the_cool_down_has_none(policy: LoyaltyPolicy) -> None:
    import copy

    old = copy.copy(policy)
    vars(old).pop("min_days_between_offers")  # as a policy registered before the rule pickled
    again = pickle.loads(pickle.dumps(old))
    assert "min_days_between_offers" not in vars(again)
    assert again.min_days_between_offers is None


def test_drift_reads_category_codes_as_the_model_does() -> None:
    from loyalty_ml.tracking.drift import DriftProfile
    from loyalty_ml.tracking.scoring import score_features

    rng = np.random.default_rng(3)
    n = 600
    store = pd.Categorical(rng.choice(["1", "2"], n))  # store codes as text at training
    X = pd.DataFrame(
        {"recency_days": rng.uniform(0, 300, n), "store": store},
        index=pd.Index(np.arange(n), name="customer_id"),
    )
    y = pd.Series((rng.uniform(size=n) < X["recency_days"] / 300).astype(int), index=X.index)
    churn = ChurnModel(n_estimators=10, random_state=0).fit(X, y)
    policy = LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=("recency_days", "store"),
        feature_categories={"store": ("1", "2")},
        churn_model=churn,
        drift_profile=DriftProfile.from_frame(
            X.assign(churn_probability=churn.predict_proba(X)[:, 1])
        ),
    )
    # the same customers, store codes sent as numbers (a JSON client, a CSV read back)
    _, psi = score_features(policy, X.assign(store=X["store"].astype(float)), progress=False)
    assert psi["store"] < 0.01


def test_the_nightly_scoring_warns_of_category_levels_the_model_never_saw() -> None:
    """A new tier in the customers table was read as missing by score_customers without a word
    (the served model warned; the session-49 review)."""
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.scoring import score_features

    rng = np.random.default_rng(4)
    n = 400
    X = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, n),
            "tier": pd.Categorical(rng.choice(["gold", "silver"], n)),
        },
        index=pd.Index(np.arange(n), name="customer_id"),
    )
    y = pd.Series((rng.uniform(size=n) < X["recency_days"] / 300).astype(int), index=X.index)
    policy = LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=("recency_days", "tier"),
        feature_categories={"tier": ("gold", "silver")},
        churn_model=ChurnModel(n_estimators=10, random_state=0).fit(X, y),
    )
    tonight = X.assign(tier=X["tier"].astype(object).where(X.index >= 30, "Platinum"))
    with pytest.warns(DataQualityWarning, match=r"features.tier holds levels .*'Platinum'.* 30 of"):
        score_features(policy, tonight, progress=False)
    score_features(policy, X, progress=False)  # the model's levels: silent


def test_category_levels_written_as_floats_at_training_still_match() -> None:
    policy = LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=("store",),
        feature_categories={"store": ("1.0", "2.0")},  # a float column made categorical
        churn_model=None,
    )
    X = pd.DataFrame({"store": [1.0, 2.0, " 1.0"]}, index=pd.Index([1, 2, 3], name="customer_id"))
    assert policy.prepare(X)["store"].astype("str").tolist() == ["1.0", "2.0", "1.0"]


def test_the_offer_plan_gets_the_uplift_models_noise_in_each_level(
    with_offers: LoyaltyPolicy, features: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy
    import dataclasses

    from loyalty_ml.policy import offers

    seen: list[object] = []
    control_se: list[object] = []
    averages: list[object] = []
    effect_se: list[object] = []
    checks: list[object] = []
    real = offers.choose_offers

    def spy(*args: object, **kwargs: object) -> pd.DataFrame:
        seen.append(kwargs["arm_mean_se"])
        checks.append(args[0].attrs.get("cost_calibration"))  # type: ignore[attr-defined]
        control_se.append(args[0].attrs.get("control_mean_se"))  # type: ignore[attr-defined]
        averages.append(args[0].attrs.get("arm_average_effect"))  # type: ignore[attr-defined]
        effect_se.append(args[0].attrs.get("arm_effect_se"))  # type: ignore[attr-defined]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(offers, "choose_offers", spy)
    with_offers.decide(features, reasons="none", strategy="max_net_value")
    expected = with_offers.uplift_model.arm_summary_["mean_outcome_se"]  # type: ignore[union-attr]
    assert seen and all(s is not None and s.equals(expected) for s in seen)  # type: ignore[union-attr]
    # the control's noise, which a budget adds to every offer's (the control is listed first)
    control = with_offers.uplift_model.control_  # type: ignore[union-attr]
    assert expected.index[0] == str(control)
    assert control_se and all(c == expected.iloc[0] > 0 for c in control_se)
    # and each offer's average effect, which equally cheap offers within noise fall back on
    average = with_offers.uplift_model.arm_summary_["average_effect"].iloc[1:]  # type: ignore[union-attr]
    assert averages and all(a == average.to_dict() for a in averages)
    # and the noise in each offer's average effect, which a budget's prudent cost adds
    noise = with_offers.uplift_model.arm_summary_["average_effect_se"].iloc[1:]  # type: ignore[union-attr]
    assert effect_se and all(e == noise.to_dict() for e in effect_se)
    # and the held-out check of its purchase probabilities, which prices a budget
    from loyalty_ml.models._uplift_cost_check import calibration_attrs

    check = calibration_attrs(with_offers.uplift_model.cost_calibration_)  # type: ignore[union-attr]
    assert check is not None
    assert checks and all(c == check for c in checks)
    # a model fitted before the column was recorded plans without it, as it did then
    old = copy.deepcopy(with_offers.uplift_model)
    old.arm_summary_ = old.arm_summary_.drop(  # type: ignore[union-attr]
        columns=["mean_outcome_se", "average_effect", "average_effect_se"]
    )
    seen.clear()
    control_se.clear()
    averages.clear()
    effect_se.clear()
    dataclasses.replace(with_offers, uplift_model=old).decide(features, reasons="none")
    assert seen and all(s is None for s in seen)
    assert control_se and all(c is None for c in control_se)
    assert averages and all(a is None for a in averages)
    assert effect_se and all(e is None for e in effect_se)
