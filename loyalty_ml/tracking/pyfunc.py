"""The registered MLflow model: one ``mlflow.pyfunc.PythonModel`` around a :class:`LoyaltyPolicy`.

Input: one row per customer with the feature columns, and optionally the ids, either as a ``customer_id``
column (strings or integers) or as the index named ``customer_id`` (what ``build_features`` returns).
Optional consent columns: ``consent_marketing`` (False or missing: no offer, no channel) and
``consent_profiling`` (False or missing: the row is not scored, as :func:`score_customers` leaves
out a customer without profiling consent).
Output: one row per input row with the decision columns, and ``customer_id`` first when ids were given.
Served with ``mlflow models serve -m models:/loyalty_ml@champion --env-manager local``, it answers
``POST /invocations`` with ``{"dataframe_split": {"columns": [...], "data": [[...]]}}``. A request it
refuses gets HTTP 400 with loyalty_ml's message (:func:`served_error`); values no feature of
``build_features`` can hold are refused (:func:`refuse_impossible_values`).
"""

from __future__ import annotations

import math
import pickle
import re
import tempfile
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    PolicyError,
    SchemaError,
    format_examples,
    withhold_ids,
)
from loyalty_ml.features.segments import RFM_INPUTS
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._bad_rows import bad_rows
from loyalty_ml.schema._coerce import coerce_bool, coerce_customer_id, refuse_missing_ids
from loyalty_ml.tracking.policy import (
    DECISION_COLUMNS,
    NUMERIC_DECISION_COLUMNS,
    LoyaltyPolicy,
    not_profiled_decisions,
    unseen_levels,
)

__all__ = [
    "LoyaltyPolicyModel",
    "input_example",
    "log_policy_model",
    "model_signature",
    "refuse_impossible_values",
    "request_contract",
    "served_error",
]

_ARTIFACT = "policy"
#: Optional request column: marketing consent per customer (False or missing: no offer, no channel).
CONSENT_INPUT = C.CONSENT_MARKETING
#: Optional request column: profiling consent per customer (False or missing: not scored at all).
PROFILING_INPUT = C.CONSENT_PROFILING
# Packages the pickled policy needs to load and run, pinned to what trained it: loyalty_ml and
# every runtime dependency it declares (read from its metadata; this list when not installed).
_RUNTIME = (
    "loyalty_ml",
    "mlflow",
    "numpy",
    "pandas",
    "scikit-learn",
    "lightgbm",
    "scipy",
    "pyarrow",
)


