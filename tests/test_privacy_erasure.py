from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, SchemaError
from loyalty_ml.privacy import erase_customers, pseudonymise_ids, select_needed_columns
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
    with pytest.warns(DataQualityWarning, match="1 of the 2 requested customers were found in"):
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


@pytest.mark.filterwarnings(
    "ignore:.*requested customers were found in none:loyalty_ml.exceptions.DataQualityWarning"
)
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


def test_a_frame_of_requests_is_refused_not_read_as_its_column_labels() -> None:
    """Requests read from a CSV are a DataFrame, whose iteration gives its column labels: once, the
    erasure looked for a customer called 'customer_id', found nobody and removed nothing."""
    tx = pd.DataFrame({C.CUSTOMER_ID: [1, 2, 3], "amount": [1.0, 2.0, 3.0]})
    requests = pd.DataFrame({C.CUSTOMER_ID: [1, 2]})
    with pytest.raises(ConfigError, match=r"got a DataFrame .* frame\['customer_id'\]"):
        erase_customers(requests, transactions=tx)
    with pytest.raises(ConfigError, match="got a DataFrame"):
        pseudonymise_ids(requests, salt="s3cret-salt")
    out, report = erase_customers(requests[C.CUSTOMER_ID], transactions=tx)
    assert out["transactions"][C.CUSTOMER_ID].tolist() == [3] and report.n_found == 2


def test_nested_lists_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="must hold single values; got list"):
        erase_customers([[1], [2]], t=pd.DataFrame({C.CUSTOMER_ID: [1]}))
    with pytest.raises(ConfigError, match="must hold single values; got list"):
        pseudonymise_ids([[1], [2]], salt="s3cret-salt")
    with pytest.raises(ConfigError, match="must hold single values; got list"):
        select_needed_columns(pd.DataFrame({"a": [1]}), [["a"]])


@pytest.mark.parametrize(
    "table",
    [
        pd.DataFrame([[1, 1], [2, 2]], columns=[C.CUSTOMER_ID, C.CUSTOMER_ID]),
        pd.DataFrame([[1, 1], [2, 2], [3, 3]], columns=[C.CUSTOMER_ID, C.CUSTOMER_ID]),
        pd.DataFrame({(C.CUSTOMER_ID, "a"): [1, 2]}),
    ],
)
def test_a_repeated_or_multi_level_id_column_is_erased_under_every_column(
    table: pd.DataFrame,
) -> None:
    """Once, a table with the id column twice kept customer 1 (two rows) or raised a broadcast
    ValueError (three), and a column MultiIndex under 'customer_id' kept them silently."""
    out, report = erase_customers([1], t=table)
    assert report.rows_removed["t"] == 1 and len(out["t"]) == len(table) - 1


def test_erasure_that_finds_nobody_warns_and_the_cleaning_report_forgets_the_rows() -> None:
    # a request typed unlike the table ("007"; "7.0" is 7 since session 51) erased nothing in
    # silence; the erased
    # table kept validate_transactions' report, so the next run logged the pre-erasure counts
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.schema import cleaning_report, validate_transactions

    tx = validate_transactions(
        pd.DataFrame(
            {
                "customer_id": [7, 7, 8, 9],
                "timestamp": pd.to_datetime(
                    ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
                ),
                "amount": [1.0, 2.0, 3.0, 4.0],
            }
        )
    )
    with pytest.warns(
        DataQualityWarning, match="1 of the 1 requested customers were found in none"
    ):
        out, report = erase_customers(["007"], transactions=tx)
    assert report.n_found == 0 and len(out["transactions"]) == 4
    assert erase_customers(["7.0"], transactions=tx)[1].n_found == 1
    out, report = erase_customers([7], transactions=tx)
    kept = cleaning_report(out["transactions"])
    assert kept is not None and (kept.rows_in, kept.rows_out) == (2, 2)
    assert cleaning_report(tx).rows_out == 4  # the input is not modified


def test_an_erased_id_leaves_no_trace_in_index_levels_or_categories() -> None:
    """The rows went, but the id stayed in a (as_of, customer_id) index's levels and in a
    categorical column's categories, so a pickled "erased" table still held it. Categories no
    row held before the erasure stay as declared."""
    import pickle

    from loyalty_ml.privacy import erase_customers

    index = pd.MultiIndex.from_product(
        [pd.to_datetime(["2024-01-01", "2024-02-01"]), ["CUST-ZZ-7", "CUST-ZZ-8"]],
        names=["as_of", "customer_id"],
    )
    X = pd.DataFrame({"spend": [1.0, 2.0, 3.0, 4.0]}, index=index)
    customers = pd.DataFrame(
        {
            "customer_id": pd.Categorical(["CUST-ZZ-7", "CUST-ZZ-8"]),
            "tier": pd.Categorical(["staff", "gold"], categories=["gold", "silver", "staff"]),
        }
    )
    out, _ = erase_customers(["CUST-ZZ-7"], X=X, customers=customers)
    assert b"CUST-ZZ-7" not in pickle.dumps(out["X"])
    assert b"CUST-ZZ-7" not in pickle.dumps(out["customers"])
    # "staff" was held by the erased customer alone; "silver" by nobody, before or after
    assert list(out["customers"]["tier"].cat.categories) == ["gold", "silver"]
