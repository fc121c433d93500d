"""Inputs a data scientist passes on real exports, from raw table to reason codes: each one used to
crash deep inside pandas/LightGBM or give a silently wrong answer."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, SchemaError
from loyalty_ml.features.boundaries import estimate_boundaries
from loyalty_ml.features.build import build_features
from loyalty_ml.features.labels import churn_labels
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.schema import columns as C
from loyalty_ml.schema.transactions import validate_transactions


def raw(customer_id: object, timestamp: object) -> pd.DataFrame:
    n = len(timestamp)  # type: ignore[arg-type]
    return pd.DataFrame({"customer_id": customer_id, "timestamp": timestamp, "amount": [5.0] * n})


def stamps(tx: pd.DataFrame) -> list[str]:
    return [str(t) for t in tx[C.TIMESTAMP]]


# -- timestamps -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        ["01/12/2010 08:26", "13/12/2010 09:00", "03/12/2010 10:00"],  # format guessed month-first
        ["01-12-10", "13-12-10", "03-12-10"],  # no format guessed: read row by row
    ],
)
def test_day_first_dates_are_read_day_first_on_every_row(text: list[str]) -> None:
    tx = validate_transactions(raw([1, 2, 3], text))
    assert [s[:10] for s in stamps(tx)] == ["2010-12-01", "2010-12-03", "2010-12-13"]


def test_day_first_and_month_first_dates_in_one_column_are_refused() -> None:
    with pytest.raises(SchemaError, match=r"mixes day-first and month-first.*row 1: '12/13/2010'"):
        validate_transactions(raw([1, 2, 3], ["13/12/2010", "12/13/2010", "01/12/2010"]))


def test_aware_timestamps_in_several_zones_go_to_one_clock() -> None:
    values = [
        pd.Timestamp("2010-06-01 08:26", tz="UTC"),
        pd.Timestamp("2010-06-01 08:26", tz="Europe/London"),
        dt.datetime(2010, 6, 2, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
    ]
    tx = validate_transactions(raw([1, 2, 3], pd.Series(values, dtype=object)))
    assert stamps(tx) == ["2010-06-01 07:26:00", "2010-06-01 08:26:00", "2010-06-02 04:00:00"]


@pytest.mark.parametrize(
    "values", [["9999-12-31", "2010-06-02"], np.array(["1500-01-01", "2010-06-02"], "M8[s]")]
)
def test_dates_outside_the_nanosecond_range_are_named(values: object) -> None:
    with pytest.raises(SchemaError, match=r"outside 1677-09-22 .. 2262-04-11 \[row 0:"):
        validate_transactions(raw([1, 2], values))


# -- customer ids ---------------------------------------------------------------------------
def test_uint64_ids_past_int64_stay_distinct() -> None:
    ids = pd.Series([2**64 - 1, 1, 1], dtype="uint64")
    tx = validate_transactions(raw(ids, ["2010-06-01", "2010-06-02", "2010-06-03"]))
    assert sorted(tx[C.CUSTOMER_ID]) == ["1", "1", "18446744073709551615"]


def test_infinite_float_ids_are_refused_by_row() -> None:
    with pytest.raises(SchemaError, match=r"infinite ids \['row 1: inf'\]"):
        validate_transactions(raw([1.0, np.inf], ["2010-06-01", "2010-06-02"]))


def test_numbers_in_an_object_column_are_ids_by_value() -> None:
    ids = pd.Series([13085, None, 13085.0, 12], dtype=object)
    tx = validate_transactions(raw(ids, ["2010-06-01", "2010-06-02", "2010-06-03", "2010-06-04"]))
    assert tx[C.CUSTOMER_ID].dtype == "int64"
    assert tx[C.CUSTOMER_ID].tolist() == [13085, 13085, 12]


def test_float_ids_beyond_float_precision_warn() -> None:
    ids = [12345678901234567.0, np.nan, 3.0]
    with pytest.warns(DataQualityWarning, match="above 2\\*\\*53 as floats"):
        validate_transactions(raw(ids, ["2010-06-01", "2010-06-02", "2010-06-03"]))


# -- structure and parameters ---------------------------------------------------------------
def test_repeated_column_names_are_refused() -> None:
    frame = raw([1, 2], pd.to_datetime(["2010-06-01", "2010-06-02"]))
    doubled = pd.concat([frame, frame[[C.AMOUNT]]], axis=1)
    with pytest.raises(SchemaError, match=r"several columns named \['amount'\]"):
        validate_transactions(doubled)
    with pytest.raises(SchemaError, match=r"several columns named \['amount'\]"):
        build_features(doubled, as_of="2011-01-01")


def test_numeric_dates_are_not_read_as_nanoseconds() -> None:
    tx = raw([1, 2], pd.to_datetime(["2010-06-01", "2010-06-02"]))
    with pytest.raises(ConfigError, match="'as_of' parameter must be a date"):
        build_features(tx, as_of=np.int64(20100701))
    with pytest.raises(ConfigError, match=r"'observation_end' parameter must be a date.*a number"):
        validate_transactions(tx, observation_end=20100602)


def test_horizon_beyond_timestamps_is_a_config_error() -> None:
    tx = raw([1, 2], pd.to_datetime(["2010-06-01", "2010-06-02"]))
    with pytest.raises(ConfigError, match="'horizon_days' parameter must be an int <= 36500"):
        churn_labels(tx, as_of="2010-06-02", horizon_days=10**9)


def test_boundaries_refuse_a_curve_that_never_reaches_the_churn_level() -> None:
    # one daily customer: every gap closes after one day, so the return curve never falls
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    with pytest.raises(DataError, match=r"never falls below churn_level=0\.25"):
        estimate_boundaries(raw([7] * 60, days))


# -- churn model ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    cutoffs = pd.date_range("2024-01-01", periods=3, freq="120D")
    index = pd.MultiIndex.from_product([cutoffs, np.arange(200)], names=[C.AS_OF, C.CUSTOMER_ID])
    recency = rng.uniform(0, 200, len(index))
    X = pd.DataFrame({"recency_days": recency, "n_orders": rng.integers(1, 9, len(index))}, index)
    y = pd.Series((rng.uniform(size=len(index)) < recency / 200).astype(int), index=index)
    return X, y


def with_as_of(frame: pd.DataFrame | pd.Series, dates: pd.Index) -> pd.DataFrame | pd.Series:
    return frame.set_axis(frame.index.set_levels(dates, level=C.AS_OF))


@pytest.mark.parametrize("kind", ["text", "zoned"])
def test_as_of_level_as_text_or_zoned_dates_keeps_the_time_split(
    table: tuple[pd.DataFrame, pd.Series], kind: str
) -> None:
    X, y = table
    dates = X.index.levels[0]
    dates = dates.strftime("%Y-%m-%d") if kind == "text" else dates.tz_localize("Europe/London")
    model = ChurnModel(n_estimators=20, random_state=0).fit(
        with_as_of(X, dates), with_as_of(y, dates)
    )
    expected = ChurnModel(n_estimators=20, random_state=0).fit(X, y)
    assert model.validation_["split"] == expected.validation_["split"]
    np.testing.assert_allclose(model.predict_proba(X), expected.predict_proba(X))


def test_as_of_level_that_is_not_dates_is_named(table: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = table
    dates = pd.Index(["a", "b", "c"])
    with pytest.raises(SchemaError, match="'as_of' index level must hold the cutoff dates"):
        ChurnModel(n_estimators=5).fit(with_as_of(X, dates), with_as_of(y, dates))


def test_explain_on_no_rows_and_on_arrays(table: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = table
    model = ChurnModel(n_estimators=20, random_state=0).fit(X, y)
    empty = model.explain(X.iloc[:0], top_k=2)
    one = model.explain(X.iloc[:1], top_k=2)
    assert len(empty) == 0 and list(empty.columns) == list(one.columns)
    assert empty.dtypes.equals(one.dtypes)
    with pytest.raises(SchemaError, match="explain needs X as a DataFrame"):
        model.explain(X.to_numpy()[:2], top_k=2)
