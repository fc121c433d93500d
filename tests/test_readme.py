"""The README's walk-through runs as written, so that the first code a newcomer copies never rots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    match = re.search(r"```python\n(.*?)```", text[start:], flags=re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


@pytest.mark.filterwarnings("ignore::loyalty_ml.tracking.drift.DriftWarning")
def test_the_whole_flow_runs_on_the_simulator() -> None:
    import loyalty_ml as lml

    data = lml.datasets.simulate(n_customers=1500, start="2023-01-01", end="2024-12-31", seed=0)
    namespace: dict[str, object] = {
        "lml": lml,
        "pd": __import__("pandas"),
        "data": data,
        "tx": lml.validate_transactions(data.transactions),
        "campaigns": lml.validate_campaigns(data.campaigns, offers=data.offers),
        "offers": data.offers,
    }
    exec(_block_after("From transactions to decisions"), namespace)
    plan, audit = namespace["plan"], namespace["audit"]
    assert plan["expected_cost"].sum() <= 5_000  # type: ignore[index]
    assert set(audit.by_group.index.get_level_values("attribute")) == {  # type: ignore[attr-defined]
        "age_band",
        "income_band",
    }
