"""How the whole training job, ``train_and_register``, grows with the number of customers.

``bench_scale_profile`` times public paths one by one; this one times the weekly/monthly training
job end to end on simulated programmes of growing size (validated as the command line does), into a
fresh embedded MLflow store (sqlite in a temporary folder), and splits its wall time into stages by
wrapping the functions the job calls. Each stage's seconds are *exclusive*: a wrapped call inside
another (``ChurnModel.predict_proba`` inside the backtest plan, say) counts to its own stage only.
``other`` is the job's time outside every wrapped call (MLflow run set-up, parameters, tags; at
the first size also the first imports of matplotlib and MLflow's store). The
growth exponent ``b`` of ``seconds ~ customers ** b`` is given between consecutive sizes (1 is
linear).

Stages: ``validation`` (validate_transactions/customers/campaigns, before the job, as the command
line does it, and the job's own table checks and consent filter), ``training_table`` (features and
labels at every cutoff), ``churn_fit`` (the backtest and registered churn fits with early stopping
and calibration), ``churn_predict``, ``backtest_eval``, ``latest_features`` (every customer at the
training date: drift reference, segments, input example), ``drift_profile``, ``boundaries``,
``segments`` (the trigger policy's reference), ``experiment_table``, ``uplift_fit`` (backtest and
registered uplift fits, cost folds, re-centring), ``uplift_other`` (the rest of the offer model:
balance checks, Qini), ``backtest_plan`` (the policy's decisions for the backtest customers),
``fairness``, ``input_hash``, ``plots`` (calibration, lift, SHAP summary on a 2,000-row sample,
boundaries, cohorts), ``register`` (pyfunc save, registration, promotion), ``cleaning_log``.

Results are logged to MLflow (``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``), experiment
``bench_train_scale``. ``--profile DIR`` also writes one cProfile file per size.

Run (heavy: one at a time on shared machines)::

    OMP_WAIT_POLICY=PASSIVE flock /tmp/loyalty_heavy.lock .venv/bin/python \
        experiments/bench_train_scale.py --profile /tmp/train_profiles
    .venv/bin/python experiments/bench_train_scale.py --customers 5000 10000 --no-mlflow
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import itertools
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

import loyalty_ml as lml

START, END, AS_OF = "2023-01-01", "2024-12-31", "2025-01-01"


class StageClock:
    """Exclusive wall and CPU seconds per stage of nested wrapped calls.

    CPU seconds are the process's (every thread's, LightGBM's included): on a shared machine they
    move less with the other processes' load than wall seconds do.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._stack: list[list[float]] = []  # [wall start, cpu start, nested wall, nested cpu]

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [time.perf_counter(), time.process_time(), 0.0, 0.0]
            self._stack.append(frame)
            try:
                return func(*args, **kwargs)
            finally:
                self._stack.pop()
                wall = time.perf_counter() - frame[0]
                cpu = time.process_time() - frame[1]
                self.add(stage, wall - frame[2], cpu - frame[3])
                if self._stack:
                    self._stack[-1][2] += wall
                    self._stack[-1][3] += cpu

        return timed

    def add(self, stage: str, seconds: float, cpu: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
        self.cpu[stage] = self.cpu.get(stage, 0.0) + cpu


#: (module, attribute, stage): the functions the job calls, looked up where it looks them up.
TARGETS = [
    ("loyalty_ml.tracking.train", "_check_settings", "validation"),
    ("loyalty_ml.tracking.train", "check_job_tables", "validation"),
    ("loyalty_ml.tracking.train", "_profiled_history", "validation"),
    ("loyalty_ml.tracking.train", "_churn_table", "training_table"),
    ("loyalty_ml.tracking.train", "_fit_churn_models", "churn_fit"),
    ("loyalty_ml.evaluation.churn_metrics", "evaluate_churn", "backtest_eval"),
    ("loyalty_ml.tracking.train", "build_features", "latest_features"),
    ("loyalty_ml.tracking.train", "_trigger_policy", "boundaries"),
    ("loyalty_ml.tracking.train", "_offer_model", "uplift_other"),
    ("loyalty_ml.features.experiments", "experiment_table", "experiment_table"),
    ("loyalty_ml.tracking.train", "_backtest_plan", "backtest_plan"),
    ("loyalty_ml.tracking.train", "_fairness_audit", "fairness"),
    ("loyalty_ml.tracking.train", "hash_frames", "input_hash"),
    ("loyalty_ml.tracking.train", "log_plots", "plots"),
    ("loyalty_ml.tracking.train", "register_and_promote", "register"),
    ("loyalty_ml.tracking.train", "log_cleaning", "cleaning_log"),
]

#: (class path, method, stage)
METHODS = [
    ("loyalty_ml.models.churn", "ChurnModel", "predict_proba", "churn_predict"),
    ("loyalty_ml.models.uplift", "UpliftModel", "fit", "uplift_fit"),
    ("loyalty_ml.tracking.drift", "DriftProfile", "from_frame", "drift_profile"),
    ("loyalty_ml.policy.triggers", "TriggerPolicy", "with_reference", "segments"),
]


@contextlib.contextmanager
def instrumented(clock: StageClock) -> Iterator[None]:
    """Wrap the job's functions for the duration; restore them after."""
    import importlib

    saved: list[tuple[Any, str, Any]] = []
    try:
        for module, name, stage in TARGETS:
            owner = importlib.import_module(module)
            saved.append((owner, name, owner.__dict__[name]))
            setattr(owner, name, clock.wrap(stage, getattr(owner, name)))
        for module, cls, name, stage in METHODS:
            owner = getattr(importlib.import_module(module), cls)
            original = owner.__dict__[name]
            saved.append((owner, name, original))
            if isinstance(original, classmethod):
                wrapped: Any = classmethod(clock.wrap(stage, original.__func__))
            else:
                wrapped = clock.wrap(stage, original)
            setattr(owner, name, wrapped)
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def programme(n_customers: int, clock: StageClock) -> dict[str, Any]:
    """A simulated programme, validated as the command line validates its files (timed)."""
    data = lml.datasets.simulate(n_customers=n_customers, start=START, end=END, seed=0)
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = {
            "transactions": lml.validate_transactions(data.transactions),
            "customers": lml.validate_customers(data.customers),
            "campaigns": lml.validate_campaigns(data.campaigns, offers=data.offers),
            "offers": data.offers,
        }
    clock.add("validation", time.perf_counter() - t0, time.process_time() - c0)
    return tables


def one_size(
    n_customers: int, *, profile_dir: str | None
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Wall and CPU seconds by stage of one training job on ``n_customers`` simulated customers,
    and its counts and backtest metrics."""
    from loyalty_ml.tracking.train import train_and_register

    clock = StageClock()
    tables = programme(n_customers, clock)
    before = clock.seconds["validation"], clock.cpu["validation"]
    profiler = cProfile.Profile() if profile_dir else None
    with tempfile.TemporaryDirectory() as tmp:
        here = os.getcwd()
        os.chdir(tmp)  # the embedded store keeps its artifacts in the working folder
        try:
            with instrumented(clock), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0, c0 = time.perf_counter(), time.process_time()
                if profiler is not None:
                    profiler.enable()
                result = train_and_register(
                    tables["transactions"],
                    as_of=AS_OF,
                    customers=tables["customers"],
                    campaigns=tables["campaigns"],
                    offers=tables["offers"],
                    tracking_uri=f"sqlite:///{tmp}/mlflow.db",
                    random_state=0,
                )
                if profiler is not None:
                    profiler.disable()
                job = time.perf_counter() - t0, time.process_time() - c0
        finally:
            os.chdir(here)
    if profiler is not None and profile_dir:
        os.makedirs(profile_dir, exist_ok=True)
        profiler.dump_stats(os.path.join(profile_dir, f"train_{n_customers}.prof"))
    out = []
    for k, spent in enumerate((clock.seconds, clock.cpu)):
        seconds = dict(spent)
        # the job's time outside every wrapped call (validation before the job is not the job's)
        seconds["other"] = job[k] - (sum(spent.values()) - before[k])
        seconds["total"] = job[k] + before[k]
        out.append(seconds)
    info = {
        "lines": float(len(tables["transactions"])),
        "training_rows": result.metrics["n_training_rows"],
        "uplift_rows": result.metrics.get("uplift_training_rows", math.nan),
        "backtest_roc_auc": result.metrics["backtest_roc_auc"],
        "backtest_qini_auc_mean": result.metrics.get("backtest_qini_auc_mean", math.nan),
    }
    return out[0], out[1], info


def growth(table: pd.DataFrame, sizes: list[int]) -> pd.DataFrame:
    """Exponent ``b`` of ``seconds ~ customers ** b`` between consecutive sizes, per stage (blank
    where both are under 0.1 s)."""
    values = table.to_numpy(dtype=np.float64)
    out = {}
    for k, (a, b) in enumerate(itertools.pairwise(sizes)):
        before, after = values[:, k], values[:, k + 1]
        ratio = np.maximum(after, 1e-3) / np.maximum(before, 1e-3)
        exponent = np.log(ratio) / math.log(b / a)
        out[f"b {a // 1000}k-{b // 1000}k"] = np.where(
            np.maximum(before, after) >= 0.1, exponent, np.nan
        )
    return pd.DataFrame(out, index=table.index)


def stage_table(stages: dict[int, dict[str, float]]) -> pd.DataFrame:
    """Stages by size, the slowest at the largest size first, the total last."""
    table = pd.DataFrame(stages).fillna(0.0)
    order = table.drop(index="total").sort_values(table.columns[-1], ascending=False).index
    return table.loc[[*order, "total"]]


def log_to_mlflow(
    params: dict[str, str], wall: pd.DataFrame, cpu: pd.DataFrame, info: pd.DataFrame
) -> None:
    import mlflow

    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"))
    mlflow.set_experiment("bench_train_scale")
    with mlflow.start_run(run_name="bench_train_scale"):
        mlflow.log_params(params)
        metrics = {
            f"{stage}_{kind}_s_{size}": float(seconds[i, j])
            for kind, table in (("wall", wall), ("cpu", cpu))
            for seconds in [table.to_numpy(dtype=np.float64)]
            for i, stage in enumerate(table.index)
            for j, size in enumerate(table.columns)
        }
        counts = info.to_numpy(dtype=np.float64)
        metrics.update(
            {
                f"{k}_{size}": float(counts[i, j])
                for i, k in enumerate(info.index)
                for j, size in enumerate(info.columns)
            }
        )
        mlflow.log_metrics(metrics)
        mlflow.log_text(wall.to_csv(), "train_scale_wall.csv")
        mlflow.log_text(cpu.to_csv(), "train_scale_cpu.csv")
        mlflow.log_text(info.to_csv(), "train_scale_counts.csv")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers",
        type=int,
        nargs="+",
        default=[50_000, 100_000],
        help="sizes (below about 60,000 the uplift model blends in its linear fit; RESULTS.md)",
    )
    parser.add_argument("--profile", metavar="DIR", help="write a cProfile file per size here")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args(argv)

    walls: dict[int, dict[str, float]] = {}
    cpus: dict[int, dict[str, float]] = {}
    infos: dict[int, dict[str, float]] = {}
    loads = []
    for n in args.customers:
        walls[n], cpus[n], infos[n] = one_size(n, profile_dir=args.profile)
        loads.append(os.getloadavg()[1])
        print(
            f"{n:,} customers: {walls[n]['total']:.1f} s wall, {cpus[n]['total']:.1f} s CPU "
            f"(load average over 5 min {loads[-1]:.1f})",
            flush=True,
        )
    wall, cpu, info = stage_table(walls), stage_table(cpus), pd.DataFrame(infos)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for kind, table in (("wall", wall), ("CPU", cpu)):
            print(f"\n{kind} seconds per stage (exclusive) by customers, growth exponent b")
            print(
                pd.concat(
                    [table.round(1), growth(table, args.customers).round(2)], axis=1
                ).to_string()
            )
        print("\ncounts and backtest metrics")
        print(info.to_string())
    if not args.no_mlflow:
        params = {
            "customers": ",".join(map(str, args.customers)),
            "load_5min": ",".join(f"{v:.1f}" for v in loads),
        }
        log_to_mlflow(params, wall, cpu, info)
        print("logged to MLflow experiment 'bench_train_scale'")


if __name__ == "__main__":
    main()
