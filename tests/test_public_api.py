from __future__ import annotations

import subprocess
import sys

import pytest

import loyalty_ml
import loyalty_ml.datasets
import loyalty_ml.features
import loyalty_ml.kpis
import loyalty_ml.privacy
import loyalty_ml.reporting
import loyalty_ml.schema
import loyalty_ml.tracking


@pytest.mark.parametrize(
    "module",
    [
        loyalty_ml,
        loyalty_ml.schema,
        loyalty_ml.datasets,
        loyalty_ml.features,
        loyalty_ml.kpis,
        loyalty_ml.privacy,
        loyalty_ml.reporting,
        loyalty_ml.tracking,
    ],
)
# MLflow warns at class definition that a DataFrame-typed PythonModel.predict is not validated.
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_every_public_name_resolves(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        assert getattr(module, name) is not None, name


def test_import_has_no_heavy_side_effects() -> None:
    code = (
        "import sys, loyalty_ml; "
        "heavy = [m for m in ('mlflow', 'shap', 'causalml', 'lightgbm') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_package_logger_is_silent_until_the_application_configures_logging() -> None:
    # a library's records must not reach Python's last-resort handler (stderr) on their own
    code = (
        "import logging, loyalty_ml; "
        "logging.getLogger('loyalty_ml.models').warning('should not be printed')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr == ""


def test_errors_are_value_errors_where_callers_catch_them() -> None:
    for cls in (
        loyalty_ml.SchemaError,
        loyalty_ml.ConfigError,
        loyalty_ml.PolicyError,
        loyalty_ml.LeakageError,
    ):
        assert issubclass(cls, ValueError) and issubclass(cls, loyalty_ml.LoyaltyMLError)
    from sklearn.exceptions import NotFittedError

    assert issubclass(loyalty_ml.NotFittedError, NotFittedError)


# The names DESIGN.md section 4 promises; other code (notebooks, jobs, acceptance checks) calls them.
DESIGN_CONTRACT = (
    "datasets",
    "validate_transactions",
    "ColumnMap",
    "build_features",
    "churn_labels",
    "training_table",
    "estimate_boundaries",
    "rfm_segments",
    "ChurnModel",
    "TriggerPolicy",
    "UpliftModel",
    "OfferCatalog",
    "choose_offers",
    "fairness_report",
    "train_and_register",
    "score_customers",
)


@pytest.mark.parametrize("name", DESIGN_CONTRACT)
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_design_contract_names_are_exported(name: str) -> None:
    assert name in loyalty_ml.__all__
    assert getattr(loyalty_ml, name) is not None
    assert callable(loyalty_ml.datasets.simulate)
