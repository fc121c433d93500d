"""Oracle capture of the offer plan when the uplift model learns from a pooled campaign history.

Surface K, an outside check written in session 49 (2026-12-06) by a helper from DESIGN.md's API
alone, after every default had been chosen (experiments/RESULTS.md, "Surface K"). Every surface of
``bench_offer_surface.py`` is one randomised experiment; a retailer's model is fitted on several
past campaigns pooled, as ``train_and_register`` does (``UpliftModel.fit(groups=)``), each
randomised on its own, with other arms, other shares and another season.

Terms (the truth):

- customers: Hillstrom's eight covariates (``../shared/data``; not its arms or outcomes). Per seed,
  16,000 customers are the ones planned for; the training campaigns draw from the other 48,000.
- baseline, logit scale: ``-1.95 - 0.09 (recency - 6) + 0.35 log(history / 150) + 0.25 mens x
  womens + 0.20 [Multichannel] - 0.15 newbie + 0.10 [Urban]`` plus the season's shift (quiet -0.7,
  Christmas +0.9, normal 0: purchase rates about 8%, 28% and 14%).
- five rewards whose effects add to the probability, the same in every season, times the strength
  (0.5 or 1); W, the lapsed valuable customers (recency >= 9 months, history >= $200), 9.6%:
  ``push`` (2 cents a send) 0.004 + 0.004 [Web or Multichannel], 0 in W; ``email10`` (5 cents,
  $4 a redemption) 0.008 + 0.014 [history < 200], 0.004 in W; ``cashback`` ($6 a redemption) 0.006
  + 0.030 womens x [not Rural], 0.004 in W; ``freeship`` ($3) 0.004 + 0.020 newbie, 0.003 in W;
  ``winback`` ($1.50 a send, $15 a redemption) 0.20 in W, 0.004 elsewhere. A purchase is worth $50.
- campaigns (shares of the training rows; arms and their shares within the campaign):
  ``c1_quiet`` 25%: control 34%, push, email10; ``c2_christmas`` 40%: control 50%, email10 10%,
  cashback 10%, freeship 15%, winback 15%; ``c3_normal`` 35%: control 20%, push, cashback 20% each,
  winback 40%. Free shipping was only ever sent at Christmas, the push never.
- the plan is for the 16,000 customers in a normal month.

Designs (``--designs``): ``pooled``, the library's way (``fit(groups=campaign)``: the learners see
the campaign and predictions are averaged over the campaigns, ``UpliftModel(group_feature=True)``,
since session 50); ``served``, the same with ``train_and_register``'s design weights (1 / the
arm's share in its campaign, ``sample_weight``), which is how the served model is fitted;
``pooled_level``, the way before it (``group_feature=False``: the groups only
re-centre each offer's level); ``feature``, the campaign also a column of X (``group_feature=False``),
predicted at the normal month's campaign (how ``UpliftModel.fit``'s docstring says to plan for one
campaign's season);
``clean``, one randomised test of the same
number of rows in a normal month, the control and the five rewards in equal shares (what the
retailer would have learnt from one clean test). Each plan and its oracle (``choose_offers`` on the
true effects, budgets at face value) are valued on the truth of the normal month; budgets are half
and a fifth of the unconstrained oracle's spend.

Run::

    .venv/bin/python experiments/bench_offer_campaigns.py             # 3 seeds, about 10 minutes
    .venv/bin/python experiments/bench_offer_campaigns.py --seeds 0 --sizes 16000 --no-mlflow
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from bench_offer_plan import PlanOptions, log_capture, oracle_plan, oracle_spend, true_net_value
from bench_uplift import DATA

from loyalty_ml.datasets.hillstrom import HILLSTROM_COVARIATES, load_hillstrom
from loyalty_ml.models.uplift import UpliftModel
from loyalty_ml.policy.catalog import OfferCatalog
from loyalty_ml.policy.offers import Strategy, choose_offers
from loyalty_ml.tracking._offers import _design_weights

SEASONS = {"quiet": -0.7, "christmas": 0.9, "normal": 0.0}
VALUE = 50.0
ARMS = ["push", "email10", "cashback", "freeship", "winback"]
CATALOG = OfferCatalog.from_frame(
    pd.DataFrame(
        {
            "offer_id": ARMS,
            "cost_per_send": [0.02, 0.05, 0.0, 0.0, 1.50],
            "cost_per_redemption": [0.0, 4.0, 6.0, 3.0, 15.0],
        }
    )
)
#: (campaign, season, share of the training rows, {arm: share within the campaign})
CAMPAIGNS = (
    ("c1_quiet", "quiet", 0.25, {"control": 0.34, "push": 0.33, "email10": 0.33}),
    (
        "c2_christmas",
        "christmas",
        0.40,
        {"control": 0.50, "email10": 0.10, "cashback": 0.10, "freeship": 0.15, "winback": 0.15},
    ),
    (
        "c3_normal",
        "normal",
        0.35,
        {"control": 0.20, "push": 0.20, "cashback": 0.20, "winback": 0.40},
    ),
)
PLANNED = 16_000
STRATEGIES: tuple[Strategy, ...] = ("cheapest_effective", "max_net_value")
BUDGET_SHARES = (None, 0.5, 0.2)
DESIGNS = ("pooled", "served", "pooled_level", "feature", "clean")
COVARIATES = list(HILLSTROM_COVARIATES)


def lapsed_valuable(X: pd.DataFrame) -> np.ndarray:
    """W: the customers the win-back works on."""
    return ((X["recency"] >= 9) & (X["history"] >= 200)).to_numpy()


def baseline(X: pd.DataFrame, season: str | np.ndarray) -> np.ndarray:
    """True P(purchase | no offer, x) in ``season`` (one name, or one per row)."""
    shift = SEASONS[season] if isinstance(season, str) else np.array([SEASONS[s] for s in season])
    logit = (
        -1.95
        - 0.09 * (X["recency"].to_numpy() - 6)
        + 0.35 * np.log(X["history"].to_numpy() / 150.0)
        + 0.25 * (X["mens"] * X["womens"]).to_numpy()
        + 0.20 * (X["channel"] == "Multichannel").to_numpy()
        - 0.15 * X["newbie"].to_numpy()
        + 0.10 * (X["zip_code"] == "Urban").to_numpy()
    )
    return np.asarray(1.0 / (1.0 + np.exp(-(logit + shift))))


def effects(X: pd.DataFrame, strength: float, season: str | np.ndarray) -> pd.DataFrame:
    """True uplift of each reward, after clipping P(purchase) to [0.001, 0.999]."""
    w = lapsed_valuable(X)
    web = X["channel"].isin(["Web", "Multichannel"]).to_numpy()
    town = (X["zip_code"] != "Rural").to_numpy()
    shifts = {
        "push": np.where(w, 0.0, 0.004 + 0.004 * web),
        "email10": np.where(w, 0.004, 0.008 + 0.014 * (X["history"] < 200).to_numpy()),
        "cashback": np.where(w, 0.004, 0.006 + 0.030 * X["womens"].to_numpy() * town),
        "freeship": np.where(w, 0.003, 0.004 + 0.020 * X["newbie"].to_numpy()),
        "winback": np.where(w, 0.20, 0.004),
    }
    p0 = baseline(X, season)
    return pd.DataFrame(
        {arm: np.clip(p0 + strength * s, 0.001, 0.999) - p0 for arm, s in shifts.items()},
        index=X.index,
    )


def _draw(
    pool: pd.DataFrame, n: int, arms: dict[str, float], rng: np.random.Generator
) -> pd.DataFrame:
    """``n`` customers of ``pool`` (with replacement past its size), arms in the given shares."""
    rows = rng.choice(len(pool), size=n, replace=n > len(pool))
    names = list(arms)
    counts = np.floor(np.array([arms[a] for a in names]) * n).astype(int)
    counts[0] += n - counts.sum()
    return pool.iloc[rows].assign(arm=rng.permutation(np.repeat(names, counts)))


def history(pool: pd.DataFrame, rows: int, strength: float, design: str, seed: int) -> pd.DataFrame:
    """The training rows: the three campaigns pooled, or one clean test of as many rows."""
    rng = np.random.default_rng(seed)
    if design == "clean":
        equal = {arm: 1 / (len(ARMS) + 1) for arm in ["control", *ARMS]}
        parts = [_draw(pool, rows, equal, rng).assign(campaign="clean", season="normal")]
    else:
        parts = [
            _draw(pool, round(share * rows), arms, rng).assign(campaign=name, season=season)
            for name, season, share, arms in CAMPAIGNS
        ]
    frame = pd.concat(parts)
    truth = effects(frame, strength, frame["season"].to_numpy())
    p = baseline(frame, frame["season"].to_numpy())
    for arm in ARMS:
        sent = (frame["arm"] == arm).to_numpy()
        p[sent] += truth[arm].to_numpy()[sent]
    frame["y"] = (rng.uniform(size=len(frame)) < p).astype(int)
    # a customer may be in several campaigns: rows get their own label
    return frame.set_axis(pd.RangeIndex(len(frame), name="row"))


def one_cell(
    customers: pd.DataFrame, seed: int, rows: int, strength: float, designs: list[str]
) -> list[dict[str, object]]:
    """Capture of every design, strategy and budget for one seed, training size and strength."""
    order = np.random.default_rng(1000 + seed).permutation(len(customers))
    planned, pool = customers.iloc[order[:PLANNED]], customers.iloc[order[PLANNED:]]
    truth = effects(planned, strength, "normal").assign(baseline=baseline(planned, "normal"))
    out = []
    for design in designs:
        train = history(pool, rows, strength, design, seed)
        features = COVARIATES + (["campaign"] if design == "feature" else [])
        X = train[features].astype({"campaign": "category"} if design == "feature" else {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the small arms' notes; RESULTS discusses them
            model = UpliftModel(random_state=0, group_feature=design in ("pooled", "served")).fit(
                X,
                train["y"],
                treatment=train["arm"],
                groups=None if design == "clean" else train["campaign"],
                # train_and_register's weights: 1 / the arm's share in its campaign
                sample_weight=(
                    _design_weights(train["arm"], pd.factorize(train["campaign"])[0])
                    if design == "served"
                    else None
                ),
            )
        scored = planned[COVARIATES]
        if design == "feature":
            scored = scored.assign(
                campaign=pd.Categorical(["c3_normal"] * len(scored), X["campaign"].cat.categories)
            )
        estimated, base = model.predict_effects(scored), model.predict_baseline(scored)
        for strategy in STRATEGIES:
            spend = oracle_spend(truth, ARMS, CATALOG, VALUE, strategy)
            for share in BUDGET_SHARES:
                budget = None if share is None else share * spend
                options: PlanOptions = {
                    "value_per_conversion": VALUE,
                    "strategy": strategy,
                    "budget": budget,
                }
                plan = choose_offers(estimated, CATALOG, baseline=base, random_state=0, **options)
                oracle = oracle_plan(truth, ARMS, CATALOG, **options)
                achieved, cost = true_net_value(plan, truth, CATALOG, VALUE)
                best, _ = true_net_value(oracle, truth, CATALOG, VALUE)
                out.append(
                    {
                        "design": design,
                        "rows": rows,
                        "strength": strength,
                        "strategy": strategy,
                        "budget": "none" if share is None else f"{share:.0%} of oracle spend",
                        "seed": seed,
                        "capture": achieved / best,
                        "true_cost_vs_budget": np.nan if budget is None else cost / budget,
                        "winback_in_w": int(
                            (
                                (plan["offer_id"] == "winback").fillna(False)
                                & lapsed_valuable(planned)
                            )
                            .to_numpy()
                            .sum()
                        ),
                    }
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", nargs="*", default=list(DESIGNS), choices=list(DESIGNS))
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[64_000, 32_000, 16_000], help="training rows"
    )
    parser.add_argument("--strengths", type=float, nargs="*", default=[0.5, 1.0])
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} is absent: this benchmark needs Hillstrom's customers.")
    customers = load_hillstrom(DATA)[COVARIATES]
    rows = [
        row
        for seed in args.seeds
        for size in args.sizes
        for strength in args.strengths
        for row in one_cell(customers, seed, size, strength, args.designs)
    ]
    frame = pd.DataFrame(rows)
    keys = ["design", "rows", "strength", "strategy", "budget"]
    cells = frame.groupby(keys, sort=False).agg(
        capture_mean=("capture", "mean"),
        capture_min=("capture", "min"),
        true_cost_vs_budget_max=("true_cost_vs_budget", "max"),
        winback_in_w=("winback_in_w", "mean"),
    )
    table = cells.groupby("design", sort=False).agg(
        capture_mean=("capture_mean", "mean"),
        capture_min=("capture_min", "min"),
        cells=("capture_mean", "size"),
        cells_under_60=("capture_mean", lambda c: int((c < 0.6).sum())),
        true_cost_vs_budget_max=("true_cost_vs_budget_max", "max"),
    )
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(
            f"Share of the oracle's true net value, surface K, {len(args.seeds)} seeds (target "
            ">= 0.60 in every cell, never overspent):"
        )
        print(cells.to_string())
        print("\nBy design (cells: training rows x strength x strategy x budget):")
        print(table.to_string())
    if not args.no_mlflow:
        log_capture(
            "bench_offer_campaigns",
            "surface K: pooled campaigns",
            {
                "seeds": str(args.seeds),
                "sizes": str(args.sizes),
                "strengths": str(args.strengths),
                "designs": str(args.designs),
            },
            table,
            frame,
        )


if __name__ == "__main__":
    main()
