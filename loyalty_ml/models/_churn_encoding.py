"""Inputs of the churn model: a feature frame in, the matrix LightGBM trains on out; labels to 0/1.

LightGBM handles categories natively when they arrive as non-negative integer codes. The levels of each
``category`` column are frozen at fit, so the same level always gets the same code; a level unseen at fit
(or a missing value) becomes NaN, which LightGBM reads as "missing", never as a shifted code.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    DataError,
    DataQualityWarning,
    SchemaError,
    format_examples,
    format_ids,
)
from loyalty_ml.features.campaign import missing_campaign_hint
from loyalty_ml.models._uplift_encoding import (
    rare_for_unseen,
    refuse_level_type_change,
    warn_pooled_elsewhere,
    warn_spelt_apart,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._ids import refuse_id_columns

__all__ = [
    "cutoff_index",
    "encode_fit_features",
    "encode_predict_features",
    "encode_target",
    "encode_weight",
    "monotone_constraints",
    "typical_values",
]

# Directions that hold in every retailer: a longer gap never lowers churn risk, more recent
# orders never raise it. Constraining them keeps small-data models sensible.
_RISING = re.compile(r"recency_days|days_overdue|overdue_ratio")
_FALLING = re.compile(r"n_orders|n_orders_\d+d")
# Medians for reason codes are taken on at most about this many rows.
_TYPICAL_SAMPLE_ROWS = 100_000


def _is_supported(column: pd.Series) -> bool:
    """Whether ``column`` is numeric, boolean or pandas ``category`` (what the booster accepts)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_complex_dtype(dtype):
        return False  # a + bj has no order for a tree to split on
    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def monotone_constraints(names: Sequence[str], *, monotone: bool) -> list[int]:
    """LightGBM monotone constraints of the features ``names``.

    Parameters
    ----------
    names : sequence of str
        Feature names in matrix column order.
    monotone : bool
        Whether to constrain at all; ``False`` leaves every feature free.

    Returns
    -------
    list of int
        +1: risk may only rise with the feature (``_RISING``); -1: only fall (``_FALLING``);
        0: free.

    Examples
    --------
    >>> monotone_constraints(["recency_days", "n_orders_90d", "spend"], monotone=True)
    [1, -1, 0]
    """
    if not monotone:
        return [0] * len(names)
    return [1 if _RISING.fullmatch(n) else -1 if _FALLING.fullmatch(n) else 0 for n in names]


def _frozen_codes(values: pd.Series, categories: pd.Index) -> np.ndarray:
    """Codes of ``values`` in the fitted ``categories``; -1 for missing or unseen levels.

    Examples
    --------
    >>> _frozen_codes(pd.Series(["b", "z", None]), pd.Index(["a", "b"])).tolist()
    [1, -1, -1]
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = np.append(categories.get_indexer(values.cat.categories), -1)
        # code -1 (missing) indexes the appended -1
        codes = np.asarray(lookup[values.cat.codes.to_numpy()])
    else:
        codes = np.asarray(categories.get_indexer(pd.Index(values)))
    return rare_for_unseen(codes, values, categories)


def _encode_frame(frame: pd.DataFrame, categories: dict[str, pd.Index]) -> np.ndarray:
    """Encode ``frame`` as a float32 matrix, re-coding categorical columns against frozen levels.

    Parameters
    ----------
    frame : DataFrame
        Feature columns in matrix order.
    categories : dict of str to Index
        Frozen levels of each categorical column; other columns are read as numbers.

    Returns
    -------
    ndarray of shape (n_rows, n_columns), float32
        Category codes (NaN for missing or unseen levels) and numeric values (NaN for missing).

    Examples
    --------
    >>> frame = pd.DataFrame({"n": [1, 2], "store": pd.Categorical(["b", "q"])})
    >>> _encode_frame(frame, {"store": pd.Index(["a", "b"])}).tolist()
    [[1.0, 1.0], [2.0, nan]]
    """
    # float32 halves the memory of big tables; LightGBM bins the values anyway
    out = np.empty(frame.shape, dtype=np.float32)
    for j, column in enumerate(frame.columns):
        values = frame.iloc[:, j]
        if column in categories:
            codes = _frozen_codes(values, categories[column])
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            with np.errstate(over="ignore"):  # beyond float32's 3.4e38: +-inf, still the extremes
                out[:, j] = values.to_numpy(dtype=np.float32, na_value=np.nan)
    return out


def text_columns(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with its column names as text (feature names are text: ``0`` is feature ``"0"``).

    A frame whose names are text already is returned as it is.
    """
    if all(isinstance(c, str) for c in X.columns):
        return X
    return X.set_axis([str(c) for c in X.columns], axis=1)


