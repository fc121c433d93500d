"""Tests that kill mutants which survived the suite (session 44's mutation run of the schema, privacy,
KPI and feature modules). Each test names the mutant it kills; values are computed by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from loyalty_ml import validate_transactions
from loyalty_ml.exceptions import DataQualityWarning


def _tx(**columns: object) -> pd.DataFrame:
    return pd.DataFrame(columns)


# --- schema/transactions.py -------------------------------------------------------------------


def test_zero_amount_line_with_negative_quantity_is_not_read_as_an_unsigned_return() -> None:
    """Mutant: ``(amount > 0)`` -> ``(amount >= 0)`` in the unsigned-return rule. A free line
    (amount 0) with quantity -1 has no sign to restore: no warning, its margin keeps its sign."""
    raw = _tx(
        customer_id=[1, 1],
        timestamp=["2024-01-01", "2024-01-02"],
        amount=[10.0, 0.0],
        quantity=[1.0, -1.0],
        margin=[2.0, 3.0],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        out = validate_transactions(raw, zero_amounts="keep")
    assert out["amount"].tolist() == [10.0, 0.0]
    assert out["margin"].tolist() == [2.0, 3.0]


def test_a_row_exactly_at_observation_end_is_kept() -> None:
    """Mutant: ``timestamp > end`` -> ``>=``. The docstring removes ``timestamp > observation_end``:
    a row at the end instant itself is data, not future."""
    raw = _tx(
        customer_id=[1, 2, 3],
        timestamp=["2024-01-01", "2024-01-10", "2024-01-11"],
        amount=[5.0, 6.0, 7.0],
    )
    out, report = validate_transactions(raw, observation_end="2024-01-10", return_report=True)
    assert out["customer_id"].tolist() == [1, 2]
    assert report.removed("after_observation_end") == 1


def test_a_row_exactly_at_observation_start_is_kept() -> None:
    """Mutant: ``timestamp < begin`` -> ``<=``. Only rows before the start are removed."""
    raw = _tx(
        customer_id=[1, 2, 3],
        timestamp=["2023-12-31", "2024-01-01", "2024-01-02"],
        amount=[5.0, 6.0, 7.0],
    )
    out, report = validate_transactions(raw, observation_start="2024-01-01", return_report=True)
    assert out["customer_id"].tolist() == [2, 3]
    assert report.removed("before_observation_start") == 1


def test_observation_start_equal_to_observation_end_is_one_instant_not_an_error() -> None:
    """Mutant: ``begin > end`` -> ``begin >= end``. Start == end is a (degenerate) valid window:
    the row at that instant is kept (both rules are inclusive)."""
    raw = _tx(
        customer_id=[1, 2, 3],
        timestamp=["2024-01-01", "2024-01-05", "2024-01-09"],
        amount=[5.0, 6.0, 7.0],
    )
    out, report = validate_transactions(
        raw, observation_start="2024-01-05", observation_end="2024-01-05", return_report=True
    )
    assert out["customer_id"].tolist() == [2]
    assert report.removed("before_observation_start") == 1
    assert report.removed("after_observation_end") == 1


def test_zero_amount_lines_kept_count_as_purchases_for_the_refunds_only_check() -> None:
    """Mutant: ``amount >= 0`` -> ``> 0`` in ``_report_gaps``. Free lines kept with
    ``zero_amounts="keep"`` are purchase lines (as the features count them): a table of free
    lines is not "all refunds" and must not warn so."""
    raw = _tx(
        customer_id=[1, 2],
        timestamp=["2024-01-01", "2024-01-02"],
        amount=[0.0, 0.0],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        out = validate_transactions(raw, zero_amounts="keep")
    assert len(out) == 2


# --- schema/_coerce.py ------------------------------------------------------------------------


def test_fractional_order_ids_are_refused_not_truncated() -> None:
    """Mutant: the ``fractional`` check of ``coerce_int`` never fires. Order ids 1.5 and 1.7
    would both become order 1 (astype int64 truncates), merging two orders."""
    from loyalty_ml.exceptions import SchemaError

    raw = _tx(
        customer_id=[1, 1],
        timestamp=["2024-01-01", "2024-01-01"],
        amount=[5.0, 6.0],
        order_id=[1.5, 1.7],
    )
    with pytest.raises(SchemaError, match="whole numbers"):
        validate_transactions(raw)


def test_fractional_max_per_month_is_refused() -> None:
    """Same mutant, through validate_offers: a cap of 1.5 sends a month is not a cap of 1."""
    from loyalty_ml import validate_offers
    from loyalty_ml.exceptions import SchemaError

    with pytest.raises(SchemaError, match="whole numbers"):
        validate_offers(
            pd.DataFrame({"offer_id": ["a"], "cost_per_redemption": [1.0], "max_per_month": [1.5]})
        )


def test_float_product_ids_with_a_missing_one_lose_their_decimal_point() -> None:
    """Mutant: ``coerce_text`` no longer counts NaN as whole. A float product column with a blank
    cell (as CSVs read back) would give "101.0", which matches no "101" in another table."""
    raw = _tx(
        customer_id=[1, 2],
        timestamp=["2024-01-01", "2024-01-02"],
        amount=[1.0, 2.0],
        product_id=[101.0, np.nan],
    )
    out = validate_transactions(raw)
    assert out["product_id"].iloc[0] == "101"
    assert pd.isna(out["product_id"].iloc[1])


def test_uint64_customer_ids_past_int64_are_kept_as_text_not_wrapped() -> None:
    """Mutant: the uint64 guard of ``coerce_customer_id`` never fires; astype int64 wraps
    2**63 + 5 to -9223372036854775803 (another customer's id, silently)."""
    raw = _tx(
        customer_id=np.array([2**63 + 5, 7], dtype=np.uint64),
        timestamp=["2024-01-01", "2024-01-02"],
        amount=[1.0, 2.0],
    )
    out = validate_transactions(raw)
    assert out["customer_id"].tolist() == [str(2**63 + 5), "7"]


def test_numbers_in_an_object_id_column_are_read_by_value() -> None:
    """Mutant: object columns of numbers skip ``pd.to_numeric``. Ids 7.0 and 8.0 from a database
    driver (object dtype, a None among them) are the integer ids 7 and 8, not the text "7.0"."""
    raw = _tx(
        customer_id=pd.Series([7.0, None, 8.0], dtype=object),
        timestamp=["2024-01-01", "2024-01-02", "2024-01-03"],
        amount=[1.0, 2.0, 3.0],
    )
    out = validate_transactions(raw)
    assert out["customer_id"].tolist() == [7, 8]
    assert out["customer_id"].dtype == "int64"


# --- schema/_coerce_time.py -------------------------------------------------------------------


def test_a_missing_timestamp_is_refused_naming_its_row() -> None:
    """Mutant: the ``missing timestamps`` check of ``coerce_timestamp`` never fires. The row is
    then refused only by the final schema check, whose message names neither the row nor the fix."""
    from loyalty_ml.exceptions import SchemaError

    raw = _tx(customer_id=[1, 2], timestamp=["2024-01-01", None], amount=[1.0, 2.0])
    with pytest.raises(SchemaError, match=r"missing timestamps .*row 1"):
        validate_transactions(raw)


def test_a_date_past_the_12th_in_the_second_field_settles_month_first_without_warning() -> None:
    """Mutant: ``> 12`` -> ``> 13`` in ``_warn_if_day_month_ambiguous``. 01/13/2024 can only be
    month-first (13 January): the column is not ambiguous and must not warn."""
    raw = _tx(customer_id=[1, 2], timestamp=["01/13/2024", "02/03/2024"], amount=[1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        out = validate_transactions(raw)
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-02-03")]


def test_plus_days_reads_a_repeated_wall_time_as_the_earlier_instant() -> None:
    """Mutant: ``ambiguous=earlier`` built from zeros (the later instant) in ``shift_on_clock``.
    2024-10-26 01:30 London + 1 day is 2024-10-27 01:30, a time the clocks repeat (BST, then
    GMT); the documented reading is the earlier one, at +01:00."""
    from loyalty_ml.schema._coerce import plus_days

    sent = pd.Series(pd.to_datetime(["2024-10-26 01:30"]).tz_localize("Europe/London"))
    moved = plus_days(sent, 1)
    assert moved.iloc[0] == pd.Timestamp("2024-10-27 01:30+01:00")
    assert moved.iloc[0].utcoffset() == pd.Timedelta(hours=1)


def test_aware_and_naive_datetimes_in_one_column_are_refused() -> None:
    """Mutant: the aware/naive mix check of ``_parse_datetime_text`` never fires."""
    import datetime as dt

    from loyalty_ml.exceptions import SchemaError

    stamps = pd.Series(
        [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 2)], dtype=object
    )
    raw = _tx(customer_id=[1, 2], timestamp=stamps, amount=[1.0, 2.0])
    with pytest.raises(SchemaError, match="mixes time-zone aware and naive"):
        validate_transactions(raw)


# --- schema/canonical.py ----------------------------------------------------------------------


def test_transactions_schema_refuses_float_customer_ids() -> None:
    """Mutant: ``_is_id`` always True. The public schema's id check must refuse float ids (13085.0
    and 13085 would be two customers to a merge on text)."""
    from loyalty_ml.exceptions import SchemaError
    from loyalty_ml.schema.canonical import TRANSACTIONS_SCHEMA, check_canonical

    frame = pd.DataFrame(
        {
            "customer_id": [1.0, 2.0],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "amount": [1.0, 2.0],
        }
    )
    with pytest.raises(SchemaError, match="int64_or_str"):
        check_canonical(frame, TRANSACTIONS_SCHEMA)
    ok = frame.assign(customer_id=[1, 2])
    assert check_canonical(ok, TRANSACTIONS_SCHEMA) is not None


# --- schema/column_map.py ---------------------------------------------------------------------


def test_a_column_map_naming_an_absent_column_is_fine_when_the_canonical_one_is_there() -> None:
    """Mutant: every mapped column absent from the frame is an error. The docstring: a mapping is
    only an error when the canonical name is also absent (one ColumnMap serves several tables)."""
    from loyalty_ml import ColumnMap

    raw = _tx(customer_id=[1, 2], timestamp=["2024-01-01", "2024-01-02"], amount=[1.0, 2.0])
    out = validate_transactions(raw, columns=ColumnMap(customer_id="cust"))
    assert out["customer_id"].tolist() == [1, 2]


def test_a_mapped_column_clashing_with_an_existing_canonical_one_is_named() -> None:
    """Mutant: the clash check of ``ColumnMap.apply`` never fires (a later check still refuses the
    two ``customer_id`` columns, but without saying the ColumnMap made them)."""
    from loyalty_ml import ColumnMap
    from loyalty_ml.exceptions import SchemaError

    raw = _tx(
        customer_id=[1, 2], cust=[5, 6], timestamp=["2024-01-01", "2024-01-02"], amount=[1.0, 2.0]
    )
    with pytest.raises(SchemaError, match="exist already and are also mapped"):
        validate_transactions(raw, columns=ColumnMap(customer_id="cust"))


def test_a_12_in_the_first_field_does_not_make_a_date_day_first() -> None:
    """Mutant: ``first > 12`` -> ``>= 12`` in ``_day_first_rows``. 12/05/2024 next to 05/13/2024
    (month-first, the 13th) in a column of mixed formats is 5 December: 12 can be a month."""
    raw = _tx(
        customer_id=[1, 2, 3],
        timestamp=["2024-05-20", "12/05/2024", "05/13/2024"],
        amount=[1.0, 2.0, 3.0],
    )
    out = validate_transactions(raw).sort_values("customer_id")
    assert out["timestamp"].tolist() == [
        pd.Timestamp("2024-05-20"),
        pd.Timestamp("2024-12-05"),
        pd.Timestamp("2024-05-13"),
    ]


# --- schema/_bad_rows.py ----------------------------------------------------------------------


def test_a_job_error_names_row_positions_not_customer_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutant: ``bad_rows`` ignores ``withhold_ids`` for a customer-indexed series. Inside a job
    the error must say "row 1", never "customer 70001"."""
    from loyalty_ml import rfm_segments
    from loyalty_ml.exceptions import SchemaError, withhold_ids

    monkeypatch.delenv("LOYALTY_ML_SHOW_IDS", raising=False)
    features = pd.DataFrame(
        {"recency_days": [1.0, np.nan], "n_orders": [1.0, 2.0], "spend": [5.0, 6.0]},
        index=pd.Index([70000, 70001], name="customer_id"),
    )
    with pytest.raises(SchemaError) as caught:
        withhold_ids(rfm_segments)(features)
    message = str(caught.value)
    assert "row 1" in message
    assert "70001" not in message
    with pytest.raises(SchemaError, match="customer 70001"):  # outside a job the id helps
        rfm_segments(features)


def test_a_job_error_about_bad_id_values_leaves_the_values_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mutant: ``bad_rows(..., ids=True)`` quotes the values inside a job. The values of a
    customer_id column are ids: a fractional id 7001.5 must not reach a job's log."""
    from loyalty_ml.exceptions import SchemaError, withhold_ids

    monkeypatch.delenv("LOYALTY_ML_SHOW_IDS", raising=False)
    raw = _tx(customer_id=[7001.5, 2.0], timestamp=["2024-01-01", "2024-01-02"], amount=[1.0, 2.0])
    with pytest.raises(SchemaError, match="non-integer numeric ids") as caught:
        withhold_ids(validate_transactions)(raw)
    assert "7001" not in str(caught.value)
    with pytest.raises(SchemaError, match=r"7001\.5"):
        validate_transactions(raw)


# --- schema/tables.py -------------------------------------------------------------------------


def test_an_age_of_zero_is_a_placeholder_and_warned_about() -> None:
    """Mutant: ``_AGE_RANGE`` from 0 instead of 1. Exports write 0 for "unknown"; a customer
    aged 0 is not a real customer and is warned about."""
    from loyalty_ml import validate_customers

    raw = pd.DataFrame({"customer_id": [1, 2], "age": [0, 30]})
    with pytest.warns(DataQualityWarning, match=r"1 age\(s\) outside 1-110 \(0 on 1 row"):
        validate_customers(raw)


def test_a_small_negative_offer_cost_is_refused() -> None:
    """Mutant: ``values < 0`` -> ``values < -1`` in validate_offers: a cost of -0.5 is negative."""
    from loyalty_ml import validate_offers
    from loyalty_ml.exceptions import SchemaError

    with pytest.raises(SchemaError, match="cost_per_redemption must be >= 0"):
        validate_offers(pd.DataFrame({"offer_id": ["a"], "cost_per_redemption": [-0.5]}))
    with pytest.raises(SchemaError, match="cost_per_send must be >= 0"):
        validate_offers(
            pd.DataFrame({"offer_id": ["a"], "cost_per_redemption": [1.0], "cost_per_send": [-0.5]})
        )


def test_a_redemption_at_the_send_instant_is_not_before_it() -> None:
    """Mutant: ``redeemed_at < sent_at`` -> ``<=``. A coupon redeemed in the second it was sent
    (an in-store push at the till) was not redeemed before it was sent."""
    from loyalty_ml import validate_campaigns

    raw = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1"],
            "customer_id": [1, 2],
            "offer_id": ["a", "control"],
            "sent_at": ["2024-01-01 10:00", "2024-01-01 10:00"],
            "redeemed_at": ["2024-01-01 10:00", None],
        }
    )
    out = validate_campaigns(raw)
    assert out["redeemed"].tolist() == [True, False]


