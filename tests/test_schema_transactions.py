from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, DataQualityWarning, SchemaError
from loyalty_ml.schema import ColumnMap, cleaning_report, validate_customers, validate_transactions


def _raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, None, 3, 3],
            "timestamp": [
                "2024-01-05 10:00",
                "2024-01-01 09:00",
                "2024-01-02",
                "2024-01-02",
                "2024-01-03",
                "2024-01-04",
                "2024-02-01",
            ],
            "amount": [10.0, 5.0, 7.5, 7.5, 3.0, -2.0, 0.0],
            "order_id": ["A1", "A2", "A3", "A3", "A4", "C5", "A6"],
            "product_id": ["p1", "p2", "POST", "POST", "p1", "p1", "p3"],
        }
    )


def test_canonical_dtypes_order_and_sorting() -> None:
    tx = validate_transactions(_raw())
    assert list(tx.columns) == ["customer_id", "timestamp", "amount", "order_id", "product_id"]
    assert tx["customer_id"].dtype == "int64"
    assert tx["timestamp"].dtype == "datetime64[ns]"
    assert tx["amount"].dtype == "float64"
    assert tx["timestamp"].is_monotonic_increasing
    assert isinstance(tx.index, pd.RangeIndex)


def test_never_mutates_input() -> None:
    raw = _raw()
    before = raw.copy()
    validate_transactions(raw, cancellation_pattern="^C", non_purchase_pattern="^POST$")
    pd.testing.assert_frame_equal(raw, before)


def test_cleaning_counts_flagged_and_removed() -> None:
    tx, report = validate_transactions(
        _raw(), cancellation_pattern="^C", non_purchase_pattern="^POST$", return_report=True
    )
    # rows: 0,1 keep; 2 POST (non-purchase); 3 duplicate of 2; 4 no customer; 5 cancellation and
    # negative; 6 zero amount
    assert report.flagged("duplicate") == 1 and report.removed("duplicate") == 1
    assert report.flagged("missing_customer") == 1
    assert report.flagged("cancellation") == 1 and report.removed("cancellation") == 1
    assert report.flagged("negative_amount") == 1 and report.removed("negative_amount") == 0
    assert report.flagged("zero_amount") == 1 and report.removed("zero_amount") == 1
    assert report.flagged("non_purchase") == 2 and report.removed("non_purchase") == 1
    assert report.rows_in == 7 and report.rows_out == len(tx) == 2
    assert sum(s.removed for s in report.steps) == report.rows_in - report.rows_out
    assert cleaning_report(tx) == report
    assert report.as_dict()["removed_zero_amount"] == 1
    assert "missing_customer" in str(report)
    assert list(report.to_frame()["rule"])[:2] == ["duplicate", "missing_customer"]


def test_validated_tables_write_to_parquet_with_their_report(tmp_path: Path) -> None:
    """DataFrame.attrs must stay JSON: pandas writes it into Parquet and failed on the report object."""
    tx, report = validate_transactions(_raw(), cancellation_pattern=r"^C", return_report=True)
    people = validate_customers(pd.DataFrame({"customer_id": [1, 2], "consent_marketing": [1, 0]}))
    tx.to_parquet(tmp_path / "tx.parquet")
    people.to_parquet(tmp_path / "people.parquet")
    assert cleaning_report(pd.read_parquet(tmp_path / "tx.parquet")) == report
    assert cleaning_report(pd.read_parquet(tmp_path / "people.parquet")) == cleaning_report(people)
    assert cleaning_report(tx.head(1)) == report  # kept by pandas operations that keep attrs
    assert cleaning_report(pd.DataFrame({"a": [1]}).assign(**{})) is None


def test_keep_returns_counts_but_keeps() -> None:
    tx, report = validate_transactions(
        _raw(), returns="keep", zero_amounts="keep", return_report=True
    )
    assert (tx["amount"] < 0).sum() == 1 and (tx["amount"] == 0).sum() == 1
    assert report.flagged("negative_amount") == 1 and report.removed("negative_amount") == 0


def test_observation_end_drops_future_rows() -> None:
    tx, report = validate_transactions(
        _raw(), observation_end="2024-01-10", zero_amounts="keep", return_report=True
    )
    assert report.removed("after_observation_end") == 1
    assert tx["timestamp"].max() < pd.Timestamp("2024-01-10")


def test_a_stated_end_on_dates_without_times_is_recorded_at_the_end_of_its_day() -> None:
    """On dates without times, observation_end="2024-01-20" keeps the 20th's rows, so the data
    are complete through the 20th: the recorded end (what later steps read) is the next midnight,
    not the 20th's, which told labels and KPIs the 20th was not observed."""
    raw = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": ["2024-01-02", "2024-01-05", "2024-01-25"],
            "amount": 1.0,
        }
    )
    tx = validate_transactions(raw, observation_end="2024-01-20")
    assert len(tx) == 2
    assert tx.attrs["loyalty_ml_data_end"] == "2024-01-21 00:00:00"
    timed = raw.assign(timestamp=["2024-01-02 10:00", "2024-01-05", "2024-01-25"])
    tx = validate_transactions(timed, observation_end="2024-01-20")
    assert tx.attrs["loyalty_ml_data_end"] == "2024-01-20 00:00:00"


def test_column_map_renames() -> None:
    raw = _raw().rename(columns={"customer_id": "Customer ID", "timestamp": "When"})
    tx = validate_transactions(raw, columns=ColumnMap(customer_id="Customer ID", timestamp="When"))
    assert "customer_id" in tx.columns and "Customer ID" not in tx.columns


def test_missing_required_column_names_it_and_lists_columns() -> None:
    with pytest.raises(SchemaError, match=r"missing required column\(s\) \['amount'\].*It has"):
        validate_transactions(_raw().drop(columns="amount"))


