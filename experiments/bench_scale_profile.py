"""How the public functions grow with rows, customers, cutoffs, campaigns, groups and offers.

A supermarket has millions of customers and hundreds of millions of transaction lines; the other
benchmarks time a few paths at one large size. This one times many paths at three sizes each and
estimates the growth exponent ``b`` of ``seconds ~ size ** b`` between consecutive sizes (1 is
linear; above about 1.3 the path is worth reading). Axes:

- ``lines``: simulated programmes of ``--customers`` customers (about 33 lines each): validation,
  features (every family on), training tables, labels, boundaries, experiment tables, KPIs,
  privacy helpers, the HTML report;
- ``scored``: a feature table tiled to ``--scored`` customers: reason codes, trigger actions, uplift
  effects, offer plans (budget, history caps, a tiny budget), uplift metrics, fairness audits;
- one axis each for cutoffs, campaigns (of 50 customers, as a nightly trigger job sends them),
  retention-curve groups and fairness groups (with bootstrap), at a fixed number of lines.

Seconds and peak memory come from one call each. Peak MB is the peak resident size during the call
above the resident size before it (Linux with glibc: the peak is reset through
``/proc/self/clear_refs``, and freed memory is handed back before each call, so that what the
allocator kept from earlier calls does not hide new allocations);
with ``--tracemalloc`` (or where that file cannot be written) it is the peak of Python's traced
allocations, which slows Python-heavy code several-fold. The models are fitted once on the smallest
programme. Results are logged to MLflow (``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``),
experiment ``bench_scale_profile``.

Run (heavy: one at a time on shared machines)::

    flock /tmp/loyalty_heavy.lock .venv/bin/python experiments/bench_scale_profile.py
    .venv/bin/python experiments/bench_scale_profile.py --only retention knapsack --no-mlflow
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import gc
import math
import os
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pandas as pd

import loyalty_ml as lml
from loyalty_ml import kpis
from loyalty_ml.privacy import erase_customers, pseudonymise_frame

START, END = "2023-01-01", "2024-12-31"
SALT = "bench-scale-profile-salt-0123456789"


class Profile:
    """Runs and records one measurement per (path, size)."""

    def __init__(self, *, trace: bool, only: list[str]) -> None:
        self.trace = trace
        self.only = only
        self.rows: list[dict[str, Any]] = []

    def wanted(self, path: str) -> bool:
        return not self.only or any(word in path for word in self.only)

    def run(
        self,
        path: str,
        axis: str,
        size: int,
        func: Callable[..., object],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Time ``func(*args, **kwargs)`` and its peak memory; print one row of the table."""
        if not self.wanted(path):
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rss_before = _reset_peak_rss() if not self.trace else None
            if self.trace or rss_before is None:
                tracemalloc.start()
            start = time.perf_counter()
            func(*args, **kwargs)
            seconds = time.perf_counter() - start
            if tracemalloc.is_tracing():
                peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
                tracemalloc.stop()
            else:
                peak_mb = (_status_kb("VmHWM") - rss_before) / 1024  # type: ignore[operator]
        previous = [r for r in self.rows if r["path"] == path]
        growth = mem_growth = math.nan
        if previous and previous[-1]["size"] != size:
            ratio = math.log(size / previous[-1]["size"])
            growth = math.log(max(seconds, 1e-3) / max(previous[-1]["seconds"], 1e-3)) / ratio
            mem_growth = math.log(max(peak_mb, 1.0) / max(previous[-1]["peak_mb"], 1.0)) / ratio
        self.rows.append(
            {
                "path": path,
                "axis": axis,
                "size": size,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "growth": growth,
                "mem_growth": mem_growth,
            }
        )
        flag = "  <-- superlinear" if growth > 1.3 else ""
        print(
            f"{path:<42}{axis:>9}{size:>10,}{seconds:>9.2f}{peak_mb:>10.1f}"
            f"{_fmt(growth):>8}{_fmt(mem_growth):>8}{flag}",
            flush=True,
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(field)


def _libc() -> Any:
    """glibc, set so that freed arrays go back to the system (else RSS hides reused memory)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD fixed at its default: no dynamic growth
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def _reset_peak_rss() -> int | None:
    """Reset the process's peak resident size (Linux) and return the current one in kB, else None."""
    if _LIBC is None:
        return None
    gc.collect()
    _LIBC.malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return _status_kb("VmRSS")
    except OSError:
        return None


def _fmt(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def programme(n_customers: int) -> dict[str, Any]:
    """A validated simulated programme of ``n_customers`` customers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = lml.datasets.simulate(n_customers=n_customers, start=START, end=END, seed=0)
        customers = lml.validate_customers(data.customers)
        return {
            "raw": data,
            "tx": lml.validate_transactions(data.transactions),
            "campaigns": lml.validate_campaigns(data.campaigns, offers=data.offers),
            "customers": customers,
            "people": customers.reset_index(),
            "offers": data.offers,
        }


def small_campaigns(tx: pd.DataFrame, n_campaigns: int, per_campaign: int) -> pd.DataFrame:
    """``n_campaigns`` campaigns of ``per_campaign`` distinct customers each, in 2024."""
    rng = np.random.default_rng(0)
    ids = np.unique(tx.loc[tx["timestamp"] < "2024-01-01", "customer_id"].to_numpy())
    days = np.repeat(np.linspace(0, 300, n_campaigns).round(), per_campaign)
    return pd.DataFrame(
        {
            "campaign_id": np.repeat([f"c{k:04d}" for k in range(n_campaigns)], per_campaign),
            "customer_id": np.concatenate(
                [rng.choice(ids, per_campaign, replace=False) for _ in range(n_campaigns)]
            ),
            "offer_id": rng.choice(
                ["control", "disc5", "double_points"], n_campaigns * per_campaign
            ),
            "sent_at": (pd.Timestamp("2024-01-02 09:00") + pd.to_timedelta(days, unit="D")).astype(
                "datetime64[ns]"
            ),
            "redeemed": False,
        }
    )


def models(p: dict[str, Any]) -> dict[str, Any]:
    """Churn and uplift models fitted on programme ``p``, and the trigger boundaries."""
    tx, people, campaigns = p["tx"], p["people"], p["campaigns"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cutoffs = pd.date_range(end="2024-06-01", periods=3, freq="MS")
        X, y = lml.training_table(
            tx, cutoffs=cutoffs, horizon_days=90, customers=people, campaigns=campaigns
        )
        churn = lml.ChurnModel(n_estimators=300, random_state=0).fit(X, y)
        X_exp, y_exp, t_exp = lml.experiment_table(
            tx, campaigns, window_days=30, customers=people, progress=False
        )
        uplift = lml.UpliftModel(random_state=0).fit(X_exp, y_exp, treatment=t_exp)
        X_now = lml.build_features(tx, as_of="2024-12-01", customers=people, campaigns=campaigns)
        boundaries = lml.estimate_boundaries(tx, as_of="2024-12-01")
    return {"churn": churn, "uplift": uplift, "X": X_now, "boundaries": boundaries}


def lines_axis(prof: Profile, sizes: list[int], fitted: dict[str, Any]) -> None:
    for n in sizes:
        p = programme(n)
        tx, camp, people, offers, raw = p["tx"], p["campaigns"], p["people"], p["offers"], p["raw"]
        run = functools.partial(prof.run, axis="lines", size=len(tx))
        run("validate_transactions", func=lml.validate_transactions, raw=raw.transactions)
        run("validate_campaigns", func=lml.validate_campaigns, raw=raw.campaigns, offers=offers)
        run(
            "build_features (customers, campaigns)",
            func=lml.build_features,
            transactions=tx,
            as_of="2024-07-01",
            customers=people,
            campaigns=camp,
        )
        run(
            "training_table 6 cutoffs",
            func=lml.training_table,
            transactions=tx,
            cutoffs=pd.date_range(end="2024-09-01", periods=6, freq="MS"),
            horizon_days=90,
            customers=people,
            campaigns=camp,
            progress=False,
        )
        run(
            "churn_labels",
            func=lml.churn_labels,
            transactions=tx,
            as_of="2024-07-01",
            horizon_days=90,
        )
        run(
            "estimate_boundaries", func=lml.estimate_boundaries, transactions=tx, as_of="2024-07-01"
        )
        run(
            "experiment_table (simulated campaigns)",
            func=lml.experiment_table,
            transactions=tx,
            campaigns=camp,
            window_days=30,
            customers=people,
            progress=False,
        )
        run(
            "kpis.summary",
            func=kpis.summary,
            transactions=tx,
            period_start="2024-01-01",
            period_end="2024-12-31",
            previous_start="2023-01-01",
        )
        run("kpis.cohort_retention (monthly)", func=kpis.cohort_retention, transactions=tx)
        run(
            "kpis.retention_curves (5 regions)",
            func=kpis.retention_curves,
            transactions=tx,
            groups=p["customers"]["region"],
        )
        run(
            "kpis.clv_inputs",
            func=kpis.clv_inputs,
            transactions=tx,
            period_start="2024-01-01",
            period_end="2024-12-31",
        )
        run(
            "kpis.measure_campaign",
            func=kpis.measure_campaign,
            campaigns=camp,
            transactions=tx,
            offers=offers,
            window_days=30,
        )
        run("privacy.pseudonymise_frame", func=pseudonymise_frame, frame=tx, salt=SALT)
        prof.run(
            "privacy.erase_customers (10%)",
            "lines",
            len(tx),
            erase_customers,
            p["customers"].index[::10],
            transactions=tx,
            customers=people,
            campaigns=camp,
        )
        if prof.wanted("write_report"):
            X = lml.build_features(tx, as_of="2024-09-01", customers=people, campaigns=camp)
            y = lml.churn_labels(tx, as_of="2024-09-01", horizon_days=90).reindex(X.index)
            with tempfile.TemporaryDirectory() as tmp:
                run(
                    "write_report (churn, uplift)",
                    func=lml.write_report,
                    transactions=tx,
                    out_dir=tmp,
                    customers=people,
                    campaigns=camp,
                    offers=offers,
                    churn=fitted["churn"],
                    X=X,
                    y=y,
                    uplift=fitted["uplift"],
                )


def tiled(X: pd.DataFrame, n: int) -> pd.DataFrame:
    """``X`` repeated to ``n`` rows, with new customer ids."""
    out = pd.concat([X] * -(-n // len(X))).iloc[:n]
    out.index = pd.Index(np.arange(n), name="customer_id")
    return out


def scored_axis(
    prof: Profile, sizes: list[int], fitted: dict[str, Any], offers: pd.DataFrame
) -> None:
    churn, uplift = fitted["churn"], fitted["uplift"]
    catalog = lml.OfferCatalog.from_frame(offers)
    policy = lml.TriggerPolicy(boundaries=fitted["boundaries"])
    rng = np.random.default_rng(0)
    for n in sizes:
        run = functools.partial(prof.run, axis="scored", size=n)
        X = tiled(fitted["X"], n)
        p = pd.Series(churn.predict_proba(X)[:, 1], index=X.index)
        effects = uplift.predict_effects(X)
        plan = {
            "effects": effects,
            "catalog": catalog,
            "baseline": uplift.predict_baseline(X),
            "value_per_conversion": 12.0,
        }
        run("ChurnModel.explain top_k=3", func=churn.explain, X=X, top_k=3)
        run("TriggerPolicy.assign", func=policy.assign, X=X, p=p)
        run("UpliftModel.predict_effects", func=uplift.predict_effects, X=X)
        run(
            "choose_offers budget (max net value)",
            func=lml.choose_offers,
            **plan,
            budget=0.05 * n,
            strategy="max_net_value",
        )
        run(
            "choose_offers tiny budget (knapsack tail)",
            func=lml.choose_offers,
            **plan,
            budget=50.0,
            strategy="max_net_value",
        )
        history = pd.DataFrame(
            {
                "customer_id": rng.integers(0, n, 3 * n),
                "offer_id": rng.choice(list(effects.columns), 3 * n),
                "sent_at": pd.Timestamp("2024-11-01")
                + pd.to_timedelta(rng.integers(0, 20 * 86_400, 3 * n), unit="s"),
            }
        )
        run(
            "choose_offers history caps",
            func=lml.choose_offers,
            **plan,
            history=history,
            as_of="2024-11-25",
        )
        y = rng.integers(0, 2, n)
        t = rng.choice(["control", *effects.columns], n)
        run("qini_auc_score (per arm)", func=lml.qini_auc_score, y=y, t=t, score=effects)
        run(
            "policy_value (200 bootstrap)",
            func=lml.policy_value,
            y=y,
            t=t,
            assignment=rng.choice(["control", *effects.columns], n),
            n_bootstrap=200,
            random_state=0,
        )
        audit: dict[str, Any] = {
            "sensitive": pd.DataFrame(
                {
                    "age_band": rng.choice(list("abcdef"), n),
                    "region": rng.choice([f"r{i}" for i in range(5)], n),
                },
                index=X.index,
            ),
            "y_true": pd.Series(rng.integers(0, 2, n), index=X.index),
            "y_score": p,
        }
        run("fairness_report", func=lml.fairness_report, **audit)
        run(
            "fairness_report control + 10 bootstrap",
            func=lml.fairness_report,
            **audit,
            control=pd.Series(rng.choice(["x", "y", "z"], n), index=X.index, name="tier"),
            bootstrap=10,
            random_state=0,
        )


def other_axes(prof: Profile, p: dict[str, Any], args: argparse.Namespace) -> None:
    tx, offers = p["tx"], p["offers"]
    ids = p["customers"].index
    rng = np.random.default_rng(0)
    for k in args.cutoffs:
        prof.run(
            "training_table (cutoffs)",
            "cutoffs",
            k,
            lml.training_table,
            tx,
            cutoffs=pd.date_range(end="2024-09-01", periods=k, freq="W"),
            horizon_days=90,
            progress=False,
        )
    for k in args.campaigns:
        prof.run(
            "experiment_table (campaigns of 50)",
            "campaigns",
            k,
            lml.experiment_table,
            tx,
            small_campaigns(tx, k, 50),
            window_days=30,
            progress=False,
        )
    for k in args.campaigns:
        prof.run(
            f"measure_campaign by campaign (of {args.campaign_size})",
            "campaigns",
            k,
            kpis.measure_campaign,
            small_campaigns(tx, k, args.campaign_size),
            tx,
            offers,
            window_days=30,
            by=["campaign_id", "offer_id"],
        )
    for k in args.groups:
        prof.run(
            "kpis.retention_curves (groups)",
            "groups",
            k,
            kpis.retention_curves,
            tx,
            groups=pd.Series(rng.integers(0, k, len(ids)).astype(str), index=ids),
        )
    n = args.fairness_rows
    index = pd.Index(np.arange(n), name="customer_id")
    score = pd.Series(rng.uniform(size=n), index=index)
    y_true = pd.Series(rng.integers(0, 2, n), index=index)
    for k in args.groups:
        prof.run(
            "fairness_report 20 bootstrap (groups)",
            "groups",
            k,
            lml.fairness_report,
            pd.DataFrame({"store": rng.integers(0, k, n).astype(str)}, index=index),
            y_true=y_true,
            y_score=score,
            bootstrap=20,
            random_state=0,
        )


def log_to_mlflow(params: dict[str, object], table: pd.DataFrame) -> None:
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    mlflow.set_experiment("bench_scale_profile")
    with mlflow.start_run(run_name="bench_scale_profile"):
        mlflow.log_params(params)
        metrics: dict[str, float] = {}
        for row in table.itertuples(index=False):
            key = "".join(c if c.isalnum() else "_" for c in str(row.path)).strip("_")
            key = f"{key}_{row.axis}_{row.size}"
            # Profile.run records these as floats (NaN when not measured); the stubs cannot know
            seconds = cast(float, row.seconds)
            peak_mb = cast(float, row.peak_mb)
            growth = cast(float, row.growth)
            metrics[f"{key}_seconds"] = float(seconds)
            if not math.isnan(peak_mb):
                metrics[f"{key}_peak_mb"] = float(peak_mb)
            if not math.isnan(growth):
                metrics[f"{key}_growth"] = float(growth)
        mlflow.log_metrics(metrics)
        mlflow.log_text(table.to_csv(index=False), "scale_profile.csv")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers",
        type=int,
        nargs="+",
        default=[2_000, 8_000, 32_000],
        help="simulated customers of the lines axis (about 33 lines each)",
    )
    parser.add_argument(
        "--scored",
        type=int,
        nargs="+",
        default=[10_000, 40_000, 160_000],
        help="customers of the scored axis (a tiled feature table)",
    )
    parser.add_argument("--cutoffs", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--campaigns", type=int, nargs="+", default=[15, 60, 240])
    parser.add_argument("--campaign-size", type=int, default=1_000, help="sends per campaign")
    parser.add_argument("--groups", type=int, nargs="+", default=[10, 60, 360])
    parser.add_argument("--fairness-rows", type=int, default=50_000)
    parser.add_argument("--only", nargs="+", default=[], help="paths containing any of these")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="peak memory from tracemalloc (slower) instead of the peak resident size",
    )
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args(argv)

    prof = Profile(trace=args.tracemalloc, only=args.only)
    t0 = time.perf_counter()
    base = programme(min(args.customers))
    fitted = models(base)
    print(f"models fitted on {min(args.customers):,} customers in {time.perf_counter() - t0:.1f} s")
    print(
        f"{'path':<42}{'axis':>9}{'size':>10}{'seconds':>9}{'peak MB':>10}{'growth':>8}{'mem gr':>8}"
    )
    lines_axis(prof, sorted(args.customers), fitted)
    scored_axis(prof, sorted(args.scored), fitted, base["offers"])
    other_axes(prof, base, args)
    table = prof.table()
    worst = table.dropna(subset=["growth"]).sort_values("growth", ascending=False).head(8)
    print("\nSteepest growth (seconds ~ size ** growth, between consecutive sizes):")
    for row in worst.itertuples(index=False):
        print(f"  {row.path:<42} {row.axis:>9} up to {row.size:>8,}: {row.growth:.2f}")
    print(f"total {time.perf_counter() - t0:.0f} s")
    if not args.no_mlflow:
        log_to_mlflow(
            {
                "customers": ",".join(map(str, args.customers)),
                "scored": ",".join(map(str, args.scored)),
                "cutoffs": ",".join(map(str, args.cutoffs)),
                "campaigns": ",".join(map(str, args.campaigns)),
                "groups": ",".join(map(str, args.groups)),
                "fairness_rows": args.fairness_rows,
                "tracemalloc": args.tracemalloc,
                "campaign_size": args.campaign_size,
            },
            table,
        )
        print("logged to MLflow experiment 'bench_scale_profile'")


if __name__ == "__main__":
    main()
