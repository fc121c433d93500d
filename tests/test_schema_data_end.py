"""schema._data_end: where the data end, for timed data and for dates without times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import LeakageError
from loyalty_ml.features import training_table
from loyalty_ml.schema._data_end import (
    covered_until,
    covered_until_ns,
    is_dates_only,
    series_dates_only,
    stated_before,
    stated_end,
)


def _ns(*stamps: str) -> np.ndarray:
    return pd.to_datetime(list(stamps)).to_numpy(dtype="datetime64[ns]").view("int64")


def test_dates_without_times_cover_their_last_day_to_its_end() -> None:
    ns = _ns("2024-12-30", "2024-12-31", "2024-12-01")
    assert is_dates_only(ns)
    assert covered_until_ns(ns) == pd.Timestamp("2025-01-01").value
    series = pd.Series(pd.to_datetime(["2024-12-30", "2024-12-31", None]))
    assert covered_until(series) == pd.Timestamp("2025-01-01")


def test_one_time_of_day_makes_the_data_timed_and_its_end_the_last_timestamp() -> None:
    # the last purchase at midnight, another at noon: the end may not pass the last timestamp
    ns = _ns("2024-12-30 12:00", "2024-12-31 00:00")
    assert not is_dates_only(ns)
    assert covered_until_ns(ns) == pd.Timestamp("2024-12-31").value
    assert covered_until(pd.Series(pd.to_datetime(["2024-12-30 12:00", "2024-12-31 00:00"]))) == (
        pd.Timestamp("2024-12-31")
    )
    assert covered_until_ns(_ns("2024-12-31 18:30")) == pd.Timestamp("2024-12-31 18:30").value


def test_days_before_1970_and_empty_tables() -> None:
    assert is_dates_only(_ns("1969-12-31", "1960-02-29"))
    assert not is_dates_only(_ns("1969-12-31 23:59"))
    empty = np.array([], dtype="int64")
    assert not is_dates_only(empty) and covered_until_ns(empty) is None
    assert covered_until(pd.Series([], dtype="datetime64[ns]")) is None
    assert covered_until(pd.Series([pd.NaT], dtype="datetime64[ns]")) is None


def test_a_zoned_series_is_read_at_its_own_midnights() -> None:
    # the day before the clocks go forward: its end is the next midnight, 23 hours later
    local = pd.Series(pd.to_datetime(["2024-03-30", "2024-03-31"]).tz_localize("Europe/Berlin"))
    assert covered_until(local) == pd.Timestamp("2024-04-01", tz="Europe/Berlin")


def test_a_series_of_midnights_on_its_own_clock_is_dates_only() -> None:
    dates = pd.Series(pd.to_datetime(["2024-12-30", None, "2024-12-31"]))
    assert series_dates_only(dates)
    assert series_dates_only(dates.dt.tz_localize("Europe/Berlin"))
    # Berlin's midnights are 23:00 in UTC: not midnights there
    assert not series_dates_only(dates.dt.tz_localize("Europe/Berlin").dt.tz_convert("UTC"))
    assert not series_dates_only(
        pd.Series(pd.to_datetime(["2024-12-30 00:00", "2024-12-31 10:00"]))
    )
    assert not series_dates_only(pd.Series([pd.NaT], dtype="datetime64[ns]"))
    assert not series_dates_only(pd.Series([], dtype="datetime64[ns]"))


def test_a_stated_midnight_names_a_day_on_dates_without_times_only() -> None:
    end = pd.Timestamp("2020-09-22")
    assert stated_end(end, dates_only=True) == pd.Timestamp("2020-09-23")
    assert stated_end(end, dates_only=False) == end
    noon = pd.Timestamp("2020-09-22 12:00")
    assert stated_end(noon, dates_only=True) == noon
    # a zone's day before the clocks go forward ends 23 hours later, at its next midnight
    berlin = pd.Timestamp("2024-03-30", tz="Europe/Berlin")
    assert stated_end(berlin, dates_only=True) == pd.Timestamp("2024-03-31", tz="Europe/Berlin")


def test_a_history_cut_before_a_cutoff_is_stated_complete_up_to_the_cut_only() -> None:
    """The jobs keep the rows before as_of and state the history complete until then. On dates
    without times a stated midnight reads to its day's end, so as_of itself claimed as_of's day,
    whose rows the cut removed: the day before is stated, which reads back as as_of."""
    cutoff = pd.Timestamp("2020-09-22")
    dates = pd.Series(pd.to_datetime(["2020-09-01", "2020-09-21"]))
    assert stated_before(cutoff, dates) == pd.Timestamp("2020-09-21")
    assert stated_end(stated_before(cutoff, dates), dates_only=True) == cutoff
    timed = pd.Series(pd.to_datetime(["2020-09-01 10:30", "2020-09-21 00:00"]))
    assert stated_before(cutoff, timed) == cutoff
    assert stated_before(pd.Timestamp("2020-09-22 06:00"), dates) == pd.Timestamp(
        "2020-09-22 06:00"
    )
    assert stated_before(cutoff, pd.Series(pd.to_datetime([]))) == cutoff
    berlin = pd.Timestamp("2024-03-31", tz="Europe/Berlin")
    zoned = pd.Series(pd.to_datetime(["2024-03-29", "2024-03-30"]).tz_localize("Europe/Berlin"))
    assert stated_end(stated_before(berlin, zoned), dates_only=True) == berlin


def test_labels_of_a_history_cut_before_as_of_stop_at_the_cut_on_dates_without_times() -> None:
    """A window over the cutoff's own day, which the cut removed, is refused when the history is
    stated with stated_before; stated as as_of, the day was claimed and the window let through."""
    days = pd.date_range("2024-01-01", "2024-04-30", freq="D")
    tx = pd.DataFrame(
        [(c, d, 2.0) for c in range(30) for d in days[c % 3 :: 3]],
        columns=["customer_id", "timestamp", "amount"],
    )
    as_of = pd.Timestamp("2024-04-01")
    history = tx.loc[tx["timestamp"] < as_of]
    end = stated_before(as_of, history["timestamp"])
    X, _ = training_table(history, cutoffs=["2024-03-02"], horizon_days=30, observation_end=end)
    assert len(X) == 30
    with pytest.raises(LeakageError, match="observation_end=2024-03-31"):
        training_table(history, cutoffs=["2024-03-03"], horizon_days=30, observation_end=end)
    training_table(history, cutoffs=["2024-03-03"], horizon_days=30, observation_end=as_of)
