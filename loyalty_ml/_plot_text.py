"""Text from the data (offer ids, group labels, feature names) as Matplotlib draws it, literally.

Matplotlib reads text between two ``$`` as a math formula: a band ``"$50k-$75k"`` is drawn garbled
and ``"$25k_$50k"`` stops the plot with a parse error. It also leaves out of an automatic legend
every label that starts with ``_``. Data-derived text goes through :func:`literal`, and legends of
data-derived lines are built from explicit handles (:func:`legend`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["legend", "literal"]

#: Longer labels are cut (with an ellipsis) so that the axes keep room to draw.
_MAX_LABEL = 40


def literal(value: object) -> str:
    """``value`` as text that Matplotlib draws as written (each ``$`` escaped), at most
    ``_MAX_LABEL`` characters (a longer one is cut with an ellipsis: a 200-character group label
    left no room for the bars).

    Examples
    --------
    >>> literal("$50k-$75k")
    '\\\\$50k-\\\\$75k'
    """
    text = str(value)
    if len(text) > _MAX_LABEL:
        text = text[: _MAX_LABEL - 1] + "\u2026"
    return text.replace("$", r"\$")


def legend(ax: Any, handles: Sequence[Any], labels: Sequence[object], **kwargs: Any) -> None:
    """A legend with every label shown literally, ``_``-prefixed ones included."""
    ax.legend(list(handles), [literal(label) for label in labels], **kwargs)
