"""The experiment (campaign) of pooled training rows as a feature of the uplift learners.

Campaigns pooled into one fit differ in more than their offers: one ran at Christmas, when everyone
buys more, another in a quiet month. When an offer was sent in one season only, a model that does
not see the campaign credits the offer with the season, customer by customer: re-centring
(``fit(groups=)``) fixes each offer's *level*, but the customers whose purchases the season moves
most still carry it in their effects (experiments/RESULTS.md, "Surface K").

So, with ``UpliftModel(group_feature=True)`` (the default) and ``fit(groups=)``, every base learner
(and the linear blend, and an estimated propensity model) sees the campaign as one more categorical
column, and the season is learnt where it belongs, in the campaign's own term. A plan is for a
campaign that has not run yet, so predictions are averaged over the campaigns fitted on, each
weighted by its (weighted) share of the training rows: the effect of each offer in an average
season, not in the one it happened to be sent in.

Only campaigns of at least :data:`GROUP_MIN_ROWS` rows get a level of their own (at most
:data:`MAX_GROUP_LEVELS`, the largest): a nightly job's campaigns of a few dozen rows each would be
noise to learn, and averaging over hundreds of levels would cost hundreds of predictions. The rest
share one level ("missing" to LightGBM, the reference level to the linear blend). With fewer than two
such levels, or one level and fewer than :data:`GROUP_MIN_ROWS` rows in the rest, there is nothing
to tell apart and no column is added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GROUP_MIN_ROWS", "MAX_GROUP_LEVELS", "GroupFeature"]

#: Fewest training rows a campaign needs to be a level of its own.
GROUP_MIN_ROWS = 1_000
#: Most campaigns that get a level of their own (the largest); the linear blend tells apart as many
#: levels of a categorical column (``_uplift_linear.MAX_LEVELS``).
MAX_GROUP_LEVELS = 20


@dataclass(frozen=True)
class GroupFeature:
    """Which training groups are levels of the added column, and the share each setting of the
    column gets when predictions are averaged.

    Attributes
    ----------
    groups : tuple
        The groups (as given to ``fit``) with a level of their own; level ``k`` is ``groups[k]``.
    shares : ndarray
        Weighted share of the training rows at each setting: one per level, then the rest (the
        missing level; 0 when every row has a level of its own).
    """

    groups: tuple[object, ...]
    shares: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray, weight: np.ndarray) -> GroupFeature | None:
        """The levels for the training rows' groups ``values`` (weights ``weight``), or None when
        there is nothing to tell apart (see the module's docstring)."""
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
        rows = np.bincount(codes, minlength=len(uniques))
        order = sorted(range(len(uniques)), key=lambda k: (-rows[k], k))
        kept = [k for k in order if rows[k] >= GROUP_MIN_ROWS][:MAX_GROUP_LEVELS]
        rest_rows = len(codes) - int(rows[kept].sum())
        if len(kept) + (rest_rows >= GROUP_MIN_ROWS) < 2:
            return None
        mass = np.bincount(codes, weights=weight, minlength=len(uniques))
        shares = np.r_[mass[kept], mass.sum() - mass[kept].sum()] / mass.sum()
        shares[-1] = max(float(shares[-1]), 0.0) if rest_rows else 0.0
        return cls(groups=tuple(uniques[k] for k in kept), shares=shares / shares.sum())

    def column(self, values: np.ndarray) -> np.ndarray:
        """The added column for rows of groups ``values``: a level's code, NaN for the rest."""
        index = pd.Index(pd.Series(self.groups, dtype=object))
        series = pd.Series(values, dtype=object)
        codes = index.get_indexer(pd.Index(series)).astype(np.float64)
        # rows without a group (None, NaN, NaT alike) are the level of the missing group, if any
        missing = np.flatnonzero(pd.isna(pd.Series(self.groups, dtype=object)).to_numpy())
        if missing.size:
            codes[series.isna().to_numpy()] = missing[0]
        codes[codes < 0] = np.nan
        return codes

    def settings(self) -> list[tuple[float, float]]:
        """``(value of the column, weight)`` of every setting predictions are averaged over."""
        values = [*map(float, range(len(self.groups))), float("nan")]
        return [(v, float(s)) for v, s in zip(values, self.shares, strict=True) if s > 0]

    def share_series(self) -> pd.Series:
        """The shares as a Series indexed by group (the rest as ``"(other)"``)."""
        labels = [*self.groups, "(other)"]
        out = pd.Series(self.shares, index=pd.Index(labels, dtype=object, name="group"))
        return out[out > 0].rename("share")
