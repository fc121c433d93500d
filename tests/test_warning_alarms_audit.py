"""Audit: warnings that cry wolf. Does each warning fire on data that deserves it, stay quiet on clean,
reasonable data, and say true things (numbers that match the data, advice that helps)?

What was checked (every warning recorded with ``catch_warnings(record=True)`` and
``simplefilter("always")``):

- the simulator (1,000-3,000 customers, seeds 0, 1, 2 and 5, 2022-2024): validation, features,
  ``training_table`` at horizons 30/60/90/180 with several cut-off schedules, ``ChurnModel``,
  ``explain``, ``estimate_boundaries``, ``TriggerPolicy``, ``experiment_table``, ``UpliftModel``
  (also ``propensity="estimate"``), ``choose_offers`` (no budget, 500, 5,000), ``fairness_report``,
  ``write_report``, ``kpis``, ``train_and_register`` and ``score_customers`` (fresh, lagging by
  1-3 days, months after training, small shops of about 400-660 scored customers): quiet, except a
  DriftWarning six months after training (recency PSI 0.275: true), one on an extract 5 days
  behind (recency PSI 0.372: true, the data is stale) and the documented warnings of scoring
  without the campaigns table (true);
- Online Retail II as the README loads it (Christmas peak, 11-day Christmas closure, quiet
  January): loading, labels at horizons 60/90/180 with monthly, 30- and 45-day cut-offs, boundaries,
  churn models, triggers, the report, ``train_and_register`` at 60/90 days and nightly scoring
  through December: quiet. At 30 days the horizon warning fires and is true (48 days is the median
  repeat gap; 56.5% of repeat customers who buy again are labelled churned at 2010-06-12). Raw
  exports mapped with only customer/time/amount, or with the unit price as the amount, warn with
  the right counts;
- Hillstrom: visit, conversion and spend models on 3,000-64,000 rows, randomised and with
  estimated propensities (no overlap warning), a targeted version (overlap warning), policy value;
- borderline data that should warn: a 14-day and a 31-day outage (warn), a 13-day one (quiet, as
  documented), a label window running past the data (refused), extracts stale by 30 days
  (``score_customers`` warns).

Defects found and fixed (2026-12-03; each was first a strict xfail, shown to fail):

1. ``training_table`` / ``churn_labels`` with ``observation_end`` after the last purchase (the
   LeakageError itself suggests passing it): a 30-day hole at the end of a busy extract was silent,
   though the same hole inside the data warned; the last cut-off's churn rate is 0.529 against
   0.417 with the real data. ``schema._gaps.find_gaps(end_ns=)`` now checks the days from the last
   purchase to the stated end too.
2. ``validate_transactions(observation_end=...)``: the same trailing hole is now warned about and
   noted in the cleaning report.
3. ``UpliftModel.fit``'s one-row-dominates warning on Hillstrom spend (about 1,000 rows per arm)
   advised ``y.clip(upper=y.quantile(0.999))``, which left the warning in place (one row still held
   33% and 44% of two arms): only 6-16 rows per arm are non-zero. Under 50 non-zero rows it now
   advises the binary outcome or a larger experiment instead.
4. The same warning named the customer as ``[np.int64(39899)]``; ``format_examples`` now prints
   numpy scalars as plain values (every message that lists values).
5. ``threshold_for_capacity``: on Online Retail II at 60 days the model is sigmoid-calibrated, yet the
   tie warning blamed "an isotonic calibrator's steps" and advised ``predict_proba_uncalibrated``,
   which ties the same 130 customers. It now says how many taking the ties would select and gives
   the isotonic advice as a condition.
6. ``ChurnModel.fit``'s all-NaN-column warning said trend features are NaN when the history is
   "shorter than two trend windows"; ``aov_trend`` is all NaN only when every cut-off has less than
   one window (45 and 76 days), and the text now says so.
7. Warnings of ``score_customers`` pointed at ``loyalty_ml/exceptions.py`` (the ``withhold_ids``
   wrapper), and ``UpliftModel.fit``'s PoorOverlapWarning at ``loyalty_ml/models/uplift.py``: every
   library warning now goes through ``loyalty_ml._warn.warn_user``, which attributes it to the first
   frame outside the package.

Noted, not xfailed: ``score_customers``' stale-extract warning waits for a quarter of the label
horizon (22.5 days at 90): on the simulator an extract 20-22 days stale moves all 363 "active"
customers out of "active" without it, but a DriftWarning fires there (recency PSI 0.82-0.96), so the
user is told. Inside ``train_and_register`` the label warnings are named ``training_table:`` and
attributed to ``tracking/train.py``. The gap warning says "about 39 a day" from
``validate_transactions`` (distinct timestamps) and "about 41 a day" from ``training_table``
(orders) for the same hole. Not re-reported: the gap finder firing in a seasonal business's
off-season (known).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.datasets.hillstrom import HILLSTROM_COVARIATES
from loyalty_ml.exceptions import DataQualityWarning, LeakageError

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online_retail_ii" / "online_retail_ii_2009_2010.parquet"
HILLSTROM = SHARED_DATA / "hillstrom" / "hillstrom.csv.gz"
COVARIATES = list(HILLSTROM_COVARIATES)


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (../shared/data is absent on this machine)")
    return path


def _recorded(fn: Callable[[], Any]) -> tuple[Any, list[warnings.WarningMessage]]:
    """``fn()`` and every warning it emitted from loyalty_ml (third-party noise left out)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    ours = [
        w
        for w in caught
        if w.category.__module__.startswith("loyalty_ml")
        or "loyalty_ml" in w.filename
        or w.filename == __file__
    ]
    return out, ours


