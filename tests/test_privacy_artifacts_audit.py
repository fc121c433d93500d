"""Privacy audit, end to end: what the real jobs store in MLflow, print and write.

The simulator's customers get identifiers that are themselves personal (e-mail addresses and phone
numbers as ``customer_id``) and the personal columns a real customers table carries (name, e-mail,
phone, birth date, postcode, IP address, free-text notes, plus the age band and gender kept for
fairness). ``train_and_register`` and ``score_customers`` then run for real (embedded SQLite store in a
temporary folder), and everything stored is read back: every file under the folder (artifacts, the
SQLite database, the pickled policy, the input example, MLmodel), the runs' names, params, tags,
metric names and dataset inputs, the registered model and its versions, and what the jobs printed.

Four confirmed defects are fixed and kept as regression tests: the CLI report's uplift section
scored customers who refused profiling; free-text notes (and post_code, mail, user_agent,
national_id) were not recognised as personal data; the stored input example copied category levels
held by single customers; a job that refused its input printed error messages quoting raw customer
ids (jobs now withhold them, ``loyalty_ml.exceptions.withhold_ids``; a notebook call still names
them). The others guard what the audit found correct.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow_fixtures import MLFLOW_IMPORT_WARNING

import loyalty_ml as lml

pytestmark = pytest.mark.filterwarnings(MLFLOW_IMPORT_WARNING)

AS_OF_TRAIN = "2024-09-01"
AS_OF_SCORE = "2024-12-01"
SALT = "audit-salt-0123456789"
CHURN = {"n_estimators": 30, "early_stopping_rounds": 5}
UPLIFT = {"n_estimators": 10}

#: Every planted personal value, as a pattern over raw bytes (no false hits in PNG or base64).
PLANTED: dict[str, re.Pattern[bytes]] = {
    "e-mail id": re.compile(rb"jane\.doe\d+@planted-mail\.example"),
    "phone id": re.compile(rb"\+4479460\d{5}"),
    "name": re.compile(rb"Planted Person\d+"),
    "e-mail": re.compile(rb"personal\d+@secret-mail\.example"),
    "phone": re.compile(rb"\+1555019\d{4}"),
    "birth date": re.compile(rb"19\d\d-0\d-1\d"),
    "postcode": re.compile(rb"ZZ\d{4} 9QQ"),
    "ip address": re.compile(rb"10\.\d{1,3}\.\d{1,3}\.77(?!\d)"),
    "notes": re.compile(rb"NOTESECRET\d+"),
    "rare tier": re.compile(rb"TIERSECRET\d+"),
    "rare fairness group": re.compile(rb"GENDERSECRET\d+"),
}


def _planted_id(n: int) -> str:
    return f"jane.doe{n}@planted-mail.example" if n % 2 == 0 else f"+4479460{n:05d}"


def planted_tables(n_customers: int = 600, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The simulator's tables with personal ids and personal columns planted."""
    data = lml.datasets.simulate(n_customers=n_customers, seed=seed)
    numbers = data.customers["customer_id"].tolist()
    ids = {n: _planted_id(n) for n in numbers}
    customers = data.customers.assign(customer_id=data.customers["customer_id"].map(ids))
    customers["full_name"] = [f"Planted Person{n}" for n in numbers]
    customers["email"] = [f"personal{n}@secret-mail.example" for n in numbers]
    customers["phone"] = [f"+1555019{n:04d}" for n in numbers]
    customers["birth_date"] = [f"19{50 + n % 50:02d}-0{1 + n % 9}-1{n % 10}" for n in numbers]
    customers["postcode"] = [f"ZZ{n:04d} 9QQ" for n in numbers]
    customers["ip_address"] = [f"10.{n // 256}.{n % 256}.77" for n in numbers]
    customers["notes"] = [f"NOTESECRET{n} called about an allergy" for n in numbers]
    # a tier of two customers and one of one (a bespoke status): category levels held by fewer
    # customers than a report's minimum cell reach no model, artifact or request contract
    customers.loc[customers.index[:2], "tier"] = "TIERSECRET2"
    customers.loc[customers.index[2], "tier"] = f"TIERSECRET{numbers[2]}"
    # a free-text gender held by three long-standing customers: a fairness group under the
    # minimum cell, whose label alone would name them in any published table
    audited = customers["consent_profiling"] & (customers["signup_date"] < "2024-01-01")
    rare = customers.index[audited.to_numpy()][3:6]
    customers.loc[rare, "gender"] = "GENDERSECRET7"
    return {
        "transactions": data.transactions.assign(
            customer_id=data.transactions["customer_id"].map(ids)
        ),
        "customers": customers,
        "campaigns": data.campaigns.assign(customer_id=data.campaigns["customer_id"].map(ids)),
        "offers": data.offers,
    }


