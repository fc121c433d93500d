"""validate_transactions on messy exports (session 49, job F2): columns left out that change what
an amount means, numeric stand-in customer ids, and hints that lead the user to the fix."""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.schema import ColumnMap, cleaning_report, validate_transactions
from loyalty_ml.schema.report import CleaningReport


def _lines(n: int = 12, **extra: object) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "card": [1 + i % 4 for i in range(n)],
            "ts": pd.date_range("2024-01-01", periods=n, freq="D"),
            "line_total": [10.0 + i for i in range(n)],
        }
    )
    return frame.assign(**extra)


_CM = ColumnMap(customer_id="card", timestamp="ts", amount="line_total")

# -- 1. columns left out that change what an amount means ---------------------------------------


def test_a_return_flag_with_positive_amounts_is_named_with_its_values_and_the_fix() -> None:
    raw = _lines(return_flag=["N"] * 9 + ["J"] * 3)
    with pytest.warns(DataQualityWarning, match="'return_flag' is left out") as caught:
        tx, report = validate_transactions(raw, columns=_CM, return_report=True)
    message = str(caught[0].message)
    assert "'N' (9 rows), 'J' (3 rows)" in message
    # the fix is code on the user's own columns, negating the flagged value
    assert (
        "raw['line_total'] = raw['line_total'].where(raw['return_flag'] != 'J', "
        "-raw['line_total'])" in message
    )
    assert (tx["amount"] > 0).all()  # still as read: the warning changes no row
    assert any("'return_flag'" in note for note in report.notes)
    assert report.left_out == ["return_flag"]


def test_returns_already_negated_by_the_flag_are_silent() -> None:
    raw = _lines(return_flag=["N"] * 9 + ["J"] * 3)
    raw["line_total"] = raw["line_total"].where(raw["return_flag"] != "J", -raw["line_total"])
    raw.loc[0, "line_total"] = 0.0  # a free line does not break the agreement
    tx = validate_transactions(raw, columns=_CM, returns="keep", zero_amounts="keep")
    assert (tx["amount"] < 0).sum() == 3


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("type", ["sale"] * 10 + ["return"] * 2, "marks returns"),
        ("IsReturn", [False] * 10 + [True] * 2, r"where\(~raw\['IsReturn'\]"),
        ("Stornokennzeichen", [""] * 10 + ["X"] * 2, "marks returns"),
        ("status", ["completed"] * 10 + ["refunded"] * 2, r"raw\['status'\] == 'completed'"),
        ("currency", ["GBP"] * 8 + ["EUR"] * 2 + ["USD"] * 2, r"map\(\{'GBP': <rate>"),
        ("Waehrung", ["EUR"] * 10 + ["CHF"] * 2, "currency of each amount"),
        ("iso", ["EUR"] * 10 + ["GBP"] * 2, "currency of each amount"),  # by its values
    ],
)
def test_columns_that_change_the_amounts_meaning_warn(
    name: str, values: list[object], expected: str
) -> None:
    with pytest.warns(DataQualityWarning, match=expected):
        validate_transactions(_lines(**{name: values}), columns=_CM)


def test_ordinary_extra_columns_stay_silent_and_are_listed_in_the_report() -> None:
    raw = _lines(
        till=[f"T{i % 3}" for i in range(12)],
        Description=[f"item {i}" for i in range(12)],
        Country=["United Kingdom"] * 6 + ["France"] * 6,
        currency="EUR",  # one currency throughout
        status="completed",  # one status on every row
        visitor=["new", "returning"] * 6,  # a returning customer is no return
        new_vs_returning=["new", "returning"] * 6,
    )
    tx, report = validate_transactions(raw, columns=_CM, return_report=True)
    assert report.left_out == [
        "till",
        "Description",
        "Country",
        "currency",
        "status",
        "visitor",
        "new_vs_returning",
    ]
    assert report.notes == []
    assert "left out (not canonical): till, Description" in str(report)
    assert cleaning_report(tx) == report  # kept with the table


def test_reports_saved_before_left_out_was_listed_still_read() -> None:
    old = {"table": "transactions", "rows_in": 3, "rows_out": 3, "steps": [], "notes": []}
    report = CleaningReport.from_json(old)
    assert report is not None and report.left_out == []
