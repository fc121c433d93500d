"""Benchmark of loyalty_ml's UpliftModel and offer plan on Hillstrom, plus the 1M-row fit time.

Run (heavy: use the lock):  flock /tmp/loyalty_heavy.lock .venv/bin/python experiments/bench_uplift.py

(a) The published setup: Womens E-Mail vs No E-Mail, target ``visit``, ``train_test_split(X, y, t,
    test_size=0.5, random_state=42)`` in file order, uplift@30% ('overall') on the second half.
    Reference: 0.0661 (scikit-uplift's tutorial, class transformation on XGBoost).
(b) Ten random 50/50 splits (seeds 0-9), the same for every model: UpliftModel (S, T, X, DR) against
    scikit-uplift's SoloModel, TwoModels (vanilla) and ClassTransformation and causalml's
    BaseXClassifier, all on LightGBM with the same settings as UpliftModel's defaults. The three sklift
    approaches are re-implemented below from their definitions; when scikit-uplift is installed (the
    ``bench`` extra) its own SoloModel, TwoModels and ClassTransformation run too, and its metrics are
    computed beside ours on every model's scores as a check.
(c) All three arms, ``visit`` worth ``VISIT_VALUE`` and each e-mail costing ``EMAIL_COST`` (assumed;
    the data states no costs): IPW value per customer on the held-out half of the plan from
    ``choose_offers`` against Mens-to-all, Womens-to-all, nobody and random, over the same ten splits.
    The plan's effects come from ``UpliftModel(purpose="decisions")``, as ``train_and_register``
    fits its offer model (4 leaves, min_child_samples=1000); one more row plans on the default
    (``purpose="ranking"``: 15 leaves of 100 rows at Hillstrom's 10,700 rows per arm), the model of
    (a) and (b).
(d) Fit time of the default UpliftModel on 1,000,000 synthetic rows with 4 treatment arms + control.

Results are printed as one table and logged to MLflow (``MLFLOW_TRACKING_URI``, else
``sqlite:///mlflow.db`` in the working directory), experiment ``bench_uplift``; ``--no-mlflow`` prints
only.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from loyalty_ml.datasets.hillstrom import HILLSTROM_COVARIATES, load_hillstrom
from loyalty_ml.evaluation.uplift_metrics import policy_value, qini_auc_score, uplift_at_k
from loyalty_ml.models.uplift import Learner, Purpose, UpliftModel, auto_tree_size
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import choose_offers

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "hillstrom"
    / "hillstrom.csv.gz"
)
SEEDS = range(10)
VISIT_VALUE = 2.0  # assumed value of a site visit, in dollars
EMAIL_COSTS = (0.05, 0.15)  # assumed cost of one e-mail, two scenarios
LEARNERS: tuple[Learner, ...] = ("S", "T", "X", "DR")


def _lgbm_params(w_tr: np.ndarray | None = None) -> dict:
    """The LightGBM settings of UpliftModel's defaults, given to every peer for a fair comparison.

    The default tree size (``"auto"``) depends on the training arms' sizes ``w_tr`` (0/1 per row);
    without them, the size a two-arm half of Hillstrom gets (about 10,700 rows per arm).
    """
    m = UpliftModel()
    sizes = (
        (10_700, 21_400) if w_tr is None else (int(min(w_tr.sum(), (1 - w_tr).sum())), len(w_tr))
    )
    num_leaves, min_child_samples = auto_tree_size(*sizes)
    return {
        "n_estimators": m.n_estimators,
        "learning_rate": m.learning_rate,
        "num_leaves": num_leaves,
        "min_child_samples": min_child_samples,
        "verbose": -1,
        "random_state": 0,
    }


# -- scikit-uplift's three approaches, from their definitions (sklift.models) -------------------------------
def solo_model(
    X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
) -> np.ndarray:
    """SoloModel (S-learner): one classifier with the treatment flag as a feature; P(y|x,1) - P(y|x,0)."""
    model = lgb.LGBMClassifier(**_lgbm_params(w_tr)).fit(X_tr.assign(treatment=w_tr), y_tr)
    # predict_proba of a dense table is an array (the stubs also allow sparse outputs)
    return (
        cast(np.ndarray, model.predict_proba(X_te.assign(treatment=1)))[:, 1]
        - cast(np.ndarray, model.predict_proba(X_te.assign(treatment=0)))[:, 1]
    )


def two_models(
    X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
) -> np.ndarray:
    """TwoModels, method 'vanilla' (T-learner): independent classifiers on treated and control rows."""
    treated = lgb.LGBMClassifier(**_lgbm_params(w_tr)).fit(X_tr[w_tr == 1], y_tr[w_tr == 1])
    control = lgb.LGBMClassifier(**_lgbm_params(w_tr)).fit(X_tr[w_tr == 0], y_tr[w_tr == 0])
    return (
        cast(np.ndarray, treated.predict_proba(X_te))[:, 1]
        - cast(np.ndarray, control.predict_proba(X_te))[:, 1]
    )


def class_transformation(
    X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
) -> np.ndarray:
    """ClassTransformation: z = y*w + (1-y)(1-w) for balanced arms; uplift = 2 P(z=1|x) - 1."""
    z = y_tr * w_tr + (1 - y_tr) * (1 - w_tr)
    model = lgb.LGBMClassifier(**_lgbm_params(w_tr)).fit(X_tr, z)
    return 2 * cast(np.ndarray, model.predict_proba(X_te))[:, 1] - 1


def causalml_x(
    X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
) -> np.ndarray:
    """causalml's BaseXClassifier with LightGBM outcome and effect learners, arm shares as propensity."""
    from causalml.inference.meta import BaseXClassifier

    learner = BaseXClassifier(
        outcome_learner=lgb.LGBMClassifier(**_lgbm_params(w_tr)),
        effect_learner=lgb.LGBMRegressor(**_lgbm_params(w_tr)),
        control_name=0,
    )
    share = float(w_tr.mean())
    learner.fit(X_tr, treatment=w_tr, y=y_tr, p=np.full(len(y_tr), share))
    return learner.predict(X_te, p=np.full(len(X_te), share))[:, 0]


