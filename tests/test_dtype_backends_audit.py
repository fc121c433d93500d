"""Audit: the same tables in the dtype flavours real users load them in.

Angle
-----
Users load their tables with ``pd.read_parquet(..., dtype_backend="pyarrow" | "numpy_nullable")``,
``pd.read_csv(..., dtype_backend=...)`` or ``engine="pyarrow"``, from databases (decimal128 money,
dictionary-encoded text) and spreadsheets ("Y"/"N" flags). Every public entry point should give the
results of the plain numpy-backed run, or a ``loyalty_ml.exceptions`` error naming the column and
the fix; outputs stay indexed by ``customer_id`` with the input's ids ("000123" stays "000123").

Checked and found right (ordinary tests below)
----------------------------------------------
- ``validate_transactions`` / ``validate_customers`` / ``validate_campaigns`` / ``validate_offers``
  give the baseline's canonical tables from Parquet read with either backend and CSV read with
  either backend or ``engine="pyarrow"``; customer ids as int64, Int64, uint64, int32,
  int64[pyarrow], whole-number float64, pandas Categorical (ints and text), text with leading zeros
  (str, object, string[pyarrow], Categorical, ArrowDtype dictionary) and UUID text; timestamps as
  datetime64[s|ms|us|ns], tz-aware UTC and Europe/Berlin, ArrowDtype timestamp (naive and aware)
  and text; amounts as Float64, double[pyarrow], decimal128[pyarrow], object Decimal and int64;
  flags as nullable boolean, bool[pyarrow], 0/1, "Y"/"N" and Categorical "Y"/"N".
- Downstream of validation the whole flow is identical (features, ``training_table``, churn
  labels, ChurnModel probabilities, ``experiment_table``, uplift effects, ``choose_offers``,
  ``kpis.summary``, ``kpis.measure_campaign``) for Parquet-pyarrow tables and for leading-zero ids
  read as an ArrowDtype dictionary, whose outputs keep "000123" as the index.
- Without validation, ``build_features`` / ``churn_labels`` / ``estimate_boundaries`` / the KPIs
  refuse text, zone-aware and ArrowDtype timestamps with a SchemaError naming the column and the
  fix; ``score_customers`` takes raw customers and campaigns in every flavour above (ids aligned,
  consent flags read) and gives the baseline's decisions; ``choose_offers`` reads nullable,
  Arrow and 0/1 consent and refuses "Y"/"N" naming the fix; the ``loyalty-ml score`` command gives
  the same decisions from Parquet files of flavoured tables.

Defects found (first written as strict xfails; all six fixed the same day, 2026-12-03, and kept
as regression tests: categorical and dictionary ids are decoded to their values at the KPI and
feature entry points (``schema._coerce.decoded_ids``), money is read as float64 by the KPIs, the
window merge keeps the ids' dtype, an object amount is refused naming ``pd.to_numeric``, and
``clv_inputs`` counts calendar days)
----------------------------------------------------------------------------------------------------
1. ``kpis.measure_campaign`` on two raw tables whose ``customer_id`` has the SAME non-canonical
   dtype (object, "string", string[pyarrow], Categorical, ArrowDtype dictionary) raises a
   SchemaError telling the user to "give both the same customer_id type" (kpis/_windows.py:
   sums_before builds the left key from ``ids.to_numpy()``, re-inferred as str/int, the right keeps
   the transactions' dtype).
2. ArrowDtype dictionary ids (``read_parquet(dtype_backend="pyarrow")`` of a categorical column):
   ``kpis.summary(previous_start=...)``, ``kpis.active_members`` and ``experiment_table`` raise a
   bare ``pyarrow.lib.ArrowTypeError`` from ``isin`` (summary.py:130, health.py:94,
   experiments.py:172).
3. ``kpis.clv_inputs`` with ArrowDtype dictionary ids silently lists every id of the dictionary
   (600 rows instead of 273; 327 with 0 orders and NaN aov): the groupby keeps unobserved
   dictionary values and ``out.loc[out["orders"].notna()]`` does not drop zeros (clv.py).
4. ``kpis.clv_inputs`` with decimal128[pyarrow] amount and margin raises
   ``pyarrow.lib.ArrowInvalid: Decimal precision out of range [1, 38]: 77`` (clv.py:212,
   margin_rate); with a decimal amount alone its revenue/aov columns come back as
   decimal128/double[pyarrow], not float64.
5. Object-Decimal amounts (what plain ``pd.read_parquet`` gives for a decimal128 column) are
   refused by the KPIs and ``build_features`` with "transactions.amount must be numeric; got
   object." and no fix (kpis/_common.py:check_transactions, features/_prepared.py:_floats), though
   ``validate_transactions`` reads them.
6. ``kpis.clv_inputs`` on Europe/Berlin-aware timestamps measures the window in elapsed 24-hour
   days (181.958 for 2024-01-01..2024-07-01 across the DST change), so ``purchase_frequency`` is
   0.023% higher than on UTC data, while the library counts calendar days elsewhere (plus_days).
"""

