"""Import a benchmark script of ``experiments/`` as a module, for the tests of its terms."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path
from types import ModuleType

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def import_bench(name: str) -> ModuleType:
    """``experiments/<name>.py`` (which imports its sibling scripts by name) as a module."""
    sys.path.insert(0, str(EXPERIMENTS))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's and causalml's import-time notes
            return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXPERIMENTS))
