"""``train_and_register``: one tracked MLflow run from transactions to a registered policy model.

The run logs parameters, the data window and row counts, a hash of the inputs, backtest metrics, plots
and the model; nothing logged holds a customer id or a personal attribute (plots and tables are
aggregates; the model's input example is synthetic). Customers without profiling consent are left out
of training altogether, and counted.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml._checks import MAX_MONEY, is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    format_examples,
    withhold_ids,
)
from loyalty_ml.features import FeatureConfig, build_features, training_table
from loyalty_ml.features.events import PREFIX as EVENT_PREFIX
from loyalty_ml.features.events import RARE_STEM
from loyalty_ml.kpis._common import order_keys, purchase_lines
from loyalty_ml.privacy.consent import profiled_only
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import on_data_clock
from loyalty_ml.schema._data_end import covered_until, stated_before
from loyalty_ml.schema.transactions import data_end
from loyalty_ml.tracking._inputs import (
    check_id_overlap,
    check_job_tables,
    warn_if_a_day_repeats,
    warn_if_data_ends_early,
)
from loyalty_ml.tracking._mlflow import (
    check_one_store,
    check_reachable,
    experiment_id,
    resolve_tracking_uri,
    use_tracking_uri,
)
from loyalty_ml.tracking._train_record import log_cleaning, log_plots, register_and_promote
from loyalty_ml.tracking.drift import DriftProfile
from loyalty_ml.tracking.hashing import hash_frames
from loyalty_ml.tracking.policy import LoyaltyPolicy
from loyalty_ml.tracking.registry import check_registry_names, check_tolerance

__all__ = ["TrainingResult", "train_and_register"]


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`train_and_register` produced.

    Attributes
    ----------
    run_id : str
        The MLflow run.
    model_name, version : str
        The registered model and its new version.
    alias : str
        ``"champion"`` (promoted) or ``"challenger"``.
    promoted : bool
        Whether the version became champion.
    reason : str
        Why (the promotion rule's verdict).
    metrics : dict
        Everything logged as a metric.
    tracking_uri : str
        Where the run and the model live.
    policy : LoyaltyPolicy
        The registered decision chain.
    """

    run_id: str
    model_name: str
    version: str
    alias: str
    promoted: bool
    reason: str
    metrics: dict[str, float]
    tracking_uri: str
    policy: LoyaltyPolicy = field(repr=False)

    @property
    def model_uri(self) -> str:
        """``models:/<name>/<version>`` of the new version."""
        return f"models:/{self.model_name}/{self.version}"


def _cutoffs(
    first: pd.Timestamp, as_of: pd.Timestamp, *, horizon_days: int, n_cutoffs: int, spacing: int
) -> list[pd.Timestamp]:
    last = (as_of - pd.Timedelta(days=horizon_days)).normalize()
    cutoffs = [last - pd.Timedelta(days=spacing * i) for i in range(n_cutoffs)]
    usable = [c for c in cutoffs if c > first]
    if len(usable) < 2:
        raise DataError(
            f"train_and_register: as_of={as_of.date()} with horizon_days={horizon_days} leaves "
            f"{len(usable)} cutoff(s) after the first purchase ({first.date()}); the backtest needs "
            "at least 2. Use a longer history, a shorter horizon or a smaller "
            "cutoff_spacing_days (an as_of later than the day after the last purchase would label "
            "customers from days without data)."
        )
    return sorted(usable)


def _check_estimator_params(estimator: type, name: str, params: object) -> None:
    """Refuse unknown or invalid settings of a model before the training starts, not minutes in."""
    if params is None:
        return
    if not isinstance(params, dict):
        raise ConfigError(
            f"The '{name}' parameter of train_and_register must be a dict of "
            f"{estimator.__name__} settings. Got {type(params).__name__} instead."
        )
    known = set(estimator().get_params())
    unknown = sorted(str(k) for k in set(params) - known)
    if unknown:
        raise ConfigError(
            f"train_and_register: {name} has unknown keys {unknown}; {estimator.__name__} takes "
            f"{sorted(known)}."
        )
    estimator(**params)._check_params()


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(
            f"The '{name}' parameter of train_and_register must be an int >= {minimum}. "
            f"Got {value!r} instead."
        )
    return int(value)


def _check_auc_floor(value: object) -> float:
    """``min_backtest_auc`` as a float, or ConfigError unless it is a number in [0, 1]."""
    if not is_real(value, finite=True) or not 0 <= float(value) <= 1:
        raise ConfigError(
            "The 'min_backtest_auc' parameter of train_and_register must be a number in [0, 1] "
            "(0.5 ranks churners no better than chance; 0 turns the quality floor off). "
            f"Got {value!r} instead."
        )
    return float(value)