def test_a_campaign_row_sent_twice_is_kept_once_not_dropped() -> None:
    """Mutant: ``duplicated(keep="first")`` -> ``keep=False`` for exact repeats in
    validate_campaigns: both copies would go and the send be lost."""
    from loyalty_ml import validate_campaigns

    raw = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1", "c1"],
            "customer_id": [1, 1, 2],
            "offer_id": ["a", "a", "control"],
            "sent_at": ["2024-01-01", "2024-01-01", "2024-01-01"],
        }
    )
    with pytest.warns(DataQualityWarning, match="1 rows repeat another row exactly"):
        out = validate_campaigns(raw)
    assert out["customer_id"].tolist() == [1, 2]
    assert out["offer_id"].tolist() == ["a", "control"]


# --- privacy/pseudonymise.py ------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_id_is_missing_not_one_shared_pseudonym(blank: str) -> None:
    """Mutant: the ``texts == ""`` part of the missing-id check dropped. A blank id (as
    validate_transactions reads it: missing) would get one pseudonym shared by every blank row."""
    from loyalty_ml.exceptions import DataError
    from loyalty_ml.privacy.pseudonymise import pseudonymise_ids

    with pytest.raises(DataError, match="1 missing at positions"):
        pseudonymise_ids(["a1", blank], salt="s3cret-salt")