def leaks(data: bytes | str) -> dict[str, list[str]]:
    """The planted values found in ``data``, by kind (a few examples each)."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    found = {}
    for kind, pattern in PLANTED.items():
        hits = pattern.findall(raw)
        if hits:
            found[kind] = sorted({h.decode("utf-8", "replace") for h in hits})[:3]
    return found


def _ids_of(frame: Any) -> set[str]:
    """The customer ids a frame is about (its customer_id index or index level)."""
    index = getattr(frame, "index", None)
    if index is None:
        return set()
    if isinstance(index, pd.MultiIndex):
        if "customer_id" in index.names:
            return set(map(str, index.get_level_values("customer_id")))
        return set()
    return set(map(str, index)) if index.name == "customer_id" else set()


class Spy:
    """Records the customer ids every model method and feature builder is called on."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {}

    def method(self, mp: pytest.MonkeyPatch, cls: type, name: str) -> None:
        original = getattr(cls, name)
        key = f"{cls.__name__}.{name}"
        self.seen.setdefault(key, set())

        def wrapper(model: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
            self.seen[key] |= _ids_of(X)
            return original(model, X, *args, **kwargs)

        mp.setattr(cls, name, wrapper)

    def function(self, mp: pytest.MonkeyPatch, module: Any, name: str, *, rows: bool) -> None:
        """Wrap ``module.name``: record the ids of its output (or of its 2nd argument's rows)."""
        original = getattr(module, name)
        key = f"{module.__name__}.{name}"
        self.seen.setdefault(key, set())

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            out = original(*args, **kwargs)
            if rows:
                self.seen[key] |= set(map(str, args[1]["customer_id"]))
            else:
                frame = out[0] if isinstance(out, tuple) else out
                self.seen[key] |= _ids_of(frame)
            return out

        mp.setattr(module, name, wrapper)

    def install(self, mp: pytest.MonkeyPatch) -> None:
        import loyalty_ml.features.experiments as experiments
        import loyalty_ml.tracking.scoring as scoring
        import loyalty_ml.tracking.train as train
        from loyalty_ml.models.churn import ChurnModel
        from loyalty_ml.models.uplift import UpliftModel

        for name in ("fit", "predict_proba", "explain"):
            self.method(mp, ChurnModel, name)
        for name in ("predict_effects", "predict_baseline"):
            self.method(mp, UpliftModel, name)
        self.function(mp, train, "training_table", rows=False)
        self.function(mp, train, "build_features", rows=False)
        self.function(mp, scoring, "build_features", rows=False)
        self.function(mp, experiments, "experiment_table", rows=True)

    def all_ids(self) -> set[str]:
        return set().union(*self.seen.values()) if self.seen else set()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def captured() -> Iterator[list[str]]:
    """Everything printed, logged or warned inside the block (joined into one list of texts)."""
    out, err, records = io.StringIO(), io.StringIO(), _Records()
    texts: list[str] = []
    root = logging.getLogger()
    root.addHandler(records)
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            yield texts
    finally:
        root.removeHandler(records)
        texts.extend([out.getvalue(), err.getvalue(), *records.lines])
        texts.extend(str(w.message) for w in caught)


@dataclass
class Job:
    folder: Path
    uri: str
    tables: dict[str, pd.DataFrame]
    result: Any
    scores: pd.DataFrame
    printed: list[str]
    spy: Spy
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def no_profiling(self) -> set[str]:
        c = self.tables["customers"]
        return set(c.loc[~c["consent_profiling"], "customer_id"])

    @property
    def no_marketing(self) -> set[str]:
        c = self.tables["customers"]
        return set(c.loc[~c["consent_marketing"], "customer_id"])


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Job]:
    """Train (customers, campaigns, offers) and score once, with spies on every model call."""
    folder = tmp_path_factory.mktemp("privacy_audit")
    uri = f"sqlite:///{(folder / 'mlflow.db').as_posix()}"
    tables = planted_tables()
    spy = Spy()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # MLflow puts artifacts of the embedded store in the working folder
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("LOYALTY_ML_SALT", raising=False)
        spy.install(mp)
        with captured() as printed:
            result = lml.train_and_register(
                tables["transactions"],
                as_of=AS_OF_TRAIN,
                customers=tables["customers"],
                campaigns=tables["campaigns"],
                offers=tables["offers"],
                tracking_uri=uri,
                churn_params=CHURN,
                uplift_params=UPLIFT,
            )
            scores = lml.score_customers(
                tables["transactions"],
                as_of=AS_OF_SCORE,
                customers=tables["customers"],
                campaigns=tables["campaigns"],
                tracking_uri=uri,
            )
        inputs = folder / "inputs"  # the job's own input files, outside the store
        inputs.mkdir()
        files = {}
        for name in ("transactions", "customers", "campaigns", "offers"):
            files[name] = inputs / f"{name}.parquet"
            tables[name].to_parquet(files[name], index=False)
        yield Job(folder, uri, tables, result, scores, printed, spy, files)


