"""estimate_boundaries: the KM return curve, scale-free boundaries, states and the plot."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from loyalty_ml.exceptions import ConfigError, DataError, DataQualityWarning, SchemaError
from loyalty_ml.features.boundaries import STATES, Boundaries, estimate_boundaries


def _simulated(scale_days: float, *, n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Exponential gaps of mean ``scale_days``; after each order 15% stop for good.

    One-order customers churn more (40%): the first repeat is the frequency boundary.
    """
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(scale_days, size=(n, 30))
    days = np.cumsum(gaps, axis=1)
    stop = rng.random((n, 30)) < np.where(np.arange(30) == 0, 0.4, 0.15)
    alive = np.cumprod(~stop, axis=1).astype(bool)
    alive = np.concatenate([np.ones((n, 1), dtype=bool), alive[:, :-1]], axis=1)
    customer, order = np.nonzero(alive & (days < 40 * scale_days))
    return pd.DataFrame(
        {
            "customer_id": customer,
            "timestamp": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(np.round(days[customer, order] * 86400), unit="s"),
            "amount": 1.0,
        }
    )


@pytest.fixture(scope="module")
def weekly() -> Boundaries:
    return estimate_boundaries(_simulated(7.0))


def test_exact_curve_on_a_tiny_frame() -> None:
    # gaps: customer 1 closes gaps of 2 and 4 days, customer 2 one of 2 days;
    # open gaps at the end (day 10): customer 1 for 4 days, customer 2 for 6, customer 3 for 10
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-03", "2024-01-07", "2024-01-03", "2024-01-05", "2024-01-01"]
            ),
            "amount": 1.0,
        }
    )
    b = estimate_boundaries(tx, as_of="2024-01-11", min_at_risk=2, min_customers=1)
    curve = b.curve
    assert curve.index.tolist() == list(range(7))  # last day with >= 2 gaps open is day 6
    assert curve["at_risk"].tolist() == [6, 6, 6, 4, 4, 2, 2]
    assert curve["returned"].tolist() == [0, 0, 2, 0, 1, 0, 0]
    assert curve["censored"].tolist() == [0, 0, 0, 0, 1, 0, 1]
    s2 = 1 - 2 / 6
    s4 = s2 * (1 - 1 / 4)
    np.testing.assert_allclose(curve["survival"], [1, 1, s2, s2, s4, s4, s4])
    # p_return(t) = 1 - S_end / P(gap >= t), S_end = s4: 0.5 until day 2, then 0.25, then 0
    p = [1 - s4] * 3 + [1 - s4 / s2] * 2 + [0, 0]
    np.testing.assert_allclose(curve["p_return"], p)
    assert b.sleep_days == 3.0  # first day below 0.75 * p_return(0)
    assert b.churn_days == 5.0  # first day below 0.25 * p_return(0)


def test_boundaries_scale_with_the_rhythm(weekly: Boundaries) -> None:
    daily = estimate_boundaries(_simulated(1.0))
    monthly = estimate_boundaries(_simulated(30.0))
    assert 0 < weekly.sleep_days < weekly.churn_days
    # the same behaviour at 7x and 30x the pace: boundaries in proportion (within day rounding)
    assert weekly.churn_days / daily.churn_days == pytest.approx(7, rel=0.35)
    assert monthly.churn_days / weekly.churn_days == pytest.approx(30 / 7, rel=0.2)
    assert monthly.sleep_days / weekly.sleep_days == pytest.approx(30 / 7, rel=0.3)


def test_curve_is_monotone_and_censoring_is_not_churn(weekly: Boundaries) -> None:
    p = weekly.curve["p_return"].to_numpy()
    assert (np.diff(p) <= 1e-12).all()
    assert p[-1] == 0.0
    assert (weekly.curve["at_risk"] >= 30).all()
    # a customer whose open gap is cut by the end of data is censored, never counted as returned
    assert weekly.curve["censored"].sum() == 1500


def test_frequency_boundaries(weekly: Boundaries) -> None:
    assert weekly.first_repeat_orders == 2
    assert weekly.loyalty_orders is not None
    assert weekly.loyalty_orders >= 2
    churn = weekly.orders_curve["churn"]
    assert churn.loc[1] == pytest.approx(0.4, abs=0.05)
    assert churn.loc[2] == pytest.approx(0.15, abs=0.05)


def test_no_frequency_boundary_without_a_real_drop() -> None:
    # memoryless stopping: churn is flat over order counts
    rng = np.random.default_rng(1)
    n = 1500
    days = np.cumsum(rng.exponential(7.0, size=(n, 30)), axis=1)
    quit_after = rng.geometric(0.15, size=n)
    customer, order = np.nonzero((np.arange(30) < quit_after[:, None]) & (days < 280))
    tx = pd.DataFrame(
        {
            "customer_id": customer,
            "timestamp": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(days[customer, order], unit="D"),
            "amount": 1.0,
        }
    )
    b = estimate_boundaries(tx)
    assert (b.first_repeat_orders, b.loyalty_orders) == (None, None)


