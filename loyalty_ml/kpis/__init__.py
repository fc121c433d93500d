"""Programme KPIs and incrementality measurement (DESIGN.md section 8).

- :func:`summary`: active customers, orders, revenue, AOV, frequency, repeat rate, retention and churn.
"""

from __future__ import annotations

from loyalty_ml.kpis.summary import summary

__all__ = ["summary"]
