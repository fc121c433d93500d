"""FeatureConfig validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from loyalty_ml.exceptions import ConfigError
from loyalty_ml.features import FeatureConfig


def test_defaults_and_lists_become_tuples() -> None:
    config = FeatureConfig(windows=[7, 28], channels=["app"])  # type: ignore[arg-type]
    assert config.windows == (7, 28)
    assert config.channels == ("app",)
    assert FeatureConfig().windows == (30, 90, 365)
    assert FeatureConfig().max_window_days == 365


def test_frozen_and_keyword_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        FeatureConfig().windows = (1,)  # type: ignore[misc]
    with pytest.raises(TypeError):
        FeatureConfig((30,))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"windows": ()}, "'windows' parameter"),
        ({"windows": (30, 30)}, "distinct"),
        ({"windows": (0,)}, "ints >= 1"),
        ({"windows": (True,)}, "ints >= 1"),
        ({"windows": 30}, "Got 30"),
        ({"trend_window_days": 0}, "'trend_window_days'"),
        ({"channels": "app"}, "'channels'"),
        ({"channels": ("app", "")}, "'channels'"),
        ({"high_margin_threshold": float("nan")}, "'high_margin_threshold'"),
        ({"high_margin_threshold": "0.3"}, "'high_margin_threshold'"),
        ({"protected_as_features": 1}, "'protected_as_features'"),
        ({"include_points_balance": "yes"}, "'include_points_balance'"),
        ({"extra_attributes": "region"}, "'extra_attributes'"),
        ({"extra_attributes": ("gender",)}, "protected_as_features=True"),
    ],
)
def test_bad_values_raise_config_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        FeatureConfig(**kwargs)  # type: ignore[arg-type]


def test_protected_extra_allowed_with_opt_in() -> None:
    config = FeatureConfig(extra_attributes=("gender",), protected_as_features=True)
    assert config.extra_attributes == ("gender",)


def test_windows_accept_numpy_integers_and_store_plain_ints() -> None:
    # windows read from a NumPy array or a pandas column, as window_days already accepts
    config = FeatureConfig(windows=(np.int64(7), 28), trend_window_days=28)
    assert config.windows == (7, 28) and all(type(w) is int for w in config.windows)
    with pytest.raises(ConfigError, match="'windows'"):
        FeatureConfig(windows=(np.True_, 28))


def test_every_number_setting_accepts_numpy_scalars_and_stores_plain_ones() -> None:
    # trend_window_days refused np.int64(60) where windows took np.int64(7): one rule for both
    config = FeatureConfig(trend_window_days=np.int64(60), high_margin_threshold=np.float32(0.25))
    assert config.trend_window_days == 60 and type(config.trend_window_days) is int
    assert type(config.high_margin_threshold) is float
    assert config.high_margin_threshold == pytest.approx(0.25)
    assert FeatureConfig(high_margin_threshold=np.int64(0)).high_margin_threshold == 0.0
    with pytest.raises(ConfigError, match="'trend_window_days'"):
        FeatureConfig(trend_window_days=np.True_)
    with pytest.raises(ConfigError, match="'high_margin_threshold'"):
        FeatureConfig(high_margin_threshold=np.float64("inf"))
