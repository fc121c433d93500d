"""Optional tuning of ChurnModel over a small grid, with expanding-window splits over cutoffs."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from itertools import product
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import log_loss, roc_auc_score
from tqdm import tqdm

from loyalty_ml._checks import MAX_WINDOW_DAYS
from loyalty_ml.exceptions import ConfigError, DataError, format_examples
from loyalty_ml.models._split import cutoff_values
from loyalty_ml.models.churn import ChurnModel

__all__ = ["tune_churn_model"]


def tune_churn_model(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    *,
    param_grid: Mapping[str, Sequence[Any]],
    horizon_days: int = 90,
    n_splits: int = 3,
    scoring: Literal["roc_auc", "log_loss"] = "roc_auc",
    base: ChurnModel | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Score every combination of ``param_grid`` by backtesting over the latest cutoffs.

    For each of the last ``n_splits`` cutoffs ``T`` of ``X`` (indexed by ``(as_of, customer_id)``),
    a model is trained on the cutoffs whose labels closed by ``T`` (``as_of + horizon_days <= T``)
    and scored on ``T``: never a random split across time. ``scoring`` is ``"roc_auc"`` (higher is
    better) or ``"log_loss"`` (lower is better; judges calibration too). ``base`` is the model whose
    other parameters every combination keeps (cloned, then ``set_params`` with the combination;
    default ``ChurnModel(random_state=0, horizon_days=horizon_days)``); its ``horizon_days`` must be
    ``horizon_days``. ``progress`` shows a bar over the fits (combinations x splits); by default only
    when stderr is a terminal.

    Returns
    -------
    DataFrame
        One row per combination (the parameters as columns), with ``mean_score``, ``std_score`` and
        one ``score_<cutoff>`` column per split, best first (highest AUC or lowest log loss).

    Examples
    --------
    >>> # table = tune_churn_model(X, y, param_grid={"num_leaves": [7, 15]}, n_splits=2)
    >>> # best = table[["num_leaves"]].head(1).to_dict("records")[0]  # keeps each column's type
    >>> # ChurnModel(random_state=0, **best)
    """
    if not isinstance(X, pd.DataFrame):
        raise DataError(
            "tune_churn_model needs X as a DataFrame indexed by (as_of, customer_id), as "
            f"training_table returns; got {type(X).__name__}."
        )
    cutoffs = cutoff_values(X.index)
    if cutoffs is None:
        raise DataError(
            "tune_churn_model needs X indexed by (as_of, customer_id) as training_table returns; "
            f"the index levels are {list(X.index.names)}."
        )
    if scoring not in ("roc_auc", "log_loss"):
        raise ConfigError(
            "The 'scoring' parameter of tune_churn_model must be one of ('roc_auc', 'log_loss'). "
            f"Got {scoring!r} instead."
        )
    for name, value, most in (
        ("n_splits", n_splits, None),
        ("horizon_days", horizon_days, MAX_WINDOW_DAYS),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | np.integer)
            or value < 1
            or (most is not None and value > most)
        ):
            bound = ">= 1" if most is None else f"from 1 to {most:,} (ten years)"
            raise ConfigError(
                f"The '{name}' parameter of tune_churn_model must be an int {bound}. "
                f"Got {value!r} instead."
            )
    if not isinstance(param_grid, Mapping) or not param_grid:
        raise ConfigError(
            "The 'param_grid' parameter of tune_churn_model must be a dict naming at least one "
            f"parameter, e.g. {{'num_leaves': [7, 15]}}. Got {param_grid!r} instead."
        )
    # NumPy arrays of values (np.arange, np.linspace) as lists of plain numbers, as scikit-learn
    param_grid = {
        name: values.tolist() if isinstance(values, np.ndarray) and values.ndim == 1 else values
        for name, values in param_grid.items()
    }
    if "horizon_days" in param_grid:
        raise ConfigError(
            "tune_churn_model: param_grid may not vary 'horizon_days': it is the labels' horizon, "
            "which the splits use too. Pass it as tune_churn_model(horizon_days=...)."
        )
    not_lists = [
        name
        for name, values in param_grid.items()
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0
    ]
    if not_lists:
        raise ConfigError(
            f"tune_churn_model: param_grid values must be non-empty lists of values to try; "
            f"{format_examples([f'{n}={param_grid[n]!r}' for n in not_lists])} are not. "
            "Write e.g. {'num_leaves': [7]} for a single value."
        )
    if base is not None and not isinstance(base, ChurnModel):
        raise ConfigError(
            "The 'base' parameter of tune_churn_model must be a ChurnModel or None. "
            f"Got {type(base).__name__} instead."
        )
    y = _aligned_labels(X, y)
    if base is not None and base.horizon_days != horizon_days:
        raise ConfigError(
            f"tune_churn_model: horizon_days={horizon_days} but base has horizon_days="
            f"{base.horizon_days!r}; the splits and the model's own early-stopping split must use "
            "the labels' horizon. Pass the same value to both."
        )
    model = base if base is not None else ChurnModel(random_state=0, horizon_days=horizon_days)
    unknown = sorted(set(param_grid) - set(model.get_params()))
    if unknown:
        raise ConfigError(f"tune_churn_model: {unknown} are not parameters of ChurnModel.")
    as_of = pd.DatetimeIndex(cutoffs)
    tests = np.unique(cutoffs)[-n_splits:]
    splits = []
    for test in pd.DatetimeIndex(tests):
        train = as_of + pd.Timedelta(days=horizon_days) <= test
        if train.any():
            splits.append((test, np.flatnonzero(train), np.flatnonzero(as_of == test)))
    if not splits:
        raise DataError(
            f"tune_churn_model: no test cutoff has training cutoffs {horizon_days} days before it; "
            "add earlier cutoffs or lower n_splits."
        )
    if scoring == "roc_auc":
        one_class = [
            f"{test.date()} (all {y.iloc[rows].iloc[0]})"
            for test, _, rows in splits
            if y.iloc[rows].nunique() < 2
        ]
        if one_class:
            raise DataError(
                f"tune_churn_model: test cutoffs {format_examples(one_class)} hold one class only, "
                "so ROC AUC is undefined there. Use scoring='log_loss', other cutoffs, or more "
                "customers."
            )
    names = list(param_grid)
    combinations = list(product(*(param_grid[n] for n in names)))
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = tqdm(
        total=len(combinations) * len(splits), desc="tune_churn_model", unit="fit", disable=not show
    )
    rows = []
    for values in combinations:
        params = dict(zip(names, values, strict=True))
        scores = {}
        for test, train_rows, test_rows in splits:
            fitted = clone(model).set_params(**params).fit(X.iloc[train_rows], y.iloc[train_rows])
            p = fitted.predict_proba(X.iloc[test_rows])[:, 1]
            truth = y.iloc[test_rows].to_numpy()
            scores[f"score_{test.date()}"] = (
                roc_auc_score(truth, p)
                if scoring == "roc_auc"
                else log_loss(truth, p, labels=[0, 1])
            )
            bar.update()
        values_ = np.array(list(scores.values()))
        rows.append({**params, "mean_score": values_.mean(), "std_score": values_.std(), **scores})
    bar.close()
    table = pd.DataFrame(rows)
    return table.sort_values("mean_score", ascending=scoring == "log_loss", ignore_index=True)


def _aligned_labels(X: pd.DataFrame, y: object) -> pd.Series:
    """``y`` as a Series on ``X``'s index; an array must have one label per row of ``X``."""
    if isinstance(y, pd.Series):
        if len(y) != len(X) or not y.index.equals(X.index):
            raise DataError(
                f"tune_churn_model: y (length {len(y)}) is not aligned with X (length {len(X)}): "
                "their indexes differ. Pass y with X's index, e.g. y.loc[X.index]."
            )
        return y
    values = np.asarray(y)
    if values.ndim != 1 or len(values) != len(X):
        raise DataError(
            f"tune_churn_model: y has shape {values.shape}; expected ({len(X)},), one label per row "
            "of X."
        )
    return pd.Series(values, index=X.index)