from __future__ import annotations

import argparse
import uuid
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataError, LoyaltyMLError, SchemaError

pytestmark = pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")

AS_OF = "2024-07-01"
CUTOFFS = pd.date_range(end="2024-06-01", periods=3, freq="60D")
PERIOD = {"period_start": "2024-01-01", "period_end": "2024-07-01"}
DICT_STR = pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))


# --------------------------------------------------------------------------- helpers


def _zeros(s: pd.Series) -> pd.Series:
    return s.map(lambda i: f"{int(i):06d}")


def _arrow_dict(s: pd.Series) -> pd.Series:
    values = pa.array(s.astype(object).tolist()).dictionary_encode()
    return pd.Series(values, index=s.index, dtype=DICT_STR, name=s.name)


def _decimal(s: pd.Series) -> pd.Series:
    values = [None if pd.isna(x) else Decimal(str(round(float(x), 2))) for x in s]
    dtype = pa.decimal128(12, 2)
    return pd.Series(pa.array(values, type=dtype), index=s.index, dtype=pd.ArrowDtype(dtype))


def _object_decimal(s: pd.Series) -> pd.Series:
    return s.map(lambda x: None if pd.isna(x) else Decimal(str(round(float(x), 2)))).astype(object)


def _with_ids(tables: tuple[pd.DataFrame, ...], f: Callable[[pd.Series], pd.Series]) -> list:
    return [t.assign(customer_id=f(t["customer_id"])) for t in tables]


def _reindexed(obj: Any, to_base: Callable[[Any], Any]) -> Any:
    """``obj`` with its customer_id index (or level) mapped back to the baseline's ids."""
    out = obj.copy()
    idx = out.index
    if isinstance(idx, pd.MultiIndex):
        arrays = [
            pd.Index([to_base(v) for v in idx.get_level_values(n)], name=n)
            if n == "customer_id"
            else idx.get_level_values(n)
            for n in idx.names
        ]
        out.index = pd.MultiIndex.from_arrays(arrays)
    else:
        out.index = pd.Index([to_base(v) for v in idx], name=idx.name)
    return out.sort_index()


def _assert_same(base: Any, got: Any, *, exact_dtypes: bool = False) -> None:
    kwargs: dict[str, Any] = {"check_dtype": exact_dtypes, "check_index_type": False}
    if isinstance(base, pd.DataFrame):
        pd.testing.assert_frame_equal(
            base.sort_index(), got.sort_index(), check_categorical=False, rtol=1e-9, **kwargs
        )
    else:
        pd.testing.assert_series_equal(base.sort_index(), got.sort_index(), rtol=1e-9, **kwargs)


def _pipeline(
    tx_raw: pd.DataFrame,
    cu_raw: pd.DataFrame,
    ca_raw: pd.DataFrame,
    of_raw: pd.DataFrame,
    *,
    holdout: float = 0.1,
) -> dict[str, Any]:
    """The README flow, validated, on small settings."""
    tx = lml.validate_transactions(tx_raw)
    customers = lml.validate_customers(cu_raw)
    campaigns = lml.validate_campaigns(ca_raw, offers=of_raw)
    offers = lml.validate_offers(of_raw)
    people = customers.reset_index()
    out: dict[str, Any] = {"tx": tx, "customers": customers, "campaigns": campaigns}
    X = lml.build_features(tx, as_of=AS_OF, customers=people, campaigns=campaigns)
    out["X"] = X
    out["labels"] = lml.churn_labels(tx, as_of=AS_OF, horizon_days=90)
    Xt, yt = lml.training_table(
        tx, cutoffs=CUTOFFS, horizon_days=90, customers=people, campaigns=campaigns
    )
    out["Xt"], out["yt"] = Xt, yt
    churn = lml.ChurnModel(random_state=0, n_estimators=40).fit(Xt, yt)
    out["p"] = pd.Series(churn.predict_proba(X)[:, 1], index=X.index)
    Xe, ye, te = lml.experiment_table(tx, campaigns, window_days=30, customers=people)
    out["Xe"], out["ye"], out["te"] = Xe, ye, te
    uplift = lml.UpliftModel(random_state=0).fit(Xe, ye, treatment=te)
    effects = uplift.predict_effects(X)
    out["effects"], out["baseline"] = effects, uplift.predict_baseline(X)
    out["plan"] = lml.choose_offers(
        effects,
        lml.OfferCatalog.from_frame(offers),
        baseline=out["baseline"],
        value_per_conversion=12.0,
        budget=500,
        holdout_fraction=holdout,
        consent=customers["consent_marketing"],
        random_state=0,
    )
    out["summary"] = lml.kpis.summary(tx, **PERIOD)
    out["measure"] = lml.kpis.measure_campaign(campaigns, tx, offers, window_days=30)
    return out


