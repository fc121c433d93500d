"""The promotion rule, model URIs and the aliases it sets (the whole registry is tested end to end
in test_tracking_train.py; the alias bookkeeping here on a real MLflow registry in a temp folder)."""

from __future__ import annotations

import pytest

from loyalty_ml.exceptions import ConfigError, TrackingError
from loyalty_ml.tracking.registry import (
    PromotionDecision,
    decide_promotion,
    parse_model_uri,
    set_alias,
)


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


@pytest.mark.filterwarnings("ignore::FutureWarning")  # MLflow's own notice about the file store
def test_a_new_champion_retires_an_older_challenger(tmp_path) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("m")
    for _ in range(4):
        client.create_model_version("m", source=str(tmp_path))
    set_alias(client, "m", "1", PromotionDecision("champion", True, "first"))
    set_alias(client, "m", "2", PromotionDecision("challenger", False, "worse"))
    assert client.get_registered_model("m").aliases == {"champion": 1, "challenger": 2}

    set_alias(client, "m", "3", PromotionDecision("champion", True, "better"))
    # version 2 lost to version 1, which no longer serves: nothing should A/B test it now
    assert client.get_registered_model("m").aliases == {"champion": 3}
    tags = {v: client.get_model_version("m", v).tags["promotion"] for v in ("1", "2", "3")}
    assert tags == {
        "1": "superseded by version 3 (@champion)",
        "2": "retired: version 3 became @champion",
        "3": "champion",
    }
    # a newer challenger is left alone by the champion it lost to
    set_alias(client, "m", "4", PromotionDecision("challenger", False, "worse"))
    assert client.get_registered_model("m").aliases == {"champion": 3, "challenger": 4}


def test_the_quality_floor_keeps_a_version_from_promotion_champion_or_not() -> None:
    """Below ``min_metric`` (or NaN), a candidate is a challenger even without a champion; a NaN
    candidate was promoted when there was no champion."""
    low = decide_promotion(candidate_metric=0.52, champion_metric=None, min_metric=0.55)
    assert (low.alias, low.promoted) == ("challenger", False)
    assert low.reason.startswith("backtest roc_auc 0.5200 is below the quality floor")
    assert not decide_promotion(
        candidate_metric=0.52, champion_metric=0.5, min_metric=0.55
    ).promoted
    nan = decide_promotion(candidate_metric=float("nan"), champion_metric=None)
    assert (nan.alias, nan.reason) == ("challenger", "the backtest metric is undefined (NaN)")
    assert decide_promotion(candidate_metric=0.55, champion_metric=None, min_metric=0.55).promoted
    failed = decide_promotion(
        candidate_metric=0.4, champion_metric=None, min_metric=0.55, fairness_passed=False
    )
    assert failed.reason == "fairness gate failed"  # the fairness gate is named first
