"""Probability calibration for the churn model: isotonic or sigmoid (Platt), chosen on held-out rows.

The nightly job and the trigger policy read churn scores as probabilities, so the raw booster output is
mapped through a calibrator fitted on the hold-out rows. With ``calibration="auto"`` the candidates are
compared by out-of-fold log loss on those rows, so the choice is not scored on the rows it was fitted on.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

from loyalty_ml.exceptions import ConfigError

__all__ = [
    "CALIBRATIONS",
    "Calibration",
    "Calibrator",
    "SigmoidCalibrator",
    "check_calibration",
    "choose_calibrator",
    "log_loss",
    "make_calibrator",
]

Calibration = Literal["auto", "isotonic", "sigmoid", "none"]
#: The allowed values of ``ChurnModel(calibration=...)``.
CALIBRATIONS = ("auto", "isotonic", "sigmoid", "none")
# Probabilities are kept this far from 0 and 1 so that log-odds and log loss stay finite.
_EPS = 1e-6
_N_FOLDS = 5


def check_calibration(calibration: object) -> None:
    """Raise ``ConfigError`` unless ``calibration`` is one of :data:`CALIBRATIONS`.

    Examples
    --------
    >>> check_calibration("platt")
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.ConfigError: The 'calibration' parameter of ChurnModel must be one of ('auto', 'isotonic', 'sigmoid', 'none'). Got 'platt' instead.
    """
    if calibration not in CALIBRATIONS:
        raise ConfigError(
            f"The 'calibration' parameter of ChurnModel must be one of {CALIBRATIONS}. "
            f"Got {calibration!r} instead."
        )


def log_loss(target: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Mean binary log loss of probabilities ``p`` for 0/1 labels ``target`` (weighted by ``weight``).

    Parameters
    ----------
    target : ndarray of shape (n_rows,)
        Labels, 0 or 1.
    p : ndarray of shape (n_rows,)
        Predicted P(label = 1); clipped to ``[1e-6, 1 - 1e-6]``.
    weight : ndarray of shape (n_rows,), optional
        Non-negative row weights (``ChurnModel.fit``'s ``sample_weight``); equal when omitted.

    Returns
    -------
    float
        The (weighted) mean negative log likelihood.

    Examples
    --------
    >>> round(log_loss(np.array([0, 1]), np.array([0.5, 0.5])), 4)
    0.6931
    """
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.average(target * np.log(p) + (1 - target) * np.log(1 - p), weights=weight))


