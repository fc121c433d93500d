"""A night's sends appended twice to the campaign history (a retried feedback step).

``validate_campaigns`` keeps each exact repeat once with a warning; ``build_features`` and the jobs
take campaign tables that were not validated, and counted each repeat as another send: offers
received doubled and redemption rates halved, with no warning.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.schema import columns as C
from loyalty_ml.schema.tables import drop_repeated_sends
from loyalty_ml.tracking._inputs import check_job_tables


@pytest.fixture(scope="module")
def shop() -> lml.datasets.LoyaltyData:
    return lml.datasets.simulate(n_customers=400, start="2023-01-01", end="2023-12-31", seed=3)


def _sends(shop: lml.datasets.LoyaltyData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The history, and the history with its last campaign appended a second time."""
    history = shop.campaigns
    last = history.loc[history[C.CAMPAIGN_ID] == history[C.CAMPAIGN_ID].iloc[-1]]
    assert last[C.OFFER_ID].ne(C.CONTROL).sum() > 10
    return history, pd.concat([history, last], ignore_index=True)


def test_build_features_counts_a_send_appended_twice_once(
    shop: lml.datasets.LoyaltyData,
) -> None:
    tx = lml.validate_transactions(shop.transactions)
    once, twice = _sends(shop)
    expected = lml.build_features(tx, as_of="2023-12-01", campaigns=once)
    with pytest.warns(DataQualityWarning, match=r"rows repeat another row exactly \(campaigns"):
        doubled = lml.build_features(tx, as_of="2023-12-01", campaigns=twice)
    pd.testing.assert_frame_equal(doubled, expected)


def test_the_jobs_drop_the_repeats_once_before_every_step(
    shop: lml.datasets.LoyaltyData,
) -> None:
    tx = lml.validate_transactions(shop.transactions)
    once, twice = _sends(shop)
    with pytest.warns(DataQualityWarning, match="rows repeat another row exactly") as caught:
        _, campaigns = check_job_tables(tx, None, twice, caller="score_customers")
    assert len([w for w in caught if "repeat another row" in str(w.message)]) == 1
    assert campaigns is not None
    pd.testing.assert_frame_equal(campaigns.reset_index(drop=True), once.reset_index(drop=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # read once: no second warning
        lml.build_features(tx, as_of="2023-12-01", campaigns=campaigns)


def test_rows_that_differ_in_any_column_are_not_repeats() -> None:
    sends = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 1, 2],
            C.OFFER_ID: ["a", "b", "a"],  # one customer, two offers at one time: two sends
            C.SENT_AT: pd.to_datetime(["2024-01-01"] * 3),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        assert drop_repeated_sends(sends) is sends
    without_campaign = pd.concat([sends, sends.iloc[[2]]], ignore_index=True)
    with pytest.warns(DataQualityWarning, match=r"1 rows repeat .*\(sent at"):
        assert drop_repeated_sends(without_campaign).index.tolist() == [0, 1, 2]


def test_a_table_indexed_by_customer_id_is_not_read_as_repeats() -> None:
    """Review: the sends of three customers, indexed by customer_id, sent one offer at one time,
    were read as one send repeated (2 rows dropped) before the index was refused with its fix."""
    sends = pd.DataFrame(
        {C.OFFER_ID: "a", C.SENT_AT: pd.to_datetime(["2024-01-01"] * 3)},
        index=pd.Index([1, 2, 3], name=C.CUSTOMER_ID),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        assert drop_repeated_sends(sends) is sends
