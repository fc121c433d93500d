"""Every docstring example in the package runs and prints what it shows (doctest).

The examples are documentation users copy; a stale one is a defect. Modules are imported with
warnings silenced (MLflow warns about type hints when the pyfunc model class is defined), and outputs
are compared with whitespace normalised, as pandas' column padding varies between versions.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings
from pathlib import Path

import pytest

import loyalty_ml


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(loyalty_ml.__path__, prefix="loyalty_ml."):
        spec = importlib.util.find_spec(info.name)
        if spec is not None and spec.origin and ">>> " in Path(spec.origin).read_text("utf-8"):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report: list[str] = []
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
