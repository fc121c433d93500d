"""Complementary suppression of a fairness audit's tables (_fairness_cells.settle_cells).

Until session 54 a group blanked in any stratum of the conditional table lost its raw row as
well, so one stratum of small cells (a risk band holding a few households of every age band)
blanked every band's raw figures: a supermarket-shaped audit published counts only for all six
age bands (49 to 268 households), a simulated one blanked "male" (528 customers). The raw row is
now kept whenever two or more of the group's cells are blanked, since it then gives only their
sum; an attacker who adds and subtracts the published figures must still recover none.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from suppression_attack import random_audit, recoveries

from loyalty_ml.evaluation.fairness import FairnessLimits, FairnessReport, fairness_report
from loyalty_ml.policy._plan_reasons import CHEAPEST
from loyalty_ml.schema import columns as C

LIMITS = FairnessLimits(min_group_size=1, significance=None)


def _audit(cells: dict[tuple[str, str], int], name: str) -> FairnessReport:
    """Customers of each (risk band, group) cell, every third offered "A", scores by band."""
    bands, groups = zip(*[key for key, n in cells.items() for _ in range(n)], strict=True)
    ids = pd.RangeIndex(len(bands), name=C.CUSTOMER_ID)
    offered = np.arange(len(ids)) % 3 == 0
    plan = pd.DataFrame(
        {
            C.OFFER_ID: np.where(offered, "A", None),
            "expected_cost": np.where(offered, 2.0, 0.0),
            "reason": CHEAPEST,
        },
        index=ids,
    )
    score = {"high": 0.9, "medium": 0.5, "low": 0.1}
    return fairness_report(
        pd.Series(groups, index=ids, name=name),
        y_score=pd.Series([score[b] for b in bands], index=ids),
        offers=plan,
        control=pd.Series(bands, index=ids, name="risk_band"),
        limits=LIMITS,
    )


def test_a_stratum_of_small_cells_leaves_the_age_bands_raw_figures_published() -> None:
    """The supermarket probe's shape: every age band has a handful of households in the
    "medium" band, so all those cells are blanked, with a second cell of each band; the raw
    rows (49 to 268 households) are the sums of two blanked cells and more, and stay shown."""
    sizes = {"19-24": 49, "25-34": 158, "35-44": 206, "45-54": 268, "55-64": 55, "65+": 65}
    cells = {}
    for band, n in sizes.items():
        medium, high = 3 + n % 5, n // 5
        cells |= {("medium", band): medium, ("high", band): high, ("low", band): n - medium - high}
    report = _audit(cells, "age_band")
    public = report.for_publication(10)
    raw = public.by_group.xs("age_band", level="attribute")
    assert raw["count"].to_dict() == sizes
    assert raw[["selection_rate", "offer_rate"]].notna().all().all()
    assert public.by_group_conditional is not None
    medium = public.by_group_conditional.xs("medium", level="control")
    assert medium.drop(columns="count").isna().all().all()  # all pooled, count only
    for column in ("selection_rate", "offer_rate"):
        assert recoveries(report, public, column, 10) == []


def test_a_rare_value_blanks_its_partner_not_the_largest_groups_raw_row() -> None:
    """The simulator probe's shape: 3 customers of a rare gender and 23 "other" are blanked
    with each other; within each risk band the rare and "other" cells are too few together, so
    a "male" cell is blanked beside them, and a second "male" cell across the bands. "male"
    (528) and "female" keep their raw figures."""
    cells = {
        ("high", "female"): 200,
        ("high", "male"): 110,
        ("high", "other"): 4,
        ("high", "x"): 1,
        ("medium", "female"): 300,
        ("medium", "male"): 170,
        ("medium", "other"): 7,
        ("medium", "x"): 1,
        ("low", "female"): 446,
        ("low", "male"): 248,
        ("low", "other"): 12,
        ("low", "x"): 1,
    }
    report = _audit(cells, "gender")
    public = report.for_publication(10)
    raw = public.by_group.xs("gender", level="attribute")
    assert raw.loc[["female", "male"], "count"].tolist() == [946, 528]
    assert raw.loc[["female", "male"], ["selection_rate", "offer_rate"]].notna().all().all()
    assert raw.loc["other"].drop("count").isna().all()  # the rare value's partner
    for column in ("selection_rate", "offer_rate"):
        assert recoveries(report, public, column, 10) == []


#: Audits whose published offer figures a pool of small groups leaves open: the pool's raw row is
#: the sum of its groups' cells in one stratum, and that stratum's total minus the pool gives back
#: a small cell of a large group there. Until session 55 a shown pool also left the one raw row
#: withheld beside it without a partner (seeds 86, 103, 121; the pool is now withheld with it).
OPEN_POOLS = {184}


@pytest.mark.slow
def test_no_withheld_figure_of_a_small_cell_can_be_added_back() -> None:
    """200 random audits (2-5 groups of 1-300 customers in 2-4 uneven strata, consent varying
    by group): no figure over fewer than 10 customers that the tables withhold comes back from
    the totals, the published rows and cells, and each other (tests/suppression_attack.py)."""
    found: dict[tuple[str, str], dict[int, list[str]]] = {}
    for seed in range(200):
        sensitive, churned, score, plan, control = random_audit(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # some random audits judge no gap: not the point
            report = fairness_report(
                sensitive,
                y_true=churned,
                y_score=score,
                offers=plan,
                control=control,
                limits=LIMITS,
            )
        for method in ("without_small_groups", "for_publication"):
            public = getattr(report, method)(10)
            for column in ("selection_rate", "offer_rate", "tpr", "fpr"):
                if hits := recoveries(report, public, column, 10):
                    found.setdefault((method, column), {})[seed] = hits
    assert set(found.pop(("for_publication", "offer_rate"), {})) <= OPEN_POOLS
    assert found == {}
