"""Pseudonymisation: salted hashes of customer ids, for anything that leaves the analysis (logs, MLflow).

An id is replaced by HMAC-SHA256(salt, id) in hexadecimal, cut to ``length`` characters. The same id and
salt always give the same pseudonym (joins across artifacts keep working); without the salt the id
cannot be recovered, even for small id ranges that could otherwise be hashed exhaustively. The salt
is configuration, never a constant in code: pass it, or set the ``LOYALTY_ML_SALT`` environment
variable (for instance from a secret store), e.g. to ``python -c "import secrets;
print(secrets.token_hex(32))"``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from typing import Any, overload

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError, format_examples
from loyalty_ml.privacy.minimisation import personal_data_columns
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import require_columns
from loyalty_ml.schema._id_text import as_list, id_texts

__all__ = ["SALT_ENV_VAR", "pseudonymise_frame", "pseudonymise_ids", "resolve_salt"]

#: Environment variable read when no salt is passed.
SALT_ENV_VAR = "LOYALTY_ML_SALT"
#: Fewest characters a salt must have.
MIN_SALT_LENGTH = 8


def resolve_salt(salt: str | None = None) -> str:
    """The salt to use: ``salt`` when given, else the ``LOYALTY_ML_SALT`` environment variable.

    Raises
    ------
    ConfigError
        When neither is set, or the salt is blank or shorter than ``MIN_SALT_LENGTH`` (8).
    """
    source = "the 'salt' parameter"
    if salt is None:
        salt = os.environ.get(SALT_ENV_VAR)
        source = f"the {SALT_ENV_VAR} environment variable"
        if salt is None:
            raise ConfigError(
                f"No salt for pseudonymisation: pass salt=... or set {SALT_ENV_VAR} (a long random "
                'secret kept out of the code, e.g. from `python -c "import secrets; '
                'print(secrets.token_hex(32))"`).'
            )
    if not isinstance(salt, str):
        raise ConfigError(f"The salt must be a str; got {type(salt).__name__} from {source}.")
    if not salt.strip():
        raise ConfigError(
            f"The salt from {source} is empty; an empty salt makes pseudonyms reversible by "
            "hashing every possible id. Use a long random secret."
        )
    if len(salt) < MIN_SALT_LENGTH:
        raise ConfigError(
            f"The salt from {source} has {len(salt)} character(s); a salt that short can be "
            "guessed, and with it every pseudonym reversed by hashing every possible id. Use at "
            f'least {MIN_SALT_LENGTH} (a random token: `python -c "import secrets; '
            'print(secrets.token_hex(32))"`).'
        )
    return salt


def _digest(key: bytes, value: Any, length: int) -> str:
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:length]


# A Series or Index is also an Iterable: the first matching overload (the specific one) wins.
@overload
def pseudonymise_ids(  # type: ignore[overload-overlap]
    ids: pd.Series, *, salt: str | None = ..., length: int = ...
) -> pd.Series: ...
@overload
def pseudonymise_ids(  # type: ignore[overload-overlap]
    ids: pd.Index, *, salt: str | None = ..., length: int = ...
) -> pd.Index: ...
@overload
def pseudonymise_ids(
    ids: Iterable[Any], *, salt: str | None = ..., length: int = ...
) -> list[str]: ...
def pseudonymise_ids(
    ids: pd.Series | pd.Index | Iterable[Any], *, salt: str | None = None, length: int = 16
) -> pd.Series | pd.Index | list[str]:
    """Replace customer ids by salted hashes.

    Ids are hashed by their text, so ``17``, ``"17"`` and ``17.0`` (an integer id read back from a CSV
    with missing values) get the same pseudonym.

    Parameters
    ----------
    ids : Series, Index or iterable
        The ids; a Series keeps its index and name, an Index its name; other iterables give a list.
        A single id is refused (a str would be read one character at a time): pass ``[id]``.
    salt : str, optional
        The secret salt; defaults to the ``LOYALTY_ML_SALT`` environment variable.
    length : int, default 16
        Hex characters kept (8 to 64). 16 (64 bits) makes a collision among 10 million ids about a
        one-in-300,000 event; a collision is detected and raised, never silent.

    Raises
    ------
    ConfigError
        No usable salt, a bad ``length``, or a single id instead of a list.
    DataError
        Missing ids, or two different ids with the same pseudonym.

    Examples
    --------
    >>> first, second = pseudonymise_ids([17, "17"], salt="s3cret-salt")
    >>> first == second, len(first), first == pseudonymise_ids([17], salt="0ther-salt")[0]
    (True, 16, False)
    """
    key = resolve_salt(salt).encode("utf-8")
    if (
        isinstance(length, bool | np.bool_)
        or not isinstance(length, int | np.integer)
        or not 8 <= length <= 64
    ):
        raise ConfigError(
            f"The 'length' parameter of pseudonymise_ids must be an int in [8, 64]. Got {length!r} instead."
        )
    length = int(length)
    texts = id_texts(ids, caller="pseudonymise_ids")
    # a blank id ("", " ") is missing, as validate_transactions reads it, not one shared customer
    missing = np.flatnonzero(pd.isna(texts) | (texts == "")).tolist()
    if missing:
        raise DataError(
            f"Cannot pseudonymise missing ids: {len(missing)} missing at positions "
            f"{format_examples(missing, total=len(missing))}. Drop them first."
        )
    cache = {text: _digest(key, text, length) for text in dict.fromkeys(texts)}
    if len(set(cache.values())) < len(cache):
        raise DataError(
            f"Two different ids got the same {length}-character pseudonym; use a larger length "
            f"(e.g. length={min(64, length * 2)})."
        )
    out = [cache[text] for text in texts]
    if isinstance(ids, pd.Series):
        return pd.Series(out, index=ids.index.copy(), name=ids.name, dtype="str")
    if isinstance(ids, pd.Index):
        return pd.Index(out, name=ids.name, dtype="str")
    return out


def pseudonymise_frame(
    frame: pd.DataFrame,
    *,
    salt: str | None = None,
    id_column: str = C.CUSTOMER_ID,
    drop_personal: bool = True,
    keep: Iterable[str] = (),
    length: int = 16,
) -> pd.DataFrame:
    """A copy of ``frame`` fit for logging: ids pseudonymised, personal columns dropped.

    Parameters
    ----------
    frame : DataFrame
        Holds ``id_column`` as a column and/or an index level (e.g. (as_of, customer_id)).
    salt : str, optional
        Defaults to ``LOYALTY_ML_SALT``.
    id_column : str, default "customer_id"
        The column or index level to pseudonymise.
    drop_personal : bool, default True
        Drop protected attributes (age band, gender, income band, and their encodings) and columns
        whose names look like personal data (name, e-mail, phone, address...).
    keep : iterable of str
        Columns to keep even though they would be dropped (an explicit, visible opt-in).
    length : int, default 16
        Hex characters of each pseudonym.

    Examples
    --------
    >>> frame = pd.DataFrame({"email": ["a@x"], "gender": ["F"], "score": [0.7]},
    ...                      index=pd.Index([17], name="customer_id"))
    >>> pseudonymise_frame(frame, salt="s3cret-salt").columns.tolist()
    ['score']
    """
    require_columns(frame, (), table="frame")
    if not isinstance(id_column, str) or not id_column:
        # None would match an unnamed index and leave a customer_id column in the clear
        raise ConfigError(
            f"pseudonymise_frame: id_column must name the id column or index level (a non-empty "
            f"string such as 'customer_id'); got {id_column!r}."
        )
    in_columns = id_column in frame.columns
    in_index = id_column in frame.index.names
    if not (in_columns or in_index):
        raise SchemaError(
            f"frame has no {id_column!r} column or index level to pseudonymise; it has columns "
            f"{frame.columns.tolist()} and index {list(frame.index.names)}. Pass id_column=...",
            table="frame",
            column=id_column,
        )
    out = frame.copy()
    if drop_personal:
        kept = set(as_list(keep, name="keep", caller="pseudonymise_frame"))
        labels = {str(c) for c in out.columns} | set(out.columns)
        unknown = sorted(str(k) for k in kept if k not in labels)
        if unknown:
            # a typo in keep would drop the very column it was meant to keep
            raise SchemaError(
                f"pseudonymise_frame: keep names columns the frame does not have: "
                f"{format_examples(unknown)}; its columns are {format_examples(out.columns.tolist())}.",
                table="frame",
                column=unknown[0],
            )
        flagged = set(personal_data_columns(out.columns, protected=True))
        # by the column labels themselves: a MultiIndex column is a tuple, not its text
        dropped = [
            c
            for c in out.columns
            if str(c) in flagged and c not in kept and str(c) not in kept and c != id_column
        ]
        out = out.drop(columns=dropped)
    if in_columns:
        out[id_column] = pseudonymise_ids(out[id_column], salt=salt, length=length)
    if in_index:
        if isinstance(out.index, pd.MultiIndex):
            # the ids of the rows, not the level's distinct values: a missing id is refused
            hashed = pseudonymise_ids(
                out.index.get_level_values(id_column), salt=salt, length=length
            )
            levels = [
                hashed if name == id_column else out.index.get_level_values(i)
                for i, name in enumerate(out.index.names)
            ]
            out.index = pd.MultiIndex.from_arrays(levels, names=out.index.names)
        else:
            out.index = pseudonymise_ids(out.index, salt=salt, length=length)
    return out
