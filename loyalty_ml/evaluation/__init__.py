"""Evaluation: churn metrics, uplift metrics and fairness audits."""
