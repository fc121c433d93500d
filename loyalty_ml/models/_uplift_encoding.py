"""Frozen feature encoding for the uplift learners: a DataFrame in, a float64 matrix out.

LightGBM handles categories natively when they arrive as non-negative integer codes and are named in
``categorical_feature``. The levels are frozen at fit so that the same text always maps to the same code;
a level unseen at fit (or a missing value) becomes NaN, which LightGBM reads as "missing", never as a
shifted code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import SchemaError, format_examples

__all__ = ["FeatureEncoding"]


def _is_categorical(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series)


@dataclass(frozen=True)
class FeatureEncoding:
    """Names, order and frozen category levels of the features an uplift model was fitted on.

    Attributes
    ----------
    feature_names : tuple of str
        Feature columns in the order of the matrix columns.
    categories : tuple of (str, tuple)
        ``(column, levels)`` for each categorical feature, in ``feature_names`` order.
    """

    feature_names: tuple[str, ...]
    categories: tuple[tuple[str, tuple[object, ...]], ...]

    @classmethod
    def fit(cls, X: pd.DataFrame, *, owner: str) -> FeatureEncoding:
        """Learn the column order and category levels of ``X`` (numeric, boolean or categorical)."""
        names = tuple(str(c) for c in X.columns)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise SchemaError(f"{owner}: X has duplicate column names {format_examples(dup)}.")
        unsupported = [
            str(c)
            for c in X.columns
            if not (
                _is_categorical(X[c])
                or pd.api.types.is_numeric_dtype(X[c])
                or pd.api.types.is_bool_dtype(X[c])
            )
        ]
        if unsupported:
            raise SchemaError(
                f"{owner}: columns {format_examples(unsupported, total=len(unsupported))} of X are "
                "not numeric, boolean, text or category. Convert them (e.g. datetimes to ages in "
                "days) before fitting."
            )
        categories = []
        for column in X.columns:
            if _is_categorical(X[column]):
                series = X[column]
                if isinstance(series.dtype, pd.CategoricalDtype):
                    levels = tuple(series.cat.categories.tolist())
                else:
                    levels = tuple(sorted(series.dropna().unique().tolist()))
                categories.append((str(column), levels))
        return cls(feature_names=names, categories=tuple(categories))

    @property
    def categorical_positions(self) -> list[int]:
        """Matrix column positions of the categorical features (for ``categorical_feature``)."""
        return [self.feature_names.index(name) for name, _ in self.categories]

    def transform(self, X: pd.DataFrame, *, owner: str) -> np.ndarray:
        """Return the float64 matrix of ``X`` in the fitted column order (extra columns ignored).

        Raises
        ------
        SchemaError
            If a fitted feature column is missing from ``X``; the message lists them.
        """
        missing = [name for name in self.feature_names if name not in X.columns]
        if missing:
            raise SchemaError(
                f"{owner}: X lacks feature columns {format_examples(missing, total=len(missing))} "
                f"that the model was fitted on; X has {format_examples(list(X.columns), limit=10)}. "
                "Build the features with the same configuration as at fit."
            )
        levels = dict(self.categories)
        matrix = np.empty((len(X), len(self.feature_names)), dtype=np.float64)
        for j, name in enumerate(self.feature_names):
            values = X[name]
            if name in levels:
                # get_indexer maps unseen levels and missing values to -1 without pandas' warning.
                codes = pd.Index(levels[name]).get_indexer(pd.Index(values.astype(object)))
                column = codes.astype(np.float64)
                column[codes < 0] = np.nan
                matrix[:, j] = column
            else:
                matrix[:, j] = pd.to_numeric(values, errors="coerce").to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
        return matrix
