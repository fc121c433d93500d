"""Longitudinal audit: the library run as a retailer runs it, month after month, night after night.

One module-scoped fixture plays a programme of 1,500 simulated customers (seed 7) in calendar order,
each run fed only what was known on its date (transactions and campaign sends before it, redemptions
after it blanked), into one embedded MLflow store (SQLite in a temp folder):

- ``train_and_register`` on 2024-10-01 (v1), 2024-11-01 (v2, with a deliberately strict fairness
  limit so that it fails the gate) and 2024-12-01 (v3);
- ``score_customers`` from the @champion on 12 nights (2024-10-27..31, 11-01..05, 12-01..02, so two
  month boundaries and a champion change), twice per night: track A feeds every night's offers back
  as the send history (``campaigns=``, the documented way: "campaigns is also the send history");
  track B passes only the programme's own (randomised) campaigns.

Found right (plain guard tests):

- the holdout is one fixed set of customers (10.7% of them), the same for v1, v2 and v3 and every
  night; a holdout customer never gets an offer;
- with the sends fed back, no customer gets an offer more often in a month than its
  ``max_per_month``, and the count restarts with the month; without them the caps cannot apply
  (track B repeats once-a-month offers night after night): the caller has to append each night's
  offers to ``campaigns`` (``customer_id``, ``offer_id``, ``sent_at``; ``validate_campaigns`` checks
  them);
- customers with no new purchase and no new send drift slowly and one way: at most 0.5% change risk
  band per night, never downwards;
- the registry tells the story: v1 champion, v2 challenger (fairness gate failed), v3 champion
  compared with v1 scored on v3's backtest rows, which retires v2's @challenger; run and version
  tags give each verdict and its basis;
- on the same data the nightly PSI raises no DriftWarning (track B);
- a retried night gives the same frame to the bit and logs exactly one more scoring run (since
  2026-12-02 the earlier one is tagged ``superseded_by``, so one run a night is live).

Defects, written first as strict xfails; both are fixed and their tests are regression tests:

- ``train_and_register`` (``tracking/_offers.py:train_offer_model``) fits the uplift model on the
  nightly job's own sends, once they are in ``campaigns`` as ``score_customers`` asks: on 2024-12-01
  it pools 5 policy-targeted "campaigns" without any control row with the 7 randomised ones (12
  campaigns, 1,231 extra rows) and reads them as randomised experiments, without a warning
  (``_warn_if_targeted`` compares arms with their own campaign's control and is silent when there is
  none).
- ``score_customers`` (``policy/offers.py:_capped``) counts a send row repeated in the history (a
  retried append of one night's sends, which ``validate_campaigns`` refuses: "a customer appears
  more than once in a campaign") twice towards ``max_per_month``: on 2024-11-05, 3 customers are
  refused an offer they are still entitled to (2 early_access, 1 double_points).

Fixes: the offer model learns only from campaigns with a control group (the others warn and still
count for the caps and features), and a send row repeated in the history counts once.

Observed, not called defects (no documented rule says otherwise): fed back sends move the
``offers_received`` feature of the churn model (PSI 0.209 on the fifth night under v1, 0.233 on the
tenth: a DriftWarning every night from then on, caused by the job's own sends), and a triggered
customer was offered something every night until every offer's monthly cap was reached (caps are
per offer: 102 of the 356 customers offered anything got an offer on all 12 nights). Since
2026-12-02 the registered policy has a contact rule (``min_days_between_offers``, default 30 days,
the response window): the programme above switches it off so that the caps are what binds, and a
test of its own trains with the default and checks that nobody is offered twice in ten nights.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

pytestmark = [pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)]

N_CUSTOMERS = 1500
SEED = 7
CHURN = {"n_estimators": 20, "early_stopping_rounds": 5}
UPLIFT = {"n_estimators": 7, "learning_rate": 0.1}
TRAININGS = ("2024-10-01", "2024-11-01", "2024-12-01")
NIGHTS = {
    "2024-10-01": pd.date_range("2024-10-27", "2024-10-31"),
    "2024-11-01": pd.date_range("2024-11-01", "2024-11-05"),
    "2024-12-01": pd.date_range("2024-12-01", "2024-12-02"),
}
WINDOW_DAYS = 30  # train_and_register's default response window


@dataclass
class Programme:
    folder: Path
    uri: str
    tx: pd.DataFrame
    customers: pd.DataFrame
    offers: pd.DataFrame
    campaigns: pd.DataFrame  # the randomised campaigns, validated
    results: list[Any]
    train_warnings: list[list[str]]
    history: Callable[[pd.Timestamp], pd.DataFrame]  # track A's send history as known on a date
    sends: list[pd.DataFrame] = field(default_factory=list)  # track A: one frame per night
    fed: dict[pd.Timestamp, pd.DataFrame] = field(default_factory=dict)  # track A outputs
    plain: dict[pd.Timestamp, pd.DataFrame] = field(default_factory=dict)  # track B outputs
    version: dict[pd.Timestamp, str] = field(default_factory=dict)  # champion version per night
    fed_warnings: dict[pd.Timestamp, list[str]] = field(default_factory=dict)
    plain_warnings: dict[pd.Timestamp, list[str]] = field(default_factory=dict)


def _known(campaigns: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """The campaign rows as known on ``when``: sent before it, redemptions after it not yet seen."""
    known = campaigns.loc[campaigns["sent_at"] < when].copy()
    late = (known["redeemed_at"] >= when).to_numpy()
    known.loc[late, "redeemed"] = False
    known.loc[late, "redeemed_at"] = pd.NaT
    return known


def _sends_of(night: pd.Timestamp, scores: pd.DataFrame) -> pd.DataFrame:
    """The night's offers as campaign rows, sent at 09:00: what the job appends to ``campaigns``."""
    offered = scores.loc[scores["offer_id"].notna()]
    return pd.DataFrame(
        {
            "campaign_id": f"night-{night.date()}",
            "customer_id": offered.index.to_numpy(),
            "offer_id": offered["offer_id"].to_numpy(),
            "sent_at": night + pd.Timedelta(hours=9),
            "redeemed": False,
            "redeemed_at": pd.NaT,
        }
    )


