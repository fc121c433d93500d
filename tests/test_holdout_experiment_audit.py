"""Audit of the holdout-as-experiment features of 2026-12-02 (commits 3bdb771, 6a33241, 1fb4e6d).

What was audited: ``LoyaltyPolicy.decide``'s new ``expected_cost`` and ``holdout_offer_id`` columns
(budgets 0..60 on a hand-made two-offer policy, an all-holdout batch, a batch whose only consenting
customers are held out, ids as int/text/float, a pickled policy, a second night fed the first
night's sends); ``score_customers``' new scoring-run metrics and artifacts (``expected_cost_total``,
``n_offer_<id>``, ``n_reason_<reason>``, ``decisions/offers.csv`` / ``reasons.csv``) on a policy
trained on 400 simulated customers whose offers are renamed ``"a_b"``, ``"a/b"`` and ``"x y"``;
the registered pyfunc's answer (with a ``customer_id`` column) fed to ``nightly_sends``; the
contact rule for recent control rows; ``nightly_sends`` on empty decisions, an all-holdout batch,
``no_profiling_consent`` rows, a tz-aware ``sent_at``, a ``campaign_id`` with ``":"``, repeated
ids, offer ids read back from CSV (floats), and whether ``validate_campaigns`` takes its output as
it is and keeps ``policy_offer_id``.

Found right (guards below):

- the offered customers' expected cost never exceeds the budget (0, 1, 5, 20, 60); budget 0 makes
  no offer and plans none for the holdout; an all-holdout batch, or one whose non-held customers
  all lack marketing consent, is planned with the whole budget and never offered anything;
- the holdout and its plan do not depend on the ids' dtype (17, "17", 17.0); a pickled policy
  decides the same;
- ``nightly_sends``: empty decisions give an empty table that validates; an all-holdout batch gives
  control rows only; ``no_profiling_consent`` rows give nothing; a tz-aware ``sent_at`` keeps its
  instant; a ``campaign_id`` holding ``":"`` keeps the exact offer in ``policy_offer_id``;
  ``validate_campaigns`` accepts the rows appended to the simulated campaigns and keeps
  ``policy_offer_id``;
- ``score_customers``: ``expected_cost_total`` is the sum of the decisions' ``expected_cost``,
  ``decisions/offers.csv`` and ``reasons.csv`` hold the exact labels and counts; the pyfunc's answer
  (ids as a column) and ``decide`` give the same night of sends; the next night the offered rest
  ("contacted recently") and the withheld are not planned again.

Defects, written first as strict xfails; all fixed the same day and kept as regression tests
(the holdout's plan reads a withheld offer as sent for the caps; metric names keep valid ids and
hash the others; every catalog offer and reason is counted, 0 included, with its metric name in
the artifacts; nightly_sends refuses repeated ids and reads offer ids with coerce_label; the
training metric backtest_qini_auc_<offer> uses the same key; the pooled measurement is documented
on the offers with withheld customers, and the refusal of an arm without controls says so):

- the holdout's plan ignores the monthly caps the treated hit: control rows never count towards
  ``max_per_month`` (``policy/offers.py:_capped``, used by ``tracking/policy.py:_offers.plan_for``),
  so on a second night in the month 83 of 83 withheld customers are planned ``d5`` again while all
  317 treated customers of ``d5`` moved to ``d10``: the two arms stop being alike;
- ``n_offer_a_b`` counts the offer ``"a/b"`` (8 customers), and the offer literally named
  ``"a_b"`` (37) is logged as ``n_offer_a_b_2``; which offer gets the suffix depends on the offers
  made that night (``tracking/scoring.py:_log_scoring_run``), and ``offers.csv`` does not say which
  key is which;
- an offer or reason absent on a night has no metric at all instead of 0 (3 of the 5 catalog offers
  and 8 of the 11 reasons of ``REASONS``), so a dashboard cannot see a count fall to 0;
- ``nightly_sends`` accepts repeated customer ids: one customer sent ``d5`` and ``d10`` on one night
  in two campaigns, which ``validate_campaigns`` cannot see (``tracking/sends.py``);
- ``nightly_sends`` writes an offer id read back from CSV (101.0) as ``"101.0"`` (``astype("str")``
  instead of ``coerce_label``): ``validate_campaigns(offers=...)`` then refuses the night's rows;
- ``train_and_register`` cannot register a catalog with an offer named ``"10% off"`` (raw
  MlflowException from the metric ``backtest_qini_auc_10% off``, ``tracking/_offers.py:325``), so
  the sanitised scoring metrics for such ids are never reached.
- the README's pooled measurement (``measure_campaign(sends, ..., by=["policy_offer_id",
  "offer_id"])``) raises for the whole table when one offer was sent but never withheld (5 sends
  of ``disc15``, no control), ``kpis/campaigns.py:210``; neither the README nor ``nightly_sends``
  says to keep only the offers with withheld customers, as ``tests/test_nightly_sends.py`` does.

Found while fixing them: a registry URI left in ``MLFLOW_REGISTRY_URI`` (``set_registry_uri(None)``
does not remove it) sent ``train_and_register``'s model to another store and failed after
training with a raw MlflowException; it is now refused up front with a TrackingError.

Noted, not tested as defects: ``score_customers`` gives ``expected_cost`` NaN (not 0) on
``no_profiling_consent`` rows (as ``expected_net_value`` always was: "no score"); the README's
``measure_campaign(sends, ...)`` leaves ``sends`` undefined, and on the whole appended campaigns
table the refusal says ``policy_offer_id`` is missing and to fix it as
"loyalty_ml.validate_transactions does" (a campaigns table); a tz-aware ``sent_at`` names the
campaign by its local date while ``validate_campaigns`` puts the row on UTC (documented).
"""

