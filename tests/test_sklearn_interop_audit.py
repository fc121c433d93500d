"""Audit: ChurnModel and UpliftModel used as a data scientist uses scikit-learn models in a notebook.

Audited (simulator with 600 customers, 4 stacked cutoffs, small ``n_estimators``): ``clone``,
``get_params``/``set_params`` (also nested in a ``Pipeline``), ``repr``; ``Pipeline`` and
``ColumnTransformer`` (SimpleImputer, OneHotEncoder; ndarray and pandas output) in front of
ChurnModel, with feature names and reason codes; ``cross_validate``/``cross_val_predict``/
``GridSearchCV``/``RandomizedSearchCV`` on the (as_of, customer_id) training table, with
``GroupKFold`` by cutoff and a hand-made time-aware split, ``scoring="roc_auc"``/``"neg_log_loss"``,
``n_jobs=2``; ``CalibratedClassifierCV`` (also on a ``FrozenEstimator``), ``permutation_importance``,
``partial_dependence``/``PartialDependenceDisplay``; ``sample_weight`` as scikit-learn passes it;
UpliftModel with ``clone``, ``set_params``, tags, ``GridSearchCV`` with and without metadata
routing of ``treatment=``, and a joblib round trip into a new process. TriggerPolicy is a frozen
dataclass, not an estimator, and claims no scikit-learn conventions: not audited here.

Found right (guards): clone/params/repr, nested ``set_params`` reaching the booster; a pandas-output
Pipeline/ColumnTransformer keeps the (as_of, customer_id) index, so the inner hold-out stays
time-aware, feature names flow through and ``explain`` words the encoded columns; with ndarray output
ChurnModel falls back to the random hold-out its docstring announces and records it in
``validation_``; every CV fold's model keeps its time-aware inner split (the *outer* folds are
whatever ``cv`` the user passes: KFold/TimeSeriesSplit put later cutoffs in training, which no
library can see; a split by cutoff with the label-horizon gap works with GridSearchCV);
``cross_val_predict`` matches per-fold fits; ``n_jobs=2`` gives the same scores; calibration,
permutation importance and partial dependence work (PD rises with ``recency_days``, as the
monotone constraint promises); ``sample_weight`` (refused with a TypeError until session 42, when
``ChurnModel.fit`` took it) reaches each fold's fit and CalibratedClassifierCV's; UpliftModel routes ``treatment`` per
fold (metadata routing, or legacy fit params) and reloads in a new process with equal effects.

Defects, written first as strict xfails; all four are fixed and are now regression tests (1 by a
clear refusal: keeping the churn word second in ``classes_`` made ``predict_proba[:, 1]`` P(churn)
for every spelling but broke scikit-learn's sorted-``classes_`` contract, and sorting them would
move P(churn) to column 0, so ``fit`` now refuses such labels with a DataError saying to pass 0/1):
1. ChurnModel with text labels that name churn (``"churned"``/``"kept"``) stores
   ``classes_ == ['kept', 'churned']``, not sorted as scikit-learn requires: ``scoring="roc_auc"``
   returns 1 - AUC and ``"neg_log_loss"`` a wrong loss, silently; ``CalibratedClassifierCV`` fails
   with a raw IndexError.
2. ``ChurnModel.explain`` on a model fitted without feature names (an ndarray, e.g. after a
   default-output Pipeline step) raises a raw ``KeyError: 'x0'``.
3. ``ChurnModel.shap_values`` / ``plot_shap_summary`` given an ndarray raise a raw
   ``AttributeError: 'numpy.ndarray' object has no attribute 'index'`` (``explain`` gives a clear
   SchemaError for the same input).
4. ``UpliftModel.__sklearn_tags__`` says ``allow_nan=False`` and ``string=False`` although
   ``fit``/``predict_effects`` accept NaN and text feature columns (its docstring: "numeric,
   boolean, text or category columns").
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import joblib
import matplotlib
import numpy as np
import pandas as pd
import pytest
import sklearn
from sim_tables import simulated_tables
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.inspection import PartialDependenceDisplay, partial_dependence, permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    RandomizedSearchCV,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.metadata_routing import MetadataRequest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataError, SchemaError

matplotlib.use("Agg")

FAST: dict[str, Any] = {"n_estimators": 30, "min_child_samples": 20, "random_state": 0}
UPLIFT_FAST: dict[str, Any] = {"n_estimators": 15, "min_arm_rows": 20, "random_state": 0}
#: Folds of a few hundred rows cap FAST's 20 rows a leaf (at 19 on 193 rows), which fit says.
CAPPED_LEAVES = (
    "ignore:ChurnModel.fit. min_child_samples=20 is more than a tenth"
    ":loyalty_ml.exceptions.DataQualityWarning"
)


@pytest.fixture(scope="module")
def tables() -> dict[str, Any]:
    return simulated_tables(600, n_cutoffs=4)


@pytest.fixture(scope="module")
def fitted(tables: dict[str, Any]) -> lml.ChurnModel:
    return lml.ChurnModel(**FAST).fit(tables["X_train"], tables["y_train"])


def _numeric(X: pd.DataFrame) -> pd.DataFrame:
    return X.select_dtypes("number")


def _cutoff_groups(X: pd.DataFrame) -> np.ndarray:
    return np.asarray(X.index.get_level_values("as_of"))


# -- 1. clone, params, repr ------------------------------------------------------------------------
def test_clone_params_repr_and_nested_set_params(tables: dict[str, Any]) -> None:
    model = lml.ChurnModel(num_leaves=15, subsample=0.7)
    assert repr(model) == "ChurnModel(num_leaves=15, subsample=0.7)"
    twin = clone(model)
    assert twin is not model and twin.get_params() == model.get_params()
    assert model.set_params(num_leaves=3) is model and model.num_leaves == 3
    with pytest.raises(ValueError, match=r"Invalid parameter 'nope' for estimator ChurnModel"):
        model.set_params(nope=1)

    pipe = Pipeline(
        [("imp", SimpleImputer().set_output(transform="pandas")), ("model", lml.ChurnModel(**FAST))]
    )
    pipe.set_params(model__num_leaves=3, model__n_estimators=12, model__early_stopping_rounds=None)
    assert pipe.get_params()["model__num_leaves"] == 3
    pipe.fit(_numeric(tables["X_train"]), tables["y_train"])
    trees = pipe[-1].booster_.dump_model()["tree_info"]
    assert len(trees) == 12 and max(t["num_leaves"] for t in trees) <= 3
    refit = clone(pipe)
    assert refit.get_params()["model__num_leaves"] == 3
    assert not hasattr(refit[-1], "booster_")


# -- 2. Pipeline / ColumnTransformer in front ------------------------------------------------------
def test_pandas_output_pipeline_keeps_time_split_names_and_reasons(tables: dict[str, Any]) -> None:
    X_train, X = _numeric(tables["X_train"]), _numeric(tables["X"])
    pipe = Pipeline(
        [("imp", SimpleImputer().set_output(transform="pandas")), ("model", lml.ChurnModel(**FAST))]
    )
    pipe.fit(X_train, tables["y_train"])
    model = pipe[-1]
    assert model.validation_["split"].startswith("time: latest 1 cutoff(s)")
    assert list(model.feature_names_in_) == list(X_train.columns)
    p = pipe.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1.0)
    reasons = model.explain(pipe[:-1].transform(X.head(20)))
    assert reasons.index.equals(X.head(20).index)
    assert set(reasons["reason_1_feature"].dropna()) <= set(X_train.columns)
    assert reasons["reason_1"].notna().any()


def test_one_hot_column_transformer_with_pandas_output(tables: dict[str, Any]) -> None:
    X_train, X = tables["X_train"], tables["X"]
    prep = ColumnTransformer(
        [("oh", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["tier"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    pipe = Pipeline([("prep", prep), ("model", lml.ChurnModel(**FAST))])
    pipe.fit(X_train, tables["y_train"])
    model = pipe[-1]
    assert model.validation_["split"].startswith("time: latest 1 cutoff(s)")
    names = list(model.feature_names_in_)
    assert names[:3] == ["tier_basic", "tier_gold", "tier_silver"]
    assert names == list(pipe[0].get_feature_names_out())
    assert pipe.predict_proba(X).shape == (len(X), 2)
    reasons = model.explain(pipe[0].transform(X.head(20)))
    assert set(reasons["reason_1_feature"].dropna()) <= set(names)


def test_ndarray_output_pipeline_uses_the_documented_random_holdout(
    tables: dict[str, Any],
) -> None:
    # ChurnModel.fit docstring: "or a NumPy array ... a stratified random validation_fraction of
    # rows is held out; this fallback is **not** time-aware" -- and validation_ says so.
    pipe = Pipeline([("imp", SimpleImputer()), ("model", lml.ChurnModel(**FAST))])
    pipe.fit(_numeric(tables["X_train"]), tables["y_train"])
    model = pipe[-1]
    assert model.validation_["split"] == "stratified random (not time-aware)"
    assert not model.validation_["cutoff_offsets"]
    assert not hasattr(model, "feature_names_in_")
    assert pipe.predict_proba(_numeric(tables["X"])).shape == (len(tables["X"]), 2)


# -- 3. model selection on the stacked table -------------------------------------------------------
def test_every_cv_fold_keeps_the_inner_time_aware_holdout(tables: dict[str, Any]) -> None:
    out = cross_validate(
        lml.ChurnModel(**FAST),
        tables["X_train"],
        tables["y_train"],
        cv=3,
        scoring=["roc_auc", "neg_log_loss"],
        return_estimator=True,
    )
    splits = [est.validation_["split"] for est in out["estimator"]]
    assert all(s.startswith("time: latest 1 cutoff(s)") for s in splits), splits
    assert np.all((out["test_roc_auc"] > 0.7) & (out["test_roc_auc"] <= 1.0))
    assert np.all(out["test_neg_log_loss"] < 0)


@pytest.mark.filterwarnings(CAPPED_LEAVES)
def test_grid_and_randomized_search_with_time_aware_folds(tables: dict[str, Any]) -> None:
    X_train, y_train = tables["X_train"], tables["y_train"]
    cutoffs = _cutoff_groups(X_train)
    distinct = np.unique(cutoffs)
    # expanding window with the label-horizon gap: what tune_churn_model does, as a cv= list
    folds = [
        (
            np.flatnonzero(cutoffs <= test - np.timedelta64(90, "D")),
            np.flatnonzero(cutoffs == test),
        )
        for test in distinct[-2:]
    ]
    assert all(len(train) and len(test) for train, test in folds)
    grid = GridSearchCV(
        lml.ChurnModel(**FAST), {"num_leaves": [3, 7]}, cv=folds, scoring="roc_auc"
    ).fit(X_train, y_train)
    assert grid.best_params_["num_leaves"] in (3, 7)
    assert np.all(grid.cv_results_["mean_test_score"] > 0.7)
    assert grid.best_estimator_.predict_proba(tables["X"]).shape == (len(tables["X"]), 2)

    search = RandomizedSearchCV(
        lml.ChurnModel(**FAST),
        {"learning_rate": [0.05, 0.1], "num_leaves": [3, 5]},
        n_iter=2,
        cv=GroupKFold(2),
        scoring="neg_log_loss",
        random_state=0,
    ).fit(X_train, y_train, groups=cutoffs)
    assert np.all(search.cv_results_["mean_test_score"] < 0)


def test_cross_val_predict_matches_per_fold_fits(tables: dict[str, Any]) -> None:
    X_train, y_train = tables["X_train"], tables["y_train"]
    cv = GroupKFold(2)
    groups = _cutoff_groups(X_train)
    p = cross_val_predict(
        lml.ChurnModel(**FAST), X_train, y_train, cv=cv, groups=groups, method="predict_proba"
    )
    assert p.shape == (len(X_train), 2) and np.allclose(p.sum(axis=1), 1.0)
    for train, test in cv.split(X_train, y_train, groups):
        model = lml.ChurnModel(**FAST).fit(X_train.iloc[train], y_train.iloc[train])
        np.testing.assert_allclose(p[test], model.predict_proba(X_train.iloc[test]))


def test_n_jobs_2_pickles_across_processes_and_gives_the_same_scores(
    tables: dict[str, Any],
) -> None:
    X_train, y_train = tables["X_train"], tables["y_train"]
    groups = _cutoff_groups(X_train)
    kw: dict[str, Any] = {"cv": GroupKFold(2), "groups": groups, "scoring": "roc_auc"}
    serial = cross_val_score(lml.ChurnModel(**FAST), X_train, y_train, **kw)
    parallel = cross_val_score(lml.ChurnModel(**FAST), X_train, y_train, n_jobs=2, **kw)
    np.testing.assert_allclose(parallel, serial)


# -- 4. calibration and inspection -----------------------------------------------------------------
@pytest.mark.filterwarnings(CAPPED_LEAVES)
def test_calibrated_classifier_cv_wraps_churn_model(
    tables: dict[str, Any], fitted: lml.ChurnModel
) -> None:
    X_train, y_train, X = tables["X_train"], tables["y_train"], tables["X"]
    calibrated = CalibratedClassifierCV(lml.ChurnModel(**FAST), cv=2).fit(X_train, y_train)
    assert list(calibrated.classes_) == [0, 1]
    p = calibrated.predict_proba(X)
    assert p.shape == (len(X), 2) and np.all((p >= 0) & (p <= 1))
    frozen = CalibratedClassifierCV(FrozenEstimator(fitted), method="isotonic")
    assert frozen.fit(X_train, y_train).predict_proba(X).shape == (len(X), 2)


def test_permutation_importance_and_partial_dependence(
    tables: dict[str, Any], fitted: lml.ChurnModel
) -> None:
    X_train, y_train = tables["X_train"], tables["y_train"]
    result = permutation_importance(
        fitted,
        X_train,
        y_train,
        scoring="roc_auc",
        n_repeats=1,
        max_samples=0.5,
        random_state=0,
    )
    importance = pd.Series(result.importances_mean, index=X_train.columns)
    assert importance.idxmax() == "recency_days"

    pd_num = partial_dependence(fitted, X_train, ["recency_days"], grid_resolution=8)
    curve = pd_num["average"][0]
    assert curve.shape == (8,) and np.all(np.diff(curve) >= -1e-12)  # monotone=True: risk rises
    assert curve[-1] > curve[0]
    pd_cat = partial_dependence(fitted, X_train, ["tier"], categorical_features=["tier"])
    assert list(pd_cat["grid_values"][0]) == ["basic", "gold", "silver"]
    display = PartialDependenceDisplay.from_estimator(
        fitted, X_train, ["recency_days", "n_orders"], grid_resolution=5
    )
    assert display.axes_.size == 2
    matplotlib.pyplot.close(display.figure_)


# -- 6. sample_weight -------------------------------------------------------------------------------
@pytest.mark.filterwarnings(CAPPED_LEAVES)
def test_sample_weight_flows_as_scikit_learn_passes_it(tables: dict[str, Any]) -> None:
    """Since session 42 ChurnModel.fit takes sample_weight (it was refused with a TypeError)."""
    X_train, y_train = tables["X_train"], tables["y_train"]
    weight = np.where(X_train["n_orders"].to_numpy() > 2, 3.0, 1.0)
    plain = cross_val_score(lml.ChurnModel(**FAST), X_train, y_train, cv=2, scoring="roc_auc")
    weighted = cross_val_score(
        lml.ChurnModel(**FAST),
        X_train,
        y_train,
        cv=2,
        scoring="roc_auc",
        params={"sample_weight": weight},
    )
    assert np.isfinite(weighted).all() and not np.allclose(plain, weighted)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "does not accept sample_weight"
        warnings.filterwarnings("ignore", "ChurnModel.fit: min_child_samples=20 is more than")
        calibrated = CalibratedClassifierCV(lml.ChurnModel(**FAST), cv=2).fit(
            X_train, y_train, sample_weight=weight
        )
    assert calibrated.predict_proba(X_train).shape == (len(X_train), 2)


# -- 5. UpliftModel ---------------------------------------------------------------------------------
def test_uplift_params_clone_and_errors(tables: dict[str, Any]) -> None:
    model = lml.UpliftModel(learner="T", num_leaves=5)
    assert repr(model) == "UpliftModel(learner='T', num_leaves=5)"
    assert model.get_params(deep=True) == model.get_params(deep=False)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(
        ValueError, match=r"Invalid parameter 'treatment' for estimator UpliftModel"
    ):
        model.set_params(treatment="x")
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'treatment'"):
        lml.UpliftModel(**UPLIFT_FAST).fit(tables["X_exp"], tables["y_exp"])


class _QiniScorer:
    """A scorer that asks for ``treatment`` through scikit-learn's metadata routing."""

    def __init__(self) -> None:
        self.aligned: list[bool] = []

    def get_metadata_routing(self) -> MetadataRequest:
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="treatment", alias=True)
        return request

    def __call__(
        self, estimator: lml.UpliftModel, X: pd.DataFrame, y: pd.Series, treatment: pd.Series
    ) -> float:
        self.aligned.append(treatment.index.equals(X.index))
        return float(np.mean(lml.qini_auc_score(y, treatment, estimator.predict_effects(X))))


