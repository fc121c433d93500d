"""The registered MLflow model: one ``mlflow.pyfunc.PythonModel`` around a :class:`LoyaltyPolicy`.

Input: one row per customer with the feature columns, and optionally the ids, either as a ``customer_id``
column (strings or integers) or as the index named ``customer_id`` (what ``build_features`` returns).
Output: one row per input row with the decision columns, and ``customer_id`` first when ids were given.
Served with ``mlflow models serve -m models:/loyalty_ml@champion --env-manager local``, it answers
``POST /invocations`` with ``{"dataframe_split": {"columns": [...], "data": [[...]]}}``.
"""

from __future__ import annotations

import pickle
import re
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, SchemaError, withhold_ids
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_bool, coerce_customer_id, refuse_missing_ids
from loyalty_ml.tracking.policy import DECISION_COLUMNS, NUMERIC_DECISION_COLUMNS, LoyaltyPolicy

__all__ = ["LoyaltyPolicyModel", "input_example", "log_policy_model", "model_signature"]

_ARTIFACT = "policy"
#: Optional request column: marketing consent per customer (False or missing: no offer, no channel).
CONSENT_INPUT = C.CONSENT_MARKETING
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

        ``params``, all optional (a served request passes them as ``{"dataframe_split": ...,
        "params": {"reasons": "none", "budget": 500}}``):

        * ``reasons``: ``"all"`` (the default), ``"actioned"`` or ``"none"``, the rows that get
          reason codes (TreeSHAP costs a few milliseconds per row);
        * ``budget``: a cap on the total prudent cost of the offers made to the rows of this
          request (see :meth:`LoyaltyPolicy.decide`); none by default, so that a customer's offer
          does not depend on the other rows sent;
        * ``strategy``: ``"cheapest_effective"`` (the default) or ``"max_net_value"``.
        """
        frame = pd.DataFrame(model_input)
        if frame.shape == (0, 0):
            # MLflow drops every column the signature does not name, and with the last of them
            # every row: a batch of misnamed columns would come back as an empty answer
            raise SchemaError(
                "model_input reached the model with no column it knows and no row: either none "
                f"of its column names is one of the model's ({C.CUSTOMER_ID}, the "
                f"{len(self.policy.feature_names)} features such as "
                f"{', '.join(self.policy.feature_names[:3])}, {CONSENT_INPUT}), which MLflow "
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
            # ids by value, as the nightly job sees them (13085.0 is 13085: same holdout group)
            ids = coerce_customer_id(frame[C.CUSTOMER_ID], table="model_input")
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
        if CONSENT_INPUT in frame.columns:
            # the request's own consent flags: no marketing consent, no offer and no channel
            consent = coerce_bool(
                frame.pop(CONSENT_INPUT), table="model_input", column=CONSENT_INPUT
            ).fillna(False)
        given = params or {}
        decisions = self.policy.decide(
            frame,
            reasons=given.get("reasons", "all"),
            consent_marketing=consent,
            budget=given.get("budget"),
            strategy=given.get("strategy", "cheapest_effective"),
        )
        if consent is None:
            _warn_without_consent(decisions)
        if has_id:
            decisions = decisions.reset_index()
        else:
            decisions = decisions.reset_index(drop=True)
        return _missing_as_none(decisions)


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
    """Feature columns in (``customer_id`` optional), decision columns out.

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
    """A synthetic example: quantiles of each numeric feature and frequent levels of each category.

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
            common = counts[counts >= _EXAMPLE_MIN_COUNT]
            levels = list(common.index[:n_rows]) or [""]
            rows[name] = [levels[i % len(levels)] for i in range(n_rows)]
        else:
            numbers = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=np.float64)
            rows[name] = np.quantile(numbers, qs).round(4) if len(numbers) else np.zeros(n_rows)
    # what a caller should send with every row (a request without it offers everyone)
    rows[CONSENT_INPUT] = [True] * n_rows
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
            pip_requirements=pip_requirements(),
            registered_model_name=registered_model_name,
        )