def test_column_map_names_absent_column() -> None:
    with pytest.raises(SchemaError, match=r"not in the table \(customer_id='cust'\)"):
        validate_transactions(
            _raw().drop(columns="customer_id"), columns=ColumnMap(customer_id="cust")
        )


def test_not_a_dataframe() -> None:
    with pytest.raises(SchemaError, match="must be a pandas DataFrame; got list"):
        validate_transactions([1, 2, 3])  # type: ignore[arg-type]


def test_bad_amount_text_lists_rows() -> None:
    raw = _raw().assign(amount=["10", "x", "3", "3", "1", "€5", "0"])
    with pytest.raises(SchemaError, match=r"amount has values that are not numbers .*'x'.*'€5'"):
        validate_transactions(raw)


def test_bad_timestamps_listed() -> None:
    raw = _raw().assign(timestamp=["2024-01-01", "not a date", *["2024-01-02"] * 5])
    with pytest.raises(SchemaError, match=r"timestamp has values that are not dates .*not a date"):
        validate_transactions(raw)


def test_numeric_timestamps_refused_with_fix() -> None:
    raw = _raw().assign(timestamp=1_700_000_000 + np.arange(7) * 86400)
    with pytest.raises(SchemaError, match="unit='s'"):
        validate_transactions(raw)
    # small numbers would all fall in the first days of 1970: day or hour numbers, not seconds
    raw = _raw().assign(timestamp=np.arange(7) * 86400)
    with pytest.raises(SchemaError, match=r"day or hour numbers.*origin="):
        validate_transactions(raw)
    # dates written as numbers (CDNOW-style 19970101) get the format that reads them
    raw = _raw().assign(timestamp=np.arange(19970101, 19970108))
    with pytest.raises(SchemaError, match=r"format='%Y%m%d'"):
        validate_transactions(raw)


def test_epoch_milliseconds_read_as_nanoseconds_are_refused_with_the_unit() -> None:
    # Retail Rocket's events.csv: epoch milliseconds; pd.to_datetime's default reads them as
    # nanoseconds, which put months of purchases within seconds of 1970-01-01 00:23
    ms = 1_430_622_000_000 + np.arange(7) * 3_600_000
    raw = _raw().assign(timestamp=pd.to_datetime(ms))
    with pytest.raises(SchemaError, match=r"first days of 1970.*epoch milliseconds.*unit='ms'"):
        validate_transactions(raw)
    assert validate_transactions(raw.assign(timestamp=pd.to_datetime(ms, unit="ms"))).shape[0]
    # epoch seconds already converted with too small a unit look like microseconds read as
    # nanoseconds: the message gives the unit by the original numbers' size as well
    seconds = ms // 1000
    with pytest.raises(SchemaError, match=r"unit='us'.*converted them with a unit.*unit='s'"):
        validate_transactions(raw.assign(timestamp=pd.to_datetime(seconds, unit="ms")))
    # one placeholder date on every row is not a unit misread (other checks judge it)
    assert len(validate_transactions(raw.assign(timestamp=pd.Timestamp("1970-01-01")))) > 0


def test_a_table_without_amounts_is_refused_with_a_stand_in() -> None:
    # Instacart's and Retail Rocket's exports have no prices: there is no column to map, which is
    # all the refusal suggested
    with pytest.raises(SchemaError, match=r"\['amount'\].*raw\['amount'\] = 1\.0") as info:
        validate_transactions(_raw().drop(columns="amount"))
    assert info.value.column == "amount"
    with pytest.raises(SchemaError, match=r"\['timestamp'\]\. It has") as info:
        validate_transactions(_raw().drop(columns="timestamp"))
    assert "stand-in" not in str(info.value)


def test_fractional_float_ids_refused() -> None:
    raw = _raw().assign(customer_id=[1.5, 1.0, 2.0, 2.0, None, 3.0, 3.0])
    with pytest.raises(SchemaError, match="non-integer numeric ids"):
        validate_transactions(raw)


def test_float_ids_become_int() -> None:
    raw = _raw().assign(customer_id=[1.0, 1.0, 2.0, 2.0, np.nan, 3.0, 3.0])
    assert validate_transactions(raw)["customer_id"].dtype == "int64"


def test_string_ids_keep_leading_zeros_and_strip() -> None:
    raw = _raw().assign(customer_id=["007", " 007", "8", "8", "", "9", "9"])
    tx, report = validate_transactions(raw, return_report=True)
    assert set(tx["customer_id"]) == {"007", "8"}  # "9" rows: negative and zero amounts
    assert report.flagged("missing_customer") == 1


def test_mixed_number_and_text_ids_refused() -> None:
    raw = _raw().assign(customer_id=pd.Series([1.0, "a", 2.0, 2.0, None, 3.0, 3.0], dtype=object))
    with pytest.raises(SchemaError, match="mixes numbers and text"):
        validate_transactions(raw)


def test_mixed_utc_offsets_converted_to_one_clock() -> None:
    raw = _raw().assign(
        timestamp=[
            "2024-01-05T10:00:00+01:00",
            "2024-01-05T10:00:00-05:00",
            *["2024-01-02T00:00:00+00:00"] * 5,
        ]
    )
    tx = validate_transactions(raw, zero_amounts="keep", returns="keep", drop_duplicates=False)
    assert tx["timestamp"].dtype == "datetime64[ns]"
    assert pd.Timestamp("2024-01-05 09:00") in set(tx["timestamp"])
    assert pd.Timestamp("2024-01-05 15:00") in set(tx["timestamp"])


def test_aware_timestamps_to_requested_zone() -> None:
    ts = pd.date_range("2024-01-01", periods=7, freq="D", tz="UTC")
    tx = validate_transactions(
        _raw().assign(timestamp=ts),
        timezone="Europe/Berlin",
        zero_amounts="keep",
        returns="keep",
        drop_duplicates=False,
    )
    assert tx["timestamp"].iloc[0] == pd.Timestamp("2024-01-01 01:00")


