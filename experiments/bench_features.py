"""Benchmark of build_features and training_table on synthetic transactions (issue 3 targets).

Each size runs in its own subprocess, so the peak memory reported is that run's maximum resident set
size (``resource.getrusage(RUSAGE_SELF)`` in the subprocess), data generation included; the seconds
are those of ``build_features`` (or ``training_table``) alone. Prints a table (the largest size also
with rows in time order; with order ids, a customer's lines of one day forming one order; and with
order ids, 20,000 product ids, a customers table and 2M campaign rows, every family on), then
times ``training_table`` with 12 monthly cut-offs over 2M rows, then reads Online Retail II from
``../shared/data`` when present and prints the boundaries found and the feature table's shape.
Results are logged to MLflow (``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``), experiment
``bench_features``.

Run heavy benchmarks one at a time::

    flock /tmp/loyalty_heavy.lock .venv/bin/python experiments/bench_features.py
    .venv/bin/python experiments/bench_features.py --sizes 1000000 --no-mlflow   # quick look

Targets: 10M rows / 1M customers in <= 60 s and <= 8 GB, and within 5x of DuckDB computing just the
core RFM aggregates on the same data (measured beside it when duckdb is installed); 12 cut-offs over
2M rows in <= 120 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = (
    ROOT.parent / "shared" / "data" / "online_retail_ii" / "online_retail_ii_2009_2010.parquet"
)
START = pd.Timestamp("2023-01-01")
DAYS = 730


def synthetic(n_rows: int, *, seed: int = 0) -> pd.DataFrame:
    """About 10 transactions per customer over two years, with every optional column."""
    rng = np.random.default_rng(seed)
    n_customers = max(n_rows // 10, 1)
    # customers differ in how often they buy: a skewed share of rows per customer
    weights = rng.gamma(0.8, 1.0, n_customers)
    customer = rng.choice(n_customers, size=n_rows, p=weights / weights.sum())
    seconds = rng.integers(0, DAYS * 86_400, n_rows)
    categories = [f"cat_{i:02d}" for i in range(20)]
    channels = ["app", "store", "web", "delivery"]
    return pd.DataFrame(
        {
            "customer_id": customer.astype("int64"),
            "timestamp": START + pd.to_timedelta(seconds, unit="s"),
            "amount": rng.gamma(2.0, 15.0, n_rows).round(2),
            "quantity": rng.integers(1, 5, n_rows).astype("float64"),
            # pandas takes any list-like categories; pandas-stubs types only an Index
            "category": pd.Categorical.from_codes(rng.integers(0, 20, n_rows), categories),  # type: ignore[call-overload]
            "channel": pd.Categorical.from_codes(rng.integers(0, 4, n_rows), channels),  # type: ignore[call-overload]
            "store_id": rng.integers(0, 200, n_rows),
            "discount": np.where(rng.random(n_rows) < 0.2, rng.gamma(1.0, 3.0, n_rows), 0.0).round(
                2
            ),
            "margin": rng.normal(8.0, 4.0, n_rows).round(2),
        }
    )


def duckdb_rfm(tx: pd.DataFrame, as_of: pd.Timestamp) -> tuple[int, int]:
    """The reference of issue 3: DuckDB computing just the core RFM aggregates per customer.

    Recency, tenure, purchase days and spend before ``as_of``, read straight from the pandas frame
    (DuckDB scans it in place) and returned as a pandas frame, as a user of DuckDB would.
    """
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {os.cpu_count() or 1}")
    out = con.execute(
        """
        SELECT customer_id,
               date_diff('second', max(timestamp), $as_of) / 86400.0 AS recency_days,
               date_diff('second', min(timestamp), $as_of) / 86400.0 AS tenure_days,
               count(DISTINCT date_trunc('day', timestamp)) AS n_purchase_days,
               sum(amount) AS spend
        FROM tx
        WHERE timestamp < $as_of
        GROUP BY customer_id
        """,
        {"as_of": as_of.to_pydatetime()},
    ).df()
    return len(out), out.shape[1] - 1


def _customers_and_campaigns(tx: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A customers table (signup date, tier) and 2M campaign rows (20% redeemed) for ``tx``."""
    rng = np.random.default_rng(2)
    ids = np.unique(tx["customer_id"].to_numpy())
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": START - pd.to_timedelta(rng.integers(0, 1000, len(ids)), unit="D"),
            "tier": pd.Categorical(rng.choice(["basic", "silver", "gold"], len(ids))),
        }
    )
    n = 2_000_000
    sent = START + pd.to_timedelta(rng.integers(0, DAYS * 86_400, n), unit="s")
    redeemed = sent + pd.to_timedelta(rng.integers(3_600, 7 * 86_400, n), unit="s")
    campaigns = pd.DataFrame(
        {
            "customer_id": rng.choice(ids, n),
            "offer_id": rng.choice(["control", "coupon", "points"], n),
            "sent_at": sent,
            "redeemed_at": redeemed.where(rng.random(n) < 0.2),
        }
    )
    return customers, campaigns


