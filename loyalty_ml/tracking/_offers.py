"""The offer half of training: the uplift model on past randomised campaigns, and its backtest.

Each campaign row becomes one training row: the customer's features as of the send date (only what
was known then), the arm it was randomised to, and whether it bought within the response window. The
latest campaign is the backtest (fit on the earlier ones, Qini AUC per arm on it); the registered
model is then fitted on all campaigns whose response window closed before ``as_of``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataError, DataQualityWarning, format_examples
from loyalty_ml.features import FeatureConfig
from loyalty_ml.models._uplift_balance import imbalances
from loyalty_ml.models._uplift_rows import balance_checked_by_caller
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._data_end import stated_before
from loyalty_ml.schema.tables import is_contact
from loyalty_ml.tracking._mlflow import metric_key
from loyalty_ml.tracking.sends import POLICY_OFFER

__all__ = ["OfferTraining", "train_offer_model"]


@dataclass(frozen=True)
class OfferTraining:
    """Fitted uplift model and catalog, backtest metrics (Qini AUC per arm) and the Qini plot."""

    uplift_model: Any
    catalog: Any
    metrics: dict[str, float]
    figure: Any | None
    n_rows: int
    n_campaigns: int


def _experiment_rows(
    tx: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    customers: pd.DataFrame | None,
    config: FeatureConfig,
    window_days: int,
    as_of: pd.Timestamp,
    history: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """The experiment table of ``campaigns``, each row's campaign number (0 = the earliest) and
    its campaign's first send; ``history``: every send, for the campaign features; ``events``:
    the engagement and feedback events, for the event features."""
    from loyalty_ml.features.experiments import experiment_table

    rows = campaigns.reset_index(drop=True)
    X, y, t = experiment_table(
        tx,
        rows,
        window_days=window_days,
        customers=customers,
        config=config,
        # every transaction before as_of is known (on dates without times: to the end of the day
        # before a midnight as_of, which the jobs' cut keeps)
        observation_end=stated_before(as_of, tx[C.TIMESTAMP]),
        progress=False,
        history=history,
        events=events,
    )
    if len(X) == 0:
        raise DataError(
            "train_and_register: no campaign row belongs to a customer with purchase history before "
            "the send date; the uplift model has nothing to learn from."
        )
    kept = rows.loc[X.index]
    number = _campaign_numbers(kept)
    # each row's campaign start (its first send), for the backtest's choice of recent campaigns
    start = kept[C.SENT_AT].groupby(_campaign_keys(kept).to_numpy()).transform("min")
    return (
        X.reset_index(drop=True),
        y.reset_index(drop=True),
        t.reset_index(drop=True),
        np.asarray(number),
        start.to_numpy(dtype="datetime64[ns]"),
    )


def _campaign_keys(rows: pd.DataFrame) -> pd.Series:
    """Each row's campaign: its ``campaign_id``, or without one the calendar day of ``sent_at``."""
    if C.CAMPAIGN_ID in rows.columns:
        return rows[C.CAMPAIGN_ID].astype("string")
    return rows[C.SENT_AT].dt.floor("D").astype("string")


def _campaign_numbers(rows: pd.DataFrame) -> np.ndarray:
    """Each row's campaign number, 0 for the campaign sent first (whatever its id's spelling).

    A campaign is a ``campaign_id``; without one, the calendar day of ``sent_at`` (a send delivered
    seconds late belongs to its day's campaign, not to a campaign of its own).
    """
    sent = rows[C.SENT_AT]
    key = _campaign_keys(rows)
    first = sent.groupby(key.to_numpy()).transform("min")
    order = pd.DataFrame({"first": first.to_numpy(), "key": key.to_numpy()})
    return np.asarray(order.groupby(["first", "key"], sort=True).ngroup())


