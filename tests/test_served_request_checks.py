"""The served policy as another system calls it (an outside probe, session 49).

- a request the library refuses reaches MLflow's scoring server answer as its ``message`` (it was
  "Encountered an unexpected error while evaluating the model", the reason only in ``stack_trace``),
  without quoting the request (customer ids);
- an id sent as the text ``"12346.0"`` is in the holdout exactly when ``12346`` is;
- category levels the model never saw are warned about, with a case-only match;
- values no feature of ``build_features`` can hold (a share of 45, a negative count, ``n_orders``
  of 0, infinity, ``recency_days`` above ``tenure_days``) are refused.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow_fixtures import MLFLOW_IMPORT_WARNING
from policy_fixtures import hand_made_features, hand_made_policy
from test_holdout_golden import POLICY_HOLDOUT_1_200

from loyalty_ml import build_features, validate_transactions
from loyalty_ml.datasets import simulate
from loyalty_ml.exceptions import DataQualityWarning, SchemaError
from loyalty_ml.features import FeatureConfig
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.schema import columns as C
from loyalty_ml.tracking.policy import LoyaltyPolicy
from loyalty_ml.tracking.pyfunc import (
    LoyaltyPolicyModel,
    input_example,
    model_signature,
    refuse_impossible_values,
)

pytestmark = pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)


@pytest.fixture(scope="module")
def tiered() -> pd.DataFrame:
    """Features with a category and a share, as build_features names them; ids 1..300."""
    rng = np.random.default_rng(0)
    n = 300
    tenure = rng.uniform(30, 700, n)
    return pd.DataFrame(
        {
            "recency_days": tenure * rng.uniform(0, 1, n),
            "tenure_days": tenure,
            "n_orders": rng.integers(1, 12, n).astype(float),
            "channel_share_app": rng.uniform(0, 1, n),
            "tier": pd.Categorical(rng.choice(["gold", "silver"], n)),
        },
        index=pd.Index(np.arange(1, n + 1), name=C.CUSTOMER_ID),
    )


@pytest.fixture(scope="module")
def tiered_policy(tiered: pd.DataFrame) -> LoyaltyPolicy:
    rng = np.random.default_rng(1)
    gold = (tiered["tier"] == "gold").to_numpy()
    churned = rng.uniform(size=len(tiered)) < np.where(gold, 0.2, 0.7)
    churn = ChurnModel(n_estimators=20, random_state=0).fit(
        tiered, pd.Series(churned.astype(int), index=tiered.index)
    )
    return LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=tuple(tiered.columns),
        feature_categories={"tier": ("gold", "silver")},
        churn_model=churn,
    )


def _served(policy: LoyaltyPolicy) -> LoyaltyPolicyModel:
    """The pyfunc wrapper around ``policy``, as load_context leaves it."""
    model = LoyaltyPolicyModel()
    model.policy = policy
    return model


def _request(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as a JSON client sends it: ids as a column, categories as text, consent given."""
    out = frame.reset_index().assign(**{C.CONSENT_MARKETING: True})
    return out.astype({c: object for c in out if isinstance(out[c].dtype, pd.CategoricalDtype)})


