"""Limits a fairness report is judged against, and the judging itself."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml._checks import is_real
from loyalty_ml.evaluation._fairness_metrics import is_offer_rate
from loyalty_ml.exceptions import ConfigError

__all__ = ["OFFER_MIX", "RATE_METRICS", "VIOLATION_COLUMNS", "FairnessLimits", "find_violations"]

#: The key of ``difference_limits`` that stands for every ``offer_rate[<offer_id>]`` metric.
OFFER_MIX = "offer_mix"

#: Metrics that are shares in [0, 1]; their difference limits must lie in [0, 1] too.
RATE_METRICS = ("selection_rate", "observed_rate", "tpr", "fpr", "auc", "offer_rate")
#: Metrics a ratio (min / max across groups) means something for: non-negative quantities.
RATIO_METRICS = (*RATE_METRICS, "mean_score", "mean_offer_cost")

VIOLATION_COLUMNS = [
    "attribute",
    "metric",
    "statistic",
    "value",
    "limit",
    "excess",
    "conditional",
    "stratum",
    "min_group",
    "max_group",
]

Judge = Literal["auto", "raw", "conditional", "both"]
_JUDGE_OPTIONS = ("auto", "raw", "conditional", "both")


@dataclass(frozen=True, kw_only=True)
class FairnessLimits:
    """The gaps between groups a fairness report tolerates.

    A limit set to ``None`` is not judged (the figure is still reported). Only groups with at least
    ``min_group_size`` customers are judged; smaller groups are reported in ``by_group`` and counted in
    the summary, but a rate measured on a handful of people is mostly noise.

    Parameters
    ----------
    max_selection_rate_difference : float or None, default 0.10
        Largest tolerated gap (max - min across groups) in the share selected by the churn score
        (score >= threshold). Selection decides who receives retention attention, so a gap of more than
        10 points between groups deserves a look. When churn risk itself differs between groups, pass
        ``control=`` (e.g. the risk band) so the gap is judged within equal risk.
    max_offer_rate_difference : float or None, default 0.10
        Largest tolerated gap in the share of customers who get an offer: the benefit itself.
    max_tpr_difference, max_fpr_difference : float or None, default 0.10
        Largest tolerated gaps in true and false positive rates (equalised odds): the model should miss
        churners, and bother loyal customers, at similar rates in every group. Unlike selection rates,
        these do not penalise real differences in base rates.
    max_mean_offer_cost_difference : float or None, default None
        Largest tolerated gap in the mean expected offer cost per customer, in money. Off by default
        because a sensible value depends on the currency and the programme; ``min_ratio`` with
        ``"mean_offer_cost"`` in ``ratio_metrics`` is a unit-free alternative.
    max_offer_mix_difference : float or None, default None
        Largest tolerated gap in the share of customers who get each offer (``offer_rate[<id>]``,
        reported when a plan gives two offers or more): a group can get offers as often as
        another and still only the cheap ones. Off by default: a plan that follows the estimated
        effects gives different rewards to groups that respond differently, and whether that is
        fair is the programme's call; the figures are always reported.
    min_ratio : float or None, default None
        Smallest tolerated ratio min / max across groups, for the metrics in ``ratio_metrics``. Off by
        default: ratios explode when rates are small (2% vs 1% is a ratio of 0.5). The four-fifths rule
        (``min_ratio=0.8``) is one convention, from US employment selection guidelines; it is available
        as :meth:`four_fifths`, not a law for marketing offers everywhere.
    ratio_metrics : tuple of str, default ("selection_rate", "offer_rate")
        Metrics ``min_ratio`` applies to.
    min_group_size : int, default 100
        Groups (or group-within-stratum cells) smaller than this are reported, not judged. The size
        is that of the people a figure is measured on: a group's churners for the TPR, its
        non-churners for the FPR, the smaller of the two for the AUC (a group of 300 with 30
        non-churners has an FPR too noisy to judge). Size alone does not make a gap real: the
        standard error of a difference of two rates measured on 100 customers each is up to 0.07,
        so two such groups with the same rate show a gap over 0.10 in 14% of samples (see
        ``significance``).
    significance : float or None, default 0.05
        A gap in a rate (selection, offer, TPR, FPR) breaks its ``max_*_difference`` only when it
        is also beyond noise: a two-proportion test of the highest and lowest groups rejects
        equal rates at this level, Bonferroni-adjusted over the pairs of judged groups (the
        summary's ``difference_p``). Without it, two groups of 100 at the same rate failed the
        default audit, and the promotion gate, in 12% of simulated samples and four such groups
        in 45%; with it, about 5% or less. ``None`` judges the gap alone.
    judge : {"auto", "raw", "conditional", "both"}, default "auto"
        Which figures are judged: the raw ones, those within ``control`` strata, or both. ``"auto"``
        judges within strata when ``control`` is given (a gap explained by risk is not the same as a gap
        at equal risk) and the raw figures otherwise. Raw figures are always reported.

    Examples
    --------
    >>> FairnessLimits(max_offer_rate_difference=0.05, min_group_size=50).min_group_size
    50
    >>> FairnessLimits.four_fifths().min_ratio
    0.8
    """

    max_selection_rate_difference: float | None = 0.10
    max_offer_rate_difference: float | None = 0.10
    max_tpr_difference: float | None = 0.10
    max_fpr_difference: float | None = 0.10
    max_mean_offer_cost_difference: float | None = None
    max_offer_mix_difference: float | None = None
    min_ratio: float | None = None
    ratio_metrics: tuple[str, ...] = ("selection_rate", "offer_rate")
    min_group_size: int = 100
    judge: Judge = "auto"
    significance: float | None = 0.05

    def __post_init__(self) -> None:
        for name, value in self.difference_limits().items():
            field = f"max_{name}_difference"
            upper = 1.0 if name in (*RATE_METRICS, OFFER_MIX) else math.inf
            if not is_real(value, finite=True) or not 0.0 <= value <= upper:
                raise ConfigError(
                    f"The {field!r} parameter of FairnessLimits must be a number in [0, {upper}] or None. "
                    f"Got {value!r} instead."
                )
        if self.min_ratio is not None and (
            not is_real(self.min_ratio, finite=True) or not 0.0 < self.min_ratio <= 1.0
        ):
            raise ConfigError(
                "The 'min_ratio' parameter of FairnessLimits must be a number in (0, 1] or None. "
                f"Got {self.min_ratio!r} instead."
            )
        if isinstance(self.ratio_metrics, str) or not isinstance(self.ratio_metrics, tuple):
            raise ConfigError(
                "The 'ratio_metrics' parameter of FairnessLimits must be a tuple of metric names. "
                f"Got {self.ratio_metrics!r} instead."
            )
        unknown = [m for m in self.ratio_metrics if m not in RATIO_METRICS]
        if unknown:
            raise ConfigError(
                f"The 'ratio_metrics' parameter of FairnessLimits must name metrics among {RATIO_METRICS}. "
                f"Got unknown {unknown} instead."
            )
        if (
            isinstance(self.min_group_size, bool)
            or not isinstance(self.min_group_size, int | np.integer)
            or self.min_group_size < 1
        ):
            raise ConfigError(
                "The 'min_group_size' parameter of FairnessLimits must be an int >= 1. "
                f"Got {self.min_group_size!r} instead."
            )
        if self.significance is not None and (
            not is_real(self.significance, finite=True) or not 0.0 < self.significance < 1.0
        ):
            raise ConfigError(
                "The 'significance' parameter of FairnessLimits must be a number in (0, 1) or None. "
                f"Got {self.significance!r} instead."
            )
        if self.judge not in _JUDGE_OPTIONS:
            raise ConfigError(
                f"The 'judge' parameter of FairnessLimits must be one of {_JUDGE_OPTIONS}. "
                f"Got {self.judge!r} instead."
            )

    @classmethod
    def four_fifths(cls, *, min_group_size: int = 100) -> FairnessLimits:
        """The four-fifths convention: every group's selection and offer rate >= 0.8 x the highest.

        It comes from the US Uniform Guidelines on Employee Selection Procedures (1978), a rule of thumb
        for adverse impact in hiring. It is one option among others, with no difference limits.
        """
        return cls(
            max_selection_rate_difference=None,
            max_offer_rate_difference=None,
            max_tpr_difference=None,
            max_fpr_difference=None,
            min_ratio=0.8,
            ratio_metrics=("selection_rate", "offer_rate"),
            min_group_size=min_group_size,
        )

    def difference_limits(self) -> dict[str, float]:
        """Metric name -> largest tolerated difference, for the limits that are set.

        :data:`OFFER_MIX` stands for every ``offer_rate[<offer_id>]`` metric.
        """
        limits = {
            "selection_rate": self.max_selection_rate_difference,
            "offer_rate": self.max_offer_rate_difference,
            "tpr": self.max_tpr_difference,
            "fpr": self.max_fpr_difference,
            "mean_offer_cost": self.max_mean_offer_cost_difference,
            OFFER_MIX: self.max_offer_mix_difference,
        }
        return {k: v for k, v in limits.items() if v is not None}

    def judged(self, *, has_control: bool) -> tuple[bool, bool]:
        """Whether the raw and the conditional figures are judged."""
        if self.judge in ("conditional", "both") and not has_control:
            raise ConfigError(
                f"FairnessLimits(judge={self.judge!r}) judges figures within control strata, but no "
                "control= was given to fairness_report. Pass control= (e.g. the risk band) or use "
                "judge='auto' or 'raw'."
            )
        if self.judge == "auto":
            return (not has_control, has_control)
        return (self.judge in ("raw", "both"), self.judge in ("conditional", "both"))


def find_violations(
    summary: pd.DataFrame, limits: FairnessLimits, *, conditional: bool
) -> pd.DataFrame:
    """The limits a summary breaks, one row per (stratum, attribute, metric, statistic).

    ``summary`` is indexed by (attribute, metric), or (control, attribute, metric) when ``conditional``,
    with at least ``difference``, ``ratio``, ``min_group`` and ``max_group`` columns.
    """
    rows = []
    differences = limits.difference_limits()
    for key, row in summary.iterrows():
        parts = key if isinstance(key, tuple) else (key,)
        stratum = parts[0] if conditional else pd.NA
        attribute, metric = parts[-2], parts[-1]
        checks = []
        judged_as = OFFER_MIX if is_offer_rate(metric) else metric
        if judged_as in differences:
            # The tiny tolerance keeps a gap exactly at the limit (up to float rounding) a pass.
            value, limit = row["difference"], differences[judged_as]
            noise = row.get("difference_p", np.nan)
            beyond_noise = (
                limits.significance is None or pd.isna(noise) or noise < limits.significance
            )
            if pd.notna(value) and value > limit + 1e-12 and beyond_noise:
                checks.append(("difference", value, limit, value - limit))
        if limits.min_ratio is not None and metric in limits.ratio_metrics:
            value, limit = row["ratio"], limits.min_ratio
            if pd.notna(value) and value < limit - 1e-12:
                checks.append(("ratio", value, limit, limit - value))
        for statistic, value, limit, excess in checks:
            rows.append(
                {
                    "attribute": attribute,
                    "metric": metric,
                    "statistic": statistic,
                    "value": float(value),
                    "limit": float(limit),
                    "excess": float(excess),
                    "conditional": conditional,
                    "stratum": stratum,
                    "min_group": row["min_group"],
                    "max_group": row["max_group"],
                }
            )
    return pd.DataFrame(rows, columns=VIOLATION_COLUMNS).astype(
        {"value": float, "limit": float, "excess": float, "conditional": bool}
    )