def _design_weights(t: pd.Series, number: np.ndarray) -> np.ndarray:
    """1 / (share of the row's arm in its campaign), normalised to mean 1.

    Campaigns randomise with different shares (80% treated in a busy season, 20% in a quiet one);
    pooled unweighted, the season would read as an effect of the offer. Weighted, every arm sees each
    campaign that sent it in the same proportion, as if each campaign had split its customers evenly.
    An offer missing from some campaigns still meets their control rows in the pooled learner; the
    re-centring (``UpliftModel.fit(groups=)``) then sets its average effect from the campaigns
    that sent it.
    """
    frame = pd.DataFrame({"campaign": number, "arm": t.to_numpy()})
    share = frame.groupby(["campaign", "arm"])["arm"].transform("size") / frame.groupby("campaign")[
        "arm"
    ].transform("size")
    weight = 1.0 / share.to_numpy(dtype=np.float64)
    return weight / weight.mean()


def train_offer_model(
    tx: pd.DataFrame,
    *,
    campaigns: pd.DataFrame,
    offers: pd.DataFrame,
    customers: pd.DataFrame | None,
    config: FeatureConfig,
    as_of: pd.Timestamp,
    window_days: int,
    feature_names: list[str],
    random_state: int,
    uplift_params: dict[str, Any] | None = None,
    events: pd.DataFrame | None = None,
) -> OfferTraining | None:
    """Fit the uplift model on the campaigns whose response window closed before ``as_of``.

    Returns None when no such campaign row belongs to a customer of ``tx`` (nothing to learn from).

    Raises
    ------
    DataError
        The closed campaigns have no control rows or no offer arm, or the uplift model cannot be
        fitted on them (too few rows per arm).
    """
    from loyalty_ml.policy.catalog import OfferCatalog

    catalog = OfferCatalog.from_frame(offers)
    closed = campaigns.loc[
        (campaigns[C.SENT_AT] + pd.Timedelta(days=window_days) <= as_of).to_numpy()
        & campaigns[C.CUSTOMER_ID].isin(tx[C.CUSTOMER_ID]).to_numpy()
    ]
    closed = closed.loc[~is_contact(closed[C.OFFER_ID])]  # a policy's contacts are no arm
    if len(closed) == 0:
        return None
    closed = _experiments_only(closed)
    _check_arms(closed[C.OFFER_ID], window_days=window_days)
    _check_catalog(closed[C.OFFER_ID], list(catalog.ids))
    # a retired offer (max_per_month=0) is never offered: whether it was tested is moot
    offered = [o.offer_id for o in catalog if o.max_per_month != 0]
    _warn_if_untested(closed[C.OFFER_ID], offered, window_days=window_days)
    X, y, t, key, start = _experiment_rows(
        tx,
        closed,
        customers=customers,
        config=config,
        window_days=window_days,
        as_of=as_of,
        history=campaigns,  # sends left out of the fit still count in the campaign features
        events=events,
    )
    X = X[feature_names]
    _warn_if_targeted(X, t, key)
    # effects that the plan weighs against costs: trees sized for decisions, unless asked otherwise
    params = {"random_state": random_state, "purpose": "decisions", **(uplift_params or {})}
    try:
        with warnings.catch_warnings(), balance_checked_by_caller():
            # _warn_if_targeted has said it, campaign by campaign, in train_and_register's words:
            # the fits neither check nor warn again
            warnings.filterwarnings("ignore", _NOT_RANDOMISED, DataQualityWarning)
            return _fit(
                X, y, t, key, catalog=catalog, params=params, start=start, window_days=window_days
            )
    except DataError as exc:
        raise DataError(
            f"train_and_register could not fit the offer (uplift) model on {len(X):,} past campaign "
            f"rows: {exc} Pass uplift_params (e.g. {{'min_arm_rows': 20}}) to train_and_register, "
            "or leave out campaigns/offers to train without offers."
        ) from exc


#: UpliftModel.fit's own warning for the same finding (see _warn_if_targeted).
_NOT_RANDOMISED = r"UpliftModel\.fit: \d+ arm\(s\) differ from the control rows"


