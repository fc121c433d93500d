"""The end-to-end demo behind ``loyalty-ml demo``: simulate a programme, validate it, summarise it.

The demo is the shortest path from a fresh install to something a reader can look at: a synthetic loyalty
programme with known ground truth, the data contracts applied to it, and a small report folder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty_ml.exceptions import ConfigError, LoyaltyMLError
from loyalty_ml.schema import columns as C

__all__ = ["DemoResult", "ProgrammeSummary", "describe_programme", "run_demo"]

_SIMULATOR_MODULE = "loyalty_ml.datasets.simulator"


@dataclass(frozen=True)
class ProgrammeSummary:
    """Headline numbers of a loyalty programme's data, for a human reader.

    Shares are in [0, 1] and are NaN when the customers table lacks the consent flag.
    """

    n_customers: int
    n_transactions: int
    n_orders: int
    first_timestamp: pd.Timestamp
    last_timestamp: pd.Timestamp
    revenue: float
    consent_marketing_share: float
    consent_profiling_share: float
    n_campaigns: int
    n_campaign_contacts: int

    def to_text(self) -> str:
        """A few aligned lines, e.g. for a terminal or a markdown code block."""
        lines = [
            f"customers          {self.n_customers:>14,}",
            f"transactions       {self.n_transactions:>14,}",
            f"orders             {self.n_orders:>14,}",
            f"date range         {self.first_timestamp:%Y-%m-%d} .. {self.last_timestamp:%Y-%m-%d}",
            f"revenue            {self.revenue:>14,.2f}",
            f"consent marketing  {_share(self.consent_marketing_share):>14}",
            f"consent profiling  {_share(self.consent_profiling_share):>14}",
            f"campaigns          {self.n_campaigns:>14,}",
            f"campaign contacts  {self.n_campaign_contacts:>14,}",
        ]
        return "\n".join(lines)


def _share(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.1%}"


def describe_programme(
    transactions: pd.DataFrame,
    *,
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
) -> ProgrammeSummary:
    """Summarise canonical programme tables.

    ``n_customers`` counts customers with at least one transaction; ``n_orders`` counts distinct
    (customer_id, order_id) pairs, or rows when there is no ``order_id``; consent shares are over the
    customers table; campaigns are counted by ``campaign_id`` (or send date when it is absent).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "order_id": [10, 10, 11],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...                    "amount": [5.0, 2.5, 10.0]})
    >>> s = describe_programme(tx)
    >>> (s.n_customers, s.n_transactions, s.n_orders, s.revenue)
    (2, 3, 2, 17.5)
    """
    missing = [c for c in C.TRANSACTION_REQUIRED if c not in transactions.columns]
    if missing:
        raise ConfigError(
            f"transactions is missing the columns {missing}; it has {list(transactions.columns)}. "
            "Run validate_transactions first."
        )
    if C.ORDER_ID in transactions.columns:
        n_orders = len(transactions[[C.CUSTOMER_ID, C.ORDER_ID]].drop_duplicates())
    else:
        n_orders = len(transactions)
    consent = {
        flag: float(customers[flag].astype(bool).mean())
        if customers is not None and flag in customers.columns and len(customers)
        else float("nan")
        for flag in C.CONSENT_COLUMNS
    }
    n_campaigns = 0
    n_contacts = 0
    if campaigns is not None and len(campaigns):
        key = C.CAMPAIGN_ID if C.CAMPAIGN_ID in campaigns.columns else C.SENT_AT
        n_campaigns = int(campaigns[key].nunique())
        n_contacts = len(campaigns)
    return ProgrammeSummary(
        n_customers=int(transactions[C.CUSTOMER_ID].nunique()),
        n_transactions=len(transactions),
        n_orders=int(n_orders),
        first_timestamp=pd.Timestamp(transactions[C.TIMESTAMP].min()),
        last_timestamp=pd.Timestamp(transactions[C.TIMESTAMP].max()),
        revenue=float(transactions[C.AMOUNT].sum()),
        consent_marketing_share=consent[C.CONSENT_MARKETING],
        consent_profiling_share=consent[C.CONSENT_PROFILING],
        n_campaigns=n_campaigns,
        n_campaign_contacts=n_contacts,
    )


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: the programme summary, the report folder and its files."""

    summary: ProgrammeSummary
    report_dir: Path
    files: list[Path] = field(default_factory=list)


def run_demo(
    *,
    n_customers: int = 3_000,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    seed: int = 0,
    report_dir: str | Path = "loyalty_ml_demo",
) -> DemoResult:
    """Simulate a programme, validate its tables and write a short report folder.

    Parameters
    ----------
    n_customers, start, end, seed
        Passed to :func:`loyalty_ml.datasets.simulate`.
    report_dir : path
        Folder for the report (created if needed; files in it are overwritten).

    Returns
    -------
    DemoResult
    """
    if n_customers < 1:
        raise ConfigError(f"n_customers must be an int >= 1. Got {n_customers!r} instead.")
    simulate = _load_simulator()
    from loyalty_ml.schema import (
        validate_campaigns,
        validate_customers,
        validate_offers,
        validate_transactions,
    )

    data = simulate(n_customers=n_customers, start=start, end=end, seed=seed)
    tx, cleaning = validate_transactions(data.transactions, return_report=True)
    customers = validate_customers(data.customers)
    offers = validate_offers(data.offers)
    campaigns = validate_campaigns(data.campaigns, offers=data.offers)
    summary = describe_programme(tx, customers=customers, campaigns=campaigns)

    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = out / "summary.md"
    report.write_text(
        "# loyalty_ml demo\n\n"
        f"Simulated programme: {n_customers:,} customers, {start} .. {end}, seed {seed}.\n\n"
        "## Programme\n\n```\n" + summary.to_text() + "\n```\n\n"
        f"## Data contracts\n\n```\n{cleaning}\n```\n\n"
        f"Offers in the catalog: {len(offers)}.\n",
        encoding="utf-8",
    )
    return DemoResult(summary=summary, report_dir=out, files=[report])


def _load_simulator() -> Callable[..., Any]:
    # The simulator is developed alongside this module; say so plainly when it is not installed yet.

    try:
        module = importlib.import_module(_SIMULATOR_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != _SIMULATOR_MODULE:
            raise
        raise LoyaltyMLError(
            f"The demo needs the loyalty simulator ({_SIMULATOR_MODULE}), which is not part of this "
            "installation yet. Update loyalty_ml to a version that includes it."
        ) from exc
    simulate: Callable[..., Any] = module.simulate
    return simulate
