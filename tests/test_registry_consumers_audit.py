"""Audit of the registered policy model as OTHER systems see it: straight from the MLflow registry.

What was audited (MLflow 3.17, one champion trained with campaigns and offers, so it chooses offers,
and one weaker challenger, in an embedded SQLite store in a temporary folder):

- loading: ``mlflow.pyfunc.load_model("models:/loyalty_ml@champion")`` in a fresh process with a
  clean environment (no PYTHONPATH, another working folder); the same with ``loyalty_ml`` not
  importable; ``@champion`` / ``@challenger`` / version numbers; ``mlflow.models.Model.load``; the
  requirements the model declares and ``mlflow.pyfunc.get_model_dependencies``;
- requests as MLflow's scoring server parses them (``scoring_server.invocations``, the function
  behind ``POST /invocations``, called without starting a server): ``dataframe_split``,
  ``dataframe_records``, ``inputs``, ``instances``, CSV; ints as floats, NaN as null, categories as
  text, shuffled and extra columns, 1, 0 and 10,000 rows, the ``reasons``, ``budget`` and
  ``strategy`` parameters;
- the signature and the stored input example (``validate_serving_input``, deprecated since MLflow
  3.13 but present), the output columns and dtypes, and decisions against
  ``load_policy(...).decide`` and ``score_customers``;
- errors: what a caller reads in the server's answer, and whether it names customers.

Right (guards below): every JSON format scores exactly like the feature frame (same offers, same
probabilities); ids come back as sent; a customer's decision does not depend on the batch; the
pyfunc, ``load_policy(...).decide`` and ``score_customers`` agree for customers with marketing
consent; the stored example validates; the output holds nothing sent besides ``customer_id``; an
unimportable ``loyalty_ml`` is named in the load error; bad inputs give 400 with the loyalty_ml
``SchemaError`` naming a missing column (in the answer's ``message`` since session 49, and still in
its ``stack_trace``; before, MLflow's server turned the non-MLflow exception into a generic
``message``) and no customer id.

Defects found, seven fixed and kept as regression tests: an empty batch in records form was
refused as "lacks 42 columns" (it is now refused as what it cannot be told apart from, below);
a batch whose column names the signature does not hold came back as an empty answer, as MLflow
drops unknown columns and, with the last of them, every row; the dtypes of ``channel``/``offer_id`` depended on whether the batch
held a customer without an offer; a ``consent_marketing`` column sent with the request was dropped,
so customers who said no got an offer and a channel (it is now an optional input); a customer whose
spend or recency equals a frozen RFM edge changed segment when the features went through
``DataFrame.to_json`` (10 decimals); the served error for a value that is not a number quoted the
customer ids as "rows"; scoring imports pandera, matplotlib and tqdm, which the model's
requirements did not pin (now every runtime dependency of loyalty_ml is pinned). One remains a
strict xfail, documented in the model card: CSV requests fail in MLflow's parser (the all-``Any``
signature, which lets JSON carry integer ids and counts, has no pandas types to read CSV with).
Later (session 56): a ``consent_profiling`` column was dropped the same way as
``consent_marketing`` had been, so every customer who refused profiling was scored and explained;
it is now an optional input, and such rows get ``score_customers``' not-profiled row without
reaching the churn, SHAP or uplift models.

Seen but not a loyalty_ml test: a ``reasons`` parameter of the wrong JSON type (``5``,
``["none"]``) is refused by MLflow's own parameter check, whose answer prints the head and tail of
the request frame, customer ids included (MLflow prefixes every MlflowException raised in predict
with ``Failed to predict data '<frame>'``; params have no ``Any`` type to avoid it); and the
requirement ``loyalty_ml==0.1.0`` names a version every commit of this checkout reports, so it can
only be built where that package is on an index (the model card says ``loyalty_ml`` must be
installed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib.metadata import requires, version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.exceptions import DataQualityWarning, SchemaError
from loyalty_ml.schema import columns as C
from loyalty_ml.tracking.policy import DECISION_COLUMNS, NUMERIC_DECISION_COLUMNS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING),
    pytest.mark.filterwarnings("ignore::loyalty_ml.tracking.drift.DriftWarning"),
    # requests here are about ids, types and params; the consent warning has its own test
    pytest.mark.filterwarnings(
        "ignore:model_input has no consent_marketing:loyalty_ml.exceptions.DataQualityWarning"
    ),
    pytest.mark.filterwarnings(
        "ignore:model_input has no consent_profiling:loyalty_ml.exceptions.DataQualityWarning"
    ),
]

NAME = "loyalty_ml"
AS_OF = "2024-12-01"
SCORE_AS_OF = "2024-12-15"
TEXT = [c for c in DECISION_COLUMNS if c not in NUMERIC_DECISION_COLUMNS]


@dataclass
class Registered:
    folder: Path
    uri: str
    data: Any
    customers: pd.DataFrame
    champion: Any  # TrainingResult (with an uplift model: offers are chosen)
    challenger: Any  # TrainingResult of a weaker model
    model: Any  # pyfunc loaded from models:/loyalty_ml@champion
    features: pd.DataFrame  # build_features output (ids as index, 'tier' as category)


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registered]:
    from loyalty_ml.datasets import simulate
    from loyalty_ml.features import build_features
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("registry_consumers")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=400, start="2023-01-01", end="2024-12-31", seed=5)
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the embedded store writes its artifacts in the working folder
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("MLFLOW_REGISTRY_URI", uri)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # data-quality notes of a small simulated programme
            champion = train_and_register(
                data.transactions,
                as_of=AS_OF,
                customers=customers,
                campaigns=data.campaigns,
                offers=data.offers,
                tracking_uri=uri,
                churn_params={"n_estimators": 20, "early_stopping_rounds": 5},
                uplift_params={"n_estimators": 7, "learning_rate": 0.1},
                response_window_days=21,
            )
            challenger = train_and_register(
                data.transactions,
                as_of=AS_OF,
                customers=customers,
                tracking_uri=uri,
                churn_params={"n_estimators": 1, "num_leaves": 2, "min_child_samples": 2000},
            )
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            model = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
            policy = model.unwrap_python_model().policy
            features = build_features(
                data.transactions,
                as_of=SCORE_AS_OF,
                customers=customers,
                campaigns=data.campaigns,
                config=policy.feature_config,
            )[list(policy.feature_names)]
            yield Registered(folder, uri, data, customers, champion, challenger, model, features)
        finally:
            mlflow.set_registry_uri(None)  # type: ignore[arg-type]
            mlflow.set_tracking_uri(None)  # type: ignore[arg-type]


@pytest.fixture
def at_registry(reg: Registered, monkeypatch: pytest.MonkeyPatch) -> Registered:
    """MLflow's global tracking and registry URIs at the module's store (as a consumer sets them)."""
    monkeypatch.chdir(reg.folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", reg.uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", reg.uri)
    mlflow.set_tracking_uri(reg.uri)
    mlflow.set_registry_uri(reg.uri)
    return reg


# -- helpers: requests as a client writes them, answers as the server gives them -------------------
def _split(frame: pd.DataFrame) -> dict[str, Any]:
    """``frame`` (ids as index or column) as a JSON-ready ``dataframe_split``: categories as text,
    NaN as null, numbers at full precision (as json.dumps writes them)."""
    table = frame.reset_index() if frame.index.name == C.CUSTOMER_ID else frame
    table = table.astype(
        {c: object for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)}
    )
    split = table.to_dict(orient="split", index=False)
    split["data"] = [
        [None if isinstance(v, float) and np.isnan(v) else v for v in row] for row in split["data"]
    ]
    return {"columns": [str(c) for c in split["columns"]], "data": split["data"]}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    split = _split(frame)
    return [dict(zip(split["columns"], row, strict=True)) for row in split["data"]]


def _serve(reg: Registered, body: str | dict[str, Any], content_type: str = "application/json"):
    """What ``POST /invocations`` answers: a 200 response, or the MlflowException it serialises."""
    from mlflow.pyfunc import (
        scoring_server,
    )  # imported here: it warns at import (filtered in tests)

    payload = body if isinstance(body, str) else json.dumps(body)
    schema = reg.model.metadata.get_input_schema()
    return scoring_server.invocations(payload, content_type, reg.model, schema)


def _predictions(response: Any) -> pd.DataFrame:
    assert response.status == 200, response.response[:500]
    return pd.DataFrame(json.loads(response.response)["predictions"])


def _assert_same_decisions(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same rows by customer_id: probabilities within float tolerance, every text column equal."""
    got = got.set_index(C.CUSTOMER_ID)
    expected = expected.set_index(C.CUSTOMER_ID).loc[got.index]
    assert list(got.columns) == list(DECISION_COLUMNS)
    for column in NUMERIC_DECISION_COLUMNS:
        np.testing.assert_allclose(
            got[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float), atol=1e-12
        )
    for column in TEXT:
        a = got[column].astype(object).where(got[column].notna(), None).tolist()
        b = expected[column].astype(object).where(expected[column].notna(), None).tolist()
        assert a == b, column


