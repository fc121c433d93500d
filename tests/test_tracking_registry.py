"""The promotion rule and model URIs (pure functions; the registry itself is tested end to end)."""

from __future__ import annotations

import pytest

from loyalty_ml.exceptions import ConfigError, TrackingError
from loyalty_ml.tracking.registry import decide_promotion, parse_model_uri


def test_first_version_becomes_champion() -> None:
    d = decide_promotion(candidate_metric=0.6, champion_metric=None)
    assert (d.alias, d.promoted) == ("champion", True)
    assert "no current champion" in d.reason


@pytest.mark.parametrize(
    ("candidate", "champion", "alias"),
    [(0.80, 0.80, "champion"), (0.796, 0.80, "champion"), (0.794, 0.80, "challenger")],
)
def test_tolerance_is_inclusive(candidate: float, champion: float, alias: str) -> None:
    d = decide_promotion(candidate_metric=candidate, champion_metric=champion, tolerance=0.005)
    assert d.alias == alias and d.promoted == (alias == "champion")


def test_fairness_failure_blocks_promotion_even_when_better() -> None:
    d = decide_promotion(
        candidate_metric=0.9, champion_metric=0.5, fairness_passed=False, fairness_reason="gap 0.3"
    )
    assert (d.alias, d.promoted, d.reason) == ("challenger", False, "fairness gate failed: gap 0.3")


def test_nan_candidate_is_not_promoted() -> None:
    d = decide_promotion(candidate_metric=float("nan"), champion_metric=0.7)
    assert d.alias == "challenger" and "NaN" in d.reason


def test_negative_tolerance_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="'promotion_tolerance' parameter must be a finite number >= 0"
    ):
        decide_promotion(candidate_metric=0.7, champion_metric=0.7, tolerance=-0.1)


def test_parse_model_uri() -> None:
    assert parse_model_uri("models:/m@challenger") == ("m", "challenger", None)
    assert parse_model_uri("models:/m/12") == ("m", None, "12")
    with pytest.raises(TrackingError, match=r"model_uri must look like 'models:/<name>@<alias>'"):
        parse_model_uri("runs:/abc/model")
