"""experiments/bench_offer_campaigns.py (surface K, a pooled history of campaigns): its terms say
what its docstring says, on a hand-made table, and one cell runs end to end on Hillstrom's
customers (skipped without ``../shared/data``)."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from bench_modules import import_bench


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return import_bench("bench_offer_campaigns")


def _customers() -> pd.DataFrame:
    """Four customers: lapsed and valuable (W), a new web buyer, a rural woman, an urban woman."""
    return pd.DataFrame(
        {
            "recency": [10, 2, 3, 3],
            "history_segment": ["x"] * 4,
            "history": [400.0, 150.0, 150.0, 150.0],
            "mens": [1, 0, 0, 0],
            "womens": [1, 0, 1, 1],
            "zip_code": ["Urban", "Surburban", "Rural", "Urban"],
            "newbie": [0, 1, 0, 0],
            "channel": ["Phone", "Web", "Phone", "Phone"],
        }
    )


def test_the_effects_and_seasons_are_the_docstrings(bench: ModuleType) -> None:
    X = _customers()
    assert bench.lapsed_valuable(X).tolist() == [True, False, False, False]
    tau = bench.effects(X, 1.0, "normal")
    assert tau.loc[0].tolist() == pytest.approx([0.0, 0.004, 0.004, 0.003, 0.20])
    assert tau.loc[1, "push"] == pytest.approx(0.008)  # web
    assert tau.loc[1, "email10"] == pytest.approx(0.022)  # history below 200
    assert tau.loc[1, "freeship"] == pytest.approx(0.024)  # newbie
    assert tau.loc[2, "cashback"] == pytest.approx(0.006)  # rural
    assert tau.loc[3, "cashback"] == pytest.approx(0.036)  # a woman in a town
    assert bench.effects(X, 0.5, "christmas")["winback"][0] == pytest.approx(0.10)
    logit = np.log(bench.baseline(X, "christmas") / (1 - bench.baseline(X, "christmas")))
    normal = np.log(bench.baseline(X, "normal") / (1 - bench.baseline(X, "normal")))
    assert logit - normal == pytest.approx(np.full(4, 0.9))


def test_each_campaign_has_its_control_and_shares_that_sum_to_one(bench: ModuleType) -> None:
    assert sum(share for _, _, share, _ in bench.CAMPAIGNS) == pytest.approx(1.0)
    for _, season, _, arms in bench.CAMPAIGNS:
        assert season in bench.SEASONS and "control" in arms
        assert sum(arms.values()) == pytest.approx(1.0)
    # free shipping only at Christmas, the push never: the season confounds those arms
    sent = {name: set(arms) for name, _, _, arms in bench.CAMPAIGNS}
    assert [n for n, a in sent.items() if "freeship" in a] == ["c2_christmas"]
    assert "push" not in sent["c2_christmas"]


def test_the_history_draws_each_campaigns_rows_arms_and_season(bench: ModuleType) -> None:
    pool = pd.concat([_customers()] * 250, ignore_index=True)
    rows = bench.history(pool, 4000, 1.0, "pooled", seed=0)
    assert len(rows) == 4000 and rows.index.is_unique
    counts = rows.groupby("campaign").size()
    assert counts.to_dict() == {"c1_quiet": 1000, "c2_christmas": 1600, "c3_normal": 1400}
    xmas = rows[rows["campaign"] == "c2_christmas"]
    assert (xmas["season"] == "christmas").all()
    assert (xmas["arm"] == "control").mean() == pytest.approx(0.5)
    clean = bench.history(pool, 4200, 1.0, "clean", seed=0)
    assert clean["arm"].value_counts().tolist() == [700] * 6
    assert (clean["season"] == "normal").all()


def test_one_cell_runs_on_hillstroms_customers(bench: ModuleType) -> None:
    if not bench.DATA.exists():
        pytest.skip(f"{bench.DATA} is absent: the benchmark needs Hillstrom's customers")
    from loyalty_ml.datasets.hillstrom import load_hillstrom

    customers = load_hillstrom(bench.DATA)[bench.COVARIATES]
    rows = pd.DataFrame(bench.one_cell(customers, 0, 16_000, 1.0, ["pooled", "served"]))
    assert len(rows) == 12  # two designs, two strategies, three budgets
    assert (rows["true_cost_vs_budget"].dropna() <= 1.0).all()  # never over budget
    assert rows["capture"].notna().all()
