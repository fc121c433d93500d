"""Programme KPIs and incrementality measurement (DESIGN.md section 8).

- :func:`summary`: active customers, orders, revenue, AOV, frequency, repeat rate, retention and churn.
- :func:`cohort_retention`, :func:`retention_curves` and their plots: retention by acquisition cohort.
"""

from __future__ import annotations

from loyalty_ml.kpis.cohorts import (
    cohort_counts,
    cohort_retention,
    plot_cohort_heatmap,
    plot_retention_curves,
    retention_curves,
)
from loyalty_ml.kpis.summary import summary

__all__ = [
    "cohort_counts",
    "cohort_retention",
    "plot_cohort_heatmap",
    "plot_retention_curves",
    "retention_curves",
    "summary",
]