def _warn_if_targeted(X: pd.DataFrame, t: pd.Series, key: np.ndarray) -> None:
    """Warn when a campaign's arms differ from its control group on a feature before the send.

    The offer model reads each campaign as a randomised experiment (arm shares as propensities).
    A campaign that sent the reward to lapsing customers and kept loyal ones as control is not
    one: the difference between its arms is partly who was chosen. Each arm is compared with its
    own campaign's control on every feature, by ranks or by the shares of a text feature's levels
    (see :mod:`loyalty_ml.models._uplift_balance`).
    """
    found = imbalances(X, t.to_numpy(dtype=object), C.CONTROL, key)
    if found:
        examples = [
            f"campaign #{f.group + 1} by send date, {f.arm!r} vs control on {f.feature!r}: "
            f"{f.detail}"
            for f in found[:3]
        ]
        warn_user(
            f"train_and_register: {len(found)} campaign arm(s) differ from their control group "
            f"before the send by more than chance allows ({'; '.join(examples)}; an AUC of 0.50 "
            "and equal shares when randomised). The offer model reads every campaign as randomised (arm shares as "
            "propensities), so the effects of a targeted campaign mix the reward with who was "
            "chosen for it. Train on randomised campaigns with a control group, or fit "
            "UpliftModel(propensity='estimate') on the experiment table yourself.",
            DataQualityWarning,
        )


def _experiments_only(closed: pd.DataFrame) -> pd.DataFrame:
    """The campaigns with a control group; the others warn and are left out of the uplift fit.

    The nightly job's own sends, appended to ``campaigns`` as its send history (for the monthly
    caps and the campaign features) without control rows, were chosen by the policy: read as
    experiments they would teach the model the policy's targeting. Written by ``nightly_sends``,
    each night's offer has the holdout customers it was withheld from as its control rows (drawn
    by a hash of the id, so alike), and is kept as any experiment is. A campaign is a
    ``campaign_id``, or the send day without one. When no campaign has a control group, all are
    kept so that ``_check_arms`` names the problem.
    """
    key = _campaign_keys(closed)
    is_control = closed[C.OFFER_ID].astype("string").str.strip().eq(C.CONTROL)
    with_control = is_control.groupby(key.to_numpy()).transform("any").to_numpy(dtype=bool)
    if with_control.all() or not with_control.any():
        return closed
    # an offer of nightly_sends whose night withheld it from nobody (a 10% holdout often misses
    # a rare offer) is expected: left out without a word; any other campaign is worth one
    nightly = (
        closed[POLICY_OFFER].notna().to_numpy(dtype=bool)
        if POLICY_OFFER in closed.columns
        else np.zeros(len(closed), dtype=bool)
    )
    unexpected = ~with_control & ~nightly
    dropped = key[unexpected].unique()
    if len(dropped) == 0:
        return closed.loc[with_control]
    warn_user(
        f"train_and_register: {int(unexpected.sum()):,} campaign rows of {len(dropped)} "
        f"campaigns without a control group ({format_examples(sorted(map(str, dropped)))}) are "
        "left out of the offer (uplift) model: without control rows they measure who was chosen, "
        "not what the offer did (the nightly job's own sends fed back without the holdout's "
        "control rows are such rows; loyalty_ml.nightly_sends writes both). They still count for "
        "the monthly caps and the campaign features.",
        DataQualityWarning,
    )
    return closed.loc[with_control]


def _check_catalog(offer_ids: pd.Series, catalog_ids: list[str]) -> None:
    """DataError when a campaign arm has no catalog row: the model would estimate its effect, and
    every scoring call would then fail to price it."""
    from loyalty_ml.schema._ids import suggest_id_matches

    arms = {str(v) for v in offer_ids.dropna().unique()} - {C.CONTROL}
    unknown = sorted(arms - set(catalog_ids))
    if unknown:
        raise DataError(
            f"train_and_register: the campaigns sent offers that are not in the offers catalog: "
            f"{format_examples(unknown, total=len(unknown))} (catalog: "
            f"{format_examples(sorted(catalog_ids), total=len(catalog_ids))}).{suggest_id_matches(unknown, catalog_ids)} "
            "Each offer arm needs its costs in the catalog to be planned: fix the ids, add the "
            "offers (with max_per_month=0 for a reward no longer offered: its campaigns still "
            "teach the model, and it is never chosen), or check the campaigns with "
            "validate_campaigns(campaigns, offers=offers)."
        )