def _fit_churn_models(
    X: pd.DataFrame, y: pd.Series, test: np.ndarray, params: dict[str, Any]
) -> tuple[Any, Any]:
    """The backtest churn model (fitted on the rows before the last cutoff) and the registered one
    (fitted on all rows), both of the number of trees the backtest fit chose.

    ``ChurnModel`` early-stops on a hold-out only when the hold-out and the rows left to train on
    have 10 rows of each class, and otherwise grows all ``n_estimators`` trees. The backtest table
    has one cutoff fewer than the whole table, so on a small shop's data one fit could early-stop
    and the other not (50 simulated customers: 1,000 trees behind the logged backtest, 25 in the
    registered model), and the backtest described a model fitted otherwise than the one registered.

    So the tree count is chosen once, by the backtest fit (early stopping on its own hold-out,
    rows before the last cutoff; all ``n_estimators`` trees when that fit has too few rows to hold
    out), and the registered model grows exactly that many, without early stopping of its own:
    the backtest then scores the procedure that made the registered model, and the count was chosen
    without the labels the backtest scores. Not the other way round: the whole table's early stopping
    picks its count on the last cutoff's labels (its hold-out), the very rows the backtest scores,
    so a backtest model given that count would be tuned on its own test rows. The registered model
    grows the trees of a table one cutoff shorter, a count that is typically a little low for
    the whole table; that costs less than an optimistic backtest.

    When the backtest fit could not hold out, its ``n_estimators`` trees are the ceiling, not a
    choice, and the registered model early-stops on its own where it can, as before: on 50
    simulated customers forcing the 1,000 trees on it cost up to 0.05 of ROC AUC on later labels
    (a review's scratch run, 4 seeds), and the backtest then describes a model of more trees, a
    pessimistic figure for the promotion rule. The run's ``churn_trees_chosen_by`` tag says which.

    Calibration still follows each fit's own hold-out, which needs those 10 rows of each class:
    the registered model is calibrated on the last cutoff when it can be, even when the backtest
    model could not be calibrated. Calibration is monotone, so the ROC AUC that the promotion rule
    reads hardly moves, but the logged backtest ECE is then that of uncalibrated probabilities.
    """
    from loyalty_ml.models.churn import ChurnModel

    backtest = ChurnModel(**params).fit(X.loc[~test], y.loc[~test])
    if not _early_stopped(backtest):
        return backtest, ChurnModel(**params).fit(X, y)
    fixed = {**params, "n_estimators": int(backtest.best_iteration_), "early_stopping_rounds": None}
    return backtest, ChurnModel(**fixed).fit(X, y)


def _early_stopped(model: Any) -> bool:
    """Whether a churn fit chose its tree count by early stopping on a hold-out."""
    split = str(model.validation_["split"])
    return not split.startswith("skipped") and model.early_stopping_rounds is not None


def _trees_note(backtest: Any, registered: Any) -> str:
    """How the churn models' tree count was chosen (the run's ``churn_trees_chosen_by`` tag)."""
    split = str(backtest.validation_["split"])
    if not _early_stopped(backtest):
        return (
            f"the backtest model grew all n_estimators={backtest.n_estimators} trees, without "
            f"early stopping ({split}); the registered model {registered.best_iteration_}, by its "
            f"own ({registered.validation_['split']})"
        )
    return (
        f"{backtest.best_iteration_} trees, by early stopping of the backtest model "
        f"(hold-out: {split}; n_estimators={backtest.n_estimators})"
    )


def _fixed_channels(config: FeatureConfig, tx: pd.DataFrame) -> FeatureConfig:
    # Scoring must produce the training columns: freeze the channel list seen in training.
    if config.channels is not None or C.CHANNEL not in tx.columns:
        return config
    seen = tuple(sorted(str(c) for c in tx[C.CHANNEL].dropna().unique()))
    return dataclasses.replace(config, channels=seen) if seen else config


#: A kind's recency column names every kind with columns of its own (build_features' events).
_EVENT_KIND = re.compile(rf"^{re.escape(EVENT_PREFIX)}(?P<kind>.+)_days_since$")


def _fixed_event_kinds(config: FeatureConfig, names: list[str]) -> FeatureConfig:
    """``config`` with the event kinds of the training table's columns ``names`` fixed: scoring
    must build those columns, not the kinds the scoring day's table holds."""
    if config.event_kinds is not None:
        return config
    rare = RARE_STEM.removeprefix(EVENT_PREFIX)
    kinds = [m["kind"] for name in names if (m := _EVENT_KIND.match(name)) and m["kind"] != rare]
    if not kinds and f"{RARE_STEM}_days_since" not in names:
        return config  # trained without events
    valued = tuple(k for k in kinds if f"{EVENT_PREFIX}{k}_last" in names)
    return dataclasses.replace(config, event_kinds=tuple(kinds), event_value_kinds=valued)


def _check_settings(
    *,
    tracking_uri: str | None,
    promotion_tolerance: float,
    model_name: str,
    alias: str,
    experiment: str,
    fairness_override: bool,
    fairness_override_reason: str | None,
    churn_params: dict[str, Any] | None,
    uplift_params: dict[str, Any] | None,
    min_days_between_offers: int | None,
    value_per_conversion: object,
    feature_config: object,
) -> None:
    """Refuse what would fail minutes into the training: an unreachable tracking store, registry
    names MLflow refuses, contradictory fairness settings, unknown or invalid model settings."""
    from loyalty_ml.models.churn import ChurnModel
    from loyalty_ml.models.uplift import UpliftModel
    from loyalty_ml.policy.offers import check_rest_days

    check_reachable(resolve_tracking_uri(tracking_uri))
    check_one_store(resolve_tracking_uri(tracking_uri))
    check_tolerance(promotion_tolerance)
    check_registry_names(model_name=model_name, alias=alias, experiment=experiment)
    if fairness_override and not (fairness_override_reason or "").strip():
        raise ConfigError(
            "train_and_register(fairness_override=True) needs fairness_override_reason: a failed "
            "fairness audit may only be overridden with a recorded explanation."
        )
    if fairness_override_reason is not None and not fairness_override:
        raise ConfigError(
            "train_and_register got fairness_override_reason but fairness_override=False; pass "
            "fairness_override=True to override a failed fairness audit, or drop the reason."
        )
    _check_estimator_params(ChurnModel, "churn_params", churn_params)
    _check_estimator_params(UpliftModel, "uplift_params", uplift_params)
    check_rest_days(min_days_between_offers, owner="train_and_register")
    v = value_per_conversion
    if v is not None and not (is_real(v, finite=True) and 0 <= float(v) <= MAX_MONEY):
        # above the bound every nightly plan of the registered policy would be refused
        raise ConfigError(
            "The 'value_per_conversion' parameter of train_and_register must be a finite number "
            f">= 0 and at most {MAX_MONEY:.0e} (the margin of one extra purchase), or None for "
            f"the mean margin of the orders. Got {v!r} instead."
        )
    if feature_config is not None and not isinstance(feature_config, FeatureConfig):
        raise ConfigError(
            "The 'feature_config' parameter of train_and_register must be a FeatureConfig or None. "
            f"Got {type(feature_config).__name__} instead."
        )


