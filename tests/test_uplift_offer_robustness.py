"""Robustness of UpliftModel and choose_offers on inputs a data scientist plausibly passes.

Tiny Hillstrom-like experiments (text columns such as "2) $100 - $200", 0/1 flags, counts) and tiny plans:
each test pins one input that used to crash deep inside pandas/LightGBM or silently give a wrong answer.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    PolicyError,
    SchemaError,
)
from loyalty_ml.models.uplift import UpliftModel
from loyalty_ml.policy.catalog import Offer, OfferCatalog
from loyalty_ml.policy.offers import choose_offers

FAST = {"n_estimators": 10, "min_child_samples": 20, "n_jobs": 1, "random_state": 0}
ARMS = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")


def _hillstrom(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "recency": rng.integers(1, 13, n),
            "history_segment": rng.choice(["1) $0 - $100", "2) $100 - $200", "3) $200 - $350"], n),
            "history": rng.gamma(2.0, 120.0, n).round(2),
            "mens": rng.integers(0, 2, n),
            "zip_code": rng.choice(["Urban", "Suburban", "Rural"], n),
        }
    )
    t = pd.Series(rng.choice(ARMS, n), index=X.index)
    p = 0.1 + 0.15 * ((t == "Mens E-Mail") & (X["mens"] == 1))
    y = pd.Series((rng.uniform(size=n) < p).astype(int), index=X.index)
    return X, y, t


@pytest.fixture(scope="module")
def hill() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    return _hillstrom()


def _fit(X: pd.DataFrame, y: object, t: object, **kwargs: object) -> UpliftModel:
    control = kwargs.pop("control", "No E-Mail")
    return UpliftModel(**FAST).fit(X, y, treatment=t, control=control, **kwargs)  # type: ignore[arg-type]


# -- UpliftModel: feature dtypes -----------------------------------------------------------------------
def test_object_columns_with_missing_values_and_python_bools_are_accepted(hill: tuple) -> None:
    X, y, t = hill
    X = X.copy()
    zip_code = X["zip_code"].astype(object)
    zip_code[::3], zip_code[1::5], zip_code[2::7] = None, np.nan, pd.NA
    X["zip_code"] = zip_code  # text with None / NaN / pd.NA: was "not numeric, ... or category"
    X["mens"] = pd.Series([True, False, None] * (len(X) // 3), dtype=object)
    X["recency"] = X["recency"].astype(object)
    X["unknown"] = pd.Series([None] * len(X), dtype=object)
    pa = pytest.importorskip("pyarrow")
    dictionary = pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))  # read_parquet(pyarrow)
    X["history_segment"] = pd.Series(
        pa.array(X["history_segment"].tolist()).dictionary_encode(), dtype=dictionary
    )
    model = _fit(X, y, t)
    effects = model.predict_effects(X)
    assert effects.shape == (len(X), 2) and effects.notna().all().all()
    assert dict(model.encoding_.categories).keys() == {"history_segment", "zip_code"}


def test_text_mixed_with_numbers_names_the_column_and_the_fix(hill: tuple) -> None:
    X, y, t = hill
    mixed = X.assign(zip_code=X["zip_code"].astype(object).where(X.index % 2 == 0, 5))
    with pytest.raises(SchemaError, match=r"\('zip_code', 'mixed-integer'\).*astype\(str\)"):
        _fit(mixed, y, t)


def test_integer_column_names(hill: tuple) -> None:
    X, y, t = hill
    numbered = X.set_axis(range(X.shape[1]), axis=1)
    model = _fit(numbered, y, t)
    assert model.predict_effects(numbered).shape == (len(X), 2)


def test_numbers_at_fit_but_text_at_predict_is_an_error_not_nan(hill: tuple) -> None:
    X, y, t = hill
    model = _fit(X, y, t)
    as_text = X.assign(recency=X["recency"].astype(str))  # parses: same answer
    pd.testing.assert_frame_equal(model.predict_effects(as_text), model.predict_effects(X))
    with pytest.raises(SchemaError, match=r"column 'history' held numbers at fit .* '\$"):
        model.predict_effects(X.assign(history="$" + X["history"].astype(str)))


def test_text_codes_at_fit_but_numbers_at_predict_is_an_error_not_unseen(hill: tuple) -> None:
    X, y, t = hill
    coded = X.assign(zip_code=X["zip_code"].map({"Urban": "1", "Suburban": "2", "Rural": "3"}))
    model = _fit(coded, y, t)
    with pytest.raises(SchemaError, match=r"column 'zip_code' held text at fit.*astype\(str\)"):
        model.predict_effects(coded.assign(zip_code=coded["zip_code"].astype(int)))


def test_predict_on_no_rows(hill: tuple) -> None:
    X, y, t = hill
    model = _fit(X, y, t)
    assert model.predict_effects(X.head(0)).shape == (0, 2)
    assert model.predict_baseline(X.head(0)).empty


# -- UpliftModel: outcome, treatment, weights ----------------------------------------------------------
def test_integer_arms_with_control_zero(hill: tuple) -> None:
    X, y, t = hill
    codes = t.map({"No E-Mail": 0, "Mens E-Mail": 1, "Womens E-Mail": 2})
    model = _fit(X, y, codes, control=0)
    assert (model.control_, model.arms_) == ("0", ("1", "2"))
    as_float = _fit(X, y, codes.astype(float), control=0)
    assert as_float.arms_ == ("1", "2")
    shares = pd.Series({0: 0.4, 1: 0.3, 2: 0.3})
    assert _fit(X, y, codes, control=0, propensity=shares).arm_summary_["share"].tolist() == [
        0.4,
        0.3,
        0.3,
    ]


def test_bad_outcomes_are_named(hill: tuple) -> None:
    X, y, t = hill
    with pytest.raises(DataError, match=r"y must be numbers .*\['no', 'yes'\]"):
        _fit(X, y.map({0: "no", 1: "yes"}), t)
    with pytest.raises(DataError, match=r"y has 1 missing or infinite values \(rows \[3\]\)"):
        _fit(X, y.astype(float).where(y.index != 3, np.inf), t)
    with_na = y.astype("Int64")
    with_na.iloc[::100] = pd.NA
    with pytest.raises(DataError, match="y has 6 missing or infinite values"):
        _fit(X, with_na, t)


def test_zero_weight_arm_is_refused(hill: tuple) -> None:
    X, y, t = hill
    with pytest.raises(
        DataError, match=r"sample_weight is 0 on every row of arms \['Mens E-Mail'\]"
    ):
        _fit(X, y, t, sample_weight=np.where(t == "Mens E-Mail", 0.0, 1.0))


def test_misaligned_series_message_shows_the_labels(hill: tuple) -> None:
    X, y, t = hill
    with pytest.raises(
        DataError, match=r"first differing labels \[0, 1, 2\] vs \[1000, 1001, 1002\]"
    ):
        _fit(X.set_axis(X.index + 1000), y.to_numpy(), t)


# -- choose_offers -------------------------------------------------------------------------------------
IDX = pd.Index(["a", "b", "c"], name="customer_id")
CATALOG = OfferCatalog(
    [
        Offer(offer_id="Mens E-Mail", cost_per_redemption=0.0, cost_per_send=0.1),
        Offer(offer_id="Womens E-Mail", cost_per_redemption=0.0, cost_per_send=0.2),
    ]
)
EFFECTS = pd.DataFrame({"Mens E-Mail": [0.05, 0.02, 0.0], "Womens E-Mail": [0.1, 0.0, 0.03]}, IDX)
BASELINE = pd.Series([0.1, 0.2, 0.3], index=IDX)


def _plan(**kwargs: object) -> pd.DataFrame:
    args: dict = {"baseline": BASELINE, "value_per_conversion": 12.0, **kwargs}
    return choose_offers(EFFECTS, CATALOG, **args)


def test_numpy_scalars_are_numbers() -> None:
    budget = pd.Series([1, 0]).sum()  # np.int64, e.g. a budget computed from a table
    plan = _plan(budget=budget, min_uplift=np.float64(0.0), holdout_fraction=np.float64(0.0))
    assert plan["expected_cost"].sum() <= 1
    with pytest.raises(ConfigError, match="'budget' parameter"):
        _plan(budget=True)


def test_value_per_conversion_as_an_array_is_a_clear_error() -> None:
    with pytest.raises(DataError, match=r"number or a Series .* pd.Series\(values, index=effects"):
        _plan(value_per_conversion=np.array([12.0, 12.0, 12.0]))


def test_nullable_boolean_consent_and_eligibility() -> None:
    consent = pd.Series([True, pd.NA, True], index=IDX, dtype="boolean")
    eligible = pd.DataFrame(
        {"Mens E-Mail": [True, True, pd.NA], "Womens E-Mail": [True, True, False]},
        index=IDX,
        dtype="boolean",
    )
    # a missing flag is served as False (safe), and said: it is "unknown", not "no"
    with pytest.warns(DataQualityWarning) as caught:
        plan = _plan(consent=consent, eligible=eligible)
    assert [str(w.message).split(" customers")[0] for w in caught] == [
        "choose_offers: consent has no value for 1 of 3",
        "choose_offers: eligible has no value for 1 of 3",
    ]
    assert plan["reason"].tolist() == ["cheapest effective", "no marketing consent", "not eligible"]
    as_ints = pd.Series([1, pd.NA, 0], index=IDX, dtype="Int64")
    with pytest.warns(DataQualityWarning, match=r"consent has no value for 1 of 3 .*\['b'\]"):
        reasons = _plan(consent=as_ints)["reason"].tolist()
    assert reasons[1:] == ["no marketing consent"] * 2


def test_missing_flags_warn_unless_the_table_lists_only_yes() -> None:
    """A consent table of yes and no that misses a customer (a failed join) warns; a list of the
    customers who said yes leaves the others out on purpose and does not."""
    with pytest.warns(DataQualityWarning, match=r"consent has no value for 1 of 3 .*\['c'\]"):
        plan = _plan(consent=pd.Series([True, False], index=["a", "b"]))
    assert plan["reason"].tolist()[1:] == ["no marketing consent"] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = _plan(consent=pd.Series([True], index=["a"]))
    assert plan["reason"].tolist()[1:] == ["no marketing consent"] * 2


def test_the_missing_flag_warnings_fix_silences_it() -> None:
    """The warning's own fix works on the flags users have, categorical ones included."""
    for flags in (
        pd.Series([True, np.nan], index=["a", "b"], dtype="category"),
        pd.Series([True, pd.NA], index=["a", "b"], dtype="boolean"),
        pd.Series([1.0, np.nan], index=["a", "b"]),
    ):
        with pytest.warns(DataQualityWarning, match=r"consent has no value for 1 of 3 .*\[.b.\]"):
            _plan(consent=flags)
        fixed = flags.eq(True).fillna(False).reindex(EFFECTS.index, fill_value=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            plan = _plan(consent=fixed)
        assert plan["reason"].tolist()[1:] == ["no marketing consent"] * 2
    per_customer = pd.Series([True, None, False], index=IDX, dtype=object)
    with pytest.warns(DataQualityWarning, match=r"read as not eligible for any offer\."):
        _plan(eligible=per_customer)


def test_eligible_must_name_every_offer() -> None:
    """An offer without a column in eligible would be withdrawn from every customer: a misspelt
    header (with the close match named) or a frame of the restricted offers only is refused."""
    misspelt = pd.DataFrame({"Mens E-Mail": True, "Womens E-mail": [True, False, True]}, IDX)
    with pytest.raises(
        DataError,
        match=r"no column for offers \['Womens E-Mail'\].*columns \['Womens E-mail'\] are not "
        r"offers \('Womens E-mail' for 'Womens E-Mail'\?\)",
    ):
        _plan(eligible=misspelt)
    only_restricted = pd.DataFrame({"Womens E-Mail": [True, False, True]}, IDX)
    with pytest.raises(DataError, match=r"no column for offers \['Mens E-Mail'\], which would"):
        _plan(eligible=only_restricted)
    # headers in another case: none is an offer, and each is matched to the one it meant
    with pytest.raises(
        DataError,
        match=r"none of eligible's columns \['mens e-mail', 'womens e-mail'\] is an offer .*"
        r"\('mens e-mail' for 'Mens E-Mail'\?, 'womens e-mail' for 'Womens E-Mail'\?\)",
    ):
        _plan(eligible=pd.DataFrame({"mens e-mail": True, "womens e-mail": True}, IDX))
    # every offer named: other columns (another catalog's offer, a note, text, gaps) are not read
    extra = {"Mens E-Mail": True, "segment": ["x", "y", "z"], "Kids E-Mail": [True, None, False]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = _plan(eligible=only_restricted.assign(**extra))
    assert plan["offer_id"].notna().all()


def test_yes_no_text_hint_names_the_yes() -> None:
    """The conversion hint for 'Y'/'N' flags must keep the yes: consent.eq('N') would invert them."""
    with pytest.raises(DataError, match=r"e\.g\. consent\.eq\('Y'\)"):
        _plan(consent=pd.Series(["N", "Y", "N"], index=IDX))
    with pytest.raises(DataError, match=r"e\.g\. consent\.eq\(<the value that means yes>\)"):
        _plan(consent=pd.Series(["opted out", "subscribed", "opted out"], index=IDX))


def test_holdout_fraction_given_as_a_percentage() -> None:
    with pytest.raises(ConfigError, match=r"for 10% of the customers pass 0\.1\)\. Got 10 "):
        _plan(holdout_fraction=10)
    with pytest.raises(ConfigError, match=r"for 10% of the customers pass 0\.1\)"):
        _plan(holdout_fraction=Fraction(10))  # a Real that format(":g") refuses
    with pytest.raises(ConfigError, match=r"in \[0, 1\)\. Got 1\.0 instead"):
        _plan(holdout_fraction=1.0)


@pytest.mark.parametrize("name", ["consent", "eligible"])
def test_flags_that_are_not_booleans_or_not_indexed_by_customer(name: str) -> None:
    with pytest.raises(DataError, match=rf"{name} must hold booleans .*\['Y', 'N'\]"):
        _plan(**{name: pd.Series(["Y", "N", "Y"], index=IDX)})
    with pytest.raises(DataError, match=rf"{name} is indexed by \[7, 8, 9\], none of which"):
        _plan(**{name: pd.Series([True, True, True], index=[7, 8, 9])})
    with pytest.raises(SchemaError, match=rf"{name} is indexed by row numbers"):
        _plan(**{name: pd.Series([True, True, True])})
    with pytest.raises(DataError, match=rf"{name} has duplicate customer ids \['a'\]"):
        _plan(**{name: pd.Series([True, True, False], index=["a", "b", "a"])})
    with pytest.raises(PolicyError, match=rf"{name} must be a boolean Series"):
        _plan(**{name: np.ones(3, dtype=bool)})


def test_duplicate_ids_in_baseline_or_values() -> None:
    twice = pd.concat([BASELINE, BASELINE.head(1)])
    with pytest.raises(DataError, match=r"baseline has duplicate customer ids \['a'\]"):
        _plan(baseline=twice)
    with pytest.raises(DataError, match=r"value_per_conversion has duplicate customer ids"):
        _plan(value_per_conversion=twice * 100)


def test_customer_ids_of_mixed_types() -> None:
    mixed = pd.Index([1, "b", 2.5], name="customer_id")
    plan = choose_offers(
        EFFECTS.set_axis(mixed),
        CATALOG,
        baseline=BASELINE.set_axis(mixed),
        value_per_conversion=12.0,
        holdout_fraction=0.0,
    )
    assert plan.index.equals(mixed)
    assert plan["offer_id"].tolist()[:2] == ["Mens E-Mail", "Mens E-Mail"]


def test_uplift_model_output_plugs_into_choose_offers(hill: tuple) -> None:
    X, y, t = hill
    X = X.set_axis(pd.Index([f"c{i}" for i in range(len(X))], name="customer_id"))
    model = _fit(X, y.to_numpy(), t.to_numpy())
    catalog = OfferCatalog.from_frame(
        pd.DataFrame(
            {"offer_id": ["Mens E-Mail", "Womens E-Mail"], "cost_per_redemption": 1.0, "x": 1}
        )
    )
    effects, baseline = model.predict_effects(X), model.predict_baseline(X)
    plan = choose_offers(
        effects,
        catalog,
        baseline=baseline.sample(frac=1.0, random_state=0),
        value_per_conversion=pd.Series(12.0, index=X.index[::-1]),
        budget=np.int64(0),
        holdout_fraction=0.1,
        random_state=0,
    )
    assert plan.index.equals(X.index)
    assert plan["offer_id"].isna().all() and plan["expected_cost"].sum() == 0
    assert (plan["reason"] == "holdout").sum() == round(0.1 * len(X))
