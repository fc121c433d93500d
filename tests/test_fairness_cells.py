"""Small cells of the offer figures (_fairness_cells): they are over the contactable customers.

Since session 54 the offer figures of a fairness audit are measured over ``n_contactable``
(customers with marketing consent, not in the holdout), while small-cell protection looked at
``count`` only: a group of 150 with 3 contactable customers published the offer rate and the mean
offer cost of those 3 people. The offer figures now have the cell rule on ``n_contactable``.
"""

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
from loyalty_ml.policy._plan_reasons import CHEAPEST, NO_CONSENT
from loyalty_ml.schema import columns as C

LIMITS = FairnessLimits(min_group_size=1, significance=None, max_offer_rate_difference=0.05)
OFFERS = ("offer_rate", "mean_offer_cost")


def _audit(
    groups: dict[str, tuple[int, int]], *, control: bool = False, every: int = 3
) -> FairnessReport:
    """``groups``: label -> (customers, contactable). The first of every ``every`` contactable
    customers of a group gets offer "A" (cost 2), the others none; the rest have no marketing
    consent. Scores alternate 0.2/0.8, and the control is "high" for the even ids."""
    labels, consent, offered = [], [], []
    for label, (n, contactable) in groups.items():
        labels += [label] * n
        consent += [True] * contactable + [False] * (n - contactable)
        offered += [k % every == 0 for k in range(contactable)] + [False] * (n - contactable)
    ids = pd.RangeIndex(len(labels), name=C.CUSTOMER_ID)
    i = np.arange(len(labels))
    ok = np.array(consent)
    offered = np.array(offered)
    plan = pd.DataFrame(
        {
            C.OFFER_ID: np.where(offered, "A", None),
            "expected_cost": np.where(offered, 2.0, 0.0),
            "reason": np.where(ok, CHEAPEST, NO_CONSENT),
        },
        index=ids,
    )
    score = pd.Series(np.where(i % 2, 0.8, 0.2), index=ids)
    band = pd.Series(np.where(i % 2, "low", "high"), index=ids, name="risk_band")
    return fairness_report(
        pd.Series(labels, index=ids, name="tier"),
        y_score=score,
        offers=plan,
        control=band if control else None,
        limits=LIMITS,
    )


def _rebuilt_offers(table: pd.DataFrame, total_offers: float) -> float:
    """Offers of the blanked rows: the known total minus those of the shown rows."""
    shown = table.dropna(subset=["offer_rate"])
    return total_offers - float((shown["n_contactable"] * shown["offer_rate"]).sum())


def test_a_big_group_with_few_contactable_customers_publishes_no_offer_figures() -> None:
    """The review's repro: 150 customers of whom 3 may be contacted published offer_rate 0.333
    and mean_offer_cost for those 3 people."""
    report = _audit({"F": (150, 3), "M": (150, 150)})
    assert report.by_group.loc[("tier", "F"), "offer_rate"] == pytest.approx(1 / 3)
    for public in (report.for_publication(10), report.without_small_groups(10)):
        table = public.by_group.xs("tier", level="attribute")
        assert table.loc["F", list(OFFERS)].isna().all(), table
        # the churn figures keep their rule on count, and the counts stay
        assert table["selection_rate"].notna().all()
        assert table["n_contactable"].tolist() == [3, 150]
        gap = public.summary.loc[("tier", "offer_rate")]
        assert np.isnan(gap["difference"]) and "F" not in {gap["min_group"], gap["max_group"]}
        assert public.summary.loc[("tier", "selection_rate"), "difference"] == 0.0


