"""The ``loyalty-ml`` command line: help texts, exit statuses, and each subcommand on tiny inputs."""

from __future__ import annotations

import contextlib
import io
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

from loyalty_ml.cli import (
    build_parser,
    main,
    read_table,
    read_train_config,
    write_table_atomically,
)
from loyalty_ml.exceptions import DataQualityWarning, SchemaError
from loyalty_ml.schema import validate_transactions

SUBCOMMANDS = ("demo", "train", "score", "report")


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


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
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
            "--out",
            str(tmp_path / "report"),
        ]
    )
    assert status == 0
    out = capsys.readouterr().out.splitlines()
    lines = {line.split()[0]: line.split()[1] for line in out[1:] if line.startswith("  ")}
    assert lines["revenue"] == "60"
    assert lines["active_customers"] == "2"
    assert lines["retention_rate"] == "1"
    html = (tmp_path / "report" / "report.html").read_text()
    assert "Programme KPIs" in html and "Cohort retention" in html
    assert out[-1] == f"Report written to {tmp_path / 'report' / 'report.html'}"


def test_report_needs_both_ends_of_the_period(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_tx(tmp_path / "tx.csv")
    status = main(["report", str(path), "--period-start", "2024-01-01"])
    assert status == 1
    assert "--period-start and --period-end" in capsys.readouterr().err


def test_report_takes_the_same_file_options_as_train_and_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_tx(tmp_path / "tx.csv")
    out = tmp_path / "report"
    assert main(["report", "--transactions", str(path), "--output", str(out)]) == 0
    assert (out / "report.html").exists()
    # without a period: the KPIs of the report's own period, the last 90 days of the data
    printed = capsys.readouterr().out
    assert "KPIs for the last 90 days of the data" in printed and "active_customers" in printed
    assert main(["report", "--out", str(out)]) == 1
    assert "Give the transactions file once" in capsys.readouterr().err
    assert main(["report", str(path), "--transactions", str(path)]) == 1
    assert "Give the transactions file once" in capsys.readouterr().err


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
    back = read_table(tmp_path / "tx.parquet", table="transactions")
    # pyarrow 16 (the floor) reads text ids back as str with NaN for missing, not NA: the same
    # values, and the same table once validated
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    pd.testing.assert_frame_equal(validate_transactions(back), validate_transactions(frame))
    (tmp_path / "tx.xlsx").write_text("x")
    with pytest.raises(SchemaError, match=r"unknown format; use \.csv"):
        read_table(tmp_path / "tx.xlsx", table="transactions")


@dataclass
class Demo:
    folder: Path
    uri: str
    status: int
    out: str
    data: object


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``loyalty-ml demo`` once, small, with its MLflow store in a temporary folder."""
    from loyalty_ml.datasets import simulate

    folder = tmp_path_factory.mktemp("cli")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            status = main(
                [
                    "demo",
                    "--customers",
                    "500",
                    "--seed",
                    "2",
                    "--report-dir",
                    "report",
                    "--tracking-uri",
                    uri,
                ]
            )
        data = simulate(n_customers=500, seed=2)
        yield Demo(folder, uri, status, buffer.getvalue(), data)


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_demo_trains_scores_and_writes_the_report(demo: Demo) -> None:
    assert demo.status == 0
    for heading in ("## Programme", "## Training", "## Scoring", "Registered loyalty_ml version 1"):
        assert heading in demo.out
    # the demo leaves a champion, and says how to serve it
    assert "version 1 as @champion" in demo.out
    assert "Serve the champion:  mlflow models serve -m models:/loyalty_ml@champion" in demo.out
    report = demo.folder / "report"
    names = {p.name for p in (report / "plots").iterdir()}
    assert {"calibration.png", "lift.png", "shap_summary.png", "qini.png"} <= names
    # summary.md shows them: a Markdown viewer draws linked images
    summary = (report / "summary.md").read_text(encoding="utf-8")
    for name in names:
        assert f"](plots/{name})" in summary
    table = pd.read_csv(report / "decisions_by_action.csv")
    assert table["customers"].sum() == demo.data.transactions["customer_id"].nunique()
    # what the demo shows, not only that it ran: scores, and offers for some of the scored only
    scored = table.loc[table["status"] == "scored"]
    assert scored["mean_churn_probability"].between(0, 1).all()
    assert scored["with_offer"].sum() > 0 and scored["expected_cost"].sum() > 0
    assert table.loc[table["status"] != "scored", "with_offer"].eq(0).all()


def _score_args(demo: Demo, output: Path, *extra: str) -> list[str]:
    """``loyalty-ml score`` of the demo's transactions and customers, written to files first."""
    demo.data.transactions.to_parquet(demo.folder / "tx.parquet")
    demo.data.customers.to_csv(demo.folder / "customers.csv", index=False)
    return [
        "score",
        "--transactions",
        str(demo.folder / "tx.parquet"),
        "--customers",
        str(demo.folder / "customers.csv"),
        "--as-of",
        "2025-01-01",
        "--output",
        str(output),
        "--tracking-uri",
        demo.uri,
        "--no-log-run",
        *extra,
    ]


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_score_writes_one_row_per_customer(demo: Demo, suffix: str) -> None:
    data = demo.data
    data.campaigns.to_parquet(demo.folder / "campaigns.parquet")
    output = demo.folder / "out" / f"scores{suffix}"
    campaigns = ("--campaigns", str(demo.folder / "campaigns.parquet"))
    assert main(_score_args(demo, output, *campaigns)) == 0
    scores = read_table(output, table="scores")
    assert len(scores) == data.transactions["customer_id"].nunique()
    assert scores["customer_id"].is_unique
    assert {"churn_probability", "action", "offer_id", "reason_1", "status"} <= set(scores.columns)
    assert [p.name for p in output.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_score_with_a_budget_and_a_strategy(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    def score(*extra: str) -> pd.DataFrame:
        output = demo.folder / "out_b" / f"scores{len(extra)}.csv"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no campaigns table: its features are missing
            assert main(_score_args(demo, output, *extra)) == 0
        return read_table(output, table="scores").set_index("customer_id")

    free = score()
    offered = free["offer_id"].notna()
    assert offered.sum() > 0
    broke = score("--budget", "0")
    assert broke["offer_id"].isna().all()
    assert (broke.loc[offered, "offer_reason"] == "budget exhausted").all()
    richest = score("--budget", "1e9", "--strategy", "max_net_value")
    assert richest["offer_id"].notna().sum() == offered.sum()  # the same customers get an offer
    assert (richest.loc[offered, "offer_reason"] == "max net value").all()
    # the night's offers and their expected cost, against the budget when there is one
    printed = capsys.readouterr().out
    cost = richest.loc[offered, "expected_cost"].sum()
    assert (
        f"Offers: {offered.sum():,} customers, expected cost {cost:,.2f} (0% of the budget"
        in printed
    )
    assert "Offers: 0 customers, expected cost 0.00\n" in printed  # --budget 0: no share
    half = cost / 2
    capped = score("--budget", f"{half}")
    spent = capped.loc[capped["offer_id"].notna(), "expected_cost"].sum()
    assert 0 < spent <= half
    assert f"({spent / half:.0%} of the budget of {half:,.2f})" in capsys.readouterr().out


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_score_writes_the_nights_sends_for_the_campaigns_file(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    import loyalty_ml as lml

    output, sends_path = demo.folder / "out_s" / "scores.csv", demo.folder / "out_s" / "sends.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no campaigns table: its features are missing
        args = _score_args(
            demo, output, "--sends", str(sends_path), "--sent-at", "2025-01-01 09:00"
        )
        assert main(args) == 0
    scores = read_table(output, table="scores").set_index("customer_id")
    sends = lml.validate_campaigns(read_table(sends_path, table="campaigns"))
    made = scores["offer_id"].dropna()
    withheld = scores["holdout_offer_id"].dropna()
    assert len(made) > 0 and len(sends) == len(made) + len(withheld)
    assert (sends["sent_at"] == pd.Timestamp("2025-01-01 09:00")).all()
    assert set(sends.loc[sends["offer_id"] != "control", "customer_id"]) == set(made.index)
    assert f"sends and {len(withheld):,} withheld (control) rows" in capsys.readouterr().out
    # checked before scoring: the same path twice, a send time without --sends, a bad time
    for extra, message in (
        (("--sends", str(output)), "name the same file"),
        (("--sent-at", "2025-01-01"), "pass --sends PATH"),
        (("--sends", str(sends_path), "--sent-at", "tomorrow-ish"), "sent-at"),
        (("--sends", str(sends_path), "--sent-at", "2024-12-31 09:00"), "is before --as-of"),
    ):
        assert main(_score_args(demo, output, *extra)) == 1
        assert message in capsys.readouterr().err


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_train_from_files_registers_a_new_version(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo.data
    data.transactions.to_csv(demo.folder / "tx.csv", index=False)
    data.campaigns.to_csv(demo.folder / "campaigns.csv", index=False)
    data.offers.to_csv(demo.folder / "offers.csv", index=False)
    # with the customers the demo's champion was trained with: a retrain without its consent
    # columns is not promoted, and warns (test_nightly_ops)
    data.customers.to_csv(demo.folder / "customers.csv", index=False)
    shipped = Path(__file__).resolve().parents[1] / "models" / "train_config.json"
    status = main(
        [
            "train",
            "--transactions",
            str(demo.folder / "tx.csv"),
            "--customers",
            str(demo.folder / "customers.csv"),
            "--campaigns",
            str(demo.folder / "campaigns.csv"),
            "--offers",
            str(demo.folder / "offers.csv"),
            "--as-of",
            "2025-01-01",
            "--config",
            str(shipped),
            "--tracking-uri",
            demo.uri,
        ]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "Registered loyalty_ml version 2 as @" in out and "reason:" in out
    # the shipped config's "auto" tree size reached the uplift model, resolved for this experiment
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=demo.uri)
    version = client.get_model_version("loyalty_ml", "2")
    metrics = client.get_run(version.run_id).data.metrics
    assert 4 <= metrics["uplift_num_leaves"] <= 15
    assert 1 <= metrics["uplift_min_child_samples"] <= 1000
    # and the held-out check of its purchase probabilities, one ratio per offer (no rows)
    checks = {k: v for k, v in metrics.items() if k.startswith("uplift_cost_check_top_ratio_")}
    assert checks and all(0.3 < v < 3 for v in checks.values())
    # what validation removed is part of the run (counts per rule, no rows)
    assert metrics["cleaning_rows_in"] >= metrics["cleaning_rows_out"] > 0
    local = client.download_artifacts(version.run_id, "cleaning_report.json", str(demo.folder))
    report = json.loads(Path(local).read_text(encoding="utf-8"))
    assert report["table"] == "transactions" and report["rows_out"] == metrics["cleaning_rows_out"]


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_score_with_unknown_alias_fails_with_status_1(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    demo.data.transactions.to_parquet(demo.folder / "tx2.parquet")
    status = main(
        [
            "score",
            "--transactions",
            str(demo.folder / "tx2.parquet"),
            "--as-of",
            "2025-01-01",
            "--output",
            str(demo.folder / "never.parquet"),
            "--model-uri",
            "models:/loyalty_ml@nope",
            "--tracking-uri",
            demo.uri,
        ]
    )
    assert status == 1
    assert "alias 'nope'" in capsys.readouterr().err
    assert not (demo.folder / "never.parquet").exists()


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "scores.parquet"
    write_table_atomically(pd.DataFrame({"a": [1]}), target)
    bad = pd.DataFrame({"a": [object()]})  # pyarrow cannot write a plain object
    with pytest.raises(Exception, match="object"):
        write_table_atomically(bad, target)
    pd.testing.assert_frame_equal(pd.read_parquet(target), pd.DataFrame({"a": [1]}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.parquet"]
    with pytest.raises(SchemaError, match=r"unknown format; use \.parquet or \.csv"):
        write_table_atomically(bad, tmp_path / "scores.xlsx")


def test_train_config_file(tmp_path: Path) -> None:
    from loyalty_ml.exceptions import ConfigError

    shipped = Path(__file__).resolve().parents[1] / "models" / "train_config.json"
    config = read_train_config(shipped)
    assert config["response_window_days"] == 30 and "churn_params" in config
    # the shipped file writes out what train_and_register uses, so that it cannot drift from it:
    # the estimators' defaults, and an offer model sized for decisions
    from loyalty_ml.models.churn import ChurnModel
    from loyalty_ml.models.uplift import UpliftModel

    offer_model = UpliftModel(purpose="decisions")
    for estimator, key in ((ChurnModel(), "churn_params"), (offer_model, "uplift_params")):
        defaults = estimator.get_params()
        assert {k: defaults[k] for k in config[key]} == config[key]
    assert read_train_config(None) == {}
    (tmp_path / "bad.json").write_text('{"horizon": 3}')
    with pytest.raises(ConfigError, match=r"unknown keys \['horizon'\]"):
        read_train_config(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="Cannot read the training config"):
        read_train_config(tmp_path / "broken.json")


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
def test_report_with_a_registered_model_judges_it_out_of_time(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo.data
    # distinctive ids, so that any id leaking into the report would be found
    tx = data.transactions.assign(customer_id=lambda d: "CUST-" + d["customer_id"].astype(str))
    people = data.customers.assign(customer_id=lambda d: "CUST-" + d["customer_id"].astype(str))
    campaigns = data.campaigns.assign(customer_id=lambda d: "CUST-" + d["customer_id"].astype(str))
    tx.to_parquet(demo.folder / "tx_report.parquet")
    people.to_csv(demo.folder / "customers_report.csv", index=False)
    campaigns.to_parquet(demo.folder / "campaigns_report.parquet")
    out = demo.folder / "model_report"
    # the demo's data ends at the model's training date: the figures are in-sample, and said so;
    # its few hundred customers leave the age bands under 100 customers, too few to judge
    with (
        pytest.warns(DataQualityWarning, match="in-sample, not out of time"),
        pytest.warns(DataQualityWarning, match="fairness_report could not judge the attribute"),
    ):
        status = main(
            [
                "report",
                str(demo.folder / "tx_report.parquet"),
                "--customers",
                str(demo.folder / "customers_report.csv"),
                "--campaigns",
                str(demo.folder / "campaigns_report.parquet"),
                "--model-uri",
                "models:/loyalty_ml/1",  # the demo's version, with its uplift model
                "--tracking-uri",
                demo.uri,
                "--out",
                str(out),
            ]
        )
    captured = capsys.readouterr()
    printed = captured.out
    assert status == 0, captured.err
    assert "judged on" in printed
    html = (out / "report.html").read_text()
    for section in ("Churn model quality", "Fairness", "Uplift model: Qini curves"):
        assert section in html
    assert "CUST-" not in html  # aggregates only


@pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)
@pytest.mark.filterwarnings(
    "ignore:.*in-sample, not out of time:loyalty_ml.exceptions.DataQualityWarning"
)
@pytest.mark.filterwarnings(
    "ignore:fairness_report could not judge:loyalty_ml.exceptions.DataQualityWarning"
)
def test_report_judges_the_uplift_model_on_the_campaign_named(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo.data
    data.transactions.to_parquet(demo.folder / "tx_named.parquet")
    data.campaigns.to_parquet(demo.folder / "campaigns_named.parquet")
    data.customers.to_csv(demo.folder / "customers_named.csv", index=False)
    args = [
        "report",
        str(demo.folder / "tx_named.parquet"),
        "--customers",
        str(demo.folder / "customers_named.csv"),
        "--campaigns",
        str(demo.folder / "campaigns_named.parquet"),
        "--model-uri",
        "models:/loyalty_ml/1",
        "--tracking-uri",
        demo.uri,
    ]
    out = demo.folder / "named_report"
    # camp05, not camp07, the latest campaign (the default)
    status = main([*args, "--uplift-campaign-id", "camp05", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    html = (out / "report.html").read_text()
    assert "Campaign camp05 sent on 2024-04-27" in html and "camp07" not in html
    assert main([*args, "--uplift-campaign-id", "camp99", "--out", str(out)]) == 1
    assert "uplift_campaign_id='camp99' is not a campaign" in capsys.readouterr().err


def test_report_refuses_a_campaign_to_judge_without_a_model_and_campaigns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_tx(tmp_path / "tx.csv")
    assert main(["report", str(path), "--uplift-campaign-id", "camp05"]) == 1
    err = capsys.readouterr().err
    assert "--uplift-campaign-id" in err and "with --model-uri and --campaigns" in err
    # a registered model without an uplift model: nothing to judge on the campaign named
    import loyalty_ml.cli.report as cli_report

    campaigns = tmp_path / "campaigns.csv"
    pd.DataFrame(
        {"customer_id": [1, 2], "offer_id": ["d5", "control"], "sent_at": "2024-01-06"}
    ).to_csv(campaigns, index=False)
    monkeypatch.setattr(cli_report, "_model_quality_inputs", lambda args, tables: {})
    args = ["report", str(path), "--campaigns", str(campaigns), "--model-uri", "models:/m/1"]
    assert main([*args, "--uplift-campaign-id", "camp05", "--out", str(tmp_path / "r")]) == 1
    assert "models:/m/1 has no uplift model" in capsys.readouterr().err


def test_read_train_config_takes_a_str_path_too(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"response_window_days": 14}', encoding="utf-8")
    assert read_train_config(str(path)) == read_train_config(path) == {"response_window_days": 14}


def test_the_commands_print_the_librarys_warnings_as_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """They printed Python's source location, 'loyalty-ml:6: ... sys.exit(main())'."""
    path = _write_tx(tmp_path / "tx.csv")
    args = ["report", str(path), "--period-start", "2024-01-01", "--period-end", "2024-04-01"]
    plain = warnings.formatwarning
    shown: list[str] = []

    def show(message: Warning | str, category: type[Warning], *where: object, **_: object) -> None:
        # as Python's own showwarning writes a warning: through warnings.formatwarning
        shown.append(warnings.formatwarning(message, category, *where[:2]))  # type: ignore[arg-type]

    with warnings.catch_warnings():
        warnings.simplefilter("always", DataQualityWarning)
        warnings.showwarning = show
        assert main([*args, "--out", str(tmp_path / "report")]) == 0
    assert warnings.formatwarning is plain  # restored
    line = next(text for text in shown if "days past" in text)  # (the report warns per section)
    assert line.startswith("loyalty-ml report: DataQualityWarning: summary: the period")
    assert ".py:" not in line and "warnings.warn" not in line and line.count("\n") == 1


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_states_no_default_of_none_and_none_twice(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in out
    assert not re.search(
        r"\(default: [^)]*\) \(default:", out
    )  # "(default: no cap) (default: None)"


def test_every_warning_of_the_library_is_one_line_and_others_as_python_writes_them() -> None:
    """Review: DriftWarning and PoorOverlapWarning still printed the Python source line."""
    from loyalty_ml.cli import _warning_line
    from loyalty_ml.models._uplift_propensity import PoorOverlapWarning
    from loyalty_ml.tracking.drift import DriftWarning

    line = _warning_line("score", warnings.formatwarning)
    for category in (DataQualityWarning, DriftWarning, PoorOverlapWarning):
        text = line("drifted", category, "/x/loyalty-ml", 6)
        assert text == f"loyalty-ml score: {category.__name__}: drifted\n"
    assert line("old", DeprecationWarning, "/x/y.py", 3).startswith("/x/y.py:3: DeprecationWarning")


def test_messages_name_the_command_lines_options_not_python_arguments() -> None:
    """Newcomer probe: the command line's warnings said 'Pass campaigns= ...', an argument it
    does not have (it has --campaigns)."""
    from loyalty_ml.cli import _in_cli_words

    assert _in_cli_words("Pass campaigns= with every offer sent") == (
        "Pass --campaigns with every offer sent"
    )
    assert _in_cli_words("or customers=None when consent is managed upstream.") == (
        "or no --customers when consent is managed upstream."
    )
    assert (
        _in_cli_words("pass campaigns=..., or drop uplift.")
        == "pass --campaigns FILE, or drop uplift."
    )
    code = "build_features(tx, campaigns=campaigns); my_offers= 3"
    assert _in_cli_words(code) == code
