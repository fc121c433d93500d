"""Customer ids as text, and lists passed as arguments.

Pseudonyms, erasure, consent, offer holdouts and the models' row order all read a customer by the
text of their id, so that ``17``, ``"17"`` and ``17.0`` (an integer id read back from a CSV with
missing values) are one customer everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import ConfigError

__all__ = ["WHOLE_FLOAT_ID", "as_list", "id_hash_units", "id_texts", "ids_in"]

#: A whole number written as a float's text, the number as group 1: ``"12346.0"`` is the id
#: ``"12346"`` (an integer id column with a missing value, saved as floats and read as text); not
#: ``"007.0"`` (a card number), ``"12.5"`` or ``"A-7.0"``.
WHOLE_FLOAT_ID = r"^(-?(?:0|[1-9]\d*))\.0+$"
_WHOLE_FLOAT = re.compile(WHOLE_FLOAT_ID)


def as_list(values: object, *, name: str, caller: str) -> list[Any]:
    """``values`` as a list; a single str (read one character at a time) or scalar is refused.

    Examples
    --------
    >>> as_list(pd.Index([3, 4]), name="ids", caller="erase_customers")
    [3, 4]
    >>> as_list("C-17", name="ids", caller="erase_customers")
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.ConfigError: The 'ids' parameter of erase_customers must be a list ...
    """
    if isinstance(values, pd.DataFrame):
        # iterating a DataFrame gives its column labels: an erasure would find nobody
        column = f"[{values.columns[0]!r}]" if values.shape[1] == 1 else "['customer_id']"
        raise ConfigError(
            f"The {name!r} parameter of {caller} must be a list, Series or Index of values; got a "
            f"DataFrame ({values.shape[0]} rows, columns {list(values.columns)[:5]}), whose "
            f"iteration gives its column labels. Pass one column, e.g. frame{column}."
        )
    if isinstance(values, pd.Series | pd.Index):
        return values.tolist()
    if isinstance(values, Iterable) and not isinstance(values, str | bytes):
        out = list(values)
        nested = next((v for v in out if isinstance(v, list | dict | set | np.ndarray)), None)
        if nested is not None:
            raise ConfigError(
                f"The {name!r} parameter of {caller} must hold single values; got "
                f"{type(nested).__name__} {nested!r} among them. Flatten the list first."
            )
        return out
    what = (
        "a single str, which would be read one character at a time"
        if isinstance(values, str | bytes)
        else f"a single {type(values).__name__}"
    )
    raise ConfigError(
        f"The {name!r} parameter of {caller} must be a list (or Series, Index, set...). Got {what}: "
        f"{values!r}. Pass [{values!r}] for one value."
    )


def id_texts(ids: object, *, caller: str, name: str = "ids") -> np.ndarray:
    """The text of each customer id (an object array, None where the id is missing).

    Ids are their ``str`` without surrounding blanks, as :func:`validate_transactions` reads them
    (``" C17 "`` is customer ``"C17"``, so an erasure request copied with a stray space still finds
    the customer), except that a whole number written as a float, a float or its text, is the text
    of that integer (``13085.0`` and ``"13085.0"`` are customer ``"13085"``; see
    :data:`WHOLE_FLOAT_ID`). ``ids`` is a Series, Index, array or list (see :func:`as_list`;
    ``name`` and ``caller`` are for its error).

    Examples
    --------
    >>> id_texts([17, "17", 17.0, " 17 ", "17.0", "017.0", None], caller="erase_customers").tolist()
    ['17', '17', '17', '17', '17', '017.0', None]
    """
    if isinstance(ids, np.ndarray) and ids.ndim != 1:
        raise ConfigError(
            f"The {name!r} parameter of {caller} must be one-dimensional (a list, Series or 1-D "
            f"array of customer ids). Got an array of shape {ids.shape}; use ids.ravel()."
        )
    values = (
        ids
        if isinstance(ids, pd.Series | pd.Index | np.ndarray)
        else as_list(ids, name=name, caller=caller)
    )
    codes, uniques = pd.factorize(pd.Series(values))
    texts = np.array([_text(v) for v in np.asarray(uniques, dtype=object)] + [None], dtype=object)
    return texts[codes]  # code -1 (missing) picks the trailing None


def _text(value: Any) -> str:
    if isinstance(value, float | np.floating) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    whole = _WHOLE_FLOAT.match(text) if "." in text else None
    return whole.group(1) if whole else text


def id_hash_units(texts: np.ndarray, *, key: str) -> np.ndarray:
    """A number in [0, 1] per id text (from :func:`id_texts`), fixed by ``key`` (16 characters).

    The same customer gets the same number whatever the row order or the ids' dtype: stable
    holdouts are drawn by it (a share ``f`` is the ids under ``f``, or the ``n`` smallest).
    """
    hashed = pd.util.hash_pandas_object(pd.Series(texts, dtype="str"), index=False, hash_key=key)
    return np.asarray(hashed.to_numpy(dtype=np.uint64) / float(np.iinfo(np.uint64).max))


def ids_in(values: object, targets: object) -> np.ndarray:
    """Mask over ``values`` (ids or their texts): True where the value is one of ``targets``.

    Matched through pandas' hash table on object arrays: on pandas 3's ``str`` dtype, ``isin``
    makes a Python scalar of every target one at a time, about 12 s for the 500,000 ids of 64
    hexadecimal characters of a fashion retailer's export (H&M's) where this takes about 1 s.

    Examples
    --------
    >>> ids_in(pd.Index(["a", "b", None]), ["b", "c"]).tolist()
    [False, True, False]
    """
    left = np.asarray(values)
    right = np.asarray(targets)
    if left.dtype.kind in "iu" and right.dtype.kind in "iu":
        return np.asarray(pd.Index(left).isin(right), dtype=bool)
    return np.asarray(
        pd.Index(left.astype(object), dtype=object).isin(right.astype(object)), dtype=bool
    )
