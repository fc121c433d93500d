"""The end-to-end jobs on inputs a user hands them in practice: ids read as text, empty or odd
campaign tables, dates outside the data, unreadable files. Each either works or fails with a clear
loyalty_ml error; nothing personal reaches MLflow. Real MLflow (embedded SQLite store), no mocks."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.cli import main
from loyalty_ml.exceptions import DataError, DataQualityWarning, SchemaError, TrackingError
from loyalty_ml.schema._ids import align_customer_ids
from loyalty_ml.tracking.scoring import score_customers
from loyalty_ml.tracking.train import train_and_register

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)]

ID_OFFSET = 987_654_321  # raw ids that must never show up in MLflow
CHURN = {"n_estimators": 40, "early_stopping_rounds": 10}
AS_OF = "2024-12-01"


@dataclass
class Job:
    folder: Path
    uri: str
    tx: pd.DataFrame
    customers: pd.DataFrame  # ids as text, consent as "Y"/"N"/missing, personal columns
    campaigns: pd.DataFrame
    offers: pd.DataFrame
    result: Any


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Job]:
    from loyalty_ml.datasets import simulate

    data = simulate(n_customers=400, start="2023-01-01", end="2024-12-31", seed=1)
    tx = data.transactions.assign(customer_id=data.transactions["customer_id"] + ID_OFFSET)
    people = data.customers.drop(columns=["age_band", "gender", "income_band"])
    n = len(people)
    consent = people["consent_profiling"].map({True: "Y", False: "N"}).astype(object)
    consent.iloc[:10] = None  # missing: read as no consent
    customers = people.assign(
        customer_id=(people["customer_id"] + ID_OFFSET).astype(str),
        consent_profiling=consent,
        consent_marketing=people["consent_marketing"].astype(int),
        email=[f"person{i}@secret.example" for i in range(n)],
        name=[f"Zebulon{i} Quux" for i in range(n)],
        phone=[f"+44-7000-{i:06d}" for i in range(n)],
    )
    campaigns = data.campaigns.assign(customer_id=data.campaigns["customer_id"] + ID_OFFSET)
    folder = tmp_path_factory.mktemp("jobs")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the embedded store writes its artifacts in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = train_and_register(
            tx,
            as_of=AS_OF,
            customers=customers,
            campaigns=campaigns,
            offers=data.offers,
            tracking_uri=uri,
            churn_params=CHURN,
        )
        yield Job(folder, uri, tx, customers, campaigns, data.offers, result)


def _score(job: Job, **kwargs: Any) -> pd.DataFrame:
    options: dict[str, Any] = {
        "as_of": "2024-12-15",
        "customers": job.customers,
        "campaigns": job.campaigns,
        "tracking_uri": job.uri,
        "psi_limit": 10.0,  # the campaigns after training drift on purpose; not under test here
        **kwargs,
    }
    transactions = options.pop("transactions", job.tx)
    return score_customers(transactions, **options)


def test_text_ids_of_customers_match_integer_ids_of_transactions(job: Job) -> None:
    # consent is read from the text-id table: only the customers without consent are left out
    refused = job.customers["consent_profiling"].ne("Y")
    ids = job.customers.loc[refused, "customer_id"].astype("int64")
    expected = job.tx.loc[job.tx["timestamp"] < AS_OF, "customer_id"].isin(ids)
    n_refused = job.tx.loc[job.tx["timestamp"] < AS_OF].loc[expected, "customer_id"].nunique()
    assert job.result.metrics["n_excluded_no_profiling_consent"] == n_refused
    assert job.result.alias == "champion"


def test_ids_that_cannot_match_are_refused_by_name() -> None:
    tx = pd.DataFrame({"customer_id": [123, 456]})
    people = pd.DataFrame({"customer_id": ["123", "00456", "C-7"]})
    with pytest.raises(
        SchemaError, match=r"customers\.customer_id holds text ids such as \['00456'"
    ):
        align_customer_ids(people, tx, table="customers", caller="score_customers")
    aligned = align_customer_ids(
        pd.DataFrame({"customer_id": [123]}), tx.astype({"customer_id": str}), table="c", caller="x"
    )
    assert aligned is not None and aligned["customer_id"].tolist() == ["123"]


def test_scores_one_row_per_customer_and_no_offer_without_consent(job: Job) -> None:
    scores = _score(job)
    before = job.tx.loc[job.tx["timestamp"] < "2024-12-15", "customer_id"]
    assert scores.index.name == "customer_id" and scores.index.is_unique
    assert set(scores.index) == set(before)
    no_marketing = job.customers.loc[job.customers["consent_marketing"] == 0, "customer_id"]
    refused = scores.loc[scores.index.isin(no_marketing.astype("int64"))]
    assert len(refused) > 0 and refused["offer_id"].isna().all()
    # not vacuous: the consent rule itself decided some rows (the offer model of 400 simulated
    # customers may find no offer worth its cost for anyone, so "some offer made" is not asked)
    assert (scores["offer_reason"] == "no marketing consent").any()


def test_a_customers_table_sharing_no_id_is_an_error(job: Job) -> None:
    strangers = job.customers.assign(customer_id=job.customers["customer_id"] + "0")
    with pytest.raises(DataError, match=r"none of the [\d,]+ customer ids of the transactions"):
        _score(job, customers=strangers, log_run=False)


def test_scoring_before_the_training_date_warns(job: Job) -> None:
    with pytest.warns(DataQualityWarning, match="before the training date 2024-12-01"):
        scores = _score(job, as_of="2024-06-01", log_run=False)
    assert len(scores) == job.tx.loc[job.tx["timestamp"] < "2024-06-01", "customer_id"].nunique()


def test_scoring_a_stale_extract_warns_with_the_date_it_ends(job: Job) -> None:
    # the nightly job's extract stopped refreshing: six weeks without a single transaction
    stale = job.tx.loc[job.tx["timestamp"] < "2024-11-01"]
    last = pd.Timestamp(stale["timestamp"].max()).date()
    with pytest.warns(
        DataQualityWarning, match=f"the purchases in the transactions end on {last}"
    ) as caught:
        _score(job, as_of="2024-12-15", log_run=False, transactions=stale)
    assert "every customer looks inactive" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        _score(job, as_of="2024-12-15", log_run=False)  # a fresh extract: quiet


def test_a_night_whose_extract_did_not_arrive_warns_against_the_night_before(job: Job) -> None:
    """A night whose extract did not arrive (or arrived twice, its repeats dropped) left the
    history as it was, a day older than usual, and the job scored in silence (a cafe chain's
    35-night probe, session 55): a warehouse's lag looks the same on one night, so the check is
    against the previous night's scoring run."""
    nights = {"experiment": "nights_of_one_feed"}
    monday, tuesday = pd.Timestamp("2024-12-16"), pd.Timestamp("2024-12-17")
    feed = job.tx.loc[job.tx["timestamp"] < monday]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        _score(job, as_of=str(monday.date()), transactions=feed, **nights)
        # tuesday's extract brought monday's purchases: quiet
        fresh = job.tx.loc[job.tx["timestamp"] < tuesday]
        assert fresh["timestamp"].max() > feed["timestamp"].max()
        _score(job, as_of=str(tuesday.date()), transactions=fresh, log_run=False, **nights)
    # tuesday's extract did not arrive: monday's data scored again
    with pytest.warns(
        DataQualityWarning, match="where they ended when as_of=2024-12-16 was scored"
    ):
        _score(job, as_of=str(tuesday.date()), transactions=feed, **nights)
    # a retry of monday has no earlier night to be compared with
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        _score(job, as_of=str(monday.date()), transactions=feed, **nights)