def _texts(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught]


# -- data ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def retail() -> pd.DataFrame:
    tx, caught = _recorded(lambda: lml.datasets.load_online_retail_ii(_require(ONLINE_RETAIL)))
    assert caught == [], _texts(caught)  # the real shop loads without a word
    return tx


@pytest.fixture(scope="module")
def retail_raw() -> pd.DataFrame:
    return pd.read_parquet(_require(ONLINE_RETAIL))


@pytest.fixture(scope="module")
def hillstrom() -> pd.DataFrame:
    return lml.datasets.load_hillstrom(_require(HILLSTROM))


@pytest.fixture(scope="module")
def sim() -> dict[str, Any]:
    data = lml.datasets.simulate(n_customers=2000, start="2023-01-01", end="2024-12-31", seed=0)
    customers = lml.validate_customers(data.customers)
    return {
        "data": data,
        "tx": lml.validate_transactions(data.transactions),
        "campaigns": lml.validate_campaigns(data.campaigns, offers=data.offers),
        "customers": customers,
        "people": customers.reset_index(),
    }


@pytest.fixture(scope="module")
def registered(sim: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A policy trained on the simulator at 2024-09-01 (90-day horizon); yields its tracking URI."""
    folder = tmp_path_factory.mktemp("mlflow_warn")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # MLflow puts artifacts of the embedded store in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        people = sim["people"].drop(columns=["age_band", "gender", "income_band"])
        result, caught = _recorded(
            lambda: lml.train_and_register(
                sim["tx"],
                as_of="2024-09-01",
                customers=people,
                tracking_uri=uri,
                model_name="warn_audit",
                churn_params={"n_estimators": 60, "early_stopping_rounds": 10},
            )
        )
        assert caught == [], _texts(caught)
        assert result.version == "1"
        yield uri


def _score(sim: dict[str, Any], uri: str, tx: pd.DataFrame, as_of: str) -> Any:
    people = sim["people"].drop(columns=["age_band", "gender", "income_band"])
    return lml.score_customers(
        tx, as_of=as_of, model_uri="models:/warn_audit/1", customers=people, tracking_uri=uri
    )


# -- clean data stays quiet ------------------------------------------------------------------------
def test_simulator_notebook_flow_is_quiet(sim: dict[str, Any]) -> None:
    tx, campaigns, people, customers = sim["tx"], sim["campaigns"], sim["people"], sim["customers"]

    def flow() -> None:
        X = lml.build_features(tx, as_of="2024-07-01", customers=people, campaigns=campaigns)
        for horizon in (30, 60, 180):
            last = pd.Timestamp("2024-12-31") - pd.Timedelta(days=horizon + 1)
            lml.training_table(
                tx, cutoffs=pd.date_range(end=last, periods=4, freq="45D"), horizon_days=horizon
            )
        cutoffs = pd.date_range(end="2024-04-01", periods=5, freq="45D")
        X_train, y_train = lml.training_table(
            tx, cutoffs=cutoffs, horizon_days=90, customers=people, campaigns=campaigns
        )
        churn = lml.ChurnModel(random_state=0, n_estimators=80).fit(X_train, y_train)
        p = pd.Series(churn.predict_proba(X)[:, 1], index=X.index)
        churn.explain(X.head(200), top_k=3)
        boundaries = lml.estimate_boundaries(tx, as_of="2024-07-01")
        lml.TriggerPolicy(boundaries=boundaries).assign(X, p)
        X_exp, y_exp, t_exp = lml.experiment_table(tx, campaigns, window_days=30, customers=people)
        uplift = lml.UpliftModel(random_state=0).fit(X_exp, y_exp, treatment=t_exp)
        plan = lml.choose_offers(
            uplift.predict_effects(X),
            lml.OfferCatalog.from_frame(sim["data"].offers),
            baseline=uplift.predict_baseline(X),
            value_per_conversion=12.0,
            budget=500,
            holdout_fraction=0.1,
            consent=customers["consent_marketing"],
            random_state=0,
        )
        lml.fairness_report(customers[["age_band", "income_band"]], y_score=p, offers=plan)

    _, caught = _recorded(flow)
    assert caught == [], _texts(caught)


def test_online_retail_labels_boundaries_and_model_are_quiet(retail: pd.DataFrame) -> None:
    end = retail["timestamp"].max()

    def flow() -> None:
        for horizon in (60, 90, 180):
            last = (end - pd.Timedelta(days=horizon)).normalize()
            monthly = [c for c in pd.date_range("2010-01-01", last, freq="MS")]
            lml.training_table(retail, cutoffs=monthly, horizon_days=horizon)
        X_train, y_train = lml.training_table(
            retail, cutoffs=pd.date_range(end="2010-09-02", periods=5, freq="30D"), horizon_days=90
        )
        model = lml.ChurnModel(random_state=0, n_estimators=80).fit(X_train, y_train)
        X = lml.build_features(retail, as_of="2010-12-01")
        p = pd.Series(model.predict_proba(X)[:, 1], index=X.index)
        boundaries = lml.estimate_boundaries(retail, as_of="2010-12-01")
        lml.TriggerPolicy(boundaries=boundaries).assign(X, p)
        # label windows over the 11-day Christmas closure (2009-12-24 to 2010-01-03)
        lml.training_table(retail, cutoffs=["2009-12-20", "2010-01-20"], horizon_days=30)

    _, caught = _recorded(flow)
    assert caught == [], _texts(caught)


def test_online_retail_horizon_30_warning_is_true_and_its_numbers_match(
    retail: pd.DataFrame,
) -> None:
    cutoffs = pd.date_range(end="2010-11-09", periods=6, freq="30D")
    _, caught = _recorded(lambda: lml.training_table(retail, cutoffs=cutoffs, horizon_days=30))
    assert len(caught) == 1, _texts(caught)
    text = str(caught[0].message)
    # recomputed here: per-customer median gap between orders before the last cut-off, median
    orders = retail.groupby(["customer_id", "order_id"])["timestamp"].min().reset_index()
    before = orders.loc[orders["timestamp"] < cutoffs[-1]].sort_values(["customer_id", "timestamp"])
    gaps = before.groupby("customer_id")["timestamp"].diff().dt.total_seconds() / 86_400
    per_customer = gaps.groupby(before["customer_id"]).median().dropna()
    assert f"({per_customer.median():.0f} days" in text and f"the {len(per_customer)} " in text
    assert "(48 days" in text and "the 2576 customers" in text
    # and it is true: over half the repeat customers who buy again are labelled churned
    c = pd.Timestamp("2010-06-12")
    counts = orders.loc[orders["timestamp"] < c].groupby("customer_id").size()
    repeat = counts.index[counts >= 2]
    nxt = orders.loc[orders["timestamp"] >= c].groupby("customer_id")["timestamp"].min()
    nxt = nxt.reindex(repeat).dropna()
    assert (nxt >= c + pd.Timedelta(days=30)).mean() > 0.5  # 0.565


# -- data that should warn does ------------------------------------------------------------------
def test_online_retail_outages_warn_from_14_days_with_right_dates(retail: pd.DataFrame) -> None:
    def without(first: str, last: str) -> pd.DataFrame:
        hole = (retail["timestamp"] >= first) & (
            retail["timestamp"] < pd.Timestamp(last) + pd.Timedelta(days=1)
        )
        return retail.loc[~hole]

    month = without("2010-03-01", "2010-03-31")
    _, caught = _recorded(lambda: lml.validate_transactions(month))
    assert len(caught) == 1 and "2010-03-01 to 2010-03-31 (31 days" in str(caught[0].message)
    cutoffs = ["2010-02-15", "2010-04-15", "2010-06-01"]
    _, caught = _recorded(lambda: lml.training_table(month, cutoffs=cutoffs, horizon_days=90))
    assert len(caught) == 1, _texts(caught)
    assert "cut-off(s) 2010-02-15 overlaps" in str(caught[0].message)  # only the one it meets

    _, caught = _recorded(lambda: lml.validate_transactions(without("2010-03-01", "2010-03-14")))
    assert len(caught) == 1 and "(14 days" in str(caught[0].message)
    _, caught = _recorded(lambda: lml.validate_transactions(without("2010-03-01", "2010-03-13")))
    assert caught == [], _texts(caught)  # documented: under 14 days is a closure


def test_label_window_past_the_data_is_refused(retail: pd.DataFrame) -> None:
    stale = retail.loc[retail["timestamp"] < "2010-11-01"]
    with pytest.raises(LeakageError, match="pass observation_end="):
        lml.training_table(
            stale, cutoffs=["2010-07-01", "2010-08-01", "2010-09-01"], horizon_days=90
        )


def test_raw_exports_warn_with_counts_that_match(retail_raw: pd.DataFrame) -> None:
    raw = retail_raw.assign(amount=retail_raw["Quantity"] * retail_raw["Price"])
    three = raw[["Customer ID", "InvoiceDate", "amount"]]
    columns = lml.ColumnMap(customer_id="Customer ID", timestamp="InvoiceDate")
    _, caught = _recorded(lambda: lml.validate_transactions(three, columns=columns))
    assert len(caught) == 1, _texts(caught)
    n_dup = int(three.duplicated().sum())  # 232,052: equal lines of one invoice look alike
    assert f"{n_dup:,} of {len(three):,} rows ({n_dup / len(three):.0%})" in str(caught[0].message)

    unit = lml.ColumnMap(
        customer_id="Customer ID",
        timestamp="InvoiceDate",
        order_id="Invoice",
        product_id="StockCode",
        quantity="Quantity",
        amount="Price",
    )
    _, caught = _recorded(
        lambda: lml.validate_transactions(retail_raw, columns=unit, cancellation_pattern=r"^C")
    )
    assert len(caught) == 1, _texts(caught)
    unsigned = int(((retail_raw["Quantity"] < 0) & (retail_raw["Price"] > 0)).sum())  # 10,205
    assert str(caught[0].message).startswith(f"transactions: {unsigned} rows have a negative")


@pytest.fixture(scope="module")
def targeted_fit_warnings(hillstrom: pd.DataFrame) -> list[warnings.WarningMessage]:
    """Warnings of an estimated-propensity fit on Hillstrom where 97% of the Mens e-mails to
    customers with under $100 of history were left out (a targeted campaign)."""
    sample = hillstrom.sample(9000, random_state=0)
    rng = np.random.default_rng(0)
    low = (sample["offer_id"] == "mens_email") & (sample["history"] < 100)
    targeted = sample.loc[~(low & (rng.random(len(sample)) < 0.97))]
    _, caught = _recorded(
        lambda: lml.UpliftModel(random_state=0, n_estimators=60).fit(
            targeted[COVARIATES],
            targeted["visit"],
            treatment=targeted["offer_id"],
            propensity="estimate",
        )
    )
    return caught


def test_hillstrom_overlap_warning_only_where_overlap_is_poor(
    hillstrom: pd.DataFrame, targeted_fit_warnings: list[warnings.WarningMessage]
) -> None:
    sample = hillstrom.sample(9000, random_state=0)
    fit = lml.UpliftModel(random_state=0, n_estimators=60)
    _, caught = _recorded(
        lambda: fit.fit(
            sample[COVARIATES],
            sample["visit"],
            treatment=sample["offer_id"],
            propensity="estimate",
        )
    )
    assert caught == [], _texts(caught)  # a randomised experiment
    caught = targeted_fit_warnings
    assert [w.category.__name__ for w in caught] == ["PoorOverlapWarning"], _texts(caught)
    assert "'mens_email'" in str(caught[0].message)


def test_hillstrom_full_spend_has_no_dominant_row(hillstrom: pd.DataFrame) -> None:
    _, caught = _recorded(
        lambda: lml.UpliftModel(random_state=0, n_estimators=40).fit(
            hillstrom[COVARIATES], hillstrom["spend"], treatment=hillstrom["offer_id"]
        )
    )
    assert caught == [], _texts(caught)


def test_scoring_a_lagging_extract_is_quiet_and_a_stale_one_warns(
    sim: dict[str, Any], registered: str
) -> None:
    tx = sim["tx"]
    lagging = tx.loc[tx["timestamp"] < "2024-09-29"]  # a warehouse two days behind
    _, caught = _recorded(lambda: _score(sim, registered, lagging, "2024-10-01"))
    assert caught == [], _texts(caught)
    stale = tx.loc[tx["timestamp"] < "2024-09-01"]
    _, caught = _recorded(lambda: _score(sim, registered, stale, "2024-10-01"))
    quality = [str(w.message) for w in caught if w.category is DataQualityWarning]
    assert len(quality) == 1 and "end on 2024-08-31, 30 days before" in quality[0]
    # fixed: 15-22 days stale (under a quarter of the 90-day horizon) was quiet, though a shop of
    # this pace should have had hundreds of orders then; a busy stretch of 14 days or more warns
    for cut, days in (("2024-09-16", 15), ("2024-09-10", 21)):
        stale = tx.loc[tx["timestamp"] < cut]
        _, caught = _recorded(lambda stale=stale: _score(sim, registered, stale, "2024-10-01"))
        quality = [str(w.message) for w in caught if w.category is DataQualityWarning]
        assert len(quality) == 1 and f"{days} days before as_of=2024-10-01" in quality[0], quality
    # 12 days (under 14) stays quiet: a holiday closure is normal
    stale = tx.loc[tx["timestamp"] < "2024-09-19"]
    _, caught = _recorded(lambda: _score(sim, registered, stale, "2024-10-01"))
    assert not [w for w in caught if w.category is DataQualityWarning], _texts(caught)


def test_churn_only_scoring_without_the_send_history_is_quiet_and_says_so(
    sim: dict[str, Any], registered: str
) -> None:
    """A churn-only policy is scored without campaigns= every night by design: no warning (one
    every night would teach operators to ignore warnings), but the scores, the scoring run and
    the command line's summary say the contact rule was not applied."""
    import mlflow

    from loyalty_ml.cli import status_summary

    tx = sim["tx"].loc[sim["tx"]["timestamp"] < "2024-10-01"]
    out, caught = _recorded(lambda: _score(sim, registered, tx, "2024-10-01"))
    assert caught == [], _texts(caught)
    assert out.attrs["rules_not_applied"] == [
        "the contact rule (no offer within 30 days of the last)"
    ]
    assert "not applied: the contact rule (no offer within 30 days of the last)" in (
        status_summary(out)
    )
    client = mlflow.MlflowClient(tracking_uri=registered)
    experiment = client.get_experiment_by_name("loyalty_ml_scoring")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], order_by=["start_time DESC"])
    assert runs[0].data.params["rules_not_applied"] == out.attrs["rules_not_applied"][0]
    people = sim["people"].drop(columns=["age_band", "gender", "income_band"])
    sent = lml.score_customers(
        tx,
        as_of="2024-10-01",
        model_uri="models:/warn_audit/1",
        customers=people,
        campaigns=sim["campaigns"],
        tracking_uri=registered,
        log_run=False,
    )
    assert sent.attrs["rules_not_applied"] == []
    assert "not applied" not in status_summary(sent)


