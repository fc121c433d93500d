"""Tests of loyalty_ml.kpis.cohorts: cohort counts and retention, curves, plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError
from loyalty_ml.kpis import (
    cohort_counts,
    cohort_retention,
    plot_cohort_heatmap,
    plot_retention_curves,
    retention_curves,
)


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [
        # January cohort: a, b, c
        ("a", "2024-01-02"),
        ("a", "2024-01-20"),  # second January purchase: still one active month
        ("a", "2024-02-11"),
        ("a", "2024-03-30"),
        ("b", "2024-01-15"),
        ("b", "2024-03-01"),
        ("c", "2024-01-31 23:00"),
        # February cohort: d, e
        ("d", "2024-02-01"),
        ("d", "2024-03-15"),
        ("e", "2024-02-29"),
        # March cohort: f
        ("f", "2024-03-31"),
    ]
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
            "amount": 1.0,
        }
    )


def test_cohort_counts_by_hand(tx: pd.DataFrame) -> None:
    counts = cohort_counts(tx, freq="M")
    assert counts.index.astype(str).tolist() == ["2024-01", "2024-02", "2024-03"]
    assert counts.columns.tolist() == [0, 1, 2]
    # Jan cohort {a, b, c}: Feb active {a} -> 1, Mar active {a, b} -> 2
    # Feb cohort {d, e}: Mar active {d} -> 1, Apr not observed
    # Mar cohort {f}: nothing after March observed
    expected = np.array([[3, 1, 2], [2, 1, np.nan], [1, np.nan, np.nan]])
    np.testing.assert_array_equal(counts.to_numpy(), expected)


def test_cohort_retention_by_hand(tx: pd.DataFrame) -> None:
    ret = cohort_retention(tx, freq="M")
    expected = np.array([[1, 1 / 3, 2 / 3], [1, 1 / 2, np.nan], [1, np.nan, np.nan]])
    np.testing.assert_allclose(ret.to_numpy(), expected)


def test_as_of_cuts_history(tx: pd.DataFrame) -> None:
    counts = cohort_counts(tx, freq="M", as_of="2024-03-01")
    # rows before March: Jan cohort {a, b, c}, Feb active {a}; Feb cohort {d, e}
    np.testing.assert_array_equal(counts.to_numpy(), [[3, 1], [2, np.nan]])


def test_quarterly_cohorts(tx: pd.DataFrame) -> None:
    counts = cohort_counts(tx, freq="Q")
    assert counts.to_numpy().tolist() == [[6.0]]  # every customer starts in 2024Q1


def test_zeros_are_zeros_and_unobserved_is_nan() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-10", "2024-03-10"]),
            "amount": 1.0,
        }
    )
    counts = cohort_counts(tx, freq="M")
    # cohort Jan {1}: Feb 0 (observed, nobody), Mar 0; cohort Mar {2}
    np.testing.assert_array_equal(counts.to_numpy(), [[1, 0, 0], [1, np.nan, np.nan]])


def test_retention_curves_pool_observed_cohorts(tx: pd.DataFrame) -> None:
    curves = retention_curves(tx, freq="M")
    # k=0: 1; k=1: (1 + 1) / (3 + 2) = 0.4 (March cohort not observed at k=1); k=2: 2 / 3
    np.testing.assert_allclose(curves["all"].to_numpy(), [1.0, 0.4, 2 / 3])


def test_retention_curves_by_group(tx: pd.DataFrame) -> None:
    groups = pd.Series({"a": "x", "b": "x", "c": "y", "d": "y", "e": "y", "f": "x"})
    curves = retention_curves(tx, freq="M", groups=groups)
    # x: Jan cohort {a, b}: k1 {a}, k2 {a, b}; Mar cohort {f}
    #    k1 = 1 / 2, k2 = 2 / 2
    # y: Jan cohort {c}: nothing later; Feb cohort {d, e}: k1 {d}
    #    k1 = (0 + 1) / (1 + 2), k2 = 0 / 1 (c observed in March, inactive)
    np.testing.assert_allclose(curves["x"].to_numpy(), [1, 0.5, 1.0])
    np.testing.assert_allclose(curves["y"].to_numpy(), [1, 1 / 3, 0.0])


def test_missing_group_label_is_refused(tx: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"groups has no label for customers \['f'\]"):
        retention_curves(tx, groups=pd.Series({c: "x" for c in "abcde"}))


def test_groups_must_be_series(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="groups must be a Series"):
        retention_curves(tx, groups={"a": "x"})  # type: ignore[arg-type]


def test_bad_freq_is_refused(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"freq must be one of \['D', 'W', 'M', 'Q', 'Y'\]"):
        cohort_retention(tx, freq="fortnight")  # type: ignore[arg-type]


def test_no_rows_before_as_of_is_refused(tx: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="no purchase before as_of"):
        cohort_retention(tx, as_of="2020-01-01")


def test_missing_column_is_refused(tx: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="missing required column"):
        cohort_retention(tx.drop(columns="timestamp"))


def test_time_zone_aware_data_uses_local_calendar(tx: pd.DataFrame) -> None:
    aware = tx.assign(timestamp=tx["timestamp"].dt.tz_localize("Asia/Tokyo"))
    pd.testing.assert_frame_equal(cohort_retention(aware), cohort_retention(tx))


def test_plots_return_figures(tx: pd.DataFrame) -> None:
    fig = plot_cohort_heatmap(cohort_retention(tx))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts][:3] == ["100%", "33%", "67%"]
    curves = plot_retention_curves(retention_curves(tx))
    assert isinstance(curves, Figure)
    assert len(curves.axes[0].lines) == 1


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 150)), min_size=1, max_size=40))
def test_retention_invariants(rows: list[tuple[int, int]]) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta([r[1] for r in rows], "D"),
            "amount": 1.0,
        }
    )
    counts = cohort_counts(tx, freq="M")
    ret = cohort_retention(tx, freq="M")
    assert counts[0].sum() == tx["customer_id"].nunique()  # every customer in exactly one cohort
    assert (ret[0] == 1.0).all()
    values = ret.to_numpy()
    assert np.all((values[np.isfinite(values)] >= 0) & (values[np.isfinite(values)] <= 1))
    # NaN exactly in the lower-right triangle of cells not yet observed
    last = tx["timestamp"].max().to_period("M").ordinal
    for i, cohort in enumerate(ret.index):
        for k in ret.columns:
            assert np.isnan(values[i, k]) == (cohort.ordinal + k > last)


def test_refunds_only_are_refused_as_no_purchase() -> None:
    """Once "no rows before as_of", of a table whose rows were all refunds kept with
    ``returns="keep"``: it had rows, and no purchase."""
    refunds = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-03", "2024-02-10"]),
            "amount": [-5.0, -2.5],
        }
    )
    with pytest.raises(DataError, match=r"no purchase \(every row is a refund, amount < 0\)"):
        cohort_retention(refunds)


def test_the_left_censored_first_cohort_is_named_in_attrs(tx: pd.DataFrame) -> None:
    """The first cohort holds whoever bought in the extract's first month, new or not."""
    groups = pd.Series({"a": "x", "b": "x", "c": "y", "d": "y", "e": "y", "f": "x"})
    tables = [
        cohort_counts(tx, freq="M"),
        cohort_retention(tx, freq="M"),
        retention_curves(tx, freq="M"),
        retention_curves(tx, freq="M", groups=groups),
    ]
    assert [t.attrs["left_censored_cohort"] for t in tables] == ["2024-01"] * 4
    assert cohort_counts(tx, freq="Q").attrs["left_censored_cohort"] == "2024Q1"
