"""The holdout as an experiment: ``holdout_offer_id``, ``nightly_sends`` and the rest rule for
control rows.

A hand-made policy (one offer, ``d5``, with a 10% holdout by a hash of the id) on 400 customers:
the holdout's would-be offer is what the same rules give it; the night's campaign rows hold the
sends and those withheld, per offer, and pass ``validate_campaigns``; a customer kept in a control
group rests as one sent an offer does.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from policy_fixtures import hand_made_features, hand_made_policy

import loyalty_ml as lml
from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import REASONS, choose_offers
from loyalty_ml.tracking.policy import LoyaltyPolicy
from loyalty_ml.tracking.sends import nightly_sends


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return hand_made_features()


@pytest.fixture(scope="module")
def policy(features: pd.DataFrame) -> LoyaltyPolicy:
    return hand_made_policy(features, min_days_between_offers=30)


def _offer_everyone(policy: LoyaltyPolicy) -> LoyaltyPolicy:
    """The same policy with a risk threshold of 0: every customer is triggered."""
    return dataclasses.replace(policy, high_risk_threshold=0.0, medium_risk_threshold=0.0)


def test_the_holdout_is_told_the_offer_the_same_rules_would_make(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    everyone = _offer_everyone(policy)
    out = everyone.decide(features, reasons="none")
    held = out["offer_reason"] == "holdout"
    assert 40 < held.sum() < 120  # about 20% of 400
    assert out.loc[held, "offer_id"].isna().all()
    assert (out.loc[held, ["expected_cost", "expected_net_value"]] == 0).all().all()
    assert out.loc[~held, "holdout_offer_id"].isna().all()
    # without a holdout, the same customers get exactly the offer they were told they would
    nobody_held = dataclasses.replace(everyone, holdout_fraction=0.0).decide(
        features, reasons="none"
    )
    pd.testing.assert_series_equal(
        out.loc[held, "holdout_offer_id"],
        nobody_held.loc[held, "offer_id"],
        check_names=False,
    )
    assert out.loc[held, "holdout_offer_id"].notna().any()
    # and the offered customers' decisions do not change with the holdout's being planned
    pd.testing.assert_frame_equal(
        out.loc[~held, ["offer_id", "expected_cost", "expected_net_value", "offer_reason"]],
        nobody_held.loc[~held, ["offer_id", "expected_cost", "expected_net_value", "offer_reason"]],
    )


def test_under_a_budget_the_holdout_is_planned_with_its_share(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    everyone = _offer_everyone(policy)
    free = everyone.decide(features, reasons="none")
    budget = float(free["expected_cost"].sum()) / 4
    capped = everyone.decide(features, reasons="none", budget=budget)
    # the holdout's triggered customers ("holdout" says only those an offer was withheld from)
    held = everyone.holdout_mask(capped.index) & capped["offer_reason"].ne("no trigger fired")
    assert (capped["offer_reason"].eq("holdout") == capped["holdout_offer_id"].notna()).all()
    sent = capped["offer_id"].notna()
    # the budget is spent on the offered customers only; the holdout's plan is a record
    assert float(capped.loc[sent, "expected_cost"].sum()) <= budget + 1e-9
    share_sent = sent.sum() / (~held & capped["offer_reason"].ne("no trigger fired")).sum()
    share_held = capped.loc[held, "holdout_offer_id"].notna().mean()
    assert share_held < free.loc[held, "holdout_offer_id"].notna().mean()
    assert abs(share_sent - share_held) < 0.25, (share_sent, share_held)


def test_nightly_sends_are_campaign_rows_per_offer(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    out = _offer_everyone(policy).decide(features, reasons="none")
    rows = nightly_sends(out, sent_at="2024-11-05 09:00")
    sent = out["offer_id"].dropna()
    withheld = out["holdout_offer_id"].dropna()
    assert len(rows) == len(sent) + len(withheld)
    treated = rows.loc[rows["offer_id"] != "control"].set_index("customer_id")
    assert treated["offer_id"].to_dict() == sent.to_dict()
    control = rows.loc[rows["offer_id"] == "control"].set_index("customer_id")
    assert set(control.index) == set(withheld.index)
    # each offer's sends and its withheld customers share one campaign
    expected = pd.concat([sent, withheld]).map(lambda o: f"nightly-2024-11-05:{o}")
    got = rows.set_index("customer_id")["campaign_id"]
    assert got.to_dict() == expected.to_dict()
    assert (rows["sent_at"] == pd.Timestamp("2024-11-05 09:00")).all()
    policy_offer = rows.set_index("customer_id")["policy_offer_id"]
    assert policy_offer.to_dict() == pd.concat([sent, withheld]).to_dict()
    assert not rows["redeemed"].any() and rows["redeemed_at"].isna().all()
    # the campaigns contract accepts them as they are, and so does measure_campaign's grouping
    valid = lml.validate_campaigns(rows)
    assert len(valid) == len(rows)
    arms = valid.groupby(["campaign_id", "offer_id"]).size()
    assert {"control", "d5"} <= set(arms.index.get_level_values("offer_id"))
    # ids as a column (the registered model's answer) give the same rows
    again = nightly_sends(out.reset_index(), sent_at="2024-11-05 09:00")
    pd.testing.assert_frame_equal(again, rows)
    named = nightly_sends(out, sent_at="2024-11-05 09:00", campaign_id="winback")
    assert named["campaign_id"].str.startswith("winback:").all()


def test_nightly_sends_refuses_what_it_cannot_read(features: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="must be a DataFrame"):
        nightly_sends([1, 2], sent_at="2024-11-05")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="customer ids"):
        nightly_sends(pd.DataFrame({"offer_id": ["d5"]}), sent_at="2024-11-05")
    with pytest.raises(SchemaError, match="lack the column 'offer_id'"):
        nightly_sends(features, sent_at="2024-11-05")
    decisions = pd.DataFrame({"offer_id": ["d5", None]}, index=pd.Index([1, 2], name="customer_id"))
    with pytest.raises(ConfigError, match="'campaign_id' parameter"):
        nightly_sends(decisions, sent_at="2024-11-05", campaign_id=" ")
    with pytest.raises(ConfigError):
        nightly_sends(decisions, sent_at="not a date")
    # decisions without holdout_offer_id (an older policy): the sends only
    assert nightly_sends(decisions, sent_at="2024-11-05")["offer_id"].tolist() == ["d5"]


def test_a_customer_kept_in_a_control_group_rests_like_one_sent_an_offer() -> None:
    index = pd.Index([1, 2, 3, 4], name="customer_id")
    effects = pd.DataFrame({"d5": [0.3, 0.3, 0.3, 0.3]}, index=index)
    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [1.0]})
    )
    history = pd.DataFrame(
        {
            "customer_id": [1, 2, 2, 3],
            "offer_id": ["d5", "control", "d5", "control"],
            "sent_at": pd.to_datetime(["2024-06-01", "2024-06-02", "2024-06-03", "2024-04-01"]),
        }
    )
    plan = choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.1, index=index),
        value_per_conversion=50.0,
        history=history,
        as_of="2024-06-15",
        min_days_between_offers=30,
    )
    assert plan["reason"].tolist() == [
        "contacted recently",
        "contacted recently",  # a send counts first
        "cheapest effective",  # its control row is older than 30 days
        "cheapest effective",
    ]
    controlled = choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.1, index=index),
        value_per_conversion=50.0,
        history=history.assign(sent_at=pd.to_datetime(["2024-06-01"] * 3 + ["2024-06-10"])),
        as_of="2024-06-15",
        min_days_between_offers=30,
    )
    assert controlled.loc[3, "reason"] == "in a recent control group"
    assert pd.isna(controlled.loc[3, "offer_id"])
    assert REASONS.index("in a recent control group") == REASONS.index("contacted recently") + 1


def test_the_night_after_the_holdout_rests_as_the_offered_do(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    everyone = _offer_everyone(policy)
    first = everyone.decide(features, reasons="none")
    history = nightly_sends(first, sent_at="2024-11-05 09:00")
    second = everyone.decide(features, reasons="none", history=history, as_of="2024-11-06")
    sent = first["offer_id"].notna()
    withheld = first["holdout_offer_id"].notna()
    assert (second.loc[sent, "offer_reason"] == "contacted recently").all()
    assert second.loc[withheld, "holdout_offer_id"].isna().all()
    assert (
        second["offer_id"].notna().sum()
        == (first["offer_reason"].ne("holdout") & ~sent & second["offer_id"].notna()).sum()
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_month_of_nights_is_recorded_measured_and_learned_from(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly loop of the README: score, send, append; then measure each night's offers
    against their withheld customers, and train again on a history that holds the nights."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.kpis import measure_campaign
    from loyalty_ml.tracking.drift import DriftWarning
    from loyalty_ml.tracking.scoring import score_customers
    from loyalty_ml.tracking.train import train_and_register

    monkeypatch.chdir(tmp_path)  # the embedded store writes its artifacts in the working folder
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    data = lml.datasets.simulate(n_customers=800, start="2023-01-01", end="2024-12-31", seed=4)
    campaigns = lml.validate_campaigns(data.campaigns, offers=data.offers)
    tx = data.transactions
    fast = {
        "churn_params": {"n_estimators": 20, "early_stopping_rounds": 5},
        "uplift_params": {"n_estimators": 7, "learning_rate": 0.1},
    }
    cutoff = pd.Timestamp("2024-09-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        trained = train_and_register(
            tx.loc[tx["timestamp"] < cutoff],
            as_of=cutoff,
            customers=data.customers,
            campaigns=campaigns.loc[campaigns["sent_at"] < cutoff],
            offers=data.offers,
            tracking_uri=uri,
            **fast,
        )
    history = campaigns.loc[campaigns["sent_at"] < cutoff]
    nights = pd.date_range("2024-09-02", periods=10, freq="3D")
    for night in nights:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DriftWarning)  # 800 customers: PSI is noisy
            warnings.simplefilter("ignore", DataQualityWarning)
            out = score_customers(
                tx.loc[tx["timestamp"] < night],
                as_of=night,
                customers=data.customers,
                campaigns=history,
                model_uri=trained.model_uri,
                tracking_uri=uri,
                log_run=False,
            )
        history = pd.concat(
            [history, nightly_sends(out, sent_at=night + pd.Timedelta(hours=9))],
            ignore_index=True,
        )
    fed = history.loc[history["campaign_id"].str.startswith("nightly-")]
    treated = fed["offer_id"] != "control"
    assert treated.sum() > 50 and (~treated).sum() > 5, fed["offer_id"].value_counts()
    # nobody, offered or withheld, is in two nights within the 30-day rest
    for _, rows in fed.groupby("customer_id"):
        gaps = rows["sent_at"].sort_values().diff().dropna()
        assert (gaps >= pd.Timedelta(days=30)).all()
    # each offer against the customers it was withheld from, pooled over the nights
    valid = lml.validate_campaigns(history, offers=data.offers)
    withheld = sorted(set(fed.loc[~treated, "policy_offer_id"]))
    nightly = valid.loc[valid["policy_offer_id"].isin(withheld)]
    measured = measure_campaign(
        nightly, tx, data.offers, window_days=30, by=["policy_offer_id", "offer_id"]
    )
    assert measured.index.get_level_values("offer_id").tolist() == withheld
    sent = fed.loc[treated, "policy_offer_id"].value_counts()
    assert measured["n_treated"].tolist() == [sent[o] for o in withheld]
    assert measured["uplift"].notna().all()
    # a later training reads the nights as campaigns with a control group
    later = pd.Timestamp("2024-11-15")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        again = train_and_register(
            tx.loc[tx["timestamp"] < later],
            as_of=later,
            customers=data.customers,
            campaigns=valid,
            offers=data.offers,
            tracking_uri=uri,
            **fast,
        )
    assert again.policy.uplift_model is not None


def test_the_sends_survive_a_csv_round_trip(
    policy: LoyaltyPolicy, features: pd.DataFrame, tmp_path: pytest.TempPathFactory
) -> None:
    """A night written to CSV and read back (the command line's --sends) validates as it was:
    the empty redeemed_at column comes back as float NaN, which is missing dates, not numbers."""
    rows = nightly_sends(_offer_everyone(policy).decide(features), sent_at="2024-11-05 09:00")
    path = f"{tmp_path}/sends.csv"
    rows.to_csv(path, index=False)
    read = pd.read_csv(path)
    assert read["redeemed_at"].dtype == "float64"
    back = lml.validate_campaigns(read)
    assert back["redeemed_at"].isna().all() and not back["redeemed"].any()
    assert len(back) == len(rows)
    # a numeric column with values is still refused: those would be epoch numbers
    with pytest.raises(SchemaError, match="redeemed_at is numeric"):
        lml.validate_campaigns(read.assign(redeemed_at=1.7e9))


def test_the_uplift_backtest_pools_recent_small_campaigns_only() -> None:
    """train_and_register's offer backtest holds out the latest campaign; nightly campaigns (a few
    dozen rows each) are pooled with those started within the response window, up to 200 rows;
    campaigns further apart, or a latest campaign big enough, stand alone."""
    from loyalty_ml.tracking._offers import _backtest_rows

    day = np.timedelta64(1, "D")
    t0 = np.datetime64("2024-01-01")
    # campaigns 0..2 monthly (300 rows), then nights 3..12 of 40 rows, every 3 days
    sizes = [300, 300, 300, *[40] * 10]
    firsts = [t0, t0 + 30 * day, t0 + 60 * day, *[t0 + (90 + 3 * k) * day for k in range(10)]]
    key = np.repeat(np.arange(len(sizes)), sizes)
    start = np.repeat(np.array(firsts, dtype="datetime64[ns]"), sizes)
    held = _backtest_rows(key, start, window_days=30)
    assert sorted(set(key[held])) == [8, 9, 10, 11, 12]  # 5 nights x 40 rows = 200
    # with a 7-day window only the nights of the last week
    assert sorted(set(key[_backtest_rows(key, start, window_days=7)])) == [10, 11, 12]
    # a big latest campaign stands alone, and campaign 0 is always left to learn from
    big = np.repeat(np.arange(3), [300, 300, 300])
    near = np.repeat(np.array([t0, t0 + day, t0 + 2 * day], dtype="datetime64[ns]"), 300)
    assert sorted(set(big[_backtest_rows(big, near, window_days=30)])) == [2]
    small = np.repeat(np.arange(3), [40, 40, 40])
    tiny = np.repeat(np.array([t0, t0 + day, t0 + 2 * day], dtype="datetime64[ns]"), 40)
    assert sorted(set(small[_backtest_rows(small, tiny, window_days=30)])) == [1, 2]


def test_a_decision_without_its_customer_is_refused() -> None:
    """Once a sends row with a missing customer_id, which validate_campaigns refused the next
    night, when the history was read back."""
    decisions = pd.DataFrame(
        {"offer_id": ["a", "b"]}, index=pd.Index([1.0, np.nan], name="customer_id")
    )
    with pytest.raises(SchemaError, match=r"decisions\.customer_id is missing at rows \[1\]"):
        nightly_sends(decisions, sent_at="2024-07-01")


def test_offer_ids_past_int64_or_infinite_are_text_not_a_cast_error() -> None:
    for ids, texts in (([1e20, 1.0], ["1e+20", "1.0"]), ([np.inf, 2.0], ["inf", "2.0"])):
        decisions = pd.DataFrame({"offer_id": ids}, index=pd.Index([1, 2], name="customer_id"))
        sends = nightly_sends(decisions, sent_at="2024-07-01")
        assert sorted(sends["offer_id"]) == sorted(texts)


def test_offer_ids_one_and_one_point_zero_in_one_column_are_one_offer() -> None:
    """An object column holding 1 and 1.0 (JSON, two sources) gave two offers, '1' and '1.0'."""
    decisions = pd.DataFrame(
        {"offer_id": pd.Series([1, 1.0], dtype=object)},
        index=pd.Index([1, 2], name="customer_id"),
    )
    assert set(nightly_sends(decisions, sent_at="2024-07-01")["offer_id"]) == {"1"}


def test_nightly_sends_names_no_customer_in_its_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs in the nightly job, after score_customers, whose messages give counts: a repeated
    customer was quoted by id into the job's log."""
    from loyalty_ml.exceptions import SHOW_IDS_ENV, DataError

    twice = pd.DataFrame(
        {"offer_id": ["d5", "d5"]}, index=pd.Index(["C-1042", "C-1042"], name="customer_id")
    )
    monkeypatch.delenv(SHOW_IDS_ENV, raising=False)
    with pytest.raises(DataError, match="withheld from job logs") as refused:
        nightly_sends(twice, sent_at="2024-11-05")
    assert "C-1042" not in str(refused.value)
    monkeypatch.setenv(SHOW_IDS_ENV, "1")
    with pytest.raises(DataError, match="C-1042"):
        nightly_sends(twice, sent_at="2024-11-05")


