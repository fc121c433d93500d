"""The registration gate: a model whose fairness report fails is not promoted unless overridden.

The MLflow training flow calls :func:`check_promotion` before moving the ``@champion`` alias. An
override must be explicit and explained; the decision carries it so the caller records it with the
run (:meth:`GateDecision.as_tags` or :meth:`GateDecision.log_to_mlflow`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from loyalty_ml.evaluation.fairness import FairnessReport
from loyalty_ml.exceptions import ConfigError, PolicyError, TrackingError
from loyalty_ml.privacy.cells import MIN_CELL_SIZE

__all__ = ["GateDecision", "check_promotion"]

GateStatus = Literal["passed", "failed", "failed, overridden", "not audited"]


@dataclass(frozen=True, kw_only=True)
class GateDecision:
    """Whether a model may be promoted, and why.

    Attributes
    ----------
    promote : bool
        True when the model may become champion (as far as fairness is concerned).
    status : {"passed", "failed", "failed, overridden", "not audited"}
        Also the value of the ``fairness_gate`` tag.
    passed : bool or None
        The fairness verdict; None when no report was given.
    overridden : bool
        True when a failed report was overridden.
    override_reason : str or None
        Why, as given by the caller (recorded with the run).
    violations : tuple of str
        One readable line per broken limit, with groups named as published
        (``FairnessReport.for_publication``: a group under ``MIN_CELL_SIZE`` customers is
        ``"(small groups)"`` and the gap it takes part in is withheld), since the message becomes
        a run tag.
    unjudged : tuple of str
        Attributes the report could not judge (fewer than two groups big enough), then
        ``"<attribute> <metric>"`` for limits no two groups were big enough for (the FPR of groups
        with few non-churners), named in the message so that a pass is not read as a clean bill
        for them.
    """

    promote: bool
    status: GateStatus
    passed: bool | None
    overridden: bool
    override_reason: str | None
    violations: tuple[str, ...]
    unjudged: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """One sentence for logs and the promotion reason."""
        if self.status == "not audited":
            verdict = "fairness not audited (no report)"
            return verdict + ("" if self.promote else "; an audit is required: not promoted")
        if self.status == "passed":
            if self.unjudged:
                return "fairness gate passed; not judged (groups too small): " + ", ".join(
                    self.unjudged
                )
            return "fairness gate passed"
        listed = "; ".join(self.violations[:3])
        more = len(self.violations) - 3
        listed += f" (+{more} more)" if more > 0 else ""
        if self.overridden:
            return f"fairness gate failed ({listed}), overridden: {self.override_reason}"
        return f"fairness gate failed: {listed}"

    def as_tags(self) -> dict[str, str]:
        """MLflow run tags: ``fairness_gate``, ``fairness_gate_reason`` and the override reason."""
        tags = {"fairness_gate": self.status, "fairness_gate_reason": self.message}
        if self.overridden and self.override_reason is not None:
            tags["fairness_override_reason"] = self.override_reason
        return tags

    def as_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready values."""
        return {**asdict(self), "violations": list(self.violations), "message": self.message}

    def log_to_mlflow(self) -> None:
        """Set :meth:`as_tags` and the metric ``fairness_gate_overridden`` on the ACTIVE run.

        Raises
        ------
        TrackingError
            When no MLflow run is active.
        """
        import mlflow

        if mlflow.active_run() is None:
            raise TrackingError(
                "GateDecision.log_to_mlflow needs an active MLflow run; call it inside "
                "`with mlflow.start_run():`."
            )
        mlflow.set_tags(self.as_tags())
        mlflow.log_metric("fairness_gate_overridden", float(self.overridden))

    def raise_if_blocked(self) -> None:
        """Raise :class:`PolicyError` when the model may not be promoted."""
        if not self.promote:
            raise PolicyError(
                f"Promotion blocked: {self.message}. Fix the model or plan, or override explicitly "
                "with check_promotion(report, override=True, override_reason='...')."
            )


