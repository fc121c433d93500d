"""The programme report: sections as the inputs allow, self-contained HTML, aggregates only, atomic."""

from __future__ import annotations

import base64
import html
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import loyalty_ml as lml
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    LeakageError,
    NotFittedError,
)
from loyalty_ml.reporting import REPORT_FILE, ReportFigure, Section, render_html, write_report
from loyalty_ml.reporting import html as report_html
from loyalty_ml.reporting.sections import fairness_section, kpi_section, uplift_section
from loyalty_ml.schema import columns as C

ALL_SECTIONS = ("kpis", "cohorts", "churn", "uplift", "fairness")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _tiny_transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: ["a", "a", "b", "c", "a", "c"],
            C.TIMESTAMP: pd.to_datetime(
                ["2024-01-05", "2024-02-03", "2024-02-10", "2024-03-01", "2024-03-20", "2024-03-30"]
            ),
            C.AMOUNT: [10.0, 20.0, 30.0, 40.0, 5.0, 15.0],
        }
    )


def _sections(page: str) -> list[str]:
    return re.findall(r'<section id="([a-z0-9_]+)">', page)


def _data_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


# -- a simulated programme with every input (built once) -----------------------------------------------
@dataclass
class Programme:
    tx: pd.DataFrame
    customers: pd.DataFrame
    campaigns: pd.DataFrame
    offers: pd.DataFrame
    churn: Any
    X: pd.DataFrame
    y: pd.Series
    uplift: Any
    fairness: Any


def _relabel(frame: pd.DataFrame) -> pd.DataFrame:
    # Recognisable ids, so that a leak of any id into the report can be searched for as text.
    return frame.assign(
        **{C.CUSTOMER_ID: frame[C.CUSTOMER_ID].map(lambda i: f"custid{i:05d}").astype("str")}
    )


@pytest.fixture(scope="module")
def programme() -> Programme:
    from loyalty_ml.datasets import simulate
    from loyalty_ml.evaluation.fairness import fairness_report
    from loyalty_ml.features import build_features, churn_labels, training_table
    from loyalty_ml.features.responses import campaign_responses
    from loyalty_ml.models.churn import ChurnModel
    from loyalty_ml.models.uplift import UpliftModel

    data = simulate(n_customers=1_500, start="2023-01-01", end="2024-12-31", seed=4)
    tx, customers, campaigns = (
        _relabel(data.transactions),
        _relabel(data.customers),
        _relabel(data.campaigns),
    )
    X_train, y_train = training_table(
        tx, cutoffs=["2024-01-01", "2024-03-01", "2024-05-01"], horizon_days=90
    )
    churn = ChurnModel(n_estimators=40, random_state=0, n_jobs=1).fit(X_train, y_train)
    X = build_features(tx, as_of="2024-09-01")
    y = churn_labels(tx, as_of="2024-09-01", horizon_days=90)

    # uplift on all campaigns but the last, which the report evaluates
    last_id = campaigns[C.CAMPAIGN_ID].max()
    earlier = campaigns.loc[campaigns[C.CAMPAIGN_ID] != last_id]
    parts = []
    for _, rows in earlier.groupby(C.CAMPAIGN_ID):
        features = build_features(tx, as_of=rows[C.SENT_AT].iloc[0], campaigns=campaigns)
        parts.append(features.reindex(rows[C.CUSTOMER_ID]).set_axis(rows.index))
    X_exp = pd.concat(parts).loc[earlier.index]
    known = X_exp.notna().any(axis=1).to_numpy()
    y_exp = campaign_responses(earlier, tx, window_days=30)
    uplift = UpliftModel(n_estimators=30, random_state=0, n_jobs=1).fit(
        X_exp.loc[known], y_exp.loc[known], treatment=earlier.loc[known, C.OFFER_ID]
    )

    p = pd.Series(churn.predict_proba(X)[:, 1], index=X.index)
    sensitive = customers.set_index(C.CUSTOMER_ID).loc[X.index, [C.AGE_BAND, C.GENDER]]
    fairness = fairness_report(sensitive, y_true=y.loc[X.index], y_score=p, threshold=0.6)
    return Programme(tx, customers, campaigns, data.offers, churn, X, y, uplift, fairness)


