"""Result objects that hold tables show a one-line summary in a notebook, not every table in full."""

from __future__ import annotations

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
