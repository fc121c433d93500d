"""Audit of ``UpliftModel(purpose="ranking" | "decisions")`` and its users.

Checked: auto_tree_size over arm sizes from 0 to 10**9 rows (caps: an eighth of all rows, half /
a quarter of the smallest arm); every learner (S, T, X, DR), binary and continuous outcomes,
bootstrap refits, propensity="estimate" and fit(groups=) (the size of every LightGBM base learner);
explicit num_leaves / min_child_samples; get_params / set_params / clone / repr / GridSearchCV /
__sklearn_tags__; refusal of None, "Decisions", 1, "ranking " and a list at fit (not __init__); a
pickle from before the parameter; the offer model as train_and_register fits it (design weights,
groups, backtest) on two pooled campaigns of 24,000 rows, where the purposes differ; one real
train_and_register run on an embedded MLflow store (logged uplift_purpose, uplift_num_leaves,
uplift_min_child_samples, the registered policy's model); models/train_config.json; the README,
the class docstring, models/loyalty_ml_policy.md and the benchmarks the documents quote.

Right (guards below): "decisions" is (4, min(1000, n/8, smallest arm/2 or /4)), the same as
"ranking" up to 2,000 rows per arm and never finer above; every base learner and bootstrap refit
of every learner gets it, num_leaves_ / min_child_samples_ report it and each tree has at most 4
leaves; an int size is used as given whatever the purpose; scikit-learn conventions hold
(GridSearchCV over purpose picks and refits it); bad values are stored by __init__ and refused by
fit with a ConfigError (a ValueError) naming the value and the allowed ones; an old pickle reads
as "ranking", predicts the same and refits to the same (6, 560); train_and_register defaults to
"decisions", logs uplift_purpose and every other parameter, logs the size it used, and registers
the same model; the shipped train config asks for "decisions".

Defects, written first as strict xfails; all fixed on 2026-12-02 and kept as regression tests:

1. auto_tree_size does not validate purpose: "Decisions", None, 1, "decision" silently give the
   ranking size, (15, 100) instead of (4, 1000) at 10,700 rows per arm (uplift.py:154).
2. train_and_register checks uplift_params only when the offer model is fitted, after the training
   table, two churn fits and the drift features (2.3 s on 600 simulated customers; minutes at
   production size), although it checks its other settings up front "before minutes of training".
3. "4 leaves of at least 1,000 rows" is not what LightGBM enforces: it counts a leaf's rows from
   its hessians, which sample_weight scales; the offer model as train_and_register fits it (design
   weights) has leaves of 738 rows in 20 of 100 trees; unweighted fits showed 656-940.
4. "On the response surfaces, where most arms are small enough for 'auto' to give the same trees"
   (class docstring, README) is false for bench_offer_surface.py's own design: 15 of 45 fits.
5. The model card quotes simulator figures (67-79% of the oracle's value) for the policy's offer
   model, but bench_offer_plan.py measures purpose="ranking": (5, 799) trees on its design against
   the policy's (4, 1000).
6. The model card says "4 leaves of up to 1,000 rows" (README / docstring: "at least"); leaves
   hold up to 20,105 rows.
7. The README quickstart and notebook 02 plan offers with the ranking default.

Fixes: auto_tree_size refuses an unknown purpose; train_and_register checks churn_params and
uplift_params (unknown keys, invalid values) before any work; the documents say
"min_child_samples 1,000" and why a leaf can hold fewer, give the surfaces' 30 of 45 coarser fits,
quote the simulator's decision-sized run in the model card, and call min_child_samples a floor;
the quickstart keeps the ranking default (the measurements favour "decisions" on Hillstrom only,
within a point elsewhere) and says next to the call what purpose="decisions" does.

Runtime 25-35 s on shared cores (one train_and_register run on 600 simulated customers: 10 s).
"""

from __future__ import annotations

import json
import pickle
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from loyalty_ml.cli import read_train_config
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.models.uplift import UpliftModel, auto_tree_size
from loyalty_ml.policy.catalog import OfferCatalog
from loyalty_ml.tracking._offers import _fit as fit_offer_model

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RESULTS = REPO / "experiments" / "RESULTS.md"
MODEL_CARD = REPO / "models" / "loyalty_ml_policy.md"
MLFLOW_IMPORT_WARNING = "ignore:.*Any type hint is inferred as AnyType:UserWarning"
FAST = {"n_estimators": 5, "n_jobs": 1, "random_state": 0, "progress": False}


