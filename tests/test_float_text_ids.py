"""Customer ids written as a float's text ("12346.0").

pandas writes an integer id column that has a missing value as floats; read back as text (a CSV read
with ``dtype=str``, a database driver), every id ends in ``.0``. Validation and the tables' id
alignment read such a column as the whole numbers, as they read the float column itself, so that
the transactions and a customers table exported another way still meet. A column that also holds
other text keeps its ids as written: there ``.0`` may be part of the id.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import strip_whole_float_text
from loyalty_ml.schema._ids import align_customer_ids


def _lines(ids: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: ids,
            C.TIMESTAMP: pd.date_range("2024-01-01", periods=len(ids), freq="D"),
            C.AMOUNT: 10.0,
        }
    )


def test_text_ids_that_are_all_whole_floats_lose_their_decimal() -> None:
    tx = lml.validate_transactions(_lines(["12346.0", "12347.00", " 7.0 ", "0.0"]))
    assert sorted(tx[C.CUSTOMER_ID].unique().tolist()) == ["0", "12346", "12347", "7"]


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["12.5", "13.0"], ["12.5", "13"]),  # id by id: "12.5" is not a whole number
        (["007.0", "8.0"], ["007.0", "8"]),  # leading zeros: a card number, not a float's text
        (["A-7.0", "8.0"], ["8", "A-7.0"]),
        (["1e5", "8.0"], ["1e5", "8"]),
        (["007", "C-1"], ["007", "C-1"]),
    ],
)
def test_only_whole_numbers_written_as_floats_change(ids: list[str], expected: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # stand-in ids such as "0"
        tx = lml.validate_transactions(_lines(ids))
    assert sorted(tx[C.CUSTOMER_ID].unique().tolist()) == sorted(expected)


def test_an_export_that_wrote_ids_both_ways_gives_one_customer_each_with_a_warning() -> None:
    """Before: "13085" and "13085.0" were two customers, in silence (an export whose first months
    had blank ids, so floats, and whose later months had integers): retention read 0."""
    with pytest.warns(
        DataQualityWarning, match=r"writes 2 ids both as whole numbers and as floats"
    ):
        tx = lml.validate_transactions(_lines(["13085.0", "13085", "7", "7.0", "8.0", "9"]))
    assert sorted(tx[C.CUSTOMER_ID].unique().tolist()) == ["13085", "7", "8", "9"]
    with warnings.catch_warnings():  # integers and floats, but no id written both ways: silent
        warnings.simplefilter("error", DataQualityWarning)
        tx = lml.validate_transactions(_lines(["13085.0", "7", "8.0"]))
    assert sorted(tx[C.CUSTOMER_ID].unique().tolist()) == ["13085", "7", "8"]


def test_missing_ids_do_not_stop_the_rule() -> None:
    ids = pd.Series(["12346.0", None, "12.0"], dtype="string")
    assert strip_whole_float_text(ids).tolist() == ["12346", pd.NA, "12"]
    assert strip_whole_float_text(pd.Series([None, None], dtype="string")).isna().all()


def test_float_text_transactions_meet_an_integer_customers_table() -> None:
    """Before: no customer got an attribute, and one warning said none of the ids matched."""
    tx = lml.validate_transactions(_lines(["1.0", "2.0", "3.0", "1.0"]))
    customers = pd.DataFrame({C.CUSTOMER_ID: [1, 2, 3], "tier": ["gold", "silver", "gold"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        X = lml.build_features(tx, as_of="2024-02-01", customers=customers)
    assert X.index.tolist() == ["1", "2", "3"]
    assert X.filter(like="tier").notna().all().all()


def test_a_float_text_customers_table_is_aligned_with_integer_transactions() -> None:
    """Before: refused ("holds text ids such as '1.0' but transactions hold integers")."""
    tx = _lines([1, 2, 3])
    customers = pd.DataFrame({C.CUSTOMER_ID: ["1.0", "2.0", "3.0"], "tier": ["a", "b", "c"]})
    aligned = align_customer_ids(customers, tx, table="customers", caller="test")
    assert aligned[C.CUSTOMER_ID].tolist() == [1, 2, 3]
    assert aligned[C.CUSTOMER_ID].dtype == "int64"
    # against text transactions too: "1.0" is the customer "1"
    aligned = align_customer_ids(customers, _lines(["1", "2", "3"]), table="customers", caller="t")
    assert aligned[C.CUSTOMER_ID].tolist() == ["1", "2", "3"]


def test_a_float_text_customers_table_mixed_with_other_text_is_still_refused() -> None:
    customers = pd.DataFrame({C.CUSTOMER_ID: ["1.0", "A-2"], "tier": ["a", "b"]})
    with pytest.raises(lml.SchemaError, match=r"text ids such as \['A-2'\]"):
        align_customer_ids(customers, _lines([1, 2]), table="customers", caller="test")


def test_validate_customers_reads_float_text_ids_as_the_whole_numbers() -> None:
    customers = lml.validate_customers(
        pd.DataFrame({C.CUSTOMER_ID: ["12346.0", "12347.0"], C.CONSENT_MARKETING: [True, False]})
    )
    assert sorted(customers.index.tolist()) == ["12346", "12347"]


def test_the_jobs_read_a_float_text_customers_table_as_the_whole_numbers() -> None:
    """Before: a DataError ("none of the customer ids of the transactions is in the customers
    table") for a consent table exported through a float column and read as text."""
    from loyalty_ml.tracking._inputs import check_id_overlap, check_job_tables

    tx = lml.validate_transactions(_lines(list(range(1, 41))))
    customers = pd.DataFrame(
        {
            C.CUSTOMER_ID: [f"{i}.0" for i in range(1, 41)],
            C.CONSENT_MARKETING: True,
            C.CONSENT_PROFILING: True,
        }
    )
    aligned, _ = check_job_tables(tx, customers, None, caller="score_customers")
    assert aligned is not None and aligned[C.CUSTOMER_ID].tolist() == list(range(1, 41))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        check_id_overlap(aligned, tx, caller="score_customers")


def test_two_tables_agree_whatever_else_each_holds() -> None:
    """Review: decided column by column, a customers table holding one test account ("TEST-1")
    kept its "12346.0" while the transactions read "12346": no customer got an attribute (and
    the jobs refused the consent table the other way round). Id by id, both read "12346"."""
    tx = lml.validate_transactions(_lines(["12346.0", "12347.0", "12348.0"]))
    customers = pd.DataFrame(
        {C.CUSTOMER_ID: ["12346.0", "12347.0", "12348.0", "TEST-1"], "tier": ["a", "b", "a", "t"]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        X = lml.build_features(tx, as_of="2024-02-01", customers=customers)
    assert X.filter(like="tier").notna().all().all()


def test_the_jobs_read_a_consent_table_like_transactions_with_other_ids() -> None:
    from loyalty_ml.tracking._inputs import check_id_overlap, check_job_tables

    tx = lml.validate_transactions(_lines([f"{i}.0" for i in range(1, 41)] + ["TEST-1"]))
    customers = pd.DataFrame(
        {
            C.CUSTOMER_ID: [f"{i}.0" for i in range(1, 41)] + ["TEST-1"],
            C.CONSENT_MARKETING: True,
            C.CONSENT_PROFILING: True,
        }
    )
    aligned, _ = check_job_tables(tx, customers, None, caller="score_customers")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        check_id_overlap(aligned, tx, caller="score_customers")


def test_consent_erasure_and_pseudonyms_read_a_float_text_id_as_validation_does() -> None:
    """Review: raw tables against validated transactions ("12346"): consent given as "12346.0"
    read as none, an erasure request "12346.0" erased nothing."""
    from loyalty_ml.privacy import erase_customers, may_profile

    tx = lml.validate_transactions(_lines(["12346.0", "12347.0"]))
    consent = pd.DataFrame(
        {C.CUSTOMER_ID: ["12346.0", "12347.0"], C.CONSENT_PROFILING: [True, False]}
    )
    assert may_profile(tx[C.CUSTOMER_ID], consent).tolist() == [True, False]
    tables, report = erase_customers(["12346.0"], transactions=tx)
    assert report.n_found == 1 and tables["transactions"] is not None
    assert tables["transactions"][C.CUSTOMER_ID].tolist() == ["12347"]


def test_a_raw_transactions_table_still_meets_a_raw_customers_table_as_written() -> None:
    """build_features reads transactions as given: unvalidated "12346.0" ids still meet a
    customers table written the same way (the table is not read as "12346" then)."""
    tx = _lines(["12346.0", "12347.0"])
    customers = pd.DataFrame({C.CUSTOMER_ID: ["12346.0", "12347.0"], "tier": ["a", "b"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        X = lml.build_features(tx, as_of="2024-02-01", customers=customers)
    assert X.filter(like="tier").notna().all().all()