def worker(kind: str, n_rows: int) -> dict[str, object]:
    """One measurement, run in a subprocess; returns what the parent prints."""
    from loyalty_ml.features import build_features, training_table

    tx = synthetic(n_rows)
    if kind == "features_sorted":
        # what validate_transactions hands over: rows in time order
        tx = tx.sort_values("timestamp", kind="stable", ignore_index=True)
    customers = campaigns = None
    if kind in ("features_orders", "features_full"):
        # order ids, as most real data has: a customer's lines of one day form one order
        day = tx["timestamp"].dt.floor("D")
        tx["order_id"] = pd.factorize(pd.MultiIndex.from_arrays([tx["customer_id"], day]))[0]
    if kind == "features_full":
        customers, campaigns = _customers_and_campaigns(tx)
        tx["product_id"] = np.random.default_rng(1).integers(0, 20_000, len(tx))
    as_of = START + pd.Timedelta(days=DAYS)
    t0 = time.perf_counter()
    if kind == "duckdb":
        rows, n_features = duckdb_rfm(tx, as_of)
    elif kind.startswith("features"):
        X = build_features(tx, as_of=as_of, customers=customers, campaigns=campaigns)
        rows, n_features = len(X), X.shape[1]
    else:
        cutoffs = pd.date_range(START + pd.Timedelta(days=300), periods=12, freq="MS")
        X, _ = training_table(tx, cutoffs=list(cutoffs), horizon_days=90, progress=False)
        rows, n_features = len(X), X.shape[1]
    seconds = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux
    return {
        "seconds": seconds,
        "rows": rows,
        "features": n_features,
        "transactions": n_rows,
        "peak_gb": peak_gb,
    }


def measure(kind: str, n_rows: int) -> dict[str, object]:
    """Run :func:`worker` in a fresh interpreter (its peak memory is its own maximum RSS)."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(n_rows)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def online_retail() -> dict[str, object] | None:
    """Boundaries and feature shape on Online Retail II, or None when the file is absent."""
    if not ONLINE_RETAIL.exists():
        print(f"Online Retail II not found at {ONLINE_RETAIL}: skipped")
        return None
    from loyalty_ml.datasets import load_online_retail_ii
    from loyalty_ml.features import build_features, estimate_boundaries

    tx = load_online_retail_ii(ONLINE_RETAIL)
    t0 = time.perf_counter()
    bounds = estimate_boundaries(tx)
    as_of = tx["timestamp"].max().normalize() + pd.Timedelta(days=1)
    X = build_features(tx, as_of=as_of)
    seconds = time.perf_counter() - t0
    result: dict[str, object] = {
        "transactions": len(tx),
        "sleep_days": bounds.sleep_days,
        "churn_days": bounds.churn_days,
        "first_repeat_orders": bounds.first_repeat_orders,
        "loyalty_orders": bounds.loyalty_orders,
        "feature_rows": X.shape[0],
        "feature_columns": X.shape[1],
        "seconds": seconds,
    }
    print("\nOnline Retail II (2009-2010):")
    for key, value in result.items():
        print(f"  {key:>20}: {value}")
    return result


def _have_duckdb() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        print("duckdb is not installed (pip install -e '.[bench]'): DuckDB reference skipped")
        return False
    return True


def log_to_mlflow(params: dict[str, object], metrics: dict[str, float]) -> None:
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    mlflow.set_experiment("bench_features")
    with mlflow.start_run(run_name="bench_features"):
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--training-rows", type=int, default=2_000_000)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument(
        "--no-duckdb", action="store_true", help="skip the DuckDB reference (needs duckdb)"
    )
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return

    print(
        f"{'task':<26}{'transactions':>13}{'seconds':>9}{'peak GB':>9}{'rows':>11}{'features':>9}"
    )
    metrics: dict[str, float] = {}
    with_duckdb = not args.no_duckdb and _have_duckdb()
    jobs = [
        job
        for n in sorted(args.sizes)
        for job in ([("duckdb", n)] if with_duckdb else []) + [("features", n)]
    ]
    jobs.append(("features_sorted", max(args.sizes)))
    jobs.append(("features_orders", max(args.sizes)))
    jobs.append(("features_full", max(args.sizes)))
    jobs.append(("training_12", args.training_rows))
    labels = {
        "duckdb": "DuckDB core RFM {m}M",
        "features": "build_features {m}M",
        "features_sorted": "  same, rows in time order",
        "features_orders": "  same, with order ids",
        "features_full": "  every family on",
        "training_12": "training_table 12 cutoffs",
    }
    for kind, n in jobs:
        r = measure("training" if kind == "training_12" else kind, n)
        label = labels[kind].format(m=f"{n / 1e6:g}")
        print(
            f"{label:<26}{r['transactions']:>13,}{r['seconds']:>9.1f}{r['peak_gb']:>9.2f}"
            f"{r['rows']:>11,}{r['features']:>9}"
        )
        key = f"{kind}_{n // 1_000_000}M"
        metrics[f"{key}_seconds"] = float(r["seconds"])  # type: ignore[arg-type]
        metrics[f"{key}_peak_gb"] = float(r["peak_gb"])  # type: ignore[arg-type]
        if kind.startswith("features") and f"duckdb_{n // 1_000_000}M_seconds" in metrics:
            ratio = metrics[f"{key}_seconds"] / metrics[f"duckdb_{n // 1_000_000}M_seconds"]
            metrics[f"{key}_vs_duckdb"] = ratio
            print(f"{'':<26}{'':>13}{ratio:>8.1f}x DuckDB (target <= 5x)")
    retail = online_retail()
    if retail is not None:
        for key in ("sleep_days", "churn_days", "feature_rows", "feature_columns", "seconds"):
            metrics[f"online_retail_{key}"] = float(retail[key])  # type: ignore[arg-type]
    if not args.no_mlflow:
        log_to_mlflow(
            {"sizes": ",".join(map(str, args.sizes)), "training_rows": args.training_rows},
            metrics,
        )
        print("logged to MLflow experiment 'bench_features'")


if __name__ == "__main__":
    main()
