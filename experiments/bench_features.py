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

``--hm-rows`` (or ``--hm-only``) also times, in CPU seconds (``time.process_time``, every thread of
the subprocess; the wall seconds of a machine whose cores other jobs share say more about the
others), the stages a user of an H&M-shaped export pays (README, "A fashion retailer's export"):
counting equal rows into a quantity, ``validate_transactions`` and ``build_features`` at one
cutoff, each run twice, on a synthetic stand-in of its shape at each size, and the growth exponent
``b`` of ``cpu ~ lines ** b`` between consecutive sizes.

Run heavy benchmarks one at a time::

    flock /tmp/loyalty_heavy.lock .venv/bin/python experiments/bench_features.py
    .venv/bin/python experiments/bench_features.py --sizes 1000000 --no-mlflow   # quick look
    .venv/bin/python experiments/bench_features.py --hm-only   # H&M's shape, 1.6M-6.3M rows

Targets: 10M rows / 1M customers in <= 60 s and <= 8 GB, and within 5x of DuckDB computing just the
core RFM aggregates on the same data (measured beside it when duckdb is installed); 12 cut-offs over
2M rows in <= 120 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


#: The stand-in's export rows per customer id, and its first day (H&M's runs 2018-09-20 to
#: 2020-09-22); a customer's visits fall on random days, with an article repeated on about 14% of
#: the rows as H&M's two-of-one-article rows are.
HM_ROWS_PER_CUSTOMER = 10.2
HM_START = pd.Timestamp("2018-09-20")
HM_DAYS = 733
HM_AS_OF = "2020-06-24"


