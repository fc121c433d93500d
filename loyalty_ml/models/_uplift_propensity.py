"""Propensities for the uplift learners: arm shares (randomised data) or a calibrated classifier.

An observational campaign has to be deconfounded by P(arm | x); when some customers had almost no chance of
an arm (propensity near 0), effects for them rest on extrapolation, so :class:`PoorOverlapWarning` says so
and the propensities are clipped before they are divided by.
"""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
from sklearn.calibration import CalibratedClassifierCV

__all__ = [
    "OVERLAP_THRESHOLD",
    "PROPENSITY_CLIP",
    "PoorOverlapWarning",
    "arm_shares",
    "check_overlap",
    "fit_propensity_model",
]

#: Propensities below this (for any arm) count as poor overlap.
OVERLAP_THRESHOLD = 0.02
#: Warn when more than this share of rows has poor overlap.
_OVERLAP_TOLERANCE = 0.01
#: Propensities are clipped to ``[PROPENSITY_CLIP, 1]`` before inverse weighting.
PROPENSITY_CLIP = 0.01
#: Calibration folds of the estimated propensity model (each arm needs at least this many rows).
PROPENSITY_FOLDS = 3


class PoorOverlapWarning(UserWarning):
    """Some customers had (almost) no chance of some arm: effects there are extrapolated."""


def arm_shares(arm: np.ndarray, weight: np.ndarray, n_arms: int) -> np.ndarray:
    """Weighted share of each arm code ``0..n_arms-1``: the propensity of a randomised experiment."""
    totals = np.bincount(arm, weights=weight, minlength=n_arms)
    return totals / totals.sum()


def fit_propensity_model(
    matrix: np.ndarray, arm: np.ndarray, weight: np.ndarray, *, seed: int, n_jobs: int | None
) -> CalibratedClassifierCV:
    """Fit a calibrated LightGBM classifier of the arm code on the features.

    Category codes are used as ordered numbers here: a propensity model needs to rank, not to be
    interpretable, and this keeps the calibration folds free of LightGBM's categorical bookkeeping.
    """
    base = lgb.LGBMClassifier(
        n_estimators=100,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=50,
        random_state=seed,
        verbose=-1,
        deterministic=True,
        force_row_wise=True,
        n_jobs=n_jobs if n_jobs is not None else -1,
    )
    model = CalibratedClassifierCV(base, method="sigmoid", cv=PROPENSITY_FOLDS)
    model.fit(matrix, arm, sample_weight=weight)
    return model


def check_overlap(propensity: np.ndarray, *, owner: str) -> np.ndarray:
    """Warn when overlap is poor, then clip and renormalise each row of ``propensity``.

    The limits shrink with the number of arms and with each arm's own share (at most a fifth and
    a tenth of an even share, and of the arm's mean propensity): a randomised design with 60
    offers gives each 0.8%, and one that keeps 1.5% as control gives the control 1.5%, which is no
    lack of overlap. Overlap is poor where a customer's chance of an arm is far below the arm's.
    """
    n_arms = max(propensity.shape[1], 1) if propensity.ndim == 2 else 1
    share = propensity.mean(axis=0) if propensity.ndim == 2 and len(propensity) else 1.0
    threshold = np.minimum(min(OVERLAP_THRESHOLD, 0.2 / n_arms), np.asarray(share) / 5)
    clip = np.minimum(min(PROPENSITY_CLIP, 0.1 / n_arms), np.asarray(share) / 10)
    poor = np.asarray((propensity < threshold).any(axis=1), dtype=bool)
    flagged = float(poor.mean()) if poor.size else 0.0
    if flagged > _OVERLAP_TOLERANCE:
        limits = np.atleast_1d(threshold)
        below = (
            f"{limits[0]:.3g}"
            if np.allclose(limits, limits[0])
            else f"{limits.min():.3g}-{limits.max():.3g} (a fifth of the arm's share at most)"
        )
        warnings.warn(
            f"{owner}: {int(poor.sum())} rows ({flagged:.1%}) have a propensity below "
            f"{below} for some arm, so their effects are extrapolated. Restrict the data "
            "to customers who could have received every arm, or use a randomised experiment.",
            PoorOverlapWarning,
            stacklevel=3,
        )
    clipped = np.clip(propensity, clip, 1.0)
    return clipped / clipped.sum(axis=1, keepdims=True)
