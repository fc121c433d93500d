"""Audit: the nightly cron job run from the shell only (``loyalty-ml train`` / ``loyalty-ml score``).

One module-scoped fixture plays the operator of a cron job on the simulator (600 customers, seed 3),
everything through ``loyalty_ml.cli.main`` and CSV files, one embedded MLflow store (SQLite):
``train`` on 2024-10-01 (v1), then 14 nights every 3-4 days (2024-10-02..11-16) of
``score --campaigns campaigns.csv --sends sends.csv --sent-at "DATE 09:00"``, each night's
sends.csv appended to campaigns.csv as an operator does it (both read with ``pd.read_csv``,
concatenated, written back). One night forgets ``--sent-at`` (sends at AS_OF 00:00), one has a
``--budget``. Retrains read the grown campaigns file: on 2024-11-02 with the default promotion rule,
on 2024-11-08 with a churn model that can hardly rank (not promoted), on 2024-11-12 with
``--promotion-tolerance 1 --fairness-override REASON`` (promoted; without the override it fails
the fairness gate, age_band selection-rate gap 0.121 > 0.1). The night of 2024-11-06 is retried
and its sends appended twice; the next night (since the fix, kept once with a warning; before
it, refused) is followed by the operator dropping the repeated rows. About 50 s.

Found right (plain guard tests):

- every night exits 0, leaves no temporary file, and its sends pass ``validate_campaigns(...,
  offers=)`` after the CSV round trip; the grown campaigns.csv (text ids, an empty ``redeemed_at``,
  ``sent_at`` written as ``2024-10-09`` and ``2024-10-02 09:00:00``, ``policy_offer_id`` empty on the
  simulator's rows) is read back by every later ``score`` and ``train`` with no warning;
- the contact rule holds across nights and across the simulator's last campaign: no customer has
  two rows (send or control) within 30 days, held-out customers are never sent anything; the
  monthly caps hold; nobody without marketing (or profiling) consent gets a row; one row per
  customer a night; a night without ``--sent-at`` is read back as a contact by the next night;
- the ``--budget`` night keeps the offers' expected cost within the budget and says
  ``budget exhausted``;
- retrains read the nightly campaigns and learn from the closed nightly experiments
  (``uplift_campaigns`` 6 -> 8), with no warning beyond DataQualityWarnings; the mid retrain
  (AUC 0.948 vs 0.960) and the weak one stay @challenger and v1 keeps scoring, the promoted one
  scores the next night (each scoring run logs the version used; one live run a night);
- a retried night gives the same sends to the byte and one more scoring run (the earlier tagged
  ``superseded_by``); once the repeated rows are dropped the job goes on;
- no traceback on stderr anywhere.

Defects, written first as strict xfails; all fixed the same day (2026-12-02) and kept as
regression tests: ``validate_campaigns`` keeps a row repeated exactly once, with a
DataQualityWarning naming its campaigns (conflicting rows are still refused, now naming their
campaigns); a ragged CSV names the appended columns and how to append; ``score`` prints the
model version; the uplift backtest pools the latest campaigns up to 200 rows (and logs
``backtest_uplift_rows``); a nightly campaign without a withheld customer is left out of the
uplift fit without a warning:

- ``test_a_night_appended_twice_is_counted_once_not_a_failed_job``: the night after a doubled
  append exits 1 (``validate_campaigns`` refuses repeated rows) although ``score_customers``
  counts a repeated send once in Python and transactions drop exact duplicates.
- ``test_a_shell_append_of_sends_to_the_starting_campaigns_file_is_readable``: ``tail -n +2
  sends.csv >> campaigns.csv`` (the help's "append them") breaks the next night with a pandas
  tokenizer error ("Expected 6 fields ... saw 7"), not naming the extra ``policy_offer_id``.
- ``test_retrain_backtests_the_offer_model_on_more_than_one_nightly_campaign``: once nightly
  sends are appended, the uplift backtest is the last nightly per-offer campaign (32 rows, 1 arm,
  Qini -0.85; then 7 rows, NaN) instead of a whole campaign (5 arms, Qini 0.11).
- ``test_the_score_log_says_which_model_version_scored``: ``score`` never prints the model version
  it used, so a cron log cannot tell whether a retrain took over.
- ``test_retrain_warning_does_not_blame_nightly_sends_for_missing_control_rows``: the monthly
  retrain warns that nightly campaigns "fed back without the holdout's control rows" were dropped,
  for campaigns ``nightly_sends`` itself wrote (no holdout customer was planned that offer).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

import loyalty_ml as lml
from loyalty_ml.cli import main, read_table

pytestmark = [pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)]

N_CUSTOMERS = 600
SEED = 3
FAST = {
    "churn_params": {"n_estimators": 20, "early_stopping_rounds": 5},
    "uplift_params": {"n_estimators": 7, "learning_rate": 0.1},
}
#: A churn model that can hardly rank anyone: the retrain that must not be promoted.
WEAK = {
    "churn_params": {
        "n_estimators": 1,
        "num_leaves": 2,
        "min_child_samples": 400,
        "early_stopping_rounds": None,
    },
    "uplift_params": FAST["uplift_params"],
}
NIGHTS = (
    "2024-10-02",
    "2024-10-05",
    "2024-10-09",
    "2024-10-12",
    "2024-10-16",
    "2024-10-19",
    "2024-10-23",
    "2024-10-26",
    "2024-10-30",
    "2024-11-02",
    "2024-11-06",
    "2024-11-09",
    "2024-11-12",
    "2024-11-16",
)
#: Retrains, by the night before which they run: (label, as_of, config, extra options).
TRAININGS = {
    "2024-11-02": ("mid", "2024-11-02", "fast.json", ()),
    "2024-11-09": ("weak", "2024-11-08", "weak.json", ()),
    "2024-11-12": (
        "forced",
        "2024-11-12",
        "fast.json",
        ("--promotion-tolerance", "1", "--fairness-override", "cron audit: promote this one"),
    ),
}
NO_SENT_AT = "2024-10-09"  # the operator forgot --sent-at that night: the sends are at 00:00
BUDGET_NIGHT = "2024-10-02"
BUDGET = 1.0
RETRIED = "2024-11-06"  # scored twice, its sends appended twice
AFTER_RETRY = "2024-11-09"
CONTACT_DAYS = 30
ALLOWED_TRAIN_WARNINGS = ("DataQualityWarning", "DriftWarning", "SADeprecationWarning")


@dataclass
class Run:
    status: int
    out: str
    err: str
    warnings: list[str]


@dataclass
class Cron:
    folder: Path
    uri: str
    data: Any
    trainings: dict[str, Run] = field(default_factory=dict)
    nights: dict[str, Run] = field(default_factory=dict)
    scores: dict[str, pd.DataFrame] = field(default_factory=dict)
    sends: dict[str, pd.DataFrame] = field(default_factory=dict)  # validated, as read back
    sends_text: dict[str, str] = field(default_factory=dict)
    champion: dict[str, str] = field(default_factory=dict)  # the @champion version each night
    retry: Run | None = None
    retry_sends_text: str = ""
    doubled: Run | None = None  # the night after the doubled append
    leftovers: list[str] = field(default_factory=list)


def _call(args: list[str]) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(args)
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    return Run(status, out.getvalue(), err.getvalue(), messages)


def _tables(folder: Path, campaigns: str = "campaigns.csv") -> list[str]:
    return [
        "--transactions",
        str(folder / "tx.csv"),
        "--customers",
        str(folder / "customers.csv"),
        "--campaigns",
        str(folder / campaigns),
    ]


def _train(folder: Path, uri: str, as_of: str, config: str, *extra: str) -> Run:
    return _call(
        [
            "train",
            *_tables(folder),
            "--offers",
            str(folder / "offers.csv"),
            "--as-of",
            as_of,
            "--config",
            str(folder / config),
            "--tracking-uri",
            uri,
            *extra,
        ]
    )


def _score(folder: Path, uri: str, night: str, *extra: str) -> Run:
    return _call(
        [
            "score",
            *_tables(folder),
            "--as-of",
            night,
            "--output",
            str(folder / "out" / f"scores-{night}.csv"),
            "--sends",
            str(folder / "out" / f"sends-{night}.csv"),
            "--tracking-uri",
            uri,
            *extra,
        ]
    )


def _append(folder: Path, night: str) -> None:
    """What the operator does after each night: both CSVs read with pandas, concatenated."""
    campaigns = pd.read_csv(folder / "campaigns.csv")
    sends = pd.read_csv(folder / "out" / f"sends-{night}.csv")
    pd.concat([campaigns, sends], ignore_index=True).to_csv(folder / "campaigns.csv", index=False)


def _champion(uri: str) -> str:
    client = mlflow.MlflowClient(tracking_uri=uri)
    return str(client.get_model_version_by_alias("loyalty_ml", "champion").version)


@pytest.fixture(scope="module")
def cron(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cron]:
    folder = tmp_path_factory.mktemp("cron")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = lml.datasets.simulate(
        n_customers=N_CUSTOMERS, start="2023-01-01", end="2024-12-31", seed=SEED
    )
    data.transactions.to_csv(folder / "tx.csv", index=False)
    data.customers.to_csv(folder / "customers.csv", index=False)
    data.campaigns.to_csv(folder / "campaigns.csv", index=False)
    data.offers.to_csv(folder / "offers.csv", index=False)
    shutil.copy(folder / "campaigns.csv", folder / "campaigns-start.csv")
    (folder / "fast.json").write_text(json.dumps(FAST), encoding="utf-8")
    (folder / "weak.json").write_text(json.dumps(WEAK), encoding="utf-8")
    cron = Cron(folder, uri, data)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        cron.trainings["first"] = _train(folder, uri, "2024-10-01", "fast.json")
        for night in NIGHTS:
            if night == AFTER_RETRY:
                # the retried night: scored again, and its sends appended a second time
                cron.retry = _score(folder, uri, RETRIED, "--sent-at", f"{RETRIED} 09:00")
                cron.retry_sends_text = (folder / "out" / f"sends-{RETRIED}.csv").read_text()
                _append(folder, RETRIED)
                cron.doubled = _score(folder, uri, night, "--sent-at", f"{night} 09:00")
                # the operator repairs the file as the message says (one row per campaign and
                # customer) before the night is run again
                repaired = pd.read_csv(folder / "campaigns.csv").drop_duplicates()
                repaired.to_csv(folder / "campaigns.csv", index=False)
            if night in TRAININGS:
                label, as_of, config, extra = TRAININGS[night]
                cron.trainings[label] = _train(folder, uri, as_of, config, *extra)
            options = [] if night == NO_SENT_AT else ["--sent-at", f"{night} 09:00"]
            if night == BUDGET_NIGHT:
                options += ["--budget", str(BUDGET)]
            run = _score(folder, uri, night, *options)
            cron.nights[night] = run
            cron.champion[night] = _champion(uri)
            if run.status != 0:
                continue
            scores = read_table(folder / "out" / f"scores-{night}.csv", table="scores")
            scores["customer_id"] = scores["customer_id"].astype("int64")
            cron.scores[night] = scores.set_index("customer_id")
            path = folder / "out" / f"sends-{night}.csv"
            cron.sends_text[night] = path.read_text()
            cron.sends[night] = lml.validate_campaigns(
                read_table(path, table="campaigns"), offers=data.offers
            )
            _append(folder, night)
        cron.leftovers = [p.name for p in (folder / "out").iterdir() if p.suffix == ".tmp"]
        yield cron


@pytest.fixture
def in_store(cron: Cron, monkeypatch: pytest.MonkeyPatch) -> Cron:
    monkeypatch.chdir(cron.folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return cron


def _campaigns_file(cron: Cron) -> pd.DataFrame:
    """The grown campaigns file, read as the command line reads it."""
    frame = read_table(cron.folder / "campaigns.csv", table="campaigns")
    out = lml.validate_campaigns(frame, offers=cron.data.offers)
    return out.assign(customer_id=out["customer_id"].astype("int64"))


def _nightly_rows(cron: Cron) -> pd.DataFrame:
    rows = pd.concat(cron.sends.values(), ignore_index=True)
    return rows.assign(customer_id=rows["customer_id"].astype("int64"))


def _run_metrics(cron: Cron, label: str) -> tuple[str, dict[str, float], dict[str, str]]:
    """The version, run metrics and run tags of a training (its stdout names the version)."""
    found = re.search(r"version (\d+) as @(\w+)", cron.trainings[label].out)
    assert found, cron.trainings[label].out
    client = mlflow.MlflowClient(tracking_uri=cron.uri)
    run = client.get_run(client.get_model_version("loyalty_ml", found.group(1)).run_id)
    return found.group(2), run.data.metrics, run.data.tags


def _live_scoring_runs(cron: Cron) -> dict[str, Any]:
    client = mlflow.MlflowClient(tracking_uri=cron.uri)
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.superseded_by IS NULL", max_results=1000
    )
    return {r.data.params["as_of"]: r for r in runs}


# -- 1. every night runs, writes, and its files read back ---------------------------------------
def test_every_night_exits_0_and_its_sends_read_back_as_campaign_rows(cron: Cron) -> None:
    assert {label: run.status for label, run in cron.trainings.items()} == dict.fromkeys(
        ("first", "mid", "weak", "forced"), 0
    )
    assert {n: r.status for n, r in cron.nights.items()} == dict.fromkeys(NIGHTS, 0)
    assert cron.leftovers == []
    total_sent = 0
    for night in NIGHTS:
        run, scores, sends = cron.nights[night], cron.scores[night], cron.sends[night]
        # one customer once a night; the night's rows are what the scores say
        assert sends["customer_id"].is_unique, night
        treated = sends.loc[sends["offer_id"] != "control"]
        assert len(treated) == scores["offer_id"].notna().sum(), night
        assert len(sends) - len(treated) == scores["holdout_offer_id"].notna().sum(), night
        assert sends["campaign_id"].str.startswith(f"nightly-{night}:").all(), night
        assert sends["redeemed_at"].isna().all() and not sends["redeemed"].any()
        assert f"Wrote {len(treated):,} sends and {len(sends) - len(treated):,} withheld" in run.out
        assert "Traceback" not in run.err and run.err == "", (night, run.err)
        # the grown file read back raised no warning (ids, empty dates, mixed sent_at formats)
        assert not [w for w in run.warnings if not w.startswith("DriftWarning")], run.warnings
        total_sent += len(treated)
    assert total_sent > 100, total_sent
    # the file an operator grew: both sent_at spellings, old rows without policy_offer_id
    raw = pd.read_csv(cron.folder / "campaigns.csv")
    assert raw["sent_at"].str.len().isin([10]).any() and raw["sent_at"].str.len().eq(19).any()
    assert raw["policy_offer_id"].isna().sum() == len(cron.data.campaigns)
    grown = _campaigns_file(cron)
    assert len(grown) == len(cron.data.campaigns) + sum(map(len, cron.sends.values()))


def test_a_night_without_sent_at_is_a_contact_for_the_next_night(cron: Cron) -> None:
    sends = cron.sends[NO_SENT_AT]
    assert (sends["sent_at"] == pd.Timestamp(NO_SENT_AT)).all()
    treated = sends.loc[sends["offer_id"] != "control", "customer_id"].astype("int64")
    assert len(treated) > 0
    following = cron.scores[NIGHTS[NIGHTS.index(NO_SENT_AT) + 1]]
    said = following.loc[treated.to_numpy(), "offer_reason"]
    # rested, unless no trigger fires for them the next night (the rule comes first)
    assert said.isin(["contacted recently", "no trigger fired"]).all(), said.value_counts()
    assert (said == "contacted recently").mean() > 0.5
    assert following.loc[treated.to_numpy(), "offer_id"].isna().all()


# -- 2. the rules hold across nights ------------------------------------------------------------
def test_contact_rule_holds_across_nights_and_the_starting_campaigns(cron: Cron) -> None:
    grown = _campaigns_file(cron).sort_values(["customer_id", "sent_at"])
    gap = grown.groupby("customer_id")["sent_at"].diff()
    nightly = grown["policy_offer_id"].notna()
    # a nightly row (a send or a withheld control row) never within 30 days of the customer's
    # previous row, be it a nightly one or one of the simulator's campaigns
    too_soon = nightly & (gap < pd.Timedelta(days=CONTACT_DAYS))
    assert not too_soon.any(), grown.loc[too_soon].head()
    rows = _nightly_rows(cron)
    control = set(rows.loc[rows["offer_id"] == "control", "customer_id"])
    treated = set(rows.loc[rows["offer_id"] != "control", "customer_id"])
    assert control and not control & treated  # the holdout is never sent anything
    assert rows.groupby("customer_id").size().max() <= 2  # six weeks: at most twice, 30 days apart


def test_monthly_caps_and_consent_hold_over_the_nights(cron: Cron) -> None:
    grown = _campaigns_file(cron)
    sent = grown.loc[grown["offer_id"] != "control"]
    month = sent["sent_at"].dt.to_period("M").rename("month")
    counts = sent.groupby(["customer_id", "offer_id", month]).size()
    caps = cron.data.offers.set_index("offer_id")["max_per_month"]
    limit = caps.reindex(counts.index.get_level_values("offer_id")).to_numpy()
    assert (counts.to_numpy() <= limit).all()
    people = cron.data.customers.set_index("customer_id")
    rows = _nightly_rows(cron)
    assert people.loc[rows["customer_id"], "consent_marketing"].all()
    assert people.loc[rows["customer_id"], "consent_profiling"].all()
    # and the nights did meet customers without consent: they were told why
    said = pd.concat(cron.scores.values())["offer_reason"]
    assert {"no marketing consent", "no profiling consent"} <= set(said)


def test_the_budget_night_stays_within_its_budget(cron: Cron) -> None:
    scores = cron.scores[BUDGET_NIGHT]
    offered = scores["offer_id"].notna()
    assert offered.sum() > 0
    assert float(scores.loc[offered, "expected_cost"].sum()) <= BUDGET + 1e-9
    assert (scores["offer_reason"] == "budget exhausted").any()  # the budget did bind
    assert (scores.loc[~offered, "expected_cost"].fillna(0) == 0).all()


# -- 3. retrains on the grown file --------------------------------------------------------------
def test_retrains_read_the_nightly_campaigns_and_learn_from_the_closed_ones(cron: Cron) -> None:
    first, mid = _run_metrics(cron, "first"), _run_metrics(cron, "mid")
    # 2024-11-02: the nights of 2024-10-02 closed their 30-day window, and their offers with
    # withheld customers are experiments the offer model uses
    assert mid[1]["uplift_campaigns"] > first[1]["uplift_campaigns"], (first[1], mid[1])
    for label in ("first", "mid", "weak", "forced"):
        run = cron.trainings[label]
        assert "Traceback" not in run.err
        unexpected = [w for w in run.warnings if not w.startswith(ALLOWED_TRAIN_WARNINGS)]
        assert not unexpected, (label, unexpected)


def test_a_retrain_not_promoted_leaves_the_old_champion_scoring(in_store: Cron) -> None:
    cron = in_store
    weak_alias, _, weak_tags = _run_metrics(cron, "weak")
    assert weak_alias == "challenger"
    assert "worse than the champion" in weak_tags["promotion_reason"]
    assert "@challenger" in cron.trainings["weak"].out and "reason:" in cron.trainings["weak"].out
    forced_alias, _, _ = _run_metrics(cron, "forced")
    assert forced_alias == "champion"
    before_forced = [n for n in NIGHTS if n < "2024-11-12"]
    assert {cron.champion[n] for n in before_forced} != {cron.champion["2024-11-16"]}
    runs = _live_scoring_runs(cron)
    assert set(runs) == set(NIGHTS)  # one live scoring run a night, the retry included
    for night in NIGHTS:
        assert runs[night].data.params["model_version"] == cron.champion[night], night
        assert runs[night].data.params["model_uri"] == "models:/loyalty_ml@champion"
    # the night after the weak retrain was scored by the champion of the night before it
    assert cron.champion[AFTER_RETRY] == cron.champion[RETRIED]
    assert cron.champion["2024-11-12"] != cron.champion[AFTER_RETRY]


# -- 4. a retried night -------------------------------------------------------------------------
def test_a_retried_night_is_the_same_night_and_one_more_run(in_store: Cron) -> None:
    cron = in_store
    assert cron.retry is not None and cron.retry.status == 0
    assert cron.retry_sends_text == cron.sends_text[RETRIED]
    client = mlflow.MlflowClient(tracking_uri=cron.uri)
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"params.as_of = '{RETRIED}'",
        order_by=["attributes.start_time ASC"],
    )
    assert len(runs) == 2
    assert runs[0].data.tags["superseded_by"] == runs[1].info.run_id


def test_a_night_appended_twice_is_kept_once_with_a_warning_naming_the_campaigns(
    cron: Cron,
) -> None:
    assert cron.doubled is not None
    assert "Traceback" not in cron.doubled.err
    (note,) = [w for w in cron.doubled.warnings if "repeat another row exactly" in w]
    repeated = len(cron.retry_sends_text.strip().splitlines()) - 1  # the night's rows, header off
    assert repeated > 0
    assert note.startswith(
        f"DataQualityWarning: campaigns: {repeated} rows repeat another row exactly"
    )
    assert f"nightly-{RETRIED}:" in note  # the campaigns, not the customers
    # and after drop_duplicates (no longer needed) the job went on the same way
    assert cron.nights[AFTER_RETRY].status == 0


def test_a_night_appended_twice_is_counted_once_not_a_failed_job(cron: Cron) -> None:
    assert cron.doubled is not None
    assert cron.doubled.status == 0, cron.doubled.err


def test_a_shell_append_of_sends_to_the_starting_campaigns_file_is_readable(
    cron: Cron, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name in ("tx.csv", "customers.csv"):
        shutil.copy(cron.folder / name, tmp_path / name)
    text = (cron.folder / "campaigns-start.csv").read_text()
    body = cron.sends_text[NIGHTS[0]].split("\n", 1)[1]  # tail -n +2 sends.csv
    (tmp_path / "campaigns.csv").write_text(text + body)
    run = _call(
        [
            "score",
            *_tables(tmp_path),
            "--as-of",
            NIGHTS[1],
            "--output",
            str(tmp_path / "scores.csv"),
            "--tracking-uri",
            cron.uri,
            "--no-log-run",
        ]
    )
    assert "Traceback" not in run.err
    assert run.status == 0 or "policy_offer_id" in run.err, run.err


# -- 5. what the operator reads -----------------------------------------------------------------
def test_the_score_log_says_which_model_version_scored(cron: Cron) -> None:
    for night in NIGHTS:
        assert f"version {cron.champion[night]}" in cron.nights[night].out, night


def test_retrain_backtests_the_offer_model_on_more_than_one_nightly_campaign(
    cron: Cron,
) -> None:
    def judged(label: str) -> dict[str, float]:
        """The offers the uplift backtest judged, with their Qini AUC."""
        metrics = _run_metrics(cron, label)[1]
        return {
            k: v
            for k, v in metrics.items()
            if k.startswith("backtest_qini_auc_") and k != "backtest_qini_auc_mean"
        }

    assert len(judged("first")) == 5  # the simulator's last campaign tried every offer
    for label in ("mid", "weak", "forced"):
        assert len(judged(label)) >= 3, (label, judged(label))


def test_retrain_warning_does_not_blame_nightly_sends_for_missing_control_rows(
    cron: Cron,
) -> None:
    grown = _campaigns_file(cron)
    nightly_ids = set(grown.loc[grown["policy_offer_id"].notna(), "campaign_id"])
    # the situation arose: nightly campaigns (an offer on a night) without a withheld customer
    control = grown["offer_id"].eq("control").groupby(grown["campaign_id"]).any()
    assert (~control.loc[sorted(nightly_ids)]).sum() >= 4
    warned = [
        w
        for label in ("mid", "weak", "forced")
        for w in cron.trainings[label].warnings
        if "without a control group" in w
    ]
    # they are left out of the uplift fit as expected, without a warning that blames the job
    assert not any("nightly-" in w for w in warned), warned
