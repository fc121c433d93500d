"""build_features: the orchestrator's contract (index, dtypes, families, point in time, errors)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, DataQualityWarning, SchemaError
from loyalty_ml.features import FeatureConfig, build_features

CORE = [
    "recency_days",
    "tenure_days",
    "n_orders",
    "spend",
    "aov",
    "n_orders_30d",
    "spend_30d",
    "n_orders_90d",
    "spend_90d",
    "n_orders_365d",
    "spend_365d",
    "ipi_mean",
    "ipi_median",
    "ipi_std",
    "overdue_ratio",
    "days_overdue",
]


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [3, 1, 1, 2, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-02", "2024-01-01", "2024-01-11", "2024-03-01", "2024-02-01"]
            ),
            "amount": [1.0, 10.0, 30.0, 5.0, 2.0],
        }
    )


def test_index_columns_and_dtypes(tx: pd.DataFrame) -> None:
    X = build_features(tx, as_of="2024-02-15")
    assert X.index.name == "customer_id"
    assert list(X.index) == [1, 3]  # sorted; customer 2 has no purchase before as_of
    assert X.index.is_unique
    assert set(CORE) <= set(X.columns)
    assert (X.dtypes == "float64").all()


def test_optional_families_absent_without_their_columns(tx: pd.DataFrame) -> None:
    X = build_features(tx, as_of="2024-02-15")
    for name in ("n_categories", "n_channels", "n_stores", "discount_share", "offers_received"):
        assert name not in X.columns
    assert not any(c.startswith("channel_share_") for c in X.columns)


@pytest.mark.parametrize(
    "as_of",
    ["2024-02-15", dt.date(2024, 2, 15), dt.datetime(2024, 2, 15), pd.Timestamp("2024-02-15")],
)
def test_as_of_types(tx: pd.DataFrame, as_of: object) -> None:
    X = build_features(tx, as_of=as_of)
    assert X.loc[1, "recency_days"] == 35.0


def test_tz_aware_as_of_is_read_in_utc(tx: pd.DataFrame) -> None:
    # a table without a recorded clock (not validated, or its attrs lost in a concat) is on UTC,
    # which a zone-aware as_of off UTC is converted to, with a warning that says so
    with pytest.warns(DataQualityWarning, match="the table records no clock"):
        X = build_features(tx, as_of=pd.Timestamp("2024-02-15 01:00", tz="Europe/Paris"))
    assert X.loc[1, "recency_days"] == 35.0
    on_utc = build_features(tx, as_of=pd.Timestamp("2024-02-15 00:00", tz="UTC"))  # no warning
    assert on_utc.loc[1, "recency_days"] == 35.0
    validated = tx.copy()
    validated.attrs["loyalty_ml_clock"] = "UTC"
    assert (
        build_features(validated, as_of=pd.Timestamp("2024-02-15 01:00", tz="Europe/Paris")).loc[
            1, "recency_days"
        ]
        == 35.0
    )


def test_input_not_mutated(tx: pd.DataFrame) -> None:
    before = tx.copy()
    build_features(tx, as_of="2024-02-15")
    pd.testing.assert_frame_equal(tx, before)


def test_string_ids_and_empty_result(tx: pd.DataFrame) -> None:
    text = tx.assign(customer_id=tx["customer_id"].map({1: "b", 2: "c", 3: "a"}))
    X = build_features(text, as_of="2024-02-15")
    assert list(X.index) == ["a", "b"]
    # an as_of before every transaction: an empty table, and a warning that says why
    with pytest.warns(DataQualityWarning, match=r"transactions start at 2024-01-01 00:00:00"):
        empty = build_features(tx, as_of="2023-01-01")
    assert len(empty) == 0
    assert set(CORE) <= set(empty.columns)
    assert empty.index.name == "customer_id"


def test_missing_columns_are_named(tx: pd.DataFrame) -> None:
    with pytest.raises(
        SchemaError, match=r"missing required column\(s\) \['amount'\].*customer_id"
    ):
        build_features(tx.drop(columns="amount"), as_of="2024-02-15")
    with pytest.raises(SchemaError, match="must be a pandas DataFrame"):
        build_features([1, 2], as_of="2024-02-15")  # type: ignore[arg-type]


def test_bad_values_raise_schema_error(tx: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="timestamp must be tz-naive datetime64"):
        build_features(tx.assign(timestamp=tx["timestamp"].astype(str)), as_of="2024-02-15")
    zoned = tx.assign(timestamp=tx["timestamp"].dt.tz_localize("UTC"))
    with pytest.raises(SchemaError, match="tz-naive"):
        build_features(zoned, as_of="2024-02-15")
    with pytest.raises(SchemaError, match="missing timestamps"):
        build_features(
            tx.assign(timestamp=tx["timestamp"].where(tx.index != 1)), as_of="2024-02-15"
        )
    with pytest.raises(SchemaError, match=r"amount has missing or infinite values at rows \[4\]"):
        build_features(tx.assign(amount=[1.0, 2.0, 3.0, 4.0, np.inf]), as_of="2024-02-15")
    with pytest.raises(SchemaError, match="amount must be numeric"):
        build_features(tx.assign(amount="1"), as_of="2024-02-15")
    with pytest.raises(SchemaError, match="customer_id is missing at rows"):
        build_features(tx.assign(customer_id=[1.0, np.nan, 1, 2, 3]), as_of="2024-02-15")


@pytest.mark.parametrize("as_of", [None, 5, "not a date", float("nan")])
def test_bad_as_of(tx: pd.DataFrame, as_of: object) -> None:
    with pytest.raises(ConfigError, match="'as_of' parameter must be a date"):
        build_features(tx, as_of=as_of)


def test_bad_config(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"must be a FeatureConfig or None\. Got dict"):
        build_features(tx, as_of="2024-02-15", config={"windows": (7,)})  # type: ignore[arg-type]


def test_config_windows_name_columns(tx: pd.DataFrame) -> None:
    X = build_features(tx, as_of="2024-02-15", config=FeatureConfig(windows=(7,)))
    assert "n_orders_7d" in X.columns
    assert "n_orders_30d" not in X.columns


def test_on_the_simulator_with_customers_and_campaigns() -> None:
    from loyalty_ml.datasets import simulate

    data = simulate(n_customers=1000, start="2023-01-01", end="2024-06-30", seed=3)
    as_of = pd.Timestamp("2024-01-01")
    X = build_features(
        data.transactions, as_of=as_of, customers=data.customers, campaigns=data.campaigns
    )
    tx = data.transactions
    assert X.index.tolist() == sorted(tx.loc[tx["timestamp"] < as_of, "customer_id"].unique())
    families = {
        "n_categories",
        "high_margin_share",
        "n_channels",
        "n_stores",
        "discount_share",
        "offers_received",
        "offers_redeemed",
        "signup_tenure_days",
        "tier",
    }
    assert families <= set(X.columns)
    assert not {"gender", "age_band", "income_band", "points_balance"} & set(X.columns)
    assert X[CORE[:11]].notna().all().all()
    assert isinstance(X["tier"].dtype, pd.CategoricalDtype)
    assert (X.drop(columns="tier").dtypes == "float64").all()
    sent = data.campaigns[
        (data.campaigns["sent_at"] < as_of) & (data.campaigns["offer_id"] != "control")
    ]
    expected = sent.groupby("customer_id").size().reindex(X.index, fill_value=0)
    np.testing.assert_array_equal(X["offers_received"], expected.to_numpy(dtype="float64"))


def test_as_of_out_of_range(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="between 1677 and 2262"):
        build_features(tx, as_of="3000-01-01")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(-3, 3)),
        min_size=0,
        max_size=60,
    )
)
def test_rows_sort_by_customer_then_time_like_a_stable_lexsort(
    rows: list[tuple[int, int]],
) -> None:
    from loyalty_ml.features._prepared import _by_customer_then_time

    cust = np.array([c for c, _ in rows], dtype=np.int64)
    ts = np.array([t for _, t in rows], dtype=np.int64)
    # nanosecond times (the general path), whole seconds (one packed key), and time-ordered rows
    for times in (ts, ts * 10**9 + 1_700_000_000 * 10**9, np.sort(ts)):
        np.testing.assert_array_equal(
            _by_customer_then_time(cust, times), np.lexsort((times, cust))
        )


@pytest.mark.parametrize(
    "values",
    [
        np.array([5, 2, 5, 9], dtype=np.int64),
        np.array([-3, 7, -3, 0], dtype=np.int32),
        np.array([2**40, 1, 2**40], dtype=np.int64),  # too wide a range for the lookup table
        np.array([4, 4], dtype=np.uint16),
        np.array([], dtype=np.int64),
        pd.array([3, None, 1, 3], dtype="Int64"),  # nullable: missing codes stay -1
        pd.array([7, 2], dtype="UInt8"),
    ],
)
def test_integer_ids_are_coded_like_pandas_factorize(values: object) -> None:
    from loyalty_ml.features._prepared import _factorize_sorted

    series = pd.Series(values)
    codes, labels = _factorize_sorted(series)
    expected_codes, expected_labels = pd.factorize(series, sort=True)
    np.testing.assert_array_equal(codes, expected_codes)
    pd.testing.assert_index_equal(labels, pd.Index(expected_labels))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(-1, 5)), min_size=1, max_size=50),
    st.booleans(),
)
def test_distinct_codes_per_customer_agree_between_dense_and_sorted_counting(
    rows: list[tuple[int, int]], dense: bool
) -> None:
    from loyalty_ml.features import _prepared

    rows = sorted(rows, key=lambda r: r[0])
    cust = pd.factorize(np.array([c for c, _ in rows]), sort=True)[0].astype(np.int64)
    codes = np.array([k for _, k in rows], dtype=np.int32)
    snap = SimpleNamespace(r_cust=cust, n_customers=int(cust.max()) + 1)
    expected = pd.DataFrame({"c": cust, "k": codes})[codes >= 0].value_counts().sort_index()
    original = _prepared._DENSE_CELLS_PER_ROW, _prepared._DENSE_MIN_CELLS, _prepared._INT32_KEYS
    try:
        # a dense table always, or never (sorted keys, in blocks of 2 customers for n_distinct)
        _prepared._DENSE_CELLS_PER_ROW = 10**9 if dense else -1
        _prepared._DENSE_MIN_CELLS = -1
        _prepared._INT32_KEYS = 12
        who, code, count = _prepared.distinct_counts(snap, codes, 6)  # type: ignore[arg-type]
        n = _prepared.n_distinct(snap, codes, 6)  # type: ignore[arg-type]
    finally:
        (
            _prepared._DENSE_CELLS_PER_ROW,
            _prepared._DENSE_MIN_CELLS,
            _prepared._INT32_KEYS,
        ) = original
    assert list(zip(who, code, count, strict=True)) == [(c, k, v) for (c, k), v in expected.items()]
    per_customer = expected.groupby(level="c").size().reindex(range(snap.n_customers), fill_value=0)
    np.testing.assert_array_equal(n, per_customer.to_numpy(dtype=float))


@pytest.mark.parametrize(
    "values",
    [
        pd.Categorical(["b", "a", None, "c", "a"], categories=["c", "b", "a", "z"]),
        pd.Categorical([None, None], categories=["x"]),
        pd.Categorical([3, 1, None], categories=[3, 2, 1]),
        ["b", None, "a", "b"],
        [5, 2, 5, 9],
    ],
)
def test_coded_columns_match_pandas_factorize(values: object) -> None:
    from loyalty_ml.features._prepared import _sorted_codes

    series = pd.Series(values)
    perm = np.arange(len(series))[::-1]  # rows are taken in the sorted order
    codes, labels = _sorted_codes(series).taken(perm)
    expected_codes, expected_labels = pd.factorize(series, sort=True, use_na_sentinel=True)
    np.testing.assert_array_equal(codes, expected_codes[perm])
    assert list(labels) == list(expected_labels)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # customer
            st.integers(0, 5),  # time (seconds)
            st.one_of(st.none(), st.integers(0, 4)),  # order id, sometimes missing
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["text", "nullable", "numpy"]),
)
def test_orders_are_contiguous_runs_in_time_order(
    rows: list[tuple[int, int, int | None]], id_kind: str
) -> None:
    from loyalty_ml.features._prepared import prepare_transactions

    cust = [c for c, _, _ in rows]
    if id_kind == "numpy":  # plain integers cannot be missing: a fresh id per such line
        ids = pd.Series([100 + i if o is None else o for i, (_, _, o) in enumerate(rows)])
    else:
        text = id_kind == "text"
        ids = pd.Series(
            [None if o is None else (f"inv{o}" if text else o) for _, _, o in rows],
            dtype=object if text else "Int64",
        )
    tx = pd.DataFrame(
        {
            "customer_id": cust,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta([t for _, t, _ in rows], "s"),
            "amount": np.arange(1.0, len(rows) + 1),  # identifies the row
            "order_id": ids,
        }
    )
    p = prepare_transactions(tx)
    source = tx.set_index("amount").loc[p.amount]
    # one order = one (customer, order id); a line without an id is an order of its own
    key = [
        (c, o) if o is not None and not pd.isna(o) else ("row", a)
        for c, o, a in zip(source["customer_id"], source["order_id"], p.amount, strict=True)
    ]
    runs = [key[i] for i in range(len(key)) if i == 0 or p.order[i] != p.order[i - 1]]
    assert len(runs) == len(set(runs)), "an order's lines are not contiguous"
    assert list(source["customer_id"]) == sorted(source["customer_id"])
    frame = pd.DataFrame({"order": p.order, "ts": p.ts, "order_ts": p.order_ts, "cust": p.cust})
    by_order = frame.groupby("order")
    np.testing.assert_array_equal(frame["order_ts"], by_order["ts"].transform("min"))
    assert (by_order["ts"].diff().dropna() >= 0).all(), "lines of an order out of time order"
    first = by_order.first()
    for _, orders in first.groupby("cust"):
        assert orders["order_ts"].is_monotonic_increasing, "orders out of time order"
    assert p.at_order_start is not None
    np.testing.assert_array_equal(p.at_order_start, p.ts == p.order_ts)


def test_dates_centuries_apart_are_refused_not_overflowed() -> None:
    """Ages and gaps are int64 nanoseconds (292 years): a line dated 1700-01-01 once gave a
    tenure of -95,105 days, and estimate_boundaries on 1700 data at a 2024 as_of a bincount
    ValueError."""
    from loyalty_ml import estimate_boundaries

    placeholder = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["1700-01-01", "2024-01-06", "2024-01-01"]),
            "amount": [10.0, 10.0, 10.0],
        }
    )
    with pytest.raises(
        SchemaError, match=r"spans 324 years, .*\(rows far from the others: \[0\]\)"
    ):
        build_features(placeholder, as_of="2024-03-01")
    old = placeholder.assign(timestamp=pd.to_datetime(["1700-01-01", "1700-06-01", "1700-03-01"]))
    with pytest.raises(SchemaError, match="as_of=2024-01-01 is 324 years after"):
        estimate_boundaries(old, as_of="2024-01-01")
    with pytest.raises(SchemaError, match="as_of=2024-01-01 is 324 years after"):
        build_features(old, as_of="2024-01-01")
    assert len(build_features(old, as_of="1701-01-01")) == 2  # old data read at its own time


def test_amounts_too_large_to_sum_are_refused_not_inf() -> None:
    """Finite amounts near the float maximum passed the validator and gave spend = inf."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-03"]),
            "amount": [1e308, 1e308, 3.0],
        }
    )
    with pytest.raises(SchemaError, match=r"amount holds values beyond 1e\+15 at rows \[0, 1\]"):
        build_features(tx, as_of="2024-02-01")
    with pytest.raises(SchemaError, match="margin holds values beyond"):
        build_features(tx.assign(amount=3.0, margin=[1.0, -1e300, 1.0]), as_of="2024-02-01")