def test_scoring_orders_in_a_channel_the_model_never_saw_warns(job: Job) -> None:
    """The chain opened kiosks after training: their orders counted in no channel share and the
    job said nothing (a cafe chain's 35-night probe, session 55)."""
    as_of = pd.Timestamp("2024-12-15")
    tx = job.tx.copy()
    recent = (tx["timestamp"] >= as_of - pd.Timedelta(days=14)) & tx["channel"].eq("delivery")
    assert recent.sum() > 0
    tx.loc[recent, "channel"] = "kiosk"
    with pytest.warns(DataQualityWarning, match="channels the model was not trained with: 'kiosk'"):
        _score(job, as_of=str(as_of.date()), log_run=False, transactions=tx)


def test_refunds_that_run_on_do_not_hide_a_stale_extract(job: Job) -> None:
    # the sales feed stopped on 2024-11-01, the refunds feed (returns kept) did not
    stale = job.tx.loc[job.tx["timestamp"] < "2024-11-01"]
    last = pd.Timestamp(stale["timestamp"].max()).date()
    refunds = stale.tail(20).assign(
        amount=lambda t: -t["amount"],
        margin=lambda t: -t["margin"],
        timestamp=pd.Timestamp("2024-12-10"),
        quantity=lambda t: -t["quantity"],
        order_id=lambda t: t["order_id"] + 10**9,  # refunds in orders of their own
    )
    assert (refunds["timestamp"] > stale["timestamp"].max()).all()
    with pytest.warns(DataQualityWarning, match=f"the purchases in the transactions end on {last}"):
        _score(
            job,
            as_of="2024-12-15",
            log_run=False,
            transactions=pd.concat([stale, refunds], ignore_index=True),
        )


