"""The small hierarchy of errors that loyalty_ml raises.

Every error a user can trigger with bad input is a :class:`LoyaltyMLError`. The subclasses that describe
bad values also inherit :class:`ValueError`, so code that already catches ``ValueError`` keeps working.
Messages name the table, the column, the first few offending values or rows with a count, and the fix.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "ConfigError",
    "DataError",
    "DataQualityWarning",
    "LeakageError",
    "LoyaltyMLError",
    "ModelNotFitted",
    "NotFittedError",
    "PolicyError",
    "SchemaError",
    "TrackingError",
    "format_examples",
    "format_ids",
    "index_hint",
    "withhold_ids",
]


class LoyaltyMLError(Exception):
    """Base class of every error raised on purpose by loyalty_ml."""


class SchemaError(LoyaltyMLError, ValueError):
    """A table does not meet its data contract (missing column, wrong type, bad values).

    Attributes
    ----------
    table : str
        The table the problem was found in (``"transactions"``, ``"customers"``, ...).
    column : str or None
        The column at fault, when there is one.
    """

    def __init__(self, message: str, *, table: str = "", column: str | None = None) -> None:
        super().__init__(message)
        self.table = table
        self.column = column


class DataError(LoyaltyMLError, ValueError):
    """The data is well-formed but cannot support the request (e.g. a horizon past its end)."""


class LeakageError(DataError):
    """A request would let information from after ``as_of`` (or the outcome of a treatment) leak
    into features or labels."""


class ConfigError(LoyaltyMLError, ValueError):
    """A configuration object or parameter has an invalid value."""


class PolicyError(LoyaltyMLError, ValueError):
    """An offer or trigger policy cannot be applied as asked (unknown offer, infeasible budget...)."""


class TrackingError(LoyaltyMLError):
    """MLflow tracking or registry problem: unknown model or alias, unreachable server."""


class DataQualityWarning(UserWarning):
    """The data passed the contract but looks wrong in a way worth a look (e.g. many duplicates)."""


class NotFittedError(LoyaltyMLError, _SklearnNotFittedError):
    """An estimator was used before ``fit``; also a scikit-learn ``NotFittedError``."""


ModelNotFitted = NotFittedError


def format_examples(values: Iterable[Any], *, total: int | None = None, limit: int = 5) -> str:
    """Render the first few offending values and the total count for an error message.

    Examples
    --------
    >>> format_examples([3, 7, 9], total=120)
    '[3, 7, 9] (120 in total)'
    >>> format_examples([np.int64(39899), np.float32(2.5)])  # numpy scalars read as plain numbers
    '[39899, 2.5]'
    """
    shown: Sequence[Any] = [_plain(v) for v in _take(values, limit)]
    text = "[" + ", ".join(repr(v) for v in shown) + "]"
    if total is not None and total > len(shown):
        text += f" ({total} in total)"
    return text


#: Environment variable that makes jobs quote customer ids in their error messages again.
SHOW_IDS_ENV = "LOYALTY_ML_SHOW_IDS"
_WITHHOLD: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "loyalty_ml_withhold_ids", default=False
)
_F = TypeVar("_F", bound=Callable[..., Any])


def ids_withheld() -> bool:
    """Whether messages built now leave customer ids out (inside a job, see :func:`withhold_ids`)."""
    return _WITHHOLD.get() and os.environ.get(SHOW_IDS_ENV, "").strip().lower() not in {
        "1",
        "true",
        "yes",
    }


@contextlib.contextmanager
def _withholding() -> Iterator[None]:
    token = _WITHHOLD.set(True)
    try:
        yield
    finally:
        _WITHHOLD.reset(token)


def withhold_ids(func: _F) -> _F:
    """Decorate a job's entry point so that its error messages do not quote customer ids.

    A notebook user holds the data, so a message that names the offending customers helps; a job's
    messages end in logs that outlive the data and its consent, so jobs (the CLI, the served model,
    ``score_customers``, ``train_and_register``) give counts and row numbers instead, and say how
    to see the ids: set the environment variable ``LOYALTY_ML_SHOW_IDS=1`` while debugging.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _withholding():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def format_ids(values: Iterable[Any], *, total: int | None = None, limit: int = 5) -> str:
    """:func:`format_examples` for customer ids: inside a job (:func:`withhold_ids`) only a count.

    Examples
    --------
    >>> format_ids(["a@example.com"], total=1)
    "['a@example.com']"
    """
    if not ids_withheld():
        return format_examples(values, total=total, limit=limit)
    listed = list(values)
    count = total if total is not None else len(listed)
    kind = ""
    if listed:  # the ids' type and length help match two tables without naming anyone
        first = listed[0]
        size = f" of {len(first)} characters" if isinstance(first, str) else ""
        kind = f", e.g. {type(first).__name__}{size}"
    return (
        f"[{count} customer id(s){kind}: withheld from job logs; set {SHOW_IDS_ENV}=1 to show them]"
    )


def index_hint(frame: Any, missing: Iterable[Any]) -> str:
    """A sentence for a missing-column error when the columns are the frame's index levels.

    A table indexed by ``customer_id`` (``groupby`` results, ``set_index``) has no such column;
    the bare "missing column" error then reads as if the data lacked it.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"amount": [1.0]}, index=pd.Index([7], name="customer_id"))
    >>> index_hint(frame, ["customer_id"])
    " ['customer_id'] is the table's index, not a column: pass frame.reset_index()."
    >>> index_hint(frame, ["timestamp"])
    ''
    """
    names = set(getattr(getattr(frame, "index", None), "names", None) or ()) - {None}
    in_index = [c for c in missing if c in names]
    if not in_index:
        return ""
    return f" {in_index} is the table's index, not a column: pass frame.reset_index()."


def _plain(value: Any) -> Any:
    """A numpy number, bool or text as the Python value (numpy 2 reprs ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.number | np.bool_ | np.str_) else value


def _take(values: Iterable[Any], limit: int) -> Iterable[Any]:
    for i, value in enumerate(values):
        if i >= limit:
            break
        yield value
