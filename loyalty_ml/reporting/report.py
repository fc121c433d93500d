"""``write_report``: the programme report as one self-contained HTML file plus its figures as PNG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loyalty_ml._checks import MAX_WINDOW_DAYS
from loyalty_ml.exceptions import ConfigError, DataError, NotFittedError
from loyalty_ml.kpis._common import check_period, check_sent_at, check_transactions, to_bound
from loyalty_ml.reporting.html import Section, render_html, write_atomically
from loyalty_ml.reporting.sections import (
    check_churn_inputs,
    check_fairness_report,
    churn_section,
    cohort_section,
    fairness_section,
    kpi_section,
    select_uplift_campaign,
    uplift_section,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import refuse_repeated_ids, require_columns
from loyalty_ml.schema._coerce_time import plus_days, shift_on_clock
from loyalty_ml.schema._ids import align_table_ids
from loyalty_ml.schema.tables import strip_offer_ids

if TYPE_CHECKING:
    from loyalty_ml.evaluation.fairness import FairnessReport
    from loyalty_ml.features.config import FeatureConfig

__all__ = ["REPORT_FILE", "write_report"]

#: Name of the HTML file inside ``out_dir``.
REPORT_FILE = "report.html"
_DEFAULT_PERIOD_DAYS = 90


def write_report(
    transactions: pd.DataFrame,
    out_dir: str | Path,
    *,
    period_start: object = None,
    period_end: object = None,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    offers: pd.DataFrame | None = None,
    churn: Any = None,
    X: pd.DataFrame | None = None,
    y: Any = None,
    uplift: Any = None,
    fairness: FairnessReport | None = None,
    title: str = "Loyalty programme report",
    response_window_days: int = 30,
    uplift_campaign_id: str | None = None,
    feature_config: FeatureConfig | None = None,
    fairness_min_count: int = 10,
    previous_start: object = None,
) -> Path:
    """Write the programme report: ``out_dir/report.html`` (self-contained) and one PNG per figure.

    Sections, as far as the inputs allow:

    - **Programme KPIs** (always): ``kpis.summary`` over ``[period_start, period_end)`` with retention
      against the previous period of the same length, active members, tiers (with ``customers``), and
      campaigns sent in the period against their control group (with ``campaigns`` and ``offers``).
    - **Cohort retention** (always): monthly acquisition cohorts up to ``period_end``.
    - **Churn model quality**: with ``churn`` (a fitted ChurnModel), ``X`` (features) and ``y`` (the
      observed churn labels of those rows); ROC/PR AUC, calibration, lift and the top drivers.
    - **Uplift**: with ``uplift`` (a fitted UpliftModel) and ``campaigns``; Qini curves and metrics
      on one randomised campaign: ``uplift_campaign_id``, else the latest closed one with at least
      10 control rows and 10 rows of an offer the model knows (the smallest arm the report draws;
      of campaigns sent together, such as one night's per-offer campaigns, the one with the most
      rows). Without such a campaign the section only says so.
    - **Fairness**: with ``fairness`` (a FairnessReport); groups under ``fairness_min_count``
      customers are blanked.

    The report holds aggregates only: no customer id and no personal attribute of any customer. The
    HTML embeds its figures as base64 PNG and fetches nothing. Each file is written atomically, so a
    reader sees the old report or the complete new one.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (e.g. from ``validate_transactions``).
    out_dir : str or Path
        Folder of the report (created if needed; the report's files in it are replaced).
    period_start, period_end : date-like, optional
        The KPI period ``[period_start, period_end)``. Default: ``period_end`` is the day after the
        last transaction and ``period_start`` 90 days before it.
    customers, campaigns, offers : DataFrame, optional
        Canonical tables; see above for what each enables.
    churn, X, y
        A fitted churn model and labelled features, all three or none.
    uplift : UpliftModel, optional
        Needs ``campaigns``.
    fairness : FairnessReport, optional
        From ``loyalty_ml.fairness_report``.
    title : str
        Title of the report.
    response_window_days : int
        Response window of campaigns (days after ``sent_at``, 1 to 3,650), for campaign results
        and uplift.
    uplift_campaign_id : str, optional
        Campaign the uplift model is evaluated on (default: chosen as above). It must have closed
        by ``period_end`` and hold control rows and an arm the model knows; a small one is shown
        with its arms' counts only.
    feature_config : FeatureConfig, optional
        Feature configuration the uplift model was trained with (default features otherwise).
    fairness_min_count : int
        Smallest group whose fairness figures are shown.
    previous_start : date-like, optional
        Start of the period retention is measured against (its customers active again in the KPI
        period). Default: the period of the same length just before, when the data covers it.

    Returns
    -------
    Path
        The path of ``report.html``.

    Examples
    --------
    >>> import tempfile
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-02-10"]),
    ...                    "amount": [10.0, 20.0, 30.0]})
    >>> path = write_report(tx, tempfile.mkdtemp())
    >>> path.name
    'report.html'
    """
    tx = check_transactions(transactions)
    if len(tx) == 0:
        raise DataError("transactions is empty; there is nothing to report on.")
    if (
        isinstance(response_window_days, bool)
        or not isinstance(response_window_days, int | np.integer)
        or not 1 <= response_window_days <= MAX_WINDOW_DAYS
    ):
        raise ConfigError(
            "The 'response_window_days' parameter of write_report must be an int from 1 to "
            f"{MAX_WINDOW_DAYS:,} (ten years). Got {response_window_days!r} instead."
        )
    if not isinstance(title, str):
        raise ConfigError(
            f"The 'title' parameter of write_report must be a str. Got {type(title).__name__}."
        )
    if not isinstance(out_dir, str | Path) or Path(out_dir).is_file():
        what = "an existing file" if isinstance(out_dir, str | Path) else type(out_dir).__name__
        raise ConfigError(
            "The 'out_dir' parameter of write_report must be the path of a folder (created when "
            f"missing). Got {what}: {out_dir!r}."
        )
    given = {"churn": churn is not None, "X": X is not None, "y": y is not None}
    if any(given.values()) and not all(given.values()):
        missing = [name for name, present in given.items() if not present]
        raise ConfigError(
            f"write_report: the churn section needs churn, X and y together; {missing} "
            "missing. Pass all three (a fitted ChurnModel, features and their churn labels) or none."
        )
    from loyalty_ml.models.uplift import UpliftModel

    if isinstance(uplift, UpliftModel) and not hasattr(uplift, "learner_"):
        raise NotFittedError(
            "write_report: the uplift model is not fitted; fit it on the experiment rows (or "
            "load the registered one) before reporting on it."
        )
    if uplift is not None and campaigns is None:
        raise ConfigError(
            "write_report: the uplift section needs the campaigns the model is evaluated on; pass "
            "campaigns=..., or drop uplift."
        )

    start, end, previous = report_period(tx, period_start, period_end)
    if previous_start is not None:
        previous = to_bound(previous_start, name="previous_start", timestamps=tx[C.TIMESTAMP])
        if previous >= start:
            raise ConfigError(
                f"previous_start must be before period_start; got previous_start={previous}, "
                f"period_start={start}."
            )
    # Every input is checked before any section is computed: a mistake costs no waiting.
    # ids as the transactions hold them (a CSV's text ids next to a Parquet file's integers)
    customers = align_table_ids(customers, tx, table="customers", caller="write_report")
    if customers is not None and C.CUSTOMER_ID in customers.columns:
        # a member listed twice would count twice in the tiers
        refuse_repeated_ids(pd.Index(customers[C.CUSTOMER_ID]), what="write_report: customers")
    campaigns = align_table_ids(campaigns, tx, table="campaigns", caller="write_report")
    if campaigns is not None:
        require_columns(campaigns, (C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT), table="campaigns")
        campaigns = strip_offer_ids(campaigns)  # "control   " from a fixed-width export
        check_sent_at(campaigns[C.SENT_AT], tx[C.TIMESTAMP], table="campaigns")
    if churn is not None and X is not None:
        check_churn_inputs(churn, X, y)
    if uplift is not None and campaigns is not None:
        select_uplift_campaign(
            uplift,
            campaigns,
            as_of=end,
            window_days=int(response_window_days),
            campaign_id=uplift_campaign_id,
        )
    if fairness is not None:
        check_fairness_report(fairness)
    sections: list[Section] = [
        kpi_section(
            tx,
            period_start=start,
            period_end=end,
            previous_start=previous,
            customers=customers,
            campaigns=campaigns,
            offers=offers,
            window_days=int(response_window_days),
        ),
        cohort_section(tx, as_of=end),
    ]
    if churn is not None and X is not None:
        sections.append(churn_section(churn, X, y))
    if uplift is not None and campaigns is not None:
        sections.append(
            uplift_section(
                uplift,
                tx,
                campaigns=campaigns,
                as_of=end,
                window_days=int(response_window_days),
                campaign_id=uplift_campaign_id,
                customers=customers,
                feature_config=feature_config,
            )
        )
    if fairness is not None:
        sections.append(fairness_section(fairness, min_count=fairness_min_count))

    out = Path(out_dir)
    for section in sections:
        for figure in section.figures:
            write_atomically(out / f"{figure.name}.png", figure.png)
    subtitle = (
        f"KPI period [{start:%Y-%m-%d}, {end:%Y-%m-%d}); data from "
        f"{tx[C.TIMESTAMP].min():%Y-%m-%d} to {tx[C.TIMESTAMP].max():%Y-%m-%d}. "
        "Aggregates only: no customer identifiers or personal attributes."
    )
    path = out / REPORT_FILE
    write_atomically(
        path, render_html(title=title, subtitle=subtitle, sections=sections).encode("utf-8")
    )
    return path


def report_period(
    tx: pd.DataFrame, period_start: object, period_end: object
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp | None]:
    """The KPI period and the start of the previous period of the same length (when data covers it).

    Without bounds: the last 90 days of the data, ending the day after the last transaction.
    """
    ts = tx[C.TIMESTAMP]
    if period_end is None:
        # the next midnight on the data's clock (a 25-hour day would lose its last hour)
        end = plus_days(pd.Timestamp(ts.max()).normalize(), 1)
    else:
        end = to_bound(period_end, name="period_end", timestamps=ts)
    if period_start is None:
        # calendar days on the data's wall clock: across a daylight-saving change 90 x 24 hours
        # would start at 23:00 the day before the one the report names
        start = end - pd.DateOffset(days=_DEFAULT_PERIOD_DAYS)
    else:
        start = to_bound(period_start, name="period_start", timestamps=ts)
    check_period(start, end)
    # as long on the wall clock: a daylight-saving change would move its start by an hour
    wall_length = _wall(end) - _wall(start)
    previous = shift_on_clock(start, -wall_length)
    # A previous period cut short by the start of the data would measure retention over a shorter
    # window than the period itself; leave retention out rather than mislead.
    return start, end, previous if previous >= pd.Timestamp(ts.min()).normalize() else None


def _wall(value: pd.Timestamp) -> pd.Timestamp:
    """The clock reading of ``value`` (naive values are their own)."""
    return value.tz_localize(None) if value.tzinfo is not None else value
