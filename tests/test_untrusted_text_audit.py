"""Audit: untrusted text (ids, names, labels, column names chosen by others) flowing into outputs.

Audited: the HTML report (``render_html``, ``write_report``, ``loyalty-ml report``), the markdown of
``FairnessReport.to_markdown`` and the artifacts of ``FairnessReport.log_to_mlflow``, the CSV the
CLI writes (``write_table_atomically``, used by ``loyalty-ml score``), the Matplotlib figures the
report and MLflow embed (fairness bars, Qini curves), the file names written, the loading of
user-provided files, and error messages (log forging).

Found right (plain guard tests):
- HTML: every data-derived string is escaped (``html.escape`` / ``DataFrame.to_html(escape=True)``)
  in headings, paragraphs, notes, captions, ``alt`` and ``id``/``href`` attributes, table cells,
  index labels and column names; figures are base64 PNG (no SVG text that could carry markup).
  Checked with ``html.parser`` on the CLI report built from hostile CSV files and on a report with
  a hostile fairness audit.
- Markdown table cells escape ``|`` and ``\\n`` (``_fairness_render._cell``).
- File names never come from data: the report writes fixed PNG names (``ReportFigure`` refuses any
  other stem), ``log_to_mlflow`` fixed artifact names; a campaign id ``../../etc/x`` writes nothing
  elsewhere.
- Loading: no ``pickle``/``yaml``/``eval`` on user files (the only ``pickle.load`` is the MLflow
  pyfunc artifact); the CLI reads only CSV/Parquet, the training config only as JSON.
- Error messages quote ids with ``repr``: a newline or ANSI escape in an offer id is not echoed raw.
- CSV output keeps negative numbers and text values exactly (no silent mangling).

Defects, written first as strict xfails, all fixed (their tests are now regression tests):

1. Matplotlib mathtext: group labels, attribute names and offer ids are drawn as Matplotlib text
   with math parsing on. ``$50k-$75k`` (an income band) is rendered as math (mangled), and
   ``$25k_$50k`` raises ValueError, so ``FairnessReport.plot``, ``write_report(fairness=...)``,
   ``log_to_mlflow`` and ``plot_uplift_curves`` crash on such labels.
2. ``plot_uplift_curves``: an offer id starting with ``_`` is dropped from the legend (Matplotlib
   treats such labels as "no legend").
3. ``_fairness_render._cell`` replaces ``\\n`` but not ``\\r``: a carriage return in a group label
   (a CommonMark line ending) splits the markdown table row.
4. ``FairnessReport.to_markdown`` puts the control name and attribute names into headings and prose
   unescaped: a newline there injects a markdown heading.
5. CSV formula injection: ``write_table_atomically`` (``loyalty-ml score --output x.csv``) and the
   CSV artifacts of ``log_to_mlflow`` write text cells such as ``=HYPERLINK(...)`` verbatim; there
   is no mitigation and nothing in the README or ``--help`` warns about it.

Fixes: data-derived plot text goes through ``loyalty_ml._plot_text.literal`` (``$`` escaped) and
legends of data-derived lines are built from explicit handles; Markdown cells, headings and prose
are flattened to one line; the fairness CSVs logged to MLflow are always ``spreadsheet_safe``
(``loyalty_ml._csv_text``), the scores CSV on request (``loyalty-ml score --excel-safe``): a
program loading it reads the values as written by default.

Noted, not tested: markdown cells pass raw HTML through (``<script>`` in a group label reaches
``fairness_report.md`` and ``_repr_markdown_``; renderers that allow inline HTML would show it);
the demo's ``summary.md`` puts offer ids inside a fenced code block (simulator data only); the CLI
validates ``--campaigns`` without ``--offers``, so unknown offer ids are not refused there.
"""

from __future__ import annotations

import html.parser
import re
import warnings
from pathlib import Path

import matplotlib.cbook as cbook
import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.cli import main, read_table, read_train_config, write_table_atomically
from loyalty_ml.evaluation.uplift_metrics import plot_uplift_curves
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, SchemaError
from loyalty_ml.reporting import ReportFigure, ReportTable, Section, render_html
from loyalty_ml.reporting.html import figure_to_png

PACKAGE = Path(lml.__file__).resolve().parent

XSS_OFFER = "<script>alert(1)</script>"
XSS_TIER = '"><img src=x onerror=alert(1)>'
XSS_REGION = "<svg onload=alert(2)>"
AMP_CAMPAIGN = "A&B <b>camp</b>"
TRAVERSAL_CAMPAIGN = "../../etc/x"
EXPECTED_REPORT_FILES = {"report.html", "cohort_retention.png", "retention_curve.png"}


