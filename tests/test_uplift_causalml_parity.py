"""UpliftModel's T and X learners reproduce causalml's on the same data and LightGBM settings.

``_uplift_learners`` writes the meta-learners out instead of wrapping causalml (see its docstring for
why); this pins the claim that they follow causalml's definitions. The one intended difference is
that binary effects are clipped so that baseline + effect stays a probability; cells at a clip bound
are left out of the comparison. S and DR differ on purpose (one S model for all arms; multi-arm AIPW).
"""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from loyalty_ml.models.uplift import UpliftModel

causalml_meta = pytest.importorskip("causalml.inference.meta", reason="causalml is not installed")

N_ESTIMATORS = 40
# A fixed tree size for both sides (UpliftModel's default, "auto", depends on the arms' sizes).
TREE = {"num_leaves": 15, "min_child_samples": 100}
ARMS = ("t1", "t2")


def _data(binary: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 4000
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    t = rng.choice(["control", *ARMS], n, p=[0.4, 0.3, 0.3])
    signal = -1 + X["a"] + 0.5 * (t == "t1") * X["b"] + 0.3 * (t == "t2")
    if binary:
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-signal))).astype(float)
    else:
        y = np.exp(signal) * 20 + rng.normal(scale=5, size=n)
    return X, y, t


def _lgbm(classifier: bool) -> lgb.LGBMModel:
    """LightGBM with UpliftModel's default settings (n_estimators aside)."""
    m = UpliftModel()
    params = {
        "n_estimators": N_ESTIMATORS,
        "learning_rate": m.learning_rate,
        **TREE,
        "reg_lambda": m.reg_lambda,
        "random_state": 0,
        "verbose": -1,
    }
    return lgb.LGBMClassifier(**params) if classifier else lgb.LGBMRegressor(**params)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "continuous"])
@pytest.mark.parametrize("learner", ["T", "X"])
def test_matches_causalml(learner: str, binary: bool) -> None:
    X, y, t = _data(binary)
    # linear_weight=0: the meta-learner alone (small data would otherwise blend in the linear model)
    ours_model = UpliftModel(
        learner=learner,
        n_estimators=N_ESTIMATORS,
        random_state=0,
        linear_weight=0,
        recenter=False,  # causalml reports the learner's own effects
        **TREE,
    ).fit(X, y, treatment=t)
    ours = ours_model.predict_effects(X)[list(ARMS)].to_numpy()

    share = pd.Series(t).value_counts(normalize=True)
    p = {a: np.full(len(X), share[a] / (share[a] + share["control"])) for a in ARMS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # causalml's own deprecation chatter
        if learner == "T":
            cls = causalml_meta.BaseTClassifier if binary else causalml_meta.BaseTRegressor
            theirs_model = cls(learner=_lgbm(binary), control_name="control")
            theirs_model.fit(X.to_numpy(), treatment=t, y=y)
            theirs = theirs_model.predict(X.to_numpy())
        else:
            cls = causalml_meta.BaseXClassifier if binary else causalml_meta.BaseXRegressor
            kwargs = (
                {"outcome_learner": _lgbm(True), "effect_learner": _lgbm(False)}
                if binary
                else {"learner": _lgbm(False)}
            )
            theirs_model = cls(control_name="control", **kwargs)
            theirs_model.fit(X.to_numpy(), treatment=t, y=y, p=p)
            theirs = theirs_model.predict(X.to_numpy(), p=p)
    assert list(theirs_model.t_groups) == list(ARMS)

    compared = np.ones_like(ours, dtype=bool)
    if binary:
        baseline = ours_model.predict_baseline(X).to_numpy()[:, None]
        compared = ~(np.isclose(ours, -baseline) | np.isclose(ours, 1 - baseline))
        assert compared.mean() > 0.99
    np.testing.assert_allclose(ours[compared], theirs[compared], rtol=0, atol=1e-9)