def test_a_choose_offers_plan_with_a_holdout_warns_that_no_control_rows_are_written() -> None:
    """A plan from choose_offers says who was held out but not from which offer: the night was
    written as sends only, in silence, and could not be measured later."""
    from loyalty_ml.exceptions import DataQualityWarning

    ids = pd.Index(range(1, 201), name="customer_id")
    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["d5"], "cost_per_redemption": [0.0], "cost_per_send": [0.1]})
    )
    plan = choose_offers(
        pd.DataFrame({"d5": 0.05}, index=ids),
        catalog,
        baseline=pd.Series(0.2, index=ids),
        value_per_conversion=10.0,
        holdout_fraction=0.1,
        random_state=0,
    )
    held = int((plan["reason"] == "holdout").sum())
    assert held > 5
    with pytest.warns(DataQualityWarning, match=f"{held} customers were held out"):
        sends = nightly_sends(plan, sent_at="2024-11-01 09:00")
    assert set(sends["offer_id"]) == {"d5"} and len(sends) == 200 - held


def test_a_send_before_the_scoring_date_is_refused() -> None:
    """Decisions scored as of 2010-12-01 and sent on 2010-11-02 were written as that night's
    campaign (the command line refused it, the function did not)."""
    decisions = pd.DataFrame({"offer_id": ["d5", None]}, index=pd.Index([1, 2], name="customer_id"))
    decisions.attrs["as_of"] = "2010-12-01 00:00:00"
    with pytest.raises(ConfigError, match=r"sent_at=2010-11-02 09:00:00 is before"):
        nightly_sends(decisions, sent_at="2010-11-02 09:00")
    assert len(nightly_sends(decisions, sent_at="2010-12-01 09:00")) == 1