# -- helpers -------------------------------------------------------------------------------------------
class _TagCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.img_src: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "img":
            self.img_src.extend(v or "" for k, v in attrs if k == "src")


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "nav", "ul", "li", "a",
    "section", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure", "img",
    "figcaption",
}  # fmt: skip
ALLOWED_ATTRS = {"lang", "charset", "href", "id", "class", "border", "style", "rowspan", "colspan"}
ALLOWED_ATTRS |= {"valign", "halign", "alt", "src"}


def _assert_inert_html(page: str, *, n_figures: int, texts: list[str]) -> None:
    parser = _TagCollector()
    parser.feed(page)
    parser.close()
    assert set(parser.tags) <= ALLOWED_TAGS, set(parser.tags) - ALLOWED_TAGS
    names = {name for name, _ in parser.attrs}
    assert names <= ALLOWED_ATTRS, names - ALLOWED_ATTRS
    assert not any(name.startswith("on") for name in names)
    assert parser.tags.count("img") == n_figures
    assert all(src.startswith("data:image/png;base64,") for src in parser.img_src)
    for text in texts:  # each hostile string is shown, escaped, at least once
        assert text not in page or ("<" not in text and '"' not in text)
        assert escape_html(text) in page, text


def escape_html(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def _math_texts(fig: object) -> list[str]:
    """Texts of a figure that Matplotlib would parse as mathtext (an even number of ``$``)."""
    texts = fig.findobj(lambda a: hasattr(a, "get_parse_math"))  # type: ignore[attr-defined]
    return [t.get_text() for t in texts if t.get_parse_math() and cbook.is_math_text(t.get_text())]


def _commonmark_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def _table_rows_consistent(markdown: str) -> None:
    """Every row of every markdown table has as many unescaped pipes as its header."""
    expected: int | None = None
    for line in _commonmark_lines(markdown):
        if not line.startswith("|"):
            expected = None
            continue
        pipes = len(re.findall(r"(?<!\\)\|", line))
        if expected is None:
            expected = pipes
        assert pipes == expected, line


def _fairness(labels: dict[str, list[str]], *, control: pd.Series | None = None):
    n = len(next(iter(labels.values())))
    groups = pd.DataFrame(labels, index=pd.RangeIndex(n, name="customer_id"))
    score = pd.Series(np.linspace(0.0, 1.0, n), index=groups.index)
    with warnings.catch_warnings():
        # a few dozen customers: the audit says it could not judge them, which is not the point here
        warnings.filterwarnings("ignore", "fairness_report could not judge", DataQualityWarning)
        return lml.fairness_report(groups, y_score=score, control=control)


# -- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_tables() -> dict[str, pd.DataFrame]:
    """Simulator tables whose ids and labels are hostile text."""
    data = lml.datasets.simulate(n_customers=200, start="2023-01-01", end="2023-12-31", seed=0)
    offers = data.offers.copy()
    offers["offer_id"] = offers["offer_id"].replace({"disc5": XSS_OFFER})
    campaigns = data.campaigns.copy()
    campaigns["offer_id"] = campaigns["offer_id"].replace({"disc5": XSS_OFFER})
    campaigns["campaign_id"] = campaigns["campaign_id"].replace(
        {"camp03": AMP_CAMPAIGN, "camp02": TRAVERSAL_CAMPAIGN}
    )
    # the traversal campaign has no control group: its id lands in a note of the report
    broadcast = (campaigns["campaign_id"] == TRAVERSAL_CAMPAIGN) & (
        campaigns["offer_id"] == "control"
    )
    campaigns.loc[broadcast, "offer_id"] = "disc15"
    customers = data.customers.copy()
    customers["tier"] = customers["tier"].replace({"gold": XSS_TIER})
    customers["region"] = customers["region"].replace({"south": XSS_REGION})
    return {
        "transactions": data.transactions,
        "customers": customers,
        "offers": offers,
        "campaigns": campaigns,
    }


# -- 1. HTML report ------------------------------------------------------------------------------------
def test_cli_report_escapes_hostile_ids_and_writes_only_fixed_files(
    hostile_tables: dict[str, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, frame in hostile_tables.items():
        frame.to_csv(inputs / f"{name}.csv", index=False)
    out = tmp_path / "out"
    status = main(
        [
            "report",
            str(inputs / "transactions.csv"),
            "--customers",
            str(inputs / "customers.csv"),
            "--campaigns",
            str(inputs / "campaigns.csv"),
            "--offers",
            str(inputs / "offers.csv"),
            "--period-start",
            "2023-06-01",
            "--period-end",
            "2024-01-01",
            "--out",
            str(out),
        ]
    )
    capsys.readouterr()
    assert status == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    # tier table, campaign table (campaign and offer ids) and the broadcast campaign's note
    _assert_inert_html(
        page, n_figures=2, texts=[XSS_OFFER, XSS_TIER, AMP_CAMPAIGN, TRAVERSAL_CAMPAIGN]
    )
    # no file was written from a data-derived name, inside or outside the output folder
    assert {p.name for p in out.iterdir()} == EXPECTED_REPORT_FILES
    assert {p.name for p in tmp_path.iterdir()} == {"in", "out"}
    assert not list(tmp_path.parent.glob("etc"))


def test_write_report_escapes_hostile_fairness_labels_and_title(
    hostile_tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    tx = lml.validate_transactions(hostile_tables["transactions"])
    customers = lml.validate_customers(hostile_tables["customers"])
    attribute = "<i>reg</i>"  # a column name of the customer's file
    sensitive = customers[["region", "tier"]].rename(columns={"region": attribute})
    score = pd.Series(np.linspace(0.0, 1.0, len(customers)), index=customers.index)
    with pytest.warns(DataQualityWarning, match="could not judge the attributes '<i>reg</i>'"):
        audit = lml.fairness_report(sensitive, y_score=score)  # named in the report, escaped
    title = "Report <b>Q4</b> & co"
    path = lml.write_report(
        tx, tmp_path, customers=customers, fairness=audit, fairness_min_count=0, title=title
    )
    page = path.read_text(encoding="utf-8")
    _assert_inert_html(page, n_figures=3, texts=[XSS_TIER, XSS_REGION, attribute, title])
    assert {p.name for p in tmp_path.iterdir()} == EXPECTED_REPORT_FILES | {"fairness_by_group.png"}


def test_render_html_escapes_every_text_field() -> None:
    # what the uplift section builds from a campaign id (paragraph, figure caption) and arm table
    evil = '"><script>x</script><a href="javascript:y">&'
    frame = pd.DataFrame({evil: [evil]}, index=pd.Index([evil], name=evil))
    frame.columns.name = evil
    section = Section(
        key='k"><b',
        title=evil,
        paragraphs=(f"Campaign {evil} sent",),
        tables=(ReportTable(caption=evil, frame=frame),),
        figures=(ReportFigure(name="uplift_qini", caption=evil, png=b"\x89PNG"),),
        notes=(evil,),
    )
    page = render_html(title=evil, subtitle=evil, sections=[section])
    parser = _TagCollector()
    parser.feed(page)
    assert "script" not in parser.tags and "b" not in parser.tags
    assert all(not (v or "").startswith("javascript:") for _, v in parser.attrs)
    assert parser.tags.count("a") == 1  # the table of contents' link only


@pytest.mark.parametrize("name", ["../x", "a/b", "x.png", "", "a b"])
def test_report_figure_refuses_path_like_names(name: str) -> None:
    with pytest.raises(ConfigError, match=r"file stem"):
        ReportFigure(name=name, caption="c", png=b"")


# -- figures: labels are text, not mathtext -----------------------------------------------------------
def test_write_report_survives_dollar_group_labels(tmp_path: Path) -> None:
    audit = _fairness({"income_band": ["$25k_$50k"] * 20 + ["$50k-$75k"] * 20})
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-02-10"]),
            "amount": [10.0, 20.0, 30.0],
        }
    )
    lml.write_report(tx, tmp_path, fairness=audit, fairness_min_count=0)


def test_fairness_plot_draws_dollar_labels_literally() -> None:
    audit = _fairness({"spend $ band $": ["$50k-$75k"] * 20 + ["low"] * 20})
    fig = audit.plot()
    figure_to_png(fig)
    assert _math_texts(fig) == []


def test_qini_plot_draws_dollar_offer_ids_literally() -> None:
    rng = np.random.default_rng(0)
    arms = np.array(["control"] * 20 + ["$5 off $25"] * 20 + ["$5_off_$"] * 20)
    effects = pd.DataFrame({"$5 off $25": rng.normal(size=60), "$5_off_$": rng.normal(size=60)})
    fig = plot_uplift_curves(rng.integers(0, 2, 60), arms, effects)
    figure_to_png(fig)
    assert _math_texts(fig) == []


def test_qini_plot_legend_names_underscore_offer() -> None:
    rng = np.random.default_rng(0)
    arms = np.array(["control"] * 20 + ["_vip"] * 20 + ["disc5"] * 20)
    effects = pd.DataFrame({"_vip": rng.normal(size=60), "disc5": rng.normal(size=60)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig = plot_uplift_curves(rng.integers(0, 2, 60), arms, effects)
    legend = fig.axes[0].get_legend()
    assert sorted(t.get_text() for t in legend.get_texts()) == ["_vip", "disc5"]


def test_fairness_plot_is_png_not_svg_text() -> None:
    # no SVG is produced anywhere; a PNG of a label holding markup is just pixels
    audit = _fairness({"region": [XSS_REGION] * 20 + ["north"] * 20})
    png = figure_to_png(audit.plot())
    assert png.startswith(b"\x89PNG") and b"<svg" not in png


# -- 2. Markdown ---------------------------------------------------------------------------------------
def test_markdown_cells_escape_pipe_and_newline() -> None:
    control = pd.Series(["lo|w"] * 30 + ["hi\ngh"] * 30, name="risk_band")
    audit = _fairness({"re|gion": ["a|b"] * 30 + ["c\nd"] * 30}, control=control)
    markdown = audit.to_markdown()
    _table_rows_consistent(markdown)
    assert "| re\\|gion | a\\|b |" in markdown
    assert "| re\\|gion | c d |" in markdown


def test_markdown_cells_escape_carriage_return() -> None:
    audit = _fairness({"region": ["e\rf"] * 20 + ["g\r\nh"] * 20})
    markdown = audit.to_markdown()
    _table_rows_consistent(markdown)
    assert "\r" not in markdown


def test_markdown_headings_not_injectable_by_names() -> None:
    control = pd.Series(["low"] * 30 + ["high"] * 30, name="risk\n# Injected")
    audit = _fairness({"region\n# Also injected": ["a"] * 30 + ["b"] * 30}, control=control)
    lines = _commonmark_lines(audit.to_markdown())
    # the names may be shown (flattened), but never start a heading line of their own
    injected = [ln for ln in lines if re.match(r"#+ (Also )?[Ii]njected", ln)]
    assert injected == []


# -- 3./4. MLflow artifacts of a fairness audit: names fixed, cells as data ---------------------------
@pytest.fixture
def captured_mlflow(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Stand-ins for the mlflow logging calls of log_to_mlflow: artifact name -> content."""
    import mlflow

    logged: dict[str, object] = {}
    monkeypatch.setattr(mlflow, "active_run", lambda: object())
    monkeypatch.setattr(mlflow, "log_text", lambda text, name: logged.__setitem__(name, text))
    monkeypatch.setattr(mlflow, "log_figure", lambda fig, name: logged.__setitem__(name, fig))
    monkeypatch.setattr(mlflow, "log_metrics", lambda metrics: None)
    return logged


def test_log_to_mlflow_artifact_names_do_not_come_from_data(
    captured_mlflow: dict[str, object],
) -> None:
    audit = _fairness({"../../etc/passwd": ["../x"] * 20 + ["a/b"] * 20})
    audit.log_to_mlflow("fairness", min_count=0)
    assert set(captured_mlflow) == {
        "fairness/fairness_report.md",
        "fairness/by_group.csv",
        "fairness/summary.csv",
        "fairness/violations.csv",
        "fairness/fairness_report.json",
        "fairness/fairness_by_group.png",
    }


@pytest.mark.filterwarnings("ignore:Tight layout not applied:UserWarning")
def test_log_to_mlflow_csv_neutralises_formulas(captured_mlflow: dict[str, object]) -> None:
    formula = '=HYPERLINK("http://evil.example","x")'
    audit = _fairness({"region": [formula] * 20 + ["north"] * 20})
    audit.log_to_mlflow("fairness", min_count=0)
    by_group = pd.read_csv(
        __import__("io").StringIO(str(captured_mlflow["fairness/by_group.csv"])), dtype=str
    )
    assert not by_group["group"].str.match(r"[=+\-@\t\r]").any()


# -- 3. CSV written by the CLI -------------------------------------------------------------------------
_FORMULAS = ['=HYPERLINK("http://evil.example","x")', "@SUM(A1)", "+1+cmd|' /C calc'!A0"]


def test_csv_output_keeps_numbers_and_text_exactly(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["000123", "-12", "a,b\nc"],
            "offer_id": ["disc5", None, 'say "hi"'],
            "expected_net_value": [-0.5, 1.25, -1e-3],
        }
    )
    path = tmp_path / "scores.csv"
    write_table_atomically(frame, path)
    back = pd.read_csv(path, dtype={"customer_id": str, "offer_id": str})
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    assert back["offer_id"].fillna("<missing>").tolist() == ["disc5", "<missing>", 'say "hi"']
    assert back["expected_net_value"].tolist() == [-0.5, 1.25, -1e-3]
    parquet = tmp_path / "scores.parquet"
    write_table_atomically(frame, parquet)
    pd.testing.assert_frame_equal(
        pd.read_parquet(parquet), frame, check_dtype=False, check_exact=True
    )


def test_csv_output_neutralises_formula_text_on_request(tmp_path: Path) -> None:
    """Formula text is written as is by default (a CRM loader reads the value; the prefix would
    change it) and made inert with ``excel_safe`` / ``loyalty-ml score --excel-safe``."""
    frame = pd.DataFrame(
        {"customer_id": ["1", "2", "3"], "offer_id": _FORMULAS, "expected_net_value": [-0.5] * 3}
    )
    path = tmp_path / "scores.csv"
    write_table_atomically(frame, path)
    assert pd.read_csv(path, dtype=str)["offer_id"].tolist() == _FORMULAS
    write_table_atomically(frame, path, excel_safe=True)
    back = pd.read_csv(path, dtype=str)
    assert not back["offer_id"].str.match(r"[=+\-@\t\r]").any()
    assert back["offer_id"].tolist() == ["'" + f for f in _FORMULAS]
    assert back["expected_net_value"].tolist() == ["-0.5"] * 3  # numbers are not touched
    from loyalty_ml.cli import build_parser

    argv = ["score", "--transactions", "t.csv", "--as-of", "2024-01-01", "--output", "x.csv"]
    args = build_parser().parse_args([*argv, "--excel-safe"])
    assert args.excel_safe


# -- 5. Loading user files -----------------------------------------------------------------------------
_UNSAFE_LOADERS = re.compile(
    r"\bpickle\.loads?\(|\byaml\.(?:unsafe_)?load\(|\beval\(|\bexec\(|\bread_pickle\(|"
    r"allow_pickle\s*=\s*True|\bjoblib\.load\(|\bmarshal\.loads?\(|\bshelve\.|\bdill\.|"
    r"\bcloudpickle\.load"
)


def test_no_unsafe_deserialisation_outside_the_mlflow_model_artifact() -> None:
    hits = {
        str(path.relative_to(PACKAGE)): _UNSAFE_LOADERS.findall(path.read_text(encoding="utf-8"))
        for path in PACKAGE.rglob("*.py")
    }
    hits = {name: found for name, found in hits.items() if found}
    # the policy pickle the pyfunc wrapper loads from MLflow's own model artifacts
    assert hits == {"tracking/pyfunc.py": ["pickle.load("]}


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".npy", ".yaml", ".json", ".xlsx"])
def test_cli_reads_only_csv_and_parquet(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"tx{suffix}"
    path.write_bytes(b"\x80\x04K\x01.")  # a pickle of 1
    with pytest.raises(SchemaError, match=r"unknown format"):
        read_table(path, table="transactions")


def test_train_config_is_json_only(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("churn_params: !!python/object/apply:os.system ['echo x']\n")
    with pytest.raises(ConfigError, match=r"Cannot read the training config"):
        read_train_config(path)
    path.write_text('{"churn_params": "__import__(\'os\')"}')
    assert read_train_config(path) == {"churn_params": "__import__('os')"}  # text, not code


# -- 6. Log forging ------------------------------------------------------------------------------------
def test_error_message_does_not_echo_raw_control_characters(
    hostile_tables: dict[str, pd.DataFrame],
) -> None:
    campaigns = hostile_tables["campaigns"].copy()
    campaigns.loc[campaigns.index[0], "offer_id"] = "evil\nloyalty-ml: ok\x1b[2J"
    with pytest.raises(SchemaError, match=r"not in the offers catalog") as caught:
        lml.validate_campaigns(campaigns, offers=hostile_tables["offers"])
    message = str(caught.value)
    assert "\x1b" not in message and "\n" not in message
    assert "evil\\nloyalty-ml: ok\\x1b[2J" in message  # quoted with repr
