"""``score_customers``: the nightly job. Features as of a date, the registered policy, one row per customer.

Features are built once (vectorised); decisions are made batch by batch, so the memory taken by
reasons, uplift effects and offer choices is bounded by ``batch_size`` rows. Drift is counted per batch
against the training profile carried by the model (PSI, see :mod:`loyalty_ml.tracking.drift`). A
scoring run is logged with row counts, the score distribution and drift; nothing logged names a
customer.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

import numpy as np
import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    SchemaError,
    TrackingError,
    format_examples,
    withhold_ids,
)
from loyalty_ml.features import build_features
from loyalty_ml.kpis._common import purchase_lines
from loyalty_ml.policy.offers import REASONS
from loyalty_ml.privacy.consent import listed_in, marketing_consent, profiled_only
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import on_data_clock
from loyalty_ml.tracking._inputs import (
    check_id_overlap,
    check_job_tables,
    warn_if_a_day_repeats,
    warn_if_data_ends_early,
    warn_of_new_channels,
)
from loyalty_ml.tracking._mlflow import experiment_id, metric_key, use_tracking_uri
from loyalty_ml.tracking.drift import DriftCounter, DriftWarning
from loyalty_ml.tracking.policy import (
    DECISION_COLUMNS,
    NOT_PROFILED,
    POLICY_REASONS,
    LoyaltyPolicy,
    not_profiled_decisions,
    scoring_config,
    unseen_levels,
)
from loyalty_ml.tracking.registry import load_policy, parse_model_uri

__all__ = ["CLOCK_FEATURES", "MIN_DRIFT_ROWS", "SCORE_COLUMNS", "score_customers", "score_features"]

#: Columns of the :func:`score_customers` output (indexed by ``customer_id``).
SCORE_COLUMNS: tuple[str, ...] = ("status", *DECISION_COLUMNS)
_NO_CONSENT = "no_profiling_consent"
#: Fewest scored customers for which ``score_customers`` judges drift (see ``psi_limit``).
MIN_DRIFT_ROWS = 200
#: Features that move with the calendar by definition: everyone's tenure grows a day a day, and
#: the days since the last offer follow the campaign calendar. Their PSI is logged but never warned
#: on: a warning every night would teach the operator to ignore the warning.
CLOCK_FEATURES = frozenset(
    {"tenure_days", "signup_tenure_days", "days_since_last_offer", "days_since_last_redemption"}
)


@withhold_ids
def score_customers(
    transactions: pd.DataFrame,
    *,
    as_of: object,
    model_uri: str = "models:/loyalty_ml@champion",
    customers: pd.DataFrame | None = None,
    campaigns: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    batch_size: int = 100_000,
    tracking_uri: str | None = None,
    log_run: bool = True,
    experiment: str = "loyalty_ml_scoring",
    psi_limit: float = 0.2,
    reasons: Literal["all", "actioned", "none"] = "actioned",
    progress: bool | None = None,
    budget: float | None = None,
    strategy: Literal["cheapest_effective", "max_net_value"] = "cheapest_effective",
) -> pd.DataFrame:
    """Decisions for every customer with a purchase before ``as_of``, from a registered model.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions; rows at or after ``as_of`` are ignored. Warned about: purchases
        that stop well before ``as_of`` (a stale extract); with ``log_run``, purchases that end
        where they ended for the latest earlier ``as_of`` this model's scoring runs logged (a
        night's extract that did not arrive or arrived twice: its rows repeat and are dropped as
        duplicates); a channel the model was not trained with holding 1% or more of the purchase
        lines of the four weeks before ``as_of``; a day of the week before ``as_of`` half or more
        of whose lines have an exact copy (a night's extract appended twice after validation,
        which validating the whole table again does not drop: its copies have new row labels),
        unless the table was validated to keep exact duplicates.
    as_of : date-like
        Scoring date (features use only what happened before it).
    model_uri : str
        ``models:/<name>@<alias>`` or ``models:/<name>/<version>``.
    customers, campaigns : DataFrame, optional
        As at training (the model's features may need them). Consent is opt-in once the flag is
        there (see :func:`loyalty_ml.privacy.may_profile`): customers whose ``consent_profiling`` is
        False or missing, or who are not in ``customers`` at all, are not profiled: their row has
        ``status="no_profiling_consent"``, no score, no action; customers whose
        ``consent_marketing`` is False or missing get no offer. Without the flag columns, consent is
        taken as managed upstream, unless the model was trained with them: a flag the training
        table had is then required (renamed or dropped upstream, it would read every refusal as
        consent). ``campaigns`` is also the send history (append each night's
        :func:`~loyalty_ml.tracking.sends.nightly_sends` rows to it): an offer whose
        ``max_per_month`` is reached in the month of ``as_of`` is not offered again, and a
        customer sent any offer in the policy's ``min_days_between_offers`` days before ``as_of``
        (30 for ``train_and_register``'s default) gets none (``offer_reason="contacted
        recently"``), nor one kept in a control group then (``"in a recent control group"``),
        and neither is to be contacted (``channel="none"``). Left out for a model trained with
        campaigns, its campaign features are missing for every customer, and neither rule can
        apply: a DataQualityWarning says each (for a churn-only policy, which makes no offers, the
        contact rule's absence is only recorded: ``attrs["rules_not_applied"]``, below); a
        missing customers table the model needs is an error. A table whose ids are the
        transactions' written another way (leading zeros, ``"123.0"``) is refused, one that
        misses more than half of their customers warned about, and a category level the model
        never saw (a new tier) warned about: it is read as missing, or as ``"(rare)"`` by a model
        fitted on pooled levels (``FeatureConfig.min_level_customers``), which warns of it only
        when at least that many customers hold it.
    batch_size : int
        Customers per decision batch.
    tracking_uri : str, optional
        MLflow tracking URI (default ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``).
    log_run : bool
        Log a scoring run (row counts, score distribution, PSI drift). Scoring a date again with
        the same registered version (a retried night, by alias or by number) logs another run;
        the earlier runs for that ``as_of`` and version get the tag ``superseded_by`` (the new
        run's id), and the new run lists them in ``rescores``. Another version scored the same
        night (a shadow challenger) supersedes nothing.
    experiment : str
        Experiment of the scoring run.
    psi_limit : float
        A :class:`DriftWarning` is issued when the churn score or any feature has a PSI above it,
        for populations of at least ``MIN_DRIFT_ROWS`` (200) scored customers. Without any drift,
        PSI over ten bins averages about 9 / rows (0.045 at 200 rows, a quarter of the default
        limit); on a few dozen customers it passes 0.2 by chance. Features that move with the
        calendar (:data:`CLOCK_FEATURES`: tenure, days since the last offer or redemption) are not
        warned on. The PSI of every column is logged either way.
    reasons : {"actioned", "all", "none"}
        Which customers get reason codes: by default those with a triggered action (with or
        without consent to contact); ``"all"`` explains everyone, at a few milliseconds of TreeSHAP per
        customer (see ``experiments/bench_scoring.py``).
    events : DataFrame, optional
        Engagement and feedback events (see :func:`loyalty_ml.validate_events`), required for a
        model trained with them (its ``event_*`` features): only events before ``as_of`` are
        read, and the kinds are those the model was trained with.
    progress : bool, optional
        Show a progress bar over batches; by default only when stderr is a terminal.
    budget : float, optional
        Cap on the total prudent cost of tonight's offers, shared by every customer scored (see
        :meth:`LoyaltyPolicy.decide`); logged with the run. ``None``: no cap. A budget also
        changes how offers are chosen, even one the plan would fit in: the knapsack picks from
        each customer's cheapest effective offer, without the no-budget rule that moves a
        customer to a dearer offer clear of the noise (see :func:`choose_offers`), so it is not
        a safety cap to set far above the spend.
    strategy : {"cheapest_effective", "max_net_value"}
        Which of a customer's effective offers to make.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), one row per customer with a purchase before
        ``as_of`` (one with refunds only has none): ``status`` (``"scored"`` or
        ``"no_profiling_consent"``) and the decision columns of :meth:`LoyaltyPolicy.decide`;
        ``attrs["model_version"]`` is the registered version that decided, ``attrs["as_of"]``
        the scoring date (on the data's clock) and
        ``attrs["n_customers_without_purchase"]`` how many customers of ``customers`` have no
        row (no purchase before ``as_of``; also the run's metric of that name), and
        ``attrs["n_event_customers_without_purchase"]`` how many customers of ``events`` (the
        visitors who only viewed), and ``attrs["rules_not_applied"]`` the policy's rules that
        read the send history and could not apply for want of ``campaigns=`` (a list of their
        descriptions, empty when they all applied; also the run's parameter of that name).

    Raises
    ------
    TrackingError
        Unknown model or alias; unreachable tracking server; an ``sqlite:///`` store that does not
        exist.
    SchemaError
        The features lack columns the model needs (they are listed); ``customers`` lacks a consent
        flag the model was trained with.
    """
    import mlflow

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(
            f"The 'batch_size' parameter of score_customers must be an int >= 1. Got {batch_size!r} instead."
        )
    if reasons not in ("all", "actioned", "none"):
        raise ConfigError(
            "The 'reasons' parameter of score_customers must be 'all', 'actioned' or 'none'. "
            f"Got {reasons!r} instead."
        )
    from loyalty_ml.policy.offers import check_plan_options

    check_plan_options(budget, strategy, owner="score_customers")
    cutoff = on_data_clock(as_of, transactions)
    caller = "score_customers"
    customers, campaigns = check_job_tables(transactions, customers, campaigns, caller=caller)
    with use_tracking_uri(tracking_uri) as uri:
        policy, version = load_policy(model_uri, tracking_uri=uri)
        _warn_if_before_training(policy, cutoff, model_uri=model_uri)
        history = transactions.loc[(transactions[C.TIMESTAMP] < cutoff).to_numpy()]
        if len(history) == 0:
            raise DataError(
                f"score_customers: no transactions before as_of={cutoff.date()}"
                + (
                    f" (the first is on {pd.Timestamp(transactions[C.TIMESTAMP].min()).date()})."
                    if len(transactions)
                    else " (the table is empty)."
                )
            )
        check_id_overlap(customers, history, caller=caller)
        warn_if_data_ends_early(
            history,
            cutoff,
            int(policy.training_summary.get("horizon_days", 90)),
            caller=caller,
        )
        # read once: compared with the previous night's run, then logged with tonight's
        last = last_purchase(history) if log_run else None
        if last is not None:
            _warn_if_no_new_purchases(mlflow, experiment, last, cutoff, model_uri=model_uri)
        warn_if_a_day_repeats(transactions, history, cutoff, caller=caller)
        known = None if policy.feature_config is None else policy.feature_config.channels
        warn_of_new_channels(history, cutoff, known, caller=caller)
        profiled, people, consenting = profiled_only(history, customers)
        no_consent = ~consenting
        features = build_features(
            profiled,
            as_of=cutoff,
            customers=people,
            campaigns=campaigns,
            # levels read against the training's by prepare, not pooled by this table's counts
            config=scoring_config(policy),
            events=events,
        )
        features, left_out = check_inputs_cover_the_model(
            policy,
            features,
            model_uri=model_uri,
            customers=customers,
            campaigns=campaigns,
            events=events,
        )
        # after the check above, which names a customers table left out altogether better
        _refuse_lost_consent_flags(policy, customers, model_uri=model_uri, version=version)
        # rules that read the send history, which a night without campaigns= cannot apply
        not_applied = [] if campaigns is not None else _rules_needing_history(policy)
        if campaigns is None:
            _warn_if_rules_are_off(policy)
        consent = marketing_consent(customers)
        scored, psi = score_features(
            policy,
            features,
            consent_marketing=consent,
            reasons=reasons,
            batch_size=batch_size,
            progress=progress,
            # the campaigns table is the send history: monthly caps (max_per_month) apply
            history=campaigns,
            as_of=cutoff if campaigns is not None else None,
            budget=budget,
            strategy=strategy,
        )
        # those the features would list: a customer with refunds only is not a customer yet
        skipped = purchase_lines(history.loc[no_consent])
        skipped_ids = pd.Index(np.unique(skipped[C.CUSTOMER_ID].to_numpy()))
        unlisted = (
            np.zeros(len(skipped_ids), dtype=bool)
            if customers is None
            else ~listed_in(skipped_ids, customers)
        )
        out = pd.concat([scored, _not_profiled(skipped_ids, unlisted)]).sort_index()
        out.index.name = C.CUSTOMER_ID
        # members of the customers table with no purchase before as_of get no row: say how many
        n_without = 0
        if customers is not None and C.CUSTOMER_ID in customers.columns:
            members = pd.Index(pd.unique(customers[C.CUSTOMER_ID].dropna()))
            n_without = int((~members.isin(out.index)).sum())
        # and so do the visitors of the events who never bought (Retail Rocket: 99% of them)
        n_events_without = 0
        if events is not None and C.CUSTOMER_ID in events.columns:
            seen = pd.Index(pd.unique(events[C.CUSTOMER_ID].dropna()))
            rows = pd.DataFrame({C.CUSTOMER_ID: out.index})
            n_events_without = int((~listed_in(seen, rows)).sum()) if len(seen) else 0
        # clock features move by design; features of a table left out were warned about already
        quiet = [*CLOCK_FEATURES, *left_out]
        drifted = psi[(psi > psi_limit) & ~psi.index.isin(quiet)]
        drifted = drifted.sort_values(ascending=False)
        # PSI of a small batch is noise: about (bins - 1) / rows with no drift at all
        warned = bool(len(drifted)) and len(scored) >= MIN_DRIFT_ROWS
        if warned:
            warn_user(
                f"score_customers: {len(drifted)} column(s) drifted past PSI {psi_limit} against "
                f"training: {', '.join(f'{k}={v:.3f}' for k, v in drifted.head(5).items())}. "
                "Check the input data, or retrain.",
                DriftWarning,
            )
        if log_run:
            _log_scoring_run(
                mlflow,
                experiment=experiment,
                out=out,
                psi=psi,
                drift=(warned, len(drifted)),
                params={
                    "model_uri": model_uri,
                    "model_version": version,
                    "as_of": str(cutoff.date()),
                    "batch_size": batch_size,
                    "psi_limit": psi_limit,
                    "reasons": reasons,
                    "budget": "none" if budget is None else budget,
                    "strategy": strategy,
                    "rules_not_applied": "; ".join(not_applied) or "none",
                },
                n_transactions=len(history),
                n_without_purchase=n_without,
                catalog_ids=() if policy.catalog is None else tuple(policy.catalog.ids),
                last_purchase=last,
            )
    out.attrs["model_version"] = version  # which registered version decided (logs, the CLI)
    out.attrs["as_of"] = str(cutoff)  # nightly_sends refuses a send before the decision
    out.attrs["n_customers_without_purchase"] = n_without
    out.attrs["n_event_customers_without_purchase"] = n_events_without
    out.attrs["rules_not_applied"] = not_applied  # for want of the send history (campaigns=)
    return out


def score_features(
    policy: LoyaltyPolicy,
    features: pd.DataFrame,
    *,
    consent_marketing: pd.Series | None = None,
    reasons: Literal["all", "actioned", "none"] = "actioned",
    batch_size: int = 100_000,
    progress: bool | None = None,
    history: pd.DataFrame | None = None,
    as_of: object = None,
    budget: float | None = None,
    strategy: Literal["cheapest_effective", "max_net_value"] = "cheapest_effective",
) -> tuple[pd.DataFrame, pd.Series]:
    """Decisions (``status="scored"``) for a feature table, and the PSI of each profiled column.

    The heavy steps run in chunks of ``batch_size`` rows (see :meth:`LoyaltyPolicy.decide`); drift
    counts are accumulated chunk by chunk.
    """
    # the model's view of the features, read once: decide takes it as it is, and drift is measured
    # on it (categories read as at training: 1.0 is level "1", not drift)
    prepared = policy.prepare(features)
    # a level the model never saw (a new tier in the customers table) is read as missing (or rare)
    for note in unseen_levels(policy, features, prepared, table="features"):
        warn_user(note, DataQualityWarning)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    decided = policy.decide(
        prepared,
        consent_marketing=consent_marketing,
        reasons=reasons,
        batch_size=batch_size,
        progress=show,
        history=history,
        as_of=as_of,
        budget=budget,
        strategy=strategy,
    )
    psi = pd.Series(dtype=np.float64, name="psi")
    if policy.drift_profile is not None:
        counter = DriftCounter(policy.drift_profile)
        for start in range(0, len(features), batch_size):
            rows = features.iloc[start : start + batch_size]
            seen = prepared.iloc[start : start + batch_size]
            p = decided["churn_probability"].iloc[start : start + batch_size]
            counter.update(
                rows.assign(
                    **{str(c): _for_drift(seen[c], rows[c]) for c in seen.columns},
                    churn_probability=p.to_numpy(),
                )
            )
        psi = counter.psi()
    decided.insert(0, "status", pd.Series("scored", index=decided.index, dtype="str"))
    return decided, psi


def _scored_model(params: dict[str, Any]) -> tuple[str, str]:
    """(registered name, version) a scoring run's parameters name; the URI itself where it
    cannot be read (runs logged by hand)."""
    uri = str(params.get("model_uri"))
    try:
        name = parse_model_uri(uri)[0]
    except TrackingError:
        name = uri
    return name, str(params.get("model_version"))


def _for_drift(prepared: pd.Series, raw: pd.Series) -> np.ndarray:
    """A column as the drift profile reads it: the model's values, except that a level unseen
    at training (missing to the model) keeps its text, so that it counts as "other", not as
    missing (a new tier replacing the missing ones would otherwise read as no drift)."""
    values = prepared.to_numpy()
    if not isinstance(prepared.dtype, pd.CategoricalDtype):
        return values
    unseen = (prepared.isna() & raw.notna()).to_numpy()
    if not unseen.any():
        return values
    out = prepared.astype(object).to_numpy(copy=True)
    out[unseen] = raw.astype(str).to_numpy()[unseen]
    return out


def check_inputs_cover_the_model(
    policy: LoyaltyPolicy,
    features: pd.DataFrame,
    *,
    model_uri: str,
    customers: pd.DataFrame | None,
    campaigns: pd.DataFrame | None,
    events: pd.DataFrame | None = None,
    caller: str = "score_customers",
    command: str = "loyalty-ml score",
) -> tuple[pd.DataFrame, list[str]]:
    """``features`` with every column the model needs (and those filled as missing), or a
    SchemaError naming what to pass.

    Leaving out the campaign history altogether (``campaigns=None``, as DESIGN.md's scoring call
    does) is allowed with a DataQualityWarning: its features are missing for every customer, and
    the model scores them as it learnt to score customers without those values. A missing customers
    table (it carries consent) or a table without the columns the features come from is an error,
    and so is a missing events table for a model trained with one (its features say what a
    customer did lately: scored without them, every customer would look disengaged).
    """
    missing = [name for name in policy.feature_names if name not in features.columns]
    if not missing:
        return features, []
    from loyalty_ml.features.attributes import customers_features
    from loyalty_ml.features.campaign import CAMPAIGN_FEATURES
    from loyalty_ml.features.events import PREFIX as EVENT_PREFIX

    from_customers = customers_features(policy.feature_config)
    # each missing feature comes from one table: passed or not, that table is the one to fix
    from_events = [m for m in missing if m.startswith(EVENT_PREFIX) and m not in from_customers]
    sources = (
        ("campaigns", campaigns, [m for m in missing if m in CAMPAIGN_FEATURES]),
        ("customers", customers, [m for m in missing if m in from_customers]),
        ("events", events, from_events),
        (
            "transactions",
            features,  # always given: what it lacks is a column (channel, product_id...)
            [
                m
                for m in missing
                if m not in CAMPAIGN_FEATURES and m not in from_customers and m not in from_events
            ],
        ),
    )
    tables = [
        f"{name}= (as at training)" for name, table, names in sources if names and table is None
    ]
    absent = [
        (name, names)
        for name, table, names in sources
        if names and table is None and name == "campaigns"
    ]
    if absent and len(absent) == len([1 for _, _, names in sources if names]):
        # only whole tables are missing: score without them, and say so
        left_out = [n for _, names in absent for n in names]
        warn_user(
            f"{caller}: the model {model_uri} was trained with the "
            f"{' and '.join(name for name, _ in absent)} table(s), not given now: its "
            f"{len(left_out)} feature(s) {format_examples(left_out, total=len(left_out), limit=6)}"
            " are missing for every customer, so scores and offers fall back on what the model "
            "learnt without them. Pass " + " and ".join(tables) + " for the model's full view.",
            DataQualityWarning,
        )
        return features.assign(**dict.fromkeys(left_out, np.nan)), left_out
    given = [
        f"the {name} table given lacks what {', '.join(names)} "
        f"{'is' if len(names) == 1 else 'are'} built from"
        + (_transaction_columns(names) if name == "transactions" else "")
        for name, table, names in sources
        if names and table is not None
    ]
    fix = (
        "Pass " + " and ".join(tables)
        if tables
        else _sentence("; ".join(given)) + ": pass the table with the columns it had at training"
    )
    raise SchemaError(
        f"{caller}: the model {model_uri} needs {len(missing)} feature column(s) the inputs "
        f"do not give: {format_examples(missing, total=len(missing), limit=10)}. {fix}; on the "
        f"command line, {command} --transactions/--customers/--campaigns/--events.",
        table="features",
        column=missing[0],
    )


def _transaction_columns(features: list[str]) -> str:
    """`` (columns channel, margin)``: the transactions columns ``features`` are built from."""
    from loyalty_ml.features.build import transactions_source

    columns = sorted({c for c in map(transactions_source, features) if c is not None})
    return f" (column{'s' if len(columns) > 1 else ''} {', '.join(columns)})" if columns else ""


def _sentence(text: str) -> str:
    """``text`` with its first letter upper-case (``str.capitalize`` lowers the rest)."""
    return text[:1].upper() + text[1:]


def _refuse_lost_consent_flags(
    policy: LoyaltyPolicy, customers: pd.DataFrame | None, *, model_uri: str, version: str
) -> None:
    """SchemaError when the customers table lacks a consent column the model was trained with.

    A table without the flags means consent managed upstream (everyone may be offered and
    profiled); for a model trained on flags it is far more often a column renamed or dropped by an
    export, which would contact every customer who said no.
    """
    flags = tuple(getattr(policy, "consent_flags", ()))  # () for policies registered before it
    columns = [] if customers is None else [str(c) for c in customers.columns]
    missing = [flag for flag in flags if flag not in columns]
    if not missing:
        return
    where = (
        "no customers table was given"
        if customers is None
        else f"the customers table has no {', '.join(map(repr, missing))} "
        f"column{'s' if len(missing) > 1 else ''} "
        f"(it has {format_examples(columns, total=len(columns), limit=12)})"
    )
    raise SchemaError(
        f"score_customers: {where}, but {model_uri} (version {version}) was trained with "
        f"{', '.join(map(repr, flags))}: read as consent managed upstream, every customer who "
        "refused would be offered or profiled tonight. Restore the column (renamed upstream? "
        "map it back), or, if consent is now managed upstream, retrain without it and promote "
        "that version by hand (it is registered as @challenger, since the champion had the "
        "column: MlflowClient.set_registered_model_alias).",
        table="customers",
        column=missing[0],
    )


def _warn_if_before_training(
    policy: LoyaltyPolicy, cutoff: pd.Timestamp, *, model_uri: str
) -> None:
    """DataQualityWarning when scoring a date the model's training data reaches beyond."""
    trained = policy.training_summary.get("as_of")
    if trained is None or cutoff >= pd.Timestamp(trained):
        return
    warn_user(
        f"score_customers: as_of={cutoff.date()} is before the training date {trained} of "
        f"{model_uri}: the model learned from what customers did after as_of, so these scores are "
        "not out of time (do not use them to backtest the model). Score with a model trained "
        "before as_of for that.",
        DataQualityWarning,
    )


def _not_profiled(ids: pd.Index, unlisted: np.ndarray) -> pd.DataFrame:
    """Rows of the customers who may not be profiled; ``unlisted``: those whose consent is
    unknown because the customers table has no row for them (read as no consent)."""
    out = not_profiled_decisions(ids, unlisted)
    out.insert(0, "status", pd.Series(_NO_CONSENT, index=ids, dtype="str"))
    return out


def _rules_needing_history(policy: LoyaltyPolicy) -> list[str]:
    """The policy's rules that read the send history (``campaigns=``): its offers' monthly caps
    and the contact rule, which rests a churn-only policy's contacts too."""
    rules = []
    if policy.catalog is not None and any(
        offer.max_per_month is not None for offer in policy.catalog
    ):
        rules.append("the monthly caps (max_per_month)")
    if policy.min_days_between_offers is not None:
        rules.append(
            f"the contact rule (no offer within {policy.min_days_between_offers} days of the last)"
        )
    return rules


def _warn_if_rules_are_off(policy: LoyaltyPolicy) -> None:
    """DataQualityWarning when the policy makes offers under rules that need the send history.

    A churn-only policy (no catalog) is not warned about: scored without a campaigns table every
    night by design, it would warn every night, and a warning every night is one operators learn
    to ignore. Its scores record the rules not applied instead (``attrs["rules_not_applied"]``,
    the scoring run's parameter of that name, the command line's summary)."""
    if policy.catalog is None:
        return
    rules = _rules_needing_history(policy)
    if rules:
        warn_user(
            f"score_customers: no campaigns table, so no send history: {' and '.join(rules)} "
            "cannot be applied, and customers they would rest may be offered again. Pass "
            "campaigns= with every offer sent so far (the nightly sends appended).",
            DataQualityWarning,
        )


def _log_scoring_run(
    mlflow: Any,
    *,
    experiment: str,
    out: pd.DataFrame,
    psi: pd.Series,
    drift: tuple[bool, int],
    params: dict[str, Any],
    n_transactions: int,
    n_without_purchase: int = 0,
    catalog_ids: tuple[str, ...] = (),
    last_purchase: pd.Timestamp | None = None,
) -> None:
    """Log the night's run; ``drift``: whether the DriftWarning fired, and how many columns it
    counts over the limit (clock features and tables left out are not), so that the run's tag
    and metric say what the warning said."""
    scored = out.loc[out["status"] == "scored"]
    p = scored["churn_probability"].to_numpy(dtype=np.float64)
    metrics: dict[str, float] = {
        "n_rows": float(len(out)),
        "n_scored": float(len(scored)),
        "n_no_profiling_consent": float((out["status"] == _NO_CONSENT).sum()),
        "n_transactions": float(n_transactions),
        "n_customers_without_purchase": float(n_without_purchase),
        "n_offers": float(scored[C.OFFER_ID].notna().sum()),
        "expected_cost_total": float(scored["expected_cost"].sum()),
        "expected_net_value_total": float(scored["expected_net_value"].sum()),
    }
    # what the night did and why: one count per offer and per offer_reason (fixed vocabularies,
    # no customer in them), 0 for those not seen tonight, so that a dashboard sees a rule or a
    # budget start to bite
    offers = (
        scored.loc[scored[C.OFFER_ID].notna()]
        .groupby(C.OFFER_ID, sort=True)
        .agg(
            n=(C.OFFER_ID, "size"),
            expected_cost=("expected_cost", "sum"),
            expected_net_value=("expected_net_value", "sum"),
        )
        .reindex(sorted({*map(str, catalog_ids), *scored[C.OFFER_ID].dropna()}), fill_value=0)
        .rename_axis(C.OFFER_ID)
    )
    offers["metric"] = [f"n_offer_{metric_key(o)}" for o in offers.index]
    seen = out["offer_reason"].value_counts(dropna=False)
    vocabulary = sorted({*REASONS, *POLICY_REASONS, NOT_PROFILED, *seen.index.dropna()})
    reasons = pd.DataFrame(
        {
            "n": seen.reindex(vocabulary, fill_value=0).to_numpy(),
            "metric": [f"n_reason_{metric_key(str(r).replace(' ', '_'))}" for r in vocabulary],
        },
        index=pd.Index(vocabulary, name="offer_reason"),
    )
    for table in (offers, reasons):
        metrics.update(
            dict(zip(table["metric"], table["n"].to_numpy(dtype=np.float64).tolist(), strict=True))
        )
    if len(p):
        metrics["churn_probability_mean"] = float(p.mean())
        for q in (10, 50, 90):
            metrics[f"churn_probability_p{q}"] = float(np.percentile(p, q))
    for column in ("risk_band", "action"):
        for level, share in scored[column].value_counts(normalize=True).items():
            metrics[f"share_{column}_{metric_key(level)}"] = float(share)
    finite = psi.dropna()
    if len(finite):
        metrics["psi_max"] = float(finite.max())
        metrics["n_columns_psi_over_limit"] = float(drift[1])
    if "churn_probability" in finite.index:
        metrics["psi_churn_probability"] = float(finite["churn_probability"])
    uri = mlflow.get_tracking_uri()
    found = experiment_id(experiment, tracking_uri=uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    # a retried night: the earlier runs for the same date stay, marked, so that a dashboard can
    # count one run a night (tags.superseded_by is missing on the latest)
    # of the same registered version (by alias or by number): a shadow challenger scored the
    # same night is not a retry of the champion
    earlier = [
        r
        for r in client.search_runs(
            [found], filter_string=f"params.as_of = '{params['as_of']}'", max_results=1000
        )
        if _scored_model(r.data.params) == _scored_model(params)
    ]
    with mlflow.start_run(
        experiment_id=found,
        run_name=f"score {params['as_of']}",
        nested=mlflow.active_run() is not None,  # called inside a notebook's own run: a child run
    ) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.set_tag("drift_warning", str(drift[0]))
        if last_purchase is not None:
            mlflow.set_tag(LAST_PURCHASE_TAG, str(last_purchase))
        if earlier:
            mlflow.set_tag("rescores", ",".join(r.info.run_id for r in earlier))
        mlflow.log_text(psi.rename_axis("column").to_frame().to_csv(), "drift/psi.csv")
        # the exact offer ids and reasons (the metric names above are sanitised); no customer
        mlflow.log_text(offers.to_csv(), "decisions/offers.csv")
        mlflow.log_text(reasons.to_csv(), "decisions/reasons.csv")
    for previous in earlier:
        if "superseded_by" not in previous.data.tags:
            client.set_tag(previous.info.run_id, "superseded_by", run.info.run_id)


#: Tag of a scoring run: the time of the last purchase (``amount >= 0``) before its ``as_of``.
LAST_PURCHASE_TAG = "last_purchase"
#: How many of the experiment's latest runs are read for the previous night's.
_RECENT_RUNS = 200


def last_purchase(history: pd.DataFrame) -> pd.Timestamp | None:
    """The time of the last purchase line (``amount >= 0``) of ``history``; None without one."""
    times = history.loc[(history[C.AMOUNT] >= 0).to_numpy(), C.TIMESTAMP]
    return None if times.empty else pd.Timestamp(times.max())


def _warn_if_no_new_purchases(
    mlflow: Any, experiment: str, last: pd.Timestamp, cutoff: pd.Timestamp, *, model_uri: str
) -> None:
    """DataQualityWarning when tonight's last purchase, ``last`` (:func:`last_purchase`), is no
    later than that of the latest earlier ``as_of`` scored with the same registered model (its
    run's :data:`LAST_PURCHASE_TAG`).

    A night's extract that did not arrive, or arrived twice (its rows repeat the night before's
    and are dropped as duplicates), leaves the history as it was: a day or two older than usual,
    which :func:`warn_if_data_ends_early` rightly reads as a warehouse's lag. Only the previous
    night can tell: its last purchase is tonight's too. Runs of another model, of the same or a
    later ``as_of``, or without the tag (logged before it) are not compared.
    """
    uri = mlflow.get_tracking_uri()
    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return
    name = _scored_model({"model_uri": model_uri})[0]
    # only this model's tagged runs: the scoring runs of other models (a store's each, a shadow
    # challenger) would otherwise crowd the previous night out of the latest runs read
    mine = f" and params.model_uri LIKE '%{name}%'" if "'" not in name else ""
    earlier = [
        r
        for r in client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.{LAST_PURCHASE_TAG} LIKE '%'{mine}",
            order_by=["attributes.start_time DESC"],
            max_results=_RECENT_RUNS,
        )
        if LAST_PURCHASE_TAG in r.data.tags
        and _scored_model(r.data.params)[0] == name
        and str(r.data.params.get("as_of", "")) < str(cutoff.date())
    ]
    if not earlier:
        return
    previous = max(earlier, key=lambda r: str(r.data.params["as_of"]))
    then = pd.Timestamp(previous.data.tags[LAST_PURCHASE_TAG])
    if last > then:
        return
    where = "where they ended" if last == then else f"before where they ended ({then})"
    warn_user(
        f"score_customers: the purchases end on {last}, {where} when as_of="
        f"{previous.data.params['as_of']} was scored (run {previous.info.run_id}): nothing has "
        f"been bought since, as far as these transactions say. A night's extract that did not "
        "arrive, or one delivered twice (its rows repeat the night before's and are dropped as "
        "duplicates)? Every customer is scored as inactive for the days since. If the shop was "
        "closed, the figures are right.",
        DataQualityWarning,
    )