def check_promotion(
    report: FairnessReport | None,
    *,
    override: bool = False,
    override_reason: str | None = None,
    require_audit: bool = False,
) -> GateDecision:
    """Decide whether a model may be promoted given its fairness report.

    Parameters
    ----------
    report : FairnessReport or None
        The audit of the candidate model (and its offer plan). None when no protected attributes were
        available: promoted unless ``require_audit``, with the status ``"not audited"``.
    override : bool, default False
        Promote even though the report failed. Needs ``override_reason``.
    override_reason : str, optional
        Why the failure is accepted (e.g. "gap explained by risk; reviewed by the ethics board,
        ticket 123"). Recorded in the decision; required with ``override``.
    require_audit : bool, default False
        Block promotion when ``report`` is None.

    Returns
    -------
    GateDecision

    Raises
    ------
    ConfigError
        Override without a reason, a reason without override, or a report of the wrong type.

    Examples
    --------
    >>> import pandas as pd
    >>> from loyalty_ml.evaluation.fairness import FairnessLimits, fairness_report
    >>> sensitive = pd.Series(["a", "a", "b", "b"], index=[1, 2, 3, 4], name="income_band")
    >>> plan = pd.DataFrame({"offer_id": ["A", "A", None, None], "expected_cost": 1.0},
    ...                     index=[1, 2, 3, 4])
    >>> report = fairness_report(sensitive, offers=plan, limits=FairnessLimits(min_group_size=1))
    >>> check_promotion(report).promote
    False
    >>> decision = check_promotion(report, override=True, override_reason="pilot, reviewed")
    >>> decision.promote, decision.status
    (True, 'failed, overridden')
    """
    for name, value in (("override", override), ("require_audit", require_audit)):
        if not isinstance(value, bool | np.bool_):
            raise ConfigError(
                f"The {name!r} parameter of check_promotion must be a bool. Got {value!r} instead."
            )
    override, require_audit = bool(override), bool(require_audit)
    if override_reason is not None and not isinstance(override_reason, str):
        # NaN or pd.NA from a form or a table read as text would be recorded as the reason "nan"
        raise ConfigError(
            "The 'override_reason' parameter of check_promotion must be text explaining the "
            f"override, or None. Got {override_reason!r} ({type(override_reason).__name__})."
        )
    reason = None if override_reason is None else override_reason.strip()
    if override_reason is not None and not override:
        raise ConfigError(
            "check_promotion got an override_reason but override=False; pass override=True to "
            "override a failed fairness report, or drop the reason."
        )
    if report is None:
        return GateDecision(
            promote=not require_audit,
            status="not audited",
            passed=None,
            overridden=False,
            override_reason=None,
            violations=(),
        )
    if not isinstance(report, FairnessReport):
        raise ConfigError(
            "The 'report' parameter of check_promotion must be a FairnessReport (from "
            f"fairness_report) or None. Got {type(report).__name__} instead."
        )
    # the lines become run tags: a small group is named as published, never by its own label
    published = report.for_publication(MIN_CELL_SIZE).violations
    lines = tuple(_describe(v) for v in published.itertuples(index=False))
    if report.passed:
        return GateDecision(
            promote=True,
            status="passed",
            passed=True,
            overridden=False,
            override_reason=None,
            violations=(),
            unjudged=(*report.unjudged_attributes, *report.unjudged_limits),
        )
    if override and not reason:
        raise ConfigError(
            "check_promotion(override=True) needs a non-empty override_reason: a failed fairness "
            "report may only be overridden with a recorded explanation."
        )
    return GateDecision(
        promote=override,
        status="failed, overridden" if override else "failed",
        passed=False,
        overridden=override,
        override_reason=reason if override else None,
        violations=lines,
    )


def _describe(violation: Any) -> str:
    where = f" within {violation.stratum}" if violation.conditional else ""
    value = "withheld" if pd.isna(violation.value) else f"{violation.value:.3g}"
    return (
        f"{violation.attribute} {violation.metric} {violation.statistic}{where} "
        f"{value} vs limit {violation.limit:.3g} "
        f"(groups {violation.min_group} / {violation.max_group})"
    )
