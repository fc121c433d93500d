"""Through real servers: a tracking server (`mlflow server`) and a model server (`mlflow models serve`).

Each server is started once for this module on 127.0.0.1 with a free port, waited for with a bounded
timeout, and always stopped.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow_fixtures import (
    MLFLOW_IMPORT_WARNING,
    free_port,
    start_server,
    stop,
    subprocess_env,
    train_weak_challenger,
    venv_bin,
    wait_for,
)

from loyalty_ml.tracking.policy import DECISION_COLUMNS
from loyalty_ml.tracking.scoring import score_customers
from loyalty_ml.tracking.train import train_and_register

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING),
]


@dataclass
class Served:
    folder: Path
    uri: str
    data: Any
    champion: Any
    challenger: Any


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from loyalty_ml.datasets import simulate

    folder = tmp_path_factory.mktemp("server")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    command = [
        venv_bin("mlflow"),
        "server",
        "--backend-store-uri", f"sqlite:///{(folder / 'server.db').as_posix()}",
        "--artifacts-destination", (folder / "artifacts").as_uri(),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    process = start_server(
        command, env=subprocess_env(uri), cwd=folder, log=folder / "mlflow_server.log"
    )
    try:
        wait_for(f"{uri}/health", process=process, timeout_s=90, what="mlflow server")
        data = simulate(n_customers=500, seed=5)
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(folder)
            mp.delenv("MLFLOW_TRACKING_URI", raising=False)
            fast = {"n_estimators": 60, "early_stopping_rounds": 10}
            # no protected attributes: this module tests the servers, not the fairness gate
            people = data.customers.drop(columns=["age_band", "gender", "income_band"])
            champion = train_and_register(
                data.transactions,
                as_of="2025-01-01",
                customers=people,
                tracking_uri=uri,
                churn_params=fast,
            )
            challenger = train_weak_challenger(data.transactions, "2025-01-01", people, uri)
            yield Served(folder, uri, data, champion, challenger)
    finally:
        stop(process)


def test_train_register_and_promote_through_the_server(tracking_server: Served) -> None:
    assert tracking_server.champion.alias == "champion"
    assert tracking_server.challenger.alias == "challenger"
    client = mlflow.MlflowClient(tracking_server.uri, tracking_server.uri)
    model = client.get_registered_model("loyalty_ml")
    assert set(model.aliases) == {"champion", "challenger"}
    paths = {a.path for a in client.list_artifacts(tracking_server.champion.run_id, "plots")}
    assert "plots/calibration.png" in paths


def test_score_through_the_server(tracking_server: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tracking_server.folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server.uri)  # the env var is respected
    data = tracking_server.data
    scores = score_customers(data.transactions, as_of="2025-01-01", customers=data.customers)
    assert len(scores) == data.transactions["customer_id"].nunique()
    runs = mlflow.search_runs(experiment_names=["loyalty_ml_scoring"])
    assert len(runs) == 1 and runs["metrics.n_rows"].iloc[0] == len(scores)


@pytest.fixture(scope="module")
def model_server(tracking_server: Served) -> Iterator[str]:
    port = free_port()
    command = [
        venv_bin("mlflow"),
        "models", "serve",
        "-m", "models:/loyalty_ml@champion",
        "--env-manager", "local",
        "-h", "127.0.0.1",
        "-p", str(port),
        "-w", "1",
    ]  # fmt: skip
    process = start_server(
        command,
        env=subprocess_env(tracking_server.uri),
        cwd=tracking_server.folder,
        log=tracking_server.folder / "models_serve.log",
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/ping", process=process, timeout_s=120, what="mlflow models serve")
        yield url
    finally:
        stop(process)


def test_served_champion_answers_with_decisions(
    tracking_server: Served, model_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # models:/ URIs resolve through MLflow's global registry whatever registry_uri says (the test
    # passed only after test_score_through_the_server had pointed it at the server)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server.uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", tracking_server.uri)
    model = mlflow.pyfunc.load_model(
        mlflow.artifacts.download_artifacts(
            "models:/loyalty_ml@champion",
            tracking_uri=tracking_server.uri,
            registry_uri=tracking_server.uri,  # else MLflow's global default, which other tests move
        )
    )
    example = model.input_example
    body = json.dumps({"dataframe_split": json.loads(example.to_json(orient="split", index=False))})
    request = urllib.request.Request(
        f"{model_server}/invocations",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()

    def strict(token: str) -> None:  # NaN / Infinity are not JSON; other systems refuse them
        raise AssertionError(f"the served answer is not strict JSON: it holds {token}")

    payload = json.loads(text, parse_constant=strict)
    rows = payload["predictions"]
    assert len(rows) == len(example)
    assert set(DECISION_COLUMNS) | {"customer_id"} == set(rows[0])
    assert [r["customer_id"] for r in rows] == example["customer_id"].tolist()
    assert all(0.0 <= r["churn_probability"] <= 1.0 for r in rows)
    assert {r["risk_band"] for r in rows} <= {"low", "medium", "high"}

    # params choose the rows with reason codes: none here
    bare = json.loads(body)
    bare["params"] = {"reasons": "none"}
    request = urllib.request.Request(
        f"{model_server}/invocations",
        data=json.dumps(bare).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read().decode(), parse_constant=strict)["predictions"]
    assert all(r["reason_1"] is None for r in answer)
    assert [r["churn_probability"] for r in answer] == [r["churn_probability"] for r in rows]


def test_unreachable_server_is_a_tracking_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from loyalty_ml.exceptions import TrackingError

    tx = pd.DataFrame(
        {"customer_id": [1], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}
    )
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TrackingError, match=r"unreachable.*mlflow server --host 127\.0\.0\.1"):
        score_customers(tx, as_of="2025-01-01", tracking_uri=dead)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead)
    with pytest.raises(TrackingError, match="unreachable"):
        train_and_register(tx, as_of="2025-01-01")