def _stored_files(job: Job) -> list[Path]:
    """Every file the jobs wrote (the store and its artifacts), not the job's own inputs."""
    return [
        p
        for p in job.folder.rglob("*")
        if p.is_file() and job.folder / "inputs" not in p.parents and p.name != "scores.csv"
    ]


# -- what MLflow holds ---------------------------------------------------------------------------
def test_no_planted_value_in_any_stored_file(job: Job) -> None:
    """Guard: no raw id or personal value in any file of the store (the SQLite database, every
    artifact: plots, tables, fairness report, training summary, cleaning report, drift CSV, the
    pickled policy, MLmodel, input examples, requirements)."""
    files = _stored_files(job)
    assert any(p.name == "policy.pkl" for p in files) and any(p.name == "mlflow.db" for p in files)
    assert any(p.name == "input_example.json" for p in files)
    found = {str(p.relative_to(job.folder)): leaks(p.read_bytes()) for p in files}
    assert {k: v for k, v in found.items() if v} == {}


def test_fairness_artifacts_pool_the_rare_group_under_no_label(job: Job) -> None:
    """Fixed: the fairness tables logged a group under the minimum cell by its own label (the
    planted free-text gender of three customers, and "other"), with its count; they now pool such
    groups into one "(small groups)" row per attribute and say how many groups it holds."""
    import json

    (table,) = [p for p in _stored_files(job) if p.parts[-2:] == ("fairness", "by_group.csv")]
    by_group = pd.read_csv(table, index_col=[0, 1])
    gender = by_group.xs("gender", level="attribute")
    assert list(gender.index) == ["female", "male", "(small groups)"]
    # the pool holds 9 audited customers: under the minimum cell itself, so its count only
    pool = gender.loc["(small groups)"]
    assert pool["count"] == 9 and pool.drop("count").isna().all()
    (report,) = [p for p in _stored_files(job) if p.name == "fairness_report.json"]
    pooled = json.loads(report.read_text())["pooled_groups"]
    raw = [row for row in pooled if row["table"] == "by_group" and row["attribute"] == "gender"]
    assert [row["groups"] for row in raw] == [2]  # the planted gender and "other"


