"""Tests of loyalty_ml.policy.catalog (Offer, OfferCatalog)."""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty_ml.exceptions import ConfigError, PolicyError, SchemaError
from loyalty_ml.policy.catalog import Offer, OfferCatalog


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "offer_id": ["d5", "pts", "club"],
            "cost_per_redemption": [5.0, 4.0, 0.0],
            "cost_per_send": [0.1, 0.1, 0.5],
            "kind": ["discount", "points", "non_monetary"],
            "breakage": [0.0, 0.25, None],
            "max_per_month": [2, None, None],
            "note": ["ignored", "ignored", "ignored"],
        }
    )


def test_from_frame_builds_offers_in_order() -> None:
    catalog = OfferCatalog.from_frame(_frame())
    assert catalog.ids == ("d5", "pts", "club")
    assert [o.offer_id for o in catalog] == ["d5", "pts", "club"]
    assert len(catalog) == 3 and "pts" in catalog and "control" not in catalog
    assert catalog["d5"] == Offer(
        offer_id="d5", cost_per_redemption=5.0, cost_per_send=0.1, kind="discount", max_per_month=2
    )
    assert catalog["pts"].breakage == 0.25 and catalog["club"].breakage == 0.0


def test_expected_cost_includes_breakage_and_send_cost() -> None:
    catalog = OfferCatalog.from_frame(_frame())
    # 0.4 * 4.0 * (1 - 0.25) + 0.1
    assert catalog["pts"].expected_cost(0.4) == pytest.approx(1.3)
    assert catalog["d5"].expected_cost(0.4) == pytest.approx(2.1)
    assert catalog["pts"].redemption_cost == pytest.approx(3.0)


def test_to_frame_round_trips() -> None:
    catalog = OfferCatalog.from_frame(_frame())
    frame = catalog.to_frame()
    assert frame.index.name == "offer_id"
    assert frame.loc["d5", "max_per_month"] == 2
    assert pd.isna(frame.loc["pts", "max_per_month"])
    again = OfferCatalog.from_frame(frame)
    assert list(again) == list(catalog)


def test_offer_id_as_index_is_accepted() -> None:
    catalog = OfferCatalog.from_frame(_frame().set_index("offer_id"))
    assert catalog.ids == ("d5", "pts", "club")


def test_unknown_offer_lookup() -> None:
    catalog = OfferCatalog.from_frame(_frame())
    with pytest.raises(PolicyError, match=r"'d50' is not in the catalog; known offers: \['d5'"):
        catalog["d50"]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"offer_id": ["d5", "d5", "club"]}, "must be unique"),
        ({"offer_id": ["d5", "control", "club"]}, "reserved for the control arm"),
        ({"cost_per_redemption": [5.0, -1.0, 0.0]}, "cost_per_redemption must be >= 0"),
        ({"kind": ["discount", "points", "voucher"]}, "kind must be one of"),
        ({"breakage": [0.2, 0.25, None]}, "breakage=0.2 applies only to kind='points'"),
        ({"breakage": [0.0, 1.0, None]}, r"breakage must be in \[0, 1\)"),
    ],
)
def test_from_frame_rejects_bad_catalogs(change: dict, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        OfferCatalog.from_frame(_frame().assign(**change))


def test_offer_validation() -> None:
    with pytest.raises(ConfigError, match="cost_per_send must be a finite number >= 0"):
        Offer(offer_id="a", cost_per_redemption=1.0, cost_per_send=float("nan"))
    with pytest.raises(ConfigError, match=r"max_per_month must be an int >= 0 \(0 retires"):
        Offer(offer_id="a", cost_per_redemption=1.0, max_per_month=-1)
    with pytest.raises(ConfigError, match="non-empty string"):
        Offer(offer_id="", cost_per_redemption=1.0)
    with pytest.raises(ConfigError, match="min_basket must be >= 0"):
        Offer(offer_id="a", cost_per_redemption=1.0, min_basket=-5.0)


def test_costs_too_large_to_sum_are_refused_by_offer_and_column() -> None:
    """A finite cost of 1e300 passed, and a budgeted plan died on a bare OverflowError from the
    knapsack's math.fsum of the costs."""
    with pytest.raises(
        ConfigError, match=r"Offer 'vip': cost_per_redemption is 1e\+300, more than 1e\+15.*Fix"
    ):
        Offer(offer_id="vip", cost_per_redemption=1e300)
    with pytest.raises(SchemaError, match=r"Offer 'club': cost_per_send is 1e\+300"):
        OfferCatalog.from_frame(_frame().assign(cost_per_send=[0.1, 0.1, 1e300]))
    assert Offer(offer_id="big", cost_per_redemption=1e15).cost_per_redemption == 1e15


def test_catalog_validation() -> None:
    with pytest.raises(PolicyError, match="at least one offer"):
        OfferCatalog([])
    a = Offer(offer_id="a", cost_per_redemption=1.0)
    with pytest.raises(PolicyError, match=r"unique; \['a'\] repeat"):
        OfferCatalog([a, a])
    with pytest.raises(PolicyError, match="takes Offer objects"):
        OfferCatalog([a, "b"])  # type: ignore[list-item]


def test_a_catalog_with_offers_of_no_kind_reads_back_its_own_table() -> None:
    """kind is optional per offer, but a missing kind in a table was refused as unknown: a
    catalog could not read back its own to_frame(), nor a table with kind filled for some offers."""
    catalog = OfferCatalog(
        [
            Offer(offer_id="a", cost_per_redemption=1.0),
            Offer(offer_id="b", cost_per_redemption=2.0, kind="discount"),
        ]
    )
    again = OfferCatalog.from_frame(catalog.to_frame())
    assert [(o.offer_id, o.kind) for o in again] == [("a", None), ("b", "discount")]
    with pytest.raises(SchemaError, match=r"kind must be one of .*'coupon'"):
        OfferCatalog.from_frame(catalog.to_frame().assign(kind=["coupon", None]))


def test_a_repeated_offer_column_is_a_schema_error() -> None:
    offers = pd.DataFrame({"offer_id": ["d5", "pts"], "cost_per_redemption": [5.0, 4.0]})
    twice = pd.concat([offers, offers[["cost_per_redemption"]]], axis=1)
    with pytest.raises(SchemaError, match="several columns named \\['cost_per_redemption'\\]"):
        OfferCatalog.from_frame(twice)
