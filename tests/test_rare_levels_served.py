"""A model fitted on pooled category levels (``FeatureConfig.min_level_customers``) as it is served
and scored: a value with no level of its own reads as ``"(rare)"``, blanks stay missing, and only a
new level held by as many rows as training pooled below (or a case-only variant of a known level)
is warned about, so a nightly batch holding a handful of a tier rare at training is quiet."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.features import FeatureConfig
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.schema import columns as C
from loyalty_ml.tracking.policy import LoyaltyPolicy, unseen_levels

LEVELS = ("basic", "gold", C.RARE_LEVEL)


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    tier = rng.choice(["basic", "gold", C.RARE_LEVEL], n, p=[0.6, 0.3, 0.1])
    return pd.DataFrame(
        {
            "n_orders": rng.integers(1, 12, n).astype(float),
            "tier": pd.Categorical(tier, categories=list(LEVELS)),
        },
        index=pd.Index(np.arange(1, n + 1), name=C.CUSTOMER_ID),
    )


@pytest.fixture(scope="module")
def pooled(features: pd.DataFrame) -> LoyaltyPolicy:
    rng = np.random.default_rng(1)
    rare = (features["tier"] == C.RARE_LEVEL).to_numpy()
    churned = rng.uniform(size=len(features)) < np.where(rare, 0.9, 0.3)
    churn = ChurnModel(n_estimators=20, random_state=0).fit(
        features, pd.Series(churned.astype(int), index=features.index)
    )
    return LoyaltyPolicy(
        feature_config=FeatureConfig(),  # min_level_customers=10
        feature_names=tuple(features.columns),
        feature_categories={"tier": LEVELS},
        churn_model=churn,
    )


def _as_text(frame: pd.DataFrame, tier: list[object]) -> pd.DataFrame:
    return frame.iloc[: len(tier)].assign(tier=pd.Series(tier, dtype=object).to_numpy())


def test_values_without_a_level_read_as_rare_and_blanks_stay_missing(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    raw = _as_text(features, ["gold", "diamond", None, "nan", " ", C.RARE_LEVEL, " gold "])
    raw["n_orders"] = 5.0
    prepared = pooled.prepare(raw)
    got = prepared["tier"].astype(object).where(prepared["tier"].notna(), None).tolist()
    assert got == ["gold", C.RARE_LEVEL, None, None, None, C.RARE_LEVEL, "gold"]
    assert prepared["tier"].cat.categories.tolist() == list(LEVELS)
    # the churn model scores "diamond" as it scored the training's rare values
    proba = pooled.churn_model.predict_proba(prepared)[:, 1]
    assert proba[1] == proba[5]


def test_a_few_rows_of_a_level_rare_at_training_are_not_warned_about(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    raw = _as_text(features, ["diamond"] * 9 + ["basic"] * 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepared = pooled.prepare(raw)
    assert unseen_levels(pooled, raw, prepared) == []


def test_a_new_level_held_by_many_rows_or_a_case_variant_is_warned_about(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    raw = _as_text(features, ["platinum"] * 10 + ["GOLD"] + ["diamond"] * 3 + ["basic"] * 5)
    variant, new = unseen_levels(pooled, raw, pooled.prepare(raw))
    assert "never saw at training ['platinum'] in 10 of 19 rows" in new
    assert 'read as "(rare)"' in new and "GOLD" not in new and "diamond" not in new
    assert "levels are ['basic', 'gold']" in new  # "(rare)" is not offered as a level to send
    assert "['GOLD'] in 1 of 19 rows" in variant and "'GOLD' -> 'gold'" in variant
    assert "diamond" not in variant


def test_a_rare_case_variant_is_not_called_a_level_the_model_never_saw(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    """ "Gold" x3 next to "gold" x50 was likely there at training too, pooled into "(rare)": the
    nightly note says it reads as "(rare)" and may be a spelling of "gold", not that it is new
    and changes scores (drift since training). Twelve rows of "GOLD" could not have been pooled
    at training (10 or more would have kept a level): that one is still a level never seen."""
    raw = _as_text(features, ["gold"] * 50 + ["Gold"] * 3 + ["basic"] * 20)
    (note,) = unseen_levels(pooled, raw, pooled.prepare(raw))
    assert note.startswith("model_input.tier holds values")
    assert "['Gold'] in 3 of 73 rows" in note and "fewer than 10" in note
    assert 'read as "(rare)"' in note and "'Gold' -> 'gold'" in note
    assert "never saw" not in note and "changes those customers' scores" not in note
    raw = _as_text(features, ["gold"] * 50 + ["GOLD"] * 12 + ["Gold"] * 3)
    variant, new = unseen_levels(pooled, raw, pooled.prepare(raw))
    assert "never saw at training ['GOLD'] in 12 of 65 rows" in new
    assert "changes those customers' scores" in new and "'GOLD' -> 'gold'" in new
    assert "['Gold'] in 3 of 65 rows" in variant and "never saw" not in variant


def test_a_model_without_pooled_levels_reads_unseen_levels_as_missing_and_warns(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    import dataclasses

    plain = dataclasses.replace(
        pooled,
        feature_config=FeatureConfig(min_level_customers=1),
        feature_categories={"tier": ("basic", "gold")},
    )
    raw = _as_text(features, ["diamond", "gold"])
    prepared = plain.prepare(raw)
    assert pd.isna(prepared["tier"].iloc[0]) and prepared["tier"].iloc[1] == "gold"
    (note,) = unseen_levels(plain, raw, prepared)
    assert "['diamond'] in 1 of 2 rows: they are read as missing" in note


def test_served_model_is_quiet_on_a_rare_tier_and_warns_of_a_common_new_one(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    from loyalty_ml.tracking.pyfunc import LoyaltyPolicyModel

    model = LoyaltyPolicyModel()
    model.policy = pooled
    request = features.iloc[:30].reset_index().assign(**{C.CONSENT_MARKETING: True})
    request["tier"] = ["diamond"] * 3 + ["gold"] * 27
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        quiet = model.predict(None, request)
    assert len(quiet) == 30
    request["tier"] = ["platinum"] * 12 + ["gold"] * 18
    with pytest.warns(DataQualityWarning, match=r"\['platinum'\] in 12 of 30 rows: they are read"):
        model.predict(None, request)


def test_request_contract_lists_the_rare_level(pooled: LoyaltyPolicy) -> None:
    from loyalty_ml.tracking.pyfunc import request_contract

    (tier,) = [f for f in request_contract(pooled)["features"] if f["name"] == "tier"]
    assert tier["levels"] == list(LEVELS)


def _tier_tables(n_gold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = np.arange(1, 41)
    customers = pd.DataFrame(
        {C.CUSTOMER_ID: ids, C.TIER: ["gold"] * n_gold + ["basic"] * (40 - n_gold)}
    )
    transactions = pd.DataFrame(
        {C.CUSTOMER_ID: ids, C.TIMESTAMP: pd.Timestamp("2024-01-01"), C.AMOUNT: 10.0}
    )
    return transactions, customers


def test_scoring_reads_levels_against_the_training_not_the_batch_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "gold" is held by 12 customers at training, so it is a level; the nightly batch holds 9 of
    # them (three left or withdrew consent): they are scored as gold, not pooled into "(rare)"
    from loyalty_ml.features import build_features
    from loyalty_ml.tracking import scoring

    transactions, customers = _tier_tables(12)
    trained = build_features(transactions, as_of="2024-01-02", customers=customers)
    assert trained[C.TIER].cat.categories.tolist() == ["basic", "gold", C.RARE_LEVEL]
    seen: list[pd.DataFrame] = []

    class _Policy(LoyaltyPolicy):
        def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
            prepared = super().prepare(features)
            seen.append(prepared)
            raise _StopError

    class _StopError(Exception):
        pass

    policy = _Policy(
        feature_config=FeatureConfig(),
        feature_names=tuple(trained.columns),
        feature_categories={C.TIER: ("basic", "gold", C.RARE_LEVEL)},
        churn_model=None,
    )
    monkeypatch.setattr(scoring, "load_policy", lambda *a, **k: (policy, "1"))
    transactions, customers = _tier_tables(9)
    with pytest.raises(_StopError):
        scoring.score_customers(
            transactions, as_of="2024-01-02", customers=customers, log_run=False
        )
    (prepared,) = seen
    assert prepared[C.TIER].astype(str).value_counts().to_dict() == {"basic": 31, "gold": 9}


def test_churn_and_uplift_models_read_values_they_have_no_level_for_as_rare(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    """Features built unpooled for scoring (min_level_customers=1, as score_customers does) reach
    a model fitted on pooled ones: a value it has no level for is scored as "(rare)", not missing
    (the report's uplift section and a notebook scoring with another customers table)."""
    from loyalty_ml.models.uplift import UpliftModel

    raw = features.iloc[:4].assign(n_orders=5.0)
    as_text = raw.assign(
        tier=pd.Series(["diamond", C.RARE_LEVEL, None, "gold"], dtype=object).to_numpy()
    )
    as_category = as_text.assign(tier=as_text["tier"].astype("category"))
    churn = pooled.churn_model
    for frame in (as_text, as_category):
        p = churn.predict_proba(frame)[:, 1]
        assert p[0] == p[1]  # "diamond" is scored as "(rare)"
    rng = np.random.default_rng(2)
    treatment = pd.Series(rng.choice(["control", "coupon"], len(features)), index=features.index)
    rare = (features["tier"] == C.RARE_LEVEL).to_numpy()
    outcome = rng.uniform(size=len(features)) < np.where(rare & (treatment == "coupon"), 0.8, 0.3)
    uplift = UpliftModel(n_estimators=10, random_state=0).fit(
        features, pd.Series(outcome.astype(int), index=features.index), treatment=treatment
    )
    for frame in (as_text, as_category):
        effects = uplift.predict_effects(frame)
        assert effects.iloc[0].equals(effects.iloc[1])
        baseline = uplift.predict_baseline(frame)
        assert baseline.iloc[0] == baseline.iloc[1]


def test_features_pooled_by_a_smaller_customers_table_are_warned_about(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    """A notebook fits on the whole customers table and scores with a sample of it, with the
    default config: "gold" (a level of the models) is held by too few customers of the sample and
    pooled into "(rare)"; the models score those customers as the rare ones, so they say so."""
    from loyalty_ml.features import build_features
    from loyalty_ml.models.uplift import UpliftModel

    rng = np.random.default_rng(2)
    treatment = pd.Series(rng.choice(["control", "coupon"], len(features)), index=features.index)
    uplift = UpliftModel(n_estimators=10, random_state=0).fit(
        features,
        pd.Series(rng.integers(0, 2, len(features)), index=features.index),
        treatment=treatment,
    )
    transactions, customers = _tier_tables(9)  # 9 gold customers in the table scored
    columns = ["n_orders", C.TIER]
    X = build_features(transactions, as_of="2024-01-02", customers=customers)[columns]
    assert X[C.TIER].cat.categories.tolist() == ["basic", C.RARE_LEVEL]
    X = X.astype({"n_orders": float})
    warned = (
        r"'tier' holds 9 rows in '\(rare\)' but lacks the levels \['gold'\].*min_level_customers=1"
    )
    with pytest.warns(DataQualityWarning, match=f"ChurnModel: column {warned}"):
        pooled.churn_model.predict_proba(X)
    with pytest.warns(DataQualityWarning, match=f"UpliftModel: column {warned}"):
        uplift.predict_effects(X)
    unpooled = build_features(
        transactions,
        as_of="2024-01-02",
        customers=customers,
        config=FeatureConfig(min_level_customers=1),
    )[columns].astype({"n_orders": float})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # read against the fit's levels: quiet
        pooled.churn_model.predict_proba(unpooled)
        uplift.predict_effects(unpooled)


def test_models_read_a_level_with_surrounding_blanks_as_that_level(
    features: pd.DataFrame, pooled: LoyaltyPolicy
) -> None:
    """Pooled features count "gold " as "gold" (as LoyaltyPolicy.prepare reads it): a notebook
    scoring with unpooled features (min_level_customers=1) holding "gold " gets gold's score."""
    from loyalty_ml.models.uplift import UpliftModel

    frame = features.iloc[:3].assign(n_orders=5.0, tier=pd.Categorical(["gold", "gold ", " gold"]))
    p = pooled.churn_model.predict_proba(frame)[:, 1]
    assert p[0] == p[1] == p[2]
    rng = np.random.default_rng(3)
    treatment = pd.Series(rng.choice(["control", "coupon"], len(features)), index=features.index)
    uplift = UpliftModel(n_estimators=10, random_state=0).fit(
        features,
        pd.Series(rng.integers(0, 2, len(features)), index=features.index),
        treatment=treatment,
    )
    effects = uplift.predict_effects(frame)
    assert effects.iloc[0].equals(effects.iloc[1]) and effects.iloc[0].equals(effects.iloc[2])


@pytest.mark.parametrize("pooled_levels", [True, False])
def test_prepare_reads_a_category_column_as_it_reads_the_same_values_as_text(
    features: pd.DataFrame, pooled: LoyaltyPolicy, pooled_levels: bool
) -> None:
    """The nightly job's features are pandas categories: prepare reads each category once, and
    must give every row what reading the row's text gives (1.0 is "1", " gold " is "gold",
    blanks and "nan" are missing, unseen values "(rare)" or missing)."""
    import dataclasses

    levels = ("1", "gold", C.RARE_LEVEL) if pooled_levels else ("1", "gold")
    policy = dataclasses.replace(pooled, feature_categories={"tier": levels})
    values = ["gold", " gold ", "GOLD", "tin", None, "nan", "", "1", C.RARE_LEVEL, "gold"]
    as_text = _as_text(features, values)
    as_category = as_text.assign(tier=as_text["tier"].astype("category"))
    numbers = _as_text(features, [1.0, 1, None]).assign(tier=lambda f: f["tier"].astype("category"))
    for frame in (as_category, numbers):
        got = policy.prepare(frame)["tier"]
        expected = policy.prepare(frame.assign(tier=frame["tier"].astype(object)))["tier"]
        pd.testing.assert_series_equal(got, expected)
    got = policy.prepare(as_category)["tier"].astype(object).where(lambda s: s.notna(), None)
    rare = C.RARE_LEVEL if pooled_levels else None
    assert got.tolist() == ["gold", "gold", rare, rare, None, None, None, "1", rare, "gold"]