def test_text_and_zoned_timestamps_are_schema_errors(job: Job) -> None:
    text = job.tx.assign(timestamp=job.tx["timestamp"].astype(str))
    with pytest.raises(SchemaError, match=r"transactions\.timestamp must be tz-naive datetime64"):
        train_and_register(text, as_of=AS_OF, tracking_uri=job.uri)
    zoned = job.tx.assign(timestamp=job.tx["timestamp"].dt.tz_localize("UTC"))
    with pytest.raises(SchemaError, match=r"got dtype datetime64\[ns, UTC\]"):
        score_customers(zoned, as_of="2024-12-15", tracking_uri=job.uri)


def test_text_or_missing_amounts_are_schema_errors_not_pandas_errors(job: Job) -> None:
    """Once a TypeError ("Invalid comparison between dtype=str and int") and a ValueError ("Cannot
    mask with non-boolean array containing NA") from the jobs' check for an extract that ends
    early, which compares amounts before build_features had checked them."""
    text = job.tx.assign(amount=job.tx["amount"].astype(str))
    with pytest.raises(SchemaError, match=r"transactions\.amount must be numeric; got dtype"):
        _score(job, transactions=text)
    with pytest.raises(SchemaError, match=r"transactions\.amount must be numeric; got dtype"):
        train_and_register(text, as_of=AS_OF, tracking_uri=job.uri)
    gap = job.tx.astype({"amount": "Float64"})
    gap.loc[gap.index[5], "amount"] = pd.NA
    with pytest.raises(SchemaError, match=r"transactions\.amount has missing or infinite values"):
        _score(job, transactions=gap)


def test_ids_of_mixed_kinds_are_refused_before_they_fail_to_sort(job: Job) -> None:
    """Two sources concatenated, one with integer ids and one with text: once a TypeError ("'<' not
    supported between instances of 'str' and 'int'") at the end of scoring."""
    mixed = job.tx.astype({"customer_id": object})
    first = mixed["customer_id"] == mixed["customer_id"].iloc[0]
    mixed.loc[first, "customer_id"] = mixed.loc[first, "customer_id"].astype(str)
    with pytest.raises(SchemaError, match=r"customer_id mixes kinds of id \(int, str\)"):
        _score(job, transactions=mixed)
    with pytest.raises(SchemaError, match=r"customer_id mixes kinds of id \(int, str\)"):
        train_and_register(mixed, as_of=AS_OF, tracking_uri=job.uri)


def test_guest_rows_without_a_customer_id_are_named_not_dropped(job: Job) -> None:
    guests = job.tx.astype({"customer_id": "Int64"})
    guests.loc[guests.index[:2], "customer_id"] = pd.NA
    tables = {"customers": job.customers, "campaigns": job.campaigns, "tracking_uri": job.uri}
    with pytest.raises(SchemaError, match=r"customer_id is missing at rows"):
        score_customers(guests, as_of="2024-12-15", **tables)
    with pytest.raises(SchemaError, match=r"customer_id is missing at rows"):
        train_and_register(guests, as_of=AS_OF, **tables)