def test_a_send_time_on_another_clock_than_the_scoring_is_refused() -> None:
    """A nightly job passed sent_at=pd.Timestamp.now(tz="Europe/London") for decisions scored on a
    naive clock: the sends kept the zone, and the campaigns table they were appended to made the
    next night's scoring fail (a cafe chain's 35-night probe, session 55)."""
    decisions = pd.DataFrame({"offer_id": ["d5", None]}, index=pd.Index([1, 2], name="customer_id"))
    decisions.attrs["as_of"] = "2010-12-01 00:00:00"
    with pytest.raises(
        ConfigError, match=r"has a time zone \(Europe/London\).*tz_localize\(None\)"
    ):
        nightly_sends(decisions, sent_at=pd.Timestamp("2010-12-01 09:00", tz="Europe/London"))
    # on the data's clock the same send is written, without a zone
    sends = nightly_sends(decisions, sent_at="2010-12-01 09:00")
    assert getattr(sends["sent_at"].dtype, "tz", None) is None
    # and decisions scored on a zone-aware clock need a zone-aware send time
    decisions.attrs["as_of"] = "2010-12-01 00:00:00+00:00"
    with pytest.raises(ConfigError, match=r"has no time zone.*tz_localize\('UTC'\)"):
        nightly_sends(decisions, sent_at="2010-12-01 09:00")
    late = nightly_sends(decisions, sent_at=pd.Timestamp("2010-12-01 09:00", tz="UTC"))
    assert str(late["sent_at"].dt.tz) == "UTC"
    with pytest.raises(ConfigError, match="is before"):
        nightly_sends(decisions, sent_at=pd.Timestamp("2010-11-30 09:00", tz="UTC"))