# -- confirmed defects ---------------------------------------------------------------------------
def test_label_window_over_a_stale_end_before_observation_end_warns(retail: pd.DataFrame) -> None:
    stale = retail.loc[retail["timestamp"] < "2010-11-01"]
    cutoffs = ["2010-07-01", "2010-08-01", "2010-09-01"]
    (_, y), caught = _recorded(
        lambda: lml.training_table(
            stale, cutoffs=cutoffs, horizon_days=90, observation_end="2010-12-01"
        )
    )
    _, y_full = lml.training_table(
        retail, cutoffs=cutoffs, horizon_days=90, observation_end="2010-12-01"
    )
    last = pd.Timestamp("2010-09-01")
    assert y.xs(last, level="as_of").mean() > y_full.xs(last, level="as_of").mean() + 0.1
    assert any(w.category is DataQualityWarning for w in caught), _texts(caught)


def test_validate_transactions_reports_a_hole_before_observation_end(
    retail: pd.DataFrame,
) -> None:
    stale = retail.loc[retail["timestamp"] < "2010-11-01"]
    (_, report), caught = _recorded(
        lambda: lml.validate_transactions(stale, observation_end="2010-12-01", return_report=True)
    )
    assert any(w.category is DataQualityWarning for w in caught), _texts(caught)
    assert report.notes, str(report)


