"""Multi-treatment uplift model: which reward changes what a customer does, and by how much.

``UpliftModel`` is a scikit-learn estimator over the S, T, X and DR meta-learners (causalml's definitions,
LightGBM base learners; see :mod:`loyalty_ml.models._uplift_learners`). Arms are named by strings, the
control arm by ``control``; every output is a DataFrame with one column per arm name, never positions.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from tqdm import tqdm

from loyalty_ml._checks import MAX_MONEY, is_int, is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    NotFittedError,
    SchemaError,
    format_examples,
    format_ids,
)
from loyalty_ml.models._row_order import canonical_row_order
from loyalty_ml.models._uplift_cost_check import calibration_attrs, cost_check
from loyalty_ml.models._uplift_encoding import FeatureEncoding
from loyalty_ml.models._uplift_groups import GroupFeature
from loyalty_ml.models._uplift_learners import (
    ArmData,
    BoostingParams,
    FittedLearner,
    Learner,
    arm_keys_of,
    average_effects,
    fit_learner,
)
from loyalty_ml.models._uplift_linear import table_columns
from loyalty_ml.models._uplift_propensity import (
    PROPENSITY_FOLDS,
    CrossFittedPropensity,
    GivenPropensity,
    PoorOverlapWarning,
    arm_shares,
    check_overlap,
    fit_given_propensity,
    fit_propensity_model,
)
from loyalty_ml.models._uplift_rows import (
    aligned_values,
    arm_means,
    as_float,
    label_text,
    label_texts,
    refuse_outcome_as_feature,
    stratified_resample,
    warn_if_an_arm_has_few_events,
    warn_if_not_randomised,
    warn_if_one_row_dominates,
)
from loyalty_ml.models._uplift_sizing import (
    PURPOSES,
    Purpose,
    auto_linear_weight,
    auto_tree_size,
    counts_columns,
)
from loyalty_ml.schema import columns as C

__all__ = [
    "Learner",
    "PoorOverlapWarning",
    "Purpose",
    "UpliftModel",
    "auto_linear_weight",
    "auto_tree_size",
]

Outcome = Literal["auto", "binary", "continuous"]
_LEARNERS = ("S", "T", "X", "DR")
_OUTCOMES = ("auto", "binary", "continuous")
_OWNER = "UpliftModel"
#: Largest magnitude of an outcome: the library's largest amount of money (an outcome is a
#: purchase, spend or margin). Beyond float32's 3.4e38 the feature check's rounding overflows,
#: and beyond 1e154 squares and sums of squares do.
_MAX_OUTCOME = MAX_MONEY
_MULTITHREAD_MIN_ROWS = 200_000


#: Parameters added after models were first registered, with the value that reproduces a model
#: pickled before each existed (see ``UpliftModel.__setstate__``).
_ADDED_PARAMETERS: dict[str, Any] = {
    "recenter": False,
    "cost_folds": 0,
    "linear_weight": 0.0,
    "progress": None,
    "purpose": "ranking",
    "group_feature": False,
}
#: Fitted attributes added since, with the value a model pickled before them was fitted with
#: (before ``"auto"`` sizes the trees were fixed at 15 leaves of at least 100 rows).
_ADDED_ATTRIBUTES: dict[str, Any] = {
    "linear_weight_": 0.0,
    "baseline_shift_": 0.0,
    "num_leaves_": 15,
    "min_child_samples_": 100,
    "cost_calibration_": None,
    "group_feature_": None,
}


class UpliftModel(BaseEstimator):
    """Uplift (conditional treatment effect) model for any number of named treatment arms.

    ``predict_effects`` gives, per customer and arm, P(y | arm, x) - P(y | control, x) for a binary
    outcome (purchase in the response window) or E[y | arm, x] - E[y | control, x] for a continuous one
    (spend, margin); ``predict_baseline`` gives P(y | control, x) (or E[y | control, x]).

    Propensities: for a randomised experiment (``propensity=None`` at fit) the arm shares are used; a
    design's known shares or per-row propensities can be given; for observational data
    ``propensity="estimate"`` cross-fits LightGBM classifiers of the arm (each training row weighted
    by the model that did not see it) and warns (:class:`PoorOverlapWarning`, naming the arms) when
    some customers had almost no chance of some arm. Nothing checks that ``propensity=None`` data
    was randomised: a targeted campaign needs ``"estimate"`` or its known propensities.

    Parameters
    ----------
    learner : {"S", "T", "X", "DR"}
        Meta-learner. ``"S"`` (the default: one LightGBM model with the arm as a categorical feature)
        won the Hillstrom benchmark of ``experiments/bench_uplift.py`` (mean uplift@30% 0.079 and Qini
        AUC 0.064 over ten splits, vs 0.072 / 0.051 for T, 0.074 / 0.054 for X, 0.069 / 0.045 for DR).
        It ranks customers best but shrinks effect sizes towards 0; when the size matters more than the
        ranking (pricing a plan), compare with ``"X"`` or ``"T"``.
    outcome : {"auto", "binary", "continuous"}
        ``"auto"`` reads a 0/1 (or boolean) ``y`` as binary, anything else as continuous.
    n_estimators, learning_rate, subsample, colsample_bytree, reg_lambda
        LightGBM settings of every base learner.
    num_leaves, min_child_samples : int or "auto"
        Tree size of every base learner. Uplift is a small signal in noisy outcomes, and the fewer
        rows an arm has, the noisier its contrast with the control: ``"auto"`` (see
        :func:`auto_tree_size`) gives experiments whose smallest arm has at most 2,000 rows
        ``num_leaves=4`` and leaves of up to 1,000 rows (at most an eighth of all rows and half
        the smallest arm), those with at least 10,000 ``15, 100``, and geometric steps in between. On ``experiments/bench_offer_surface.py`` (real covariates, known
        effects; trees alone) its plans captured 82% of the oracle's net value on average on the
        surfaces it was chosen on and 65% on a hold-out one, against 78% and 63% for a fixed
        ``15, 100``, which it keeps for Hillstrom's 10,700 rows per arm (experiments/RESULTS.md).
    purpose : {"ranking", "decisions"}
        What ``"auto"`` sizes the trees for. ``"ranking"`` (the default): the sizes above, which
        rank customers best (uplift@k, Qini). ``"decisions"``: 4 leaves and ``min_child_samples``
        1,000 at every size (same limits), for effects that
        :func:`~loyalty_ml.policy.offers.choose_offers` weighs against costs;
        ``train_and_register`` fits its offer model so. On Hillstrom (10,700 rows per arm) the plan
        beat e-mailing everyone the Mens e-mail by $0.0044 per customer at an e-mail cost of $0.15
        (9 of 10 splits; ranking-sized trees +$0.0004) and tied it at $0.05 (+$0.00002;
        ranking-sized: -$0.0017), while its uplift@30% fell from 0.079 to 0.070. On the simulated benchmarks it
        is within a point of "ranking" (response surfaces: the same mean capture, 0.5 point less
        without a budget; simulator: 0.9 point less without a budget; experiments/RESULTS.md).
    linear_weight : float in [0, 1] or "auto"
        Weight of a regularised linear model of the outcome with per-arm intercepts and slopes
        (:mod:`loyalty_ml.models._uplift_linear`), averaged into the baseline and the effects.
        ``"auto"`` (see :func:`auto_linear_weight`): 0.5 when the smallest arm has fewer than 10,000
        rows, or at any size when the table holds more than 40 effectively independent columns (a
        wide table, whose trees rarely split on the arm), else 0.25 (Hillstrom's 8 covariates with
        10,700 rows per arm rank best with the trees alone, the known response surfaces plan best
        blended; 0 before session 60); above 200,000 rows the linear model is fitted on a sample
        of 200,000. On the known response surfaces of
        ``experiments/bench_offer_surface.py`` the blend raised the plans' mean capture of the
        oracle's value under every strategy and budget, from 65% to 73% on the hold-out surface, and
        left 7 of 108 cell means under 60% instead of 19 (experiments/RESULTS.md). Its penalty
        is L1, which sets the slopes of columns that say nothing to 0: with 16 irrelevant columns
        added to those surfaces the plans captured 75.8% on average, against 70.9% under the
        earlier L2 penalty, and 81.1% against 79.8% without them. Past 40 effectively independent
        model columns (:func:`~loyalty_ml.models._uplift_linear.effective_columns`; the feature
        tables the defaults were measured on hold 18-34, look-back windows of the same spend count
        for little) the penalty grows in proportion
        (:func:`~loyalty_ml.models._uplift_linear.linear_c`), as such a table holds more columns
        that say nothing: with 64 of them beside Hillstrom's covariates the plans captured
        77.4% against 73.9% (noisy functions of the covariates) and 72.8% against 68.1%
        (independent noise).
    recenter : bool
        Shift the baseline and each arm's effects by constants so that, over the training rows, the
        mean baseline is the augmented IPW (doubly robust) estimate of the control's mean outcome
        and each arm's mean effect that of the arm's average effect: the model's mean plus the
        propensity-weighted mean residual of the control's rows (baseline) or the gap between the
        arm's and the control's (effects; for a randomised design, the arm's mean residual minus
        the control's; with ``fit(groups=)``, within the experiments that sent the arm). Learners
        that shrink effects towards 0 (the S-learner's shared trees, the linear blend's penalty)
        otherwise understate what an arm does on average. The shift changes no customer's ranking
        within an arm, only the level that ``choose_offers`` weighs against costs and across arms
        (for a binary outcome, values are clipped so that probabilities stay in [0, 1], as without
        it, and the constants are solved so that the means of the clipped values are the
        estimates). On the known surfaces of ``experiments/bench_offer_surface.py`` it raised the
        plans' mean capture of the oracle's net value; on the simulator it cost the
        cheapest-effective plan without a budget (experiments/RESULTS.md). Bootstrap refits are
        re-centred on their own resample, so ``return_std`` includes the uncertainty of the level.
    group_feature : bool
        With ``fit(groups=)``: every base learner (the linear blend and an estimated propensity
        model too) also sees the campaign, as a categorical column, so that a season is learnt as
        the campaign's, not the offer's, for the customers it moves most; predictions are then
        averaged over the campaigns fitted on, weighted by their shares of the training rows (a
        plan is for a campaign not yet run): the baseline over all of them, each offer's effect
        over the campaigns that sent it next to control rows (elsewhere it would be the learner's
        guess, which re-centring, measured where the offer was sent, cannot correct). Only
        campaigns of 1,000 training rows or more get a level of their own (the 19 largest at
        most; the rest share one), and with fewer than two such groups, or when they hold less
        than half the rows (a year of nightly sends), nothing is added
        (:mod:`loyalty_ml.models._uplift_groups`). On three pooled
        campaigns in different seasons (experiments/RESULTS.md, "Surface K") it raised the plans'
        share of the oracle's net value from 20.8% to 38.6%. Without ``groups`` it does nothing.
    min_arm_rows : int
        Fewest rows an arm (control included) must have.
    n_bootstrap : int
        Bootstrap refits (stratified by arm) for ``predict_effects(X, return_std=True)``; 0 = off.
    cost_folds : int
        Cross-fitting folds (stratified by arm) that check, for a binary outcome, each arm's
        predicted P(y | arm, x) against the purchase rate of its held-out rows, by band of
        estimated effect (``cost_calibration_``); ``choose_offers`` prices a budget by it, so that
        the budget holds back what the model's errors among the customers a plan picks call for,
        not a fixed multiple of their effects. 0 = off (a budget then uses ``budget_uplift_factor``).
        The check refits the learner once per fold, so 2 (the default) about doubles the time of
        ``fit``.
    n_jobs : int or None
        LightGBM threads. None: one thread below 200,000 training rows (thread start-up dominates on
        small data), LightGBM's default above.
    progress : bool or None
        Show a progress bar over the bootstrap refits; None: only when stderr is a terminal.
    random_state : int, RandomState or None
        Seeds every base learner and the bootstrap.

    Attributes
    ----------
    control_ : str
        Label of the control arm.
    arms_ : tuple of str
        Treatment arm names (sorted), the columns of ``predict_effects``.
    outcome_ : {"binary", "continuous"}
        The outcome type used.
    arm_summary_ : DataFrame
        Indexed by arm (control first): ``rows``, ``share`` (the propensity used when it is not
        estimated), ``mean_outcome`` and ``mean_outcome_se``, its standard error (weighted
        standard deviation over the square root of the effective number of rows; a 0/1 outcome
        that never varies in an arm, which ``fit`` warns about, counts as a rate of half an event
        in its n rows, about 0.7 / n, not 0), which ``choose_offers(arm_mean_se=)`` reads as the noise in each offer's level, and
        ``average_effect``, the arm's average effect against the control (the
        propensity-weighted difference in mean outcomes, within ``groups`` when given; 0 for the
        control), which ``choose_offers`` falls back on between equally cheap offers whose
        difference for a customer is within that noise, and ``average_effect_se``, its standard
        error (within ``groups`` when given: an arm sent by one campaign of several is compared
        with that campaign's control rows alone), which a budget's prudent cost adds to each
        positive effect.
    num_leaves_, min_child_samples_ : int
        Tree size used (``"auto"`` resolved for the training rows).
    linear_weight_ : float
        Weight of the linear arm model used (``"auto"`` resolved).
    group_feature_ : GroupFeature or None
        The campaigns the learners tell apart and each one's share in the averaged predictions
        (``group_feature_.share_series()``); None when ``group_feature`` is off, ``fit`` had no
        ``groups``, or fewer than two groups were large enough.
    effect_shift_ : Series
        Indexed by arm: the constant added to the learner's effects by ``recenter`` (0 when off).
    baseline_shift_ : float
        The constant added to the learner's baseline by ``recenter`` (0 when off).
    cost_calibration_ : DataFrame or None
        Indexed by (offer_id, band): the bands of estimated effect (``effect_to``, each band's
        upper edge), their held-out ``rows``, the ``predicted`` P(y | arm, x) and the ``observed``
        purchase rate with its ``observed_se`` (:mod:`loyalty_ml.models._uplift_cost_check`);
        None for a continuous outcome or ``cost_folds=0``.
    feature_names_in_ : ndarray of str
        Feature columns seen at fit, in X's order (the learners get them sorted by name, so the
        model does not depend on the column order).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency": rng.uniform(0, 1, 600)})
    >>> t = rng.choice(["control", "coupon"], 600)
    >>> y = (rng.uniform(size=600) < 0.2 + 0.3 * (t == "coupon") * X["recency"]).astype(int)
    >>> model = UpliftModel(n_estimators=20, random_state=0).fit(X, y, treatment=t)
    >>> model.predict_effects(X.head(2)).columns.tolist()
    ['coupon']
    """

    def __init__(
        self,
        *,
        learner: Learner = "S",
        outcome: Outcome = "auto",
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int | Literal["auto"] = "auto",
        min_child_samples: int | Literal["auto"] = "auto",
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 1.0,
        linear_weight: float | Literal["auto"] = "auto",
        purpose: Purpose = "ranking",
        recenter: bool = True,
        group_feature: bool = True,
        min_arm_rows: int = 50,
        n_bootstrap: int = 0,
        cost_folds: int = 2,
        n_jobs: int | None = None,
        progress: bool | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.learner = learner
        self.outcome = outcome
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.linear_weight = linear_weight
        self.purpose = purpose
        self.recenter = recenter
        self.group_feature = group_feature
        self.min_arm_rows = min_arm_rows
        self.n_bootstrap = n_bootstrap
        self.cost_folds = cost_folds
        self.n_jobs = n_jobs
        self.progress = progress
        self.random_state = random_state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, giving a model pickled before a parameter existed the value it was fitted with
        (a model registered before ``recenter`` was not re-centred: ``recenter=False``)."""
        super().__setstate__(state)
        for name, value in _ADDED_PARAMETERS.items():
            self.__dict__.setdefault(name, value)
        if "learner_" not in self.__dict__:
            return
        for name, value in _ADDED_ATTRIBUTES.items():
            self.__dict__.setdefault(name, value)
        if "effect_shift_" not in self.__dict__:
            self.effect_shift_ = _effect_shift_series(self.arms_, None)

    # -- fit ---------------------------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series | np.ndarray,
        *,
        treatment: pd.Series | np.ndarray,
        control: str | int = C.CONTROL,
        sample_weight: pd.Series | np.ndarray | None = None,
        propensity: Literal["estimate"] | pd.Series | pd.DataFrame | None = None,
        groups: pd.Series | np.ndarray | None = None,
    ) -> UpliftModel:
        """Fit the outcome and effect models on experiment (or observational) rows.

        Parameters
        ----------
        X : DataFrame
            Features, one row per (campaign, customer); numeric, boolean, text or category columns.
            The learners get the columns sorted by name, so their order does not change the model.
            A column whose name reads as a customer id (``customer_id``, ``CustomerNo``,
            ``card_number``...) is refused with a ``SchemaError``: ids belong in the index.
        y : Series or array
            Outcome per row: 0/1 (binary) or a number (continuous).
        treatment : Series or array of str
            Arm of each row; ``control`` marks the control rows.
        control : str or int
            Label of the control arm; must occur in ``treatment``. Labels are compared as text
            without surrounding blanks (as offer ids are), so integer arms work (``control=0``; the
            other arms are then named ``"1"``, ``"2"``...) and ``"sms "`` is the arm ``"sms"``.
        sample_weight : Series or array, optional
            Non-negative row weights, passed to every base learner. Only their ratios matter: they
            are rescaled to a mean of 1, so weights summing to 1 fit the same model as counts.
            Rows with weight 0 are left out, as if dropped. The other rows are fitted in the order
            of X's index labels, so shuffled rows fit the same model; rows that share a label
            (customer ids of several campaigns) keep their own order, which with ``subsample < 1``
            or ``n_bootstrap`` can move the effects slightly (give X a unique index, e.g. a
            campaign-row number, for a fit that no row order changes). The linear blend of small
            experiments (``linear_weight``) agrees across arm names and orders to about 1e-7;
            the base learners, sampled rows and bootstrap samples are seeded by each arm's rows,
            not its name, so renamed arms fit the same effects. The held-out check's folds
            (``cost_folds``) are dealt arm by arm in the order of the names: renaming an arm can
            move its ``cost_calibration_`` bands within their noise.
        propensity : None, "estimate", Series or DataFrame
            None: randomised, the observed arm shares; a ``DataQualityWarning`` names the arm and
            feature when an arm differs from the control rows (within ``groups``) by more than
            chance allows (a rank AUC further than 0.06 and 5 standard errors from 1/2, or a text
            feature's level shares 0.2 standard deviations and 5 standard errors apart), as
            targeted rows do. A Series indexed by arm name: the design's known
            shares. A DataFrame indexed like ``X`` with one column per arm: known per-row P(arm | x)
            (a missing control column is ``1 - sum``, so a column for an arm no row names is
            then refused: its share would be counted as the control's). ``"estimate"``: cross-fitted classifiers
            of the arm (5 folds; out-of-fold propensities for the training rows).
        groups : Series or array, optional
            The experiment (e.g. campaign) of each row, when several are pooled. With ``recenter``,
            each arm is then compared with the control rows of the experiments that sent it: an offer
            first tried in a busy season is not credited with the season. Missing values are one
            group of their own (a DataQualityWarning counts them when some rows have a group). An
            arm that no group sent next to control rows can only be compared with all of them
            (pooled), which a DataQualityWarning names. With ``group_feature`` (the default) the
            learners also see the campaign, and the predictions are averaged over the campaigns;
            without it, re-centring only moves each arm's level by one constant, so where
            campaigns differ by season the customers whose purchases a season moves most carry
            it in their effects, and ``predict_baseline`` is the pooled control rows' mix of
            seasons. To plan for one campaign's season rather than the average, add the campaign
            (or its month) as a column of ``X``, fit with ``group_feature=False``, and set the
            column when predicting. With ``propensity="estimate"`` the propensity model sees the
            campaign too, so an offer a campaign never sent has a propensity near 0 for its rows,
            which the overlap warning counts.

        Returns
        -------
        UpliftModel
            ``self``, fitted.
        """
        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(
                f"{_OWNER}.fit: X must be a pandas DataFrame with named feature columns; got "
                f"{type(X).__name__}."
            )
        if len(X) == 0:
            raise DataError(
                f"{_OWNER}.fit: X has no rows; there is no experiment to learn from. Check the "
                "filter that built the experiment table (campaigns, dates, customers)."
            )
        if isinstance(groups, str):
            raise DataError(
                f"{_OWNER}.fit: groups must hold the experiment of each row, not a column name; "
                f"got the text {groups!r}. Pass the column's values (e.g. "
                f"groups=X.pop({groups!r}), or the campaigns' column of the experiment table)."
            )
        arms_all = self._arm_labels(X, treatment, control)
        control = label_text(control)
        y_arr = as_float(aligned_values(X, y, "y"), "y")
        if not np.isfinite(y_arr).all():
            bad = ~np.isfinite(y_arr)
            raise DataError(
                f"{_OWNER}.fit: y has {int(bad.sum())} missing or infinite values (rows "
                f"{format_ids(X.index[bad].tolist(), total=int(bad.sum()))}). Drop those rows "
                "or fill them first."
            )
        if len(y_arr) and float(np.abs(y_arr).max()) > _MAX_OUTCOME:
            raise DataError(
                f"{_OWNER}.fit: y reaches {float(np.abs(y_arr).max()):.3g} (rows "
                f"{format_ids(X.index[np.abs(y_arr) > _MAX_OUTCOME].tolist())}), beyond "
                f"{_MAX_OUTCOME:.0e}: no purchase, spend or margin is this large, so a unit "
                "mix-up or a corrupt value; such values also overflow the model's arithmetic. "
                "Check the column, or rescale the outcome (e.g. spend in thousands)."
            )
        weight = (
            np.ones(len(X))
            if sample_weight is None
            else as_float(aligned_values(X, sample_weight, "sample_weight"), "sample_weight")
        )
        if (weight < 0).any() or not np.isfinite(weight).all():
            raise DataError(f"{_OWNER}.fit: sample_weight must be finite and >= 0.")
        binary = self._resolve_outcome(y_arr)

        names = (control, *sorted(set(arms_all) - {control}))
        arm_code = pd.Categorical(arms_all, categories=list(names)).codes.astype(np.int64)
        # rows with weight 0 tell the learners nothing: an arm is as big as its weighted rows
        counts = np.bincount(arm_code[weight > 0], minlength=len(names))
        weightless = [
            n
            for n, w in zip(
                names, np.bincount(arm_code, weights=weight, minlength=len(names)), strict=True
            )
            if not w > 0
        ]
        if weightless:
            raise DataError(
                f"{_OWNER}.fit: sample_weight is 0 on every row of arms "
                f"{format_examples(weightless)}, so their share (propensity) would be 0. Give "
                "those rows positive weights or drop the arms."
            )
        if not binary:
            warn_if_one_row_dominates(y_arr, weight, arm_code, names, X.index)
        small = [(n, int(c)) for n, c in zip(names, counts, strict=True) if c < self.min_arm_rows]
        if small:
            raise DataError(
                f"{_OWNER}.fit: arms {format_examples(small, total=len(small))} (arm, rows) have fewer "
                f"than min_arm_rows={self.min_arm_rows} rows"
                + (" with a positive sample_weight" if sample_weight is not None else "")
                + ". Drop those arms or lower min_arm_rows."
            )
        # A row of weight 0 is a row left out: LightGBM would still count it in its bins and leaf
        # sizes, and the tree-size rule and the weight rescaling would count it too. The others go
        # in the order of X's index labels: bootstrap resamples, cross-fitting folds and the
        # propensity model's folds pick rows by position, so shuffled rows would fit another model.
        order = canonical_row_order(X.index)
        rows = order[(weight > 0)[order]]
        if not np.array_equal(rows, np.arange(len(X))):
            if groups is not None:
                groups = aligned_values(X, groups, "groups")[rows]
            if isinstance(propensity, pd.DataFrame) and propensity.index.equals(X.index):
                propensity = propensity.iloc[rows]
            X = X.iloc[rows]
            y_arr, weight, arms_all, arm_code = (
                y_arr[rows],
                weight[rows],
                arms_all[rows],
                arm_code[rows],
            )
        # Only relative weights mean anything: LightGBM's leaf values -G / (H + reg_lambda) and its
        # min_child_weight would shrink effects towards 0 for weights summing to 1.
        # (over the largest first: the mean of weights near the float maximum overflows)
        weight = weight / weight.max()
        weight = weight / weight.mean()

        if X.shape[1] == 0:
            raise SchemaError(
                f"{_OWNER}.fit: X has no feature columns ({len(X):,} rows). Effects per customer "
                "need features; for each arm's average effect alone, read measure_campaign or "
                "UpliftModel.arm_summary_ of a model fitted with features.",
                table="X",
            )
        self.encoding_ = FeatureEncoding.fit(X, owner=_OWNER)
        matrix = self.encoding_.transform(X, owner=_OWNER)
        refuse_outcome_as_feature(matrix, y_arr, self.encoding_.feature_names, binary=binary)
        # the experiment of each row, aligned with X once (None without groups)
        group_values = None if groups is None else aligned_values(X, groups, "groups")
        self.group_feature_: GroupFeature | None = None
        if group_values is not None and self.group_feature:
            self.group_feature_ = GroupFeature.fit(group_values, arm_code, len(names))
            if self.group_feature_ is not None:  # the learners see the campaign (season)
                matrix = np.column_stack([matrix, self.group_feature_.column(group_values)])
        if propensity is None:  # after the columns' checks: what is compared is what is fitted
            warn_if_not_randomised(X, arms_all, control, group_values)
        # On small data LightGBM's thread start-up costs more than it saves (25x slower on 3,700
        # rows on 2 busy cores), so the default is one thread below _MULTITHREAD_MIN_ROWS rows.
        self.n_jobs_ = (
            self.n_jobs
            if self.n_jobs is not None
            else (1 if len(X) < _MULTITHREAD_MIN_ROWS else None)
        )
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        self.propensity_model_: CrossFittedPropensity | GivenPropensity | None = None
        shares = arm_shares(arm_code, weight, len(names))
        row_propensity = self._fit_propensity(propensity, X, matrix, arm_code, weight, names, seed)
        if row_propensity is None:
            row_propensity = np.tile(shares, (len(X), 1))
        elif isinstance(propensity, pd.Series):
            shares = row_propensity[0]
        else:
            shares = row_propensity.mean(axis=0)

        self.control_ = control
        self.arms_ = tuple(names[1:])
        self.outcome_ = "binary" if binary else "continuous"
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = len(self.encoding_.feature_names)
        mean_outcome, mean_outcome_se = arm_means(
            arm_code, y_arr, weight, len(names), binary=binary
        )
        if binary:
            warn_if_an_arm_has_few_events(y_arr, arm_code, names)
        self.arm_summary_ = pd.DataFrame(
            {
                "rows": counts,
                "share": shares,
                "mean_outcome": mean_outcome,
                "mean_outcome_se": mean_outcome_se,
            },
            index=pd.Index(names, name=C.OFFER_ID),
        )
        leaves, child = auto_tree_size(
            int(counts.min()), len(X), per_arm_models=self.learner != "S", purpose=self.purpose
        )
        self.num_leaves_ = leaves if self.num_leaves == "auto" else int(self.num_leaves)
        self.min_child_samples_ = (
            child if self.min_child_samples == "auto" else int(self.min_child_samples)
        )
        self.linear_weight_ = (
            self._auto_linear_weight(int(counts.min()), matrix, seed)
            if self.linear_weight == "auto"
            else float(self.linear_weight)
        )
        params = self._boosting_params()
        group = None
        if group_values is not None:
            group = pd.factorize(pd.Series(group_values), use_na_sentinel=False)[0].astype(np.int64)
            _warn_missing_groups(group_values)
            _warn_arms_without_control(group, arm_code, [control, *self.arms_])
        # base learners seeded by each arm's rows, not its name or position
        keys = arm_keys_of(arm_code, y_arr, weight, len(names), matrix)
        data = ArmData(
            matrix, arm_code, y_arr, weight, row_propensity, binary, group, arm_keys=keys
        )
        # the level choose_offers falls back on between equally cheap offers within noise
        average, average_se = average_effects(data)
        self.arm_summary_["average_effect"] = np.r_[0.0, average]
        # the noise in that level, which a budget's prudent cost adds to each effect
        self.arm_summary_["average_effect_se"] = np.r_[0.0, average_se]
        self.learner_: FittedLearner = fit_learner(
            self.learner,
            data,
            params,
            seed,
            linear_weight=self.linear_weight_,
            recenter_propensity=self._propensity(matrix) if self.recenter else None,
        )
        self.baseline_shift_ = float(self.learner_.baseline_shift)
        self.effect_shift_ = _effect_shift_series(self.arms_, self.learner_.effect_shift)

        def refit(part: ArmData, part_seed: int) -> FittedLearner:
            """The model's learner on other rows: bootstrap samples, the check's folds."""
            return fit_learner(
                self.learner,
                part,
                params,
                part_seed,
                linear_weight=self.linear_weight_,
                recenter_propensity=self._propensity(part.matrix) if self.recenter else None,
            )

        self.cost_calibration_ = (
            cost_check(
                data, self.arms_, folds=self.cost_folds, seed=seed, fit=refit, predict=self._predict
            )
            if binary and self.cost_folds >= 2
            else None
        )
        self.bootstrap_learners_: list[FittedLearner] = []
        show = sys.stderr.isatty() if self.progress is None else bool(self.progress)
        refits = tqdm(range(self.n_bootstrap), desc=f"{_OWNER} bootstrap", disable=not show)
        for b in refits:
            rows = stratified_resample(arm_code, rng, keys=keys)
            sample = ArmData(
                matrix[rows],
                arm_code[rows],
                y_arr[rows],
                weight[rows],
                row_propensity[rows],
                binary,
                None if group is None else group[rows],
                source=rows,
                arm_keys=keys,
            )
            self.bootstrap_learners_.append(refit(sample, seed + 7919 * (b + 1)))
        return self

    def _check_params(self) -> None:
        if self.learner not in _LEARNERS:
            raise ConfigError(
                f"The 'learner' parameter of {_OWNER} must be one of {list(_LEARNERS)}. "
                f"Got {self.learner!r} instead."
            )
        if not isinstance(self.purpose, str) or self.purpose not in PURPOSES:
            raise ConfigError(
                f"The 'purpose' parameter of {_OWNER} must be one of {list(PURPOSES)} (what "
                f"'auto' sizes the trees for). Got {self.purpose!r} instead."
            )
        if self.outcome not in _OUTCOMES:
            raise ConfigError(
                f"The 'outcome' parameter of {_OWNER} must be one of {list(_OUTCOMES)}. "
                f"Got {self.outcome!r} instead."
            )
        for name in ("n_estimators", "num_leaves", "min_child_samples", "min_arm_rows"):
            value = getattr(self, name)
            least = 2 if name == "num_leaves" else 1  # LightGBM needs 2 leaves to split
            if name in ("num_leaves", "min_child_samples") and isinstance(value, str):
                if value != "auto":
                    raise ConfigError(
                        f"The {name!r} parameter of {_OWNER} must be 'auto' or an int >= {least}. "
                        f"Got {value!r} instead."
                    )
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
                raise ConfigError(
                    f"The {name!r} parameter of {_OWNER} must be an int >= {least}. Got {value!r} "
                    "instead."
                )
        if (
            isinstance(self.n_bootstrap, bool)
            or not isinstance(self.n_bootstrap, int | np.integer)
            or (self.n_bootstrap == 1 or self.n_bootstrap < 0)
        ):
            raise ConfigError(
                f"The 'n_bootstrap' parameter of {_OWNER} must be 0 (off) or an int >= 2. "
                f"Got {self.n_bootstrap!r} instead."
            )
        if (
            isinstance(self.cost_folds, bool)
            or not isinstance(self.cost_folds, int | np.integer)
            or self.cost_folds == 1
            or self.cost_folds < 0
        ):
            raise ConfigError(
                f"The 'cost_folds' parameter of {_OWNER} must be 0 (no held-out check of the "
                f"purchase probabilities) or an int >= 2. Got {self.cost_folds!r} instead."
            )
        if self.linear_weight != "auto" and not (
            isinstance(self.linear_weight, int | float | np.integer | np.floating)
            and not isinstance(self.linear_weight, bool | np.bool_)
            and 0 <= self.linear_weight <= 1
        ):
            raise ConfigError(
                f"The 'linear_weight' parameter of {_OWNER} must be 'auto' or a number in [0, 1] "
                f"(0 = the meta-learner alone). Got {self.linear_weight!r} instead."
            )
        if not isinstance(self.recenter, bool | np.bool_):
            raise ConfigError(
                f"The 'recenter' parameter of {_OWNER} must be True or False. "
                f"Got {self.recenter!r} instead."
            )
        if not isinstance(self.group_feature, bool | np.bool_):
            raise ConfigError(
                f"The 'group_feature' parameter of {_OWNER} must be True or False. "
                f"Got {self.group_feature!r} instead."
            )
        for name in ("learning_rate", "subsample", "colsample_bytree"):
            value = getattr(self, name)
            if not (is_real(value) and 0 < value <= 1):
                raise ConfigError(
                    f"The {name!r} parameter of {_OWNER} must be a float in (0, 1]. "
                    f"Got {value!r} instead."
                )
        if not (is_real(self.reg_lambda) and self.reg_lambda >= 0):
            raise ConfigError(
                f"The 'reg_lambda' parameter of {_OWNER} must be a float >= 0. "
                f"Got {self.reg_lambda!r} instead."
            )
        if self.n_jobs is not None and not is_int(self.n_jobs):
            raise ConfigError(
                f"The 'n_jobs' parameter of {_OWNER} must be an int or None (LightGBM's threads). "
                f"Got {self.n_jobs!r} instead."
            )
        state = self.random_state
        if not (state is None or isinstance(state, np.random.RandomState) or is_int(state)):
            raise ConfigError(
                f"The 'random_state' parameter of {_OWNER} must be an int, a "
                f"numpy.random.RandomState or None. Got {state!r} instead."
            )

    def _arm_labels(
        self,
        X: pd.DataFrame,
        treatment: pd.Series | np.ndarray,
        control: str | int,
        method: str = "fit",
    ) -> np.ndarray:
        labels = aligned_values(X, treatment, "treatment", method).astype(object)
        # a blank cell, or "nan" as astype(str) writes a missing value, is no arm name either:
        # fitted as it is, it would be an offer of its own
        missing = pd.isna(labels) | np.array(
            [
                isinstance(v, str) and v.strip().lower() in ("", "nan", "none", "<na>")
                for v in labels
            ],
            dtype=bool,
        )
        if missing.any():
            raise DataError(
                f"{_OWNER}.{method}: treatment is missing on {int(missing.sum())} rows (missing, "
                "blank or 'nan'); every row needs an arm name (the control label for control rows)."
            )
        labels = label_texts(labels)
        present = sorted(set(labels))
        like_control = [a for a in present if a.casefold() == label_text(control).casefold()]
        if like_control != [label_text(control)] and len(like_control) > 0:
            # 'Control' next to 'control' (two campaigns' spellings) would be fitted as an offer
            others = [a for a in like_control if a != label_text(control)]
            raise DataError(
                f"{_OWNER}.{method}: treatment has arm(s) {format_examples(others)} that differ "
                f"from the control label {label_text(control)!r} only in case; their rows would "
                "be fitted as an offer. Make the labels agree (e.g. treatment.replace("
                f"{others[0]!r}, {label_text(control)!r})) or pass the control label they use."
            )
        folded = pd.Series(present, dtype=object).str.casefold()
        twins = sorted(set(np.asarray(present, dtype=object)[folded.duplicated(keep=False)]))
        if twins and method == "fit":
            warn_user(
                f"{_OWNER}.fit: arms {format_examples(twins)} differ only in case, so they are "
                "fitted as separate offers (each with fewer rows); if they are one offer spelt two "
                "ways (two campaigns' exports), make the labels agree first.",
                DataQualityWarning,
            )
        if label_text(control) not in present:
            fix = (
                "Pass control=<your label> if the control group goes by another name. If nobody "
                "was held out (targeted campaigns, such as dunnhumby's TypeA-C), these rows "
                "cannot say what an offer does, and no arm is a control group for another: add "
                "rows of customers who were not sent, labelled 'control' (a randomised holdout; "
                "for a targeted send, customers who were eligible, then fit with "
                "propensity='estimate')."
                if method == "fit"
                else "Score rows of an experiment."
            )
            raise DataError(
                f"{_OWNER}.{method}: the control label {control!r} does not occur in treatment, "
                f"which has arms {format_examples(present, total=len(present))}. {fix}"
            )
        if len(present) < 2:
            raise DataError(
                f"{_OWNER}.{method}: treatment has only the control arm {control!r}; at least one "
                "treatment arm is needed."
            )
        return labels

    def _resolve_outcome(self, y: np.ndarray) -> bool:
        is_01 = bool(np.isin(y, (0.0, 1.0)).all())
        if self.outcome == "binary" and not is_01:
            bad = np.unique(y[~np.isin(y, (0.0, 1.0))])
            raise DataError(
                f"{_OWNER}.fit: outcome='binary' needs y in {{0, 1}}; got values "
                f"{format_examples(bad.tolist(), total=len(bad))}. Use UpliftModel(outcome='continuous')."
            )
        if self.outcome == "auto":
            return is_01
        return self.outcome == "binary"

    def _fit_propensity(
        self,
        propensity: Literal["estimate"] | pd.Series | pd.DataFrame | None,
        X: pd.DataFrame,
        matrix: np.ndarray,
        arm_code: np.ndarray,
        weight: np.ndarray,
        names: tuple[str, ...],
        seed: int,
    ) -> np.ndarray | None:
        if propensity is None:
            return None
        if isinstance(propensity, str):
            if propensity != "estimate":
                raise ConfigError(
                    f"{_OWNER}.fit: propensity must be None, 'estimate', a Series of arm shares or a "
                    f"DataFrame of per-row propensities. Got {propensity!r}."
                )
            rows = np.bincount(arm_code, minlength=len(names))
            tiny = [(n, int(c)) for n, c in zip(names, rows, strict=True) if c < PROPENSITY_FOLDS]
            if tiny:
                raise DataError(
                    f"{_OWNER}.fit: propensity='estimate' cross-fits a classifier on "
                    f"{PROPENSITY_FOLDS} folds, so every arm needs at least {PROPENSITY_FOLDS} "
                    f"rows; arms {format_examples(tiny, total=len(tiny))} (arm, rows) have fewer. "
                    "Drop those arms or pass known propensities."
                )
            model, out_of_fold = fit_propensity_model(
                matrix,
                arm_code,
                weight,
                seed=seed,
                n_jobs=self.n_jobs_,
                categorical=self._categorical_positions(),
            )
            self.propensity_model_ = model
            expected = None
            if self.group_feature_ is not None:  # an offer a campaign never sent is no gap
                expected = self.group_feature_.sent[matrix[:, -1].astype(np.int64)]
            return check_overlap(out_of_fold, owner=_OWNER, arms=names, expected=expected)
        if isinstance(propensity, pd.Series):
            frame = pd.DataFrame(
                [propensity.to_numpy()] * len(X), columns=propensity.index, index=X.index
            )
        elif isinstance(propensity, pd.DataFrame):
            if not propensity.index.equals(X.index):
                raise DataError(f"{_OWNER}.fit: the propensity frame must be indexed like X.")
            frame = propensity
        else:
            raise ConfigError(
                f"{_OWNER}.fit: propensity must be None, 'estimate', a Series or a DataFrame; got "
                f"{type(propensity).__name__}."
            )
        frame = frame.rename(columns=label_text)
        missing = [n for n in names[1:] if n not in frame.columns]
        if missing:
            raise DataError(
                f"{_OWNER}.fit: propensity lacks arms {format_examples(missing)}; it has "
                f"{format_examples(list(frame.columns))}."
            )
        others = [c for c in frame.columns if c not in names]
        if others and names[0] not in frame.columns:
            # the control's share would be taken as 1 - the arms present, which counts theirs in
            raise DataError(
                f"{_OWNER}.fit: propensity has columns that are not arms of treatment "
                f"({format_examples(others)}) and no column for the control {names[0]!r}, whose "
                "propensity would be 1 - the sum of the others. Drop the columns that are not "
                "propensities; if they are arms whose rows were left out, their share is not the "
                "control's: give the control's column (rows must then sum to 1 over the arms "
                "fitted), or renormalise each row over the arms fitted."
            )
        values = frame[[n for n in names[1:]]].to_numpy(dtype=np.float64)
        control = (
            frame[names[0]].to_numpy(dtype=np.float64)
            if names[0] in frame.columns
            else 1.0 - values.sum(axis=1)
        )
        full = np.column_stack([control, values])
        bad = ~np.isfinite(full) | (full <= 0) | (full > 1)
        if bad.any():
            counts = [(arm, int(c)) for arm, c in zip(names, bad.sum(axis=0), strict=True) if c]
            raise DataError(
                f"{_OWNER}.fit: propensities must lie in (0, 1] (the control's is 1 - the sum of the "
                f"others when absent); {int(bad.any(axis=1).sum()):,} rows are not, by arm "
                f"{format_examples(counts, total=len(counts))} (arm, rows; values "
                f"{format_examples(np.unique(full[bad]).tolist())}). An arm a customer could not "
                "get is no experiment for that customer: drop those rows, or estimate the "
                "propensities (propensity='estimate') if the zeros are rounding."
            )
        totals = full.sum(axis=1)
        off = np.abs(totals - 1.0) > _PROPENSITY_SUM_TOLERANCE
        if off.any():
            raise DataError(
                f"{_OWNER}.fit: the propensities of every row must sum to 1 over the arms "
                f"({', '.join(names)}); {int(off.sum())} row(s) sum to "
                f"{format_examples(np.unique(np.round(totals[off], 4)).tolist())}. A typo in the "
                "design's shares? Give each arm's share (or leave the control out: it is then 1 - "
                "the sum of the others)."
            )
        if isinstance(propensity, pd.Series):
            # a randomised design's shares: every customer had the same chance of every arm, so
            # nothing is extrapolated, and a small arm's known share is exact (never clipped)
            return full / full.sum(axis=1, keepdims=True)
        full = check_overlap(full, owner=_OWNER, arms=names)
        if not np.allclose(full, full[0]):
            # predict_effects (the X-learner's weights) needs P(arm | x) of new customers too
            self.propensity_model_ = fit_given_propensity(
                matrix,
                full,
                weight,
                seed=seed,
                n_jobs=self.n_jobs_,
                categorical=self._categorical_positions(),
            )
        return full

    def _boosting_params(self) -> BoostingParams:
        return BoostingParams(
            n_estimators=int(self.n_estimators),
            learning_rate=float(self.learning_rate),
            num_leaves=self.num_leaves_,
            min_child_samples=self.min_child_samples_,
            subsample=float(self.subsample),
            colsample_bytree=float(self.colsample_bytree),
            reg_lambda=float(self.reg_lambda),
            n_jobs=self.n_jobs_,
            categorical=tuple(self._categorical_positions()),
        )

    # -- predict -----------------------------------------------------------------------------------
    @overload
    def predict_effects(
        self, X: pd.DataFrame, *, return_std: Literal[False] = ...
    ) -> pd.DataFrame: ...

    @overload
    def predict_effects(
        self, X: pd.DataFrame, *, return_std: Literal[True]
    ) -> tuple[pd.DataFrame, pd.DataFrame]: ...

    def predict_effects(
        self, X: pd.DataFrame, *, return_std: bool = False
    ) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
        """Estimated effect of each arm vs control, per row: a DataFrame indexed like ``X``.

        Parameters
        ----------
        X : DataFrame
            Rows to score; must hold the fitted feature columns (others are ignored).
        return_std : bool
            Also return the bootstrap standard deviation of each effect (needs ``n_bootstrap >= 2``),
            so that "effective" can mean "effective with confidence", e.g. ``effects - 1.64 * std``.
            It measures how much the estimate moves between refits, not the bias of the learner:
            the S-learner shrinks the differences between customers towards 0, so on a known
            surface (3,000 to 6,000 rows, 3 arms, four draws) +/- 2 std covered the true effect on
            72-82% of rows for the arm with the stronger heterogeneity (86-100% for the other),
            against 76-99% for T (62-67% for the S-learner before ``recenter``;
            tests/test_uplift_core_audit.py). Read it as a ranking of how sure the model is, not
            as a calibrated interval.

        Returns
        -------
        DataFrame, or (DataFrame, DataFrame) with ``return_std``
            One column per arm (named by arm), indexed like ``X``. The effects' ``attrs`` hold
            ``"outcome"``, ``"arm_mean_se"`` (each arm's ``arm_summary_["mean_outcome_se"]``),
            ``"control_mean_se"`` (the control's), ``"arm_average_effect"`` (each arm's
            ``arm_summary_["average_effect"]``) and ``"arm_effect_se"`` (its
            ``"average_effect_se"``) and, with ``cost_folds``, ``"cost_calibration"``
            (``cost_calibration_`` by offer), which :func:`~loyalty_ml.policy.offers.choose_offers`
            reads.
        """
        matrix = self._matrix(X)
        _, effects = self._predict_planned(self.learner_, matrix)
        frame = self._effect_frame(effects, X.index)
        frame.attrs["outcome"] = self.outcome_  # choose_offers refuses money priced as probability
        frame.attrs.update(planning_attrs(self))
        if not return_std:
            return frame
        if not self.bootstrap_learners_:
            raise ConfigError(
                f"{_OWNER}.predict_effects(return_std=True) needs bootstrap refits; set "
                "n_bootstrap >= 2 (e.g. 20) and fit again."
            )
        draws = np.stack([self._predict_planned(b, matrix)[1] for b in self.bootstrap_learners_])
        return frame, self._effect_frame(draws.std(axis=0, ddof=1), X.index)

    def predict_baseline(self, X: pd.DataFrame) -> pd.Series:
        """P(y | control, x) (binary) or E[y | control, x] (continuous), indexed like ``X``."""
        matrix = self._matrix(X)
        baseline, _ = self._predict_planned(self.learner_, matrix)
        out = pd.Series(baseline, index=X.index.copy(), name="baseline")
        out.attrs["outcome"] = self.outcome_
        return out

    def score(
        self,
        X: pd.DataFrame,
        y: pd.Series | np.ndarray,
        *,
        treatment: pd.Series | np.ndarray | None = None,
    ) -> float:
        """How well ``predict_effects`` ranks the rows of an experiment: higher is better.

        For a binary outcome, the normalised Qini AUC of each arm against the control (0 random,
        1 perfect; :func:`loyalty_ml.qini_auc_score`), averaged over the arms present in
        ``treatment``; for a continuous one, the mean of each arm's uplift@30%
        (:func:`loyalty_ml.uplift_at_k`, in the outcome's units). This is what ``GridSearchCV``
        and ``cross_val_score`` use when no ``scoring`` is given. ``treatment`` is needed: turn
        scikit-learn's metadata routing on and request it for both ``fit`` and ``score``::

            sklearn.set_config(enable_metadata_routing=True)
            model = UpliftModel().set_fit_request(treatment=True).set_score_request(treatment=True)
            GridSearchCV(model, {"num_leaves": [4, 15]}, cv=3).fit(X, y, treatment=t)

        Parameters
        ----------
        X : DataFrame
            Features of randomised experiment rows (the rows' arms must not depend on them).
        y : Series or array
            Their outcomes, as at ``fit``.
        treatment : Series or array
            Their arms, with the control label of ``fit``; arms the model was not fitted on are
            refused.

        Returns
        -------
        float

        Raises
        ------
        DataError
            ``treatment`` is missing, has no control or no treated rows, or holds an arm the model
            does not know.
        """
        from loyalty_ml.evaluation.uplift_metrics import qini_auc_score, uplift_at_k

        if treatment is None:
            raise DataError(
                f"{_OWNER}.score needs each row's arm: pass treatment=. In GridSearchCV or "
                "cross_val_score, turn scikit-learn's metadata routing on "
                "(sklearn.set_config(enable_metadata_routing=True)) and request it: "
                "UpliftModel().set_fit_request(treatment=True).set_score_request(treatment=True)."
            )
        effects = self.predict_effects(X)  # refuses an unfitted model and bad X first
        labels = self._arm_labels(X, treatment, self.control_, method="score")
        seen = set(labels)
        unknown = sorted(seen - {label_text(self.control_), *self.arms_})
        if unknown:
            raise DataError(
                f"{_OWNER}.score: treatment holds arms {format_examples(unknown)} the model was not "
                f"fitted on; it knows {format_examples(list(self.arms_))} and the control "
                f"{self.control_!r}. Score rows of those arms only."
            )
        y_arr = as_float(aligned_values(X, y, "y", "score"), "y", "score")
        if not np.isfinite(y_arr).all():
            raise DataError(
                f"{_OWNER}.score: y has {int((~np.isfinite(y_arr)).sum())} missing or infinite "
                "values; drop those rows first."
            )
        present = [a for a in self.arms_ if a in seen]
        t = pd.Series(labels, index=X.index)
        outcome = pd.Series(y_arr, index=X.index)
        control = label_text(self.control_)
        per_arm = (
            qini_auc_score(outcome, t, effects[present], control=control)
            if self.outcome_ == "binary"
            else uplift_at_k(outcome, t, effects[present], k=0.3, control=control)
        )
        return float(np.mean(per_arm))  # one value per arm present

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "learner_"):
            raise NotFittedError(
                f"This {_OWNER} instance is not fitted yet. Call 'fit' with experiment rows first."
            )
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(f"{_OWNER}: X must be a pandas DataFrame; got {type(X).__name__}.")
        return self.encoding_.transform(X, owner=_OWNER)

    def _predict(self, learner: FittedLearner, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(matrix) == 0:  # LightGBM and scikit-learn refuse to predict on no rows
            return np.zeros(0), np.zeros((0, len(self.arms_)))
        return learner.predict(matrix, self._propensity(matrix))

    def _predict_planned(
        self, learner: FittedLearner, matrix: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predictions for a campaign still to run: with the campaign as a feature
        (``group_feature_``), the baseline averaged over the campaigns fitted on, weighted by
        their shares of the training rows, and each arm's effect over those that sent it next to
        control rows (:class:`GroupFeature`); else those of ``matrix`` itself."""
        feature = self.group_feature_
        if feature is None:
            return self._predict(learner, matrix)
        baseline = np.zeros(len(matrix))
        effects = np.zeros((len(matrix), len(self.arms_)))
        # one copy of the matrix with the campaign's column, set to each level in turn
        at_level = np.column_stack([matrix, np.zeros(len(matrix))])
        for value, share, arm_weights in feature.settings():
            at_level[:, -1] = value
            b, e = self._predict(learner, at_level)
            baseline += share * b
            effects += arm_weights * e
        return baseline, effects

    def _auto_linear_weight(self, smallest_arm_rows: int, matrix: np.ndarray, seed: int) -> float:
        """``linear_weight="auto"``: by the smallest arm's rows and, where they are many, the
        table's width (:func:`auto_linear_weight`)."""
        width = (
            table_columns(matrix, tuple(self._categorical_positions()), seed)
            if counts_columns(smallest_arm_rows)
            else None
        )
        return auto_linear_weight(smallest_arm_rows, len(matrix), table_columns=width)

    def _categorical_positions(self) -> list[int]:
        """Matrix columns the learners read as categories: the encoding's, and the campaign's
        when it is a feature (the last column)."""
        positions = list(self.encoding_.categorical_positions)
        if getattr(self, "group_feature_", None) is not None:
            positions.append(len(self.encoding_.feature_names))
        return positions

    def _propensity(self, matrix: np.ndarray) -> np.ndarray:
        if self.propensity_model_ is not None:
            return np.clip(self.propensity_model_.predict_proba(matrix), 1e-3, 1.0)
        return np.tile(self.arm_summary_["share"].to_numpy(), (len(matrix), 1))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # LightGBM reads NaN as missing
        tags.input_tags.string = True  # text columns are categories (frozen levels)
        tags.input_tags.categorical = True
        tags.non_deterministic = self.random_state is None
        return tags

    def _effect_frame(self, values: np.ndarray, index: pd.Index) -> pd.DataFrame:
        return pd.DataFrame(
            values, index=index.copy(), columns=pd.Index(list(self.arms_), name=C.OFFER_ID)
        )


def planning_attrs(model: object) -> dict[str, object]:
    """Everything ``choose_offers`` reads from a fitted uplift model's effects' ``attrs``: its arms'
    levels (:func:`level_attrs`) and, when the model has it, the held-out check of its purchase
    probabilities (``"cost_calibration"``). Empty for an object that is not a fitted model."""
    summary = getattr(model, "arm_summary_", None)
    attrs = level_attrs(summary) if isinstance(summary, pd.DataFrame) else {}
    check = calibration_attrs(getattr(model, "cost_calibration_", None))
    if check is not None:
        attrs["cost_calibration"] = check
    return attrs


def level_attrs(arm_summary: pd.DataFrame) -> dict[str, object]:
    """What ``choose_offers`` reads about each arm's level, from an ``arm_summary_`` (control first):
    ``"arm_mean_se"`` and ``"control_mean_se"`` (the noise in each offer's and the control's mean
    outcome), ``"arm_average_effect"`` and ``"arm_effect_se"`` (the noise in each offer's average
    effect); a column absent from a model fitted before it was recorded leaves its entries out."""
    attrs: dict[str, object] = {}
    offers = arm_summary.iloc[1:]
    if "mean_outcome_se" in arm_summary:
        # choose_offers(arm_mean_se="auto") reads it: the noise in each arm's level
        attrs["arm_mean_se"] = {str(a): float(v) for a, v in offers["mean_outcome_se"].items()}
        attrs["control_mean_se"] = float(arm_summary["mean_outcome_se"].iloc[0])
    if "average_effect" in arm_summary:
        attrs["arm_average_effect"] = {
            str(a): float(v) for a, v in offers["average_effect"].items()
        }
    if "average_effect_se" in arm_summary:
        attrs["arm_effect_se"] = {str(a): float(v) for a, v in offers["average_effect_se"].items()}
    return attrs


def _effect_shift_series(arms: tuple[str, ...], shift: np.ndarray | None) -> pd.Series:
    """``effect_shift_``: the constant added to each arm's effects (0 without re-centring)."""
    return pd.Series(
        np.zeros(len(arms)) if shift is None else shift,
        index=pd.Index(list(arms), name=C.OFFER_ID),
        name="effect_shift",
    )


#: How far from 1 a row of known propensities may sum (rounding in a design document).
_PROPENSITY_SUM_TOLERANCE = 0.01


def _warn_missing_groups(groups: np.ndarray) -> None:
    """Warn when some rows, not all, have no group: they are pooled as one group of their own,
    whatever campaigns (seasons) they come from, and their arms compared within it."""
    missing = pd.isna(groups)
    n = int(missing.sum())
    if 0 < n < len(groups):
        warn_user(
            f"UpliftModel.fit: groups is missing on {n:,} of {len(groups):,} rows; they are fitted "
            "as one group of their own, so if they come from several campaigns, the difference "
            "between those campaigns (a season, an audience) reads as the effect of the offers "
            "they sent. Fill in their campaign (e.g. from the send date), or leave those rows out.",
            DataQualityWarning,
        )


def _warn_arms_without_control(group: np.ndarray, arm_code: np.ndarray, arms: list[str]) -> None:
    """Warn about treatment arms sent only in groups without control rows: their level is
    compared with the pooled control rows of other groups, season and audience included."""
    with_control = np.unique(group[arm_code == 0])
    alone = [
        arms[k]
        for k in range(1, len(arms))
        if (arm_code == k).any() and not np.isin(group[arm_code == k], with_control).any()
    ]
    if alone:
        warn_user(
            f"UpliftModel.fit: arm(s) {alone} were sent only in groups (campaigns) without "
            "control rows, so they are compared with the control rows of the other groups, "
            "pooled: a difference between those campaigns (a season, an audience) reads as the "
            "offer's effect. Give each campaign a control group, or leave those rows out.",
            DataQualityWarning,
        )
