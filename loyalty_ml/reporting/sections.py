"""The sections of the programme report, one function each: KPIs, cohorts, churn, uplift, fairness.

Every section holds aggregates only: counts, rates, curves and group-level figures. No customer id and
no personal attribute of a customer reaches a section (fairness groups are shown as group labels with
small groups blanked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from loyalty_ml._plot_text import literal
from loyalty_ml.exceptions import ConfigError, DataError, format_examples, index_hint
from loyalty_ml.privacy.cells import MIN_CELL_SIZE, blank_small_cohorts, blank_small_rows
from loyalty_ml.reporting.html import ReportFigure, ReportTable, Section, figure_to_png
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce_time import plus_days
from loyalty_ml.schema._data_end import stated_before

if TYPE_CHECKING:
    from loyalty_ml.evaluation.fairness import FairnessReport
    from loyalty_ml.features.config import FeatureConfig

__all__ = [
    "check_churn_inputs",
    "check_fairness_report",
    "churn_section",
    "cohort_section",
    "data_days_in_period",
    "fairness_section",
    "kpi_section",
    "select_uplift_campaign",
    "uplift_section",
]

#: Campaign measurement columns shown in the report (the full table has CIs of every figure).
_CAMPAIGN_COLUMNS = (
    "n_treated",
    "n_control",
    "redemption_rate",
    "conversion_rate",
    "control_rate",
    "uplift",
    "uplift_low",
    "uplift_high",
    "relative_uplift",
    "relative_uplift_low",
    "relative_uplift_high",
    "incremental_revenue",
    "incremental_profit",
    "reward_cost",
    "cannibalisation_share",
    "roi",
)


def _figure(name: str, caption: str, fig: Figure) -> ReportFigure:
    return ReportFigure(name=name, caption=caption, png=figure_to_png(fig))


# -- KPIs ----------------------------------------------------------------------------------------------
def data_days_in_period(
    transactions: pd.DataFrame, period_start: pd.Timestamp, period_end: pd.Timestamp
) -> tuple[pd.Timestamp, int, int] | None:
    """The first day of the data, the period's days from it and the period's length in days, when
    the data starts after the period does (else None)."""
    if transactions.empty:
        return None
    first = pd.Timestamp(transactions[C.TIMESTAMP].min()).normalize()
    if first <= period_start or first >= period_end:
        return None
    return first, int((period_end - first).days), int((period_end - period_start).days)


def kpi_section(
    transactions: pd.DataFrame,
    *,
    period_start: pd.Timestamp,
    period_end: pd.Timestamp,
    previous_start: pd.Timestamp | None = None,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    offers: pd.DataFrame | None = None,
    window_days: int = 30,
) -> Section:
    """Headline KPIs of the period, membership health and, with campaigns and offers, their results.

    Campaigns are measured against their own control group (``kpis.measure_campaign``, by campaign and
    offer) when their response window of ``window_days`` closed in the period (its results became
    known then): ``period_start < sent_at + window_days <= period_end``.
    """
    from loyalty_ml.kpis import active_members, measure_campaign, summary, tier_distribution

    values = summary(
        transactions,
        period_start=period_start,
        period_end=period_end,
        previous_start=previous_start,
    )
    tables = [ReportTable(caption="Programme KPIs over the period", frame=values.to_frame("value"))]
    members = active_members(transactions, as_of=period_end, customers=customers)
    tables.append(
        ReportTable(
            caption="Members active in the 90 days before the end of the period",
            frame=members.to_frame("value"),
        )
    )
    if customers is not None and C.TIER in customers.columns:
        tiers = customers[C.TIER]
        if C.SIGNUP_DATE in customers.columns:
            # the members of the table beside it: joined before the end of the period (or unknown)
            signup = _signup_on_the_clock_of(customers[C.SIGNUP_DATE], period_end)
            tiers = tiers[(signup.isna() | (signup < period_end)).to_numpy()]
        tables.append(ReportTable(caption="Members by tier", frame=tier_distribution(tiers)))
    notes = [
        "Orders are distinct (customer, order) pairs, dated by their first line; AOV = the value "
        "of the period's orders / orders (revenue / orders, less any refund or later line of an "
        "order begun before the period, which counts in revenue only); purchase frequency = "
        "orders per active customer in the period; retention = share of the previous period's "
        "customers active again."
    ]
    in_window = transactions[C.TIMESTAMP].between(period_start, period_end, inclusive="left")
    if not in_window.any():
        notes.insert(
            0,
            "There are no transactions in the period: counts are 0 and AOV, frequency and rates are "
            "not defined (blank).",
        )
    elif not (transactions.loc[in_window, C.AMOUNT] >= 0).any():  # a purchase line, as summary
        notes.insert(
            0,
            "Every transaction in the period is a return or refund (no purchase): revenue is "
            "negative, no customer counts as active (a return is not a purchase), and AOV, "
            "frequency and rates are not defined (blank).",
        )
    covered = data_days_in_period(transactions, period_start, period_end)
    if covered is not None:
        first, days, length = covered
        # the default period is 90 days whatever the data: a month's extract fills a third of it
        notes.insert(
            0,
            f"The data starts on {first.date()}: it covers {days} of the period's {length} days, "
            "and every count is of those days.",
        )
    if previous_start is None:
        notes.append(
            "Retention and churn against the previous period are left out: the data does not cover "
            "a previous period as long as this one (pass an earlier previous_start, or a later "
            "period)."
        )
    if campaigns is not None and offers is not None:
        closed = _closed_campaigns(campaigns, period_end, window_days)
        ends = plus_days(closed[C.SENT_AT], window_days)
        in_period = closed.loc[(ends > period_start).to_numpy()]
        skipped: list[str] = []
        if len(in_period) and C.CAMPAIGN_ID in in_period.columns:
            # a broadcast (no control group) cannot be measured: show the others, name it
            has_control = (
                (in_period[C.OFFER_ID] == C.CONTROL)
                .groupby(in_period[C.CAMPAIGN_ID])
                .transform("any")
            )
            skipped = sorted(
                map(str, in_period.loc[~has_control.to_numpy(), C.CAMPAIGN_ID].unique())
            )
            in_period = in_period.loc[has_control.to_numpy()]
        if skipped:
            notes.append(
                f"Campaigns without a control group cannot be measured and are left out: "
                f"{', '.join(skipped)}."
            )
        if len(in_period) and (in_period[C.OFFER_ID] == C.CONTROL).any():
            by = [C.CAMPAIGN_ID, C.OFFER_ID] if C.CAMPAIGN_ID in in_period.columns else C.OFFER_ID
            # every window shown closed by period_end; when the data stop well before it,
            # measure_campaign is not told they reach it, and warns of the windows they cut short
            last = transactions[C.TIMESTAMP].max()
            reaches = pd.notna(last) and last + pd.Timedelta(days=1) >= period_end
            # stated complete up to period_end, not through its day (on dates without times a
            # stated midnight names a day observed to its end: schema._data_end)
            measured = measure_campaign(
                in_period,
                transactions,
                offers,
                window_days=window_days,
                by=by,
                observation_end=(
                    stated_before(period_end, transactions[C.TIMESTAMP]) if reaches else None
                ),
            )
            known = in_period[C.CUSTOMER_ID].isin(transactions[C.CUSTOMER_ID])
            if known.mean() < 0.5:
                # ids written another way (integers against text with leading zeros): every
                # arm reads no purchase, and the table alone would not say why
                notes.append(
                    f"Only {known.sum():,} of the {len(known):,} campaign rows name a customer "
                    "found in the transactions, so conversions, revenue and ROI read low: check "
                    "that both tables write customer ids alike (leading zeros, numbers as text)."
                )
            shown = measured[[c for c in _CAMPAIGN_COLUMNS if c in measured.columns]]
            # an arm (or control group) of a few customers would show their own purchases
            sizes = shown[["n_treated", "n_control"]].min(axis=1)
            shown = blank_small_rows(shown, sizes, keep=("n_treated", "n_control"))
            tables.append(
                ReportTable(
                    caption=f"Campaigns whose results came in during the period, against their control group "
                    f"({window_days}-day response window, 95% CIs)",
                    frame=shown,
                )
            )
            if (sizes < MIN_CELL_SIZE).any():
                notes.append(
                    f"Arms or control groups of fewer than {MIN_CELL_SIZE} customers show their "
                    "counts only."
                )
            notes.append(
                "Uplift = conversion rate of the offer minus that of the control group (in "
                "points); relative uplift = that difference over the control group's rate, "
                "(treatment - control) / control; incremental profit = incremental margin minus "
                "reward costs; cannibalisation share = the share of redemption cost paid to "
                "customers who would have bought anyway."
            )
        else:
            notes.append(
                f"No campaign with a control group had its {window_days}-day response window close "
                "in the period; no campaign results are shown."
            )
    return Section(
        key="kpis",
        title="Programme KPIs",
        paragraphs=(
            f"Period [{period_start:%Y-%m-%d}, {period_end:%Y-%m-%d})"
            + (f", previous period from {previous_start:%Y-%m-%d}." if previous_start else "."),
        ),
        tables=tuple(tables),
        notes=tuple(notes),
    )


def _closed_campaigns(
    campaigns: pd.DataFrame, as_of: pd.Timestamp, window_days: int
) -> pd.DataFrame:
    """Campaign rows whose response window ``[sent_at, sent_at + window_days)`` ended by ``as_of``."""
    missing = [c for c in (C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT) if c not in campaigns.columns]
    if missing:
        raise ConfigError(
            f"campaigns lacks the columns {missing}; it has {list(campaigns.columns)}."
            f"{index_hint(campaigns, missing)} Run loyalty_ml.validate_campaigns first."
        )
    # calendar days on the data's clock, as measure_campaign counts them (DST days included)
    ends = plus_days(campaigns[C.SENT_AT], window_days)
    return campaigns.loc[(ends <= as_of).to_numpy()]


# -- cohorts -------------------------------------------------------------------------------------------
def cohort_section(
    transactions: pd.DataFrame, *, as_of: pd.Timestamp, max_cohorts: int = 24
) -> Section:
    """Monthly acquisition cohorts (the latest ``max_cohorts``): retention heatmap and pooled curve."""
    from loyalty_ml.kpis import (
        cohort_retention,
        plot_cohort_heatmap,
        plot_retention_curves,
        retention_curves,
    )
    from loyalty_ml.kpis._common import purchase_lines

    bought = purchase_lines(transactions)
    if not (bought[C.TIMESTAMP] < as_of).any():  # only returns (kept by validation) so far
        return Section(
            key="cohorts",
            title="Cohort retention",
            paragraphs=(
                f"No purchase before {as_of.date()}, only returns: no customer has a first "
                "purchase to start a cohort.",
            ),
        )
    retention = cohort_retention(transactions, freq="M", as_of=as_of)
    # a cohort of a few customers would show their own months of purchase
    retention = blank_small_cohorts(retention, transactions, freq="M", as_of=as_of)
    shown = retention.tail(max_cohorts)
    shown = shown.loc[:, shown.notna().any(axis=0)]
    curves = retention_curves(transactions, freq="M", as_of=as_of)
    heatmap = plot_cohort_heatmap(shown, title="Monthly cohort retention") if shown.size else None
    curve_fig = plot_retention_curves(curves, title="Retention by months since first purchase")
    milestones = [k for k in (1, 3, 6, 12) if k in curves.index]
    table = curves.loc[milestones].rename_axis("months since first purchase")
    tables = (
        (ReportTable(caption="Pooled retention at milestones", frame=table),) if len(table) else ()
    )
    notes = (
        "The last month may be partial; it ends at the end of the report period.",
        f"Cohorts of fewer than {MIN_CELL_SIZE} customers are left blank"
        + ("." if heatmap is not None else ": every cohort is, so there is no heatmap."),
        *(
            ()
            if len(table)
            else ("No cohort is a month old yet: retention at 1, 3, 6 and 12 months is not shown.",)
        ),
    )
    return Section(
        key="cohorts",
        title="Cohort retention",
        paragraphs=(
            "Each row of the heatmap is the customers whose first purchase fell in that month; a cell "
            "is the share of them who bought again k months later. The curve pools the cohorts, each "
            "weighted by its size, over the months each cohort can be observed.",
        ),
        tables=tables,
        notes=notes,
        figures=(
            *(
                ()
                if heatmap is None
                else (_figure("cohort_retention", "Monthly cohort retention", heatmap),)
            ),
            _figure("retention_curve", "Pooled retention curve", curve_fig),
        ),
    )


# -- churn ---------------------------------------------------------------------------------------------
def _signup_on_the_clock_of(values: pd.Series, period_end: pd.Timestamp) -> pd.Series:
    """Signup dates comparable with ``period_end``: zone-aware ones (or text with offsets, even
    mixed ones) are read in UTC and set on the clock of ``period_end``; what is not a date is
    missing (a member of unknown signup date counts)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or (
        not pd.api.types.is_datetime64_dtype(values.dtype)
        and values.astype(str).str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).any()
    ):
        aware = pd.to_datetime(values, errors="coerce", utc=True)
        zone = period_end.tz
        return aware.dt.tz_convert(zone) if zone is not None else aware.dt.tz_localize(None)
    signup = pd.to_datetime(values, errors="coerce")
    if period_end.tz is not None and signup.dt.tz is None:
        signup = signup.dt.tz_localize(period_end.tz, ambiguous="NaT", nonexistent="NaT")
    return signup


