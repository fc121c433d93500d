"""training_table: stacked build_features and churn_labels over cut-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, DataQualityWarning, LeakageError
from loyalty_ml.features import FeatureConfig, build_features, churn_labels, training_table


@pytest.fixture
def tx() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 60, n),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 300 * 24, n), unit="h"),
            "amount": rng.gamma(2.0, 10.0, n).round(2),
            # channel "phone" appears only late: its column must exist at every cut-off
            "channel": np.where(np.arange(n) % 50 == 0, "phone", rng.choice(["app", "web"], n)),
        }
    ).assign(
        channel=lambda f: f["channel"].where(
            (f["channel"] != "phone") | (f["timestamp"] > "2024-06-01"), "web"
        )
    )


CUTOFFS = ["2024-05-01", "2024-03-01", "2024-07-01"]


def test_equals_stacking_build_features(tx: pd.DataFrame) -> None:
    X, y = training_table(tx, cutoffs=CUTOFFS, horizon_days=60)
    assert X.index.names == ["as_of", "customer_id"]
    assert list(X.index.get_level_values("as_of").unique()) == sorted(pd.to_datetime(CUTOFFS))
    assert X.index.equals(y.index)
    assert y.name == "churned"
    config = FeatureConfig(channels=("app", "phone", "web"))
    for as_of in CUTOFFS:
        expected = build_features(tx, as_of=as_of, config=config)
        got = X.xs(pd.Timestamp(as_of), level="as_of")
        pd.testing.assert_frame_equal(got, expected)
        labels = churn_labels(tx, as_of=as_of, horizon_days=60)
        pd.testing.assert_series_equal(y.xs(pd.Timestamp(as_of), level="as_of"), labels)


def test_channel_columns_fixed_across_cutoffs(tx: pd.DataFrame) -> None:
    X, _ = training_table(tx, cutoffs=CUTOFFS, horizon_days=60)
    assert "channel_share_phone" in X.columns
    early = X.xs(pd.Timestamp("2024-03-01"), level="as_of")
    assert (early["channel_share_phone"].dropna() == 0).all()
    assert "channel_share_phone" not in build_features(tx, as_of="2024-03-01").columns


def test_censored_last_cutoff(tx: pd.DataFrame) -> None:
    with pytest.raises(LeakageError, match="the last cut-off=2024-10-01"):
        training_table(tx, cutoffs=["2024-03-01", "2024-10-01"], horizon_days=60)


@pytest.mark.parametrize(
    ("cutoffs", "match"),
    [
        ([], "at least one date"),
        ("2024-03-01", "must be a list of dates"),
        (["2024-03-01", "2024-03-01"], r"duplicated dates \['2024-03-01'\]"),
        (["2024-03-01", "soon"], "'cutoffs' parameter must be a date"),
    ],
)
def test_bad_cutoffs(tx: pd.DataFrame, cutoffs: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        training_table(tx, cutoffs=cutoffs, horizon_days=30)  # type: ignore[arg-type]


# the fixture's repeat customers buy about monthly: horizon_days=30 is shorter than their gap
@pytest.mark.filterwarnings("ignore:training_table. horizon_days=30 is shorter")
def test_progress_bar_can_be_forced(tx: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    training_table(tx, cutoffs=CUTOFFS, horizon_days=30, progress=True)
    assert "training_table" in capsys.readouterr().err
    training_table(tx, cutoffs=CUTOFFS, horizon_days=30, progress=False)
    assert capsys.readouterr().err == ""


def test_a_last_cutoff_whose_window_ends_with_the_last_day_of_dated_data() -> None:
    """Dates without times (H&M's t_dat): the last day is covered to its end, so the last cut-off
    may be the day after it minus the horizon, and its labels see that day's purchases."""
    days = pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-10", "2024-04-30", "2024-02-20"])
    dated = pd.DataFrame({"customer_id": [1, 2, 1, 1, 3], "timestamp": days, "amount": 5.0})
    _, y = training_table(dated, cutoffs=["2024-03-01", "2024-04-01"], horizon_days=30)
    assert y.xs(pd.Timestamp("2024-04-01")).to_dict() == {1: 0, 2: 1, 3: 1}
    with pytest.raises(LeakageError, match=r"the last cut-off=2024-04-02.*end of its last day"):
        training_table(dated, cutoffs=["2024-03-01", "2024-04-02"], horizon_days=30)


def test_only_the_cutoffs_where_nobody_churned_are_named() -> None:
    weeks = pd.date_range("2024-01-01", "2024-06-30", freq="7D")
    rows = [(c, w) for c in range(150) for w in weeks if c >= 30 or w < pd.Timestamp("2024-04-01")]
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp"]).assign(amount=5.0)
    with pytest.warns(
        DataQualityWarning,
        match=r"no customer is labelled churned at 2024-02-01 \(150 customers\):",
    ) as caught:
        _, y = training_table(tx, cutoffs=["2024-02-01", "2024-04-01"], horizon_days=60)
    assert len(caught) == 1 and y.xs(pd.Timestamp("2024-04-01")).sum() == 30


@pytest.mark.filterwarnings("ignore::loyalty_ml.exceptions.DataQualityWarning")
def test_text_ids_stack_as_they_did_one_cutoff_at_a_time(tx: pd.DataFrame) -> None:
    """The (as_of, customer_id) index is built once for every cut-off (concatenating one per
    cut-off coded the ids again: 3 of 16 s of CPU at 4 cut-offs over 5.4M lines of 64-character
    ids). The table is the one stacking each cut-off's own gave: rows, values, levels and dtypes,
    with text ids and a cut-off before the first purchase (no rows)."""
    tx = tx.assign(customer_id=tx["customer_id"].map(lambda i: f"c{i:03d}").astype("str"))
    cutoffs = ["2024-05-01", "2023-12-01", "2024-03-01", "2024-07-01"]
    X, y = training_table(tx, cutoffs=cutoffs, horizon_days=60)
    config = FeatureConfig(channels=("app", "phone", "web"))
    frames, labels = [], []
    for as_of in sorted(pd.to_datetime(cutoffs)):
        features = build_features(tx, as_of=as_of, config=config)
        index = pd.MultiIndex.from_arrays(
            [
                pd.DatetimeIndex(np.full(len(features), as_of.value, dtype="datetime64[ns]")),
                features.index,
            ],
            names=["as_of", "customer_id"],
        )
        frames.append(features.set_axis(index, axis=0))
        labels.append(churn_labels(tx, as_of=as_of, horizon_days=60).set_axis(index, axis=0))
    expected_X, expected_y = pd.concat(frames), pd.concat(labels)
    pd.testing.assert_frame_equal(X, expected_X, check_exact=True)
    pd.testing.assert_series_equal(y, expected_y, check_exact=True)
    # the levels too (not their freq, which concatenating inferred for the dates and nothing reads)
    for got, want in zip(X.index.levels, expected_X.index.levels, strict=True):
        assert got.equals(want) and got.dtype == want.dtype and got.name == want.name
    assert X.index.levels[1].dtype == "str"
