"""The churn classifier: LightGBM with time-aware early stopping and a chosen probability calibration.

``ChurnModel`` is a scikit-learn classifier. Its probabilities are read as probabilities by the nightly
job and the trigger policy, so it is calibrated on the *latest* cutoff(s) of the training table, the
closest thing to the future it will score.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.isotonic import IsotonicRegression
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError, format_examples
from loyalty_ml.models._split import stratified_holdout_mask, time_split

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ChurnModel"]

Calibration = Literal["auto", "isotonic", "sigmoid", "none"]
_CALIBRATIONS = ("auto", "isotonic", "sigmoid", "none")
# Below this many rows of either class in the hold-out set, early stopping and calibration are
# skipped: a calibrator fitted on a handful of rows does more harm than good.
_MIN_HOLDOUT_PER_CLASS = 10
_EPS = 1e-6
_MULTITHREAD_MIN_ROWS = 200_000
_AUTO_BAGGING_ROWS = 500_000
# Directions that hold in every retailer: a longer gap never lowers churn risk, more recent
# orders never raise it. Constraining them keeps small-data models sensible.
_RISING = re.compile(r"recency_days|days_overdue|overdue_ratio")
_FALLING = re.compile(r"n_orders|n_orders_\d+d")
_AUTO_REFIT_MAX_ROWS = 1_000_000


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Gradient-boosted churn classifier (LightGBM) with calibrated probabilities.

    Fitting, in order:

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

    With fewer than 10 rows of either class in the hold-out set, steps 2-3 are skipped: all
    ``n_estimators`` trees are grown and probabilities are left uncalibrated (``calibration_ == "none"``).

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
        Minimum rows per leaf; larger values make the model steadier on small, noisy data.
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
    monotone : bool
        Constrain the risk to rise with ``recency_days``, ``days_overdue`` and ``overdue_ratio`` and
        to fall with ``n_orders`` and ``n_orders_{w}d``: directions true for any retailer, which keep
        the model sensible on small data.
    refit : bool or "auto"
        Refit on all rows with the best iteration count after early stopping. ``"auto"`` refits up to
        1,000,000 rows; above that the hold-out adds little and the refit would double the time.
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
        Feature names seen at fit (only when ``X`` was a DataFrame).
    n_features_in_ : int
        Number of features seen at fit.
    categories_ : dict
        Frozen category levels of each categorical feature.
    typical_values_ : dict
        Median of each numeric feature at fit (for the wording of reason codes).
    booster_ : lightgbm.Booster
        The final booster.
    best_iteration_ : int
        Number of trees in the final booster.
    calibration_ : str
        The calibrator in use: ``"isotonic"``, ``"sigmoid"`` or ``"none"``.
    calibrator_ : object or None
        The fitted calibrator (maps raw probability to calibrated probability).
    validation_ : dict
        How the hold-out set was chosen and the hold-out scores (``split``, ``n_rows``,
        ``log_loss_raw``, ``log_loss_isotonic``, ``log_loss_sigmoid``).

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
        min_child_samples: int = 50,
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
        self.refit = refit
        self.threshold = threshold
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame | np.ndarray, y: pd.Series | np.ndarray) -> ChurnModel:
        """Fit the booster and its calibrator.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_rows, n_features)
            Features; numeric, boolean or pandas ``category`` columns. An ``as_of`` index level enables
            the time-aware hold-out.
        y : Series or array-like of shape (n_rows,)
            Binary labels (1 = churned); a Series must share ``X``'s index.

        Returns
        -------
        ChurnModel
            The fitted model.
        """
        self._check_params()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        index = X.index if isinstance(X, pd.DataFrame) else None
        matrix, categorical = self._fit_features(X)
        target = self._fit_target(y, index=index, n_rows=matrix.shape[0])

        found = (
            time_split(
                index, n_cutoffs=self.n_validation_cutoffs, gap_days=self.horizon_days, seed=seed
            )
            if index is not None
            else None
        )
        if found is None:
            holdout = stratified_holdout_mask(target, fraction=self.validation_fraction, seed=seed)
            training, split = ~holdout, "stratified random (not time-aware)"
        else:
            training, holdout, split = found
        held_counts = np.bincount(target[holdout], minlength=2)
        train_counts = np.bincount(target[training], minlength=2)
        n_rows = matrix.shape[0]
        params = self._lgb_params(seed, n_rows)
        self.validation_ = {"split": split, "n_rows": int(holdout.sum())}
        self.calibration_ = "none"
        self.calibrator_: IsotonicRegression | _Sigmoid | None = None
        # Bin the features once; the training part, the hold-out and the refit are subsets of it.
        full = lgb.Dataset(
            matrix,
            label=target,
            categorical_feature=categorical,
            params=params,
            free_raw_data=True,
        ).construct()

        if min(held_counts.min(), train_counts.min()) < _MIN_HOLDOUT_PER_CLASS:
            self.validation_["split"] = "skipped (too few rows of a class to hold out)"
            self.booster_ = self._train(params, full, self.n_estimators)
            self.best_iteration_ = self.booster_.current_iteration()
            return self

        train_rows, held_rows = np.flatnonzero(training), np.flatnonzero(holdout)
        booster = self._train(
            params,
            full.subset(train_rows.tolist()),
            self.n_estimators,
            valid=full.subset(held_rows.tolist()),
        )
        best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        raw = self._booster_predict(matrix[held_rows], booster=booster, num_iteration=best)
        self._fit_calibrator(raw, target[held_rows], seed)
        refit = self.refit if self.refit != "auto" else n_rows <= _AUTO_REFIT_MAX_ROWS
        self.validation_["refit"] = bool(refit)
        if refit:
            booster = self._train(params, full, best)
        elif booster.current_iteration() != best:
            booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
        self.booster_ = booster
        self.best_iteration_ = best
        return self

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
            if not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(
                    f"The {name!r} parameter of ChurnModel must be an int >= 1. Got {value!r} instead."
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
        if self.refit not in (True, False, "auto"):
            raise ConfigError(
                f"The 'refit' parameter of ChurnModel must be True, False or 'auto'. Got {self.refit!r} instead."
            )
        open_fractions: dict[str, Any] = {
            "validation_fraction": self.validation_fraction,
            "threshold": self.threshold,
        }
        for name, value in open_fractions.items():
            if not 0 < value < 1:
                raise ConfigError(
                    f"The {name!r} parameter of ChurnModel must be in (0, 1). Got {value!r} instead."
                )
        if not self.learning_rate > 0:
            raise ConfigError(
                f"The 'learning_rate' parameter of ChurnModel must be > 0. Got {self.learning_rate!r} instead."
            )
        if self.calibration not in _CALIBRATIONS:
            raise ConfigError(
                f"The 'calibration' parameter of ChurnModel must be one of {_CALIBRATIONS}. "
                f"Got {self.calibration!r} instead."
            )
        if self.early_stopping_rounds is not None and self.early_stopping_rounds < 1:
            raise ConfigError(
                "The 'early_stopping_rounds' parameter of ChurnModel must be an int >= 1 or None. "
                f"Got {self.early_stopping_rounds!r} instead."
            )

    def _fit_features(self, X: Any) -> tuple[np.ndarray, list[int]]:
        if isinstance(X, pd.DataFrame):
            if X.shape[1] == 0:
                raise SchemaError("ChurnModel.fit: X has no feature columns.", table="features")
            if X.columns.duplicated().any():
                dup = X.columns[X.columns.duplicated()].unique()
                raise SchemaError(
                    f"ChurnModel.fit: X has duplicated columns {format_examples(dup)}.",
                    table="features",
                )
            bad = [c for c in X.columns if not _is_supported(X[c])]
            if bad:
                raise SchemaError(
                    f"ChurnModel.fit: columns {format_examples(bad, total=len(bad))} have dtypes "
                    f"{format_examples([str(X[c].dtype) for c in bad])}; features must be numeric, boolean or "
                    "pandas 'category'. Convert text columns with X[col].astype('category').",
                    table="features",
                    column=str(bad[0]),
                )
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            self.categories_ = {
                str(c): X[c].cat.categories
                for c in X.columns
                if isinstance(X[c].dtype, pd.CategoricalDtype)
            }
            matrix = self._encode(X)
        else:
            matrix = check_array(
                X, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=2
            )
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            self.categories_ = {}
        self.n_features_in_ = matrix.shape[1]
        if matrix.shape[0] < 2:
            raise DataError(f"ChurnModel.fit needs at least 2 rows; got {matrix.shape[0]}.")
        empty = np.flatnonzero(np.isnan(matrix).all(axis=0))
        if empty.size:
            raise DataError(
                f"ChurnModel.fit: columns {format_examples(self._names()[empty].tolist(), total=empty.size)} "
                "are NaN in every row; "
                "drop them or fix the feature build.",
            )
        all_names = list(self._names())
        categorical = [all_names.index(c) for c in self.categories_]
        # Medians (on at most 100,000 rows) let reason codes say "low" or "high" against a typical
        # customer; summary statistics, not training rows.
        sample = matrix[:: max(1, matrix.shape[0] // 100_000)]
        self.typical_values_ = {
            name: float(np.nanmedian(sample[:, j]))
            for j, name in enumerate(all_names)
            if name not in self.categories_ and not np.isnan(sample[:, j]).all()
        }
        return matrix, categorical

    def _fit_target(self, y: Any, *, index: pd.Index | None, n_rows: int) -> np.ndarray:
        if (
            isinstance(y, pd.Series)
            and index is not None
            and (len(y) != n_rows or not y.index.equals(index))
        ):
            raise DataError(
                f"ChurnModel.fit: y (length {len(y)}) is not aligned with X (length {n_rows}): their "
                "indexes differ. Pass y with X's index, e.g. y.loc[X.index]."
            )
        if y is None:
            raise DataError("ChurnModel requires y to be passed, but the target y is None.")
        values = np.asarray(y)
        if values.ndim == 2 and values.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; ravelling it.",
                DataConversionWarning,
                stacklevel=3,
            )
            values = values.ravel()
        if values.ndim != 1 or values.shape[0] != n_rows:
            raise DataError(
                f"ChurnModel.fit: y has shape {values.shape}; expected ({n_rows},) to match X."
            )
        if pd.isna(values).any():
            raise DataError(
                f"ChurnModel.fit: y has {int(pd.isna(values).sum())} missing labels; drop those rows."
            )
        if values.dtype.kind == "f" and np.isinf(values).any():
            raise DataError(
                f"ChurnModel.fit: y contains {int(np.isinf(values).sum())} infinite values; "
                "labels must be 0/1."
            )
        kind = type_of_target(values)
        if kind not in ("binary", "multiclass"):
            raise DataError(
                f"ChurnModel.fit: Unknown label type: {kind}; y must hold two classes "
                "(1 = churned, 0 = retained)."
            )
        classes, encoded = np.unique(values, return_inverse=True)
        if classes.size < 2:
            raise DataError(
                f"ChurnModel.fit: y has only one class ({classes.tolist()}); churn needs both churned (1) and "
                "retained (0) customers. Check the horizon and the cutoffs of the training table."
            )
        if classes.size > 2:
            raise DataError(
                "ChurnModel.fit: Only binary classification is supported. "
                f"y has {classes.size} classes {format_examples(classes.tolist())}."
            )
        self.classes_ = classes
        return encoded.astype(np.int64)

    def _monotone_constraints(self) -> list[int]:
        """+1: risk may only rise with the feature; -1: only fall; 0: free (see ``monotone``)."""
        names = [str(n) for n in self._names()]
        if not self.monotone:
            return [0] * len(names)
        return [1 if _RISING.fullmatch(n) else -1 if _FALLING.fullmatch(n) else 0 for n in names]

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

    def _fit_calibrator(self, raw: np.ndarray, target: np.ndarray, seed: int) -> None:
        scores = {"raw": _log_loss(target, raw)}
        candidates = ["isotonic", "sigmoid"] if self.calibration == "auto" else [self.calibration]
        if self.calibration != "none":
            folds = np.random.default_rng(seed).integers(0, 5, size=raw.shape[0])
            for kind in candidates:
                oof = np.empty_like(raw)
                for k in range(5):
                    fit_rows, out_rows = folds != k, folds == k
                    if not out_rows.any() or np.unique(target[fit_rows]).size < 2:
                        oof[out_rows] = raw[out_rows]
                        continue
                    oof[out_rows] = _make_calibrator(
                        kind, raw[fit_rows], target[fit_rows]
                    ).transform(raw[out_rows])
                scores[kind] = _log_loss(target, oof)
            chosen = min(candidates, key=lambda kind: scores[kind])
            self.calibration_ = chosen
            self.calibrator_ = _make_calibrator(chosen, raw, target)
        self.validation_.update({f"log_loss_{k}": v for k, v in scores.items()})

    # -- predict ------------------------------------------------------------------------------
    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape ``(n_rows, 2)``; column 1 is P(churn)."""
        p = self.predict_proba_uncalibrated(X)
        if self.calibrator_ is not None:
            p = np.clip(self.calibrator_.transform(p), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def predict_proba_uncalibrated(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """P(churn) of the raw booster, before calibration, shape ``(n_rows,)``."""
        check_is_fitted(self, "booster_")
        return self._booster_predict(self._transform(X))

    def _booster_predict(
        self, matrix: np.ndarray, *, booster: lgb.Booster | None = None, **kwargs: Any
    ) -> np.ndarray:
        """Run the booster on an encoded matrix (``pred_contrib=True`` gives TreeSHAP values)."""
        booster = self.booster_ if booster is None else booster
        threads = self._threads(matrix.shape[0])
        return np.asarray(booster.predict(matrix, num_threads=threads, **kwargs), dtype=np.float64)

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Class labels: ``classes_[1]`` where P(churn) >= ``threshold``."""
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p >= self.threshold).astype(np.int64)]

    def explain(self, X: pd.DataFrame, top_k: int = 3) -> pd.DataFrame:
        """Per-customer reason codes: the ``top_k`` features pushing churn up, in words.

        See :func:`loyalty_ml.models.explain.explain_churn`.
        """
        from loyalty_ml.models.explain import explain_churn

        return explain_churn(self, X, top_k=top_k)

    def shap_values(self, X: pd.DataFrame) -> pd.DataFrame:
        """TreeSHAP contributions (log-odds of the raw booster), one column per feature, indexed like X."""
        from loyalty_ml.models.explain import shap_frame

        return shap_frame(self, X)

    def plot_shap_summary(self, X: pd.DataFrame, *, max_features: int = 15) -> Figure:
        """Global SHAP summary (beeswarm-style) drawn with the Figure API."""
        from loyalty_ml.models.explain import plot_shap_summary

        return plot_shap_summary(self, X, max_features=max_features)

    # -- encoding -----------------------------------------------------------------------------
    def _names(self) -> np.ndarray:
        if hasattr(self, "feature_names_in_"):
            return np.asarray(self.feature_names_in_)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    def _transform(self, X: Any) -> np.ndarray:
        """Validate predict-time ``X`` and encode it as the float matrix the booster was trained on."""
        if isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            names = [str(c) for c in X.columns]
            missing = [c for c in self.feature_names_in_ if c not in names]
            if missing:
                raise SchemaError(
                    f"ChurnModel: X lacks feature columns {format_examples(missing, total=len(missing))} that the "
                    f"model was fitted with; X has {format_examples(names, total=len(names))}. Build features "
                    "with the same feature configuration as at training.",
                    table="features",
                    column=missing[0],
                )
            frame = X.set_axis(names, axis=1)[list(self.feature_names_in_)]
            bad = [
                c
                for c in frame.columns
                if not _is_supported(frame[c]) and c not in self.categories_
            ]
            if bad:
                raise SchemaError(
                    f"ChurnModel: columns {format_examples(bad)} are not numeric, boolean or category.",
                    table="features",
                    column=bad[0],
                )
            return self._encode(frame)
        if isinstance(X, pd.DataFrame):
            warnings.warn(
                "X has feature names, but ChurnModel was fitted without feature names",
                UserWarning,
                stacklevel=3,
            )
        elif hasattr(self, "feature_names_in_"):
            warnings.warn(
                "X does not have valid feature names, but ChurnModel was fitted with feature names",
                UserWarning,
                stacklevel=3,
            )
        matrix = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")
        if matrix.shape[1] != self.n_features_in_:
            raise SchemaError(
                f"X has {matrix.shape[1]} features, but ChurnModel is expecting {self.n_features_in_} features as input.",
                table="features",
            )
        return matrix

    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        # float32 halves the memory of big tables; LightGBM bins the values anyway
        out = np.empty(frame.shape, dtype=np.float32)
        for j, column in enumerate(frame.columns):
            values = frame.iloc[:, j]
            if column in self.categories_:
                # Re-code against the levels frozen at fit: unseen levels become NaN (missing).
                codes = _frozen_codes(values, self.categories_[column])
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = values.to_numpy(dtype=np.float32, na_value=np.nan)
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.non_deterministic = self.random_state is None
        return tags


class _Sigmoid:
    """Platt scaling on the raw log-odds: ``p = expit(a * logit(raw) + b)``, fitted by max likelihood."""

    def __init__(self, raw: np.ndarray, target: np.ndarray) -> None:
        z = logit(np.clip(raw, _EPS, 1 - _EPS))

        def loss(ab: np.ndarray) -> float:
            return _log_loss(target, expit(ab[0] * z + ab[1]))

        self.a, self.b = minimize(loss, x0=np.array([1.0, 0.0]), method="L-BFGS-B").x

    def transform(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(expit(self.a * logit(np.clip(raw, _EPS, 1 - _EPS)) + self.b))


def _frozen_codes(values: pd.Series, categories: pd.Index) -> np.ndarray:
    """Codes of ``values`` in the fitted ``categories``; -1 for missing or unseen levels."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = np.append(categories.get_indexer(values.cat.categories), -1)
        # code -1 (missing) indexes the appended -1
        return np.asarray(lookup[values.cat.codes.to_numpy()])
    return np.asarray(categories.get_indexer(pd.Index(values)))


def _make_calibrator(
    kind: str, raw: np.ndarray, target: np.ndarray
) -> IsotonicRegression | _Sigmoid:
    if kind == "sigmoid":
        return _Sigmoid(raw, target)
    return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, target)


def _log_loss(target: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(target * np.log(p) + (1 - target) * np.log(1 - p)))


def _is_supported(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