def hm_shaped(n_rows: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stand-in for H&M's ``transactions_train.csv`` as ``read_csv`` reads it, and its articles.

    One row per item bought: ``t_dat`` (date text), ``customer_id`` (64 hexadecimal characters),
    ``article_id`` (int), ``price`` (about 0.03) and ``sales_channel_id`` (1 or 2), in date order;
    visits of 1-10 items (2.2 on average) by customers whose visit rates are skewed. The articles
    table has the ``product_type_name`` of each of 100,000 articles.
    """
    rng = np.random.default_rng(seed)
    n_customers = max(int(n_rows / HM_ROWS_PER_CUSTOMER), 1)
    ids = np.frombuffer(rng.bytes(32 * n_customers).hex().encode(), dtype="S64").astype(str)
    n_articles = 100_000
    article_ids = 100_000_000 + rng.choice(900_000_000, n_articles, replace=False)
    prices = rng.gamma(3.0, 0.01, n_articles).round(6)
    items = np.minimum(rng.geometric(0.45, size=n_rows), 10)
    n_visits = int(np.searchsorted(np.cumsum(items), n_rows)) + 1
    items = items[:n_visits]
    items[-1] -= int(items.sum()) - n_rows
    weights = rng.gamma(0.8, 1.0, n_customers)
    visit_customer = rng.choice(n_customers, size=n_visits, p=weights / weights.sum())
    visit_day = np.sort(rng.integers(0, HM_DAYS, n_visits))  # the export is in date order
    visit_channel = rng.choice([1, 2], n_visits, p=[0.3, 0.7])
    row_visit = np.repeat(np.arange(n_visits), items)
    # a quarter of the rows after the first of a visit repeat the row before (two of one article)
    repeat = np.r_[False, row_visit[1:] == row_visit[:-1]] & (rng.random(n_rows) < 0.25)
    source = np.maximum.accumulate(np.where(repeat, 0, np.arange(n_rows)))
    article = rng.integers(0, n_articles, n_rows)[source]
    days = pd.date_range(HM_START, periods=HM_DAYS, freq="D").strftime("%Y-%m-%d").to_numpy()
    raw = pd.DataFrame(
        {
            "t_dat": pd.Series(days[visit_day[row_visit]], dtype="str"),
            "customer_id": pd.Series(ids[visit_customer[row_visit]], dtype="str"),
            "article_id": article_ids[article].astype("int64"),
            "price": prices[article],
            "sales_channel_id": visit_channel[row_visit].astype("int64"),
        }
    )
    types = np.array([f"type_{i:03d}" for i in range(130)])
    articles = pd.DataFrame(
        {
            "article_id": article_ids.astype("int64"),
            "product_type_name": pd.Series(types[rng.integers(0, 130, n_articles)], dtype="str"),
        }
    )
    return raw, articles


def hm_count_lines(raw: pd.DataFrame, articles: pd.DataFrame) -> pd.DataFrame:
    """The README's steps for H&M's export: equal rows counted into a quantity, then amount,
    channel names and the articles' product type."""
    counts = raw.groupby(list(raw.columns), sort=False, dropna=False).size()
    lines = pd.DataFrame(counts.rename("quantity").reset_index())
    lines["amount"] = lines["price"] * lines["quantity"]
    lines["channel"] = lines["sales_channel_id"].map({1: "store", 2: "online"})
    return lines.merge(articles, on="article_id", how="left")


def _timed(run: Any, repeat: int) -> tuple[Any, list[float], list[float]]:
    """``run()``'s value and the CPU and wall seconds of each of ``repeat`` runs."""
    import warnings

    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the stand-in's gaps and shares are not news
            value = run()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return value, cpu, wall


def hm_worker(n_rows: int, repeat: int) -> dict[str, object]:
    """CPU and wall seconds of each stage on the H&M-shaped stand-in, ``repeat`` runs each."""
    import loyalty_ml as lml

    raw, articles = hm_shaped(n_rows)
    columns = lml.ColumnMap(
        timestamp="t_dat", product_id="article_id", category="product_type_name"
    )
    result: dict[str, object] = {"export_rows": n_rows}
    lines, *result["count_lines"] = _timed(lambda: hm_count_lines(raw, articles), repeat)
    tx, *result["validate"] = _timed(
        lambda: lml.validate_transactions(lines, columns=columns), repeat
    )
    X, *result["build_features"] = _timed(lambda: lml.build_features(tx, as_of=HM_AS_OF), repeat)
    result["lines"] = len(lines)
    result["customers"] = int(tx["customer_id"].nunique())
    result["feature_rows"], result["features"] = X.shape
    result["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return result


def hm_table(results: list[dict[str, Any]]) -> dict[str, float]:
    """Print the H&M-shaped stages (least CPU seconds of the runs, wall in brackets) and the growth
    exponents between consecutive sizes; return them as metrics."""
    stages = ("count_lines", "validate", "build_features")
    print("\nH&M-shaped export: CPU seconds, least of the runs (wall seconds of that run)")
    print(
        f"{'export rows':>12}{'lines':>11}{'customers':>11}"
        + "".join(f"{s:>20}" for s in stages)
        + f"{'peak GB':>9}"
    )
    metrics: dict[str, float] = {}
    previous: dict[str, Any] | None = None
    for r in results:
        cells = []
        for stage in stages:
            cpu, wall = r[stage]
            best = int(np.argmin(cpu))
            cells.append(f"{cpu[best]:>11.1f} ({wall[best]:>5.1f})")
            key = f"hm_{stage}_{r['lines'] / 1e6:.1f}M".replace(".", "_")
            metrics[f"{key}_cpu_seconds"] = float(cpu[best])
            metrics[f"{key}_wall_seconds"] = float(wall[best])
        print(
            f"{r['export_rows']:>12,}{r['lines']:>11,}{r['customers']:>11,}"
            + "".join(f"{c:>20}" for c in cells)
            + f"{r['peak_gb']:>9.2f}"
        )
        if previous is not None:
            ratio = math.log(r["lines"] / previous["lines"])
            growth = [math.log(min(r[s][0]) / min(previous[s][0])) / ratio for s in stages]
            print(f"{'growth b':>34}" + "".join(f"{b:>20.2f}" for b in growth))
            for stage, b in zip(stages, growth, strict=True):
                metrics[f"hm_{stage}_growth_to_{r['lines'] / 1e6:.1f}M".replace(".", "_")] = b
        previous = r
    return metrics


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


def measure(kind: str, n_rows: int, *extra: str) -> dict[str, object]:
    """Run :func:`worker` in a fresh interpreter (its peak memory is its own maximum RSS)."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(n_rows), *extra],
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
    parser.add_argument(
        "--hm-rows",
        type=int,
        nargs="*",
        default=[],
        help="export rows of the H&M-shaped stand-in to time validation and features on",
    )
    parser.add_argument(
        "--hm-only",
        action="store_true",
        help="only the H&M-shaped stages (at 1.6M, 3.2M and 6.3M export rows unless --hm-rows)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each H&M-shaped stage")
    parser.add_argument("--worker", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, n_rows = args.worker[0], int(args.worker[1])
        if kind == "hm":
            print(json.dumps(hm_worker(n_rows, int(args.worker[2]))))
        else:
            print(json.dumps(worker(kind, n_rows)))
        return
    hm_rows = args.hm_rows or ([1_600_000, 3_200_000, 6_300_000] if args.hm_only else [])
    if args.hm_only:
        hm = [measure("hm", n, str(args.repeat)) for n in sorted(hm_rows)]
        hm_metrics = hm_table(hm)
        if not args.no_mlflow:
            log_to_mlflow(
                {"hm_rows": ",".join(map(str, hm_rows)), "repeat": args.repeat}, hm_metrics
            )
            print("logged to MLflow experiment 'bench_features'")
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
    if hm_rows:
        metrics.update(hm_table([measure("hm", n, str(args.repeat)) for n in sorted(hm_rows)]))
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
