"""The offer audit on plans as the jobs write them, and what the HTML says (a probe, session 63).

``score_customers``' customers without profiling consent were counted as "not offered", and its
plans (which have no ``in_holdout``) left the holdout only half out: a group that consents less,
or is offered less, looked disadvantaged by the policy. The HTML report left out the limits no
two groups were big enough to judge, so it read "passed" over them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.evaluation.fairness import FairnessLimits, fairness_report
from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.reporting.sections import fairness_section

LIMITS = FairnessLimits(significance=None, min_group_size=2)


def _plan(reasons: list[str], offers: list[object]) -> pd.DataFrame:
    index = pd.RangeIndex(len(reasons), name="customer_id")
    return pd.DataFrame(
        {
            "offer_id": offers,
            "expected_cost": [1.0 if o is not None else 0.0 for o in offers],
            "offer_reason": reasons,
        },
        index=index,
    )


def test_customers_without_profiling_consent_are_not_counted_as_not_offered() -> None:
    # group b consented to profiling less; among those profiled both groups get offers alike
    reasons = ["cheapest effective", "no effective offer"] * 2 + ["no profiling consent"] * 2
    offers: list[object] = ["c5", None, "c5", None, None, None]
    groups = pd.Series(
        ["a", "a", "b", "b", "b", "b"], index=pd.RangeIndex(6, name="customer_id"), name="g"
    )
    report = fairness_report(groups, offers=_plan(reasons, offers), limits=LIMITS)
    rates = report.by_group.xs("g", level="attribute")["offer_rate"]
    assert rates.tolist() == [0.5, 0.5]  # b read 0.25 with its unprofiled customers as zeros


def test_a_plan_without_in_holdout_warns_that_the_holdout_is_only_half_left_out() -> None:
    reasons = ["cheapest effective", "holdout", "no effective offer", "cheapest effective"]
    # the shape of score_customers' output: holdout_offer_id, no in_holdout
    plan = _plan(reasons, ["c5", None, None, "c5"]).assign(
        holdout_offer_id=[None, "c5", None, None]
    )
    groups = pd.Series(["a", "a", "b", "b"], index=plan.index, name="g")
    with pytest.warns(DataQualityWarning, match=r"no 'in_holdout' column.*holdout_mask"):
        fairness_report(groups, offers=plan, limits=LIMITS)
    # with the column, every held customer is left out, and nothing is said
    held = plan.assign(in_holdout=[False, True, True, False])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        report = fairness_report(groups, offers=held, limits=LIMITS)
    assert report.by_group.xs("g", level="attribute")["offer_rate"].tolist() == [1.0, 1.0]


def test_the_html_names_the_limits_no_two_groups_could_judge() -> None:
    # about 80% churn: 6 and 4 non-churners, below 10, so the FPR limit cannot fail
    rng = np.random.default_rng(0)
    index = pd.RangeIndex(60, name="customer_id")
    groups = pd.Series(np.repeat(["A", "B"], 30), index=index, name="grp")
    y_true = pd.Series(np.r_[np.repeat([1, 0], [24, 6]), np.repeat([1, 0], [26, 4])], index=index)
    y_score = pd.Series(rng.uniform(size=60), index=index)
    limits = FairnessLimits(significance=None, min_group_size=10, max_fpr_difference=0.1)
    report = fairness_report(groups, y_true=y_true, y_score=y_score, limits=limits)
    assert report.unjudged_limits == ["grp fpr"]
    paragraphs = " ".join(fairness_section(report).paragraphs)
    assert "Limits not judged: grp fpr" in paragraphs


def test_integer_codes_keep_their_labels_when_a_customer_is_missing() -> None:
    # an int attribute became float when a customer had no row: groups "1.0" and "2.0"
    index = pd.RangeIndex(6, name="customer_id")
    sensitive = pd.Series([1, 1, 2, 2, 1], index=pd.RangeIndex(5, name="customer_id"), name="band")
    y_score = pd.Series([0.1, 0.9, 0.2, 0.8, 0.4, 0.6], index=index)
    report = fairness_report(sensitive, y_score=y_score, limits=LIMITS)
    groups = report.by_group.xs("band", level="attribute").index.tolist()
    assert groups == ["1", "2", "(missing)"]
