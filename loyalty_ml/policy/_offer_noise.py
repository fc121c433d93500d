"""The noise in each offer's level that ``UpliftModel.predict_effects`` records in the effects'
``attrs`` (``arm_mean_se``, ``control_mean_se``, ``arm_average_effect``, ``arm_effect_se``), read
and checked for :func:`.offers.choose_offers`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml._checks import is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataError, DataQualityWarning, format_examples

__all__ = [
    "read_arm_mean_se",
    "read_average_effect",
    "read_control_mean_se",
    "read_effect_se",
    "warn_unrecorded_offers",
]


def read_arm_mean_se(arm_mean_se: object, attrs: dict, ids: list[str]) -> np.ndarray | None:
    """The standard error of each offer's mean outcome, in ``ids`` order, checked (None: off)."""
    if arm_mean_se is None:
        return None
    if isinstance(arm_mean_se, str) and arm_mean_se == "auto":
        recorded = attrs.get("arm_mean_se")
        if not isinstance(recorded, dict) or not set(ids) <= {str(k) for k in recorded}:
            return None  # not from an UpliftModel, or offers it did not measure: off
        arm_mean_se = pd.Series(recorded)
    if not isinstance(arm_mean_se, pd.Series):
        raise DataError(
            "choose_offers: arm_mean_se must be 'auto', None or a Series indexed by offer id (e.g. "
            f"UpliftModel.arm_summary_['mean_outcome_se']); got {type(arm_mean_se).__name__}."
        )
    by_id = pd.Series(arm_mean_se.to_numpy(), index=[str(i) for i in arm_mean_se.index])
    if by_id.index.has_duplicates:
        repeated = sorted(set(by_id.index[by_id.index.duplicated()]))
        raise DataError(
            f"choose_offers: arm_mean_se has more than one entry for offers "
            f"{format_examples(repeated)} (ids compared as text); give one per offer."
        )
    missing = [i for i in ids if i not in by_id.index]
    if missing:
        raise DataError(
            f"choose_offers: arm_mean_se has no entry for offers {format_examples(missing)}; give "
            "the standard error of every offer's mean outcome (UpliftModel.arm_summary_"
            "['mean_outcome_se'] of the model the effects come from), or pass None."
        )
    given = by_id[ids]
    values = pd.to_numeric(given, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise DataError(
            f"choose_offers: arm_mean_se must hold numbers >= 0 (standard errors); offers "
            f"{format_examples([i for i, b in zip(ids, bad, strict=True) if b])} have "
            f"{format_examples(given[bad].tolist())}."
        )
    return values


def warn_unrecorded_offers(attrs: dict, ids: list[str], *, budget: bool) -> None:
    """Warn when effects carry an ``UpliftModel``'s records but not for every offer (columns renamed
    after ``predict_effects``, or an offer's effects from elsewhere): ``"auto"`` then plans without
    the noise in the offers' levels and, with a budget, without the held-out cost check, for every
    offer, which the caller would otherwise never learn."""
    recorded = attrs.get("arm_mean_se")
    if not isinstance(recorded, dict) or not recorded:
        return
    missing = [i for i in ids if i not in {str(k) for k in recorded}]
    if not missing:
        return
    lost = "the noise in each offer's level" + (" and the held-out cost check" if budget else "")
    # a Series restores the noise rule but not the check, which only the records' keys carry
    series = (
        ""
        if budget
        else ", or pass arm_mean_se as a Series by offer id "
        "(UpliftModel.arm_summary_['mean_outcome_se'] renamed)"
    )
    warn_user(
        f"choose_offers: effects carry an UpliftModel's records for arms "
        f"{format_examples(sorted(map(str, recorded)))} but not for offers "
        f"{format_examples(missing)}, so the plan leaves out {lost} for every offer. Fit with the "
        "catalog's offer ids as the treatment arms (or do not rename the columns of "
        f"predict_effects){series} to keep them.",
        DataQualityWarning,
    )


def read_average_effect(attrs: dict, ids: list[str]) -> np.ndarray | None:
    """Each offer's average effect, which ``UpliftModel.predict_effects`` records in the effects'
    ``attrs``; None when absent or when it misses an offer (effects from elsewhere)."""
    return _recorded_per_offer(
        attrs,
        "arm_average_effect",
        ids,
        meaning="average effect",
        rule="finite numbers",
        valid=lambda v: is_real(v, finite=True),
    )


def read_effect_se(attrs: dict, ids: list[str]) -> np.ndarray | None:
    """The standard error of each offer's average effect, which ``UpliftModel.predict_effects``
    records in the effects' ``attrs`` (within the experiments that sent the offer); None when
    absent or when it misses an offer (effects from elsewhere: sqrt(se_o^2 + se_control^2))."""
    return _recorded_per_offer(
        attrs,
        "arm_effect_se",
        ids,
        meaning="the standard error of its average effect",
        rule="numbers >= 0 (standard errors)",
        valid=lambda v: is_real(v, finite=True) and float(v) >= 0,
    )


def _recorded_per_offer(
    attrs: dict,
    key: str,
    ids: list[str],
    *,
    meaning: str,
    rule: str,
    valid: Callable[[Any], bool],
) -> np.ndarray | None:
    """``attrs[key]``, a dict of offer id to a number, in ``ids``' order; None when absent or when
    it misses an offer. A value that is not a dict, or a number that breaks ``valid``, is a
    DataError naming the key, the offers and the way out."""
    recorded = attrs.get(key)
    if recorded is None:
        return None
    if not isinstance(recorded, dict):
        raise DataError(
            f"choose_offers: effects.attrs[{key!r}] must be a dict of offer id to {meaning}; got "
            f"{type(recorded).__name__}. Remove it, or pass arm_mean_se=None."
        )
    if not all(i in recorded for i in ids):
        return None
    bad = [i for i in ids if not valid(recorded[i])]
    if bad:
        raise DataError(
            f"choose_offers: effects.attrs[{key!r}] must hold {rule}; offers "
            f"{format_examples(bad)} have {format_examples([recorded[i] for i in bad])}. Remove "
            "it, or pass arm_mean_se=None."
        )
    return np.array([float(recorded[i]) for i in ids])


def read_control_mean_se(attrs: dict) -> float:
    """The standard error of the control's mean outcome, which ``UpliftModel.predict_effects``
    records in the effects' ``attrs``; 0 when absent (effects from elsewhere)."""
    recorded = attrs.get("control_mean_se")
    if recorded is None:
        return 0.0
    if not is_real(recorded, finite=True) or float(recorded) < 0:
        raise DataError(
            "choose_offers: effects.attrs['control_mean_se'] must be a number >= 0 (the standard "
            f"error of the control's mean outcome); got {recorded!r}. Remove it, or pass "
            "arm_mean_se=None to plan without the noise in the offers' levels."
        )
    return float(recorded)
