"""A customers table whose ids are written another way than the transactions'
(leading zeros, "123.0", case, blanks) or that misses most of their customers, and the command
line's cleaning rules and score summary."""

from __future__ import annotations

import warnings

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
    customers = pd.DataFrame(
        {C.CUSTOMER_ID: [str(n) for n in range(100, 200)], C.CONSENT_PROFILING: True}
    )
    with pytest.raises(DataError, match=r"98 of the 102 customer ids .* leading zeros") as info:
        check_id_overlap(customers, tx, caller="score_customers")
    message = str(info.value)
    assert "'0000000100'" in message and "'100'" in message  # examples from both tables
    assert ".str.zfill(10)" in message and "are not scored" in message


def test_padded_ids_name_the_training_consequence() -> None:
    tx = _tx(_padded(range(1, 21)))
    customers = pd.DataFrame({C.CUSTOMER_ID: [str(n) for n in range(1, 21)], "tier": "gold"})
    with pytest.raises(DataError, match="missing the customers table's columns"):
        check_id_overlap(customers, tx, caller="train_and_register")  # consent upstream
    customers[C.CONSENT_PROFILING] = True
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
    customers = pd.DataFrame({C.CUSTOMER_ID: [*table_ids, "shared"], C.CONSENT_PROFILING: True})
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
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_id_overlap(customers, tx, caller="score_customers")


def test_a_few_miswritten_ids_are_warned_about_not_refused() -> None:
    """One of 200 customers (0.5%, under MISWRITTEN_SHARE) is written with zeros in the CRM: a
    typo or a distinct customer, so a warning, and the job runs."""
    ids = [str(n) for n in range(1000, 1200)]
    customers = pd.DataFrame({C.CUSTOMER_ID: [*ids[:-1], "0" + ids[-1]], "tier": "gold"})
    with pytest.warns(DataQualityWarning, match=r"1 of the 200 customers .* leading zeros"):
        check_id_overlap(customers, _tx(ids), caller="score_customers")


# -- check_id_overlap: most customers unlisted ------------------------------------------------------


def test_most_customers_missing_from_the_table_is_warned_with_count_and_share() -> None:
    flags = np.arange(1, 31) % 3 > 0  # some said no
    customers = pd.DataFrame({C.CUSTOMER_ID: np.arange(1, 31), C.CONSENT_PROFILING: flags})
    with pytest.warns(DataQualityWarning, match=r"70 of the 100 customers .*\(70%\) .*not scored"):
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="score_customers")
    with pytest.warns(DataQualityWarning, match="left out of the training"):
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="train_and_register")


def test_without_a_profiling_flag_the_unlisted_are_said_to_miss_the_tables_columns() -> None:
    # consent managed upstream: profiled_only keeps every customer, so "left out" was untrue
    customers = pd.DataFrame({C.CUSTOMER_ID: np.arange(1, 31), "tier": "gold"})
    with pytest.warns(DataQualityWarning) as caught:
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="train_and_register")
    text = str(caught[0].message)
    assert "missing the customers table's columns (['tier']);" in text
    assert "nobody is left out" in text and "left out of the training" not in text


def test_a_table_of_ids_alone_is_checked_only_for_sharing_no_id() -> None:
    # no flags, no other column: being listed changes nothing, so there is nothing to warn about
    customers = pd.DataFrame({C.CUSTOMER_ID: [str(n) for n in range(1, 21)]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_id_overlap(customers, _tx([*_padded(range(2, 21)), "1"]), caller="score_customers")
    with pytest.raises(DataError, match="leading zeros") as info:  # no id in common
        check_id_overlap(customers, _tx(_padded(range(1, 21))), caller="score_customers")
    assert "would share no customer" in str(info.value) and "None" not in str(info.value)


def test_a_table_of_the_consenting_customers_only_still_warns_and_says_it_may_be_expected() -> None:
    # one listed customer, all of them consenting, against 100 buyers: 99 left out; a CRM export of
    # the consenting customers looks the same, so the warning stays and says so
    customers = pd.DataFrame({C.CUSTOMER_ID: [1], C.CONSENT_PROFILING: True})
    with pytest.warns(DataQualityWarning, match="this is expected") as caught:
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="score_customers")
    assert "99 of the 100" in str(caught[0].message)


def test_a_look_alike_flag_is_refused_not_read_as_consent_managed_upstream() -> None:
    from loyalty_ml.exceptions import SchemaError

    customers = pd.DataFrame({C.CUSTOMER_ID: np.arange(1, 31), "consent_profile": True})
    with pytest.raises(SchemaError, match="consent_profile"):
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="score_customers")