def test_uplift_grid_search_routes_treatment_per_fold(tables: dict[str, Any]) -> None:
    X_exp, y_exp, t_exp = tables["X_exp"], tables["y_exp"], tables["t_exp"]
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = _QiniScorer()
        model = lml.UpliftModel(**UPLIFT_FAST).set_fit_request(treatment=True)
        grid = GridSearchCV(model, {"learner": ["S", "T"]}, cv=2, scoring=scorer)
        grid.fit(X_exp, y_exp, treatment=t_exp)
        assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
        assert scorer.aligned and all(scorer.aligned)
        assert list(grid.best_estimator_.arms_) == sorted(set(t_exp) - {"control"})
        with pytest.raises(ValueError, match=r"UpliftModel.set_fit_request"):
            GridSearchCV(
                lml.UpliftModel(**UPLIFT_FAST), {"learner": ["S"]}, cv=2, scoring=scorer
            ).fit(X_exp, y_exp, treatment=t_exp)
    # routing off: fit parameters are sliced per fold and passed on (scikit-learn's legacy path)
    legacy = GridSearchCV(
        lml.UpliftModel(**UPLIFT_FAST),
        {"learner": ["S"]},
        cv=2,
        scoring=lambda est, X, y: float(est.predict_baseline(X).mean()),
    ).fit(X_exp, y_exp, treatment=t_exp)
    assert np.isfinite(legacy.best_score_)


