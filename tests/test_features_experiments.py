"""experiment_table: uplift training rows from a campaign history, point in time."""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty_ml.datasets import simulate
from loyalty_ml.exceptions import ConfigError, LeakageError, SchemaError
from loyalty_ml.features import build_features, experiment_table
from loyalty_ml.features.responses import campaign_responses
from loyalty_ml.schema import columns as C


@pytest.fixture(scope="module")
def data():
    return simulate(n_customers=1500, start="2023-01-01", end="2024-06-30", seed=5)


def test_rows_are_the_features_at_each_send_date(data) -> None:
    X, y, t = experiment_table(data.transactions, data.campaigns, window_days=30)
    campaigns = data.campaigns
    # the same thing, written out campaign by campaign with the public building blocks
    for _, rows in campaigns.groupby(C.CAMPAIGN_ID):
        sent = rows[C.SENT_AT].min()
        expected = build_features(data.transactions, as_of=sent, campaigns=campaigns)
        mine = rows.loc[rows.index.isin(X.index)]
        assert len(mine) == rows[C.CUSTOMER_ID].isin(expected.index).sum()
        got = X.loc[mine.index, list(expected.columns)]
        want = expected.loc[mine[C.CUSTOMER_ID]].set_axis(mine.index)
        pd.testing.assert_frame_equal(got, want)
    kept = campaigns.loc[X.index]
    pd.testing.assert_series_equal(
        y, campaign_responses(kept, data.transactions, window_days=30), check_names=False
    )
    assert (t == kept[C.OFFER_ID].astype("str")).all()
    assert X.attrs["n_without_history"] == len(campaigns) - len(X)


def test_customers_without_history_are_left_out_and_counted(data) -> None:
    stranger = data.campaigns.head(1).assign(customer_id=10**9)
    campaigns = pd.concat([data.campaigns, stranger], ignore_index=True)
    X, y, t = experiment_table(data.transactions, campaigns, window_days=30)
    assert X.attrs["n_without_history"] == 1
    assert campaigns.index[-1] not in X.index
    assert X.index.equals(y.index) and X.index.equals(t.index)


def test_later_transactions_never_change_the_features(data) -> None:
    tx = data.transactions
    X, _, _ = experiment_table(tx, data.campaigns, window_days=30)
    extra = tx.sample(n=500, random_state=0).assign(
        timestamp=pd.Timestamp("2024-06-29"), amount=99.0
    )
    X2, _, _ = experiment_table(pd.concat([tx, extra]), data.campaigns, window_days=30)
    early = data.campaigns.loc[X.index, C.SENT_AT] < pd.Timestamp("2024-06-29")
    pd.testing.assert_frame_equal(X.loc[early], X2.loc[early.index[early]])


def test_open_response_windows_are_refused(data) -> None:
    with pytest.raises(LeakageError, match=r"ends after the data .* observation_end="):
        experiment_table(data.transactions, data.campaigns, window_days=400)
    late = pd.Timestamp("2026-01-01")
    X, _, _ = experiment_table(
        data.transactions, data.campaigns, window_days=400, observation_end=late
    )
    assert len(X) > 0


def test_bad_inputs(data) -> None:
    with pytest.raises(SchemaError, match=r"missing required column\(s\) \['offer_id'\]"):
        experiment_table(data.transactions, data.campaigns.drop(columns=C.OFFER_ID), window_days=30)
    doubled = pd.concat([data.campaigns.head(3), data.campaigns.head(3)])
    with pytest.raises(SchemaError, match="repeated index"):
        experiment_table(data.transactions, doubled, window_days=30)
    with pytest.raises(ConfigError, match="'window_days' parameter of experiment_table"):
        experiment_table(data.transactions, data.campaigns, window_days=0)
    no_date = data.campaigns.assign(sent_at=pd.NaT)
    with pytest.raises(SchemaError, match="sent_at is missing at rows"):
        experiment_table(data.transactions, no_date, window_days=30)
