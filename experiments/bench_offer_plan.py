"""How much of the oracle's true net value the offer plan captures on the simulator.

Issue 5's second target: with a known response surface for several rewards, the plan must capture at
least 60% of the oracle's net value under both strategies and never overspend a budget.

For each seed, a programme is simulated; an UpliftModel (defaults) is fitted on every campaign but the
last, with the features each customer had when the campaign was sent; the plan for the last campaign's
customers is chosen from the estimated effects, the oracle's from the simulator's true effects, both by
``choose_offers`` with the same catalog, value per conversion and budget (the oracle's priced at face
value, ``budget_uplift_factor=1``, ``budget_reserve=0``; the plan's and the ceiling's with ``--budget-uplift-factor``, by
default choose_offers' default; the plan's also with the model's ``arm_summary_["mean_outcome_se"]``
as ``arm_mean_se``, which ``--no-arm-mean-se`` leaves out; with a budget it enters the prudent cost,
the control's standard error included). Both plans are then valued on
the truth (true uplift x value - expected reward cost at the true purchase probability, which includes
redemptions by customers who would have bought anyway). Budgets: none, and 50% / 20% of what the
oracle's unconstrained plan would spend under the same strategy: a sum fixed by the truth, the same
whatever model is compared (as a finance team's budget would be).

``ceiling`` is the capture of a plan built from the *true* effects regressed on the features of the
scored customers themselves (5-fold cross-fitted LightGBM): what a model could reach with unlimited
experiment data but only what the features show (the simulator's customers also have a hidden
responsiveness that no feature reveals). The gap between ``capture`` and ``ceiling`` is the cost of
learning from a few thousand experiment rows per arm; ``--customers`` makes the experiments larger.

Run::

    .venv/bin/python experiments/bench_offer_plan.py            # 3 seeds, 12,000 customers each
    .venv/bin/python experiments/bench_offer_plan.py --seeds 0 --customers 5000 --no-mlflow
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Literal, TypedDict, Unpack, cast

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import cross_val_predict

from loyalty_ml.datasets.simulator import simulate
from loyalty_ml.features import experiment_table
from loyalty_ml.models.uplift import Purpose, UpliftModel
from loyalty_ml.policy.catalog import OfferCatalog
from loyalty_ml.policy.offers import Strategy, choose_offers

STRATEGIES: tuple[Strategy, ...] = ("cheapest_effective", "max_net_value")
BUDGET_SHARES = (None, 0.5, 0.2)


class ValueOptions(TypedDict):
    """The ``choose_offers`` options a plan and its oracle share: how offers are valued and picked."""

    value_per_conversion: float | pd.Series
    strategy: Strategy


class PlanOptions(ValueOptions, total=False):
    """``ValueOptions`` and, when shared too, the budget."""

    budget: float | None


def true_net_value(
    plan: pd.DataFrame, truth: pd.DataFrame, catalog: OfferCatalog, value: float | pd.Series
) -> tuple[float, float]:
    """True net value and true expected cost of ``plan`` (``value``: of a conversion, one number
    or each customer's own, indexed like ``truth``)."""
    net = cost = 0.0
    for offer in catalog:
        rows = truth.loc[plan.index[plan["offer_id"] == offer.offer_id]]
        worth = value.loc[rows.index] if isinstance(value, pd.Series) else value
        p_buy = (rows["baseline"] + rows[offer.offer_id]).clip(0, 1)
        # Offer.expected_cost is annotated for floats and arrays; it is plain arithmetic on
        # p_buy, so this Series works as well (and a Series comes back)
        spent = offer.expected_cost(cast(np.ndarray, p_buy))
        net += float((rows[offer.offer_id] * worth - spent).sum())
        cost += float(np.sum(spent))
    return net, cost


def oracle_spend(
    truth: pd.DataFrame,
    arms: list[str],
    catalog: OfferCatalog,
    value: float | pd.Series,
    strategy: Strategy,
) -> float:
    """What the oracle's unconstrained plan spends: the sum the budgets are shares of."""
    free = choose_offers(
        truth[arms],
        catalog,
        baseline=truth["baseline"],
        value_per_conversion=value,
        strategy=strategy,
    )
    return float(free["expected_cost"].sum())


def oracle_plan(
    truth: pd.DataFrame, arms: list[str], catalog: OfferCatalog, **options: Unpack[PlanOptions]
) -> pd.DataFrame:
    """The plan from the true effects. They are exact: its budget prices redemptions at face
    value, with no reserve."""
    return choose_offers(
        truth[arms],
        catalog,
        baseline=truth["baseline"],
        budget_uplift_factor=1.0,
        budget_reserve=0.0,
        **options,
    )


def feature_ceiling(X: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Each column of ``truth`` (effects and baseline) predicted from the features, cross-fitted."""
    numeric = X.select_dtypes("number")
    model = lgb.LGBMRegressor(n_estimators=300, learning_rate=0.05, verbose=-1, random_state=0)
    out = pd.DataFrame(
        {c: cross_val_predict(model, numeric, truth[c], cv=5) for c in truth.columns},
        index=truth.index,
    )
    out["baseline"] = out["baseline"].clip(0.0, 1.0)
    return out


def one_seed(
    seed: int,
    n_customers: int,
    budget_uplift_factor: float = 2.0,
    linear_weight: float | Literal["auto"] = "auto",
    recenter: bool = True,
    purpose: Purpose = "ranking",
    level_noise: bool = True,
    groups: str = "none",
) -> list[dict[str, object]]:
    data = simulate(n_customers=n_customers, start="2023-01-01", end="2024-06-30", seed=seed)
    X, y, t = experiment_table(
        data.transactions, data.campaigns, window_days=data.truth.response_window_days
    )
    rows = data.campaigns.loc[X.index]
    last_id = rows["campaign_id"].max()
    last = (rows["campaign_id"] == last_id).to_numpy()
    started = time.perf_counter()
    model = UpliftModel(
        random_state=0,
        linear_weight=linear_weight,
        purpose=purpose,
        recenter=recenter,
        group_feature=groups == "feature",
    ).fit(
        X[~last],
        y[~last],
        treatment=t[~last],
        groups=None if groups == "none" else rows.loc[~last, "campaign_id"].to_numpy(),
    )
    fit_seconds = time.perf_counter() - started
    customers = rows.loc[last, "customer_id"].to_numpy()
    effects = model.predict_effects(X[last]).set_axis(customers)
    baseline = model.predict_baseline(X[last]).set_axis(customers)
    truth = data.truth.campaign_effects(last_id).loc[customers]
    catalog = OfferCatalog.from_frame(data.offers)
    value = data.truth.value_per_conversion
    arms = list(effects.columns)
    ceiling = feature_ceiling(X[last].set_axis(customers), truth[[*arms, "baseline"]])
    out: list[dict[str, object]] = []
    for strategy in STRATEGIES:
        full_cost = oracle_spend(truth, arms, catalog, value, strategy)
        for share in BUDGET_SHARES:
            budget = None if share is None else share * full_cost
            options: PlanOptions = {
                "value_per_conversion": value,
                "strategy": strategy,
                "budget": budget,
            }
            plan = choose_offers(
                effects,
                catalog,
                baseline=baseline,
                budget_uplift_factor=budget_uplift_factor,
                arm_mean_se=model.arm_summary_["mean_outcome_se"] if level_noise else None,
                **options,
            )
            oracle = oracle_plan(truth, arms, catalog, **options)
            limit = choose_offers(
                ceiling[arms],
                catalog,
                baseline=ceiling["baseline"],
                budget_uplift_factor=budget_uplift_factor,
                **options,
            )
            achieved, true_cost = true_net_value(plan, truth, catalog, value)
            best, _ = true_net_value(oracle, truth, catalog, value)
            reachable, _ = true_net_value(limit, truth, catalog, value)
            out.append(
                {
                    "seed": seed,
                    "strategy": strategy,
                    "budget": "none" if share is None else f"{share:.0%} of oracle spend",
                    "customers": len(plan),
                    "offers": int(plan["offer_id"].notna().sum()),
                    "plan_true_net": achieved,
                    "oracle_true_net": best,
                    "capture": achieved / best if best > 0 else float("nan"),
                    "ceiling": reachable / best if best > 0 else float("nan"),
                    "same_offer": float(
                        (plan["offer_id"].fillna("-") == oracle["offer_id"].fillna("-")).mean()
                    ),
                    "expected_cost": float(plan["expected_cost"].sum()),
                    "budget_value": float("nan") if budget is None else budget,
                    "overspent": budget is not None
                    and float(plan["expected_cost"].sum()) > budget + 1e-6,
                    "true_cost": true_cost,
                    "true_cost_vs_budget": float("nan") if budget is None else true_cost / budget,
                    "fit_seconds": fit_seconds,
                }
            )
    return out


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """The model and plan options both offer-plan benchmarks take (this one and
    ``bench_offer_surface.py``), with the library's defaults."""
    parser.add_argument(
        "--purpose",
        default="ranking",
        choices=["ranking", "decisions"],
        help="UpliftModel's purpose (what 'auto' sizes the trees for)",
    )
    parser.add_argument(
        "--linear-weight",
        default="auto",
        help="UpliftModel's linear_weight ('auto' or a number; 0 = the trees alone)",
    )
    parser.add_argument(
        "--no-recenter",
        action="store_true",
        help="UpliftModel(recenter=False): effects as the learner gives them",
    )
    parser.add_argument(
        "--budget-uplift-factor",
        type=float,
        default=2.0,
        help="choose_offers' budget_uplift_factor (1 = face value)",
    )
    parser.add_argument(
        "--no-arm-mean-se",
        action="store_true",
        help=(
            "plan without choose_offers(arm_mean_se=): max net value as estimated, budgets "
            "without the noise in the offers' levels"
        ),
    )
    parser.add_argument("--no-mlflow", action="store_true")


def linear_weight_option(value: str) -> float | Literal["auto"]:
    """``--linear-weight`` as UpliftModel takes it: ``"auto"`` or a number."""
    return "auto" if value == "auto" else float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--customers", type=int, default=12_000)
    parser.add_argument(
        "--groups",
        default="none",
        choices=["none", "level", "feature"],
        help=(
            "fit with groups=campaign as train_and_register does: 'level' re-centres within "
            "campaigns only (group_feature=False), 'feature' also lets the learners see the "
            "campaign (the default when groups are given)"
        ),
    )
    add_plan_arguments(parser)
    args = parser.parse_args()
    linear_weight = linear_weight_option(args.linear_weight)
    rows = [
        row
        for seed in args.seeds
        for row in one_seed(
            seed,
            args.customers,
            args.budget_uplift_factor,
            linear_weight,
            not args.no_recenter,
            args.purpose,
            not args.no_arm_mean_se,
            args.groups,
        )
    ]
    frame = pd.DataFrame(rows)
    table = frame.groupby(["strategy", "budget"], sort=False).agg(
        capture_mean=("capture", "mean"),
        capture_min=("capture", "min"),
        ceiling_mean=("ceiling", "mean"),
        same_offer=("same_offer", "mean"),
        offers=("offers", "mean"),
        overspent=("overspent", "sum"),
        true_cost_vs_budget_mean=("true_cost_vs_budget", "mean"),
        true_cost_vs_budget_max=("true_cost_vs_budget", "max"),
    )
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(
            f"Share of the oracle's true net value, {len(args.seeds)} seeds x "
            f"{args.customers:,} customers (target >= 0.60, never overspent):"
        )
        print(table.to_string())
    if not args.no_mlflow:
        log_capture(
            "bench_offer_plan",
            "simulator oracle capture",
            {
                "seeds": str(args.seeds),
                "customers": args.customers,
                "budget_uplift_factor": args.budget_uplift_factor,
                "linear_weight": str(args.linear_weight),
                "purpose": args.purpose,
                "recenter": not args.no_recenter,
                "arm_mean_se": not args.no_arm_mean_se,
                "groups": args.groups,
            },
            table,
            frame,
        )


def log_capture(
    experiment: str,
    run_name: str,
    params: dict[str, object],
    table: pd.DataFrame,
    frame: pd.DataFrame,
) -> None:
    """Log a capture table (one row per index tuple, e.g. strategy x budget) and its per-seed rows."""
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name):
        mlflow.log_params(params)
        for keys, row in table.iterrows():
            parts = keys if isinstance(keys, tuple) else (keys,)
            key = "_".join(str(k).split("%")[0].replace(" ", "_") for k in parts)
            mlflow.log_metric(f"capture_mean_{key}", float(row["capture_mean"]))
            mlflow.log_metric(f"capture_min_{key}", float(row["capture_min"]))
        mlflow.log_text(frame.to_csv(index=False), "per_seed.csv")


if __name__ == "__main__":
    main()
