"""The rows ``UpliftModel`` reads: per-row inputs aligned with ``X`` and checked, arm labels as
text, each arm's mean outcome, bootstrap samples, and the warnings about the design (an arm that
differs from the control before the treatment, one row that carries an arm's outcome)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    DataError,
    DataQualityWarning,
    LeakageError,
    format_examples,
    format_ids,
)
from loyalty_ml.models._uplift_balance import imbalances

__all__ = [
    "FEW_EVENTS",
    "aligned_values",
    "arm_means",
    "as_float",
    "balance_checked_by_caller",
    "label_text",
    "label_texts",
    "rate_spread",
    "refuse_outcome_as_feature",
    "stratified_resample",
    "warn_if_an_arm_has_few_events",
    "warn_if_not_randomised",
    "warn_if_one_row_dominates",
]

_OWNER = "UpliftModel"

#: Fewer purchases than this in an arm (or fewer rows without one) and ``fit`` warns.
FEW_EVENTS = 10


#: False while a caller that has run the balance check itself fits (see balance_checked_by_caller).
_CHECK_BALANCE: ContextVar[bool] = ContextVar("uplift_check_balance", default=True)


@contextlib.contextmanager
def balance_checked_by_caller() -> Iterator[None]:
    """Skip :func:`warn_if_not_randomised` in the fits within: the caller has compared the arms
    with the control rows and warned in its own words (``train_and_register``'s offer model, which
    silenced the fits' warning and so threw their checks away: 2 of its 3 rank comparisons of
    every feature, 4 s of its 219 s on 100,000 simulated customers)."""
    token = _CHECK_BALANCE.set(False)
    try:
        yield
    finally:
        _CHECK_BALANCE.reset(token)


def warn_if_not_randomised(
    X: pd.DataFrame, arms: np.ndarray, control: str, groups: np.ndarray | None
) -> None:
    """Warn when ``propensity=None`` reads as randomised an experiment whose arms differ from the
    control on a feature by more than chance allows (see :mod:`._uplift_balance`); nothing within
    :func:`balance_checked_by_caller`."""
    if not _CHECK_BALANCE.get():
        return
    codes = labels = None
    if groups is not None:
        codes, labels = pd.factorize(pd.Series(groups), use_na_sentinel=False)
    found = imbalances(X, arms, control, codes)
    if not found:
        return
    examples = [
        f"{f.arm!r} vs control on {f.feature!r}"
        + ("" if labels is None else f" in group {labels[f.group]!r}")
        + f": {f.detail}"
        for f in found[:3]
    ]
    warn_user(
        f"{_OWNER}.fit: {len(found)} arm(s) differ from the control rows before the treatment by "
        f"more than chance allows ({'; '.join(examples)}; an AUC of 0.50 and equal shares when "
        "randomised), but "
        "propensity=None reads the rows as a randomised experiment (the arm shares as "
        "propensities), so the effects would mix the treatment with who was chosen for it. Pass "
        "propensity='estimate' for targeted (observational) data, or the design's per-row "
        "propensities; and leave out features measured after the treatment.",
        DataQualityWarning,
    )


def aligned_values(
    X: pd.DataFrame, values: pd.Series | np.ndarray, name: str, method: str = "fit"
) -> np.ndarray:
    """``values`` as a 1-D array aligned with ``X``; a Series must carry ``X``'s index."""
    if isinstance(values, pd.Series):
        if len(values) != len(X) or not values.index.equals(X.index):
            differ = (
                np.asarray(values.index, dtype=object) != np.asarray(X.index, dtype=object)
                if len(values) == len(X)
                else np.zeros(0, dtype=bool)
            )
            where = (
                f"; first differing labels "
                f"{format_ids(values.index[differ].tolist(), limit=3)} vs "
                f"{format_ids(X.index[differ].tolist(), limit=3)}"
                if differ.any()
                else ""
            )
            raise DataError(
                f"{_OWNER}.{method}: {name} is a Series whose index does not match X's index "
                f"({len(values)} vs {len(X)} rows{where}). Align it first (e.g. "
                f"{name}.loc[X.index]) or pass a plain array in X's row order."
            )
        return values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != len(X):
        raise DataError(
            f"{_OWNER}.{method}: {name} must be 1-D with one value per row of X ({len(X)}); got shape "
            f"{array.shape}."
        )
    return array


