"""The programme report: KPIs, cohort retention, churn model quality, uplift curves and fairness.

:func:`write_report` writes one self-contained HTML file (figures embedded as base64 PNG, nothing
fetched) plus the figures as PNG files. Each section is built by its own function in
:mod:`loyalty_ml.reporting.sections`; :mod:`loyalty_ml.reporting.html` renders and writes them.
"""

from __future__ import annotations

from loyalty_ml.reporting.html import ReportFigure, ReportTable, Section, render_html
from loyalty_ml.reporting.report import REPORT_FILE, write_report

__all__ = [
    "REPORT_FILE",
    "ReportFigure",
    "ReportTable",
    "Section",
    "render_html",
    "write_report",
]
