"""What the nightly decisions tell the CRM team to do, night after night.

A month of nights on the simulator (3,000 customers, the sends fed back: see the session-58 report)
kept every offer rule: nobody was offered twice within 30 days, the holdout was never offered, a
withdrawn marketing consent was honoured the next night. But the rows told the team to contact the
customers the contact rule rests: 14,580 rows in 35 nights said ``offer_reason="contacted
recently"`` with ``channel`` email, push, SMS or a manager's call (727 customers, 20 nights each
at the median; 139 of them an SMS or a call on 19 nights). ``channel`` is the trigger's contact
channel, and ``"none"`` is how a row says "do not contact" (consent withdrawn): a rested customer
now says it too, and why, and so does the holdout the nights after its offer was withheld (1,657
of its 1,772 rows named a contact although no offer was withheld: the control group would have
heard from the programme more than the customers offered). With both, 1,354 rows of the 35
nights name a contact (17,565 before), 1,017 of them with an offer; the offers are the same.

Session 59, the same loop (seed 1 of the simulator, 35 nights from 2024-11-01): 1,562 rows said
"no effective offer" and still named a channel (119 customers on more than one night, some on all
35), a contact the programme records nowhere, so the contact rule never rested it; and 1,852 rows
said ``offer_reason="holdout"`` where 105 offers were withheld. Now no row without an offer names
a contact (1,031 rows name one, 926 with the night's offer, 105 with a withheld one), "holdout"
is the 105, and the offers are the same.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING
from policy_fixtures import hand_made_features, hand_made_policy

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.tracking.policy import LoyaltyPolicy
from loyalty_ml.tracking.sends import nightly_sends


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return hand_made_features()


@pytest.fixture(scope="module")
def everyone(features: pd.DataFrame) -> LoyaltyPolicy:
    """Every customer triggered (risk thresholds of 0), the default 30-day contact rule."""
    policy = hand_made_policy(features, min_days_between_offers=30)
    return dataclasses.replace(policy, high_risk_threshold=0.0, medium_risk_threshold=0.0)


def _second_night(everyone: LoyaltyPolicy, features: pd.DataFrame) -> pd.DataFrame:
    # the first 20 customers buy for the first time on the first night: offered on the second
    first = everyone.decide(features.iloc[20:], reasons="none")
    history = nightly_sends(first, sent_at="2024-11-05 09:00")
    # one customer was kept in another campaign's control group last week instead
    kept = first.index[first["offer_id"].notna()][:1]
    history = history.loc[~history["customer_id"].isin(kept)]
    control = pd.DataFrame(
        {
            "campaign_id": "spring",
            "customer_id": kept,
            "offer_id": "control",
            "sent_at": pd.Timestamp("2024-10-30 09:00"),
        }
    )
    history = pd.concat([history, control], ignore_index=True)
    return everyone.decide(features, reasons="none", history=history, as_of="2024-11-06")


def test_a_customer_the_contact_rule_rests_is_not_told_to_be_contacted(
    everyone: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    second = _second_night(everyone, features)
    for reason in ("contacted recently", "in a recent control group"):
        rested = second["offer_reason"] == reason
        assert rested.any(), reason
        assert (second.loc[rested, "channel"] == "none").all(), reason
        assert second.loc[rested, "rule"].str.endswith(f"; {reason}: no contact").all()
        # the action still says what the customer's risk calls for, as without consent
        assert (second.loc[rested, "action"] == "retention_offer").all()
    # customers made an offer tonight keep the trigger's channel
    offered = second["offer_id"].notna()
    assert offered.any()
    assert (second.loc[offered, "channel"] == "email").all()
    assert not second.loc[offered, "rule"].str.contains("no contact").any()


def test_the_holdout_rests_from_contact_as_the_offered_do(
    everyone: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    # the night after its offer was withheld, a customer of the holdout is planned as resting (its
    # control row reads as a send); told to be contacted while the offered rest, the control group
    # would be the one customers heard from (1,657 of 1,772 holdout rows in the 35 nights)
    first = everyone.decide(features, reasons="none")
    history = nightly_sends(first, sent_at="2024-11-05 09:00")
    second = everyone.decide(features, reasons="none", history=history, as_of="2024-11-06")
    withheld = first["holdout_offer_id"].notna()
    assert withheld.sum() > 40
    # nothing is withheld from them tonight: they were kept in a control group, and rest
    assert second.loc[withheld, "holdout_offer_id"].isna().all()
    assert (second.loc[withheld, "offer_reason"] == "in a recent control group").all()
    assert (second.loc[withheld, "channel"] == "none").all()
    assert (
        second.loc[withheld, "rule"].str.endswith("; in a recent control group: no contact").all()
    )
    # on the night an offer is withheld, the holdout is contacted as the offered are
    assert (first.loc[withheld, "channel"] == "email").all()


def test_a_customer_without_an_offer_is_not_told_to_be_contacted(
    everyone: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    # a contact the programme records is an offer's send (nightly_sends): one named without an
    # offer is recorded nowhere, so the contact rule never rests it and the same customer is told
    # to be contacted night after night (35 simulated nights, seed 1: 1,562 "no effective offer"
    # rows named a channel, 119 customers on more than one night, some on all 35)
    worthless = dataclasses.replace(everyone, value_per_conversion=0.5)
    first = worthless.decide(features, reasons="none")
    nothing = first["offer_reason"] == "no effective offer"
    assert nothing.sum() > 200
    assert (first.loc[nothing, "channel"] == "none").all()
    assert first.loc[nothing, "rule"].str.endswith("; no effective offer: no contact").all()
    assert (first.loc[nothing, "action"] == "retention_offer").all()
    # nor is a customer of the holdout from whom nothing was withheld (reason: what he would
    # have had)
    held = worthless.holdout_mask(first.index)
    assert held.sum() > 40 and first.loc[held, "holdout_offer_id"].isna().all()
    assert (first.loc[held, "offer_reason"] == "no effective offer").all()
    assert (first.loc[held, "channel"] == "none").all()
    # nothing was sent, so the next night reads the same: no contact named on any night
    history = nightly_sends(first, sent_at="2024-11-05 09:00")
    assert history.empty
    # the customers offered keep the trigger's channel (test above); a withheld offer too
    second = everyone.decide(features, reasons="none")
    withheld = second["holdout_offer_id"].notna()
    assert (second.loc[withheld, "channel"] == "email").all()


def test_a_policy_without_an_offer_model_records_its_contacts_and_rests_them(
    everyone: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    # a churn-only model names the trigger's channel: nothing recorded it, so nothing rested it
    # (35 simulated nights, seed 1: 757 customers told on more than one night, up to all 35;
    # 15,902 contacts within 30 days of the same customer's previous one)
    churn_only = dataclasses.replace(everyone, uplift_model=None, catalog=None)
    consent = pd.Series(True, index=features.index)
    consent.iloc[:10] = False
    first = churn_only.decide(features, reasons="none", consent_marketing=consent)
    contacted = first["channel"] != "none"
    assert contacted.sum() == len(features) - 10
    assert (first["offer_reason"] == "no offer model").all()
    sends = nightly_sends(first, sent_at="2024-11-05 09:00")
    # one "contact" row per customer told to be contacted, in a campaign of its channel
    assert sorted(sends["customer_id"]) == sorted(first.index[contacted])
    assert (sends["offer_id"] == "contact").all()
    assert (sends["campaign_id"] == "nightly-2024-11-05:contact:email").all()
    assert sends["policy_offer_id"].isna().all()
    # one customer was kept in a campaign's control group last week instead
    kept = first.index[contacted][:1]
    history = pd.concat(
        [
            sends.loc[~sends["customer_id"].isin(kept)],
            pd.DataFrame(
                {
                    "campaign_id": "spring",
                    "customer_id": kept,
                    "offer_id": "control",
                    "sent_at": pd.Timestamp("2024-10-30 09:00"),
                }
            ),
        ],
        ignore_index=True,
    )
    second = churn_only.decide(
        features, reasons="none", consent_marketing=consent, history=history, as_of="2024-11-06"
    )
    assert (second["channel"] == "none").all()
    reasons = second["offer_reason"].value_counts().to_dict()
    assert reasons == {
        "contacted recently": len(features) - 11,
        "in a recent control group": 1,
        "no offer model": 10,  # no consent: never contacted, nothing to rest
    }
    rested = second["offer_reason"] == "contacted recently"
    assert second.loc[rested, "rule"].str.endswith("; contacted recently: no contact").all()
    assert (second.loc[rested, "action"] == "retention_offer").all()
    assert nightly_sends(second, sent_at="2024-11-06 09:00").empty
    # the rest ends with the rule's 30 days
    later = churn_only.decide(
        features, reasons="none", consent_marketing=consent, history=history, as_of="2024-12-06"
    )
    assert (later["channel"] != "none").sum() == len(features) - 10


def test_holdout_says_an_offer_was_withheld_and_nothing_else(
    everyone: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    # offer_reason="holdout" (and n_reason_holdout) counted every triggered, consenting customer of
    # the holdout: 1,852 rows over 35 simulated nights (seed 1) where 105 offers were withheld
    second = _second_night(everyone, features)
    member = everyone.holdout_mask(second.index)
    withheld = second["holdout_offer_id"].notna()
    assert withheld.any() and (member & ~withheld).sum() > 40
    assert ((second["offer_reason"] == "holdout") == withheld).all()
    # a member who would have got nothing keeps the reason he would have had: those withheld an
    # offer last night rest in its control group (no effective offer: the test above)
    assert set(second.loc[member & ~withheld, "offer_reason"]) == {"in a recent control group"}
    assert second.loc[member, "offer_id"].isna().all()


@pytest.fixture(scope="module")
def churn_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A small churn-only model registered in a temporary embedded store, and its data."""
    from loyalty_ml.datasets import simulate
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("doubled")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        train_and_register(
            data.transactions,
            as_of="2024-12-01",
            customers=data.customers.drop(columns=["age_band", "gender", "income_band"]),
            tracking_uri=uri,
            churn_params={"n_estimators": 30, "early_stopping_rounds": 10},
        )
        yield uri, data


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
@pytest.mark.filterwarnings("ignore::loyalty_ml.tracking.drift.DriftWarning")
@pytest.mark.filterwarnings("ignore:features.tier holds levels the model never saw")
def test_a_day_appended_twice_after_validation_is_warned_about(
    churn_only: tuple[str, Any],
) -> None:
    # a validated history and each night's validated extract, appended; yesterday's appended
    # twice (the job retried): validation judged each piece alone, and validating the whole
    # table again keeps rows whose labels differ, so nothing dropped them
    uri, data = churn_only
    tx = lml.validate_transactions(data.transactions)
    tx = tx.loc[tx["timestamp"] < "2024-12-15"]
    day = tx.loc[tx["timestamp"] >= "2024-12-14"]
    assert len(day) >= 2
    doubled = pd.concat([tx, day], ignore_index=True)
    assert len(lml.validate_transactions(doubled)) == len(doubled)
    score = {
        "as_of": "2024-12-15",
        "customers": data.customers,
        "tracking_uri": uri,
        "log_run": False,
    }
    with pytest.warns(DataQualityWarning, match=r"2024-12-14.*repeat.*drop_duplicates") as seen:
        lml.score_customers(doubled, **score)
    message = str(next(w.message for w in seen if "repeat" in str(w.message)))
    assert f"{len(day)} transaction line(s) of 2024-12-14" in message
    with warnings.catch_warnings(record=True) as clean:
        warnings.simplefilter("always")
        lml.score_customers(tx, **score)
    assert not [w for w in clean if "repeat" in str(w.message)]
    # a table validated to keep its exact duplicates (units of one line) is left alone
    kept = lml.validate_transactions(doubled, drop_duplicates=False)
    with warnings.catch_warnings(record=True) as units:
        warnings.simplefilter("always")
        lml.score_customers(kept, **score)
    assert not [w for w in units if "repeat" in str(w.message)]