def test_no_planted_value_in_run_metadata_or_registry(job: Job) -> None:
    """Guard: run names, params, tags, metric names, dataset inputs, registered model and version
    descriptions and tags, and logged models hold no raw id or personal value."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=job.uri, registry_uri=job.uri)
    texts: list[str] = []
    experiments = client.search_experiments()
    runs = client.search_runs([e.experiment_id for e in experiments])
    assert len(runs) >= 2  # the training run and the scoring run
    for run in runs:
        texts.append(str(run.info.run_name))
        texts.extend(f"{k}={v}" for k, v in run.data.params.items())
        texts.extend(f"{k}={v}" for k, v in run.data.tags.items())
        texts.extend(run.data.metrics)
        for dataset in getattr(run.inputs, "dataset_inputs", None) or []:
            texts.append(str(dataset.dataset))
    for model in client.search_registered_models():
        texts.extend([str(model.description), str(model.tags), str(model.aliases)])
        for version in client.search_model_versions(f"name='{model.name}'"):
            texts.extend([str(version.description), str(version.tags), str(version.source)])
    search_logged = getattr(client, "search_logged_models", None)
    if search_logged is not None:
        for logged in search_logged(experiment_ids=[e.experiment_id for e in experiments]):
            texts.extend([str(logged.params), str(logged.tags), str(logged.name)])
    assert leaks("\n".join(texts)) == {}


def test_model_signature_and_input_example_name_no_customer(job: Job) -> None:
    """Guard: the signature lists feature columns only, and the input example's ids are made up."""
    import json

    import yaml

    (mlmodel,) = [p for p in _stored_files(job) if p.name == "MLmodel"]
    signature = yaml.safe_load(mlmodel.read_text())["signature"]
    columns = [c["name"] for c in json.loads(signature["inputs"])]
    assert columns[0] == "customer_id" and len(columns) > 10
    assert not any(leaks(c) for c in columns)
    (example_file,) = [p for p in _stored_files(job) if p.name == "input_example.json"]
    example = json.loads(example_file.read_text())
    ids = [row[example["columns"].index("customer_id")] for row in example["data"]]
    assert ids == ["example_1", "example_2", "example_3"]


def test_jobs_print_and_warn_no_planted_value(job: Job) -> None:
    """Guard: what training and scoring printed, logged and warned names no customer."""
    assert leaks("\n".join(job.printed)) == {}


# -- consent -------------------------------------------------------------------------------------
def test_customers_without_profiling_consent_are_never_trained_on_or_scored(job: Job) -> None:
    """Guard: no model fit, prediction, explanation or feature table of training or scoring ever
    holds a customer without profiling consent (spies on every call)."""
    assert job.no_profiling  # the simulator has customers who refused
    assert job.spy.seen["ChurnModel.fit"] and job.spy.seen["ChurnModel.predict_proba"]
    assert job.spy.seen["UpliftModel.predict_effects"]
    touched = {name: sorted(ids & job.no_profiling)[:3] for name, ids in job.spy.seen.items()}
    assert {k: v for k, v in touched.items() if v} == {}
    assert job.result.metrics["n_excluded_no_profiling_consent"] > 0


def test_scores_of_customers_without_profiling_consent_carry_nothing(job: Job) -> None:
    """Guard: a customer without profiling consent has a row that says so and nothing else: no
    score, band, segment, state, channel, offer or reason from a model."""
    refused = job.scores.index.isin(sorted(job.no_profiling))
    assert refused.any()
    rows = job.scores.loc[refused]
    assert (rows["status"] == "no_profiling_consent").all()
    for column in ("churn_probability", "expected_cost", "expected_net_value"):
        assert rows[column].isna().all(), column
    for column in ("risk_band", "boundary_state", "segment", "channel", "offer_id"):
        assert rows[column].isna().all(), column
    assert (rows["action"] == "none").all()
    scored = job.scores.loc[~refused]
    assert (scored["status"] == "scored").all()


