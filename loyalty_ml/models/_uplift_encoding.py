"""Frozen feature encoding for the uplift learners: a DataFrame in, a float64 matrix of
float32-rounded values out.

LightGBM handles categories natively when they arrive as non-negative integer codes and are named in
``categorical_feature``. The levels are frozen at fit so that the same text always maps to the same code;
a level unseen at fit (or a missing value) becomes NaN, which LightGBM reads as "missing", never as a
shifted code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, SchemaError, format_examples
from loyalty_ml.features.campaign import missing_campaign_hint
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import distinct_values
from loyalty_ml.schema._ids import refuse_id_columns

__all__ = [
    "FeatureEncoding",
    "refuse_level_type_change",
    "warn_pooled_elsewhere",
    "warn_spelt_apart",
]


#: What ``pd.api.types.infer_dtype`` reports for object columns holding numbers or booleans
#: ("empty": every value is missing).
_NUMBER_LIKE = frozenset(
    {"integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"}
)


#: A text column with more levels than this, all of them numbers, is probably amounts loaded as text.
_MANY_LEVELS = 50


def _kind(series: pd.Series) -> str:
    """``"category"`` (text, category), ``"number"`` (numeric, boolean), else pandas' inferred type.

    Object columns are judged by their non-missing values, so text with ``None``/``NaN``/``pd.NA``
    is text and ``True``/``False``/``None`` is boolean; text mixed with numbers
    (``"mixed-integer"``) is neither.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "string":
            return "category"
        return "number" if inferred in _NUMBER_LIKE else inferred
    if pd.api.types.is_string_dtype(dtype):
        return "category"
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa  # loaded already: the column is backed by it

        if pa.types.is_dictionary(dtype.pyarrow_dtype):  # pyarrow's category (read_parquet)
            return "category"
    if pd.api.types.is_complex_dtype(dtype):
        return str(dtype)  # a + bj has no order for a tree to split on
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return str(dtype)


