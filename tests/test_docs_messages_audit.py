"""Audit: public docstrings agree with the signatures they document.

A numpy-style ``Parameters`` section that names a parameter the function does not take, omits one
it does take, or states a default the code does not use misleads every reader of ``help()``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import pytest

import loyalty_ml

_PUBLIC_MODULES = (
    "loyalty_ml",
    "loyalty_ml.datasets",
    "loyalty_ml.features",
    "loyalty_ml.kpis",
    "loyalty_ml.privacy",
    "loyalty_ml.reporting",
    "loyalty_ml.schema",
    "loyalty_ml.tracking",
    "loyalty_ml.exceptions",
)
# importing loyalty_ml.tracking defines the pyfunc model, and MLflow warns about its type hints
_MLFLOW_IMPORT_WARNING = "ignore:.*Any type hint is inferred as AnyType:UserWarning"


def _section(doc: str, title: str) -> list[str]:
    """Lines of one numpy-style section (``title`` underlined with dashes), empty when absent."""
    lines = doc.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == title and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            out = []
            for j in range(i + 2, len(lines)):
                nxt = lines[j + 1].strip() if j + 1 < len(lines) else ""
                if lines[j].strip() and re.fullmatch(r"-{3,}", nxt):
                    break
                out.append(lines[j])
            return out
    return []


def _documented(doc: str) -> dict[str, str]:
    """Documented parameter name -> its header line's type text (``name : type``)."""
    out = {}
    for line in _section(doc, "Parameters"):
        if not line or line.startswith(" "):
            continue
        head, _, kind = line.partition(" : ")
        for name in head.split(","):
            name = name.strip().lstrip("*")
            if name:
                out[name] = kind
    return out


def _public_callables() -> list[tuple[str, object]]:
    seen: dict[int, tuple[str, object]] = {}
    for module_name in _PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                seen.setdefault(id(obj), (f"{module_name}.{name}", obj))
    out = []
    for qualname, obj in seen.values():
        out.append((qualname, obj))
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                func = value.__func__ if isinstance(value, classmethod | staticmethod) else value
                if not attr.startswith("_") and inspect.isfunction(func):
                    out.append((f"{qualname}.{attr}", func))
    return sorted(out, key=lambda item: item[0])


def _parameters(obj: object) -> dict[str, inspect.Parameter]:
    params = dict(inspect.signature(obj).parameters)  # type: ignore[arg-type]
    params.pop("self", None)
    params.pop("cls", None)
    return params


@pytest.mark.filterwarnings(_MLFLOW_IMPORT_WARNING)
def test_documented_parameters_exist_and_defaults_match() -> None:
    """Guard for what the audit found correct: no docstring documents a parameter the function
    lacks, and every ``name : type, default X`` header states the real default."""
    problems = []
    for qualname, obj in _public_callables():
        documented = _documented(inspect.getdoc(obj) or "")
        if not documented:
            continue
        params = _parameters(obj)
        for name, kind in documented.items():
            if name not in params:
                problems.append(f"{qualname}: documents {name!r}, not in the signature")
                continue
            match = re.search(r"default[: ]\s*(.+)$", kind)
            if match is None:
                continue
            try:
                stated = ast.literal_eval(match.group(1).strip())
            except (ValueError, SyntaxError):
                continue  # prose, e.g. "default 0.75 and 0.25" over two names
            if stated != params[name].default:
                problems.append(
                    f"{qualname}: {name} documented default {stated!r}, "
                    f"real {params[name].default!r}"
                )
    assert problems == []


def test_policy_value_documents_every_parameter() -> None:
    documented = set(_documented(inspect.getdoc(loyalty_ml.policy_value) or ""))
    assert set(_parameters(loyalty_ml.policy_value)) - documented == set()
