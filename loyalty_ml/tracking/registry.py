"""The model registry: the promotion rule, aliases, and clear errors for unknown models and aliases.

Versions are addressed by alias (``@champion``, ``@challenger``), never by stage. A new version becomes
champion when its backtest metric clears the quality floor, it passes the fairness gate, and there is
no champion yet or it is not worse than the champion on the backtest (its metric >= the champion's
minus ``tolerance``); otherwise it becomes the challenger, and the reason is recorded as a version tag
and in the training run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from loyalty_ml._checks import is_real
from loyalty_ml.exceptions import ConfigError, TrackingError

__all__ = [
    "BACKTEST_METRIC_TAG",
    "PromotionDecision",
    "below_quality_floor",
    "champion_metric",
    "decide_promotion",
    "describe_models",
    "load_policy",
    "parse_model_uri",
    "set_alias",
]

#: Version tag that holds the backtest metric the promotion rule compares.
BACKTEST_METRIC_TAG = "backtest_roc_auc"
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class PromotionDecision:
    """Where a new version goes and why."""

    alias: str
    promoted: bool
    reason: str


#: Aliases MLflow reserves for itself ("latest", "v1", "V2"...).
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
_VALID_NAME = re.compile(r"^[^/:]+$")


def check_tolerance(tolerance: object) -> None:
    """ConfigError unless ``tolerance`` is a finite number >= 0 (NaN would promote nothing)."""
    if not is_real(tolerance, finite=True) or float(tolerance) < 0:
        raise ConfigError(
            f"The 'promotion_tolerance' parameter must be a finite number >= 0. Got {tolerance!r} "
            "instead."
        )


def check_registry_names(*, model_name: object, alias: object, experiment: object) -> None:
    """ConfigError for names MLflow would refuse only after training (checked before it)."""
    if (
        not isinstance(model_name, str)
        or not model_name.strip()
        or not _VALID_NAME.match(model_name)
    ):
        raise ConfigError(
            f"The 'model_name' parameter must be a non-empty name without '/' or ':' (MLflow's "
            f"rule for registered models). Got {model_name!r} instead."
        )
    if not isinstance(alias, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", alias):
        raise ConfigError(
            "The 'alias' parameter must be a non-empty name of letters, digits, '_' and '-'. "
            f"Got {alias!r} instead."
        )
    if _RESERVED_ALIAS.match(alias):
        raise ConfigError(
            f"The 'alias' parameter {alias!r} is reserved by MLflow ('latest' and 'v<number>' "
            "name versions); use e.g. 'champion'."
        )
    if not isinstance(experiment, str) or not experiment.strip():
        raise ConfigError(
            f"The 'experiment' parameter must be a non-empty name. Got {experiment!r} instead."
        )


def below_quality_floor(metric: float, floor: float) -> str | None:
    """Why a backtest ROC AUC ``metric`` may not be promoted under the quality floor ``floor``, or
    None when it clears it. An undefined (NaN) metric never clears it.

    Examples
    --------
    >>> below_quality_floor(0.81, 0.55) is None
    True
    >>> below_quality_floor(0.51, 0.55)
    'backtest roc_auc 0.5100 is below the quality floor min_backtest_auc=0.55 (0.5 ranks churners no better than chance)'
    """
    if math.isnan(metric):
        return "the backtest metric is undefined (NaN)"
    if metric < floor:
        return (
            f"backtest roc_auc {metric:.4f} is below the quality floor min_backtest_auc={floor:g} "
            "(0.5 ranks churners no better than chance)"
        )
    return None


def decide_promotion(
    *,
    candidate_metric: float,
    champion_metric: float | None,
    tolerance: float = 0.005,
    min_metric: float = 0.0,
    fairness_passed: bool = True,
    fairness_reason: str = "",
    champion_alias: str = "champion",
    challenger_alias: str = "challenger",
    champion_basis: str = "",
) -> PromotionDecision:
    """The promotion rule (higher metric is better).

    A failed fairness gate (``fairness_passed=False``, ``fairness_reason`` quoted in the reason)
    makes the candidate ``challenger_alias`` whatever the metrics; so does a backtest ROC AUC
    ``candidate_metric`` that is undefined (NaN) or below the quality floor ``min_metric`` (see
    :func:`below_quality_floor`), champion or no champion. Otherwise it becomes ``champion_alias``
    when there is no champion metric (None or NaN), or when it is not worse than
    ``champion_metric`` by more than ``tolerance``; else ``challenger_alias``. ``champion_basis``
    says where the champion's metric comes from (e.g. scored on the same backtest rows as the
    candidate); it is added to the reason.

    Examples
    --------
    >>> decide_promotion(candidate_metric=0.80, champion_metric=0.802, tolerance=0.005).alias
    'champion'
    >>> decide_promotion(candidate_metric=0.70, champion_metric=0.80).reason
    'backtest roc_auc 0.7000 is worse than the champion 0.8000 by more than the tolerance 0.005'
    >>> decide_promotion(candidate_metric=0.52, champion_metric=None, min_metric=0.55).alias
    'challenger'
    """
    check_tolerance(tolerance)
    if not fairness_passed:
        why = f": {fairness_reason}" if fairness_reason else ""
        return PromotionDecision(challenger_alias, False, f"fairness gate failed{why}")
    floor = below_quality_floor(candidate_metric, min_metric)
    if floor is not None:
        return PromotionDecision(challenger_alias, False, floor)
    if champion_metric is None or math.isnan(champion_metric):
        return PromotionDecision(champion_alias, True, "no current champion with a backtest metric")
    basis = f"; champion metric: {champion_basis}" if champion_basis else ""
    if candidate_metric >= champion_metric - tolerance:
        return PromotionDecision(
            champion_alias,
            True,
            f"backtest roc_auc {candidate_metric:.4f} is not worse than the champion "
            f"{champion_metric:.4f} (tolerance {tolerance}){basis}",
        )
    return PromotionDecision(
        challenger_alias,
        False,
        f"backtest roc_auc {candidate_metric:.4f} is worse than the champion "
        f"{champion_metric:.4f} by more than the tolerance {tolerance}{basis}",
    )


def parse_model_uri(model_uri: str) -> tuple[str, str | None, str | None]:
    """``(name, alias, version)`` of a ``models:/name@alias`` or ``models:/name/3`` URI.

    Examples
    --------
    >>> parse_model_uri("models:/loyalty_ml@champion")
    ('loyalty_ml', 'champion', None)
    """
    match = _URI.match(model_uri) if isinstance(model_uri, str) else None
    if match is None:
        raise TrackingError(
            f"model_uri must look like 'models:/<name>@<alias>' or 'models:/<name>/<version>'. "
            f"Got {model_uri!r} instead."
        )
    return match["name"], match["alias"], match["version"]


def describe_models(client: Any) -> str:
    """Registered models and their aliases, for error messages (``"none"`` when the registry is empty)."""
    from mlflow.exceptions import MlflowException

    try:
        models = client.search_registered_models()
    except MlflowException:  # best effort: only used to enrich an error message
        return "unknown"
    parts = []
    for model in models:
        aliases = sorted(getattr(model, "aliases", {}) or {})
        parts.append(f"{model.name} (aliases: {', '.join(aliases) or 'none'})")
    return "; ".join(parts) or "none"


def champion_metric(
    client: Any, name: str, alias: str = "champion"
) -> tuple[str | None, float | None]:
    """``(version, backtest metric)`` of the version holding ``alias``; ``(None, None)`` when none does."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        return None, None
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None, None
    value = version.tags.get(BACKTEST_METRIC_TAG)
    return str(version.version), (float(value) if value is not None else None)