@dataclass(frozen=True)
class FeatureEncoding:
    """Names, order and frozen category levels of the features an uplift model was fitted on.

    Attributes
    ----------
    feature_names : tuple of str
        Feature columns in the order of the matrix columns: sorted by name (models fitted before
        that keep X's order, which their transform still follows).
    categories : tuple of (str, tuple)
        ``(column, levels)`` for each categorical feature, in ``feature_names`` order.
    """

    feature_names: tuple[str, ...]
    categories: tuple[tuple[str, tuple[object, ...]], ...]

    @classmethod
    def fit(cls, X: pd.DataFrame, *, owner: str) -> FeatureEncoding:
        """Learn the columns (sorted by name) and category levels of ``X`` (numeric, boolean or
        categorical)."""
        refuse_id_columns(X.columns, owner=owner)
        names = tuple(str(c) for c in X.columns)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise SchemaError(f"{owner}: X has duplicate column names {format_examples(dup)}.")
        # The matrix holds the columns sorted by name: LightGBM samples columns and breaks equal
        # gains by position, so X's column order would otherwise change the model.
        order = sorted(range(len(names)), key=names.__getitem__)
        columns = [X.columns[i] for i in order]
        names = tuple(names[i] for i in order)
        kinds = {str(c): _kind(X[c]) for c in columns}
        unsupported = [(c, k) for c, k in kinds.items() if k not in ("category", "number")]
        if unsupported:
            raise SchemaError(
                f"{owner}: columns {format_examples(unsupported, total=len(unsupported))} "
                "(column, type) of X are not numeric, boolean, text or category. Convert them "
                "before fitting: datetimes to ages in days, a column mixing text and numbers to "
                "text with X[column].astype(str)."
            )
        categories = []
        for column in columns:
            if kinds[str(column)] == "category":
                series = X[column]
                if isinstance(series.dtype, pd.CategoricalDtype):
                    levels = tuple(series.cat.categories.tolist())
                else:
                    levels = tuple(sorted(series.dropna().unique().tolist()))
                    _warn_if_numbers_as_text(str(column), levels, owner=owner)
                categories.append((str(column), levels))
        return cls(feature_names=names, categories=tuple(categories))

    @property
    def categorical_positions(self) -> list[int]:
        """Matrix column positions of the categorical features (for ``categorical_feature``)."""
        return [self.feature_names.index(name) for name, _ in self.categories]

    def transform(self, X: pd.DataFrame, *, owner: str) -> np.ndarray:
        """Return the matrix of ``X`` in the fitted column order (extra columns ignored): float64
        holding float32-rounded values, so that last-bit noise never reaches LightGBM's bins.

        Columns are matched by name as text, so integer column names work. A category level
        unseen at fit becomes NaN ("missing" to LightGBM), or ``"(rare)"`` when the model's levels
        have it (features built with ``FeatureConfig.min_level_customers`` pool rare values there).

        Raises
        ------
        SchemaError
            If a fitted feature column is missing from ``X`` (the message lists them), a column
            fitted as numbers holds values that are not numbers, or one fitted as text holds
            numbers.
        """
        texts = [str(c) for c in X.columns]
        by_name = dict(zip(texts, X.columns, strict=True))
        wanted = set(self.feature_names)
        repeated = sorted({t for t in texts if t in wanted and texts.count(t) > 1})
        if repeated:
            # e.g. pd.concat([X, X[["spend"]]], axis=1), or both 1 and "1": which one is the feature?
            raise SchemaError(
                f"{owner}: X has more than one column named {format_examples(repeated)} (names "
                "are compared as text, so 1 and '1' are the same name); the model cannot tell "
                "which one is the feature it was fitted on. Keep one column per name.",
                column=repeated[0],
            )
        missing = [name for name in self.feature_names if name not in by_name]
        if missing:
            raise SchemaError(
                f"{owner}: X lacks feature columns {format_examples(missing, total=len(missing))} "
                f"that the model was fitted on; X has {format_examples(list(X.columns), limit=10)}. "
                "Build the features with the same configuration as at fit."
                + missing_campaign_hint(missing)
            )
        levels = dict(self.categories)
        matrix = np.empty((len(X), len(self.feature_names)), dtype=np.float64)
        for j, name in enumerate(self.feature_names):
            values = X[by_name[name]]
            if name in levels:
                matrix[:, j] = _category_codes(values, levels[name], name, owner=owner)
            else:
                matrix[:, j] = _numbers(values, name, owner=owner)
        # Rounded to float32, as the churn model's encoding is: ratios of money (margin over
        # amount) differ in their last float64 bit when every amount is in another currency, and
        # LightGBM's bin boundaries would pass that noise on to the trees.
        with np.errstate(over="ignore"):  # beyond float32's 3.4e38: +-inf, still the extremes
            return matrix.astype(np.float32).astype(np.float64)


def _warn_if_numbers_as_text(name: str, levels: tuple[object, ...], *, owner: str) -> None:
    """Warn when a text column's many levels all read as numbers, some with fractions.

    That is amounts or rates loaded as text: learned as a category with one level per value, their
    order is lost. Whole numbers are left alone, since codes (store ids, postcodes) are right as
    categories.
    """
    if len(levels) <= _MANY_LEVELS:
        return
    numbers = pd.to_numeric(pd.Series(levels, dtype=object), errors="coerce")
    # whole numbers are usually codes (store ids, postcodes); fractions are amounts or rates
    if numbers.notna().all() and (numbers % 1 != 0).any():
        warn_user(
            f"{owner}: text column {name!r} has {len(levels)} levels that all read as numbers "
            "with fractions "
            f"(e.g. {format_examples(levels, total=len(levels), limit=3)}), so it is learned as "
            f"a category and its order is lost. Convert amounts with pd.to_numeric(X[{name!r}]); "
            f"give codes the category dtype (X[{name!r}].astype('category')) to keep them as "
            "they are without this warning.",
            DataQualityWarning,
        )