def _check_fit_frame(X: pd.DataFrame) -> tuple[np.ndarray, dict[str, pd.Index]]:
    """Check the columns of a training frame; return its feature names and frozen category levels.

    Raises
    ------
    SchemaError
        If ``X`` has no columns, a customer id column, duplicated columns, or columns that are
        not numeric, boolean or ``category`` (the message lists them with their dtypes).
    """
    if X.shape[1] == 0:
        raise SchemaError("ChurnModel.fit: X has no feature columns.", table="features")
    refuse_id_columns(X.columns, owner="ChurnModel.fit")
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
    names = np.asarray([str(c) for c in X.columns], dtype=object)
    categories = {
        str(c): X[c].cat.categories
        for c in X.columns
        if isinstance(X[c].dtype, pd.CategoricalDtype)
    }
    return names, categories


def encode_fit_features(X: Any) -> tuple[np.ndarray, np.ndarray | None, dict[str, pd.Index]]:
    """Validate training features and encode them as the matrix the booster trains on.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_rows, n_features)
        Features; numeric, boolean or pandas ``category`` columns.

    Returns
    -------
    matrix : ndarray of shape (n_rows, n_features)
        The encoded features (float32 from a DataFrame, float64 from an array).
    feature_names : ndarray of str or None
        Column names of a DataFrame; ``None`` for an array.
    categories : dict of str to Index
        Frozen levels of each categorical column (empty for an array).

    Raises
    ------
    SchemaError
        If a DataFrame has no, duplicated or unsupported columns.
    DataError
        If there are fewer than 2 rows, or a column is NaN in every row.

    Examples
    --------
    >>> X = pd.DataFrame({"n_orders": [1, 3], "store": pd.Categorical(["a", "b"])})
    >>> matrix, names, categories = encode_fit_features(X)
    >>> matrix.tolist(), names.tolist(), list(categories["store"])
    ([[1.0, 0.0], [3.0, 1.0]], ['n_orders', 'store'], ['a', 'b'])
    """
    feature_names: np.ndarray | None = None
    categories: dict[str, pd.Index] = {}
    if isinstance(X, pd.DataFrame):
        X = text_columns(X)
        feature_names, categories = _check_fit_frame(X)
        matrix = _encode_frame(X, categories)
    else:
        try:
            matrix = check_array(
                X, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=2
            )
        except ValueError as exc:  # a TypeError (an object cell) stays scikit-learn's own
            raise SchemaError(
                f"ChurnModel.fit: X cannot be read as a table of numbers ({exc}). Pass a "
                "DataFrame of features (e.g. from build_features) or a 2-D numpy array with a "
                "row per customer.",
                table="features",
            ) from None
    if matrix.shape[0] < 2:
        raise DataError(f"ChurnModel.fit needs at least 2 rows; got {matrix.shape[0]}.")
    empty = np.flatnonzero(np.isnan(matrix).all(axis=0))
    if empty.size:
        names = (
            feature_names
            if feature_names is not None
            else np.asarray([f"x{i}" for i in range(matrix.shape[1])], dtype=object)
        )
        trend = [n for n in names[empty].tolist() if "trend" in str(n)]
        warn_user(
            f"ChurnModel.fit: columns {format_examples(names[empty].tolist(), total=empty.size)} "
            "are NaN in every row, so no tree can split on them (they are kept, so predict takes "
            "the same columns, and never move a score or a reason code)."
            + (
                f" Of the trends ({', '.join(map(str, trend))}): aov_trend needs a customer's "
                "orders in both trend windows (the trend_window_days before the cutoff and the "
                "ones before those), so it is NaN everywhere when the history before every cutoff "
                "is shorter than one trend window (use later cutoffs or a shorter "
                "FeatureConfig(trend_window_days=...)); freq_trend and spend_trend need an order "
                "in either window, so they are NaN only for customers quiet for both."
                if trend
                else " Drop them, or check the feature build."
            ),
            DataQualityWarning,
        )
    return matrix, feature_names, categories