# -- 1. the scoring server's answer names the reason ----------------------------------------------
@pytest.fixture(scope="module")
def saved(
    tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """The policy saved as log_policy_model logs it (models from code) and loaded back."""
    folder = tmp_path_factory.mktemp("served")
    artifact = folder / "policy.pkl"
    artifact.write_bytes(pickle.dumps(tiered_policy))
    code = Path(__file__).resolve().parents[1] / "loyalty_ml" / "tracking" / "_model_code.py"
    mlflow.pyfunc.save_model(
        folder / "model",
        python_model=str(code),
        artifacts={"policy": str(artifact)},
        signature=model_signature(tiered_policy),
        input_example=input_example(tiered_policy, tiered),
    )
    return mlflow.pyfunc.load_model(str(folder / "model"))


def _invoke(model: Any, frame: pd.DataFrame) -> dict[str, Any]:
    """The JSON body ``POST /invocations`` answers a refused ``frame`` with (dataframe_split)."""
    from mlflow.pyfunc import scoring_server

    split = json.loads(frame.to_json(orient="split", index=False))
    body = json.dumps({"dataframe_split": split, "params": {"reasons": "none"}})
    schema = model.metadata.get_input_schema()
    with pytest.raises(MlflowException) as raised:
        scoring_server.invocations(body, "application/json", model, schema)
    assert raised.value.get_http_status_code() == 400
    answer: dict[str, Any] = json.loads(raised.value.serialize_as_json())
    return answer


def test_a_refused_request_is_answered_with_the_reason_and_no_customer_id(
    saved: Any, tiered: pd.DataFrame
) -> None:
    rows = _request(tiered.iloc[:3]).assign(**{C.CUSTOMER_ID: ["SECRET-1", "SECRET-2", "SECRET-3"]})
    answer = _invoke(saved, rows.drop(columns=["n_orders"]))
    # was "Encountered an unexpected error while evaluating the model. Verify that ..."
    assert answer["message"].startswith("features lack 1 column(s) the model needs: ['n_orders']")
    assert answer["error_code"] == "INVALID_PARAMETER_VALUE"
    # what clients read before is still there: the loyalty_ml error ends the stack trace
    assert (
        answer["stack_trace"]
        .strip()
        .splitlines()[-1]
        .startswith("loyalty_ml.exceptions.SchemaError: features lack 1 column(s)")
    )
    # MLflow prefixes the message with the request frame ("Failed to predict data '...'")
    assert "SECRET" not in json.dumps(answer) and "Failed to predict" not in answer["message"]
    answer = _invoke(saved, rows.assign(n_orders=[1.0, -2.0, 3.0]))
    assert answer["message"].startswith("model_input.n_orders holds values outside [1.0, inf]")


def test_python_callers_still_get_the_loyalty_ml_error(
    saved: Any, tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy
) -> None:
    rows = _request(tiered.iloc[:3]).drop(columns=["n_orders"])
    with pytest.raises(SchemaError, match=r"lack 1 column\(s\).*\['n_orders'\]") as raised:
        saved.predict(rows)
    assert isinstance(raised.value, MlflowException)
    assert raised.value.column == "n_orders" and raised.value.table == "features"
    assert type(raised.value.__cause__) is SchemaError
    with pytest.raises(SchemaError) as direct:  # decide itself is unchanged
        tiered_policy.decide(tiered.drop(columns=["n_orders"]))
    assert type(direct.value) is SchemaError


# -- 2. an id written as a float's text keeps its holdout ---------------------------------------
def test_an_id_written_as_a_float_text_is_held_out_like_the_integer() -> None:
    policy: Any = SimpleNamespace(holdout_fraction=0.1)
    numbers = np.arange(1, 201)
    for texts in ([f"{i}.0" for i in numbers], [f" {i}.00" for i in numbers]):
        mask = LoyaltyPolicy.holdout_mask(policy, pd.Index(texts, name=C.CUSTOMER_ID))
        assert numbers[mask].tolist() == POLICY_HOLDOUT_1_200
    # text that is not a whole number written as a float is hashed as it is: "00123.0" (leading
    # zeros: a card number, not 123), "12.5", "C-7.0"; 1,000 of each form so that a different
    # hash would show in the 10% drawn
    from loyalty_ml.schema._id_text import id_hash_units

    other = np.array(
        [f"{t}{i}" for i in range(1000) for t in ("00123.0-", "12.5-", "C-7.0-")]
        + [f"00{i}.0" for i in range(1000)],
        dtype=object,
    )
    as_is = id_hash_units(other, key="loyaltymlholdout") < 0.1
    assert LoyaltyPolicy.holdout_mask(policy, pd.Index(other)).tolist() == as_is.tolist()


def test_served_ids_sent_as_float_text_get_the_integer_ids_decisions() -> None:
    features = hand_made_features()
    model = _served(hand_made_policy(features))
    request = features.reset_index().assign(**{C.CONSENT_MARKETING: True})
    by_number = model.predict(None, request, params={"reasons": "none"})
    as_text = request.assign(**{C.CUSTOMER_ID: [f"{i}.0" for i in request[C.CUSTOMER_ID]]})
    by_text = model.predict(None, as_text, params={"reasons": "none"})
    assert by_text[C.CUSTOMER_ID].tolist() == as_text[C.CUSTOMER_ID].tolist()  # as sent
    assert by_number["holdout_offer_id"].notna().sum() > 5  # the holdout is in play
    pd.testing.assert_frame_equal(
        by_text.drop(columns=C.CUSTOMER_ID), by_number.drop(columns=C.CUSTOMER_ID)
    )


# -- 3. unseen category levels are named -----------------------------------------------------------
def test_unseen_category_levels_are_warned_about_with_a_case_match(
    tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy
) -> None:
    model = _served(tiered_policy)
    request = _request(tiered.iloc[:40])
    quiet = model.predict(None, request.assign(tier=request["tier"].where(request.index > 2)))
    shouted = request.assign(tier=request["tier"].str.upper().where(request.index != 5, " "))
    with pytest.warns(
        DataQualityWarning,
        match=r"model_input\.tier holds levels the model never saw at training "
        r"\['(GOLD|SILVER)', '(GOLD|SILVER)'\] in 39 of 40 rows.*"
        r"Close matches \(case or blanks differ\): .*'GOLD' -> 'gold'.*"
        r"levels are \['gold', 'silver'\]",
    ):
        loud = model.predict(None, shouted)
    assert len(loud) == len(quiet) == 40
    assert loud["customer_id"].tolist() == request["customer_id"].tolist()
    with pytest.warns(DataQualityWarning, match=r"\['platinum'\] in 40 of 40 rows: they are read"):
        model.predict(None, request.assign(tier="platinum"))


# -- 4. impossible values are refused, suspicious ones warned about -------------------------------
@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("n_orders", [0.0, 2.0, 3.0], r"n_orders holds values outside \[1.0, inf\].*row 0: 0.0"),
        ("n_orders", [2.0, -3.0, 3.0], r"n_orders .*without a purchase.*row 1: -3.0"),
        (
            "channel_share_app",
            [25.0, 0.5, 80.0],
            r"channel_share_app holds values outside \[0.0, 1.0\]; it is a share.*"
            r"\(these look like percentages: divide them by 100\)",
        ),
        ("channel_share_app", [0.5, -0.1, 0.5], r"channel_share_app .*row 1: -0.1"),
        ("tenure_days", [np.inf, 400.0, 500.0], r"tenure_days holds infinite values"),
        (
            "recency_days",
            [10.0, 1e4, 5.0],
            r"recency_days is above tenure_days .*in hours\?.*row 1: 10000.0",
        ),
    ],
)
def test_impossible_values_are_refused(
    tiered: pd.DataFrame,
    tiered_policy: LoyaltyPolicy,
    column: str,
    values: list[float],
    message: str,
) -> None:
    request = _request(tiered.iloc[:3]).assign(**{column: values})
    with pytest.raises(SchemaError, match=message) as raised:
        _served(tiered_policy).predict(None, request)
    assert raised.value.column == column and raised.value.table == "model_input"