class LoyaltyPolicyModel(PythonModel):
    """The pyfunc wrapper; the policy itself is a pickled artifact loaded in ``load_context``."""

    # MLflow reads predict's type hints (pd.DataFrame is one it understands); the column-level
    # signature is given explicitly when the model is logged.
    def load_context(self, context: Any) -> None:
        with open(context.artifacts[_ARTIFACT], "rb") as handle:
            self.policy: LoyaltyPolicy = pickle.load(handle)

    @withhold_ids
    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Decisions for each row of ``model_input`` (a DataFrame of feature columns).

        Two optional columns carry the customer's consent, read as ``True``/``False``, ``1``/``0``
        or yes/no text: ``consent_marketing`` (False or missing: no offer, channel ``"none"``) and
        ``consent_profiling`` (False or missing: the row is not profiled, as in
        ``score_customers``: its features are not read, checked or passed to the churn, uplift or
        SHAP models; the answer has no churn probability, risk band or segment, ``action="none"``,
        no offer, ``offer_reason="no profiling consent"`` and a ``reason_1`` saying so). Without
        ``consent_profiling`` every row is scored (consent managed upstream, as ``score_customers``
        reads a customers table without the flag), with a :class:`DataQualityWarning` when the
        model was trained with the flag (``score_customers`` refuses that case). A consent column
        missing on every row (one a reindex to the signature's columns added) is read as no
        consent on every row and warned about. A model registered before the column existed
        has no ``consent_profiling`` in its signature, so MLflow drops it and scores every row:
        retrain to register it with the column.

        ``params``, all optional (a served request passes them as ``{"dataframe_split": ...,
        "params": {"reasons": "none", "budget": 500}}``):

        * ``reasons``: ``"all"`` (the default), ``"actioned"`` or ``"none"``, the rows that get
          reason codes (TreeSHAP costs a few milliseconds per row);
        * ``budget``: a cap on the total prudent cost of the offers made to the rows of this
          request (see :meth:`LoyaltyPolicy.decide`); none by default, so that a customer's offer
          does not depend on the other rows sent;
        * ``strategy``: ``"cheapest_effective"`` (the default) or ``"max_net_value"``.

        Values no feature built by ``build_features`` can hold (a share of 45, a negative count,
        ``n_orders`` of 0, infinity, ``recency_days`` above ``tenure_days``) are refused; category
        levels the model never saw (read as missing, or as ``"(rare)"`` by a model that pools rare
        levels, which warns only of a new level held by as many rows as it pooled below, or one
        differing from a known level in case or blanks) and counts that are not whole numbers are
        warned about (:class:`DataQualityWarning`).

        Raises the loyalty_ml error of a request it refuses (:class:`SchemaError`,
        :class:`DataError`, :class:`ConfigError`, :class:`PolicyError`), as an
        ``MlflowException`` too (see :func:`served_error`): MLflow's scoring server answers with
        its message, where any other exception becomes a generic "unexpected error".
        """
        try:
            return self._decide(model_input, params)
        except _REQUEST_ERRORS as exc:
            raise served_error(exc) from exc

    def _decide(self, model_input: pd.DataFrame, params: dict[str, Any] | None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        if frame.shape == (0, 0):
            # MLflow drops every column the signature does not name, and with the last of them
            # every row: a batch of misnamed columns would come back as an empty answer
            raise SchemaError(
                "model_input reached the model with no column it knows and no row: either none "
                f"of its column names is one of the model's ({C.CUSTOMER_ID}, the "
                f"{len(self.policy.feature_names)} features such as "
                f"{', '.join(self.policy.feature_names[:3])}, {CONSENT_INPUT}, "
                f"{PROFILING_INPUT}), which MLflow "
                "drops with every row, or it was an empty batch without column names. Name the "
                "columns as build_features does (the model's signature lists them); send an empty "
                "batch as dataframe_split with its columns.",
                table="model_input",
            )
        if C.CUSTOMER_ID not in frame.columns and frame.index.name == C.CUSTOMER_ID:
            # features straight from build_features: the ids are the index
            frame = frame.reset_index()
        has_id = C.CUSTOMER_ID in frame.columns
        if has_id:
            # ids by value, as the nightly job sees them (13085.0 is 13085: same holdout group);
            # text ids answered as sent ("13085.0": the holdout hashes it as 13085)
            ids = coerce_customer_id(
                frame[C.CUSTOMER_ID], table="model_input", strip_float_text=False
            )
            refuse_missing_ids(frame.assign(**{C.CUSTOMER_ID: ids}), table="model_input")
            frame = frame.assign(**{C.CUSTOMER_ID: ids}).set_index(C.CUSTOMER_ID)
        elif self.policy.uplift_model is not None and self.policy.holdout_fraction > 0:
            warn_user(
                "model_input has no customer_id: the offer holdout is drawn by row position, so "
                "it changes with the order of the rows. Send customer_id (a column or the index) "
                "for the stable holdout incrementality is measured against.",
                DataQualityWarning,
            )
        if len(frame) == 0:  # an empty batch, sent with its column names
            empty = pd.DataFrame(
                {name: pd.Series(dtype=_output_dtype(name)) for name in DECISION_COLUMNS}
            )
            if has_id:
                empty.insert(0, C.CUSTOMER_ID, pd.Series(dtype=object))
            return _missing_as_none(empty)
        consent = None
        # consent columns sent with no value at all (a caller's reindex to the signature's
        # columns adds them so): read as no consent, which is right row by row but surely not meant
        blank: list[str] = []
        if CONSENT_INPUT in frame.columns:
            # the request's own consent flags: no marketing consent, no offer and no channel
            consent = coerce_bool(
                frame.pop(CONSENT_INPUT), table="model_input", column=CONSENT_INPUT
            )
            blank += [CONSENT_INPUT] if consent.isna().all() else []
            consent = consent.fillna(False)
        refused = None
        profiling_sent = PROFILING_INPUT in frame.columns
        if profiling_sent:
            # no profiling consent: the row is not scored, as score_customers leaves it out
            profiling = coerce_bool(
                frame.pop(PROFILING_INPUT), table="model_input", column=PROFILING_INPUT
            )
            blank += [PROFILING_INPUT] if profiling.isna().all() else []
            refused = ~profiling.fillna(False).to_numpy(dtype=bool)
        if refused is not None and refused.any():
            # their features are neither read nor checked (reading them is the profiling
            # refused): blanked rather than dropped, so that a refusal of another row names
            # its place in the request
            frame = frame.mask(np.broadcast_to(refused[:, None], frame.shape))
        else:
            refused = None
        # the model's view of the request, checked before deciding: decide takes it as it is
        prepared = self.policy.prepare(frame)
        refuse_impossible_values(prepared)
        notes = [*unseen_levels(self.policy, frame, prepared), *_fractional_counts(prepared)]
        if refused is not None:
            # only the rows that may be profiled reach the churn, uplift and SHAP models
            kept = np.flatnonzero(~refused)
            prepared = prepared.iloc[kept]
            consent = None if consent is None else consent.iloc[kept]
        given = params or {}
        decisions = self.policy.decide(
            prepared,
            reasons=given.get("reasons", "all"),
            consent_marketing=consent,
            budget=given.get("budget"),
            strategy=given.get("strategy", "cheapest_effective"),
        )
        if refused is not None:
            not_profiled = not_profiled_decisions(frame.index[refused])
            decisions = _in_request_order(decisions, not_profiled, refused)
        # after decide, so that a request it refuses gets its error, not these
        for note in notes:
            warn_user(note, DataQualityWarning)
        if consent is None:
            _warn_without_consent(decisions)
        if not profiling_sent and PROFILING_INPUT in getattr(self.policy, "consent_flags", ()):
            _warn_without_profiling_consent(len(decisions))
        if blank:
            _warn_blank_consent(blank, len(decisions))
        if has_id:
            decisions = decisions.reset_index()
        else:
            decisions = decisions.reset_index(drop=True)
        return _missing_as_none(decisions)


def _in_request_order(
    decided: pd.DataFrame, not_profiled: pd.DataFrame, refused: np.ndarray
) -> pd.DataFrame:
    """The decisions of the profiled rows and the rows of those not profiled (``refused``), in
    the request's row order (by position: a request without ids may repeat index labels)."""
    parts, positions = [not_profiled], [np.flatnonzero(refused)]
    if len(decided):  # none when every row is refused
        parts.insert(0, decided)
        positions.insert(0, np.flatnonzero(~refused))
    return pd.concat(parts).iloc[np.argsort(np.concatenate(positions), kind="stable")]


def _warn_without_consent(decisions: pd.DataFrame) -> None:
    """A request without consent flags was served as consenting: say so when anyone is contacted
    or offered something (after decide, so that a request it refuses gets its error, not this)."""
    contacted = decisions["offer_id"].notna() | (
        decisions["channel"].notna() & decisions["channel"].ne("none")
    )
    if contacted.any():
        warn_user(
            f"model_input has no {CONSENT_INPUT} column: every row was served as if it had "
            "marketing consent, so a customer who refused marketing can be contacted or get "
            f"an offer ({int(contacted.sum())} of {len(decisions)} rows were). Send each "
            f"customer's {CONSENT_INPUT} (True / False; False or missing: no offer and channel "
            "'none').",
            DataQualityWarning,
        )


def _warn_blank_consent(columns: list[str], n_rows: int) -> None:
    """Consent columns without a value on any row: every row read as refusing."""
    what = {
        CONSENT_INPUT: "nobody was contacted or offered anything",
        PROFILING_INPUT: "no row was scored",
    }
    warn_user(
        f"model_input's {' and '.join(columns)} {'is' if len(columns) == 1 else 'are'} missing "
        f"on all {n_rows} rows, read as no consent, so {' and '.join(what[c] for c in columns)}. "
        "A column added empty does this, e.g. by reindexing the request to the signature's "
        "columns: fill it with each customer's consent (True on every row when consent is "
        "managed upstream).",
        DataQualityWarning,
    )


def _warn_without_profiling_consent(n_rows: int) -> None:
    """A request without ``consent_profiling`` to a model trained with the flag: every row was
    scored. ``score_customers`` refuses a customers table without a flag the model was trained
    with; a request has no table to refuse, so it is served and told."""
    warn_user(
        f"model_input has no {PROFILING_INPUT} column, but this model was trained on a customers "
        f"table with one: all {n_rows} rows were scored and explained, so a customer who refused "
        f"profiling was profiled. Send each customer's {PROFILING_INPUT} (True / False; False or "
        "missing: not scored; True on every row when consent is filtered upstream). A model "
        "registered "
        "before 2026-12-07 drops the column from every request (its signature lacks it): "
        "retrain it to register the column.",
        DataQualityWarning,
    )


#: The loyalty_ml errors that refuse a request (its data or its params), not a broken model.
_REQUEST_ERRORS = (SchemaError, DataError, ConfigError, PolicyError)


class _RequestRefused(MlflowException):
    """Base of :func:`served_error`'s classes: an MlflowException whose message stays ours.

    MLflow's scoring server rewrites the message of an MlflowException raised in ``predict`` as
    ``Failed to predict data '<the request frame>'. Error: <message>``: the frame's text quotes
    customer ids, which the served model keeps out of its messages (see ``withhold_ids``), and
    buries the message under it. The rewrite is ignored; any other message is taken.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # the class is made at run time (_refused_class), so pickle rebuilds it by its base
        # (multiprocessing and Spark workers send exceptions back pickled)
        base = next(c for c in type(self).__mro__[1:] if not issubclass(c, MlflowException))
        attrs = {k: v for k, v in vars(self).items() if k in ("table", "column")}
        return (_rebuild_refused, (base, self._message, attrs))

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, value: str) -> None:
        ours: str | None = getattr(self, "_message", None)
        if ours is None or not str(value).endswith(ours):
            self._message = str(value)


_REFUSED: dict[type[Exception], type[_RequestRefused]] = {}


def _refused_class(error_class: type[Exception]) -> type[_RequestRefused]:
    """``Served<Error>``: an MlflowException that is also the loyalty_ml error ``error_class``."""
    if error_class not in _REFUSED:
        _REFUSED[error_class] = type(
            f"Served{error_class.__name__}",
            (_RequestRefused, error_class),
            {"__module__": __name__, "__doc__": f"A {error_class.__name__} of a served request."},
        )
    return _REFUSED[error_class]


def _rebuild_refused(
    error_class: type[Exception], message: str, attrs: dict[str, Any]
) -> MlflowException:
    """A pickled :func:`served_error` rebuilt (its traceback is not kept)."""
    error = error_class.__new__(error_class)
    Exception.__init__(error, message)
    error.__dict__.update(attrs)
    return served_error(error)


def served_error(error: Exception) -> MlflowException:
    """``error`` (a loyalty_ml error refusing a request) as an MlflowException of the same class.

    MLflow's scoring server answers an MlflowException with its message and error code (here
    ``INVALID_PARAMETER_VALUE``: HTTP 400), and any other exception with "Encountered an
    unexpected error while evaluating the model", the real message only in the last line of
    ``stack_trace``. The returned exception is still an instance of ``type(error)`` (a Python
    caller of the pyfunc catching :class:`SchemaError` catches it), keeps ``error``'s attributes
    (``table``, ``column``) and sends ``error``'s traceback as ``stack_trace``, as before.

    Examples
    --------
    >>> served = served_error(SchemaError("features lack 'spend'.", table="features"))
    >>> isinstance(served, SchemaError), served.get_http_status_code(), served.message
    (True, 400, "features lack 'spend'.")
    """
    refused = _refused_class(type(error))
    served = refused(
        str(error),
        error_code=INVALID_PARAMETER_VALUE,
        stack_trace="".join(traceback.format_exception(error)),
    )
    served.__dict__.update(vars(error))  # table and column of a SchemaError
    return served


class _Domain(NamedTuple):
    names: re.Pattern[str]
    low: float
    high: float
    meaning: str
    whole: bool = False  # a count: whole numbers


#: What each feature of build_features can hold (the feature families' docstrings, checked on the
#: simulator and on Online Retail II with returns kept). Features not listed with a range (spend,
#: aov, margin_rate, days_overdue, items_per_order: returns can make them negative) are only
#: refused when infinite; features of other names (extra attributes) are not checked.
_DOMAINS = (
    _Domain(
        re.compile("n_orders"),
        1.0,
        math.inf,
        "the customer's order count: build_features and score_customers leave out customers "
        "without a purchase, whose churn the model was never trained on",
        whole=True,
    ),
    _Domain(
        re.compile(
            r"n_orders(?:_prev)?_\d+d|n_categories|n_products|n_channels|n_stores"
            r"|offers_(?:received|redeemed)"
        ),
        0.0,
        math.inf,
        "a count",
        whole=True,
    ),
    _Domain(
        re.compile(
            r"recency_days|tenure_days|ipi_(?:mean|median|std|cv)|overdue_ratio"
            r"|category_entropy|days_since_last_(?:offer|redemption)"
        ),
        0.0,
        math.inf,
        "days, or a spread of days, from build_features",
    ),
    _Domain(
        re.compile(r"channel_share_.+|high_margin_share|discount_share|redemption_rate"),
        0.0,
        1.0,
        "a share (0.25 for 25%)",
    ),
    _Domain(
        re.compile(r"(?:freq|spend|aov)_trend"),
        -1.0,
        1.0,
        "a symmetric ratio (latest - previous) / (latest + previous)",
    ),
    _Domain(
        re.compile(
            r"spend(?:_\d+d)?|aov|margin_rate|days_overdue|items_per_order|discount_depth"
            r"|signup_tenure_days"
        ),
        -math.inf,
        math.inf,
        "a finite number",
    ),
)
#: Rounding a request may carry: values this far out are not refused (a share of 1 sent from a
#: float32 column, Spark's FloatType, arrives as 1.0000001192092896).
_SLACK = 1e-6


def _domain(name: object) -> _Domain | None:
    return next((d for d in _DOMAINS if d.names.fullmatch(str(name))), None)


def refuse_impossible_values(features: pd.DataFrame) -> None:
    """SchemaError for values that no feature of ``build_features`` can hold.

    ``features`` is a request as :meth:`LoyaltyPolicy.prepare` returns it (numeric features as
    float64). Refused, naming the column, the first rows and the fix: infinity in any of the
    library's features, values outside a feature's range (a negative count, ``n_orders`` below
    1, a share outside [0, 1], a trend outside [-1, 1], negative days) and ``recency_days`` above
    ``tenure_days`` (the last order before the first). Missing values pass.

    Examples
    --------
    >>> refuse_impossible_values(pd.DataFrame({"discount_share": [0.2, 35.0]}))
    Traceback (most recent call last):
    ...
    loyalty_ml.exceptions.SchemaError: model_input.discount_share holds values outside [0.0, 1.0]; ...
    """
    problems: list[tuple[str, np.ndarray, str]] = []  # column, rows, why
    for name in features.columns:
        domain = _domain(name)
        if domain is None or features[name].dtype != np.float64:
            continue
        x = features[name].to_numpy()
        infinite = np.isinf(x)
        outside = ~infinite & ((x < domain.low - _SLACK) | (x > domain.high + _SLACK))
        if infinite.any():
            why = f"holds infinite values; it is {domain.meaning}"
            problems.append((str(name), infinite, why))
        elif outside.any():
            why = f"holds values outside [{domain.low}, {domain.high}]; it is {domain.meaning}"
            problems.append((str(name), outside, why))
    if {"recency_days", "tenure_days"} <= set(features.columns):
        recency = features["recency_days"].to_numpy(dtype=np.float64)
        tenure = features["tenure_days"].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            later = recency > tenure + _SLACK
        if later.any():
            problems.append(
                (
                    "recency_days",
                    later,
                    "is above tenure_days (days since the last order above days since the "
                    "first), which no customer can have: are both days counted to the same "
                    "as_of, and neither in hours?",
                )
            )
    if not problems:
        return
    name, mask, why = problems[0]
    others = sorted({p[0] for p in problems[1:]} - {name})
    also = f" So do {format_examples(others, total=len(others))}." if others else ""
    shown = features[name].to_numpy()[mask]
    domain = _domain(name)
    share = domain is not None and (domain.low, domain.high) == (0.0, 1.0)
    # percentages: the refused values are 1.5 to 100, and most of the column is above 1
    column = features[name].to_numpy(dtype=np.float64)
    percent = share and bool(
        np.isfinite(shown).all()
        and shown.max() <= 100
        and shown.max() > 1.5
        and np.nanmedian(column) > 1
    )
    raise SchemaError(
        f"model_input.{name} {why} {bad_rows(features[name], mask)}.{also} Send the features as "
        "build_features computes them"
        + (" (these look like percentages: divide them by 100)" if percent else "")
        + ("; send a missing value as null." if name not in RFM_INPUTS else "."),
        table="model_input",
        column=name,
    )


def _fractional_counts(features: pd.DataFrame) -> list[str]:
    """A warning for each count feature holding numbers that are not whole (averaged, scaled)."""
    notes = []
    for name in features.columns:
        domain = _domain(name)
        if domain is None or not domain.whole or features[name].dtype != np.float64:
            continue
        x = features[name].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            fractional = np.isfinite(x) & (x != np.round(x))
        if fractional.any():
            notes.append(
                f"model_input.{name} holds counts that are not whole numbers "
                f"{bad_rows(features[name], fractional)}; build_features counts whole orders, "
                "offers and items. Check how the column is computed (an average, a scaled "
                "value?)."
            )
    return notes


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values as ``None`` (object columns), so that a served answer is strict JSON.

    ``mlflow models serve`` writes a pandas NaN as the bare token ``NaN``, which Python's ``json``
    reads but JSON itself (and so JavaScript's ``JSON.parse`` or Jackson) refuses; ``None`` is written
    as ``null``. Every text column of the decisions is ``object`` whether or not this batch has a
    missing value in it (``offer_id`` without an offer, ``channel`` without a contact, ``reason_k``
    with fewer reasons), so that the answer's types do not depend on the batch.
    """
    out = frame.copy()
    for name in out.columns:
        missing = out[name].isna()
        if missing.any() or _output_dtype(name) is object:
            column = out[name].astype(object)
            column[missing.to_numpy()] = None
            out[name] = column
    return out


