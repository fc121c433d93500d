"""Where MLflow runs and models live: tracking-URI resolution, a reachability check, a scoped URI.

Resolution order: the ``tracking_uri`` argument, then the ``MLFLOW_TRACKING_URI`` environment variable,
then MLflow's embedded store ``sqlite:///mlflow.db`` in the current working folder (made absolute when it is
resolved, so a later ``chdir`` does not move it). Nothing is set at import time; :func:`use_tracking_uri`
sets MLflow's global URI only for the duration of a ``with`` block and restores the previous one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loyalty_ml.exceptions import TrackingError

__all__ = ["DEFAULT_DB", "check_reachable", "resolve_tracking_uri", "use_tracking_uri"]

ENV_VAR = "MLFLOW_TRACKING_URI"
DEFAULT_DB = "mlflow.db"
# A short timeout: MLflow's own client retries an unreachable server for minutes before failing.
_HEALTH_TIMEOUT_S = 5.0


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """The tracking URI to use: argument > ``MLFLOW_TRACKING_URI`` > ``sqlite:///<cwd>/mlflow.db``.

    Examples
    --------
    >>> resolve_tracking_uri("http://127.0.0.1:5000")
    'http://127.0.0.1:5000'
    """
    if tracking_uri is not None and not isinstance(tracking_uri, str):
        raise TrackingError(
            f"The 'tracking_uri' parameter must be a string or None. Got {tracking_uri!r} instead."
        )
    if tracking_uri:
        return tracking_uri
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return env
    return f"sqlite:///{(Path.cwd() / DEFAULT_DB).as_posix()}"


def check_reachable(tracking_uri: str) -> None:
    """Raise :class:`TrackingError` at once when the tracking store cannot be used.

    An HTTP tracking server must answer ``/health``. A file store (``file:`` or a plain folder) is
    refused unless ``MLFLOW_ALLOW_FILE_STORE`` is set: MLflow 3 keeps it in maintenance mode and
    would refuse it only when the run starts, after minutes of training. Database stores
    (``sqlite:``, ...) are created on first use; an ``sqlite:///`` file that exists must be an
    SQLite database, and one that does not must be creatable (see :func:`_check_sqlite_file`).
    """
    if _is_file_store(tracking_uri):
        if os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").strip().lower() in ("1", "true", "yes"):
            return
        raise TrackingError(
            f"The tracking URI {tracking_uri!r} is an MLflow file store, which MLflow 3 keeps in "
            f"maintenance mode. Use a database store such as 'sqlite:///mlflow.db' (the default "
            f"when {ENV_VAR} is unset), or set MLFLOW_ALLOW_FILE_STORE=true to keep the folder."
        )
    if tracking_uri.startswith("sqlite:///"):
        _check_sqlite_file(tracking_uri)
        return
    if not tracking_uri.startswith(("http://", "https://")):
        return
    url = tracking_uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=_HEALTH_TIMEOUT_S) as response:
            status = int(response.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TrackingError(
            f"The MLflow tracking server at {tracking_uri!r} is unreachable ({exc}). Start it "
            "(`mlflow server --host 127.0.0.1 --port 5000`), fix --tracking-uri / "
            f"{ENV_VAR}, or unset it to use the embedded store {DEFAULT_DB} in the working folder."
        ) from exc
    if status != 200:
        raise TrackingError(
            f"The MLflow tracking server at {tracking_uri!r} answered /health with HTTP {status}; "
            "check that the URI points at an MLflow server."
        )


#: The first bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_file(tracking_uri: str) -> None:
    """TrackingError when an ``sqlite:///`` store's file is not a database, or cannot be created:
    MLflow would fail deep in SQLAlchemy, or retry for two minutes first."""
    path = Path(tracking_uri[len("sqlite:///") :].split("?", 1)[0])
    if str(path) in ("", ":memory:"):
        return
    if path.is_file():
        try:
            with path.open("rb") as handle:
                header = handle.read(len(_SQLITE_HEADER))
        except OSError as exc:
            raise TrackingError(
                f"The tracking store {tracking_uri!r} cannot be read ({exc})."
            ) from exc
        if header and header != _SQLITE_HEADER:
            raise TrackingError(
                f"The tracking store {tracking_uri!r} names {str(path)!r}, which is not an SQLite "
                "database. Point the tracking URI at the MLflow database (e.g. "
                f"'sqlite:///{DEFAULT_DB}'), or at a new file to start a store."
            )
        return
    if path.exists():  # a folder, a device
        raise TrackingError(
            f"The tracking store {tracking_uri!r} names {str(path)!r}, which is not a file."
        )
    folder = next((p for p in path.absolute().parents if p.exists()), None)
    try:  # os.access says yes to root everywhere, /proc included: try it
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise TrackingError(
            f"The tracking store {tracking_uri!r} cannot be created in {str(folder)!r} ({exc}). "
            "Point the tracking URI at a folder you can write to."
        ) from exc


def check_store_exists(tracking_uri: str) -> None:
    """TrackingError when an ``sqlite:///`` store to be read (a model to load) has no file.

    MLflow would create an empty store there, folders included, and the caller would then be told
    that no model is registered: the usual cause is a job run from another working folder, where
    the default ``sqlite:///mlflow.db`` names another file, and training is not the fix.
    """
    if not tracking_uri.startswith("sqlite:///"):
        return
    from sqlalchemy.engine import make_url  # MLflow's database stores

    # as SQLAlchemy reads it: percent-escapes decoded ('my%20store.db'), a 'file:' URI's path
    url = make_url(tracking_uri)
    database = url.database or ""
    if url.query.get("uri") == "true" and database.startswith("file:"):
        database = database[len("file:") :]
    path = Path(database)
    if database in ("", ":memory:") or path.exists():
        return
    raise TrackingError(
        f"The tracking store {tracking_uri!r} names {str(path.absolute())!r}, which does not exist, "
        "so it holds no registered model (nothing was created). Point the tracking URI at the store "
        f"the training job wrote: a relative 'sqlite:///{DEFAULT_DB}' is read in the working folder "
        f"({Path.cwd()}), and a scheduled job may run in another one; give an absolute path "
        f"('sqlite:////path/to/{DEFAULT_DB}'), as tracking_uri=, --tracking-uri or {ENV_VAR}."
    )


def _is_file_store(tracking_uri: str) -> bool:
    """True for ``file:`` URIs and plain paths (no ``scheme://``); Windows drives are paths too."""
    if tracking_uri.startswith("file:"):
        return True
    if tracking_uri.split(":", 1)[0] in ("databricks", "databricks-uc"):
        return False
    scheme = tracking_uri.split("://", 1)[0] if "://" in tracking_uri else ""
    return scheme == "" or (len(scheme) == 1 and scheme.isalpha())


def check_one_store(tracking_uri: str) -> None:
    """TrackingError when MLflow's registry URI was pointed elsewhere than ``tracking_uri``.

    loyalty_ml keeps its registered models in the tracking store (the registry the nightly job and
    ``load_policy`` read); a registry set apart with ``mlflow.set_registry_uri`` or
    ``MLFLOW_REGISTRY_URI`` would receive the model while the run and the aliases stay here.
    """
    # mlflow.set_registry_uri(uri) writes this variable too, and MLflow reads it when the
    # registry URI is unset, even after set_registry_uri(None)
    registry = os.environ.get("MLFLOW_REGISTRY_URI")
    if registry and registry != tracking_uri:
        raise TrackingError(
            f"MLflow's registry URI is {registry!r} (mlflow.set_registry_uri or "
            f"MLFLOW_REGISTRY_URI) but the tracking URI is {tracking_uri!r}: loyalty_ml registers "
            "its model where it tracks the run. Unset the registry URI (del "
            "os.environ['MLFLOW_REGISTRY_URI'] and mlflow.set_registry_uri(None)) or set it to "
            "the tracking URI."
        )


@contextmanager
def use_tracking_uri(tracking_uri: str | None = None) -> Iterator[str]:
    """Point MLflow's fluent API at the resolved URI inside the block; restore the previous one after.

    Yields the resolved URI. The server is checked first (see :func:`check_reachable`).
    """
    import mlflow

    uri = resolve_tracking_uri(tracking_uri)
    check_reachable(uri)
    # mlflow.set_tracking_uri also writes the environment variable, so that is the state to restore.
    previous = os.environ.get(ENV_VAR)
    mlflow.set_tracking_uri(uri)
    try:
        yield uri
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None unsets it
        if previous is None:
            os.environ.pop(ENV_VAR, None)


def experiment_id(name: str, *, tracking_uri: str) -> str:
    """Id of the experiment ``name`` at ``tracking_uri``, created (or restored) when needed.

    Runs are started with this id rather than ``mlflow.set_experiment``, which would leave the
    caller's process pointing at our experiment (a global that outlives the tracking URI we restore).
    """
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(name)
    if found is None:
        return str(client.create_experiment(name))
    if found.lifecycle_stage == "deleted":
        client.restore_experiment(found.experiment_id)
    return str(found.experiment_id)


_METRIC_SAFE = re.compile(r"[0-9A-Za-z_.-]+")


def metric_key(label: object) -> str:
    """``label`` (an offer id) as part of an MLflow metric name, the same every night.

    An id made of letters, digits and ``_.-`` is kept as it is; any other gets its other characters
    replaced by ``_`` and a short hash of the exact id appended, so that ``"a/b"`` and ``"a_b"``
    never share a metric (``"a/b"`` -> ``"a_b_<hash>"``).
    """
    text = str(label)
    if _METRIC_SAFE.fullmatch(text):
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{re.sub(r'[^0-9A-Za-z_.-]+', '_', text).strip('_')}_{digest}"