# -- data ------------------------------------------------------------------------------------------
def _experiment(
    rows_per_arm: int, *, seed: int = 0, continuous: bool = False
) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """A randomised experiment with exactly ``rows_per_arm`` rows in each of three arms."""
    rng = np.random.default_rng(seed)
    arms = np.array(["control", "coupon", "sms"], dtype=object)
    n = rows_per_arm * len(arms)
    X = pd.DataFrame(
        {
            "recency": rng.uniform(0, 1, n),
            "spend": rng.normal(size=n),
            "channel": rng.choice(["web", "store"], n),
        }
    )
    t = rng.permutation(np.repeat(arms, rows_per_arm))
    p = 0.2 + 0.15 * (t == "coupon") * X["recency"].to_numpy() + 0.05 * (t == "sms")
    if continuous:
        y = pd.Series(40 * p + rng.normal(0, 5, n))
    else:
        y = pd.Series((rng.uniform(size=n) < p).astype(int))
    return X, y, t


@pytest.fixture(scope="module")
def exp3k() -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    # 3 x 3,000 rows: where the purposes differ ("ranking" (6, 560); "decisions" (4, 1000) for S,
    # (4, 750) for the learners with a model per arm, capped at a quarter of the smallest arm)
    return _experiment(3_000)


@pytest.fixture(scope="module")
def pooled() -> tuple[pd.DataFrame, pd.Series, pd.Series, np.ndarray]:
    """Two randomised campaigns as train_and_register pools them: 50% and 10% control."""
    rng = np.random.default_rng(1)
    n = 24_000
    key = np.repeat([0, 1], n // 2)
    control = rng.uniform(size=n) < np.where(key == 0, 0.5, 0.1)
    t = pd.Series(np.where(control, "control", "coupon"))
    X = pd.DataFrame({"recency": rng.uniform(0, 1, n), "spend": rng.normal(size=n)})
    p = 0.15 + 0.1 * X["recency"] + 0.05 * (~control) * X["recency"] + 0.05 * key
    y = pd.Series((rng.uniform(size=n) < p).astype(int))
    return X, y, t, key


def _offer_training(pooled: tuple, purpose: str) -> Any:
    """The offer model as train_and_register fits it (design weights, groups, backtest)."""
    X, y, t, key = pooled
    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["coupon"], "cost_per_redemption": [5.0]})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_offer_model(
            X,
            y,
            t,
            key,
            catalog=catalog,
            params={"random_state": 0, "n_jobs": 1, "purpose": purpose},
        )


@pytest.fixture(scope="module")
def offer_trainings(pooled: tuple) -> dict[str, Any]:
    return {p: _offer_training(pooled, p) for p in ("ranking", "decisions")}


def _boosters(learner: Any) -> list[Any]:
    """Every LightGBM model of a fitted meta-learner (constants left out)."""
    outcomes = [*learner.baseline_models, *(m for arm in learner.effect_models for m in arm)]
    return [o.model for o in outcomes if hasattr(o.model, "get_params")]


def _leaves(model: UpliftModel) -> pd.DataFrame:
    """Leaves of the baseline booster: tree_index and count (training rows in the leaf)."""
    frame = model.learner_.baseline_models[0].model.booster_.trees_to_dataframe()
    return frame.loc[frame["left_child"].isna(), ["tree_index", "count"]]


