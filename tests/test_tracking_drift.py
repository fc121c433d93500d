"""PSI: exact values on tiny vectors, profiles of numbers and categories, streaming equals one shot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, SchemaError
from loyalty_ml.tracking.drift import (
    ColumnProfile,
    DriftCounter,
    DriftProfile,
    population_stability_index,
    psi,
)


def test_psi_exact_values() -> None:
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    # (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5)
    expected = -0.25 * np.log(0.5) + 0.25 * np.log(1.5)
    assert psi(np.array([1, 1]), np.array([1, 3])) == pytest.approx(expected)
    assert np.isnan(psi(np.array([0, 0]), np.array([1, 1])))


def test_psi_refuses_mismatched_bins() -> None:
    with pytest.raises(ConfigError, match="same bins"):
        psi(np.array([0.5, 0.5]), np.array([1.0, 0.0, 0.0]))


def test_numeric_profile_bins_and_missing_bucket() -> None:
    column = ColumnProfile.from_values("x", pd.Series([1.0, 2.0, 3.0, 4.0, np.nan]), bins=2)
    assert column.edges == (2.5,)
    assert column.expected == (0.4, 0.4, 0.2)
    counts = column.counts(pd.Series([0.0, 10.0, 10.0, np.nan]))
    assert counts.tolist() == [1, 2, 1]


def test_categorical_profile_has_other_and_missing() -> None:
    values = pd.Series(["a", "a", "b", None], dtype="category")
    column = ColumnProfile.from_values("c", values)
    assert column.kind == "categorical"
    assert column.levels == ("a", "b")
    assert column.counts(pd.Series(["b", "z", None, "a"])).tolist() == [1, 1, 1, 1]


def test_profile_detects_a_shift() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=4000), "c": rng.choice(["u", "v"], 4000)})
    profile = DriftProfile.from_frame(ref)
    same = profile.compare(ref)
    assert same.max() == pytest.approx(0.0, abs=1e-12)
    moved = profile.compare(ref.assign(x=ref["x"] + 1.0))
    assert moved["x"] > 0.2 and moved["c"] == pytest.approx(0.0, abs=1e-12)
    assert population_stability_index(ref["x"], ref["x"] + 1.0) == pytest.approx(moved["x"])


def test_counter_needs_every_profiled_column() -> None:
    counter = DriftCounter(
        DriftProfile.from_frame(pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]}))
    )
    with pytest.raises(SchemaError, match=r"lacks profiled columns \['y'\]"):
        counter.update(pd.DataFrame({"x": [1.0]}))


def test_bins_must_be_at_least_two() -> None:
    with pytest.raises(
        ConfigError, match="'bins' parameter of DriftProfile must be an int from 2 to 1000"
    ):
        DriftProfile.from_frame(pd.DataFrame({"x": [1.0]}), bins=1)


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6) | st.none(), min_size=2, max_size=60),
    split=st.integers(1, 59),
)
def test_streaming_counts_equal_one_shot(values: list[float | None], split: int) -> None:
    frame = pd.DataFrame({"x": pd.Series(values, dtype="float64")})
    profile = DriftProfile.from_frame(frame.iloc[::2] if len(frame) > 3 else frame)
    counter = DriftCounter(profile)
    cut = min(split, len(frame))
    counter.update(frame.iloc[:cut])
    counter.update(frame.iloc[cut:])
    pd.testing.assert_series_equal(counter.psi(), profile.compare(frame))
    assert counter.counts_["x"].sum() == len(frame)


def test_column_labels_that_are_not_text_are_profiled_and_compared() -> None:
    """Profiles name columns str(label): integer labels were then 'lacking' from the very frame
    profiled, and labels 0 and '0' shared one counter (PSI 0.078 of a frame against itself)."""
    rng = np.random.default_rng(0)
    ints = pd.DataFrame({0: rng.normal(size=50), 1: rng.normal(size=50)})
    assert DriftProfile.from_frame(ints).compare(ints).tolist() == [0.0, 0.0]
    clash = pd.DataFrame({0: rng.normal(size=50), "0": rng.normal(size=50)})
    with pytest.raises(SchemaError, match=r"columns \['0'\] are named twice once read as text"):
        DriftProfile.from_frame(clash)


def test_list_cells_and_absurd_bins_are_named() -> None:
    reference = pd.DataFrame({"x": np.arange(20.0)})
    profile = DriftProfile.from_frame(reference)
    with pytest.raises(SchemaError, match=r"not numbers \['\[1\.0\]'\]"):
        profile.compare(pd.DataFrame({"x": [[1.0]] * 20}))
    with pytest.raises(ConfigError, match="must be an int from 2 to 1000"):
        DriftProfile.from_frame(reference, bins=10**9)


def test_a_level_unseen_at_training_counts_as_other_not_missing_on_the_scoring_path() -> None:
    """Session 42: scoring measured drift on the model's prepared features, where a new level is
    missing: a new tier replacing the 10% missing ones read PSI 0.002 instead of about 1.3."""
    from loyalty_ml.tracking.drift import DriftProfile
    from loyalty_ml.tracking.scoring import _for_drift

    rng = np.random.default_rng(0)
    n = 2000
    reference = pd.Series(
        rng.choice(["basic", "silver", "gold", None], n, p=[0.75, 0.1, 0.05, 0.1]), dtype=object
    )
    now = pd.Series(
        rng.choice(["basic", "silver", "gold", "platinum"], n, p=[0.75, 0.1, 0.05, 0.1]),
        dtype=object,
    )
    profile = DriftProfile.from_frame(pd.DataFrame({"tier": reference}))
    # what LoyaltyPolicy.prepare gives the model: the unseen level is missing
    prepared = pd.Series(
        pd.Categorical(now.where(now != "platinum"), categories=["basic", "gold", "silver"])
    )
    seen = pd.DataFrame({"tier": _for_drift(prepared, now)})
    assert profile.compare(seen)["tier"] > 1.0
    assert profile.compare(pd.DataFrame({"tier": prepared}))["tier"] < 0.05  # the old reading


def test_a_heavy_value_below_the_top_moving_up_a_little_is_drift() -> None:
    """48% of customers who never used the app (share 0) all starting to use it a little read PSI
    0: the zeros shared their bin with every value up to the next decile edge (0.05)."""
    rng = np.random.default_rng(0)
    reference = np.r_[np.zeros(4800), rng.uniform(0, 1, 5200)]
    assert population_stability_index(reference, np.where(reference == 0, 0.02, reference)) > 1
    assert population_stability_index(reference, reference.copy()) < 1e-9
    same_shape = np.r_[np.zeros(4800), rng.uniform(0, 1, 5200)]
    assert population_stability_index(reference, same_shape) < 0.01


def test_a_heavy_largest_value_moving_up_is_drift() -> None:
    """Session 42: 95% ones (the largest value) and 5% zeros, then 95% threes, read PSI 0: the
    top bin was open above the heavy value unless a larger one existed."""
    from loyalty_ml.tracking.drift import population_stability_index

    reference = np.r_[np.zeros(50), np.ones(950)]
    assert population_stability_index(reference, np.r_[np.zeros(50), np.full(950, 3.0)]) > 1.0
    assert population_stability_index(reference, reference.copy()) < 1e-9