# -- scikit-uplift itself, when installed (`pip install -e ".[bench]"`) ------------------------------------
def _have_sklift() -> bool:
    try:
        import sklift  # noqa: F401
    except ImportError:
        return False
    return True


def sklift_solo(
    X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
) -> np.ndarray:
    """sklift.models.SoloModel on LightGBM."""
    from sklift.models import SoloModel

    model = SoloModel(estimator=lgb.LGBMClassifier(**_lgbm_params(w_tr)))
    return np.asarray(model.fit(X_tr, y_tr, w_tr).predict(X_te))


def sklift_two(
    X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
) -> np.ndarray:
    """sklift.models.TwoModels (method 'vanilla') on LightGBM."""
    from sklift.models import TwoModels

    model = TwoModels(
        estimator_trmnt=lgb.LGBMClassifier(**_lgbm_params(w_tr)),
        estimator_ctrl=lgb.LGBMClassifier(**_lgbm_params(w_tr)),
        method="vanilla",
    )
    return np.asarray(model.fit(X_tr, y_tr, w_tr).predict(X_te))


def sklift_class_transformation(
    X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
) -> np.ndarray:
    """sklift.models.ClassTransformation on LightGBM."""
    from sklift.models import ClassTransformation

    model = ClassTransformation(estimator=lgb.LGBMClassifier(**_lgbm_params(w_tr)))
    return np.asarray(model.fit(X_tr, y_tr, w_tr).predict(X_te))