# -- loading from the registry ---------------------------------------------------------------------
def test_aliases_and_version_numbers_load_the_registered_versions(at_registry: Registered) -> None:
    reg = at_registry
    assert (reg.champion.alias, reg.challenger.alias) == ("champion", "challenger")
    client = mlflow.MlflowClient(tracking_uri=reg.uri, registry_uri=reg.uri)
    for alias, result in (("champion", reg.champion), ("challenger", reg.challenger)):
        found = client.get_model_version_by_alias(NAME, alias)
        assert str(found.version) == str(result.version)
        by_alias = mlflow.models.Model.load(f"models:/{NAME}@{alias}")
        by_number = mlflow.models.Model.load(f"models:/{NAME}/{result.version}")
        assert by_alias.run_id == by_number.run_id == found.run_id == result.run_id
    assert reg.model.metadata.run_id == reg.champion.run_id


_FRESH = """
import json, sys
import mlflow, mlflow.pyfunc
model = mlflow.pyfunc.load_model("models:/loyalty_ml@champion")
out = model.predict(model.input_example)  # with reason codes, the default
from importlib.metadata import packages_distributions
names = packages_distributions()
imported = sorted({d for m in list(sys.modules) for d in names.get(m.split(".")[0], [])})
print(json.dumps({"run_id": model.metadata.run_id, "columns": list(map(str, out.columns)),
                  "p": out["churn_probability"].tolist(), "imported": imported}))
"""

