"""The input hash: same data same hash; any change in values, order, names or dtypes changes it."""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty_ml.tracking.hashing import hash_frame, hash_frames


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 2], "amount": [3.0, 4.5]})


def test_same_data_same_hash_and_hex_digest() -> None:
    h = hash_frame(_frame())
    assert h == hash_frame(_frame()) and len(h) == 64 and int(h, 16) >= 0


def test_changes_change_the_hash() -> None:
    base = hash_frame(_frame())
    assert hash_frame(_frame().assign(amount=[3.0, 4.6])) != base
    assert hash_frame(_frame().iloc[::-1]) != base
    assert hash_frame(_frame().rename(columns={"amount": "paid"})) != base
    assert hash_frame(_frame().astype({"customer_id": "int32"})) != base
    assert hash_frame(_frame().iloc[:0]) != hash_frame(
        _frame().iloc[:0].astype({"amount": "int64"})
    )


def test_hash_frames_records_absent_tables() -> None:
    tx = _frame()
    assert hash_frames(transactions=tx, customers=None) == hash_frames(
        customers=None, transactions=tx
    )
    assert hash_frames(transactions=tx, customers=None) != hash_frames(transactions=tx)
    assert hash_frames(transactions=tx, customers=tx) != hash_frames(
        transactions=tx, customers=None
    )


# importing mlflow.pyfunc makes MLflow warn about its own type hints
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_every_name_in_the_tracking_package_resolves() -> None:
    import loyalty_ml.tracking as tracking

    for name in tracking.__all__:
        assert getattr(tracking, name) is not None, name