def test_simulated_extract_ending_before_observation_end_warns_in_both(sim: dict[str, Any]) -> None:
    # fixed: the days from the last purchase to a stated observation_end are checked as a hole
    raw = sim["data"].transactions
    stale = raw.loc[raw["timestamp"] < "2024-11-01"]
    hole = r"2024-11-01 to 2024-11-30 \(30 days; about \d+ a day around it\)"
    with pytest.warns(DataQualityWarning, match=f"no transactions at all from {hole}"):
        tx = lml.validate_transactions(stale, observation_end="2024-12-01")
    cutoffs = ["2024-07-01", "2024-08-01", "2024-09-01"]
    with pytest.warns(DataQualityWarning, match=rf"cut-off\(s\) 2024-09-01 overlaps .*{hole}"):
        lml.training_table(tx, cutoffs=cutoffs, horizon_days=90, observation_end="2024-12-01")
    with pytest.warns(DataQualityWarning, match=hole):
        lml.churn_labels(tx, as_of="2024-09-01", horizon_days=90, observation_end="2024-12-01")
    # a few quiet days before the stated end (under MIN_GAP_DAYS) are not a hole
    _, caught = _recorded(
        lambda: lml.training_table(
            tx, cutoffs=cutoffs[:2], horizon_days=90, observation_end="2024-11-10"
        )
    )
    assert caught == [], _texts(caught)