def test_mixed_offset_and_naive_strings_refused() -> None:
    raw = _raw().assign(timestamp=["2024-01-05T10:00:00+01:00", *["2024-01-02 10:00"] * 6])
    with pytest.raises(SchemaError, match="with and without a UTC offset"):
        validate_transactions(raw)


def test_negative_discount_refused() -> None:
    raw = _raw().assign(discount=[0.0, -1.0, 0, 0, 0, 0, 0])
    with pytest.raises(SchemaError, match="discount is the money given away"):
        validate_transactions(raw)


def test_everything_removed_is_an_error() -> None:
    raw = _raw().assign(amount=0.0)
    with pytest.raises(SchemaError, match="no rows left after cleaning"):
        validate_transactions(raw)


def test_option_errors() -> None:
    with pytest.raises(ConfigError, match="returns must be 'drop' or 'keep'"):
        validate_transactions(_raw(), returns="net")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="zero_amounts must be"):
        validate_transactions(_raw(), zero_amounts="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        validate_transactions(_raw(), cancellation_pattern="(")
    with pytest.raises(SchemaError, match="cancellation_pattern needs an order_id"):
        validate_transactions(_raw().drop(columns="order_id"), cancellation_pattern="^C")
    with pytest.raises(SchemaError, match="non_purchase_pattern needs a product_id"):
        validate_transactions(_raw().drop(columns="product_id"), non_purchase_pattern="^P")


def test_column_map_config_errors() -> None:
    with pytest.raises(ConfigError, match="maps column 'x' to both"):
        ColumnMap(customer_id="x", order_id="x")
    with pytest.raises(ConfigError, match="unknown canonical column"):
        ColumnMap.from_dict({"cust": "x"})
    with pytest.raises(ConfigError, match="must be a column name"):
        ColumnMap(customer_id=3)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 5), st.integers(0, 30), st.sampled_from([-5.0, 0.0, 1.0, 2.5, 9.0])
        ),
        min_size=1,
        max_size=40,
    )
)
def test_removed_counts_add_up_and_output_is_clean(rows: list[tuple[int, int, float]]) -> None:
    raw = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    raw["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(raw["day"], unit="D")
    raw = raw.drop(columns="day")
    try:
        tx, report = validate_transactions(raw, return_report=True)
    except SchemaError as exc:
        assert "no rows left" in str(exc)
        return
    assert report.rows_in - report.rows_out == sum(s.removed for s in report.steps)
    assert (tx["amount"] > 0).all()
    assert not tx.duplicated().any()
    # shuffling the input does not change the canonical output
    shuffled = validate_transactions(raw.sample(frac=1.0, random_state=1))
    key = ["timestamp", "customer_id", "amount"]
    pd.testing.assert_frame_equal(
        tx.sort_values(key).reset_index(drop=True), shuffled.sort_values(key).reset_index(drop=True)
    )


def test_canonical_schema_guard_reports_failure_cases() -> None:
    from loyalty_ml.schema import TRANSACTIONS_SCHEMA, check_canonical

    good = validate_transactions(_raw())
    check_canonical(good, TRANSACTIONS_SCHEMA)
    bad = good.assign(amount=[1.0, float("nan"), 2.0], timestamp=good["timestamp"].astype(str))
    with pytest.raises(
        SchemaError,
        match=r"not in canonical form:\n.*'amount' fails not_nullable.*\n.*'timestamp' fails dtype",
    ):
        check_canonical(bad, TRANSACTIONS_SCHEMA)


def test_int64_ids_stay_int64_and_join_with_customers() -> None:
    from loyalty_ml.schema import validate_customers

    raw = _raw().dropna(subset=["customer_id"]).astype({"customer_id": "int64"})
    tx = validate_transactions(raw)
    assert tx["customer_id"].dtype == "int64"
    customers = validate_customers(pd.DataFrame({"customer_id": [1, 2, 3]}))
    assert set(tx["customer_id"]) <= set(customers.index)
    assert customers.index.dtype == tx["customer_id"].dtype


def test_text_ids_with_missing_values_become_plain_str() -> None:
    tx = validate_transactions(_raw().assign(customer_id=["a", "a", "b", "b", None, "c", "c"]))
    assert pd.api.types.is_string_dtype(tx["customer_id"])
    assert sorted(set(tx["customer_id"])) == ["a", "b"]


def test_many_duplicates_without_line_ids_warn() -> None:

    # one row per purchase line, but nothing tells two equal lines of one basket apart
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "timestamp": ["2024-01-01 10:00"] * 3 + ["2024-01-02"],
            "amount": [2.5, 2.5, 2.5, 4.0],
        }
    )
    with pytest.warns(DataQualityWarning, match=r"2 of 4 rows \(50%\) are exact duplicates"):
        tx = validate_transactions(raw)
    assert len(tx) == 2
    # with the line identifiers mapped, duplicates are real duplicates: no warning
    with_lines = raw.assign(order_id=["a", "a", "a", "b"], product_id=["x", "y", "z", "x"])
    validate_transactions(with_lines)
    # keeping them is the user's call
    assert len(validate_transactions(raw, drop_duplicates=False)) == 4


