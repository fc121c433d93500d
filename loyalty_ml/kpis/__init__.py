"""Programme KPIs and incrementality measurement (DESIGN.md section 8).

- :func:`summary`: active customers, orders, revenue, AOV, frequency, repeat rate, retention and churn.
- :func:`clv_lifetime`, :func:`clv_margin_churn`, :func:`clv_discounted`: the three CLV forms.
- :func:`measure_campaign`: incrementality of each offer against its control group, ROI and payback.
- :func:`active_members`, :func:`points_liability`, :func:`tier_distribution`,
  :func:`propose_tiers`, :func:`estimate_tier_costs`: programme health.
- :func:`cohort_retention`, :func:`retention_curves` and their plots: retention by acquisition cohort.
"""

from __future__ import annotations

from loyalty_ml.kpis.campaigns import measure_campaign
from loyalty_ml.kpis.clv import clv_discounted, clv_inputs, clv_lifetime, clv_margin_churn
from loyalty_ml.kpis.cohorts import (
    cohort_counts,
    cohort_retention,
    plot_cohort_heatmap,
    plot_retention_curves,
    retention_curves,
)
from loyalty_ml.kpis.health import (
    TierBenefit,
    active_members,
    estimate_tier_costs,
    points_liability,
    propose_tiers,
    tier_distribution,
)
from loyalty_ml.kpis.summary import summary

__all__ = [
    "TierBenefit",
    "active_members",
    "clv_discounted",
    "clv_inputs",
    "clv_lifetime",
    "clv_margin_churn",
    "cohort_counts",
    "cohort_retention",
    "estimate_tier_costs",
    "measure_campaign",
    "plot_cohort_heatmap",
    "plot_retention_curves",
    "points_liability",
    "propose_tiers",
    "retention_curves",
    "summary",
    "tier_distribution",
]
