"""Tracking-URI resolution (argument > env > embedded sqlite) and the unreachable-server error."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from loyalty_ml.exceptions import TrackingError
from loyalty_ml.tracking._mlflow import check_reachable, resolve_tracking_uri, use_tracking_uri


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    assert resolve_tracking_uri() == "http://127.0.0.1:1"
    assert resolve_tracking_uri("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_uri_type() -> None:
    with pytest.raises(TrackingError, match="'tracking_uri' parameter must be a string"):
        resolve_tracking_uri(5)  # type: ignore[arg-type]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_fails_fast() -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(
        TrackingError, match=r"tracking server at 'http://127\.0\.0\.1:\d+' is unreachable"
    ):
        check_reachable(uri)
    assert time.monotonic() - start < 10
    check_reachable("sqlite:///nowhere.db")  # a new local store: MLflow creates it


def test_an_sqlite_store_that_is_not_a_database_fails_at_once(tmp_path: Path) -> None:
    """Once a sqlalchemy DatabaseError ("file is not a database") from deep in MLflow, and for a
    file that cannot be created, two minutes of MLflow's retries and an OperationalError."""
    csv = tmp_path / "export.csv"
    csv.write_text("customer_id,timestamp,amount\n")
    with pytest.raises(TrackingError, match=r"export\.csv', which is not an SQLite database"):
        check_reachable(f"sqlite:///{csv.as_posix()}")
    with pytest.raises(TrackingError, match="which is not a file"):
        check_reachable(f"sqlite:///{tmp_path.as_posix()}")
    start = time.monotonic()
    with pytest.raises(TrackingError, match="cannot be created in"):
        check_reachable(f"sqlite:///{(csv / 'mlflow.db').as_posix()}")  # under a file
    assert time.monotonic() - start < 10
    empty = tmp_path / "empty.db"  # SQLite starts a store in an empty file
    empty.touch()
    check_reachable(f"sqlite:///{empty.as_posix()}")
    check_reachable("sqlite:///:memory:")


def test_use_tracking_uri_restores_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{(tmp_path / 'a.db').as_posix()}"
    with use_tracking_uri(uri) as used:
        assert used == uri and mlflow.get_tracking_uri() == uri
    assert "MLFLOW_TRACKING_URI" not in os.environ
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///before.db")
    with use_tracking_uri(uri):
        assert os.environ["MLFLOW_TRACKING_URI"] == uri
    assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:///before.db"


def test_scoring_from_a_store_that_does_not_exist_refuses_without_creating_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A scheduled job run from another working folder (cron's is the home folder) resolves the
    default 'sqlite:///mlflow.db' there: scoring created an empty store (and any missing folders)
    and then said "Registered models: none. Train one", the wrong fix, leaving the file behind."""
    import pandas as pd

    from loyalty_ml.tracking.scoring import score_customers

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03"]),
            "amount": [5.0, 7.0],
        }
    )
    with pytest.raises(TrackingError, match=r"does not exist.*working folder.*absolute path"):
        score_customers(tx, as_of="2024-02-01")
    assert not (tmp_path / "mlflow.db").exists()
    typo = tmp_path / "stat" / "mlflow.db"
    with pytest.raises(TrackingError, match=r"stat/mlflow\.db', which does not exist"):
        score_customers(tx, as_of="2024-02-01", tracking_uri=f"sqlite:///{typo.as_posix()}")
    assert not typo.parent.exists()


@pytest.mark.parametrize("form", ["percent", "file_uri"])
def test_an_existing_store_in_another_spelling_is_not_refused(tmp_path: Path, form: str) -> None:
    """SQLAlchemy opens 'sqlite:////a/my%20store.db' as 'my store.db', and
    'sqlite:///file:/a/x.db?mode=ro&uri=true' as '/a/x.db': both stores exist, and loading from
    them was refused as a store that does not exist."""
    import sqlite3

    from loyalty_ml.tracking._mlflow import check_store_exists

    db = tmp_path / "my store.db"
    sqlite3.connect(db).close()
    uri = {
        "percent": f"sqlite:///{db.as_posix().replace(' ', '%20')}",
        "file_uri": f"sqlite:///file:{db.as_posix()}?mode=ro&uri=true",
    }[form]
    check_store_exists(uri)
    with pytest.raises(TrackingError, match="does not exist"):
        check_store_exists(uri.replace("store", "stroe"))
