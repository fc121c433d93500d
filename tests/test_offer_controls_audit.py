"""Audit of the three nightly offer controls: the contact rule, the budget and the strategy.

Checked, on tiny hand-made frames and on one small programme (``simulate(n_customers=600,
seed=3)``, ``train_and_register`` on 2024-10-01 with the default ``min_days_between_offers=30``
into an embedded MLflow store, scored on 2024-10-20 with the validated campaigns as send history):
the contact rule of ``choose_offers`` / ``LoyaltyPolicy.decide`` / ``score_customers``, the nightly
budget and strategy, the command line, the MLflow scoring run and the docs (README "Campaign
history", the paragraph after the production example, ``models/loyalty_ml_policy.md``).

Found right (plain guard tests):

- ids as the campaigns table gives them: text ids with blanks, float ids (3.0), integer offer ids
  for the monthly caps, a padded ``" control "`` row (not a contact; since the holdout became an
  experiment, 2026-12-02, it rests the customer as "in a recent control group"), an offer the catalog no longer
  holds (a contact), a duplicated send row; the window is [as_of - 30 days, as_of): a send at
  as_of - 30 days rests, one a second earlier does not, one at as_of itself or after it is not a
  past send (a retried night answers alike);
- overlapping reasons read the same in ``decide`` and ``choose_offers``: capped and resting says
  "contacted recently", resting without marketing consent "no marketing consent", resting in the
  holdout "contacted recently" (since session 59 "holdout" says an offer was withheld, and a
  resting customer would have got none);
- a budget with the contact rule: resting customers never take a share of it (the plan of the
  others equals ``choose_offers`` on them alone), and the prudent cost as the module docstring of
  offers.py defines it (breakage, cost per send, clipped uplift counted twice) never exceeds the
  budget, for both strategies and budget 0, and equals ``attrs["budget_cost"]``;
- the registered policy has the rule (30, logged as a run param); on the night it rests only
  customers with a non-control send in the 30 days before it (34 of the 600) and offers none of
  them (58 offers made);
- a custom control label relabelled by ``validate_campaigns(control="Holdout")`` gives the same
  decisions to the bit (seen outside the tests: ``train_and_register`` refuses campaigns whose
  control is labelled otherwise, naming the fix, so a wrong label cannot reach the nightly job
  unnoticed through the command line, which has no ``--control`` option);
- ``score_customers(budget=, strategy=)``: the prudent cost of the night's offers stays within the
  budget (a third of the unbudgeted plan's 5.13), offers and reasons are the same with
  ``batch_size=37`` (net values agree to float precision, not to the bit), budget 0 makes no offer
  and says "budget exhausted"; budget and strategy are logged as params of the scoring run;
- ``loyalty-ml score --budget --strategy`` and ``loyalty-ml train --config`` (14, null) pass the
  controls through; ``models/train_config.json`` sets 30.

Defects, written first as strict xfails (each reason gave the numbers and the code); all are
fixed (2026-12-02) and their tests are regression tests:

- ``_cooling_down`` drops history rows without an ``offer_id`` (``offer_ids.notna()``): a send 10
  days before as_of is not a contact, while a send without a date is refused and
  ``validate_campaigns`` / ``build_features`` refuse a missing offer id;
- ``_capped`` reads offer ids with ``astype("string")``: 101.0 (an integer column with a blank,
  as pandas reads it) is "101.0", not offer "101", so a max_per_month=1 offer is made again;
- ``_past_sends`` parses ``sent_at`` with a bare ``pd.to_datetime``: dates written as numbers
  (20240710, epoch seconds) become nanoseconds of 1970 and are silently not contacts (the
  customers are offered again; ``validate_campaigns`` refuses both), and text with two UTC
  offsets raises pandas' own ValueError instead of being put on one clock;
- an aware ``as_of`` in another zone than the sends is not moved to the sends' clock (README: caps
  count "in the calendar month of as_of on the clock of the sends"; the comment in
  ``LoyaltyPolicy._offers`` says the same): 20:00 on 29 February in Los Angeles written in UTC is
  counted in March and the capped offer is made again; the cool-down window moves by the zone's
  offset (a send at 23:30 on 1 March in London rests or not depending on how the same as_of
  instant is written);
- ``score_customers`` without ``campaigns`` drops the contact rule silently: all 34 customers it
  rests are offered again (91 offers instead of 58) and the only warning is about 5 missing
  campaign features;
- ``score_customers`` checks ``batch_size`` and ``reasons`` up front but leaves ``budget`` and
  ``strategy`` to ``decide``: a negative or NaN budget (which ``--budget`` accepts) or an unknown
  strategy is refused only after loading the model and building every feature, in the name of
  ``decide``;
- the ``score_customers`` docstring says the campaigns table drives the monthly caps but never
  mentions the contact rule or "contacted recently".

Fixes: ``_past_sends`` refuses a send without an offer id, reads offer ids as
``validate_campaigns`` does (``coerce_label``), refuses dates written as numbers and puts mixed
offsets on UTC (``coerce_timestamp``), and moves an aware as_of to the sends' clock;
``score_customers`` warns when no campaigns table leaves the caps and the contact rule off, checks
``budget`` and ``strategy`` before any work (``check_plan_options``, in its own name), and its
docstring and ``--campaigns`` help describe the rule.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.exceptions import ConfigError, LoyaltyMLError
from loyalty_ml.features import FeatureConfig
from loyalty_ml.models.churn import ChurnModel
from loyalty_ml.models.uplift import UpliftModel
from loyalty_ml.policy.catalog import OfferCatalog
from loyalty_ml.policy.offers import choose_offers
from loyalty_ml.tracking.policy import LoyaltyPolicy

pytestmark = [pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)]

COOL_DOWN = "contacted recently"
IN_CONTROL = "in a recent control group"
CAPPED = "monthly cap reached"
CHEAPEST = "cheapest effective"
BUDGET_OUT = "budget exhausted"
CHURN = {"n_estimators": 20, "early_stopping_rounds": 5}
UPLIFT = {"n_estimators": 7, "learning_rate": 0.1}


def _catalog(**extra: list[Any]) -> OfferCatalog:
    frame = {"offer_id": ["d5", "d10"], "cost_per_redemption": [1.0, 2.0], **extra}
    return OfferCatalog.from_frame(pd.DataFrame(frame))


def _plan(effects: pd.DataFrame, catalog: OfferCatalog, **kwargs: Any) -> pd.DataFrame:
    """choose_offers with a flat baseline of 0.1 and a margin of 50 per conversion."""
    return choose_offers(
        effects,
        catalog,
        baseline=pd.Series(0.1, index=effects.index),
        value_per_conversion=50.0,
        **kwargs,
    )


def _sends(rows: list[tuple[Any, Any, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "offer_id", "sent_at"])


def _prudent_cost(
    offers: pd.Series,
    effects: pd.DataFrame,
    baseline: pd.Series,
    catalog: OfferCatalog,
    k: float = 2.0,
) -> float:
    """The total prudent cost of the offers made, as offers.py's module docstring defines it:
    p0 + k * u for a positive (clipped) uplift u, clipped to [0, 1], times the redemption cost
    (cost_per_redemption * (1 - breakage)), plus cost_per_send. With the model's held-out check in
    ``effects.attrs`` (``choose_offers(cost_calibration=)``), a customer's cheapest offer is priced
    by the check (unless its band rests on too few purchases) and a dearer one by the larger of
    the two. The standard errors the budget also
    adds are left out, so this is a lower bound on what the budget binds."""
    from loyalty_ml.policy._prudent_cost import (
        calibrated_probability,
        cheapest_offers,
        read_cost_calibration,
    )

    ids = [str(o) for o in effects.columns if str(o) in catalog.ids]
    check = read_cost_calibration(effects.attrs, ids)
    redemption = np.array([catalog[o].redemption_cost for o in ids])
    send = np.array([catalog[o].cost_per_send for o in ids])
    p0 = baseline.reindex(effects.index).to_numpy(dtype=float)[:, None]
    p = np.clip(p0 + effects[ids].to_numpy(dtype=float), 0.0, 1.0)
    u = p - p0
    price = np.clip(p0 + np.where(u > 0, k * u, u), 0.0, 1.0) * redemption + send
    if check is not None:
        by_check = calibrated_probability(p, u, check) * redemption + send
        by_check = np.where(np.isnan(by_check), price, by_check)  # a band of too few purchases
        cheapest = cheapest_offers(p * redemption + send)
        price = np.where(cheapest, by_check, np.maximum(by_check, price))
    total = 0.0
    rows = {c: i for i, c in enumerate(effects.index)}
    for customer, offer_id in offers.dropna().items():
        total += float(price[rows[customer], ids.index(str(offer_id))])
    return total


# -- choose_offers: the contact rule on the history a user really has ----------------------------
def test_contact_rule_reads_ids_offers_and_window_edges_as_documented() -> None:
    catalog = _catalog(max_per_month=[1, 1])
    effects = pd.DataFrame({"d5": 0.2, "d10": 0.3}, index=pd.Index(range(1, 9), name="customer_id"))
    as_of = pd.Timestamp("2024-07-20")
    history = _sends(
        [
            ("1", "retired", as_of - pd.Timedelta(days=1)),  # text id, an offer no longer held
            (" 2 ", "d5", as_of - pd.Timedelta(days=30)),  # padded text id, first instant in
            (3.0, "d5", as_of - pd.Timedelta(days=30, seconds=1)),  # float id, just outside
            (4, " control ", as_of - pd.Timedelta(days=1)),  # not a send, but it rests too
            (5, "d5", as_of),  # the night itself: not yet a past send (a retry answers alike)
            (6, "d5", as_of + pd.Timedelta(days=1)),  # after as_of: not known yet
            (7, "d10", as_of - pd.Timedelta(days=2)),  # a row appended twice
            (7, "d10", as_of - pd.Timedelta(days=2)),
        ]
    )
    plan = _plan(effects, catalog, history=history, as_of=as_of, min_days_between_offers=30)
    # customers 1..8: text id, padded id, float id just outside, control, at as_of, after it,
    # a duplicated row, no history
    expected = [COOL_DOWN, COOL_DOWN, CHEAPEST, IN_CONTROL, CHEAPEST, CHEAPEST, COOL_DOWN, CHEAPEST]
    assert plan["reason"].tolist() == expected
    # offer ids read as integers still name the catalog's offers for the monthly caps
    numeric = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["101"], "cost_per_redemption": [1.0], "max_per_month": [1]})
    )
    one = pd.DataFrame({"101": [0.2, 0.2]}, index=pd.Index([1, 2], name="customer_id"))
    capped = _plan(
        one, numeric, history=_sends([(1, 101, as_of - pd.Timedelta(days=3))]), as_of=as_of
    )
    assert capped["reason"].tolist() == [CAPPED, CHEAPEST]


def test_a_send_without_an_offer_id_is_refused_or_counted_as_a_contact() -> None:
    effects = pd.DataFrame({"d5": [0.2, 0.2]}, index=pd.Index([1, 2], name="customer_id"))
    history = _sends(
        [(1, np.nan, pd.Timestamp("2024-07-10")), (2, "d5", pd.Timestamp("2024-05-01"))]
    )
    try:
        plan = _plan(
            effects, _catalog(), history=history, as_of="2024-07-20", min_days_between_offers=30
        )
    except LoyaltyMLError:
        return  # refused, as a send without a date is, and as validate_campaigns refuses it
    assert plan.loc[1, "reason"] == COOL_DOWN, plan["reason"].tolist()


def test_offer_ids_read_as_floats_still_count_towards_the_monthly_cap() -> None:
    catalog = OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["101"], "cost_per_redemption": [1.0], "max_per_month": [1]})
    )
    effects = pd.DataFrame({"101": [0.2, 0.2]}, index=pd.Index([1, 2], name="customer_id"))
    # an integer offer id column read as floats (a blank cell elsewhere in the export; a blank
    # offer id itself is refused, see above)
    history = _sends(
        [(1, 101.0, pd.Timestamp("2024-07-03")), (2, 101.0, pd.Timestamp("2024-05-03"))]
    )
    plan = _plan(effects, catalog, history=history, as_of="2024-07-20")
    assert plan.loc[1, "reason"] == CAPPED, plan["reason"].tolist()


@pytest.mark.parametrize(
    "sent_at",
    [
        pytest.param(
            [20240710, 20240710],
            id="yyyymmdd-numbers",
        ),
        pytest.param(
            [1720569600, 1720569600],
            id="epoch-seconds",
        ),
        pytest.param(
            ["2024-07-10T09:00+02:00", "2024-07-10T09:00+01:00"],
            id="mixed-offsets",
        ),
    ],
)
def test_send_dates_are_read_as_validate_campaigns_reads_them(sent_at: list[Any]) -> None:
    """validate_campaigns refuses numbers as dates (SchemaError) and puts mixed offsets on one
    clock; the history choose_offers reads must be refused or read the same way."""
    effects = pd.DataFrame({"d5": [0.2, 0.2]}, index=pd.Index([1, 2], name="customer_id"))
    history = _sends([(1, "d5", sent_at[0]), (2, "d5", sent_at[1])])
    try:
        plan = _plan(
            effects, _catalog(), history=history, as_of="2024-07-20", min_days_between_offers=30
        )
    except LoyaltyMLError:
        return
    assert plan["reason"].tolist() == [COOL_DOWN, COOL_DOWN]


def test_monthly_caps_read_an_aware_as_of_on_the_clock_of_the_sends() -> None:
    la = "America/Los_Angeles"
    catalog = _catalog(max_per_month=[1, 1])
    effects = pd.DataFrame({"d5": [0.2, 0.2]}, index=pd.Index([1, 2], name="customer_id"))
    history = _sends([(1, "d5", pd.Timestamp("2024-02-29 10:00", tz=la))])
    on_la_clock = _plan(
        effects, catalog, history=history, as_of=pd.Timestamp("2024-02-29 20:00", tz=la)
    )
    assert on_la_clock["reason"].tolist() == [CAPPED, CHEAPEST]
    # the same instant written in UTC: still 29 February on the sends' clock
    in_utc = _plan(effects, catalog, history=history, as_of="2024-03-01T04:00Z")
    assert in_utc["reason"].tolist() == [CAPPED, CHEAPEST]


def test_the_cool_down_window_does_not_depend_on_the_zone_as_of_is_written_in() -> None:
    london = "Europe/London"
    effects = pd.DataFrame({"d5": [0.2, 0.2]}, index=pd.Index([1, 2], name="customer_id"))
    history = _sends(
        [
            (1, "d5", pd.Timestamp("2024-03-02 00:30", tz=london)),
            (2, "d5", pd.Timestamp("2024-03-01 23:30", tz=london)),
        ]
    )
    kwargs = {"history": history, "min_days_between_offers": 30}
    local = _plan(effects, _catalog(), as_of=pd.Timestamp("2024-04-01 00:00", tz=london), **kwargs)
    # 30 calendar days before 1 April 00:00 in London start on 2 March 00:00 in London
    assert local["reason"].tolist() == [COOL_DOWN, CHEAPEST]
    utc = _plan(effects, _catalog(), as_of=pd.Timestamp("2024-03-31 23:00", tz="UTC"), **kwargs)
    assert utc["reason"].tolist() == local["reason"].tolist()


def test_a_budget_with_the_contact_rule_plans_the_others_alone_and_never_overspends() -> None:
    rng = np.random.default_rng(5)
    n = 240
    index = pd.Index(rng.permutation(n) + 1000, name="customer_id")
    catalog = OfferCatalog.from_frame(
        pd.DataFrame(
            {
                "offer_id": ["d5", "d10", "pts"],
                "cost_per_redemption": [5.0, 10.0, 8.0],
                "cost_per_send": [0.1, 0.0, 0.3],
                "kind": ["discount", "discount", "points"],
                "breakage": [0.0, 0.0, 0.25],
            }
        )
    )
    effects = pd.DataFrame(
        rng.normal(0.06, 0.08, (n, 3)).clip(-1, 1), index=index, columns=["d5", "d10", "pts"]
    )
    baseline = pd.Series(rng.uniform(0.0, 0.95, n), index=index)
    value = pd.Series(rng.uniform(20, 150, n), index=index)
    contacted = index[:60]
    history = _sends([(c, "d5", pd.Timestamp("2024-07-18")) for c in contacted])
    common = {"baseline": baseline, "value_per_conversion": value}
    for strategy in ("cheapest_effective", "max_net_value"):
        for budget in (0.0, 15.0, 60.0):
            plan = choose_offers(
                effects,
                catalog,
                strategy=strategy,
                budget=budget,
                history=history,
                as_of="2024-07-20",
                min_days_between_offers=30,
                **common,
            )
            resting = plan.index[plan["reason"] == COOL_DOWN]
            assert set(resting) == set(contacted)
            alone = choose_offers(
                effects.drop(index=contacted), catalog, strategy=strategy, budget=budget, **common
            )
            others = plan.drop(index=contacted)
            pd.testing.assert_frame_equal(others, alone.loc[others.index])
            spent = _prudent_cost(plan["offer_id"], effects, baseline, catalog)
            assert spent <= budget + 1e-9, (strategy, budget, spent)
            assert spent == pytest.approx(plan.attrs["budget_cost"])
            assert (plan["expected_cost"].sum() <= budget + 1e-9) and (
                budget == 0 or plan["offer_id"].notna().any()
            )


# -- LoyaltyPolicy.decide: overlapping reasons ---------------------------------------------------
@dataclass
class Tiny:
    policy: LoyaltyPolicy
    features: pd.DataFrame


@pytest.fixture(scope="module")
def tiny() -> Tiny:
    rng = np.random.default_rng(0)
    n = 400
    features = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 300, n),
            "n_orders": rng.integers(1, 12, n).astype(float),
            "spend": rng.uniform(5, 500, n),
        },
        index=pd.Index(np.arange(1, n + 1), name="customer_id"),
    )
    y = pd.Series((rng.uniform(size=n) < features["recency_days"] / 300).astype(int))
    churn = ChurnModel(n_estimators=30, random_state=0).fit(features, y.set_axis(features.index))
    arm = pd.Series(rng.choice(["control", "d5", "d10"], n), index=features.index)
    bought = rng.uniform(size=n) < 0.2 + 0.2 * (arm == "d5") + 0.3 * (arm == "d10")
    uplift = UpliftModel(n_estimators=10, random_state=0).fit(
        features, pd.Series(bought.astype(int), index=features.index), treatment=arm
    )
    policy = LoyaltyPolicy(
        feature_config=FeatureConfig(),
        feature_names=tuple(features.columns),
        churn_model=churn,
        uplift_model=uplift,
        catalog=_catalog(max_per_month=[1, 1]),
        value_per_conversion=50.0,
        min_days_between_offers=30,
    )
    return Tiny(policy, features)


def test_overlapping_reasons_read_the_same_in_decide_and_choose_offers(tiny: Tiny) -> None:
    policy, X = tiny.policy, tiny.features
    free = policy.decide(X, reasons="none")
    offered = free.index[free["offer_id"].notna()]
    held = free.index[free["offer_reason"] == "holdout"]
    assert len(offered) >= 2 and len(held) >= 1
    a, b, c = offered[0], offered[1], held[0]
    as_of = pd.Timestamp("2024-07-20")
    history = _sends(
        [
            (a, "d5", pd.Timestamp("2024-07-05")),  # a: both offers capped this month, and resting
            (a, "d10", pd.Timestamp("2024-07-06")),
            (b, "d5", pd.Timestamp("2024-07-10")),  # b: resting, and no marketing consent
            (c, "d5", pd.Timestamp("2024-07-10")),  # c: resting, and in the holdout
        ]
    )
    consent = pd.Series(True, index=X.index)
    consent[b] = False
    out = policy.decide(X, reasons="none", history=history, as_of=as_of, consent_marketing=consent)
    words = out.loc[[a, b, c], "offer_reason"].tolist()
    # c would have got nothing, resting: nothing was withheld from him
    assert words == [COOL_DOWN, "no marketing consent", COOL_DOWN]
    assert out.loc[[a, b, c], "offer_id"].isna().all()
    # choose_offers gives the same words in the same precedence
    rows = X.loc[[a, b]]
    plan = choose_offers(
        policy.uplift_model.predict_effects(rows),
        policy.catalog,
        baseline=policy.uplift_model.predict_baseline(rows),
        value_per_conversion=policy.value_per_conversion,
        consent=consent.loc[[a, b]],
        history=history,
        as_of=as_of,
        min_days_between_offers=30,
    )
    assert plan["reason"].tolist() == words[:2]
    everyone = X.loc[offered]
    drawn = choose_offers(
        policy.uplift_model.predict_effects(everyone),
        policy.catalog,
        baseline=policy.uplift_model.predict_baseline(everyone),
        value_per_conversion=policy.value_per_conversion,
        holdout_fraction=0.5,
        random_state=0,
        history=_sends([(i, "d5", pd.Timestamp("2024-07-19")) for i in offered]),
        as_of=as_of,
        min_days_between_offers=30,
    )
    assert set(drawn["reason"]) == {COOL_DOWN}
    assert 0 < drawn["in_holdout"].sum() < len(drawn)


# -- the nightly job: train_and_register, score_customers, the command line ----------------------
@dataclass
class Programme:
    folder: Path
    uri: str
    result: Any
    tx: pd.DataFrame
    customers: pd.DataFrame
    raw_campaigns: pd.DataFrame
    campaigns: pd.DataFrame  # validated, as known on the night
    night: pd.Timestamp
    free: pd.DataFrame  # the night scored without budget
    effects: pd.DataFrame  # the registered uplift model's effects for the scored customers
    baseline: pd.Series

    def score(self, **kwargs: Any) -> pd.DataFrame:
        from loyalty_ml.tracking.scoring import score_customers

        options = {
            "as_of": self.night,
            "customers": self.customers,
            "campaigns": self.campaigns,
            "model_uri": self.result.model_uri,
            "tracking_uri": self.uri,
            "log_run": False,
            **kwargs,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # drift of a small population: noise, not the subject
            return score_customers(self.tx.loc[self.tx["timestamp"] < self.night], **options)


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Programme]:
    import loyalty_ml as lml
    from loyalty_ml.features import build_features
    from loyalty_ml.privacy.consent import profiled_only
    from loyalty_ml.tracking.train import train_and_register

    folder = tmp_path_factory.mktemp("offer_controls")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    data = lml.datasets.simulate(n_customers=600, start="2023-01-01", end="2024-12-31", seed=3)
    campaigns = lml.validate_campaigns(data.campaigns, offers=data.offers)
    tx = data.transactions
    cutoff, night = pd.Timestamp("2024-10-01"), pd.Timestamp("2024-10-20")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the embedded store writes its artifacts in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = train_and_register(
                tx.loc[tx["timestamp"] < cutoff],
                as_of=cutoff,
                customers=data.customers,
                campaigns=campaigns.loc[campaigns["sent_at"] < cutoff],
                offers=data.offers,
                tracking_uri=uri,
                churn_params=CHURN,
                uplift_params=UPLIFT,
            )
        known = campaigns.loc[campaigns["sent_at"] < night]
        policy = result.policy
        seen = tx.loc[tx["timestamp"] < night]
        profiled, people, _ = profiled_only(seen, data.customers)
        X = policy.prepare(
            build_features(
                profiled,
                as_of=night,
                customers=people,
                campaigns=known,
                config=policy.feature_config,
            )
        )
        prog = Programme(
            folder,
            uri,
            result,
            tx,
            data.customers,
            data.campaigns,
            known,
            night,
            pd.DataFrame(),
            policy.uplift_model.predict_effects(X),
            policy.uplift_model.predict_baseline(X),
        )
        prog.free = prog.score()
        yield prog


@pytest.fixture
def in_store(programme: Programme, monkeypatch: pytest.MonkeyPatch) -> Programme:
    monkeypatch.chdir(programme.folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return programme


def _spent(prog: Programme, out: pd.DataFrame) -> float:
    return _prudent_cost(out["offer_id"], prog.effects, prog.baseline, prog.result.policy.catalog)


def test_the_registered_policy_rests_customers_sent_any_offer_in_30_days(
    in_store: Programme,
) -> None:
    import mlflow

    prog = in_store
    assert prog.result.policy.min_days_between_offers == 30
    params = mlflow.MlflowClient(tracking_uri=prog.uri).get_run(prog.result.run_id).data.params
    assert params["min_days_between_offers"] == "30"
    sends = prog.campaigns
    window = (sends["sent_at"] >= prog.night - pd.Timedelta(days=30)) & (
        sends["sent_at"] < prog.night
    )
    contacted = set(sends.loc[window & (sends["offer_id"] != "control"), "customer_id"])
    free = prog.free
    resting = set(free.index[free["offer_reason"] == COOL_DOWN])
    assert len(resting) >= 10
    assert resting <= contacted
    assert not set(free.index[free["offer_id"].notna()]) & contacted


def test_a_custom_control_label_validated_as_documented_gives_the_same_decisions(
    in_store: Programme,
) -> None:
    import loyalty_ml as lml

    prog = in_store
    raw = prog.raw_campaigns.assign(
        offer_id=prog.raw_campaigns["offer_id"].replace({"control": "Holdout"})
    )
    relabelled = lml.validate_campaigns(raw, control="Holdout")
    out = prog.score(campaigns=relabelled.loc[relabelled["sent_at"] < prog.night])
    pd.testing.assert_frame_equal(out, prog.free)


def test_a_budget_at_scoring_binds_the_prudent_cost_whatever_the_batch_size(
    in_store: Programme,
) -> None:
    prog = in_store
    free = prog.free
    resting = free["offer_reason"] == COOL_DOWN
    # a third of what everyone's cheapest effective offer costs, which no plan can fit everyone
    # in (the plan without a budget moves customers whose cheap offer is within noise to dearer
    # ones, and a third of that could)
    full = _spent(prog, prog.score(budget=1e9))
    assert full > 0
    budget = full / 3
    for strategy in ("cheapest_effective", "max_net_value"):
        out = prog.score(budget=budget, strategy=strategy)
        chunked = prog.score(budget=budget, strategy=strategy, batch_size=37)
        for column in ("offer_id", "offer_reason", "action", "risk_band"):
            pd.testing.assert_series_equal(out[column], chunked[column])
        np.testing.assert_allclose(out["expected_net_value"], chunked["expected_net_value"])
        spent = _spent(prog, out)
        assert 0 < spent <= budget + 1e-9, (strategy, spent, budget)
        assert (out["offer_reason"] == BUDGET_OUT).any()
        # the contact rule rests the same customers; they never take a share of the budget
        pd.testing.assert_series_equal(out["offer_reason"] == COOL_DOWN, resting)
    nothing = prog.score(budget=0)
    assert nothing["offer_id"].isna().all()
    left_out = nothing.loc[free["offer_id"].notna(), "offer_reason"]
    assert (left_out == BUDGET_OUT).all()


def test_budget_and_strategy_are_logged_with_the_scoring_run(in_store: Programme) -> None:
    import mlflow

    prog = in_store
    prog.score(budget=1.5, strategy="max_net_value", log_run=True, experiment="controls_audit")
    client = mlflow.MlflowClient(tracking_uri=prog.uri)
    experiment = client.get_experiment_by_name("controls_audit")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["budget"] == "1.5"
    assert run.data.params["strategy"] == "max_net_value"


def test_scoring_without_the_send_history_says_the_contact_rule_is_off(
    in_store: Programme,
) -> None:
    from loyalty_ml.tracking.scoring import score_customers

    prog = in_store
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = score_customers(
            prog.tx.loc[prog.tx["timestamp"] < prog.night],
            as_of=prog.night,
            customers=prog.customers,
            model_uri=prog.result.model_uri,
            tracking_uri=prog.uri,
            log_run=False,
        )
    resting = prog.free.index[prog.free["offer_reason"] == COOL_DOWN]
    reoffered = int(out.loc[resting, "offer_id"].notna().sum())
    assert reoffered > 0  # the premise: without the history, rested customers are offered again
    said = [
        str(w.message)
        for w in caught
        if "min_days_between_offers" in str(w.message) or "contact" in str(w.message).lower()
    ]
    offers = int(out["offer_id"].notna().sum())
    assert said, (reoffered, offers, [str(w.message)[:120] for w in caught])


@pytest.mark.parametrize(
    "bad",
    [{"budget": -1.0}, {"budget": float("nan")}, {"strategy": "cheapest"}],
    ids=["negative-budget", "nan-budget", "unknown-strategy"],
)
def test_score_customers_refuses_a_bad_budget_or_strategy_before_any_work(
    bad: dict[str, Any], in_store: Programme
) -> None:
    from loyalty_ml.tracking.scoring import score_customers

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-06-01", "2024-06-02"]),
            "amount": [10.0, 12.0],
        }
    )
    # batch_size and reasons are refused before the model is looked up; budget and strategy
    # only after loading it and building every feature (decide checks them)
    with pytest.raises(ConfigError, match=r"budget|strategy"):
        score_customers(
            tx,
            as_of="2024-07-01",
            model_uri="models:/not_registered@champion",
            tracking_uri=in_store.uri,
            log_run=False,
            **bad,
        )


def test_score_customers_documents_the_contact_rule_it_applies() -> None:
    from loyalty_ml.tracking.scoring import score_customers

    doc = score_customers.__doc__ or ""
    assert "contacted recently" in doc or "min_days_between_offers" in doc


def test_the_command_line_passes_the_controls_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import loyalty_ml.cli as cli
    import loyalty_ml.tracking.scoring as scoring
    import loyalty_ml.tracking.train as train

    seen: dict[str, dict[str, Any]] = {}
    tables = {"transactions": pd.DataFrame(), "customers": None, "campaigns": None, "offers": None}
    monkeypatch.setattr(cli, "read_inputs", lambda args: tables)

    def fake_score(transactions: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        seen["score"] = kwargs
        return pd.DataFrame({"action": ["none"]}, index=pd.Index([1], name="customer_id"))

    def fake_train(transactions: pd.DataFrame, **kwargs: Any) -> Any:
        seen["train"] = kwargs
        return types.SimpleNamespace(
            model_name="m",
            version="1",
            alias="champion",
            reason="r",
            run_id="x",
            tracking_uri="u",
            metrics={},
        )

    monkeypatch.setattr(scoring, "score_customers", fake_score)
    monkeypatch.setattr(train, "train_and_register", fake_train)
    score_args = ["score", "--transactions", "t.csv", "--as-of", "2024-10-20"]
    out = str(tmp_path / "s.csv")
    assert (
        cli.main([*score_args, "--output", out, "--budget", "2000", "--strategy", "max_net_value"])
        == 0
    )
    assert (seen["score"]["budget"], seen["score"]["strategy"]) == (2000.0, "max_net_value")
    assert cli.main([*score_args, "--output", out]) == 0
    assert (seen["score"]["budget"], seen["score"]["strategy"]) == (None, "cheapest_effective")
    config = tmp_path / "train.json"
    for days in (14, None):
        config.write_text(json.dumps({"min_days_between_offers": days}), encoding="utf-8")
        argv = [
            "train",
            "--transactions",
            "t.csv",
            "--as-of",
            "2024-10-01",
            "--config",
            str(config),
        ]
        assert cli.main(argv) == 0
        assert seen["train"]["min_days_between_offers"] == days
    shipped = cli.read_train_config(
        Path(__file__).resolve().parents[1] / "models" / "train_config.json"
    )
    assert shipped["min_days_between_offers"] == 30


def test_a_blocked_effective_offer_names_the_block_not_no_effective_offer() -> None:
    """Session 42: offer A pays but is capped (or closed to the customer), B is open and does not
    pay: the row said "no effective offer", and dropping B's column changed it to the cap."""
    from loyalty_ml.policy.catalog import Offer

    catalog = OfferCatalog(
        [
            Offer(offer_id="A", cost_per_redemption=1.0, max_per_month=1),
            Offer(offer_id="B", cost_per_redemption=5.0),
        ]
    )
    idx = pd.Index(["c1", "c2"], name="customer_id")
    effects = pd.DataFrame({"A": [0.2, 0.0], "B": [0.0, 0.0]}, index=idx)  # c2: nothing pays
    kw = {
        "baseline": pd.Series([0.1, 0.1], index=idx),
        "value_per_conversion": 10.0,
        "arm_mean_se": None,
        "cost_calibration": None,
    }
    history = pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "offer_id": ["A", "A"],
            "sent_at": pd.to_datetime(["2024-07-02", "2024-07-02"]),
        }
    )
    for columns in (["A", "B"], ["A"]):
        capped = choose_offers(effects[columns], catalog, history=history, as_of="2024-07-15", **kw)
        assert capped["reason"].tolist() == [
            "monthly cap reached",
            "monthly cap reached" if columns == ["A"] else "no effective offer",
        ]
        eligible = pd.DataFrame({"A": [False, False], "B": [True, True]}, index=idx)[columns]
        closed = choose_offers(effects[columns], catalog, eligible=eligible, **kw)
        assert closed["reason"].tolist() == [
            "not eligible",
            "not eligible" if columns == ["A"] else "no effective offer",
        ]
        assert closed["offer_id"].isna().all() and capped["offer_id"].isna().all()