def _output_dtype(name: str) -> Any:
    return np.float64 if name in NUMERIC_DECISION_COLUMNS else object


def model_signature(policy: LoyaltyPolicy) -> Any:
    """Feature columns in (``customer_id``, ``consent_marketing`` and ``consent_profiling``
    optional), decision columns out.

    Every input column is ``Any``; the policy checks and coerces the values itself (see
    ``LoyaltyPolicy.prepare``). MLflow's typed columns refuse what other systems naturally send:
    ``string`` refuses integer ids and pandas ``category`` (as ``build_features`` returns them), and
    ``double`` refuses int64, bool and nullable numbers (an order count as an int), with an error
    that prints the whole input, customer ids included. The price is MLflow's slower check of
    ``Any`` columns: about 17 microseconds per row for 24 features, 0.2 s for 10,000 rows.

    The feature columns are listed but not ``required``: a missing one is refused by
    ``LoyaltyPolicy.prepare`` with a SchemaError that names it, where MLflow's own refusal prints the
    whole input, customer ids included.
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, ParamSchema, ParamSpec, Schema

    inputs: list[Any] = [ColSpec(AnyType(), C.CUSTOMER_ID, required=False)]
    for name in policy.feature_names:
        inputs.append(ColSpec(AnyType(), name, required=False))
    inputs.append(ColSpec(AnyType(), CONSENT_INPUT, required=False))
    inputs.append(ColSpec(AnyType(), PROFILING_INPUT, required=False))
    outputs: list[Any] = [ColSpec(AnyType(), C.CUSTOMER_ID, required=False)]
    for name in DECISION_COLUMNS:
        outputs.append(ColSpec("double" if name in NUMERIC_DECISION_COLUMNS else "string", name))
    params = ParamSchema(
        [
            ParamSpec("reasons", "string", "all"),
            ParamSpec("budget", "double", None),
            ParamSpec("strategy", "string", "cheapest_effective"),
        ]
    )
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs), params=params)


#: Fewest customers sharing a category level for it to appear in the stored input example.
_EXAMPLE_MIN_COUNT = 10


def input_example(
    policy: LoyaltyPolicy, features: pd.DataFrame, *, n_rows: int = 3
) -> pd.DataFrame:
    """A synthetic example: quantiles of each numeric feature (counts rounded to whole numbers) and
    frequent levels of each category.

    No row belongs to a real customer (each column is an aggregate of the training features) and the
    ids are made up, so the example can be stored with the model. A category level is shown only if
    at least ``_EXAMPLE_MIN_COUNT`` customers share it (a rare level could name one person).
    """
    qs = np.linspace(0.1, 0.9, n_rows)
    rows: dict[str, Any] = {C.CUSTOMER_ID: [f"example_{i + 1}" for i in range(n_rows)]}
    for name in policy.feature_names:
        values = features[name]
        if name in policy.feature_categories:
            counts = values.astype("str").value_counts()
            common = counts[(counts >= _EXAMPLE_MIN_COUNT) & (counts.index != C.RARE_LEVEL)]
            levels = list(common.index[:n_rows]) or [""]
            rows[name] = [levels[i % len(levels)] for i in range(n_rows)]
        else:
            numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=np.float64)
            example = np.quantile(numbers, qs) if len(numbers) else np.zeros(n_rows)
            domain = _domain(name)
            # counts as whole numbers, as a caller sends them (the served model warns otherwise)
            rows[name] = example.round(0 if domain is not None and domain.whole else 4)
    # what a caller should send with every row (a request without them offers and scores everyone)
    rows[CONSENT_INPUT] = [True] * n_rows
    rows[PROFILING_INPUT] = [True] * n_rows
    # Column labels as plain objects: MLflow 3.16 compares them with a range, which pandas 3.0.0's
    # Arrow-backed string index refuses (NotImplementedError) when the example is saved.
    return pd.DataFrame(rows, columns=pd.Index(list(rows), dtype=object))


def _runtime_packages() -> list[str]:
    """loyalty_ml and its declared runtime dependencies (not the dev/bench extras)."""
    from importlib.metadata import requires

    try:
        declared = requires("loyalty_ml") or []
    except PackageNotFoundError:
        return list(_RUNTIME)
    names = [
        re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip()
        for requirement in declared
        if "extra ==" not in requirement
    ]
    return list(dict.fromkeys(["loyalty_ml", *_RUNTIME[1:], *filter(None, names)]))


def pip_requirements() -> list[str]:
    """Pinned requirements of the packages the model needs at load time (installed versions)."""
    out = []
    for package in _runtime_packages():
        try:
            out.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            out.append(package)
    return out


def request_contract(policy: LoyaltyPolicy) -> dict[str, Any]:
    """What a request must hold, for the systems that call the served model: stored in the model's
    ``MLmodel`` file (``mlflow.models.get_model_info(uri).metadata["loyalty_ml_request"]``), since
    the signature types every column ``Any`` and requires none (see :func:`model_signature`).

    Every feature is required as a column; ``nullable`` says whether a row may send it as a
    missing value (``recency_days``, ``n_orders`` and ``spend`` may not: the RFM classes are read
    from them). A category feature lists its levels: others are read as missing with a warning,
    or, where the levels end with ``"(rare)"`` (features built with
    ``FeatureConfig.min_level_customers`` > 1, the default), as ``"(rare)"``, the level of every
    value held by too few customers at training to be stored (warned about when a new level is
    held by as many rows, or differs from a known level only in case or blanks);
    a numeric one gives the range :func:`refuse_impossible_values` holds it to.
    ``consent_column`` and ``profiling_consent_column`` name the optional consent columns
    (``consent_marketing``, ``consent_profiling``), each with a note on how it is read.

    Examples
    --------
    >>> from loyalty_ml.features import FeatureConfig
    >>> policy = LoyaltyPolicy(feature_config=FeatureConfig(), churn_model=None,
    ...     feature_names=("n_orders", "tier"), feature_categories={"tier": ("gold", "silver")})
    >>> request_contract(policy)["features"]  # doctest: +NORMALIZE_WHITESPACE
    [{'name': 'n_orders', 'type': 'number', 'required': True, 'nullable': False, 'min': 1.0,
      'whole': True},
     {'name': 'tier', 'type': 'category', 'required': True, 'nullable': True,
      'levels': ['gold', 'silver']}]
    """
    features: list[dict[str, Any]] = []
    for name in policy.feature_names:
        spec: dict[str, Any] = {"name": name}
        nullable = name not in RFM_INPUTS
        if name in policy.feature_categories:
            spec.update(type="category", required=True, nullable=nullable)
            spec["levels"] = [str(level) for level in policy.feature_categories[name]]
        else:
            spec.update(type="number", required=True, nullable=nullable)
            domain = _domain(name)
            if domain is not None:
                # JSON has no infinity: an open end is left out
                spec.update(
                    {
                        k: v
                        for k, v in (("min", domain.low), ("max", domain.high))
                        if math.isfinite(v)
                    }
                )
                if domain.whole:
                    spec["whole"] = True
        features.append(spec)
    return {
        "id_column": C.CUSTOMER_ID,
        "id_required": False,
        "consent_column": CONSENT_INPUT,
        "consent_note": "False or missing: no offer and no channel; without the column every row "
        "is treated as consenting, with a warning",
        "profiling_consent_column": PROFILING_INPUT,
        "profiling_consent_note": "False or missing: the row is not scored (no churn probability, "
        "no reasons, no offer; offer_reason 'no profiling consent') and its features are not "
        "read; without the column every row is scored (consent managed upstream)",
        "features": features,
        "missing_value": "null",
    }


def log_policy_model(
    policy: LoyaltyPolicy,
    *,
    example_features: pd.DataFrame,
    name: str = "model",
    registered_model_name: str | None = None,
) -> Any:
    """Log ``policy`` as a pyfunc model in the active run (and register it); returns the ModelInfo."""
    import mlflow

    example = input_example(policy, example_features)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.pkl"
        with open(path, "wb") as handle:
            pickle.dump(policy, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return mlflow.pyfunc.log_model(
            name=name,
            # models from code: MLflow runs this file at load time instead of unpickling the class
            python_model=str(Path(__file__).with_name("_model_code.py")),
            artifacts={_ARTIFACT: str(path)},
            signature=model_signature(policy),
            input_example=example,
            metadata={"loyalty_ml_request": request_contract(policy)},
            pip_requirements=pip_requirements(),
            registered_model_name=registered_model_name,
        )
