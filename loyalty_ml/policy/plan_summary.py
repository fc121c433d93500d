"""Counts and totals of an offer plan from :func:`loyalty_ml.choose_offers`, by offer and by reason."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml._checks import is_real
from loyalty_ml.exceptions import DataError, SchemaError, format_ids
from loyalty_ml.policy._plan_reasons import (
    EXPECTED_COST,
    EXPECTED_NET_VALUE,
    EXPECTED_UPLIFT,
    IN_HOLDOUT,
    PLAN_COLUMNS,
    REASON,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import coerce_float, refuse_repeated_ids
from loyalty_ml.schema.tables import strip_offer_ids

__all__ = ["PlanSummary", "summarize_plan"]


@dataclass(frozen=True)
class PlanSummary:
    """Counts and totals of an offer plan, for printing and logging.

    Attributes
    ----------
    by_offer : DataFrame
        Per offer id: ``customers``, ``expected_cost``, ``expected_net_value``, ``expected_uplift``
        (sums), plus the totals row ``"total"``.
    by_reason : Series
        Customers per reason.
    budget : dict or None
        For a plan made within a budget: ``budget``, ``prudent_cost`` (what the budget binds, see
        ``choose_offers``' ``budget_uplift_factor``), ``expected_cost`` (the plan's cost at face
        value) and ``reserve`` (the share kept back); None without a budget. A plan whose
        expected cost is far below its budget is held back by the prudent cost, not by a lack of
        customers worth an offer.
    """

    by_offer: pd.DataFrame
    by_reason: pd.Series
    budget: dict[str, float] | None = None

    def to_dict(self) -> dict[str, float]:
        """Flat metrics (``plan_customers_<offer>``, ``plan_total_cost``...) for MLflow."""
        out: dict[str, float] = {}
        for offer_id, customers in self.by_offer["customers"].items():
            out[f"plan_customers_{offer_id}"] = float(customers)
        totals = self.by_offer.loc["total"].to_numpy(dtype=np.float64)
        for column, total in zip(self.by_offer.columns, totals, strict=True):
            if column != "customers":
                out[f"plan_total_{column.removeprefix('expected_')}"] = float(total)
        if self.budget is not None:
            out["plan_budget"] = self.budget["budget"]
            out["plan_budget_prudent_cost"] = self.budget["prudent_cost"]
        return out

    def __str__(self) -> str:
        text = (
            f"Offer plan by offer:\n{self.by_offer.to_string()}\n\n"
            f"Customers by reason:\n{self.by_reason.to_string()}"
        )
        if self.budget is None:
            return text
        b = self.budget
        share = b["expected_cost"] / b["budget"] if b["budget"] > 0 else math.nan
        return (
            f"{text}\n\nBudget {b['budget']:,.2f}: prudent cost {b['prudent_cost']:,.2f} (what the "
            f"budget binds, {b['reserve']:.0%} kept back), expected cost {b['expected_cost']:,.2f} "
            f"({share:.0%} of the budget)"
        )


def summarize_plan(plan: pd.DataFrame) -> PlanSummary:
    """Summarise a plan from :func:`choose_offers`: customers, cost and value by offer and by reason.

    A plan written to CSV and read back is read as written: a blank offer id is no offer, and
    numbers written as text are numbers (a word among them is refused).
    """
    if not isinstance(plan, pd.DataFrame):
        raise SchemaError(
            f"summarize_plan: plan must be a pandas DataFrame (choose_offers' output); got "
            f"{type(plan).__name__}.",
            table="plan",
        )
    # in_holdout is not summed: a plan written before it is summarised alike
    missing = [c for c in PLAN_COLUMNS if c not in plan.columns and c != IN_HOLDOUT]
    if missing:
        raise DataError(
            f"summarize_plan: plan lacks columns {missing}; pass choose_offers' output."
        )
    refuse_repeated_ids(plan.index, what="summarize_plan: plan")
    money = [EXPECTED_COST, EXPECTED_NET_VALUE, EXPECTED_UPLIFT]
    # a plan written to CSV and read back: blank offer ids are no offer (as fairness_report reads
    # them), and numbers may come back as text (read_csv(dtype=str)); a word is refused, not summed
    plan = strip_offer_ids(plan).assign(
        **{
            column: coerce_float(plan[column], table="plan", column=column, allow_na=True)
            for column in money
        },
    )
    offered = plan[plan[C.OFFER_ID].notna()]
    unknown = offered.index[offered[money].isna().any(axis=1).to_numpy()]
    if len(unknown):
        raise DataError(
            f"summarize_plan: {len(unknown)} customers given an offer have no "
            f"{'/'.join(money)} {format_ids(unknown.tolist(), total=len(unknown))}, so the "
            "totals would leave them out. Pass choose_offers' output unchanged, or fill them."
        )
    if (offered[C.OFFER_ID].astype(str) == "total").any():
        raise DataError(
            "summarize_plan: an offer is named 'total', the name of the summary's totals row (and "
            "of its plan_customers_total metric), which would overwrite it. Rename the offer in "
            "the catalog."
        )
    by_offer = offered.groupby(C.OFFER_ID).agg(
        customers=(REASON, "size"),
        expected_cost=(EXPECTED_COST, "sum"),
        expected_net_value=(EXPECTED_NET_VALUE, "sum"),
        expected_uplift=(EXPECTED_UPLIFT, "sum"),
    )
    by_offer.loc["total"] = by_offer.sum() if len(by_offer) else 0.0
    by_reason = plan[REASON].value_counts().rename("customers")
    budget = None
    if all(is_real(plan.attrs.get(k), finite=True) for k in ("budget", "budget_cost")):
        budget = {
            "budget": float(plan.attrs["budget"]),
            "prudent_cost": float(plan.attrs["budget_cost"]),
            "expected_cost": float(offered[EXPECTED_COST].sum()),
            "reserve": float(plan.attrs.get("budget_reserve") or 0.0),
        }
    return PlanSummary(by_offer=by_offer, by_reason=by_reason, budget=budget)