def test_state(weekly: Boundaries) -> None:
    s, c = weekly.sleep_days, weekly.churn_days
    recency = pd.Series(
        [0.0, s - 0.1, s, c - 0.1, c, c + 29.9, c + 30, np.nan], index=list("abcdefgh")
    )
    states = weekly.state(recency, winback_days=30)
    assert states.tolist()[:7] == [
        "active",
        "active",
        "sleeping",
        "sleeping",
        "churned",
        "churned",
        "lost",
    ]
    assert pd.isna(states["h"])
    assert list(states.cat.categories) == list(STATES)
    assert states.index.equals(recency.index)
    with pytest.raises(ConfigError, match=r"'winback_days' parameter of Boundaries\.state"):
        weekly.state(recency, winback_days=-1)
    with pytest.raises(ConfigError, match="must be a pandas Series"):
        weekly.state([1.0], winback_days=30)  # type: ignore[arg-type]


def test_state_reads_timedeltas_as_days_and_refuses_text(weekly: Boundaries) -> None:
    """as_of - last purchase is a Timedelta, once read as nanoseconds ('lost' for 1 day); text
    raised a raw ValueError."""
    days = pd.Series([1.0, weekly.churn_days + 1])
    as_timedelta = pd.to_timedelta(days, unit="D")
    assert weekly.state(as_timedelta).tolist() == weekly.state(days).tolist()
    assert weekly.state(as_timedelta).tolist()[0] == "active"
    assert weekly.state(pd.Series(["1", "2"], dtype=object)).tolist() == ["active", "active"]
    with pytest.raises(SchemaError, match=r"1 value\(s\) are not, e\.g\. \['x'\]"):
        weekly.state(pd.Series(["1", "x"]))


def test_plot(weekly: Boundaries) -> None:
    fig = weekly.plot()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_ylabel() == "P(buys again)"
    # without order-count boundaries (small data) the right panel has no empty legend (and no
    # matplotlib warning, an error here)
    bare = dataclasses.replace(weekly, first_repeat_orders=None, loyalty_orders=None)
    assert bare.plot().axes[1].get_legend() is None