def test_refunds_only_kept_validate_without_an_index_error() -> None:
    """Once an IndexError from the gap check, which looks at purchase lines only: with
    ``returns="keep"`` and nothing but refunds there are none, and the table says so."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "amount": [-1.0, -2.0],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05"]),
        }
    )
    with pytest.warns(DataQualityWarning, match=r"all 2 rows kept are refunds"):
        out = validate_transactions(tx, returns="keep")
    assert out["amount"].tolist() == [-1.0, -2.0]


@pytest.mark.parametrize(
    ("stray", "word"), [("1900-01-01", "before"), ("1970-01-01", "before"), ("2099-12-31", "after")]
)
def test_a_placeholder_date_is_named_in_the_gap_warning(stray: str, word: str) -> None:
    """One line dated 1900-01-01 (an export's placeholder) opens a century without transactions:
    the gap warning names the line as a likely placeholder, not only the outage it looks like."""
    rng = np.random.default_rng(0)
    times = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.uniform(0, 365, 3000), unit="D")
    raw = pd.DataFrame(
        {"customer_id": rng.integers(0, 300, 3000), "amount": 10.0, "timestamp": times}
    )
    raw.loc[7, "timestamp"] = pd.Timestamp(stray)
    with pytest.warns(DataQualityWarning) as record:
        tx = validate_transactions(raw)
    (message,) = [str(w.message) for w in record if "no transactions at all" in str(w.message)]
    assert f"1 purchase line(s) lie {word} the stretch" in message
    assert f"(on {stray})" in message
    assert "placeholder or mistyped dates" in message
    assert len(tx) == 3000  # named, not dropped: the user decides


def test_a_real_outage_is_not_called_a_placeholder() -> None:
    rng = np.random.default_rng(1)
    days = np.r_[rng.uniform(0, 100, 1500), rng.uniform(160, 300, 1500)]
    raw = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, 3000),
            "amount": 10.0,
            "timestamp": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D"),
        }
    )
    with pytest.warns(DataQualityWarning, match="no transactions at all") as record:
        validate_transactions(raw)
    assert not any("placeholder" in str(w.message) for w in record)


def test_order_ids_past_int64_stay_distinct_or_are_refused() -> None:
    """uint64 order ids past 2**63 wrapped to one negative number, so distinct orders became one;
    float ones past it (with a blank) crashed in astype."""
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": ["2024-01-02", "2024-01-03", "2024-01-04"],
            "amount": [5.0, 6.0, 7.0],
            "order_id": np.array([2**63 + 5, 2**63 + 999, 7], dtype="uint64"),
        }
    )
    tx = validate_transactions(raw)
    assert tx["order_id"].tolist() == [str(2**63 + 5), str(2**63 + 999), "7"]
    for floats in ([1.2e19, 1.5e19, 3.0], [1.2e19, 1.5e19, np.nan]):
        with pytest.raises(
            SchemaError, match=r"order_id has numbers beyond the int64 range.*dtype"
        ):
            validate_transactions(raw.assign(order_id=floats))
    assert validate_transactions(raw.assign(order_id=[1, 2, 3]))["order_id"].dtype == "int64"


@pytest.mark.parametrize("zone", [5, 0, 5.5, True, np.int64(2)])
def test_a_number_as_timezone_is_refused(zone: object) -> None:
    """pandas reads timezone=5 as 5 seconds east of UTC: 10:00 became 10:00:05."""
    with pytest.raises(ConfigError, match=r"'timezone' parameter must be the name of a time zone"):
        validate_transactions(_raw(), timezone=zone)  # type: ignore[arg-type]


def test_a_tzinfo_object_is_a_timezone() -> None:
    import datetime as dt

    raw = _raw().assign(timestamp=pd.Timestamp("2024-01-05 10:00", tz="UTC"))
    fixed = dt.timezone(dt.timedelta(hours=5))
    assert validate_transactions(raw, timezone=fixed)["timestamp"].iloc[0] == pd.Timestamp(
        "2024-01-05 15:00"
    )


def test_duplicate_lines_are_compared_as_read() -> None:
    """7 / 7.0 were one duplicate line but 7 / "7" two: the rule compared the raw cells."""
    for ids, times in (
        ([7, "7"], ["2024-01-02 10:00"] * 2),
        ([7, 7], ["2024-01-02", "2024-01-02 00:00"]),
    ):
        raw = pd.DataFrame(
            {
                "customer_id": pd.Series(ids, dtype=object),
                "timestamp": times,
                "amount": [5.0, 5.0],
                "order_id": ["A1", "A1"],
            }
        )
        tx, report = validate_transactions(raw, return_report=True)
        assert len(tx) == 1 and report.removed("duplicate") == 1
    kept = pd.DataFrame(
        {
            "customer_id": [7, 8],
            "timestamp": ["2024-01-02"] * 2,
            "amount": [5.0, 5.0],
            "order_id": ["A1", "A2"],
        }
    )
    assert len(validate_transactions(kept)) == 2


def test_a_column_map_onto_integer_labels_says_so() -> None:
    """read_csv(header=None) labels columns 0, 1, 2: the message listed them as '0', '1', '2'
    and said both that '0' was missing and that the table had it."""
    raw = pd.DataFrame([[1, "2024-01-02", 5.0]])
    columns = ColumnMap(customer_id="0", timestamp="1", amount="2")
    with pytest.raises(SchemaError, match=r"has: \[0, 1, 2\]\. Its column labels are not text"):
        validate_transactions(raw, columns=columns)
    named = raw.set_axis(raw.columns.astype(str), axis=1)
    assert len(validate_transactions(named, columns=columns)) == 1


def test_a_zone_object_is_recorded_by_its_name() -> None:
    """ZoneInfo('America/New_York') was recorded as an object, which the builders read as no
    clock (UTC): a zone-aware as_of an hour before a purchase counted it (look-ahead)."""
    import zoneinfo

    import loyalty_ml as lml

    raw = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "timestamp": ["2024-03-01 12:00-05:00", "2024-03-10 01:00-05:00"],
            "amount": [10.0, 99.0],
        }
    )
    by_object = validate_transactions(raw, timezone=zoneinfo.ZoneInfo("America/New_York"))
    by_name = validate_transactions(raw, timezone="America/New_York")
    assert by_object.attrs["loyalty_ml_clock"] == "America/New_York"
    as_of = pd.Timestamp("2024-03-10 00:00", tz="America/New_York")
    for tx in (by_object, by_name):
        assert lml.build_features(tx, as_of=as_of).loc[1, "n_orders"] == 1.0


def test_tables_indexed_by_customer_id_say_so() -> None:
    """A table indexed by customer_id (a groupby result, set_index) is told to reset_index, not
    only that it lacks the column, in validation, the builders, the campaigns and the demo."""
    import loyalty_ml as lml
    from loyalty_ml.tracking.demo import describe_programme

    data = lml.datasets.simulate(n_customers=120, start="2023-01-01", end="2023-09-30", seed=0)
    tx = data.transactions
    hint = r"\['customer_id'\] is the table's index, not a column: pass frame.reset_index\(\)"
    calls = [
        lambda: validate_transactions(tx.set_index("customer_id")),
        lambda: lml.build_features(tx.set_index("customer_id"), as_of="2023-08-01"),
        lambda: lml.build_features(
            tx, as_of="2023-08-01", campaigns=data.campaigns.set_index("customer_id")
        ),
        lambda: describe_programme(tx.set_index("customer_id")),
    ]
    for call in calls:
        with pytest.raises((SchemaError, ConfigError), match=hint):
            call()
    with pytest.raises(SchemaError) as other:
        validate_transactions(tx.drop(columns="customer_id"))
    assert "index" not in str(other.value)


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        (
            ["01/02/2024 10:00+01:00", "13/02/2024 10:00+01:00", "05/03/2024 10:00+01:00"],
            ["2024-02-01 09:00", "2024-02-13 09:00", "2024-03-05 09:00"],
        ),
        (  # winter and summer time in one column
            ["01/02/2024 10:00+01:00", "05/03/2024 10:00+01:00", "13/07/2024 10:00+02:00"],
            ["2024-02-01 09:00", "2024-03-05 09:00", "2024-07-13 08:00"],
        ),
        (
            ["01/02/2024 10:00Z", "13/02/2024 10:00Z", "05/03/2024 10:00Z"],
            ["2024-02-01 10:00", "2024-02-13 10:00", "2024-03-05 10:00"],
        ),
        (  # two offsets, the 13th among the first offset's (pandas then parses value by value)
            ["01/02/2024 10:00+01:00", "13/02/2024 10:00+01:00", "05/03/2024 09:00+02:00"],
            ["2024-02-01 09:00", "2024-02-13 09:00", "2024-03-05 07:00"],
        ),
    ],
)
def test_day_first_dates_with_utc_offsets_are_read_day_first(stamps, expected) -> None:
    """Session 42: with an offset, 01/02 was read as 2 January and 05/03 as 3 May (silently, the
    13th having settled the column as day-first), and two offsets raised a bare pandas error."""
    raw = pd.DataFrame(
        {"customer_id": [1, 2, 3], "timestamp": stamps, "amount": [10.0, 20.0, 30.0]}
    )
    out = validate_transactions(raw)
    assert out["timestamp"].tolist() == pd.to_datetime(expected).tolist()


def test_observation_start_drops_and_counts_placeholder_dates() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "timestamp": ["1900-01-01", "2024-01-05", "2024-02-01", "2099-12-31"],
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    out, report = validate_transactions(
        raw, observation_start="2023-01-01", observation_end="2024-12-31", return_report=True
    )
    assert out["customer_id"].tolist() == [2, 3]
    counts = report.to_frame().set_index("rule")
    assert counts.loc["before_observation_start", "removed"] == 1
    assert counts.loc["after_observation_end", "removed"] == 1
    with pytest.raises(ConfigError, match=r"observation_start .* is after observation_end"):
        validate_transactions(raw, observation_start="2025-01-01", observation_end="2024-01-01")


def test_an_unsigned_return_gives_back_its_margin_and_discount() -> None:
    """Session 42: a return exported unsigned had its amount negated but kept a positive margin,
    so a purchase returned in full netted amount 0 and margin 6."""
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "timestamp": ["2024-01-05", "2024-01-09", "2024-01-05", "2024-01-09"],
            "amount": [10.0, 10.0, 8.0, 8.0],
            "quantity": [1.0, -1.0, 1.0, -1.0],
            "margin": [3.0, 3.0, -2.0, -2.0],  # customer 2's line sold at a loss
            "discount": [1.0, 1.0, 0.0, 0.0],
        }
    )
    with pytest.warns(DataQualityWarning, match="exported unsigned"):
        out = validate_transactions(raw, returns="keep")
    totals = out.groupby("customer_id")[["amount", "margin", "discount"]].sum()
    assert (totals.to_numpy() == 0.0).all(), totals


def test_order_ids_reused_on_other_days_are_warned_of() -> None:
    # receipt numbers that restart each day: customer 1's visit on 10 February joined their order
    # of 10 January, so churn_labels read them as churned and n_orders as 1, in silence
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-10 10:00",
                    "2024-01-10 10:01",
                    "2024-02-10 11:00",
                    "2024-01-05 00:00",
                    "2024-02-12 00:00",
                    "2024-04-30 00:00",
                ]
            ),
            "amount": [10.0, 3.0, 12.0, 5.0, 6.0, 1.0],
            "order_id": [1, 1, 1, 7, 8, 9],
        }
    )
    with pytest.warns(DataQualityWarning, match=r"1 of 4 orders .* more than a day apart"):
        validate_transactions(raw)
    # lines minutes apart, and a refund weeks later under the order's id, are one order
    fine = raw.assign(order_id=[1, 1, 2, 7, 8, 9])
    late_refund = pd.DataFrame(
        {"customer_id": [3], "timestamp": [pd.Timestamp("2024-05-30")], "amount": [-1.0]}
    ).assign(order_id=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_transactions(pd.concat([fine, late_refund]), returns="keep")


def test_equal_lines_get_one_order_whatever_the_sign_of_a_zero() -> None:
    """Lines sharing a timestamp are ordered by a hash of their other columns; -0.0 and 0.0 hashed
    apart before pandas 3.1 (the simulator's margins hold -0.0), so inputs that compare equal came
    out in different orders on the declared floor (pandas 3.0). It can fail only there (`make
    test-min`): pandas 3.1 hashes the two zeros alike."""
    tx = pd.DataFrame(
        {
            "customer_id": [1] * 6,
            "timestamp": pd.Timestamp("2024-01-01"),
            "amount": [5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            "margin": [-0.0, 1.0, -0.0, 2.0, -0.0, 3.0],
        }
    )
    a = validate_transactions(tx)
    b = validate_transactions(tx.assign(margin=tx["margin"] + 0.0))
    assert a["amount"].tolist() == b["amount"].tolist()


def _lines_told_apart_by_a_left_out_column() -> pd.DataFrame:
    """Invoice 496872 of Online Retail II: one product at 1.00 on two lines, as 2 x 0.50 and 1 x
    1.00. With quantity not mapped (the README's recipe), only columns left out tell them apart;
    the second line is also repeated exactly, a true duplicate."""
    return pd.DataFrame(
        {
            "customer_id": [13000, 13000, 13000, 13000],
            "timestamp": ["2009-12-01 10:00"] * 4,
            "amount": [1.0, 1.0, 1.0, 4.5],
            "order_id": ["496872"] * 4,
            "product_id": ["21231", "21231", "21231", "84879"],
            "Quantity": [2, 1, 1, 3],
            "Price": [0.5, 1.0, 1.0, 1.5],
        }
    )


def test_duplicates_are_judged_on_every_column_of_the_input() -> None:
    """The first pass keeps the two lines the left-out columns tell apart, drops the true copy."""
    tx, report = validate_transactions(_lines_told_apart_by_a_left_out_column(), return_report=True)
    assert report.flagged("duplicate") == report.removed("duplicate") == 1
    assert sorted(tx["amount"]) == [1.0, 1.0, 4.5]
    assert report.left_out == ["Quantity", "Price"]


def test_validating_a_validated_table_again_gives_the_same_rows(tmp_path: Path) -> None:
    """The second pass saw the two lines as one (their left-out columns gone) and dropped one: the
    command line read a validated Parquet file otherwise than the notebook had (400,916 lines of
    Online Retail II in, 400,915 out; 6,749 lines fewer with a line-number column)."""
    tx = validate_transactions(_lines_told_apart_by_a_left_out_column())
    again, report = validate_transactions(tx, return_report=True)
    pd.testing.assert_frame_equal(again, tx)
    assert report.flagged("duplicate") == 0 and "judged when first validated" in str(report)
    tx.to_parquet(tmp_path / "tx.parquet")
    pd.testing.assert_frame_equal(
        validate_transactions(pd.read_parquet(tmp_path / "tx.parquet")), tx
    )
    # rows of it (a segment, an erasure) too; a table appended to is judged again
    pd.testing.assert_frame_equal(validate_transactions(tx.iloc[:2]), tx.iloc[:2])
    once = validate_transactions(_raw())
    twice = pd.concat([once, once], ignore_index=True)
    assert twice.attrs == once.attrs  # pandas keeps them
    pd.testing.assert_frame_equal(validate_transactions(twice), once)
    # overlapping pieces of it put together keep its attrs and fit in its row count: the rows
    # repeated with their row labels are dropped (review: 100 rows in, 100 out, of 50)
    pieces = pd.concat([once.iloc[:2], once.iloc[1:2]])
    assert pieces.attrs == once.attrs and len(pieces) <= len(once)
    pd.testing.assert_frame_equal(validate_transactions(pieces), once.iloc[:2])
    # a CSV keeps no report: read as raw, the canonical columns are all there is to judge by, so
    # a validated table read back from one takes drop_duplicates=False
    tx.to_csv(tmp_path / "tx.csv", index=False)
    back = pd.read_csv(tmp_path / "tx.csv", dtype={"order_id": str, "product_id": str})
    pd.testing.assert_frame_equal(validate_transactions(back, drop_duplicates=False), tx)


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3), st.integers(0, 2), st.sampled_from([1.0, 2.0]), st.integers(0, 2)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_validation_is_idempotent(rows: list[tuple[int, int, float, int]]) -> None:
    """validate(validate(raw)) == validate(raw), in memory and through Parquet, for raw tables
    whose lines a column left out (a line number, a quantity not mapped) may tell apart; the first
    pass still judges duplicates on every column of the input."""
    import io

    raw = pd.DataFrame(rows, columns=["customer_id", "day", "amount", "line"])
    raw["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(raw.pop("day"), unit="D")
    tx, report = validate_transactions(raw, return_report=True)
    assert report.flagged("duplicate") == int(raw.duplicated().sum())
    pd.testing.assert_frame_equal(validate_transactions(tx), tx)
    buffer = io.BytesIO()
    tx.to_parquet(buffer)
    pd.testing.assert_frame_equal(validate_transactions(pd.read_parquet(buffer)), tx)
    segment = tx[tx["customer_id"] == tx["customer_id"].iloc[0]].reset_index(drop=True)
    pd.testing.assert_frame_equal(validate_transactions(segment), segment)


def test_a_kept_rule_says_how_many_of_its_rows_other_rules_dropped() -> None:
    """With returns='keep' and a cancellation pattern the report printed 'negative_amount ... keep
    10,208' while every return had gone with the cancellations (Online Retail II)."""
    raw = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "order_id": ["A1", "C2", "A3", "A4"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
            "amount": [10.0, -10.0, -5.0, 7.0],
        }
    )
    tx, report = validate_transactions(
        raw, cancellation_pattern="^C", returns="keep", return_report=True
    )
    assert (tx["amount"] < 0).sum() == 1
    assert "negative_amount: 1 of the 2 rows it flagged (keep) are in the output" in str(report)
    _, plain = validate_transactions(raw, returns="keep", return_report=True)
    assert not [n for n in plain.notes if n.startswith("negative_amount")]


def test_local_times_put_on_utc_say_how_many_lines_change_day() -> None:
    """A café's Berlin times validated without a timezone: 3.1% of its lines moved to another
    calendar day on UTC (a purchase at 00:30 on the 3rd counted on the 2nd), with no word."""
    raw = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": pd.to_datetime(
                ["2024-07-01 23:30", "2024-07-02 10:00", "2024-07-03 00:30"]
            ).tz_localize("Europe/Berlin"),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    _, report = validate_transactions(raw, return_report=True)
    assert any("on Europe/Berlin and were put on UTC" in n and "1 lines" in n for n in report.notes)
    _, kept = validate_transactions(raw, return_report=True, timezone="Europe/Berlin")
    _, utc = validate_transactions(
        raw.assign(timestamp=raw["timestamp"].dt.tz_convert("UTC")), return_report=True
    )
    assert not any("put on UTC" in n for n in [*kept.notes, *utc.notes])


def _one_order_each(n_customers: int, *, repeaters: int = 0) -> pd.DataFrame:
    """Olist's shape: ``customer_id`` is new with every order (its person is another column);
    ``repeaters`` customers get a second order 40 days after their first."""
    rng = np.random.default_rng(0)
    first = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 300, n_customers), "D")
    ids = [f"c{i:05d}" for i in range(n_customers)]
    lines = pd.DataFrame({"customer_id": ids, "timestamp": first, "amount": 20.0})
    again = lines.head(repeaters).assign(timestamp=lambda f: f["timestamp"] + pd.Timedelta(days=40))
    out = pd.concat([lines, again], ignore_index=True)
    # two lines in some orders: lines are not orders
    out = pd.concat([out, out.head(50).assign(amount=5.0)], ignore_index=True)
    return out.assign(order_id=out["customer_id"] + out["timestamp"].dt.strftime("%Y%m%d"))