def test_training_with_a_marketing_flag_only_does_not_speak_of_offers() -> None:
    customers = pd.DataFrame({C.CUSTOMER_ID: np.arange(1, 31), C.CONSENT_MARKETING: True})
    with pytest.warns(DataQualityWarning) as caught:
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="train_and_register")
    assert "no offers" not in str(caught[0].message)
    with pytest.warns(DataQualityWarning, match="no offers"):
        check_id_overlap(customers, _tx(list(range(1, 101))), caller="score_customers")


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


# -- the command line's cleaning rules --------------------------------------------------------------


def _raw_tx() -> pd.DataFrame:
    """Two weeks of daily lines: a return, a cancelled invoice, a postage line, a repeated line,
    times with a zone."""
    days = pd.date_range("2024-03-01 09:30", periods=14, freq="D", tz="UTC")
    raw = pd.DataFrame(
        {
            C.CUSTOMER_ID: [1, 2] * 7,
            C.TIMESTAMP: days,
            C.AMOUNT: 10.0,
            C.ORDER_ID: [f"o{i}" for i in range(14)],
            C.PRODUCT_ID: "p",
        }
    )
    raw.loc[3, C.AMOUNT] = -4.0
    raw.loc[5, C.ORDER_ID] = "C5"
    raw.loc[7, C.PRODUCT_ID] = "POST"
    return pd.concat([raw, raw.iloc[[9]]], ignore_index=True)


_RULES = {
    "returns": "keep",
    "cancellation_pattern": "^C",
    "non_purchase_pattern": "^POST",
    "drop_duplicates": False,
    "timezone": "Europe/Berlin",
}


def _read(command: str, path: object, *options: str) -> pd.DataFrame:
    from loyalty_ml.cli import build_parser
    from loyalty_ml.cli.io import read_inputs

    args = {
        "train": ["train", "--transactions", str(path), "--as-of", "2024-04-01"],
        "score": [
            "score",
            "--transactions",
            str(path),
            "--as-of",
            "2024-04-01",
            "--output",
            "o.csv",
        ],
        "report": ["report", str(path)],
    }[command]
    tables = read_inputs(build_parser().parse_args([*args, *options]))
    return tables["transactions"]  # type: ignore[return-value]


