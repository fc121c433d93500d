"""Audit: no public function or estimator changes the objects its caller passed in.

Users call this library from notebooks: a function that adds a column to their table, sorts or
re-indexes it, changes a dtype, sets ``attrs`` or renames an index silently corrupts the cells that
follow. Checked for every public callable listed below, on simulator data (validated and raw tables,
``order_id``, returns kept with ``validate_transactions(returns="keep")``, zone-aware timestamps, a
customers table indexed by ``customer_id`` and as a column, category columns, campaigns, offers):

1. **the call itself**: every input is deep-copied first (an estimator or a policy is pickled) and
   compared after the call: ``assert_frame_equal(check_exact=True)`` with flags and freq, column
   order, index and column names, dtypes, categories, ``attrs`` (nested values included), and for
   numpy arrays the values, dtype and ``flags.writeable``; the fitted model a method belongs to must
   pickle to the same bytes;
2. **writes into the result**: every column of every returned frame or Series is overwritten (its
   values reversed), a column is added, ``attrs`` and the dicts and lists inside it are extended,
   writeable arrays are overwritten, and the inputs are compared again;
3. **a second call** on the same inputs (after the writes of 2) gives a result identical to the
   first, ``attrs`` included: no cache or hidden state is shared between calls or with a result;
4. **renaming the result's index** (``out.index.name = ...``, a common notebook step) must leave
   the input's index alone.

Copy-on-write: the installed pandas (3.x, also the floor in ``pyproject.toml``) has it always on;
``mode.copy_on_write = False`` has no effect there and warns, so only the copy-on-write behaviour can
be and is tested. Under it, a result may share memory with an input (``ColumnMap.apply`` does) and a
write into the result still copies first; 2 checks exactly that.

Found and fixed (2026-12-03; the tests that showed them, strict xfails first, now pass):

- ``privacy.profiled_only(transactions, customers)`` returned the caller's own ``transactions`` and
  ``customers`` objects when ``customers`` is None or has no ``consent_profiling`` column: adding a
  column to, writing into or renaming the "kept" tables changed the caller's. It now returns
  shallow copies (copy-on-write makes them independent at no cost).
- Eight results held the caller's own ``Index`` object, so renaming the result's index (the only
  in-place change an Index allows) renamed the input's: ``UpliftModel.predict_effects`` (both
  frames with ``return_std``), ``UpliftModel.predict_baseline``, ``Boundaries.state``,
  ``privacy.pseudonymise_ids`` on a Series, ``kpis.clv_discounted`` on a DataFrame,
  ``kpis.clv_lifetime`` and ``kpis.clv_margin_churn`` (pandas arithmetic hands back the operand's
  Index) and ``tracking.LoyaltyPolicy.prepare``. Each now gives its result an Index of its own.

Fine (passing tests): everything else listed in ``CASES``: calls, writes into results and repeated
calls; ``train_and_register`` (its dict and config arguments included), ``score_customers``,
``LoyaltyPolicy.decide`` and the registered pyfunc model (a ``consent_marketing`` column in the
request is taken out of a copy, not of the caller's frame) in the MLflow tests. A
``numpy.random.Generator`` given as ``random_state`` is advanced, as scikit-learn does; a policy
from ``TriggerPolicy.with_reference`` holds the same ``Boundaries`` object as the policy it came
from (``dataclasses.replace``); neither is counted as a defect.
"""

from __future__ import annotations

import copy
import itertools
import math
import pickle
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING
from pandas.errors import Pandas4Warning
from sklearn.base import BaseEstimator

import loyalty_ml as lml
from loyalty_ml import kpis, privacy, tracking

SALT = "immutability-audit-salt-0123456789"
AS_OF = "2024-07-01"


# -- comparing objects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pickled:
    """A fitted model or policy, by its pickle: deepcopy does not round-trip a LightGBM Booster."""

    data: bytes


def _is_model(obj: object) -> bool:
    return isinstance(obj, BaseEstimator | tracking.LoyaltyPolicy)


def _freeze(obj: Any) -> Any:
    if _is_model(obj):
        return _Pickled(pickle.dumps(obj))
    if isinstance(obj, np.ndarray):  # deepcopy would make a read-only view writeable
        frozen = obj.copy()
        frozen.flags.writeable = obj.flags.writeable
        return frozen
    return copy.deepcopy(obj)


def _same_scalar(before: Any, after: Any) -> bool:
    if isinstance(before, float) and isinstance(after, float):
        return before == after or (math.isnan(before) and math.isnan(after))
    try:
        return bool(before == after)
    except (TypeError, ValueError):
        return before is after


def _assert_same(before: Any, after: Any, where: str) -> None:
    """``after`` equals the frozen ``before`` exactly, metadata included."""
    if isinstance(before, _Pickled):
        assert pickle.dumps(after) == before.data, f"{where}: the fitted object changed"
    elif isinstance(before, pd.DataFrame):
        assert isinstance(after, pd.DataFrame), where
        pd.testing.assert_frame_equal(
            after, before, check_exact=True, check_flags=True, check_freq=True, obj=where
        )
        assert list(after.columns) == list(before.columns), f"{where}: column order"
        assert list(after.index.names) == list(before.index.names), f"{where}: index names"
        assert list(after.columns.names) == list(before.columns.names), f"{where}: columns names"
        assert after.dtypes.astype(str).tolist() == before.dtypes.astype(str).tolist(), where
        for name in before.columns[
            [isinstance(t, pd.CategoricalDtype) for t in before.dtypes]
        ].tolist():
            assert after[name].dtype == before[name].dtype, f"{where}: categories of {name}"
        _assert_same(dict(before.attrs), dict(after.attrs), f"{where}.attrs")
    elif isinstance(before, pd.Series):
        assert isinstance(after, pd.Series), where
        pd.testing.assert_series_equal(
            after, before, check_exact=True, check_flags=True, check_freq=True, obj=where
        )
        assert after.name == before.name, f"{where}: name"
        assert list(after.index.names) == list(before.index.names), f"{where}: index names"
        _assert_same(dict(before.attrs), dict(after.attrs), f"{where}.attrs")
    elif isinstance(before, pd.Index):
        pd.testing.assert_index_equal(after, before, exact=True, obj=where)
        assert list(after.names) == list(before.names), f"{where}: names"
    elif isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), where
        assert (after.dtype, after.shape) == (before.dtype, before.shape), where
        np.testing.assert_array_equal(after, before, err_msg=where)
        assert after.flags.writeable == before.flags.writeable, f"{where}: writeable flag"
    elif isinstance(before, dict):
        assert isinstance(after, dict), where
        assert list(after) == list(before), f"{where}: keys"
        for key, value in before.items():
            _assert_same(value, after[key], f"{where}[{key!r}]")
    elif isinstance(before, list | tuple):
        assert type(after) is type(before) and len(after) == len(before), where
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _assert_same(b, a, f"{where}[{i}]")
    elif isinstance(before, Path):
        assert after == before, where
    elif type(before).__module__.startswith("loyalty_ml") and hasattr(before, "__dict__"):
        assert type(after) is type(before), where
        _assert_same(dict(vars(before)), dict(vars(after)), where)
    else:
        assert _same_scalar(before, after), f"{where}: {before!r} -> {after!r}"


