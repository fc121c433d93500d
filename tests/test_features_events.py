from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import SchemaError
from loyalty_ml.features import FeatureConfig, build_features, experiment_table, training_table
from loyalty_ml.features.events import MAX_EVENT_KINDS, event_stem

EVERY_KIND = FeatureConfig(windows=(30, 90), min_level_customers=1)


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-01-05", "2024-01-07", "2024-05-01", "2024-05-02"]
            ),
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 1, 9, 1],
            "timestamp": pd.to_datetime(
                ["2023-12-20", "2024-02-20", "2024-02-25", "2024-03-10", "2024-01-01", "2024-02-20"]
            ),
            "event": ["review", "review", "App Open", "review", "app_open", "app_open"],
            "value": [4.0, 2.0, np.nan, 5.0, 1.0, np.nan],
        }
    )


def test_counts_recency_and_values_before_as_of() -> None:
    X = build_features(_tx(), as_of="2024-03-01", events=_events(), config=EVERY_KIND)
    assert X.filter(like="event_").columns.tolist() == [
        "event_app_open_30d",
        "event_app_open_90d",
        "event_app_open_days_since",
        "event_review_30d",
        "event_review_90d",
        "event_review_days_since",
        "event_review_mean_90d",
        "event_review_last",
        "event_rare_30d",
        "event_rare_90d",
        "event_rare_days_since",
    ]
    one, two, three = X.loc[1], X.loc[2], X.loc[3]
    # the review of 2024-03-10 is after as_of; "App Open" and "app_open" are one kind
    assert (one["event_review_30d"], one["event_review_90d"]) == (1.0, 2.0)
    assert one["event_review_days_since"] == 10.0
    assert one["event_review_mean_90d"] == 3.0 and one["event_review_last"] == 2.0
    assert (one["event_app_open_30d"], two["event_app_open_30d"]) == (1.0, 1.0)
    assert two["event_app_open_days_since"] == 5.0
    # a customer with no events: a real zero, and no recency or value
    assert three["event_review_90d"] == 0.0 and three["event_app_open_30d"] == 0.0
    assert np.isnan(three["event_review_days_since"]) and np.isnan(three["event_review_last"])
    # customer 9 has no purchase: no row
    assert X.index.tolist() == [1, 2, 3]
    assert (X.filter(like="event_").dtypes == "float64").all()


def test_an_event_at_as_of_is_not_before_it() -> None:
    at = _events().assign(timestamp=pd.Timestamp("2024-03-01"))
    X = build_features(_tx(), as_of="2024-03-01", events=at, config=EVERY_KIND)
    got = X.filter(like="event_")
    assert got.columns.tolist() == ["event_rare_30d", "event_rare_90d", "event_rare_days_since"]
    assert (got[["event_rare_30d", "event_rare_90d"]] == 0).all().all()
    assert got["event_rare_days_since"].isna().all()


def test_without_events_there_are_no_event_columns() -> None:
    X = build_features(_tx(), as_of="2024-03-01", config=EVERY_KIND)
    assert X.filter(like="event_").empty


def test_kinds_held_by_few_customers_are_pooled_without_their_values() -> None:
    config = FeatureConfig(windows=(30, 90), min_level_customers=2)
    X = build_features(_tx(), as_of="2024-03-01", events=_events(), config=config)
    # app_open is held by customers 1 and 2; review by customer 1 only
    assert [c for c in X.columns if c.startswith("event_") and c.endswith("_90d")] == [
        "event_app_open_90d",
        "event_rare_90d",
    ]
    assert X.loc[1, "event_rare_90d"] == 2.0  # the two reviews before as_of
    assert not X.columns.str.contains("review").any()
    assert "event_rare_last" not in X.columns  # values of pooled kinds mean nothing together


def test_the_number_of_kinds_is_bounded() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": range(30),
            "timestamp": pd.Timestamp("2024-01-01"),
            "amount": 1.0,
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": [c for c in range(30) for _ in range(c + 1)],
            "timestamp": pd.Timestamp("2024-01-02"),
        }
    )
    # kind k is held by the customers >= k: the most held first
    events["event"] = [f"kind{k:02d}" for c in range(30) for k in range(c + 1)]
    X = build_features(tx, as_of="2024-02-01", events=events, config=EVERY_KIND)
    stems = [c.removesuffix("_30d") for c in X.columns if c.endswith("_30d") and "event" in c]
    assert len(stems) == MAX_EVENT_KINDS + 1
    assert stems[:2] == ["event_kind00", "event_kind01"] and stems[-1] == "event_rare"


def test_the_last_value_does_not_depend_on_row_order() -> None:
    events = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "timestamp": pd.to_datetime(["2024-02-01", "2024-02-10", "2024-02-10"]),
            "event": ["nps", "nps", "nps"],
            "value": [9.0, 3.0, 7.0],
        }
    )
    for frame in (events, events.iloc[::-1]):
        X = build_features(_tx(), as_of="2024-03-01", events=frame, config=EVERY_KIND)
        assert X.loc[1, "event_nps_last"] == 7.0  # the larger of two at the same instant
        assert X.loc[1, "event_nps_mean_90d"] == pytest.approx(19 / 3)


def test_training_table_reads_only_earlier_events_at_each_cutoff() -> None:
    X, _ = training_table(
        _tx(),
        cutoffs=["2024-03-01", "2024-04-01"],
        horizon_days=30,
        events=_events(),
        config=EVERY_KIND,
    )
    march, april = X.xs(pd.Timestamp("2024-03-01")), X.xs(pd.Timestamp("2024-04-01"))
    pd.testing.assert_frame_equal(
        march, build_features(_tx(), as_of="2024-03-01", events=_events(), config=EVERY_KIND)
    )
    assert april.loc[1, "event_review_90d"] == 2.0 and april.loc[1, "event_review_last"] == 5.0