@pytest.mark.parametrize("command", ["train", "score", "report"])
def test_a_validated_parquet_file_is_read_with_the_rules_it_was_cleaned_with(
    tmp_path: object, command: str
) -> None:
    """The tester's cafe_keep.parquet (validated with returns="keep" in a notebook): the command
    line cleaned it again with the defaults and dropped its returns, so `loyalty-ml score` decided
    on other data than score_customers on the same file."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "tx.parquet"
    validated = lml_validate(_raw_tx(), **_RULES)
    validated.to_parquet(path)
    read = _read(command, path)
    pd.testing.assert_frame_equal(read, validated)
    assert (read[C.AMOUNT] < 0).sum() == 1 and read.attrs["loyalty_ml_clock"] == "Europe/Berlin"


@pytest.mark.parametrize("command", ["train", "score", "report"])
def test_a_validated_parquet_file_keeps_lines_only_a_left_out_column_told_apart(
    tmp_path: object, command: str
) -> None:
    """Online Retail II validated by the README's recipe (quantity not mapped): two lines of
    invoice 496872, 2 x 0.50 and 1 x 1.00, are one line on the canonical columns, and `loyalty-ml
    score` dropped one as a duplicate (400,916 in, 400,915 out)."""
    from pathlib import Path

    raw = _raw_tx().assign(Quantity=1)
    raw.loc[0, "Quantity"] = 2  # one line of o0 as 2 x 5.00, one as 1 x 10.00
    raw = pd.concat([raw, raw.iloc[[0]].assign(Quantity=1)], ignore_index=True)
    path = Path(str(tmp_path)) / "tx.parquet"
    validated = lml_validate(raw)
    assert len(validated) == 14  # 16 less the return and the repeated line
    validated.to_parquet(path)
    pd.testing.assert_frame_equal(_read(command, path), validated)


def lml_validate(raw: pd.DataFrame, **rules: object) -> pd.DataFrame:
    from loyalty_ml.schema import validate_transactions

    return validate_transactions(raw, **rules)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("command", ["train", "score", "report"])
def test_the_cleaning_rules_are_options_of_the_commands_that_read_transactions(
    tmp_path: object, command: str
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "tx.csv"
    _raw_tx().to_csv(path, index=False)
    options = [
        "--returns=keep",
        "--cancellation-pattern=^C",
        "--non-purchase-pattern=^POST",
        "--no-drop-duplicates",
        "--timezone=Europe/Berlin",
    ]
    read = _read(command, path, *options)
    expected = lml_validate(_raw_tx().astype({C.CUSTOMER_ID: str}), **_RULES)
    assert len(read) == len(expected) == 13  # 15 lines less the cancelled and the postage
    assert read[C.TIMESTAMP].iloc[0] == pd.Timestamp("2024-03-01 10:30")  # on Berlin's clock
    assert read.attrs["loyalty_ml_clock"] == "Europe/Berlin"
    defaults = _read(command, path)
    assert len(defaults) == 13  # the return and the repeated line removed, the others kept


def test_an_option_looser_than_the_files_rule_is_warned_and_a_stricter_one_applies(
    tmp_path: object,
) -> None:
    from pathlib import Path

    kept = Path(str(tmp_path)) / "kept.parquet"
    lml_validate(_raw_tx(), returns="keep").to_parquet(kept)
    assert (_read("score", kept, "--returns", "drop")[C.AMOUNT] < 0).sum() == 0
    dropped = Path(str(tmp_path)) / "dropped.parquet"
    lml_validate(_raw_tx()).to_parquet(dropped)
    with pytest.warns(DataQualityWarning, match="returns='drop'.*cannot bring them back"):
        _read("score", dropped, "--returns", "keep")
    with pytest.warns(DataQualityWarning, match="clock 'UTC'.*only relabels"):
        _read("score", dropped, "--timezone", "Europe/Berlin")
    # the file had no free line for zero_amounts="drop" to remove: nothing lost, nothing said
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(_read("score", dropped, "--zero-amounts", "keep")) == 13


def test_the_timezone_option_applies_to_the_customers_file(tmp_path: object) -> None:
    from pathlib import Path

    from loyalty_ml.cli import build_parser
    from loyalty_ml.cli.io import read_inputs

    folder = Path(str(tmp_path))
    _raw_tx().to_csv(folder / "tx.csv", index=False)
    people = pd.DataFrame({C.CUSTOMER_ID: [1, 2], "signup_date": ["2024-01-01T23:30:00+00:00"] * 2})
    people.to_csv(folder / "people.csv", index=False)
    args = ["report", str(folder / "tx.csv"), "--customers", str(folder / "people.csv")]
    tables = read_inputs(build_parser().parse_args([*args, "--timezone", "Europe/Berlin"]))
    customers = tables["customers"]
    assert customers is not None
    assert customers["signup_date"].iloc[0] == pd.Timestamp("2024-01-02 00:30")


# -- the score command's summary --------------------------------------------------------------------


def test_the_score_summary_counts_customers_by_status_and_reason() -> None:
    from loyalty_ml.cli import status_summary

    unlisted = (
        "not scored: not in the customers table, so consent is unknown and read as no consent"
    )
    declined = "not scored: the customer has not consented to profiling"
    scores = pd.DataFrame(
        {
            "status": ["scored"] + ["no_profiling_consent"] * 999,
            "reason_1": ["recency"] + [unlisted] * 997 + [declined] * 2,
        }
    )
    text = status_summary(scores)
    assert "Customers: 1,000" in text
    assert "scored              1 (0.1%)" in text
    assert "not scored        999 (99.9%)" in text
    assert "997  no_profiling_consent: not in the customers table" in text
    assert "2  no_profiling_consent: the customer has not consented" in text


def test_the_score_summary_counts_the_listed_customers_without_a_purchase() -> None:
    # Retail Rocket: 1,400 buyers scored, 120,000 visitors who only viewed: the summary said
    # "Customers: 1,400, not scored 0" and nothing of them
    from loyalty_ml.cli import status_summary

    scores = pd.DataFrame({"status": ["scored"] * 3, "reason_1": ["recency"] * 3})
    assert "no purchase" not in status_summary(scores)
    scores.attrs = {
        "n_customers_without_purchase": 2,
        "n_event_customers_without_purchase": 120_072,
    }
    text = status_summary(scores)
    assert "no purchase         2  in the customers table, not in the transactions" in text
    assert "no purchase   120,072  in the events, not in the transactions before as_of" in text


def test_loyalty_ml_score_prints_the_counts_by_status(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tester's night that scored 13 customers of 3,575 printed only the actions (3,562
    'none'): the job log showed nothing wrong."""
    from pathlib import Path

    from loyalty_ml import cli
    from loyalty_ml.tracking import scoring

    unlisted = (
        "not scored: not in the customers table, so consent is unknown and read as no consent"
    )
    scores = pd.DataFrame(
        {
            "status": ["scored", "no_profiling_consent", "no_profiling_consent"],
            "action": ["win_back", "none", "none"],
            "reason_1": ["recency", unlisted, unlisted],
        },
        index=pd.Index([1, 2, 3], name=C.CUSTOMER_ID),
    )
    monkeypatch.setattr(
        cli,
        "read_inputs",
        lambda args: {"transactions": _tx([1, 2, 3])} | dict.fromkeys(("customers", "campaigns")),
    )
    monkeypatch.setattr(scoring, "score_customers", lambda transactions, **kwargs: scores)
    output = Path(str(tmp_path)) / "s.csv"
    argv = ["score", "--transactions", "t.csv", "--as-of", "2024-10-01", "--output", str(output)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "scored              1 (33.3%)" in printed
    assert "2  no_profiling_consent: not in the customers table" in printed


@pytest.mark.parametrize("command", ["train", "score", "report"])
def test_the_column_option_maps_the_files_names_as_a_column_map_does(
    tmp_path: object, command: str
) -> None:
    """The library's fix for a missing column is a ColumnMap, which a command-line user could not
    pass: they had to rename the file's header."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "tx.csv"
    raw = _raw_tx().rename(columns={C.AMOUNT: "Betrag", C.TIMESTAMP: "Invoice Date"})
    raw.to_csv(path, index=False)
    read = _read(command, path, "--column", "amount=Betrag", "--column", "timestamp=Invoice Date")
    pd.testing.assert_frame_equal(read, _read(command, _csv(tmp_path, _raw_tx())))


def test_a_mapped_id_column_keeps_its_leading_zeros(tmp_path: object) -> None:
    """Only the canonical id columns of a CSV were read as text: --column
    customer_id=Kundennummer read '000123' as the integer 123, and the scores were written for
    customers 1, 2, 3 (a customers file with the ids as text was then refused)."""
    from pathlib import Path

    raw = _raw_tx()
    raw[C.CUSTOMER_ID] = raw[C.CUSTOMER_ID].map({1: "000123", 2: "000124"})
    path = Path(str(tmp_path)) / "tx.csv"
    raw.rename(columns={C.CUSTOMER_ID: "Kundennummer", C.ORDER_ID: "Beleg"}).to_csv(
        path, index=False
    )
    read = _read(
        "score", path, "--column", "customer_id=Kundennummer", "--column", "order_id=Beleg"
    )
    assert sorted(read[C.CUSTOMER_ID].unique()) == ["000123", "000124"]
    assert read[C.ORDER_ID].iloc[0].startswith("o")


def _csv(tmp_path: object, frame: pd.DataFrame) -> object:
    from pathlib import Path

    path = Path(str(tmp_path)) / "canonical.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("amount", r"takes CANONICAL=YOURS, .*; got 'amount'"),
        ("Betrag=amount", r"'Betrag' is not a canonical column of the transactions"),
        ("tier=Stufe", r"'tier' is not a canonical column of the transactions"),
    ],
)
def test_a_column_option_not_of_the_form_canonical_equals_yours_is_refused(
    pair: str, says: str
) -> None:
    from loyalty_ml.cli.io import column_map
    from loyalty_ml.exceptions import ConfigError

    with pytest.raises(ConfigError, match=says):
        column_map([pair])
    with pytest.raises(ConfigError, match=r"two columns for 'amount': 'a' and 'b'"):
        column_map(["amount=a", "amount=b"])


def test_a_missing_column_error_on_the_command_line_names_the_option(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from loyalty_ml.cli import main

    path = _csv(tmp_path, _raw_tx().rename(columns={C.AMOUNT: "Betrag"}))
    assert main(["report", str(path)]) == 1
    err = capsys.readouterr().err
    assert "ColumnMap(amount=" in err and "On the command line: --column <canonical>=" in err