def _messages(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught]


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Programme]:
    import loyalty_ml as lml
    from loyalty_ml.evaluation.fairness import FairnessLimits
    from loyalty_ml.tracking.scoring import score_customers
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("many_nights")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = lml.datasets.simulate(
        n_customers=N_CUSTOMERS, start="2023-01-01", end="2024-12-31", seed=SEED
    )
    campaigns = lml.validate_campaigns(data.campaigns, offers=data.offers)
    tx, customers = data.transactions, data.customers
    sends: list[pd.DataFrame] = []

    def history(when: pd.Timestamp) -> pd.DataFrame:
        fed = [s.loc[s["sent_at"] < when] for s in sends]
        return pd.concat([_known(campaigns, when), *fed], ignore_index=True)

    prog = Programme(
        folder, uri, tx, customers, data.offers, campaigns, [], [], history, sends=sends
    )
    # v2 must fail the fairness gate: any gap in selection rate breaks this limit
    strict = FairnessLimits(max_selection_rate_difference=0.0, significance=None)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the embedded store writes its artifacts in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        for month in TRAININGS:
            cutoff = pd.Timestamp(month)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = train_and_register(
                    tx.loc[tx["timestamp"] < cutoff],
                    as_of=cutoff,
                    customers=customers,
                    campaigns=history(cutoff),
                    offers=data.offers,
                    tracking_uri=uri,
                    churn_params=CHURN,
                    uplift_params=UPLIFT,
                    fairness_limits=strict if month == "2024-11-01" else None,
                    # the monthly caps alone, so that they are what binds night after night (the
                    # default 30-day contact rule has its own test below)
                    min_days_between_offers=None,
                )
            prog.results.append(result)
            prog.train_warnings.append(_messages(caught))
            for night in NIGHTS[month]:
                known_tx = tx.loc[tx["timestamp"] < night]
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    fed = score_customers(
                        known_tx,
                        as_of=night,
                        customers=customers,
                        campaigns=history(night),
                        tracking_uri=uri,
                    )
                prog.fed_warnings[night] = _messages(caught)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    plain = score_customers(
                        known_tx,
                        as_of=night,
                        customers=customers,
                        campaigns=_known(campaigns, night),
                        tracking_uri=uri,
                        log_run=False,
                    )
                prog.plain_warnings[night] = _messages(caught)
                prog.fed[night], prog.plain[night] = fed, plain
                client = mlflow.MlflowClient(tracking_uri=uri)
                champion = client.get_model_version_by_alias("loyalty_ml", "champion")
                prog.version[night] = str(champion.version)
                sends.append(_sends_of(night, fed))
        yield prog