def typical_values(
    matrix: np.ndarray, names: Sequence[str], categories: dict[str, pd.Index]
) -> dict[str, float]:
    """Median of each numeric feature (for the wording of reason codes).

    Medians (on at most about 100,000 rows) let reason codes say "low" or "high" against a typical
    customer; summary statistics, not training rows. Categorical and all-NaN columns are left out.
    """
    sample = matrix[:: max(1, matrix.shape[0] // _TYPICAL_SAMPLE_ROWS)]
    return {
        name: float(np.nanmedian(sample[:, j]))
        for j, name in enumerate(names)
        if name not in categories and not np.isnan(sample[:, j]).all()
    }


def encode_predict_features(
    X: Any,
    *,
    feature_names: np.ndarray | None,
    categories: dict[str, pd.Index],
    n_features: int,
) -> np.ndarray:
    """Validate predict-time ``X`` and encode it as the matrix the booster was trained on.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_rows, n_features)
        Features; a DataFrame may carry extra columns, which are ignored.
    feature_names : ndarray of str or None
        Feature names seen at fit, or ``None`` when the model was fitted on an array.
    categories : dict of str to Index
        Frozen levels of each categorical feature.
    n_features : int
        Number of features seen at fit.

    Returns
    -------
    ndarray of shape (n_rows, n_features)
        The encoded matrix.

    Raises
    ------
    SchemaError
        If fitted feature columns are missing, have an unsupported dtype, or the number of columns
        of an array differs from the fit.
    """
    if isinstance(X, pd.DataFrame) and feature_names is not None:
        names = [str(c) for c in X.columns]
        missing = [c for c in feature_names if c not in names]
        if missing:
            raise SchemaError(
                f"ChurnModel: X lacks feature columns {format_examples(missing, total=len(missing))} that the "
                f"model was fitted with; X has {format_examples(names, total=len(names))}. Build features "
                "with the same feature configuration as at training."
                + missing_campaign_hint(missing),
                table="features",
                column=missing[0],
            )
        frame = X.set_axis(names, axis=1)[list(feature_names)]
        bad = [c for c in frame.columns if not _is_supported(frame[c]) and c not in categories]
        if bad:
            raise SchemaError(
                f"ChurnModel: columns {format_examples(bad)} are not numeric, boolean or category.",
                table="features",
                column=bad[0],
            )
        for name, levels in categories.items():
            # the levels' text read back as numbers, or the reverse: all rows "unseen" in silence
            refuse_level_type_change(frame[name], levels.tolist(), name, owner="ChurnModel")
            warn_pooled_elsewhere(frame[name], levels.tolist(), name, owner="ChurnModel")
            warn_spelt_apart(frame[name], levels.tolist(), name, owner="ChurnModel")
        return _encode_frame(frame, categories)
    if isinstance(X, pd.DataFrame):
        warn_user(
            "X has feature names, but ChurnModel was fitted without feature names",
            UserWarning,
        )
    elif feature_names is not None:
        warn_user(
            "X does not have valid feature names, but ChurnModel was fitted with feature names",
            UserWarning,
        )
    try:
        matrix = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")
    except ValueError as exc:
        text = (
            f" The model has categorical features {format_examples(sorted(categories))}, which an "
            "array of numbers cannot carry: pass the DataFrame build_features returns."
            if categories
            else ""
        )
        raise SchemaError(
            f"ChurnModel: X cannot be read as numbers ({exc}).{text}", table="features"
        ) from None
    if matrix.shape[1] != n_features:
        raise SchemaError(
            f"X has {matrix.shape[1]} features, but ChurnModel is expecting {n_features} features as input.",
            table="features",
        )
    return matrix


def _refuse_misaligned(values: Any, name: str, *, index: pd.Index | None, n_rows: int) -> None:
    """DataError when ``values`` is a Series whose index is not X's (``index``)."""
    if (
        isinstance(values, pd.Series)
        and index is not None
        and (len(values) != n_rows or not values.index.equals(index))
    ):
        raise DataError(
            f"ChurnModel.fit: {name} (length {len(values)}) is not aligned with X (length "
            f"{n_rows}): their indexes differ. Pass {name} with X's index, e.g. "
            f"{name}.loc[X.index], or as a plain array in X's row order."
        )


def encode_weight(sample_weight: Any, *, index: pd.Index | None, n_rows: int) -> np.ndarray:
    """Validate ``ChurnModel.fit``'s ``sample_weight`` and scale it to a mean of 1.

    The scale carries no information (weights of 2 and 1 mean what weights of 20 and 10 do), so it
    is removed: the model fitted on ``3 * w`` is the model fitted on ``w``, and the smoothing of
    rates and calibrators (one pseudo-row) stays one row's worth.

    Parameters
    ----------
    sample_weight : Series or array-like of shape (n_rows,)
        Non-negative, finite weights, not all 0; a Series must share ``X``'s index when ``index``
        is given.
    index, n_rows
        As for :func:`encode_target`.

    Returns
    -------
    ndarray of shape (n_rows,), float64
        The weights divided by their mean.

    Raises
    ------
    DataError
        If the weights are misaligned, not numbers, missing, infinite, negative or all 0.

    Examples
    --------
    >>> encode_weight([1, 3], index=None, n_rows=2).tolist()
    [0.5, 1.5]
    """
    where = "ChurnModel.fit: sample_weight"
    _refuse_misaligned(sample_weight, "sample_weight", index=index, n_rows=n_rows)
    values: np.ndarray
    if isinstance(sample_weight, pd.Series | pd.DataFrame):
        values = sample_weight.to_numpy(dtype=object, na_value=np.nan)
    else:
        values = np.asarray(sample_weight, dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise DataError(f"{where} has shape {values.shape}; expected ({n_rows},) to match X.")
    flat = pd.Series(values, dtype=object)
    weight = pd.to_numeric(flat, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text = np.isnan(weight) & flat.notna().to_numpy()
    if text.any():
        raise DataError(
            f"{where} must hold numbers; {int(text.sum())} value(s) are not, e.g. "
            f"{format_examples(flat[text].unique().tolist())}. Convert it with pd.to_numeric first."
        )
    labels = np.arange(n_rows) if index is None else index
    for bad, what in (
        (~np.isfinite(weight), "missing or infinite"),
        (np.isfinite(weight) & (weight < 0), "negative"),
    ):
        if bad.any():
            rows = "rows" if index is None else "rows labelled"
            raise DataError(
                f"{where} has {int(bad.sum())} {what} value(s) ({rows} "
                f"{format_ids(list(labels[bad]), total=int(bad.sum()))}). Weights must be finite "
                "and >= 0: fill or drop those rows (a weight of 0 leaves a row out)."
            )
    total = float(weight.sum())
    if not total > 0:
        raise DataError(f"{where} is zero on every row; at least one row needs a positive weight.")
    return weight * (n_rows / total)


def encode_target(y: Any, *, index: pd.Index | None, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate the labels passed to ``ChurnModel.fit`` and encode them as 0/1.

    Parameters
    ----------
    y : Series or array-like of shape (n_rows,)
        Binary labels; a Series must share ``X``'s index when ``index`` is given.
    index : Index or None
        The index of ``X`` (``None`` when ``X`` was an array).
    n_rows : int
        Number of rows of ``X``.

    Returns
    -------
    classes : ndarray of shape (2,)
        The class labels, sorted (scikit-learn's convention: 0/1, False/True, ``"no"``/``"yes"``);
        ``classes[1]`` is the positive (churned) class.
    encoded : ndarray of shape (n_rows,), int64
        Position of each label in ``classes``.

    Raises
    ------
    DataError
        If ``y`` is missing, misaligned, has missing or infinite values, or does not hold exactly two
        classes; or if its text labels put a churn word first in sorted order
        (``"churned"``/``"kept"``, ``"gone"``/``"retained"``) or a retention word second, which
        scikit-learn would read as the positive class.

    Examples
    --------
    >>> classes, encoded = encode_target(["no", "yes", "no"], index=None, n_rows=3)
    >>> classes.tolist(), encoded.tolist()
    (['no', 'yes'], [0, 1, 0])
    """
    _refuse_misaligned(y, "y", index=index, n_rows=n_rows)
    if y is None:
        raise DataError("ChurnModel requires y to be passed, but the target y is None.")
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        warn_user(
            "A column-vector y was passed when a 1d array was expected; ravelling it.",
            DataConversionWarning,
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
    try:
        kind = type_of_target(values)
    except TypeError:  # labels of mixed kinds ("1" and 0) do not sort together
        kind = "mixed kinds of label (e.g. '1' and 0)"
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
    first, second = (_label_word(c) for c in classes.tolist())
    if first is True or second is False:
        # scikit-learn reads classes_ in sorted order and predict_proba(X)[:, 1] as the greater
        # label, as this library reads it as P(churn): labels whose churn word sorts first would
        # be read the other way round by one of the two, silently.
        churn, kept = classes.tolist()  # a churn word first, or a retention word second
        raise DataError(
            f"ChurnModel.fit: the labels {classes.tolist()!r} sort the retention label "
            f"{kept!r} after the churn label {churn!r}, so the model's second class (the one "
            "predict_proba(X)[:, 1] gives, and scikit-learn's scorers and CalibratedClassifierCV "
            f"read as positive) would be {kept!r}, not churn. Pass 0/1 labels (1 = churned), "
            f"e.g. y.eq({churn!r}).astype(int)."
        )
    return classes, encoded.astype(np.int64)


#: Text labels that say churn (True) or retention (False), compared lower-case and stripped.
_LABEL_WORDS = {
    **dict.fromkeys(("churned", "churn", "churner", "gone", "lost", "lapsed", "left"), True),
    **dict.fromkeys(("yes", "y", "true"), True),
    **dict.fromkeys(("kept", "retained", "retain", "active", "stayed", "loyal"), False),
    **dict.fromkeys(("no", "n", "false"), False),
}
#: Words that say churn or retention inside a label of several words ("Churned customer", the
#: "Attrited Customer" / "Existing Customer" of a bank's export); a negation turns them round
#: ("Not churned", "non-churner").
_CHURN_WORDS = frozenset(
    ("churned", "churn", "churner", "churners", "gone", "lost", "lapsed", "left", "attrited",
     "attrition", "exited", "cancelled", "canceled", "inactive", "dormant", "defected")
)  # fmt: skip
_KEPT_WORDS = frozenset(
    ("kept", "retained", "retain", "active", "stayed", "loyal", "existing", "current",
     "remained", "renewed", "continuing")
)  # fmt: skip
_NEGATIONS = frozenset(("not", "non", "never", "no"))


def _label_word(label: object) -> bool | None:
    """True for a churn label, False for a retention label, None for anything else.

    A label of one word is looked up as it is; one of several words says churn when it holds a
    churn word and no retention word (or the reverse), turned round by a negation.

    Examples
    --------
    >>> [_label_word(w) for w in ("Churned", "Attrited Customer", "Not churned", "non-churner")]
    [True, True, False, False]
    >>> [_label_word(w) for w in ("Existing Customer", "no", "segment A", 1)]
    [False, False, None, None]
    """
    if not isinstance(label, str):
        return None
    text = label.strip().lower()
    if text in _LABEL_WORDS:
        return _LABEL_WORDS[text]
    words = set(re.findall(r"[a-z]+", text))
    churn, kept = bool(words & _CHURN_WORDS), bool(words & _KEPT_WORDS)
    if churn == kept:
        return None
    return churn != bool(words & _NEGATIONS)


def cutoff_index(index: pd.Index | None) -> pd.Index | None:
    """``index`` with its ``as_of`` level as tz-naive datetime64, for the time-aware split.

    A training table saved to CSV and read back has text dates; a hand-made one may have zoned
    dates (read in UTC, as ``training_table`` does). Numbers are left as they are (taken as days).

    Raises
    ------
    SchemaError
        If the ``as_of`` level holds values that are not dates.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_tuples([("2024-01-01", 1)], names=["as_of", "customer_id"])
    >>> cutoff_index(idx).levels[0].tolist()
    [Timestamp('2024-01-01 00:00:00')]
    """
    if index is None or C.AS_OF not in (index.names or []):
        return index
    level = index.names.index(C.AS_OF)
    values = index.levels[level] if isinstance(index, pd.MultiIndex) else index
    if pd.api.types.is_numeric_dtype(values.dtype) or (
        pd.api.types.is_datetime64_dtype(values.dtype)
        and not isinstance(values.dtype, pd.DatetimeTZDtype)
    ):
        return index
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format": we say more
            dates = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).tz_localize(None)
    except (TypeError, ValueError):
        raise SchemaError(
            f"ChurnModel.fit: the {C.AS_OF!r} index level must hold the cutoff dates; got "
            f"{values.dtype} values such as {format_examples(values[:3].tolist())}. Convert it "
            "with pd.to_datetime, or rename the level if it is not a cutoff.",
            table="features",
        ) from None
    if isinstance(index, pd.MultiIndex):
        return index.set_levels(dates, level=level, verify_integrity=False)  # type: ignore[call-overload]
    return dates.rename(C.AS_OF)
