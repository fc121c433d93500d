"""Audit of the data contracts, churn labels and training table (raw frames -> (X, y)).

The first eleven tests were reproduced defects, now fixed: labels read line times (an order begun
before the cut-off, or a return inside an earlier order, counted as a purchase in the window); the
censoring message blamed the data when observation_end set the end; ids beyond int64 as floats gave
a raw TypeError; categorical whole-number ids became text; "nan"/"None" text ids were customers; a
"guest" stand-in went unremarked; an aware observation_end was read in UTC, not ``timezone``;
ambiguous day/month rows next to an ISO row did not warn; a negative quantity with a positive amount
was a purchase. The rest guard behaviour that was checked and found correct. Labels follow the
documented window ``[as_of, as_of + horizon_days)`` (DESIGN.md section 2, ``churn_labels``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml import ColumnMap, validate_transactions
from loyalty_ml.exceptions import DataQualityWarning, LeakageError, SchemaError

T = pd.Timestamp


def _recorded(func):
    """Call ``func`` recording every warning; return (result, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func()
    return result, caught


# -- defects: labels ---------------------------------------------------------------------------


def test_order_straddling_the_cutoff_is_not_a_purchase_in_the_window() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "order_id": ["A1", "A1", "B1", "B2"],
            "timestamp": [
                T("2024-01-31 23:59:58"),
                T("2024-02-01 00:00:02"),
                T("2024-01-10"),
                T("2024-05-01"),
            ],
            "amount": [5.0, 5.0, 1.0, 1.0],
        }
    )
    later = lml.build_features(tx, as_of="2024-03-01")
    assert later.loc[1, "n_orders"] == 1  # the library itself sees a single order, begun in January
    y = lml.churn_labels(tx, as_of="2024-02-01", horizon_days=30)
    assert y.to_dict() == {1: 1, 2: 1}


def test_return_inside_an_earlier_order_does_not_unchurn_the_customer() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "order_id": ["A1", "A1", "B1", "B2"],
            "timestamp": ["2024-01-20 10:00", "2024-02-10 10:00", "2024-01-05", "2024-04-01"],
            "amount": [10.0, -10.0, 5.0, 5.0],
        }
    )
    tx = validate_transactions(raw, returns="keep")
    y = lml.churn_labels(tx, as_of="2024-02-01", horizon_days=30)
    assert y.to_dict() == {1: 1, 2: 1}


def test_censoring_message_names_observation_end_when_it_sets_the_end() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": [T("2024-01-01"), T("2024-01-20"), T("2024-04-30")],
            "amount": [1.0, 1.0, 1.0],
        }
    )
    with pytest.raises(LeakageError) as info:
        lml.churn_labels(tx, as_of="2024-02-01", horizon_days=30, observation_end="2024-01-15")
    message = str(info.value)
    assert "spans only" not in message
    assert "observation_end=2024-01-15" in message or "observation_end (2024-01-15" in message


# -- defects: contracts ------------------------------------------------------------------------


def test_float_ids_beyond_int64_give_a_library_error_or_text() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1.8e19, 2.0, np.nan, 3.0],
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    with warnings.catch_warnings():
        # the documented 2**53 DataQualityWarning, and numpy's cast RuntimeWarning that precedes
        # the TypeError (an error itself under this suite's filterwarnings=error)
        warnings.simplefilter("ignore")
        try:
            tx = validate_transactions(raw)
        except SchemaError as exc:
            assert "customer_id" in str(exc)
            return
    assert tx["customer_id"].nunique() == 3


def test_object_ids_beyond_int64_with_a_missing_id_are_kept_as_text() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": pd.Series([2**64 - 1, None, 5, 6], dtype=object),
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    tx, report = validate_transactions(raw, return_report=True)
    assert tx["customer_id"].tolist() == ["18446744073709551615", "5", "6"]
    assert report.removed("missing_customer") == 1


def test_categorical_whole_number_ids_become_int64() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": pd.Categorical([13085.0, 2.0, 13085.0]),
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    tx = validate_transactions(raw)
    assert tx["customer_id"].dtype == "int64"
    assert tx["customer_id"].tolist() == [13085, 2, 13085]


def test_text_missing_markers_are_missing_customers() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": pd.Series(["A1", "nan", "None", "NaN", "A2"], dtype=object),
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    tx, report = validate_transactions(raw, return_report=True)
    assert tx["customer_id"].tolist() == ["A1", "A2"]
    assert report.removed("missing_customer") == 3


def test_guest_placeholder_id_is_counted_or_warned() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": ["C1", "guest", "guest", "guest"],
            "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    (_tx, report), caught = _recorded(lambda: validate_transactions(raw, return_report=True))
    warned = any(
        issubclass(w.category, DataQualityWarning) and "guest" in str(w.message) for w in caught
    )
    assert warned or report.removed("missing_customer") == 3