def test_unset_alias_says_where_the_latest_version_went(job: Job) -> None:
    with pytest.raises(TrackingError, match=r"alias 'gold'.*latest version 1 is @champion"):
        _score(job, model_uri="models:/loyalty_ml@gold")


def test_as_of_outside_the_data_is_a_clear_error(job: Job) -> None:
    with pytest.raises(DataError, match=r"no transactions before as_of=2022-01-01 \(the data"):
        train_and_register(job.tx, as_of="2022-01-01", tracking_uri=job.uri)
    with (
        pytest.warns(DataQualityWarning, match="every customer is labelled churned at 2025-12-03"),
        pytest.warns(
            DataQualityWarning, match="the purchases in the transactions end on 2024-12-31"
        ),
        # the empty days up to as_of, as the label windows of the cut-offs meet them
        pytest.warns(DataQualityWarning, match=r"no purchase at all, 2025-01-01 to 2026-05-31"),
        pytest.raises(DataError, match="every training customer is labelled churned"),
    ):
        train_and_register(job.tx, as_of="2026-06-01", tracking_uri=job.uri, churn_params=CHURN)


def test_an_empty_campaigns_table_trains_without_offers(job: Job) -> None:
    with pytest.warns(DataQualityWarning) as caught:
        result = train_and_register(
            job.tx,
            as_of=AS_OF,
            campaigns=job.campaigns.iloc[:0],
            offers=job.offers,
            model_name="no_campaigns",
            tracking_uri=job.uri,
            churn_params=CHURN,
        )
    messages = " ".join(str(w.message) for w in caught)
    assert "'days_since_last_offer'" in messages and "offer model is not trained" in messages
    assert result.policy.uplift_model is None
    assert "days_since_last_offer" not in result.policy.feature_names
    tags = mlflow.MlflowClient(job.uri, job.uri).get_run(result.run_id).data.tags
    assert (
        tags["offer_model"].startswith("not trained")
        and "redemption_rate" in tags["dropped_empty_features"]
    )


def test_campaigns_without_a_control_group_are_a_clear_error(job: Job) -> None:
    treated = job.campaigns.loc[job.campaigns["offer_id"] != "control"]
    # targeted campaigns (dunnhumby's TypeA-C) were told to "leave out campaigns/offers", which
    # left out their features too: offers=None alone keeps them
    with pytest.raises(
        DataError,
        match=r"no control rows \(offer_id == 'control'\).*nobody was held out.*pass "
        r"offers=None and keep campaigns",
    ):
        train_and_register(
            job.tx,
            as_of=AS_OF,
            campaigns=treated,
            offers=job.offers,
            tracking_uri=job.uri,
            churn_params=CHURN,
        )


