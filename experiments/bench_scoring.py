"""Benchmark of ``score_customers``: 1,000,000 customers / 10,000,000 transaction lines.

Target (issue 7): <= 3 minutes end to end and <= 8 GB peak memory.

What is measured
----------------
1. A policy model (churn + triggers + uplift + offer catalog) is trained on a small simulated programme
   and registered in a throw-away MLflow store (embedded SQLite in a temporary folder).
2. A large population is made by tiling a simulated programme of ``--base-customers`` customers with
   shifted customer ids (customers, campaigns and transactions alike) and keeping each order with the
   probability that gives about ``--lines`` transaction lines: realistic rows, at any scale.
3. ``score_customers`` runs on it exactly as the nightly job would (features as of the day after the
   data ends, the registered champion, batches, drift, a logged scoring run). Its wall time is measured
   alone; the peak resident memory of the process (data included) is read from ``getrusage``.

Run (heavy: one at a time on shared machines)::

    flock /tmp/loyalty_heavy.lock .venv/bin/python experiments/bench_scoring.py
    .venv/bin/python experiments/bench_scoring.py --customers 20000 --lines 200000   # quick check
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty_ml.datasets import simulate
from loyalty_ml.schema import columns as C
from loyalty_ml.tracking.scoring import score_customers
from loyalty_ml.tracking.train import train_and_register

END = "2024-12-31"
AS_OF = "2025-01-01"


def tile(base: object, *, n_customers: int, n_lines: int, seed: int) -> tuple[pd.DataFrame, ...]:
    """Customers, campaigns and transactions of ``n_customers`` by repeating ``base`` with new ids."""
    rng = np.random.default_rng(seed)
    tx0 = base.transactions  # type: ignore[attr-defined]
    cu0 = base.customers  # type: ignore[attr-defined]
    ca0 = base.campaigns  # type: ignore[attr-defined]
    n_base = len(cu0)
    copies = -(-n_customers // n_base)
    lines_per_copy = len(tx0) * n_customers / n_base
    keep_share = min(1.0, n_lines / lines_per_copy)
    step = int(cu0[C.CUSTOMER_ID].max()) + 1
    orders = tx0[C.ORDER_ID].to_numpy()
    unique_orders = np.unique(orders)
    # every customer keeps their first order, so thinning lines never removes a customer
    first_orders = tx0.groupby(C.CUSTOMER_ID, sort=False)[C.ORDER_ID].min().to_numpy()
    tx_parts, cu_parts, ca_parts = [], [], []
    for k in range(copies):
        keep_orders = unique_orders[rng.random(len(unique_orders)) < keep_share]
        keep_orders = np.union1d(keep_orders, first_orders)
        tx = tx0.loc[np.isin(orders, keep_orders)]
        tx = tx.assign(
            customer_id=tx[C.CUSTOMER_ID].to_numpy() + k * step,
            order_id=tx[C.ORDER_ID].to_numpy() + k * (int(unique_orders[-1]) + 1),
        )
        tx_parts.append(tx)
        cu_parts.append(cu0.assign(customer_id=cu0[C.CUSTOMER_ID].to_numpy() + k * step))
        ca_parts.append(ca0.assign(customer_id=ca0[C.CUSTOMER_ID].to_numpy() + k * step))
    customers = pd.concat(cu_parts, ignore_index=True).iloc[:n_customers]
    limit = customers[C.CUSTOMER_ID].max()
    transactions = pd.concat(tx_parts, ignore_index=True)
    transactions = transactions.loc[transactions[C.CUSTOMER_ID].to_numpy() <= limit]
    transactions = transactions.sort_values(C.TIMESTAMP, kind="stable", ignore_index=True)
    campaigns = pd.concat(ca_parts, ignore_index=True)
    campaigns = campaigns.loc[campaigns[C.CUSTOMER_ID].to_numpy() <= limit]
    return customers, campaigns, transactions


def peak_gb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--base-customers", type=int, default=50_000)
    parser.add_argument("--train-customers", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reasons",
        choices=("actioned", "all", "none"),
        default="actioned",
        help="who gets TreeSHAP reason codes (the dominant cost)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{Path(tmp, 'bench.db').as_posix()}"
        import os

        os.chdir(tmp)  # the embedded store keeps its artifacts in the working folder
        t0 = time.perf_counter()
        small = simulate(n_customers=args.train_customers, end=END, seed=args.seed)
        trained = train_and_register(
            small.transactions,
            as_of=AS_OF,
            customers=small.customers,
            campaigns=small.campaigns,
            offers=small.offers,
            tracking_uri=uri,
            random_state=args.seed,
        )
        t_train = time.perf_counter() - t0

        t0 = time.perf_counter()
        base = simulate(n_customers=args.base_customers, end=END, seed=args.seed + 1)
        customers, campaigns, transactions = tile(
            base, n_customers=args.customers, n_lines=args.lines, seed=args.seed
        )
        del base
        t_data = time.perf_counter() - t0
        mem_data = peak_gb()

        t0 = time.perf_counter()
        scores = score_customers(
            transactions,
            as_of=AS_OF,
            customers=customers,
            campaigns=campaigns,
            tracking_uri=uri,
            batch_size=args.batch_size,
            reasons=args.reasons,
        )
        t_score = time.perf_counter() - t0
        mem_peak = peak_gb()

    rows = [
        ("customers", f"{len(customers):,}"),
        ("transaction lines", f"{len(transactions):,}"),
        ("campaign rows", f"{len(campaigns):,}"),
        ("rows scored", f"{len(scores):,} ({int((scores['status'] == 'scored').sum()):,} scored)"),
        ("train + register (5k customers)", f"{t_train:.1f} s"),
        ("build the large data", f"{t_data:.1f} s"),
        ("actioned customers (reasons)", f"{int((scores['action'] != 'none').sum()):,}"),
        (f"score_customers (reasons={args.reasons})", f"{t_score:.1f} s   (target <= 180 s)"),
        ("peak RSS after building data", f"{mem_data:.2f} GB"),
        ("peak RSS after scoring", f"{mem_peak:.2f} GB   (target <= 8 GB)"),
        ("backtest ROC AUC of the model", f"{trained.metrics['backtest_roc_auc']:.3f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    ok = t_score <= 180 and mem_peak <= 8
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
