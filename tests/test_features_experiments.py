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


def _two_customers() -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-02-03", "2024-03-01"]),
            "amount": [5.0, 8.0, 6.0, 2.0],
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1"],
            "customer_id": [1, 2],
            "offer_id": ["coupon", "control"],
            "sent_at": pd.to_datetime(["2024-02-01", "2024-02-01"]),
        }
    )
    return tx, campaigns


def test_campaign_ids_written_as_text_match_integer_transaction_ids() -> None:
    """Session 42: every row was dropped as 'without history' (and fit then had no rows)."""
    tx, campaigns = _two_customers()
    texts = campaigns.assign(customer_id=campaigns["customer_id"].astype(str))
    X, y, t = experiment_table(tx, texts, window_days=7)
    expected = experiment_table(tx, campaigns, window_days=7)
    assert X.attrs["n_without_history"] == 0
    pd.testing.assert_frame_equal(X, expected[0])
    assert y.tolist() == [1, 0] and t.tolist() == ["coupon", "control"]


def test_history_counts_sends_left_out_of_the_rows() -> None:
    """A send without a control group is not an experiment row, but it happened: the features of
    the later rows count it, as build_features does when the model scores (train_offer_model
    passed the experiments alone, so 653 of 2,888 rows read fewer offers received)."""
    tx, campaigns = _two_customers()
    blast = pd.DataFrame(
        {
            "campaign_id": ["b0"],
            "customer_id": [1],
            "offer_id": ["coupon"],
            "sent_at": pd.to_datetime(["2024-01-10"]),
        }
    )
    history = pd.concat([blast, campaigns], ignore_index=True)
    X, _, _ = experiment_table(tx, campaigns, window_days=7, history=history)
    alone, _, _ = experiment_table(tx, campaigns, window_days=7)
    assert X.loc[0, "offers_received"] == 1.0 and alone.loc[0, "offers_received"] == 0.0
    scored = build_features(tx, as_of="2024-02-01", campaigns=history)
    assert X.loc[0, "offers_received"] == scored.loc[1, "offers_received"]
    assert X.loc[0, "days_since_last_offer"] == scored.loc[1, "days_since_last_offer"]


def test_a_customer_twice_in_one_arm_of_a_campaign_is_refused() -> None:
    """Two rows of the same features with outcomes 1 and 0 weighed the customer double."""
    tx, campaigns = _two_customers()
    twice = pd.concat(
        [campaigns, campaigns.iloc[[0]].assign(sent_at=pd.Timestamp("2024-02-02"))],
        ignore_index=True,
    )
    with pytest.raises(SchemaError, match=r"more than once in one campaign in the same arm"):
        experiment_table(tx, twice, window_days=7)


@pytest.mark.parametrize(
    ("observation_end", "until"),
    [(None, "2024-03-02"), ("2024-02-07", "2024-02-08"), ("2024-02-08 12:00", "2024-02-08 12:00")],
)
def test_the_responses_are_stated_the_end_experiment_table_read(
    observation_end: str | None, until: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """experiment_table forwards where it found the data complete until; campaign_responses reads
    a stated midnight on dates without times as that day observed to its end, so the instant
    itself would claim a day more than experiment_table checked the windows against."""
    import loyalty_ml.features.experiments as experiments
    from loyalty_ml.schema._data_end import stated_end

    tx, campaigns = _two_customers()  # dates without times, the last on 2024-03-01
    stated: list[object] = []

    def spy(*args: object, **kwargs: object) -> pd.Series:
        stated.append(kwargs["observation_end"])
        return campaign_responses(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(experiments, "campaign_responses", spy)
    _, y, _ = experiment_table(tx, campaigns, window_days=7, observation_end=observation_end)
    assert y.tolist() == [1, 0]
    assert stated_end(pd.Timestamp(stated[0]), dates_only=True) == pd.Timestamp(until)


def test_contacts_without_an_offer_are_no_arm_and_are_counted() -> None:
    """nightly_sends records a churn-only policy's trigger contacts as "contact" rows of the
    campaigns history; the policy chose who got them and held nobody out, so they are no arm of
    an experiment: left out of the rows (counted in attrs), the rest as without them."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1, 2, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-02", "2024-01-03", "2024-01-04", "2024-02-03", "2024-03-01", "2024-02-04"]
            ),
            "amount": [5.0, 8.0, 3.0, 6.0, 2.0, 4.0],
        }
    )
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1", "n1:contact:email"],
            "customer_id": [1, 2, 3],
            "offer_id": ["coupon", "control", " contact"],
            "sent_at": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-02-01"]),
        }
    )
    X, y, t = experiment_table(tx, campaigns, window_days=7)
    assert t.tolist() == ["coupon", "control"] and X.attrs["n_contacts"] == 1
    X0, y0, _ = experiment_table(tx, campaigns.iloc[:2], window_days=7)
    pd.testing.assert_frame_equal(X, X0, check_like=True)
    pd.testing.assert_series_equal(y, y0)
    assert X0.attrs["n_contacts"] == 0