def _category_codes(
    values: pd.Series, levels: tuple[object, ...], name: str, *, owner: str
) -> np.ndarray:
    """Codes of ``values`` among the fitted ``levels``; missing values are NaN, and so are unseen
    levels unless the levels hold ``"(rare)"``, which reads them (``rare_for_unseen``)."""
    refuse_level_type_change(values, levels, name, owner=owner)
    warn_pooled_elsewhere(values, levels, name, owner=owner)
    warn_spelt_apart(values, levels, name, owner=owner)
    # get_indexer maps unseen levels and missing values to -1 without pandas' warning.
    fitted = pd.Index(levels)
    codes = rare_for_unseen(fitted.get_indexer(pd.Index(values.astype(object))), values, fitted)
    column = codes.astype(np.float64)
    column[codes < 0] = np.nan
    return column


def rare_for_unseen(codes: np.ndarray, values: pd.Series, levels: pd.Index) -> np.ndarray:
    """``codes`` with each unseen value (code -1, not missing) read as the ``"(rare)"`` level when
    ``levels`` have it: features built with ``FeatureConfig.min_level_customers`` pool the values
    too rare to keep there, and a value the model has no level of its own for is one of them (or
    new, the closest level it has). A value that is a level once its surrounding blanks are
    stripped is that level, as pooling counted it. Without the rare level, unseen values stay -1
    (missing).

    Examples
    --------
    >>> levels = pd.Index(["gold", "(rare)"])
    >>> values = pd.Series(["gold", "tin", None, "gold "])
    >>> rare_for_unseen(np.array([0, -1, -1, -1]), values, levels).tolist()
    [0, 1, -1, 0]
    """
    if C.RARE_LEVEL not in levels:
        return codes
    unseen = (codes < 0) & values.notna().to_numpy()
    if not unseen.any():
        return codes
    rare = int(np.flatnonzero(levels == C.RARE_LEVEL)[0])
    text = pd.Series(values.to_numpy(dtype=object)[unseen]).astype(str).str.strip()
    stripped = levels.get_indexer(pd.Index(text))
    out = codes.copy()
    out[unseen] = np.where(stripped >= 0, stripped, rare)
    return out


def warn_pooled_elsewhere(
    values: pd.Series, levels: Sequence[object], name: str, *, owner: str
) -> None:
    """DataQualityWarning when ``values`` were pooled by another table's counts than the fit's.

    Features built with ``FeatureConfig.min_level_customers`` > 1 from a smaller customers table
    (a sample, one region) pool a level the model kept into ``"(rare)"``: its customers are then
    scored as the rare ones, in silence. The sign: a ``category`` column with rows in
    ``"(rare)"``, its last category as ``build_features`` puts it, whose categories lack levels the
    model kept (categories come from the whole customers table, so the training's table, or a later
    one, has them all).

    Examples
    --------
    >>> import warnings
    >>> small = pd.Series(pd.Categorical(["gold", "(rare)"], categories=["gold", "(rare)"]))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_pooled_elsewhere(small, ["gold", "tin", "(rare)"], "tier", owner="ChurnModel")
    >>> len(caught)
    1
    """
    if C.RARE_LEVEL not in levels or not isinstance(values.dtype, pd.CategoricalDtype):
        return
    present = values.cat.categories
    if not len(present) or present[-1] != C.RARE_LEVEL:
        # not pooled by build_features, which puts "(rare)" last (astype("category") sorts it first)
        return
    lost = [level for level in levels if level != C.RARE_LEVEL and level not in present]
    n_rare = int((values == C.RARE_LEVEL).sum())
    if not lost or not n_rare:
        return
    warn_user(
        f"{owner}: column {name!r} holds {n_rare} rows in {C.RARE_LEVEL!r} but lacks the levels "
        f"{format_examples(lost, total=len(lost))} the model kept at fit: its levels were pooled "
        "by the counts of another customers table (a smaller one, e.g. a sample or one region), "
        f"and customers of those levels are read as {C.RARE_LEVEL!r}. Build the features to "
        "score with FeatureConfig(min_level_customers=1) (as score_customers does), or from the "
        "customers table the model was trained with.",
        DataQualityWarning,
    )