def test_an_id_per_order_is_warned_of() -> None:
    # Olist's orders name a new customer_id per order; mapped as the customer, everyone buys once,
    # every churn label is 1 and the boundaries cannot be read, and nothing said why
    raw = _one_order_each(1_500)
    with pytest.warns(
        DataQualityWarning, match=r"each of the 1,500 customers has exactly one order"
    ):
        _tx, report = validate_transactions(raw, return_report=True)
    assert any("exactly one order" in note for note in report.notes)
    # without an order_id, an order is a customer's distinct time
    with pytest.warns(DataQualityWarning, match=r"customer_unique_id"):
        validate_transactions(raw.drop(columns="order_id"))


def test_one_time_buyers_with_some_repeats_are_not_warned_of() -> None:
    # 97% of Olist's persons buy once; the 3% who come back make the id a person's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_transactions(_one_order_each(1_500, repeaters=45))
        # too few customers, or too short a span, to say the id is not a person's
        validate_transactions(_one_order_each(500))
        short = _one_order_each(1_500)
        validate_transactions(short.assign(timestamp=pd.Timestamp("2017-03-01")))


def test_units_written_as_repeated_lines_are_warned_of_before_they_are_dropped() -> None:
    # Olist's order items: three of one product in an order are three equal rows told apart only
    # by order_item_id. Selected down to the canonical columns, 12% of the lines and of the spend
    # went as duplicates, with no warning because order_id and product_id were mapped
    lines = pd.DataFrame(
        {
            "customer_id": np.arange(400) % 300,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(400), "h"),
            "amount": 10.0,
            "order_id": [f"o{i}" for i in range(400)],
            "product_id": "p1",
        }
    )
    # a second product in 30 orders, a second unit of the same one in 30 others
    other = lines.iloc[100:130].assign(product_id="p2", amount=3.0)
    lines = pd.concat([lines, other], ignore_index=True)
    raw = pd.concat([lines, lines.head(30)], ignore_index=True)
    with pytest.warns(DataQualityWarning, match=r"30 of 460 rows \(7%\) repeat .*order_item_id"):
        tx = validate_transactions(raw)
    assert len(tx) == 430  # still dropped: the warning says how to keep them
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the line number kept in the frame tells them apart: nothing to drop, nothing to say
        numbered = raw.assign(order_item_id=[1] * 400 + [2] * 60)
        assert len(validate_transactions(numbered)) == 460
        # a few duplicates are the export's dirt (Online Retail II: 1.3%), and so are a few in a
        # small table
        validate_transactions(pd.concat([lines, lines.head(5)], ignore_index=True))
        validate_transactions(pd.concat([lines.head(40), lines.head(4)], ignore_index=True))