def test_cli_unreadable_inputs_and_unwritable_output_are_one_line_errors(
    job: Job, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.parquet").write_text("not parquet")
    (tmp_path / "empty.csv").write_text("")
    for path in ("broken.parquet", "empty.csv"):
        status = main(["train", "--transactions", str(tmp_path / path), "--as-of", AS_OF])
        err = capsys.readouterr().err
        assert status == 1 and err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith(
            f"loyalty-ml train: error: Cannot read the transactions file '{tmp_path / path}'"
        )
    job.tx.to_parquet(tmp_path / "tx.parquet")
    job.customers.to_csv(tmp_path / "customers.csv", index=False)
    job.campaigns.to_parquet(tmp_path / "campaigns.parquet")
    (tmp_path / "blocker").write_text("a file, not a folder")
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(
            [
                "score",
                "--transactions",
                str(tmp_path / "tx.parquet"),
                "--customers",
                str(tmp_path / "customers.csv"),
                "--campaigns",
                str(tmp_path / "campaigns.parquet"),
                "--as-of",
                "2024-12-15",
                "--output",
                str(tmp_path / "blocker" / "scores.csv"),
                "--tracking-uri",
                job.uri,
                "--no-log-run",
            ]
        )
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    # what validation did to the inputs may come first (the cleaning report); the error is one line
    assert err.splitlines()[-1].startswith("loyalty-ml score: error:")


def test_no_raw_ids_or_personal_data_in_the_mlflow_store(job: Job) -> None:
    _score(job, reasons="all")  # a logged scoring run too
    planted = [b"@secret.example", b"Zebulon", b"+44-7000-", str(ID_OFFSET + 1)[:8].encode()]
    for path in job.folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not [p for p in planted if p in content], path


def test_a_customers_table_missing_a_model_column_names_it(job: Job) -> None:
    attributes = [c for c in job.customers.columns if c in ("tier", "signup_date")]
    assert attributes, "the fixture's customers carry attributes the model uses"
    expected = r"The customers table given lacks what .*tier.* built from"
    with pytest.raises(SchemaError, match=expected):
        _score(job, customers=job.customers.drop(columns=attributes))


def test_drift_is_judged_on_populations_not_on_small_batches(job: Job) -> None:
    from loyalty_ml.tracking.drift import DriftWarning
    from loyalty_ml.tracking.scoring import MIN_DRIFT_ROWS

    with pytest.warns(DriftWarning, match="drifted past PSI 1e-06"):
        whole = _score(job, psi_limit=1e-6, log_run=False)
    assert (whole["status"] == "scored").sum() >= MIN_DRIFT_ROWS
    few = job.tx["customer_id"].isin(job.tx["customer_id"].unique()[:30])
    # 30 customers: PSI is noise; no DriftWarning (warnings are errors in this test run)
    small = score_customers(
        job.tx.loc[few],
        as_of="2024-12-15",
        customers=job.customers,
        campaigns=job.campaigns,
        tracking_uri=job.uri,
        psi_limit=1e-6,
        log_run=False,
    )
    assert 0 < len(small) < MIN_DRIFT_ROWS


def test_clock_features_are_logged_but_not_warned_on(
    job: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    import loyalty_ml.tracking.scoring as scoring
    from loyalty_ml.tracking.drift import DriftWarning

    original = scoring.score_features

    def with_psi(values: dict[str, float]) -> Any:
        def fake(*args: Any, **kwargs: Any) -> Any:
            scored, psi = original(*args, **kwargs)
            return scored, pd.Series(0.0, index=psi.index).add(pd.Series(values), fill_value=0.0)

        return fake

    # tenure grows a day a day and the campaign calendar moves: no warning on them alone
    monkeypatch.setattr(
        scoring, "score_features", with_psi(dict.fromkeys(scoring.CLOCK_FEATURES, 5.0))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DriftWarning)
        _score(job, psi_limit=0.2, log_run=False)
    # any other column past the limit still warns, naming it
    monkeypatch.setattr(
        scoring, "score_features", with_psi({"recency_days": 0.5, "tenure_days": 5.0})
    )
    with pytest.warns(
        DriftWarning, match=r"1 column\(s\) drifted past PSI 0.2 .*recency_days=0.500"
    ):
        _score(job, psi_limit=0.2, log_run=False)


def test_served_model_without_ids_warns_that_its_holdout_follows_row_order(job: Job) -> None:
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.features import build_features
    from loyalty_ml.tracking.pyfunc import LoyaltyPolicyModel

    policy = job.result.policy
    assert policy.uplift_model is not None and policy.holdout_fraction > 0
    served = LoyaltyPolicyModel()
    served.policy = policy
    people = job.customers.assign(customer_id=job.customers["customer_id"].astype("int64"))
    X = build_features(
        job.tx,
        as_of="2024-12-15",
        customers=people,
        campaigns=job.campaigns,
        config=policy.feature_config,
    ).head(50)
    X = X.assign(consent_marketing=True, consent_profiling=True)  # as a caller should send it
    with pytest.warns(
        DataQualityWarning, match="no customer_id: the offer holdout is drawn by row"
    ):
        served.predict(None, X.reset_index(drop=True), params={"reasons": "none"})
    # with ids (index or column) the holdout is the stable one: no warning
    served.predict(None, X, params={"reasons": "none"})
    served.predict(None, X.reset_index(), params={"reasons": "none"})


def test_refunds_before_the_first_purchase_do_not_set_the_first_cutoff(job: Job) -> None:
    # a refund of an order from before the extract's window, dated a year before its first sale:
    # the cut-offs must still start after the first purchase, and refunds alone are no history
    first_sale = pd.Timestamp(job.tx["timestamp"].min())
    early = job.tx.head(3).assign(
        amount=lambda t: -t["amount"],
        margin=lambda t: -t["margin"],
        quantity=lambda t: -t["quantity"],
        timestamp=first_sale - pd.Timedelta(days=365),
        order_id=lambda t: t["order_id"] + 10**9,
    )
    with pytest.raises(DataError, match=r"after the first purchase \(2023-01-0"):
        train_and_register(
            pd.concat([early, job.tx], ignore_index=True),
            as_of="2023-05-01",
            tracking_uri=job.uri,
            churn_params=CHURN,
        )
    with pytest.raises(DataError, match="are all refunds"):
        train_and_register(early, as_of=str(first_sale.date()), tracking_uri=job.uri)


def test_a_refund_only_customer_has_no_row_with_or_without_consent(job: Job) -> None:
    # two customers whose only lines before as_of are refunds (returns kept): the features list
    # neither, so neither gets a row, whatever their consent (before, only the one without
    # consent got a "no_profiling_consent" row)
    new_ids = [ID_OFFSET + 10**6, ID_OFFSET + 10**6 + 1]
    refunds = job.tx.head(2).assign(
        customer_id=new_ids,
        amount=lambda t: -t["amount"],
        margin=lambda t: -t["margin"],
        quantity=lambda t: -t["quantity"],
        timestamp=pd.Timestamp("2024-12-05"),
        order_id=lambda t: t["order_id"] + 10**9,
    )
    people = pd.concat(
        [
            job.customers,
            job.customers.head(2).assign(
                customer_id=[str(i) for i in new_ids], consent_profiling=["Y", "N"]
            ),
        ],
        ignore_index=True,
    )
    scores = _score(
        job,
        log_run=False,
        customers=people,
        transactions=pd.concat([job.tx, refunds], ignore_index=True),
    )
    assert not scores.index.isin(new_ids).any()
    assert (scores["status"] == "no_profiling_consent").any()  # the rule still applies to buyers


def test_a_repeated_transactions_column_is_a_schema_error(job: Job) -> None:
    """pd.concat(axis=1) twice over amount: a raw AttributeError in the amount check before."""
    twice = pd.concat([job.tx, job.tx[["amount"]]], axis=1)
    with pytest.raises(SchemaError, match=r"transactions has several columns named \['amount'\]"):
        _score(job, transactions=twice)


@pytest.mark.parametrize("name", ["customers", "campaigns"])
def test_a_table_that_is_not_a_dataframe_is_a_schema_error(job: Job, name: str) -> None:
    """A list of ids or a dict of columns: a raw AttributeError ('no attribute columns') before."""
    table = job.customers if name == "customers" else job.campaigns
    for wrong in (table["customer_id"].tolist(), table.to_dict("list")):
        with pytest.raises(SchemaError, match=rf"{name} must be a pandas DataFrame"):
            _score(job, **{name: wrong})


def test_customers_without_a_purchase_are_counted_not_dropped_in_silence(job: Job) -> None:
    # members of the customers table who never bought before as_of get no row (documented); the
    # night now says how many, in the output's attrs and the run's metrics
    import mlflow

    base = _score(job, log_run=False).attrs["n_customers_without_purchase"]
    new = job.customers.head(3).assign(customer_id=["999001", "999002", "999003"])
    more = pd.concat([job.customers, new], ignore_index=True)
    scores = _score(job, customers=more)
    assert scores.attrs["n_customers_without_purchase"] == base + 3
    client = mlflow.MlflowClient(tracking_uri=job.uri)
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    assert experiment is not None
    run = client.search_runs(
        [experiment.experiment_id],
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )[0]
    assert run.data.metrics["n_customers_without_purchase"] == base + 3
