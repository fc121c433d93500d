"""The columns of an offer plan and every reason a plan row can give (:func:`.offers.choose_offers`)."""

from __future__ import annotations

from loyalty_ml.schema import columns as C

__all__ = [
    "BETTER_ON_AVERAGE",
    "BUDGET_CHEAPER",
    "BUDGET_OUT",
    "CAPPED",
    "CHEAPEST",
    "CLEAR_OF_NOISE",
    "COOL_DOWN",
    "EXPECTED_COST",
    "EXPECTED_NET_VALUE",
    "EXPECTED_UPLIFT",
    "HOLDOUT",
    "IN_CONTROL",
    "IN_HOLDOUT",
    "MAX_VALUE",
    "NOT_EFFECTIVE",
    "NOT_ELIGIBLE",
    "NO_CONSENT",
    "PLAN_COLUMNS",
    "REASON",
    "REASONS",
]

EXPECTED_UPLIFT = "expected_uplift"
EXPECTED_COST = "expected_cost"
EXPECTED_NET_VALUE = "expected_net_value"
REASON = "reason"
#: Column of a plan: True for every customer drawn into the holdout, whatever the reason says
#: (``"holdout"`` only where an offer was withheld).
IN_HOLDOUT = "in_holdout"
PLAN_COLUMNS = (C.OFFER_ID, EXPECTED_UPLIFT, EXPECTED_COST, EXPECTED_NET_VALUE, REASON, IN_HOLDOUT)

#: decide's and score_customers' column of the offer a customer of the holdout would have been
#: made (missing for everyone else); their plans have no ``in_holdout``.
HOLDOUT_OFFER = "holdout_offer_id"
NO_CONSENT = "no marketing consent"
#: offer_reason of a customer who may not be profiled (``score_customers``, ``decide``): not
#: scored, so offered nothing either.
NOT_PROFILED = "no profiling consent"
HOLDOUT = "holdout"
NOT_ELIGIBLE = "not eligible"
CAPPED = "monthly cap reached"
COOL_DOWN = "contacted recently"
IN_CONTROL = "in a recent control group"
NOT_EFFECTIVE = "no effective offer"
CHEAPEST = "cheapest effective"
MAX_VALUE = "max net value"
BUDGET_CHEAPER = "cheaper offer within budget"
BUDGET_OUT = "budget exhausted"
BETTER_ON_AVERAGE = "offer better on average within noise"
CLEAR_OF_NOISE = "cheapest offer clear of noise"
#: Every reason a plan row can give, in the order they are checked. A customer without an offer
#: is "not eligible" when no offer is open to them or every effective offer is closed to them,
#: "monthly cap reached" when the caps close every open offer or every effective eligible one,
#: and "no effective offer" only when some eligible, uncapped offer exists and none of them pays.
#: A customer of the holdout is "holdout" only when an offer was withheld (an effective, eligible,
#: uncapped offer was open to them, and the contact rule did not rest them); one who would have
#: got nothing keeps the reason they would have had ("no effective offer", "contacted
#: recently", ...), and the plan's ``in_holdout`` says they are in the holdout.
REASONS = (
    NO_CONSENT,
    HOLDOUT,
    COOL_DOWN,
    IN_CONTROL,
    NOT_ELIGIBLE,
    CAPPED,
    NOT_EFFECTIVE,
    CHEAPEST,
    MAX_VALUE,
    BETTER_ON_AVERAGE,
    CLEAR_OF_NOISE,
    BUDGET_CHEAPER,
    BUDGET_OUT,
)