def test_units_as_equal_rows_with_nothing_to_number_them_get_the_quantity_fix() -> None:
    # H&M's transactions: two of one article bought on one day are two equal rows, and no column
    # numbers them; the warning's only fixes were a line-number column the export does not have
    # and keeping every row, not counting the rows into the quantity they are
    lines = pd.DataFrame(
        {
            "customer_id": [f"{i:064x}" for i in np.arange(400) % 300],
            "timestamp": pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(400) // 4, "D"),
            "amount": 0.0254,
            "product_id": 108775015 + np.arange(400),
            "channel": 2,
        }
    )
    raw = pd.concat([lines, lines.head(40)], ignore_index=True)
    with pytest.warns(
        DataQualityWarning,
        match=r"40 of 440 rows .*H&M's transactions, told apart by nothing.*count the equal rows "
        r"into a quantity.*groupby",
    ):
        validate_transactions(raw)


def test_order_totals_on_every_line_are_not_read_as_units_to_keep() -> None:
    # X5's shape with the product column left out: each line repeats the order's total, so the
    # lines of an order are equal rows. The unit-rows warning told the user to keep them
    # (drop_duplicates=False, or a line number), which would count each order's spend once per
    # line, beside the warning that said to keep one line per order; dropping them is right
    rows = [
        {
            "customer_id": order % 120,
            "timestamp": pd.Timestamp("2024-01-01") + pd.Timedelta(hours=order),
            "amount": float(5 + order % 90),
            "order_id": f"o{order}",
        }
        for order in range(300)
        for _ in range(1 + order % 3)
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tx = validate_transactions(pd.DataFrame(rows))
    messages = [str(w.message) for w in caught]
    assert len(tx) == 300
    assert any("order total written on each line" in m for m in messages), messages
    assert not any("order_item_id" in m for m in messages), messages


def test_one_stand_in_amount_on_every_line_is_not_read_as_order_totals() -> None:
    # Instacart and Retail Rocket have no prices: amount=1.0 on every product line makes spend a
    # count of lines. It was warned about as "the order total written on each line"
    lines = pd.DataFrame(
        {
            "customer_id": np.arange(300) // 3 % 40,
            "timestamp": pd.Timestamp("2017-01-01") + pd.to_timedelta(np.arange(300) // 3, "h"),
            "amount": 1.0,
            "order_id": np.arange(300) // 3,
            "product_id": np.arange(300) % 7,
        }
    )
    tx = validate_transactions(lines)  # warnings are errors in the test run
    assert len(tx) == 300


def test_the_unit_rows_warning_names_only_the_columns_compared() -> None:
    # with an order_id and no product, the warning said the rows had the same product too
    lines = pd.DataFrame(
        {
            "customer_id": np.arange(400) % 300,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(400), "h"),
            "amount": 10.0,
            "order_id": [f"o{i}" for i in range(400)],
        }
    )
    lines = pd.concat([lines, lines.iloc[100:130].assign(amount=3.0)], ignore_index=True)
    raw = pd.concat([lines, lines.head(30)], ignore_index=True)
    with pytest.warns(DataQualityWarning, match=r"\(same customer, time, amount, order\)"):
        validate_transactions(raw)


def _messy_text_lines() -> pd.DataFrame:
    """Text ids written several ways, equal lines, ties in time and a cell that cannot be hashed."""
    rows = [
        (" A7", "2024-01-02", 5.0, "p1", "app", ["x"]),
        ("A7", "2024-01-02", 5.0, "p1", "app", ["x"]),
        ("12346.0", "2024-01-02", 2.5, "p2", "web", []),
        ("12346", "2024-01-02", 2.5, "p2", "web", []),
        ("nan", "2024-01-02", 1.0, "p1", "app", ["y"]),
        ("B2 ", "2024-01-03", 3.0, "p3", "store", ["z"]),
        ("B2", "2024-01-03", 3.0, "p3", "store", ["z"]),
        ("A7", "2024-01-03", 3.0, "p4", "app", []),
        ("C9", "2024-01-03", 4.0, "p1", "web", ["x"]),
        ("C9", "2024-01-03", 4.0, "p1", "web", ["w"]),
        ("C9", "2024-01-03", 4.0, "p2", "web", ["x"]),
        ("12346", "2024-01-04", 0.0, "p1", "app", []),
        ("B2", "2024-01-04", -1.0, "p3", "app", []),
        ("", "2024-01-04", 2.0, "p1", "web", []),
        ("A7", "2024-01-02", 5.0, "p1", "app", ["x"]),
    ]
    # tags is left out, but duplicates are judged on it too (by its text: lists are not hashable)
    columns = ["customer_id", "timestamp", "amount", "product_id", "channel", "tags"]
    return pd.DataFrame(rows, columns=columns).astype({"customer_id": object})


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
def test_messy_text_ids_give_the_table_they_gave_before_the_speedups() -> None:
    """The canonical table pinned as validate_transactions gave it before text ids were cleaned
    once per distinct id, coded once for the duplicates, the row order's hash and the one-order
    check, and duplicates compared among lines alike in customer, time and amount only."""
    tx, report = validate_transactions(
        _messy_text_lines(), returns="keep", zero_amounts="keep", return_report=True
    )
    expected = pd.DataFrame(
        {
            "customer_id": ["A7", "12346", "C9", "B2", "C9", "C9", "A7", "12346", "B2"],
            "timestamp": pd.to_datetime(
                ["2024-01-02"] * 2 + ["2024-01-03"] * 5 + ["2024-01-04"] * 2
            ),
            "amount": [5.0, 2.5, 4.0, 3.0, 4.0, 4.0, 3.0, 0.0, -1.0],
            "product_id": ["p1", "p2", "p2", "p3", "p1", "p1", "p4", "p1", "p3"],
            "channel": ["app", "web", "web", "store", "web", "web", "app", "app", "app"],
        }
    ).astype(
        {"customer_id": "str", "timestamp": "datetime64[ns]", "product_id": "str", "channel": "str"}
    )
    pd.testing.assert_frame_equal(tx, expected)
    counts = {step.rule: (step.flagged, step.removed) for step in report.steps}
    assert counts == {
        "duplicate": (4, 4),
        "missing_customer": (2, 2),
        "negative_amount": (1, 0),
        "zero_amount": (1, 0),
    }


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None]),
            st.integers(0, 2),
            st.sampled_from([1.0, 2.0, float("nan")]),
            st.integers(0, 1),
        ),
        max_size=40,
    )
)
def test_duplicates_found_among_lines_alike_are_all_the_duplicates(
    rows: list[tuple[str | None, int, float, int]],
) -> None:
    """Comparing whole rows only among those equal in customer, time and amount finds what
    comparing every row does (missing values equal to each other, as pandas has them)."""
    from loyalty_ml.schema.transactions import _duplicate_rows

    frame = pd.DataFrame(
        rows, columns=["customer_id", "timestamp", "amount", "line"], dtype=object
    ).astype({"timestamp": "int64", "amount": "float64", "line": "int64"})
    expected = frame.duplicated(keep="first").to_numpy()
    np.testing.assert_array_equal(_duplicate_rows(frame), expected)