@pytest.fixture(scope="module")
def full_report(programme: Programme, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from loyalty_ml.schema import validate_customers

    p = programme
    return write_report(
        p.tx,
        tmp_path_factory.mktemp("full"),
        customers=validate_customers(p.customers),  # indexed by customer_id, as validated
        campaigns=p.campaigns,
        offers=p.offers,
        churn=p.churn,
        X=p.X,
        y=p.y,
        uplift=p.uplift,
        fairness=p.fairness,
        title="Test programme",
    )


def test_full_report_has_every_section_and_its_pngs(full_report: Path) -> None:
    page = full_report.read_text(encoding="utf-8")
    assert full_report.name == REPORT_FILE
    assert _sections(page) == list(ALL_SECTIONS)
    pngs = sorted(full_report.parent.glob("*.png"))
    assert {p.stem for p in pngs} == {
        "cohort_retention",
        "retention_curve",
        "churn_calibration",
        "churn_lift",
        "churn_drivers",
        "uplift_qini",
        "fairness_by_group",
    }
    # every PNG on disk is embedded in the page, byte for byte
    embedded = _data_pngs(page)
    assert sorted(embedded) == sorted(p.read_bytes() for p in pngs)
    assert all(image.startswith(PNG_MAGIC) for image in embedded)


def test_full_report_is_self_contained(full_report: Path) -> None:
    page = full_report.read_text(encoding="utf-8").lower()
    for forbidden in ('src="http', "src='http", "<script", "<link", "@import", "url("):
        assert forbidden not in page


def test_full_report_holds_no_customer_ids(full_report: Path, programme: Programme) -> None:
    page = full_report.read_text(encoding="utf-8")
    assert "custid" not in page
    # the campaigns evaluated in the report are named, the customers in them are not
    assert programme.campaigns[C.CAMPAIGN_ID].max() in page


def test_full_report_churn_and_uplift_figures(full_report: Path, programme: Programme) -> None:
    from loyalty_ml.evaluation.churn_metrics import evaluate_churn

    page = full_report.read_text(encoding="utf-8")
    p = programme.churn.predict_proba(programme.X)[:, 1]
    evaluation = evaluate_churn(programme.y.loc[programme.X.index].to_numpy(), p)
    assert f"ROC AUC {evaluation.roc_auc:.3f}" in page
    for arm in programme.uplift.arms_:
        assert f"<th>{arm}</th>" in page


def test_minimal_report_has_kpis_and_cohorts_only(tmp_path: Path) -> None:
    path = write_report(_tiny_transactions(), tmp_path / "out")
    page = path.read_text(encoding="utf-8")
    assert _sections(page) == ["kpis", "cohorts"]
    # every cohort of the tiny table is under 10 customers: no heatmap of their own months
    assert {p.name for p in path.parent.iterdir()} == {REPORT_FILE, "retention_curve.png"}
    assert len(_data_pngs(page)) == 1
    assert "every cohort is, so there is no heatmap" in page
    # default period: the 90 days up to the day after the last transaction
    assert "KPI period [2024-01-01, 2024-03-31)" in page


def test_sections_follow_the_inputs_which_are_not_mutated(
    programme: Programme, tmp_path: Path
) -> None:
    p = programme
    with_fairness = write_report(p.tx, tmp_path / "f", fairness=p.fairness)
    assert _sections(with_fairness.read_text(encoding="utf-8")) == ["kpis", "cohorts", "fairness"]
    before = [frame.copy() for frame in (p.tx, p.X, p.y, p.customers)]
    with_churn = write_report(
        p.tx, tmp_path / "c", customers=p.customers, churn=p.churn, X=p.X, y=p.y
    )
    assert _sections(with_churn.read_text(encoding="utf-8")) == ["kpis", "cohorts", "churn"]
    pd.testing.assert_frame_equal(before[0], p.tx)
    pd.testing.assert_frame_equal(before[1], p.X)
    pd.testing.assert_series_equal(before[2], p.y)
    pd.testing.assert_frame_equal(before[3], p.customers)


def test_kpi_section_matches_summary_exactly() -> None:
    from loyalty_ml.kpis import summary

    tx = _tiny_transactions()
    start, end = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01")
    section = kpi_section(
        tx, period_start=start, period_end=end, previous_start=pd.Timestamp("2024-02-01")
    )
    kpis = section.tables[0].frame["value"]
    pd.testing.assert_series_equal(
        kpis,
        summary(tx, period_start=start, period_end=end, previous_start="2024-02-01"),
        check_names=False,
    )
    # by hand: March has a (5.0) and c (40.0, 15.0): 2 customers, 3 orders, revenue 60
    assert kpis[["active_customers", "orders", "revenue", "aov"]].tolist() == [2.0, 3.0, 60.0, 20.0]
    # February's customers a and b: only a is back in March
    assert kpis["retention_rate"] == 0.5


def test_campaign_results_shown_when_their_window_closes_in_the_period(
    programme: Programme,
) -> None:
    p = programme
    last = p.campaigns.loc[p.campaigns[C.CAMPAIGN_ID] == p.campaigns[C.CAMPAIGN_ID].max()]
    closes = pd.Timestamp(last[C.SENT_AT].max()) + pd.Timedelta(days=30)
    kwargs = dict(campaigns=p.campaigns, offers=p.offers, window_days=30)
    shown = kpi_section(
        p.tx, period_start=closes - pd.Timedelta(days=5), period_end=closes, **kwargs
    )
    table = shown.tables[-1].frame
    assert set(table.index.get_level_values(C.CAMPAIGN_ID)) == {last[C.CAMPAIGN_ID].iloc[0]}
    assert set(table.index.get_level_values(C.OFFER_ID)) == set(last[C.OFFER_ID]) - {C.CONTROL}
    assert (table["n_control"] == (last[C.OFFER_ID] == C.CONTROL).sum()).all()
    # one day too early: that campaign's window has not closed yet
    early = kpi_section(
        p.tx,
        period_start=closes - pd.Timedelta(days=5),
        period_end=closes - pd.Timedelta(days=1),
        **kwargs,
    )
    assert all("Campaigns" not in t.caption for t in early.tables)
    assert any("No campaign" in note for note in early.notes)


def test_campaign_ids_written_another_way_are_noted(programme: Programme) -> None:
    """A probe's CLI run: campaign ids as text with leading zeros against integer transaction
    ids; stderr warned, but the HTML showed conversion 0 and an ROI of -1 without a word."""
    p = programme
    last = p.campaigns.loc[p.campaigns[C.CAMPAIGN_ID] == p.campaigns[C.CAMPAIGN_ID].max()]
    closes = pd.Timestamp(last[C.SENT_AT].max()) + pd.Timedelta(days=30)
    kwargs = dict(offers=p.offers, window_days=30)
    period = dict(period_start=closes - pd.Timedelta(days=5), period_end=closes)
    fine = kpi_section(p.tx, campaigns=p.campaigns, **period, **kwargs)
    assert not any("name a customer found" in note for note in fine.notes)
    # the CRM's own prefix on every id (the probe's ids lost or gained leading zeros)
    padded = p.campaigns.assign(**{C.CUSTOMER_ID: "crm-" + p.campaigns[C.CUSTOMER_ID].astype(str)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library's own warnings say it on stderr
        off = kpi_section(p.tx, campaigns=padded, **period, **kwargs)
    assert any("Only 0 of the" in note and "ids alike" in note for note in off.notes)


# -- atomic writes -------------------------------------------------------------------------------------
def test_rewrite_replaces_the_report_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_report(_tiny_transactions(), tmp_path, title="first")
    path = write_report(_tiny_transactions(), tmp_path, title="second")
    assert "<h1>second</h1>" in path.read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert path.stat().st_mode & 0o777 == 0o644


def test_failed_write_keeps_the_old_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_report(_tiny_transactions(), tmp_path, title="old")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(report_html.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(_tiny_transactions(), tmp_path, title="new")
    assert "<h1>old</h1>" in path.read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- escaping ------------------------------------------------------------------------------------------
def test_title_and_text_are_escaped(tmp_path: Path) -> None:
    path = write_report(_tiny_transactions(), tmp_path, title="<script>alert(1)</script> & co")
    page = path.read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.text(max_size=30), min_size=1, max_size=4))
def test_render_html_escapes_any_text(texts: list[str]) -> None:
    sections = [
        Section(key=f"s{i}", title=text, paragraphs=(text,), notes=(text,))
        for i, text in enumerate(texts)
    ]
    page = render_html(title=texts[0], subtitle=texts[-1], sections=sections)
    assert _sections(page) == [s.key for s in sections]
    for text in texts:
        assert f"<p>{html.escape(text)}</p>" in page
    # user text never opens a tag, whatever it holds
    assert page.count("<section") == len(sections)
    assert page.count("<p>") == len(sections) + 1


# -- errors --------------------------------------------------------------------------------------------
def test_churn_needs_model_features_and_labels(programme: Programme, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"churn, X and y together; \['y'\] missing"):
        write_report(programme.tx, tmp_path, churn=programme.churn, X=programme.X)
    with pytest.raises(ConfigError, match=r"\['churn'\] missing"):
        write_report(programme.tx, tmp_path, X=programme.X, y=programme.y)


def test_churn_needs_a_classifier_and_aligned_labels(programme: Programme, tmp_path: Path) -> None:
    p = programme
    with pytest.raises(ConfigError, match="churn must be a fitted ChurnModel"):
        write_report(p.tx, tmp_path, churn=object(), X=p.X, y=p.y)
    with pytest.raises(DataError, match=r"X has .* rows but y has"):
        write_report(p.tx, tmp_path, churn=p.churn, X=p.X, y=p.y.iloc[:10])
    shifted = p.y.set_axis([f"other{i}" for i in range(len(p.y))])
    with pytest.raises(DataError, match="y is indexed by ids that X lacks"):
        write_report(p.tx, tmp_path, churn=p.churn, X=p.X, y=shifted)


def test_uplift_needs_campaigns_and_a_closed_campaign(programme: Programme, tmp_path: Path) -> None:
    p = programme
    with pytest.raises(ConfigError, match="uplift section needs the campaigns"):
        write_report(p.tx, tmp_path, uplift=p.uplift)
    with pytest.raises(ConfigError, match="uplift must be a fitted UpliftModel"):
        write_report(p.tx, tmp_path, uplift=object(), campaigns=p.campaigns)
    # once "no control rows ... or no arm the model knows", of a model never fitted
    with pytest.raises(NotFittedError, match="the uplift model is not fitted"):
        write_report(p.tx, tmp_path, uplift=lml.UpliftModel(), campaigns=p.campaigns)
    with pytest.raises(ConfigError, match="uplift_campaign_id='nope' is not a campaign"):
        write_report(
            p.tx, tmp_path, uplift=p.uplift, campaigns=p.campaigns, uplift_campaign_id="nope"
        )
    with pytest.raises(DataError, match="No campaign has a 30-day response window"):
        write_report(
            p.tx,
            tmp_path,
            uplift=p.uplift,
            campaigns=p.campaigns,
            period_start="2023-01-01",
            period_end="2023-03-01",
        )


def _relabel_arm(campaigns: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    last = campaigns[C.CAMPAIGN_ID] == campaigns[C.CAMPAIGN_ID].max()
    arms = campaigns[C.OFFER_ID].mask(last & (campaigns[C.OFFER_ID] == old), new)
    return campaigns.assign(**{C.OFFER_ID: arms})


def test_uplift_section_leaves_out_arms_the_model_does_not_know(programme: Programme) -> None:
    p = programme
    end = pd.Timestamp("2025-01-01")
    campaigns = _relabel_arm(p.campaigns, "disc5", "brand_new")
    section = uplift_section(p.uplift, p.tx, campaigns=campaigns, as_of=end)
    metrics = section.tables[1].frame
    assert "brand_new" not in metrics.index
    assert "disc5" not in metrics.index  # not sent in that campaign any more
    assert set(metrics.index) == set(p.uplift.arms_) - {"disc5"}
    assert any("left out: brand_new" in note for note in section.notes)

    # named: the automatic choice passes over a campaign without control rows
    no_control = _relabel_arm(p.campaigns, C.CONTROL, "brand_new")
    last = p.campaigns[C.CAMPAIGN_ID].max()
    with pytest.raises(DataError, match="has no control rows"):
        uplift_section(p.uplift, p.tx, campaigns=no_control, as_of=end, campaign_id=last)


def test_uplift_section_counts_the_campaign_rows_it_left_out(programme: Programme) -> None:
    """Notebook 3's report read "1,145 customers with purchase history" for a campaign of 1,219
    rows: the 74 rows of customers without profiling consent were left out in silence."""
    p = programme
    end = pd.Timestamp("2025-01-01")
    section = uplift_section(
        p.uplift, p.tx, campaigns=p.campaigns, as_of=end, customers=p.customers
    )
    last = p.campaigns.loc[p.campaigns[C.CAMPAIGN_ID] == p.campaigns[C.CAMPAIGN_ID].max()]
    profiled = p.customers.loc[p.customers[C.CONSENT_PROFILING].astype(bool), C.CUSTOMER_ID]
    refused = int((~last[C.CUSTOMER_ID].isin(profiled)).sum())
    assert refused > 0
    scored = int(section.tables[0].frame["rows"].sum())
    text = section.paragraphs[0]
    assert f": {scored:,} customers scored with the features known at the send" in text
    assert (
        f"(of its {len(last):,} rows, left out: {refused:,} of customers without profiling" in text
    )
    # every row scored: nothing to say
    everyone = uplift_section(p.uplift, p.tx, campaigns=p.campaigns, as_of=end)
    assert "left out" not in everyone.paragraphs[0]


class _KnowsD5:
    """An uplift model of the report's interface that knows one offer, d5 (effects in row order)."""

    control_ = C.CONTROL
    arms_ = ("d5",)

    def predict_effects(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"d5": np.linspace(0.0, 1.0, len(X))}, index=X.index)


def _experiment_and_a_night() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Transactions of 80 customers who all bought on 2024-02-10; an experiment ``exp`` sent on
    2024-03-01 to 1-60 (30 d5, 30 control); and the night of 2024-03-05 as nightly_sends writes
    it: d5 sent to 61-72 and withheld from the holdout's 73-74, d9 sent to 75-80 and withheld from
    nobody. Its per-offer campaigns are newer than the experiment and too small to draw a curve
    (2 control rows; none)."""
    tx = pd.DataFrame(
        {
            C.CUSTOMER_ID: range(1, 81),
            C.TIMESTAMP: pd.Timestamp("2024-02-10 09:00"),
            C.AMOUNT: 10.0,
        }
    )
    experiment = pd.DataFrame(
        {
            C.CAMPAIGN_ID: "exp",
            C.CUSTOMER_ID: range(1, 61),
            C.OFFER_ID: ["d5", C.CONTROL] * 30,
            C.SENT_AT: pd.Timestamp("2024-03-01 09:00"),
            C.REDEEMED: False,
        }
    )
    decisions = pd.DataFrame(
        {
            C.OFFER_ID: ["d5"] * 12 + [None] * 2 + ["d9"] * 6,
            "holdout_offer_id": [None] * 12 + ["d5"] * 2 + [None] * 6,
        },
        index=pd.Index(range(61, 81), name=C.CUSTOMER_ID),
    )
    night = lml.nightly_sends(decisions, sent_at="2024-03-05 09:00")
    return tx, experiment, night


def test_uplift_is_judged_on_the_experiment_not_on_a_later_nights_small_campaigns() -> None:
    tx, experiment, night = _experiment_and_a_night()
    assert sorted(night[C.CAMPAIGN_ID].unique()) == [
        "nightly-2024-03-05:d5",
        "nightly-2024-03-05:d9",
    ]
    end = pd.Timestamp("2024-04-10")  # every window closed
    for campaigns in (pd.concat([experiment, night]), pd.concat([night, experiment])):
        section = uplift_section(_KnowsD5(), tx, campaigns=campaigns, as_of=end)
        assert section.paragraphs[0].startswith("Campaign exp sent on 2024-03-01: 60 customers")
        assert [f.name for f in section.figures] == ["uplift_qini"]


def test_of_campaigns_sent_together_the_largest_is_judged_whatever_the_row_order() -> None:
    tx, experiment, _ = _experiment_and_a_night()
    # the same time as a bigger campaign: by size, not by which comes last in the table
    smaller = experiment.iloc[:20].assign(**{C.CAMPAIGN_ID: "exp_small"})
    bigger = experiment.iloc[20:].assign(**{C.CAMPAIGN_ID: "exp_big"})
    for campaigns in (pd.concat([smaller, bigger]), pd.concat([bigger, smaller])):
        section = uplift_section(
            _KnowsD5(), tx, campaigns=campaigns, as_of=pd.Timestamp("2024-04-10")
        )
        assert section.paragraphs[0].startswith("Campaign exp_big sent on 2024-03-01")


def _stated_until(observation_end: object, transactions: pd.DataFrame) -> pd.Timestamp:
    """Where a stated observation_end leaves ``transactions`` complete until, as
    campaign_responses and measure_campaign read it (schema._data_end.stated_end)."""
    from loyalty_ml.schema._data_end import series_dates_only, stated_end

    dates_only = series_dates_only(transactions[C.TIMESTAMP])
    return stated_end(pd.Timestamp(observation_end), dates_only=dates_only)


@pytest.mark.parametrize("dated", [True, False], ids=["dates_only", "timed"])
def test_the_report_states_its_data_complete_up_to_its_cut_off_not_through_its_day(
    dated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report measures campaigns whose window closed by its cut-off (period_end, as_of), and
    states the data complete until that instant. On dates without times a stated midnight names a
    day observed to its end, so stating the cut-off itself claimed the cut-off's day, which the
    report does not cover: a window closing a day after it would pass the check. The report states
    the day before there (stated_before), which reads back as the cut-off."""
    import loyalty_ml.features.responses as responses
    import loyalty_ml.kpis as kpis

    tx, experiment, _ = _experiment_and_a_night()
    if dated:
        tx = tx.assign(**{C.TIMESTAMP: tx[C.TIMESTAMP].dt.normalize()})
        experiment = experiment.assign(**{C.SENT_AT: pd.Timestamp("2024-03-01")})
    # a purchase on the last day of the window: the data reach the end of the period
    tx = pd.concat(
        [tx, tx.iloc[:1].assign(**{C.TIMESTAMP: pd.Timestamp("2024-03-30 00:00")})],
        ignore_index=True,
    )
    closes = pd.Timestamp(experiment[C.SENT_AT].max()) + pd.Timedelta(days=29)
    seen: dict[str, tuple[object, pd.DataFrame]] = {}

    def spy(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen[name] = (kwargs["observation_end"], args[1])
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(kpis, "measure_campaign", spy("kpis", kpis.measure_campaign))
    monkeypatch.setattr(
        responses, "campaign_responses", spy("uplift", responses.campaign_responses)
    )
    offers = pd.DataFrame({C.OFFER_ID: ["d5"], C.COST_PER_REDEMPTION: [1.0]})
    section = kpi_section(
        tx,
        period_start=closes - pd.Timedelta(days=5),
        period_end=closes,
        campaigns=experiment,
        offers=offers,
        window_days=29,
    )
    assert any("Campaigns whose results" in t.caption for t in section.tables)
    uplift_section(_KnowsD5(), tx, campaigns=experiment, as_of=closes, window_days=29)
    for name in ("kpis", "uplift"):
        stated, transactions = seen[name]
        assert _stated_until(stated, transactions) == closes, name
    # a window closing a day after the cut-off is still refused by what the report states
    stated, transactions = seen["uplift"]
    later = experiment.assign(**{C.SENT_AT: experiment[C.SENT_AT] + pd.Timedelta(days=1)})
    with pytest.raises(LeakageError, match="ends after the data"):
        responses.campaign_responses(later, transactions, window_days=29, observation_end=stated)


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_without_a_campaign_large_enough_the_uplift_section_only_says_why(tmp_path: Path) -> None:
    tx, _, night = _experiment_and_a_night()
    end = pd.Timestamp("2024-04-10")
    section = uplift_section(_KnowsD5(), tx, campaigns=night, as_of=end)
    assert section.tables == () and section.figures == ()
    assert section.paragraphs[0].startswith("The uplift model is not evaluated: no campaign whose")
    assert "10 or more control rows" in section.paragraphs[0]
    page = write_report(
        tx, tmp_path, period_end="2024-04-10", campaigns=night, uplift=_KnowsD5()
    ).read_text()
    assert "uplift" in _sections(page) and "The uplift model is not evaluated" in page
    # a campaign named is judged, or refused with the reason
    with pytest.raises(DataError, match="nightly-2024-03-05:d9 has no control rows"):
        uplift_section(
            _KnowsD5(), tx, campaigns=night, as_of=end, campaign_id="nightly-2024-03-05:d9"
        )
    named = uplift_section(
        _KnowsD5(), tx, campaigns=night, as_of=end, campaign_id="nightly-2024-03-05:d5"
    )
    assert named.tables[0].frame["rows"].to_dict() == {"d5": 12, C.CONTROL: 2}


def test_the_fairness_section_names_the_attributes_it_could_not_judge() -> None:
    ids = pd.Index(range(300), name=C.CUSTOMER_ID)
    sensitive = pd.DataFrame({"gender": ["F", "M"] * 150, "age": np.arange(300) % 60}, index=ids)
    with pytest.warns(DataQualityWarning, match="could not judge the attribute 'age'"):
        report = lml.fairness_report(sensitive, y_score=pd.Series(0.3, index=ids))
    paragraphs = fairness_section(report).paragraphs
    assert paragraphs[0].startswith("The audit passed.")
    assert paragraphs[1].startswith(
        "Groups under 10 customers are pooled into one (small groups) row per attribute"
    )
    assert "(age: 60 group(s))" in paragraphs[1]  # every age of 5 customers
    assert paragraphs[2:] == (
        "Not judged: age (fewer than two groups of 100+ customers, so no gap in them could fail).",
    )


def test_fairness_must_be_a_report(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fairness must be a FairnessReport"):
        write_report(_tiny_transactions(), tmp_path, fairness={"passed": True})


@pytest.mark.parametrize("window", [0, -3, 2.5, True])
def test_bad_response_window(window: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'response_window_days' parameter of write_report"):
        write_report(_tiny_transactions(), tmp_path, response_window_days=window)


def test_bad_period_and_empty_data(tmp_path: Path) -> None:
    tx = _tiny_transactions()
    with pytest.raises(ConfigError, match="period_end must be after period_start"):
        write_report(tx, tmp_path, period_start="2024-03-01", period_end="2024-02-01")
    with pytest.raises(ConfigError, match=r"'period_start' parameter must be a date.*Got 'soon'"):
        write_report(tx, tmp_path, period_start="soon")
    with pytest.raises(DataError, match="transactions is empty"):
        write_report(tx.iloc[:0], tmp_path)
    assert not list(tmp_path.iterdir())


def test_report_parts_validate_their_arguments() -> None:
    with pytest.raises(ConfigError, match="'name' of ReportFigure must be a non-empty file stem"):
        ReportFigure(name="../evil", caption="x", png=b"")
    with pytest.raises(ConfigError, match="section keys must be unique"):
        render_html(
            title="t",
            subtitle="s",
            sections=[Section(key="a", title="A"), Section(key="a", title="B")],
        )


def test_figure_to_png_renders_without_pyplot() -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.subplots().plot(np.arange(3))
    assert report_html.figure_to_png(fig).startswith(PNG_MAGIC)


def _three_lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "amount": [10.0, 20.0, 30.0],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-02-10"]),
        }
    )


def _tiers(path: Path) -> str:
    text = re.sub(r"<[^>]+>", " ", path.read_text())
    start = text.find("Members by tier")
    return " ".join(text[start : start + 300].split()[:12])


@pytest.mark.parametrize(
    "signup",
    [
        pd.to_datetime(["2023-01-01", "2023-06-01"]).tz_localize("UTC"),
        ["2023-01-01T00:00:00+01:00", "2023-07-01T00:00:00+02:00"],
    ],
)
def test_zoned_signup_dates_are_read_not_a_comparison_error(tmp_path: Path, signup: Any) -> None:
    """A tz-aware signup_date raised 'Invalid comparison', text with mixed offsets 'Mixed
    timezones detected', in the tier table."""
    customers = pd.DataFrame({"customer_id": [1, 2], "tier": ["gold", "basic"]})
    path = write_report(_three_lines(), tmp_path, customers=customers.assign(signup_date=signup))
    assert _tiers(path) == _tiers(write_report(_three_lines(), tmp_path / "b", customers=customers))


def test_report_inputs_are_refused_before_any_section(tmp_path: Path) -> None:
    """Each of these once failed with a raw error, most after every section had been built: a
    member listed twice counted twice in the tiers, silently."""
    tx = _three_lines()
    twice = pd.DataFrame({"customer_id": [1, 2, 1, 2], "tier": ["gold", "basic"] * 2})
    with pytest.raises(DataError, match=r"customers lists customers more than once \[1, 2\]"):
        write_report(tx, tmp_path, customers=twice)
    with pytest.raises(ConfigError, match="'title' parameter of write_report must be a str"):
        write_report(tx, tmp_path, title=None)  # type: ignore[arg-type]
    a_file = tmp_path / "report.txt"
    a_file.write_text("")
    with pytest.raises(ConfigError, match="Got an existing file"):
        write_report(tx, a_file)
    with pytest.raises(ConfigError, match="must be an int from 1 to 3,650"):
        write_report(tx, tmp_path, response_window_days=10**6)


def test_churn_labels_of_the_wrong_shape_or_repeated_ids_are_data_errors() -> None:
    """A scalar y raised "object of type 'int' has no len()", repeated ids a pandas KeyError."""
    from loyalty_ml.reporting.sections import check_churn_inputs

    class Model:
        def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
            return np.full((len(X), 2), 0.5)

    X = pd.DataFrame({"f": [1.0, 2.0]}, index=pd.Index([1, 2], name="customer_id"))
    with pytest.raises(DataError, match="one churn label per row of X"):
        check_churn_inputs(Model(), X, 1)
    with pytest.raises(DataError, match="lists some ids more than once"):
        check_churn_inputs(Model(), X, pd.Series([0, 1], index=[1, 1]))
    assert check_churn_inputs(Model(), X, pd.Series([1, 0], index=[2, 1])).tolist() == [0, 1]


def test_report_periods_count_calendar_days_on_a_zone_aware_clock() -> None:
    """Session 42: the default end was the last day's midnight + 24 hours (a 25-hour day lost its
    last hour) and the previous period started an hour off across a daylight-saving change."""
    from loyalty_ml.reporting.report import report_period

    zone = "Europe/Berlin"
    stamps = pd.to_datetime(["2023-12-31 23:30", "2024-09-01 12:00", "2024-10-27 23:30"])
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": stamps.tz_localize(zone),
            "amount": [10.0, 20.0, 40.0],
        }
    )
    start, end, previous = report_period(tx, None, None)
    assert end == pd.Timestamp("2024-10-28 00:00", tz=zone)  # after the 25-hour 27 October
    assert start == pd.Timestamp("2024-07-30 00:00", tz=zone)
    assert previous == pd.Timestamp("2024-05-01 00:00", tz=zone)
    start, end, previous = report_period(tx, "2024-04-01", "2024-07-01")
    assert previous == pd.Timestamp("2024-01-01 00:00", tz=zone)  # not 2023-12-31 23:00


@pytest.mark.filterwarnings(
    "ignore:.*days past the last transaction:loyalty_ml.exceptions.DataQualityWarning"
)
def test_campaigns_of_a_period_past_the_data_warn_of_windows_cut_short() -> None:
    """Session 42: the report told measure_campaign the data reached period_end, so a campaign
    whose window closed after the data stopped was measured on missing purchases in silence."""
    from loyalty_ml.exceptions import DataQualityWarning
    from loyalty_ml.reporting.sections import kpi_section

    rng = np.random.default_rng(0)
    ids = np.arange(200)
    campaigns = pd.DataFrame(
        {
            "customer_id": ids,
            "offer_id": np.where(ids % 2, "o1", "control"),
            "sent_at": pd.Timestamp("2024-03-01"),
            "redeemed": False,
        }
    )
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 200, 600),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 75 * 24, 600), unit="h"),
            "amount": 10.0,
        }
    )
    offers = pd.DataFrame({"offer_id": ["o1"], "cost_per_redemption": [1.0]})
    with pytest.warns(DataQualityWarning, match="ending after the last transaction"):
        kpi_section(
            tx,
            period_start=pd.Timestamp("2024-03-01"),
            period_end=pd.Timestamp("2024-04-01"),
            previous_start=None,
            customers=None,
            campaigns=campaigns,
            offers=offers,
            window_days=30,
        )