# == guards: behaviour that is right =================================================================
def test_auto_tree_size_decisions_is_the_small_end_with_the_same_caps() -> None:
    """Class docstring / README: "4 leaves of at least 1,000 rows at every size (same limits)":
    min_child_samples = min(1000, an eighth of all rows, half the smallest arm (a quarter with a
    model per arm)), never below 1; and up to 2,000 rows per arm the same as "ranking"."""
    for m in (0, 1, 7, 50, 300, 586, 1_600, 2_000, 2_001, 3_000, 10_700, 500_000, 10**9):
        for n in (max(m, 1), 2 * m + 3, 3 * m, 10 * m + 1, 40 * m + 8):
            for per_arm in (False, True):
                cap = min(n // 8, max(m, 0) // (4 if per_arm else 2))
                want = (4, max(1, min(1000, cap)))
                got = auto_tree_size(m, n, per_arm_models=per_arm, purpose="decisions")
                assert got == want, (m, n, per_arm)
                ranking = auto_tree_size(m, n, per_arm_models=per_arm)
                # never finer than "ranking": as many leaves or fewer, leaves as large or larger
                assert got[0] <= ranking[0] and got[1] >= ranking[1], (m, n, per_arm)
                if m <= 2_000:
                    assert got == ranking, (m, n, per_arm)
    assert auto_tree_size(10_700, 32_000) == (15, 100)
    assert auto_tree_size(10_700, 32_000, purpose="decisions") == (4, 1000)
    assert auto_tree_size(3_000, 6_000, purpose="decisions") == (4, 750)  # an eighth of all rows
    assert auto_tree_size(1_600, 8_000, purpose="decisions", per_arm_models=True) == (4, 400)


@pytest.mark.parametrize(
    ("learner", "continuous", "propensity"),
    [
        ("S", False, None),
        ("T", False, None),
        ("X", False, "estimate"),
        ("DR", False, None),
        ("S", True, "estimate"),
        ("X", True, None),
    ],
)
def test_every_learner_and_refit_uses_the_decision_size(
    learner: str, continuous: bool, propensity: str | None
) -> None:
    """Every LightGBM base learner (S's model; T's, X's and DR's per-arm, effect and fold models;
    every bootstrap refit) gets the decision size, for binary and continuous outcomes, with
    propensity="estimate" and fit(groups=); num_leaves_/min_child_samples_ report it."""
    X, y, t = _experiment(3_000, continuous=continuous)
    groups = np.random.default_rng(5).integers(0, 2, len(X))
    want = auto_tree_size(3_000, len(X), per_arm_models=learner != "S", purpose="decisions")
    assert want == ((4, 1000) if learner == "S" else (4, 750))
    assert auto_tree_size(3_000, len(X), per_arm_models=learner != "S") == (6, 560)
    model = UpliftModel(learner=learner, purpose="decisions", n_bootstrap=2, **FAST).fit(
        X, y, treatment=t, propensity=propensity, groups=groups
    )
    assert model.outcome_ == ("continuous" if continuous else "binary")
    assert (model.num_leaves_, model.min_child_samples_) == want
    fitted = [model.learner_, *model.bootstrap_learners_]
    assert len(model.bootstrap_learners_) == 2
    sizes = {
        (b.get_params()["num_leaves"], b.get_params()["min_child_samples"])
        for f in fitted
        for b in _boosters(f)
    }
    assert sizes == {want}
    # the trees respect the number of leaves
    assert _leaves(model).groupby("tree_index").size().max() <= 4


def test_explicit_sizes_are_not_changed_by_purpose(exp3k: tuple) -> None:
    """purpose only resolves "auto": an int is used as given, whatever the purpose."""
    X, y, t = exp3k
    fits = {
        p: UpliftModel(purpose=p, num_leaves=9, min_child_samples=37, **FAST).fit(X, y, treatment=t)
        for p in ("ranking", "decisions")
    }
    for model in fits.values():
        assert (model.num_leaves_, model.min_child_samples_) == (9, 37)
    pd.testing.assert_frame_equal(
        fits["ranking"].predict_effects(X.head(50)), fits["decisions"].predict_effects(X.head(50))
    )
    # one of the two given: the other is "auto", sized for the purpose
    half = {
        p: UpliftModel(purpose=p, num_leaves=9, **FAST).fit(X, y, treatment=t)
        for p in ("ranking", "decisions")
    }
    assert (half["ranking"].num_leaves_, half["ranking"].min_child_samples_) == (9, 560)
    assert (half["decisions"].num_leaves_, half["decisions"].min_child_samples_) == (9, 1000)
    other = UpliftModel(purpose="decisions", min_child_samples=37, **FAST).fit(X, y, treatment=t)
    assert (other.num_leaves_, other.min_child_samples_) == (4, 37)


def test_scikit_learn_conventions(exp3k: tuple) -> None:
    """get_params/set_params/clone/repr, GridSearchCV over purpose, tags unchanged."""
    assert UpliftModel().get_params()["purpose"] == "ranking"
    assert "purpose" not in repr(UpliftModel())
    model = UpliftModel(purpose="decisions")
    assert repr(model) == "UpliftModel(purpose='decisions')"
    assert clone(model).get_params() == model.get_params()
    assert UpliftModel().set_params(purpose="decisions").purpose == "decisions"
    assert UpliftModel().__sklearn_tags__() == UpliftModel(purpose="decisions").__sklearn_tags__()
    # GridSearchCV clones and sets the parameter per candidate; treatment is split with the rows
    X, y, t = _experiment(6_000, seed=2)
    search = GridSearchCV(
        UpliftModel(n_estimators=3, n_jobs=1, random_state=0),
        {"purpose": ["ranking", "decisions"]},
        scoring=lambda est, X, y: float(est.min_child_samples_),
        cv=2,
    )
    search.fit(X, y, treatment=t)
    scores = dict(
        zip(search.cv_results_["param_purpose"], search.cv_results_["mean_test_score"], strict=True)
    )
    assert scores["decisions"] == 1000.0 and scores["ranking"] < 700
    assert search.best_params_ == {"purpose": "decisions"}
    assert search.best_estimator_.purpose == "decisions"
    assert search.best_estimator_.min_child_samples_ == 1000


@pytest.mark.parametrize("bad", [None, "Decisions", 1, "ranking ", ["decisions"]])
def test_a_bad_purpose_is_refused_at_fit_with_the_allowed_values(exp3k: tuple, bad: Any) -> None:
    """As for the other parameters: stored as given by __init__/set_params, refused by fit, even
    when both sizes are given (it would size nothing, but it is a typo)."""
    X, y, t = exp3k
    model = UpliftModel(purpose=bad, **FAST)  # no error at construction (clone needs that)
    assert model.get_params()["purpose"] == bad
    assert UpliftModel(**FAST).set_params(purpose=bad).purpose == bad
    for sizes in ({}, {"num_leaves": 9, "min_child_samples": 37}):
        with pytest.raises(ConfigError) as info:
            UpliftModel(purpose=bad, **FAST, **sizes).fit(X, y, treatment=t)
        message = str(info.value)
        assert "'purpose' parameter of UpliftModel" in message
        assert "['ranking', 'decisions']" in message and repr(bad) in message
    assert isinstance(info.value, ValueError)  # scikit-learn's convention for a bad parameter


def test_a_model_pickled_before_purpose_existed(exp3k: tuple) -> None:
    """A pickle without ``purpose`` unpickles as "ranking" (the trees it was fitted with), predicts
    the same, and a clone refits to the same sizes; a new pickle keeps "decisions"."""
    X, y, t = exp3k
    old = UpliftModel(**FAST).fit(X, y, treatment=t)
    state = old.__getstate__()
    del state["purpose"]
    again = UpliftModel.__new__(UpliftModel)
    again.__setstate__(state)
    assert again.purpose == "ranking" and again.get_params()["purpose"] == "ranking"
    assert (again.num_leaves_, again.min_child_samples_) == (6, 560)
    pd.testing.assert_frame_equal(again.predict_effects(X), old.predict_effects(X))
    refit = clone(again).fit(X, y, treatment=t)
    assert (refit.num_leaves_, refit.min_child_samples_) == (6, 560)
    new = UpliftModel(purpose="decisions", **FAST).fit(X, y, treatment=t)
    loaded = pickle.loads(pickle.dumps(new))
    assert loaded.purpose == "decisions" and loaded.min_child_samples_ == 1000
    pd.testing.assert_frame_equal(loaded.predict_effects(X), new.predict_effects(X))


def test_offer_training_logs_the_tree_size_it_used(offer_trainings: dict[str, Any]) -> None:
    """The offer model of train_and_register (design weights, groups): uplift_num_leaves and
    uplift_min_child_samples are the resolved decision size, where "ranking" would differ."""
    for purpose, training in offer_trainings.items():
        model = training.uplift_model
        rows = model.arm_summary_["rows"]
        want = auto_tree_size(int(rows.min()), int(rows.sum()), purpose=purpose)
        assert (model.num_leaves_, model.min_child_samples_) == want
        assert training.metrics["uplift_num_leaves"] == want[0]
        assert training.metrics["uplift_min_child_samples"] == want[1]
        assert training.metrics["uplift_training_rows"] == rows.sum() == 24_000
        assert _leaves(model).groupby("tree_index").size().max() <= want[0]
    assert offer_trainings["decisions"].metrics["uplift_num_leaves"] == 4
    assert offer_trainings["decisions"].metrics["uplift_min_child_samples"] == 1000
    assert offer_trainings["ranking"].metrics["uplift_num_leaves"] > 4


def test_shipped_train_config_asks_for_decisions() -> None:
    config = read_train_config(REPO / "models" / "train_config.json")
    uplift = UpliftModel(**config["uplift_params"])  # type: ignore[arg-type]
    assert uplift.purpose == "decisions"
    assert (
        json.loads((REPO / "models" / "train_config.json").read_text())["uplift_params"]["purpose"]
        == UpliftModel(purpose="decisions").get_params()["purpose"]
    )


# -- one training run on an embedded MLflow store ----------------------------------------------------
@pytest.fixture(scope="module")
def sim() -> Any:
    from loyalty_ml.datasets import simulate

    return simulate(n_customers=600, seed=1)


@dataclass
class Trained:
    uri: str
    result: Any


@pytest.fixture(scope="module")
def trained(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("mlflow_purpose")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mp.chdir(folder)  # the embedded store writes artifacts in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        result = train_and_register(
            sim.transactions,
            as_of="2024-12-01",
            customers=sim.customers,
            campaigns=sim.campaigns,
            offers=sim.offers,
            tracking_uri=uri,
            churn_params={"n_estimators": 30, "early_stopping_rounds": 10},
            uplift_params={"n_estimators": 10},
        )
        yield Trained(uri, result)


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_training_run_logs_and_registers_the_decision_sized_model(trained: Trained) -> None:
    import mlflow

    model = trained.result.policy.uplift_model
    assert model.purpose == "decisions"  # train_and_register's default
    run = mlflow.MlflowClient(tracking_uri=trained.uri).get_run(trained.result.run_id)
    params, metrics = run.data.params, run.data.metrics
    assert params["uplift_purpose"] == "decisions"
    # every parameter of the fitted model is logged, so that it can be refitted from the run
    assert {f"uplift_{k}": str(v) for k, v in model.get_params().items()}.items() <= params.items()
    rows = model.arm_summary_["rows"]
    want = auto_tree_size(
        int(rows.min()), int(metrics["uplift_training_rows"]), purpose="decisions"
    )
    assert (metrics["uplift_num_leaves"], metrics["uplift_min_child_samples"]) == want
    assert (model.num_leaves_, model.min_child_samples_) == want
    assert trained.result.policy.training_summary["uplift_num_leaves"] == want[0]
    # the registered artifact holds the same model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.set_tracking_uri(trained.uri)
        try:
            loaded = mlflow.pyfunc.load_model(trained.result.model_uri)
        finally:
            mlflow.set_tracking_uri(None)
    registered = loaded.unwrap_python_model().policy.uplift_model
    assert registered.purpose == "decisions"
    assert registered.get_params() == model.get_params()
    assert (registered.num_leaves_, registered.min_child_samples_) == want


# == defects (strict xfails: each asserts the correct behaviour) ======================================
def test_auto_tree_size_refuses_an_unknown_purpose() -> None:
    assert auto_tree_size(10_700, 32_000, purpose="decisions") == (4, 1000)
    with pytest.raises(ConfigError, match="purpose"):
        auto_tree_size(10_700, 32_000, purpose="Decisions")  # type: ignore[arg-type]


class _ReachedTrainingError(Exception):
    """Raised by the patched training_table: the job got past its up-front checks."""


def test_train_and_register_refuses_a_bad_uplift_purpose_before_training(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loyalty_ml.tracking.train as train_module

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise _ReachedTrainingError

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(train_module, "training_table", reached)
    with warnings.catch_warnings(), pytest.raises(ConfigError, match="'purpose' parameter"):
        warnings.simplefilter("ignore")
        train_module.train_and_register(
            sim.transactions,
            as_of="2024-12-01",
            customers=sim.customers,
            campaigns=sim.campaigns,
            offers=sim.offers,
            tracking_uri=f"sqlite:///{tmp_path.as_posix()}/mlflow.db",
            uplift_params={"purpose": "Decisions"},
        )


def test_decision_sized_leaves_are_described_as_lightgbm_counts_them(
    offer_trainings: dict[str, Any],
) -> None:
    """LightGBM counts a leaf's rows from its hessians, which sample weights scale: the offer model
    as train_and_register fits it (design weights, 24,000 rows, min_child_samples_=1000) has leaves
    of 738 rows. The documents said "4 leaves of at least 1,000 rows"; they now say
    min_child_samples 1,000 and explain the count."""
    model = offer_trainings["decisions"].uplift_model
    assert model.min_child_samples_ == 1000
    assert int(_leaves(model)["count"].min()) < 1000  # why the words changed
    for text in (
        README.read_text(encoding="utf-8"),
        RESULTS.read_text(encoding="utf-8"),
        UpliftModel.__doc__ or "",
        auto_tree_size.__doc__ or "",
        MODEL_CARD.read_text(encoding="utf-8"),
    ):
        assert "at least 1,000 rows" not in " ".join(text.split())
    assert "hessian weight" in " ".join((auto_tree_size.__doc__ or "").split())


def test_surface_sentence_matches_the_benchmarks_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """bench_offer_surface.py's design gives both purposes the same trees in 15 of 45 fits (the
    16,000-customer ones): the documents said "most arms are small enough ... the same trees"."""
    monkeypatch.syspath_prepend(str(REPO / "experiments"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from bench_offer_surface import SURFACES
    same, fits = 0, 0
    for surface in SURFACES.values():
        arms = np.array(["control", *surface.catalog.ids])
        for customers in (64_000, 32_000, 16_000):  # the script's default --customers
            for seed in range(5):  # its default --seeds; one_seed's draws, in its order
                rng = np.random.default_rng(seed)
                n = min(customers, 64_000)
                treatment = rng.choice(arms, n)
                rng.uniform(size=n)  # the outcome draw
                train = rng.uniform(size=n) < 0.5
                smallest = int(np.unique(treatment[train], return_counts=True)[1].min())
                ranking = auto_tree_size(smallest, int(train.sum()))
                same += ranking == auto_tree_size(smallest, int(train.sum()), purpose="decisions")
                fits += 1
    assert (same, fits) == (15, 45)
    readme = " ".join(RESULTS.read_text(encoding="utf-8").split())
    assert "coarser in 30 of the 45 fits" in readme
    for text in (readme, " ".join((UpliftModel.__doc__ or "").split())):
        assert "most arms are small enough" not in text


def test_simulator_figures_of_the_model_card_name_the_policys_offer_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bench_offer_plan.py fits purpose="ranking" by default ((5, 799) trees on its design) and the
    card quoted those figures for the policy; it now quotes the `--purpose decisions` run."""
    monkeypatch.syspath_prepend(str(REPO / "experiments"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import bench_offer_plan
    built: dict[str, Any] = {}

    class BuiltError(Exception):
        pass

    def record(**kwargs: Any) -> Any:
        built.update(kwargs)
        raise BuiltError

    monkeypatch.setattr(bench_offer_plan, "UpliftModel", record)
    with warnings.catch_warnings(), pytest.raises(BuiltError):
        warnings.simplefilter("ignore")
        bench_offer_plan.one_seed(0, 300, purpose="decisions")
    assert built["purpose"] == "decisions"
    card = " ".join(MODEL_CARD.read_text(encoding="utf-8").split())
    assert "captures 64-78% of the oracle's value without a budget" in card
    assert "`bench_offer_plan.py --purpose decisions`" in card


def test_model_card_gives_the_decision_leaf_size_as_a_floor(
    offer_trainings: dict[str, Any],
) -> None:
    """The card said "4 leaves of up to 1,000 rows"; min_child_samples is a floor (leaves of up
    to 20,105 rows here)."""
    card = " ".join(MODEL_CARD.read_text(encoding="utf-8").split())
    largest = int(_leaves(offer_trainings["decisions"].uplift_model)["count"].max())
    assert largest > 1_000
    assert "4 leaves of up to 1,000 rows" not in card
    assert "`min_child_samples=1000` or less when capped" in card


def test_the_quickstart_says_which_purpose_its_plan_uses() -> None:
    """The README quickstart plans offers on the ranking default; the measurements favour neither
    purpose everywhere (better on Hillstrom, within a point on the simulated benchmarks), so it
    keeps the default and says what "decisions" does, next to the call."""
    readme = README.read_text(encoding="utf-8")
    blocks = [
        b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "choose_offers(" in b
    ]
    assert blocks
    for block in blocks:
        before = block[: block.index("UpliftModel(")]
        assert 'purpose="decisions"' in before.splitlines()[-2] + before.splitlines()[-3]