CUSTOMER_INDEXED = ("X", "labels", "Xt", "yt", "p", "effects", "plan")


def _assert_pipeline_same(
    base: dict[str, Any], got: dict[str, Any], to_base: Callable[[Any], Any] | None = None
) -> None:
    for key in CUSTOMER_INDEXED:
        value = got[key]
        ids = (
            value.index.get_level_values("customer_id")
            if isinstance(value.index, pd.MultiIndex)
            else value.index
        )
        assert ids.name == "customer_id", key
        _assert_same(base[key], _reindexed(value, to_base) if to_base else value)
    # the experiment table is indexed by campaign row: compare it row by row, by customer id
    for key in ("Xe", "ye", "te"):
        b, g = base[key], got[key]
        bk = base["campaigns"].loc[b.index, ["campaign_id", "customer_id"]]
        gk = got["campaigns"].loc[g.index, ["campaign_id", "customer_id"]]
        if to_base:
            gk = gk.assign(customer_id=[to_base(v) for v in gk["customer_id"]])
        b = b.set_axis(pd.MultiIndex.from_frame(bk), axis=0).sort_index()
        g = g.set_axis(pd.MultiIndex.from_frame(gk.astype({"customer_id": "int64"})), axis=0)
        _assert_same(b, g.sort_index())
    _assert_same(base["summary"], got["summary"])
    _assert_same(base["measure"], got["measure"])


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data() -> Any:
    return lml.simulate(n_customers=600, seed=1)


@pytest.fixture(scope="module")
def raw(data: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return data.transactions, data.customers, data.campaigns, data.offers


@pytest.fixture(scope="module")
def base(raw: tuple[pd.DataFrame, ...]) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the plain run is clean
        return _pipeline(*raw)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, raw: tuple[pd.DataFrame, ...]) -> Path:
    folder = tmp_path_factory.mktemp("dtype_audit_files")
    for name, table in zip(("tx", "cu", "ca", "of"), raw, strict=True):
        table.to_parquet(folder / f"{name}.parquet")
        table.to_csv(folder / f"{name}.csv", index=False)
    return folder


READERS: dict[str, Callable[[Path, str], pd.DataFrame]] = {
    "parquet_pyarrow": lambda d, n: pd.read_parquet(d / f"{n}.parquet", dtype_backend="pyarrow"),
    "parquet_nullable": lambda d, n: pd.read_parquet(
        d / f"{n}.parquet", dtype_backend="numpy_nullable"
    ),
    "csv_pyarrow": lambda d, n: pd.read_csv(d / f"{n}.csv", dtype_backend="pyarrow"),
    "csv_nullable": lambda d, n: pd.read_csv(d / f"{n}.csv", dtype_backend="numpy_nullable"),
    "csv_engine_pyarrow": lambda d, n: pd.read_csv(d / f"{n}.csv", engine="pyarrow"),
    "csv_engine_and_backend_pyarrow": lambda d, n: pd.read_csv(
        d / f"{n}.csv", engine="pyarrow", dtype_backend="pyarrow"
    ),
}


def _read_all(files: Path, reader: str) -> list[pd.DataFrame]:
    return [READERS[reader](files, n) for n in ("tx", "cu", "ca", "of")]


# --------------------------------------------------------------------------- guards: validation


@pytest.mark.parametrize("reader", sorted(READERS))
def test_validated_tables_match_the_numpy_run_for_every_reader(
    files: Path, base: dict[str, Any], reader: str
) -> None:
    tx, cu, ca, of = _read_all(files, reader)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vtx = lml.validate_transactions(tx)
        vcu = lml.validate_customers(cu)
        vca = lml.validate_campaigns(ca, offers=of)
    for column in ("customer_id", "timestamp", "amount", "quantity", "discount", "margin"):
        assert vtx[column].dtype == base["tx"][column].dtype, column
    pd.testing.assert_frame_equal(vtx, base["tx"], check_dtype=False)
    assert vcu.index.dtype == base["customers"].index.dtype
    assert vcu["consent_marketing"].dtype == base["customers"]["consent_marketing"].dtype
    assert vcu["signup_date"].dtype == base["customers"]["signup_date"].dtype
    pd.testing.assert_frame_equal(vcu, base["customers"], check_dtype=False)
    for column in ("customer_id", "sent_at", "redeemed", "redeemed_at"):
        assert vca[column].dtype == base["campaigns"][column].dtype, column
    pd.testing.assert_frame_equal(vca, base["campaigns"], check_dtype=False)


