"""How far each arm's predicted purchase probability is from what its held-out rows did, by band of
the predicted effect: what a budget's prudent cost in :func:`~loyalty_ml.policy.offers.choose_offers`
reads.

A budget binds the true cost of the customers a plan picks, p_i(o) * cost_per_redemption(o), and a
plan picks those whose estimated effect is largest, where an uplift model errs most: it shrinks the
largest effects towards 0 (their customers buy more than it says), or it takes noise for an effect
(they buy less). Which of the two happens depends on the data, and each arm's own rows can tell: its
held-out rows in a band of estimated effects bought at some rate, which is set against the
probabilities the model gave them. The models come from cross-fitting: ``folds`` refits of the
same learner, each on the other folds' rows, stratified by arm, so that no row is scored by a
model that saw it.

Only binary outcomes have a purchase probability; a continuous outcome gets no check.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from loyalty_ml.models._uplift_learners import ArmData, FittedLearner
from loyalty_ml.schema import columns as C

__all__ = ["COST_CHECK_BANDS", "calibration_attrs", "cost_check"]

#: Bands of estimated effect per arm (quantiles of its held-out rows' effects).
COST_CHECK_BANDS = 4

FitFold = Callable[[ArmData, int], FittedLearner]
PredictFold = Callable[[FittedLearner, np.ndarray], tuple[np.ndarray, np.ndarray]]


def cost_check(
    data: ArmData,
    arms: tuple[str, ...],
    *,
    folds: int,
    seed: int,
    fit: FitFold,
    predict: PredictFold,
) -> pd.DataFrame:
    """Held-out purchase rates against predicted probabilities, per arm and band of effect.

    Parameters
    ----------
    data : ArmData
        The training rows (binary outcome).
    arms : tuple of str
        Names of the treatment arms, codes 1..K in ``data.arm``.
    folds : int
        Cross-fitting folds (>= 2).
    seed : int
        Seeds the fold split and, through ``fit``, the refits.
    fit, predict
        Fit a learner on a fold's training rows with a seed; predict (baseline, effects) for a
        matrix: the model's own, so that the refits are the model on less data.

    Returns
    -------
    DataFrame
        Indexed by (offer_id, band) with columns ``effect_to`` (the band's upper edge of estimated
        effect; inf for the top band), ``rows``, ``predicted`` (the mean predicted P(y | arm, x))
        and ``observed`` (the rows' weighted purchase rate) and ``observed_se`` (its standard error,
        with one purchase and one non-purchase added so that a band without purchases is not
        certain).
    """
    fold = _stratified_folds(data, folds, np.random.RandomState(seed))
    n_arms = data.n_arms
    effect = np.full(len(data.y), np.nan)
    probability = np.full(len(data.y), np.nan)
    for k in range(folds):
        train = np.flatnonzero(fold != k)
        held = np.flatnonzero(fold == k)
        learner = fit(_subset(data, train), seed + 104_729 * (k + 1))
        baseline, effects = predict(learner, data.matrix[held])
        arm = data.arm[held]
        treated = arm > 0
        rows = held[treated]
        effect[rows] = effects[treated, arm[treated] - 1]
        probability[rows] = np.clip(baseline[treated] + effect[rows], 0.0, 1.0)
    frames = []
    for code in range(1, n_arms):
        rows = data.arm == code
        frames.append(
            _bands(effect[rows], probability[rows], data.y[rows], data.weight[rows], arms[code - 1])
        )
    return pd.concat(frames)


def calibration_attrs(check: pd.DataFrame | None) -> dict[str, dict[str, list[float]]] | None:
    """``cost_check``'s table as ``choose_offers`` reads it from the effects' attrs: per offer id,
    the lists ``effect_to``, ``predicted``, ``observed`` and ``observed_se`` by band."""
    if check is None:
        return None
    out: dict[str, dict[str, list[float]]] = {}
    for offer, bands in check.groupby(level=0, sort=False):
        out[str(offer)] = {
            name: [float(v) for v in bands[name]]
            for name in ("effect_to", "predicted", "observed", "observed_se")
        }
    return out


def _stratified_folds(data: ArmData, folds: int, rng: np.random.RandomState) -> np.ndarray:
    """Each row's fold, as many rows of each arm in every fold. The rows come in the order of
    their index labels, and rows of one label (a customer in several campaigns) in the order they
    arrived: each arm's rows are therefore dealt in the order of a hash of their contents, so that
    the same rows shuffled fall in the same folds (rows alike in every value are interchangeable)."""
    # features (rounded to float32 by the encoding), arm and outcome: not the weights or the group
    # codes, which sums and first appearances make depend on the order
    content = pd.DataFrame(data.matrix).assign(_arm=data.arm, _y=data.y)
    digest = pd.util.hash_pandas_object(content, index=False).to_numpy()
    fold = np.empty(len(data.arm), dtype=np.int64)
    for code in np.unique(data.arm):
        rows = np.flatnonzero(data.arm == code)
        rows = rows[np.argsort(digest[rows], kind="stable")]
        fold[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % folds
    return fold


def _subset(data: ArmData, rows: np.ndarray) -> ArmData:
    return ArmData(
        data.matrix[rows],
        data.arm[rows],
        data.y[rows],
        data.weight[rows],
        data.propensity[rows],
        data.binary,
        None if data.group is None else data.group[rows],
        arm_keys=data.arm_keys,
    )


def _bands(
    effect: np.ndarray, probability: np.ndarray, y: np.ndarray, weight: np.ndarray, offer: str
) -> pd.DataFrame:
    inner = np.quantile(effect, np.linspace(0.0, 1.0, COST_CHECK_BANDS + 1)[1:-1])
    inner = np.unique(inner)  # ties (a learner with few distinct effects) merge bands
    band = np.searchsorted(inner, effect, side="left")
    records = []
    for b in range(len(inner) + 1):
        rows = band == b
        w = weight[rows]
        total = w.sum()
        if total <= 0:
            continue
        effective = total**2 / (w**2).sum()
        observed = float(np.average(y[rows], weights=w))
        predicted = float(np.average(probability[rows], weights=w))
        smoothed = (observed * effective + 1.0) / (effective + 2.0)
        se = float(np.sqrt(smoothed * (1.0 - smoothed) / effective))
        records.append(
            {
                C.OFFER_ID: offer,
                "band": b,
                "effect_to": float(inner[b]) if b < len(inner) else float("inf"),
                "rows": int(rows.sum()),
                "predicted": predicted,
                "observed": observed,
                "observed_se": se,
            }
        )
    return pd.DataFrame.from_records(records).set_index([C.OFFER_ID, "band"])
