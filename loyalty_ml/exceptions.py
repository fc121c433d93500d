"""The small hierarchy of errors that loyalty_ml raises.

Every error a user can trigger with bad input is a :class:`LoyaltyMLError`. The subclasses that describe
bad values also inherit :class:`ValueError`, so code that already catches ``ValueError`` keeps working.
Messages name the table, the column, the first few offending values or rows with a count, and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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
    """A request would let information from after ``as_of`` leak into features or labels."""


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
    """
    shown: Sequence[Any] = list(_take(values, limit))
    text = "[" + ", ".join(repr(v) for v in shown) + "]"
    if total is not None and total > len(shown):
        text += f" ({total} in total)"
    return text


def _take(values: Iterable[Any], limit: int) -> Iterable[Any]:
    for i, value in enumerate(values):
        if i >= limit:
            break
        yield value