# --- privacy/cells.py -------------------------------------------------------------------------


def test_a_group_of_exactly_min_cell_size_customers_is_published() -> None:
    """Mutant: ``values >= min_count`` -> ``>``. MIN_CELL_SIZE (10) is the smallest group whose
    figures are published ("fewer customers" are blanked): 10 is shown, 9 is blanked."""
    from loyalty_ml.privacy.cells import MIN_CELL_SIZE, blank_small_rows

    assert MIN_CELL_SIZE == 10
    arms = pd.DataFrame({"rows": [9, 10], "rate": [0.5, 0.25]}, index=["small", "edge"])
    out = blank_small_rows(arms, arms["rows"], keep=("rows",))
    assert np.isnan(out.loc["small", "rate"])
    assert out.loc["edge", "rate"] == 0.25
    assert out["rows"].tolist() == [9, 10]


def test_a_cohort_without_a_known_size_is_blanked() -> None:
    """Mutant: ``fillna(0)`` -> ``fillna(min_count)`` in blank_small_cohorts. A retention row whose
    cohort the transactions do not size (retention of another extract or period) has an unknown
    size, and an unknown size is not a large one: it is blanked, not published."""
    from loyalty_ml.kpis import cohort_retention
    from loyalty_ml.privacy.cells import blank_small_cohorts

    tx = pd.DataFrame(
        {
            "customer_id": list(range(12)),
            "timestamp": pd.to_datetime(["2024-01-05"] * 12),
            "amount": 1.0,
        }
    )
    retention = cohort_retention(tx, freq="M", as_of="2024-03-01")
    extra = pd.DataFrame(
        {0: [1.0], 1: [0.5]}, index=pd.PeriodIndex(["2023-12"], freq="M", name="cohort")
    )
    extra.columns = retention.columns
    both = pd.concat([extra, retention])
    out = blank_small_cohorts(both, tx, freq="M", as_of="2024-03-01")
    assert out.loc[pd.Period("2024-01", "M")].tolist() == [1.0, 0.0]  # 12 customers: shown
    assert out.loc[pd.Period("2023-12", "M")].isna().all()  # size unknown: blanked