def test_the_edges_of_each_range_and_missing_values_pass(
    tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy
) -> None:
    request = _request(tiered.iloc[:4]).assign(
        n_orders=[1.0, np.nan, 2.0, 5.0],
        channel_share_app=[0.0, 1.0, np.nan, 1.0 + 1e-12],
        recency_days=[0.0, 100.0, np.nan, 50.0],
        tenure_days=[0.0, 100.0, 20.0, np.nan],
    )
    assert len(_served(tiered_policy).predict(None, request)) == 4  # no error, no warning


def test_counts_that_are_not_whole_numbers_are_warned_about(
    tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy
) -> None:
    request = _request(tiered.iloc[:3]).assign(n_orders=[1.0, 2.5, 3.0])
    with pytest.warns(DataQualityWarning, match=r"n_orders holds counts that are not whole .*2.5"):
        _served(tiered_policy).predict(None, request)


def test_features_the_library_builds_are_never_refused() -> None:
    data = simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=5)
    refuse_impossible_values(build_features(data.transactions, as_of="2024-12-01"))
    # returns kept: a refund larger than the purchases, a return in an order of its own, a
    # customer with returns only (left out of the features, so never sent with n_orders 0)
    raw = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 1, 1, 2, 2, 3],
            C.ORDER_ID: ["a", "a", "b", "c", "d", "e"],
            C.TIMESTAMP: pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-02-01", "2024-01-05", "2024-01-05", "2024-01-09"]
            ),
            C.AMOUNT: [10.0, -30.0, -5.0, 5.0, 7.0, -4.0],
        }
    )
    tx = validate_transactions(raw, returns="keep")
    features = build_features(tx, as_of="2024-03-01")
    assert features.index.tolist() == [1, 2] and features.loc[1, "spend"] < 0
    refuse_impossible_values(features)


def test_a_refused_request_error_survives_pickling() -> None:
    """served_error's classes are made at run time: pickle (multiprocessing, Spark workers
    sending exceptions back) could not find them by name."""
    import pickle

    from mlflow.exceptions import MlflowException

    from loyalty_ml.exceptions import SchemaError
    from loyalty_ml.tracking.pyfunc import served_error

    served = served_error(SchemaError("features lack 'spend'.", table="features", column="spend"))
    back = pickle.loads(pickle.dumps(served))
    assert isinstance(back, SchemaError) and isinstance(back, MlflowException)
    assert (back.message, back.table, back.column) == (
        "features lack 'spend'.",
        "features",
        "spend",
    )
    assert back.get_http_status_code() == 400


def test_a_share_sent_from_a_float32_column_is_not_refused(
    tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy
) -> None:
    """A share of 1 computed in float32 (Spark's FloatType) can arrive as 1.0000001192092896:
    refused with a 400 and a hint to divide by 100 (the session's review)."""
    shares = np.array([1.0000001, 0.5, 0.25], dtype=np.float32).astype(np.float64)
    assert shares[0] == 1.0000001192092896
    request = _request(tiered.iloc[:3]).assign(channel_share_app=shares)
    assert len(_served(tiered_policy).predict(None, request)) == 3


def test_a_share_a_little_above_one_is_refused_without_the_percentage_hint(
    tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy
) -> None:
    request = _request(tiered.iloc[:3]).assign(channel_share_app=[1.2, 0.5, 0.25])
    with pytest.raises(SchemaError, match=r"outside \[0.0, 1.0\]") as raised:
        _served(tiered_policy).predict(None, request)
    assert "percentages" not in str(raised.value)


@pytest.mark.parametrize("customer", [0, 99999, -4611686018427387903])
def test_a_request_for_one_ordinary_customer_does_not_warn(
    tiered: pd.DataFrame, tiered_policy: LoyaltyPolicy, customer: int
) -> None:
    """One customer numbered 0, 99999 or by a signed hash read as a stand-in for unidentified
    shoppers, on every call, and the warning quoted the id (the session's review)."""
    request = _request(tiered.iloc[:1]).assign(**{C.CUSTOMER_ID: [customer]})
    assert len(_served(tiered_policy).predict(None, request)) == 1  # warnings are errors here