def test_uplift_joblib_round_trip_in_a_new_process(tables: dict[str, Any], tmp_path: Path) -> None:
    X, X_exp = tables["X"], tables["X_exp"]
    model = lml.UpliftModel(**UPLIFT_FAST).fit(X_exp, tables["y_exp"], treatment=tables["t_exp"])
    joblib.dump(model, tmp_path / "uplift.joblib")
    X.head(50).to_pickle(tmp_path / "X.pkl")
    code = (
        "import joblib, pandas as pd, sys; d = sys.argv[1]; "
        "m = joblib.load(d + '/uplift.joblib'); X = pd.read_pickle(d + '/X.pkl'); "
        "m.predict_effects(X).to_pickle(d + '/effects.pkl')"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    pd.testing.assert_frame_equal(
        pd.read_pickle(tmp_path / "effects.pkl"), model.predict_effects(X.head(50))
    )


# -- defects ----------------------------------------------------------------------------------------
def _text_labels(y: pd.Series) -> pd.Series:
    return y.map({1: "churned", 0: "kept"})


def test_text_churn_labels_score_like_0_1_labels(tables: dict[str, Any]) -> None:
    X_train, y_train = tables["X_train"], tables["y_train"]
    kw: dict[str, Any] = {
        "cv": GroupKFold(2),
        "groups": _cutoff_groups(X_train),
        "scoring": ["roc_auc", "neg_log_loss"],
        "error_score": "raise",
    }
    numeric = cross_validate(lml.ChurnModel(**FAST), X_train, y_train, **kw)
    try:
        text = cross_validate(lml.ChurnModel(**FAST), X_train, _text_labels(y_train), **kw)
    except DataError as exc:  # a clear refusal of unsortable churn words is also a fix
        assert "churned" in str(exc)
        return
    for key in ("test_roc_auc", "test_neg_log_loss"):
        np.testing.assert_allclose(text[key], numeric[key], rtol=1e-9, err_msg=key)


def test_calibrated_classifier_cv_with_text_churn_labels(tables: dict[str, Any]) -> None:
    X_train, y_train = tables["X_train"], tables["y_train"]
    text = _text_labels(y_train)
    try:
        calibrated = CalibratedClassifierCV(lml.ChurnModel(**FAST), cv=2).fit(X_train, text)
    except DataError as exc:  # a clear refusal is also a fix
        assert "churned" in str(exc)
        return
    column = list(calibrated.classes_).index("churned")
    p = calibrated.predict_proba(X_train)[:, column]
    assert roc_auc_score(text == "churned", p) > 0.8


# scikit-learn's own warning for a DataFrame given to a model fitted on an array comes first
@pytest.mark.filterwarnings("ignore:X has feature names:UserWarning")
def test_explain_on_a_model_fitted_on_an_array_fails_clearly(tables: dict[str, Any]) -> None:
    X_train, X = _numeric(tables["X_train"]), _numeric(tables["X"])
    model = lml.ChurnModel(**FAST).fit(X_train.to_numpy(), tables["y_train"].to_numpy())
    with pytest.raises(SchemaError, match=r"feature names"):
        model.explain(X.head(5))


@pytest.mark.parametrize("method", ["shap_values", "plot_shap_summary"])
def test_shap_methods_refuse_arrays_clearly(tables: dict[str, Any], method: str) -> None:
    X_train, X = _numeric(tables["X_train"]), _numeric(tables["X"])
    model = lml.ChurnModel(**FAST).fit(X_train.to_numpy(), tables["y_train"].to_numpy())
    with pytest.raises(SchemaError, match=r"DataFrame"):
        getattr(model, method)(X.head(5).to_numpy())


def test_uplift_tags_match_the_inputs_it_accepts(tables: dict[str, Any]) -> None:
    X_exp = tables["X_exp"].copy()
    X_exp.iloc[::7, X_exp.columns.get_loc("recency_days")] = np.nan
    X_exp["text"] = np.where(np.arange(len(X_exp)) % 2, "a", "b")
    model = lml.UpliftModel(**UPLIFT_FAST).fit(X_exp, tables["y_exp"], treatment=tables["t_exp"])
    assert np.isfinite(model.predict_effects(X_exp).to_numpy()).all()  # accepted: NaN and text
    tags = model.__sklearn_tags__().input_tags
    assert tags.allow_nan and tags.string