from __future__ import annotations

import dataclasses
import pickle
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING
from policy_fixtures import hand_made_features, hand_made_policy

import loyalty_ml as lml
from loyalty_ml.exceptions import DataError, DataQualityWarning, SchemaError
from loyalty_ml.policy.offers import REASONS
from loyalty_ml.tracking.drift import DriftWarning
from loyalty_ml.tracking.policy import LoyaltyPolicy
from loyalty_ml.tracking.sends import nightly_sends

pytestmark = [pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)]

FAST = {
    "churn_params": {"n_estimators": 20, "early_stopping_rounds": 5},
    "uplift_params": {"n_estimators": 7, "learning_rate": 0.1},
}


# -- a hand-made policy: two offers, d5 once a month, 20% holdout, everyone triggered ------------
@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return hand_made_features()


@pytest.fixture(scope="module")
def policy(features: pd.DataFrame) -> LoyaltyPolicy:
    return hand_made_policy(
        features,
        catalog={"max_per_month": [1, 5]},
        min_days_between_offers=14,  # a configured rest shorter than a month (README: 14)
        high_risk_threshold=0.0,  # every customer triggered
        medium_risk_threshold=0.0,
    )


# -- guards: decide ---------------------------------------------------------------------------------
def test_the_offered_never_cost_more_than_the_budget_and_the_holdout_is_never_sent(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    held = policy.holdout_mask(features.index)
    assert 60 < held.sum() < 110
    for budget in (0.0, 1.0, 5.0, 20.0, 60.0):
        out = policy.decide(features, reasons="none", budget=budget)
        offered = out["offer_id"].notna()
        assert float(out.loc[offered, "expected_cost"].sum()) <= budget + 1e-9
        assert (out.loc[~offered, "expected_cost"] == 0).all()
        assert out.loc[held, "offer_id"].isna().all()
        # "holdout" where an offer was withheld; one the holdout's budget left out says so
        withheld = out["holdout_offer_id"].notna()
        assert (out["offer_reason"].eq("holdout") == withheld).all()
        assert (out.loc[held & ~withheld, "offer_reason"] == "budget exhausted").all()
        assert out.loc[~held, "holdout_offer_id"].isna().all()
        if budget == 0:
            assert not offered.any() and out["holdout_offer_id"].isna().all()
            assert set(out["offer_reason"]) == {"budget exhausted"}
    # a batch of held-out customers only, and one whose other customers lack marketing consent:
    # nobody is sent anything, and the holdout is planned with the whole budget
    alone = policy.decide(features.loc[held], reasons="none", budget=5.0)
    assert alone["offer_id"].isna().all()
    assert (alone["offer_reason"].eq("holdout") == alone["holdout_offer_id"].notna()).all()
    silent = policy.decide(
        features,
        reasons="none",
        budget=5.0,
        consent_marketing=pd.Series(held, index=features.index),
    )
    assert silent["offer_id"].isna().all()
    pd.testing.assert_series_equal(
        silent.loc[held, "holdout_offer_id"], alone["holdout_offer_id"], check_names=False
    )
    assert 0 < alone["holdout_offer_id"].notna().sum() < held.sum()


def test_the_holdout_and_its_plan_do_not_depend_on_the_ids_dtype_nor_on_a_pickle(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    base = policy.decide(features, reasons="none")
    assert base["holdout_offer_id"].notna().sum() > 40
    for ids in (features.index.astype(str), features.index.astype(float)):
        again = policy.decide(features.set_axis(ids.rename("customer_id")), reasons="none")
        for column in ("offer_id", "holdout_offer_id", "offer_reason"):
            assert again[column].tolist() == base[column].tolist(), column
    restored = pickle.loads(pickle.dumps(policy))
    pd.testing.assert_frame_equal(restored.decide(features, reasons="none"), base)


# -- guards: nightly_sends -------------------------------------------------------------------------
def _decisions(offers: list[Any], withheld: list[Any], ids: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {"offer_id": offers, "holdout_offer_id": withheld},
        index=pd.Index(ids, name="customer_id"),
    ).astype({"offer_id": "str", "holdout_offer_id": "str"})


def test_nightly_sends_on_empty_all_holdout_unprofiled_and_tz_aware_nights() -> None:
    empty = nightly_sends(_decisions([], [], []), sent_at="2024-11-05 09:00")
    assert len(empty) == 0 and "policy_offer_id" in empty.columns
    assert len(lml.validate_campaigns(empty)) == 0
    # an all-holdout batch: control rows only
    held = nightly_sends(_decisions([None, None], ["d5", None], [7, 8]), sent_at="2024-11-05")
    assert held[["customer_id", "offer_id", "policy_offer_id"]].values.tolist() == [
        [7, "control", "d5"]
    ]
    # rows of score_customers for customers not profiled: no offer, no plan, no row
    scored = _decisions([None, "d5"], [None, None], [1, 2]).assign(
        status=["no_profiling_consent", "scored"]
    )
    assert nightly_sends(scored, sent_at="2024-11-05")["customer_id"].tolist() == [2]
    # a zone-aware send time keeps its instant (and its local date names the campaign)
    when = pd.Timestamp("2024-11-05 23:30", tz="America/Los_Angeles")
    rows = nightly_sends(_decisions(["d5", None], [None, "d5"], [1, 2]), sent_at=when)
    assert (rows["sent_at"] == when).all()
    assert (rows["campaign_id"] == "nightly-2024-11-05:d5").all()
    valid = lml.validate_campaigns(rows)
    assert (valid["sent_at"] == pd.Timestamp("2024-11-06 07:30")).all()  # UTC, naive
    # a campaign name with ':' in it: the exact offer stays in policy_offer_id
    named = nightly_sends(
        _decisions(["a:b", None], [None, "a:b"], [1, 2]), sent_at="2024-11-05", campaign_id="x:y"
    )
    assert named["campaign_id"].tolist() == ["x:y:a:b"] * 2
    assert named["policy_offer_id"].tolist() == ["a:b", "a:b"]


# -- defects: decide -------------------------------------------------------------------------------
def test_the_holdout_plan_counts_its_withheld_offers_against_the_monthly_cap(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    first = policy.decide(features, reasons="none")
    history = nightly_sends(first, sent_at="2024-11-01 09:00")
    second = policy.decide(features, reasons="none", history=history, as_of="2024-11-16")
    sent_d5 = first["offer_id"].eq("d5")
    held_d5 = first["holdout_offer_id"].eq("d5")
    assert sent_d5.sum() > 100 and held_d5.sum() > 20
    treated_now = second.loc[sent_d5, "offer_id"].value_counts(normalize=True)
    assert treated_now.get("d10", 0) == 1.0  # the cap of d5 binds for every treated customer
    held_now = second.loc[held_d5, "holdout_offer_id"].value_counts(normalize=True)
    # the same rules would have capped the withheld customers too
    assert held_now.get("d5", 0) == 0.0, held_now.to_dict()


# -- defects: nightly_sends ------------------------------------------------------------------------
def test_nightly_sends_refuses_a_customer_listed_twice() -> None:
    twice = _decisions(["d5", "d10", None], [None, None, "d5"], [1, 1, 2])
    with pytest.raises((SchemaError, DataError), match="customer"):
        nightly_sends(twice, sent_at="2024-11-05")


def test_nightly_sends_reads_offer_ids_as_the_campaigns_table_does() -> None:
    read_back = pd.DataFrame(
        {"offer_id": [101.0, np.nan], "holdout_offer_id": [np.nan, 101.0]},
        index=pd.Index([1, 2], name="customer_id"),
    )
    rows = nightly_sends(read_back, sent_at="2024-11-05")
    assert rows["policy_offer_id"].tolist() == ["101", "101"]
    offers = pd.DataFrame({"offer_id": ["101"], "cost_per_redemption": [1.0]})
    valid = lml.validate_campaigns(rows, offers=offers)
    assert sorted(valid["offer_id"]) == ["101", "control"]


# -- a registered policy, scored with a logged run -------------------------------------------------
AS_OF = "2024-12-01"
SCORE_AS_OF = "2024-12-15"
#: Offer ids with characters a metric name may not hold as they are ("a/b" -> "a_b").
RENAMED = {"early_access": "a_b", "double_points": "a/b", "disc5": "x y"}


@dataclass
class Scored:
    folder: Path
    uri: str
    data: Any
    customers: pd.DataFrame
    campaigns: pd.DataFrame
    offers: pd.DataFrame
    model_uri: str
    policy: LoyaltyPolicy
    decisions: pd.DataFrame
    metrics: dict[str, float]
    offers_csv: pd.DataFrame
    reasons_csv: pd.DataFrame


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scored]:
    import mlflow

    from loyalty_ml.tracking.scoring import score_customers
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("holdout_experiment")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = lml.datasets.simulate(n_customers=400, start="2023-01-01", end="2024-12-31", seed=5)
    customers = data.customers.drop(columns=["age_band", "gender", "income_band"])
    offers = data.offers.assign(offer_id=data.offers["offer_id"].replace(RENAMED))
    campaigns = data.campaigns.assign(offer_id=data.campaigns["offer_id"].replace(RENAMED))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the embedded store writes its artifacts in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # data-quality notes of a small simulated programme
            trained = train_and_register(
                data.transactions,
                as_of=AS_OF,
                customers=customers,
                campaigns=campaigns,
                offers=offers,
                tracking_uri=uri,
                **FAST,
            )
            decisions = score_customers(
                data.transactions,
                as_of=SCORE_AS_OF,
                customers=customers,
                campaigns=campaigns,
                model_uri=trained.model_uri,
                tracking_uri=uri,
                reasons="none",
                strategy="max_net_value",
            )
        client = mlflow.MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name("loyalty_ml_scoring")
        assert experiment is not None
        (run,) = client.search_runs([experiment.experiment_id])
        got: dict[str, pd.DataFrame] = {}
        for name in ("offers", "reasons"):
            path = client.download_artifacts(run.info.run_id, f"decisions/{name}.csv", str(folder))
            got[name] = pd.read_csv(path, keep_default_na=False)
        yield Scored(
            folder,
            uri,
            data,
            customers,
            campaigns,
            offers,
            trained.model_uri,
            trained.policy,
            decisions,
            dict(run.data.metrics),
            got["offers"],
            got["reasons"],
        )


def test_the_scoring_run_counts_the_nights_offers_and_reasons(scored: Scored) -> None:
    out = scored.decisions
    assert (out["status"] == "no_profiling_consent").any()
    offered = out["offer_id"].dropna()
    # both offers whose metric names would collide are made tonight (max net value: the cheapest
    # effective plan of 400 simulated customers makes one offer only)
    assert {"a_b", "a/b"} <= set(offered)
    assert scored.metrics["expected_cost_total"] == pytest.approx(
        float(out.loc[out["status"] == "scored", "expected_cost"].sum())
    )
    assert scored.metrics["n_offers"] == len(offered)
    # the exact labels, with their counts and costs, in the artifacts
    csv = scored.offers_csv.set_index("offer_id")
    csv = csv.loc[csv["n"] > 0]  # every catalog offer has a row, 0 when not made tonight
    assert csv["n"].to_dict() == offered.value_counts().to_dict()
    by_offer = out.groupby("offer_id")["expected_cost"].sum()
    np.testing.assert_allclose(csv["expected_cost"], by_offer.loc[csv.index], rtol=1e-9)
    reasons = scored.reasons_csv.set_index("offer_reason")["n"]
    assert reasons[reasons > 0].to_dict() == out["offer_reason"].value_counts().to_dict()
    assert scored.metrics["n_reason_no_profiling_consent"] == reasons["no profiling consent"]
    assert sum(v for k, v in scored.metrics.items() if k.startswith("n_offer_")) == len(offered)


def test_decisions_pyfunc_answer_and_campaigns_table_make_one_loop(
    scored: Scored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """score_customers' decisions and the pyfunc's answer become the same campaign rows, which
    validate against the catalog next to the programme's own campaigns; the next night the offered
    rest and the withheld are not planned again."""
    import mlflow

    from loyalty_ml.features import build_features

    out = scored.decisions
    sends = nightly_sends(out, sent_at="2024-12-15 09:00")
    assert len(sends) == out["offer_id"].notna().sum() + out["holdout_offer_id"].notna().sum()
    unprofiled = out.index[out["status"] == "no_profiling_consent"]
    assert not sends["customer_id"].isin(unprofiled).any()
    history = lml.validate_campaigns(
        pd.concat([scored.campaigns, sends], ignore_index=True), offers=scored.offers
    )
    assert history["policy_offer_id"].notna().sum() == len(sends)
    mine = history.loc[history["policy_offer_id"].notna()]
    assert sorted(mine["policy_offer_id"]) == sorted(sends["policy_offer_id"])

    # the registered model's answer, ids as a column, gives the same night as decide
    monkeypatch.chdir(scored.folder)
    features = build_features(
        scored.data.transactions,
        as_of=SCORE_AS_OF,
        customers=scored.customers,
        campaigns=scored.campaigns,
        config=scored.policy.feature_config,
    )[list(scored.policy.feature_names)]
    # set_registry_uri also writes MLFLOW_REGISTRY_URI, which set_registry_uri(None) leaves set:
    # monkeypatch removes it after the test
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", scored.uri)
    mlflow.set_tracking_uri(scored.uri)
    mlflow.set_registry_uri(scored.uri)
    try:
        model = mlflow.pyfunc.load_model(scored.model_uri)
        # as the README sends it: the customers here all consented
        request = features.reset_index().assign(consent_marketing=True, consent_profiling=True)
        served = model.predict(request, params={"reasons": "none"})
    finally:
        mlflow.set_registry_uri(None)  # type: ignore[arg-type]
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    assert "customer_id" in served.columns
    direct = scored.policy.decide(features, reasons="none")
    assert direct["holdout_offer_id"].notna().any()
    pd.testing.assert_frame_equal(
        nightly_sends(served, sent_at="2024-12-15 09:00"),
        nightly_sends(direct, sent_at="2024-12-15 09:00"),
    )

    # the next night, fed the first night's rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        warnings.simplefilter("ignore", DriftWarning)
        again = lml.score_customers(
            scored.data.transactions,
            as_of="2024-12-16",
            customers=scored.customers,
            campaigns=history,
            model_uri=scored.model_uri,
            tracking_uri=scored.uri,
            log_run=False,
            reasons="none",
        )
    sent = out["offer_id"].notna()
    withheld = out["holdout_offer_id"].notna()
    assert (again.loc[sent[sent].index, "offer_reason"] == "contacted recently").all()
    assert again.loc[withheld[withheld].index, "holdout_offer_id"].isna().all()
    # nothing withheld tonight: they rest in last night's control group
    assert (
        again.loc[withheld[withheld].index, "offer_reason"] == "in a recent control group"
    ).all()


# -- defects: the scoring run's metrics ------------------------------------------------------------
def test_an_offer_named_like_a_metric_keeps_its_own_metric(scored: Scored) -> None:
    counts = scored.decisions["offer_id"].value_counts()
    assert counts["a_b"] != counts["a/b"]
    assert scored.metrics["n_offer_a_b"] == counts["a_b"]


def test_every_catalog_offer_and_reason_has_a_count_even_when_zero(scored: Scored) -> None:
    from loyalty_ml.tracking._mlflow import metric_key

    assert scored.policy.catalog is not None
    missing = [
        key
        for key in [f"n_offer_{metric_key(o)}" for o in scored.policy.catalog.ids]
        + [f"n_reason_{metric_key(r.replace(' ', '_'))}" for r in REASONS]
        if key not in scored.metrics
    ]
    assert missing == [], missing
    unused = [o for o in scored.policy.catalog.ids if o not in set(scored.decisions["offer_id"])]
    assert unused and all(scored.metrics[f"n_offer_{metric_key(o)}"] == 0 for o in unused)
    # the artifact says which metric counts which offer
    csv = scored.offers_csv.set_index("offer_id")
    assert csv.loc["a/b", "metric"] == f"n_offer_{metric_key('a/b')}" != "n_offer_a_b"


def test_an_offer_named_10_percent_off_can_be_trained_and_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty_ml.tracking.train import train_and_register

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    data = lml.datasets.simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=5)
    renamed = {"disc5": "10% off"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trained = train_and_register(
            data.transactions,
            as_of=AS_OF,
            customers=data.customers.drop(columns=["age_band", "gender", "income_band"]),
            campaigns=data.campaigns.assign(offer_id=data.campaigns["offer_id"].replace(renamed)),
            offers=data.offers.assign(offer_id=data.offers["offer_id"].replace(renamed)),
            tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
            **FAST,
        )
    assert "10% off" in trained.policy.catalog.ids


def test_a_policy_without_the_rest_rule_still_decides_with_control_rows(
    policy: LoyaltyPolicy, features: pd.DataFrame
) -> None:
    """A policy registered before the contact rule (min_days_between_offers=None) reads a history
    holding control rows for the caps alone: nobody rests, nothing fails."""
    old = dataclasses.replace(policy, min_days_between_offers=None)
    first = old.decide(features, reasons="none")
    history = nightly_sends(first, sent_at="2024-11-01 09:00")
    second = old.decide(features, reasons="none", history=history, as_of="2024-11-02")
    assert (
        not second["offer_reason"].isin(["contacted recently", "in a recent control group"]).any()
    )
    assert second.loc[first["offer_id"].eq("d5"), "offer_id"].eq("d10").all()  # capped: d5 once


def test_the_readme_measurement_of_the_nights_leaves_out_an_offer_never_withheld() -> None:
    from loyalty_ml.kpis import measure_campaign

    data = lml.datasets.simulate(n_customers=300, start="2023-01-01", end="2024-12-31", seed=5)
    ids = data.customers["customer_id"].iloc[:40].tolist()
    night = _decisions(
        ["disc5"] * 20 + ["disc15"] * 5 + [None] * 15, [None] * 25 + ["disc5"] * 15, ids
    )
    sends = lml.validate_campaigns(
        nightly_sends(night, sent_at="2024-10-01 09:00"), offers=data.offers
    )
    by = ["policy_offer_id", "offer_id"]
    # an offer never withheld cannot be compared: refused, naming the arm and what to do
    with pytest.raises(DataError, match=r"'disc15'.*Leave out the arms without control rows"):
        measure_campaign(sends, data.transactions, data.offers, window_days=30, by=by)
    # the README's filter: the offers the holdout was planned at least once
    withheld = sends.loc[sends["offer_id"] == "control", "policy_offer_id"].unique()
    measured = measure_campaign(
        sends.loc[sends["policy_offer_id"].isin(withheld)],
        data.transactions,
        data.offers,
        window_days=30,
        by=by,
    )
    assert measured.loc[("disc5", "disc5"), "n_control"] == 15


def test_a_registry_uri_set_apart_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found while auditing: a registry URI left in MLFLOW_REGISTRY_URI (mlflow.set_registry_uri
    writes it, and set_registry_uri(None) does not remove it) sent the model to another store,
    and train_and_register failed after training with a raw MlflowException ('Registered Model
    ... not found')."""
    from loyalty_ml.exceptions import TrackingError
    from loyalty_ml.tracking.train import train_and_register

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    tx = pd.DataFrame(
        {"customer_id": [1], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}
    )
    with pytest.raises(TrackingError, match=r"registry URI .*elsewhere\.db.* registers its model"):
        train_and_register(tx, as_of="2024-06-01", tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")
