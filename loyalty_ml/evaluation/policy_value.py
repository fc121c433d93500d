"""What an assignment of arms would have earned, estimated from randomised (or known-propensity)
experiment rows: inverse propensity weighting or the doubly robust estimator, with a confidence
interval (:func:`policy_value`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from loyalty_ml._checks import check_seed, is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.evaluation._metric_inputs import (
    align_on_index,
    arm_labelled,
    as_float_array,
    refuse_missing_arms,
    refuse_not_finite,
)
from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, format_examples
from loyalty_ml.models._uplift_rows import label_texts
from loyalty_ml.schema import columns as C

__all__ = ["PolicyValue", "policy_value"]

ArrayLike = pd.Series | np.ndarray


@dataclass(frozen=True)
class PolicyValue:
    """Estimated mean reward per customer of an assignment policy, with a confidence interval."""

    value: float
    std_error: float
    ci_low: float
    ci_high: float
    method: str
    n: int

    def __str__(self) -> str:
        return (
            f"{self.value:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}] ({self.method}, n={self.n})"
        )


def policy_value(
    y: ArrayLike,
    t: ArrayLike,
    assignment: ArrayLike,
    *,
    propensity: pd.Series | pd.DataFrame | None = None,
    method: Literal["ipw", "dr"] = "ipw",
    mu: pd.DataFrame | None = None,
    control: str = C.CONTROL,
    confidence: float = 0.95,
    n_bootstrap: int = 0,
    random_state: int | None = None,
) -> PolicyValue:
    """Mean reward per customer had every row received the arm ``assignment`` gives it.

    Parameters
    ----------
    y : array
        Observed reward per row (e.g. margin of a conversion minus the cost of the arm received).
    t : array of str
        Arm each row received.
    assignment : array or Series of str
        Arm the policy gives each row; a missing value (no offer, as in a plan's ``offer_id``) means
        ``control``. It must be decided from what was known before the experiment (the customers'
        features), not from ``t``: ``assignment=t`` is refused, and an assignment that gives rows
        the arm they received far more (or less) often than the propensities allow warns
        (:data:`MATCH_Z` standard deviations): it is built from ``t``, or the arms were given to
        whole stores or days (the interval is then too narrow) or not at random.
    propensity : Series or DataFrame, optional
        P(arm) per arm (Series: a randomised design) or per row (DataFrame, one column per arm).
        Default: the observed arm shares (a randomised experiment); the standard error and the
        bootstrap then treat each arm's part as a mean within the rows that received it
        (stratified by arm), as the shares make it. Per-row propensities that give the policy's
        arm to rows with almost no chance of it warn (:class:`PoorOverlapWarning`).
    method : {"ipw", "dr"}
        Inverse propensity weighting (Horvitz-Thompson), or doubly robust (needs ``mu``).
    mu : DataFrame, optional
        Predicted reward per row and arm (one column per arm, control included), for ``"dr"``.
    control : str
        Label of the control arm in ``t``, ``assignment``, ``propensity`` and ``mu``; a missing
        assignment means this arm.
    confidence : float
        Level of the interval.
    n_bootstrap : int
        0: normal interval from the per-row terms' standard error; else a percentile bootstrap.
        When every term is the same (e.g. no matched row of an assigned arm had a reward), the
        standard error is 0: that warns and the interval is NaN. The normal interval needs
        several events in each assigned arm: an arm given to 5% of the rows or more whose matched
        rows hold fewer than :data:`MIN_MATCHED_EVENTS` rewards other than the most common one
        (purchases, non-zero spends) warns. A heavy-tailed reward (spend) undercovers too: 88.5% at
        2,000 rows and 90.2% at 20,000 for a nominal 95% on a lognormal spend (sigma 1.5), in a
        review's simulations; read such intervals as narrower than stated.
    random_state : int, optional
        Seed of the bootstrap.

    Examples
    --------
    >>> y = np.tile([1.0, 0.0, 0.0, 1.0], 25); t = np.tile(["a", "control", "a", "control"], 25)
    >>> policy_value(y, t, ["a"] * 100).value
    0.5
    """
    if method not in ("ipw", "dr"):
        raise ConfigError(
            f"The 'method' parameter of policy_value must be 'ipw' or 'dr'. Got {method!r}."
        )
    if not is_real(confidence) or not 0 < confidence < 1:
        raise ConfigError(
            f"The 'confidence' parameter of policy_value must be in (0, 1). Got {confidence!r}."
        )
    if (
        isinstance(n_bootstrap, bool)
        or not isinstance(n_bootstrap, int | np.integer)
        or n_bootstrap < 0
        or n_bootstrap == 1
    ):
        raise ConfigError(
            "The 'n_bootstrap' parameter of policy_value must be 0 (a normal interval) or an int "
            f">= 2 (bootstrap resamples). Got {n_bootstrap!r} instead."
        )
    check_seed(random_state, owner="policy_value")
    if propensity is not None and not isinstance(propensity, pd.Series | pd.DataFrame):
        raise ConfigError(
            "The 'propensity' parameter of policy_value must be None, a Series of arm shares or "
            f"a DataFrame of per-row propensities. Got {type(propensity).__name__} instead."
        )
    if mu is not None and not isinstance(mu, pd.DataFrame):
        raise ConfigError(
            "The 'mu' parameter of policy_value must be a DataFrame of predicted rewards (one "
            f"column per arm). Got {type(mu).__name__} instead."
        )
    where = "policy_value"
    if isinstance(assignment, pd.DataFrame) or np.ndim(assignment) > 1:
        # choose_offers' whole plan: the assignment is its offer_id column
        raise ConfigError(
            "The 'assignment' parameter of policy_value must be one arm per row (a Series or "
            "array of offer ids); got "
            + (
                f"a DataFrame with columns {format_examples(list(assignment.columns))}. Pass "
                "plan['offer_id'] for a plan from choose_offers."
                if isinstance(assignment, pd.DataFrame)
                else f"an array of shape {np.shape(assignment)}."
            )
        )
    per_row = {"propensity": propensity} if isinstance(propensity, pd.DataFrame) else {}
    aligned, index = align_on_index(
        {"y": y, "t": t, "assignment": assignment, **per_row, "mu": mu}, where=where
    )
    y_arr = as_float_array(aligned["y"], name="y", where=where)
    refuse_not_finite(y_arr, name="y", where=where, index=index)
    received = np.asarray(aligned["t"], dtype=object)
    refuse_missing_arms(received, where=where, index=index)
    # arms as text as UpliftModel names them: 1, 1.0 and "1" are one arm (an assignment read back
    # with NaN for "no offer" is float)
    labels = label_texts(received)
    assigned = label_texts(
        pd.Series(np.asarray(aligned["assignment"], dtype=object)).fillna(control).to_numpy()
    )
    n = len(y_arr)
    if not len(labels) == len(assigned) == n:
        raise DataError(
            f"policy_value: y, t and assignment must have the same length; got {n}, {len(labels)} "
            f"and {len(assigned)}."
        )
    if n == 0:
        raise DataError(
            "policy_value: y, t and assignment are empty; there is nothing to estimate."
        )
    propensity, mu = aligned.get("propensity", propensity), aligned["mu"]
    for name, frame in (("propensity", propensity), ("mu", mu)):
        if isinstance(frame, pd.DataFrame) and len(frame) != n:
            raise DataError(
                f"policy_value: {name} has {len(frame)} rows but y has {n}; pass one row per "
                "customer, one column per arm."
            )
    arms = sorted(set(labels.tolist()))
    never_seen = sorted(set(assigned) - set(arms))
    if never_seen:
        raise DataError(
            f"policy_value: the policy assigns arms {format_examples(never_seen)} that no row "
            f"received (t holds {format_examples(arms)}); their value cannot be estimated from "
            "this data."
        )
    p = _propensity_of_assigned(labels, assigned, propensity, arms)
    if isinstance(propensity, pd.DataFrame):
        _warn_if_weights_explode(p, assigned)
    match = (labels == assigned).astype(np.float64)
    _check_assignment_against_received(
        match, p, assigned, per_row=isinstance(propensity, pd.DataFrame)
    )
    if n > 1:  # one row has no interval to judge
        _warn_if_thin_arms(labels, assigned, match, y_arr)
    baseline = np.zeros(n)  # the outcome model's part of each term (DR), 0 for IPW
    if method == "ipw":
        terms = match * y_arr / p
    else:
        if mu is None:
            raise ConfigError(
                "policy_value(method='dr') needs mu: predicted rewards per row and arm."
            )
        mu = arm_labelled(mu, name="mu", where=where)
        missing = [a for a in set(assigned) if a not in mu.columns]
        if missing:
            raise DataError(
                f"policy_value: mu lacks columns for arms {format_examples(sorted(missing))}."
            )
        mu_arr = _float_columns(mu, name="mu", where=where)
        cols = mu.columns.get_indexer(pd.Index(assigned))
        mu_a = mu_arr[np.arange(n), cols]
        refuse_not_finite(mu_a, name="mu (of the assigned arm)", where=where, index=index)
        terms = mu_a + match * (y_arr - mu_a) / p
        baseline = mu_a
    value = float(terms.mean())
    z = float(norm.ppf(0.5 + confidence / 2))
    # With the observed arm shares as propensities (the default) the weighted part of each term is
    # a mean within the arm the row received, so its noise is the within-arm spread: treating the
    # shares as known counted the spread between arms too (4.5x too wide on a reward far from 0).
    strata = labels if propensity is None else np.zeros(n, dtype=object)
    if n_bootstrap:
        rng = np.random.default_rng(random_state)
        # resampled by position within each stratum: the rows' order must not matter
        groups = [np.sort(terms[strata == s]) for s in sorted(set(strata.tolist()))]
        draws = np.array(
            [
                sum(g[rng.integers(0, g.size, g.size)].sum() for g in groups) / n
                for _ in range(n_bootstrap)
            ]
        )
        low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
        se = float(draws.std(ddof=1))
    elif n > 1:
        if propensity is None:
            weighted = terms - baseline
            centred = pd.Series(weighted).groupby(strata).transform("mean").to_numpy()
            influence = (baseline - baseline.mean()) + (weighted - centred)
        else:
            influence = terms - value
        se = float(np.sqrt((influence**2).sum() / (n - 1)) / np.sqrt(n))
        low, high = value - z * se, value + z * se
    else:
        se, low, high = float("nan"), float("nan"), float("nan")
    if n > 1 and not se > 0:
        warn_user(
            "policy_value: every row's term is the same (e.g. no matched row of an assigned arm "
            "had a nonzero reward), so the standard error is 0 and the interval says nothing; "
            "it is returned as NaN. The estimate needs several events in each assigned arm.",
            DataQualityWarning,
        )
        low = high = float("nan")
    return PolicyValue(value, se, float(low), float(high), method, n)


#: How far (in standard deviations) the matches of the assignment and the received arms may be
#: from what a policy decided without seeing the arm would give, before it warns: under
#: randomisation of rows the count is a sum of independent draws (sd 0.89 over 2,000 simulated
#: experiments), while ``assignment=t`` reads z = 229 on 30,000 rows. A design that gives arms
#: by store, region or day makes the draws move together and legitimately reaches it (z = 12
#: for 40 stores of 500 customers), so beyond it the estimate is questioned, not refused.
MATCH_Z = 5.0
#: The check needs this variance of the match count (below it the normal tail misleads: 20 rows
#: at P(arm) = 0.001 warned whenever one row drew the arm).
MIN_MATCH_VARIANCE = 9.0
#: Below this many matched rows of an assigned arm (rows given the arm they received) whose
#: reward differs from the most common one (purchases among non-purchases, non-zero spend among
#: zeros), the arm's part of the interval is unreliable: a nominal 95% interval, an arm given to
#: half of 1,000 rows and bought at 30%, covered 36% of simulated values with 3 matched rows
#: (about 1 purchase), 77% with 10 (3), 91% with 30 (9) and 94.5% with 100 (1,500 simulations
#: each).
MIN_MATCHED_EVENTS = 5
#: Share of the rows an arm must be assigned to for a thin arm to warn (below it, its rows weigh
#: little in the value, e.g. the few customers a plan leaves without an offer).
THIN_ARM_SHARE = 0.05


def _check_assignment_against_received(
    match: np.ndarray, p: np.ndarray, assigned: np.ndarray, *, per_row: bool
) -> None:
    """Refuse ``assignment=t`` and question an assignment that looks read off the received arms.

    IPW and DR value a policy decided from what is known before the experiment: then each row
    gets its assigned arm with probability ``p``, and the matches number about ``sum(p)``. An
    assignment equal to the received arms on every row is refused (its "value" is the sum of the
    arms' mean rewards, not the experiment's); one that matches far more or less often than
    ``p`` allows warns, since it is either built from t (biased) or the design was not
    randomised row by row as stated (arms given by store or day, or not at random).
    """
    variance = float((p * (1 - p)).sum())
    if variance < MIN_MATCH_VARIANCE:  # a few rows can match by chance (and be valued so)
        return
    if match.all() and len(np.unique(assigned)) > 1:
        raise DataError(
            f"policy_value: the assignment is the arm each row received, on all {len(match):,} "
            "rows (assignment=t?). IPW and DR value a policy decided from the customers' "
            "features, had every row received its assigned arm; for what the experiment itself "
            "earned, take the mean of y."
        )
    expected = float(p.sum())
    z = (float(match.sum()) - expected) / np.sqrt(variance)
    if abs(z) <= MATCH_Z:
        return
    warn_user(
        f"policy_value: the assignment gives {int(match.sum()):,} rows the arm they received, "
        f"where a policy decided without seeing the received arm would match about "
        f"{expected:,.0f} of them ({z:+.0f} standard deviations) if each row's arm had been drawn "
        "with the stated propensities. If the assignment is built from t (an arm kept for some "
        "of the rows that received it), the value is biased: value a policy decided from the "
        "customers' features. If the arms were given to whole stores, regions or days, the "
        "estimate stands but its interval is too narrow (it treats rows as independent)."
        + (
            " If the arms were not given at random, the default propensities (the arm shares) "
            "do not apply: pass each row's propensity (a DataFrame, one column per arm)."
            if not per_row
            else " If the arms were not given at random, the propensities passed may not "
            "describe how they were given."
        ),
        DataQualityWarning,
    )


def _warn_if_thin_arms(
    labels: np.ndarray, assigned: np.ndarray, match: np.ndarray, y: np.ndarray
) -> None:
    """DataQualityWarning for an arm the policy gives to many rows (:data:`THIN_ARM_SHARE`) whose
    value rests on a handful of matched rows (:data:`MIN_MATCHED_EVENTS`): their spread (often
    none) is all the standard error sees of that arm, so the interval is far too narrow."""
    notes = []
    for arm in np.unique(assigned):
        given = assigned == arm
        if given.sum() < THIN_ARM_SHARE * len(assigned):
            continue
        rewards = y[given & (match > 0)]
        _, counts = np.unique(rewards, return_counts=True)
        # rows whose reward differs from the most common one: purchases, non-zero spends
        events = len(rewards) - (int(counts.max()) if len(counts) else 0)
        if events >= MIN_MATCHED_EVENTS:
            continue
        notes.append(
            f"{arm!r}: assigned to {int(given.sum()):,} rows, {len(rewards):,} of which received "
            f"it ({events:,} of them with a reward other than the most common one; "
            f"{int((labels == arm).sum()):,} rows received it in all)"
        )
    if not notes:
        return
    warn_user(
        "policy_value: "
        + "; ".join(notes)
        + f". With fewer than {MIN_MATCHED_EVENTS} such events (purchases, non-zero spends) an "
        "arm's part of the value rests on a handful of rows and the interval is too narrow (a "
        "nominal 95% interval covered 36% of simulated values with 1 purchase among the matched "
        "rows, 77% with 3); a bootstrap does not help. Evaluate on more rows of that arm, or read "
        "the value as a rough figure.",
        DataQualityWarning,
    )


def _warn_if_weights_explode(p: np.ndarray, assigned: np.ndarray) -> None:
    """PoorOverlapWarning when the policy gives rows an arm they had almost no chance of.

    Such rows carry weights of 1 / p: a handful of them decide the value, and the normal interval
    undercovers badly (47% of 400 simulations with P(arm) = 0.001 on a fifth of the rows). The
    limit per arm is that of ``UpliftModel``'s overlap check.
    """
    from loyalty_ml.models._uplift_propensity import OVERLAP_THRESHOLD, PoorOverlapWarning

    arms, code = np.unique(assigned, return_inverse=True)
    share = (np.bincount(code, weights=p) / np.bincount(code))[code]
    limit = np.minimum(min(OVERLAP_THRESHOLD, 0.2 / max(len(arms), 1)), share / 5)
    poor = p < limit
    if poor.mean() > 0.01:
        counts = pd.Series(assigned[poor]).value_counts()
        weight = 1.0 / p
        effective = weight.sum() ** 2 / (weight**2).sum()
        warn_user(
            f"policy_value: the policy gives {int(poor.sum()):,} rows ({poor.mean():.1%}) an arm "
            f"they had almost no chance of receiving (propensity below {limit.min():.3g}; by arm "
            f"{format_examples(list(counts.items()), total=len(counts))}); their weights reach "
            f"{weight.max():,.0f} and the effective sample is {effective:,.0f} of {len(p):,} rows, "
            "so a few rows decide the value and its interval is too narrow. Evaluate policies "
            "that stay where each arm was given, or collect randomised data.",
            PoorOverlapWarning,
        )


def _propensity_of_assigned(
    labels: np.ndarray,
    assigned: np.ndarray,
    propensity: pd.Series | pd.DataFrame | None,
    arms: list[str],
) -> np.ndarray:
    if propensity is None:
        shares = pd.Series(labels).value_counts(normalize=True)
        return shares.reindex(assigned).to_numpy(dtype=np.float64)
    if isinstance(propensity, pd.Series):
        named = arm_labelled(propensity, name="propensity", where="policy_value")
        given = as_float_array(named, name="propensity", where="policy_value")
        shares = pd.Series(given, index=named.index)
        total = float(shares.reindex(arms).sum())
        in_range = bool(((shares > 0) & (shares <= 1)).all())  # else refused below, by arm
        complete = set(arms) <= set(shares.index)
        # the arms given may leave some of t's out, but cannot take more than all the rows
        if in_range and (abs(total - 1.0) > 0.01 + 1e-9 if complete else total > 1.01 + 1e-9):
            raise DataError(
                f"policy_value: the propensity shares of the arms in t sum to {total:.4g} "
                f"({format_examples(list(shares.reindex(arms).round(4).items()))}); each is "
                "P(arm) in a randomised design, so together they make 1. Pass the design's "
                "shares, e.g. pd.Series({'control': 0.5, 'offer_a': 0.5})."
            )
        p = shares.reindex(assigned).to_numpy()
    else:
        frame = arm_labelled(propensity, name="propensity", where="policy_value")
        missing = [a for a in set(assigned) if a not in frame.columns]
        if missing:
            raise DataError(
                f"policy_value: propensity lacks arms {format_examples(sorted(missing))}."
            )
        values = _float_columns(frame, name="propensity", where="policy_value")
        of_arms = values[:, np.isin(frame.columns, arms)]  # other columns are not arms of t
        over = np.flatnonzero(np.nansum(of_arms, axis=1) > 1.0 + 1e-6)
        if over.size:
            named = [c for c in frame.columns if c in set(arms)]
            raise DataError(
                f"policy_value: the per-row propensities of the arms {format_examples(named)} "
                f"sum to more than 1 on {over.size:,} row(s) (positions "
                f"{format_examples(over.tolist(), total=over.size)}, e.g. "
                f"{float(np.nansum(of_arms[over[0]])):.4g}); each row holds P(arm | x) for every "
                "arm, which together make 1."
            )
        if set(arms) <= set(frame.columns):
            # every arm of t has its column: together they make 1 on each row (0.3 would weigh
            # every reward three times over)
            sums = of_arms.sum(axis=1)
            under = np.flatnonzero(sums < 0.99 - 1e-9)  # NaN rows are refused below
            if under.size:
                raise DataError(
                    f"policy_value: the per-row propensities of every arm of t sum to less than "
                    f"1 on {under.size:,} row(s) (positions "
                    f"{format_examples(under.tolist(), total=under.size)}, e.g. "
                    f"{float(sums[under[0]]):.4g}); each row holds P(arm | x) for every arm, "
                    "which together make 1."
                )
        p = values[np.arange(len(assigned)), frame.columns.get_indexer(pd.Index(assigned))]
    bad = ~((p > 0) & (p <= 1))  # NaN too
    if bad.any():
        raise DataError(
            "policy_value: every assigned arm needs a propensity > 0 (an arm nobody could receive "
            "cannot be evaluated) and <= 1; arms "
            f"{format_examples(sorted(set(assigned[bad])))} have "
            f"{format_examples(pd.unique(p[bad]).tolist())} at {int(bad.sum())} row(s)."
        )
    return p


def _float_columns(frame: pd.DataFrame, *, name: str, where: str) -> np.ndarray:
    """``frame`` as a float64 (rows, columns) array; text is refused naming the column."""
    if frame.shape[1] == 0:
        return np.zeros((len(frame), 0))
    return np.column_stack(
        [as_float_array(frame[c], name=f"{name}[{c!r}]", where=where) for c in frame.columns]
    )
