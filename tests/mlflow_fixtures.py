"""Shared MLflow test helpers: a small simulated programme and a trained registry in a temp folder.

Real MLflow throughout (embedded SQLite store), no mocks. Imported by the tracking and CLI tests.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
#: MLflow warns about its own type hints when mlflow.pyfunc is first imported; nothing we can change.
MLFLOW_IMPORT_WARNING = "ignore:.*Any type hint is inferred as AnyType:UserWarning"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def subprocess_env(tracking_uri: str) -> dict[str, str]:
    """Environment for a child process: the repo importable, MLflow pointed at ``tracking_uri``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    # mlflow models serve runs `uvicorn` by name: the venv's bin must be on PATH
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@dataclass
class Registry:
    folder: Path
    tracking_uri: str
    data: Any
    champion: Any
    challenger: Any


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Two versions of the policy model: a champion, then a challenger trained on less data."""
    from loyalty_ml.datasets import simulate
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=1200, start="2023-01-01", end="2024-12-31", seed=3)
    churn_params = {"n_estimators": 60, "early_stopping_rounds": 10}
    # Without protected attributes the fairness gate is "not audited": these two versions test the
    # backtest half of the promotion rule (the gate has its own test).
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # MLflow puts artifacts of the embedded store in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        champion = train_and_register(
            data.transactions,
            as_of="2024-12-01",
            customers=customers,
            tracking_uri=uri,
            churn_params=churn_params,
        )
        challenger = train_weak_challenger(data.transactions, "2024-12-01", customers, uri)
        yield Registry(folder, uri, data, champion, challenger)


def train_weak_challenger(transactions: Any, as_of: str, customers: Any, uri: str) -> Any:
    """A version of one tree of two leaves (its leaves capped at a tenth of the rows, so it makes
    one split): clearly worse on the backtest, so it must not be promoted."""
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.train import train_and_register

    # meant: the cap lowers the 2000 rows a leaf asked for, and fit says so
    with pytest.warns(DataQualityWarning, match="min_child_samples=2000 is more than a tenth"):
        return train_and_register(
            transactions,
            as_of=as_of,
            customers=customers,
            tracking_uri=uri,
            churn_params={"n_estimators": 1, "num_leaves": 2, "min_child_samples": 2000},
        )


def _log_tail(process: Any) -> str:
    path = getattr(process, "log_path", None)
    return Path(path).read_text(errors="replace")[-3000:] if path else ""


def wait_for(url: str, *, process: Any, timeout_s: float, what: str) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log after ``timeout_s``."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{_log_tail(process)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    stop(process)
    pytest.fail(f"{what} did not answer {url} within {timeout_s} s:\n{_log_tail(process)}")


def stop(process: Any) -> None:
    """Terminate a server started by a fixture (its whole process group), then reap it."""
    import contextlib
    import signal
    import subprocess

    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def start_server(command: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Any:
    """Start a server in its own session (so its workers stop with it), logging to ``log``.

    Output goes to a file, not a pipe: a pipe nobody reads fills up and blocks the server.
    """
    import subprocess

    with open(log, "w") as handle:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log_path = str(log)  # type: ignore[attr-defined]
    return process