def _profiled_history(
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None,
    cutoff: pd.Timestamp,
    horizon_days: int,
) -> tuple[pd.DataFrame, pd.DataFrame | None, int, bool]:
    """The lines before ``cutoff`` of the customers who may be profiled, those customers, and how
    many customers with lines before it were left out for want of profiling consent."""
    caller = "train_and_register"
    before = transactions.loc[(transactions[C.TIMESTAMP] < cutoff).to_numpy()]
    if len(before) == 0:
        raise DataError(
            f"train_and_register: no transactions before as_of={cutoff.date()} (the data covers "
            f"{_data_window(transactions)}). Use an as_of after the first purchases."
        )
    check_id_overlap(customers, before, caller=caller)
    tx, people, consenting = profiled_only(before, customers)
    n_excluded = int(before.loc[~consenting, C.CUSTOMER_ID].nunique())
    if len(tx) == 0:
        raise DataError(
            f"train_and_register: none of the {before[C.CUSTOMER_ID].nunique():,} customers with "
            f"transactions before as_of={cutoff.date()} may be profiled: {C.CONSENT_PROFILING} is "
            "False or missing for all of them. Check the consent flags of customers."
        )
    stale = warn_if_data_ends_early(before, cutoff, horizon_days, caller=caller)
    warn_if_a_day_repeats(transactions, before, cutoff, caller=caller)
    return tx, people, n_excluded, stale


def _churn_table(
    tx: pd.DataFrame,
    cutoffs: list[pd.Timestamp],
    *,
    as_of: pd.Timestamp,
    horizon_days: int,
    people: pd.DataFrame | None,
    campaigns: pd.DataFrame | None,
    config: FeatureConfig,
    n_excluded: int = 0,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series, np.ndarray, list[str]]:
    """Features and churn labels at every cutoff, which rows are the backtest's (the latest
    cutoff's), and the features left out for having no value in any backtest training row.
    ``n_excluded``: customers left out for want of profiling consent, named in the errors."""
    X, y = training_table(
        tx,
        cutoffs=cutoffs,
        horizon_days=horizon_days,
        customers=people,
        campaigns=campaigns,
        config=config,
        # complete up to the cut, not through the cutoff's own day on dates without times
        observation_end=stated_before(as_of, tx[C.TIMESTAMP]),
        progress=False,
        events=events,
    )
    as_of_level = X.index.get_level_values(C.AS_OF)
    test = np.asarray(as_of_level == cutoffs[-1])
    if y.nunique() < 2:
        raise DataError(
            f"train_and_register: every training customer is labelled "
            f"{'churned' if y.iloc[0] == 1 else 'retained'} at the cutoffs "
            f"{[str(c.date()) for c in cutoffs]} (horizon_days={horizon_days}; the data covers "
            f"{_data_window(tx)}), so there is nothing to learn. "
            + _consent_note(tx, n_excluded)
            + "Use an as_of no later than horizon_days after the last transaction, and data with "
            "both returning and lapsed customers."
        )
    X, dropped = _without_empty_features(X, train_rows=~test)
    if y.loc[test].nunique() < 2:
        window_end = cutoffs[-1] + pd.Timedelta(days=horizon_days)
        sales = int(((tx[C.TIMESTAMP] >= cutoffs[-1]) & (tx[C.TIMESTAMP] < window_end)).sum())
        raise DataError(
            f"train_and_register: at the backtest cutoff {cutoffs[-1].date()} every customer is "
            f"labelled {'churned' if y.loc[test].iloc[0] == 1 else 'retained'} over the next "
            f"{horizon_days} days (to {window_end.date()}; {sales:,} transactions in that "
            "window), so the backtest has one class and cannot be scored. "
            + _consent_note(tx, n_excluded)
            + "A store closure or a gap in the extract? Use an as_of whose last horizon_days have "
            "normal trading, or a shorter horizon_days."
        )
    return X, y, test, dropped


def _consent_note(tx: pd.DataFrame, n_excluded: int) -> str:
    """A sentence for the one-class errors when most customers were left out for want of
    profiling consent (a customers table that misses them is read as no consent): the few left
    are then more likely the cause than the dates."""
    n_kept = int(tx[C.CUSTOMER_ID].nunique())
    if n_excluded <= n_kept:
        return ""
    return (
        f"Only {n_kept:,} of the {n_kept + n_excluded:,} customers with transactions may be "
        f"profiled: {n_excluded:,} were left out because {C.CONSENT_PROFILING} is False or "
        "missing, or they are not in the customers table (read as no consent). Check the "
        "customers table (the same customers, their ids written as in the transactions) before "
        "the dates. "
    )


def _offer_model(
    tx: pd.DataFrame,
    *,
    campaigns: pd.DataFrame | None,
    offers: pd.DataFrame | None,
    people: pd.DataFrame | None,
    config: FeatureConfig,
    as_of: pd.Timestamp,
    response_window_days: int,
    feature_names: list[str],
    random_state: int,
    uplift_params: dict[str, Any] | None,
    events: pd.DataFrame | None = None,
) -> tuple[Any | None, str]:
    """The offer model trained on past campaigns, or None, and the run's ``offer_model`` tag."""
    if campaigns is None or offers is None:
        return None, "not trained: needs both campaigns and offers (no offers are chosen)"
    from loyalty_ml.tracking._offers import train_offer_model

    offer_training = train_offer_model(
        tx,
        campaigns=campaigns,
        offers=offers,
        customers=people,
        config=config,
        as_of=as_of,
        window_days=response_window_days,
        feature_names=feature_names,
        random_state=random_state,
        uplift_params=uplift_params,
        events=events,
    )
    if offer_training is not None:
        return offer_training, "trained on past campaigns"
    note = (
        "not trained: no campaign row of a profiled customer has a response window that "
        f"closed before as_of={as_of.date()} (no offers are chosen)"
    )
    warn_user(
        f"train_and_register: the offer model is {note}. Pass the campaign history "
        "with its past sends, or leave out campaigns/offers.",
        DataQualityWarning,
    )
    return None, note


