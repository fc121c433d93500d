"""The offer policy, its summary and the fairness audit on inputs as retailers' exports give them:
plans read back from CSV, send histories with day-first dates or ids written another way, catalogs
with numbers as text. Each test is a defect a probe found (session 62); each failed before its fix.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataError, DataQualityWarning, SchemaError

CAPPED = lml.OfferCatalog.from_frame(
    pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [5.0], "max_per_month": [1]})
)
EFFECTS = pd.DataFrame({"d5": [0.2, 0.2]}, index=pd.Index([1, 2], name="customer_id"))
BASELINE = pd.Series([0.1, 0.1], index=EFFECTS.index)


def _plan_with(history: pd.DataFrame) -> list[str]:
    plan = lml.choose_offers(
        EFFECTS,
        CAPPED,
        baseline=BASELINE,
        value_per_conversion=40.0,
        history=history,
        as_of="2024-06-10",
        min_days_between_offers=14,
    )
    return plan["reason"].tolist()


def _sends(customers: list[object], sent_at: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": customers, "offer_id": "d5", "sent_at": sent_at})


def test_day_first_send_dates_are_read_as_validate_campaigns_reads_them() -> None:
    # pandas alone read 03/06/2024 as 6 March: the customer sent an offer on 3 June (a week
    # before as_of) was offered again, through a 14-day cool-down
    day_first = _sends([1, 2], ["03/06/2024", "13/05/2024"])  # 13/05 can only be day-first
    assert _plan_with(day_first) == ["contacted recently", "cheapest effective"]
    with pytest.warns(DataQualityWarning, match="ambiguous .* read month-first"):
        _plan_with(_sends([1, 2], ["03/06/2024", "03/06/2024"]))


def test_a_history_whose_ids_meet_no_customer_warns() -> None:
    # "C0001" against 1: the caps and the cool-down switched off without a word
    with pytest.warns(DataQualityWarning, match=r"went to none of effects' customers.*'C0001'"):
        reasons = _plan_with(_sends(["C0001", "C0002"], pd.to_datetime(["2024-06-03"] * 2)))
    assert reasons == ["cheapest effective", "cheapest effective"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # one customer met: the rules work, quietly
        assert _plan_with(_sends([1, 7], pd.to_datetime(["2024-06-03"] * 2)))[0] == (
            "contacted recently"
        )
        # sends too old for the rules to read: nothing is lost, nothing said
        _plan_with(_sends(["C0001"], pd.to_datetime(["2023-01-03"])))
        # ids written alike that do not meet (a plan for one segment, a policy's risk band)
        assert _plan_with(_sends([7, 8], pd.to_datetime(["2024-06-03"] * 2))) == (
            ["cheapest effective"] * 2
        )
    with pytest.warns(DataQualityWarning, match=r"write ids differently.*'0001'"):
        _plan_with(_sends(["0001", "0002"], pd.to_datetime(["2024-06-03"] * 2)))


def test_effects_rows_without_a_customer_id_are_refused() -> None:
    # the id-less row took the only affordable offer, and the customer got "budget exhausted"
    catalog = lml.OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [5.0]})
    )
    effects = pd.DataFrame({"d5": [0.2, 0.2]}, index=pd.Index([1.0, np.nan], name="customer_id"))
    with pytest.raises(DataError, match=r"1 rows without a customer id \(rows \[1\] by position"):
        lml.choose_offers(
            effects,
            catalog,
            baseline=pd.Series([0.1, 0.1], index=effects.index),
            value_per_conversion=40.0,
            budget=5.0,
        )


def _plan_as_csv_reads_it() -> pd.DataFrame:
    """A plan of two offers and one customer without, every cell text as read_csv(dtype=str)."""
    return pd.DataFrame(
        {
            "offer_id": ["d5", "d5", ""],
            "expected_uplift": ["0.1", "0.2", "0"],
            "expected_cost": ["1.5", "2.5", "0"],
            "expected_net_value": ["3", "4", "0"],
            "reason": ["cheapest effective", "cheapest effective", "no effective offer"],
            "in_holdout": ["False", "False", "True"],
        },
        index=pd.Index(["1", "2", "3"], name="customer_id"),
    )


def test_summarize_plan_reads_a_plan_written_to_csv() -> None:
    # the totals were text concatenated ('1.52.5') and the blank offer id an offer named ''
    summary = lml.summarize_plan(_plan_as_csv_reads_it())
    assert summary.to_dict() == pytest.approx(
        {
            "plan_customers_d5": 2.0,
            "plan_customers_total": 2.0,
            "plan_total_cost": 4.0,
            "plan_total_net_value": 7.0,
            "plan_total_uplift": 0.3,
        }
    )
    with pytest.raises(SchemaError, match=r"plan.expected_cost has values that are not numbers"):
        lml.summarize_plan(_plan_as_csv_reads_it().assign(expected_cost=["1.5", "n/a", "0"]))


def test_fairness_report_reads_in_holdout_written_as_text() -> None:
    # a bare TypeError from pandas' BooleanArray before
    plan = _plan_as_csv_reads_it()
    sensitive = pd.DataFrame({"gender": ["F", "M", "M"]}, index=plan.index)
    flags = plan.assign(in_holdout=[False, False, True])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # three customers: not judged
        as_text = lml.fairness_report(sensitive, offers=plan)
        as_flags = lml.fairness_report(sensitive, offers=flags)
    pd.testing.assert_frame_equal(as_text.by_group, as_flags.by_group)
    assert as_text.by_group["n_contactable"].sum() == 2  # the held-out customer is not
    with pytest.raises(SchemaError, match=r"offers\.in_holdout must be boolean"):
        lml.fairness_report(sensitive, offers=plan.assign(in_holdout=["no", "no", "maybe"]))


def test_catalog_reads_numbers_as_text_and_keeps_labels_as_written() -> None:
    def offer(**columns: list[object]) -> lml.Offer:
        frame = pd.DataFrame({"offer_id": ["pts"], "cost_per_redemption": [4.0], **columns})
        return lml.OfferCatalog.from_frame(frame)["pts"]

    assert offer(kind=["points"], breakage=["0.2"]).breakage == 0.2
    with pytest.raises(SchemaError, match=r"offers.breakage has values that are not numbers"):
        offer(kind=["points"], breakage=["twenty"])  # a bare ValueError from float() before
    # a row of numbers went through iterrows as floats: channel 1 read "1.0"
    labelled = offer(channel=[1], name=[2024], max_per_month=[2])
    assert (labelled.channel, labelled.name, labelled.max_per_month) == ("1", "2024", 2)