def as_float(values: np.ndarray, name: str, method: str = "fit") -> np.ndarray:
    """``values`` as float64 (missing = NaN); text that is not a number is an error naming it."""
    values = np.asarray(values)
    if values.dtype.kind in "US":  # NumPy text ("<U1") cannot hold the NaN below
        values = values.astype(object)
    missing = np.asarray(pd.isna(values), dtype=bool)
    try:
        return np.where(missing, np.nan, values).astype(np.float64)
    except (TypeError, ValueError):
        bad = []
        for value in pd.unique(pd.Series(values[~missing], dtype=object)):
            try:
                float(value)
            except (TypeError, ValueError):
                bad.append(value)
        kind = "numbers (0/1 or booleans for a binary outcome)" if name == "y" else "numbers"
        amounts = any(any(ch.isdigit() for ch in str(v)) for v in bad)
        fix = (
            f"Parse the amounts first, e.g. pd.to_numeric({name}.str.replace(r'[^0-9.-]', '', "
            "regex=True)) (mind decimal commas)."
            if amounts
            else f"Map them to numbers first, e.g. {name}.map({{'no': 0, 'yes': 1}})."
        )
        raise DataError(
            f"{_OWNER}.{method}: {name} must be {kind}; got {format_examples(bad, total=len(bad))}. "
            f"{fix}"
        ) from None


#: A continuous outcome where one row holds more than this share of its arm's total |y| warns.
_DOMINANT_ROW_SHARE = 0.25

#: ... on arms of at least this many rows (in a tiny arm every row is a big share).
_DOMINANT_ROW_MIN_ROWS = 20

#: ... and below this many non-zero outcomes in the arm it advises a binary outcome, not a cap.
_DOMINANT_ROW_FEW_NONZERO = 50


def warn_if_one_row_dominates(
    y: np.ndarray, weight: np.ndarray, arm_code: np.ndarray, names: tuple[str, ...], index: pd.Index
) -> None:
    """Warn when one customer carries a large share of an arm's total spend or margin.

    The mean effect of a continuous outcome is a difference of means, so a single whale (a data
    error, a business account, a one-off bulk order) moves it on its own, and the trees give the
    whale's neighbours its value.
    """
    mass = np.abs(y) * weight
    for code, arm in enumerate(names):
        rows = np.flatnonzero((arm_code == code) & (weight > 0))
        total = mass[rows].sum()
        if rows.size < _DOMINANT_ROW_MIN_ROWS or not total > 0:
            continue
        top = rows[np.argmax(mass[rows])]
        share = mass[top] / total
        if share > _DOMINANT_ROW_SHARE:
            nonzero = int(np.count_nonzero(mass[rows]))
            if nonzero < _DOMINANT_ROW_FEW_NONZERO:
                # a cap cannot help: even equal values leave each of n rows 1/n of the total
                fix = (
                    f"Only {nonzero} of the arm's rows have a non-zero y, so its mean rests on a "
                    "handful of customers and no cap fixes that: fit the binary outcome "
                    "(y > 0, bought or not) instead, or use a larger experiment."
                )
            else:
                fix = (
                    "Check it (a data error, a business account, a bulk order?), or cap the "
                    "outcome before fitting, e.g. y.clip(upper=y.quantile(0.999))."
                )
            warn_user(
                f"{_OWNER}.fit: one row of arm {arm!r} (customer "
                f"{format_ids([index[top]], limit=1)}, y = {y[top]:.6g}) holds {share:.0%} of the "
                f"arm's total |y| over {rows.size} rows, so it alone moves the arm's mean effect "
                f"and its neighbours' effects. {fix}",
                DataQualityWarning,
            )


def refuse_outcome_as_feature(
    matrix: np.ndarray, y: np.ndarray, names: tuple[str, ...], *, binary: bool
) -> None:
    """LeakageError when a feature column is the outcome on every row (or, for a 0/1 outcome, its
    complement): a target left in a wide feature table. The learners would read the outcome, not
    the customer, and every effect would be the same constant."""
    if len(y) < 2 or not np.ptp(y) > 0:
        return
    # the matrix holds float32-rounded values (FeatureEncoding.transform)
    target = y.astype(np.float32).astype(np.float64)
    copies = [target, 1.0 - target] if binary else [target]
    head = min(len(y), 64)  # columns that agree on the first rows, then on all (0.7 s -> ms)
    candidates = np.flatnonzero(
        np.any([(matrix[:head] == copy[:head, None]).all(axis=0) for copy in copies], axis=0)
    )
    found = [
        names[j] for j in candidates if any(np.array_equal(matrix[:, j], copy) for copy in copies)
    ]
    if found:
        raise LeakageError(
            f"{_OWNER}.fit: feature column {found[0]!r} of X equals the outcome y on every row"
            + (" (or 1 - y)" if binary else "")
            + (f"; so do {format_examples(found[1:])}" if len(found) > 1 else "")
            + ": the target is still in the feature table, and a model that reads the outcome "
            "learns no effect. Drop it before fitting: X.drop(columns="
            f"{found!r})."
        )


