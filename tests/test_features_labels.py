"""churn_labels: exact values, the censoring guard and a direct recomputation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    LeakageError,
    SchemaError,
)
from loyalty_ml.features import churn_labels, training_table
from loyalty_ml.schema import validate_transactions


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 3, 4],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-02-10", "2024-01-05", "2024-01-20", "2024-03-02", "2024-04-30"]
            ),
            "amount": [10.0, 30.0, 5.0, 1.0, 1.0, 1.0],
        }
    )


def test_exact_values(tx: pd.DataFrame) -> None:
    y = churn_labels(tx, as_of="2024-02-01", horizon_days=30)
    # window [02-01, 03-02): customer 3's purchase on 03-02 is outside it
    expected = pd.Series([0, 1, 1], index=pd.Index([1, 2, 3], name="customer_id"), name="churned")
    pd.testing.assert_series_equal(y, expected)
    y = churn_labels(tx, as_of="2024-02-01", horizon_days=31)
    assert y.loc[3] == 0


def test_censored_horizon_raises(tx: pd.DataFrame) -> None:
    with pytest.raises(LeakageError, match=r"as_of=2024-04-15 with horizon_days=30.*2024-04-30"):
        churn_labels(tx, as_of="2024-04-15", horizon_days=30)
    with pytest.raises(DataError, match="censored"):
        churn_labels(tx, as_of="2024-04-15", horizon_days=30)
    # the data owner can vouch for a longer observation window
    y = churn_labels(tx, as_of="2024-04-15", horizon_days=30, observation_end="2024-06-01")
    assert y.to_dict() == {1: 1, 2: 1, 3: 1}  # customer 4 first buys after as_of


def test_no_transactions_raises() -> None:
    empty = pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype="int64"),
            "timestamp": pd.Series([], dtype="datetime64[ns]"),
            "amount": pd.Series([], dtype="float64"),
        }
    )
    with pytest.raises(LeakageError, match="there are no transactions"):
        churn_labels(empty, as_of="2024-01-01", horizon_days=30)


@pytest.mark.parametrize("horizon", [0, -5, 2.5, True, "30"])
def test_bad_horizon(tx: pd.DataFrame, horizon: object) -> None:
    with pytest.raises(ConfigError, match="'horizon_days' parameter must be an int >= 1"):
        churn_labels(tx, as_of="2024-02-01", horizon_days=horizon)  # type: ignore[arg-type]


def test_missing_column(tx: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"\['timestamp'\]"):
        churn_labels(tx.drop(columns="timestamp"), as_of="2024-02-01", horizon_days=30)


# an as_of before every purchase is drawn too: its empty answer is right, and warned about
@pytest.mark.filterwarnings("ignore:churn_labels. no customer has a purchase before")
# and so are twenty purchases in a few weeks followed by none: a gap, rightly warned about
@pytest.mark.filterwarnings(
    "ignore:churn_labels. the label window .+ overlaps days with no purchase"
)
def _two_stores() -> pd.DataFrame:
    """A validated table of two stores' customers, each buying every 3 days from January to
    April 2024; the small store's last purchase is on 04-27, the data's on 04-30."""
    days = pd.date_range("2024-01-01", "2024-04-30", freq="D")
    rows = [
        (c, d, "big" if c < 60 else "small")
        for c in range(70)
        for d in days[c % 3 :: 3]
        if c < 60 or d <= pd.Timestamp("2024-04-27")
    ]
    raw = pd.DataFrame(rows, columns=["customer_id", "timestamp", "store_id"]).assign(amount=2.0)
    return validate_transactions(raw)


def test_a_segment_is_refused_past_its_own_end_and_told_the_recorded_end() -> None:
    """A store filtered from a validated table ends at its own last purchase (04-27), which the
    labels cannot tell from a table cut in time; the refusal names the end validate_transactions
    recorded (05-01), and passing it labels the store as the whole table does."""
    tx = _two_stores()
    small = tx.loc[tx["store_id"] == "small"]
    assert small.attrs["loyalty_ml_data_end"] == "2024-05-01 00:00:00"
    with pytest.raises(
        LeakageError,
        match=r"segment of validated data .* pass observation_end='2024-05-01 00:00:00'",
    ):
        churn_labels(small, as_of="2024-04-01", horizon_days=30)
    with pytest.raises(LeakageError, match=r"observation_end='2024-05-01 00:00:00'"):
        training_table(small, cutoffs=["2024-03-01", "2024-04-01"], horizon_days=30)
    whole = churn_labels(tx, as_of="2024-04-01", horizon_days=30)
    end = small.attrs["loyalty_ml_data_end"]
    y = churn_labels(small, as_of="2024-04-01", horizon_days=30, observation_end=end)
    pd.testing.assert_series_equal(y, whole.loc[y.index])


def test_a_table_cut_in_time_is_refused_past_the_cut() -> None:
    """A table cut at a date keeps the full data's recorded end in its attrs; reading that end
    would label every customer who buys after the cut as churned, so the window is refused."""
    tx = _two_stores()
    early = tx.loc[tx["timestamp"] < "2024-03-01"]
    with pytest.raises(LeakageError, match=r"not if the table was cut in time"):
        churn_labels(early, as_of="2024-02-15", horizon_days=30)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 100)), min_size=1, max_size=30),
    as_of_day=st.integers(1, 60),
    horizon=st.integers(1, 40),
)
@example(rows=[(0, 1)], as_of_day=1, horizon=1)  # no purchase before the cut-off: a warning
def test_agrees_with_direct_computation(
    rows: list[tuple[int, int]], as_of_day: int, horizon: int
) -> None:
    start = pd.Timestamp("2024-01-01")
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, _ in rows] + [99],
            "timestamp": [start + pd.Timedelta(days=d) for _, d in rows]
            + [start + pd.Timedelta(days=200)],
            "amount": 1.0,
        }
    )
    as_of = start + pd.Timedelta(days=as_of_day)
    before = tx[tx["timestamp"] < as_of]["customer_id"].unique()
    if len(before):
        y = churn_labels(tx, as_of=as_of, horizon_days=horizon)
    else:  # a cut-off before every purchase adds no rows, and says so
        with pytest.warns(DataQualityWarning, match="no customer has a purchase before"):
            y = churn_labels(tx, as_of=as_of, horizon_days=horizon)
    window = tx[(tx["timestamp"] >= as_of) & (tx["timestamp"] < as_of + pd.Timedelta(days=horizon))]
    expected = {int(c): int(c not in set(window["customer_id"])) for c in sorted(before)}
    assert y.to_dict() == expected
    assert y.dtype == np.int64


def test_a_table_of_refunds_only_gives_no_labels_and_says_why() -> None:
    """Once an IndexError from the gap check: refunds with no purchase before them are set aside,
    which left no row at all."""
    tx = pd.DataFrame(
        {
            "customer_id": [0, 2],
            "amount": [-3.0, -1.0],
            "order_id": ["3", "2"],
            "timestamp": pd.to_datetime(["2024-03-06 12:00", "2024-04-01 00:00"]),
        }
    )
    with pytest.warns(DataQualityWarning, match="no purchase, only refunds"):
        labels = churn_labels(tx, as_of="2024-02-10", horizon_days=30)
    assert labels.empty and labels.name == "churned"


def _dated(days: list[tuple[int, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [c for c, _ in days],
            "timestamp": pd.to_datetime([d for _, d in days], format="ISO8601"),
            "amount": 1.0,
        }
    )


def test_dates_without_times_cover_their_last_day() -> None:
    """A date-only export (H&M's t_dat) dates the last day's purchases at its midnight: read as
    the data's end, that instant left the day out of the latest allowed window."""
    tx = _dated([(1, "2024-01-10"), (2, "2024-01-12"), (1, "2024-04-30"), (3, "2024-04-29")])
    # [04-01, 05-01) is days 04-01 to 04-30, all in the data: customer 1 came back on the last day
    y = churn_labels(tx, as_of="2024-04-01", horizon_days=30)
    assert y.to_dict() == {1: 0, 2: 1}
    with pytest.raises(
        LeakageError,
        match=r"data ends at 2024-05-01 00:00:00 \(the end of its last day, 2024-04-30: its "
        r"timestamps are dates without times\).*at most 2024-04-01",
    ):
        churn_labels(tx, as_of="2024-04-02", horizon_days=30)
    # one purchase with a time of day: the data ends at its last timestamp, as before
    timed = tx.assign(timestamp=tx["timestamp"].where(tx["customer_id"] != 2, "2024-01-12 15:00"))
    with pytest.raises(LeakageError, match=r"the data ends at 2024-04-30 00:00:00: customers"):
        churn_labels(timed, as_of="2024-04-01", horizon_days=30)
    assert churn_labels(timed, as_of="2024-03-31", horizon_days=30).to_dict() == {1: 1, 2: 1}


def test_a_stated_end_on_dates_without_times_names_a_day_observed_to_its_end() -> None:
    """observation_end="2024-04-30" on a date-only export means "through the 30th": read as the
    30th's midnight it cut the last day out of the window the data end gives by default."""
    tx = _dated([(1, "2024-01-10"), (2, "2024-01-12"), (1, "2024-04-30"), (3, "2024-04-29")])
    default = churn_labels(tx, as_of="2024-04-01", horizon_days=30)
    for end in ("2024-04-30", pd.Timestamp("2024-04-30"), tx["timestamp"].max()):
        stated = churn_labels(tx, as_of="2024-04-01", horizon_days=30, observation_end=end)
        pd.testing.assert_series_equal(stated, default)
    # a day later than the data: through the end of that day, no further
    assert churn_labels(
        tx, as_of="2024-04-02", horizon_days=30, observation_end="2024-05-01"
    ).to_dict() == {1: 0, 2: 1}
    with pytest.raises(
        LeakageError,
        match=r"observation_end=2024-04-29 \(to the end of that day, 2024-04-30 00:00:00: the "
        r"timestamps are dates without times\).*at least 2024-04-30\)",
    ):
        churn_labels(tx, as_of="2024-04-01", horizon_days=30, observation_end="2024-04-29")
    # timed data: the stated midnight is the instant, as before; the 30th's noon is after it
    timed = tx.assign(timestamp=tx["timestamp"].where(tx["customer_id"] != 2, "2024-01-12 15:00"))
    with pytest.raises(LeakageError, match=r"observation_end=2024-04-30 00:00:00 says"):
        churn_labels(timed, as_of="2024-04-01", horizon_days=30, observation_end="2024-04-30")


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 90)), min_size=2, max_size=25),
    horizon=st.integers(1, 30),
    minutes=st.integers(0, 24 * 60 - 1),
)
def test_the_latest_allowed_cutoff_covers_the_last_day_of_dated_data_only(
    days: list[tuple[int, int]], horizon: int, minutes: int
) -> None:
    """Dates without times: the latest allowed as_of is the day after the last one minus the
    horizon, and its labels count the last day's purchases. With one time of day among them, no
    window may end after the last timestamp (nothing past it is looked at)."""
    start = pd.Timestamp("2024-01-01")
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, _ in days],
            "timestamp": [start + pd.Timedelta(days=d) for _, d in days],
            "amount": 1.0,
        }
    )
    last = tx["timestamp"].max()
    latest = last + pd.Timedelta(days=1 - horizon)
    with warnings.catch_warnings():  # tiny random tables: empty cut-offs and gaps are warned
        warnings.simplefilter("ignore", DataQualityWarning)
        if latest > tx["timestamp"].min():
            y = churn_labels(tx, as_of=latest, horizon_days=horizon)
            bought = set(tx.loc[tx["timestamp"] >= latest, "customer_id"])
            assert y.to_dict() == {c: int(c not in bought) for c in y.index}
        with pytest.raises(LeakageError):
            churn_labels(tx, as_of=latest + pd.Timedelta(days=1), horizon_days=horizon)
        timed = tx.copy()
        timed.loc[0, "timestamp"] += pd.Timedelta(minutes=max(minutes, 1))
        with pytest.raises(LeakageError):  # the window would pass the last timestamp
            churn_labels(timed, as_of=latest, horizon_days=horizon)
        end = timed["timestamp"].max()
        churn_labels(timed, as_of=end - pd.Timedelta(days=horizon), horizon_days=horizon)
        with pytest.raises(LeakageError):
            churn_labels(
                timed, as_of=end - pd.Timedelta(days=horizon, microseconds=-1), horizon_days=horizon
            )


