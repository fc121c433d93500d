"""Rendering of a fairness report: markdown tables (no ``tabulate`` needed) and a matplotlib Figure."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from loyalty_ml._plot_text import literal

__all__ = ["PLOTTED_METRICS", "markdown_table", "plot_by_group"]

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


def plot_by_group(by_group: pd.DataFrame, *, min_group_size: int) -> Figure:
    """Bars of the main figures per group: one row of panels per attribute, one column per metric.

    Groups smaller than ``min_group_size`` (reported, not judged) are drawn hatched and pale.
    """
    metrics = [m for m in PLOTTED_METRICS if m in by_group.columns] or [
        m for m in by_group.columns if m != "count"
    ][:1]
    attributes = list(dict.fromkeys(by_group.index.get_level_values("attribute")))
    sizes = [len(by_group.xs(a, level="attribute")) for a in attributes]
    fig = Figure(figsize=(3.2 * len(metrics), 1.2 + 0.35 * sum(sizes) + 0.6 * len(attributes)))
    axes = fig.subplots(
        len(attributes),
        len(metrics),
        squeeze=False,
        gridspec_kw={"height_ratios": [max(s, 1) for s in sizes]},
    )
    for i, attribute in enumerate(attributes):
        block = by_group.xs(attribute, level="attribute")
        labels = [literal(g) for g in block.index]  # "$50k-$75k" drawn as written
        small = (block["count"] < min_group_size).to_numpy()
        for j, metric in enumerate(metrics):
            ax = axes[i][j]
            values = block[metric].to_numpy(dtype=float)
            positions = np.arange(len(labels))
            # no bar where there is no figure (blanked small group, undefined rate): a bar at 0
            # would read as a rate of 0
            known = np.isfinite(values)
            bars = ax.barh(positions[known], values[known], color="tab:blue")
            for bar, is_small in zip(bars, small[known], strict=True):
                if is_small:
                    bar.set_alpha(0.35)
                    bar.set_hatch("//")
            for position in positions[~known]:
                ax.text(0, position, " n/a", va="center", color="grey", fontsize="small")
            ax.set_yticks(positions, labels if j == 0 else [""] * len(labels))
            ax.invert_yaxis()
            if j == 0:
                ax.set_ylabel(literal(attribute))
            if i == 0:
                ax.set_title(metric)
            ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Fairness by group (hatched: fewer than {min_group_size} customers, not judged)")
    with warnings.catch_warnings():
        # labels too long for tight margins: the figure is still drawn, just not tightened
        warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
        fig.tight_layout()
    return fig