def test_customers_without_marketing_consent_get_no_offer_or_contact(job: Job) -> None:
    """Guard: no offer and no channel for customers without marketing consent."""
    rows = job.scores.loc[job.scores.index.isin(sorted(job.no_marketing))]
    assert len(rows)
    assert rows["offer_id"].isna().all()
    acted = rows["action"] != "none"
    assert (rows.loc[acted, "channel"] == "none").all()


# -- erasure and pseudonyms ----------------------------------------------------------------------
def test_erased_customers_are_gone_from_every_table_and_from_scores(job: Job) -> None:
    """Guard: erase_customers removes the customers from transactions, customers and campaigns
    (a request typed with stray blanks too), and a scoring run on the result never sees them."""
    from loyalty_ml.privacy import erase_customers

    scored = job.scores.index[job.scores["status"] == "scored"]
    email = next(i for i in scored if "@" in i)
    phone = next(
        i for i in scored if i.startswith("+") and i in set(job.tables["campaigns"]["customer_id"])
    )
    tables, report = erase_customers(
        [f" {email} ", phone],
        transactions=job.tables["transactions"],
        customers=job.tables["customers"],
        campaigns=job.tables["campaigns"],
    )
    assert report.n_found == 2
    for name, table in tables.items():
        assert table is not None
        assert not table["customer_id"].isin([email, phone]).any(), name
    assert "@" not in str(report) and "+4479460" not in str(report)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = lml.score_customers(
            tables["transactions"],  # type: ignore[arg-type]
            as_of=AS_OF_SCORE,
            customers=tables["customers"],
            campaigns=tables["campaigns"],
            tracking_uri=job.uri,
            log_run=False,
            reasons="none",
        )
    assert email not in scores.index and phone not in scores.index
    assert len(scores) == len(job.scores) - 2


