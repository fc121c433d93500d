"""Session 49, job F1: a customers table whose ids are written another way than the transactions'
(leading zeros, "123.0", case, blanks) or that misses most of their customers, and the command
line's cleaning rules and score summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import DataError, DataQualityWarning
from loyalty_ml.schema import columns as C
from loyalty_ml.tracking._inputs import check_id_overlap


def _tx(ids: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: ids,
            C.TIMESTAMP: pd.date_range("2024-01-01", periods=len(ids), freq="D"),
            C.AMOUNT: 10.0,
        }
    )


def _padded(numbers: range) -> list[str]:
    return [f"{n:010d}" for n in numbers]


# -- check_id_overlap: ids written another way ------------------------------------------------------


def test_padded_transaction_ids_against_unpadded_customers_are_refused_with_the_fix() -> None:
    """The tester's supermarket: 10-digit cards in the transactions, integers in the CRM (read as
    text by the jobs), a few old short cards that match as written. Before: silent, 99% of the
    customers marked no_profiling_consent."""
    tx = _tx([*_padded(range(100, 200)), "105", "106"])  # two old cards match the CRM as written
    customers = pd.DataFrame({C.CUSTOMER_ID: [str(n) for n in range(100, 200)]})
    with pytest.raises(DataError, match=r"98 of the 102 customer ids .* leading zeros") as info:
        check_id_overlap(customers, tx, caller="score_customers")
    message = str(info.value)
    assert "'0000000100'" in message and "'100'" in message  # examples from both tables
    assert ".str.zfill(10)" in message and "are not scored" in message


def test_padded_ids_name_the_training_consequence() -> None:
    tx = _tx(_padded(range(1, 21)))
    customers = pd.DataFrame({C.CUSTOMER_ID: [str(n) for n in range(1, 21)]})
    with pytest.raises(DataError, match="left out of the training"):
        check_id_overlap(customers, tx, caller="train_and_register")


@pytest.mark.parametrize(
    ("tx_ids", "table_ids", "how"),
    [
        (["7", "8", "9", "10"], ["7.0", "8.0", "9.0", "10.0"], "decimal '.0'"),
        (["ab-1", "ab-2", "ab-3"], ["AB-1", "AB-2", "AB-3"], "case differ"),
        (["a1", "a2", "a3"], [" a1", " a2 ", "a3 "], "blanks surround"),
        (["7", "8", "9"], ["007", "008", "009"], "customers' ids have leading zeros"),
    ],
)
def test_ids_equal_once_written_alike_are_refused(
    tx_ids: list[str], table_ids: list[str], how: str
) -> None:
    # one id in common, so the old "no id at all" refusal did not fire
    tx = _tx([*tx_ids, "shared"])
    customers = pd.DataFrame({C.CUSTOMER_ID: [*table_ids, "shared"]})
    with pytest.raises(DataError, match=f"are once both are written alike: .*{how}"):
        check_id_overlap(customers, tx, caller="score_customers")


def test_integer_transactions_against_float_customer_ids_are_aligned_not_refused() -> None:
    tx = _tx([7, 8, 9])
    check_id_overlap(pd.DataFrame({C.CUSTOMER_ID: [7.0, 8.0, 9.0]}), tx, caller="score_customers")


def test_old_and_new_cards_of_different_customers_are_not_miswritten() -> None:
    """A shop whose old card 0105 and new card 105 are two customers: the CRM lists 105, which
    the transactions use as written, so 0105 is an unlisted customer, not a misspelt id."""
    tx = _tx([*(str(n) for n in range(100, 200)), "0105"])
    customers = pd.DataFrame({C.CUSTOMER_ID: [str(n) for n in range(100, 200)]})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_id_overlap(customers, tx, caller="score_customers")


def test_a_few_miswritten_ids_are_warned_about_not_refused() -> None:
    """One of 200 customers (0.5%, under MISWRITTEN_SHARE) is written with zeros in the CRM: a
    typo or a distinct customer, so a warning, and the job runs."""
    ids = [str(n) for n in range(1000, 1200)]
    customers = pd.DataFrame({C.CUSTOMER_ID: [*ids[:-1], "0" + ids[-1]]})
    with pytest.warns(DataQualityWarning, match=r"1 of the 200 customers .* leading zeros"):
        check_id_overlap(customers, _tx(ids), caller="score_customers")


# -- check_id_overlap: most customers unlisted ------------------------------------------------------


def test_most_customers_missing_from_the_table_is_warned_with_count_and_share() -> None:
    customers = pd.DataFrame({C.CUSTOMER_ID: np.arange(1, 31)})
    with pytest.warns(DataQualityWarning, match=r"70 of the 100 customers .*\(70%\) .*not scored"):
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="score_customers")
    with pytest.warns(DataQualityWarning, match="left out of the training"):
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="train_and_register")


def test_half_the_customers_unlisted_or_fewer_is_silent() -> None:
    """Customers who joined after the CRM extract: normal, no warning up to UNLISTED_SHARE."""
    import warnings

    customers = pd.DataFrame({C.CUSTOMER_ID: np.arange(1, 51)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="score_customers")
        check_id_overlap(customers, _tx(list(range(1, 61))), caller="score_customers")


# -- train_and_register: the one-class error names the consent exclusion ------------------------------


def _all_churned() -> pd.DataFrame:
    bought = [
        (i, pd.Timestamp("2023-01-03") + pd.DateOffset(months=m))
        for i in range(1, 6)
        for m in range(3)
    ]
    return pd.DataFrame(bought, columns=[C.CUSTOMER_ID, C.TIMESTAMP]).assign(**{C.AMOUNT: 10.0})


@pytest.mark.parametrize("n_excluded", [0, 95])
def test_the_one_class_error_names_customers_left_out_for_consent(n_excluded: int) -> None:
    """The tester's CRM with ids written another way left 13 customers of 4,000: the error blamed
    the dates ('the data covers ...'). When most customers were left out for want of consent,
    it says so first."""
    from loyalty_ml.features import FeatureConfig
    from loyalty_ml.tracking.train import _churn_table

    cutoffs = [pd.Timestamp(d) for d in ("2023-05-01", "2023-06-01", "2023-07-01")]
    with pytest.raises(DataError, match="every training customer is labelled churned") as info:
        _churn_table(
            _all_churned(),
            cutoffs,
            as_of=pd.Timestamp("2023-10-01"),
            horizon_days=60,
            people=None,
            campaigns=None,
            config=FeatureConfig(),
            n_excluded=n_excluded,
        )
    note = "Only 5 of the 100 customers with transactions may be profiled: 95 were left out"
    assert (note in str(info.value)) == (n_excluded > 0)
