"""LightGBM's TreeSHAP values for many rows, computed once per tree and decision pattern.

In a small tree, a row's TreeSHAP values depend on the row only through the direction it takes at
each split (``tree_path_dependent`` TreeSHAP reads the features through the split decisions and
nothing else). A tree with ``s`` splits has at most ``2**s`` decision patterns, and the default churn
model's trees have 6 splits: a million rows fall into a few dozen patterns per tree. So for each tree
we compute every row's pattern with numpy, ask LightGBM's own TreeSHAP for one representative row
per pattern and that tree alone (``start_iteration=t, num_iteration=1``), and add the pattern's
values to the rows. Same numbers as ``pred_contrib=True`` (up to the order of float additions),
4-5x faster on 2 cores (250k rows x 333 trees: 3.7 s instead of 18.5 s).

The split decisions are a re-implementation of LightGBM's ``NumericalDecision`` and
``CategoricalDecision``, so every call checks itself: the leaf each row reaches under our decisions
must equal LightGBM's ``pred_leaf`` for every row and tree, and the summed values of a sample of
rows must equal LightGBM's ``pred_contrib``. Any mismatch, a tree too big for the pattern table, or
a model with several trees per iteration falls back to ``pred_contrib`` for the whole call; a
mismatch is logged as a warning on the ``loyalty_ml.models._pattern_shap`` logger (the values stay
right, only slower), the other cases at debug level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

__all__ = ["pattern_values", "tree_shap"]

#: Trees with more splits go to LightGBM's TreeSHAP (the pattern table has 2**splits entries).
MAX_SPLITS = 8
#: Rows handled at a time (their features transposed, their leaves from LightGBM).
BLOCK_ROWS = 32_768
#: Below this many rows LightGBM's TreeSHAP is as fast and the checks would cost more than they save.
MIN_ROWS = 20_000
#: Rows whose summed values are compared with LightGBM's pred_contrib on every call.
CHECK_ROWS = 64
_ZERO = 1e-35  # LightGBM's kZeroThreshold
_log = logging.getLogger(__name__)
_MISMATCH = "pattern TreeSHAP fell back to LightGBM's pred_contrib (slower, same values): %s"


@dataclass(frozen=True)
class _Split:
    feature: int
    threshold: float
    categories: np.ndarray | None  # categorical split: the codes that go left
    default_left: bool
    missing: str  # "None", "Zero" or "NaN"

    def goes_left(self, x: np.ndarray, nan: np.ndarray | None) -> np.ndarray:
        """LightGBM's decision at this split for feature values ``x`` (``nan``: x's NaN mask)."""
        if self.categories is not None:
            # CategoricalDecision: NaN and negative codes go right; values are truncated to int
            with np.errstate(invalid="ignore"):
                code = np.trunc(x)
                usable = np.isfinite(code) & (code >= 0)
            return usable & np.isin(np.where(usable, code, -1.0), self.categories)
        value = x if nan is None or self.missing == "NaN" else np.where(nan, 0.0, x)
        left = value <= self.threshold
        if self.missing == "NaN" and nan is not None:
            return np.where(nan, self.default_left, left)
        if self.missing == "Zero":
            return np.where(np.abs(value) <= _ZERO, self.default_left, left)
        return left


@dataclass(frozen=True)
class _Tree:
    splits: tuple[_Split, ...]
    leaf_of_pattern: np.ndarray  # leaf index reached under each decision pattern

    def patterns(self, columns: np.ndarray, nans: dict[int, np.ndarray]) -> np.ndarray:
        """Bit ``j`` set when the row goes left at split ``j`` (``columns``: one row per feature)."""
        bits = np.zeros(columns.shape[1], dtype=np.uint16)
        for j, split in enumerate(self.splits):
            left = split.goes_left(columns[split.feature], nans.get(split.feature))
            bits |= np.left_shift(left, j, dtype=np.uint16)
        return bits

    @property
    def features(self) -> list[int]:
        """The features the tree splits on (their columns are the only ones it gives values to)."""
        return sorted({split.feature for split in self.splits})


def _parse(tree: dict[str, Any]) -> _Tree:
    """Splits in visiting order and the leaf each decision pattern reaches, from ``dump_model``."""
    splits: list[_Split] = []
    nodes: list[tuple[int, int, int] | int] = []  # (split index, left, right) or a leaf index

    def walk(node: dict[str, Any]) -> int:
        position = len(nodes)
        if "split_index" not in node:
            nodes.append(int(node.get("leaf_index", 0)))
            return position
        nodes.append(-1)  # placeholder, filled once the children are numbered
        categorical = node["decision_type"] == "=="
        splits.append(
            _Split(
                feature=int(node["split_feature"]),
                threshold=0.0 if categorical else float(node["threshold"]),
                categories=(
                    np.array([float(c) for c in str(node["threshold"]).split("||")])
                    if categorical
                    else None
                ),
                default_left=bool(node["default_left"]),
                missing=str(node.get("missing_type", "None")),
            )
        )
        index = len(splits) - 1
        left = walk(node["left_child"])
        right = walk(node["right_child"])
        nodes[position] = (index, left, right)
        return position

    walk(tree["tree_structure"])
    leaf_of_pattern = np.zeros(1 << min(len(splits), MAX_SPLITS), dtype=np.int64)
    if len(splits) <= MAX_SPLITS:
        for pattern in range(len(leaf_of_pattern)):
            node = nodes[0]
            while isinstance(node, tuple):
                index, left, right = node
                node = nodes[left if (pattern >> index) & 1 else right]
            leaf_of_pattern[pattern] = node
    return _Tree(tuple(splits), leaf_of_pattern)


def tree_shap(booster: lgb.Booster, matrix: np.ndarray, *, num_threads: int = 0) -> np.ndarray:
    """``booster.predict(matrix, pred_contrib=True)`` for a binary or regression booster.

    Returns an array of shape ``(n_rows, n_features + 1)``, the last column the expected value, for
    the iterations ``predict`` uses by default (the best iteration when there is one).
    """
    values = None
    if len(matrix) >= MIN_ROWS:
        values = pattern_values(booster, matrix, num_threads=num_threads)
    if values is None:
        values = _lightgbm_values(booster, matrix, num_threads=num_threads)
    return values


def _lightgbm_values(
    booster: lgb.Booster, rows: np.ndarray, *, num_threads: int, **kwargs: Any
) -> np.ndarray:
    kwargs.setdefault(
        "num_iteration", booster.best_iteration if booster.best_iteration > 0 else None
    )
    return np.asarray(
        booster.predict(rows, pred_contrib=True, num_threads=num_threads, **kwargs),
        dtype=np.float64,
    )


def pattern_values(
    booster: lgb.Booster, matrix: np.ndarray, *, num_threads: int = 0
) -> np.ndarray | None:
    """The pattern-table TreeSHAP values, or None when it does not apply or fails its checks."""
    n_iterations = booster.best_iteration if booster.best_iteration > 0 else None
    if booster.num_model_per_iteration() != 1 or len(matrix) == 0:
        _log.debug("pattern TreeSHAP skipped: not a single-output booster, or no rows")
        return None
    trees = [_parse(t) for t in booster.dump_model(num_iteration=n_iterations)["tree_info"]]
    if any(len(t.splits) > MAX_SPLITS for t in trees):
        _log.debug("pattern TreeSHAP skipped: a tree has more than %d splits", MAX_SPLITS)
        return None
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    width = matrix.shape[1] + 1
    # per tree: the values of each pattern met so far, and which patterns those are
    tables = [np.zeros((len(t.leaf_of_pattern), width)) for t in trees]
    known = [np.zeros(len(t.leaf_of_pattern), dtype=bool) for t in trees]
    columns_of = [[*t.features, width - 1] for t in trees]  # its features and the expected value
    out = np.empty((len(matrix), width))
    for start in range(0, len(matrix), BLOCK_ROWS):
        block = matrix[start : start + BLOCK_ROWS]
        columns = np.ascontiguousarray(block.T)
        nans = {f: m for f in range(len(columns)) if (m := np.isnan(columns[f])).any()}
        leaves = np.asarray(
            booster.predict(
                block, pred_leaf=True, num_iteration=n_iterations, num_threads=num_threads
            )
        ).reshape(len(block), -1)
        if leaves.shape[1] != len(trees):
            _log.warning(_MISMATCH, "LightGBM's leaves do not cover the dumped trees")
            return None
        leaves = np.ascontiguousarray(leaves.T)
        total = np.zeros((width, len(block)))  # one contiguous row per feature
        for t, tree in enumerate(trees):
            bits = tree.patterns(columns, nans)
            if not np.array_equal(tree.leaf_of_pattern[bits], leaves[t]):
                _log.warning(_MISMATCH, f"split decisions differ from LightGBM's in tree {t}")
                return None
            representative = np.full(len(known[t]), -1, dtype=np.int64)
            representative[bits] = np.arange(len(block))
            new = np.flatnonzero((representative >= 0) & ~known[t])
            if len(new):
                tables[t][new] = _lightgbm_values(
                    booster,
                    block[representative[new]],
                    num_threads=1,
                    start_iteration=t,
                    num_iteration=1,
                )
                known[t][new] = True
            for column in columns_of[t]:
                total[column] += tables[t][bits, column]
        out[start : start + len(block)] = total.T
    check = np.random.default_rng(0).choice(len(matrix), size=min(CHECK_ROWS, len(matrix)))
    expected = _lightgbm_values(booster, matrix[check], num_threads=1)
    if not np.allclose(out[check], expected, rtol=1e-9, atol=1e-9):
        _log.warning(_MISMATCH, "values differ from LightGBM's pred_contrib on the check sample")
        return None
    return out