def check_churn_inputs(model: Any, X: pd.DataFrame, y: Any) -> Any:
    """Check the churn section's inputs before any work; return ``y`` in the row order of ``X``."""
    if not hasattr(model, "predict_proba"):
        raise ConfigError(
            f"churn must be a fitted ChurnModel (or a classifier with predict_proba); got "
            f"{type(model).__name__}."
        )
    if np.ndim(y) != 1:
        raise DataError(
            f"y must be one churn label per row of X (a Series or 1-D array); got "
            f"{type(y).__name__} of {np.ndim(y)} dimension(s)."
        )
    if len(X) != len(y):
        raise DataError(f"X has {len(X)} rows but y has {len(y)}; pass labels aligned with X.")
    if isinstance(y, pd.Series):
        if y.index.has_duplicates:
            raise DataError(
                "y lists some ids more than once; pass one label per row of X, e.g. y.loc[X.index]."
            )
        extra = y.index.difference(X.index)
        if len(extra):
            raise DataError(
                f"y is indexed by ids that X lacks ({len(extra)} of them); pass labels aligned with "
                "X, e.g. y.loc[X.index]."
            )
        y = y.loc[X.index]
    return y


def churn_section(
    model: Any, X: pd.DataFrame, y: Any, *, max_explained_rows: int = 2_000, random_state: int = 0
) -> Section:
    """Ranking, calibration and lift of a fitted churn model on labelled features, and its drivers.

    Drivers are the mean absolute SHAP contribution of each feature over (a seeded sample of at most
    ``max_explained_rows``) rows of ``X``: an aggregate, never a customer's own values.
    """
    from loyalty_ml.evaluation.churn_metrics import evaluate_churn

    y = check_churn_inputs(model, X, y)
    p = model.predict_proba(X)[:, 1]
    evaluation = evaluate_churn(np.asarray(y), p)
    metrics = pd.Series(evaluation.as_dict(), name="value").to_frame()
    tables = [
        ReportTable(caption="Churn model quality", frame=metrics),
        ReportTable(caption="Calibration by equal-frequency bin", frame=evaluation.calibration),
        ReportTable(caption="Lift by decile of churn score (1 = highest)", frame=evaluation.lift),
    ]
    figures = [
        _figure(
            "churn_calibration", "Calibration (reliability diagram)", evaluation.plot_calibration()
        ),
        _figure("churn_lift", "Lift and cumulative capture by decile", evaluation.plot_lift()),
    ]
    drivers = _mean_abs_shap(model, X, max_explained_rows, random_state)
    if drivers is not None:
        top = drivers.head(15)
        tables.append(
            ReportTable(caption="Top churn drivers (mean |SHAP|, log-odds)", frame=top.to_frame())
        )
        figures.append(_figure("churn_drivers", "Top churn drivers", _plot_drivers(top)))
    return Section(
        key="churn",
        title="Churn model quality",
        paragraphs=(
            f"Scored {evaluation.n:,} customers with an observed churn rate of "
            f"{evaluation.base_rate:.1%}. ROC AUC {evaluation.roc_auc:.3f}, PR AUC "
            f"{evaluation.pr_auc:.3f}, Brier {evaluation.brier:.4f}, ECE {evaluation.ece:.4f}; "
            f"the top decile holds {evaluation.capture_top_decile:.1%} of churners "
            f"({evaluation.lift_top_decile:.2f}x the base rate).",
        ),
        tables=tuple(tables),
        figures=tuple(figures),
        notes=(
            "These figures are only honest on labelled rows the model was not trained on (a later "
            "as_of than its training cutoffs).",
        ),
    )