def _warn_if_untested(offer_ids: pd.Series, catalog_ids: list[str], *, window_days: int) -> None:
    """DataQualityWarning naming the catalog's offers that no closed campaign sent: the model has
    no effect for them, so the policy never offers them (a new reward needs a test first)."""
    arms = {str(v) for v in offer_ids.dropna().unique()}
    untested = [offer for offer in catalog_ids if offer not in arms]
    if untested:
        warn_user(
            f"train_and_register: the catalog's offers {format_examples(untested)} were sent by no "
            f"campaign whose {window_days}-day response window closed before as_of, so the offer "
            "model has no effect for them and the policy will never choose them. Test a new "
            "reward against a control group first (or wait for its campaign's window to close), "
            "then retrain; drop it from offers to silence this.",
            DataQualityWarning,
        )


def _check_arms(offer_ids: pd.Series, *, window_days: int) -> None:
    """DataError unless the closed campaigns have a control group and at least one offer arm."""
    arms = sorted(str(v) for v in offer_ids.dropna().unique())
    offers = [arm for arm in arms if arm != C.CONTROL]
    if C.CONTROL in arms and offers:
        return
    lacks = f"no control rows ({C.OFFER_ID} == {C.CONTROL!r})" if offers else "no offer arm"
    raise DataError(
        f"train_and_register: the campaigns whose {window_days}-day response window closed before "
        f"as_of have {lacks}; their {C.OFFER_ID} values are {format_examples(arms, total=len(arms))}. "
        "The uplift model compares each offer with a randomised control group: label the control "
        f"rows {C.CONTROL!r}, or leave out campaigns/offers to train without offers."
        + (_NO_CONTROL_HINT if offers else "")
    )


#: What to do with campaigns where nobody was held out: offers=None keeps their features.
_NO_CONTROL_HINT = (
    " Campaigns where nobody was held out (targeted sends, such as dunnhumby's TypeA-C) cannot "
    "train the offer model: pass offers=None and keep campaigns, whose sends still make the "
    "campaign features (offers_received, days_since_last_offer)."
)


def _has_control_and_offer(t: pd.Series) -> bool:
    arms = set(t.astype("string").dropna())
    return C.CONTROL in arms and len(arms) >= 2


#: Fewest rows the uplift backtest holds out, when recent campaigns can be pooled to reach it.
_BACKTEST_ROWS = 200


def _backtest_rows(key: np.ndarray, start: np.ndarray | None, window_days: int) -> np.ndarray:
    """Rows of the campaigns the backtest holds out (see ``_fit``); at least one campaign is left
    to learn from."""
    newest = int(key.max())
    held = key == newest
    if start is None or newest == 0:
        return held
    firsts = pd.Series(start).groupby(key).min()
    sizes = np.bincount(key, minlength=newest + 1)
    limit = firsts[newest] - np.timedelta64(window_days, "D")
    n_rows = int(sizes[newest])
    for number in range(newest - 1, 0, -1):  # campaign 0 always stays to learn from
        if n_rows >= _BACKTEST_ROWS or firsts[number] < limit:
            break
        held |= key == number
        n_rows += int(sizes[number])
    return held


