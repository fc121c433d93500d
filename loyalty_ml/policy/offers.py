"""The offer policy: which reward, if any, each customer gets (DESIGN.md section 5).

For customer i and offer o, with baseline p_i(0) and estimated uplift u_i(o):

- p_i(o) = p_i(0) + u_i(o), clipped to [0, 1]; the uplift used below (and reported as
  ``expected_uplift``) is p_i(o) - p_i(0), so an estimate that would push the probability past 1
  counts for the 1 - p_i(0) conversions it can buy;
- expected cost C_i(o) = p_i(o) * cost_per_redemption(o) * (1 - breakage(o)) + cost_per_send(o):
  customers who would have bought anyway still redeem, and this is where cannibalisation is paid;
- expected net value NV_i(o) = u_i(o) * value_i - C_i(o);
- effective: NV_i(o) > 0 and u_i(o) >= min_uplift.

``cheapest_effective`` gives the effective offer with the smallest C_i(o); ``max_net_value`` the one
with the largest NV_i(o). When the noise in each offer's effect is known (``arm_mean_se``) and
there is no budget, ``cheapest_effective`` first looks among the offers whose net value clears one
standard error of the offer's effect, in money: a cheap send is effective on the smallest
estimated uplift, so the cheapest effective offer is where an offer's level read too high by noise
lands first (reason ``"cheapest offer clear of noise"`` when that moves a customer to another
offer, dearer or as dear; a customer with no such offer keeps the cheapest effective one).

With a ``budget``, a multiple-choice knapsack (:mod:`._knapsack`) picks, among each customer's
candidates (the cheapest effective offer, or every effective offer under
``max_net_value``), the plan of largest total net value whose total *prudent* cost never exceeds it.
The prudent cost B_i(o) is C_i(o) with the incremental redemptions (those the uplift causes) counted
``budget_uplift_factor`` times, k: p_i(o) becomes p_i(0) + k * u_i(o) for a positive uplift
(clipped to [0, 1]; a negative one is kept as it is), so B_i(o) >= C_i(o) and the total expected cost
stays within the budget too. With a budget, the reason ``"cheaper offer within budget"`` means
cheaper in prudent cost. Uplift models shrink
effects towards 0 (most for the customers they rank highest, whom a plan picks), so the true cost
of a plan that spends exactly its budget on estimated costs is usually higher: on known response
surfaces (``experiments/bench_offer_surface.py``) k = 1 let the true cost reach 1.17x the budget
under ``max_net_value``, and 39% of those plans overspent; k = 2 kept every plan within it for 2
points of net value. Pass k = 1 when the effects are exact (an oracle, a simulation's truth).
Before it is multiplied, each positive uplift is raised by the standard error of its offer's
average effect, when it is known: ``effects.attrs["arm_effect_se"]``, which
``UpliftModel.predict_effects`` records (with pooled campaigns, ``fit(groups=)``, measured against
the control rows of the campaigns that sent the offer), else sqrt(se(o)^2 + se(control)^2) from
``arm_mean_se`` and ``effects.attrs["control_mean_se"]``: a control arm's mean estimated too high
shifts every effect down at once, by the same amount whatever the customer, which k (a multiple of
the effect) cannot cover. With 10% of the customers
in the control arm, k alone let plans cost up to 1.045x their budget on the truth (Hillstrom's
customers) and 1.032x (Online Retail II's); with the standard error too, none cost more than
0.99x, for 0.2 points of the oracle's net value (experiments/RESULTS.md).
The knapsack also keeps back ``budget_reserve`` (1% when any offer has a redemption cost) of the
budget: a plan that fills its budget takes in last the customers whose cost fits what is left, so
the last cents are spent on costs that are estimates too. With a 2-4% purchase rate the factor
alone let 7 plans in 360 cost up to 1.006x their budget on the truth (one a double-points
customer priced at 0.76 cents and costing 1.33 in the last cents of a budget spent on 1-cent
pushes), and trees sized for decisions one plan in 360 1.001x at the usual rates; with the reserve none did (experiments/RESULTS.md). Pass 0 with
exact effects. A catalog of sends alone (no redemption cost) has certain costs, so ``"auto"`` keeps
nothing back there and the plan may spend the budget to the cent.

The factor is not an estimate: where the model over-states the chosen customers' purchase
probabilities it holds back much of the budget. Effects from an ``UpliftModel`` (``cost_folds=2``,
the default) carry a held-out check of those probabilities by band of estimated effect, and a
budget prices each customer's cheapest offer by it instead (``cost_calibration="auto"``;
:mod:`._prudent_cost`); dearer offers keep the factor rule as a floor, and so do customers whose
band of the check rests on fewer than 20 purchases (experiments/RESULTS.md, "A held-out check of
the purchase probabilities", "Very rare purchases").
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from loyalty_ml._checks import check_seed, is_real
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    PolicyError,
    format_examples,
    format_ids,
)
from loyalty_ml.policy._offer_choice import choose
from loyalty_ml.policy._offer_inputs import (
    conversion_values,
    customer_flags,
    customer_values,
    effect_values,
    offer_eligibility,
)
from loyalty_ml.policy._offer_noise import (
    read_arm_mean_se,
    read_average_effect,
    read_control_mean_se,
    read_effect_se,
    warn_unrecorded_offers,
)
from loyalty_ml.policy._plan_reasons import (
    CAPPED,
    COOL_DOWN,
    EXPECTED_COST,
    EXPECTED_NET_VALUE,
    EXPECTED_UPLIFT,
    HOLDOUT,
    IN_CONTROL,
    IN_HOLDOUT,
    NO_CONSENT,
    NOT_EFFECTIVE,
    NOT_ELIGIBLE,
    PLAN_COLUMNS,
    REASON,
    REASONS,
)
from loyalty_ml.policy._prudent_cost import (
    calibrated_probability,
    cheapest_offers,
    read_cost_calibration,
)
from loyalty_ml.policy._send_history import (
    capped_offers,
    cooling_down,
    customer_texts,
    read_sends,
    warn_if_no_send_matches,
)
from loyalty_ml.policy.catalog import OfferCatalog
from loyalty_ml.policy.plan_summary import PlanSummary, summarize_plan
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._id_text import id_hash_units, id_texts
from loyalty_ml.schema._ids import is_row_numbers

__all__ = [
    "EXPECTED_COST",
    "EXPECTED_NET_VALUE",
    "EXPECTED_UPLIFT",
    "HOLDOUT",
    "IN_HOLDOUT",
    "NO_CONSENT",
    "PLAN_COLUMNS",
    "REASON",
    "REASONS",
    "PlanSummary",
    "Strategy",
    "check_plan_options",
    "check_rest_days",
    "choose_offers",
    "summarize_plan",
]

Strategy = Literal["cheapest_effective", "max_net_value"]
_STRATEGIES = ("cheapest_effective", "max_net_value")
#: The share of a budget ``budget_reserve="auto"`` keeps back when any cost is an estimate.
AUTO_BUDGET_RESERVE = 0.01


def _numbered_arms_hint(unknown: list[str], catalog: OfferCatalog, columns: pd.Index) -> str:
    """The fix when the effects' columns are arm numbers (a 0/1 ``treatment_flg`` fitted with
    ``control=0`` names its arm ``"1"``) and the catalog names its offers: renamed to an offer
    the effects do not already have a column for; or, for one arm named otherwise (a group
    label such as ``"test"``) beside one such offer, renamed to it."""
    present = {str(c) for c in columns}
    free = [str(o) for o in catalog.ids if str(o) not in present]
    # one unknown arm and one catalog offer: the pair can only be these two
    pair = len(unknown) == 1 and len(free) == 1
    if not all(c.lstrip("-").isdigit() for c in unknown):
        if not pair:
            return ""
        # an arm named by the experiment's group (Lenta's 'test'), not by the offer it sent
        return (
            f" If the arm {unknown[0]!r} is the catalog's offer {free[0]!r}, name it so: "
            f"effects.rename(columns={{{unknown[0]!r}: {free[0]!r}}}), or fit on "
            f"treatment.replace({{{unknown[0]!r}: {free[0]!r}}})."
        )
    offer = free[0] if pair else "<offer_id>"
    return (
        " Columns named by number come from an UpliftModel fitted on numbered arms (control=0): "
        f"name the arms by offer id, e.g. effects.rename(columns={{{unknown[0]!r}: {offer!r}}}), "
        f"or fit on treatment.map({{0: 'control', {unknown[0]}: {offer!r}}})."
    )


def choose_offers(
    effects: pd.DataFrame,
    catalog: OfferCatalog,
    *,
    baseline: pd.Series,
    value_per_conversion: float | pd.Series,
    strategy: Strategy = "cheapest_effective",
    min_uplift: float = 0.0,
    budget: float | None = None,
    holdout_fraction: float = 0.0,
    eligible: pd.Series | pd.DataFrame | None = None,
    consent: pd.Series | None = None,
    random_state: int | np.random.Generator | None = None,
    history: pd.DataFrame | None = None,
    as_of: str | pd.Timestamp | None = None,
    budget_uplift_factor: float = 2.0,
    min_days_between_offers: int | None = None,
    budget_reserve: float | Literal["auto"] = "auto",
    arm_mean_se: pd.Series | Literal["auto"] | None = "auto",
    cost_calibration: Literal["auto"] | None = "auto",
) -> pd.DataFrame:
    """Choose at most one offer per customer, and say why.

    Parameters
    ----------
    effects : DataFrame
        Indexed by ``customer_id`` (unique), one column per offer id: estimated uplift u_i(o) (e.g.
        ``UpliftModel.predict_effects``). Catalog offers without a column are not considered; a NaN
        effect makes that offer unavailable to that customer.
    catalog : OfferCatalog
        Costs of the offers.
    baseline : Series
        p_i(0), indexed by customer id (every customer of ``effects``).
    value_per_conversion : float or Series
        Margin of one conversion, for all customers or per customer (finite, >= 0 and at most
        1e15: sums of larger ones over the customers overflow).
    strategy : {"cheapest_effective", "max_net_value"}
        How to pick among a customer's effective offers. With a ``budget``, the knapsack chooses
        which customers get an offer: under ``"cheapest_effective"`` each customer's candidate is
        their cheapest effective offer alone (the strategy's promise), under ``"max_net_value"``
        every effective offer, so that a customer may get a cheaper one than without a budget.
    min_uplift : float
        Smallest uplift that counts as effective (raise it, or pass lower confidence bounds as
        ``effects``, to act only on confident effects).
    budget : float, optional
        Cap on the plan's total prudent cost (see ``budget_uplift_factor``), hence also on its total
        expected cost; never exceeded (the plan binds ``budget * (1 - reserve)``, see
        ``budget_reserve``).
    holdout_fraction : float
        Share of consenting customers drawn at random into a holdout that gets nothing, so that
        incrementality can be measured afterwards (``in_holdout`` marks them; their ``reason`` is
        ``"holdout"`` where an offer was withheld, and what it would have been otherwise). The
        draw ranks customers by a hash of their id text keyed by ``random_state``: the same seed
        holds out the same customers whatever the row order or the ids' dtype. Offers tied on cost and value go to the lower offer id.
    eligible : Series or DataFrame of bool, optional
        Per customer, or per customer and offer; customers (or cells) not listed are not eligible.
        A DataFrame's columns are offer ids (as text), one for every offer of ``effects``: an
        offer without one (a misspelt header, or a frame of the restricted offers only) is an
        error naming the close match, not an offer withdrawn from everyone; other columns are
        ignored.
    consent : Series of bool, optional
        Marketing consent per customer; customers not listed have none and get no offer. A
        missing value (NaN), or a customer missing from a table that also holds False (a join
        that lost rows), is read as no consent with a ``DataQualityWarning``; a Series of only
        the customers who consented is taken as such, silently. The same holds for ``eligible``.
    random_state : int or Generator, optional
        Seed of the holdout draw.
    history : DataFrame, optional
        Campaign history (``customer_id``, ``offer_id``, ``sent_at``); with ``as_of``, offers whose
        ``max_per_month`` is reached in the calendar month of ``as_of`` are not offered again
        (an offer of ``max_per_month=0``, a retired one, is offered to nobody, with or without a
        history: reason ``"monthly cap reached"`` where it was the only one that paid). Rows
        whose ``offer_id`` is ``"control"`` are not sends. A send is one row per customer,
        offer, ``campaign_id`` and day: a row appended twice the same day counts once, a campaign
        id used every week counts each week's send. A plan gives each customer at most one offer,
        so no two offers of one plan stack; ``min_days_between_offers`` keeps a customer from
        holding offers of successive nights (a catalog's ``stackable`` column is not read).
    as_of : str or Timestamp, optional
        Decision date for the monthly caps and the cool-down; required with ``history``.
    budget_uplift_factor : float
        With a budget, how many times the incremental redemptions count in the cost the budget
        binds (>= 1; see the module docstring; with the model's held-out check, see
        ``cost_calibration``, only for offers dearer than a customer's cheapest), after each positive uplift is raised by the
        standard error of its offer's average effect (see ``arm_mean_se``). The default 2 keeps a
        plan within its budget when the chosen customers' true effects are up to twice the
        estimates; 1 with ``arm_mean_se=None`` spends the whole budget on expected costs, right
        only when the effects are exact.
    min_days_between_offers : int, optional
        Contact frequency: a customer sent any offer (from the catalog or not) in the
        ``min_days_between_offers`` calendar days before ``as_of`` gets none now (reason
        ``"contacted recently"``), nor does one kept in a campaign's control group then (reason
        ``"in a recent control group"``): an offer inside the response window of an experiment
        would blur what its control group measures, and a holdout rests as its treated customers
        do, so the two stay comparable. Needs ``history`` and ``as_of``. ``None``: no such rule,
        only each offer's ``max_per_month``.
    budget_reserve : float in [0, 1) or "auto"
        With a budget, the share of it kept back: the knapsack fills ``budget * (1 - reserve)``.
        ``"auto"`` (the default) keeps 1% back when any offer considered has a redemption cost and
        nothing when every cost is certain (offers with a send cost alone), so that a campaign of
        e-mails or pushes can spend its budget to the cent. The 1% covers what
        ``budget_uplift_factor`` cannot: the last customers a full plan takes in are those whose
        cost fits the little left, and their cost is an estimate too (on known response surfaces
        with a 2-4% purchase rate, 7 plans in 360 spent up to 1.006x their budget on the truth
        without the reserve; see the module docstring). Pass 0 with exact effects; the share used
        is in ``attrs["budget_reserve"]``.
    arm_mean_se : Series, "auto" or None
        Standard error of each offer's average outcome in the experiment the effects were learnt
        from, indexed by offer id (entries for other labels, such as the control's, are ignored),
        e.g. ``UpliftModel.arm_summary_["mean_outcome_se"]``. ``"auto"`` (the default) reads it from
        ``effects.attrs["arm_mean_se"]``, where ``UpliftModel.predict_effects`` records it, when it
        covers every offer considered (else the rule is off; ``plan.attrs["arm_mean_se"]`` says
        what was used). Arithmetic on the effects with a frame of no ``attrs`` of its own
        (``effects - 1.64 * std``) keeps pandas' ``attrs``; one with its own ``attrs``, a ``join``
        or a frame rebuilt from the values loses them, and with them
        this rule and the held-out cost check. None: off. Used by ``max_net_value``
        without a budget only among offers exactly as dear as a customer's best (e-mails of the
        same send cost, say): of those whose net value is within one standard error of the best's
        (the two offers' difference in level, in money: sqrt(((v - r_a) se_a)^2 + ((v - r_b)
        se_b)^2), v the value of a conversion and r an offer's redemption cost), the customer gets
        the one of largest average effect in the experiment, ``effects.attrs["arm_average_effect"]``
        (recorded by ``predict_effects``; reason ``"offer better on average within noise"``; without
        the record the customer's own best). On Hillstrom (``experiments/bench_uplift.py``, an
        e-mail at $0.05) it turned the plan's -$0.0003 a customer against e-mailing everyone the
        Mens e-mail, the better on average, into +$0.00002. Until session 47 a customer was also
        moved to a cheaper offer within that noise; on the known response surfaces
        (``experiments/bench_offer_surface.py``, 5 seeds, the same fits) that cost more than it
        gave: max net value without a budget captured 63.7% of the oracle over 72 cells with 27
        under 60%, against 65.6% with 22 without it (written as outside checks: H 50.6% against
        57.8%, I 55.6% against 59.3%; F 45.2% against 62.5%; D and E 72.2% against 79.3%), though it
        had lifted the lowest cells of Hillstrom's surfaces A-C (57% against 36%), rarer purchases
        (37% against 6%) and Online Retail II's (47% against 36%; experiments/RESULTS.md). Used by
        ``cheapest_effective``
        without a budget too: a customer gets the cheapest effective offer whose net value
        exceeds one standard error of the offer's effect in money, ``|v - r| se``, where se is the
        effect's (see below: ``attrs["arm_effect_se"]``, else sqrt(se_o^2 + se_control^2)), and the
        cheapest effective offer only when no offer clears it (reason ``"cheapest offer clear of
        noise"`` for a customer moved to a dearer offer). A cheap send is effective on the
        smallest estimated uplift, so that is where a level read too high lands: on a stress
        surface with six rewards, one of them a 1-cent push that lowers purchases for most
        customers but whose level had read a point high, the plan gave the push to nearly
        everyone and was worth -17.6% of the oracle's net value; with the rule 144%
        (``experiments/bench_offer_surface.py --surfaces F``, 5 seeds; the oracle's cheapest
        effective plan is not the most valuable one). Without a budget it also raised the
        simulator's cheapest effective plan from 64.8% to 82.4% of the oracle's value, surfaces
        A-C from 100.3% to 102.8%, R 93.5% to 100.6%, D/E 98.4% to 108.9% and rarer purchases
        85.0% to 90.3% (experiments/RESULTS.md). With a budget the rule is off, even a budget
        the plan without one would fit in: the plan within a budget is the knapsack's, so it does
        not jump as the budget crosses that plan's cost (the rule's plan costs more, and just
        under its cost the knapsack's menu is the cheapest offers: in one case a plan worth 105
        fell to 43 for half a unit less budget), and a holdout planned with its share of the
        budget stays like the treated customers. There, applied, it cost
        up to 5 points (rarer purchases at half the oracle's spend, 62.5% to 57.7%) while a plan
        that gave the harmful push within a budget stayed below zero either way. With a budget
        the ``max_net_value`` rule is off
        (narrowing each customer's choice to offers no dearer than that moved the knapsack's
        capture by -1.5 to +0.6 points, a loss on the usual purchase rates) and the standard
        errors go into the prudent cost instead: each positive uplift is raised by the standard
        error of its offer's average effect before ``budget_uplift_factor`` multiplies it:
        ``effects.attrs["arm_effect_se"]`` when ``predict_effects`` recorded it for every offer
        (within the campaigns that sent each offer, with ``fit(groups=)``), else
        sqrt(se_o^2 + se_control^2), the control's read from ``effects.attrs["control_mean_se"]``
        (0 when absent). The standard errors used (None when no rule used them) are in
        ``attrs["arm_mean_se"]``, with a budget the control's in ``attrs["control_mean_se"]``,
        and with a budget or under ``cheapest_effective`` without one each offer's effect's in
        ``attrs["arm_effect_se"]``.
    cost_calibration : "auto" or None
        With a budget, price each customer's cheapest offer by the model's held-out check of its
        purchase probabilities instead of ``budget_uplift_factor`` and the standard errors:
        ``"auto"`` (the default) reads ``effects.attrs["cost_calibration"]``, which
        ``UpliftModel.predict_effects`` records (``UpliftModel(cost_folds=2)``, the default), when
        it covers every offer considered. Customer i's offer o then counts p_i(o) times the upper
        ratio, (observed + 3 se) / predicted, of the purchase rate its offer's held-out rows showed
        to the probability the cross-fitted model gave them, in the band of estimated effect
        u_i(o) falls in (:mod:`loyalty_ml.policy._prudent_cost`), never less than p_i(o). A dearer
        offer keeps the factor rule as a floor (the larger of the two): it is given over cheaper
        ones on the strength of several estimates, a selection no band of its own effect sees.
        A band whose held-out rows made fewer than 20 purchases prices nothing: its customers keep
        the factor rule (with purchases at 0.5-1%, such a band let a plan cost 1.03x its budget).
        None, or effects without the record: the factor rule alone. Whether the check was used is
        in ``attrs["cost_calibration"]`` (with a budget).

    Returns
    -------
    DataFrame
        Indexed like ``effects``: ``offer_id`` (NA = no offer), ``expected_uplift``,
        ``expected_cost``, ``expected_net_value`` (0 without an offer), ``reason`` (see
        :data:`REASONS`; ``"holdout"`` only for a customer of the holdout from whom an effective,
        eligible, uncapped offer was withheld) and ``in_holdout`` (True for every customer drawn
        into the holdout). With a budget, ``attrs["budget"]`` holds it (read by
        :func:`summarize_plan`), ``attrs["budget_upper_bound"]`` an upper bound on the
        best achievable total net value within the budget less its reserve (the LP relaxation) and
        ``attrs["budget_cost"]`` the plan's total prudent cost, the sum the budget binds, and
        ``attrs["budget_reserve"]`` the share of the budget kept back.

    Examples
    --------
    >>> catalog = OfferCatalog.from_frame(pd.DataFrame(
    ...     {"offer_id": ["d5", "d10"], "cost_per_redemption": [5.0, 10.0]}))
    >>> effects = pd.DataFrame({"d5": [0.10, 0.0], "d10": [0.20, 0.01]},
    ...                        index=pd.Index([1, 2], name="customer_id"))
    >>> plan = choose_offers(effects, catalog, baseline=pd.Series([0.1, 0.5], index=[1, 2]),
    ...                      value_per_conversion=40.0)
    >>> plan[["offer_id", "reason"]].to_dict("list")
    {'offer_id': ['d5', nan], 'reason': ['cheapest effective', 'no effective offer']}
    """
    _check_options(
        catalog,
        strategy,
        min_uplift,
        budget,
        holdout_fraction,
        budget_uplift_factor,
        budget_reserve,
    )
    check_rest_days(min_days_between_offers, owner="choose_offers")
    check_seed(random_state, owner="choose_offers")
    if not (
        cost_calibration is None
        or (isinstance(cost_calibration, str) and cost_calibration == "auto")
    ):
        raise ConfigError(
            "The 'cost_calibration' parameter of choose_offers must be 'auto' (price a budget by "
            "the model's held-out check when the effects carry it) or None (by "
            f"budget_uplift_factor). Got {cost_calibration!r} instead."
        )
    if history is not None and not isinstance(history, pd.DataFrame):
        raise DataError(
            f"choose_offers: history must be a pandas DataFrame of past sends (customer_id, "
            f"offer_id, sent_at); got {type(history).__name__}."
        )
    if not isinstance(effects, pd.DataFrame):
        raise PolicyError(
            f"choose_offers: effects must be a DataFrame; got {type(effects).__name__}."
        )
    for name, given in (("effects", effects), ("baseline", baseline)):
        if getattr(given, "attrs", {}).get("outcome") == "continuous":
            # small margins pass every range check and would be priced as probabilities
            raise DataError(
                f"choose_offers: {name} comes from an UpliftModel fitted on a continuous outcome "
                "(spend or margin), but the costs of DESIGN section 5 price redemptions with the "
                "probability of a purchase. Fit the UpliftModel on a 0/1 purchase outcome for the "
                "plan, and pass the margin of a conversion as value_per_conversion."
            )
    if isinstance(effects.index, pd.MultiIndex):
        raise PolicyError(
            f"choose_offers: effects has a MultiIndex {list(effects.index.names)}; a plan gives "
            "each customer at most one offer: pass the effects of one cutoff indexed by "
            "customer_id (e.g. effects.xs(as_of, level='as_of'))."
        )
    if effects.index.hasnans:
        # a row with no customer could take an offer, and the budget, from a customer
        at = np.flatnonzero(pd.isna(effects.index))
        raise DataError(
            f"choose_offers: effects has {len(at)} rows without a customer id (rows "
            f"{format_ids(at.tolist(), total=len(at))} by position); a plan gives offers to "
            "customers. Drop them (effects[effects.index.notna()]) or find the join that lost "
            "their ids."
        )
    # one customer by text, as the holdout and consent read ids (7, "7" and " 7"): two rows of one
    # customer would get two offers, or one held out while the other is offered
    keys = (
        effects.index
        if effects.index.dtype.kind in "iu"
        else pd.Index(id_texts(effects.index, caller="choose_offers"))
    )
    if keys.has_duplicates:
        dup = effects.index[keys.duplicated(keep=False)].unique()
        raise DataError(
            f"choose_offers: effects has duplicate customer ids {format_ids(dup.tolist(), total=len(dup))} "
            "(ids of the same text, such as 7 and '7', are one customer). A plan gives each "
            "customer at most one offer: pass one row per customer (e.g. the "
            "features of one as_of date, not a table stacked over several cutoffs)."
        )
    unknown = [str(c) for c in effects.columns if str(c) not in catalog]
    if unknown:
        raise PolicyError(
            f"choose_offers: effects has columns {format_examples(unknown, total=len(unknown))} that "
            f"are not offers of the catalog {list(catalog.ids)}. Drop them or add them to the "
            f"catalog.{_numbered_arms_hint(unknown, catalog, effects.columns)}"
        )
    names = pd.Index([str(c) for c in effects.columns])
    repeated = sorted(set(names[names.duplicated()]))
    if repeated:
        raise DataError(
            f"choose_offers: effects has more than one column for offers "
            f"{format_examples(repeated, total=len(repeated))} (columns are read as text, so 101 "
            "and '101' are one offer); keep one column per offer."
        )
    # offers in id order: ties of cost and value go to the same offer whatever the catalog's order
    offers = sorted((o for o in catalog if o.offer_id in set(names)), key=lambda o: o.offer_id)
    if not offers:
        raise PolicyError("choose_offers: effects has no column for any offer of the catalog.")
    ids = [o.offer_id for o in offers]

    # Work in the order of the ids' text so that nothing (holdout draw, knapsack ties) depends on
    # row order or on the ids' dtype (sorted as numbers, 9 came before 10, as text after it, and
    # a budget gave two tied customers opposite offers)
    index = (
        effects.index.sort_values()  # row numbers stay aligned with inputs of row numbers
        if is_row_numbers(effects.index)
        else effects.index[_id_text_order(effects.index)]
    )
    frame = effects.rename(columns=str).reindex(index)
    uplift = effect_values(frame[ids])
    infinite = np.isinf(uplift)
    if infinite.any():
        rows, cols = np.nonzero(infinite)
        pairs = [(index[r], ids[c]) for r, c in zip(rows[:5], cols[:5], strict=True)]
        raise DataError(
            f"choose_offers: effects has {int(infinite.sum())} infinite values (customer, offer) "
            f"{format_examples(pairs, total=int(infinite.sum()))}; an effect is a change in the "
            "probability of a conversion. Fix them, or set them to NaN to make that offer "
            "unavailable to those customers."
        )
    impossible = np.abs(np.nan_to_num(uplift)) > 1.0
    if impossible.any():
        rows, cols = np.nonzero(impossible)
        pairs = [(index[r], ids[c]) for r, c in zip(rows[:5], cols[:5], strict=True)]
        found = np.unique(uplift[impossible])
        raise DataError(
            f"choose_offers: effects must be changes in the probability of a conversion, in "
            f"[-1, 1]; {int(impossible.sum())} values are not "
            f"({format_examples(found.tolist(), total=found.size)}; (customer, offer) "
            f"{format_ids(pairs, total=int(impossible.sum()))}). Effects on spend or margin are "
            "money, not probabilities: fit the UpliftModel on a 0/1 purchase outcome for the plan."
        )
    p0 = customer_values(baseline, index, "baseline")
    outside = (p0 < 0.0) | (p0 > 1.0)
    if outside.any():
        values = np.unique(p0[outside])
        raise DataError(
            "choose_offers: baseline must be a probability of conversion in [0, 1] (it prices the "
            "redemptions of customers who would have bought anyway); customers "
            f"{format_ids(index[outside].tolist(), total=int(outside.sum()))} have "
            f"{format_examples(values.tolist(), total=values.size)}. "
            "Pass the baseline of an UpliftModel fitted on a binary outcome (purchase in the window), "
            "not on spend."
        )
    value = conversion_values(value_per_conversion, index)

    unclipped = p0[:, None] + uplift
    p_offer = np.clip(unclipped, 0.0, 1.0)
    redemption = np.array([o.redemption_cost for o in offers])
    send = np.array([o.cost_per_send for o in offers])
    cost = p_offer * redemption + send
    # The uplift a probability can take: an estimate pushing p_i(o) past 1 (or below 0) cannot
    # buy more conversions than 1 - p_i(0) (or lose more than p_i(0)).
    uplift = np.where(unclipped == p_offer, uplift, p_offer - p0[:, None])
    net = uplift * value[:, None] - cost
    if isinstance(arm_mean_se, str) and arm_mean_se == "auto":
        warn_unrecorded_offers(
            effects.attrs,
            ids,
            budget=budget is not None
            and cost_calibration is not None
            and isinstance(effects.attrs.get("cost_calibration"), dict),
        )
    noise = read_arm_mean_se(arm_mean_se, effects.attrs, ids)
    control_se = 0.0 if noise is None else read_control_mean_se(effects.attrs)
    # What a budget binds: incremental redemptions counted budget_uplift_factor times (>= cost),
    # each positive uplift first raised by the standard error of its offer's average effect.
    # cheapest_effective without a budget prefers offers whose net value clears the noise in
    # their effect (see choose); a budget puts that noise in the prudent cost instead
    clear_rule = noise is not None and strategy == "cheapest_effective" and budget is None
    effect_se = clear_margin = None
    if noise is not None and (budget is not None or clear_rule):
        effect_se = read_effect_se(effects.attrs, ids)
        if effect_se is None:
            effect_se = np.sqrt(noise**2 + control_se**2)
        if clear_rule:
            # money a one-standard-error error in each offer's effect (its level against the
            # control's) moves its net value by
            clear_margin = np.abs(value[:, None] - redemption) * effect_se
    prudent = check = None
    if budget is not None:
        check = None if cost_calibration is None else read_cost_calibration(effects.attrs, ids)
        level = 0.0 if effect_se is None else effect_se[None, :]
        prudent_uplift = np.where(uplift > 0, budget_uplift_factor * (uplift + level), uplift)
        prudent = np.clip(p0[:, None] + prudent_uplift, 0.0, 1.0) * redemption + send
        if check is not None:
            # The check prices each customer's cheapest offer. A dearer one is given over cheaper
            # ones on the strength of several estimates, a selection no band of its own effect
            # sees, so the factor rule stays its floor.
            by_check = calibrated_probability(p_offer, uplift, check) * redemption + send
            # a band checked on too few purchases prices nothing: the factor rule stays
            by_check = np.where(np.isnan(by_check), prudent, by_check)
            prudent = np.where(cheapest_offers(cost), by_check, np.maximum(by_check, prudent))
    effective = np.isfinite(uplift) & (net > 0) & (uplift >= min_uplift)

    consenting = (
        np.ones(len(index), dtype=bool)
        if consent is None
        else customer_flags(consent, index, "consent")  # missing = no consent
    )
    holdout = _draw_holdout(consenting, holdout_fraction, random_state, index)
    allowed = offer_eligibility(eligible, index, ids)
    sends = read_sends(history, as_of, min_days_between_offers)
    # a retired offer (max_per_month=0) is capped for everyone, with or without a history
    capped = np.zeros((len(index), len(ids)), dtype=bool)
    capped[:, [j for j, offer in enumerate(offers) if offer.max_per_month == 0]] = True
    contacted = np.zeros(len(index), dtype=bool)
    controlled = np.zeros(len(index), dtype=bool)
    if sends is not None and history is not None:
        texts = customer_texts(index)  # once: 0.4 s a million customers
        warn_if_no_send_matches(sends, texts, min_days_between_offers)
        capped |= capped_offers(history, sends, texts, offers)
        if min_days_between_offers is not None:
            contacted, controlled = cooling_down(sends, texts, min_days_between_offers)
    resting = contacted | controlled
    candidate = effective & allowed & ~capped & (consenting & ~holdout & ~resting)[:, None]

    reserve = _reserve(budget_reserve, redemption)
    binding = None if budget is None else budget * (1.0 - reserve)
    # money a one-standard-error error in each offer's level moves its net value by; the rule is
    # for max_net_value without a budget only (a budget uses the noise in the prudent cost)
    level_sd = average = None
    if noise is not None and strategy == "max_net_value" and budget is None:
        level_sd = np.abs(value[:, None] - redemption) * noise
        average = read_average_effect(effects.attrs, ids)
    # the candidates whose net value clears the noise in their effect
    clear = None if clear_margin is None else candidate & (net > clear_margin)
    chosen, chosen_reason, upper = choose(
        candidate,
        cost,
        prudent,
        net,
        strategy,
        binding,
        level_sd=level_sd,
        average=average,
        clear=clear,
    )

    reason = np.full(len(index), NOT_EFFECTIVE, dtype=object)
    # what stopped the offers that would have paid, or every offer: the caps on the eligible
    # ones, else eligibility (an ineffective offer left open does not make it "no effective offer")
    eligible_effective = (allowed & effective).any(axis=1)
    open_offers = allowed & ~capped
    open_effective = (open_offers & effective).any(axis=1)
    reason[~open_offers.any(axis=1) | (eligible_effective & ~open_effective)] = CAPPED
    reason[~allowed.any(axis=1) | (effective.any(axis=1) & ~eligible_effective)] = NOT_ELIGIBLE
    reason[controlled] = IN_CONTROL
    reason[contacted] = COOL_DOWN
    # "holdout" says an offer was withheld: one was open to the customer (effective, eligible,
    # uncapped, not resting); a customer of the holdout who would have got nothing keeps the
    # reason he would have had (in_holdout still says he is in it). Labelling them all "holdout",
    # the nightly job counted 1,852 rows over 35 simulated nights where 105 offers were withheld.
    would_offer = (effective & allowed & ~capped).any(axis=1) & ~resting
    reason[holdout & would_offer] = HOLDOUT
    reason[~consenting] = NO_CONSENT
    has_candidate = candidate.any(axis=1)
    reason[has_candidate] = chosen_reason[has_candidate]

    rows = np.arange(len(index))
    pick = np.maximum(chosen, 0)
    got = chosen >= 0
    plan = pd.DataFrame(
        {
            C.OFFER_ID: pd.Series(
                np.where(got, np.asarray(ids, dtype=object)[pick], None), dtype="str", index=index
            ),
            EXPECTED_UPLIFT: np.where(got, uplift[rows, pick], 0.0),
            EXPECTED_COST: np.where(got, cost[rows, pick], 0.0),
            EXPECTED_NET_VALUE: np.where(got, net[rows, pick], 0.0),
            REASON: pd.Series(reason, dtype="str", index=index),
            IN_HOLDOUT: holdout,
        },
        index=index,
    ).reindex(effects.index.copy())  # a copy: renaming the plan's index leaves effects' alone
    if prudent is not None and budget is not None:
        plan.attrs["budget"] = float(budget)
        plan.attrs["budget_upper_bound"] = float(upper)
        plan.attrs["budget_cost"] = math.fsum(prudent[rows[got], pick[got]])  # as the knapsack sums
        plan.attrs["budget_reserve"] = reserve
        plan.attrs["cost_calibration"] = check is not None
    used = noise if level_sd is not None or clear is not None or budget is not None else None
    plan.attrs["arm_mean_se"] = None if used is None else dict(zip(ids, used.tolist(), strict=True))
    plan.attrs["control_mean_se"] = control_se if used is not None and budget is not None else None
    plan.attrs["arm_effect_se"] = (
        None if effect_se is None else dict(zip(ids, effect_se.tolist(), strict=True))
    )
    return plan


def _reserve(budget_reserve: float | str, redemption: np.ndarray) -> float:
    """The share of a budget kept back: ``"auto"`` resolves to 1% unless every cost is certain.

    >>> _reserve("auto", np.array([0.0, 5.0])), _reserve("auto", np.array([0.0])), _reserve(0.02, np.zeros(1))
    (0.01, 0.0, 0.02)
    """
    if isinstance(budget_reserve, str):  # "auto", as validated
        return AUTO_BUDGET_RESERVE if (redemption > 0).any() else 0.0
    return float(budget_reserve)


def check_plan_options(budget: object, strategy: object, *, owner: str) -> None:
    """Refuse a ``budget`` that is not None or a finite number >= 0, and an unknown ``strategy``."""
    if not isinstance(strategy, str) or strategy not in _STRATEGIES:
        raise ConfigError(
            f"The 'strategy' parameter of {owner} must be one of {list(_STRATEGIES)}. "
            f"Got {strategy!r} instead."
        )
    if budget is not None and not (is_real(budget, finite=True) and budget >= 0):
        raise ConfigError(
            f"The 'budget' parameter of {owner} must be None or a finite number >= 0. "
            f"Got {budget!r} instead."
        )


def check_rest_days(days: object, *, owner: str) -> None:
    """Refuse a ``min_days_between_offers`` that is not None or a whole number of days >= 1."""
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1
    ):
        raise ConfigError(
            f"The 'min_days_between_offers' parameter of {owner} must be None or a whole number "
            f"of days >= 1 (None: no contact rule). Got {days!r} instead."
        )


def _check_options(
    catalog: OfferCatalog,
    strategy: str,
    min_uplift: float,
    budget: float | None,
    holdout_fraction: float,
    budget_uplift_factor: float,
    budget_reserve: float | str,
) -> None:
    if not isinstance(catalog, OfferCatalog):
        raise PolicyError(
            "choose_offers: catalog must be an OfferCatalog (use OfferCatalog.from_frame(offers)); "
            f"got {type(catalog).__name__}."
        )
    check_plan_options(budget, strategy, owner="choose_offers")
    if not (is_real(min_uplift, finite=True)):
        raise ConfigError(
            f"The 'min_uplift' parameter of choose_offers must be a finite number. Got {min_uplift!r} instead."
        )
    if not (is_real(budget_uplift_factor, finite=True) and budget_uplift_factor >= 1):
        raise ConfigError(
            "The 'budget_uplift_factor' parameter of choose_offers must be a finite number >= 1 "
            "(1 prices incremental redemptions at face value, which suits exact effects only). "
            f"Got {budget_uplift_factor!r} instead."
        )
    if isinstance(budget_reserve, str):
        valid = budget_reserve == "auto"
    else:
        valid = is_real(budget_reserve, finite=True) and 0 <= budget_reserve < 1
    if not valid:
        raise ConfigError(
            "The 'budget_reserve' parameter of choose_offers must be 'auto' or a number in [0, 1) "
            f"(the share of a budget kept back; 0 spends all of it). Got {budget_reserve!r} instead."
        )
    if not (is_real(holdout_fraction) and 0 <= holdout_fraction < 1):
        percent = (
            f" (for {float(holdout_fraction):g}% of the customers pass "
            f"{float(holdout_fraction) / 100:g})"
            if is_real(holdout_fraction, finite=True) and 1 < holdout_fraction < 100
            else ""
        )
        raise ConfigError(
            f"The 'holdout_fraction' parameter of choose_offers must be a share in [0, 1){percent}. "
            f"Got {holdout_fraction!r} instead."
        )


def _draw_holdout(
    pool: np.ndarray,
    fraction: float,
    random_state: int | np.random.Generator | None,
    index: pd.Index,
) -> np.ndarray:
    """``round(fraction * n)`` of the ``n`` customers in ``pool``, drawn by a seeded hash of their
    id text: the same customers for the same seed whatever the row order or the ids' dtype (13085,
    "13085" and 13085.0 are one customer)."""
    holdout = np.zeros(len(pool), dtype=bool)
    members = np.flatnonzero(pool)
    size = round(fraction * len(members))
    if size:
        key = np.random.default_rng(random_state).bytes(8).hex()  # 16 characters
        texts = id_texts(index[members], caller="choose_offers")
        # smallest numbers first; equal numbers (never in practice) by id text
        order = np.lexsort((texts.astype(str), id_hash_units(texts, key=key)))
        holdout[members[order[:size]]] = True
    return holdout


def _id_text_order(index: pd.Index) -> np.ndarray:
    """Positions that sort ``index`` by its ids' text (:func:`id_texts`). Integer ids are their
    own text, written by NumPy at once (the nightly job orders a million of them: 1.7 s through
    ``id_texts``' per-id reading); ids repeated as text are refused before this."""
    if isinstance(index, pd.MultiIndex):
        texts = np.asarray(index.map(str), dtype=str)
    elif index.dtype.kind in "iu":
        texts = index.to_numpy().astype(str)
    else:
        read = pd.Series(id_texts(index, caller="choose_offers"), dtype=object)
        texts = read.fillna("").to_numpy(dtype=str)
    return np.argsort(texts, kind="stable")