def _dominance(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "holds" in str(w.message)]


def test_dominant_row_advice_removes_the_dominance(hillstrom: pd.DataFrame) -> None:
    train = hillstrom.sample(6000, random_state=0).iloc[:3000]
    X, y, t = train[COVARIATES], train["spend"], train["offer_id"]
    _, caught = _recorded(lambda: lml.UpliftModel(random_state=0).fit(X, y, treatment=t))
    found = _dominance(caught)
    assert len(found) == 3
    advice = re.search(r"y\.clip\(upper=y\.quantile\(([0-9.]+)\)\)", found[0])
    if advice is None:
        return  # no cap advised: nothing that fails to help
    capped = y.clip(upper=y.quantile(float(advice.group(1))))
    _, caught = _recorded(lambda: lml.UpliftModel(random_state=0).fit(X, capped, treatment=t))
    assert _dominance(caught) == []


def test_dominant_row_warning_names_the_customer_plainly(hillstrom: pd.DataFrame) -> None:
    train = hillstrom.sample(6000, random_state=0).iloc[:3000]
    _, caught = _recorded(
        lambda: lml.UpliftModel(random_state=0).fit(
            train[COVARIATES], train["spend"], treatment=train["offer_id"]
        )
    )
    found = _dominance(caught)
    assert found and "39899" in " ".join(found)
    assert not any("np.int64" in text for text in found), found


