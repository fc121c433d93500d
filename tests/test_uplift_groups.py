"""The campaign of pooled training rows as a feature of the uplift learners (``group_feature``)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loyalty_ml.exceptions import ConfigError
from loyalty_ml.models._uplift_groups import GROUP_MIN_ROWS, MAX_GROUP_LEVELS, GroupFeature
from loyalty_ml.models.uplift import UpliftModel

TRUE_EFFECT = 0.05


def seasons(seed: int = 0, n: int = 4000) -> pd.DataFrame:
    """Two campaigns: at Christmas (customers with ``s=1`` buy 30 points more) only offer ``x``
    was sent, in a normal month only ``y``; both add 5 points for everyone, in every season."""
    rng = np.random.default_rng(seed)
    parts = []
    for campaign, season, arm in (("xmas", 0.3, "x"), ("normal", 0.0, "y")):
        s = rng.integers(0, 2, n)
        t = np.where(rng.uniform(size=n) < 0.5, "control", arm)
        p = 0.15 + season * s + TRUE_EFFECT * (t != "control")
        parts.append(
            pd.DataFrame(
                {
                    "s": s,
                    "z": rng.normal(size=n),
                    "t": t,
                    "y": (rng.uniform(size=n) < p).astype(int),
                    "campaign": campaign,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def fit(
    frame: pd.DataFrame, *, fit_args: dict[str, object] | None = None, **params: object
) -> UpliftModel:
    """UpliftModel(**params) fitted on ``frame`` with its campaigns as groups (``fit_args``: more
    arguments of ``fit``); warnings are not the point here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the balance check sees the seasons: that is the point
        model = UpliftModel(**{"random_state": 0, "n_estimators": 60, **params})  # type: ignore[arg-type]
        return model.fit(
            frame[["s", "z"]],
            frame["y"],
            treatment=frame["t"],
            groups=frame["campaign"],
            **(fit_args or {}),  # type: ignore[arg-type]
        )


def effect_error(model: UpliftModel, frame: pd.DataFrame) -> float:
    """Mean absolute error of each arm's mean effect among s=0 and among s=1."""
    by_s = model.predict_effects(frame[["s", "z"]]).groupby(frame["s"].to_numpy()).mean()
    return float((by_s - TRUE_EFFECT).abs().to_numpy().mean())


@pytest.mark.parametrize("seed", [0, 3])
def test_the_campaign_as_a_feature_keeps_the_season_out_of_the_effects(seed: int) -> None:
    # Without the campaign, the customers Christmas moves (s=1) are credited to offer x and
    # debited from y; re-centring fixes each offer's level only (measured: errors 0.069 / 0.069
    # without the feature, 0.030 / 0.035 with it).
    frame = seasons(seed)
    aware, blind = fit(frame), fit(frame, group_feature=False)
    assert aware.group_feature_ is not None and blind.group_feature_ is None
    assert effect_error(aware, frame) < 0.045
    assert effect_error(aware, frame) < 0.6 * effect_error(blind, frame)


def test_predictions_are_the_average_over_the_fitted_campaigns() -> None:
    frame = seasons()
    model = fit(frame)
    X = frame[["s", "z"]].iloc[:300]
    matrix = model._matrix(X)
    settings = model.group_feature_.settings()  # type: ignore[union-attr]
    assert [share for _, share, _ in settings] == pytest.approx([0.5, 0.5])
    parts = [
        model._predict(model.learner_, np.column_stack([matrix, np.full(300, v)]))
        for v, _, _ in settings
    ]
    baseline = sum(share * p[0] for (_, share, _), p in zip(settings, parts, strict=True))
    # each offer over the campaigns that sent it: x at Christmas (level 0), y in the normal month
    effects = np.column_stack([parts[0][1][:, 0], parts[1][1][:, 1]])
    assert list(model.arms_) == ["x", "y"]
    np.testing.assert_allclose(model.predict_baseline(X).to_numpy(), baseline)
    np.testing.assert_allclose(model.predict_effects(X).to_numpy(), effects)
    # and each campaign's own predictions differ: the season was learnt
    assert abs(parts[0][0].mean() - parts[1][0].mean()) > 0.05