# --- kpis/_common.py --------------------------------------------------------------------------


def test_a_blank_text_customer_id_is_missing_for_the_kpis() -> None:
    """Mutant: ``check_no_missing`` no longer reads blank text as missing. A " " customer would be
    counted as one member (validate_transactions drops it as missing_customer)."""
    from loyalty_ml.exceptions import SchemaError
    from loyalty_ml.kpis import active_members

    tx = pd.DataFrame(
        {
            "customer_id": ["a", " "],
            "timestamp": pd.to_datetime(["2024-06-01", "2024-06-02"]),
            "amount": [5.0, 5.0],
        }
    )
    with pytest.raises(SchemaError, match=r"customer_id has missing values at rows \[1\]"):
        active_members(tx, as_of="2024-06-03", window_days=30)


def test_active_members_count_free_orders_and_not_refund_only_orders() -> None:
    """Mutants in ``purchase_lines``: ``amount >= 0`` -> ``> 0`` (a free order, kept with
    zero_amounts="keep", stops being a purchase) and the refund-only filter dropped (an order of
    returns alone becomes a purchase). By hand: customer 1 bought, 2 only returned, 3 got a free
    item: members {1, 3}, both active."""
    from loyalty_ml.kpis import active_members

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "order_id": ["o1", "o2", "o3"],
            "timestamp": pd.to_datetime(["2024-06-01", "2024-06-02", "2024-06-02"]),
            "amount": [5.0, -3.0, 0.0],
        }
    )
    out = active_members(tx, as_of="2024-06-03", window_days=30)
    assert out.tolist() == [2.0, 2.0, 1.0]