ID_FLAVOURS: dict[str, tuple[Callable[[pd.Series], pd.Series], str]] = {
    "Int64": (lambda s: s.astype("Int64"), "int64"),
    "uint64": (lambda s: s.astype("uint64"), "int64"),
    "int32": (lambda s: s.astype("int32"), "int64"),
    "int64[pyarrow]": (lambda s: s.astype("int64[pyarrow]"), "int64"),
    "float64 whole": (lambda s: s.astype("float64"), "int64"),
    "categorical int": (lambda s: s.astype("category"), "int64"),
    "zeros str": (lambda s: _zeros(s).astype("str"), "str"),
    "zeros object": (lambda s: _zeros(s).astype(object), "str"),
    "zeros string[pyarrow]": (lambda s: _zeros(s).astype("string[pyarrow]"), "str"),
    "zeros categorical": (lambda s: _zeros(s).astype("category"), "str"),
    "zeros arrow dictionary": (lambda s: _arrow_dict(_zeros(s)), "str"),
    "uuid": (lambda s: s.map(lambda i: str(uuid.UUID(int=int(i) * 7919 + 12345))), "str"),
}


@pytest.mark.parametrize("flavour", sorted(ID_FLAVOURS))
def test_customer_id_flavours_validate_to_int64_or_the_same_text(
    raw: tuple[pd.DataFrame, ...], base: dict[str, Any], flavour: str
) -> None:
    f, kind = ID_FLAVOURS[flavour]
    tx, cu, ca, of = raw
    ftx, fcu, fca = _with_ids((tx, cu, ca), f)
    vtx = lml.validate_transactions(ftx)
    vcu = lml.validate_customers(fcu)
    vca = lml.validate_campaigns(fca, offers=of)
    assert vtx["customer_id"].dtype == kind
    assert vcu.index.dtype == kind and vcu.index.name == "customer_id"
    assert vca["customer_id"].dtype == kind
    # the ids are the input's own: "000131" stays "000131"
    expected = f(tx["customer_id"]).astype(str).str.strip()
    assert set(vtx["customer_id"].astype(str)) == set(expected) or kind == "int64"
    X = lml.build_features(vtx, as_of=AS_OF, customers=vcu.reset_index(), campaigns=vca)
    assert X.index.name == "customer_id" and X.index.dtype == kind
    to_base = dict(zip(f(tx["customer_id"]).astype(object), tx["customer_id"], strict=True))
    if kind == "str":
        to_base = {str(k).strip(): v for k, v in to_base.items()}
    _assert_same(base["X"], _reindexed(X, to_base.get if kind == "str" else int))


TS_FLAVOURS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "datetime64[s]": lambda s: s.astype("datetime64[s]"),
    "datetime64[ms]": lambda s: s.astype("datetime64[ms]"),
    "datetime64[us]": lambda s: s.astype("datetime64[us]"),
    "UTC": lambda s: s.dt.tz_localize("UTC"),
    "Europe/Berlin": lambda s: s.dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin"),
    # on a copy: pandas 3.0.0-3.1.0 wrote 1970-01-01 over the source's NaT (the shared fixture's)
    "arrow timestamp[us]": lambda s: s.copy(deep=True).astype(pd.ArrowDtype(pa.timestamp("us"))),
    "arrow timestamp[us, UTC]": lambda s: s.dt.tz_localize("UTC").astype(
        pd.ArrowDtype(pa.timestamp("us", tz="UTC"))
    ),
    "arrow timestamp[us, Berlin]": lambda s: s.dt.tz_localize("UTC").astype(
        pd.ArrowDtype(pa.timestamp("us", tz="Europe/Berlin"))
    ),
    "text": lambda s: s.dt.strftime("%Y-%m-%d %H:%M:%S"),
    "text ISO Z": lambda s: s.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "text string[pyarrow]": lambda s: s.dt.strftime("%Y-%m-%d %H:%M:%S").astype("string[pyarrow]"),
}


@pytest.mark.parametrize("flavour", sorted(TS_FLAVOURS))
def test_timestamp_flavours_validate_to_the_same_naive_utc_clock(
    raw: tuple[pd.DataFrame, ...], base: dict[str, Any], flavour: str
) -> None:
    f = TS_FLAVOURS[flavour]
    tx, cu, ca, of = raw
    vtx = lml.validate_transactions(tx.assign(timestamp=f(tx["timestamp"])))
    pd.testing.assert_frame_equal(vtx, base["tx"], check_dtype=False)
    assert vtx["timestamp"].dtype == "datetime64[ns]"
    vca = lml.validate_campaigns(
        ca.assign(sent_at=f(ca["sent_at"]), redeemed_at=f(ca["redeemed_at"])), offers=of
    )
    pd.testing.assert_frame_equal(vca, base["campaigns"])
    vcu = lml.validate_customers(cu.assign(signup_date=f(cu["signup_date"])))
    pd.testing.assert_frame_equal(vcu, base["customers"], check_dtype=False)


