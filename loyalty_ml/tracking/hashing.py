"""A stable fingerprint of input tables, logged with every run so a model can be traced to its data."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

__all__ = ["hash_frame", "hash_frames"]


def hash_frame(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, dtypes, index and values (row order matters).

    Two frames get the same hash exactly when they hold the same values in the same layout; the hash
    reveals nothing about the values themselves, so it is safe to log.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> hash_frame(a) == hash_frame(a.copy()), hash_frame(a) == hash_frame(a.iloc[::-1])
    (True, False)
    """
    digest = hashlib.sha256()
    header = [f"{name}:{dtype}" for name, dtype in frame.dtypes.items()]
    digest.update(("|".join(header) + f"#{len(frame)}").encode())
    if len(frame):
        try:
            rows = pd.util.hash_pandas_object(frame, index=True, categorize=True)
        except TypeError:  # unhashable cells (lists, arrays: a tags column): hash their text
            rows = pd.util.hash_pandas_object(
                frame.apply(
                    lambda column: column.map(_cell_text) if column.dtype == object else column
                ),
                index=True,
                categorize=True,
            )
        digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def _cell_text(value: object) -> object:
    """A list or array cell as its text (repr of its items), other cells as they are."""
    if isinstance(value, list | tuple | np.ndarray):
        return repr(list(value))
    return value


def hash_frames(**frames: pd.DataFrame | None) -> str:
    """One hash over several named tables (``None`` entries are recorded as absent).

    Examples
    --------
    >>> tx = pd.DataFrame({"x": [1]})
    >>> hash_frames(transactions=tx, customers=None) != hash_frames(transactions=tx)
    True
    """
    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        digest.update(f"{name}={'-' if frame is None else hash_frame(frame)};".encode())
    return digest.hexdigest()
