"""Result objects that hold tables show a one-line summary in a notebook, not every table in full."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml


def test_simulation_and_boundaries_reprs_summarise_their_tables() -> None:
    data = lml.datasets.simulate(200, seed=0)
    boundaries = lml.estimate_boundaries(data.transactions, as_of="2024-06-30", min_at_risk=5)
    for obj, scalars in (
        (data, ("response_window_days=30",)),
        (boundaries, (f"sleep_days={boundaries.sleep_days:g}", "sleep_level=0.75")),
    ):
        text = repr(obj)
        assert "\n" not in text and len(text) < 500, text
        assert text.startswith(type(obj).__name__ + "(")
        assert "rows x" in text
        for scalar in scalars:
            assert scalar in text


def test_fairness_report_repr_is_short_and_notebooks_render_its_markdown() -> None:
    data = lml.datasets.simulate(300, seed=0)
    people = lml.validate_customers(data.customers)
    rng = np.random.default_rng(0)
    scores = pd.Series(rng.uniform(size=len(people)), index=people.index)
    with pytest.warns(lml.DataQualityWarning, match="could not judge the attribute 'age_band'"):
        report = lml.fairness_report(people[["age_band"]], y_score=scores)  # 300: too few to judge
    text = repr(report)
    assert "\n" not in text and text.startswith("FairnessReport(by_group=<DataFrame:"), text
    # the verdict, and that it says nothing about an attribute it could not judge
    assert text.endswith("passed=True, unjudged_attributes=['age_band'])"), text
    assert report._repr_markdown_() == report.to_markdown()


def test_consent_split_repr_shows_counts_not_customer_ids() -> None:
    people = pd.DataFrame(
        {
            "customer_id": [910001, 910002],
            "consent_profiling": [True, False],
            "consent_marketing": [False, False],
        }
    )
    text = repr(lml.privacy.split_by_consent(people))
    assert text.startswith("ConsentSplit(profiling_allowed=<Index: 1 values>"), text
    assert "910001" not in text and "910002" not in text