@withhold_ids
def train_and_register(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    offers: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    horizon_days: int = 90,
    model_name: str = "loyalty_ml",
    alias: str = "champion",
    tracking_uri: str | None = None,
    experiment: str = "loyalty_ml",
    n_cutoffs: int = 4,
    cutoff_spacing_days: int = 30,
    promotion_tolerance: float = 0.005,
    min_backtest_auc: float = 0.55,
    fairness_override: bool = False,
    fairness_override_reason: str | None = None,
    fairness_limits: Any | None = None,
    value_per_conversion: float | None = None,
    response_window_days: int = 30,
    min_days_between_offers: int | None = 30,
    feature_config: FeatureConfig | None = None,
    churn_params: dict[str, Any] | None = None,
    uplift_params: dict[str, Any] | None = None,
    random_state: int = 0,
    boundary_days: tuple[float, float] | None = None,
) -> TrainingResult:
    """Train the churn model (and the offer policy), log one MLflow run, register the policy model.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (see :func:`loyalty_ml.validate_transactions`); only rows before
        ``as_of`` are used.
    as_of : date-like
        The training date: the last cutoff is ``as_of - horizon_days`` so its labels end at ``as_of``.
    customers, campaigns, offers : DataFrame, optional
        Canonical customers (indexed by ``customer_id``), campaign history and offers catalog.
    events : DataFrame, optional
        Engagement and feedback events (see :func:`loyalty_ml.validate_events`); each cutoff
        reads only the events before it. The kinds with columns of their own are fixed in the
        registered model's feature config, and ``score_customers`` refuses to score it without
        an events table.
    horizon_days : int
        Churn label horizon.
    model_name, alias : str
        Registered model name, and the alias a promoted version gets (``"champion"``); a version that
        is not promoted gets ``"challenger"``. A version without an offer model (no campaign's
        response window closed before ``as_of``) is not promoted over a champion that has one.
    tracking_uri : str, optional
        MLflow tracking URI (default: ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``).
    experiment : str
        MLflow experiment name.
    n_cutoffs, cutoff_spacing_days : int
        Training cutoffs every ``cutoff_spacing_days`` going back from the last one; the latest cutoff
        is the backtest (train on the earlier ones, evaluate on it).
    promotion_tolerance : float
        How much lower than the champion's backtest ROC AUC a new version may be and still be promoted.
    min_backtest_auc : float
        The quality floor: a version whose backtest ROC AUC is below it (or undefined) is
        registered as ``"challenger"``, never promoted, whatever the champion and the fairness
        gate say, with a warning; the run's tags ``quality_gate`` and ``quality_gate_reason`` say
        why. 0.5 is a model that ranks churners no better than chance; the default, 0.55, asks for
        a little skill (the simulator's models reach 0.91-0.98, Online Retail II's about 0.73).
        0 turns the floor off.
    fairness_override : bool
        Promote despite a failed fairness gate; needs ``fairness_override_reason``. The override
        and its reason are recorded with the run (tags ``fairness_gate``,
        ``fairness_override_reason``).
    fairness_override_reason : str, optional
        Why a failed fairness audit is accepted (e.g. "gap explained by risk; reviewed, ticket 42").
    fairness_limits : FairnessLimits, optional
        Limits of the fairness audit by protected attribute (age band, gender, income band of
        ``customers``) of the backtest scores and, with an offer model, of the registered policy's
        offers to the same customers (offer rate by group among the customers the policy may
        contact: those without marketing consent and the holdout are left out); the defaults of
        :class:`~loyalty_ml.evaluation.fairness.FairnessLimits` when None. The report also holds
        every figure within the risk bands of the trigger policy (``by_group_conditional``, logged
        under ``fairness/``), judged only when the limits say ``judge="conditional"`` or
        ``"both"`` (``"auto"`` judges the raw figures here).
    value_per_conversion : float, optional
        Margin of one conversion for offer economics; default the mean margin per order, or
        without a ``margin`` column the mean amount per order, with a warning (revenue overstates
        what a conversion is worth).
    response_window_days : int
        Response window of past campaigns (the uplift label: a purchase within it).
    min_days_between_offers : int or None
        Contact frequency of the registered policy: a customer sent any offer in this many days
        before the scoring date gets none (``score_customers`` reads the sends from its
        ``campaigns``). The default, 30, is the default response window: the uplift model
        estimates what one send does over that window, not what a second send inside it adds, and
        a nightly job would otherwise offer a triggered customer something every night until each
        offer's ``max_per_month`` is used. ``None`` switches the rule off.
    feature_config : FeatureConfig, optional
        Feature options (the channel list is frozen from the training data when not given).
    churn_params, uplift_params : dict, optional
        Hyperparameters of :class:`~loyalty_ml.models.churn.ChurnModel` and
        :class:`~loyalty_ml.models.uplift.UpliftModel`. The offer model is fitted with
        ``purpose="decisions"`` (trees sized for effects weighed against costs) unless
        ``uplift_params`` says otherwise.
    random_state : int
        Seed of every random step.
    boundary_days : (float, float), optional
        The trigger policy's sleep and churn boundaries in days, ``(sleep_days, churn_days)``,
        instead of estimating them from the purchase gaps (:func:`~loyalty_ml.features.
        estimate_boundaries`): for data whose gaps cannot tell them (gaps capped at 30 days, as
        Instacart's ``days_since_prior_order``), or boundaries the business has set. ``None``
        estimates them, with a warning and 60 and 90 days when they cannot be.

    Returns
    -------
    TrainingResult

    Warns
    -----
    DataQualityWarning
        A backtest ROC AUC below ``min_backtest_auc``: the version is not promoted. Features with
        no value in any backtest training row (say, campaigns that all start later) are left out,
        named in the warning and in the run's ``dropped_empty_features`` tag; with campaigns and
        offers but no campaign whose response window closed before ``as_of``, no offer model is
        trained (the ``offer_model`` tag says why). Most lines of one of the 7 days before
        ``as_of`` repeating exactly (a night's extract appended twice after validation), as
        :func:`~loyalty_ml.tracking.scoring.score_customers` warns too.
    """
    import mlflow

    from loyalty_ml.evaluation.churn_metrics import evaluate_churn

    # Fail fast, before minutes of training, when the tracking server is down or the settings are
    # wrong or contradictory.
    _check_settings(
        tracking_uri=tracking_uri,
        promotion_tolerance=promotion_tolerance,
        model_name=model_name,
        alias=alias,
        experiment=experiment,
        fairness_override=fairness_override,
        fairness_override_reason=fairness_override_reason,
        churn_params=churn_params,
        uplift_params=uplift_params,
        min_days_between_offers=min_days_between_offers,
        value_per_conversion=value_per_conversion,
        feature_config=feature_config,
    )
    min_backtest_auc = _check_auc_floor(min_backtest_auc)
    horizon_days = _check_int("horizon_days", horizon_days, 1)
    n_cutoffs = _check_int("n_cutoffs", n_cutoffs, 2)
    spacing = _check_int("cutoff_spacing_days", cutoff_spacing_days, 1)
    # checked with or without campaigns: a config file's typo should not wait for the day it is used
    response_window_days = _check_int("response_window_days", response_window_days, 1)
    given_triggers = _given_triggers(boundary_days)
    cutoff = on_data_clock(as_of, transactions)
    caller = "train_and_register"
    customers, campaigns = check_job_tables(transactions, customers, campaigns, caller=caller)
    tx, people, n_excluded, stale = _profiled_history(transactions, customers, cutoff, horizon_days)
    config = _fixed_channels(feature_config or FeatureConfig(), tx)
    # the first purchase: a refund of an order before the extract's window is not a start
    bought = purchase_lines(tx)
    first = pd.Timestamp(bought[C.TIMESTAMP].min())
    if pd.isna(first):
        raise DataError(
            f"train_and_register: the {len(tx):,} transaction lines before as_of={cutoff.date()} "
            "are all refunds (amount < 0); there is no purchase to learn from. Use an as_of after "
            "the first purchases."
        )
    cutoffs = _cutoffs(
        first, cutoff, horizon_days=horizon_days, n_cutoffs=n_cutoffs, spacing=spacing
    )

    X, y, test, dropped = _churn_table(
        tx,
        cutoffs,
        as_of=cutoff,
        horizon_days=horizon_days,
        people=people,
        campaigns=campaigns,
        config=config,
        n_excluded=n_excluded,
        events=events,
    )
    # the kinds of the training table, for every later feature table (scoring included)
    config = _fixed_event_kinds(config, [str(c) for c in X.columns] + dropped)
    params = {"random_state": random_state, **(churn_params or {})}
    backtest_model, churn = _fit_churn_models(X, y, test, params)
    p_test = backtest_model.predict_proba(X.loc[test])[:, 1]
    evaluation = evaluate_churn(y.loc[test].to_numpy(), p_test)

    # The reference population for drift: every customer as of the training date, as scoring sees it.
    latest = build_features(
        tx, as_of=cutoff, customers=people, campaigns=campaigns, config=config, events=events
    ).drop(columns=dropped, errors="ignore")
    categories = {
        str(c): tuple(str(v) for v in X[c].cat.categories)
        for c in X.columns
        if isinstance(X[c].dtype, pd.CategoricalDtype)
    }
    profile_frame = latest.assign(churn_probability=churn.predict_proba(latest)[:, 1])
    value = (
        float(value_per_conversion)
        if value_per_conversion is not None
        else _value_per_conversion(tx, bought)
    )
    triggers, boundaries, boundary_note = _trigger_policy(
        tx, cutoff, stale=stale, given=given_triggers
    )
    # segments and VIP status against every customer at the training date, not each scored batch
    triggers = triggers.with_reference(latest)
    offer_training, offer_note = _offer_model(
        tx,
        campaigns=campaigns,
        offers=offers,
        people=people,
        config=config,
        as_of=cutoff,
        response_window_days=response_window_days,
        feature_names=[str(c) for c in X.columns],
        random_state=random_state,
        uplift_params=uplift_params,
        events=events,
    )
    metrics: dict[str, float] = {
        f"backtest_{k}": float(v) for k, v in evaluation.as_dict().items() if is_real(v)
    }
    if offer_training is not None:
        metrics.update(offer_training.metrics)
        if value_per_conversion is None and C.MARGIN not in tx.columns:
            # revenue is not margin: at a margin of 20-30%, every offer looks 3-5 times as
            # valuable as it is, and the dear ones pay where they do not
            warn_user(
                f"train_and_register: the transactions have no {C.MARGIN!r} column, so a "
                f"conversion is valued at the mean revenue per order ({value:,.2f}), not its "
                "margin (DESIGN section 5), and dear offers look worth their cost where they are "
                "not. Pass value_per_conversion (the margin a conversion brings; in the command "
                "line, value_per_conversion in --config) or a margin column.",
                DataQualityWarning,
            )
    counts = {
        "n_transactions": len(tx),
        "n_customers": int(tx[C.CUSTOMER_ID].nunique()),
        "n_excluded_no_profiling_consent": n_excluded,
        "n_training_rows": len(X),
        "n_backtest_train_rows": int((~test).sum()),
        "n_backtest_rows": int(test.sum()),
        "n_features": X.shape[1],
        "churn_rate_training": float(y.mean()),
    }
    policy = LoyaltyPolicy(
        feature_config=config,
        feature_names=tuple(str(c) for c in X.columns),
        feature_categories=categories,
        churn_model=churn,
        trigger_policy=triggers,
        uplift_model=offer_training.uplift_model if offer_training else None,
        catalog=offer_training.catalog if offer_training else None,
        value_per_conversion=value,
        min_days_between_offers=min_days_between_offers,
        # scoring needs them too: without them consent would be read as managed upstream
        consent_flags=tuple(
            flag
            for flag in C.CONSENT_COLUMNS
            if customers is not None and flag in customers.columns
        ),
        drift_profile=DriftProfile.from_frame(profile_frame),
        training_summary={
            "as_of": str(cutoff.date()),
            "horizon_days": horizon_days,
            "cutoffs": [str(c.date()) for c in cutoffs],
            **counts,
            **metrics,
        },
    )

    # who gets which offer is audited with the scores: the policy's plan for the backtest customers
    fairness = _fairness_audit(
        people,
        y.loc[test],
        p_test,
        plan=_backtest_plan(policy, X.loc[test], people),
        limits=fairness_limits,
        random_state=random_state,
        risk=(triggers.medium_risk, triggers.high_risk),
    )

    with use_tracking_uri(tracking_uri) as uri:
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        with mlflow.start_run(
            experiment_id=experiment_id(experiment, tracking_uri=uri),
            run_name=f"train {cutoff.date()}",
            nested=mlflow.active_run() is not None,  # inside a notebook's own run: a child run
        ) as run:
            mlflow.log_params(
                {
                    "as_of": str(cutoff.date()),
                    "horizon_days": horizon_days,
                    "n_cutoffs": len(cutoffs),
                    "cutoff_spacing_days": spacing,
                    "cutoffs": ",".join(str(c.date()) for c in cutoffs),
                    "model_name": model_name,
                    "promotion_tolerance": promotion_tolerance,
                    "min_backtest_auc": min_backtest_auc,
                    "fairness_override": fairness_override,
                    "value_per_conversion": round(value, 4),
                    "random_state": random_state,
                    "uses_customers": customers is not None,
                    "uses_campaigns": campaigns is not None,
                    "uses_offers": offers is not None,
                    "uses_events": events is not None,
                    **{f"feature_{k}": v for k, v in dataclasses.asdict(config).items()},
                    **{f"churn_{k}": v for k, v in churn.get_params().items()},
                    # the offer model's settings, so that it can be refitted from the run
                    **(
                        {
                            "response_window_days": response_window_days,
                            "min_days_between_offers": str(min_days_between_offers),
                            **{
                                f"uplift_{k}": v
                                for k, v in offer_training.uplift_model.get_params().items()
                            },
                        }
                        if offer_training is not None
                        else {}
                    ),
                }
            )
            mlflow.set_tags(
                {
                    "input_sha256": hash_frames(
                        transactions=transactions,
                        customers=customers,
                        campaigns=campaigns,
                        offers=offers,
                        # only when given: the hashes of runs without events stay as they were
                        **({"events": events} if events is not None else {}),
                    ),
                    "data_start": str(first.date()),
                    "data_end": str(_data_end(tx, cutoff)),
                    "churn_calibration": str(churn.calibration_),
                    "boundaries": boundary_note,
                    "offer_model": offer_note,
                    "dropped_empty_features": ",".join(dropped) or "none",
                    "churn_trees_chosen_by": _trees_note(backtest_model, churn),
                }
            )
            mlflow.log_metrics(
                {
                    **metrics,
                    **{k: float(v) for k, v in counts.items()},
                    # the leaf size the trees used (capped at a tenth of the training rows)
                    "churn_min_child_samples_used": float(churn.min_child_samples_),
                    # the trees of both churn models, chosen by the backtest fit
                    "churn_n_trees": float(churn.best_iteration_),
                }
            )
            log_plots(
                evaluation=evaluation,
                churn=churn,
                latest=latest,
                boundaries=boundaries,
                offer_figure=offer_training.figure if offer_training is not None else None,
                tx=tx,
                as_of=cutoff,
            )
            version, decision = register_and_promote(
                client,
                policy,
                example_features=latest,
                model_name=model_name,
                alias=alias,
                tracking_uri=uri,
                backtest_roc_auc=metrics["backtest_roc_auc"],
                promotion_tolerance=promotion_tolerance,
                min_backtest_auc=min_backtest_auc,
                fairness=fairness,
                fairness_override=fairness_override,
                fairness_override_reason=fairness_override_reason,
                X_test=X.loc[test],
                y_test=y.loc[test],
                cutoffs=cutoffs,
                horizon_days=horizon_days,
                config=config,
            )
            mlflow.log_text(
                json.dumps(policy.training_summary, indent=2, default=str),
                "training_summary.json",
            )
            log_cleaning(transactions)
    return TrainingResult(
        run_id=run.info.run_id,
        model_name=model_name,
        version=version,
        alias=decision.alias,
        promoted=decision.promoted,
        reason=decision.reason,
        metrics={**metrics, **{k: float(v) for k, v in counts.items()}},
        tracking_uri=uri,
        policy=policy,
    )


