"""The ``loyalty-ml`` command line: help texts, exit statuses, and each subcommand on tiny inputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from loyalty_ml.cli import build_parser, main, read_table
from loyalty_ml.exceptions import SchemaError

HAS_SIMULATOR = importlib.util.find_spec("loyalty_ml.datasets.simulator") is not None
SUBCOMMANDS = ("demo", "report")


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: loyalty-ml {command}" in out
    # every option documents itself
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    for action in sub._actions:
        assert action.help, f"{command} {action.dest} has no help"


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def _write_tx(path: Path) -> Path:
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2],
            "order_id": [1, 2, 3, 4],
            "timestamp": ["2024-01-05", "2024-02-05", "2024-02-10", "2023-12-01"],
            "amount": [10.0, 20.0, 30.0, 5.0],
        }
    ).to_csv(path, index=False)
    return path


def test_report_prints_kpis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_tx(tmp_path / "tx.csv")
    status = main(
        [
            "report",
            str(path),
            "--period-start",
            "2024-01-01",
            "--period-end",
            "2024-03-01",
            "--previous-start",
            "2023-11-01",
        ]
    )
    assert status == 0
    lines = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["revenue"] == "60"
    assert lines["active_customers"] == "2"
    assert lines["retention_rate"] == "1"


def test_missing_file_is_an_error_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "report",
            str(tmp_path / "nope.csv"),
            "--period-start",
            "2024-01-01",
            "--period-end",
            "2024-02-01",
        ]
    )
    assert status == 1
    err = capsys.readouterr().err
    assert "loyalty-ml report: error:" in err and "nope.csv" in err and "does not exist" in err


def test_read_table_reads_csv_and_parquet_and_refuses_other_formats(tmp_path: Path) -> None:
    csv = _write_tx(tmp_path / "tx.csv")
    frame = read_table(csv, table="transactions")
    frame.to_parquet(tmp_path / "tx.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "tx.parquet", table="transactions"), frame)
    (tmp_path / "tx.xlsx").write_text("x")
    with pytest.raises(SchemaError, match=r"unknown format; use \.csv"):
        read_table(tmp_path / "tx.xlsx", table="transactions")


@pytest.mark.skipif(HAS_SIMULATOR, reason="the simulator is installed")
def test_demo_without_simulator_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["demo", "--customers", "10", "--report-dir", str(tmp_path)])
    assert status == 1
    assert "needs the loyalty simulator" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_SIMULATOR, reason="the simulator is not installed yet")
def test_demo_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--customers", "300", "--report-dir", str(tmp_path / "r")])
    assert status == 0
    out = capsys.readouterr().out
    assert "customers" in out and "revenue" in out and "campaigns" in out
    assert (tmp_path / "r" / "summary.md").exists()