def test_pseudonyms_are_keyed_and_not_a_plain_hash_of_the_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guard: a pseudonym is an HMAC with the secret salt: no unkeyed hash of the id (or of the id
    glued to nothing) gives it, another salt gives another pseudonym, and no salt is refused."""
    from loyalty_ml.exceptions import ConfigError
    from loyalty_ml.privacy import pseudonymise_ids

    ids = [_planted_id(n) for n in range(1, 41)]
    hashed = pseudonymise_ids(ids, salt=SALT)
    for raw, pseudonym in zip(ids, hashed, strict=True):
        for algorithm in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b"):
            digest = hashlib.new(algorithm, raw.encode()).hexdigest()
            assert not digest.startswith(pseudonym), algorithm
            assert (
                not hashlib.new(algorithm, raw.strip().lower().encode())
                .hexdigest()
                .startswith(pseudonym)
            )
        assert raw not in pseudonym
    assert set(hashed).isdisjoint(pseudonymise_ids(ids, salt="another-salt-42"))
    monkeypatch.delenv("LOYALTY_ML_SALT", raising=False)
    with pytest.raises(ConfigError):
        pseudonymise_ids(ids)


def test_pseudonymise_frame_drops_recognised_personal_columns() -> None:
    """Guard: name, e-mail, phone, birth date, postcode, IP address and the protected attributes
    are dropped, and ids are pseudonymised."""
    from loyalty_ml.privacy import pseudonymise_frame

    customers = planted_tables(n_customers=50)["customers"]
    out = pseudonymise_frame(customers, salt=SALT)
    dropped = {"full_name", "email", "phone", "birth_date", "postcode", "ip_address"}
    assert dropped.isdisjoint(out.columns)
    assert {"age_band", "gender", "income_band"}.isdisjoint(out.columns)
    assert not out["customer_id"].isin(customers["customer_id"]).any()


def test_pseudonymise_frame_drops_free_text_notes() -> None:
    from loyalty_ml.privacy import pseudonymise_frame

    customers = planted_tables(n_customers=50)["customers"]
    out = pseudonymise_frame(customers, salt=SALT)
    # a tier is not personal data: pseudonymise_frame keeps it (models and reports pool rare ones)
    assert leaks(out.to_csv()) == {"rare tier": ["TIERSECRET2", "TIERSECRET3"]}


def test_input_example_copies_no_single_customer_category_level() -> None:
    from loyalty_ml.tracking.pyfunc import input_example

    customers = planted_tables(n_customers=50)["customers"].set_index("customer_id")
    features = pd.DataFrame(
        {
            "recency_days": np.arange(50, dtype=np.float64),
            "notes": pd.Categorical(customers["notes"]),
        },
        index=customers.index,
    )
    policy = SimpleNamespace(
        feature_names=("recency_days", "notes"),
        feature_categories={"notes": tuple(features["notes"].cat.categories)},
    )
    example = input_example(policy, features)  # type: ignore[arg-type]
    counts = features["notes"].value_counts()
    # "" is the placeholder shown when no level is shared by enough customers
    single = [v for v in example["notes"] if v and counts.get(v, 0) < 2]
    assert single == [], f"input example holds single-customer values {single}"
    assert leaks(example.to_csv()) == {}


# -- the command line ----------------------------------------------------------------------------
@dataclass
class CliRuns:
    out_dir: Path
    scores_file: Path
    printed: list[str]
    spy: Spy


@pytest.fixture(scope="module")
def cli(job: Job) -> Iterator[CliRuns]:
    """``loyalty-ml score`` and ``loyalty-ml report --model-uri`` on the planted files, spied on."""
    from loyalty_ml.cli import main

    f = job.files
    out_dir = job.folder / "cli_report"
    scores_file = job.folder / "scores.csv"
    spy = Spy()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(job.folder)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        with captured() as printed:
            status = main(
                [
                    "score",
                    "--transactions", str(f["transactions"]),
                    "--customers", str(f["customers"]),
                    "--campaigns", str(f["campaigns"]),
                    "--as-of", AS_OF_SCORE,
                    "--output", str(scores_file),
                    "--tracking-uri", job.uri,
                ]
            )  # fmt: skip
            assert status == 0
            spy.install(mp)
            status = main(
                [
                    "report", str(f["transactions"]),
                    "--customers", str(f["customers"]),
                    "--campaigns", str(f["campaigns"]),
                    "--offers", str(f["offers"]),
                    "--model-uri", "models:/loyalty_ml@champion",
                    "--tracking-uri", job.uri,
                    "--out", str(out_dir),
                ]
            )  # fmt: skip
            assert status == 0
    yield CliRuns(out_dir, scores_file, printed, spy)


def test_cli_jobs_print_no_planted_value_and_the_report_holds_none(cli: CliRuns) -> None:
    """Guard: what score and report printed, and every file of the report folder (HTML with its
    embedded PNGs, the PNGs), hold no raw id or personal value."""
    assert leaks("\n".join(cli.printed)) == {}
    files = [p for p in cli.out_dir.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in files)
    found = {p.name: leaks(p.read_bytes()) for p in files}
    # the report's "Members by tier" lists the programme's tiers with their counts, small ones
    # too (an aggregate the programme defines, broken down by nothing: test_small_cells_audit);
    # only the models pool them
    found["report.html"].pop("rare tier", None)
    assert {k: v for k, v in found.items() if v} == {}


def test_cli_score_output_leaves_refusers_unscored(cli: CliRuns, job: Job) -> None:
    """Guard: the file the nightly job writes gives no score to customers who refused profiling."""
    scores = pd.read_csv(cli.scores_file, dtype={"customer_id": str})
    refused = scores.loc[scores["customer_id"].isin(sorted(job.no_profiling))]
    assert len(refused)
    assert (refused["status"] == "no_profiling_consent").all()
    assert refused["churn_probability"].isna().all() and refused["segment"].isna().all()


def test_cli_report_churn_section_leaves_refusers_out(cli: CliRuns, job: Job) -> None:
    """Guard: the report's churn quality and fairness sections score consenting customers only."""
    assert cli.spy.seen["ChurnModel.predict_proba"]
    assert not cli.spy.seen["ChurnModel.predict_proba"] & job.no_profiling