def set_alias(
    client: Any,
    name: str,
    version: str,
    decision: PromotionDecision,
    *,
    challenger_alias: str = "challenger",
) -> None:
    """Point ``decision.alias`` at ``version`` and record the reason on the version.

    The version that held the alias is re-tagged ``promotion = "superseded by version N"``, so that
    only the alias holder is tagged with the alias (a registry search on the tag finds one version).
    A promoted version also retires a ``challenger_alias`` held by an older version: that version
    lost to a champion that is no longer serving, so a system loading ``@challenger`` would A/B
    test a model older than the champion. Its alias is removed and it is tagged
    ``promotion = "retired: version N became @champion"``. A promoted version that held the
    ``challenger_alias`` itself gives it up (it would be A/B tested against itself).
    """
    from mlflow.exceptions import MlflowException

    try:
        previous = str(client.get_model_version_by_alias(name, decision.alias).version)
    except MlflowException:  # nobody holds the alias yet
        previous = None
    client.set_registered_model_alias(name, decision.alias, version)
    client.set_model_version_tag(name, version, "promotion", decision.alias)
    client.set_model_version_tag(name, version, "promotion_reason", decision.reason)
    if previous is not None and previous != version:
        client.set_model_version_tag(
            name, previous, "promotion", f"superseded by version {version} (@{decision.alias})"
        )
    if decision.promoted and challenger_alias != decision.alias:
        _retire_older(client, name, version, challenger_alias, f"@{decision.alias}")