@pytest.fixture
def in_store(programme: Programme, monkeypatch: pytest.MonkeyPatch) -> Programme:
    monkeypatch.chdir(programme.folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return programme


def _nights(prog: Programme) -> list[pd.Timestamp]:
    return sorted(prog.fed)


def _over_caps(prog: Programme, sends: pd.DataFrame) -> pd.Series:
    caps = prog.offers.set_index("offer_id")["max_per_month"]
    month = sends["sent_at"].dt.to_period("M").rename("month")
    counts = sends.groupby(["customer_id", "offer_id", month]).size()
    limit = caps.reindex(counts.index.get_level_values("offer_id")).to_numpy()
    return counts[counts.to_numpy() > limit]


# -- 1. the holdout -------------------------------------------------------------------------------
def test_holdout_is_the_same_customers_for_every_version_and_night(programme: Programme) -> None:
    from loyalty_ml.tracking.registry import load_policy

    ids = pd.Index(np.sort(programme.tx["customer_id"].unique()), name="customer_id")
    masks = [
        load_policy(r.model_uri, tracking_uri=programme.uri)[0].holdout_mask(ids)
        for r in programme.results
    ]
    assert all(np.array_equal(masks[0], m) for m in masks[1:])
    share = masks[0].mean()
    assert 0.085 <= share <= 0.115, share  # holdout_fraction 0.1; binomial sd 0.008 at 1,500
    held = set(ids[masks[0]])
    for night in _nights(programme):
        for out in (programme.fed[night], programme.plain[night]):
            said = set(out.index[out["offer_reason"] == "holdout"])
            assert said and said <= held, night
            # "holdout" says an offer was withheld (session 59), the one holdout_offer_id names
            assert said == set(out.index[out["holdout_offer_id"].notna()]), night
            offered = set(out.index[out["offer_id"].notna()])
            assert not offered & held, night
            # triggered, consenting customers: a tenth of them held out (members who would have
            # got nothing say "no effective offer")
            candidates = out["offer_reason"].isin(
                [
                    "holdout",
                    "cheapest effective",
                    "cheapest offer clear of noise",
                    "no effective offer",
                ]
            )
            rate = out.index[candidates].isin(list(held)).mean()
            assert 0.05 <= rate <= 0.17, (night, rate)


# -- 2. monthly caps -------------------------------------------------------------------------------
def test_caps_hold_across_nights_when_each_nights_offers_are_fed_back(
    programme: Programme,
) -> None:
    sends = pd.concat(programme.sends, ignore_index=True)
    assert len(sends) > 2000  # about 230 offers a night
    assert _over_caps(programme, sends).empty
    # the count restarts with the month: offers capped at the end of October are made again
    october = sends.loc[sends["sent_at"] < "2024-11-01"]
    full = october.groupby(["customer_id", "offer_id"]).size()
    caps = programme.offers.set_index("offer_id")["max_per_month"]
    at_cap = full[full.to_numpy() == caps.reindex(full.index.get_level_values(1)).to_numpy()]
    first_november = programme.sends[len(NIGHTS["2024-10-01"])]
    again = first_november.set_index(["customer_id", "offer_id"]).index.intersection(at_cap.index)
    assert len(again) > 50, len(again)


def test_without_the_send_history_capped_offers_repeat(programme: Programme) -> None:
    """What the caller must do: ``score_customers`` knows only the sends it is given."""
    rows = []
    for night in _nights(programme):
        out = programme.plain[night]
        offered = out.loc[out["offer_id"].notna()]
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": offered.index,
                    "offer_id": offered["offer_id"].to_numpy(),
                    "sent_at": night,
                }
            )
        )
    over = _over_caps(programme, pd.concat(rows, ignore_index=True))
    assert len(over) > 100, len(over)


