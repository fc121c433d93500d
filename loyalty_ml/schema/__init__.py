"""Data contracts: canonical columns, column mapping and validation of the input tables."""

from loyalty_ml.schema.canonical import CAMPAIGNS_SCHEMA, TRANSACTIONS_SCHEMA, check_canonical
from loyalty_ml.schema.column_map import ColumnMap
from loyalty_ml.schema.events import validate_events
from loyalty_ml.schema.report import CleaningReport, CleaningStep
from loyalty_ml.schema.tables import (
    looks_like_personal_data,
    validate_campaigns,
    validate_customers,
    validate_offers,
)
from loyalty_ml.schema.transactions import cleaning_report, validate_transactions

__all__ = [
    "CAMPAIGNS_SCHEMA",
    "TRANSACTIONS_SCHEMA",
    "CleaningReport",
    "CleaningStep",
    "ColumnMap",
    "check_canonical",
    "cleaning_report",
    "looks_like_personal_data",
    "validate_campaigns",
    "validate_customers",
    "validate_events",
    "validate_offers",
    "validate_transactions",
]
