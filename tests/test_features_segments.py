"""rfm_segments and segment_migration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.features.segments import (
    SEGMENTS,
    RFMEdges,
    _names,
    rfm_edges,
    rfm_segments,
    segment_migration,
)


def _features(recency: list[float], orders: list[float], spend: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"recency_days": recency, "n_orders": orders, "spend": spend},
        index=pd.Index(range(1, len(recency) + 1), name="customer_id"),
    )


def test_25_50_25_split_and_direction() -> None:
    X = _features(
        recency=[float(v) for v in range(8)],  # 0 is the best recency
        orders=[float(v) for v in range(8)],
        spend=[float(v) for v in range(8, 0, -1)],
    )
    seg = rfm_segments(X)
    assert seg["R"].tolist() == [3, 3, 2, 2, 2, 2, 1, 1]
    assert seg["F"].tolist() == [1, 1, 2, 2, 2, 2, 3, 3]
    assert seg["M"].tolist() == [3, 3, 2, 2, 2, 2, 1, 1]
    assert seg["rfm_code"].tolist()[0] == "R3F1M3"
    assert seg["segment"].tolist() == ["new", "new"] + ["needs attention"] * 4 + ["at risk"] * 2
    assert seg.index.equals(X.index)


def test_ties_share_a_class() -> None:
    # 5 of 8 customers with one order: they are all the worst F class, none split by row order
    X = _features([1.0] * 8, [1, 1, 1, 1, 1, 2, 3, 4], [1.0] * 8)
    seg = rfm_segments(X)
    assert seg["F"].tolist() == [1, 1, 1, 1, 1, 2, 3, 3]
    assert set(seg["R"]) == {1}  # everybody tied: nobody is strictly worse


@pytest.mark.parametrize(
    ("r", "f", "m", "name"),
    [
        (3, 3, 3, "core"),
        (3, 3, 2, "loyal"),
        (3, 1, 3, "new"),
        (3, 2, 1, "active"),
        (2, 1, 3, "big spenders"),
        (2, 3, 2, "needs attention"),
        (2, 1, 2, "one-off"),
        (1, 3, 1, "at risk"),
        (1, 1, 3, "at risk"),
        (1, 2, 2, "hibernating"),
        (1, 1, 1, "lost"),
    ],
)
def test_segment_table(r: int, f: int, m: int, name: str) -> None:
    assert _names(np.array([r]), np.array([f]), np.array([m])).tolist() == [name]


def test_every_class_combination_has_a_name() -> None:
    r, f, m = (a.ravel() for a in np.meshgrid([1, 2, 3], [1, 2, 3], [1, 2, 3]))
    names = _names(r, f, m)
    assert set(names) == set(SEGMENTS)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(1, 6), st.integers(1, 50)),
        min_size=1,
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_row_order_never_matters(rows: list[tuple[int, int, int]], rnd: object) -> None:
    X = _features(*[[float(v) for v in col] for col in zip(*rows, strict=True)])
    seg = rfm_segments(X)
    shuffled = rfm_segments(X.sample(frac=1.0, random_state=len(rows)))
    pd.testing.assert_frame_equal(shuffled.loc[seg.index], seg)
    assert set(seg["segment"]) <= set(SEGMENTS)
    assert seg[["R", "F", "M"]].isin([1, 2, 3]).all().all()
    # without ties on an axis, its classes hold 25/50/25 % of the customers
    if X["spend"].is_unique:
        share = (seg["M"] == 1).mean()
        assert share == pytest.approx(np.ceil(0.25 * len(X)) / len(X))


def test_errors() -> None:
    X = _features([1.0], [1.0], [1.0])
    with pytest.raises(SchemaError, match="missing column 'spend' needed for the M axis"):
        rfm_segments(X.drop(columns="spend"))
    with pytest.raises(SchemaError, match="recency_days has 1 missing or infinite values"):
        rfm_segments(X.assign(recency_days=np.nan))
    with pytest.raises(SchemaError, match="must be a pandas DataFrame"):
        rfm_segments([1, 2])  # type: ignore[arg-type]


def test_migration_counts() -> None:
    then = _features(
        recency=[float(v) for v in range(8)],
        orders=[float(v) for v in range(8)],
        spend=[float(v) for v in range(8, 0, -1)],
    )
    now = then.drop(index=[8]).copy()
    now.loc[9] = [0.0, 1.0, 1.0]
    table = segment_migration(then, now)
    assert table.index.name == "segment_then"
    assert table.columns.name == "segment_now"
    assert int(table.to_numpy().sum()) == 9  # every customer once: 8 then + 1 new
    assert table.loc["at risk", "gone"] == 1
    assert table.loc["absent"].sum() == 1
    assert "gone" not in table.index and "absent" not in table.columns


def _rank_classes(values: np.ndarray) -> np.ndarray:
    """The documented rule, written directly: the share of customers strictly worse than each one."""
    worse = np.array([(values < v).sum() for v in values]) / len(values)
    return np.where(worse < 0.25, 1, np.where(worse >= 0.75, 3, 2))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(1, 4), st.integers(0, 5)), min_size=1, max_size=30
    )
)
def test_edges_give_the_documented_quarters(rows: list[tuple[int, int, int]]) -> None:
    recency, orders, spend = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    seg = rfm_segments(_features(list(recency), list(orders), list(spend)))
    assert seg["R"].tolist() == _rank_classes(-recency).tolist()
    assert seg["F"].tolist() == _rank_classes(orders).tolist()
    assert seg["M"].tolist() == _rank_classes(spend).tolist()


def test_frozen_edges_make_a_batch_independent_of_its_neighbours() -> None:
    rng = np.random.default_rng(0)
    base = _features(
        list(rng.integers(0, 300, 400).astype(float)),
        list(rng.integers(1, 12, 400).astype(float)),
        list(rng.gamma(2.0, 50.0, 400)),
    )
    edges = rfm_edges(base)
    whole = rfm_segments(base, edges=edges)
    pd.testing.assert_frame_equal(whole, rfm_segments(base))  # the base's own quarters
    for batch in (base.iloc[:1], base.iloc[5:9], base.sample(50, random_state=1)):
        pd.testing.assert_frame_equal(rfm_segments(batch, edges=edges), whole.loc[batch.index])
    # without edges a lone customer is judged against itself: every axis in class 1
    assert rfm_segments(base.iloc[:1])["rfm_code"].item() == "R1F1M1"


def test_edges_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"'spend' edges of RFMEdges \(M axis\)"):
        RFMEdges(recency_days=(30.0, 5.0), n_orders=(1.0, 3.0), spend=(50.0, 5.0))
    with pytest.raises(ConfigError, match="must be an RFMEdges"):
        rfm_segments(_features([1.0], [1.0], [1.0]), edges={"spend": (1, 2)})  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="rfm_edges needs at least one customer"):
        rfm_edges(_features([], [], []))