# --- kpis/health.py ---------------------------------------------------------------------------


def test_active_members_window_is_half_open_and_members_bought_before_as_of() -> None:
    """Mutants: the window's start made exclusive (``>=`` -> ``>``) and members counted up to and
    including ``as_of`` (``<`` -> ``<=``). Window [2024-06-01, 2024-07-01): customer 1 bought on
    its first day (active), 2 mid-window (active), 3 at as_of itself (not yet a member)."""
    from loyalty_ml.kpis import active_members

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-06-01", "2024-06-15", "2024-07-01"]),
            "amount": [5.0, 5.0, 5.0],
        }
    )
    out = active_members(tx, as_of="2024-07-01", window_days=30)
    assert out.tolist() == [2.0, 2.0, 1.0]


def test_a_customer_signed_up_at_as_of_is_not_yet_a_member() -> None:
    """Mutant: ``signup >= as_of`` -> ``>``. Members are those with ``signup_date < as_of``."""
    from loyalty_ml.kpis import active_members

    tx = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "timestamp": pd.to_datetime(["2024-06-15", "2024-06-30"]),
            "amount": [5.0, 5.0],
        }
    )
    customers = pd.DataFrame(
        {"customer_id": [1, 2], "signup_date": pd.to_datetime(["2024-01-01", "2024-07-01"])}
    )
    out = active_members(tx, as_of="2024-07-01", window_days=30, customers=customers)
    assert out.tolist() == [1.0, 1.0, 1.0]