_BLOCKED = """
import importlib.abc, sys
class NoLoyaltyML(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "loyalty_ml":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoLoyaltyML())
import mlflow
try:
    mlflow.pyfunc.load_model("models:/loyalty_ml@champion")
except Exception as exc:
    print(type(exc).__name__ + ": " + str(exc))
else:
    print("loaded")
"""


def _clean_run(code: str, reg: Registered, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter of the venv: no PYTHONPATH, only MLflow's URI set."""
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": os.environ.get("HOME", str(cwd)),
        "MLFLOW_TRACKING_URI": reg.uri,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def fresh(reg: Registered, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    done = _clean_run(_FRESH, reg, tmp_path_factory.mktemp("fresh"))
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_fresh_process_loads_the_champion_by_alias_and_scores(
    reg: Registered, fresh: dict[str, Any]
) -> None:
    assert fresh["run_id"] == reg.champion.run_id
    assert fresh["columns"] == [C.CUSTOMER_ID, *DECISION_COLUMNS]
    here = reg.model.predict(reg.model.input_example)
    np.testing.assert_allclose(fresh["p"], here["churn_probability"].to_numpy(dtype=float))


def test_without_loyalty_ml_the_load_error_names_the_package(
    reg: Registered, tmp_path: Path
) -> None:
    done = _clean_run(_BLOCKED, reg, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = done.stdout.strip().splitlines()[-1]
    assert answer.startswith("MlflowException: Failed to import code model"), answer
    assert "No module named 'loyalty_ml'" in answer, answer


def _requirements(reg: Registered) -> dict[str, str]:
    path = mlflow.pyfunc.get_model_dependencies(f"models:/{NAME}@champion")
    pins = {}
    for line in Path(path).read_text().splitlines():
        name, _, pinned = line.strip().partition("==")
        if name:
            pins[name.lower().replace("_", "-")] = pinned
    return pins


def test_requirements_pin_loyalty_ml_and_its_model_libraries(at_registry: Registered) -> None:
    pins = _requirements(at_registry)
    for package in ("loyalty_ml", "mlflow", "numpy", "pandas", "scikit-learn", "lightgbm"):
        assert pins.get(package.replace("_", "-")) == version(package), (package, pins)


def test_every_loyalty_ml_dependency_the_model_imports_is_pinned(
    at_registry: Registered, fresh: dict[str, Any]
) -> None:
    pins = _requirements(at_registry)
    runtime = {
        r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower()
        for r in requires("loyalty_ml") or []
        if "extra ==" not in r
    }
    imported = {d.lower().replace("_", "-") for d in fresh["imported"]}
    unpinned = sorted((runtime & imported) - set(pins))
    assert unpinned == [], f"imported by the model but not pinned: {unpinned}"


# -- the signature and the stored example ----------------------------------------------------------
def test_signature_names_every_feature_the_reasons_param_and_the_outputs(
    at_registry: Registered,
) -> None:
    meta = mlflow.models.Model.load(f"models:/{NAME}@champion")
    policy = at_registry.model.unwrap_python_model().policy
    assert meta.signature.inputs.input_names() == [
        C.CUSTOMER_ID,
        *policy.feature_names,
        C.CONSENT_MARKETING,  # optional: the request's own consent flags
        C.CONSENT_PROFILING,
    ]
    assert not any(spec.required for spec in meta.signature.inputs.inputs)  # ours names the gap
    assert meta.signature.outputs.input_names() == [C.CUSTOMER_ID, *DECISION_COLUMNS]
    params = {p.name: p.default for p in meta.get_params_schema().params}
    assert params == {"reasons": "all", "budget": None, "strategy": "cheapest_effective"}


def test_stored_serving_input_example_validates_and_names_no_customer(
    at_registry: Registered,
) -> None:
    from mlflow.models import validate_serving_input

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{NAME}@champion"))
    payload = (local / "serving_input_example.json").read_text()
    with warnings.catch_warnings():  # deprecated since MLflow 3.13 for mlflow.models.predict
        warnings.simplefilter("ignore", FutureWarning)
        out = validate_serving_input(f"models:/{NAME}@champion", payload)
    assert list(out.columns) == [C.CUSTOMER_ID, *DECISION_COLUMNS]
    assert out[C.CUSTOMER_ID].tolist() == ["example_1", "example_2", "example_3"]
    sent = json.loads(payload)["dataframe_split"]
    real = {str(i) for i in at_registry.data.customers[C.CUSTOMER_ID]}
    assert not {str(row[0]) for row in sent["data"]} & real


# -- requests in every JSON format, as the scoring server parses them ------------------------------
@pytest.fixture(scope="module")
def expected(reg: Registered) -> pd.DataFrame:
    """The pyfunc's answer for the features as loyalty_ml builds them (ids as the index)."""
    out: pd.DataFrame = reg.model.predict(reg.features)
    assert out["offer_id"].notna().any() and out["offer_id"].isna().any()
    return out


def _messy(reg: Registered) -> pd.DataFrame:
    """What another system sends: ids as a column, columns reversed, counts as ints (JSON keeps
    1.0 as 1.0, so ints are made here), two extra columns with personal data."""
    frame = reg.features.reset_index()
    frame = frame[list(reversed(frame.columns))]
    frame = frame.assign(n_orders=frame["n_orders"].astype("int64"))
    frame["email"] = [f"person{i}@example.org" for i in range(len(frame))]
    frame["full_name"] = "Jane Q. Customer"
    assert frame.isna().any().any()  # NaN travels as null
    return frame


@pytest.mark.parametrize("key", ["dataframe_split", "dataframe_records", "inputs", "instances"])
def test_json_requests_score_like_the_feature_frame(
    reg: Registered, expected: pd.DataFrame, key: str
) -> None:
    frame = _messy(reg)
    if key == "dataframe_split":
        body: Any = _split(frame)
    elif key == "inputs":  # columnar: one list per column
        split = _split(frame)
        body = {c: [row[i] for row in split["data"]] for i, c in enumerate(split["columns"])}
    else:
        body = _records(frame)
    response = _serve(reg, {key: body})
    got = _predictions(response)
    assert len(got) == len(frame)
    _assert_same_decisions(got, expected)
    assert "example.org" not in response.response and "Jane" not in response.response


def test_one_zero_and_ten_thousand_rows(reg: Registered, expected: pd.DataFrame) -> None:
    one = _predictions(_serve(reg, {"dataframe_split": _split(reg.features.iloc[[7]])}))
    _assert_same_decisions(one, expected)
    assert _predictions(_serve(reg, {"dataframe_split": _split(reg.features.iloc[:0])})).empty
    empty = reg.model.predict(reg.features.iloc[:0])
    assert list(empty.columns) == [C.CUSTOMER_ID, *DECISION_COLUMNS]
    many = pd.concat([reg.features] * (10_000 // len(reg.features) + 1)).iloc[:10_000]
    many.index = pd.Index([f"C{i:06d}" for i in range(len(many))], name=C.CUSTOMER_ID)
    body = {"dataframe_split": _split(many), "params": {"reasons": "none"}}
    got = _predictions(_serve(reg, body))
    direct = reg.model.predict(many, params={"reasons": "none"})
    assert got[C.CUSTOMER_ID].tolist() == many.index.tolist()
    _assert_same_decisions(got, direct)


def test_reasons_param_in_a_request(reg: Registered, expected: pd.DataFrame) -> None:
    reasons = [f"reason_{k}" for k in range(1, 4)]
    split = _split(reg.features)
    none = _predictions(_serve(reg, {"dataframe_split": split, "params": {"reasons": "none"}}))
    assert none[reasons].isna().all().all()
    _assert_same_decisions(none.assign(**{r: expected[r] for r in reasons}), expected)
    actioned = _serve(reg, {"dataframe_split": split, "params": {"reasons": "actioned"}})
    actioned_frame = _predictions(actioned)
    acted = (actioned_frame["action"] != "none").to_numpy()
    assert acted.any() and (~acted).any()
    assert actioned_frame.loc[acted, "reason_1"].notna().all()
    assert actioned_frame.loc[~acted, "reason_1"].isna().all()


def test_budget_and_strategy_params_in_a_request(reg: Registered, expected: pd.DataFrame) -> None:
    """A request's budget caps the prudent cost of that request's offers (priced by the model's
    held-out check of its purchase probabilities, never below the expected cost), as
    LoyaltyPolicy.decide does; customers left out say so."""
    split = _split(reg.features)
    offered = expected["offer_id"].notna()
    full_cost = float(expected.loc[offered, "expected_cost"].sum())
    assert full_cost > 0
    budget = full_cost / 3
    got = _predictions(
        _serve(reg, {"dataframe_split": split, "params": {"reasons": "none", "budget": budget}})
    )
    kept = got["offer_id"].notna()
    assert 0 < kept.sum() < offered.sum()
    assert float(got.loc[kept, "expected_cost"].sum()) <= budget + 1e-9
    assert (got.loc[~kept, "expected_cost"] == 0).all()
    assert (got["offer_reason"] == "budget exhausted").any()
    direct = reg.model.predict(reg.features, params={"reasons": "none", "budget": budget})
    _assert_same_decisions(got, direct)
    # an integer budget is a number too (JSON has no float type for 100)
    whole = _serve(reg, {"dataframe_split": split, "params": {"budget": 0, "reasons": "none"}})
    assert _predictions(whole)["offer_id"].isna().all()
    richest = _predictions(
        _serve(reg, {"dataframe_split": split, "params": {"strategy": "max_net_value"}})
    )
    mine = richest.set_index(C.CUSTOMER_ID)["expected_net_value"]
    theirs = expected.set_index(C.CUSTOMER_ID)["expected_net_value"].loc[mine.index]
    assert (mine >= theirs - 1e-12).all()


def test_a_wrong_strategy_param_is_refused_by_name(reg: Registered) -> None:
    body = {"dataframe_split": _split(reg.features.iloc[:3]), "params": {"strategy": "cheapest"}}
    with pytest.raises(MlflowException) as raised:
        _serve(reg, body)
    last = json.loads(raised.value.serialize_as_json())["stack_trace"].strip().splitlines()[-1]
    assert last.startswith("loyalty_ml.exceptions.ConfigError:") and "strategy" in last, last


def test_ids_come_back_as_sent(reg: Registered) -> None:
    rows = reg.features.iloc[:4].reset_index()
    cards = rows.assign(**{C.CUSTOMER_ID: ["000123", "A-17", "7", "000124"]})
    got = _predictions(_serve(reg, {"dataframe_split": _split(cards)}))
    assert got[C.CUSTOMER_ID].tolist() == ["000123", "A-17", "7", "000124"]
    floats = _split(rows)
    for row in floats["data"]:
        row[0] = float(row[0])  # 13085.0, as a JSON number written by a float column
    got = _predictions(_serve(reg, {"dataframe_split": floats}))
    assert got[C.CUSTOMER_ID].tolist() == rows[C.CUSTOMER_ID].tolist()


def test_a_customer_decision_does_not_depend_on_the_batch(
    reg: Registered, expected: pd.DataFrame
) -> None:
    offered = np.flatnonzero(expected["offer_id"].notna().to_numpy())[:6]
    plain = np.flatnonzero(expected["offer_id"].isna().to_numpy())[:6]
    for i in [*offered, *plain]:
        _assert_same_decisions(reg.model.predict(reg.features.iloc[[i]]), expected)


# -- the same decisions as loyalty_ml's own paths ----------------------------------------------------
def test_pyfunc_agrees_with_load_policy_and_score_customers(
    at_registry: Registered, expected: pd.DataFrame
) -> None:
    from loyalty_ml.tracking.registry import load_policy
    from loyalty_ml.tracking.scoring import score_customers

    reg = at_registry
    policy, version_ = load_policy(f"models:/{NAME}@champion", tracking_uri=reg.uri)
    assert version_ == str(reg.champion.version)
    _assert_same_decisions(policy.decide(reg.features).reset_index(), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = score_customers(
            reg.data.transactions,
            as_of=SCORE_AS_OF,
            customers=reg.customers,
            campaigns=reg.data.campaigns,
            tracking_uri=reg.uri,
            log_run=False,
            reasons="all",
        )
    people = reg.customers.set_index(C.CUSTOMER_ID)
    consenting = people.index[people[C.CONSENT_MARKETING].fillna(False).astype(bool)]
    scored = scores.loc[(scores["status"] == "scored") & scores.index.isin(consenting)]
    assert len(scored) > 300
    _assert_same_decisions(scored.drop(columns="status").reset_index(), expected)


# -- errors a caller reads -----------------------------------------------------------------------------
def _served_error(reg: Registered, rows: pd.DataFrame) -> tuple[MlflowException, str]:
    """The server's error for ``rows`` and the last line of the stack trace it sends back."""
    with pytest.raises(MlflowException) as raised:
        _serve(reg, {"dataframe_split": _split(rows)})
    answer = json.loads(raised.value.serialize_as_json())
    return raised.value, answer["stack_trace"].strip().splitlines()[-1]


def _secret_rows(reg: Registered) -> pd.DataFrame:
    rows = reg.features.iloc[:3].reset_index()
    rows[C.CUSTOMER_ID] = ["SECRET-0001", "SECRET-0002", "SECRET-0003"]
    return rows


def test_served_error_for_a_missing_column_names_it_and_no_customer(reg: Registered) -> None:
    error, last = _served_error(reg, _secret_rows(reg).drop(columns=["spend_30d"]))
    assert error.get_http_status_code() == 400
    # MLflow's server answers any non-MLflow exception with a generic message; the SchemaError is
    # the last line of the stack trace it sends with it
    assert last.startswith("loyalty_ml.exceptions.SchemaError:") and "spend_30d" in last, last
    assert "SECRET" not in error.serialize_as_json()


def test_served_error_for_a_value_that_is_not_a_number_names_no_customer(reg: Registered) -> None:
    error, last = _served_error(reg, _secret_rows(reg).assign(spend=["12.5", "n/a", "1,234"]))
    assert error.get_http_status_code() == 400
    assert last.startswith("loyalty_ml.exceptions.SchemaError:") and "spend" in last, last
    assert "SECRET" not in error.serialize_as_json(), last


# -- defects -----------------------------------------------------------------------------------------
@pytest.mark.xfail(
    strict=True,
    raises=MlflowException,
    reason="text/csv requests always fail in MLflow's parse_csv_input: the all-Any input signature (loyalty_ml/tracking/pyfunc.py:126-128) has no pandas types ('Failed to get pandas types')",
)
def test_csv_request_is_scored_like_json(reg: Registered, expected: pd.DataFrame) -> None:
    csv = reg.features.iloc[:20].reset_index().to_csv(index=False)
    _assert_same_decisions(_predictions(_serve(reg, csv, "text/csv")), expected)


def test_an_empty_batch_with_its_columns_is_an_empty_answer(reg: Registered) -> None:
    empty = _predictions(_serve(reg, {"dataframe_split": _split(reg.features.iloc[:0])}))
    assert empty.empty
    assert reg.model.predict(reg.features.iloc[:0]).empty


def test_a_batch_of_columns_the_model_does_not_know_is_refused_not_emptied(
    reg: Registered,
) -> None:
    """MLflow drops every column the signature does not name, and with the last of them every row:
    misnamed columns (a SQL export in upper case, a prefix, integer labels, a NumPy array) once came
    back as an empty answer without an error. An empty batch in records form, which arrives the
    same way, is refused with them (it was an empty answer): send an empty batch with its columns."""
    features = reg.features.iloc[:20]
    batches = {
        "upper case": features.reset_index().rename(columns=str.upper),
        "prefixed": features.add_prefix("f_"),
        "integer labels": features.set_axis(range(features.shape[1]), axis=1),
        "numpy": features.select_dtypes("number").to_numpy(),
    }
    for name, batch in batches.items():
        with pytest.raises(SchemaError, match="no column it knows and no row"):
            reg.model.predict(batch)
        if name != "numpy":
            # served, the ids go as a column (dataframe_split): it is known, the features not
            error, last = _served_error(reg, batch)
            assert error.get_http_status_code() == 400, name
            assert last.startswith("loyalty_ml.exceptions.SchemaError:"), (name, last)
            assert "no column it knows" in last or "features lack 42 column(s)" in last, last
    with pytest.raises(MlflowException) as raised:
        _serve(reg, {"dataframe_records": []})
    assert "send an empty batch as dataframe_split" in raised.value.serialize_as_json()


def test_output_dtypes_do_not_depend_on_the_batch(reg: Registered, expected: pd.DataFrame) -> None:
    offered = np.flatnonzero(expected["offer_id"].notna().to_numpy())
    plain = np.flatnonzero(expected["offer_id"].isna().to_numpy())
    batches = {
        "everyone": reg.features,
        "one with an offer": reg.features.iloc[offered[:1]],
        "one without": reg.features.iloc[plain[:1]],
        "all offered": reg.features.iloc[offered],
    }
    dtypes = {
        name: reg.model.predict(rows).dtypes.astype(str).to_dict() for name, rows in batches.items()
    }
    first = dtypes["everyone"]
    assert all(d == first for d in dtypes.values()), dtypes


def test_marketing_consent_sent_with_the_request_is_honoured(reg: Registered) -> None:
    frame = reg.features.reset_index().assign(consent_marketing=False)
    got = _predictions(_serve(reg, {"dataframe_split": _split(frame)}))
    assert got["offer_id"].isna().all(), f"{got['offer_id'].notna().sum()} offers without consent"
    assert got["channel"].fillna("none").eq("none").all()


def test_json_rounding_does_not_move_a_customer_across_a_segment_edge(reg: Registered) -> None:
    policy = reg.model.unwrap_python_model().policy
    edges = policy.trigger_policy.rfm_edges
    rows = reg.features.iloc[:4].copy()
    for i, (column, edge) in enumerate(
        [("recency_days", e) for e in edges.recency_days] + [("spend", e) for e in edges.spend]
    ):
        rows.iloc[i, rows.columns.get_loc(column)] = edge  # a value customers of training had
    direct = reg.model.predict(rows, params={"reasons": "none"})
    # the request as MLflow's docs build it: DataFrame.to_json(orient="split")
    sent = json.loads(rows.reset_index().to_json(orient="split", index=False))
    got = _predictions(_serve(reg, {"dataframe_split": sent, "params": {"reasons": "none"}}))
    assert got["segment"].tolist() == direct["segment"].tolist()


@pytest.mark.filterwarnings("error:model_input has no consent_marketing")
def test_a_request_without_consent_is_warned_of_and_with_it_refusers_get_nothing(
    reg: Registered,
) -> None:
    """Without consent_marketing every row is served as consenting (offers to people who refused
    marketing): said, where the caller sees it. With it, a refuser gets no offer, in silence."""
    from loyalty_ml.exceptions import DataQualityWarning

    rows = reg.features.reset_index().assign(consent_profiling=True)
    with pytest.warns(
        DataQualityWarning, match="no consent_marketing column: every row was served"
    ):
        without = reg.model.predict(rows, params={"reasons": "none"})
    offered = without["offer_id"].notna().to_numpy()
    assert offered.any()  # else the warning would say nothing
    consent = pd.Series(True, index=rows.index).where(~offered, False)  # refusers: the offered
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        sent = reg.model.predict(rows.assign(consent_marketing=consent), params={"reasons": "none"})
    assert sent["offer_id"].isna().all()


def test_the_model_states_its_request_contract_in_its_metadata(reg: Registered) -> None:
    """The signature types every column Any and requires none (so that MLflow does not refuse what
    other systems send); a service generating its client could not tell which columns to send,
    nor the category levels. The MLmodel file now says."""
    contract = reg.model.metadata.metadata["loyalty_ml_request"]
    policy = reg.model.unwrap_python_model().policy
    by_name = {f["name"]: f for f in contract["features"]}
    assert list(by_name) == list(policy.feature_names)
    assert all(f["required"] for f in contract["features"])
    assert by_name["tier"] == {
        "name": "tier",
        "type": "category",
        "required": True,
        "nullable": True,
        "levels": list(policy.feature_categories["tier"]),
    }
    assert by_name["n_orders"]["min"] == 1.0 and by_name["n_orders"]["whole"] is True
    assert contract["id_column"] == C.CUSTOMER_ID
    assert contract["consent_column"] == "consent_marketing"
    assert contract["profiling_consent_column"] == "consent_profiling"
    json.dumps(contract)  # plain JSON: MLmodel is YAML, and clients read it as JSON


def test_the_contract_says_which_features_a_row_may_send_as_null(reg: Registered) -> None:
    """Every feature was stated as nullable ("missing_value": "null") while a null recency_days,
    n_orders or spend is refused (the RFM classes need them). Each feature, sent as null in one
    row: served exactly when the contract says it may be."""
    contract = reg.model.metadata.metadata["loyalty_ml_request"]
    rows = reg.features.iloc[:5].reset_index().assign(consent_marketing=True)
    refused = []
    for spec in contract["features"]:
        request = rows.astype({spec["name"]: object})
        request.loc[0, spec["name"]] = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataQualityWarning)
                reg.model.predict(request, params={"reasons": "none"})
        except SchemaError:
            refused.append(spec["name"])
    assert refused == [f["name"] for f in contract["features"] if not f["nullable"]]
    assert sorted(refused) == ["n_orders", "recency_days", "spend"]


# -- profiling consent sent with the request ---------------------------------------------------------
NOT_PROFILED_ROW = {
    "churn_probability": None,
    "risk_band": None,
    "boundary_state": None,
    "segment": None,
    "action": "none",
    "channel": None,
    "rule": None,
    "offer_id": None,
    "offer_channel": None,
    "expected_cost": None,
    "expected_net_value": None,
    "offer_reason": "no profiling consent",
    "holdout_offer_id": None,
    "reason_1": "not scored: the customer has not consented to profiling",
    "reason_2": None,
    "reason_3": None,
}
#: consent_profiling as callers send it, and how it is read (opt-in: missing is no consent).
PROFILING_FLAGS = [True, False, None, "N", 0, "yes", 1, "false", np.nan, "Y"]
PROFILED = [True, False, False, False, False, True, True, False, False, True]


def _not_profiled(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The decision columns of ``frame``'s rows, missing values as None."""
    rows = frame[list(DECISION_COLUMNS)].astype(object)
    return rows.where(rows.notna(), None).to_dict(orient="records")


def test_profiling_consent_sent_with_the_request_is_honoured(
    reg: Registered, expected: pd.DataFrame
) -> None:
    """MLflow dropped a consent_profiling column (not in the signature): every row was scored and
    explained, where score_customers leaves a customer without profiling consent unscored. False,
    missing, "N" or 0: the row score_customers gives (no score, no offer, a reason saying why);
    the others decide as without the column, in the request's row order."""
    rows = reg.features.iloc[: len(PROFILING_FLAGS)].reset_index()
    got = reg.model.predict(rows.assign(consent_profiling=PROFILING_FLAGS))
    assert got[C.CUSTOMER_ID].tolist() == rows[C.CUSTOMER_ID].tolist()
    refused = got.loc[[not p for p in PROFILED]]
    assert _not_profiled(refused) == [NOT_PROFILED_ROW] * len(refused)
    _assert_same_decisions(got.loc[PROFILED], expected)
    # text columns are object whoever was refused; a numeric column holding a missing value is
    # object too (None: strict JSON null), as _missing_as_none writes every missing value
    everyone = reg.model.predict(rows.assign(consent_profiling=False))
    assert _not_profiled(everyone) == [NOT_PROFILED_ROW] * len(rows)
    assert everyone.dtypes.to_dict() == got.dtypes.to_dict()
    assert got[TEXT].dtypes.to_dict() == expected[TEXT].dtypes.to_dict()
    assert {type(p) for p in got["churn_probability"]} == {float, type(None)}
    # without ids: rows by position, the holdout drawn as without the column
    plain = rows.drop(columns=C.CUSTOMER_ID)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # no customer_id: holdout by position
        unflagged = reg.model.predict(plain)
        flagged = reg.model.predict(plain.assign(consent_profiling=PROFILING_FLAGS))
    assert _not_profiled(flagged.loc[[not p for p in PROFILED]]) == [NOT_PROFILED_ROW] * 6
    # numbers as object where the batch holds a refused row's None (see above)
    pd.testing.assert_frame_equal(flagged.loc[PROFILED], unflagged.loc[PROFILED], check_dtype=False)


def test_profiling_consent_in_a_served_request(reg: Registered, expected: pd.DataFrame) -> None:
    """As a JSON request (false, null, "N", 0 through MLflow's parser and signature check)."""
    rows = reg.features.iloc[: len(PROFILING_FLAGS)].reset_index()
    split = _split(rows.assign(consent_marketing=True))
    split["columns"].append("consent_profiling")
    for row, flag in zip(split["data"], PROFILING_FLAGS, strict=True):
        row.append(None if isinstance(flag, float) else flag)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # consent sent: nothing to warn of
        got = _predictions(_serve(reg, {"dataframe_split": split}))
    assert got[C.CUSTOMER_ID].tolist() == rows[C.CUSTOMER_ID].tolist()
    assert _not_profiled(got.loc[[not p for p in PROFILED]]) == [NOT_PROFILED_ROW] * 6
    _assert_same_decisions(got.loc[PROFILED], expected)


def test_rows_without_profiling_consent_never_reach_the_models(
    reg: Registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Profiling is the processing: the churn model, its SHAP reasons and the uplift model see
    only the rows that may be profiled. The others' features are not even checked: values the
    model refuses (a share of 45, n_orders of 0, text, infinity) answer the same refusal row."""
    policy = reg.model.unwrap_python_model().policy
    seen: list[Any] = []

    def spy(owner: Any, method: str) -> None:
        original = getattr(owner, method)

        def recording(X: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
            seen.extend(X.index.tolist())
            return original(X, *args, **kwargs)

        monkeypatch.setattr(owner, method, recording)

    for owner, method in [
        (policy.churn_model, "predict_proba"),
        (policy.churn_model, "explain"),
        (policy.uplift_model, "predict_effects"),
        (policy.uplift_model, "predict_baseline"),
    ]:
        spy(owner, method)
    rows = reg.features.iloc[:6].reset_index()
    rows[C.CUSTOMER_ID] = [f"C{i}" for i in range(6)]
    rows = rows.astype({"spend": object, "discount_share": object})
    rows.loc[[1, 3, 4], "discount_share"] = [45.0, np.inf, -2.0]
    rows.loc[[1, 4], "n_orders"] = 0
    rows.loc[3, "spend"] = "lots"
    flags = [True, False, True, None, "N", True]
    got = reg.model.predict(rows.assign(consent_marketing=True, consent_profiling=flags))
    assert seen and set(seen) <= {"C0", "C2", "C5"}, sorted(set(seen))
    assert _not_profiled(got.iloc[[1, 3, 4]]) == [NOT_PROFILED_ROW] * 3
    assert got["churn_probability"].iloc[[0, 2, 5]].notna().all()
    # the same values in a row that may be profiled are still refused, naming its place in the
    # request (not among the profiled rows: row 0 is refused)
    with pytest.raises(SchemaError, match=r"model_input.n_orders .*\['row 1: 0.0'\]"):
        reg.model.predict(rows.assign(consent_profiling=[False, True, False, False, False, False]))


def test_consent_columns_sent_empty_are_warned_of(reg: Registered) -> None:
    """A request reindexed to the signature's columns gets both consent columns, all missing:
    read as no consent, every row came back unscored and unoffered in silence (notebook 04 showed
    200 rows of "no profiling consent", session 57). Said now; one flag given on any row is not
    blank."""
    names = [c.name for c in reg.model.metadata.get_input_schema().inputs]
    assert {C.CONSENT_MARKETING, C.CONSENT_PROFILING} <= set(names)
    rows = reg.features.reset_index().reindex(columns=names).head(20)
    with pytest.warns(DataQualityWarning) as caught:
        got = reg.model.predict(rows, params={"reasons": "none"})
    said = [str(w.message) for w in caught if "missing on all" in str(w.message)]
    assert said == [
        "model_input's consent_marketing and consent_profiling are missing on all 20 rows, read "
        "as no consent, so nobody was contacted or offered anything and no row was scored. A "
        "column added empty does this, e.g. by reindexing the request to the signature's "
        "columns: fill it with each customer's consent (True on every row when consent is "
        "managed upstream)."
    ]
    assert (got["offer_reason"] == NOT_PROFILED_ROW["offer_reason"]).all()
    flags = [True] + [None] * 19
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        sent = reg.model.predict(
            rows.assign(consent_marketing=flags, consent_profiling=flags),
            params={"reasons": "none"},
        )
    assert sent["churn_probability"].notna().tolist() == [True] + [False] * 19


def test_a_request_without_profiling_consent_is_scored_and_warned_of(
    reg: Registered, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No consent_profiling column: every row is scored, as before. This model was trained on a
    customers table with the flag (score_customers refuses one without it), so the request is
    warned of; a column that says yes everywhere changes nothing and is quiet, and so is a request
    to a model trained without the flag (consent managed upstream)."""
    rows = reg.features.reset_index().assign(consent_marketing=True)
    warned = rf"no consent_profiling column, but this model was trained .* all {len(rows)} rows"
    with pytest.warns(DataQualityWarning, match=warned):
        without = reg.model.predict(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        consenting = reg.model.predict(rows.assign(consent_profiling=True))
    pd.testing.assert_frame_equal(consenting, without)
    assert without["churn_probability"].notna().all()
    served = reg.model.unwrap_python_model()
    flags = tuple(f for f in served.policy.consent_flags if f != C.CONSENT_PROFILING)
    assert flags != served.policy.consent_flags
    monkeypatch.setattr(served, "policy", replace(served.policy, consent_flags=flags))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        upstream = reg.model.predict(rows)
    pd.testing.assert_frame_equal(upstream, without)