def test_capacity_tie_advice_helps_on_online_retail(retail: pd.DataFrame) -> None:
    cutoffs = pd.date_range(end="2010-10-02", periods=5, freq="30D")
    X_train, y_train = lml.training_table(retail, cutoffs=cutoffs, horizon_days=60)
    model = lml.ChurnModel(random_state=0, horizon_days=60).fit(X_train, y_train)
    assert model.calibration_ == "sigmoid"
    X = lml.build_features(retail, as_of="2010-12-01")
    p = model.predict_proba(X)[:, 1]
    k = 50
    threshold, caught = _recorded(lambda: lml.threshold_for_capacity(p, k))
    assert len(caught) == 1 and (p >= threshold).sum() < k / 2  # 14: the warning itself is true
    message = str(caught[0].message)
    # fixed: the text blamed "an isotonic calibrator's steps" and advised ranking on
    # predict_proba_uncalibrated, which ties the same 130 customers of this sigmoid-calibrated
    # model; it now says how many taking the ties would select, and names isotonic as a condition
    tied = int((p == p[p < threshold].max()).sum())
    assert f"taking them all would select {(p >= threshold).sum() + tied}" in message, message
    assert "calibration_ is 'isotonic'" in message, message
    raw = model.predict_proba_uncalibrated(X)
    raw = raw[:, 1] if raw.ndim == 2 else raw
    raw_threshold, _ = _recorded(lambda: lml.threshold_for_capacity(raw, k))
    assert (raw >= raw_threshold).sum() < k / 2  # why the advice is now conditional