AMOUNT_FLAVOURS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "Float64": lambda s: s.astype("Float64"),
    "double[pyarrow]": lambda s: s.astype("double[pyarrow]"),
    "decimal128[pyarrow]": _decimal,
    "object Decimal": _object_decimal,
}


@pytest.mark.parametrize("flavour", sorted(AMOUNT_FLAVOURS))
def test_amount_flavours_validate_to_float64(
    raw: tuple[pd.DataFrame, ...], base: dict[str, Any], flavour: str
) -> None:
    f = AMOUNT_FLAVOURS[flavour]
    tx = raw[0]
    money = ("amount", "quantity", "discount", "margin")
    vtx = lml.validate_transactions(tx.assign(**{c: f(tx[c]) for c in money}))
    for column in money:
        assert vtx[column].dtype == "float64", column
    pd.testing.assert_frame_equal(vtx, base["tx"], check_dtype=False)


@pytest.mark.parametrize("flavour", ["int64", "Int64", "int64[pyarrow]"])
def test_whole_currency_amounts_give_the_float_run(
    raw: tuple[pd.DataFrame, ...], flavour: str
) -> None:
    tx = raw[0]
    whole = tx.assign(amount=tx["amount"].round(0), margin=tx["margin"].round(0))
    whole = whole.loc[whole["amount"] != 0].reset_index(drop=True)
    expected = lml.validate_transactions(whole)
    got = lml.validate_transactions(
        whole.assign(amount=whole["amount"].astype(flavour), margin=whole["margin"].astype(flavour))
    )
    pd.testing.assert_frame_equal(got, expected)
    _assert_same(
        lml.kpis.summary(whole, **PERIOD),
        lml.kpis.summary(whole.assign(amount=whole["amount"].astype(flavour)), **PERIOD),
    )


BOOL_FLAVOURS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "boolean": lambda s: s.astype("boolean"),
    "bool[pyarrow]": lambda s: s.astype("bool[pyarrow]"),
    "0/1": lambda s: s.astype("int64"),
    "Int64 0/1": lambda s: s.astype("Int64"),
    "Y/N": lambda s: s.map({True: "Y", False: "N"}),
    "Y/N categorical": lambda s: s.map({True: "Y", False: "N"}).astype("category"),
    "yes/no string[pyarrow]": lambda s: s.map({True: "yes", False: "no"}).astype("string[pyarrow]"),
}


@pytest.mark.parametrize("flavour", sorted(BOOL_FLAVOURS))
def test_flag_flavours_validate_to_bool(
    raw: tuple[pd.DataFrame, ...], base: dict[str, Any], flavour: str
) -> None:
    f = BOOL_FLAVOURS[flavour]
    _, cu, ca, of = raw
    vcu = lml.validate_customers(
        cu.assign(
            consent_marketing=f(cu["consent_marketing"]),
            consent_profiling=f(cu["consent_profiling"]),
        )
    )
    pd.testing.assert_frame_equal(vcu, base["customers"])
    vca = lml.validate_campaigns(ca.assign(redeemed=f(ca["redeemed"])), offers=of)
    pd.testing.assert_frame_equal(vca, base["campaigns"])
    measured = lml.kpis.measure_campaign(
        ca.assign(redeemed=f(ca["redeemed"])), base["tx"], of, window_days=30
    )
    _assert_same(base["measure"], measured)


# --------------------------------------------------------------------------- guards: whole flow


def test_whole_flow_from_parquet_read_with_the_pyarrow_backend(
    files: Path, base: dict[str, Any]
) -> None:
    _assert_pipeline_same(base, _pipeline(*_read_all(files, "parquet_pyarrow")))


def test_whole_flow_keeps_leading_zero_ids_read_as_an_arrow_dictionary(
    raw: tuple[pd.DataFrame, ...],
) -> None:
    tx, cu, ca, of = raw
    base = _pipeline(tx, cu, ca, of, holdout=0.0)  # the holdout hashes the id text: by design
    got = _pipeline(*_with_ids((tx, cu, ca), lambda s: _arrow_dict(_zeros(s))), of, holdout=0.0)
    for key in CUSTOMER_INDEXED:
        ids = got[key].index
        ids = ids.get_level_values("customer_id") if isinstance(ids, pd.MultiIndex) else ids
        assert ids.dtype == "str", key
        assert ids.str.fullmatch(r"\d{6}").all(), key  # "000131", not 131
    _assert_pipeline_same(base, got, to_base=int)