def test_aware_observation_end_is_read_in_the_timezone_parameter() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": [
                "2024-01-10T09:00+01:00",
                "2024-01-10T11:30+01:00",
                "2024-01-10T12:30+01:00",
            ],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    tx, report = validate_transactions(
        raw,
        timezone="Europe/Berlin",
        observation_end=T("2024-01-10 12:00", tz="Europe/Berlin"),
        return_report=True,
    )
    assert tx["timestamp"].tolist() == [T("2024-01-10 09:00"), T("2024-01-10 11:30")]
    assert report.removed("after_observation_end") == 1


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-01-13", "05/01/2024", "03/02/2024"],  # first row ISO: the check never looks further
        ["05/01/2024", "03/02/2024", "2024-01-13"],  # the ISO row's day 13 silences the check
    ],
)
def test_ambiguous_day_month_rows_warn_next_to_iso_rows(dates: list[str]) -> None:
    raw = pd.DataFrame({"customer_id": [1, 2, 3], "timestamp": dates, "amount": [1.0, 1.0, 1.0]})
    _, caught = _recorded(lambda: validate_transactions(raw))
    assert any(
        issubclass(w.category, DataQualityWarning) and "ambiguous" in str(w.message) for w in caught
    )


def test_negative_quantity_with_positive_amount_is_not_silently_a_purchase() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "order_id": ["A1", "R7", "B1", "B2"],
            "quantity": [2.0, -2.0, 1.0, 1.0],
            "timestamp": ["2024-01-20", "2024-02-10", "2024-01-05", "2024-04-01"],
            "amount": [10.0, 10.0, 5.0, 5.0],
        }
    )
    try:
        (tx, report), caught = _recorded(lambda: validate_transactions(raw, return_report=True))
    except SchemaError:
        return
    warned = any(issubclass(w.category, DataQualityWarning) for w in caught)
    flagged = sum(step.flagged for step in report.steps)
    assert warned or flagged >= 1 or len(tx) == 3


# -- guards: behaviour checked and found correct -----------------------------------------------


def _hand_labelled() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 4, 5, 5, 6],
            "timestamp": [
                T("2024-01-01"),
                T("2024-02-01"),  # 1: buys exactly at the cut-off: in the window
                T("2024-01-05"),
                T("2024-03-02"),  # 2: buys exactly at cut-off + 30 days: outside the window
                T("2024-01-10"),  # 3: a single purchase
                T("2024-02-10"),  # 4: first purchase after the cut-off: not labelled
                T("2024-01-31 23:59:59"),
                T("2024-03-01 23:59:59"),  # 5: last second inside the window
                T("2024-04-30"),  # 6: sets the end of the data
            ],
            "amount": [1.0] * 9,
        }
    )


def test_labels_match_hand_count_on_the_window_edges() -> None:
    tx = _hand_labelled()
    y = lml.churn_labels(tx, as_of="2024-02-01", horizon_days=30)
    assert y.to_dict() == {1: 0, 2: 1, 3: 1, 5: 0}
    assert y.name == "churned" and y.dtype == "int64"
    # the transaction at the cut-off is a label event, never a feature
    X = lml.build_features(tx, as_of="2024-02-01")
    assert X.index.tolist() == [1, 2, 3, 5]
    assert X.loc[1, "n_orders"] == 1


def test_label_window_past_the_data_is_refused_unless_observation_end_is_given() -> None:
    tx = _hand_labelled()
    with pytest.raises(LeakageError, match="censored"):
        lml.churn_labels(tx, as_of="2024-04-15", horizon_days=30)
    assert lml.churn_labels(tx, as_of="2024-03-31", horizon_days=30).sum() == 5  # ends on the data
    y = lml.churn_labels(tx, as_of="2024-04-15", horizon_days=30, observation_end="2024-06-01")
    assert y.to_dict() == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}


def test_training_table_stacks_exactly_the_per_cutoff_tables() -> None:
    tx = _hand_labelled()
    cutoffs = ["2024-03-01", "2023-06-01", "2024-02-01"]  # unsorted; one before all data
    with pytest.warns(DataQualityWarning, match=r"cut-off\(s\) 2023-06-01, so they add no rows"):
        X, y = lml.training_table(tx, cutoffs=cutoffs, horizon_days=30)
    assert X.index.equals(y.index)
    assert X.index.names == ["as_of", "customer_id"]
    for as_of in ("2024-02-01", "2024-03-01"):
        expected = lml.churn_labels(tx, as_of=as_of, horizon_days=30)
        got = y.xs(T(as_of), level="as_of")
        assert got.to_dict() == expected.to_dict()
    assert T("2023-06-01") not in y.index.get_level_values("as_of")
    assert y.xs(T("2024-03-01"), level="as_of").to_dict() == {1: 1, 2: 0, 3: 1, 4: 1, 5: 0}
    with pytest.raises(LeakageError, match="last cut-off"):
        lml.training_table(tx, cutoffs=["2024-02-01", "2024-04-15"], horizon_days=30)


