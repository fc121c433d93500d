"""Channel mix features: exact values, fixed channel lists and name clashes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import SchemaError
from loyalty_ml.features import FeatureConfig, build_features
from loyalty_ml.features.channel import channel_column


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 3],
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-03-01"]
            ),
            "amount": [1.0] * 6,
            "channel": ["Web", "app", "Web", "In Store", None, "kiosk"],
            "store_id": [None, None, None, "s1", "s2", "s3"],
        }
    )


def test_exact_values() -> None:
    X = build_features(_tx(), as_of="2024-02-01")
    # kiosk is seen only after as_of, so it has no column at this as_of
    # channels in sorted order of their raw names
    assert [c for c in X.columns if c.startswith("channel_share_")] == [
        "channel_share_in_store",
        "channel_share_web",
        "channel_share_app",
    ]
    # customer 1: orders o1 (first line Web), o2 Web, o3 In Store
    assert np.isclose(X.loc[1, "channel_share_web"], 2 / 3)
    assert np.isclose(X.loc[1, "channel_share_in_store"], 1 / 3)
    assert X.loc[1, "channel_share_app"] == 0.0
    assert X.loc[1, "n_channels"] == 3.0  # lines used Web, app and In Store
    assert X.loc[1, "n_stores"] == 1.0
    # customer 2: no channel known -> shares undefined, not zero
    assert np.isnan(X.loc[2, "channel_share_web"])
    assert X.loc[2, "n_channels"] == 0.0
    assert X.loc[2, "n_stores"] == 1.0


def test_fixed_channel_list() -> None:
    config = FeatureConfig(channels=("Web", "phone"))
    X = build_features(_tx(), as_of="2024-02-01", config=config)
    shares = [c for c in X.columns if c.startswith("channel_share_")]
    assert shares == ["channel_share_web", "channel_share_phone"]
    assert X.loc[1, "channel_share_phone"] == 0.0
    # orders in channels outside the list still count in the denominator
    assert np.isclose(X.loc[1, "channel_share_web"], 2 / 3)


def test_store_without_channel() -> None:
    X = build_features(_tx().drop(columns="channel"), as_of="2024-02-01")
    assert "n_stores" in X.columns
    assert "n_channels" not in X.columns


def test_column_names() -> None:
    assert channel_column(" In-Store ") == "channel_share_in_store"
    assert channel_column("!!") == "channel_share_blank"


def test_clashing_names_raise() -> None:
    tx = _tx().assign(channel=["web", "Web", "web", "web", "web", "web"])
    with pytest.raises(SchemaError, match=r"\['Web', 'web'\] -> channel_share_web"):
        build_features(tx, as_of="2024-02-01")


def test_one_channel_written_two_ways_is_told_to_write_it_one_way() -> None:
    # "App" and "app " are one channel from two exports: renaming them apart is the wrong fix
    tx = _tx().assign(channel=["App", "app ", "web", "web", "web", "web"])
    with pytest.raises(
        SchemaError, match=r"differ only by case or blanks.*str\.strip\(\)\.str\.lower\(\)"
    ):
        build_features(tx, as_of="2024-02-01")
    tx = _tx().assign(channel=["in-store", "in store", "web", "web", "web", "web"])
    with pytest.raises(SchemaError, match=r"if not, rename them"):
        build_features(tx, as_of="2024-02-01")


def test_lines_at_the_same_instant_do_not_make_row_order_matter() -> None:
    tx = _tx()
    forward = build_features(tx, as_of="2024-02-01")
    backward = build_features(tx.iloc[::-1], as_of="2024-02-01")
    pd.testing.assert_frame_equal(forward, backward)
    # o1 has a Web and an app line at the same time: the first channel in label order wins
    assert np.isclose(forward.loc[1, "channel_share_web"], 2 / 3)
