"""Customer attribute features: signup tenure, tier, opt-ins, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import DataQualityWarning, SchemaError
from loyalty_ml.features import FeatureConfig, build_features
from loyalty_ml.schema import columns as C


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
    got, _ = _as_feature(source, aligned, counted=np.ones(4, dtype=bool), min_customers=1)
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


def test_levels_are_counted_by_text_over_the_customers_counted() -> None:
    from loyalty_ml.features.attributes import _as_feature

    def levels(aligned: pd.Series, counted: list[bool], n: int) -> pd.Categorical:
        got, _ = _as_feature(source, aligned, counted=np.array(counted), min_customers=n)
        assert isinstance(got, pd.Categorical)
        return got

    # 1 and "1" are one level (5 customers together)
    source = pd.Series([1, "1", 1, "1", 1, 2, None], dtype=object)
    aligned = source.reindex([0, 1, 2, 3, 4, 5, 6, 9])  # 9: a customer missing from the table
    got = levels(aligned, [True] * 8, 5)
    assert got.categories.tolist() == ["1", "(rare)"]
    assert got.codes.tolist() == [0, 0, 0, 0, 0, 1, -1, -1]
    # customer 0 is not counted (no purchase yet at the cut-off the levels are counted at): 4 hold
    # "1", which is pooled, for them too
    got = levels(aligned, [False] + [True] * 7, 5)
    assert got.categories.tolist() == ["(rare)"]
    assert got.codes.tolist() == [0, 0, 0, 0, 0, 0, -1, -1]
    # nor are customers of the table without transactions (4 is in none)
    assert levels(aligned.drop(4), [True] * 7, 5).categories.tolist() == ["(rare)"]
    # with no level rare, "(rare)" is still the last level, so a model knows it pools
    assert levels(aligned, [True] * 8, 2).categories.tolist() == ["1", "(rare)"]
    # unpooled, every value of the table is a level
    assert levels(aligned.iloc[:1], [True], 1).categories.tolist() == ["1", "2"]


def test_pooled_levels_count_values_by_their_text_without_blanks_as_scoring_reads_them() -> None:
    from loyalty_ml.features.attributes import _as_feature

    # "gold " (3 customers, a CRM's trailing blank) is gold: scoring (unpooled, read by
    # LoyaltyPolicy.prepare, which strips blanks) reads it as "gold", so training must too
    source = pd.Series(["gold"] * 8 + ["gold "] * 3 + [" basic"] * 2, dtype=object)
    everyone = np.ones(len(source), dtype=bool)
    got, _ = _as_feature(source, source, counted=everyone, min_customers=10)
    assert isinstance(got, pd.Categorical)
    assert got.categories.tolist() == ["gold", "(rare)"]
    assert got.astype(str).tolist() == ["gold"] * 11 + ["(rare)"] * 2
    # unpooled, every text stays its own level, as models fitted before pooling were
    unpooled, _ = _as_feature(source, source, counted=everyone, min_customers=1)
    assert isinstance(unpooled, pd.Categorical)
    assert unpooled.categories.tolist() == [" basic", "gold", "gold "]


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


def _gold_before_and_after(n_gold_before: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n_gold_before`` gold and 20 basic customers who buy on 2024-01-05, and customer 100, gold,
    whose only purchase is on 2024-03-01."""
    ids = np.arange(n_gold_before + 20)
    tx = pd.DataFrame(
        {
            "customer_id": [*ids, 100],
            "timestamp": [pd.Timestamp("2024-01-05")] * len(ids) + [pd.Timestamp("2024-03-01")],
            "amount": 1.0,
        }
    )
    tiers = ["gold"] * n_gold_before + ["basic"] * 20 + ["gold"]
    customers = pd.DataFrame({"customer_id": [*ids, 100], "tier": tiers})
    return tx, customers


def test_a_customer_who_buys_only_after_as_of_changes_no_level_at_as_of() -> None:
    # 9 gold customers buy before as_of; the 10th buys only after it. Counted over the whole
    # customers table, gold was kept at as_of because of them: data after the cut-off changed
    # the features at it
    tx, customers = _gold_before_and_after(9)
    before = tx["timestamp"] < pd.Timestamp("2024-02-01")
    known = customers["customer_id"].isin(tx.loc[before, "customer_id"])
    expected = build_features(tx[before], as_of="2024-02-01", customers=customers[known])
    assert expected["tier"].cat.categories.tolist() == ["basic", "(rare)"]
    for grown in (
        build_features(tx, as_of="2024-02-01", customers=customers),
        build_features(tx[before], as_of="2024-02-01", customers=customers),
    ):
        pd.testing.assert_frame_equal(grown, expected)