def test_cli_report_uplift_section_does_not_profile_refusers(cli: CliRuns, job: Job) -> None:
    seen = cli.spy.seen["UpliftModel.predict_effects"]
    if not seen:
        raise RuntimeError("precondition: the report had no uplift section to check")
    assert sorted(seen & job.no_profiling)[:3] == []


def test_cli_score_error_does_not_print_customer_ids(
    job: Job, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty_ml.cli import main

    other = job.tables["customers"].assign(customer_id="X" + job.tables["customers"]["customer_id"])
    path = job.folder / "inputs" / "customers_other.parquet"
    other.to_parquet(path, index=False)
    monkeypatch.chdir(job.folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    status = main(
        [
            "score",
            "--transactions", str(job.files["transactions"]),
            "--customers", str(path),
            "--as-of", AS_OF_SCORE,
            "--output", str(job.folder / "never.csv"),
            "--tracking-uri", job.uri,
            "--no-log-run",
        ]
    )  # fmt: skip
    captured_text = capsys.readouterr()
    if status != 1:
        raise RuntimeError(f"precondition: the job should refuse (status {status})")
    assert leaks(captured_text.out + captured_text.err) == {}


def test_jobs_withhold_ids_that_notebook_calls_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same refusal names the customers in a notebook, counts them inside a job, and names them
    again in a job run with LOYALTY_ML_SHOW_IDS=1 (debugging)."""
    import loyalty_ml as lml
    from loyalty_ml.exceptions import DataError, withhold_ids

    effects = pd.DataFrame({"a": [0.1, 0.2]}, index=["ann@example.com", "ann@example.com"])
    catalog = lml.OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["a"], "cost_per_redemption": [1.0]})
    )

    def refuse() -> str:
        with pytest.raises(DataError) as caught:
            lml.choose_offers(
                effects,
                catalog,
                baseline=pd.Series(0.1, index=effects.index),
                value_per_conversion=5.0,
            )
        return str(caught.value)

    monkeypatch.delenv("LOYALTY_ML_SHOW_IDS", raising=False)
    assert "ann@example.com" in refuse()
    in_job = withhold_ids(refuse)()
    assert "ann@example.com" not in in_job
    assert "1 customer id(s), e.g. str of 15 characters" in in_job
    assert "LOYALTY_ML_SHOW_IDS=1" in in_job
    assert "ann@example.com" in refuse()  # the job's setting does not outlive the job
    monkeypatch.setenv("LOYALTY_ML_SHOW_IDS", "1")
    assert "ann@example.com" in withhold_ids(refuse)()


def test_jobs_withhold_hashed_ids_read_as_floats_but_keep_the_rows() -> None:
    from loyalty_ml.exceptions import SchemaError, withhold_ids

    tx = pd.DataFrame(
        {
            "customer_id": [9.3e18, 1.0],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "amount": [5.0, 6.0],
        }
    )

    def refuse() -> str:
        import loyalty_ml as lml

        with pytest.raises(SchemaError) as caught:
            lml.validate_transactions(tx)
        return str(caught.value)

    assert "9.3e+18" in refuse()
    message = withhold_ids(refuse)()
    assert "9.3e+18" not in message and "row 0" in message, message