def test_visit_tier_thresholds_are_rounded_up() -> None:
    """Mutant: ``np.ceil`` -> ``np.floor`` on visit thresholds. Visits 1, 2, 3, 4: quantiles 1.75
    and 3.25, rounded up to 2 and 4: base {1 visit}, silver {2, 3}, gold {4}."""
    from loyalty_ml.kpis import propose_tiers

    days = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
    rows = [(c, d) for c in (1, 2, 3, 4) for d in days[:c]]
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, _ in rows],
            "timestamp": pd.to_datetime([d for _, d in rows]),
            "amount": 10.0,
        }
    )
    tiers = propose_tiers(tx, as_of="2024-04-01", window_days=365, basis="visits")
    assert tiers["min_value"].tolist() == [-np.inf, 2.0, 4.0]
    assert tiers["max_value"].tolist() == [2.0, 4.0, np.inf]
    assert tiers["members"].tolist() == [1, 2, 1]


def test_overlapping_tier_ranges_are_refused() -> None:
    """Mutant: the overlap check of the tier bounds dropped (only inverted ranges refused).
    [0, 100) and [50, inf) both hold 60: a customer would be placed silently in the last one."""
    from loyalty_ml.exceptions import ConfigError
    from loyalty_ml.kpis import TierBenefit, estimate_tier_costs

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-02"]),
            "amount": [60.0, 200.0],
        }
    )
    tiers = pd.DataFrame(
        {"min_value": [-np.inf, 0.0, 50.0], "max_value": [0.0, 100.0, np.inf]},
        index=["none", "base", "gold"],
    )
    benefits = {t: TierBenefit() for t in tiers.index}
    with pytest.raises(ConfigError, match="overlapping"):
        estimate_tier_costs(tx, tiers, benefits=benefits, as_of="2024-04-01", basis="spend")


def test_tier_spend_is_net_of_kept_returns_and_refund_only_customers_are_not_members() -> None:
    """Mutants in ``_basis_values``: spend summed over purchase lines only (kept returns no longer
    net against it) and refund-only customers kept as tier members. By hand: customer 1 spent
    100 and returned 30 (net 70), customer 2 spent 50, customer 3 only returned 20 (no visit,
    not a member): 2 members, 120 of spend."""
    from loyalty_ml.kpis import propose_tiers

    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "order_id": ["o1", "o2", "o3", "o4"],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-05", "2024-03-02", "2024-03-03"]),
            "amount": [100.0, -30.0, 50.0, -20.0],
        }
    )
    tiers = propose_tiers(tx, as_of="2024-04-01", window_days=365, basis="spend")
    assert int(tiers["members"].sum()) == 2
    assert float(tiers["spend"].sum()) == 120.0
    assert float(tiers["visits"].sum()) == 2.0


# --- features/segments.py ---------------------------------------------------------------------