def _mean_abs_shap(model: Any, X: pd.DataFrame, max_rows: int, seed: int) -> pd.Series | None:
    if not hasattr(model, "shap_values"):
        return None
    rows = X if len(X) <= max_rows else X.sample(n=max_rows, random_state=seed)
    values = model.shap_values(rows)
    return values.abs().mean().sort_values(ascending=False).rename("mean_abs_shap")


def _plot_drivers(drivers: pd.Series) -> Figure:
    fig = Figure(figsize=(7, 0.35 * len(drivers) + 1.2), layout="constrained")
    ax = fig.subplots()
    ordered = drivers.iloc[::-1]
    ax.barh([literal(n) for n in ordered.index], ordered.to_numpy(), color="tab:blue")
    ax.set_xlabel("mean |SHAP value| (log-odds of churn)")
    ax.set_title("What drives the churn score")
    return fig


# -- uplift --------------------------------------------------------------------------------------------
def _model_arms(model: Any) -> tuple[str, set[str]]:
    """The control label of an uplift model and every arm it can score (the control included)."""
    control = getattr(model, "control_", C.CONTROL)
    return control, {control, *map(str, getattr(model, "arms_", ()))}


def select_uplift_campaign(
    model: Any,
    campaigns: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    window_days: int,
    campaign_id: str | None = None,
) -> pd.DataFrame | None:
    """The campaign rows the uplift model is evaluated on (checked before any work is done).

    ``campaign_id`` names the campaign; its response window must have closed by ``as_of``
    (:func:`uplift_section` refuses it when it has no control rows or no arm the model knows).
    Without it, the latest campaign that closed among those the section can draw a curve for: at
    least :data:`~loyalty_ml.privacy.cells.MIN_CELL_SIZE` control rows and as many of one arm the
    model knows (a smaller arm shows its count only). Campaigns sent at the same time, such as the
    per-offer campaigns of one night of ``nightly_sends``, are ranked by their number of rows, then
    by id. None when no campaign that closed is that large.
    """
    if not hasattr(model, "predict_effects"):
        raise ConfigError(f"uplift must be a fitted UpliftModel; got {type(model).__name__}.")
    closed = _closed_campaigns(campaigns, as_of, window_days)
    key = C.CAMPAIGN_ID if C.CAMPAIGN_ID in closed.columns else C.SENT_AT
    available = list(pd.unique(closed[key]))
    if campaign_id is None:
        if not available:
            raise DataError(
                f"No campaign has a {window_days}-day response window that closed by {as_of:%Y-%m-%d}; "
                "the uplift model cannot be evaluated. Pass a later period_end or drop uplift."
            )
        control, known = _model_arms(model)
        # rows of each arm the model can score, per campaign; a smaller control group or arm
        # would show its count only, and no curve (uplift_section)
        counts = pd.crosstab(closed[key], closed[C.OFFER_ID].astype("str"))
        counts = counts.reindex(columns=sorted(known, key=str), fill_value=0)
        largest_offer = counts.drop(columns=control).max(axis=1)
        drawn = (counts[control] >= MIN_CELL_SIZE) & (largest_offer >= MIN_CELL_SIZE)
        if not drawn.any():
            return None
        by_campaign = closed.groupby(key)
        ranks = pd.DataFrame({"sent": by_campaign[C.SENT_AT].max(), "rows": by_campaign.size()})
        ranks = ranks.loc[drawn.index[drawn.to_numpy()]].rename_axis("id").reset_index()
        # the latest, then the most rows, then the last id: never by the order of the table's rows
        ranks["name"] = ranks["id"].astype("str")
        campaign_id = ranks.sort_values(["sent", "rows", "name"])["id"].iloc[-1]
    elif campaign_id not in available and str(campaign_id) in {str(v) for v in available}:
        # "7" from the command line names the campaign 7 of a Parquet file's integer ids
        campaign_id = next(v for v in available if str(v) == str(campaign_id))
    elif campaign_id not in available:
        raise ConfigError(
            f"uplift_campaign_id={campaign_id!r} is not a campaign whose response window closed by "
            f"{as_of:%Y-%m-%d}; those are {format_examples(available, total=len(available))}."
        )
    return closed.loc[(closed[key] == campaign_id).to_numpy()]


