"""Rendering of a fairness report: markdown tables (no ``tabulate`` needed) and a matplotlib Figure."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["PLOTTED_METRICS", "markdown_table", "plot_by_group", "unjudged_reason"]

#: Metrics drawn by :func:`plot_by_group`, in this order, when present.
PLOTTED_METRICS = ("selection_rate", "tpr", "fpr", "auc", "offer_rate", "mean_offer_cost")


def _cell(value: Any, digits: int) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{float(value):.{digits}f}"
    return one_line(value).replace("|", "\\|")


def one_line(value: object) -> str:
    """``value`` as text on one line: ``\\r\\n``, ``\\r`` and ``\\n`` (each a line break to
    Markdown) become spaces, so a label cannot end a table row or start a heading."""
    return re.sub(r"\r\n|\r|\n", " ", str(value))


def markdown_table(frame: pd.DataFrame, *, digits: int = 3) -> str:
    """A GitHub-flavoured markdown table of ``frame``, index levels first.

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"rate": [0.5]}, index=pd.Index(["a"], name="group"))))
    | group | rate |
    | --- | ---: |
    | a | 0.500 |
    """
    flat = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
    header = [_cell(c, 0) if isinstance(c, str) else str(c) for c in flat.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(flat[c]) and not pd.api.types.is_bool_dtype(flat[c])
        for c in flat.columns
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---:" if n else "---" for n in numeric) + " |",
    ]
    for row in flat.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_cell(v, digits) for v in row) + " |")
    return "\n".join(lines)


#: More distinct values than this in an attribute that judged nothing: a raw value (an age in
#: years, a postcode) rather than a grouping, which needs binning before it can be audited.
MANY_GROUPS = 20


def unjudged_reason(counts: pd.Series, *, min_group_size: int, within: str | None = None) -> str:
    """Why an attribute with group sizes ``counts`` judged no gap, and what to do about it.

    ``within`` names the control whose strata the gaps were judged in, when they were and the
    raw groups alone would have been big enough.

    Examples
    --------
    >>> unjudged_reason(pd.Series([300, 30]), min_group_size=100)
    'only one of its 2 groups has 100+ customers (sizes 300, 30): merge small groups or audit more customers'
    """
    m, n, k = min_group_size, int(counts.sum()), len(counts)
    big = int((counts >= m).sum())
    if big >= 2 and within is not None:
        return (
            f"no stratum of {one_line(within)} holds two of its groups with {m}+ customers: "
            "audit more customers, or judge the raw figures too (FairnessLimits(judge='both'))"
        )
    if k == 1:
        return f"all its {n} customers share one value: there is no other group to compare with"
    if n < 2 * m:
        return (
            f"{n} customers are audited, too few for two groups of {m}+: audit more customers, "
            "or knowingly lower FairnessLimits(min_group_size=...) (smaller groups, noisier gaps)"
        )
    if k > MANY_GROUPS:
        return (
            f"its {k} distinct values leave {'no group' if big == 0 else 'only one group'} with "
            f"{m}+ customers (the largest has {int(counts.max())}), as a raw value does: group it "
            "first, an age into bands (pd.cut(age, [0, 25, 35, 50, 65, 120])), a postcode into "
            "areas"
        )
    sizes = ", ".join(str(int(c)) for c in counts)
    return (
        f"{'only one' if big else 'none'} of its {k} groups has {m}+ customers (sizes {sizes}): "
        "merge small groups or audit more customers"
    )


#: Metrics that are shares of customers (drawn from 0, never past 1).
_RATES = frozenset({"selection_rate", "tpr", "fpr", "offer_rate", "auc"})
#: Inches per character of a label in the default 10-point font (a generous average).
_CHAR_IN = 0.08
#: Inches per group (bar) in a row of panels, and per row for its tick labels and padding.
_BAR_IN, _ROW_PAD_IN = 0.32, 0.6


def _metric_limits(values: np.ndarray, metric: str) -> tuple[float, float]:
    """The x range of ``metric``, the same in every row: from 0 (or the lowest negative value) to
    a little past the highest value; rates end at 1 at most, the AUC is drawn on [0, 1]."""
    finite = values[np.isfinite(values)]
    if metric == "auc":
        return 0.0, 1.0
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    high = max(0.0, float(finite.max())) if finite.size else 0.0
    if high == low:
        high = low + 1.0
    high += 0.08 * (high - low)
    if metric in _RATES and high > 1.0 >= float(finite.max(initial=0.0)):
        high = 1.0
    if low < 0:
        low -= 0.08 * (high - low)
    return low, high


def plot_by_group(by_group: pd.DataFrame, *, min_group_size: int) -> Figure:
    """Bars of the main figures per group: one row of panels per attribute, one column per metric.

    Groups smaller than ``min_group_size`` (reported, not judged) are drawn hatched and pale; an
    undefined figure is marked "n/a" (no bar: a bar at 0 would read as a rate of 0), and a metric
    undefined for every group is left out. Every panel of a row shows every group of its
    attribute, on the same rows; every panel of a column has the same x scale (rates from 0, the
    AUC on [0, 1] with the chance level dotted); amounts are ticked in full, without an offset.
    """
    from loyalty_ml._plot_text import literal_lines, literals, plain_numbers

    present = [m for m in by_group.columns if m != "count"]
    defined = [m for m in present if np.isfinite(by_group[m].to_numpy(dtype=float)).any()]
    metrics = [m for m in PLOTTED_METRICS if m in defined] or defined[:1] or present[:1]
    attributes = list(dict.fromkeys(by_group.index.get_level_values("attribute")))
    blocks = [by_group.xs(a, level="attribute") for a in attributes]
    group_labels = [literals(list(block.index)) for block in blocks]  # "$50k-$75k" as written
    sizes = [max(len(block), 1) for block in blocks]
    rows_in = []
    row_labels = []
    for attribute, size in zip(attributes, sizes, strict=True):
        row_in = _BAR_IN * size + _ROW_PAD_IN
        name = str(attribute)
        # a rotated row label longer than its row is wrapped, on up to 3 lines (rows grow to fit)
        row_in = max(row_in, min(len(name), 40) * _CHAR_IN / 3 + 0.5)
        width = int((row_in - 0.3) / _CHAR_IN)
        row_labels.append(literal_lines(name, width))
        rows_in.append(row_in)
    longest = max((len(label) for labels in group_labels for label in labels), default=1)
    label_in = longest * _CHAR_IN + 0.9  # group labels and the row label
    # wide enough for the suptitle (about 70 characters at 12 points) with one metric
    width_in = max(8.0, label_in + 2.7 * len(metrics))
    fig = Figure(figsize=(width_in, sum(rows_in) + 1.0), layout="constrained")
    axes = fig.subplots(
        len(attributes), len(metrics), squeeze=False, gridspec_kw={"height_ratios": rows_in}
    )
    limits = {m: _metric_limits(by_group[m].to_numpy(dtype=float), m) for m in metrics}
    for i, block in enumerate(blocks):
        labels = group_labels[i]
        small = (block["count"] < min_group_size).to_numpy()
        positions = np.arange(len(labels))
        for j, metric in enumerate(metrics):
            ax = axes[i][j]
            values = block[metric].to_numpy(dtype=float)
            low, high = limits[metric]
            # no bar where there is no figure (blanked small group, undefined rate): a bar at 0
            # would read as a rate of 0
            known = np.isfinite(values)
            bars = ax.barh(positions[known], values[known], color="tab:blue")
            for bar, is_small in zip(bars, small[known], strict=True):
                if is_small:
                    bar.set_alpha(0.35)
                    bar.set_hatch("//")
            for position in positions[~known]:
                ax.text(
                    low, position, " n/a", va="center", color="grey", fontsize="small", clip_on=True
                )
            if metric == "auc":
                ax.axvline(0.5, color="black", linestyle=":", linewidth=1.2, zorder=3)
            ax.set_yticks(positions, labels if j == 0 else [""] * len(labels))
            # every panel of the row on the same rows, first group on top, NaN groups included
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.set_xlim(low, high)
            ax.xaxis.set_major_locator(MaxNLocator(3 if metric not in _RATES else 5))
            ax.xaxis.set_major_formatter(plain_numbers())
            if j == 0:
                ax.set_ylabel(row_labels[i])
            if i == 0:
                ax.set_title(metric)
            ax.grid(axis="x", alpha=0.3)
    chance = "; dotted: AUC of chance" if "auc" in metrics else ""
    fig.suptitle(
        f"Fairness by group (hatched: fewer than {min_group_size} customers, not judged{chance})"
    )
    return fig
