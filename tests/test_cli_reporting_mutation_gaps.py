"""Tests that kill mutants which survived the suite (session 45's mutation run of the command line
and the programme report). Each test names the mutant it kills. All use small hand-made inputs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from loyalty_ml.cli import read_table
from loyalty_ml.reporting.report import report_period
from loyalty_ml.reporting.sections import kpi_section


def test_previous_period_starting_on_the_first_day_of_data_is_kept() -> None:
    """Kills R1 (``previous > first day``): a previous period that starts at the midnight of the
    first transaction is fully covered by the data, so retention is measured against it.

    Last purchase 2024-06-29: the period is [2024-04-01, 2024-06-30), 90 days, and the previous
    one starts 90 days earlier, on 2024-01-02, the first day of data."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-02 10:00", "2024-06-29 12:00"]),
            "amount": [10.0, 20.0],
        }
    )
    start, end, previous = report_period(tx, None, None)
    assert (start, end) == (pd.Timestamp("2024-04-01"), pd.Timestamp("2024-06-30"))
    assert previous == pd.Timestamp("2024-01-02")


def test_csv_ids_are_trimmed_of_dot_zero_only_where_they_are_whole_floats(
    tmp_path: Path,
) -> None:
    """Kills X7 (leading zeros accepted: ``007.0`` read as ``007``). Ids such as ``007.0`` or
    ``12.5`` are not integers written as floats and are left as written; ``12.0`` next to them is
    12, id by id, as validation and every match read it (session 51's review: decided column by
    column, two tables could disagree)."""
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("customer_id,amount\n007.0,1\n12.0,2\n12.5,3\n", encoding="utf-8")
    assert read_table(mixed, table="transactions")["customer_id"].tolist() == [
        "007.0",
        "12",
        "12.5",
    ]
    whole = tmp_path / "whole.csv"
    whole.write_text("customer_id,amount\n40000.0,1\n12.0,2\n", encoding="utf-8")
    assert read_table(whole, table="transactions")["customer_id"].tolist() == ["40000", "12"]


def test_a_member_who_signs_up_at_the_end_of_the_period_is_not_in_its_tiers() -> None:
    """Kills R5 (``signup <= period_end``): the period is [start, end), so a signup at the end's
    midnight is after it, as for every other count of the report."""
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-01-05 09:00", "2024-03-31 12:00"]),
            "amount": [5.0, 6.0],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "tier": ["gold", "silver", "silver"],
            "signup_date": pd.to_datetime(["2023-06-01", "2024-02-01", "2024-04-01"]),
        }
    )
    section = kpi_section(
        tx,
        period_start=pd.Timestamp("2024-01-01"),
        period_end=pd.Timestamp("2024-04-01"),
        customers=customers,
    )
    (tiers,) = [t.frame for t in section.tables if t.caption == "Members by tier"]
    assert tiers["members"].to_dict() == {"gold": 1, "silver": 1}
