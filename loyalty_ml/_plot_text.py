"""Text from the data (offer ids, group labels, feature names) as Matplotlib draws it, literally.

Matplotlib reads text between two ``$`` as a math formula: a band ``"$50k-$75k"`` is drawn garbled
and ``"$25k_$50k"`` stops the plot with a parse error. It also leaves out of an automatic legend
every label that starts with ``_``. Data-derived text goes through :func:`literal` (or
:func:`literals` for labels that must stay distinct), and legends of data-derived lines are built
from explicit handles (:func:`legend`). Numbers that can run into the millions (money) are ticked
by :func:`plain_numbers`: thousands separators, never an offset or a power of ten.
"""

from __future__ import annotations

import functools
import itertools
import math
import textwrap
from collections.abc import Sequence
from typing import Any

__all__ = ["legend", "legend_placement", "literal", "literal_lines", "literals", "plain_numbers"]

#: Longer labels are cut (with an ellipsis) so that the axes keep room to draw.
_MAX_LABEL = 40
_ELLIPSIS = "\u2026"


def _escape(text: str) -> str:
    return text.replace("$", r"\$")


def _cut_end(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + _ELLIPSIS


def _cut_middle(text: str) -> str:
    """The start and the end of ``text``, the middle replaced by an ellipsis (at most
    ``_MAX_LABEL`` characters): two names that share their start differ at their end."""
    if len(text) <= _MAX_LABEL:
        return text
    head = (_MAX_LABEL - 1) // 2
    tail = _MAX_LABEL - 1 - head
    return text[:head].rstrip() + _ELLIPSIS + text[-tail:].lstrip()


def literal(value: object) -> str:
    """``value`` as text that Matplotlib draws as written (each ``$`` escaped), at most
    ``_MAX_LABEL`` characters (a longer one is cut with an ellipsis: a 200-character group label
    left no room for the bars).

    Examples
    --------
    >>> literal("$50k-$75k")
    '\\\\$50k-\\\\$75k'
    """
    return _escape(_cut_end(str(value)))


def literals(values: Sequence[object]) -> list[str]:
    """:func:`literal` of each value, kept distinct: labels that the cut at ``_MAX_LABEL``
    characters would make equal keep their start and their end instead (``"Café crème – 20 %…
    tout le panier"``), and any still equal are numbered (``"… [2]"``), in order. Values whose text
    is equal to begin with stay equal. Deterministic, each at most ``_MAX_LABEL`` characters.

    Examples
    --------
    >>> literals(["a" * 45 + " panier", "a" * 45 + " rayon"])
    ['aaaaaaaaaaaaaaaaaaa…aaaaaaaaaaaaa panier', 'aaaaaaaaaaaaaaaaaaa…aaaaaaaaaaaaaa rayon']
    """
    texts = [str(v) for v in values]
    cut = [_cut_end(t) for t in texts]
    originals: dict[str, set[str]] = {}
    for text, label in zip(texts, cut, strict=True):
        originals.setdefault(label, set()).add(text)
    cut = [
        _cut_middle(text) if len(originals[label]) > 1 else label
        for text, label in zip(texts, cut, strict=True)
    ]
    originals = {}
    for text, label in zip(texts, cut, strict=True):
        originals.setdefault(label, set()).add(text)
    seen: dict[str, list[str]] = {}
    out = []
    for text, label in zip(texts, cut, strict=True):
        if len(originals[label]) > 1:
            order = seen.setdefault(label, [])
            if text not in order:
                order.append(text)
            suffix = f" [{order.index(text) + 1}]"
            label = _cut_end(text)[: _MAX_LABEL - len(suffix) - 1].rstrip() + _ELLIPSIS + suffix
        out.append(_escape(label))
    return out


def literal_lines(value: object, width: int) -> str:
    """:func:`literal` of ``value`` on lines of at most ``width`` characters (a rotated row label
    taller than its row is wrapped rather than drawn off the figure)."""
    text = _cut_end(str(value))
    lines = textwrap.wrap(text, width=max(int(width), 4)) or [text]
    return "\n".join(_escape(line) for line in lines)


def legend(ax: Any, handles: Sequence[Any], labels: Sequence[object], **kwargs: Any) -> None:
    """A legend with every label shown literally, ``_``-prefixed ones included, and labels that
    would be cut to the same text kept apart (:func:`literals`)."""
    ax.legend(list(handles), literals(labels), **kwargs)


def legend_placement(
    labels: Sequence[object], *, max_inside: int, per_column: int | None = None
) -> tuple[float, dict[str, Any]]:
    """Where a legend of ``labels`` goes, and how many inches the figure must widen for it.

    At most ``max_inside`` labels of up to 24 characters stay inside the axes (``loc="best"``);
    more or longer ones would cover the curves and go to the right of the axes, in columns of
    ``per_column`` labels (one column when None).
    """
    shown = literals(labels)
    longest = max((len(label) for label in shown), default=0)
    if len(shown) <= max_inside and longest <= 24:
        return 0.0, {"loc": "best"}
    columns = 1 if per_column is None else 1 + (len(shown) - 1) // per_column
    outside = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "ncols": columns}
    return columns * (0.9 + 0.075 * longest), outside


def plain_numbers() -> Any:
    """A Matplotlib tick formatter of plain numbers with thousands separators (``12,500,000``): no
    offset (``1e7`` above the axis) and no scientific notation; as many decimals as the tick step
    needs. Matplotlib is imported here, on first use.

    Examples
    --------
    >>> fmt = plain_numbers()
    >>> fmt.set_locs([0.0, 2_500_000.0, 5_000_000.0])
    >>> fmt(5_000_000.0), fmt(-2_500_000.0)
    ('5,000,000', '\u22122,500,000')
    >>> fmt.set_locs([0.0, 0.05, 0.1])
    >>> fmt(0.05)
    '0.05'
    >>> fmt.set_locs([0.0, 2.5, 5.0, 7.5])
    >>> [fmt(v) for v in (0.0, 2.5, 7.5)]
    ['0.0', '2.5', '7.5']
    """
    return _plain_numbers_class()()


@functools.cache
def _plain_numbers_class() -> type:
    from matplotlib.ticker import Formatter

    class PlainNumbers(Formatter):
        def __init__(self) -> None:
            super().__init__()
            self._decimals = 0

        def set_locs(self, locs: Any) -> None:
            values = [float(v) for v in locs]
            steps = [abs(b - a) for a, b in itertools.pairwise(values) if b != a]
            step = min(steps) if steps else 1.0
            decimals = max(0, min(6, -math.floor(math.log10(step) + 1e-9)))
            # then as many more as the ticks need to print exactly: a step of 2.5 or 0.015 has a
            # digit below its order of magnitude (ticks 0, 2.5, 5, 7.5 read "0, 2, 5, 8")
            while decimals < 6 and any(
                abs(round(v, decimals) - v) > 1e-9 * max(1.0, abs(v)) for v in values
            ):
                decimals += 1
            self._decimals = decimals

        def __call__(self, x: float, pos: int | None = None) -> str:
            text = f"{x:,.{self._decimals}f}"
            if text.lstrip("-").strip("0,.") == "":
                text = text.lstrip("-")  # no "-0"
            return text.replace("-", "\u2212")

    return PlainNumbers
