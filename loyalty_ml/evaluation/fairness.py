"""Fairness audits of churn scores and offer allocations.

:func:`fairness_report` disaggregates scores, outcomes and offers by each sensitive attribute (with
fairlearn's ``MetricFrame``), summarises the gaps between groups, optionally within strata of a control
variable such as the risk band, and judges them against :class:`FairnessLimits`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from loyalty_ml._csv_text import spreadsheet_safe
from loyalty_ml._repr import summary_repr
from loyalty_ml._warn import warn_user
from loyalty_ml.evaluation._fairness_cells import (
    CHURN_BASES,
    few,
    partial_figures,
    settle_cells,
    shown_pools,
    with_bases,
)
from loyalty_ml.evaluation._fairness_inputs import MISSING_GROUP, POOLED_GROUPS, prepare_audit_data
from loyalty_ml.evaluation._fairness_limits import (
    OFFER_MIX,
    VIOLATION_COLUMNS,
    FairnessLimits,
    find_violations,
)
from loyalty_ml.evaluation._fairness_metrics import (
    SUMMARY_STATS,
    add_bootstrap_intervals,
    compute_by_group,
    is_offer_rate,
    summarise,
)
from loyalty_ml.evaluation._fairness_publish import (
    POOLED_COLUMNS,
    pool_small_groups,
    pooled_sentence,
    with_integer_counts,
)
from loyalty_ml.evaluation._fairness_render import (
    markdown_table,
    one_line,
    plot_by_group,
    unjudged_reason,
)
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, TrackingError
from loyalty_ml.privacy.cells import MIN_CELL_SIZE

__all__ = [
    "MISSING_GROUP",
    "POOLED_GROUPS",
    "FairnessLimits",
    "FairnessReport",
    "fairness_report",
]


@dataclass(frozen=True, eq=False)
class FairnessReport:
    """The result of :func:`fairness_report`.

    Attributes
    ----------
    by_group : DataFrame
        Indexed by (``attribute``, ``group``), every group under its own label however small:
        the report :func:`fairness_report` returns stays in the process with the data it was
        computed from, and :meth:`for_publication` pools the small groups (labels withheld) for
        anything that leaves it (``log_to_mlflow`` and the HTML report use it). Columns, when their inputs were given: ``count``;
        ``selection_rate`` (share with score >= threshold) and ``mean_score`` (from ``y_score``);
        ``observed_rate`` (mean of ``y_true``); ``calibration_gap`` (mean score - observed rate),
        ``tpr``, ``fpr`` and ``auc`` (NaN where the group has one class) from both; ``offer_rate``
        (share with a non-missing ``offer_id``) and ``mean_offer_cost`` (mean ``expected_cost`` over
        ALL customers of the group, or its contactable ones when the plan says who they are,
        counting 0 for those without an offer, so it is the spend per customer, not per offer) from ``offers``, and, when the plan says why a customer gets no
        offer, ``n_contactable``: the customers of the group the offer figures are over (see
        ``offers`` in :func:`fairness_report`); when the plan gives two offers or more, also
        ``offer_rate[<offer_id>]`` per offer (the share of the group that gets that one: who gets
        WHICH offer, judged only with ``FairnessLimits.max_offer_mix_difference``).
    summary : DataFrame
        Indexed by (``attribute``, ``metric``): ``min``, ``max``, ``difference`` (max - min), ``ratio``
        (min / max), the groups at the minimum and maximum, ``n_groups`` and ``n_judged`` (groups with at
        least ``limits.min_group_size`` customers, the only ones the statistics use),
        ``difference_p`` (for rates: the p-value that the highest and lowest groups share one rate,
        Bonferroni-adjusted over the pairs of judged groups; see ``FairnessLimits.significance``),
        plus ``<stat>_ci_low`` / ``<stat>_ci_high`` 95% bootstrap intervals when ``bootstrap > 0``.
    violations : DataFrame
        One row per broken limit: attribute, metric, statistic (difference or ratio), value, limit,
        excess, conditional (judged within a control stratum), stratum, min_group, max_group.
    limits : FairnessLimits
    threshold : float
    by_group_conditional, summary_conditional : DataFrame or None
        The same figures within each stratum of ``control``, indexed by (``control``, ``attribute``,
        ``group``) and (``control``, ``attribute``, ``metric``); None without ``control``.
    control_name : str or None
        Name of the control Series, for display.
    pooled : DataFrame or None
        None in the report :func:`fairness_report` returns. In a :meth:`for_publication` copy,
        one row per attribute (``control`` stratum and attribute in the conditional table) whose
        groups under ``min_count`` customers were pooled into the :data:`POOLED_GROUPS` row:
        ``table``, ``control``, ``attribute``, ``groups`` (how many were pooled), ``count``
        (their customers) and ``min_count``.
    """

    by_group: pd.DataFrame
    summary: pd.DataFrame
    violations: pd.DataFrame
    limits: FairnessLimits
    threshold: float
    by_group_conditional: pd.DataFrame | None = None
    summary_conditional: pd.DataFrame | None = None
    control_name: str | None = None
    pooled: pd.DataFrame | None = None
    #: the audited report's unjudged attributes, kept by for_publication (which pools groups)
    _unjudged: tuple[str, ...] | None = dataclasses.field(default=None, repr=False)

    def __repr__(self) -> str:
        # the verdict and what it could not judge, on the one line a log or a notebook shows
        return (
            f"{summary_repr(self)[:-1]}, passed={self.passed}, "
            f"unjudged_attributes={self.unjudged_attributes})"
        )

    def _repr_markdown_(self) -> str:  # a notebook cell ending in the report shows it
        return self.to_markdown()

    @property
    def passed(self) -> bool:
        """True when no judged limit is broken.

        An attribute in :attr:`unjudged_attributes` cannot break one, so a pass says nothing
        about it (:func:`fairness_report` warns when there is one). Such an audit still passes:
        it found no gap, and the promotion gate names what it did not judge.
        """
        return self.violations.empty

    @property
    def unjudged_attributes(self) -> list[str]:
        """Attributes with fewer than two groups of ``min_group_size`` customers: they cannot fail.

        A raw age in years (dozens of small groups) or a sample too small for the limits ends up
        here; group it coarser (``pd.cut`` into bands) or audit more customers.
        """
        if self._unjudged is not None:  # a published copy: its pools are no groups to judge
            return list(self._unjudged)
        counts = self.by_group["count"]
        big = (counts >= self.limits.min_group_size).groupby(level=0, sort=False).sum()
        unjudged = [str(attribute) for attribute, n in big.items() if n < 2]
        if self._judges_conditional() and self.by_group_conditional is not None:
            # judged within each control stratum: an attribute counts as judged only where some
            # stratum holds two groups big enough to compare
            within = self.by_group_conditional["count"] >= self.limits.min_group_size
            levels = list(within.index.names)
            per_stratum = within.groupby(level=[levels[0], levels[1]], sort=False).sum()
            judged = per_stratum[per_stratum >= 2].index.get_level_values(1)
            unjudged += [
                str(a) for a in big.index if str(a) not in unjudged and a not in set(judged)
            ]
        return unjudged

    @property
    def unjudged_limits(self) -> list[str]:
        """``"<attribute> <metric>"`` for each limit set on a metric that fewer than two groups of
        an otherwise judged attribute were big enough for: the TPR is measured on a group's
        churners and the FPR on its non-churners, so at a churn rate of 80% groups of 300 leave
        60 non-churners each and an FPR limit at the default ``min_group_size`` of 100 can never
        fail. Attributes in :attr:`unjudged_attributes` are not repeated here.
        """
        limited = set(self.limits.difference_limits())
        if self.limits.min_ratio is not None:
            limited |= set(self.limits.ratio_metrics)
        has_control = self.by_group_conditional is not None
        judge_raw, judge_conditional = self.limits.judged(has_control=has_control)
        # a limit is judged where any summary the limits judge holds two groups big enough
        summaries = [
            summary
            for summary, judged_here in (
                (self.summary, judge_raw),
                (self.summary_conditional, judge_conditional),
            )
            if judged_here and summary is not None and not summary.empty
        ]
        if not summaries:
            return []
        judged = (
            pd.concat(
                [
                    s["n_judged"].groupby(level=list(s.index.names)[-2:], sort=False).max()
                    for s in summaries
                ]
            )
            .groupby(level=[0, 1], sort=False)
            .max()
        )
        skip = set(self.unjudged_attributes)
        out = []
        for key, n in zip(judged.index, judged.to_numpy(), strict=True):
            attribute, metric = str(key[0]), str(key[1])
            judged_as = OFFER_MIX if is_offer_rate(metric) else metric
            if n < 2 and attribute not in skip and judged_as in limited:
                out.append(f"{attribute} {metric}")
        return out

    def plot(self) -> Figure:
        """Bars of the main figures by group (raw, not conditional), one row per attribute."""
        return plot_by_group(self.by_group, min_group_size=self.limits.min_group_size)

    def to_markdown(self) -> str:
        """The report as markdown: verdict, limits, violations, summary and by-group tables."""
        verdict = "passed" if self.passed else f"FAILED ({len(self.violations)} violation(s))"
        set_limits = [
            f"{'offer_rate[each offer]' if k == OFFER_MIX else k} difference <= {v:g}"
            for k, v in self.limits.difference_limits().items()
        ]
        if self.limits.min_ratio is not None:
            set_limits.append(
                f"ratio >= {self.limits.min_ratio:g} for {', '.join(self.limits.ratio_metrics)}"
            )
        judged = "within control strata" if self._judges_conditional() else "on raw figures"
        parts = [
            "# Fairness report",
            "",
            f"**Result: {verdict}.** Judged {judged}; threshold for selection: {self.threshold:g}.",
            "",
            f"Limits: {'; '.join(set_limits) or 'none'}. Groups smaller than "
            f"{self.limits.min_group_size} customers are reported, not judged. "
            "`mean_offer_cost` is the spend per customer of the group (0 without an offer)"
            + (
                "; the offer figures leave out customers without marketing consent and the "
                "holdout (`n_contactable` counts the rest, and a published copy blanks them for "
                "a group with too few)."
                if "n_contactable" in self.by_group.columns
                else "."
            ),
        ]
        if self.pooled is not None and not self.pooled.empty:
            parts += ["", pooled_sentence(self.pooled, self.control_name)]
        unjudged = self.unjudged_attributes
        if unjudged:
            parts += [
                "",
                f"**Not judged:** {', '.join(one_line(a) for a in unjudged)} (fewer than two groups of "
                f"{self.limits.min_group_size}+ customers, so no gap could fail; group coarser or "
                "audit more customers).",
            ]
        partly = self.unjudged_limits
        if partly:
            parts += [
                "",
                f"**Limits not judged:** {', '.join(one_line(a) for a in partly)} (fewer than two "
                f"groups with {self.limits.min_group_size}+ customers to measure the metric on: "
                "churners for the TPR, non-churners for the FPR, the fewer of the two for the AUC).",
            ]
        if not self.violations.empty:
            parts += ["", "## Violations", "", markdown_table(self.violations, digits=4)]
        parts += ["", "## Summary", "", markdown_table(self.summary, digits=4)]
        parts += ["", "## By group", "", markdown_table(self.by_group, digits=4)]
        if self.summary_conditional is not None and self.by_group_conditional is not None:
            name = one_line(self.control_name or "control")
            parts += [
                "",
                f"## Summary within {name} strata",
                "",
                markdown_table(self.summary_conditional, digits=4),
                "",
                f"## By group within {name} strata",
                "",
                markdown_table(self.by_group_conditional, digits=4),
            ]
        return "\n".join(parts) + "\n"

    def _judges_conditional(self) -> bool:
        return self.limits.judged(has_control=self.by_group_conditional is not None)[1]

    def without_small_groups(self, min_count: int) -> FairnessReport:
        """A copy whose by-group figures are blanked (NaN) for groups under ``min_count`` customers.

        A rate over a handful of people says something about those people. The small groups
        keep their labels and counts here, which suits a notebook whose user has the data anyway;
        a label can itself be personal (a free-text value, a tier of two customers), so publish
        :meth:`for_publication` instead, which pools them. Suppression is complementary: within each attribute the next smallest groups
        are blanked too, until at least two groups holding ``min_count`` customers are, since the
        attribute's total (known from any other attribute) minus the shown groups would give a
        single blanked group back; in the conditional table the same holds within each stratum
        and across a group's strata, so that its raw row, the sum of two or more blanked cells,
        stays published (it is blanked only for a group with one blanked cell, and a raw row
        blanked whose cells were all shown gets a cell blanked). Groups blanked this way are named
        ``"(withheld)"``. The gaps and violations a small group takes part in (its rate is their minimum
        or maximum, which the limits may judge when ``min_group_size`` is below ``min_count``) keep
        their rows, so a failed audit still shows as failed, with their values blanked and the
        group named ``"(under <min_count>)"``.

        Some figures are over part of a group: the offer figures (``offer_rate``,
        ``offer_rate[<offer>]``, ``mean_offer_cost``) over its ``n_contactable`` customers when
        the plan says who they are, the ``tpr`` over its churners, the ``fpr`` over its
        non-churners, the ``auc`` over both. Each follows the same rule on its own count:
        blanked for a group with fewer than ``min_count`` of those customers (a group of 150 of
        whom 3 consent, or 2 churned), with the next smallest by that count blanked beside it
        (within each attribute, and across a group's strata; not a group whose figure is a
        stratum's, alone there, which a table by stratum gives anyway), the other figures and
        the counts of such a group kept. The TPR, FPR and AUC are withheld together: the
        selection rate, over all of a group's customers, is its selected churners plus its
        selected non-churners, so one of the two rates shown would give the other back. Their
        gaps and violations are blanked, the group named ``"(withheld)"``.
        """
        _check_min_count(min_count, "without_small_groups")
        return self._blanked(min_count, f"(under {min_count})")

    def for_publication(self, min_count: int = MIN_CELL_SIZE) -> FairnessReport:
        """A copy fit to leave the process: no label, and no figure, of a group under ``min_count``.

        As :meth:`without_small_groups`, and then, within each attribute (each stratum's attribute
        in the conditional table), the groups under ``min_count`` customers are pooled into one
        :data:`POOLED_GROUPS` row with their total count: a label can itself be personal (a
        free-text value, a tier held by two customers). The pool shows the figures of its
        customers together when it holds ``min_count`` of them (each rate over the customers it
        is measured on; not the AUC, which cannot be pooled from the groups'; the offer figures
        only when ``min_count`` of them may be contacted, the TPR and FPR over ``min_count``
        churners and as many non-churners, and none that one other row of the attribute
        withholds alone, which the total minus the pool would give back), else its count only; within strata it always shows its count only (adding a stratum's pools up against
        the raw pool would give back the few customers of a larger group in one stratum). Gaps
        and violations name a small group ``POOLED_GROUPS``, with their values blanked.
        :attr:`pooled` says how many groups each pool holds. ``log_to_mlflow`` and the HTML
        report publish this copy; the report :func:`fairness_report` returns keeps every label
        (it stays in the notebook, with the data).

        Examples
        --------
        >>> sensitive = pd.Series(["a"] * 20 + ["b"] * 3 + ["c"] * 8, name="tier",
        ...                       index=pd.RangeIndex(31, name="customer_id"))
        >>> plan = pd.DataFrame({"offer_id": ["A"] * 10 + [None] * 21, "expected_cost": 1.0},
        ...                     index=sensitive.index)
        >>> limits = FairnessLimits(min_group_size=1)
        >>> public = fairness_report(sensitive, offers=plan, limits=limits).for_publication(10)
        >>> public.by_group["count"].tolist()
        [20, 11]
        >>> public.by_group.index.get_level_values("group").tolist()
        ['a', '(small groups)']
        >>> public.pooled[["attribute", "groups", "count"]].values.tolist()
        [['tier', 2, 11]]
        """
        _check_min_count(min_count, "for_publication")
        blanked = self._blanked(min_count, POOLED_GROUPS, pooled=True)
        by_group, pooled = pool_small_groups(
            self.by_group, blanked.by_group, min_count, conditional=False
        )
        by_group_c = blanked.by_group_conditional
        if self.by_group_conditional is not None and by_group_c is not None:
            by_group_c, pooled_c = pool_small_groups(
                self.by_group_conditional, by_group_c, min_count, conditional=True
            )
            pooled = pd.concat([p for p in (pooled, pooled_c) if not p.empty] or [pooled])
        return dataclasses.replace(
            blanked,
            by_group=by_group,
            by_group_conditional=by_group_c,
            pooled=pooled.reset_index(drop=True)[POOLED_COLUMNS],
            _unjudged=tuple(self.unjudged_attributes),
        )

    def _blanked(self, min_count: int, label: str, *, pooled: bool = False) -> FairnessReport:
        """:meth:`without_small_groups`, naming a small group ``label`` in gaps and violations
        (for a copy whose small groups are then ``pooled``, as :meth:`for_publication` does)."""
        conditional = self.by_group_conditional
        small = _small_groups(self.by_group, min_count)
        small_c = set() if conditional is None else _small_groups(conditional, min_count)
        # complementary suppression: blanking one small group alone lets the others and the total
        # give it back (the total is known from any other attribute, or the backtest metrics)
        withheld, withheld_c = settle_cells(self.by_group, conditional, small, small_c, min_count)
        withheld -= small
        withheld_c -= small_c
        # figures over part of a group's customers (the offer figures over the contactable ones,
        # the TPR over the churners, the FPR over the non-churners): the same rule on that count
        bases = with_bases(self.by_group)
        bases_c = None if conditional is None else with_bases(conditional)
        other = "(withheld)"
        by_group = _blank_keys(self.by_group, small | withheld)
        by_group_c = None if conditional is None else _blank_keys(conditional, small_c | withheld_c)
        summary = _mask_gaps(_mask_gaps(self.summary, small, label), withheld, other)
        summary_c = (
            None
            if self.summary_conditional is None
            else _mask_gaps(_mask_gaps(self.summary_conditional, small_c, label), withheld_c, other)
        )
        violations = _mask_violations(
            _mask_violations(self.violations, small, small_c, label), withheld, withheld_c, other
        )
        for columns, base in partial_figures(bases):
            # the TPR and FPR are withheld together (partial_figures), so a group with few
            # churners needs its FPR kept from the totals too, a partner by non-churners
            counts = CHURN_BASES if base in CHURN_BASES else (base,)
            keys, keys_c = settle_cells(
                bases,
                bases_c,
                _few(bases, min_count, counts) | small | withheld,
                set()
                if bases_c is None
                else _few(bases_c, min_count, counts) | small_c | withheld_c,
                min_count,
                column=base,
                pools=shown_pools(bases, small, min_count, base) if pooled else [],
            )
            keys -= small | withheld
            keys_c -= small_c | withheld_c
            only = frozenset(columns)
            by_group = _blank_keys(by_group, keys, columns)
            if by_group_c is not None:
                by_group_c = _blank_keys(by_group_c, keys_c, columns)
            summary = _mask_gaps(summary, keys, other, only=only)
            if summary_c is not None:
                summary_c = _mask_gaps(summary_c, keys_c, other, only=only)
            violations = _mask_violations(violations, keys, keys_c, other, only=only)
        return FairnessReport(
            by_group=by_group,
            summary=summary,
            violations=violations,
            limits=self.limits,
            threshold=self.threshold,
            by_group_conditional=by_group_c,
            summary_conditional=summary_c,
            control_name=self.control_name,
        )

    def log_to_mlflow(self, artifact_path: str = "fairness", *, min_count: int = 10) -> None:
        """Log the report to the ACTIVE MLflow run: aggregates only, never customer ids.

        Logs ``<artifact_path>/fairness_report.md``, ``by_group.csv``, ``summary.csv``,
        ``violations.csv`` (and the conditional tables), ``fairness_report.json`` (verdict, limits,
        violations, the groups pooled), the plot ``fairness_by_group.png``, and the metrics
        ``fairness_passed`` (1 or 0) and ``fairness_n_violations``. Groups under ``min_count``
        customers are pooled, their labels withheld (see :meth:`for_publication`).

        Raises
        ------
        TrackingError
            When no MLflow run is active.
        """
        import mlflow

        if mlflow.active_run() is None:
            raise TrackingError(
                "FairnessReport.log_to_mlflow needs an active MLflow run; call it inside "
                "`with mlflow.start_run():`."
            )
        public = self.for_publication(min_count)
        path = artifact_path.strip("/")
        mlflow.log_text(public.to_markdown(), f"{path}/fairness_report.md")
        tables = {
            "by_group": public.by_group,
            "summary": public.summary,
            "violations": public.violations,
            "by_group_conditional": public.by_group_conditional,
            "summary_conditional": public.summary_conditional,
        }
        for name, table in tables.items():
            if table is not None:
                # group labels come from the data: no cell may run as a spreadsheet formula
                mlflow.log_text(spreadsheet_safe(table).to_csv(), f"{path}/{name}.csv")
        mlflow.log_text(json.dumps(public.as_dict(), indent=2), f"{path}/fairness_report.json")
        mlflow.log_figure(public.plot(), f"{path}/fairness_by_group.png")
        mlflow.log_metrics(
            {
                "fairness_passed": float(self.passed),
                "fairness_n_violations": float(len(self.violations)),
            }
        )

    def as_dict(self) -> dict[str, Any]:
        """Verdict, threshold, limits and violations as JSON-ready values (and, in a
        :meth:`for_publication` copy, the groups pooled)."""
        violations = self.violations.astype(object).where(self.violations.notna(), None)
        out = {
            "passed": self.passed,
            "threshold": self.threshold,
            "control": self.control_name,
            "limits": asdict(self.limits),
            "violations": violations.to_dict(orient="records"),
        }
        if self.pooled is not None:
            pooled = self.pooled.astype(object).where(self.pooled.notna(), None)
            out["pooled_groups"] = pooled.to_dict(orient="records")
        return out


def _check_min_count(min_count: Any, method: str) -> None:
    if isinstance(min_count, bool) or not isinstance(min_count, int | np.integer) or min_count < 0:
        raise ConfigError(
            f"The 'min_count' parameter of FairnessReport.{method} must be an int >= 0. "
            f"Got {min_count!r} instead."
        )


def _small_groups(by_group: pd.DataFrame, min_count: int) -> set[tuple[Any, ...]]:
    """Index keys (attribute, [stratum,] group) of the groups under ``min_count`` customers."""
    small = by_group.index[(by_group["count"] < min_count).to_numpy()]
    return {key if isinstance(key, tuple) else (key,) for key in small}


def _few(by_group: pd.DataFrame, min_count: int, counts: tuple[str, ...]) -> set[tuple[Any, ...]]:
    """The rows with 1 to ``min_count - 1`` customers in any of the ``counts`` columns."""
    return set().union(*(few(by_group, min_count, column) for column in counts))


def _mask_gaps(
    summary: pd.DataFrame,
    small: set[tuple[Any, ...]],
    label: str,
    *,
    only: frozenset[str] | None = None,
) -> pd.DataFrame:
    """Blank the gap figures whose minimum or maximum is a small group's, and rename that group
    (only in the gaps of the metrics ``only`` when given)."""
    # the summary's index is (attribute, metric) or (control, attribute, metric): the group key is
    # the index without the metric, plus the group
    keys = [k if isinstance(k, tuple) else (k,) for k in summary.index]
    hits = {
        side: np.array(
            [
                (*key[:-1], group) in small and (only is None or key[-1] in only)
                for key, group in zip(keys, summary[side], strict=True)
            ],
            dtype=bool,
        )
        for side in ("min_group", "max_group")
    }
    return _blank_sides(summary, hits, _GAP_FIGURES, label)


#: A gap's figures in the summary: its statistics, their bootstrap intervals and the p-value of
#: the difference. Each gives the small group's figure back beside the other's (the p-value of a
#: gap between known counts is a function of the gap; the interval of ``min`` holds its value).
_GAP_FIGURES = (
    *SUMMARY_STATS,
    *(f"{stat}_ci_{end}" for stat in SUMMARY_STATS for end in ("low", "high")),
    "difference_p",
)


def _mask_violations(
    violations: pd.DataFrame,
    small: set[tuple[Any, ...]],
    small_conditional: set[tuple[Any, ...]],
    label: str,
    *,
    only: frozenset[str] | None = None,
) -> pd.DataFrame:
    """Violations that involve a small group: value and excess blanked, the group renamed
    (only the violations of the metrics ``only`` when given)."""
    conditional = (
        violations["conditional"].fillna(False).astype(bool).to_numpy()
        if "conditional" in violations.columns
        else np.zeros(len(violations), dtype=bool)
    )
    hits = {
        side: np.array(
            [
                (only is None or str(row.metric) in only)
                and (
                    ((row.stratum, row.attribute, g) in small_conditional)
                    if cond
                    else ((row.attribute, g) in small)
                )
                for row, g, cond in zip(
                    violations.itertuples(), violations[side], conditional, strict=True
                )
            ],
            dtype=bool,
        )
        for side in ("min_group", "max_group")
    }
    return _blank_sides(violations, hits, ("value", "excess"), label)


def _blank_sides(
    frame: pd.DataFrame, hits: dict[str, np.ndarray], figures: tuple[str, ...], label: str
) -> pd.DataFrame:
    """A copy of ``frame`` whose rows in ``hits[side]`` name ``label`` as that side's group and
    have ``figures`` blanked."""
    out = frame.copy()
    for side, hit in hits.items():
        if hit.any():
            out[side] = out[side].astype(object)
            out.loc[hit, side] = label
            out.loc[hit, [c for c in figures if c in out.columns]] = np.nan
    return out


def _blank_keys(
    by_group: pd.DataFrame, keys: set[tuple[Any, ...]], columns: list[str] | None = None
) -> pd.DataFrame:
    """A copy of ``by_group`` whose rows in ``keys`` have ``columns`` blanked (all but the
    count by default)."""
    out = by_group.copy()
    hit = np.array([(k if isinstance(k, tuple) else (k,)) in keys for k in out.index], dtype=bool)
    blank = [c for c in out.columns if c != "count"] if columns is None else columns
    if hit.any():
        out.loc[hit, blank] = np.nan
    return with_integer_counts(out)


def fairness_report(
    sensitive: pd.DataFrame | pd.Series,
    *,
    y_true: Any = None,
    y_score: Any = None,
    threshold: float = 0.5,
    offers: pd.DataFrame | None = None,
    control: Any = None,
    limits: FairnessLimits | None = None,
    bootstrap: int = 0,
    random_state: int | None = None,
) -> FairnessReport:
    """Audit churn scores and offer allocations by group, and judge the gaps against limits.

    Parameters
    ----------
    sensitive : DataFrame or Series
        Indexed by ``customer_id``, one column per attribute (e.g. ``customers[["age_band",
        "gender"]]``). Each attribute is audited on its own, by its distinct values: bin a raw
        value (an age in years) into bands first. For intersections (women over 65), add their
        combination as a column of its own, each part read as text with its missing values
        named (``str.cat`` alone makes any combination with a missing part missing, and
        refuses the bands of ``pd.cut``), e.g. ``parts = sensitive[["gender", "age_band"]]
        .astype("string").fillna("?")`` and ``parts["gender"].str.cat(parts["age_band"],
        sep=" / ")``: its groups are smaller, so more of them go unjudged. Missing values form
        their own group,
        ``"(missing)"``; group labels are shown as text. It may list more customers than are
        audited (e.g. every customer of the programme): the audited customers are those of the
        first of ``y_true``, ``y_score``, ``offers`` and ``control`` that is indexed by
        ``customer_id``, and an audited customer without a row here is in the missing group.
        Personal data (a name, e-mail, card number, birth date or year) is refused: its values
        would be the group labels; audit an age band derived from a birth date instead.
    y_true : Series or array-like of 0/1, optional
        Observed outcomes (e.g. churned). Series are aligned on the audited customers (the same ids
        are required of every indexed input); an array is taken in their order.
    y_score : Series or array-like of float, optional
        Scores (e.g. churn probabilities), aligned like ``y_true``.
    threshold : float, default 0.5
        A customer is selected when ``y_score >= threshold``.
    offers : DataFrame, optional
        An offer plan indexed by ``customer_id`` with ``offer_id`` (NA = no offer) and
        ``expected_cost``, e.g. from ``choose_offers``, ``score_customers`` or
        ``LoyaltyPolicy.decide``; without an ``expected_cost`` column only offer rates are
        audited and ``mean_offer_cost`` is NaN. Its customers are the audited ones (when no scores are given);
        ``sensitive`` is read for them. When it says why a customer gets no offer (``reason``, as
        from ``choose_offers``, or ``offer_reason``, as from ``LoyaltyPolicy.decide`` and
        ``score_customers``), the customers with "no marketing consent" or in the "holdout" are
        left out of the offer figures (the holdout: reason "holdout", an offer withheld, and
        every customer the plan's ``in_holdout`` column marks, as ``choose_offers`` does), which ``by_group["n_contactable"]`` counts: the policy
        could offer them nothing, and where consent differs by group, counting them as not
        offered is a gap the policy did not make (a plan offering 40% of every consenting
        customer failed the audit at 95% vs 65% consent). Without a reason column every
        customer counts.
    control : Series or array-like, optional
        A stratifying variable (e.g. the risk band): every figure is also computed within each stratum,
        so gaps explained by the control can be told from gaps at equal control.
    limits : FairnessLimits, optional
        What is judged; ``FairnessLimits()`` by default (see its documentation for the rationale).
    bootstrap : int, default 0
        Number of bootstrap resamples for 95% intervals of the summary statistics; 0 for none.
        The intervals of min, max, difference and ratio are the range allowed by simultaneous
        (max-t) bands of the judged groups' bootstrap values: a percentile interval of max - min
        sits above the truth when there are several groups (six groups of 200 with a true gap of
        0.10 were covered 66-73% of the time; tests/test_statistical_honesty_audit.py). They are
        conservative and wide. Violations do not use them: a gap is judged by
        ``FairnessLimits.significance`` (the summary's ``difference_p``).
    random_state : int, optional
        Seed of the bootstrap.

    Returns
    -------
    FairnessReport

    Warns
    -----
    DataQualityWarning
        When a judged attribute is numeric with more than 20 distinct values (an age in years):
        each value is a group, so no gap between ranges of them is judged; bin it first.
        When an attribute has fewer than two groups of ``limits.min_group_size`` customers (within
        some control stratum, when the limits judge there): no gap in it can fail, so ``passed``
        says nothing about it. The warning says why (too few customers audited, one group holding
        nearly everyone, or dozens of small groups, as a raw age in years or a postcode gives) and
        what to do (audit more customers, merge groups, bin the value with ``pd.cut``). The
        attributes are listed in :attr:`FairnessReport.unjudged_attributes` and in the repr.

    Examples
    --------
    >>> sensitive = pd.DataFrame({"gender": ["F", "F", "M", "M"]}, index=[1, 2, 3, 4])
    >>> plan = pd.DataFrame({"offer_id": ["A", None, None, None],
    ...                      "expected_cost": [2.0, 0.0, 0.0, 0.0]}, index=[1, 2, 3, 4])
    >>> report = fairness_report(sensitive, offers=plan, limits=FairnessLimits(min_group_size=1))
    >>> report.by_group["offer_rate"].tolist()
    [0.5, 0.0]
    >>> report.passed  # a 0.5 gap between two pairs of people is not beyond noise
    True
    >>> limits = FairnessLimits(min_group_size=1, significance=None)  # judge the gap alone
    >>> fairness_report(sensitive, offers=plan, limits=limits).passed
    False
    """
    limits = FairnessLimits() if limits is None else limits
    if not isinstance(limits, FairnessLimits):
        raise ConfigError(
            f"The 'limits' parameter of fairness_report must be a FairnessLimits or None. "
            f"Got {type(limits).__name__} instead."
        )
    _check_params(threshold, bootstrap, random_state)
    data = prepare_audit_data(
        sensitive, y_true=y_true, y_score=y_score, offers=offers, control=control
    )
    has_control = data.control is not None
    judge_raw, judge_conditional = limits.judged(has_control=has_control)

    by_group = compute_by_group(data, threshold, conditional=False)
    summary = _summary(by_group, data, threshold, limits, bootstrap, random_state, False)
    found = [find_violations(summary, limits, conditional=False)] if judge_raw else []
    by_group_c = summary_c = None
    if has_control:
        by_group_c = compute_by_group(data, threshold, conditional=True)
        summary_c = _summary(by_group_c, data, threshold, limits, bootstrap, random_state, True)
        if judge_conditional:
            found.append(find_violations(summary_c, limits, conditional=True))
    non_empty = [v for v in found if not v.empty]
    violations = (
        pd.concat(non_empty, ignore_index=True)
        if non_empty
        else pd.DataFrame(columns=VIOLATION_COLUMNS)
    )
    report = FairnessReport(
        by_group=by_group,
        summary=summary,
        violations=violations,
        limits=limits,
        threshold=float(threshold),
        by_group_conditional=by_group_c,
        summary_conditional=summary_c,
        control_name=data.control_name,
    )
    _warn_unjudged(report)
    _warn_raw_numeric(report, data.raw_numeric)
    return report


def _warn_raw_numeric(report: FairnessReport, raw_numeric: dict[str, int]) -> None:
    """DataQualityWarning for a judged numeric attribute with dozens of values (an age in years).

    Each value is a group of its own, and the gap judged is between the highest and the lowest
    single value: mostly noise. 20k customers by age in years (62 groups of about 320): with no
    real gap the selection-rate gap read 0.13, and with a true 0.06 gap between the under-30s and
    the over-60s (under the 0.10 limit) the audit failed in 6 of 12 samples; age bands failed in
    none. An unjudged attribute is warned about already (:func:`_warn_unjudged`).
    """
    judged = {a: n for a, n in raw_numeric.items() if a not in report.unjudged_attributes}
    for attribute, n in judged.items():
        warn_user(
            f"fairness_report audited the numeric attribute {one_line(attribute)!r} by each of "
            f"its {n} values, as {n} groups: its gap is the one between the highest and lowest "
            "single value, mostly noise (it can fail the audit with no real gap), and a gap "
            "between ranges of values (young and old) is never judged. Bin it first, e.g. "
            "pd.cut(sensitive["
            f"{one_line(attribute)!r}], [0, 25, 35, 50, 65, 120]) for an age; numbers that are "
            "codes (a store, a region) can be passed as text.",
            DataQualityWarning,
        )


def _warn_unjudged(report: FairnessReport) -> None:
    """DataQualityWarning naming the attributes no gap could be judged for, why, and the fix."""
    unjudged = report.unjudged_attributes
    if not unjudged:
        return
    counts = report.by_group["count"]
    names = counts.index.get_level_values(0).map(str)
    within = (report.control_name or "control") if report._judges_conditional() else None
    # attributes left unjudged for the same reason (a small sample) are named together
    by_reason: dict[str, list[str]] = {}
    for attribute in unjudged:
        reason = unjudged_reason(
            counts[names == attribute], min_group_size=report.limits.min_group_size, within=within
        )
        by_reason.setdefault(reason, []).append(repr(one_line(attribute)))
    one = len(unjudged) == 1
    listed = "; ".join(f"{', '.join(names_)}: {reason}" for reason, names_ in by_reason.items())
    warn_user(
        f"fairness_report could not judge {'the attribute' if one else 'the attributes'} {listed}. "
        f"{'Its' if one else 'Their'} gaps cannot fail the audit, so passed={report.passed} says "
        f"nothing about {'it' if one else 'them'} (see FairnessReport.unjudged_attributes).",
        DataQualityWarning,
    )


def _summary(
    by_group: pd.DataFrame,
    data: Any,
    threshold: float,
    limits: FairnessLimits,
    bootstrap: int,
    random_state: int | None,
    conditional: bool,
) -> pd.DataFrame:
    summary = summarise(by_group, limits.min_group_size, conditional=conditional)
    if bootstrap > 0:
        summary = add_bootstrap_intervals(
            summary,
            by_group,
            data,
            threshold,
            min_group_size=limits.min_group_size,
            conditional=conditional,
            n_boot=bootstrap,
            random_state=random_state,
        )
    return summary


def _check_params(threshold: Any, bootstrap: Any, random_state: Any) -> None:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float | np.integer | np.floating)
        or not math.isfinite(float(threshold))
    ):
        raise ConfigError(
            f"The 'threshold' parameter of fairness_report must be a finite number. Got {threshold!r} instead."
        )
    if not 0 <= float(threshold) <= 1:
        # y_score holds probabilities: 60 (for 60%) would select nobody, and every gap would vanish
        raise ConfigError(
            "The 'threshold' parameter of fairness_report must be in [0, 1], like the probabilities "
            f"in y_score. Got {threshold!r} instead (for 60% pass 0.6)."
        )
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise ConfigError(
            "The 'bootstrap' parameter of fairness_report must be an int >= 0 (number of resamples). "
            f"Got {bootstrap!r} instead."
        )
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, int | np.integer)
    ):
        raise ConfigError(
            "The 'random_state' parameter of fairness_report must be an int or None. "
            f"Got {random_state!r} instead."
        )