def test_contacts_without_an_offer_are_no_offer_to_the_readers_of_the_campaigns(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A churn-only policy's nights append "contact" rows (nightly_sends): the contact rule rests
    the customers after them, but they are no offer: the catalog check, the campaign features and
    a later offer model trained on the same history leave them out."""
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.tracking.train import train_and_register

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    data = lml.datasets.simulate(n_customers=800, start="2023-01-01", end="2024-12-31", seed=4)
    campaigns = lml.validate_campaigns(data.campaigns, offers=data.offers)
    tx = data.transactions
    customers = tx["customer_id"].drop_duplicates().iloc[:300]
    contacts = pd.DataFrame(
        {
            "campaign_id": "nightly-2024-08-01:contact:email",
            "customer_id": customers.to_numpy(),
            "offer_id": "contact",
            "sent_at": pd.Timestamp("2024-08-01 09:00"),
            "redeemed": False,
            "policy_offer_id": pd.Series(pd.NA, index=range(len(customers)), dtype="str"),
        }
    )
    history = pd.concat([campaigns, contacts], ignore_index=True)
    valid = lml.validate_campaigns(history, offers=data.offers)  # no catalog row needed
    assert (valid["offer_id"] == "contact").sum() == len(customers)
    as_of = "2024-09-15"
    without = lml.build_features(tx, as_of=as_of, campaigns=campaigns)
    with_contacts = lml.build_features(tx, as_of=as_of, campaigns=valid)
    pd.testing.assert_frame_equal(with_contacts, without)
    with pytest.raises(ConfigError, match="'contact' is reserved"):
        Offer(offer_id="contact", cost_per_redemption=1.0)
    with pytest.raises(SchemaError, match="'contact' is reserved"):
        lml.validate_offers(pd.DataFrame({"offer_id": ["contact"], "cost_per_redemption": [1.0]}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        trained = train_and_register(
            tx.loc[tx["timestamp"] < as_of],
            as_of=as_of,
            campaigns=valid.loc[valid["sent_at"] < as_of],
            offers=data.offers,
            tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
            churn_params={"n_estimators": 20, "early_stopping_rounds": 5},
            uplift_params={"n_estimators": 7, "learning_rate": 0.1},
        )
    assert trained.policy.uplift_model is not None
    assert "contact" not in trained.policy.uplift_model.arms_
    # left out as no arm, not warned about as a campaign that forgot its control group
    assert not [w for w in caught if "contact" in str(w.message)], [str(w.message) for w in caught]