def _pandas_parts(obj: Any, seen: set[int] | None = None) -> Iterator[Any]:
    """The frames, Series, Indexes and arrays inside a result (not inside fitted models)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or _is_model(obj):
        return
    seen.add(id(obj))
    if isinstance(obj, pd.DataFrame | pd.Series | pd.Index | np.ndarray):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _pandas_parts(value, seen)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _pandas_parts(value, seen)
    elif type(obj).__module__.startswith("loyalty_ml") and hasattr(obj, "__dict__"):
        for value in vars(obj).values():
            yield from _pandas_parts(value, seen)


def _extend_attrs(attrs: dict[Any, Any]) -> None:
    for value in attrs.values():
        if isinstance(value, dict):
            value["written_by_caller"] = 1
        elif isinstance(value, list):
            value.append("written_by_caller")
    attrs["written_by_caller"] = 1


def _write_into(result: Any) -> None:
    """What a notebook does to a result: overwrite values, add a column, extend attrs."""
    for part in list(_pandas_parts(result)):
        if isinstance(part, pd.DataFrame):
            for j in range(part.shape[1]):
                part.iloc[:, j] = part.iloc[::-1, j].to_numpy()
            part["written_by_caller"] = 0
            _extend_attrs(part.attrs)
        elif isinstance(part, pd.Series):
            part.iloc[:] = part.iloc[::-1].to_numpy()
            _extend_attrs(part.attrs)
        elif isinstance(part, np.ndarray) and part.flags.writeable and part.size:
            part[...] = part[::-1]


_tags = itertools.count()


def _rename_indexes(result: Any) -> None:
    tag = f"renamed_by_caller_{next(_tags)}"
    for part in list(_pandas_parts(result)):
        if isinstance(part, pd.DataFrame | pd.Series):
            part.index.names = [f"{tag}_{k}" for k in range(part.index.nlevels)]
        elif isinstance(part, pd.Index):
            part.names = [f"{tag}_{k}" for k in range(part.nlevels)]


# -- the tables ------------------------------------------------------------------------------------


@dataclass
class Env:
    """Inputs built once; ``fresh`` hands each test its own deep copy."""

    tables: dict[str, Any]
    models: dict[str, Any] = field(default_factory=dict)

    def fresh(self, name: str) -> Any:
        if name in self.models:
            return self.models[name]
        return copy.deepcopy(self.tables[name])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    data = lml.simulate(n_customers=700, seed=6)
    raw = data.transactions
    rng = np.random.default_rng(0)
    # a few lines refunded in an order of their own, and a few exact duplicates
    refunds = raw.iloc[rng.choice(len(raw), 40, replace=False)].assign(
        amount=lambda t: -t["amount"], order_id=lambda t: t["order_id"] + 10_000_000
    )
    raw_returns = pd.concat([raw, refunds, raw.iloc[:15]], ignore_index=True)
    raw_returns.attrs = {"source": {"system": "pos", "files": ["a.csv"]}}
    tx = lml.validate_transactions(raw)
    tx_keep = lml.validate_transactions(raw_returns, returns="keep")
    customers = lml.validate_customers(data.customers)
    people = customers.reset_index().assign(region=lambda t: t["region"].astype("category"))
    offers = lml.validate_offers(data.offers)
    campaigns = lml.validate_campaigns(data.campaigns, offers=offers)
    config = lml.FeatureConfig(extra_attributes=("region",))
    X = lml.build_features(tx, as_of=AS_OF, customers=people, campaigns=campaigns, config=config)
    X_then = lml.build_features(
        tx, as_of="2024-01-01", customers=people, campaigns=campaigns, config=config
    )
    X_train, y_train = lml.training_table(
        tx,
        cutoffs=pd.date_range(end="2024-04-01", periods=3, freq="45D"),
        horizon_days=90,
        customers=people,
        campaigns=campaigns,
        config=config,
    )
    X_exp, y_exp, t_exp = lml.experiment_table(
        tx, campaigns, window_days=30, customers=people, config=config
    )
    churn = lml.ChurnModel(random_state=0, n_estimators=40).fit(X_train, y_train)
    uplift = lml.UpliftModel(random_state=0, n_estimators=30, n_bootstrap=2).fit(
        X_exp, y_exp, treatment=t_exp
    )
    p = pd.Series(churn.predict_proba(X)[:, 1], index=X.index, name="p")
    p_raw = churn.predict_proba_uncalibrated(X)
    y_now = pd.Series(rng.binomial(1, p.to_numpy()), index=X.index, name="churned")
    catalog = lml.OfferCatalog.from_frame(offers)
    effects, baseline = uplift.predict_effects(X), uplift.predict_baseline(X)
    plan = lml.choose_offers(
        effects,
        catalog,
        baseline=baseline,
        value_per_conversion=12.0,
        holdout_fraction=0.1,
        consent=customers["consent_marketing"],
        random_state=0,
    )
    boundaries = lml.estimate_boundaries(tx, as_of=AS_OF)
    sensitive = customers.loc[X.index, ["age_band", "income_band"]]
    effects_exp = uplift.predict_effects(X_exp)
    assignment = effects_exp.idxmax(axis=1).where(effects_exp.max(axis=1) > 0, "control")
    clv = kpis.clv_inputs(tx, period_start="2024-01-01", period_end=AS_OF)
    tables = {
        "raw": raw,
        "raw_returns": raw_returns,
        "raw_customers": data.customers,
        "raw_offers": data.offers,
        "raw_campaigns": data.campaigns,
        "tx": tx,
        "tx_keep": tx_keep,
        "customers": customers,
        "people": people,
        "offers": offers,
        "campaigns": campaigns,
        "config": config,
        "X": X,
        "X_then": X_then,
        "X_train": X_train,
        "y_train": y_train,
        "X_exp": X_exp,
        "y_exp": y_exp,
        "t_exp": t_exp,
        "p": p,
        "p_raw": p_raw,
        # a capacity whose cut falls between two scores (a tie at the cut warns)
        "k": int((p_raw > np.median(p_raw)).sum()),
        "y_now": y_now,
        "catalog": catalog,
        "effects": effects,
        "baseline": baseline,
        "plan": plan,
        "boundaries": boundaries,
        "trigger": lml.TriggerPolicy(boundaries=boundaries),
        "sensitive": sensitive,
        "effects_exp": effects_exp,
        "assignment": assignment,
        "clv": clv,
        "evaluation": lml.evaluate_churn(y_now, p),
        "fairness": lml.fairness_report(sensitive, y_true=y_now, y_score=p, offers=plan),
        "split": privacy.split_by_consent(customers),
        "tiers": kpis.propose_tiers(tx, as_of=AS_OF),
        "drift": tracking.DriftProfile.from_frame(X_then.select_dtypes("number")),
        "report_dir": tmp_path_factory.mktemp("report"),
    }
    return Env(tables, {"churn": churn, "uplift": uplift})


# -- the calls -------------------------------------------------------------------------------------


def _result(out: Any) -> Any:
    return out


@dataclass
class Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: what two calls must agree on; None for figures (compared as objects they never are)
    key: Callable[[Any], Any] | None = _result


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Env], Call]
    #: also in the index-renaming test (cases returning indexed pandas objects, cheap to call)
    rename: bool = True


def _c(name: str, build: Callable[[Env], Call], *, rename: bool = True) -> Case:
    return Case(name, build, rename)


def _figure(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return Call(fn, args, kwargs, key=None)


def _fitted_churn(e: Env) -> Call:
    X = e.fresh("X")
    return Call(
        lambda X_, y_: lml.ChurnModel(random_state=0, n_estimators=30).fit(X_, y_),
        (e.fresh("X_train"), e.fresh("y_train")),
        key=lambda model: model.predict_proba(X),
    )


def _fitted_churn_arrays(e: Env) -> Call:
    X_train = e.fresh("X_train").select_dtypes("number")
    matrix = X_train.to_numpy(copy=True)
    frozen = matrix.copy()
    frozen.flags.writeable = False
    return Call(
        lambda X_, y_: lml.ChurnModel(random_state=0, n_estimators=30).fit(X_, y_),
        (frozen, e.fresh("y_train").to_numpy(copy=True)),
        key=lambda model: model.predict_proba(matrix),
    )


def _fitted_uplift(e: Env) -> Call:
    X_exp = e.fresh("X_exp")
    return Call(
        lambda X_, y_, **kw: lml.UpliftModel(random_state=0, n_estimators=30).fit(X_, y_, **kw),
        (X_exp, e.fresh("y_exp").to_numpy(copy=True)),
        {
            "treatment": e.fresh("t_exp"),
            "sample_weight": np.linspace(0.5, 1.5, len(X_exp)),
            "groups": pd.Series(np.arange(len(X_exp)) % 3, index=X_exp.index),
        },
        key=lambda model: model.predict_effects(X_exp),
    )


def _tz_raw(e: Env) -> Call:
    raw = e.fresh("raw")
    stamps = raw["timestamp"].dt.tz_localize("UTC").dt.tz_convert("Europe/London")
    return Call(lml.validate_transactions, (raw.assign(timestamp=stamps),), {"timezone": "UTC"})


def _renamed_raw(e: Env) -> Call:
    raw = e.fresh("raw").rename(columns={"customer_id": "Customer ID", "timestamp": "InvoiceDate"})
    columns = lml.ColumnMap(customer_id="Customer ID", timestamp="InvoiceDate")
    return Call(lml.validate_transactions, (raw,), {"columns": columns, "return_report": True})


def _column_map(e: Env) -> Call:
    raw = e.fresh("raw").rename(columns={"customer_id": "Customer ID"})
    return Call(lml.ColumnMap(customer_id="Customer ID").apply, (raw,), {"table": "transactions"})


def _choose_full(e: Env) -> Call:
    return Call(
        lml.choose_offers,
        (e.fresh("effects"), e.fresh("catalog")),
        {
            "baseline": e.fresh("baseline"),
            "value_per_conversion": 12.0,
            "budget": 300.0,
            "holdout_fraction": 0.1,
            "consent": e.fresh("customers")["consent_marketing"],
            "random_state": 0,
            "history": e.fresh("campaigns"),
            "as_of": AS_OF,
            "min_days_between_offers": 14,
        },
    )


def _choose_series_args(e: Env) -> Call:
    effects = e.fresh("effects")
    ids = list(e.fresh("catalog").ids)
    eligible = pd.DataFrame(True, index=effects.index, columns=ids)
    eligible.iloc[::3, 0] = False
    return Call(
        lml.choose_offers,
        (effects, e.fresh("catalog")),
        {
            "baseline": e.fresh("baseline"),
            "value_per_conversion": pd.Series(
                np.linspace(5.0, 20.0, len(effects)), index=effects.index
            ),
            "eligible": eligible,
            "strategy": "max_net_value",
            "arm_mean_se": pd.Series(0.01, index=ids),
            "consent": e.fresh("customers")["consent_marketing"].sample(frac=1, random_state=1),
            "random_state": 0,
        },
    )


def _nightly(e: Env, *, as_column: bool) -> Call:
    plan = e.fresh("plan")
    held = plan["reason"].eq("holdout")
    decisions = plan.assign(
        holdout_offer_id=pd.Series(pd.NA, index=plan.index, dtype="str").mask(
            held, e.fresh("catalog").ids[0]
        )
    )
    if as_column:
        decisions = decisions.reset_index()
    return Call(lml.nightly_sends, (decisions,), {"sent_at": "2024-07-01 09:00"})


def _policy_value_dr(e: Env) -> Call:
    X_exp = e.fresh("X_exp")
    uplift = e.fresh("uplift")
    base = uplift.predict_baseline(X_exp).rename("control")
    mu = pd.concat([base, uplift.predict_effects(X_exp).add(base, axis=0)], axis=1)
    return Call(
        lml.policy_value,
        (e.fresh("y_exp"), e.fresh("t_exp"), e.fresh("assignment")),
        {"method": "dr", "mu": mu},
    )


def _tier_costs(e: Env) -> Call:
    tiers = e.fresh("tiers")
    benefits = {
        name: kpis.TierBenefit(spend_rate=0.01 * i, fixed_per_member=float(i))
        for i, name in enumerate(tiers.index)
    }
    return Call(
        kpis.estimate_tier_costs,
        (e.fresh("tx"), tiers),
        {"benefits": benefits, "as_of": AS_OF},
    )


def _report(e: Env) -> Call:
    return Call(
        lml.write_report,
        (e.fresh("tx"), e.tables["report_dir"]),
        {
            "customers": e.fresh("customers"),
            "campaigns": e.fresh("campaigns"),
            "offers": e.fresh("offers"),
            "churn": e.fresh("churn"),
            "X": e.fresh("X_train"),
            "y": e.fresh("y_train"),
            "uplift": e.fresh("uplift"),
            "fairness": e.fresh("fairness"),
            "feature_config": e.fresh("config"),
        },
        key=lambda path: path.read_text(),
    )


CASES: list[Case] = [
    # schema
    _c("validate_transactions[raw]", lambda e: Call(lml.validate_transactions, (e.fresh("raw"),))),
    _c(
        "validate_transactions[returns=keep,report]",
        lambda e: Call(
            lml.validate_transactions,
            (e.fresh("raw_returns"),),
            {"returns": "keep", "return_report": True, "cancellation_pattern": r"^C"},
        ),
    ),
    _c(
        "validate_transactions[validated]",
        lambda e: Call(lml.validate_transactions, (e.fresh("tx"),)),
    ),
    _c("validate_transactions[zone-aware]", _tz_raw),
    _c("validate_transactions[ColumnMap]", _renamed_raw),
    _c("ColumnMap.apply", _column_map),
    _c(
        "validate_customers[raw]",
        lambda e: Call(lml.validate_customers, (e.fresh("raw_customers"),)),
    ),
    _c(
        "validate_customers[validated]",
        lambda e: Call(lml.validate_customers, (e.fresh("customers"),), {"timezone": "UTC"}),
    ),
    _c("validate_offers", lambda e: Call(lml.validate_offers, (e.fresh("raw_offers"),))),
    _c(
        "validate_campaigns",
        lambda e: Call(
            lml.validate_campaigns, (e.fresh("raw_campaigns"),), {"offers": e.fresh("raw_offers")}
        ),
    ),
    _c("cleaning_report", lambda e: Call(lml.cleaning_report, (e.fresh("tx_keep"),))),
    _c(
        "check_canonical",
        lambda e: Call(lml.schema.check_canonical, (e.fresh("tx"), lml.schema.TRANSACTIONS_SCHEMA)),
    ),
    # features
    _c(
        "build_features[validated]",
        lambda e: Call(
            lml.build_features,
            (e.fresh("tx"),),
            {
                "as_of": AS_OF,
                "customers": e.fresh("people"),
                "campaigns": e.fresh("campaigns"),
                "config": e.fresh("config"),
            },
        ),
    ),
    _c(
        "build_features[raw]",
        lambda e: Call(
            lml.build_features,
            (e.fresh("raw"),),
            {
                "as_of": AS_OF,
                "customers": e.fresh("raw_customers"),
                "campaigns": e.fresh("raw_campaigns"),
            },
        ),
    ),
    _c(
        "build_features[returns kept, indexed customers]",
        lambda e: Call(
            lml.build_features,
            (e.fresh("tx_keep"),),
            {"as_of": AS_OF, "customers": e.fresh("customers")},
        ),
    ),
    _c(
        "training_table",
        lambda e: Call(
            lml.training_table,
            (e.fresh("tx_keep"),),
            {
                "cutoffs": list(pd.date_range(end="2024-04-01", periods=3, freq="45D")[::-1]),
                "horizon_days": 90,
                "customers": e.fresh("people"),
                "campaigns": e.fresh("campaigns"),
                "config": e.fresh("config"),
            },
        ),
    ),
    _c(
        "experiment_table",
        lambda e: Call(
            lml.experiment_table,
            (e.fresh("tx"), e.fresh("campaigns")),
            {"window_days": 30, "customers": e.fresh("people"), "outcome": "spend"},
        ),
    ),
    _c(
        "churn_labels",
        lambda e: Call(
            lml.churn_labels, (e.fresh("tx_keep"),), {"as_of": "2024-06-01", "horizon_days": 90}
        ),
    ),
    _c(
        "estimate_boundaries",
        lambda e: Call(lml.estimate_boundaries, (e.fresh("tx"),), {"as_of": AS_OF}),
    ),
    _c("rfm_edges", lambda e: Call(lml.rfm_edges, (e.fresh("X"),))),
    _c(
        "rfm_segments",
        lambda e: Call(lml.rfm_segments, (e.fresh("X"),), {"edges": lml.rfm_edges(e.fresh("X"))}),
    ),
    _c(
        "segment_migration",
        lambda e: Call(lml.segment_migration, (e.fresh("X_then"), e.fresh("X"))),
    ),
    _c(
        "campaign_responses[purchase]",
        lambda e: Call(
            lml.campaign_responses, (e.fresh("campaigns"), e.fresh("tx")), {"window_days": 30}
        ),
    ),
    _c(
        "campaign_responses[spend, raw]",
        lambda e: Call(
            lml.campaign_responses,
            (e.fresh("raw_campaigns"), e.fresh("raw")),
            {"window_days": 30, "outcome": "spend"},
        ),
    ),
    _c(
        "Boundaries.state",
        lambda e: Call(e.fresh("boundaries").state, (e.fresh("X")["recency_days"],)),
    ),
    # models
    _c("ChurnModel.fit[frame]", _fitted_churn, rename=False),
    _c("ChurnModel.fit[arrays, read-only X]", _fitted_churn_arrays, rename=False),
    _c("ChurnModel.predict_proba", lambda e: Call(e.fresh("churn").predict_proba, (e.fresh("X"),))),
    _c(
        "ChurnModel.predict_proba_uncalibrated",
        lambda e: Call(e.fresh("churn").predict_proba_uncalibrated, (e.fresh("X"),)),
    ),
    _c(
        "ChurnModel.predict[shuffled]",
        lambda e: Call(
            e.fresh("churn").predict,
            (e.fresh("X").sample(frac=1, random_state=0).iloc[:, ::-1],),
        ),
    ),
    _c(
        "ChurnModel.explain",
        lambda e: Call(e.fresh("churn").explain, (e.fresh("X"),), {"top_k": 3}),
    ),
    _c("ChurnModel.shap_values", lambda e: Call(e.fresh("churn").shap_values, (e.fresh("X"),))),
    _c(
        "ChurnModel.plot_shap_summary",
        lambda e: _figure(e.fresh("churn").plot_shap_summary, e.fresh("X")),
        rename=False,
    ),
    _c("UpliftModel.fit", _fitted_uplift, rename=False),
    _c(
        "UpliftModel.predict_effects",
        lambda e: Call(e.fresh("uplift").predict_effects, (e.fresh("X"),)),
    ),
    _c(
        "UpliftModel.predict_effects[return_std]",
        lambda e: Call(e.fresh("uplift").predict_effects, (e.fresh("X"),), {"return_std": True}),
    ),
    _c(
        "UpliftModel.predict_baseline",
        lambda e: Call(e.fresh("uplift").predict_baseline, (e.fresh("X"),)),
    ),
    _c(
        "UpliftModel.score",
        lambda e: Call(
            e.fresh("uplift").score,
            (e.fresh("X_exp"), e.fresh("y_exp")),
            {"treatment": e.fresh("t_exp")},
        ),
    ),
    _c(
        "tune_churn_model",
        lambda e: Call(
            lml.tune_churn_model,
            (e.fresh("X_train"), e.fresh("y_train")),
            {
                "param_grid": {"num_leaves": [7, 15]},
                "n_splits": 2,
                "base": lml.ChurnModel(random_state=0, n_estimators=20),
            },
        ),
        rename=False,
    ),
    # policy
    _c(
        "TriggerPolicy.assign[Series]",
        lambda e: Call(
            e.fresh("trigger").assign, (e.fresh("X"), e.fresh("p").sample(frac=1, random_state=0))
        ),
    ),
    _c(
        "TriggerPolicy.assign[array]",
        lambda e: Call(e.fresh("trigger").assign, (e.fresh("X"), e.fresh("p").to_numpy())),
    ),
    _c(
        "TriggerPolicy.with_reference",
        lambda e: Call(lml.TriggerPolicy().with_reference, (e.fresh("X"),)),
    ),
    _c(
        "threshold_for_capacity",
        lambda e: Call(lml.threshold_for_capacity, (e.fresh("p_raw"), e.fresh("k"))),
    ),
    _c(
        "threshold_for_precision",
        lambda e: Call(lml.threshold_for_precision, (e.fresh("y_now"), e.fresh("p"), 0.6)),
    ),
    _c(
        "threshold_for_profit",
        lambda e: Call(
            lml.threshold_for_profit,
            (e.fresh("p"),),
            {"value_saved": 50.0, "save_rate": 0.2, "contact_cost": 1.0},
        ),
    ),
    _c(
        "OfferCatalog.from_frame",
        lambda e: Call(lml.OfferCatalog.from_frame, (e.fresh("raw_offers"),)),
    ),
    _c(
        "OfferCatalog[list of Offer]",
        lambda e: Call(lml.OfferCatalog, (list(e.fresh("catalog")),)),
    ),
    _c("OfferCatalog.to_frame", lambda e: Call(e.fresh("catalog").to_frame)),
    _c(
        "Offer.expected_cost[array]",
        lambda e: Call(
            e.fresh("catalog")[e.fresh("catalog").ids[0]].expected_cost, (e.fresh("p_raw"),)
        ),
    ),
    _c("choose_offers[budget, holdout, history]", _choose_full),
    _c("choose_offers[Series and frame arguments]", _choose_series_args),
    _c("summarize_plan", lambda e: Call(lml.summarize_plan, (e.fresh("plan"),))),
    _c("nightly_sends[index]", lambda e: _nightly(e, as_column=False)),
    _c("nightly_sends[column]", lambda e: _nightly(e, as_column=True)),
    # evaluation
    _c(
        "evaluate_churn[Series]",
        lambda e: Call(lml.evaluate_churn, (e.fresh("y_now"), e.fresh("p"))),
    ),
    _c(
        "evaluate_churn[arrays]",
        lambda e: Call(
            lml.evaluate_churn, (e.fresh("y_now").to_numpy(), e.fresh("p").to_numpy(copy=True))
        ),
    ),
    _c("ChurnEvaluation.as_dict", lambda e: Call(e.fresh("evaluation").as_dict)),
    _c(
        "ChurnEvaluation.plot_calibration",
        lambda e: _figure(e.fresh("evaluation").plot_calibration),
        rename=False,
    ),
    _c(
        "ChurnEvaluation.plot_lift",
        lambda e: _figure(e.fresh("evaluation").plot_lift),
        rename=False,
    ),
    _c("Boundaries.plot", lambda e: _figure(e.fresh("boundaries").plot), rename=False),
    _c(
        "qini_auc_score",
        lambda e: Call(
            lml.qini_auc_score, (e.fresh("y_exp"), e.fresh("t_exp"), e.fresh("effects_exp"))
        ),
    ),
    _c(
        "uplift_at_k",
        lambda e: Call(
            lml.uplift_at_k,
            (e.fresh("y_exp").to_numpy(), e.fresh("t_exp").to_numpy(), e.fresh("effects_exp")),
            {"k": 0.3},
        ),
    ),
    _c(
        "uplift_auc_score",
        lambda e: Call(
            lml.uplift_auc_score, (e.fresh("y_exp"), e.fresh("t_exp"), e.fresh("effects_exp"))
        ),
    ),
    _c(
        "policy_value[ipw, bootstrap]",
        lambda e: Call(
            lml.policy_value,
            (e.fresh("y_exp"), e.fresh("t_exp"), e.fresh("assignment")),
            {"n_bootstrap": 10, "random_state": 0},
        ),
    ),
    _c("policy_value[dr]", _policy_value_dr),
    _c(
        "fairness_report",
        lambda e: Call(
            lml.fairness_report,
            (e.fresh("sensitive").astype({"age_band": "category"}),),
            {
                "y_true": e.fresh("y_now"),
                "y_score": e.fresh("p"),
                "offers": e.fresh("plan"),
                "limits": lml.FairnessLimits(),
                "bootstrap": 10,
                "random_state": 0,
            },
        ),
    ),
    _c("FairnessReport.to_markdown", lambda e: Call(e.fresh("fairness").to_markdown)),
    _c("FairnessReport.as_dict", lambda e: Call(e.fresh("fairness").as_dict)),
    _c(
        "FairnessReport.without_small_groups",
        lambda e: Call(e.fresh("fairness").without_small_groups, (50,)),
    ),
    _c("FairnessReport.plot", lambda e: _figure(e.fresh("fairness").plot), rename=False),
    _c("check_promotion", lambda e: Call(lml.check_promotion, (e.fresh("fairness"),))),
    # kpis
    _c(
        "kpis.summary",
        lambda e: Call(
            kpis.summary,
            (e.fresh("tx_keep"),),
            {"period_start": "2024-01-01", "period_end": AS_OF, "previous_start": "2023-07-01"},
        ),
    ),
    _c(
        "kpis.active_members[indexed customers]",
        lambda e: Call(
            kpis.active_members,
            (e.fresh("tx"),),
            {"as_of": AS_OF, "customers": e.fresh("customers")},
        ),
    ),
    _c(
        "kpis.active_members[customers column]",
        lambda e: Call(
            kpis.active_members, (e.fresh("tx"),), {"as_of": AS_OF, "customers": e.fresh("people")}
        ),
    ),
    _c(
        "kpis.clv_inputs",
        lambda e: Call(
            kpis.clv_inputs,
            (e.fresh("tx_keep"),),
            {"period_start": "2024-01-01", "period_end": AS_OF},
        ),
    ),
    _c(
        "kpis.clv_lifetime",
        lambda e: Call(
            kpis.clv_lifetime,
            kwargs={
                "aov": e.fresh("clv")["aov"],
                "purchase_frequency": e.fresh("clv")["purchase_frequency"],
                "lifetime": 3.0,
            },
        ),
    ),
    _c(
        "kpis.clv_margin_churn",
        lambda e: Call(
            kpis.clv_margin_churn,
            kwargs={
                "aov": e.fresh("clv")["aov"],
                "purchase_frequency": e.fresh("clv")["purchase_frequency"],
                "margin_rate": 0.3,
                "churn_rate": 0.25,
            },
        ),
    ),
    _c(
        "kpis.clv_discounted[Series]",
        lambda e: Call(
            kpis.clv_discounted,
            (e.fresh("clv")["margin"],),
            {"discount_rate": 0.1, "retention_rate": 0.8, "periods": 5},
        ),
    ),
    _c(
        "kpis.clv_discounted[DataFrame]",
        lambda e: Call(
            kpis.clv_discounted,
            (e.fresh("clv")[["margin", "revenue"]],),
            {"discount_rate": 0.1},
        ),
    ),
    _c("kpis.cohort_counts", lambda e: Call(kpis.cohort_counts, (e.fresh("tx"),))),
    _c(
        "kpis.cohort_retention",
        lambda e: Call(kpis.cohort_retention, (e.fresh("tx_keep"),), {"as_of": AS_OF}),
    ),
    _c(
        "kpis.retention_curves[groups]",
        lambda e: Call(
            kpis.retention_curves, (e.fresh("tx"),), {"groups": e.fresh("customers")["region"]}
        ),
    ),
    _c(
        "kpis.plot_cohort_heatmap",
        lambda e: _figure(kpis.plot_cohort_heatmap, kpis.cohort_retention(e.fresh("tx"))),
        rename=False,
    ),
    _c(
        "kpis.plot_retention_curves",
        lambda e: _figure(kpis.plot_retention_curves, kpis.retention_curves(e.fresh("tx"))),
        rename=False,
    ),
    _c(
        "kpis.points_liability[Series]",
        lambda e: Call(
            kpis.points_liability,
            (e.fresh("customers")["points_balance"],),
            {"point_value": 0.01, "breakage_rate": 0.2},
        ),
    ),
    _c(
        "kpis.points_liability[frame]",
        lambda e: Call(
            kpis.points_liability,
            (e.fresh("customers"),),
            {"point_value": 0.01, "breakage_rate": 0.2},
        ),
    ),
    _c(
        "kpis.tier_distribution",
        lambda e: Call(
            kpis.tier_distribution,
            (e.fresh("customers")["tier"].astype("category"),),
            {"order": ["basic", "silver", "gold"]},
        ),
    ),
    _c(
        "kpis.propose_tiers", lambda e: Call(kpis.propose_tiers, (e.fresh("tx"),), {"as_of": AS_OF})
    ),
    _c("kpis.estimate_tier_costs", _tier_costs),
    _c(
        "kpis.measure_campaign",
        lambda e: Call(
            kpis.measure_campaign,
            (e.fresh("campaigns"), e.fresh("tx_keep"), e.fresh("offers")),
            {"window_days": 30, "by": ["campaign_id", "offer_id"], "margin_rate": 0.3},
        ),
    ),
    # privacy
    _c(
        "pseudonymise_ids[Series]",
        lambda e: Call(privacy.pseudonymise_ids, (e.fresh("tx")["customer_id"],), {"salt": SALT}),
    ),
    _c(
        "pseudonymise_ids[Index]",
        lambda e: Call(privacy.pseudonymise_ids, (e.fresh("customers").index,), {"salt": SALT}),
    ),
    _c(
        "pseudonymise_ids[list]",
        lambda e: Call(privacy.pseudonymise_ids, ([17, "17", 18.0],), {"salt": SALT}),
    ),
    _c(
        "pseudonymise_frame",
        lambda e: Call(
            privacy.pseudonymise_frame,
            (e.fresh("people").assign(email="someone@example.com"),),
            {"salt": SALT, "keep": ["age_band"]},
        ),
    ),
    _c(
        "pseudonymise_frame[training table]",
        lambda e: Call(privacy.pseudonymise_frame, (e.fresh("X_train"),), {"salt": SALT}),
    ),
    _c(
        "erase_customers",
        lambda e: Call(
            privacy.erase_customers,
            ([1, "2", 3.0],),
            {
                "transactions": e.fresh("tx"),
                "customers": e.fresh("customers"),
                "campaigns": e.fresh("campaigns"),
                "features": e.fresh("X_train"),
            },
        ),
    ),
    _c("split_by_consent", lambda e: Call(privacy.split_by_consent, (e.fresh("customers"),))),
    _c(
        "split_by_consent[flag absent]",
        lambda e: Call(
            privacy.split_by_consent,
            (e.fresh("people").drop(columns=["consent_profiling"]),),
            {"assume_consent_when_absent": True},
        ),
    ),
    _c(
        "may_profile",
        lambda e: Call(
            privacy.may_profile, (e.fresh("tx")["customer_id"].to_numpy(), e.fresh("people"))
        ),
    ),
    _c(
        "profiled_only[consent flag]",
        lambda e: Call(privacy.profiled_only, (e.fresh("tx"), e.fresh("customers"))),
    ),
    _c(
        "exclude_without_profiling_consent",
        lambda e: Call(
            privacy.exclude_without_profiling_consent, (e.fresh("X_train"), e.fresh("split"))
        ),
    ),
    _c(
        "withhold_offers_without_marketing_consent",
        lambda e: Call(
            privacy.withhold_offers_without_marketing_consent, (e.fresh("plan"), e.fresh("split"))
        ),
    ),
    _c(
        "select_needed_columns",
        lambda e: Call(
            privacy.select_needed_columns,
            (e.fresh("customers").assign(email="x@example.com"), ["tier", "region"]),
        ),
    ),
    _c("check_no_personal_data", lambda e: Call(privacy.check_no_personal_data, (e.fresh("X"),))),
    _c(
        "personal_data_columns",
        lambda e: Call(privacy.personal_data_columns, ([*e.fresh("people").columns, "email"],)),
    ),
    # tracking helpers, reporting, datasets
    _c(
        "describe_programme",
        lambda e: Call(
            tracking.describe_programme,
            (e.fresh("tx_keep"),),
            {"customers": e.fresh("customers"), "campaigns": e.fresh("campaigns")},
        ),
    ),
    _c("hash_frame", lambda e: Call(tracking.hash_frame, (e.fresh("X"),))),
    _c(
        "population_stability_index",
        lambda e: Call(
            tracking.population_stability_index,
            (e.fresh("X_then")["spend"], e.fresh("X")["spend"].to_numpy()),
        ),
    ),
    _c(
        "DriftProfile.from_frame",
        lambda e: Call(tracking.DriftProfile.from_frame, (e.fresh("X").select_dtypes("number"),)),
    ),
    _c(
        "DriftProfile.compare",
        lambda e: Call(e.fresh("drift").compare, (e.fresh("X").select_dtypes("number"),)),
    ),
    _c("write_report", _report, rename=False),
    _c(
        "simulate",
        lambda e: Call(
            lml.simulate,
            kwargs={"n_customers": 200, "seed": 3, "config": lml.datasets.SimulationConfig()},
            key=lambda d: (d.transactions, d.customers, d.offers, d.campaigns),
        ),
        rename=False,
    ),
]

CASES += [
    _c(
        "profiled_only[no consent flag]",
        lambda e: Call(
            privacy.profiled_only,
            (e.fresh("tx"), e.fresh("customers").drop(columns=["consent_profiling"])),
        ),
    ),
    _c(
        "profiled_only[customers=None]",
        lambda e: Call(privacy.profiled_only, (e.fresh("tx_keep"), None)),
    ),
]


#: (case, reason) of confirmed defects, by test: none open. Fixed 2026-12-03: profiled_only
#: returned the caller's own tables without a consent flag (SHARED_RESULT), and eight results held
#: the caller's own Index object, so renaming theirs renamed the caller's (SHARED_INDEX).
SHARED_RESULT: dict[str, str] = {}
SHARED_INDEX: dict[str, str] = {**SHARED_RESULT}


def _params(cases: list[Case], defects: dict[str, str]) -> list[Any]:
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    assert set(defects) <= set(names), set(defects) - set(names)
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=defects[case.name])]
            if case.name in defects
            else [],
        )
        for case in cases
    ]


def _inputs(call: Call) -> dict[str, Any]:
    owner = getattr(call.fn, "__self__", None)
    found: dict[str, Any] = {f"arg{i}": a for i, a in enumerate(call.args)}
    found.update(call.kwargs)
    if owner is not None and not isinstance(owner, type):
        found["self"] = owner
    return found


def _frozen(call: Call) -> dict[str, Any]:
    return {name: _freeze(value) for name, value in _inputs(call).items()}


def _assert_inputs_unchanged(before: dict[str, Any], call: Call, when: str) -> None:
    after = _inputs(call)
    for name, value in before.items():
        _assert_same(value, after[name], f"{name} {when}")


@pytest.mark.parametrize("case", _params(CASES, SHARED_RESULT))
def test_inputs_unchanged_by_the_call_by_writes_into_its_result_and_by_a_second_call(
    env: Env, case: Case
) -> None:
    call = case.build(env)
    before = _frozen(call)
    first = call.fn(*call.args, **call.kwargs)
    _assert_inputs_unchanged(before, call, "after the call")
    expected = None if call.key is None else copy.deepcopy(call.key(first))
    _write_into(first)
    _assert_inputs_unchanged(before, call, "after writing into the result")
    if call.key is not None:
        second = call.fn(*call.args, **call.kwargs)
        _assert_same(expected, call.key(second), "second call's result")
        _assert_inputs_unchanged(before, call, "after a second call")


@pytest.mark.parametrize("case", _params([c for c in CASES if c.rename], SHARED_INDEX))
def test_renaming_the_results_index_leaves_the_inputs_index(env: Env, case: Case) -> None:
    call = case.build(env)
    before = _frozen(call)
    _rename_indexes(call.fn(*call.args, **call.kwargs))
    _assert_inputs_unchanged(before, call, "after renaming the result's index")


def test_profiled_only_with_a_consent_flag_gives_tables_of_their_own(env: Env) -> None:
    """The branch that filters: the caller's tables stay as they were whatever is done to the
    kept ones (the branch without a flag is among CASES)."""
    tx, customers = env.fresh("tx"), env.fresh("customers")
    before = _freeze((tx, customers))
    kept_tx, kept_customers, _ = privacy.profiled_only(tx, customers)
    kept_tx["amount"] = 0.0
    kept_customers.index.name = "member"
    kept_customers.attrs["cleaning_report"]["table"] = "changed"
    _assert_same(before, (tx, customers), "inputs")


def test_copy_on_write_cannot_be_turned_off_with_this_pandas(env: Env) -> None:
    """The premise of the checks above: with pandas >= 3 ``mode.copy_on_write = False`` only warns,
    so the 'copy-on-write off' configuration the audit was asked to try does not exist here."""
    X = env.fresh("X")
    with (
        pytest.warns(Pandas4Warning, match="can no longer be disabled"),
        pd.option_context("mode.copy_on_write", False),
    ):
        column = X["spend"]
        column.iloc[0] = -1.0  # a write through a view when copy-on-write was off
    assert X["spend"].iloc[0] != -1.0


# -- the MLflow jobs (one training, slow) ----------------------------------------------------------


@dataclass
class Job:
    uri: str
    inputs: dict[str, Any]
    before: dict[str, Any]
    result: Any


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Job]:
    data = lml.simulate(n_customers=400, seed=5)
    customers = data.customers.copy()
    customers["region"] = customers["region"].astype("category")
    inputs: dict[str, Any] = {
        "transactions": data.transactions,
        "customers": customers,
        "campaigns": data.campaigns,
        "offers": data.offers,
        "churn_params": {"n_estimators": 40, "early_stopping_rounds": 10},
        "uplift_params": {"n_estimators": 30},
        "feature_config": lml.FeatureConfig(),
    }
    before = {name: _freeze(value) for name, value in inputs.items()}
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # the embedded store writes its artifacts in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = lml.train_and_register(
            inputs["transactions"],
            as_of="2024-12-01",
            tracking_uri=uri,
            **{k: v for k, v in inputs.items() if k != "transactions"},
        )
        yield Job(uri, inputs, before, result)


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_train_and_register_leaves_its_inputs_and_configs_unchanged(job: Job) -> None:
    for name, value in job.before.items():
        _assert_same(value, job.inputs[name], name)


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_score_customers_leaves_its_inputs_unchanged_and_repeats(job: Job) -> None:
    tx = copy.deepcopy(job.inputs["transactions"])
    customers = lml.validate_customers(job.inputs["customers"])
    campaigns = copy.deepcopy(job.inputs["campaigns"])
    before = _freeze((tx, customers, campaigns))
    kwargs = {"as_of": "2024-12-20", "tracking_uri": job.uri, "customers": customers}
    first = lml.score_customers(tx, campaigns=campaigns, **kwargs)
    _assert_same(before, (tx, customers, campaigns), "inputs after scoring")
    expected = copy.deepcopy(first)
    _write_into(first)
    _assert_same(before, (tx, customers, campaigns), "inputs after writing into the scores")
    second = lml.score_customers(tx, campaigns=campaigns, log_run=False, **kwargs)
    _assert_same(expected, second, "second scoring")


def _features(job: Job) -> pd.DataFrame:
    return lml.build_features(
        job.inputs["transactions"],
        as_of="2024-12-20",
        customers=job.inputs["customers"],
        campaigns=job.inputs["campaigns"],
    )


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_policy_decide_leaves_features_consent_and_policy_unchanged(job: Job) -> None:
    policy = job.result.policy
    X = _features(job)
    consent = lml.validate_customers(job.inputs["customers"])["consent_marketing"]
    before = [_freeze(x) for x in (X, consent, policy)]
    decisions = policy.decide(X, consent_marketing=consent, reasons="actioned")
    _assert_same(before, [X, consent, policy], "after decide")
    _write_into(decisions)
    _rename_indexes(decisions)
    _assert_same(before, [X, consent, policy], "after writing into the decisions")


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_policy_prepare_result_has_an_index_of_its_own(job: Job) -> None:
    X = _features(job)
    prepared = job.result.policy.prepare(X)
    prepared.index.name = "renamed_by_caller"
    assert X.index.name == "customer_id"


@pytest.mark.slow
@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_registered_model_leaves_the_request_frame_unchanged(job: Job) -> None:
    import mlflow

    X = _features(job)
    consent = lml.validate_customers(job.inputs["customers"])["consent_marketing"]
    with_consent = X.assign(consent_marketing=consent.reindex(X.index, fill_value=False))
    requests = [with_consent, with_consent.rename_axis(None), with_consent.reset_index()]
    before = _freeze(requests)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(job.uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's own deprecation and signature notes
            model = mlflow.pyfunc.load_model(
                f"models:/{job.result.model_name}/{job.result.version}"
            )
            for request in requests:
                model.predict(request, params={"reasons": "none"})
    finally:
        mlflow.set_tracking_uri(previous)
    _assert_same(before, requests, "requests")
