"""Customer attribute features: signup tenure, tier, opt-ins, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.features import FeatureConfig, build_features


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01"]),
            "amount": [1.0, 1.0, 1.0],
        }
    )


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [2, 1, 7],
            "signup_date": pd.to_datetime(["2023-12-22", "2024-03-01", "2020-01-01"]),
            "tier": ["gold", "silver", "bronze"],
            "points_balance": [100, 20, 5],
            "gender": ["f", "m", "f"],
            "region": ["north", "south", None],
            "full_name": ["x", "y", "z"],
        }
    )


def test_defaults(tx: pd.DataFrame, customers: pd.DataFrame) -> None:
    # one customer per level: every level kept (min_level_customers=1); pooling is tested below
    config = FeatureConfig(min_level_customers=1)
    X = build_features(tx, as_of="2024-02-01", customers=customers, config=config)
    assert X.loc[2, "signup_tenure_days"] == 41.0
    assert np.isnan(X.loc[1, "signup_tenure_days"])  # signs up after as_of: not known yet
    assert np.isnan(X.loc[3, "signup_tenure_days"])  # not in the customers table
    assert isinstance(X["tier"].dtype, pd.CategoricalDtype)
    assert list(X["tier"].cat.categories) == ["bronze", "gold", "silver"]  # whole table
    # customer 1 signs up after as_of: the export's tier is a status they could not have had then
    assert pd.isna(X.loc[1, "tier"]) and X.loc[2, "tier"] == "gold"
    assert pd.isna(X.loc[3, "tier"])
    for absent in ("points_balance", "gender", "region", "full_name"):
        assert absent not in X.columns


def test_opt_ins(tx: pd.DataFrame, customers: pd.DataFrame) -> None:
    config = FeatureConfig(
        include_points_balance=True,
        protected_as_features=True,
        extra_attributes=("region",),
        min_level_customers=1,
    )
    X = build_features(tx, as_of="2024-02-01", customers=customers, config=config)
    assert X.loc[2, "points_balance"] == 100.0
    assert X["points_balance"].dtype == "float64"
    assert isinstance(X["gender"].dtype, pd.CategoricalDtype)
    assert X["region"].tolist()[:2] == ["south", "north"]


def test_errors(tx: pd.DataFrame, customers: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"\['full_name'\] look like personal data"):
        build_features(
            tx,
            as_of="2024-02-01",
            customers=customers,
            config=FeatureConfig(extra_attributes=("full_name",)),
        )
    with pytest.raises(SchemaError, match=r"no column\(s\) \['points_balance'\]"):
        build_features(
            tx,
            as_of="2024-02-01",
            customers=customers.drop(columns="points_balance"),
            config=FeatureConfig(include_points_balance=True),
        )
    with pytest.raises(SchemaError, match=r"must be unique; \[2\]"):
        build_features(tx, as_of="2024-02-01", customers=pd.concat([customers, customers.iloc[:1]]))
    with pytest.raises(SchemaError, match="signup_date must be tz-naive datetime64"):
        build_features(tx, as_of="2024-02-01", customers=customers.assign(signup_date="2024-01-01"))
    # integers written as text ("2" from a CSV) are the transactions' integer ids, as in the jobs
    as_text = customers.assign(customer_id=["2", "1", "7"])
    pd.testing.assert_frame_equal(
        build_features(tx, as_of="2024-02-01", customers=as_text),
        build_features(tx, as_of="2024-02-01", customers=customers.assign(customer_id=[2, 1, 7])),
    )
    with pytest.raises(SchemaError, match=r"holds text ids such as .* cannot match"):
        build_features(
            tx, as_of="2024-02-01", customers=customers.assign(customer_id=["C2", "1", "7"])
        )
    with pytest.raises(SchemaError, match=r"customers is missing required column\(s\)"):
        build_features(tx, as_of="2024-02-01", customers=customers.drop(columns="customer_id"))


def test_customers_indexed_by_customer_id_as_validate_customers_returns_them() -> None:
    import loyalty_ml as lml

    data = lml.datasets.simulate(300, start="2023-01-01", end="2023-12-31", seed=3)
    customers = lml.validate_customers(data.customers)
    assert customers.index.name == "customer_id"
    as_column = lml.build_features(
        data.transactions, as_of="2023-09-01", customers=customers.reset_index()
    )
    as_index = lml.build_features(data.transactions, as_of="2023-09-01", customers=customers)
    pd.testing.assert_frame_equal(as_column, as_index)
    assert "signup_tenure_days" in as_index.columns


@pytest.mark.parametrize(
    "source",
    [
        pd.Series(["gold", "basic", None, "silver", "gold"]),
        pd.Series(pd.Categorical(["b", "a", None], categories=["c", "b", "a"])),
        pd.Series([1, "1", None, 2], dtype=object),  # 1 and "1" read the same
        pd.Series(["x", np.nan, "y"], dtype="string"),
        pd.Series([], dtype=object),
    ],
)
def test_text_attributes_are_categories_of_their_text(source: pd.Series) -> None:
    from loyalty_ml.features.attributes import _as_feature

    aligned = source.reindex([2, 0, 1, 99])  # 99: a customer missing from the table
    got = _as_feature(source, aligned, min_customers=1)
    expected = pd.Categorical(
        aligned.astype("string"), categories=sorted(source.dropna().astype(str).unique())
    )
    assert isinstance(got, pd.Categorical)
    pd.testing.assert_index_equal(got.categories, expected.categories)
    np.testing.assert_array_equal(got.codes, expected.codes)


def test_customers_whose_ids_match_no_transaction_are_warned_of() -> None:
    # a CRM that writes "17" next to a till that writes "00017": every attribute was NaN, silently
    import warnings

    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.features.experiments import experiment_table

    tx = pd.DataFrame(
        {
            "customer_id": ["00017", "00017", "00042"],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-03-01", "2024-02-10"]),
            "amount": [10.0, 12.0, 30.0],
        }
    )
    crm = pd.DataFrame({"customer_id": ["17", "42"], "tier": ["gold", "silver"]})
    with pytest.warns(DataQualityWarning, match=r"none of the 2 customer ids of customers.*zeros"):
        build_features(tx, as_of="2024-04-01", customers=crm)
    sends = pd.DataFrame(
        {
            "customer_id": ["17", "42"],
            "offer_id": ["coupon", "control"],
            "sent_at": pd.to_datetime(["2024-01-20", "2024-01-20"]),
        }
    )
    with pytest.warns(DataQualityWarning, match="none of the 2 customer ids of campaigns"):
        experiment_table(tx, sends, window_days=14)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        build_features(tx, as_of="2024-04-01", customers=crm.assign(customer_id=["00017", "x"]))


def test_rare_levels_are_pooled_so_no_level_names_a_handful_of_people() -> None:
    # a tier held by 3 customers, a free-text attribute of one: neither reaches the features (nor
    # a model, its MLflow artifacts or its request contract)
    n = 40
    tx = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "timestamp": pd.Timestamp("2024-01-01"),
            "amount": 1.0,
        }
    )
    tier = ["basic"] * 25 + ["gold"] * 10 + ["diamond"] * 3 + [None, "(rare)"]
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tier": tier,
            "job": ["clerk"] * 39 + ["neurosurgeon in Leeds"],
        }
    )
    X = build_features(
        tx,
        as_of="2024-02-01",
        customers=customers,
        config=FeatureConfig(extra_attributes=("job",)),
    )
    assert X["tier"].cat.categories.tolist() == ["basic", "gold", "(rare)"]
    assert X["tier"].value_counts().to_dict() == {"basic": 25, "gold": 10, "(rare)": 4}
    assert pd.isna(X.loc[38, "tier"])  # missing stays missing
    assert X["job"].cat.categories.tolist() == ["clerk", "(rare)"]
    assert X.loc[39, "job"] == "(rare)"
    # the threshold is the config's: 3 customers keep "diamond" at 3
    X3 = build_features(
        tx, as_of="2024-02-01", customers=customers, config=FeatureConfig(min_level_customers=3)
    )
    assert X3["tier"].cat.categories.tolist() == ["basic", "diamond", "gold", "(rare)"]


def test_levels_are_counted_by_text_over_the_whole_customers_table() -> None:
    from loyalty_ml.features.attributes import _as_feature

    # 1 and "1" are one level (5 customers together); customers without transactions count too
    source = pd.Series([1, "1", 1, "1", 1, 2, None], dtype=object)
    aligned = source.reindex([0, 5, 6])
    got = _as_feature(source, aligned, min_customers=5)
    assert isinstance(got, pd.Categorical)
    assert got.categories.tolist() == ["1", "(rare)"]
    assert got.codes.tolist() == [0, 1, -1]
    # with no level rare, "(rare)" is still the last level, so a model knows it pools
    assert _as_feature(source, aligned, min_customers=1).categories.tolist() == ["1", "2"]
    assert _as_feature(source, aligned, min_customers=2).categories.tolist() == ["1", "(rare)"]


def test_pooled_levels_count_values_by_their_text_without_blanks_as_scoring_reads_them() -> None:
    from loyalty_ml.features.attributes import _as_feature

    # "gold " (3 customers, a CRM's trailing blank) is gold: scoring (unpooled, read by
    # LoyaltyPolicy.prepare, which strips blanks) reads it as "gold", so training must too
    source = pd.Series(["gold"] * 8 + ["gold "] * 3 + [" basic"] * 2, dtype=object)
    got = _as_feature(source, source, min_customers=10)
    assert isinstance(got, pd.Categorical)
    assert got.categories.tolist() == ["gold", "(rare)"]
    assert got.astype(str).tolist() == ["gold"] * 11 + ["(rare)"] * 2
    # unpooled, every text stays its own level, as models fitted before pooling were
    assert _as_feature(source, source, min_customers=1).categories.tolist() == [
        " basic",
        "gold",
        "gold ",
    ]


def test_min_level_customers_is_checked_and_old_configs_read_unpooled() -> None:
    import pickle

    from loyalty_ml.exceptions import ConfigError

    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="min_level_customers"):
            FeatureConfig(min_level_customers=bad)  # type: ignore[arg-type]
    # a config pickled before the field existed (a registered model's) keeps its unpooled levels
    state = dict(vars(FeatureConfig()))
    del state["min_level_customers"]
    old = FeatureConfig.__new__(FeatureConfig)
    old.__setstate__(state)
    assert old == FeatureConfig(min_level_customers=1)
    assert pickle.loads(pickle.dumps(FeatureConfig())).min_level_customers == 10


def test_default_threshold_is_the_reports_minimum_cell() -> None:
    from loyalty_ml.privacy.cells import MIN_CELL_SIZE

    assert FeatureConfig().min_level_customers == MIN_CELL_SIZE