def _backtest_plan(
    policy: LoyaltyPolicy, X_test: pd.DataFrame, people: pd.DataFrame | None
) -> pd.DataFrame | None:
    """The registered policy's decisions for the backtest customers (None without an offer model
    or without protected attributes to audit them by)."""
    if policy.uplift_model is None or people is None:
        return None
    if not any(c in people.columns for c in C.PROTECTED_ATTRIBUTES):
        return None
    from loyalty_ml.privacy.consent import marketing_consent

    features = X_test.droplevel(C.AS_OF) if C.AS_OF in X_test.index.names else X_test
    plan = policy.decide(features, consent_marketing=marketing_consent(people), reasons="none")
    # the holdout's customers the policy planned for (triggered, with marketing consent), also
    # those whose reason says what they would have had instead of an offer withheld: the audit
    # leaves them out of who it offers (choose_offers' in_holdout)
    from loyalty_ml.policy._plan_reasons import IN_HOLDOUT, NO_CONSENT
    from loyalty_ml.tracking.policy import NO_TRIGGER

    planned = ~plan["offer_reason"].isin([NO_TRIGGER, NO_CONSENT]).to_numpy()
    return plan.assign(**{IN_HOLDOUT: policy.holdout_mask(plan.index) & planned})


def _warn_unaudited_protected(customers: pd.DataFrame) -> None:
    """DataQualityWarning naming protected-looking columns the fairness gate does not read.

    The gate audits ``age_band``, ``gender`` and ``income_band``; X5's clients table has a raw
    ``age``, which is kept out of the features as protected and was then audited by nobody
    without a word, and dunnhumby's ``hh_demographic`` its bands as ``AGE_DESC`` and
    ``INCOME_DESC``.
    """
    from loyalty_ml.schema.tables import is_protected_attribute

    unread = [
        str(c)
        for c in customers.columns
        if c not in C.PROTECTED_ATTRIBUTES
        and is_protected_attribute(c)
        # a raw age next to its age_band (the fix this warning gives) is audited by the band
        and _audited_as(c) not in customers.columns
    ]
    if unread:
        warn_user(
            f"train_and_register: customers has {unread}, which look like protected attributes, "
            f"but the fairness gate audits only the columns {list(C.PROTECTED_ATTRIBUTES)}, so "
            "the offers and scores are not audited by them. Map a column that holds bands "
            "already to one of those names (validate_customers(..., columns=ColumnMap("
            "age_band='AGE_DESC', income_band='INCOME_DESC'))); bin a raw value into one first, "
            "e.g. customers['age_band'] = pd.cut(customers['age'], [0, 25, 35, 50, 65, 120]).",
            DataQualityWarning,
        )


