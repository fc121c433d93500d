"""Tests that kill mutants which survived the suite (session 45's mutation run of the fairness audit,
consent and erasure). Each test names the mutant it kills. All use small hand-made inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from loyalty_ml.evaluation.fairness import FairnessLimits, FairnessReport, fairness_report
from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.privacy import may_profile, split_by_consent
from loyalty_ml.privacy.consent import marketing_consent
from loyalty_ml.privacy.erasure import erase_customers
from loyalty_ml.schema import columns as C


# -- consent (privacy/consent.py) -----------------------------------------------------------------
def _people(**flags: list[object]) -> pd.DataFrame:
    n = len(next(iter(flags.values())))
    return pd.DataFrame(flags, index=pd.Index(range(1, n + 1), name=C.CUSTOMER_ID))


def test_an_upper_case_consent_column_is_refused_not_read_as_managed_upstream() -> None:
    """Kills C4 (the purpose's stem matched case-sensitively): an export's ``CONSENT_PROFILING``
    (too unlike ``consent_profiling`` for difflib, which compares case-sensitively) must be refused
    as a look-alike, not taken as "no flag, consent managed upstream", which profiles the customer
    who said no."""
    customers = _people(CONSENT_PROFILING=[True, False])
    with pytest.raises(SchemaError, match="looks like it"):
        may_profile([1, 2], customers)


def test_a_misspelt_consent_flag_is_refused() -> None:
    """Kills C5 (difflib cutoff 0.95 instead of 0.8): ``concent_profiling`` (ratio 0.94 to the
    flag, and without the word "consent") must be refused, not read as consent managed upstream."""
    customers = _people(concent_profiling=[True, False])
    with pytest.raises(SchemaError, match="concent_profiling"):
        may_profile([1, 2], customers)


def test_marketing_consent_reads_the_marketing_flag_not_the_profiling_one() -> None:
    """Kills C14 (``marketing_consent`` built from ``profiling_allowed``): a customer who may be
    profiled but said no to marketing gets no offer, and the other way round."""
    customers = _people(
        consent_profiling=[True, False, True], consent_marketing=[False, True, None]
    )
    out = marketing_consent(customers)
    assert out is not None
    assert out.to_dict() == {1: False, 2: True, 3: False}


def test_consent_counts_are_per_purpose() -> None:
    """Kills C16 (``n_excluded_marketing`` counting the profiling exclusions)."""
    customers = _people(
        consent_profiling=[False, False, True, True],
        consent_marketing=[True, None, False, False],
    )
    assert split_by_consent(customers).counts() == {
        "n_profiling_allowed": 2,
        "n_marketing_allowed": 1,
        "n_excluded_profiling": 2,
        "n_excluded_marketing": 3,
    }


# -- erasure (privacy/erasure.py) -----------------------------------------------------------------
def test_erasure_matches_the_first_of_repeated_id_columns_too() -> None:
    """Kills E1 (``hit = matched``: only the last id key decides): with the id label repeated, a
    row goes when ANY of its id columns matches, here the first."""
    table = pd.DataFrame([[4, 2, 0.0], [3, 1, 0.0]], columns=[C.CUSTOMER_ID, C.CUSTOMER_ID, "x"])
    out, report = erase_customers([4], t=table)
    assert report.rows_removed == {"t": 1}
    frame = out["t"]
    assert frame is not None
    assert frame.iloc[:, 0].tolist() == [3]


def test_erasure_counts_distinct_requested_customers() -> None:
    """Kills E3 (``n_requested`` counting the request's entries): ``7``, ``"7"`` and ``" 7 "`` are
    one customer, as the matching says."""
    table = pd.DataFrame({C.CUSTOMER_ID: [7, 8], "x": [0.0, 0.0]})
    _, report = erase_customers([7, "7", " 7 "], t=table)
    assert (report.n_requested, report.n_found) == (1, 1)
    assert report.rows_removed == {"t": 1}


# -- fairness report (evaluation/fairness.py) -----------------------------------------------------
def _churn_audit(limits: FairnessLimits) -> FairnessReport:
    """Two groups of 300: a with 150 churners and 150 stayers, b with 240 and 60. Every group is
    big enough, but only a has 100+ stayers to measure an FPR on (one group: nothing to compare)."""
    ids = pd.Index(np.arange(600), name=C.CUSTOMER_ID)
    band = pd.Series(np.repeat(["a", "b"], 300), index=ids, name="band")
    churned = np.r_[np.arange(300) < 150, np.arange(300) < 240].astype(int)
    score = pd.Series(np.where(churned == 1, 0.7, 0.2), index=ids)
    return fairness_report(band, y_true=pd.Series(churned, index=ids), y_score=score, limits=limits)


def test_a_limit_only_one_group_is_big_enough_for_is_listed_unjudged() -> None:
    """Kills FA3 (``n < 1``): an FPR limit with ONE group of 100+ stayers cannot fail (a gap needs
    two groups), so it is a limit not judged, as with none."""
    report = _churn_audit(FairnessLimits())
    assert report.summary.loc[("band", "fpr"), "n_judged"] == 1
    assert report.unjudged_attributes == []
    assert report.unjudged_limits == ["band fpr"]


def test_a_ratio_limit_counts_as_a_limit_that_may_go_unjudged() -> None:
    """Kills FA5 (the ``ratio_metrics`` of ``min_ratio`` left out of the limits set): with the FPR
    judged only by a ratio, too few stayers still leave that limit unjudged."""
    limits = FairnessLimits(max_fpr_difference=None, min_ratio=0.8, ratio_metrics=("fpr",))
    assert _churn_audit(limits).unjudged_limits == ["band fpr"]


def _offer_audit(
    sizes: dict[str, int],
    offered: dict[str, int],
    control: dict[str, str] | None = None,
) -> FairnessReport:
    """One attribute ``band``; group (or cell) ``key`` holds ``sizes[key]`` customers of whom the
    first ``offered[key]`` get offer A at cost 1. With ``control``, keys are "stratum/group"."""
    labels = np.concatenate([[k] * n for k, n in sizes.items()])
    got = np.concatenate([np.arange(n) < offered[k] for k, n in sizes.items()])
    ids = pd.Index(np.arange(len(labels)), name=C.CUSTOMER_ID)
    plan = pd.DataFrame(
        {C.OFFER_ID: np.where(got, "A", None), "expected_cost": got.astype(float)},
        index=ids,
    )
    limits = FairnessLimits(min_group_size=1, significance=None)
    if control is None:
        return fairness_report(
            pd.Series(labels, index=ids, name="band"), offers=plan, limits=limits
        )
    strata, groups = zip(*(label.split("/") for label in labels), strict=True)
    return fairness_report(
        pd.Series(groups, index=ids, name="band"),
        offers=plan,
        control=pd.Series(strata, index=ids, name="risk"),
        limits=limits,
    )


def test_suppression_blanks_the_smallest_partner_and_every_gap_it_shows() -> None:
    """Kills FA9 (the summary's gaps of withheld groups left unmasked) and FA12 (a masked
    violation keeps its excess).

    a (4 customers) is under 10; b (12), the next smallest, is withheld with it (else the total
    minus b, c and d gives a back); c and d stay published. The offer-rate gap runs from a (0.25)
    to b (1.0)."""
    report = _offer_audit(
        {"a": 4, "b": 12, "c": 150, "d": 200}, {"a": 1, "b": 12, "c": 75, "d": 100}
    )
    assert report.violations[["min_group", "max_group", "value"]].values.tolist() == [
        ["a", "b", 0.75]
    ]
    public = report.without_small_groups(10)
    by_group = public.by_group.xs("band", level="attribute")
    assert by_group["count"].tolist() == [4, 12, 150, 200]
    assert by_group.loc[["a", "b"], ["offer_rate", "mean_offer_cost"]].isna().all().all()
    assert by_group.loc[["c", "d"], "offer_rate"].tolist() == [0.5, 0.5]
    gap = public.summary.loc[("band", "offer_rate")]
    assert (gap["min_group"], gap["max_group"]) == ("(under 10)", "(withheld)")
    assert gap[["min", "max", "difference", "ratio"]].isna().all()
    violation = public.violations.iloc[0]
    assert (violation["min_group"], violation["max_group"]) == (
        "(under 10)",
        "(withheld)",
    )
    assert np.isnan(violation["value"]) and np.isnan(violation["excess"])
    assert violation["limit"] == pytest.approx(0.1)


def test_two_small_groups_holding_min_count_together_need_no_partner() -> None:
    """Kills FA15 (blanked groups must hold MORE than min_count) and FA17 (the small groups' own
    customers not counted): a (4) and b (6) are both under 10 and hold 10 together, so no other
    group is withheld."""
    public = _offer_audit(
        {"a": 4, "b": 6, "c": 150}, {"a": 1, "b": 6, "c": 75}
    ).without_small_groups(10)
    rates = public.by_group.xs("band", level="attribute")["offer_rate"]
    assert rates.isna().tolist() == [True, True, False]
    assert rates["c"] == pytest.approx(0.5)


def test_a_small_cell_withholds_its_groups_other_strata_not_their_raw_rows() -> None:
    """Kills FA11 (a within-stratum violation looked up among the raw small groups).

    a has 5 customers in s1 (under 10), so b, the next smallest of s1, is withheld there; a's
    and b's s2 cells go too (their raw rows minus s1 would give s1 back). Their raw rows (205
    and 400 customers) stay published: each is the sum of two blanked cells, so neither cell
    can be taken from it. (Until session 54 these raw rows were blanked too, which left the
    published tables of real audits with counts only.)"""
    sizes = {"s1/a": 5, "s1/b": 200, "s1/c": 200, "s2/a": 200, "s2/b": 200, "s2/c": 200}
    offered = {
        "s1/a": 1,
        "s1/b": 100,
        "s1/c": 100,
        "s2/a": 100,
        "s2/b": 100,
        "s2/c": 100,
    }
    public = _offer_audit(sizes, offered, control={"": ""}).without_small_groups(10)
    raw = public.by_group.xs("band", level="attribute")
    assert raw["count"].tolist() == [205, 400, 400]
    assert raw["offer_rate"].tolist() == pytest.approx([101 / 205, 0.5, 0.5])
    cells = public.by_group_conditional
    assert cells is not None
    blanked = cells["offer_rate"].isna()
    assert blanked[blanked].index.tolist() == [
        ("s1", "band", "a"),
        ("s1", "band", "b"),
        ("s2", "band", "a"),
        ("s2", "band", "b"),
    ]
    for group in ("a", "b"):  # the raw row minus the shown cells: two cells, not one
        assert int(blanked.xs(("band", group), level=[1, 2]).sum()) == 2
    gap = public.summary.loc[("band", "offer_rate")]  # a 101/205 to b 0.5: both published
    assert (gap["min_group"], gap["max_group"]) == ("a", "b")
    violations = public.violations  # judged within strata: s1's gap, a 0.2 to b 0.5
    assert violations[["stratum", "min_group", "max_group"]].values.tolist() == [
        ["s1", "(under 10)", "(withheld)"]
    ]
    assert violations["value"].isna().all()


def test_suppression_across_strata_and_within_them_is_repeated_until_it_settles() -> None:
    """Kills FA19 (one pass of complementary suppression): protecting a's small s1 cell withholds
    s1/b, then s2/a and s3/b (a's and b's other strata); each of those is alone in its stratum,
    which a second pass fixes by withholding s2/c and s3/c. No stratum and no group may then hold
    exactly one blanked cell."""
    sizes = {"s1/a": 5, "s1/b": 100, "s1/c": 200, "s2/a": 100, "s2/b": 300, "s2/c": 150}
    sizes.update({"s3/a": 300, "s3/b": 100, "s3/c": 150})
    offered = {key: n // 2 for key, n in sizes.items()}
    public = _offer_audit(sizes, offered, control={"": ""}).without_small_groups(10)
    cells = public.by_group_conditional
    assert cells is not None
    blanked = cells["offer_rate"].isna()
    assert sorted(f"{s}/{g}" for s, _, g in blanked[blanked].index) == [
        "s1/a",
        "s1/b",
        "s2/a",
        "s2/c",
        "s3/b",
        "s3/c",
    ]
    for levels in (["control", "attribute"], ["attribute", "group"]):
        assert set(blanked.groupby(level=levels).sum().to_numpy()) <= {0, 2, 3}


# -- by-group figures and their summary (evaluation/_fairness_metrics.py) -------------------------
def test_churn_audit_bases_and_p_values() -> None:
    """Kills M10 (no p-value for the observed rate's gap) and M12 (equal rates of 1.0, a zero
    spread, read as a certain gap: p = 0).

    a: 150 churners / 150 stayers, b: 240 / 60; every churner is selected (TPR 1.0 in both)."""
    report = _churn_audit(FairnessLimits())
    summary = report.summary
    spread = np.sqrt(0.65 * 0.35 * (1 / 300 + 1 / 300))  # pooled rate of 0.5 and 0.8
    assert summary.loc[("band", "observed_rate"), "difference_p"] == pytest.approx(
        2 * norm.sf(0.3 / spread)
    )
    assert summary.loc[("band", "tpr"), ["difference", "difference_p"]].tolist() == [
        0.0,
        1.0,
    ]


def test_churners_are_counted_to_the_nearest_whole_customer() -> None:
    """Kills M6 (``floor`` instead of ``rint``): 29 churners of 100 give 100 x 0.29 =
    28.999999999999996; the TPR is measured on 29 people, enough for min_group_size=29."""
    ids = pd.Index(np.arange(200), name=C.CUSTOMER_ID)
    churned = np.r_[np.arange(100) < 29, np.arange(100) < 50].astype(int)
    report = fairness_report(
        pd.Series(np.repeat(["a", "b"], 100), index=ids, name="band"),
        y_true=pd.Series(churned, index=ids),
        y_score=pd.Series(np.where(churned == 1, 0.9, 0.1), index=ids),
        limits=FairnessLimits(min_group_size=29),
    )
    assert report.summary.loc[("band", "tpr"), "n_judged"] == 2


def test_bootstrap_intervals_of_equal_groups_stay_in_range() -> None:
    """Kills M21 (ratio upper bound not capped at 1) and M22 (difference lower bound not floored
    at 0): two groups of 200 with the same selection rate have overlapping bands, so max - min
    can be 0 and min / max can be 1, and neither can go past."""
    ids = pd.Index(np.arange(400), name=C.CUSTOMER_ID)
    selected = np.tile(np.arange(200) % 2 == 0, 2)
    report = fairness_report(
        pd.Series(np.repeat(["a", "b"], 200), index=ids, name="band"),
        y_score=pd.Series(np.where(selected, 0.9, 0.1), index=ids),
        bootstrap=40,
        random_state=0,
    )
    row = report.summary.loc[("band", "selection_rate")]
    assert row["difference"] == 0.0 and row["ratio"] == 1.0
    assert row["difference_ci_low"] == 0.0 and row["difference_ci_high"] > 0.0
    assert row["ratio_ci_high"] == 1.0 and row["ratio_ci_low"] < 1.0


# -- limits (evaluation/_fairness_limits.py) ------------------------------------------------------
def test_a_significance_of_one_is_refused() -> None:
    """Kills L9 (``significance=1`` accepted): a gap would then count as beyond noise whenever
    its p-value is under 1, which turns the noise test off; the level must be in (0, 1)."""
    with pytest.raises(ConfigError, match="significance"):
        FairnessLimits(significance=1.0)


def test_judging_both_ways_needs_a_control() -> None:
    """Kills L11 (``judge="both"`` without ``control`` not refused)."""
    ids = pd.Index([1, 2], name=C.CUSTOMER_ID)
    with pytest.raises(ConfigError, match="no control= was given"):
        fairness_report(
            pd.Series(["a", "b"], index=ids, name="band"),
            y_score=pd.Series([0.1, 0.9], index=ids),
            limits=FairnessLimits(judge="both"),
        )


# -- inputs (evaluation/_fairness_inputs.py) ------------------------------------------------------
def _plan_audit(offer_id: list[object], cost: list[float]) -> FairnessReport:
    """Customers 1-4, group a = 1 and 2, b = 3 and 4, with the plan given."""
    ids = pd.Index([1, 2, 3, 4], name=C.CUSTOMER_ID)
    plan = pd.DataFrame({C.OFFER_ID: offer_id, "expected_cost": cost}, index=ids)
    band = pd.Series(["a", "a", "b", "b"], index=ids, name="band")
    return fairness_report(band, offers=plan, limits=FairnessLimits(min_group_size=1))


def test_blank_offer_ids_are_no_offer_and_cost_nothing() -> None:
    """Kills I5 (an empty id counted as an offer) and I6 (an id of blanks counted as an offer):
    a plan read back from CSV has blank ids, and a customer without an offer costs nothing."""
    report = _plan_audit(["A", "", "  ", None], [2.0, 5.0, 5.0, 5.0])
    block = report.by_group.xs("band", level="attribute")
    assert block["offer_rate"].tolist() == [0.5, 0.0]
    assert block["mean_offer_cost"].tolist() == [1.0, 0.0]


def test_every_indexed_input_must_hold_exactly_the_audited_customers() -> None:
    """Kills I12 (extra ids accepted): scores of a customer the outcomes do not have are refused,
    not silently dropped."""
    ids = pd.Index([1, 2, 3], name=C.CUSTOMER_ID)
    sensitive = pd.Series(["a", "a", "b"], index=ids, name="band")
    scores = pd.Series([0.1, 0.2, 0.3, 0.4], index=pd.Index([1, 2, 3, 4], name=C.CUSTOMER_ID))
    with pytest.raises(SchemaError, match="has 1 id"):
        fairness_report(sensitive, y_true=pd.Series([0, 1, 0], index=ids), y_score=scores)


def test_ids_of_another_type_than_sensitive_are_refused() -> None:
    """Kills I1 (the disjoint-ids check never fires): scores indexed by 101 and 102 against
    attributes indexed by "101" and "102" match nobody; read silently, every customer would be
    in the missing group and the audit would compare nothing."""
    sensitive = pd.Series(["a", "b"], index=pd.Index(["101", "102"], name=C.CUSTOMER_ID))
    scores = pd.Series([0.1, 0.9], index=pd.Index([101, 102], name=C.CUSTOMER_ID))
    with pytest.raises(SchemaError, match="None of the 2 customers"):
        fairness_report(sensitive.rename("band"), y_score=scores)


def test_scores_above_one_are_refused() -> None:
    """Kills I4 (only negative scores refused): a score of 60 (percent) is not a probability;
    mean_score and calibration_gap would compare it with a rate."""
    ids = pd.Index([1, 2], name=C.CUSTOMER_ID)
    with pytest.raises(SchemaError, match="must be probabilities in"):
        fairness_report(
            pd.Series(["a", "b"], index=ids, name="band"), y_score=pd.Series([60.0, 0.2], index=ids)
        )