def test_whole_flow_from_a_database_like_export(
    raw: tuple[pd.DataFrame, ...], base: dict[str, Any]
) -> None:
    """Berlin-aware timestamps, decimal128 money, Int64 ids, "Y"/"N" consent, nullable flags."""
    tx, cu, ca, of = raw
    berlin = TS_FLAVOURS["Europe/Berlin"]
    ftx = tx.assign(
        customer_id=tx["customer_id"].astype("Int64"),
        timestamp=berlin(tx["timestamp"]),
        amount=_decimal(tx["amount"]),
        margin=_decimal(tx["margin"]),
    )
    fcu = cu.assign(
        customer_id=cu["customer_id"].astype("int64[pyarrow]"),
        consent_marketing=BOOL_FLAVOURS["Y/N"](cu["consent_marketing"]),
        consent_profiling=BOOL_FLAVOURS["bool[pyarrow]"](cu["consent_profiling"]),
        signup_date=cu["signup_date"].astype("datetime64[s]"),
    )
    fca = ca.assign(
        customer_id=ca["customer_id"].astype("float64"),
        redeemed=ca["redeemed"].astype("boolean"),
        sent_at=TS_FLAVOURS["arrow timestamp[us, UTC]"](ca["sent_at"]),
        redeemed_at=TS_FLAVOURS["arrow timestamp[us, UTC]"](ca["redeemed_at"]),
    )
    got = _pipeline(ftx, fcu, fca, of)
    for key in CUSTOMER_INDEXED:
        ids = got[key].index
        ids = ids.get_level_values("customer_id") if isinstance(ids, pd.MultiIndex) else ids
        assert ids.dtype == "int64", key
    _assert_pipeline_same(base, got)


# --------------------------------------------------------------------------- guards: raw inputs


RAW_TS = ["arrow timestamp[us]", "arrow timestamp[us, UTC]", "text", "UTC"]


@pytest.mark.parametrize("flavour", RAW_TS)
def test_unvalidated_timestamps_are_refused_naming_the_column_and_the_fix(
    raw: tuple[pd.DataFrame, ...], flavour: str
) -> None:
    tx = raw[0].assign(timestamp=TS_FLAVOURS[flavour](raw[0]["timestamp"]))
    calls: list[Callable[[], object]] = [
        lambda: lml.build_features(tx, as_of=AS_OF),
        lambda: lml.churn_labels(tx, as_of=AS_OF, horizon_days=90),
        lambda: lml.estimate_boundaries(tx, as_of=AS_OF),
    ]
    if flavour != "UTC":  # the KPIs read zone-aware timestamps on their own clock
        calls.append(lambda: lml.kpis.summary(tx, **PERIOD))
    for call in calls:
        with pytest.raises(SchemaError, match=r"timestamp.*(validate_transactions|to_datetime)"):
            call()


def test_choose_offers_reads_consent_flavours(base: dict[str, Any], data: Any) -> None:
    consent = base["customers"]["consent_marketing"]
    catalog = lml.OfferCatalog.from_frame(data.offers)

    def plan(flags: pd.Series) -> pd.DataFrame:
        return lml.choose_offers(
            base["effects"],
            catalog,
            baseline=base["baseline"],
            value_per_conversion=12.0,
            consent=flags,
            random_state=0,
        )

    expected = plan(consent)
    for flavour in ("boolean", "bool[pyarrow]", "0/1", "Int64 0/1"):
        pd.testing.assert_frame_equal(plan(BOOL_FLAVOURS[flavour](consent)), expected)
    # consent indexed by the nullable or Arrow twin of the ids matches the same customers
    pd.testing.assert_frame_equal(plan(consent.set_axis(consent.index.astype("Int64"))), expected)
    with pytest.raises(DataError, match=r"consent.*\.eq\('Y'\)|consent.*\.eq\('N'\)"):
        plan(BOOL_FLAVOURS["Y/N"](consent))


# --------------------------------------------------------------------------- guards: jobs, CLI


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, raw: tuple[pd.DataFrame, ...]) -> Any:
    tx, cu, ca, of = raw
    folder = tmp_path_factory.mktemp("dtype_audit_mlflow")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # MLflow puts artifacts of the embedded store in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        lml.train_and_register(
            lml.validate_transactions(tx),
            as_of="2024-10-01",
            customers=cu,
            campaigns=ca,
            offers=of,
            tracking_uri=uri,
            churn_params={"n_estimators": 40, "early_stopping_rounds": 10},
        )
        yield argparse.Namespace(folder=folder, uri=uri)


def _score(trained: Any, tx: pd.DataFrame, cu: Any, ca: Any) -> pd.DataFrame:
    return lml.score_customers(
        tx,
        as_of="2024-11-01",
        customers=cu,
        campaigns=ca,
        tracking_uri=trained.uri,
        log_run=False,
    )