def _audited_as(column: object) -> str | None:
    """The column of the fairness gate that audits the attribute ``column`` encodes (``age`` and
    ``AGE_DESC`` and a ``generation`` by ``age_band``, ``sex`` and ``Gender_F`` by ``gender``),
    None for another."""
    name = str(column).casefold()
    if name.startswith(("age", "generation")):
        return C.AGE_BAND
    if name.startswith("income"):
        return C.INCOME_BAND
    return C.GENDER if name.startswith(("gender", "sex")) else None


def _fairness_audit(
    customers: pd.DataFrame | None,
    y: pd.Series,
    p: np.ndarray,
    *,
    plan: pd.DataFrame | None = None,
    limits: Any | None,
    random_state: int,
    risk: tuple[float, float] = (0.3, 0.6),
) -> Any | None:
    """Fairness of the backtest scores, and of the offer ``plan`` for the same customers when
    there is one, by protected attribute (None without such attributes), raw and within risk bands
    (DESIGN section 9: offers by group "conditional on risk band as well as raw").

    ``risk`` is the trigger policy's (medium, high) thresholds: the high one is where a score turns
    into a contact (the selection threshold), and both cut the risk bands of the conditional
    figures. The raw figures are judged unless ``limits`` say otherwise (``judge="auto"`` judges
    raw here, as before the bands were added; "conditional" or "both" judge within bands too).
    Attributes the audit could not judge are named by the gate (tag ``fairness_gate_reason``) and
    in ``fairness_report.md`` rather than warned about on every run."""
    if customers is None:
        return None
    _warn_unaudited_protected(customers)
    attributes = [c for c in C.PROTECTED_ATTRIBUTES if c in customers.columns]
    if not attributes:
        return None
    from loyalty_ml.evaluation.fairness import FairnessLimits, fairness_report
    from loyalty_ml.policy._plan_reasons import IN_HOLDOUT

    ids = y.index.get_level_values(C.CUSTOMER_ID)
    sensitive = customers.set_index(C.CUSTOMER_ID)[attributes].reindex(ids)
    # with each decision's expected cost, so that the audit says what the offers cost per group
    # and its reason: customers without marketing consent, or held out, are no part of who it offers
    kept = [
        c
        for c in (C.OFFER_ID, "expected_cost", "offer_reason", IN_HOLDOUT)
        if plan is not None and c in plan.columns
    ]
    offers = None if plan is None else plan[kept].reindex(ids)
    from loyalty_ml.policy.triggers import risk_bands

    medium, high = risk
    band = pd.Series(risk_bands(p, medium=medium, high=high), index=ids, name="risk_band")
    limits = FairnessLimits() if limits is None else limits
    if isinstance(limits, FairnessLimits) and limits.judge == "auto":
        # the job adds the bands; the caller's limits judged the raw figures
        limits = dataclasses.replace(limits, judge="raw")
    with warnings.catch_warnings():
        # the gate names the attributes the audit could not judge, in the run's fairness_gate_reason
        warnings.filterwarnings("ignore", "fairness_report could not judge", DataQualityWarning)
        return fairness_report(
            sensitive,
            y_true=pd.Series(y.to_numpy(), index=ids),
            y_score=pd.Series(p, index=ids),
            offers=offers,
            control=band,
            threshold=high,
            limits=limits,
            random_state=random_state,
        )


