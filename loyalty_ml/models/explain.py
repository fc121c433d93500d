"""Reason codes: why a customer is at risk, in words a marketer reads, from TreeSHAP values.

The contributions are LightGBM's own TreeSHAP (``pred_contrib=True``) of the raw booster, in log-odds,
evaluated once per tree and decision pattern on large tables (:mod:`loyalty_ml.models._pattern_shap`:
the same values, several times faster); calibration is a monotone map applied afterwards, so the
ranking of reasons is the same. Wording is
built column-wise with vectorised string operations (no Python loop over rows), so a million
customers with three reasons each take seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from loyalty_ml._plot_text import literal
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.models._churn_encoding import text_columns

if TYPE_CHECKING:
    from loyalty_ml.models.churn import ChurnModel

__all__ = ["explain_churn", "plot_shap_summary", "reason_text", "shap_frame"]

_CHUNK_ROWS = 250_000


def shap_frame(model: ChurnModel, X: pd.DataFrame) -> pd.DataFrame:
    """TreeSHAP contributions of every feature, indexed like ``X`` (log-odds of the raw booster).

    The expected value (the bias term, plus the model's ``base_score_``) is in
    ``result.attrs["expected_value"]``; each row's contributions plus the expected value equal the
    log-odds of ``predict_proba_uncalibrated`` for that row.
    """
    contrib = _contributions(model, X)
    out = pd.DataFrame(contrib[:, :-1], index=X.index, columns=list(model._names()))
    if hasattr(model, "feature_names_in_"):
        out = out[list(model.feature_names_in_)]  # the booster's columns, back in X's order
    bias = float(contrib[0, -1]) if len(contrib) else float("nan")
    out.attrs["expected_value"] = float(bias + getattr(model, "base_score_", 0.0))
    return out


def explain_churn(model: ChurnModel, X: pd.DataFrame, *, top_k: int = 3) -> pd.DataFrame:
    """The ``top_k`` reasons pushing each customer's churn risk up.

    Parameters
    ----------
    model : ChurnModel
        A fitted model.
    X : DataFrame
        Features, as passed to ``predict_proba``. Columns the model does not use may still feed the
        wording (e.g. ``overdue_ratio`` next to ``recency_days``).
    top_k : int
        Number of reasons per customer.

    Returns
    -------
    DataFrame
        Indexed like ``X``; for ``k`` in 1..top_k: ``reason_k`` (text), ``reason_k_feature``,
        ``reason_k_value`` (the feature's value; object dtype when the model has categorical
        features) and ``reason_k_shap`` (log-odds contribution). A customer with fewer than ``k``
        features pushing risk up has missing values in the later reasons.
    """
    if isinstance(top_k, bool | np.bool_) or not isinstance(top_k, int | np.integer) or top_k < 1:
        raise ConfigError(
            f"The 'top_k' parameter of explain must be an int >= 1. Got {top_k!r} instead."
        )
    if isinstance(X, pd.DataFrame):
        X = text_columns(X)  # feature names are text: a model fitted on column 0 reads X["0"]
    names = np.asarray(model._names(), dtype=object)
    k = min(int(top_k), names.size)
    parts = [
        _explain_chunk(model, X.iloc[start : start + _CHUNK_ROWS], names, k)
        for start in range(0, max(len(X), 1), _CHUNK_ROWS)
    ]
    out = pd.concat(parts) if len(parts) > 1 else parts[0]
    if int(top_k) > k:  # more reasons asked than features: empty columns, added in one block
        empty_text = pd.Series(pd.NA, index=out.index, dtype="str")
        empty_number = pd.Series(np.nan, index=out.index)
        extra = {
            f"reason_{rank}{suffix}": empty
            for rank in range(k + 1, int(top_k) + 1)
            for suffix, empty in (
                ("", empty_text),
                ("_feature", empty_text),
                ("_value", empty_number),
                ("_shap", empty_number),
            )
        }
        out = pd.concat([out, pd.DataFrame(extra, index=out.index)], axis=1)
    return out


def _contributions(model: ChurnModel, X: pd.DataFrame) -> np.ndarray:
    from loyalty_ml.models._pattern_shap import tree_shap

    model._check_fitted("explain")
    matrix = model._transform(X)
    if len(matrix) == 0:  # LightGBM cannot predict on no rows: no contributions, bias column kept
        return np.zeros((0, matrix.shape[1] + 1))
    return tree_shap(model.booster_, matrix, num_threads=model._threads(len(matrix)))


def _explain_chunk(model: ChurnModel, X: pd.DataFrame, names: np.ndarray, k: int) -> pd.DataFrame:
    contrib = _contributions(model, X)[:, :-1]
    n, n_features = contrib.shape
    # Look at a few more candidates than asked: related features (ipi_mean, ipi_median) can say the
    # same thing ("has bought only once"), and a customer should not read one reason twice.
    m = min(n_features, 2 * k + 6)
    top = (
        np.argpartition(-contrib, m - 1, axis=1)[:, :m]
        if m < n_features
        else np.tile(np.arange(n_features), (n, 1))
    )
    order = np.argsort(-np.take_along_axis(contrib, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    shap_top = np.take_along_axis(contrib, top, axis=1)
    concept_of = concept_codes(names)
    total_of = _totals(names)
    columns = _Columns(
        X,
        typical=getattr(model, "typical_values_", {}),
        categories=getattr(model, "categories_", {}),
    )
    counted = _counted_values(columns, names, total_of, top)
    texts = np.full((n, m), None, dtype=object)
    facts = np.full((n, m), None, dtype=object)  # texts, with phrases of one fact made equal
    valid = shap_top > 0
    found_so_far = np.zeros(n, dtype=np.int64)
    for r in range(m):
        # word a candidate only for customers who still lack k distinct reasons
        valid[:, r] &= found_so_far < k
        for j in np.unique(top[valid[:, r], r]):
            rows = np.flatnonzero(valid[:, r] & (top[:, r] == j))
            good = _good_news(str(names[j]), columns, rows)
            valid[rows[good], r] = False
            rows = rows[~good]
            texts[rows, r] = reason_text(str(names[j]), columns.subset(rows)).to_numpy(dtype=object)
        facts[:, r] = texts[:, r]
        for said, fact in _SAME_WORDS.items():
            facts[texts[:, r] == said, r] = fact
        for q in range(r):
            # one reason per fact: not the same words, nor the same fact in other words
            same_fact = valid[:, q] & (
                (concept_of[top[:, r]] == concept_of[top[:, q]])
                | _repeats_the_total(total_of, top[:, r], top[:, q], counted[:, r], counted[:, q])
            )
            valid[:, r] &= (facts[:, r] != facts[:, q]) & ~same_fact
        found_so_far += valid[:, r]
    # the position of the k-th valid candidate of each row, if any
    slot = np.cumsum(valid, axis=1)
    has_categorical = bool(model.categories_)
    out: dict[str, object] = {}
    row_idx = np.arange(n)
    for rank in range(k):
        chosen = valid & (slot == rank + 1)
        found = chosen.any(axis=1)
        pos = chosen.argmax(axis=1)
        feature_idx: np.ndarray = np.asarray(top[row_idx, pos])
        value = np.full(n, np.nan, dtype=object if has_categorical else np.float64)
        for j in np.unique(feature_idx[found]):
            rows = np.flatnonzero(found & (feature_idx == j))
            value[rows] = columns.raw(str(names[j]))[rows]
        prefix = f"reason_{rank + 1}"
        out[prefix] = _masked_text(texts[row_idx, pos], found)
        out[f"{prefix}_feature"] = _masked_text(names[feature_idx], found)
        out[f"{prefix}_value"] = value
        out[f"{prefix}_shap"] = np.where(found, shap_top[row_idx, pos], np.nan)
    return pd.DataFrame(out, index=X.index)


#: Trends whose rise is good news: with a positive SHAP they are not worded as churn reasons.
_GOOD_WHEN_RISING = frozenset({"freq_trend", "spend_trend", "aov_trend"})


def _good_news(name: str, columns: _Columns, rows: np.ndarray) -> np.ndarray:
    """Rows of ``rows`` whose value of ``name`` is good news, never worded as a churn reason.

    A rising trend; and the orders of the window before the latest one when the latest holds
    more: "2 orders in the 90 days before, 5 in the last 90" says the customer buys more,
    whatever the trees made of it (on Online Retail II, 103 of 9,731 reasons at 2010-09-01
    read so). As for trends, no change is not good news: it can be a reason.
    """
    if name in _GOOD_WHEN_RISING:
        return np.asarray(columns.raw(name)[rows], dtype=np.float64) > 0
    window = re.fullmatch(r"n_orders_prev_(\d+)d", name)
    latest = None if window is None else columns.get(f"n_orders_{window.group(1)}d")
    if latest is None:
        return np.zeros(rows.size, dtype=bool)
    previous = np.asarray(columns.raw(name)[rows], dtype=np.float64)
    return np.asarray(latest[rows], dtype=np.float64) > previous


#: Features that state one fact about a customer: a reason names at most one of each group.
_SAME_FACT: tuple[tuple[str, str], ...] = (
    (r"(?:n_orders|spend)_(\d+)d", r"activity_\1"),  # orders and spend in one window
    (r"ipi_(?:mean|median)", "rhythm"),
    (r"ipi_(?:std|cv)", "regularity"),
    # "no purchase for 67 days, 34x longer than usual" already says how overdue
    (r"recency_days|overdue_ratio|days_overdue", "overdue"),
)


#: Phrases of different features that state one fact about a customer: the rhythm features are
#: missing after a single order ("has bought only once"), which ``n_orders`` says too.
_SAME_WORDS = {"has bought only once": "only 1 order so far"}


def concept_codes(names: np.ndarray) -> np.ndarray:
    """An integer per feature; features that state the same fact share one.

    Examples
    --------
    >>> concept_codes(np.array(["n_orders_90d", "spend_90d", "spend_365d", "recency_days"])).tolist()
    [0, 0, 1, 2]
    """
    keys = []
    for name in map(str, names):
        key = name
        for pattern, concept in _SAME_FACT:
            if re.fullmatch(pattern, name):
                key = re.sub(pattern, concept, name)
                break
        keys.append(key)
    return pd.factorize(pd.Series(keys, dtype=object))[0]


def _totals(names: np.ndarray) -> np.ndarray:
    """For each feature, the position of the total it counts over a window, else -1.

    Examples
    --------
    >>> _totals(np.array(["spend", "spend_365d", "n_orders_90d", "recency_days"])).tolist()
    [-1, 0, -1, -1]
    """
    position = {str(name): j for j, name in enumerate(names)}
    totals = [re.fullmatch(r"(spend|n_orders)_\d+d", str(name)) for name in names]
    return np.array([-1 if t is None else position.get(t.group(1), -1) for t in totals])


def _counted_values(
    columns: _Columns, names: np.ndarray, total_of: np.ndarray, top: np.ndarray
) -> np.ndarray:
    """The value of each candidate that is a total or a window of one (NaN for the others)."""
    family = np.flatnonzero(total_of >= 0)
    family = np.union1d(family, total_of[family])
    values = np.full(top.shape, np.nan)
    for j in family:
        at = top == j
        if at.any():
            raw = np.asarray(columns.raw(str(names[j])), dtype=np.float64)
            values[at] = np.broadcast_to(raw[:, None], top.shape)[at]
    return values


def _repeats_the_total(
    total_of: np.ndarray, a: np.ndarray, b: np.ndarray, a_value: np.ndarray, b_value: np.ndarray
) -> np.ndarray:
    """Rows whose candidates ``a`` and ``b`` are a total and its window with the same value.

    A window that holds the customer's whole history says the total again: "low total spend:
    36.13" and "spent 36.13 in the last 365 days" are one fact (on Online Retail II, whose
    customers all have less than a year of history, 539 of 2,429 customers at 2010-05-01 read
    both).
    """
    pair = (total_of[a] == b) | (total_of[b] == a)
    return pair & np.isclose(a_value, b_value, rtol=1e-9, atol=0.0)


def _masked_text(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=object)
    out[~keep] = None
    return np.asarray(pd.array(out, dtype="str"))


class _Columns:
    """Column access by name, restricted to some rows, without copying the whole frame."""

    def __init__(
        self,
        frame: pd.DataFrame,
        rows: np.ndarray | None = None,
        *,
        typical: dict[str, float] | None = None,
        categories: dict[str, Any] | None = None,
    ) -> None:
        self._frame = frame
        self._rows = rows
        self.typical = typical or {}
        self.categories = categories or {}

    def subset(self, rows: np.ndarray) -> _Columns:
        return _Columns(self._frame, rows, typical=self.typical, categories=self.categories)

    def raw(self, name: str) -> np.ndarray:
        values = self._frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            array = values.astype(object).to_numpy()
        else:
            try:
                array = values.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                # a categorical feature sent as text (read from a file, or JSON): its levels
                array = values.astype(object).to_numpy()
        return array if self._rows is None else array[self._rows]

    def rows(self) -> np.ndarray:
        return np.arange(len(self._frame)) if self._rows is None else self._rows

    def get(self, name: str) -> np.ndarray | None:
        if name not in self._frame.columns:
            return None
        return self.raw(name)

    def __len__(self) -> int:
        return len(self._frame) if self._rows is None else self._rows.size


# -- wording ---------------------------------------------------------------------------------------
#: Largest magnitude a reason puts in words (beyond it the phrase is missing, as for inf).
_MAX_WORDED = 1e15


def _num(values: np.ndarray, *, decimals: int = 0) -> pd.Series:
    """Numbers as text; NaN stays missing so that a missing part makes the whole phrase missing.

    An infinite value (a ratio over a zero, a client sending "inf") has no wording either: missing;
    nor has a finite one past ``_MAX_WORDED`` (1e19 days), which no whole-number type holds.
    """
    numbers = np.asarray(values, dtype=np.float64)
    worded = np.isfinite(numbers) & (np.abs(numbers) < _MAX_WORDED)
    # + 0.0 turns -0.0 (a small negative value rounded) into 0.0: "0", never "-0"
    rounded = pd.Series(np.round(np.where(worded, numbers, np.nan), decimals) + 0.0)
    if decimals == 0:
        return rounded.astype("Int64").astype("str")
    return rounded.astype("str")


def _ratio(values: np.ndarray) -> pd.Series:
    # "3x" for large ratios, "1.6x" for small ones
    values = np.asarray(values, dtype=np.float64)
    return _num(values).where(values >= 2, _num(values, decimals=1)) + "x"


def _text(n: int, value: str) -> pd.Series:
    return pd.Series([value] * n, dtype="str")


def _plural(count: np.ndarray, word: str) -> pd.Series:
    return pd.Series(np.where(np.round(count) == 1, word, word + "s"), dtype="str")


def _days(values: np.ndarray) -> pd.Series:
    """``"1 day"``, ``"12 days"``; missing when the value is."""
    values = np.asarray(values, dtype=np.float64)
    return _num(values) + " " + _plural(values, "day")


def _percent_change(trend: np.ndarray) -> np.ndarray:
    # trend = (a - b) / (a + b)  =>  (a - b) / b = 2 t / (1 - t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(trend < 1, 200 * trend / (1 - trend), np.nan)


def _no_rhythm(c: _Columns) -> pd.Series:
    # the rhythm features are missing after a single order, or when all orders fell on one day;
    # missing next to several orders (a partial served row), the rhythm is unknown, not one order
    median = c.get("ipi_median")
    once = _text(len(c), "has bought only once")
    if median is not None:
        once = once.where(np.isnan(median), "no regular purchase rhythm yet")
        # a median gap of a day or more is a rhythm: the feature worded is missing on its own
        once = once.where(~(median >= 1), "purchase rhythm unknown")
    orders = c.get("n_orders")
    if orders is None:
        return once
    known = np.zeros(len(c), dtype=bool) if median is None else ~np.isnan(median)
    return once.where((orders <= 1) | known, "purchase rhythm unknown")


def _usual_gap(c: _Columns) -> np.ndarray | None:
    usual = c.get("ipi_median")
    # a median gap under a day means several orders at once, not a rhythm to be late against
    return None if usual is None else np.where(usual >= 1, usual, np.nan)


#: What a two-order customer's "usual" gap is: the one gap there is (``_one_gap``).
_THEIR_ONE_GAP = "the gap between their two purchases"


def _two_orders(c: _Columns) -> np.ndarray:
    """Rows of customers with exactly two orders (all False without ``n_orders``)."""
    orders = c.get("n_orders")
    if orders is None:
        return np.zeros(len(c), dtype=bool)
    return np.asarray(orders, dtype=np.float64) == 2


def _recency(c: _Columns, _: str) -> pd.Series:
    days = c.raw("recency_days")
    text = "no purchase for " + _days(days)
    ratio = c.get("overdue_ratio")
    usual = _usual_gap(c)
    if ratio is not None:
        if usual is not None:
            ratio = np.where(np.isnan(usual), np.nan, ratio)
        # one gap is no habit: a two-order customer is measured against that gap, said so
        than = pd.Series(
            np.where(_two_orders(c), " longer than " + _THEIR_ONE_GAP, " longer than usual"),
            index=text.index,
        )
        longer = text + ", " + _ratio(ratio) + than
        text = longer.where(ratio >= 1.5, text)
    return text


def _overdue_ratio(c: _Columns, name: str) -> pd.Series:
    ratio = c.raw(name)
    usual = _usual_gap(c)
    text = "gap since the last purchase is " + _ratio(ratio) + " the usual"
    if usual is not None:
        text = text + " " + _days(usual)
    two = "gap since the last purchase is " + _ratio(ratio) + " " + _THEIR_ONE_GAP
    if usual is not None:
        two = two + " (" + _days(usual) + ")"
    return text.where(~_two_orders(c), two).fillna(_no_rhythm(c))


def _days_overdue(c: _Columns, name: str) -> pd.Series:
    days = c.raw(name)
    two = _two_orders(c)
    late = _days(days) + " past their usual next purchase"
    late = late.where(~two, _days(days) + " longer than " + _THEIR_ONE_GAP)
    early = "next purchase due in " + _days(-days)
    early = early.where(~two, _days(-days) + " short of " + _THEIR_ONE_GAP)
    return late.where(days > 0, early).fillna(_no_rhythm(c))


def _orders_in_window(c: _Columns, name: str) -> pd.Series:
    window = re.fullmatch(r"n_orders_(\d+)d", name).group(1)  # type: ignore[union-attr]
    latest = c.raw(name)
    text = _num(latest) + " " + _plural(latest, "order") + f" in the last {window} days"
    # a missing count (served input) is unknown, not zero: it stays missing for the fallback
    text = text.where((latest > 0) | np.isnan(latest), f"no orders in the last {window} days")
    previous = c.get(f"n_orders_prev_{window}d")
    if previous is not None:
        down = text + ", down from " + _num(previous)
        text = down.where(previous > latest, text)
    return text


def _orders_previous(c: _Columns, name: str) -> pd.Series:
    window = re.fullmatch(r"n_orders_prev_(\d+)d", name).group(1)  # type: ignore[union-attr]
    previous = c.raw(name)
    latest = c.get(f"n_orders_{window}d")
    text = _num(previous) + " " + _plural(previous, "order") + f" in the {window} days before"
    if latest is not None:
        text = text + ", " + _num(latest) + f" in the last {window}"
    return text


def _amount_text(values: np.ndarray) -> pd.Series:
    """Amounts as text at a precision their size needs: whole units from 100, two decimals (trailing
    zeros dropped) from 1, three significant digits below (a currency unit 100x larger than the
    cent's, or 0.01 baskets: 0.0728 is "0.0728", not "0"); NaN stays missing."""
    numbers = np.asarray(values, dtype=np.float64)
    shown = _num(numbers, decimals=2).str.replace(r"\.0+$", "", regex=True)
    shown = shown.where(np.abs(numbers) < 100, _num(numbers))
    small = np.isfinite(numbers) & (np.abs(numbers) < 1) & (numbers != 0)
    if small.any():
        digits = [
            np.format_float_positional(v, precision=3, unique=False, fractional=False, trim="-")
            for v in numbers[small]
        ]
        text = shown.to_numpy(dtype=object)
        text[small] = digits
        shown = pd.Series(text, index=shown.index, dtype=shown.dtype)
    return shown


def _spend_in_window(c: _Columns, name: str) -> pd.Series:
    window = re.fullmatch(r"spend_(\d+)d", name).group(1)  # type: ignore[union-attr]
    spend = c.raw(name)
    text = "spent " + _amount_text(spend) + f" in the last {window} days"
    return text.where((spend > 0) | np.isnan(spend), f"no spend in the last {window} days")


def _trend(subject: str, what_stopped: str) -> Callable[[_Columns, str], pd.Series]:
    def phrase(c: _Columns, name: str) -> pd.Series:
        trend = c.raw(name)
        pct = _percent_change(trend)
        down = subject + " down " + _num(-pct) + "% vs the previous period"
        up = subject + " up " + _num(pct) + "% vs the previous period"
        text = down.where(trend < 0, up)
        # a change that rounds to 0% reads as none, not as "up 0%" or "down 0%"
        text = text.where(np.round(pct) != 0, subject + " unchanged vs the previous period")
        text = text.where(trend > -1, what_stopped)
        text = text.where(trend < 1, subject + " only in the latest period")
        # a missing trend: no orders in either of its two windows (build_features' definition)
        return text.where(~np.isnan(trend), "no orders in either of the last two periods")

    return phrase


def _n_orders(c: _Columns, name: str) -> pd.Series:
    n = c.raw(name)
    few = "only " + _num(n) + " " + _plural(n, "order") + " so far"
    return few.where(n <= 2, _num(n) + " orders in total")


def _tenure(c: _Columns, name: str) -> pd.Series:
    days = c.raw(name)
    text = "customer for " + _days(days)
    return ("new: " + text).where(days < 90, text)


def _one_gap(c: _Columns) -> tuple[np.ndarray, pd.Series] | None:
    """Rows of customers with exactly two orders (one gap between purchases: no rhythm to call
    usual, no spread to vary by), and their wording; None without ``n_orders``.

    The gap is read from ``ipi_mean`` or ``ipi_median`` (equal with one gap): "bought twice, 30
    days apart", or "bought twice within a day"; without either, "only one gap between purchases
    so far". Every rhythm feature says it in the same words, so a customer reads it once.
    """
    if c.get("n_orders") is None:
        return None
    two = _two_orders(c)
    gap = c.get("ipi_mean")
    if gap is None:
        gap = c.get("ipi_median")
    text = _text(len(c), "only one gap between purchases so far")
    if gap is not None:
        gap = np.asarray(gap, dtype=np.float64)
        apart = ("bought twice, " + _days(gap) + " apart").where(
            np.round(gap) >= 1, "bought twice within a day"
        )
        text = apart.where(~np.isnan(gap), text)
    return two, text


def _rhythm(c: _Columns, name: str) -> pd.Series:
    text = ("usually buys every " + _days(c.raw(name))).fillna(_no_rhythm(c))
    one = _one_gap(c)
    # one gap is not what a customer usually does
    return text if one is None else text.where(~one[0], one[1])


def _irregular(c: _Columns, name: str) -> pd.Series:
    text = _spread(c, name)
    one = _one_gap(c)
    # two orders make one gap: it varies by nothing ("gaps vary by 0 days" read as clockwork)
    return text if one is None else text.where(~one[0], one[1])


def _spread(c: _Columns, name: str) -> pd.Series:
    values = c.raw(name)
    typical = c.typical.get(name)
    # a spread that rounds to nothing is not none: 0.4 days read "vary by 0 days", clockwork
    some = (values > 0) & (np.round(values if name == "ipi_std" else 100 * values) == 0)
    if name == "ipi_std":
        by = _days(values).where(~some, "under a day")
        text = "gaps between purchases vary by " + by
        if typical is not None and np.isfinite(typical):
            text = text + " (typical " + _days(np.full(values.shape, typical)) + ")"
    else:
        spread = "gaps vary by " + (_num(100 * values) + "%").where(~some, "under 1%")
        if typical is None or not np.isfinite(typical):
            text = "purchase rhythm: " + spread
        else:
            # the model can raise the risk of regular buyers too: say which this customer is
            of_typical = ", typical " + _num(np.full(values.shape, 100 * typical)) + "%)"
            below = _below_typical(values, typical)
            text = pd.Series(
                np.where(below, "regular purchase rhythm (", "irregular purchase rhythm ("),
                dtype="str",
            )
            text = text + spread + of_typical
    return text.fillna(_no_rhythm(c))


def _below_typical(values: np.ndarray, typical: float) -> np.ndarray:
    """``values < typical`` at the float32 precision the typical value was taken at (the model
    rounds its matrix to float32): 0.6 is the typical 0.6000000238, not below it."""
    return np.asarray(values, dtype=np.float32) < np.float32(typical)


def _percent_text(values: np.ndarray) -> pd.Series:
    """Shares in [0, 1] as whole percentages: 0.625 is "63%"; NaN stays missing."""
    return _num(100 * np.asarray(values, dtype=np.float64)) + "%"


def _versus_typical(
    c: _Columns,
    name: str,
    label: str,
    *,
    as_text: Callable[[np.ndarray], pd.Series] = _amount_text,
) -> pd.Series:
    values = c.raw(name)
    shown = as_text(values)
    typical = c.typical.get(name)
    if typical is None or not np.isfinite(typical):
        return label + ": " + shown
    typical_text = as_text(np.full(values.shape, typical))
    # at the float32 precision the typical value was taken at (see _below_typical), and at the
    # precision shown: "low margin rate: 21% (typical 21%)" contradicts itself
    at_typical = (np.asarray(values, dtype=np.float32) == np.float32(typical)) | (
        shown == typical_text
    ).to_numpy(dtype=bool, na_value=False)
    below = _below_typical(values, typical)
    side = pd.Series(
        np.where(at_typical, "typical ", np.where(below, "low ", "high ")), dtype="str"
    )
    return side + label + ": " + shown + " (typical " + typical_text + ")"


def _amount(label: str) -> Callable[[_Columns, str], pd.Series]:
    def phrase(c: _Columns, name: str) -> pd.Series:
        return _versus_typical(c, name, label)

    return phrase


def _share(label: str) -> Callable[[_Columns, str], pd.Series]:
    """A share or rate in [0, 1], in percent: a marketer reads "share of store orders: 80%
    (typical 63%)", not "channel share store: 0.8 (typical 0.625)"."""

    def phrase(c: _Columns, name: str) -> pd.Series:
        return _versus_typical(c, name, label, as_text=_percent_text)

    return phrase


def _channel_share(c: _Columns, name: str) -> pd.Series:
    channel = name.removeprefix("channel_share_").replace("_", " ")
    return _versus_typical(c, name, f"share of {channel} orders", as_text=_percent_text)


def _member_since_signup(c: _Columns, name: str) -> pd.Series:
    values = np.asarray(c.raw(name), dtype=np.float64)
    text = "member for " + _days(values)
    typical = c.typical.get(name)
    if typical is not None and np.isfinite(typical):
        text = text + " (typical " + _days(np.full(values.shape, typical)) + ")"
    return text


def _generic(c: _Columns, name: str) -> pd.Series:
    raw = c.raw(name)
    label = name.replace("_", " ")
    if raw.dtype == object:
        text = label + ": " + pd.Series(raw, dtype="str")
        levels = c.categories.get(name)
        if levels is not None:
            # a level unseen at fit is read as missing by the model: say so, not the level
            unseen = pd.notna(raw) & ~pd.Series(raw, dtype=object).isin(list(levels)).to_numpy()
            text = text.where(
                ~unseen, label + " unknown to the model: " + pd.Series(raw, dtype="str")
            )
    else:
        text = _versus_typical(c, name, label)
    return text.fillna(label + " unknown")


def _days_since(event: str) -> Callable[[_Columns, str], pd.Series]:
    """``"last offer 216 days ago (typical 135 days)"``; missing, hence generic, when unknown."""

    def phrase(c: _Columns, name: str) -> pd.Series:
        values = np.asarray(c.raw(name), dtype=np.float64)
        text = event + " " + _days(values) + " ago"
        typical = c.typical.get(name)
        if typical is not None and np.isfinite(typical):
            text = text + " (typical " + _days(np.full(values.shape, typical)) + ")"
        return text

    return phrase


def _without_offers(c: _Columns, name: str) -> pd.Series:
    """An offer feature, missing when no offer was received: then that, not "unknown"."""
    worded = _OFFER_PHRASES.get(name)
    text = _generic(c, name) if worded is None else worded(c, name).fillna(_generic(c, name))
    received = c.get("offers_received")
    if received is None:
        return text
    missing = np.isnan(np.asarray(c.raw(name), dtype=np.float64))
    if name == "days_since_last_redemption":
        # the feature is missing when no offer was redeemed (build_features' definition)
        text = text.where(~(missing & (received > 0)), "no offer redeemed yet")
    return text.where(~(missing & (received == 0)), "no offer received yet")


_OFFER_PHRASES = {
    "days_since_last_offer": _days_since("last offer"),
    "days_since_last_redemption": _days_since("last redemption"),
    "redemption_rate": _share("share of offers redeemed"),
}
_EXACT: dict[str, Callable[[_Columns, str], pd.Series]] = {
    "recency_days": _recency,
    "overdue_ratio": _overdue_ratio,
    "days_overdue": _days_overdue,
    "freq_trend": _trend("order frequency", "stopped ordering: no orders in the latest period"),
    "spend_trend": _trend("spend", "no spend in the latest period after spending before"),
    "aov_trend": _trend("average basket", "no orders in the latest period"),
    "n_orders": _n_orders,
    "tenure_days": _tenure,
    "ipi_mean": _rhythm,
    "ipi_median": _rhythm,
    "ipi_std": _irregular,
    "ipi_cv": _irregular,
    "spend": _amount("total spend"),
    "aov": _amount("average order value"),
    "n_products": _amount("number of different products"),
    "items_per_order": _amount("items per order"),
    "high_margin_share": _share("share of spend on high-margin categories"),
    "margin_rate": _share("margin rate"),
    "discount_share": _share("share of spend on discounted items"),
    "discount_depth": _share("average discount"),
    "n_channels": _amount("number of channels used"),
    "n_stores": _amount("number of stores visited"),
    "category_entropy": _amount("variety of categories bought (entropy)"),
    "signup_tenure_days": _member_since_signup,
    "days_since_last_offer": _without_offers,
    "days_since_last_redemption": _without_offers,
    "redemption_rate": _without_offers,
}
_PATTERNS: list[tuple[str, Callable[[_Columns, str], pd.Series]]] = [
    (r"n_orders_prev_\d+d", _orders_previous),
    (r"n_orders_\d+d", _orders_in_window),
    (r"spend_\d+d", _spend_in_window),
    (r"channel_share_\w+", _channel_share),
]


def reason_text(feature: str, columns: _Columns | pd.DataFrame) -> pd.Series:
    """The reason phrase for ``feature`` for every row of ``columns`` (a features frame).

    Examples
    --------
    >>> X = pd.DataFrame({"recency_days": [74.2, 10.0], "overdue_ratio": [3.1, 0.5]})
    >>> reason_text("recency_days", X).tolist()
    ['no purchase for 74 days, 3x longer than usual', 'no purchase for 10 days']
    """
    c = columns if isinstance(columns, _Columns) else _Columns(columns)
    phrase = _EXACT.get(feature)
    if phrase is None:
        phrase = next((f for pattern, f in _PATTERNS if re.fullmatch(pattern, feature)), _generic)
    text = phrase(c, feature).reset_index(drop=True)
    missing = text.isna().to_numpy()
    if missing.any() and phrase is not _generic:
        # only the rows the specific phrase could not word get the generic one
        fallback = _generic(c.subset(c.rows()[missing]), feature)
        text[missing] = fallback.to_numpy(dtype=object)
    return text


# -- global summary --------------------------------------------------------------------------------
def plot_shap_summary(
    model: ChurnModel, X: pd.DataFrame, *, max_features: int = 15, max_rows: int = 2000
) -> Figure:
    """Beeswarm-style SHAP summary with the Figure API: one row per feature, by mean |SHAP|.

    Each dot is a customer (at most ``max_rows``, a fixed-seed sample); x is the push on churn
    log-odds, colour the feature's value rank within the sample (blue low, red high).
    """
    if len(X) > max_rows:
        rows = np.sort(np.random.default_rng(0).choice(len(X), size=max_rows, replace=False))
        X = X.iloc[rows]
    shap = shap_frame(model, X)
    ranking = shap.abs().mean().sort_values(ascending=False).index[:max_features]
    fig = Figure(figsize=(7, 0.4 * len(ranking) + 1.5), layout="constrained")
    ax = fig.subplots()
    jitter = np.random.default_rng(1)
    columns = _Columns(X)
    for position, name in enumerate(reversed(ranking)):
        raw = columns.raw(name)
        source = pd.Series(raw).astype("category").cat.codes if raw.dtype == object else raw
        colour = pd.Series(source, dtype=np.float64).rank(pct=True).to_numpy()
        y = position + jitter.uniform(-0.3, 0.3, size=len(shap))
        points = ax.scatter(shap[name], y, c=colour, cmap="coolwarm", s=6, vmin=0, vmax=1)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_yticks(range(len(ranking)), [literal(name) for name in reversed(ranking)])
    ax.set_xlabel("SHAP value (push on churn log-odds)")
    ax.set_title("What drives churn risk")
    if len(ranking):
        fig.colorbar(points, ax=ax, label="feature value (rank)")
    return fig