# a few purchase days, weeks apart: the gap warning is right and beside the point here
@pytest.mark.filterwarnings("ignore:.+ overlaps days with no purchase at all")
def test_training_and_experiment_tables_count_levels_at_their_first_cutoff() -> None:
    # gold: 9 customers by the first cut-off, 10 by the second. Counted at the second, gold
    # would be a level in the first cut-off's rows because of a customer who buys after it
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.features import training_table
    from loyalty_ml.features.experiments import experiment_table

    tx, customers = _gold_before_and_after(9)
    last = tx.iloc[:1].assign(timestamp=pd.Timestamp("2024-04-20"))  # labels' window in the data
    tx = pd.concat([tx, last], ignore_index=True)
    cutoffs = [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-04-01")]
    # gold keeps no level, though 10 customers hold it at the last cut-off: warned, with the fix
    early = r"\['tier'\] are \"\(rare\)\" in every row for values held by 10\+ of the 30 customers"
    with pytest.warns(DataQualityWarning, match=early) as caught:
        X, _ = training_table(tx, cutoffs=cutoffs, horizon_days=10, customers=customers)
    (said,) = [str(w.message) for w in caught if "in every row" in str(w.message)]
    assert "('tier': 1 value(s))" in said and "over the 29 customers" in said
    assert "Start the table at a later cut-off" in said
    first = build_features(tx, as_of=cutoffs[0], customers=customers)
    pd.testing.assert_frame_equal(X.loc[cutoffs[0]], first)
    assert X[C.TIER].cat.categories.tolist() == ["basic", C.RARE_LEVEL]
    assert X.loc[(cutoffs[1], 100), C.TIER] == C.RARE_LEVEL
    # alone, the second cut-off has 10 gold customers: gold is a level there
    assert build_features(tx, as_of=cutoffs[1], customers=customers)[
        C.TIER
    ].cat.categories.tolist() == [
        "basic",
        "gold",
        C.RARE_LEVEL,
    ]
    sends = pd.DataFrame(
        {
            C.CAMPAIGN_ID: ["spring"] * 29 + ["summer"],
            C.CUSTOMER_ID: [*range(29), 100],
            C.OFFER_ID: ["coupon", C.CONTROL] * 15,
            C.SENT_AT: [cutoffs[0]] * 29 + [cutoffs[1]],
        }
    )
    with pytest.warns(DataQualityWarning, match=early):
        X, _, _ = experiment_table(tx, sends, window_days=7, customers=customers)
    assert X[C.TIER].cat.categories.tolist() == ["basic", C.RARE_LEVEL]


@pytest.mark.filterwarnings("ignore:.+ overlaps days with no purchase at all")
def test_a_column_keeping_two_levels_at_the_first_cutoff_is_not_warned_of_later_ones() -> None:
    # basic and silver keep their levels at the first cut-off; gold (9 customers, then 10) pays
    # the documented price of counting there, and the tier still tells its levels apart
    import warnings

    from loyalty_ml.features import training_table

    tx, customers = _gold_before_and_after(9)
    silver = np.arange(200, 210)
    tx = pd.concat(
        [
            tx,
            pd.DataFrame({"customer_id": silver, "timestamp": pd.Timestamp("2024-01-05")}),
            tx.iloc[:1].assign(timestamp=pd.Timestamp("2024-04-20")),
        ],
        ignore_index=True,
    ).assign(amount=1.0)
    customers = pd.concat(
        [customers, pd.DataFrame({"customer_id": silver, "tier": "silver"})], ignore_index=True
    )
    cutoffs = [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-04-01")]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        warnings.filterwarnings("ignore", ".+ overlaps days with no purchase at all")
        X, _ = training_table(tx, cutoffs=cutoffs, horizon_days=10, customers=customers)
    assert X[C.TIER].cat.categories.tolist() == ["basic", "silver", C.RARE_LEVEL]


@pytest.mark.filterwarnings("ignore:.+ overlaps days with no purchase at all")
def test_a_column_pooled_all_but_away_is_warned_about_once() -> None:
    # a voucher code per customer (all 40 values pooled: a constant "(rare)") and a town of 10
    # customers among 30 in the north (10 values pooled, one kept); gold (9 customers) is pooled
    # alone: only renamed "(rare)", the tier still tells basic from gold, so not warned about
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.features import training_table

    n = 40
    tx = pd.DataFrame(
        {"customer_id": np.arange(n), "timestamp": pd.Timestamp("2024-01-01"), "amount": 1.0}
    )
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "voucher": [f"V{i:04d}" for i in range(n)],
            "region": ["north"] * 30 + [f"town {i}" for i in range(10)],
            "tier": ["basic"] * 31 + ["gold"] * 9,
        }
    )
    config = FeatureConfig(extra_attributes=("voucher", "region"))
    with pytest.warns(DataQualityWarning, match="keep at most one level") as record:
        X = build_features(tx, as_of="2024-02-01", customers=customers, config=config)
    (warned,) = [str(w.message) for w in record]
    assert warned.startswith("customers columns ['voucher', 'region'] keep at most one level")
    assert "fewer than 10 of the 40 customers with a purchase before 2024-02-01" in warned
    assert "('voucher': 40 of its 40 values; 'region': 10 of its 11 values)" in warned
    assert "Drop those columns" in warned and "lower FeatureConfig.min_level_customers" in warned
    assert X["voucher"].eq("(rare)").all() and X["tier"].cat.categories.tolist()[0] == "basic"
    # once for a training table, however many cut-offs
    tx = pd.concat([tx, tx.assign(timestamp=pd.Timestamp("2024-03-01"))], ignore_index=True)
    with pytest.warns(DataQualityWarning, match="keep at most one level") as record:
        training_table(
            tx,
            cutoffs=["2024-01-15", "2024-01-25"],
            horizon_days=30,
            customers=customers,
            config=config,
        )
    assert sum("keep at most one level" in str(w.message) for w in record) == 1
    # five customers could not keep two levels of any column: nothing to say of this one
    build_features(tx, as_of="2024-02-01", customers=customers.iloc[35:], config=config)
    # kept as levels when the data is not personal and the threshold is lowered
    build_features(
        tx,
        as_of="2024-02-01",
        customers=customers,
        config=FeatureConfig(extra_attributes=("voucher", "region"), min_level_customers=1),
    )