def _sklift_metrics(y: np.ndarray, w: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """sklift's own uplift@30% and Qini AUC of the same scores (a check of ours)."""
    from sklift.metrics import qini_auc_score as sk_qini
    from sklift.metrics import uplift_at_k as sk_uplift_at_k

    return (
        float(sk_uplift_at_k(y, score, w, strategy="overall", k=0.3)),
        float(sk_qini(y, score, w)),
    )


def ours(
    learner: Learner,
) -> Callable[[pd.DataFrame, np.ndarray, np.ndarray, pd.DataFrame], np.ndarray]:
    def fit_predict(
        X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame
    ) -> np.ndarray:
        t_tr = np.where(w_tr == 1, "womens_email", "control")
        model = UpliftModel(learner=learner, random_state=0).fit(X_tr, y_tr, treatment=t_tr)
        return model.predict_effects(X_te)["womens_email"].to_numpy()

    fit_predict.__name__ = f"UpliftModel({learner})"
    return fit_predict


# -- parts -------------------------------------------------------------------------------------------------
def part_a(data: pd.DataFrame) -> dict:
    two = data[data["offer_id"].isin(["womens_email", "control"])]
    X = two[list(HILLSTROM_COVARIATES)]
    y = two["visit"].to_numpy()
    w = (two["offer_id"] == "womens_email").to_numpy().astype(int)
    X_tr, X_te, y_tr, y_te, w_tr, w_te = train_test_split(X, y, w, test_size=0.5, random_state=42)
    out = {}
    for fn in (ours(UpliftModel().learner), class_transformation):
        score = fn(X_tr, y_tr, w_tr, X_te)
        out[fn.__name__] = uplift_at_k(y_te, w_te, score, k=0.3, strategy="overall")
    return out


def part_b(data: pd.DataFrame) -> pd.DataFrame:
    two = data[data["offer_id"].isin(["womens_email", "control"])]
    X = two[list(HILLSTROM_COVARIATES)]
    y = two["visit"].to_numpy()
    w = (two["offer_id"] == "womens_email").to_numpy().astype(int)
    models = [
        *(ours(name) for name in LEARNERS),
        solo_model,
        two_models,
        class_transformation,
        causalml_x,
    ]
    with_sklift = _have_sklift()
    if with_sklift:
        models += [sklift_solo, sklift_two, sklift_class_transformation]
    rows = []
    for seed in SEEDS:
        X_tr, X_te, y_tr, y_te, w_tr, w_te = train_test_split(
            X, y, w, test_size=0.5, random_state=seed
        )
        for fn in models:
            start = time.perf_counter()
            score = fn(X_tr, y_tr, w_tr, X_te)
            row = {
                "model": fn.__name__,
                "seed": seed,
                "uplift_at_30": uplift_at_k(y_te, w_te, score, k=0.3),
                "qini_auc": qini_auc_score(y_te, w_te, score),
                "seconds": time.perf_counter() - start,
            }
            if with_sklift:
                row["sklift_uplift_at_30"], row["sklift_qini_auc"] = _sklift_metrics(
                    y_te, w_te, score
                )
            rows.append(row)
    frame = pd.DataFrame(rows)
    extra = (
        {
            "sklift_uplift_at_30_mean": ("sklift_uplift_at_30", "mean"),
            "sklift_qini_auc_mean": ("sklift_qini_auc", "mean"),
        }
        if with_sklift
        else {}
    )
    return frame.groupby("model", sort=False).agg(
        uplift_at_30_mean=("uplift_at_30", "mean"),
        uplift_at_30_sd=("uplift_at_30", "std"),
        qini_auc_mean=("qini_auc", "mean"),
        qini_auc_sd=("qini_auc", "std"),
        fit_seconds=("seconds", "mean"),
        **extra,
    )


def part_c(data: pd.DataFrame, email_cost: float) -> pd.DataFrame:
    X = data[list(HILLSTROM_COVARIATES)]
    arms = ("mens_email", "womens_email")
    catalog = OfferCatalog(
        [
            Offer(
                offer_id=a, cost_per_redemption=0.0, cost_per_send=email_cost, kind="non_monetary"
            )
            for a in arms
        ]
    )
    rows = []
    for seed in SEEDS:
        train, test = train_test_split(np.arange(len(data)), test_size=0.5, random_state=seed)
        X_te = X.iloc[test]
        plans = {}
        purposes: tuple[tuple[str, Purpose], ...] = (
            ("plan (choose_offers)", "decisions"),
            ("ranking-sized plan (UpliftModel default)", "ranking"),
        )
        for name, purpose in purposes:
            model = UpliftModel(random_state=0, purpose=purpose).fit(
                X.iloc[train], data["visit"].iloc[train], treatment=data["offer_id"].iloc[train]
            )
            plans[name] = choose_offers(
                model.predict_effects(X_te),
                catalog,
                baseline=model.predict_baseline(X_te),
                value_per_conversion=VISIT_VALUE,
                strategy="max_net_value",
            )["offer_id"].to_numpy(dtype=object)
        t_te = data["offer_id"].iloc[test].to_numpy()
        reward = VISIT_VALUE * data["visit"].iloc[test].to_numpy() - email_cost * (
            t_te != "control"
        )
        rng = np.random.default_rng(seed)
        policies = {
            **plans,
            "mens_email to all": np.full(len(test), "mens_email", dtype=object),
            "womens_email to all": np.full(len(test), "womens_email", dtype=object),
            "nobody": np.full(len(test), "control", dtype=object),
            "random arm": rng.choice(["control", *arms], len(test)).astype(object),
        }
        for name, assignment in policies.items():
            result = policy_value(reward, t_te, assignment, method="ipw")
            rows.append(
                {
                    "policy": name,
                    "seed": seed,
                    "value": result.value,
                    "se": result.std_error,
                    "share_emailed": float(
                        pd.Series(assignment).fillna("control").ne("control").mean()
                    ),
                }
            )
    frame = pd.DataFrame(rows)
    plan_value = frame[frame["policy"] == "plan (choose_offers)"].set_index("seed")["value"]
    frame["plan_minus_policy"] = plan_value.reindex(frame["seed"]).to_numpy() - frame["value"]
    return frame.groupby("policy", sort=False).agg(
        value_mean=("value", "mean"),
        value_sd=("value", "std"),
        se_one_split=("se", "mean"),
        share_emailed=("share_emailed", "mean"),
        plan_minus_policy_mean=("plan_minus_policy", "mean"),
        plan_wins=("plan_minus_policy", lambda d: int((d > 0).sum())),
    )


def part_d(n_rows: int = 1_000_000, n_arms: int = 4, n_num: int = 20) -> dict:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(n_rows, n_num)), columns=[f"f{i}" for i in range(n_num)])
    X["region"] = pd.Categorical(rng.choice(["north", "south", "east", "west", "centre"], n_rows))
    X["tier"] = pd.Categorical(rng.choice(["basic", "silver", "gold"], n_rows))
    arms = ["control", *[f"offer{k}" for k in range(1, n_arms + 1)]]
    t = rng.choice(arms, n_rows)
    arm_k = pd.Series(t).map({a: k for k, a in enumerate(arms)}).to_numpy()
    logit = -1.5 + 0.5 * X["f0"].to_numpy() + 0.1 * arm_k * (X["f1"].to_numpy() > 0)
    y = (rng.uniform(size=n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    start = time.perf_counter()
    model = UpliftModel(random_state=0).fit(X, y, treatment=t)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_effects(X)
    return {
        "rows": n_rows,
        "arms": n_arms,
        "features": X.shape[1],
        "learner": model.learner,
        "fit_seconds": fit_seconds,
        "predict_seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scale", action="store_true", help="skip the 1M-row timing (d)")
    parser.add_argument("--only-scale", action="store_true", help="run only the 1M-row timing (d)")
    parser.add_argument("--no-mlflow", action="store_true", help="print only, log nothing")
    parser.add_argument(
        "--scale-features",
        type=int,
        default=20,
        help="numeric features of the 1M-row timing (d), plus two categories (default 20)",
    )
    args = parser.parse_args()
    d: dict | None
    if args.only_scale:
        d = part_d(n_num=args.scale_features)
        print(
            f"(d) Fit of the default UpliftModel ({d['learner']}) on {d['rows']:,} rows x "
            f"{d['features']} features, {d['arms']} arms + control: {d['fit_seconds']:.1f} s "
            f"(predict {d['predict_seconds']:.1f} s)"
        )
        if not args.no_mlflow:
            _log(None, None, None, d)
        return
    if not DATA.exists():
        raise SystemExit(f"Hillstrom data not found at {DATA}")
    data = load_hillstrom(DATA)
    pd.set_option("display.width", 160)  # a script, not the library: display options are fine here

    a = part_a(data)
    b = part_b(data)
    c = {cost: part_c(data, cost) for cost in EMAIL_COSTS}
    d = None if args.skip_scale else part_d(n_num=args.scale_features)

    print("\n(a) Published setup (Womens vs No E-Mail, visit, split random_state=42): uplift@30%")
    for name, value in a.items():
        print(f"    {name:28s} {value:.4f}   (reference 0.0661)")
    print(
        "\n(b) Ten random 50/50 splits, Womens vs No E-Mail, visit (mean, sd; sklift_* columns: scikit-uplift's metrics of the same scores):"
    )
    print(b.round(4).to_string())
    for cost, frame in c.items():
        print(
            f"\n(c) All arms, visit worth ${VISIT_VALUE:.2f}, e-mail cost ${cost:.2f}: IPW value per customer, "
            "held-out halves of ten splits"
        )
        print(frame.round(4).to_string())
    if d is not None:
        print(
            f"\n(d) Fit of the default UpliftModel ({d['learner']}) on {d['rows']:,} rows x "
            f"{d['features']} features, {d['arms']} arms + control: {d['fit_seconds']:.1f} s "
            f"(predict {d['predict_seconds']:.1f} s)"
        )
    if not args.no_mlflow:
        _log(a, b, c, d)


def _log(a: dict | None, b: pd.DataFrame | None, c: dict | None, d: dict | None) -> None:
    """Log what ran (``--only-scale`` runs (d) alone) to the ``bench_uplift`` experiment."""
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    mlflow.set_experiment("bench_uplift")
    with mlflow.start_run(run_name="hillstrom" if a is not None else "scale"):
        mlflow.log_params(
            {
                "default_learner": UpliftModel().learner,
                "visit_value": VISIT_VALUE,
                "email_costs": str(EMAIL_COSTS),
                "splits": len(SEEDS),
                **_lgbm_params(),
            }
        )
        metrics = {f"a_uplift_at_30_{k}": v for k, v in (a or {}).items()}
        if b is not None:
            for model, row in b.iterrows():
                key = str(model).replace("(", "_").replace(")", "")
                metrics[f"b_uplift_at_30_{key}"] = row["uplift_at_30_mean"]
                metrics[f"b_qini_auc_{key}"] = row["qini_auc_mean"]
        for cost, frame in (c or {}).items():
            for policy, row in frame.iterrows():
                key = str(policy).split(" ")[0]
                metrics[f"c_value_cost{cost:.2f}_{key}"] = row["value_mean"]
        if d is not None:
            metrics["d_fit_seconds_1m_rows"] = d["fit_seconds"]
        clean = {re.sub(r"[^0-9A-Za-z_.-]", "_", k): float(v) for k, v in metrics.items()}
        mlflow.log_metrics(clean)
        if b is not None and c is not None:
            mlflow.log_text(b.to_string(), "b_splits.txt")
            mlflow.log_text(
                "\n\n".join(f"cost {k}\n{v.to_string()}" for k, v in c.items()), "c_policies.txt"
            )


if __name__ == "__main__":
    main()