def test_online_retail_shaped_frame_is_cleaned_and_counted() -> None:
    raw = pd.DataFrame(
        {
            "Invoice": ["536365", "536365", "536365", "C536379", "536380", "536382", "A563185"],
            "StockCode": ["85123A", "71053", "71053", "D", "22", "23", "B"],
            "InvoiceDate": [
                "01/12/2010 08:26",
                "01/12/2010 08:26",
                "01/12/2010 08:26",
                "13/12/2010 09:41",
                "02/12/2010 10:00",
                "04/12/2010 10:00",
                "05/12/2010 10:00",
            ],
            "Total": [15.3, 20.34, 20.34, -27.5, 18.0, 0.0, -11062.06],
            "Customer ID": [17850.0, 17850.0, 17850.0, 14527.0, np.nan, 12583.0, 13000.0],
        }
    )
    before = raw.copy()
    columns = ColumnMap(
        customer_id="Customer ID",
        timestamp="InvoiceDate",
        amount="Total",
        order_id="Invoice",
        product_id="StockCode",
    )
    tx, report = validate_transactions(
        raw, columns=columns, cancellation_pattern="^C", return_report=True
    )
    pd.testing.assert_frame_equal(raw, before)  # input untouched
    assert tx["customer_id"].dtype == "int64"
    assert tx["customer_id"].tolist() == [17850, 17850]
    assert tx["timestamp"].tolist() == [T("2010-12-01 08:26")] * 2  # read day-first
    assert report.removed("duplicate") == 1
    assert report.removed("missing_customer") == 1
    assert report.removed("cancellation") == 1
    assert report.flagged("negative_amount") == 2 and report.removed("negative_amount") == 1
    assert report.removed("zero_amount") == 1
    assert report.rows_in - report.rows_out == 5


def test_time_zones_and_text_dates_are_put_on_one_clock() -> None:
    offsets = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": ["2024-03-01T10:00+01:00", "2024-03-01T10:00+02:00", "2024-03-01T10:00Z"],
            "amount": [1.0, 1.0, 1.0],
        }
    )
    got = validate_transactions(offsets)["timestamp"].tolist()
    assert got == [T("2024-03-01 08:00"), T("2024-03-01 09:00"), T("2024-03-01 10:00")]
    mixed = offsets.assign(timestamp=["2024-03-01T10:00+01:00", "2024-03-01T10:00", "2024-03-02"])
    with pytest.raises(SchemaError, match="timestamp"):
        validate_transactions(mixed)
    formats = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "timestamp": ["2024-01-05", "Jan 13 2024", "13/01/2024", "05/02/2024"],
            "amount": [1.0] * 4,
        }
    )
    got = validate_transactions(formats)["timestamp"].tolist()
    assert got == [T("2024-01-05"), T("2024-01-13"), T("2024-01-13"), T("2024-02-05")]


def test_id_dtypes_follow_the_readme() -> None:
    stamps = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    cases = [
        ([13085.0, np.nan, 2.0, 13085.0], "int64", [13085, 2, 13085]),
        (pd.array([1, None, 5, 6], dtype="Int64"), "int64", [1, 5, 6]),
        (
            pd.array(["007", None, " 007 ", "8"], dtype="string[pyarrow]"),
            "str",
            ["007", "007", "8"],
        ),
        (
            np.array([2**64 - 1, 4, 5, 6], dtype="uint64"),
            "str",
            ["18446744073709551615", "4", "5", "6"],
        ),
    ]
    for ids, dtype, expected in cases:
        raw = pd.DataFrame({"customer_id": ids, "timestamp": stamps, "amount": [1.0] * 4})
        got = validate_transactions(raw)["customer_id"]
        assert got.dtype == dtype, ids
        assert got.tolist() == expected, ids


def test_unvalidated_input_gets_library_errors_naming_the_column() -> None:
    tx = _hand_labelled()
    with pytest.raises(SchemaError, match=r"customer_id is missing at rows \[2\]"):
        lml.churn_labels(
            tx.assign(customer_id=tx["customer_id"].astype(float).where(tx.index != 2)),
            as_of="2024-02-01",
            horizon_days=30,
        )
    with pytest.raises(SchemaError, match="timestamp must be tz-naive"):
        lml.churn_labels(
            tx.assign(timestamp=tx["timestamp"].dt.tz_localize("UTC")),
            as_of="2024-02-01",
            horizon_days=30,
        )
    with pytest.raises(SchemaError, match=r"missing required column\(s\) \['amount'\]"):
        lml.churn_labels(tx.drop(columns="amount"), as_of="2024-02-01", horizon_days=30)