def _given_triggers(given: object) -> Any:
    """The TriggerPolicy of ``boundary_days``, None for None; ConfigError for anything else."""
    from loyalty_ml.exceptions import LoyaltyMLError
    from loyalty_ml.policy.triggers import TriggerPolicy

    if given is None:
        return None
    if (
        not isinstance(given, tuple | list)
        or len(given) != 2
        or not all(is_real(v, finite=True) for v in given)
    ):
        raise ConfigError(
            "The 'boundary_days' parameter of train_and_register must be None or a pair of "
            f"numbers of days, (sleep_days, churn_days), e.g. (30, 45). Got {given!r} instead."
        )
    sleep, churn = (float(v) for v in given)
    try:
        return TriggerPolicy(sleep_days=sleep, churn_days=churn)
    except LoyaltyMLError as exc:
        raise ConfigError(f"train_and_register: boundary_days={given!r}: {exc}") from exc


def _trigger_policy(
    tx: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    stale: bool = False,
    given: Any = None,
) -> tuple[Any, Any, str]:
    """The ``given`` TriggerPolicy (from :func:`_given_triggers`), or one with boundaries estimated
    from the data, or its defaults when they cannot be.

    ``stale``: the job has already warned that the data end well before ``as_of``, so the
    boundaries' own warning of it is not repeated."""
    from loyalty_ml.exceptions import LoyaltyMLError
    from loyalty_ml.features.boundaries import estimate_boundaries
    from loyalty_ml.policy.triggers import DEFAULT_CHURN_DAYS, DEFAULT_SLEEP_DAYS, TriggerPolicy

    if given is not None:
        return (
            given,
            None,
            f"given: sleep {given.sleep_days:g} days, churn {given.churn_days:g} days",
        )

    try:
        with warnings.catch_warnings():
            if stale:  # said once, by the job (warn_if_data_ends_early)
                warnings.filterwarnings(
                    "ignore", "estimate_boundaries: as_of=", category=DataQualityWarning
                )
            boundaries = estimate_boundaries(tx, as_of=as_of)
    except LoyaltyMLError as exc:
        # the registered policy's sleeping, win-back and lost states rest on these days
        warn_user(
            f"train_and_register: the activity boundaries could not be estimated ({exc}); the "
            f"trigger policy uses its defaults, sleep {DEFAULT_SLEEP_DAYS:g} and churn "
            f"{DEFAULT_CHURN_DAYS:g} days, and the boundary states of its decisions (sleeping, "
            "win-back) rest on them. Pass boundary_days=(sleep_days, churn_days) to set them.",
            DataQualityWarning,
        )
        return TriggerPolicy(), None, f"defaults (could not estimate: {exc})"[:500]
    note = (
        f"estimated: sleep {boundaries.sleep_days:.0f} days, churn {boundaries.churn_days:.0f} days"
    )
    return TriggerPolicy(boundaries=boundaries), boundaries, note