def test_the_other_group_is_withheld_so_the_total_cannot_give_the_few_back() -> None:
    """Two groups with 3 and 200 contactable: with the total offers known (from any other
    attribute or the plan's own numbers), the shown 200 would give the 3 back."""
    report = _audit({"F": (150, 3), "M": (200, 200)})
    total = float((report.by_group["n_contactable"] * report.by_group["offer_rate"]).sum())
    table = report.for_publication(10).by_group.xs("tier", level="attribute")
    assert table[list(OFFERS)].isna().all().all(), table
    assert _rebuilt_offers(table, total) == pytest.approx(total)  # nothing subtracts
    # a third, bigger group stays shown: the two smallest hold 10+ contactable together
    three = _audit({"F": (150, 3), "M": (200, 200), "X": (300, 300)}).for_publication(10)
    shown = three.by_group.xs("tier", level="attribute")["offer_rate"].notna()
    assert shown.to_dict() == {"F": False, "M": False, "X": True}


def test_a_pool_shows_its_offer_figures_only_over_enough_contactable_customers() -> None:
    """13 pooled customers with 5 contactable: the pool shows its selection rate, not its offers,
    and the next smallest group is withheld beside it."""
    public = _audit({"x1": (6, 2), "x2": (7, 3), "gold": (100, 100), "silver": (120, 120)})
    table = public.for_publication(10).by_group.xs("tier", level="attribute")
    pool = table.loc[POOLED_GROUPS]
    assert pool["count"] == 13 and pool["n_contactable"] == 5
    assert not np.isnan(pool["selection_rate"]) and pool[list(OFFERS)].isna().all()
    assert table.loc["gold", list(OFFERS)].isna().all()
    assert table.loc["silver", list(OFFERS)].notna().all()


def test_a_shown_pool_does_not_protect_a_group_with_few_contactable() -> None:
    """The pool shows the offers of its 13 contactable customers: a group of 150 with 3 beside it
    needs a shown group withheld, else total - shown - pool gives its 3 back."""
    report = _audit({"x1": (6, 6), "x2": (7, 7), "F": (150, 3), "M": (200, 200)})
    total = float((report.by_group["n_contactable"] * report.by_group["offer_rate"]).sum())
    table = report.for_publication(10).by_group.xs("tier", level="attribute")
    assert table.loc[POOLED_GROUPS, "offer_rate"] == pytest.approx(5 / 13)
    assert table.loc[["F", "M"], list(OFFERS)].isna().all().all(), table
    assert _rebuilt_offers(table, total) > 3  # over the 203 of F and M, not F's 3


def test_within_strata_a_cell_with_few_contactable_is_blanked_with_its_complements() -> None:
    report = _audit({"F": (40, 6), "M": (200, 200), "X": (300, 300)}, control=True)
    public = report.for_publication(10)
    assert public.by_group_conditional is not None
    cells = public.by_group_conditional["offer_rate"].xs("tier", level="attribute")
    # F has 3 contactable in each stratum: blanked, with the next smallest of the stratum
    assert cells.isna().to_dict() == {
        ("high", "F"): True,
        ("high", "M"): True,
        ("high", "X"): False,
        ("low", "F"): True,
        ("low", "M"): True,
        ("low", "X"): False,
    }
    # a group blanked in a stratum keeps no raw offer figures either
    raw = public.by_group.xs("tier", level="attribute")["offer_rate"]
    assert np.isnan(raw["F"]) and np.isnan(raw["M"])


def test_a_violation_of_a_withheld_offer_figure_is_published_withheld() -> None:
    from loyalty_ml.evaluation.gate import check_promotion
    from loyalty_ml.tracking._train_record import _violations_text

    report = _audit({"F": (150, 3), "M": (200, 200)}, every=2)
    assert set(report.violations["metric"]) == {"offer_rate"}  # 2/3 against 1/2
    published = report.for_publication(10).violations
    assert published["value"].isna().all()
    assert not {"F", "M"} & set(published[["min_group", "max_group"]].to_numpy().ravel())
    assert _violations_text(report) == "tier offer_rate withheld vs limit 0.05"
    lines = check_promotion(report).violations
    assert lines and all("withheld" in line and "F " not in line for line in lines)