def warn_if_an_arm_has_few_events(
    y: np.ndarray, arm_code: np.ndarray, names: tuple[str, ...]
) -> None:
    """Warn when an arm's 0/1 outcome has fewer than :data:`FEW_EVENTS` purchases (or fewer rows
    without one).

    The model still fits, but such an arm's effects rest on a handful of events: its rate's
    standard error is about the rate itself, an arm without a purchase gets an effect of about
    minus the baseline (its noise priced as half an event, :func:`rate_spread`), and a control arm
    with few purchases makes every offer's effect as noisy as its own level.
    """
    rows = np.bincount(arm_code, minlength=len(names))
    events = np.bincount(arm_code, weights=(y > 0).astype(np.float64), minlength=len(names))
    few = [
        (str(name), int(n), int(k))
        for name, n, k in zip(names, rows, events, strict=True)
        if min(k, n - k) < FEW_EVENTS
    ]
    if not few:
        return
    described = format_examples(
        [f"{name} ({n} rows, {k} purchases)" for name, n, k in few], total=len(few)
    )
    warn_user(
        f"{_OWNER}.fit: arm(s) {described} have fewer than {FEW_EVENTS} purchases (or fewer than "
        f"{FEW_EVENTS} rows without one), so their effects rest on a handful of events: an arm "
        "without a purchase gets an effect of about minus the baseline, and a control arm with "
        "few makes every offer's effect as noisy as its level. Use a longer response window, an "
        "outcome that happens more often, or more rows in those arms; or drop them.",
        DataQualityWarning,
    )


def label_text(value: object) -> str:
    """An arm label as text: ``0``, ``0.0`` and ``np.int64(0)`` are all ``"0"``, and surrounding
    blanks go (``"mens_email "`` is ``"mens_email"``), like offer ids in the catalog and campaigns."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def label_texts(values: np.ndarray) -> np.ndarray:
    """:func:`label_text` of every value (object array), vectorised for numeric arrays."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(str).astype(object)
    if (
        values.dtype.kind == "f"
        and np.isfinite(values).all()
        and (values == np.floor(values)).all()
    ):
        return values.astype(np.int64).astype(str).astype(object)
    return np.asarray([label_text(v) for v in values.ravel()], dtype=object)


def arm_means(
    arm: np.ndarray, y: np.ndarray, weight: np.ndarray, n_arms: int, *, binary: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean outcome of each arm and its standard error (weighted standard deviation over
    the square root of Kish's effective number of rows; for a 0/1 outcome that never varies in an
    arm, see :func:`rate_spread`)."""
    total = np.maximum(np.bincount(arm, weights=weight, minlength=n_arms), 1e-12)
    mean = np.bincount(arm, weights=weight * y, minlength=n_arms) / total
    spread = np.bincount(arm, weights=weight * (y - mean[arm]) ** 2, minlength=n_arms) / total
    effective = total**2 / np.maximum(np.bincount(arm, weights=weight**2, minlength=n_arms), 1e-12)
    spread = rate_spread(spread, effective, binary=binary)
    return mean, np.sqrt(spread / np.maximum(effective, 1.0))


def rate_spread(spread: np.ndarray, effective: np.ndarray, *, binary: bool) -> np.ndarray:
    """Each arm's spread of the outcome, where a 0/1 outcome that never varies gets a floor.

    An arm with no purchase in n rows (or only purchases) has a sample spread of 0, which would
    make its rate exact; n rows without an event only say the rate is below about 1/n. Such an arm
    gets the spread of a rate of p = 0.5 / (n + 1), half an event (the posterior mean under
    Jeffreys' prior), so the standard error of its rate is about 0.7 / n. Arms whose outcome
    varies, and continuous outcomes, keep their own spread.

    Examples
    --------
    >>> rate_spread(np.array([0.0, 0.09]), np.array([99.0, 100.0]), binary=True).round(6)
    array([0.004975, 0.09    ])
    """
    if not binary:
        return spread
    rate = 0.5 / (np.maximum(effective, 1.0) + 1.0)
    return np.where(spread > 0, spread, rate * (1.0 - rate))


def stratified_resample(
    arm: np.ndarray, rng: np.random.RandomState, *, keys: np.ndarray | None = None
) -> np.ndarray:
    """Row positions of a bootstrap sample that keeps every arm's row count.

    With ``keys`` (a number per arm code from the arm's rows), each arm draws from its own
    stream, seeded by one draw of ``rng`` and its key: renaming arms does not redraw their rows.
    """
    if keys is None:
        parts = [
            rng.choice(np.flatnonzero(arm == k), size=int((arm == k).sum())) for k in np.unique(arm)
        ]
    else:
        base = int(rng.randint(2**31 - 1))
        parts = []
        for k in np.unique(arm):
            stream = np.random.RandomState((base + int(keys[k])) % (2**32 - 1))
            rows = np.flatnonzero(arm == k)
            parts.append(stream.choice(rows, size=len(rows)))
    return np.sort(np.concatenate(parts))
