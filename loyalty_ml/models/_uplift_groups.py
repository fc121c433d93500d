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
weighted by its share of the training rows (rows, not ``sample_weight``: design weights of
1 / the arm's share would weigh a campaign by how many offers it sent): the baseline over all of
them, and each offer's effect over the campaigns that sent it next to control rows. An offer's
effect in a campaign that never sent it is the learner's guess (an S-learner's shared trees shrink
it towards 0, a T-learner's arm model keeps the season it saw), which no re-centring corrects, since
that measures each offer within the campaigns that sent it.

Only campaigns of at least :data:`GROUP_MIN_ROWS` rows get a level of their own (at most
:data:`MAX_GROUP_LEVELS`, the largest): a nightly job's campaigns of a few dozen rows each would be
noise to learn, and averaging over hundreds of levels would cost hundreds of predictions. The rest
share one more level. With fewer than two such levels, or one level and fewer than
:data:`GROUP_MIN_ROWS` rows in the rest, there is nothing to tell apart and no column is added; nor
when the levels hold less than :data:`GROUP_MIN_COVERAGE` of the rows: a year of nightly sends of
a few thousand rows each is hundreds of campaigns, whose 19 largest nights are no season to learn.

Costs and limits: every prediction is one pass of the learner per level (up to 20; with
``return_std``, per bootstrap refit too). The held-out check of the purchase probabilities
(``cost_folds``) predicts each held-out row at its own campaign, where its purchase was observed,
while the plan reads the averaged predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GROUP_MIN_COVERAGE", "GROUP_MIN_ROWS", "MAX_GROUP_LEVELS", "GroupFeature"]

#: Fewest training rows a campaign needs to be a level of its own.
GROUP_MIN_ROWS = 1_000
#: Least share of the training rows the campaigns with a level of their own must hold.
GROUP_MIN_COVERAGE = 0.5
#: Most campaigns that get a level of their own (the largest). With the level the rest share, 20
#: levels: as many as the linear blend tells apart (``_uplift_linear.MAX_LEVELS``).
MAX_GROUP_LEVELS = 19


@dataclass(frozen=True, eq=False)
class GroupFeature:
    """Which training groups are levels of the added column, and the weight each level gets when
    predictions are averaged.

    Attributes
    ----------
    groups : tuple
        The groups (as given to ``fit``) with a level of their own; level ``k`` is ``groups[k]``,
        level ``len(groups)`` the rest.
    shares : ndarray
        Share of the training rows at each level (the rest last; 0 when every row has a level of
        its own): the baseline's weights.
    effect_weights : ndarray
        One row per level, one column per treatment arm: the level's share among the levels where
        the arm and the control both have rows (all levels' shares for an arm that has none).
    sent : ndarray of bool
        One row per level, one column per arm (the control first): whether the level has rows of
        the arm.
    """

    groups: tuple[object, ...]
    shares: np.ndarray
    effect_weights: np.ndarray
    sent: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray, arm: np.ndarray, n_arms: int) -> GroupFeature | None:
        """The levels for the training rows' groups ``values`` and arm codes ``arm`` (0 the
        control), or None when there is nothing to tell apart (see the module's docstring)."""
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
        rows = np.bincount(codes, minlength=len(uniques))
        order = sorted(range(len(uniques)), key=lambda k: (-rows[k], k))
        kept = [k for k in order if rows[k] >= GROUP_MIN_ROWS][:MAX_GROUP_LEVELS]
        rest_rows = len(codes) - int(rows[kept].sum())
        if len(kept) + (rest_rows >= GROUP_MIN_ROWS) < 2:
            return None
        if rest_rows > (1 - GROUP_MIN_COVERAGE) * len(codes):
            return None  # many campaigns, most of them without a level: nightly sends
        level = np.full(len(uniques), len(kept), dtype=np.int64)
        level[kept] = np.arange(len(kept))
        per_row = level[codes]
        counts = np.zeros((len(kept) + 1, n_arms))
        np.add.at(counts, (per_row, np.asarray(arm, dtype=np.int64)), 1.0)
        shares = counts.sum(axis=1) / len(codes)
        # an arm's effect is averaged where the arm was sent next to control rows
        observed = (counts[:, 1:] > 0) & (counts[:, :1] > 0)
        mass = shares[:, None] * observed
        total = mass.sum(axis=0)
        weights = np.where(total > 0, mass / np.where(total > 0, total, 1.0), shares[:, None])
        return cls(
            groups=tuple(uniques[k] for k in kept),
            shares=shares,
            effect_weights=weights,
            sent=counts > 0,
        )

    def column(self, values: np.ndarray) -> np.ndarray:
        """The added column for rows of groups ``values``: a level's code, ``len(groups)`` for
        the rest."""
        series = pd.Series(values, dtype=object)
        codes = pd.Index(pd.Series(self.groups, dtype=object)).get_indexer(pd.Index(series))
        # rows without a group (None, NaN, NaT alike) are the level of the missing group, if any
        missing = np.flatnonzero(pd.isna(pd.Series(self.groups, dtype=object)).to_numpy())
        if missing.size:
            codes[series.isna().to_numpy()] = missing[0]
        codes[codes < 0] = len(self.groups)
        return codes.astype(np.float64)

    def settings(self) -> list[tuple[float, float, np.ndarray]]:
        """``(value of the column, baseline weight, effect weights)`` of every level predictions
        are averaged over."""
        return [
            (float(level), float(share), self.effect_weights[level])
            for level, share in enumerate(self.shares)
            if share > 0
        ]

    def share_series(self) -> pd.Series:
        """The shares as a Series indexed by group (the rest as ``"(other)"``)."""
        labels = [*self.groups, "(other)"]
        out = pd.Series(self.shares, index=pd.Index(labels, dtype=object, name="group"))
        return out[out > 0].rename("share")
