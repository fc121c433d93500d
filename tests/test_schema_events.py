from __future__ import annotations

import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning, SchemaError
from loyalty_ml.schema._coerce_time import CLOCK_ATTR
from loyalty_ml.schema.events import validate_events


def _raw(**extra: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["2", "1", "1"],
            "timestamp": ["2024-01-05", "2024-01-05 10:00", "2024-01-02"],
            "event": ["nps", " app_open ", "review"],
            "value": [9, None, "4"],
            **extra,
        }
    )


def test_canonical_copy_sorted_by_time_customer_and_kind() -> None:
    ev = validate_events(_raw())
    assert ev.columns.tolist() == ["customer_id", "timestamp", "event", "value"]
    assert ev["customer_id"].tolist() == ["1", "2", "1"]
    assert ev["event"].tolist() == ["review", "nps", "app_open"]
    assert ev["value"].tolist()[:2] == [4.0, 9.0] and pd.isna(ev["value"].iloc[2])
    assert ev["timestamp"].dtype == "datetime64[ns]"
    assert lml.cleaning_report(ev).rows_out == 3  # type: ignore[union-attr]
    # the public name and a ColumnMap of the user's names
    raw = _raw().rename(columns={"customer_id": "user", "event": "what", "value": "score"})
    mapped = lml.validate_events(
        raw, columns=lml.ColumnMap(customer_id="user", event="what", value="score")
    )
    pd.testing.assert_frame_equal(mapped, ev)


def test_value_is_optional() -> None:
    ev = validate_events(_raw().drop(columns="value"))
    assert ev.columns.tolist() == ["customer_id", "timestamp", "event"]


@pytest.mark.parametrize(
    ("column", "position"),
    [("customer_id", 0), ("timestamp", 1), ("event", 2)],
)
def test_rows_without_customer_time_or_kind_are_dropped_and_counted(
    column: str, position: int
) -> None:
    raw = _raw()
    raw.loc[0, column] = None if column != "event" else "  "
    with pytest.warns(DataQualityWarning, match=rf"1 row\(s\) have no {column}.*dropped"):
        ev = validate_events(raw)
    assert len(ev) == 2
    report = lml.cleaning_report(ev)
    assert report is not None
    assert report.removed(f"missing_{column}") == 1
    assert (report.rows_in, report.rows_out) == (3, 2)


def test_text_columns_are_left_out_with_a_warning() -> None:
    raw = _raw(review_text=["great shoes", None, "late delivery, never again"], device=[1, 2, 3])
    with pytest.warns(DataQualityWarning, match=r"review_text.*free text.*never becomes"):
        ev = validate_events(raw)
    assert "review_text" not in ev.columns and "device" not in ev.columns
    report = lml.cleaning_report(ev)
    assert report is not None and report.left_out == ["review_text", "device"]


def test_a_sentence_as_the_kind_is_refused() -> None:
    raw = _raw()
    raw.loc[1, "event"] = "the shoes were lovely but the delivery was late"
    with pytest.raises(SchemaError, match=r"events\.event holds text that reads as free text"):
        validate_events(raw)


def test_text_values_are_refused() -> None:
    raw = _raw()
    raw.loc[1, "value"] = "very good"
    with pytest.raises(SchemaError, match=r"events\.value has values that are not numbers"):
        validate_events(raw)


def test_aware_times_are_put_on_the_given_clock() -> None:
    raw = _raw()
    raw["timestamp"] = ["2024-01-05T23:30:00+01:00", "2024-01-05T10:00:00Z", "2024-01-02T00:00Z"]
    ev = validate_events(raw, timezone="Europe/Berlin")
    assert ev.loc[ev["event"] == "nps", "timestamp"].iloc[0] == pd.Timestamp("2024-01-05 23:30")
    assert ev.attrs[CLOCK_ATTR] == "Europe/Berlin"


def test_exact_repeats_are_kept_once_and_counted() -> None:
    raw = pd.concat([_raw(), _raw().iloc[[0]]], ignore_index=True)
    with pytest.warns(DataQualityWarning, match=r"1 rows repeat another row exactly"):
        ev = validate_events(raw)
    assert len(ev) == 3
    assert lml.cleaning_report(ev).removed("duplicate") == 1  # type: ignore[union-attr]


def test_epoch_milliseconds_read_as_nanoseconds_are_refused() -> None:
    # Retail Rocket's timestamps through pd.to_datetime's default: 1970-01-01 00:23:50...
    at = pd.to_datetime(pd.Series([1_433_221_332_117, 1_438_969_904_567, 1_433_221_999_000]))
    with pytest.raises(SchemaError, match=r"events\.timestamp.*1970.*unit='ms'"):
        validate_events(_raw().assign(timestamp=at))


def test_rows_told_apart_by_a_column_left_out_are_two_events() -> None:
    # Retail Rocket: two items put in the cart at the same millisecond differ only in itemid,
    # which is left out; they were kept once as "an export appended twice"
    raw = pd.DataFrame(
        {
            "customer_id": [7, 7, 7],
            "timestamp": pd.to_datetime(["2015-06-01 10:00:00.123"] * 3),
            "event": ["addtocart"] * 3,
            "itemid": [355908, 248676, 248676],
        }
    )
    with pytest.warns(DataQualityWarning, match=r"1 rows repeat another row exactly"):
        ev = validate_events(raw)
    assert len(ev) == 2  # the third row repeats the second in every column


def test_missing_columns_and_wrong_types_are_refused() -> None:
    with pytest.raises(SchemaError, match=r"event"):
        validate_events(_raw().drop(columns="event"))
    with pytest.raises(SchemaError, match=r"events must be a pandas DataFrame"):
        validate_events([1, 2])  # type: ignore[arg-type]


def test_an_export_appended_twice_with_a_dict_column_is_kept_once() -> None:
    # a tracker's export (Segment, GA4) carries each event's properties as a dict: repeats judged
    # on every column given could not compare the dicts and kept every repeat, where the canonical
    # columns alone had dropped them
    once = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-02 09:00"]
            ),
            "event": ["add_to_cart", "add_to_cart", "view"],
            "properties": [{"item": 7}, {"item": 8}, {"item": 7}],
        }
    )
    with pytest.warns(DataQualityWarning) as caught:  # the dicts are also left out as text
        out = validate_events(pd.concat([once, once], ignore_index=True))
    assert any("3 rows repeat another row exactly" in str(w.message) for w in caught)
    assert len(out) == 3  # the two items put in the cart at once stay two events
