"""Privacy safeguards: consent, data minimisation, pseudonymisation and erasure on request."""

from loyalty_ml.privacy.consent import (
    ConsentSplit,
    exclude_without_profiling_consent,
    may_profile,
    profiled_only,
    split_by_consent,
    withhold_offers_without_marketing_consent,
)
from loyalty_ml.privacy.erasure import ErasureReport, erase_customers
from loyalty_ml.privacy.minimisation import (
    check_no_personal_data,
    is_protected_attribute,
    personal_data_columns,
    select_needed_columns,
)
from loyalty_ml.privacy.pseudonymise import (
    SALT_ENV_VAR,
    pseudonymise_frame,
    pseudonymise_ids,
    resolve_salt,
)

__all__ = [
    "SALT_ENV_VAR",
    "ConsentSplit",
    "ErasureReport",
    "check_no_personal_data",
    "erase_customers",
    "exclude_without_profiling_consent",
    "is_protected_attribute",
    "may_profile",
    "personal_data_columns",
    "profiled_only",
    "pseudonymise_frame",
    "pseudonymise_ids",
    "resolve_salt",
    "select_needed_columns",
    "split_by_consent",
    "withhold_offers_without_marketing_consent",
]