#: Share of each arm the uplift metric of the report reads (uplift at the top 30%).
_TOP_K = 0.3


def _left_out_text(left_out: dict[str, int], n_rows: int) -> str:
    """``" (of its 1,219 rows, left out: 74 of customers without profiling consent)"``; empty when
    every row was scored."""
    reasons = [f"{n:,} {why}" for why, n in left_out.items() if n > 0]
    if not reasons:
        return ""
    return f" (of its {n_rows:,} rows, left out: {'; '.join(reasons)})"


def uplift_section(
    model: Any,
    transactions: pd.DataFrame,
    *,
    campaigns: pd.DataFrame,
    as_of: pd.Timestamp,
    window_days: int = 30,
    campaign_id: str | None = None,
    customers: pd.DataFrame | None = None,
    feature_config: FeatureConfig | None = None,
) -> Section:
    """Qini curves and uplift metrics of an uplift model on one randomised campaign.

    The campaign is ``campaign_id``, or else the latest one whose response window closed by ``as_of``
    among those with enough control and offer rows for a curve (see
    :func:`select_uplift_campaign`); without any such campaign the section holds a note saying so
    and nothing else. Each of its customers is described by the features known at the send date,
    scored, and compared with what they did in the response window (a purchase).
    """
    from loyalty_ml.evaluation.uplift_metrics import plot_uplift_curves, uplift_report
    from loyalty_ml.features import build_features
    from loyalty_ml.features.responses import campaign_responses
    from loyalty_ml.privacy.consent import profiled_only

    chosen = select_uplift_campaign(
        model, campaigns, as_of=as_of, window_days=window_days, campaign_id=campaign_id
    )
    if chosen is None:
        return Section(
            key="uplift",
            title="Uplift model: Qini curves",
            paragraphs=(
                f"The uplift model is not evaluated: no campaign whose {window_days}-day response "
                f"window closed by {as_of:%Y-%m-%d} has {MIN_CELL_SIZE} or more control rows and "
                "as many rows of one offer the model knows, the fewest the report draws a curve "
                "for.",
            ),
            notes=(
                "Small campaigns, such as the per-offer campaigns of one night of nightly_sends, "
                "are passed over; name a campaign (uplift_campaign_id, or --uplift-campaign-id of "
                "loyalty-ml report) to evaluate the model on it anyway.",
            ),
        )
    rows = chosen
    # the rows left out, and why, so that the counts below add up to the campaign's
    left_out: dict[str, int] = {}
    campaign_id = rows[C.CAMPAIGN_ID if C.CAMPAIGN_ID in rows.columns else C.SENT_AT].iloc[0]
    sent = pd.Timestamp(rows[C.SENT_AT].min())
    if customers is not None and C.CUSTOMER_ID not in customers.columns:
        # validate_customers returns the id as the index; build_features wants it as a column
        customers = customers.reset_index()
    # scoring a customer with the uplift model is profiling: only those who allow it
    transactions, customers, _ = profiled_only(transactions, customers)
    if customers is not None:
        allowed = rows[C.CUSTOMER_ID].isin(customers[C.CUSTOMER_ID]).to_numpy()
        left_out["of customers without profiling consent"] = int((~allowed).sum())
        rows = rows.loc[allowed]
        if len(rows) == 0:
            raise DataError(
                f"No customer of campaign {campaign_id} allows profiling "
                f"({C.CONSENT_PROFILING} in customers), and scoring them with the uplift model "
                "is profiling: the uplift section cannot be written. Leave out uplift, or choose "
                "a campaign whose customers gave that consent."
            )
    X = build_features(
        transactions, as_of=sent, customers=customers, campaigns=campaigns, config=feature_config
    )
    with_history = rows[C.CUSTOMER_ID].isin(X.index).to_numpy()
    left_out["of customers with no purchase before the send"] = int((~with_history).sum())
    rows = rows.loc[with_history]
    if len(rows) == 0:
        raise DataError(
            f"No customer of campaign {campaign_id} had bought before it was sent; the uplift model "
            "has no one to score. Choose another uplift_campaign_id."
        )
    # Arms the model never saw cannot be scored: evaluate the shared arms and say what was left out.
    control, known = _model_arms(model)
    sent_arms = rows[C.OFFER_ID].astype("str")
    unknown = sorted(set(sent_arms) - known)
    left_out["in arms the model does not know"] = int((~sent_arms.isin(known)).sum())
    rows = rows.loc[sent_arms.isin(known).to_numpy()]
    if not (rows[C.OFFER_ID] == control).any() or rows[C.OFFER_ID].nunique() < 2:
        raise DataError(
            f"Campaign {campaign_id} has no control rows (label {control!r}) or no arm the uplift "
            "model knows; it cannot be evaluated. Choose another uplift_campaign_id."
        )
    # the window closed by as_of (select_uplift_campaign): observed even if nobody bought at the
    # end; stated complete up to as_of, not through its day (schema._data_end.stated_before)
    y = campaign_responses(
        rows,
        transactions,
        window_days=window_days,
        observation_end=stated_before(as_of, transactions[C.TIMESTAMP]),
    ).to_numpy()
    arms = rows[C.OFFER_ID].astype("str").to_numpy()
    effects = model.predict_effects(X.loc[rows[C.CUSTOMER_ID].to_numpy()])
    effects = effects[[a for a in effects.columns if a in set(arms)]]
    # arms by count, then by name: equal counts do not come in the campaign's row order
    counts = pd.Series(arms).value_counts().rename("rows")
    counts = counts.iloc[np.lexsort((counts.index.astype(str), -counts.to_numpy()))]
    rates = pd.Series(y).groupby(arms).mean().rename("response_rate")
    arm_table = pd.concat([counts, rates], axis=1).rename_axis(C.OFFER_ID)
    # an arm of a few customers would show their own responses: counts only, and no curve nor
    # metric (its uplift at the top 30% was one customer's purchase against the control's rate)
    arm_table = blank_small_rows(arm_table, arm_table["rows"], keep=("rows",))
    small_arms = sorted(str(a) for a in arm_table.index[arm_table["rows"] < MIN_CELL_SIZE])
    drawn = ~np.isin(arms, small_arms)
    curves = effects.reset_index(drop=True)
    curves = curves[[a for a in curves.columns if a not in set(small_arms)]]
    shown = control not in small_arms and curves.shape[1] > 0
    metrics: pd.DataFrame | None = None
    skipped = None
    # the uplift at the top 30% reads 30% of an arm's rows: an arm whose top 30% holds fewer than
    # MIN_CELL_SIZE customers would show a handful of people's purchases (3 of a 15-row arm)
    scored = [a for a in curves.columns if counts.get(a, 0) * _TOP_K >= MIN_CELL_SIZE]
    unscored = sorted(str(a) for a in curves.columns if a not in set(scored))
    if shown and scored:
        kept = np.isin(arms, [control, *scored])
        try:
            metrics = uplift_report(
                y[kept],
                arms[kept],
                curves.loc[kept, scored].reset_index(drop=True),
                k=_TOP_K,
                control=control,
            )
        except DataError as exc:  # a small campaign: some arm's top 30% holds no control rows
            skipped = str(exc)
    figure = (
        plot_uplift_curves(y[drawn], arms[drawn], curves.loc[drawn], control=control)
        if shown
        else None
    )
    return Section(
        key="uplift",
        title="Uplift model: Qini curves",
        paragraphs=(
            f"Campaign {campaign_id} sent on {sent:%Y-%m-%d}: {len(rows):,} customers scored with "
            f"the features known at the send, response = a purchase within {window_days} days"
            + _left_out_text(left_out, len(chosen))
            + ". Customers are ranked by the predicted effect of each offer; a curve above its "
            "dashed line means the model finds the customers the offer moves.",
        ),
        tables=(
            ReportTable(caption="Arms of the campaign", frame=arm_table),
            *(
                []
                if metrics is None
                else [
                    ReportTable(
                        caption="Uplift at the top 30%, Qini AUC and uplift AUC per offer",
                        frame=metrics,
                    )
                ]
            ),
        ),
        figures=(
            ()
            if figure is None
            else (_figure("uplift_qini", f"Qini curves on campaign {campaign_id}", figure),)
        ),
        notes=(
            "If the model was fitted on this campaign the curves are in-sample and optimistic; fit "
            "it on earlier campaigns to read them as a test.",
            *(
                [f"Arms of the campaign the model does not know, left out: {', '.join(unknown)}."]
                if unknown
                else []
            ),
            *(
                [
                    f"Arms of fewer than {MIN_CELL_SIZE} customers show their count only, and "
                    f"no curve nor metric: {', '.join(small_arms)}."
                ]
                if small_arms
                else []
            ),
            *(
                [
                    f"Arms whose top {_TOP_K:.0%} holds fewer than {MIN_CELL_SIZE} customers "
                    f"have a curve but no metric: {', '.join(unscored)}."
                ]
                if unscored and metrics is not None
                else []
            ),
            *(
                []
                if skipped is None
                else [
                    "The campaign is too small for the table of uplift at the top 30% and the "
                    f"areas ({skipped}); the curves above show what it holds."
                ]
            ),
        ),
    )


