from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.policy.offers import NO_CONSENT
from loyalty_ml.privacy import (
    exclude_without_profiling_consent,
    may_profile,
    profiled_only,
    split_by_consent,
    withhold_offers_without_marketing_consent,
)
from loyalty_ml.privacy.consent import marketing_consent
from loyalty_ml.schema import columns as C


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CONSENT_PROFILING: pd.array([True, False, None, True], dtype="boolean"),
            C.CONSENT_MARKETING: ["yes", "yes", "no", None],
            C.GENDER: ["F", "M", "F", "M"],
        },
        index=pd.Index([1, 2, 3, 4], name=C.CUSTOMER_ID),
    )


def test_split_lists_allowed_and_excluded_with_reasons(customers: pd.DataFrame) -> None:
    split = split_by_consent(customers)
    assert split.profiling_allowed.tolist() == [1, 4]
    assert split.marketing_allowed.tolist() == [1, 2]
    ex = split.exclusions
    assert ex.index.name == C.CUSTOMER_ID
    assert list(zip(ex.index, ex["purpose"], strict=True)) == [
        (2, "profiling"),
        (3, "profiling"),
        (3, "marketing"),
        (4, "marketing"),
    ]
    assert ex["reason"].iloc[0] == (
        "consent_profiling is False: not profiled (no training, no personalised score)"
    )
    assert ex["reason"].iloc[1].startswith("consent_profiling is missing, read as no consent")
    assert ex["reason"].iloc[2] == "consent_marketing is False: no offer"
    assert split.counts() == {
        "n_profiling_allowed": 2,
        "n_marketing_allowed": 2,
        "n_excluded_profiling": 2,
        "n_excluded_marketing": 2,
    }


def test_split_accepts_a_customer_id_column(customers: pd.DataFrame) -> None:
    split = split_by_consent(customers.reset_index())
    assert split.profiling_allowed.tolist() == [1, 4]


