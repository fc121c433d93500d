"""The churn classifier: LightGBM with time-aware early stopping and a chosen probability calibration.

``ChurnModel`` is a scikit-learn classifier. Its probabilities are read as probabilities by the nightly
job and the trigger policy, so it is calibrated on the *latest* cutoff(s) of the training table, the
closest thing to the future it will score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state

from loyalty_ml._checks import check_seed, is_int, is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataQualityWarning,
    NotFittedError,
    SchemaError,
    format_examples,
)
from loyalty_ml.models._churn_calibration import (
    Calibration,
    Calibrator,
    SigmoidCalibrator,
    check_calibration,
    choose_calibrator,
)
from loyalty_ml.models._churn_encoding import (
    cutoff_index,
    encode_fit_features,
    encode_predict_features,
    encode_target,
    encode_weight,
    monotone_constraints,
    typical_values,
)
from loyalty_ml.models._cutoff_offsets import (
    conditional_intercepts,
    cutoff_codes,
    log_odds,
    rate_intercepts,
)
from loyalty_ml.models._split import stratified_holdout_mask, time_split
from loyalty_ml.schema import columns as C

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ChurnModel"]

# Models pickled before calibration moved to its own module refer to this name.
_Sigmoid = SigmoidCalibrator
# Below this many rows of either class in the hold-out set, early stopping and calibration are
# skipped: a calibrator fitted on a handful of rows does more harm than good.
_MIN_HOLDOUT_PER_CLASS = 10
_MULTITHREAD_MIN_ROWS = 200_000
_AUTO_BAGGING_ROWS = 500_000
_AUTO_REFIT_MAX_ROWS = 1_000_000
#: ``min_child_samples`` is capped at the training rows over this (at least _MIN_LEAF_ROWS).
_LEAF_SHARE = 10
_MIN_LEAF_ROWS = 5
#: The default ``min_child_samples``: capped in silence; a value the user chose warns when capped.
_DEFAULT_LEAF_ROWS = 50


def _warn_holdout_skipped(
    held: np.ndarray, train: np.ndarray, n_estimators: int, calibration: str
) -> None:
    """Say that early stopping (and calibration, unless turned off) did not run, and why."""
    uncalibrated = (
        ""
        if calibration == "none"
        else f", and the probabilities are not calibrated (calibration={calibration!r} needs them)"
    )
    warn_user(
        f"ChurnModel.fit: the hold-out has {int(held[0])} and {int(held[1])} rows of the two "
        f"classes and the rows left to train on {int(train[0])} and {int(train[1])}; each needs "
        f"at least {_MIN_HOLDOUT_PER_CLASS} of both. Early stopping was skipped (all "
        f"{n_estimators} trees were grown){uncalibrated}. Train on more customers or more "
        "cut-offs (spaced at least horizon_days apart, so that the latest can be held out).",
        DataQualityWarning,
    )


def _warn_leaf_capped(asked: int, used: int, learned_from: int) -> None:
    """Say that a ``min_child_samples`` the user chose was lowered to a tenth of the rows."""
    warn_user(
        f"ChurnModel.fit: min_child_samples={asked} is more than a tenth of the {learned_from} "
        f"rows the trees learn from, so {used} was used (min_child_samples_): leaves of {asked} "
        "rows would leave the trees few splits or none, and every customer nearly the same "
        f"probability. Pass min_child_samples <= {used} (or leave the default, which adapts "
        "silently), or train on more rows (customers or cutoffs), to avoid this warning.",
        DataQualityWarning,
    )


def _subset(full: lgb.Dataset, rows: np.ndarray, offsets: np.ndarray | None) -> lgb.Dataset:
    """Rows of the binned dataset, with their starting scores."""
    part = full.subset(rows.tolist())
    if offsets is not None:
        part.construct().set_init_score(offsets[rows])
    return part


#: Parameters added after models were first registered, with the value that reproduces a model
#: pickled before each existed (see ``ChurnModel.__setstate__``).
_ADDED_PARAMETERS: dict[str, Any] = {"cutoff_offsets": False, "monotone": False, "horizon_days": 90}


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Gradient-boosted churn classifier (LightGBM) with calibrated probabilities.

    Fitting, in order:

    0. Give each training cutoff its own intercept (see ``cutoff_offsets``).
    1. Hold out data. When ``X`` is indexed by ``(as_of, customer_id)`` (what
       :func:`loyalty_ml.features.training_table` returns) and has more than ``n_validation_cutoffs``
       cutoffs, the latest ``n_validation_cutoffs`` cutoffs are held out: time-aware. Training
       rows are the cutoffs at least ``horizon_days`` earlier, whose label windows have closed by
       then (with too few cutoffs: earlier cutoffs of other customers; see
       :func:`loyalty_ml.models._split.time_split`). Otherwise (no ``as_of`` level, a single cutoff,
       or a NumPy array) a stratified random ``validation_fraction`` of rows is held out; this
       fallback is **not** time-aware.
    2. Train with early stopping on the hold-out log loss.
    3. Choose the calibrator: with ``calibration="auto"``, isotonic vs sigmoid (Platt) by 5-fold
       out-of-fold log loss on the hold-out rows, then fit the winner on all hold-out rows.
    4. Refit the booster on all rows with the best iteration count (see ``refit``).

    With fewer than 10 rows of either class in the hold-out set, or in the rows left to train on,
    steps 2-3 are skipped, with a DataQualityWarning: all ``n_estimators`` trees are grown and
    probabilities are left uncalibrated (``calibration_ == "none"``), so risk bands read from them
    (0.3, 0.6) may not mean what they say.

    Categorical features (pandas ``category`` dtype) are handled natively by LightGBM; their levels are
    frozen at fit, and a level unseen at fit is treated as missing at predict (never an error, never a
    shifted code). The fitted model keeps no training rows.

    Parameters
    ----------
    n_estimators : int
        Maximum number of boosting rounds.
    learning_rate : float
        Shrinkage per round.
    num_leaves : int
        Maximum leaves per tree.
    max_depth : int
        Maximum tree depth; ``-1`` for no limit.
    min_child_samples : int
        Minimum rows per leaf; larger values make the model steadier on noisy data. Capped at a
        tenth of the rows the trees learn from (at least 5; ``min_child_samples_`` is the value
        used): on a small shop's table of 100 customers, 50 rows a leaf left the trees one split
        and every customer the same probability. The default is capped silently; a value passed
        that the cap lowers warns (``DataQualityWarning``).
    subsample : float or "auto"
        Fraction of rows sampled per round (bagging), in ``(0, 1]``. ``"auto"``: 0.8 up to 500,000
        training rows, then 500,000 rows per round (at least 10%), which bounds the time per tree.
    colsample_bytree : float
        Fraction of features sampled per tree, in ``(0, 1]``.
    reg_lambda, reg_alpha : float
        L2 and L1 penalties on leaf values.
    max_bin : int
        Histogram bins per feature.
    early_stopping_rounds : int or None
        Stop when the hold-out log loss has not improved for this many rounds; ``None`` disables it.
    calibration : {"auto", "isotonic", "sigmoid", "none"}
        Probability calibration fitted on the hold-out rows.
    validation_fraction : float
        Share of rows held out by the (not time-aware) fallback split.
    n_validation_cutoffs : int
        Number of latest cutoffs held out when ``X`` has an ``as_of`` index level.
    horizon_days : int
        Label horizon of the training table. Cutoffs less than this many days before the hold-out
        cutoff share its label period (and its customers' answers), so they are not used to train the
        early-stopping model; a larger value than the true horizon is safe, a smaller one is not.
        A table from :func:`~loyalty_ml.features.training_table` records its horizon
        (``attrs["horizon_days"]`` of ``X`` and ``y``), and ``fit`` keeps cutoffs apart by the
        larger of the two (``validation_["gap_days"]``).
    monotone : bool
        Constrain the risk to rise with ``recency_days``, ``days_overdue`` and ``overdue_ratio`` and
        to fall with ``n_orders`` and ``n_orders_{w}d``: directions true for any retailer, which keep
        the model sensible on small data.
    cutoff_offsets : bool
        When ``X`` has an ``as_of`` level with two or more cutoffs, start each row's boosting from the
        log-odds of its cutoff's churn rate (LightGBM's ``init_score``). The trees then learn who
        churns more than others *at the same date*, not how dates differ: seasons and campaigns
        move every customer's risk at once, and features that grow with the date (``tenure_days``
        counted from the start of the data, cumulative spend) would otherwise learn those moves
        and carry them into the future. Raw probabilities are taken at the pooled churn rate of the
        training table (``base_score_``), and the calibration on the latest cutoff(s) sets the level.
        On Online Retail II this raised the pooled ROC AUC over three test months from 0.718 to
        0.732 and lowered ECE from 0.047 to 0.042 (``experiments/bench_churn.py``). The refit
        starts from better intercepts, solved given the early-stopped trees (rate log-odds understate
        the gaps between cutoffs; see :mod:`loyalty_ml.models._cutoff_offsets`); without a refit the
        early-stopped trees, fitted from the rate log-odds, are kept.
    refit : bool or "auto"
        Refit on all rows with the best iteration count after early stopping. ``"auto"`` refits up to
        1,000,000 rows, and above that whenever the early-stopping model saw less than half of the
        rows (the hold-out plus the cutoffs within ``horizon_days`` of it: with 4 monthly cutoffs and
        a 90-day horizon, only the oldest cutoff is left to train on). Otherwise the hold-out adds
        little and the refit would double the time (2,000,000 x 60: 17 s without, 40 s with).
    threshold : float
        Probability at or above which :meth:`predict` returns the positive class.
    random_state : int, RandomState or None
        Seed for bagging, feature sampling and the fallback split; an int makes fitting deterministic.
    n_jobs : int or None
        LightGBM threads; ``None`` uses one thread below 200,000 training rows (faster there) and all
        cores above; ``-1`` means all cores.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive (churned) class.
    feature_names_in_ : ndarray of str
        Feature names seen at fit, in X's order (only when ``X`` was a DataFrame). The booster's
        columns are the same names sorted, so the model does not depend on the column order
        (LightGBM samples columns, and breaks equal gains, by position).
    n_features_in_ : int
        Number of features seen at fit.
    categories_ : dict
        Frozen category levels of each categorical feature.
    typical_values_ : dict
        Median of each numeric feature at fit (for the wording of reason codes).
    booster_columns_ : ndarray of int
        Positions in ``feature_names_in_`` of the booster's columns (the names sorted; only when
        ``X`` was a DataFrame).
    booster_ : lightgbm.Booster
        The final booster.
    base_score_ : float
        Log-odds added to the booster's raw score: the training table's pooled churn rate when the
        trees were fitted on per-cutoff offsets, else 0 (LightGBM's own starting score is in the trees).
    best_iteration_ : int
        Number of trees in the final booster.
    calibration_ : str
        The calibrator in use: ``"isotonic"``, ``"sigmoid"`` or ``"none"``.
    calibrator_ : object or None
        The fitted calibrator (maps raw probability to calibrated probability).
    validation_ : dict
        How the hold-out set was chosen and the hold-out scores: ``split``, ``n_rows``,
        ``gap_days`` and ``cutoff_offsets`` always; when a hold-out set was used (steps 2-3 above), also ``refit``
        and ``log_loss_raw``, ``log_loss_isotonic`` and ``log_loss_sigmoid``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency_days": rng.uniform(0, 200, 400), "n_orders": rng.integers(1, 9, 400)})
    >>> y = pd.Series((rng.uniform(size=400) < X["recency_days"] / 200).astype(int))
    >>> model = ChurnModel(n_estimators=50, random_state=0).fit(X, y)
    >>> model.predict_proba(X).shape
    (400, 2)
    """

    def __init__(
        self,
        *,
        n_estimators: int = 1000,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        max_depth: int = -1,
        min_child_samples: int = _DEFAULT_LEAF_ROWS,
        subsample: float | Literal["auto"] = "auto",
        colsample_bytree: float = 0.5,
        reg_lambda: float = 1.0,
        reg_alpha: float = 0.0,
        max_bin: int = 63,
        early_stopping_rounds: int | None = 50,
        calibration: Calibration = "auto",
        validation_fraction: float = 0.2,
        n_validation_cutoffs: int = 1,
        horizon_days: int = 90,
        monotone: bool = True,
        cutoff_offsets: bool = True,
        refit: bool | Literal["auto"] = "auto",
        threshold: float = 0.5,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.max_bin = max_bin
        self.early_stopping_rounds = early_stopping_rounds
        self.calibration = calibration
        self.validation_fraction = validation_fraction
        self.n_validation_cutoffs = n_validation_cutoffs
        self.horizon_days = horizon_days
        self.monotone = monotone
        self.cutoff_offsets = cutoff_offsets
        self.refit = refit
        self.threshold = threshold
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- fit ----------------------------------------------------------------------------------
    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, giving a model pickled before a parameter existed the value it was fitted with
        (no per-cutoff intercepts, no monotone constraints); ``horizon_days`` only shaped the
        hold-out split at fit, so such a model reads the default."""
        super().__setstate__(state)
        for name, value in _ADDED_PARAMETERS.items():
            self.__dict__.setdefault(name, value)

    def fit(
        self,
        X: pd.DataFrame | np.ndarray,
        y: pd.Series | np.ndarray,
        sample_weight: pd.Series | np.ndarray | None = None,
    ) -> ChurnModel:
        """Fit the booster and its calibrator.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_rows, n_features)
            Features; numeric, boolean or pandas ``category`` columns. An ``as_of`` index level enables
            the time-aware hold-out. A DataFrame's rows are fitted in the order of its index labels
            (dates by time, ids by number when all are whole numbers, else by text), and its
            columns are given to LightGBM in the order of their names, so shuffled rows or columns,
            or ids read as text, fit the same model. A column that is NaN in every row warns; a
            column whose name reads as a customer id (``customer_id``, ``CustomerNo``,
            ``card_number``...) is refused with a ``SchemaError``: ids belong in the index.
        y : Series or array-like of shape (n_rows,)
            Binary labels (1 = churned); a Series must share ``X``'s index. ``classes_`` is
            sorted, as scikit-learn's scorers and ``CalibratedClassifierCV`` assume, and
            ``predict_proba(X)[:, 1]`` is the probability of its second, positive class. Text
            labels whose churn word sorts first (``"churned"``/``"kept"``) would make that
            P(kept), so they are refused (:class:`DataError`): pass 0/1 labels
            (``y.eq("churned").astype(int)``).
        sample_weight : Series or array-like of shape (n_rows,), optional
            Non-negative row weights (e.g. each customer's margin, to fit the model on the value
            at risk rather than the head count); a Series must share ``X``'s index. They weight
            the trees, the early-stopping log loss, the per-cutoff intercepts and the calibrator,
            so the calibrated probability is the weighted churn rate of similar customers. Only
            their ratios matter (they are scaled to a mean of 1); a weight of 0 leaves a row out.
            The hold-out is chosen as without weights; its minimum of 10 rows per class counts
            rows of positive weight.

        Returns
        -------
        ChurnModel
            The fitted model.
        """
        self._check_params()
        _check_features_type(X, "fit")
        gap_days = max(self.horizon_days, _table_horizon(X, y))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        weight = (
            None
            if sample_weight is None
            else encode_weight(
                sample_weight,
                index=X.index if isinstance(X, pd.DataFrame) else None,
                n_rows=len(X) if isinstance(X, pd.DataFrame) else np.asarray(X).shape[0],
            )
        )
        if isinstance(X, pd.DataFrame):
            X, y, weight = _in_canonical_order(X, y, weight)
        index = X.index if isinstance(X, pd.DataFrame) else None
        matrix, categorical = self._fit_features(X)
        self.classes_, target = encode_target(y, index=index, n_rows=matrix.shape[0])
        index = cutoff_index(index)
        counted = np.ones(target.size, dtype=bool) if weight is None else weight > 0

        found = (
            time_split(index, n_cutoffs=self.n_validation_cutoffs, gap_days=gap_days, seed=seed)
            if index is not None
            else None
        )
        if found is None:
            if index is not None and C.AS_OF not in (index.names or []):
                _warn_customers_on_both_sides(index)
            holdout = stratified_holdout_mask(target, fraction=self.validation_fraction, seed=seed)
            training, split = ~holdout, "stratified random (not time-aware)"
        else:
            training, holdout, split = found
        held_counts = np.bincount(target[holdout & counted], minlength=2)
        train_counts = np.bincount(target[training & counted], minlength=2)
        n_rows = matrix.shape[0]
        params = self._lgb_params(seed, n_rows)
        # a leaf may hold at most a tenth of the rows the trees learn from: on a small shop's
        # table (80 training rows of 100 customers) 50 rows a leaf left one split, early stopping
        # kept one tree, and every customer got the same probability
        held_out = min(held_counts.min(), train_counts.min()) >= _MIN_HOLDOUT_PER_CLASS
        learned_from = int(np.count_nonzero(training)) if held_out else n_rows
        self.min_child_samples_ = min(
            self.min_child_samples, max(_MIN_LEAF_ROWS, learned_from // _LEAF_SHARE)
        )
        if (
            self.min_child_samples_ < self.min_child_samples
            and self.min_child_samples != _DEFAULT_LEAF_ROWS
        ):
            _warn_leaf_capped(self.min_child_samples, self.min_child_samples_, learned_from)
        params["min_data_in_leaf"] = self.min_child_samples_
        self.validation_ = {"split": split, "n_rows": int(holdout.sum()), "gap_days": gap_days}
        self.calibration_ = "none"
        self.calibrator_: Calibrator | None = None
        codes = cutoff_codes(index) if self.cutoff_offsets and index is not None else None
        offsets = None if codes is None else rate_intercepts(codes, target, weight)[codes]
        w = np.ones(target.size) if weight is None else weight
        self.base_score_ = 0.0 if codes is None else float(log_odds(w @ target, w.sum()))
        self.validation_["cutoff_offsets"] = codes is not None
        # Bin the features once; the training part, the hold-out and the refit are subsets of it.
        full = lgb.Dataset(
            matrix,
            label=target,
            weight=weight,
            init_score=offsets,
            categorical_feature=categorical,
            params=params,
            free_raw_data=True,
        ).construct()

        if min(held_counts.min(), train_counts.min()) < _MIN_HOLDOUT_PER_CLASS:
            self.validation_["split"] = "skipped (too few rows of a class to hold out)"
            _warn_holdout_skipped(held_counts, train_counts, self.n_estimators, self.calibration)
            self.booster_ = self._train(params, full, self.n_estimators)
            self.best_iteration_ = self.booster_.current_iteration()
            self._warn_if_constant(n_rows)
            return self

        train_rows, held_rows = np.flatnonzero(training), np.flatnonzero(holdout)
        booster = self._train(
            params,
            _subset(full, train_rows, offsets),
            self.n_estimators,
            valid=_subset(full, held_rows, offsets),
        )
        best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        raw = self._booster_predict(matrix[held_rows], booster=booster, num_iteration=best)
        self.calibration_, self.calibrator_, scores = choose_calibrator(
            raw,
            target[held_rows],
            calibration=self.calibration,
            seed=seed,
            weight=None if weight is None else weight[held_rows],
        )
        self.validation_.update({f"log_loss_{k}": v for k, v in scores.items()})
        refit = (
            self.refit
            if self.refit != "auto"
            else n_rows <= _AUTO_REFIT_MAX_ROWS or 2 * train_rows.size < n_rows
        )
        self.validation_["refit"] = bool(refit)
        if refit:
            if codes is not None:
                # The early-stopped trees rank customers within a cutoff; given them, solve each
                # cutoff's own intercept for the refit to start from (see _cutoff_offsets).
                trees = self._tree_scores(matrix, booster=booster, num_iteration=best)
                intercepts = conditional_intercepts(trees, codes, target, weight=weight)
                full.set_init_score(intercepts[codes])
            booster = self._train(params, full, best)
        elif booster.current_iteration() != best:
            booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
        self.booster_ = booster
        self.best_iteration_ = best
        self._warn_if_constant(n_rows)
        return self

    def _warn_if_constant(self, n_rows: int) -> None:
        """Warn when no tree split: every customer of a cutoff would get the same probability."""
        if self.booster_.feature_importance("split").sum() == 0:
            warn_user(
                f"ChurnModel.fit: the trees made no split on {n_rows} rows "
                f"(min_child_samples={self.min_child_samples_}), so every customer of a cutoff gets "
                "the same probability. Train on more rows (more customers or cutoffs) or lower "
                "min_child_samples.",
                DataQualityWarning,
            )

    def _check_params(self) -> None:
        positive_ints: dict[str, Any] = {
            "n_estimators": self.n_estimators,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "max_bin": self.max_bin,
            "n_validation_cutoffs": self.n_validation_cutoffs,
            "horizon_days": self.horizon_days,
        }
        for name, value in positive_ints.items():
            # LightGBM needs 2 leaves to split and 2 bins; True is an int to Python, never a count
            least = 2 if name in ("num_leaves", "max_bin") else 1
            if not is_int(value) or value < least:
                raise ConfigError(
                    f"The {name!r} parameter of ChurnModel must be an int >= {least}. Got "
                    f"{value!r} instead."
                )
        fractions: dict[str, Any] = {"colsample_bytree": self.colsample_bytree}
        if self.subsample != "auto":
            fractions["subsample"] = self.subsample
        extra = {"subsample": " or 'auto'"}
        for name, value in fractions.items():
            if isinstance(value, str) or not 0 < value <= 1:
                raise ConfigError(
                    f"The {name!r} parameter of ChurnModel must be in (0, 1]{extra.get(name, '')}. "
                    f"Got {value!r} instead."
                )
        for flag in ("cutoff_offsets", "monotone"):
            if not isinstance(getattr(self, flag), bool | np.bool_):
                raise ConfigError(
                    f"The {flag!r} parameter of ChurnModel must be True or False. "
                    f"Got {getattr(self, flag)!r} instead."
                )
        for name in ("reg_lambda", "reg_alpha"):
            value = getattr(self, name)
            if not is_real(value, finite=True) or value < 0:
                raise ConfigError(
                    f"The {name!r} parameter of ChurnModel must be a finite number >= 0. Got "
                    f"{value!r} instead."
                )
        check_seed(self.random_state, owner="ChurnModel")
        if self.refit not in (True, False, "auto"):
            raise ConfigError(
                f"The 'refit' parameter of ChurnModel must be True, False or 'auto'. Got {self.refit!r} instead."
            )
        open_fractions: dict[str, Any] = {
            "validation_fraction": self.validation_fraction,
            "threshold": self.threshold,
        }
        for name, value in open_fractions.items():
            if not is_real(value) or not 0 < value < 1:
                raise ConfigError(
                    f"The {name!r} parameter of ChurnModel must be in (0, 1). Got {value!r} instead."
                )
        if not is_real(self.learning_rate, finite=True) or not self.learning_rate > 0:
            raise ConfigError(
                f"The 'learning_rate' parameter of ChurnModel must be > 0. Got {self.learning_rate!r} instead."
            )
        check_calibration(self.calibration)
        if self.n_jobs is not None and not is_int(self.n_jobs):
            raise ConfigError(
                "The 'n_jobs' parameter of ChurnModel must be an int or None (threads; <= 0 "
                f"means all cores). Got {self.n_jobs!r} instead."
            )
        if self.early_stopping_rounds is not None and (
            not is_int(self.early_stopping_rounds) or self.early_stopping_rounds < 1
        ):
            raise ConfigError(
                "The 'early_stopping_rounds' parameter of ChurnModel must be an int >= 1 or None. "
                f"Got {self.early_stopping_rounds!r} instead."
            )

    def _fit_features(self, X: Any) -> tuple[np.ndarray, list[int]]:
        matrix, feature_names, self.categories_ = encode_fit_features(X)
        if feature_names is not None:
            self.feature_names_in_ = feature_names
            # The booster sees the columns sorted by name: the same table with its columns in
            # another order trains the same model.
            order = np.argsort(feature_names.astype(str), kind="stable")
            self.booster_columns_ = order
            if not np.array_equal(order, np.arange(order.size)):
                matrix = matrix[:, order]
        else:
            for name in ("feature_names_in_", "booster_columns_"):
                if hasattr(self, name):
                    delattr(self, name)
        self.n_features_in_ = matrix.shape[1]
        all_names = list(self._names())
        self.typical_values_ = typical_values(matrix, all_names, self.categories_)
        return matrix, [all_names.index(c) for c in self.categories_]

    def _monotone_constraints(self) -> list[int]:
        """+1: risk may only rise with the feature; -1: only fall; 0: free (see ``monotone``)."""
        return monotone_constraints([str(n) for n in self._names()], monotone=self.monotone)

    def _threads(self, n_rows: int) -> int:
        if self.n_jobs is not None:
            return max(int(self.n_jobs), 1) if self.n_jobs > 0 else 0
        # OpenMP threads spin while waiting; on small tables (and busy machines) one thread is
        # many times faster than several.
        return 1 if n_rows < _MULTITHREAD_MIN_ROWS else 0

    def _lgb_params(self, seed: int, n_rows: int) -> dict[str, Any]:
        if self.subsample == "auto":
            # enough rows per tree for stable splits, and bounded time per tree on big tables
            bagging = 0.8 if n_rows <= _AUTO_BAGGING_ROWS else max(_AUTO_BAGGING_ROWS / n_rows, 0.1)
        else:
            bagging = float(self.subsample)
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": bagging,
            "bagging_freq": 1 if bagging < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "lambda_l1": self.reg_alpha,
            "max_bin": self.max_bin,
            "monotone_constraints": self._monotone_constraints(),
            "monotone_constraints_method": "advanced",
            "seed": seed,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self._threads(n_rows),
            "verbosity": -1,
        }

    def _train(
        self,
        params: dict[str, Any],
        train_set: lgb.Dataset,
        rounds: int,
        valid: lgb.Dataset | None = None,
    ) -> lgb.Booster:
        valid_sets: list[lgb.Dataset] = []
        callbacks: list[Any] = []
        if valid is not None:
            valid_sets = [valid]
            if self.early_stopping_rounds is not None:
                callbacks = [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]
        booster = lgb.train(
            {**params, "metric": "binary_logloss"},
            train_set,
            num_boost_round=rounds,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        booster.free_dataset()  # the fitted model keeps no training rows
        return booster

    # -- predict ------------------------------------------------------------------------------
    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape ``(n_rows, 2)``; column 1 is P(churn).

        ``X`` is the feature table: a DataFrame's columns are matched to ``feature_names_in_`` by
        name (extra columns are ignored, missing ones refused); a NumPy array must have fit's
        columns in fit's order.
        """
        p = self.predict_proba_uncalibrated(X)
        if self.calibrator_ is not None and len(p):  # the calibrators refuse 0 rows
            p = np.clip(self.calibrator_.transform(p), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def predict_proba_uncalibrated(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """P(churn) of the raw booster (plus ``base_score_``), before calibration, shape ``(n_rows,)``.

        ``X`` as for :meth:`predict_proba`.
        """
        self._check_fitted("predict_proba")
        matrix = self._transform(X)
        if len(matrix) == 0:  # LightGBM cannot predict on no rows: no customers, no scores
            return np.zeros(0)
        return self._booster_predict(matrix)

    def _booster_predict(
        self, matrix: np.ndarray, *, booster: lgb.Booster | None = None, **kwargs: Any
    ) -> np.ndarray:
        """Raw P(churn) of the booster on an encoded matrix, at the pooled level (``base_score_``)."""
        raw = self._tree_scores(matrix, booster=booster, **kwargs)
        # models pickled before cutoff offsets existed have no base_score_
        return expit(raw + getattr(self, "base_score_", 0.0))

    def _tree_scores(
        self, matrix: np.ndarray, *, booster: lgb.Booster | None = None, **kwargs: Any
    ) -> np.ndarray:
        """Sum of the booster's trees (log-odds, without ``base_score_``) on an encoded matrix."""
        booster = self.booster_ if booster is None else booster
        threads = self._threads(matrix.shape[0])
        raw = booster.predict(matrix, num_threads=threads, raw_score=True, **kwargs)
        return np.asarray(raw, dtype=np.float64)

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Class labels: ``classes_[1]`` where P(churn) >= ``threshold``, else ``classes_[0]``.

        ``X`` as for :meth:`predict_proba`.
        """
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p >= self.threshold).astype(np.int64)]

    def explain(self, X: pd.DataFrame, top_k: int = 3) -> pd.DataFrame:
        """Per-customer reason codes: the ``top_k`` features pushing churn up, in words.

        ``X`` is a DataFrame of the fitted features (one row per customer, indexed as the answer
        will be); see :func:`loyalty_ml.models.explain.explain_churn` for the columns returned.
        """
        from loyalty_ml.models.explain import explain_churn

        self._check_explainable(X, "explain")
        if len(X) == 0:
            # TreeSHAP of no rows fails inside LightGBM: word one empty row for the layout
            self._transform(X)  # still refuses missing feature columns
            probe = pd.DataFrame(np.nan, index=pd.RangeIndex(1), columns=X.columns)
            return explain_churn(self, probe, top_k=top_k).iloc[:0].set_axis(X.index, axis=0)
        return explain_churn(self, X, top_k=top_k)

    def shap_values(self, X: pd.DataFrame) -> pd.DataFrame:
        """TreeSHAP contributions (log-odds of the raw booster), one column per feature, indexed like X."""
        from loyalty_ml.models.explain import shap_frame

        self._check_explainable(X, "shap_values")
        return shap_frame(self, X)

    def plot_shap_summary(self, X: pd.DataFrame, *, max_features: int = 15) -> Figure:
        """Global SHAP summary (beeswarm-style) drawn with the Figure API: the ``max_features``
        features with the largest mean |SHAP| on ``X`` (a fixed sample of 2,000 rows when bigger),
        one row each. See :func:`loyalty_ml.models.explain.plot_shap_summary`."""
        from loyalty_ml.models.explain import plot_shap_summary

        self._check_explainable(X, "plot_shap_summary")
        return plot_shap_summary(self, X, max_features=max_features)

    def _check_explainable(self, X: object, method: str) -> None:
        """SchemaError unless the model knows its feature names and ``X`` is a DataFrame: reasons
        and SHAP columns name features and quote their values."""
        self._check_fitted(method)
        if not hasattr(self, "feature_names_in_"):
            raise SchemaError(
                f"ChurnModel.{method}: this model was fitted on an array without feature names, "
                "so its reasons cannot name or quote features. Fit it on a DataFrame (in a "
                "Pipeline, call .set_output(transform='pandas') on the steps before it).",
                table="features",
            )
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(
                f"ChurnModel.{method} needs X as a DataFrame (reasons name features and quote "
                f"their values); got {type(X).__name__}. Pass the feature table, e.g. from "
                "build_features.",
                table="features",
            )

    # -- encoding -----------------------------------------------------------------------------
    def _names(self) -> np.ndarray:
        """Feature names in the booster's column order (sorted by name; X's order in models
        pickled before the columns were sorted)."""
        if hasattr(self, "feature_names_in_"):
            names = np.asarray(self.feature_names_in_)
            order = getattr(self, "booster_columns_", None)
            return names if order is None else names[order]
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    def _check_fitted(self, method: str) -> None:
        """loyalty_ml's NotFittedError (a scikit-learn one too) before ``method`` needs the booster."""
        if not hasattr(self, "booster_"):
            raise NotFittedError(
                f"This ChurnModel instance is not fitted yet. Call 'fit' before '{method}'."
            )

    def _transform(self, X: Any) -> np.ndarray:
        """Validate predict-time ``X`` and encode it as the float matrix the booster was trained on."""
        _check_features_type(X, "predict")
        if isinstance(X, pd.DataFrame):
            names = pd.Index([str(c) for c in X.columns])
            repeated = sorted(set(names[names.duplicated()]) & set(self._names()))
            if repeated:
                raise SchemaError(
                    f"ChurnModel: X has repeated feature columns {format_examples(repeated)}; "
                    "keep one column of each name.",
                    table="features",
                    column=repeated[0],
                )
        named = hasattr(self, "feature_names_in_")
        matrix = encode_predict_features(
            X,
            feature_names=self._names() if named else None,
            categories=self.categories_,
            n_features=self.n_features_in_,
        )
        order = getattr(self, "booster_columns_", None)
        if named and order is not None and not isinstance(X, pd.DataFrame):
            matrix = matrix[:, order]  # an array's columns are in feature_names_in_'s order
        return matrix

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.non_deterministic = self.random_state is None
        return tags


def _check_features_type(X: object, method: str) -> None:
    """SchemaError unless ``X`` is a DataFrame or an array-like of rows (not a dict, text or None:
    scikit-learn would fail on them deep inside ``check_array``)."""
    from scipy import sparse

    if sparse.issparse(X):  # scipy's dok_matrix is a dict too: say what is wrong with it
        raise SchemaError(
            f"ChurnModel.{method}: X is a sparse matrix ({type(X).__name__}); sparse input is "
            "not supported. Pass a DataFrame of features or a dense 2-D array (X.toarray()).",
            table="features",
        )
    if X is None or isinstance(X, str | bytes | dict | pd.Series):
        raise SchemaError(
            f"ChurnModel.{method}: X must be a DataFrame of features (e.g. from build_features) "
            f"or a 2-D numpy array; got {type(X).__name__}.",
            table="features",
        )


def _in_canonical_order(
    X: pd.DataFrame, y: pd.Series | np.ndarray, weight: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.Series | np.ndarray, np.ndarray | None]:
    """``X``, ``y`` and the row weights with their rows in the order of X's index labels
    (as_of, customer_id).

    LightGBM bags rows by position: without this, the same table shuffled, or with its ids read as
    text, trains another model. ``y`` follows when it is an array or a Series on X's index; any
    other ``y`` is left for the label check to refuse (and the rows are then left as they are).
    ``weight`` is already aligned with ``X`` (see ``encode_weight``).
    """
    from loyalty_ml.models._row_order import canonical_row_order

    order = canonical_row_order(X.index)
    if np.array_equal(order, np.arange(len(order))):
        return X, y, weight
    if isinstance(y, pd.Series):
        if not y.index.equals(X.index):
            return X, y, weight
        ordered_y: pd.Series | np.ndarray = y.iloc[order]
    else:
        values = np.asarray(y)
        if values.ndim != 1 or len(values) != len(X):
            return X, y, weight
        ordered_y = values[order]
    return X.iloc[order], ordered_y, None if weight is None else weight[order]


def _warn_customers_on_both_sides(index: pd.Index) -> None:
    """Warn when a table without an ``as_of`` level repeats customers: the random hold-out then
    puts one customer's rows at other cutoffs on both sides of early stopping and calibration
    (a cutoff level renamed or dropped: 603 boosting rounds instead of 77 on Online Retail II,
    and a lower ROC AUC on the next cutoff)."""
    if C.CUSTOMER_ID in (index.names or []):
        ids = index.get_level_values(C.CUSTOMER_ID)
    elif isinstance(index, pd.MultiIndex):
        return
    else:
        ids = index
    if not ids.has_duplicates:
        return
    repeated = int(ids.duplicated().sum())
    warn_user(
        f"ChurnModel.fit: X repeats customers ({repeated:,} rows share a customer id with an "
        f"earlier row) but its index has no {C.AS_OF!r} level (levels: {list(index.names)}), so "
        "the hold-out for early stopping and calibration is random rows and holds customers the "
        f"trees also train on. Index X by ({C.AS_OF!r}, {C.CUSTOMER_ID!r}), as training_table "
        "returns it, for the time-aware hold-out.",
        DataQualityWarning,
    )


def _table_horizon(*tables: object) -> int:
    """The label horizon a training table records (``attrs["horizon_days"]``, set by
    :func:`~loyalty_ml.features.training_table`), the largest over ``tables``; 0 when none does.

    ``train_and_register(horizon_days=180)`` once fitted ``ChurnModel()`` with its default of 90:
    cutoffs 90-179 days before the hold-out then shared its customers' label period, and early
    stopping read an optimistic hold-out.
    """
    found = 0
    for table in tables:
        attrs = getattr(table, "attrs", None)
        value = attrs.get("horizon_days") if isinstance(attrs, dict) else None
        if is_int(value) and int(value) > 0:
            found = max(found, int(value))
    return found
