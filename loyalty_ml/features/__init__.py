"""Features and labels: point-in-time customer features, churn labels, boundaries and segments.

Everything here reads transactions strictly before an explicit ``as_of`` (labels read
``[as_of, as_of + horizon)``), sorts the data once and aggregates with numpy on integer customer
codes, so a 10-million-row table takes seconds.
"""

from __future__ import annotations

from loyalty_ml.features.boundaries import STATES, Boundaries, estimate_boundaries
from loyalty_ml.features.build import build_features
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.features.experiments import experiment_table
from loyalty_ml.features.labels import churn_labels
from loyalty_ml.features.segments import (
    SEGMENTS,
    RFMEdges,
    rfm_edges,
    rfm_segments,
    segment_migration,
)
from loyalty_ml.features.training import training_table

__all__ = [
    "SEGMENTS",
    "STATES",
    "Boundaries",
    "FeatureConfig",
    "RFMEdges",
    "build_features",
    "churn_labels",
    "estimate_boundaries",
    "experiment_table",
    "rfm_edges",
    "rfm_segments",
    "segment_migration",
    "training_table",
]