def _without_empty_features(
    X: pd.DataFrame, *, train_rows: np.ndarray
) -> tuple[pd.DataFrame, list[str]]:
    """``X`` without the features that have no value in any backtest training row, and their names.

    Such a column cannot be learned from (an empty campaigns table, campaigns that start after the
    early cutoffs, a signup date that is never filled, a history too short for trends); the model is
    trained without it and the columns are named in a :class:`DataQualityWarning` (not the pooled
    event kinds' ``event_rare_days_since``, empty whenever no kind was pooled).
    """
    empty = [str(c) for c in X.columns[~X.loc[train_rows].notna().any().to_numpy()]]
    # the pooled event kinds' days-since is empty whenever no kind was pooled: expected, not news
    said = [c for c in empty if not c.startswith(f"{RARE_STEM}_")]
    if not said:
        return X.drop(columns=empty), empty
    warn_user(
        f"train_and_register: feature(s) {format_examples(said, total=len(said), limit=10)} have "
        "no value in any backtest training row (e.g. no campaign sent before the early cutoffs, an "
        "empty customer attribute, a history too short for trends); the model is trained without "
        "them.",
        DataQualityWarning,
    )
    return X.drop(columns=empty), empty


def _data_end(history: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Timestamp:
    """Where the training history ends, as the labels read a table's end: its last row, or the
    midnight after it when every row is a date without a time (the last day is covered whole,
    where the last row's date named the day and its midnight both), or the later end
    ``validate_transactions`` recorded; never after ``cutoff``, before which the history was
    cut. The run's ``data_end`` tag."""
    covered = covered_until(history[C.TIMESTAMP])
    if covered is None:  # not reached: the job refuses an empty history first
        return cutoff
    return min(data_end(history.attrs, covered), cutoff)


def _data_window(transactions: pd.DataFrame) -> str:
    if len(transactions) == 0:
        return "no rows at all"
    times = transactions[C.TIMESTAMP]
    return f"{pd.Timestamp(times.min()).date()} to {pd.Timestamp(times.max()).date()}"


def _value_per_conversion(tx: pd.DataFrame, bought: pd.DataFrame | None = None) -> float:
    # The value of bringing back one purchase: the net margin (amount when no margin) per purchase
    # order. Refunds kept with returns="keep" net against the margin, but an order of refunds only
    # is not a purchase (as clv_inputs computes the AOV). ``bought``: purchase_lines(tx), if the
    # caller has it already.
    column = C.MARGIN if C.MARGIN in tx.columns else C.AMOUNT
    bought = purchase_lines(tx) if bought is None else bought
    n_orders = len(order_keys(bought).drop_duplicates())
    if n_orders == 0:
        return 0.0
    total = float(tx[column].to_numpy(dtype="float64", na_value=0.0).sum())
    return max(total / n_orders, 0.0)