def test_absent_flag_is_refused_unless_assumed(customers: pd.DataFrame) -> None:
    without = customers.drop(columns=C.CONSENT_MARKETING)
    with pytest.raises(
        SchemaError, match=r"no 'consent_marketing' column.*assume_consent_when_absent"
    ):
        split_by_consent(without)
    split = split_by_consent(without, assume_consent_when_absent=True)
    assert split.marketing_allowed.tolist() == [1, 2, 3, 4]
    assert set(split.exclusions["purpose"]) == {"profiling"}


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({C.CONSENT_PROFILING: [True]}), "no 'customer_id' column or index"),
        (
            pd.DataFrame(
                {
                    C.CUSTOMER_ID: [1, 1],
                    C.CONSENT_PROFILING: [True, False],
                    C.CONSENT_MARKETING: [1, 0],
                }
            ),
            "more than once",
        ),
        (
            pd.DataFrame(
                {C.CUSTOMER_ID: [1], C.CONSENT_PROFILING: ["maybe"], C.CONSENT_MARKETING: [1]}
            ),
            "consent_profiling must be boolean",
        ),
    ],
)
def test_split_errors(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        split_by_consent(frame)
    with pytest.raises(SchemaError, match="must be a DataFrame"):
        split_by_consent([1, 2])  # type: ignore[arg-type]


def test_no_profiling_consent_means_no_training_row_and_a_reason(customers: pd.DataFrame) -> None:
    split = split_by_consent(customers)
    # a training table indexed by (as_of, customer_id); customer 9 has no customer record
    index = pd.MultiIndex.from_product(
        [pd.to_datetime(["2024-01-01", "2024-04-01"]), [1, 2, 3, 4, 9]],
        names=[C.AS_OF, C.CUSTOMER_ID],
    )
    X = pd.DataFrame({"frequency": np.arange(10.0)}, index=index)
    kept, not_profiled = exclude_without_profiling_consent(X, split, table="X_train")
    assert kept.index.get_level_values(C.CUSTOMER_ID).unique().tolist() == [1, 4]
    assert len(kept) == 4
    assert not_profiled.index.tolist() == [2, 3, 9]
    assert not_profiled.loc[9, "reason"].startswith("not in customers, so consent is unknown")
    assert len(X) == 10  # input untouched


def test_exclusion_needs_customer_ids(customers: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="X has no 'customer_id' column or index level"):
        exclude_without_profiling_consent(
            pd.DataFrame({"a": [1]}), split_by_consent(customers), table="X"
        )


def test_a_padded_id_in_the_customers_table_keeps_its_consent(customers: pd.DataFrame) -> None:
    # a raw CRM export with " C1" padding: the plan's "C1" (validated, stripped) still has consent
    padded = customers.set_axis(pd.Index([" C1", "C2 ", "C3", "C4"], name=C.CUSTOMER_ID))
    plan = pd.DataFrame({C.OFFER_ID: ["A", "A"]}, index=pd.Index(["C1", "C2"], name=C.CUSTOMER_ID))
    out = withhold_offers_without_marketing_consent(plan, split_by_consent(padded))
    assert out[C.OFFER_ID].tolist() == ["A", "A"]


def test_no_marketing_consent_means_no_offer(customers: pd.DataFrame) -> None:
    split = split_by_consent(customers)
    plan = pd.DataFrame(
        {
            C.OFFER_ID: ["A", "B", "A", pd.NA],
            "expected_uplift": [0.1, 0.2, 0.3, 0.0],
            "expected_cost": [1.0, 2.0, 3.0, 0.0],
            "expected_net_value": [0.5, 0.6, 0.7, 0.0],
            "reason": ["cheapest effective"] * 3 + ["no effective offer"],
        },
        index=pd.Index([1, 2, 3, 4], name=C.CUSTOMER_ID),
    )
    out = withhold_offers_without_marketing_consent(plan, split)
    assert out[C.OFFER_ID].isna().tolist() == [False, False, True, True]
    assert out["expected_cost"].tolist() == [1.0, 2.0, 0.0, 0.0]
    assert out["expected_net_value"].tolist() == [0.5, 0.6, 0.0, 0.0]
    assert out["reason"].tolist() == [
        "cheapest effective",
        "cheapest effective",
        NO_CONSENT,
        NO_CONSENT,
    ]
    assert plan[C.OFFER_ID].notna().sum() == 3  # input untouched
    with pytest.raises(SchemaError, match="plan has no 'offer_id' column"):
        withhold_offers_without_marketing_consent(plan.drop(columns=C.OFFER_ID), split)


def test_every_privacy_name_resolves() -> None:
    import loyalty_ml.privacy as privacy

    for name in privacy.__all__:
        assert getattr(privacy, name) is not None, name


def test_may_profile_is_opt_in_once_the_flag_exists(customers: pd.DataFrame) -> None:
    # 1 agreed, 2 refused, 3 missing flag, 4 agreed, 5 not in the customers table
    assert may_profile([1, 2, 3, 4, 5], customers).tolist() == [True, False, False, True, False]
    as_column = customers.reset_index()
    assert may_profile(np.array([4, 3]), as_column).tolist() == [True, False]
    # no table, or no flag: consent is managed upstream
    assert may_profile([1, 5], None).tolist() == [True, True]
    assert may_profile([1, 5], customers.drop(columns=C.CONSENT_PROFILING)).all()


def test_profiled_only_keeps_the_rows_and_customers_may_profile_allows(
    customers: pd.DataFrame,
) -> None:
    tx = pd.DataFrame({C.CUSTOMER_ID: [1, 2, 4, 5, 1], "amount": [1.0, 2.0, 3.0, 4.0, 5.0]})
    kept, people, mask = profiled_only(tx, customers)
    assert mask.tolist() == may_profile(tx[C.CUSTOMER_ID], customers).tolist()
    assert kept[C.CUSTOMER_ID].tolist() == [1, 4, 1]
    assert people is not None and people.index.tolist() == [1, 4]
    same, everyone, all_rows = profiled_only(tx, None)
    # the same rows in a table of its own: writing into it never reaches the caller's
    assert same is not tx and same.equals(tx) and everyone is None and all_rows.all()
    same.loc[0, "amount"] = -1.0
    assert tx.loc[0, "amount"] == 1.0


@pytest.mark.parametrize(
    "ids", [["7", " 7 "], pd.Series([7, "7"], dtype=object).tolist(), [7.0, "7"]]
)
def test_two_rows_of_one_customer_by_text_are_refused(ids: list[object]) -> None:
    """Consent is matched by the text of an id, but the duplicate check compared raw values: two
    rows of customer 7 saying no and yes both passed, and may_profile said yes."""
    customers = pd.DataFrame(
        {C.CUSTOMER_ID: ids, C.CONSENT_PROFILING: [False, True], C.CONSENT_MARKETING: [False, True]}
    )
    with pytest.raises(SchemaError, match="customer_id values more than once"):
        split_by_consent(customers)
    with pytest.raises(SchemaError, match="customer_id values more than once"):
        may_profile(["7"], customers)


def test_ids_as_the_index_are_read_by_profiled_only_and_marketing_consent() -> None:
    """validate_customers returns customers indexed by customer_id, and a features-like table has
    its ids as the index: both once gave a raw KeyError."""
    customers = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2],
            C.CONSENT_PROFILING: [True, False],
            C.CONSENT_MARKETING: [True, False],
        }
    )
    tx = pd.DataFrame({"amount": [1.0, 2.0]}, index=pd.Index([1, 2], name=C.CUSTOMER_ID))
    kept, _, mask = profiled_only(tx, customers)
    assert kept.index.tolist() == [1] and mask.tolist() == [True, False]
    consent = marketing_consent(customers.set_index(C.CUSTOMER_ID))
    assert consent is not None and consent.to_dict() == {1: True, 2: False}
    with pytest.raises(SchemaError, match="transactions has no 'customer_id' column or index"):
        profiled_only(tx.reset_index(drop=True), customers)