class SigmoidCalibrator:
    """Platt scaling on the raw log-odds: ``p = expit(a * logit(raw) + b)``, fitted by max likelihood.

    Parameters
    ----------
    raw : ndarray of shape (n_rows,)
        Uncalibrated probabilities.
    target : ndarray of shape (n_rows,)
        Labels, 0 or 1.
    weight : ndarray of shape (n_rows,), optional
        Non-negative row weights of the likelihood; equal when omitted.

    Attributes
    ----------
    a, b : float
        Slope and intercept on the log-odds scale.

    Examples
    --------
    >>> calibrator = SigmoidCalibrator(np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 1, 0, 1]))
    >>> calibrator.transform(np.array([0.5])).shape
    (1,)
    """

    def __init__(
        self, raw: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None
    ) -> None:
        z = logit(np.clip(raw, _EPS, 1 - _EPS))

        def loss(ab: np.ndarray) -> float:
            return log_loss(target, expit(ab[0] * z + ab[1]), weight)

        self.a, self.b = minimize(loss, x0=np.array([1.0, 0.0]), method="L-BFGS-B").x

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Map raw probabilities to calibrated probabilities."""
        return np.asarray(expit(self.a * logit(np.clip(raw, _EPS, 1 - _EPS)) + self.b))


Calibrator: TypeAlias = IsotonicRegression | SigmoidCalibrator


def make_calibrator(
    kind: str, raw: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None
) -> Calibrator:
    """Fit the calibrator ``kind`` (``"sigmoid"``, otherwise isotonic) of ``raw`` to ``target``.

    Parameters
    ----------
    kind : str
        ``"sigmoid"`` for Platt scaling; any other value fits an isotonic regression.
    raw : ndarray of shape (n_rows,)
        Uncalibrated probabilities.
    target : ndarray of shape (n_rows,)
        Labels, 0 or 1.
    weight : ndarray of shape (n_rows,), optional
        Non-negative row weights; equal when omitted.

    Returns
    -------
    IsotonicRegression or SigmoidCalibrator
        The fitted calibrator; its ``transform`` maps raw to calibrated probabilities.
    """
    if kind == "sigmoid":
        return SigmoidCalibrator(raw, target, weight)
    # A block of scores with no churner among its calibration rows would read "certainly stays"
    # (exactly 0): bound the steps by one pseudo-observation's worth, 1 / (n + 2), on each side
    # (n the rows' total weight; ChurnModel scales weights to a mean of 1, so n is about the rows).
    n = float(len(target) if weight is None else weight.sum())
    margin = 1.0 / (n + 2)
    return IsotonicRegression(y_min=margin, y_max=1.0 - margin, out_of_bounds="clip").fit(
        raw, target, sample_weight=weight
    )


def choose_calibrator(
    raw: np.ndarray,
    target: np.ndarray,
    *,
    calibration: Calibration,
    seed: int,
    weight: np.ndarray | None = None,
) -> tuple[str, Calibrator | None, dict[str, float]]:
    """Choose and fit the calibrator of held-out raw probabilities.

    Each candidate (isotonic and sigmoid for ``"auto"``, else ``calibration`` alone) is scored by
    5-fold out-of-fold log loss on the held-out rows; the best one is then fitted on all of them.

    Parameters
    ----------
    raw : ndarray of shape (n_rows,)
        Uncalibrated probabilities of the held-out rows.
    target : ndarray of shape (n_rows,)
        Their labels, 0 or 1.
    calibration : {"auto", "isotonic", "sigmoid", "none"}
        The calibrators to consider; ``"none"`` fits nothing.
    seed : int
        Seed of the fold assignment.
    weight : ndarray of shape (n_rows,), optional
        Non-negative row weights of the fits and the log losses; equal when omitted.

    Returns
    -------
    chosen : str
        ``"isotonic"``, ``"sigmoid"`` or ``"none"``.
    calibrator : IsotonicRegression, SigmoidCalibrator or None
        The chosen calibrator fitted on all rows; ``None`` for ``"none"``.
    scores : dict of str to float
        Log loss of the raw probabilities (``"raw"``) and out-of-fold log loss of each candidate.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = rng.uniform(size=200)
    >>> target = (rng.uniform(size=200) < raw).astype(int)
    >>> chosen, calibrator, scores = choose_calibrator(raw, target, calibration="sigmoid", seed=0)
    >>> chosen, sorted(scores)
    ('sigmoid', ['raw', 'sigmoid'])
    """
    scores = {"raw": log_loss(target, raw, weight)}
    if calibration == "none":
        return "none", None, scores
    candidates = ["isotonic", "sigmoid"] if calibration == "auto" else [calibration]
    folds = np.random.default_rng(seed).integers(0, _N_FOLDS, size=raw.shape[0])
    weighted = np.ones(raw.shape[0], dtype=bool) if weight is None else weight > 0
    for kind in candidates:
        oof = np.empty_like(raw)
        for k in range(_N_FOLDS):
            fit_rows, out_rows = folds != k, folds == k
            if not out_rows.any() or np.unique(target[fit_rows & weighted]).size < 2:
                # too few rows to fit on: this fold keeps its raw probabilities
                oof[out_rows] = raw[out_rows]
                continue
            fold_weight = None if weight is None else weight[fit_rows]
            oof[out_rows] = make_calibrator(
                kind, raw[fit_rows], target[fit_rows], fold_weight
            ).transform(raw[out_rows])
        scores[kind] = log_loss(target, oof, weight)
    chosen = min(candidates, key=lambda kind: scores[kind])
    return chosen, make_calibrator(chosen, raw, target, weight), scores