def test_the_baseline_is_the_campaigns_average_not_the_control_rows_mix() -> None:
    # A busy campaign kept 80% of its rows as control, a quiet one 20%: the control rows are mostly
    # busy-season rows (a rate of 0.34), the campaigns' average is 0.25.
    rng = np.random.default_rng(1)
    parts = []
    for campaign, rate, control_share in (("busy", 0.40, 0.8), ("quiet", 0.10, 0.2)):
        n = 4000
        t = np.where(rng.uniform(size=n) < control_share, "control", "coupon")
        y = (rng.uniform(size=n) < rate + 0.03 * (t == "coupon")).astype(int)
        parts.append(
            pd.DataFrame(
                {
                    "s": rng.integers(0, 2, n),
                    "z": rng.normal(size=n),
                    "t": t,
                    "y": y,
                    "campaign": campaign,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    aware, blind = fit(frame), fit(frame, group_feature=False)
    assert aware.predict_baseline(frame[["s", "z"]]).mean() == pytest.approx(0.25, abs=0.02)
    assert blind.predict_baseline(frame[["s", "z"]]).mean() > 0.31


def _arms(n: int) -> np.ndarray:
    """Arm codes 0 (control), 1, 2 in turn."""
    return np.arange(n) % 3


def test_small_campaigns_share_one_level_and_too_few_add_no_column() -> None:
    # a nightly job's campaigns of a few dozen rows: nothing to tell apart
    nightly = np.repeat(np.arange(100), 40)
    assert GroupFeature.fit(nightly, _arms(len(nightly)), 3) is None
    # one large campaign and the rest, which together are large enough: two levels
    values = np.r_[np.repeat("big", GROUP_MIN_ROWS), np.repeat(np.arange(50).astype(str), 20)]
    feature = GroupFeature.fit(values, _arms(len(values)), 3)
    assert feature is not None and feature.groups == ("big",)
    assert feature.shares == pytest.approx([0.5, 0.5])
    column = feature.column(values)
    # the rest is a level of its own, not "missing" (the linear blend reads missing as its most
    # frequent level, which would merge the rest into the largest campaign)
    assert (column[:GROUP_MIN_ROWS] == 0).all() and (column[GROUP_MIN_ROWS:] == 1).all()
    # one campaign alone: nothing to tell apart
    assert GroupFeature.fit(np.repeat("only", 5000), _arms(5000), 3) is None


def test_many_large_nights_whose_largest_hold_few_rows_add_no_column() -> None:
    # a year of nightly sends of 1,200 rows each: the 19 largest nights hold 19% of the rows
    nights = np.repeat(np.arange(100), 1200)
    assert GroupFeature.fit(nights, _arms(len(nights)), 3) is None
    # the same nights next to two large campaigns that hold most rows: those are learnt
    values = np.r_[np.repeat(["spring", "xmas"], 70_000), nights[:12_000]]
    feature = GroupFeature.fit(values, _arms(len(values)), 3)
    assert feature is not None and {"spring", "xmas"} <= set(feature.groups)


def test_at_most_the_largest_campaigns_get_levels_and_shares_follow_the_rows() -> None:
    sizes = {f"c{k:02d}": GROUP_MIN_ROWS + 10 * k for k in range(MAX_GROUP_LEVELS + 3)}
    values = np.concatenate([np.repeat(name, size) for name, size in sizes.items()])
    feature = GroupFeature.fit(values, _arms(len(values)), 3)
    assert feature is not None
    assert len(feature.groups) == MAX_GROUP_LEVELS
    assert set(feature.groups) == set(sorted(sizes, key=sizes.__getitem__)[-MAX_GROUP_LEVELS:])
    assert feature.shares.sum() == pytest.approx(1.0)
    assert feature.shares[-1] == pytest.approx(sum(sorted(sizes.values())[:3]) / len(values))
    # with the rest, as many levels as the linear blend tells apart
    from loyalty_ml.models._uplift_linear import MAX_LEVELS

    assert len(feature.groups) + 1 == MAX_LEVELS


def test_each_offer_is_averaged_over_the_campaigns_that_sent_it_next_to_control_rows() -> None:
    # a: control and offer 1; b: control and offer 2; c (three times a's rows): offer 1, no control
    values = np.r_[np.repeat("a", 2000), np.repeat("b", 2000), np.repeat("c", 6000)]
    arm = np.r_[np.arange(2000) % 2, 2 * (np.arange(2000) % 2), np.ones(6000, dtype=int)]
    feature = GroupFeature.fit(values, arm, 3)
    assert feature is not None and feature.groups == ("c", "a", "b")
    assert feature.shares == pytest.approx([0.6, 0.2, 0.2, 0.0])  # rows, not weights
    # offer 1 only where it met control rows (a), offer 2 only in b
    np.testing.assert_allclose(feature.effect_weights[:3], [[0, 0], [1, 0], [0, 1]])
    assert [value for value, _, _ in feature.settings()] == [0.0, 1.0, 2.0]
    # an offer never sent next to control rows is averaged like the baseline
    lonely = GroupFeature.fit(values, np.r_[arm[:4000], np.full(6000, 3)], 4)
    assert lonely is not None
    np.testing.assert_allclose(lonely.effect_weights[:3, 2], [0.6, 0.2, 0.2])


def test_rows_without_a_group_are_a_level_of_their_own() -> None:
    values = np.r_[np.repeat("a", 1500), np.full(1500, None, dtype=object)]
    feature = GroupFeature.fit(values, _arms(3000), 3)
    assert feature is not None and len(feature.groups) == 2
    column = feature.column(values)
    assert set(column[:1500]) | set(column[1500:]) == {0.0, 1.0}
    assert len(set(column[:1500])) == len(set(column[1500:])) == 1


def test_group_feature_is_a_parameter_that_clone_and_pickle_keep() -> None:
    frame = seasons(n=1500)
    model = fit(frame)
    assert clone(model).get_params()["group_feature"] is True
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        again.predict_effects(frame[["s", "z"]]), model.predict_effects(frame[["s", "z"]])
    )
    # a model pickled before the parameter existed predicts as it was fitted: without it
    state = model.__dict__.copy()
    del state["group_feature"], state["group_feature_"]
    old = UpliftModel.__new__(UpliftModel)
    old.__setstate__(state)
    assert old.group_feature is False and old.group_feature_ is None
    with pytest.raises(ConfigError, match="group_feature"):
        UpliftModel(group_feature="yes").fit(  # type: ignore[arg-type]
            frame[["s", "z"]], frame["y"], treatment=frame["t"]
        )


def test_without_groups_nothing_changes() -> None:
    frame = seasons(n=1500)
    X, y, t = frame[["s", "z"]], frame["y"], frame["t"]
    on = UpliftModel(random_state=0, n_estimators=30).fit(X, y, treatment=t)
    off = UpliftModel(random_state=0, n_estimators=30, group_feature=False).fit(X, y, treatment=t)
    assert on.group_feature_ is None
    np.testing.assert_array_equal(on.predict_effects(X), off.predict_effects(X))


@pytest.mark.parametrize("learner", ["T", "X", "DR"])
def test_every_learner_fits_and_predicts_with_the_campaign(learner: str) -> None:
    frame = seasons(n=1500)
    model = fit(frame, learner=learner, n_bootstrap=2)
    assert model.group_feature_ is not None
    effects, std = model.predict_effects(frame[["s", "z"]], return_std=True)
    assert np.isfinite(effects.to_numpy()).all() and np.isfinite(std.to_numpy()).all()
    assert model.cost_calibration_ is not None


def test_estimated_propensities_see_the_campaign() -> None:
    frame = seasons(n=1500)
    model = fit(frame, n_estimators=30, fit_args={"propensity": "estimate"})
    # x was only sent at Christmas, y only in the normal month: each campaign's propensities say so
    matrix = model._matrix(frame[["s", "z"]].head(50))
    at_xmas = model._propensity(np.column_stack([matrix, np.zeros(50)]))
    at_normal = model._propensity(np.column_stack([matrix, np.ones(50)]))
    x = list(model.arm_summary_.index).index("x")
    assert at_xmas[:, x].mean() > 0.3 and at_normal[:, x].mean() < 0.05


@pytest.mark.parametrize("learner", ["S", "T", "DR"])
def test_each_offers_level_is_its_effect_where_it_was_sent(learner: str) -> None:
    # x was only sent at Christmas and y only in the normal month; both add 5 points everywhere.
    # Averaged over campaigns that never sent them, the S-learner's y read 0.023 (its shared
    # trees' guess for y at Christmas is about 0) and the T-learner's x 0.085 (x's own outcome
    # model only saw Christmas), which re-centring, measured where each offer was sent, kept,
    # against 0.072 and 0.048 measured in the campaigns that sent them.
    frame = seasons(0)
    model = fit(frame, learner=learner)
    levels = model.predict_effects(frame[["s", "z"]]).mean()
    measured = model.arm_summary_["average_effect"].loc[["x", "y"]]
    assert levels.to_numpy() == pytest.approx(measured.to_numpy(), abs=0.01)


def test_the_linear_blend_and_the_trees_read_the_campaign_as_a_category() -> None:
    # one large Christmas campaign and a nightly job's 100 campaigns of 30 rows (the rest)
    rng = np.random.default_rng(0)
    campaign = np.r_[np.repeat("big", 3000), np.repeat([f"night{i}" for i in range(100)], 30)]
    s = rng.integers(0, 2, len(campaign))
    t = np.where(rng.uniform(size=len(campaign)) < 0.5, "control", "coupon")
    season = np.where(campaign == "big", 0.30, 0.0) * s
    y = (rng.uniform(size=len(campaign)) < 0.15 + season + 0.05 * (t != "control")).astype(int)
    X = pd.DataFrame({"s": s, "z": rng.normal(size=len(campaign))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = UpliftModel(random_state=0, n_estimators=30, linear_weight=1.0).fit(
            X, y, treatment=t, groups=campaign
        )
    width = len(model.encoding_.feature_names)
    assert model._boosting_params().categorical[-1] == width  # the appended column
    matrix = model._matrix(X.head(200))
    linear = model.learner_.linear
    assert linear is not None
    at_big, _ = linear.predict(np.column_stack([matrix, np.zeros(200)]))
    at_rest, _ = linear.predict(np.column_stack([matrix, np.ones(200)]))
    assert float(np.mean(at_big - at_rest)) > 0.05  # Christmas bought more


def test_design_weights_do_not_move_the_campaigns_shares() -> None:
    # train_and_register weighs rows by 1 / their arm's share in the campaign, so a campaign's
    # summed weight grows with the offers it sent; the averaging weighs campaigns by their rows
    frame = seasons(n=2000)
    weight = np.where(frame["campaign"] == "xmas", 5.0, 1.0)
    model = fit(frame, n_estimators=20, fit_args={"sample_weight": weight})
    assert model.group_feature_ is not None
    assert dict(model.group_feature_.share_series()) == pytest.approx({"xmas": 0.5, "normal": 0.5})


def test_an_offer_a_campaign_never_sent_is_no_lack_of_overlap() -> None:
    # the propensity model sees the campaign, so rows of the normal month have no chance of x:
    # that is the pooled design, and every row was warned about as extrapolated
    from loyalty_ml import PoorOverlapWarning

    def overlap_warnings(frame: pd.DataFrame) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            UpliftModel(random_state=0, n_estimators=20).fit(
                frame[["s", "z"]],
                frame["y"],
                treatment=frame["t"],
                groups=frame["campaign"],
                propensity="estimate",
            )
        return [str(w.message) for w in caught if issubclass(w.category, PoorOverlapWarning)]

    frame = seasons(0, n=2000)
    assert overlap_warnings(frame) == []
    # a campaign that targeted its offer still warns: x only for s=1 customers at Christmas
    targeted = frame.copy()
    targeted.loc[(targeted["campaign"] == "xmas") & (targeted["s"] == 0), "t"] = "control"
    found = overlap_warnings(targeted)
    assert len(found) == 1 and "'x'" in found[0]