def warn_spelt_apart(values: pd.Series, levels: Sequence[object], name: str, *, owner: str) -> None:
    """DataQualityWarning when text values unseen at fit are fitted levels in another case or
    with other blanks (``"Gold"`` or ``"gold "`` for the fitted ``"gold"``, from another export):
    they are read as missing, or as ``"(rare)"``, never as the level they spell.

    A value that only gains surrounding blanks is left alone where the levels hold ``"(rare)"``:
    :func:`rare_for_unseen` reads it as its level. New levels (a store opened since the fit) are
    not warned of.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_spelt_apart(pd.Series(["gold", "Gold", "tin"]), ["gold", "silver"], "tier", owner="M")
    >>> len(caught)
    1
    """
    fitted = {str(level).strip().casefold(): level for level in levels if isinstance(level, str)}
    if not fitted:
        return
    present = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else values
    seen = set(levels)
    pooled = C.RARE_LEVEL in seen
    apart = {}
    for value in pd.unique(pd.Series(present).dropna().to_numpy(dtype=object)):
        if not isinstance(value, str) or value in seen or (pooled and value.strip() in seen):
            continue
        level = fitted.get(value.strip().casefold())
        if level is not None:
            apart[value] = level
    if not apart:
        return
    n_rows = int(values.isin(list(apart)).sum())
    if not n_rows:
        return  # unused categories
    pairs = [f"{value!r} (fitted: {level!r})" for value, level in apart.items()]
    warn_user(
        f"{owner}: column {name!r} holds {n_rows} rows whose values are fitted levels written "
        f"another way ({format_examples(pairs, total=len(pairs), limit=3)}), which the model "
        "reads as levels it has not seen, not as those levels. Write them as at fit, e.g. "
        f"X[{name!r}] = X[{name!r}].str.strip().str.lower() when the fit's levels were lower "
        "case.",
        DataQualityWarning,
    )


def refuse_level_type_change(
    values: pd.Series, levels: Sequence[object], name: str, *, owner: str
) -> None:
    """SchemaError when a categorical column held text at fit and not now, or the reverse (its
    codes read back from a CSV or JSON): every row would silently be an unseen level. Used by
    ``UpliftModel`` and ``ChurnModel`` alike."""
    if levels and all(isinstance(level, str) for level in levels):
        # Text at fit, numbers now (e.g. codes read as ints): every row would silently be "unseen".
        present = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else values
        if _kind(pd.Series(present)) != "category":
            found = pd.Series(present).dropna().unique().tolist()
            bad = [v for v in found if not isinstance(v, str)]
            if bad:
                raise SchemaError(
                    f"{owner}: column {name!r} held text at fit (e.g. "
                    f"{format_examples(levels, total=len(levels), limit=3)}) but holds non-text "
                    f"values {format_examples(bad, total=len(bad))} now. Give it the same type "
                    f"as at fit (e.g. X[{name!r}].astype(str) when the codes were text).",
                    column=name,
                )
    elif levels and not any(isinstance(level, str) for level in levels):
        # Numbers (store ids) or booleans at fit, text now (read back from a CSV): every row would
        # silently be "unseen".
        present = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else values
        text = [v for v in pd.Series(present).dropna().unique().tolist() if isinstance(v, str)]
        if text:
            raise SchemaError(
                f"{owner}: column {name!r} held non-text levels at fit (e.g. "
                f"{format_examples(levels, total=len(levels), limit=3)}) but holds text "
                f"{format_examples(text, total=len(text))} now. Give it the same type as at fit "
                f"(e.g. pd.Categorical(pd.to_numeric(X[{name!r}])) for numeric codes).",
                column=name,
            )


def _numbers(values: pd.Series, name: str, *, owner: str) -> np.ndarray:
    """``values`` as float64 (missing = NaN); values that are not numbers are an error, not NaN."""
    if _kind(values) == "number":  # a category column is "category", never "number"
        series = (
            pd.to_numeric(values, errors="coerce")
            if pd.api.types.is_object_dtype(values.dtype)
            else values
        )
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    raw = values.astype(object)
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = numbers.isna().to_numpy() & raw.notna().to_numpy()
    if bad.any():
        found = distinct_values(raw[bad])
        raise SchemaError(
            f"{owner}: column {name!r} held numbers at fit but has {int(bad.sum())} values that "
            f"are not numbers now ({len(found)} distinct: {format_examples(found)}). Convert it "
            f"as at fit (e.g. pd.to_numeric(X[{name!r}]) after stripping units).",
            column=name,
        )
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
