"""Category levels written another way at predict than at fit ("Gold" for "gold").

Another export, or a cleaning step changed since training, writes the fitted levels in another
case or with blanks; both models read them as levels never seen (missing), which moved every
such customer's score with no word. A level new since the fit (a new store) stays quiet: that is
the normal life of a model, not a spelling.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning


def _table(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.Index(range(n), name="customer_id")
    tier = rng.choice(["gold", "silver", "bronze"], n)
    X = pd.DataFrame({"x": rng.normal(size=n), "tier": tier}, index=index)
    t = pd.Series(rng.choice(["control", "a"], n), index=index)
    p = 0.2 + 0.2 * (tier == "gold") + 0.1 * (t == "a")
    y = pd.Series((rng.random(n) < p).astype(int), index=index)
    return X, y, t


def _quiet(call: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        call()  # type: ignore[operator]


@pytest.mark.parametrize("spelt", ["Gold", "GOLD ", " gold"])
def test_churn_model_warns_of_fitted_levels_written_another_way(spelt: str) -> None:
    X, y, _ = _table()
    X = X.assign(tier=X["tier"].astype("category"))  # ChurnModel takes text as category
    model = lml.ChurnModel(n_estimators=20, random_state=0).fit(X, y)

    def tier(new: str) -> pd.DataFrame:
        return X.assign(tier=X["tier"].astype(str).replace("gold", new).astype("category"))

    with pytest.warns(
        DataQualityWarning, match=rf"'tier' holds \d+ rows .*'{spelt}' \(fitted: 'gold'\)"
    ):
        model.predict_proba(tier(spelt))
    _quiet(lambda: model.predict_proba(tier("platinum")))
    _quiet(lambda: model.predict_proba(X))


@pytest.mark.parametrize("dtype", ["object", "category"])
def test_uplift_model_warns_of_fitted_levels_written_another_way(dtype: str) -> None:
    X, y, t = _table()
    model = lml.UpliftModel(n_estimators=10, cost_folds=0, random_state=0).fit(X, y, treatment=t)
    later = X.assign(tier=X["tier"].replace("silver", "Silver").astype(dtype))
    with pytest.warns(DataQualityWarning, match=r"'Silver' \(fitted: 'silver'\)"):
        model.predict_effects(later)
    _quiet(lambda: model.predict_effects(X.assign(tier=X["tier"].astype(dtype))))
    # a category listed but used by no row says nothing
    unused = pd.Categorical(X["tier"], categories=["bronze", "gold", "silver", "Silver"])
    _quiet(lambda: model.predict_effects(X.assign(tier=unused)))