def test_a_plan_without_reasons_keeps_the_rule_on_count() -> None:
    """Without a reason column every customer is contactable: the offer figures are over count."""
    ids = pd.RangeIndex(300, name=C.CUSTOMER_ID)
    plan = pd.DataFrame({C.OFFER_ID: ["A", None] * 150, "expected_cost": 1.0}, index=ids)
    sensitive = pd.Series(["F"] * 150 + ["M"] * 150, index=ids, name="tier")
    public = fairness_report(sensitive, offers=plan, limits=LIMITS).for_publication(10)
    assert public.by_group[list(OFFERS)].notna().all().all()


def _churn_audit(groups: dict[str, tuple[int, int]], **kwargs: object) -> FairnessReport:
    """``groups``: label -> (customers, churners). Every other churner and every third
    non-churner score 0.8 (selected at 0.5), the others 0.2."""
    labels, churned, score = [], [], []
    for label, (n, churners) in groups.items():
        labels += [label] * n
        churned += [1] * churners + [0] * (n - churners)
        score += [0.8 if k % 2 == 0 else 0.2 for k in range(churners)]
        score += [0.8 if k % 3 == 0 else 0.2 for k in range(n - churners)]
    ids = pd.RangeIndex(len(labels), name=C.CUSTOMER_ID)
    return fairness_report(
        pd.Series(labels, index=ids, name="tier"),
        y_true=pd.Series(churned, index=ids),
        y_score=pd.Series(score, index=ids),
        limits=LIMITS,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_big_group_with_few_churners_publishes_no_true_positive_rate() -> None:
    """150 customers of whom 2 churned published TPR 0.5: whether the model flagged each of
    those 2 people. The TPR (and the AUC) of a group follow the cell rule on its churners, the
    FPR on its non-churners, with the next smallest blanked beside them."""
    report = _churn_audit({"F": (150, 2), "M": (200, 60), "X": (300, 90)})
    assert report.by_group.loc[("tier", "F"), "tpr"] == pytest.approx(0.5)
    for public in (report.for_publication(10), report.without_small_groups(10)):
        table = public.by_group.xs("tier", level="attribute")
        assert table["tpr"].isna().to_dict() == {"F": True, "M": True, "X": False}
        assert table["auc"].isna().to_dict() == {"F": True, "M": True, "X": False}
        # the FPR with it (the selection rate less it would give the TPR back); the figures
        # over all 150 customers stay
        assert table["fpr"].isna().to_dict() == {"F": True, "M": True, "X": False}
        assert table[["selection_rate", "observed_rate"]].notna().all().all()
        gap = public.summary.loc[("tier", "tpr")]
        assert "F" not in {gap["min_group"], gap["max_group"]}
    # the same for a group with few non-churners, on the FPR (and the TPR with it)
    table = _churn_audit({"F": (150, 145), "M": (200, 60), "X": (300, 90)}).for_publication(10)
    raw = table.by_group.xs("tier", level="attribute")
    assert raw["fpr"].isna().to_dict() == {"F": True, "M": True, "X": False}
    assert raw["tpr"].isna().to_dict() == {"F": True, "M": True, "X": False}


def test_a_shown_pool_is_blanked_beside_the_one_row_withheld_for_it() -> None:
    """Small groups pooled hold 15 non-churners and show their FPR; the one large group beside
    them has 8: withheld, and the total minus the pool would give it back, so the pool's FPR
    is withheld too."""
    report = _churn_audit({"a": (8, 1), "b": (7, 0), "big": (15, 7)})
    public = report.for_publication(10).by_group.xs("tier", level="attribute")
    assert public.loc[POOLED_GROUPS, "count"] == 15
    assert public["fpr"].isna().all(), public
    assert public.loc[POOLED_GROUPS, "selection_rate"] == pytest.approx(
        report.by_group.loc[[("tier", "a"), ("tier", "b")], "selection_rate"].mul([8, 7]).sum() / 15
    )


def test_a_partner_given_by_a_stratum_total_is_no_partner() -> None:
    """The attacker's seed 199 (tests/suppression_attack.py): "g2" (2 customers) is withheld with
    "g1" (16) beside it; but every non-churner of "g1" is in stratum "s3", alone there, so its
    FPR is that stratum's, which a table by stratum publishes, and the total FPR minus "g0"'s
    and "g1"'s gave "g2"'s back. "g1" is no partner for the FPR: "g0"'s is withheld too."""
    from suppression_attack import recoveries

    cells = {  # (stratum, group): (churners, non-churners)
        ("s0", "g0"): (1, 2),
        ("s0", "g2"): (0, 1),
        ("s1", "g0"): (0, 1),
        ("s2", "g0"): (6, 12),
        ("s2", "g2"): (0, 1),
        ("s3", "g0"): (1, 0),
        ("s3", "g1"): (4, 12),
    }
    band, labels, churned = [], [], []
    for (stratum, group), (churners, others) in cells.items():
        band += [stratum] * (churners + others)
        labels += [group] * (churners + others)
        churned += [1] * churners + [0] * others
    ids = pd.RangeIndex(len(labels), name=C.CUSTOMER_ID)
    report = fairness_report(
        pd.Series(labels, index=ids, name="tier"),
        y_true=pd.Series(churned, index=ids),
        y_score=pd.Series(np.linspace(0, 1, len(ids)), index=ids),
        control=pd.Series(band, index=ids, name="risk_band"),
        limits=LIMITS,
    )
    public = report.without_small_groups(10)
    raw = public.by_group.xs("tier", level="attribute")
    assert raw["fpr"].isna().all(), raw
    assert recoveries(report, public, "fpr", 10) == []


def _flagged_churners(table: pd.DataFrame) -> pd.Series:
    """Each row's churners flagged, from its selection rate and FPR: the selected customers
    less the selected non-churners (NaN where either is withheld)."""
    n = table["count"].astype(float)
    churners = (n * table["observed_rate"]).round()
    return table["selection_rate"] * n - table["fpr"] * (n - churners)


@pytest.mark.parametrize("method", ["for_publication", "without_small_groups"])
def test_a_withheld_true_positive_rate_is_not_given_back_by_the_selection_rate(
    method: str,
) -> None:
    """The selected customers are the selected churners plus the selected non-churners: a
    group of 150 with 2 churners published its selection rate, churn rate and FPR, which gave
    its withheld TPR back exactly (0.5: whether the model flagged each of those 2 people). The
    TPR and the FPR are withheld together."""
    report = _churn_audit({"F": (150, 2), "M": (200, 60), "X": (300, 90), "a": (6, 3), "b": (7, 0)})
    full = report.by_group.xs("tier", level="attribute")
    public = getattr(report, method)(10).by_group.xs("tier", level="attribute")
    assert full.loc["F", "tpr"] == pytest.approx(0.5)
    # every row with churners whose TPR is withheld, the pool of "a" and "b" included
    churners = (public["count"] * public["observed_rate"]).round()
    withheld = public["tpr"].isna() & (churners > 0)
    assert withheld["F"]
    assert _flagged_churners(public)[withheld].isna().all(), public
    assert (public["tpr"].isna() == public["fpr"].isna()).all(), public


def test_a_withheld_fpr_beside_few_churners_has_a_partner_with_non_churners() -> None:
    """F (2 churners of 150) was withheld with Z, its partner by churners, whose 12 customers
    all churned: Z has no FPR, so F's FPR was the only one withheld, the total less X's and
    Y's gave it back, and F's selection rate less it gave the TPR over 2 churners. A group with
    few churners is a seed for the FPR's rule too, with a partner by non-churners."""
    report = _churn_audit({"F": (150, 2), "Z": (12, 12), "X": (300, 90), "Y": (300, 90)})
    full = report.by_group.xs("tier", level="attribute")
    assert full.loc["F", "tpr"] == pytest.approx(0.5) and np.isnan(full.loc["Z", "fpr"])
    for public in (report.for_publication(10), report.without_small_groups(10)):
        table = public.by_group.xs("tier", level="attribute")
        withheld = table["fpr"].isna() & full["fpr"].notna()
        assert withheld["F"] and withheld.sum() >= 2, table
