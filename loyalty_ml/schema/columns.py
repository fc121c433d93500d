"""Canonical column names: the one place every other module takes them from."""

from __future__ import annotations

from typing import Final

# -- transactions ------------------------------------------------------------------------------
CUSTOMER_ID: Final = "customer_id"
TIMESTAMP: Final = "timestamp"
AMOUNT: Final = "amount"
ORDER_ID: Final = "order_id"
QUANTITY: Final = "quantity"
PRODUCT_ID: Final = "product_id"
CATEGORY: Final = "category"
CHANNEL: Final = "channel"
STORE_ID: Final = "store_id"
DISCOUNT: Final = "discount"
MARGIN: Final = "margin"

TRANSACTION_REQUIRED: Final = (CUSTOMER_ID, TIMESTAMP, AMOUNT)
TRANSACTION_OPTIONAL: Final = (
    ORDER_ID,
    QUANTITY,
    PRODUCT_ID,
    CATEGORY,
    CHANNEL,
    STORE_ID,
    DISCOUNT,
    MARGIN,
)
TRANSACTION_COLUMNS: Final = TRANSACTION_REQUIRED + TRANSACTION_OPTIONAL

# -- customers ---------------------------------------------------------------------------------
SIGNUP_DATE: Final = "signup_date"
AGE_BAND: Final = "age_band"
GENDER: Final = "gender"
INCOME_BAND: Final = "income_band"
REGION: Final = "region"
TIER: Final = "tier"
POINTS_BALANCE: Final = "points_balance"
#: The one level a category feature holds for every value too rare to keep (``FeatureConfig``'s
#: ``min_level_customers``), and the level a model with it reads any value it has no level for as.
RARE_LEVEL: Final = "(rare)"
CONSENT_MARKETING: Final = "consent_marketing"
CONSENT_PROFILING: Final = "consent_profiling"

CONSENT_COLUMNS: Final = (CONSENT_MARKETING, CONSENT_PROFILING)
#: Attributes kept for fairness audits; not model features unless the user opts in explicitly.
PROTECTED_ATTRIBUTES: Final = (AGE_BAND, GENDER, INCOME_BAND)
#: Substrings of column names that look like personal data; such columns are refused as features.
PERSONAL_DATA_MARKERS: Final = (
    "name",
    "email",
    "e_mail",
    "e-mail",
    "phone",
    "telefon",
    "address",
    "adresse",
    "street",
    "strasse",
    "postcode",
    "postal",
    "zip",
    "birth",
    "geburt",
    "passport",
    "ssn",
    "iban",
    "card_number",
    "credit_card",
    "creditcard",
    "post_code",
    "user_agent",
    "national_id",
    "social_security",
    "mobilenumber",
    "cellnumber",
    "cellphone",
    "phonenumber",
    "free_text",
    "comment",
    "remark",
)
#: Short markers matched as whole words of a column name only ("ip" is personal, "tip" is not).
PERSONAL_DATA_WORDS: Final = frozenset(
    {
        "ip",
        "dob",
        "plz",
        "tel",
        "mobile",
        "msisdn",
        "cell",
        "mail",
        "note",
        "notes",
        "memo",
        "addr",
        "mobileno",
    }
)

# -- offers catalog ----------------------------------------------------------------------------
OFFER_ID: Final = "offer_id"
OFFER_NAME: Final = "name"
KIND: Final = "kind"
COST_PER_REDEMPTION: Final = "cost_per_redemption"
COST_PER_SEND: Final = "cost_per_send"
OFFER_CHANNEL: Final = "channel"
MIN_BASKET: Final = "min_basket"
MAX_PER_MONTH: Final = "max_per_month"
#: Share of a points reward that expires unused (0 <= breakage < 1; points offers only).
BREAKAGE: Final = "breakage"
STACKABLE: Final = "stackable"
OFFER_KINDS: Final = ("discount", "cashback", "free_item", "points", "non_monetary")

# -- campaign history / experiments ------------------------------------------------------------
CAMPAIGN_ID: Final = "campaign_id"
SENT_AT: Final = "sent_at"
REDEEMED: Final = "redeemed"
REDEEMED_AT: Final = "redeemed_at"
#: The label of the control arm in campaign history and uplift models.
CONTROL: Final = "control"
#: The ``offer_id`` of a contact made without an offer (the trigger's e-mail, push, SMS or call
#: of a policy without an offer model, written by ``nightly_sends``): the contact rule rests the
#: customer after it, as after an offer, but it is neither an offer nor the control, so the
#: campaign features and the offer (uplift) model leave it out.
CONTACT: Final = "contact"

# -- engagement and feedback events ----------------------------------------------------------------
#: The kind of an event as text ("app_open", "email_click", "review", "nps", "complaint").
EVENT: Final = "event"
#: The number an event carries (a rating 1-5, an NPS answer 0-10); missing for plain engagement.
EVENT_VALUE: Final = "value"
EVENT_REQUIRED: Final = (CUSTOMER_ID, TIMESTAMP, EVENT)
EVENT_COLUMNS: Final = (*EVENT_REQUIRED, EVENT_VALUE)

# -- index of the training table ---------------------------------------------------------------
AS_OF: Final = "as_of"
CHURNED: Final = "churned"
