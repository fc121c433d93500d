from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import DataError, SchemaError
from loyalty_ml.privacy import erase_customers
from loyalty_ml.schema import columns as C


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    tx = pd.DataFrame({C.CUSTOMER_ID: [1, 1, 2, 3, 3, 3], C.AMOUNT: [1.0, 2, 3, 4, 5, 6]})
    customers = pd.DataFrame(
        {C.TIER: ["a", "b", "c"]}, index=pd.Index([1, 2, 3], name=C.CUSTOMER_ID)
    )
    X_train = pd.DataFrame(
        {"frequency": [1.0, 2, 3, 4]},
        index=pd.MultiIndex.from_tuples(
            [("2024-01", 1), ("2024-01", 2), ("2024-04", 1), ("2024-04", 3)],
            names=[C.AS_OF, C.CUSTOMER_ID],
        ),
    )
    campaigns = pd.DataFrame({C.CUSTOMER_ID: ["1", "2"], C.OFFER_ID: ["A", "B"]})  # ids as text
    return {"transactions": tx, "customers": customers, "X_train": X_train, "campaigns": campaigns}


def test_erases_from_every_table_and_reports_counts(tables: dict[str, pd.DataFrame]) -> None:
    out, report = erase_customers([1, 99], **tables, scores=None)
    assert out["transactions"][C.CUSTOMER_ID].tolist() == [2, 3, 3, 3]
    assert out["customers"].index.tolist() == [2, 3]
    assert out["X_train"].index.get_level_values(C.CUSTOMER_ID).tolist() == [2, 3]
    assert out["campaigns"][C.CUSTOMER_ID].tolist() == ["2"]  # "1" matched the int 1
    assert out["scores"] is None
    assert report.rows_removed == {"transactions": 2, "customers": 1, "X_train": 2, "campaigns": 1}
    assert report.total_rows_removed == 6
    assert (report.n_requested, report.n_found) == (2, 1)
    frame = report.to_frame()
    assert frame.loc["transactions"].tolist() == [6, 2, 4]
    assert "1 of 2 requested customer(s) found, 6 row(s) removed" in str(report)
    assert len(tables["transactions"]) == 6  # inputs untouched


def test_an_id_with_stray_blanks_is_still_erased(tables: dict[str, pd.DataFrame]) -> None:
    # a request pasted from a ticket (" 2 ") and a raw table with padded text ids (" 1 ")
    tables["campaigns"] = pd.DataFrame({C.CUSTOMER_ID: [" 1 ", "2"], C.OFFER_ID: ["A", "B"]})
    out, report = erase_customers([" 2 ", "1\t"], **tables)
    assert out["transactions"][C.CUSTOMER_ID].tolist() == [3, 3, 3]
    assert out["campaigns"].empty
    assert (report.n_requested, report.n_found) == (2, 2)


def test_nothing_requested_removes_nothing(tables: dict[str, pd.DataFrame]) -> None:
    out, report = erase_customers([], **tables)
    assert report.total_rows_removed == 0
    pd.testing.assert_frame_equal(out["transactions"], tables["transactions"])


def test_errors(tables: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(
        SchemaError, match="table 'offers' has no 'customer_id' column or index level"
    ):
        erase_customers([1], offers=pd.DataFrame({C.OFFER_ID: ["A"]}))
    with pytest.raises(SchemaError, match="table 'tx' must be a DataFrame"):
        erase_customers([1], tx=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="missing id"):
        erase_customers([1, None], **tables)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.integers(0, 9), max_size=40),
    erased=st.sets(st.integers(0, 9), max_size=5),
)
def test_no_erased_customer_remains_and_nobody_else_is_touched(
    rows: list[int], erased: set[int]
) -> None:
    tx = pd.DataFrame({C.CUSTOMER_ID: rows, C.AMOUNT: range(len(rows))})
    out, report = erase_customers(sorted(erased), transactions=tx)
    remaining = out["transactions"]
    assert not set(remaining[C.CUSTOMER_ID]) & erased
    pd.testing.assert_frame_equal(remaining, tx[~tx[C.CUSTOMER_ID].isin(erased)])
    assert report.rows_removed["transactions"] == len(tx) - len(remaining)
    assert report.n_found == len(erased & set(rows))