def test_a_repeated_send_row_counts_once_towards_the_caps(in_store: Programme) -> None:
    from loyalty_ml.tracking.scoring import score_customers

    prog = in_store
    night = pd.Timestamp("2024-11-05")
    history = prog.history(night)
    retried = pd.concat([history, history.loc[history["campaign_id"] == "night-2024-11-04"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DataQualityWarning/DriftWarning were recorded already
        out = score_customers(
            prog.tx.loc[prog.tx["timestamp"] < night],
            as_of=night,
            model_uri=f"models:/loyalty_ml/{prog.version[night]}",
            customers=prog.customers,
            campaigns=retried,
            tracking_uri=prog.uri,
            log_run=False,
        )
    expected = prog.fed[night]
    changed = out["offer_id"].fillna("-") != expected["offer_id"].fillna("-")
    assert int(changed.sum()) == 0, int(changed.sum())


def test_the_default_contact_rule_offers_a_customer_once_per_response_window(
    in_store: Programme,
) -> None:
    """A policy trained with the defaults, its offers fed back night after night: no customer is
    offered twice within 30 days, whatever the monthly caps would allow."""
    from loyalty_ml.tracking.scoring import score_customers
    from loyalty_ml.tracking.train import train_and_register

    prog = in_store
    cutoff = pd.Timestamp("2024-10-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the programme's trainings recorded the same warnings
        trained = train_and_register(
            prog.tx.loc[prog.tx["timestamp"] < cutoff],
            as_of=cutoff,
            customers=prog.customers,
            campaigns=_known(prog.campaigns, cutoff),
            offers=prog.offers,
            tracking_uri=prog.uri,
            model_name="loyalty_ml_contact_rule",
            churn_params=CHURN,
            uplift_params=UPLIFT,
        )
    sends: list[pd.DataFrame] = []
    outs = {}
    for night in [*NIGHTS["2024-10-01"], *NIGHTS["2024-11-01"]]:
        history = pd.concat([_known(prog.campaigns, night), *sends], ignore_index=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the offers_received drift of fed-back sends
            out = score_customers(
                prog.tx.loc[prog.tx["timestamp"] < night],
                as_of=night,
                customers=prog.customers,
                campaigns=history,
                model_uri=trained.model_uri,
                tracking_uri=prog.uri,
                log_run=False,
            )
        outs[night] = out
        sends.append(_sends_of(night, out))
    fed = pd.concat(sends, ignore_index=True)
    assert len(fed) > 100, len(fed)  # offers are still made, to customers not contacted lately
    per_customer = fed.groupby("customer_id")["sent_at"].agg(["size", "min", "max"])
    # ten nights span 10 days: nobody twice (under the caps alone, 102 of 356 got all 12 nights)
    assert (per_customer["size"] == 1).all(), per_customer.loc[per_customer["size"] > 1].head()
    # the rule, not chance, kept them out: the first night's customers are resting on the second
    first, second = sorted(outs)[:2]
    again = outs[second].loc[sends[0]["customer_id"].to_numpy()]
    assert (again["offer_reason"] == "contacted recently").mean() > 0.9, again["offer_reason"]
    # the randomised campaigns count as contacts too: their customers rest after a send
    recent = prog.campaigns.loc[
        (prog.campaigns["sent_at"] >= first - pd.Timedelta(days=WINDOW_DAYS))
        & (prog.campaigns["sent_at"] < first)
        & (prog.campaigns["offer_id"] != "control"),
        "customer_id",
    ]
    assert not set(fed["customer_id"]) & set(recent)


# -- 3. stability ----------------------------------------------------------------------------------
def test_quiet_customers_change_risk_band_rarely_and_only_upwards(programme: Programme) -> None:
    sends = pd.concat(programme.sends, ignore_index=True)
    order = {"low": 0, "medium": 1, "high": 2}
    nights = _nights(programme)
    compared = 0
    for before, after in itertools.pairwise(nights):
        if programme.version[before] != programme.version[after]:
            continue
        compared += 1
        a = programme.fed[before]
        b = programme.fed[after]
        a, b = a.loc[a["status"] == "scored"], b.loc[b["status"] == "scored"]
        tx = programme.tx
        bought = tx.loc[(tx["timestamp"] >= before) & (tx["timestamp"] < after), "customer_id"]
        sent = sends.loc[(sends["sent_at"] >= before) & (sends["sent_at"] < after), "customer_id"]
        quiet = a.index.intersection(b.index).difference(pd.Index(bought)).difference(sent)
        assert len(quiet) > 900
        band_a = a.loc[quiet, "risk_band"].map(order)
        band_b = b.loc[quiet, "risk_band"].map(order)
        moved = (band_a != band_b).mean()
        assert moved <= 0.01, (before, moved)
        assert int((band_b < band_a).sum()) == 0, before
        dp = b.loc[quiet, "churn_probability"] - a.loc[quiet, "churn_probability"]
        assert 0 <= dp.mean() <= 0.005, (before, dp.mean())  # ageing: a little more risk a day
        assert (dp < -1e-9).mean() <= 0.01, before
        assert (a.loc[quiet, "segment"] != b.loc[quiet, "segment"]).mean() <= 0.01, before
    assert compared >= 8


# -- 4. promotions ---------------------------------------------------------------------------------
def test_registry_history_tells_where_each_version_went_and_why(programme: Programme) -> None:
    v1, v2, v3 = programme.results
    assert (v1.alias, v2.alias, v3.alias) == ("champion", "challenger", "champion")
    client = mlflow.MlflowClient(tracking_uri=programme.uri, registry_uri=programme.uri)
    model = client.get_registered_model("loyalty_ml")
    assert {k: str(v) for k, v in model.aliases.items()} == {
        "champion": v3.version
    }  # v2's @challenger retired by v3
    tags = {r.version: client.get_model_version("loyalty_ml", r.version).tags for r in (v1, v2, v3)}
    assert tags[v1.version]["promotion"] == f"superseded by version {v3.version} (@champion)"
    assert tags[v2.version]["promotion"] == f"retired: version {v3.version} became @champion"
    assert tags[v2.version]["promotion_reason"].startswith("fairness gate failed")
    assert tags[v3.version]["promotion"] == "champion"
    runs = {r.version: client.get_run(r.run_id).data.tags for r in (v1, v2, v3)}
    for result in (v1, v2, v3):
        run = runs[result.version]
        assert run["registered_version"] == result.version
        assert run["promotion"] == result.alias
        assert run["promotion_reason"] == result.reason
        assert run["promotion_reason"] == tags[result.version]["promotion_reason"]
    assert runs[v1.version]["promotion_champion_metric"] == "no champion"
    assert runs[v2.version]["fairness_gate"] == "failed"
    assert runs[v3.version]["fairness_gate"] == "passed"
    # v3 is judged against the serving champion v1 (not the challenger v2) on its own rows
    assert runs[v3.version]["promotion_champion_metric"].startswith(
        f"champion v{v1.version} scored on this run's backtest"
    )
    # the nights were scored by the champion of their date: v1 until v3 replaced it
    assert {programme.version[n] for n in NIGHTS["2024-11-01"]} == {v1.version}
    assert {programme.version[n] for n in NIGHTS["2024-12-01"]} == {v3.version}


def test_monthly_training_does_not_learn_offer_effects_from_the_jobs_own_sends(
    programme: Programme,
) -> None:
    cutoff = pd.Timestamp(TRAININGS[-1])
    closed = programme.campaigns.loc[
        programme.campaigns["sent_at"] + pd.Timedelta(days=WINDOW_DAYS) <= cutoff
    ]
    randomised = closed["campaign_id"].nunique()
    assert randomised == 7
    used = programme.results[-1].metrics["uplift_campaigns"]
    warned = [m for m in programme.train_warnings[-1] if "control" in m and "campaign" in m]
    assert used == randomised or warned, (used, programme.train_warnings[-1])


# -- 5. drift --------------------------------------------------------------------------------------
def test_no_drift_warning_night_after_night_on_the_same_kind_of_data(programme: Programme) -> None:
    # track B against v1, whose training saw the same kind of campaign history (v3's saw the
    # nightly sends of track A: track B's nights under v3 are another population)
    v1 = programme.results[0].version
    nights = [n for n in _nights(programme) if programme.version[n] == v1]
    assert len(nights) == 10
    for night in nights:
        drift = [m for m in programme.plain_warnings[night] if m.startswith("DriftWarning")]
        assert not drift, (night, drift)


# -- 6. a retried night ----------------------------------------------------------------------------
def test_a_retried_night_gives_the_same_answer_and_one_more_run(in_store: Programme) -> None:
    from loyalty_ml.tracking.scoring import score_customers

    prog = in_store
    client = mlflow.MlflowClient(tracking_uri=prog.uri)
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    assert experiment is not None

    def runs_of(night: pd.Timestamp) -> int:
        found = client.search_runs(
            [experiment.experiment_id], filter_string=f"params.as_of = '{night.date()}'"
        )
        return len(found)

    night = pd.Timestamp("2024-11-05")
    assert runs_of(night) == 1
    history = prog.history(night)
    n_history = len(history)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DataQualityWarning/DriftWarning were recorded already
        again = score_customers(
            prog.tx.loc[prog.tx["timestamp"] < night],
            as_of=night,
            customers=prog.customers,
            campaigns=history,
            model_uri=f"models:/loyalty_ml/{prog.version[night]}",
            tracking_uri=prog.uri,
        )
    pd.testing.assert_frame_equal(again, prog.fed[night])
    assert runs_of(night) == 2
    # the earlier run is marked, so that a dashboard counts one run a night
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"params.as_of = '{night.date()}'",
        order_by=["attributes.start_time ASC"],
    )
    first, retry = runs
    assert first.data.tags["superseded_by"] == retry.info.run_id
    assert "superseded_by" not in retry.data.tags
    assert retry.data.tags["rescores"] == first.info.run_id
    live = client.search_runs(
        [experiment.experiment_id], filter_string="tags.superseded_by IS NULL", max_results=1000
    )
    assert len(live) == len(_nights(prog))  # one run a night
    assert len(history) == n_history  # the job never writes the history it is given
    # the run counts the night's offers per offer id and per offer_reason (exact labels in a table)
    counts = again["offer_id"].value_counts()
    assert len(counts) > 0
    for offer, n in counts.items():
        assert retry.data.metrics[f"n_offer_{offer}"] == n
    assert retry.data.metrics["expected_cost_total"] == pytest.approx(again["expected_cost"].sum())
    folder = mlflow.artifacts.download_artifacts(
        run_id=retry.info.run_id, artifact_path="decisions", tracking_uri=prog.uri
    )
    table = pd.read_csv(f"{folder}/offers.csv", index_col="offer_id", dtype={"offer_id": str})
    assert table.loc[table["n"] > 0, "n"].to_dict() == counts.to_dict()
    assert set(table.index) == set(prog.offers["offer_id"])  # every offer, 0 when not made