def _weekly(n_customers: int, *, lapsed: int = 0) -> pd.DataFrame:
    """Customers who buy every week of 2024's first half; ``lapsed`` of them stop after March."""
    weeks = pd.date_range("2024-01-01", "2024-06-30", freq="7D")
    tx = pd.DataFrame(
        [(c, w) for c in range(n_customers) for w in weeks], columns=["customer_id", "timestamp"]
    ).assign(amount=5.0)
    gone = (tx["customer_id"] < lapsed) & (tx["timestamp"] >= "2024-04-01")
    return tx.loc[~gone].reset_index(drop=True)


def test_a_cutoff_where_nobody_is_labelled_churned_is_warned_about() -> None:
    """Mirrors the all-churned warning: everyone back within the horizon is a horizon longer than
    anyone stays away, or an extract of the customers still active at its end."""
    with pytest.warns(
        DataQualityWarning,
        match=r"churn_labels: no customer is labelled churned at 2024-03-01 \(120 customers\): "
        r"every one bought again in the 60 days after it.*shorter horizon_days",
    ):
        y = churn_labels(_weekly(120), as_of="2024-03-01", horizon_days=60)
    assert (y == 0).all() and len(y) == 120
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        churn_labels(_weekly(99), as_of="2024-03-01", horizon_days=60)  # few: can be chance
        assert churn_labels(_weekly(120, lapsed=1), as_of="2024-04-01", horizon_days=60).sum() == 1