def test_as_of_cuts_the_data() -> None:
    tx = _simulated(7.0, n=600)
    early = estimate_boundaries(tx, as_of="2020-04-01")
    late = estimate_boundaries(tx[tx["timestamp"] < "2020-04-01"], as_of="2020-04-01")
    pd.testing.assert_frame_equal(early.curve, late.curve)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sleep_level": 1.5}, "'sleep_level'"),
        ({"churn_level": 0}, "'churn_level'"),
        ({"sleep_level": 0.3, "churn_level": 0.5}, "must be below 'sleep_level'"),
        ({"min_at_risk": 0}, "'min_at_risk'"),
        ({"max_orders": 2.5}, "'max_orders'"),
        ({"loyalty_tolerance": 1}, "'loyalty_tolerance'"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    tx = _simulated(7.0, n=50)
    with pytest.raises(ConfigError, match=match):
        estimate_boundaries(tx, **kwargs)  # type: ignore[arg-type]


def test_too_little_data() -> None:
    one = pd.DataFrame(
        {"customer_id": [1], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}
    )
    with pytest.raises(DataError, match="at least min_at_risk=30 inter-purchase gaps"):
        estimate_boundaries(one)
    with pytest.raises(DataError, match="no repeat purchase"):
        estimate_boundaries(one, min_at_risk=1)
    with pytest.raises(DataError, match="empty transactions table"):
        estimate_boundaries(one.iloc[:0])
    # refunds kept with returns="keep" are not purchases (once a zero-size max ValueError)
    with pytest.raises(DataError, match="refunds-only transactions table"):
        estimate_boundaries(one.assign(amount=-1.0))
    with pytest.raises(DataError, match="refunds-only transactions table"):
        estimate_boundaries(one.assign(amount=-1.0), as_of="2024-02-01")


@pytest.mark.realdata
def test_online_retail(online_retail_path: object) -> None:
    from loyalty_ml.datasets import load_online_retail_ii

    tx = load_online_retail_ii(online_retail_path)  # type: ignore[arg-type]
    b = estimate_boundaries(tx)
    # a wholesale gift shop observed for one year: boundaries of months, inside the year
    assert 30 <= b.sleep_days < b.churn_days <= 365
    assert b.first_repeat_orders is not None


def test_an_as_of_weeks_past_the_data_is_warned_about() -> None:
    """The days after the extract count as days nobody came back: the boundaries shorten in
    silence (Online Retail II at three weeks past its end: sleep 126 to 105 days)."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning

    tx = _simulated(7.0)
    end = tx["timestamp"].max()
    with warnings.catch_warnings():  # the day after the data: a nightly job, nothing to say
        warnings.simplefilter("error", DataQualityWarning)
        estimate_boundaries(tx, as_of=end + pd.Timedelta(days=1))
    with pytest.warns(DataQualityWarning, match=r"as_of=.* is 30 days after the data end"):
        late = estimate_boundaries(tx, as_of=end + pd.Timedelta(days=30))
    assert late.churn_days <= estimate_boundaries(tx).churn_days
    # an end stated at validation (observation_end) is the data's end: no warning
    stated = tx.copy()
    stated.attrs["loyalty_ml_data_end"] = str(end + pd.Timedelta(days=30))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        estimate_boundaries(stated, as_of=end + pd.Timedelta(days=30))


def test_the_stale_warning_names_the_last_day_of_dates_without_times() -> None:
    """Dates without times end at the midnight after their last day; the warning printed that
    midnight's date as the data end, the day after the last day of data."""
    tx = _simulated(7.0)
    tx["timestamp"] = tx["timestamp"].dt.normalize()
    last = tx["timestamp"].max()
    as_of = last + pd.Timedelta(days=30)
    with pytest.warns(DataQualityWarning, match=r"") as caught:
        estimate_boundaries(tx, as_of=as_of)
    message = next(str(w.message) for w in caught if "after the data end" in str(w.message))
    assert f"is 29 days after the data end (its last day {last.date()})" in message
    timed = _simulated(7.0)
    end = timed["timestamp"].max()
    with pytest.warns(
        DataQualityWarning, match=rf"after the data end \(its last day {end.date()}\)"
    ):
        estimate_boundaries(timed, as_of=end + pd.Timedelta(days=30))


def _instacart_shaped(*, anchor: str, n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Orders rebuilt from gaps capped at 30 days (Instacart's days_since_prior_order), dated
    from a common first day (``anchor="start"``) or back from a common last day (``"end"``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(n):
        gaps = np.minimum(np.floor(rng.exponential(rng.choice([8, 20, 40]), 12)), 30.0)
        days = np.concatenate([[0.0], np.cumsum(gaps)])
        if anchor == "end":
            days = days - days[-1]
        rows += [(customer, day) for day in days]
    frame = pd.DataFrame(rows, columns=["customer_id", "day"])
    when = pd.Timestamp("2017-06-30") + pd.to_timedelta(frame.pop("day"), unit="D")
    return frame.assign(timestamp=when, amount=1.0)


def test_gaps_capped_at_30_days_are_named_not_blamed_on_too_little_data() -> None:
    # every customer's last order on the same day: nobody leaves, and the curve ends at the cap.
    # The refusal said "use more customers or a longer history" (there were 400 and 12 orders each)
    with pytest.raises(DataError, match=r"look capped.*TriggerPolicy\(sleep_days") as info:
        estimate_boundaries(_instacart_shaped(anchor="end"))
    assert "more customers" not in str(info.value)
    # dated from a common first day, the curve falls at the cap: the boundaries are the cap's
    with pytest.warns(DataQualityWarning, match=r"gaps between orders are 29-30 days.*look capped"):
        bounds = estimate_boundaries(_instacart_shaped(anchor="start"))
    assert bounds.churn_days >= 29


def test_a_history_that_thins_out_or_keeps_a_rhythm_is_not_read_as_capped(
    weekly: Boundaries,
) -> None:
    # the module's simulated histories: no warning (warnings are errors in the test run)
    assert weekly.churn_days > weekly.sleep_days
    # a weekly box at varying hours: every gap within a day of the longest, none in the days
    # before it (and a monthly plan with skipped months has none before its longest either)
    rng = np.random.default_rng(1)
    for step, count in ((7.0, 20), (30.0, 12)):
        days = (np.arange(count) * step)[None, :] + rng.uniform(0, 0.5, (300, count))
        if step == 30.0:
            days = np.where(rng.random((300, count)) < 0.15, days + 30.0, days)  # skips
            days = np.sort(days, axis=1)
        customer, order = np.nonzero(np.ones_like(days, dtype=bool))
        tx = pd.DataFrame(
            {
                "customer_id": customer,
                "timestamp": pd.Timestamp("2024-01-01")
                + pd.to_timedelta(days[customer, order], unit="D"),
                "amount": 1.0,
            }
        )
        try:
            estimate_boundaries(tx)
        except DataError as exc:  # a rhythm nobody leaves may have no boundary to read
            assert "capped" not in str(exc)


def test_a_monthly_plan_on_the_calendar_is_not_read_as_capped() -> None:
    # billed on the same day of each month, a member skipping a month at most: the two-month gaps
    # pile at 61-62 days over a few at 59-60 (February), none from 32 to 58. Read as capped, the
    # boundaries of 62 and 63 days, where a member who skips two months has left, were called
    # the cap's, not the customers'
    rng = np.random.default_rng(0)
    months = pd.date_range("2022-01-01", "2024-12-01", freq="MS")
    rows = []
    for customer in range(1500):
        day, month, stop = rng.integers(0, 28), rng.integers(0, 6), rng.integers(3, 60)
        while month < min(len(months), stop):
            rows.append((customer, months[month] + pd.Timedelta(days=int(day))))
            month += 1 if rng.random() > 0.3 else 2
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp"]).assign(amount=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        bounds = estimate_boundaries(tx)
    assert bounds.churn_days > 60