def test_the_kinds_are_those_of_the_first_cutoff() -> None:
    """A kind first seen between two cut-offs is pooled in every row: counted at the later
    cut-off, its column would exist because of events after the earlier one."""
    events = _events().assign(event=["review", "review", "App Open", "survey", "x", "app_open"])
    X, _ = training_table(
        _tx(),
        cutoffs=["2024-03-01", "2024-04-01"],
        horizon_days=30,
        events=events,
        config=EVERY_KIND,
    )
    assert not X.columns.str.contains("survey").any()
    assert X.loc[(pd.Timestamp("2024-04-01"), 1), "event_rare_30d"] == 1.0


def test_experiment_table_rows_read_events_before_their_campaign() -> None:
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1"],
            "customer_id": [1, 2],
            "offer_id": ["coupon", "control"],
            "sent_at": pd.to_datetime(["2024-03-01", "2024-03-01"]),
        }
    )
    X, _, _ = experiment_table(_tx(), campaigns, window_days=7, events=_events(), config=EVERY_KIND)
    assert X["event_review_90d"].tolist() == [2.0, 0.0]
    assert X["event_app_open_30d"].tolist() == [1.0, 1.0]


def test_validated_events_with_text_ids_match_integer_transactions() -> None:
    raw = _events().assign(customer_id=lambda f: f["customer_id"].astype(str))
    X = build_features(
        _tx(), as_of="2024-03-01", events=lml.validate_events(raw), config=EVERY_KIND
    )
    assert X.loc[1, "event_review_90d"] == 2.0


def test_unusable_events_are_refused() -> None:
    with pytest.raises(SchemaError, match=r"events is missing required column\(s\) \['event'\]"):
        build_features(_tx(), as_of="2024-03-01", events=_events().drop(columns="event"))
    late = _events().assign(timestamp=lambda f: f["timestamp"].where(f.index != 2))
    with pytest.raises(SchemaError, match=r"events\.timestamp has missing timestamps"):
        build_features(_tx(), as_of="2024-03-01", events=late)
    blank = _events().assign(event=lambda f: f["event"].where(f.index != 1, " "))
    with pytest.raises(SchemaError, match=r"events\.event is missing.*validate_events"):
        build_features(_tx(), as_of="2024-03-01", events=blank)
    endless = _events().assign(value=lambda f: f["value"].where(f.index != 0, np.inf))
    with pytest.raises(SchemaError, match=r"events\.value has infinite values"):
        build_features(_tx(), as_of="2024-03-01", events=endless)
    text = _events().assign(value="great")
    with pytest.raises(SchemaError, match=r"events\.value must be numeric"):
        build_features(_tx(), as_of="2024-03-01", events=text)


def test_kinds_whose_columns_would_share_names_are_refused() -> None:
    events = _events().assign(event=["x", "x", "x_mean", "x", "x", "x_mean"])
    with pytest.raises(SchemaError, match=r"share names \['event_x_mean_90d'\]"):
        build_features(_tx(), as_of="2024-03-01", events=events, config=EVERY_KIND)
    rare = _events().assign(event="Rare")
    with pytest.raises(SchemaError, match=r"named like the pooled kinds"):
        build_features(_tx(), as_of="2024-03-01", events=rare, config=EVERY_KIND)


def test_event_stem() -> None:
    assert event_stem(" E-mail click ") == "event_e_mail_click"
    assert event_stem("!!") == "event_blank"


def test_fixed_kinds_give_the_columns_of_a_trained_model() -> None:
    config = FeatureConfig(
        windows=(30, 90), event_kinds=("review", "survey"), event_value_kinds=("review",)
    )
    X = build_features(_tx(), as_of="2024-03-01", events=_events(), config=config)
    assert [c for c in X.columns if c.startswith("event_") and c.endswith("_90d")] == [
        "event_review_90d",
        "event_review_mean_90d",
        "event_survey_90d",
        "event_rare_90d",
    ]
    assert X.loc[1, "event_review_last"] == 2.0 and X.loc[1, "event_rare_90d"] == 1.0
    # the same columns from a table without values: the value columns are missing, not absent
    bare = build_features(
        _tx(), as_of="2024-03-01", events=_events().drop(columns="value"), config=config
    )
    assert bare.columns.tolist() == X.columns.tolist()
    assert bare["event_review_last"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event_kinds": "review"}, r"'event_kinds' parameter of FeatureConfig must be a tuple"),
        ({"event_kinds": ("review", " ")}, r"'event_kinds' parameter .* non-empty strings"),
        ({"event_value_kinds": ("nps",)}, r"'event_value_kinds' .* must name kinds of"),
        (
            {"event_kinds": ("review",), "event_value_kinds": ("nps",)},
            r"Got \['nps'\], which are not",
        ),
    ],
)
def test_bad_fixed_kinds_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(lml.ConfigError, match=message):
        FeatureConfig(**kwargs)  # type: ignore[arg-type]


def test_a_config_pickled_before_event_kinds_reads_none() -> None:
    config = FeatureConfig()
    state = {k: v for k, v in vars(config).items() if not k.startswith("event_")}
    old = FeatureConfig.__new__(FeatureConfig)
    old.__setstate__(state)
    assert old.event_kinds is None and old.event_value_kinds == ()
