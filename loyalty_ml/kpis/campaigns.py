"""Campaign measurement against a randomised control group: rates, uplift, money, ROI and payback."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from loyalty_ml._checks import check_window_days, is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    SchemaError,
    format_examples,
    format_ids,
)
from loyalty_ml.kpis._common import (
    check_no_missing,
    check_sent_at,
    check_transactions,
    purchase_lines,
    to_bound,
)
from loyalty_ml.kpis._windows import COUNT, cumulative, sums_before
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_bool, coerce_float, plus_days, require_columns
from loyalty_ml.schema._data_end import series_dates_only, stated_end
from loyalty_ml.schema.tables import strip_offer_ids

__all__ = ["measure_campaign"]

TABLE = "campaigns"
_REVENUE = "revenue"
_MARGIN = "margin"


def measure_campaign(
    campaigns: pd.DataFrame,
    transactions: pd.DataFrame,
    offers: pd.DataFrame,
    *,
    window_days: int,
    control: str = C.CONTROL,
    by: str | Sequence[str] = C.OFFER_ID,
    margin_rate: float | None = None,
    confidence: float = 0.95,
    observation_end: object = None,
) -> pd.DataFrame:
    """Measure each treated arm of a campaign against its control group.

    A campaign row (one customer sent one arm at ``sent_at``) *converts* when the customer has a
    transaction in ``[sent_at, sent_at + window_days)``; its revenue and margin are the sums over that
    window. Arms are the ``offer_id`` values; the control arm is ``offer_id == control``. With ``by``
    holding more columns than ``offer_id`` (e.g. ``["campaign_id", "offer_id"]``), each treated arm is
    compared with the control rows that share its other ``by`` values (its own campaign's holdout).

    Per treated arm (``t`` = treated, ``c`` = control, ``n`` rows, ``p`` conversion rate: the
    share of rows with a purchase in the response window, dated as :func:`~loyalty_ml.kpis.summary` and
    ``churn_labels`` date one: an order whose first line falls in the window, with a line of
    ``amount >= 0``; a later line of an order begun before ``sent_at``, or a refund alone, is not
    a conversion):

    - ``redemption_rate`` = redeemed treated rows / n_t; ``conversion_rate`` = p_t; ``control_rate`` = p_c.
    - ``uplift`` = p_t - p_c, CI ``uplift +/- z sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)`` (NaN with
      fewer than 2 rows in an arm; an arm with no conversion, or only conversions, takes Agresti
      and Caffo's variance, ``q(1-q)/(n+2)`` with ``q = (conversions + 1) / (n + 2)``, since
      its Wald variance of 0 would claim its rate exactly).
    - ``relative_uplift`` = (p_t - p_c) / p_c, CI by the delta method,
      ``Var(p_t/p_c) ~ Var_t/p_c^2 + p_t^2 Var_c/p_c^4`` (NaN when p_c = 0).
    - ``incremental_conversions`` = uplift x n_t.
    - ``incremental_revenue`` = (mean revenue per treated row - mean per control row) x n_t, CI
      ``+/- z n_t sqrt(s_t^2/n_t + s_c^2/n_c)`` (sample variances; the same for ``incremental_margin``;
      NaN when no row of either arm bought, where both variances are 0).
    - ``redemption_cost`` = redemptions x cost_per_redemption; ``send_cost`` = n_t x cost_per_send;
      ``reward_cost`` = their sum. Costs are realised and treated as known; amounts and margins are
      assumed to be before reward costs.
    - ``incremental_profit`` = incremental_margin - reward_cost (its CI is the margin CI shifted).
    - ``cannibalised_cost`` = redemption_cost x min(1, p_c / p_t) and ``cannibalisation_share`` =
      min(1, p_c / p_t): of the treated buyers, a share p_c / p_t would have bought without the offer;
      assuming redeemers are buyers who are as likely as other buyers to be such "anyway" buyers, that
      share of the redemption cost rewarded purchases the campaign did not cause. The share is NaN
      when no treated row bought (p_t = 0): there is no buyer to split.
    - ``roi`` = incremental_profit / reward_cost (NaN when nothing was spent).
    - ``payback_days`` = the first day d in 1..window_days from which the incremental margin of the
      windows ``[sent_at, sent_at + d days)`` stays at or above reward_cost to the end of the window
      (all costs counted at send); NaN when it ends below it (an arm at a loss has not paid back,
      even if a refund later took back a margin that had reached the cost), 0 when nothing was
      spent.

    Confidence intervals use the normal approximation (Wald) at level ``confidence``; they need a few
    conversions in each arm to be meaningful. Margins come from the transactions' ``margin`` column
    (where it is missing, ``amount x margin_rate``, or else 0 with a warning), else ``amount x
    margin_rate``; with neither, the margin and profit columns (and ROI, payback) are NaN.
    Redemptions count whenever they happened (``redeemed``/``redeemed_at`` are not read against the
    window: a reward redeemed late was still paid for), while conversions count orders begun
    inside the window. Revenue and margin are the lines dated in the window, as ``summary``'s
    revenue: a refund inside the window counts there, whenever its purchase was, and so does a
    later line of an order begun before the send (which is not a conversion).

    Parameters
    ----------
    campaigns : DataFrame
        Columns ``customer_id``, ``offer_id`` (or the control label), ``sent_at`` (datetime64),
        ``redeemed`` (bool), and any other ``by`` column.
    transactions : DataFrame
        Canonical transactions, on the same clock as ``sent_at``.
    offers : DataFrame
        ``offer_id`` (column or index), ``cost_per_redemption``, optional ``cost_per_send`` (default 0).
    window_days : int
        Response window in days, from 1 to 3,650 (ten years).
    control : str
        Label of the control arm in ``offer_id``.
    by : str or sequence of str
        Columns that name an arm; must include ``offer_id``. Rows of ``"contact"`` (a contact
        made without an offer, as ``nightly_sends`` records a churn-only policy's) are left out.
    margin_rate : float, optional
        Margin share of revenue, used when transactions have no ``margin`` column.
    confidence : float
        Level of the confidence intervals, in (0, 1).
    observation_end : date-like, optional
        Until when the transaction data is known to be complete: the last instant observed, as
        ``validate_transactions``, ``churn_labels`` and ``campaign_responses`` read it (when every
        timestamp is a midnight, dates without times, a midnight names a day observed to its end:
        ``"2024-03-08"`` covers the 8th there, and is the 8th's midnight on timed data). Campaign
        rows whose window ends after it are refused (their outcomes would be cut short). Without
        it the data is taken as complete to the end of
        every window: a window still open at the last transaction counts as no purchase (unlike
        ``campaign_responses``, which refuses such rows), so pass it when the extract may end
        early. Without it, windows that end more than a day after the last transaction warn
        (DataQualityWarning): measured too early, every arm reads low.

    Returns
    -------
    DataFrame
        One row per treated arm, indexed by ``by``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    if C.OFFER_ID not in keys:
        raise ConfigError(f"by must include {C.OFFER_ID!r}; got {keys!r}.")
    window_days = check_window_days(window_days, owner="measure_campaign")
    if not is_real(confidence) or not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be a number in (0, 1); got {confidence!r}.")
    if margin_rate is not None and (not is_real(margin_rate) or not 0.0 <= margin_rate <= 1.0):
        raise ConfigError(f"margin_rate must be a number in [0, 1] or None; got {margin_rate!r}.")
    require_columns(campaigns, (C.CUSTOMER_ID, C.SENT_AT, C.REDEEMED, *keys), table=TABLE)
    campaigns = strip_offer_ids(campaigns)  # "control   " from a fixed-width export
    for column in (C.CUSTOMER_ID, C.SENT_AT, C.REDEEMED, *keys):
        check_no_missing(
            campaigns,
            column,
            table=TABLE,
            fix="Drop or fill those rows first (loyalty_ml.validate_campaigns reads a missing "
            "redeemed as not redeemed, and refuses missing ids, offers and send times).",
        )
    tx = check_transactions(transactions)
    check_sent_at(campaigns[C.SENT_AT], tx[C.TIMESTAMP], table=TABLE)
    zone = getattr(tx[C.TIMESTAMP].dtype, "tz", None)
    if zone is not None:  # aware in another zone: the same instants on the transactions' clock
        campaigns = campaigns.assign(**{C.SENT_AT: campaigns[C.SENT_AT].dt.tz_convert(zone)})
    repeated = campaigns.duplicated(subset=[C.CUSTOMER_ID, C.SENT_AT, *keys], keep="first")
    if repeated.any():
        # counted twice, a customer's purchases and redemption would weigh double in their arm
        twice = campaigns.loc[repeated.to_numpy(), C.CUSTOMER_ID].unique().tolist()
        raise DataError(
            f"{TABLE} lists {int(repeated.sum())} sends twice (same customer, sent_at and arm; "
            f"customers {format_ids(twice, total=len(twice))}). Drop the duplicates, e.g. "
            "campaigns.drop_duplicates(), or run validate_campaigns."
        )
    _refuse_twice_in_a_campaign(campaigns, int(window_days))
    # one row per label: a send log concatenated without ignore_index repeats labels
    campaigns = campaigns.reset_index(drop=True)
    # contacts made without an offer (nightly_sends records a churn-only policy's trigger contacts
    # so) are no offer: nothing to price, and no control group of their own to measure against
    campaigns = campaigns.loc[(campaigns[C.OFFER_ID] != C.CONTACT).to_numpy()]
    arms = campaigns[C.OFFER_ID]
    if not (arms == control).any():
        raise DataError(
            f"{TABLE}.{C.OFFER_ID} has no control rows labelled {control!r}; arms found: "
            f"{format_examples(pd.unique(arms))}. Pass control=<your label>."
        )
    treated = list(pd.unique(arms[arms != control]))
    if not treated:
        raise DataError(
            f"{TABLE}.{C.OFFER_ID} holds only control rows ({control!r}); there is no treated arm "
            "to measure. Pass the rows of the customers who were sent an offer too."
        )
    costs = _offer_costs(offers, treated)
    per_redemption = costs[C.COST_PER_REDEMPTION].to_dict()
    per_send = costs[C.COST_PER_SEND].to_dict()
    window_end = plus_days(campaigns[C.SENT_AT], int(window_days))  # calendar days on the clock
    if observation_end is not None:
        given = to_bound(observation_end, name="observation_end", timestamps=tx[C.TIMESTAMP])
        # the last instant observed; on dates without times a midnight names a day observed to
        # its end, as churn_labels and campaign_responses read it (schema._data_end)
        end = stated_end(given, dates_only=series_dates_only(tx[C.TIMESTAMP]))
        late = (window_end > end).to_numpy()
        if late.any():
            sends = campaigns.loc[late, C.SENT_AT].drop_duplicates().tolist()
            stated = (
                f"{given.date()} (to the end of that day, {end}: the timestamps are dates "
                "without times)"
                if end != given
                else str(end)
            )
            raise DataError(
                f"{late.sum()} {TABLE} rows have a response window ending after observation_end="
                f"{stated} (sent at {format_examples(sends, total=len(sends))}; the last window "
                f"closes at {window_end[late].max()}). Measure once the data cover the windows, "
                "leave those rows out, or shorten window_days if a shorter response is enough."
            )
    elif len(tx):
        _warn_open_windows(window_end, tx[C.TIMESTAMP].max(), int(window_days))
    if len(tx):
        _warn_windows_before_data(campaigns[C.SENT_AT], tx[C.TIMESTAMP].min())

    values = {_REVENUE: tx[C.AMOUNT]}
    if C.MARGIN in tx.columns:
        values[_MARGIN] = _line_margins(tx, margin_rate)
    elif margin_rate is not None:
        values[_MARGIN] = tx[C.AMOUNT] * margin_rate
    has_margin = _MARGIN in values
    running = cumulative(tx, values)  # money at each line's own time
    # a purchase as the other KPIs and churn_labels date one (purchase_lines): an order at its
    # first line, with a line of amount >= 0 (a free item at 0 is one, a return alone is none);
    # a later line of an order begun before the send is no conversion
    purchases = cumulative(purchase_lines(tx), {})
    sent = campaigns[C.SENT_AT]
    start = sums_before(running, campaigns[C.CUSTOMER_ID], sent, table=TABLE)
    stop = sums_before(running, campaigns[C.CUSTOMER_ID], window_end, table=TABLE)
    bought = (
        sums_before(purchases, campaigns[C.CUSTOMER_ID], window_end, table=TABLE)[COUNT]
        - sums_before(purchases, campaigns[C.CUSTOMER_ID], sent, table=TABLE)[COUNT]
    )
    rows = pd.DataFrame(
        {
            "converted": (bought > 0).astype("float64"),
            _REVENUE: stop[_REVENUE] - start[_REVENUE],
            _MARGIN: stop[_MARGIN] - start[_MARGIN] if has_margin else np.nan,
            "redeemed": coerce_bool(campaigns[C.REDEEMED], table=TABLE, column=C.REDEEMED)
            .astype("float64")
            .to_numpy(),
        }
    )
    daily = _daily_margin(running, campaigns, start, int(window_days)) if has_margin else None
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    strata = [k for k in keys if k != C.OFFER_ID]
    # the control rows of every stratum found by one grouping, not by a scan of all rows per arm
    control_at = np.flatnonzero((arms == control).to_numpy())
    by_stratum = (
        pd.DataFrame({k: campaigns[k].to_numpy()[control_at] for k in strata})
        .groupby(strata, sort=False, dropna=False)
        .indices
        if strata
        else {}
    )
    results = []
    for arm_key, arm_rows in rows.groupby([campaigns[k] for k in keys], sort=True):
        arm_key = arm_key if isinstance(arm_key, tuple) else (arm_key,)
        label = dict(zip(keys, arm_key, strict=True))
        if label[C.OFFER_ID] == control:
            continue
        if strata:
            stratum = tuple(label[k] for k in strata)
            found = by_stratum.get(stratum[0] if len(strata) == 1 else stratum)
            control_mask = control_at[found] if found is not None else control_at[:0]
        else:
            control_mask = control_at
        if not len(control_mask):
            raise DataError(
                f"{TABLE}: arm {label} has no control rows with the same "
                f"{strata} to compare with. Leave out the arms without control rows (e.g. an "
                "offer of nightly_sends never withheld from the holdout), or measure with "
                "by='offer_id' to pool controls."
            )
        control_rows = rows.iloc[control_mask]
        offer = str(label[C.OFFER_ID])
        result = _measure_arm(
            arm_rows,
            control_rows,
            cost_per_redemption=float(per_redemption[offer]),
            cost_per_send=float(per_send[offer]),
            z=z,
        )
        if daily is not None:
            result["payback_days"] = _payback(
                daily.loc[arm_rows.index], daily.iloc[control_mask], result["reward_cost"]
            )
        else:
            result["payback_days"] = np.nan
        results.append({**label, **result})
    out = pd.DataFrame(results)
    return out.set_index(keys)


def _refuse_twice_in_a_campaign(campaigns: pd.DataFrame, window_days: int) -> None:
    """DataError when a customer has two rows of one campaign (``campaign_id``, else the day of
    ``sent_at``, as ``validate_campaigns`` keys campaigns) whose response windows overlap: in two
    arms (control and an offer) their purchases counted for both, and a reminder of the same
    offer counted them twice in its arm. A campaign id reused for sends further apart than the
    window (a nightly job's fixed id) measures separate responses, and passes."""
    sent = campaigns[C.SENT_AT]
    key = campaigns[C.CAMPAIGN_ID] if C.CAMPAIGN_ID in campaigns.columns else sent.dt.floor("D")
    pairs = pd.DataFrame(
        {
            "campaign": key.to_numpy(),
            "customer": campaigns[C.CUSTOMER_ID].to_numpy(),
            "arm": campaigns[C.OFFER_ID].to_numpy(),
            "sent": sent.to_numpy(),
        }
    )
    twice = pairs.duplicated(["campaign", "customer"], keep=False).to_numpy()
    if not twice.any():
        return
    pairs = pairs.loc[twice].sort_values("sent", kind="stable")
    # a row sent within the window of the same customer's previous row of the campaign
    previous = pairs.groupby(["campaign", "customer"], sort=False)["sent"].shift()
    overlaps = (pairs["sent"] - previous) < pd.Timedelta(days=window_days)
    if not bool(overlaps.any()):
        return
    hit = pairs.set_index(["campaign", "customer"]).index[overlaps.to_numpy()].unique()
    pairs = pairs.set_index(["campaign", "customer"]).loc[hit].reset_index()
    arms = pairs.groupby(["campaign", "customer"], sort=False)["arm"].nunique()
    repeated = arms.index
    named = "campaign_id" if C.CAMPAIGN_ID in campaigns.columns else "day of sent_at"
    if bool((arms > 1).any()):
        how = "in different arms"
        fix = (
            "A campaign randomises each customer to one arm: fix those customers' arms, or "
            "leave their rows out of the measurement"
        )
    else:
        how = "in the same arm (a reminder?)"
        first = (
            "campaigns.sort_values('sent_at').drop_duplicates(['campaign_id', 'customer_id'])"
            if C.CAMPAIGN_ID in campaigns.columns
            else "campaigns.assign(day=campaigns['sent_at'].dt.floor('D'))"
            ".sort_values('sent_at').drop_duplicates(['day', 'customer_id']).drop(columns='day')"
        )
        fix = f"Keep each customer's first send of the campaign, e.g. {first}"
    raise DataError(
        f"{TABLE} lists {len(repeated)} customer(s) more than once in one campaign ({named}) "
        f"within {window_days} days, {how}: (campaign, customer_id) "
        f"{format_ids(list(repeated), total=len(repeated))}. Each row is one customer's "
        "response, so their purchases would count once per row (in two arms, for both). "
        f"{fix} (validate_campaigns refuses them too)."
    )


def _offer_costs(offers: pd.DataFrame, treated: list[object]) -> pd.DataFrame:
    """cost_per_redemption and cost_per_send indexed by offer_id, for every treated arm."""
    table = "offers"
    if isinstance(offers, pd.DataFrame) and offers.index.name == C.OFFER_ID:
        # indexed by offer_id, perhaps also keeping it as a column (set_index(drop=False))
        offers = offers.reset_index(drop=C.OFFER_ID in offers.columns)
    require_columns(offers, (C.OFFER_ID, C.COST_PER_REDEMPTION), table=table)
    frame = offers.set_index(offers[C.OFFER_ID].astype(str))
    costs = pd.DataFrame(
        {
            column: coerce_float(frame[column], table=table, column=column)
            for column in (C.COST_PER_REDEMPTION, C.COST_PER_SEND)
            if column in frame
        }
    )
    if C.COST_PER_SEND not in costs:
        costs[C.COST_PER_SEND] = 0.0
    for column in (C.COST_PER_REDEMPTION, C.COST_PER_SEND):
        negative = (costs[column] < 0).to_numpy()
        if negative.any():
            raise SchemaError(
                f"{table}.{column} must be >= 0; got "
                f"{format_examples(costs.loc[negative, column].tolist(), total=int(negative.sum()))}"
                f" for offers {format_examples(costs.index[negative].tolist())}. A cost is money "
                "spent; fix the sign.",
                table=table,
                column=column,
            )
    duplicated = costs.index[costs.index.duplicated()].unique().tolist()
    if duplicated:
        raise SchemaError(
            f"{table}.{C.OFFER_ID} must be unique; {format_examples(duplicated)} appear more than "
            "once. Keep one row per offer.",
            table=table,
            column=C.OFFER_ID,
        )
    unknown = [arm for arm in treated if str(arm) not in costs.index]
    if unknown:
        raise SchemaError(
            f"campaigns use offers {format_examples(unknown, total=len(unknown))} that are not in "
            f"the offers table ({format_examples(costs.index.tolist(), total=len(costs))}). Add them "
            "with their costs, or check the control label.",
            table=table,
            column=C.OFFER_ID,
        )
    return costs


def _measure_arm(
    treated: pd.DataFrame,
    control: pd.DataFrame,
    *,
    cost_per_redemption: float,
    cost_per_send: float,
    z: float,
) -> dict[str, float | int]:
    n_t, n_c = len(treated), len(control)
    p_t, p_c = treated["converted"].mean(), control["converted"].mean()
    var_t, var_c = _rate_variance(p_t, n_t), _rate_variance(p_c, n_c)
    uplift = p_t - p_c
    # Wald's interval needs a few rows per arm: with one row its variance is 0 and the interval
    # would claim an exact effect (the revenue interval is NaN below 2 rows too)
    se = np.sqrt(var_t + var_c) if min(n_t, n_c) >= 2 else np.nan
    if p_c > 0:
        relative = uplift / p_c
        se_rel = np.sqrt(var_t / p_c**2 + p_t**2 * var_c / p_c**4) if np.isfinite(se) else np.nan
    else:
        relative = se_rel = np.nan
    redemptions = float(treated["redeemed"].sum())
    redemption_cost = redemptions * cost_per_redemption
    send_cost = n_t * cost_per_send
    reward_cost = redemption_cost + send_cost
    revenue, revenue_se = _incremental(treated[_REVENUE], control[_REVENUE])
    margin, margin_se = _incremental(treated[_MARGIN], control[_MARGIN])
    share = min(1.0, p_c / p_t) if p_t > 0 else np.nan
    profit = margin - reward_cost
    return {
        "n_treated": n_t,
        "n_control": n_c,
        "redemptions": redemptions,
        "redemption_rate": redemptions / n_t,
        "conversion_rate": p_t,
        "control_rate": p_c,
        "uplift": uplift,
        "uplift_low": uplift - z * se,
        "uplift_high": uplift + z * se,
        "relative_uplift": relative,
        "relative_uplift_low": relative - z * se_rel,
        "relative_uplift_high": relative + z * se_rel,
        "incremental_conversions": uplift * n_t,
        "incremental_revenue": revenue,
        "incremental_revenue_low": revenue - z * revenue_se,
        "incremental_revenue_high": revenue + z * revenue_se,
        "incremental_margin": margin,
        "redemption_cost": redemption_cost,
        "send_cost": send_cost,
        "reward_cost": reward_cost,
        "incremental_profit": profit,
        "incremental_profit_low": profit - z * margin_se,
        "incremental_profit_high": profit + z * margin_se,
        "cannibalised_cost": redemption_cost * share if redemption_cost else 0.0,
        "cannibalisation_share": share,
        "roi": profit / reward_cost if reward_cost > 0 else np.nan,
    }


def _rate_variance(p: float, n: int) -> float:
    """Variance of a conversion rate ``p`` of ``n`` rows: Wald's ``p (1 - p) / n``, and for a rate
    of 0 or 1, where that is 0, Agresti and Caffo's (one conversion and one miss added): no
    conversion in 40 rows is consistent with a true rate of several percent, not known to be 0.

    Examples
    --------
    >>> round(_rate_variance(0.5, 40), 6), round(_rate_variance(0.0, 40), 6)
    (0.00625, 0.000553)
    """
    if 0.0 < p < 1.0:
        return p * (1 - p) / n
    adjusted = (p * n + 1) / (n + 2)
    return adjusted * (1 - adjusted) / (n + 2)


def _incremental(treated: pd.Series, control: pd.Series) -> tuple[float, float]:
    """(mean_t - mean_c) x n_t and its standard error: NaN with fewer than 2 rows in an arm, or
    when every row of both arms holds the same value (no purchase in any window): a spread of 0
    there is no measure of the noise, and an interval of width 0 would claim an exact effect."""
    n_t, n_c = len(treated), len(control)
    diff = (treated.mean() - control.mean()) * n_t
    if n_t < 2 or n_c < 2:
        return float(diff), np.nan
    var_t, var_c = treated.var(ddof=1), control.var(ddof=1)
    if var_t == 0 and var_c == 0:
        return float(diff), np.nan
    se = n_t * np.sqrt(var_t / n_t + var_c / n_c)
    return float(diff), float(se)


def _daily_margin(
    running: pd.DataFrame, campaigns: pd.DataFrame, start: pd.DataFrame, days: int
) -> pd.DataFrame:
    """Margin of each campaign row in ``[sent_at, sent_at + d days)``, one column per d."""
    cols = {}
    for d in range(1, days + 1):
        at = plus_days(campaigns[C.SENT_AT], d)
        cols[d] = sums_before(running, campaigns[C.CUSTOMER_ID], at, table=TABLE)[_MARGIN]
    return pd.DataFrame(cols).sub(start[_MARGIN], axis=0)


def _line_margins(tx: pd.DataFrame, margin_rate: float | None) -> pd.Series:
    """Each line's margin: the ``margin`` column, and where it is missing ``amount x margin_rate``
    or else 0 with a warning (a line without a margin had silently added none: an arm's
    incremental margin read 4 instead of 16 with one of its buyers' margins missing)."""
    margin = tx[C.MARGIN].astype("float64")
    missing = margin.isna().to_numpy()
    if not missing.any():
        return margin
    if margin_rate is not None:
        return margin.fillna(tx[C.AMOUNT].astype("float64") * margin_rate)
    warn_user(
        f"measure_campaign: {int(missing.sum()):,} of {missing.size:,} transaction lines have no "
        "margin; they add none to the incremental margin, profit, ROI and payback, which read "
        "low if those lines were bought in the windows. Pass margin_rate= to value them at "
        "amount x margin_rate, or fill the margins.",
        DataQualityWarning,
    )
    return margin.fillna(0.0)


def _payback(treated: pd.DataFrame, control: pd.DataFrame, cost: float) -> float:
    """The first day from which the running incremental margin stays at or above ``cost`` to the
    end of the window (a margin that reached the cost on day 2 and fell below it after a refund
    was a payback of 2 days for an arm that ended at a loss); NaN when it ends below."""
    if cost <= 0:
        return 0.0
    incremental = (treated.mean() - control.mean()) * len(treated)
    covered = (incremental >= cost).to_numpy()
    if not covered.size or not covered[-1]:
        return np.nan
    short = np.flatnonzero(~covered)
    return float(incremental.index[0 if short.size == 0 else short[-1] + 1])


def _warn_windows_before_data(sent_at: pd.Series, first: pd.Timestamp) -> None:
    """Warn when response windows begin more than a day before the first transaction: an extract
    that starts after a send misses the purchases at the start of its window, and every arm reads
    low (a window cut by 20 of its 30 days read conversion 0.16 against 0.33, uplift 0.01
    against 0.10)."""
    early = (sent_at < first - pd.Timedelta(days=1)).to_numpy()
    if early.any():
        warn_user(
            f"measure_campaign: {int(early.sum())} of {early.size} sends were sent before the "
            f"first transaction ({first}), e.g. at "
            f"{format_examples(sent_at[early].drop_duplicates().tolist(), limit=3)}: if the "
            "extract starts there, the purchases at the start of their response windows are "
            "missing and conversion, uplift and ROI read low. Pass transactions that cover every "
            "window from its send.",
            DataQualityWarning,
        )


def _warn_open_windows(window_end: pd.Series, last: pd.Timestamp, window_days: int) -> None:
    """Warn when response windows end more than a day after the last transaction: if the
    extract ends there, those sends' purchases are cut short and every such arm reads low."""
    late = (window_end > last + pd.Timedelta(days=1)).to_numpy()
    if late.any():
        warn_user(
            f"measure_campaign: {int(late.sum())} of {late.size} sends have a {window_days}-day "
            f"response window ending after the last transaction ({last}), e.g. ending "
            f"{format_examples(window_end[late].drop_duplicates().tolist(), limit=3)}. They are "
            "counted as if the data were complete to then; if the extract ends at its last "
            "transaction, their purchases are cut short and conversion, revenue and ROI read low. "
            "Pass observation_end=<end of the data> (rows still open are then refused), measure "
            "after the windows close, or shorten window_days.",
            DataQualityWarning,
        )