def test_trend_nan_warning_states_the_right_condition(retail: pd.DataFrame) -> None:
    for cutoffs in (["2010-02-20", "2010-03-20"], ["2010-04-01", "2010-05-01"]):
        X, _ = lml.training_table(retail, cutoffs=cutoffs, horizon_days=60)
        assert not [c for c in X.columns if X[c].isna().all()]  # 108 and 150 days: values
    X, y = lml.training_table(retail, cutoffs=["2010-01-15", "2010-02-15"], horizon_days=60)
    assert [c for c in X.columns if X[c].isna().all()] == ["aov_trend"]
    _, caught = _recorded(lambda: lml.ChurnModel(random_state=0, n_estimators=40).fit(X, y))
    assert len(caught) == 1 and "aov_trend" in str(caught[0].message)
    assert "two trend windows" not in str(caught[0].message)


def test_scoring_warnings_point_at_the_caller(sim: dict[str, Any], registered: str) -> None:
    stale = sim["tx"].loc[sim["tx"]["timestamp"] < "2024-09-01"]
    _, caught = _recorded(lambda: _score(sim, registered, stale, "2024-10-01"))
    assert caught
    assert {Path(w.filename).name for w in caught} == {Path(__file__).name}


def test_overlap_warning_points_at_the_caller(
    targeted_fit_warnings: list[warnings.WarningMessage],
) -> None:
    assert targeted_fit_warnings
    assert {Path(w.filename).name for w in targeted_fit_warnings} == {Path(__file__).name}
