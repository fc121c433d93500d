"""Every notebook in notebooks/ runs top to bottom on the simulator, so none of them rots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_notebooks_exist() -> None:
    assert len(NOTEBOOKS) >= 3, f"expected at least three notebooks, found {NOTEBOOKS}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{path.name}: outputs must be stripped in git"
            assert cell.get("execution_count") is None, f"{path.name}: execution counts in git"
    # the kernel inherits the environment: run MLflow in a throw-away store in tmp_path
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("LOYALTY_ML_SALT", "notebook-test-salt")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The kernel runs in tmp_path: put this checkout first on its path, so that the notebook runs
    # against the code under test whatever is (or is not) installed in the environment.
    path_before = os.environ.get("PYTHONPATH")
    monkeypatch.setenv(
        "PYTHONPATH", str(REPO) if not path_before else os.pathsep.join([str(REPO), path_before])
    )
    client = nbclient.NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    # a warning in a notebook is rot in the making (a deprecated call, a silent dtype change...)
    warnings = [
        output["text"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr" and "Warning" in output.get("text", "")
    ]
    assert not warnings, f"{path.name} emitted warnings: {warnings[:3]}"