SCORE_INPUTS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, ...]]] = {
    "Int64 ids": lambda cu, ca: tuple(_with_ids((cu, ca), lambda s: s.astype("Int64"))),
    "text ids": lambda cu, ca: tuple(_with_ids((cu, ca), lambda s: s.astype(str))),
    "categorical ids": lambda cu, ca: tuple(_with_ids((cu, ca), lambda s: s.astype("category"))),
    "arrow dictionary ids": lambda cu, ca: tuple(
        _with_ids((cu, ca), lambda s: _arrow_dict(s.astype(str)))
    ),
    "float ids": lambda cu, ca: tuple(_with_ids((cu, ca), lambda s: s.astype("float64"))),
    "Y/N consent, nullable redeemed": lambda cu, ca: (
        cu.assign(
            consent_marketing=BOOL_FLAVOURS["Y/N"](cu["consent_marketing"]),
            consent_profiling=BOOL_FLAVOURS["Y/N"](cu["consent_profiling"]),
        ),
        ca.assign(redeemed=ca["redeemed"].astype("boolean")),
    ),
    "arrow flags": lambda cu, ca: (
        cu.assign(
            consent_marketing=cu["consent_marketing"].astype("bool[pyarrow]"),
            consent_profiling=cu["consent_profiling"].astype("bool[pyarrow]"),
        ),
        ca.assign(redeemed=ca["redeemed"].astype("bool[pyarrow]")),
    ),
}


def test_score_customers_takes_raw_customers_and_campaigns_in_every_flavour(
    trained: Any, raw: tuple[pd.DataFrame, ...], files: Path
) -> None:
    tx, cu, ca, _ = raw
    vtx = lml.validate_transactions(tx)
    expected = _score(trained, vtx, cu, ca)
    assert expected.index.name == "customer_id" and expected.index.dtype == "int64"
    for name, make in SCORE_INPUTS.items():
        got = _score(trained, vtx, *make(cu, ca))
        assert got.index.dtype == "int64", name
        pd.testing.assert_frame_equal(got, expected, obj=name)
    # every table read back from Parquet with the pyarrow backend, then validated
    ptx, pcu, pca, pof = _read_all(files, "parquet_pyarrow")
    got = _score(
        trained,
        lml.validate_transactions(ptx),
        lml.validate_customers(pcu),
        lml.validate_campaigns(pca, offers=pof),
    )
    pd.testing.assert_frame_equal(got, expected)
    # without validation, an Arrow timestamp is refused with the fix
    arrow = tx.assign(timestamp=TS_FLAVOURS["arrow timestamp[us]"](tx["timestamp"]))
    with pytest.raises(SchemaError, match=r"timestamp.*validate_transactions"):
        _score(trained, arrow, cu, ca)


def test_cli_score_gives_the_same_decisions_from_flavoured_parquet_files(
    trained: Any, raw: tuple[pd.DataFrame, ...], tmp_path: Path
) -> None:
    from loyalty_ml.cli import main

    tx, cu, ca, _ = raw
    flavoured = {
        "tx": tx.assign(
            customer_id=tx["customer_id"].astype("category"),
            timestamp=TS_FLAVOURS["Europe/Berlin"](tx["timestamp"]),
            amount=_decimal(tx["amount"]),
        ),
        "cu": cu.assign(
            consent_marketing=BOOL_FLAVOURS["Y/N"](cu["consent_marketing"]),
            signup_date=cu["signup_date"].astype("datetime64[s]"),
        ),
        "ca": ca.assign(
            customer_id=ca["customer_id"].astype("float64"),
            redeemed=ca["redeemed"].astype("boolean"),
            sent_at=TS_FLAVOURS["UTC"](ca["sent_at"]),
            redeemed_at=TS_FLAVOURS["UTC"](ca["redeemed_at"]),
        ),
    }
    outputs = {}
    for label, tables in (("plain", {"tx": tx, "cu": cu, "ca": ca}), ("flavoured", flavoured)):
        for name, table in tables.items():
            table.to_parquet(tmp_path / f"{label}_{name}.parquet")
        out = tmp_path / f"{label}_scores.parquet"
        argv = ["score", "--transactions", str(tmp_path / f"{label}_tx.parquet")]
        argv += ["--customers", str(tmp_path / f"{label}_cu.parquet")]
        argv += ["--campaigns", str(tmp_path / f"{label}_ca.parquet")]
        argv += ["--as-of", "2024-11-01", "--output", str(out), "--no-log-run"]
        assert main([*argv, "--tracking-uri", trained.uri]) == 0
        outputs[label] = pd.read_parquet(out)
    assert outputs["flavoured"]["customer_id"].dtype == "int64"
    pd.testing.assert_frame_equal(outputs["flavoured"], outputs["plain"])


# --------------------------------------------------------------------------- defects

SAME_DTYPE_IDS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "object text": lambda s: _zeros(s).astype(object),
    "string (nullable)": lambda s: _zeros(s).astype("string"),
    "string[pyarrow]": lambda s: _zeros(s).astype("string[pyarrow]"),
    "categorical text": lambda s: _zeros(s).astype("category"),
    "categorical int": lambda s: s.astype("category"),
    "arrow dictionary": lambda s: _arrow_dict(_zeros(s)),
}


