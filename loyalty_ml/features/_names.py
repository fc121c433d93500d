"""Feature column names made from the data's own labels (channels, event kinds)."""

from __future__ import annotations

import re

__all__ = ["label_slug"]

#: Runs of characters that are neither letters nor digits, in any script.
_SEPARATORS = re.compile(r"[\W_]+")


def label_slug(label: object) -> str:
    """``label`` in lower case with runs of other characters than letters and digits as ``_``,
    in any script: ``"E-mail click"`` is ``e_mail_click``, ``"Café"`` is ``café``, ``"отзыв"``
    (a review) stays ``отзыв``; empty when the label has no letter or digit.

    Examples
    --------
    >>> [label_slug(s) for s in (" In-Store ", "Café", "отзыв", "★")]
    ['in_store', 'café', 'отзыв', '']
    """
    return _SEPARATORS.sub("_", str(label).strip().lower()).strip("_")