# -- fairness ------------------------------------------------------------------------------------------
def check_fairness_report(report: Any) -> None:
    """Refuse anything but a FairnessReport, before any work is done."""
    from loyalty_ml.evaluation.fairness import FairnessReport

    if not isinstance(report, FairnessReport):
        raise ConfigError(
            f"fairness must be a FairnessReport from loyalty_ml.fairness_report; got "
            f"{type(report).__name__}."
        )


def fairness_section(report: FairnessReport, *, min_count: int = 10) -> Section:
    """Verdict, violations, gap summary and by-group figures of a fairness audit.

    Groups with fewer than ``min_count`` customers are pooled into one row per attribute, their
    labels withheld (``FairnessReport.for_publication``).
    """
    from loyalty_ml.evaluation._fairness_publish import POOLED_GROUPS, pooled_sentence

    check_fairness_report(report)
    public = report.for_publication(min_count)
    verdict = "passed" if report.passed else f"FAILED with {len(report.violations)} violation(s)"
    tables = []
    if not public.violations.empty:
        tables.append(ReportTable(caption="Violations", frame=public.violations))
    tables.append(ReportTable(caption="Gaps between groups", frame=public.summary))
    tables.append(ReportTable(caption="Figures by group", frame=public.by_group))
    if public.summary_conditional is not None:
        tables.append(
            ReportTable(
                caption=f"Gaps within {public.control_name or 'control'} strata",
                frame=public.summary_conditional,
            )
        )
    paragraphs = [
        f"The audit {verdict}. Selection means a churn score of at least {report.threshold:g}."
    ]
    if public.pooled is not None and not public.pooled.empty:
        paragraphs.append(pooled_sentence(public.pooled, public.control_name).replace("`", ""))
    unjudged = report.unjudged_attributes
    if unjudged:
        # a pass that could not judge an attribute says nothing about it
        paragraphs.append(
            f"Not judged: {', '.join(unjudged)} (fewer than two groups of "
            f"{report.limits.min_group_size}+ customers, so no gap in them could fail)."
        )
    partly = report.unjudged_limits
    if partly:
        # nor does it say anything of a limit no two groups were big enough to measure
        paragraphs.append(
            f"Limits not judged: {', '.join(partly)} (fewer than two groups with "
            f"{report.limits.min_group_size}+ customers to measure the metric on: churners for "
            "the TPR, non-churners for the FPR, the fewer of the two for the AUC)."
        )
    return Section(
        key="fairness",
        title="Fairness",
        paragraphs=tuple(paragraphs),
        tables=tuple(tables),
        figures=(_figure("fairness_by_group", "Figures by group", public.plot()),),
        notes=(
            f"Groups under {min_count} customers are pooled into one row, labelled "
            f"{POOLED_GROUPS}; its figures are shown when it holds {min_count}+ customers.",
            "mean_offer_cost averages over every customer of a group (0 without an offer); with "
            "n_contactable, the offer figures leave out customers without marketing consent and "
            "the holdout.",
        ),
    )
