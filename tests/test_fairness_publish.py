"""FairnessReport.for_publication: small groups pooled under no label (_fairness_publish)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.fairness import (
    POOLED_GROUPS,
    FairnessLimits,
    FairnessReport,
    fairness_report,
)
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, SchemaError
from loyalty_ml.schema import columns as C

LIMITS = FairnessLimits(min_group_size=1, significance=None)


def _audit(labels: list[str], *, seed: int = 0, control: bool = False) -> FairnessReport:
    """Scores, outcomes and a two-offer plan for customers with the given group labels."""
    rng = np.random.default_rng(seed)
    ids = pd.RangeIndex(len(labels), name=C.CUSTOMER_ID)
    sensitive = pd.Series(labels, index=ids, name="tier")
    y = pd.Series(rng.integers(0, 2, len(ids)), index=ids)
    p = pd.Series(rng.uniform(size=len(ids)), index=ids)
    offer = rng.choice(np.array(["A", "B", None], dtype=object), size=len(ids))
    plan = pd.DataFrame(
        {C.OFFER_ID: offer, "expected_cost": np.where(offer == "A", 2.0, 1.0)}, index=ids
    )
    band = pd.Series(np.where(p >= 0.5, "high", "low"), index=ids, name="risk_band")
    return fairness_report(
        sensitive,
        y_true=y,
        y_score=p,
        offers=plan,
        control=band if control else None,
        limits=LIMITS,
    )


def test_a_pool_of_enough_customers_shows_their_figures_together() -> None:
    """The pooled row holds what an audit of the pooled customers as one group gives (every
    figure but the AUC, which cannot be pooled), and neither label. The pool holds 10+
    churners and non-churners, as its TPR and FPR need."""
    labels = ["gold"] * 40 + ["x1"] * 9 + ["x2"] * 8 + ["x3"] * 7 + ["x4"] * 6
    public = _audit(labels).for_publication(10)
    merged = _audit(["gold"] * 40 + ["pooled"] * 30)
    assert list(public.by_group.index.get_level_values("group")) == ["gold", POOLED_GROUPS]
    pool = public.by_group.loc[("tier", POOLED_GROUPS)]
    expected = merged.by_group.loc[("tier", "pooled")]
    assert pool["count"] == 30 and 10 <= round(30 * expected["observed_rate"]) <= 20
    assert np.isnan(pool["auc"]) and not np.isnan(expected["auc"])
    figures = [c for c in expected.index if c not in ("count", "auc")]
    assert {"tpr", "fpr", "offer_rate[A]", "mean_offer_cost"} <= set(figures)
    np.testing.assert_allclose(pool[figures].astype(float), expected[figures].astype(float))
    assert public.pooled is not None
    assert public.pooled[["table", "attribute", "groups", "count"]].values.tolist() == [
        ["by_group", "tier", 4, 30]
    ]


def test_a_pool_under_the_minimum_shows_its_count_and_a_neighbour_is_withheld() -> None:
    labels = ["gold"] * 40 + ["silver"] * 30 + ["x1"] * 2 + ["x2"] * 3
    public = _audit(labels).for_publication(10)
    table = public.by_group.xs("tier", level="attribute")
    assert list(table.index) == ["gold", "silver", POOLED_GROUPS]
    assert table.loc[POOLED_GROUPS, "count"] == 5
    assert table.loc[POOLED_GROUPS].drop("count").isna().all()
    # the total minus the shown groups would give the pool back: the next smallest is blanked
    assert table.loc["silver"].drop("count").isna().all()
    assert table.loc["gold"].drop("count").notna().any()


def test_within_strata_pools_show_their_count_only() -> None:
    labels = ["gold"] * 60 + ["silver"] * 60 + ["x1"] * 9 + ["x2"] * 9
    report = _audit(labels, control=True)
    public = report.for_publication(10)
    assert public.by_group_conditional is not None and public.pooled is not None
    groups = set(public.by_group_conditional.index.get_level_values("group"))
    assert {"x1", "x2"}.isdisjoint(groups) and POOLED_GROUPS in groups
    pools = public.by_group_conditional.xs(POOLED_GROUPS, level="group")
    assert pools.drop(columns="count").isna().all().all()
    within = public.pooled[public.pooled["table"] == "by_group_conditional"]
    assert set(within["control"]) == {"high", "low"} and (within["groups"] == 2).all()
    text = public.to_markdown()
    assert "x1" not in text and "x2" not in text
    assert "tier: 2 group(s)" in text and "tier within risk_band strata: 4 cell(s)" in text


def test_the_notebook_report_keeps_every_label() -> None:
    report = _audit(["gold"] * 40 + ["x1"] * 6 + ["x2"] * 7)
    assert {"x1", "x2"} <= set(report.by_group.index.get_level_values("group"))
    assert report.pooled is None and "pooled_groups" not in report.as_dict()
    assert "x1" in report.without_small_groups(10).by_group.index.get_level_values("group")


def test_a_pool_does_not_make_an_unjudged_attribute_judged() -> None:
    """Forty groups of 5 pool into 200 customers: still no two groups big enough to judge."""
    labels = [f"age {a}" for a in range(40) for _ in range(5)] + ["adult"] * 150
    sensitive = pd.Series(labels, index=pd.RangeIndex(350, name=C.CUSTOMER_ID), name="age")
    plan = pd.DataFrame({C.OFFER_ID: "A", "expected_cost": 1.0}, index=sensitive.index)
    with pytest.warns(DataQualityWarning, match="could not judge the attribute 'age'"):
        report = fairness_report(sensitive, offers=plan)
    public = report.for_publication(10)
    assert public.by_group.loc[("age", POOLED_GROUPS), "count"] == 200
    assert public.unjudged_attributes == report.unjudged_attributes == ["age"]
    assert "**Not judged:** age" in public.to_markdown()


def test_a_value_spelled_like_the_pool_is_refused() -> None:
    sensitive = pd.Series(["a", POOLED_GROUPS], index=[1, 2], name="tier")
    plan = pd.DataFrame({C.OFFER_ID: ["A", None], "expected_cost": 1.0}, index=[1, 2])
    with pytest.raises(
        SchemaError, match=r"sensitive\['tier'\] holds the value '\(small groups\)'"
    ):
        fairness_report(sensitive, offers=plan, limits=LIMITS)


def test_for_publication_refuses_a_count_that_is_not_an_int() -> None:
    report = _audit(["a"] * 20 + ["b"] * 20)
    with pytest.raises(
        ConfigError, match=r"'min_count' parameter of FairnessReport\.for_publication"
    ):
        report.for_publication(10.0)  # type: ignore[arg-type]


def test_a_pool_counts_the_offer_figures_over_its_contactable_customers() -> None:
    from loyalty_ml.policy._plan_reasons import CHEAPEST, NO_CONSENT

    def audit(labels: list[str]) -> FairnessReport:
        ids = pd.RangeIndex(len(labels), name=C.CUSTOMER_ID)
        i = np.arange(len(labels))
        refused, offered = i % 4 == 0, i % 3 == 0
        plan = pd.DataFrame(
            {
                C.OFFER_ID: np.where(offered & ~refused, "A", None),
                "expected_cost": 1.0,
                "reason": np.where(refused, NO_CONSENT, CHEAPEST),
            },
            index=ids,
        )
        return fairness_report(
            pd.Series(labels, index=ids, name="tier"), offers=plan, limits=LIMITS
        )

    public = audit(["gold"] * 40 + ["x1"] * 7 + ["x2"] * 8).for_publication(10)
    merged = audit(["gold"] * 40 + ["pooled"] * 15).by_group.loc[("tier", "pooled")]
    pool = public.by_group.loc[("tier", POOLED_GROUPS)]
    assert pool["n_contactable"] == merged["n_contactable"] == 11
    assert pool["offer_rate"] == pytest.approx(merged["offer_rate"])
    # 13 pooled customers with 9 contactable: the offers of 9 people are not shown
    # (tests/test_fairness_cells.py)
    small = audit(["gold"] * 40 + ["x1"] * 6 + ["x2"] * 7).for_publication(10)
    assert pd.isna(small.by_group.loc[("tier", POOLED_GROUPS), "offer_rate"])


def test_published_tables_print_counts_as_whole_numbers() -> None:
    """Fixed: n_contactable became a float once a row was blanked, and read "138.0000"."""
    from loyalty_ml.policy._plan_reasons import CHEAPEST, NO_CONSENT

    labels = ["gold"] * 40 + ["silver"] * 30 + ["x1"] * 3
    ids = pd.RangeIndex(len(labels), name=C.CUSTOMER_ID)
    refused = np.arange(len(labels)) % 4 == 0
    plan = pd.DataFrame(
        {
            C.OFFER_ID: "A",
            "expected_cost": 1.0,
            "reason": np.where(refused, NO_CONSENT, CHEAPEST),
        },
        index=ids,
    )
    report = fairness_report(pd.Series(labels, index=ids, name="tier"), offers=plan, limits=LIMITS)
    text = report.for_publication(10).to_markdown()
    assert "| tier | gold | 40 | 30 | 1.0000 | 1.0000 |" in text


def test_a_withheld_gap_publishes_neither_its_p_value_nor_its_intervals() -> None:
    """Fixed: the summary blanked a gap's min, max, difference and ratio when a small group was
    at one end, but kept ``difference_p`` and the bootstrap intervals. With both counts known the
    p-value is a function of the gap: here 0.097 said all 3 RARETIER customers got no offer (one
    of them offered reads 0.58), and the interval of ``min`` holds the small group's rate."""
    ids = pd.RangeIndex(33, name=C.CUSTOMER_ID)
    sensitive = pd.Series(["big"] * 30 + ["RARETIER"] * 3, index=ids, name="tier")
    plan = pd.DataFrame({C.OFFER_ID: ["A"] * 15 + [None] * 18, "expected_cost": 1.0}, index=ids)
    limits = FairnessLimits(min_group_size=1)
    report = fairness_report(sensitive, offers=plan, limits=limits, bootstrap=50, random_state=0)
    raw = report.summary.loc[("tier", "offer_rate")]
    assert raw["difference_p"] < 0.2 and raw["min_ci_high"] >= 0.0  # the audit's own figures
    public = report.for_publication(10).summary.loc[("tier", "offer_rate")]
    gap = [c for c in public.index if c.startswith(("min", "max", "difference", "ratio"))]
    gap = [c for c in gap if not c.endswith("_group")]
    assert "difference_p" in gap and "min_ci_low" in gap
    assert public[gap].isna().all(), public[gap].dropna().to_dict()