@pytest.mark.parametrize("name", ["consent_profile", "Consent_Profiling", "consentprofiling"])
def test_a_look_alike_consent_column_is_refused_not_read_as_managed_upstream(name: str) -> None:
    """Session 42: a customers file whose consent_profiling was renamed consent_profile was read
    as "consent managed upstream": every customer who said no was scored, 12 of 142 offered."""
    from loyalty_ml.privacy.consent import split_by_consent

    customers = pd.DataFrame(
        {name: [True, False], "consent_marketing": [True, True]},
        index=pd.Index([1, 2], name="customer_id"),
    )
    with pytest.raises(SchemaError, match=rf"no 'consent_profiling' column but has \['{name}'\]"):
        split_by_consent(customers, assume_consent_when_absent=True)
    # a table without any such column is consent managed upstream, as documented
    upstream = split_by_consent(customers.drop(columns=name), assume_consent_when_absent=True)
    assert upstream.profiling_allowed.tolist() == [1, 2]


def test_the_jobs_consent_readers_refuse_a_look_alike_too() -> None:
    """The refusal above lived in split_by_consent only; profiled_only, may_profile and
    marketing_consent, which the jobs call, still read a misspelt flag as managed upstream."""
    from loyalty_ml.privacy.consent import marketing_consent, may_profile, profiled_only

    customers = pd.DataFrame(
        {"customer_id": [1, 2], "consent_profile": [True, False], "consent_market": [True, False]}
    )
    tx = pd.DataFrame({"customer_id": [1, 2], "amount": [1.0, 2.0]})
    with pytest.raises(SchemaError, match="no 'consent_profiling' column but has"):
        profiled_only(tx, customers)
    with pytest.raises(SchemaError, match="no 'consent_profiling' column but has"):
        may_profile([1, 2], customers)
    with pytest.raises(SchemaError, match="no 'consent_marketing' column but has"):
        marketing_consent(customers)
    plain = customers.drop(columns=["consent_profile", "consent_market"])
    assert marketing_consent(plain) is None and may_profile([1, 2], plain).all()


def test_customers_of_another_numbering_are_warned_of_not_read_as_no_consent() -> None:
    # CRM ids offset from the till's: profiled_only kept nothing in silence, and the churn labels
    # then blamed censoring with an unfilled "(at most ...)"
    import warnings

    import loyalty_ml as lml
    from loyalty_ml.exceptions import DataQualityWarning, LeakageError

    d = lml.datasets.simulate(n_customers=300, start="2023-01-01", end="2024-06-30", seed=0)
    tx = lml.validate_transactions(d.transactions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        people = lml.validate_customers(
            d.customers.assign(customer_id=d.customers["customer_id"] + 100_000)
        ).reset_index()
    with pytest.warns(DataQualityWarning, match="none of the .* customers of the transactions"):
        kept, _, mask = lml.privacy.profiled_only(tx, people)
    assert len(kept) == 0 and not mask.any()
    with pytest.raises(LeakageError, match="There are no transactions") as caught:
        lml.churn_labels(kept, as_of="2024-01-01", horizon_days=90)
    assert "..." not in str(caught.value)


def test_text_ids_are_matched_by_hash_not_by_pandas_str_isin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # H&M's customer ids are 64 hexadecimal characters: pandas 3 reads them as its str dtype,
    # whose isin makes a Python scalar of every allowed id one at a time (35 s of profiled_only's
    # time on 5.5M lines of 500,000 customers, about 3 s through the hash table)
    import hashlib

    from pandas.core.arrays.string_arrow import ArrowStringArray

    from loyalty_ml.privacy import profiled_only

    ids = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(5)]
    people = pd.DataFrame(
        {C.CUSTOMER_ID: pd.array(ids, dtype="str"), "consent_profiling": [1, 0, 1, 1, 0]}
    )
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: pd.array([ids[0], ids[1], ids[1], ids[4], ids[3]], dtype="str"),
            C.TIMESTAMP: pd.to_datetime([f"2024-01-0{d}" for d in range(1, 6)]),
            C.AMOUNT: [0.02, 0.03, 0.01, 0.05, 0.04],
        }
    )

    plain_isin = ArrowStringArray.isin

    def isin(self: ArrowStringArray, values: object) -> np.ndarray:
        # small sets (the consent flag's words) are fine; the ids must not come this way
        assert not any(v in ids for v in values), "ids matched by str isin"  # type: ignore[attr-defined]
        return plain_isin(self, values)  # type: ignore[arg-type]

    monkeypatch.setattr(ArrowStringArray, "isin", isin)
    kept, kept_people, mask = profiled_only(tx, people)
    assert len(kept) == 2
    assert mask.tolist() == [True, False, False, False, True]
    assert kept_people is not None
    assert kept_people[C.CUSTOMER_ID].tolist() == [ids[0], ids[2], ids[3]]