def _retire_older(client: Any, name: str, version: str, alias: str, became: str) -> None:
    """Remove ``alias`` from the version holding it when that version is older than ``version``
    (tagged as retired) or is ``version`` itself."""
    from mlflow.exceptions import MlflowException

    try:
        holder = str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:  # nobody holds it
        return
    if holder == version:  # the challenger became the champion: it holds one alias only
        client.delete_registered_model_alias(name, alias)
    elif int(holder) < int(version):
        client.delete_registered_model_alias(name, alias)
        client.set_model_version_tag(
            name, holder, "promotion", f"retired: version {version} became {became}"
        )


def _latest_promotion(client: Any, name: str) -> str:
    """Where the latest version of ``name`` went and why (a version left as challenger, say)."""
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:  # best effort: only used to enrich an error message
        return ""
    if not versions:
        return ""
    latest = max(versions, key=lambda v: int(v.version))
    alias = latest.tags.get("promotion")
    if alias is None:
        return ""
    reason = latest.tags.get("promotion_reason", "")
    return f" The latest version {latest.version} is @{alias}" + (f": {reason}." if reason else ".")


def load_policy(model_uri: str, *, tracking_uri: str) -> tuple[Any, str]:
    """Load the registered pyfunc at ``model_uri``: its :class:`LoyaltyPolicy` and registry version.

    Raises :class:`TrackingError` naming the model and alias, and listing what the registry holds,
    when the model or alias is unknown, and naming the file when an ``sqlite:///`` store does not
    exist (rather than creating an empty one).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from loyalty_ml.tracking._mlflow import check_reachable, check_store_exists

    name, alias, version = parse_model_uri(model_uri)
    check_reachable(tracking_uri)
    check_store_exists(tracking_uri)  # reading: MLflow would create an empty store
    from sqlalchemy.exc import SQLAlchemyError  # MLflow's database stores

    try:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    except (MlflowException, SQLAlchemyError) as exc:
        raise TrackingError(f"Cannot open the MLflow registry at {tracking_uri!r}: {exc}") from exc
    try:
        client.get_registered_model(name)
        if alias is not None:
            found = client.get_model_version_by_alias(name, alias)
        else:
            found = client.get_model_version(name, str(version))
    except MlflowException as exc:
        what = f"alias {alias!r}" if alias is not None else f"version {version}"
        raise TrackingError(
            f"Cannot find model {name!r} with {what} in the registry at {tracking_uri!r} "
            f"({exc.message if hasattr(exc, 'message') else exc}). Registered models: "
            f"{describe_models(client)}.{_latest_promotion(client, name) if alias else ''} Train one "
            "with `loyalty-ml train` or loyalty_ml.train_and_register, or fix model_uri."
        ) from exc
    from loyalty_ml.tracking._mlflow import use_tracking_uri
    from loyalty_ml.tracking.policy import LoyaltyPolicy

    # The version just found, from the registry at tracking_uri: not whatever MLflow's global URI
    # points at, and not a newer version the alias may have moved to in between.
    resolved = f"models:/{name}/{found.version}"
    try:
        with use_tracking_uri(tracking_uri):
            model = mlflow.pyfunc.load_model(resolved)
    except (MlflowException, OSError) as exc:
        raise TrackingError(
            f"Cannot load model {model_uri!r} (version {found.version}) from {tracking_uri!r}: {exc}"
        ) from exc
    try:
        policy = model.unwrap_python_model().policy
    except (MlflowException, AttributeError):
        policy = None
    if not isinstance(policy, LoyaltyPolicy):
        flavors = ", ".join(sorted(model.metadata.flavors)) or "none"
        raise TrackingError(
            f"Model {model_uri!r} (version {found.version}) in {tracking_uri!r} is not a loyalty_ml "
            f"policy model (its flavors: {flavors}). Point model_uri at a version registered by "
            "loyalty_ml.train_and_register or `loyalty-ml train`."
        )
    return policy, str(found.version)