@pytest.mark.parametrize("flavour", sorted(SAME_DTYPE_IDS))
def test_measure_campaign_matches_ids_of_one_dtype_on_both_tables(
    raw: tuple[pd.DataFrame, ...], base: dict[str, Any], flavour: str
) -> None:
    tx, _, ca, of = raw
    ftx, fca = _with_ids((tx, ca), SAME_DTYPE_IDS[flavour])
    _assert_same(base["measure"], lml.kpis.measure_campaign(fca, ftx, of, window_days=30))


@pytest.fixture(scope="module")
def dict_tables(raw: tuple[pd.DataFrame, ...]) -> tuple[pd.DataFrame, ...]:
    """Leading-zero ids as read_parquet(dtype_backend='pyarrow') returns a dictionary column,
    and the same ids as plain text."""
    tx, cu, ca, _ = raw
    text = tuple(_with_ids((tx, cu, ca), lambda s: _zeros(s).astype("str")))
    dictionary = tuple(_with_ids((tx, cu, ca), lambda s: _arrow_dict(_zeros(s))))
    return (*text, *dictionary)


@pytest.mark.parametrize("kpi", ["summary", "active_members"])
def test_kpis_read_arrow_dictionary_ids(dict_tables: tuple[pd.DataFrame, ...], kpi: str) -> None:
    tx_text, _, _, tx_dict, _, _ = dict_tables
    if kpi == "summary":
        call = lambda t: lml.kpis.summary(t, **PERIOD, previous_start="2023-07-01")  # noqa: E731
    else:
        call = lambda t: lml.kpis.active_members(t, as_of=AS_OF)  # noqa: E731
    _assert_same(call(tx_text), call(tx_dict))


def test_experiment_table_reads_arrow_dictionary_ids(
    dict_tables: tuple[pd.DataFrame, ...],
) -> None:
    tx_text, _, ca_text, tx_dict, _, ca_dict = dict_tables
    expected = lml.experiment_table(tx_text, ca_text, window_days=30)
    got = lml.experiment_table(tx_dict, ca_dict, window_days=30)
    for b, g in zip(expected, got, strict=True):
        _assert_same(b, g)


def test_clv_inputs_lists_only_buyers_with_arrow_dictionary_ids(
    dict_tables: tuple[pd.DataFrame, ...],
) -> None:
    tx_text, _, _, tx_dict, _, _ = dict_tables
    expected = lml.kpis.clv_inputs(tx_text, **PERIOD)
    got = lml.kpis.clv_inputs(tx_dict, **PERIOD)
    assert len(got) == len(expected) == 273
    assert (got["orders"] > 0).all()
    _assert_same(expected, got.set_axis(got.index.astype("str"), axis=0))


@pytest.mark.parametrize("columns", [("amount",), ("amount", "margin")])
def test_clv_inputs_reads_decimal_money_as_floats(
    raw: tuple[pd.DataFrame, ...], columns: tuple[str, ...]
) -> None:
    tx = raw[0]
    expected = lml.kpis.clv_inputs(tx, **PERIOD)
    got = lml.kpis.clv_inputs(tx.assign(**{c: _decimal(tx[c]) for c in columns}), **PERIOD)
    _assert_same(expected, got, exact_dtypes=True)


@pytest.mark.parametrize("entry", ["kpis.summary", "build_features"])
def test_object_decimal_amounts_are_read_or_refused_with_the_fix(
    raw: tuple[pd.DataFrame, ...], entry: str
) -> None:
    tx = raw[0]
    decimals = tx.assign(amount=_object_decimal(tx["amount"]))
    call: Callable[[pd.DataFrame], Any] = (
        (lambda t: lml.kpis.summary(t, **PERIOD))
        if entry == "kpis.summary"
        else (lambda t: lml.build_features(t, as_of=AS_OF))
    )
    try:
        got = call(decimals)
    except LoyaltyMLError as exc:
        assert "amount" in str(exc)
        assert "validate_transactions" in str(exc) or "to_numeric" in str(exc), str(exc)
    else:
        _assert_same(call(tx), got)


def test_clv_inputs_counts_calendar_days_on_zone_aware_clocks(
    raw: tuple[pd.DataFrame, ...],
) -> None:
    tx = raw[0]
    aware = tx.assign(timestamp=TS_FLAVOURS["Europe/Berlin"](tx["timestamp"]))
    got = lml.kpis.clv_inputs(aware, **PERIOD, period_days=365.0)
    pd.testing.assert_series_equal(
        got["purchase_frequency"], got["orders"] * 365.0 / 182.0, check_names=False
    )