def _fit(
    X: pd.DataFrame,
    y: pd.Series,
    t: pd.Series,
    key: np.ndarray,
    *,
    catalog: Any,
    params: dict[str, Any],
    start: np.ndarray | None = None,
    window_days: int = 30,
) -> OfferTraining:
    """Backtest on the latest campaigns (when there are earlier ones), then fit on all of them.

    The backtest holds out the latest campaign and learns from the earlier ones. A latest campaign
    of fewer than ``_BACKTEST_ROWS`` rows is pooled with the campaigns started within
    ``window_days`` before it, latest first, until they make that many rows: a nightly job's
    campaigns (one per offer and night) are a few dozen rows each.
    """
    from loyalty_ml.evaluation.uplift_metrics import plot_uplift_curves, qini_auc_score
    from loyalty_ml.models.uplift import UpliftModel

    metrics: dict[str, float] = {}
    figure = None
    weight = _design_weights(t, key)
    last = _backtest_rows(key, start, window_days)
    earlier = ~last
    if key.max() >= 1 and _has_control_and_offer(t.loc[earlier]):
        # the backtest is judged on its ranking alone: the held-out check of its purchase
        # probabilities, which only prices a budget, would double its fit for nothing
        backtest = UpliftModel(**{**params, "cost_folds": 0}).fit(
            X.loc[earlier],
            y.loc[earlier],
            treatment=t.loc[earlier],
            sample_weight=_design_weights(t.loc[earlier], key[earlier]),
            groups=key[earlier],
        )
        # the latest campaigns' arms the earlier ones tried (an offer new in them cannot be judged)
        scored = last & t.isin([C.CONTROL, *backtest.arms_]).to_numpy()
        if _has_control_and_offer(t.loc[scored]):
            arms = sorted(set(t.loc[scored]) - {C.CONTROL})
            effects = backtest.predict_effects(X.loc[scored])[arms]
            y_last, t_last = y.loc[scored].to_numpy(), t.loc[scored].to_numpy()
            qini = qini_auc_score(y_last, t_last, effects)
            if isinstance(qini, pd.Series):
                metrics.update(
                    {f"backtest_qini_auc_{metric_key(arm)}": float(v) for arm, v in qini.items()}
                )
                metrics["backtest_qini_auc_mean"] = float(qini.mean())
            else:
                metrics["backtest_qini_auc_mean"] = float(qini)
            figure = plot_uplift_curves(y_last, t_last, effects)
            metrics["backtest_uplift_rows"] = float(scored.sum())
            metrics["backtest_uplift_campaigns"] = float(len(np.unique(key[scored])))
    model = UpliftModel(**params).fit(X, y, treatment=t, sample_weight=weight, groups=key)
    metrics["uplift_training_rows"] = float(len(X))
    metrics["uplift_campaigns"] = float(key.max() + 1)
    # the tree size actually used ("auto" depends on the arms' sizes)
    metrics["uplift_num_leaves"] = float(model.num_leaves_)
    metrics["uplift_min_child_samples"] = float(model.min_child_samples_)
    metrics["uplift_linear_weight"] = float(model.linear_weight_)  # "auto" depends on them too
    linear = getattr(model.learner_, "linear", None)
    if linear is not None:  # the blend's penalty, tighter on a table of many unrelated columns
        metrics["uplift_linear_c"] = float(linear.c)
    # the campaigns the learners tell apart and average over (0: too few large ones, or off)
    feature = model.group_feature_
    metrics["uplift_campaign_levels"] = 0.0 if feature is None else float(len(feature.settings()))
    check = getattr(model, "cost_calibration_", None)
    if check is not None:
        # how far each offer's customers of largest estimated effect bought beyond (> 1) or short
        # of (< 1) the probability the model gave them, on held-out rows: what a budget prices
        top = check.groupby(level=0, sort=False).tail(1)
        for (arm, _), band in top.iterrows():
            if band["predicted"] > 0:
                # to 10 decimals: the refits sum rows in the order they came, the last bits with it
                ratio = round(float(band["observed"] / band["predicted"]), 10)
                metrics[f"uplift_cost_check_top_ratio_{metric_key(str(arm))}"] = ratio
    return OfferTraining(model, catalog, metrics, figure, len(X), int(key.max() + 1))