def test_a_value_a_rounding_error_past_a_class_edge_stays_on_the_edge() -> None:
    """Mutant: the edge slack of ``_classes`` dropped. The module docstring: values within one part
    in a billion of an edge count as on it (a value sent through JSON stays in its class). Spend
    5 + 4e-12 is on the class-2 edge 5 (class 1), 40 + 4e-12 on the class-3 edge 40 (class 2);
    40.1 is past it (class 3)."""
    from loyalty_ml import rfm_segments
    from loyalty_ml.features.segments import RFMEdges

    edges = RFMEdges(recency_days=(30.0, 5.0), n_orders=(1.0, 3.0), spend=(5.0, 40.0))
    features = pd.DataFrame(
        {
            "recency_days": [10.0, 10.0, 10.0],
            "n_orders": [2.0, 2.0, 2.0],
            "spend": [5.0 + 4e-12, 40.0 + 4e-12, 40.1],
        },
        index=pd.Index([1, 2, 3], name="customer_id"),
    )
    out = rfm_segments(features, edges=edges)
    assert out["M"].tolist() == [1, 2, 3]


# --- features/experiments.py ------------------------------------------------------------------


def _exp_tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 2],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-02-03", "2024-03-01"]),
            "amount": [5.0, 8.0, 6.0, 2.0],
        }
    )


def test_a_campaign_whose_window_closes_at_the_end_of_the_data_is_known() -> None:
    """Mutants: ``closes > end`` -> ``>=`` (experiment_table) and ``ends > end`` -> ``>=``
    (campaign_responses). A window [2024-02-23, 2024-03-01) closes at the last transaction:
    its outcome is fully observed (the purchase at 03-01 falls after it)."""
    from loyalty_ml import experiment_table
    from loyalty_ml.features.responses import campaign_responses

    camp = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1"],
            "customer_id": [1, 2],
            "offer_id": ["coupon", "control"],
            "sent_at": pd.to_datetime(["2024-02-23", "2024-02-23"]),
        }
    )
    _X, y, _t = experiment_table(_exp_tx(), camp, window_days=7)
    assert y.tolist() == [0, 0]
    assert campaign_responses(camp, _exp_tx(), window_days=7).tolist() == [0, 0]


def test_a_campaigns_features_are_taken_at_its_first_send() -> None:
    """Mutant: the campaign start is its last ``sent_at`` (``transform("max")``). Customer 1 was
    sent c1 on 02-01 and bought on 02-03; customer 2 was sent c1 on 02-05. Both are described as
    of 02-01: recency 30 and 29 days (as of 02-05, customer 1's 02-03 purchase would leak in)."""
    from loyalty_ml import experiment_table

    camp = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1"],
            "customer_id": [1, 2],
            "offer_id": ["coupon", "control"],
            "sent_at": pd.to_datetime(["2024-02-01", "2024-02-05"]),
        }
    )
    X, y, _t = experiment_table(_exp_tx(), camp, window_days=7)
    assert X["recency_days"].round(1).tolist() == [30.0, 29.0]
    assert y.tolist() == [1, 0]


def test_without_campaign_ids_one_days_sends_are_one_campaign() -> None:
    """Mutant: without ``campaign_id`` each ``sent_at`` instant is its own campaign (the
    ``floor("D")`` dropped). Sends at 09:00 and 18:00 on 02-01 are one campaign described as of
    09:00: customer 1's purchase at 12:00 that day is after the campaign's start, not in X."""
    from loyalty_ml import experiment_table

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-01-02 00:00", "2024-01-03 00:00", "2024-02-01 12:00", "2024-03-01 00:00"]
            ),
            "amount": [5.0, 8.0, 6.0, 2.0],
        }
    )
    camp = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "offer_id": ["coupon", "control"],
            "sent_at": pd.to_datetime(["2024-02-01 18:00", "2024-02-01 09:00"]),
        }
    )
    X, _y, _t = experiment_table(tx, camp, window_days=7)
    # as of 2024-02-01 09:00: 30 days 9 hours since 01-02, 29 days 9 hours since 01-03
    assert X["recency_days"].round(3).tolist() == [30.375, 29.375]
    assert X["n_orders"].tolist() == [1, 1]
