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
    setup = _block_after("## Using it")
    assert "n_customers=10_000" in setup
    namespace: dict[str, object] = {}
    exec(setup.replace("n_customers=10_000", "n_customers=1500"), namespace)  # the same, smaller
    exec(_block_after("From transactions to decisions"), namespace)
    plan, audit = namespace["plan"], namespace["audit"]
    assert plan["expected_cost"].sum() <= 150  # type: ignore[index]
    assert set(audit.by_group.index.get_level_values("attribute")) == {  # type: ignore[attr-defined]
        "age_band",
        "income_band",
    }


def test_the_own_data_block_runs_on_an_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    import loyalty_ml as lml

    pd.DataFrame(
        {
            "Invoice": ["A1", "C1", "A2"],
            "StockCode": ["p1", "p1", "p2"],
            "Quantity": [2, -2, 1],
            "InvoiceDate": ["2024-01-05 10:00", "2024-01-06 11:00", "2024-01-07 12:00"],
            "Price": [5.0, 5.0, 5.0],
            "Customer ID": [1, 1, 2],
        }
    ).to_csv(tmp_path / "transactions.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("Your own data goes through"), namespace)
    assert namespace["own_tx"]["customer_id"].tolist() == [1, 2]  # type: ignore[index]
    assert namespace["own_tx"]["amount"].tolist() == [10.0, 5.0]  # type: ignore[index]
    assert namespace["report"].removed("cancellation") == 1  # type: ignore[attr-defined]
