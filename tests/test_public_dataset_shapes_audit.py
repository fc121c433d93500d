"""Audit: the column layouts and quirks of well-known public retail and uplift data sets.

Small synthetic frames reproduce, from the data sets' public documentation, the shapes a data
scientist meets on day one (nothing is downloaded or read from ../shared/data):

- dunnhumby "The Complete Journey": ``household_key``, ``BASKET_ID``, ``DAY`` (day number 1..711,
  no calendar date), ``TRANS_TIME`` (HHMM), ``RETAIL_DISC`` / ``COUPON_DISC`` as negative numbers,
  campaigns TypeA/B/C without a control group, ``hh_demographic`` bands;
- Instacart: orders with ``order_number`` and ``days_since_prior_order`` (no dates; NaN first);
- Starbucks rewards (Udacity): hex ids, ``age`` 118 for "unknown", ``became_member_on`` as the int
  20170212, a list column ``channels``, a dict column ``value``, ``time`` in hours since the start;
- X5 RetailHero: hex ids, text datetimes, absurd ages (-7, 1900), ``purchase_sum`` (the receipt
  total, repeated on each product line), ``treatment_flg`` 0/1;
- Criteo uplift: ``f0..f11``, 85% treated, ~4.7% visits and ~0.3% conversions;
- CDNOW / Ta Feng: whitespace or semicolon files, ids with leading zeros, YYYYMMDD ints, decimal
  commas.

Each shape went through the README flow (ColumnMap, validate_*, build_features, churn labels,
training_table, ChurnModel, experiment_table / UpliftModel, OfferCatalog, choose_offers, the CLI).

Found, fixed, and kept as regression tests (eleven defects):

- relative times (dunnhumby DAY, Instacart days_since_prior_order, Starbucks hours) got the hint
  "epoch seconds, unit='s'", which puts every purchase within minutes of 1970-01-01 (now an
  origin-based fix);
- the YYYYMMDD hint failed on a float column (any CSV date column with one blank);
- negative discounts (dunnhumby's sign convention) were called surcharges, to be "set to 0";
- dict cells (Starbucks ``value``) got a currency-symbol hint as amounts, and silently became
  text labels such as "{'offer id': ...}" as offer ids (dict and list cells are now refused,
  with the way to take the value out);
- ``OfferCatalog.from_frame`` on a list column ``channel`` (Starbucks ``channels``) raised a bare
  numpy ValueError;
- ages of 118 (Starbucks' "unknown") or -7 and 1900 (X5) passed validate_customers without a word
  (now a DataQualityWarning);
- ``ColumnMap`` had no field for the canonical customer attributes (age_band, gender,
  income_band, region, tier, points_balance): a raw TypeError;
- on a four-month extract (X5), the README's training_table -> ChurnModel.fit stopped at its own
  all-NaN ``aov_trend`` telling the user to "fix the feature build" (now a warning that explains
  the trend windows; the column moves no score);
- a receipt total repeated on every line (X5 ``purchase_sum``) tripled spend without a warning;
- the CLI read a semicolon or whitespace separated file as one column and advised a ColumnMap
  (the separator is now read from the header line).

Guards (right today): the dunnhumby flow once DAY and the discount sign are converted, campaigns
without a control arm, Instacart without dates, Starbucks' YYYYMMDD ints and unknown offer kinds,
X5's integer treatment flag and censored sends, Criteo's imbalance and rare outcome, CDNOW and
Ta Feng files read with the right options, and the CLI on YYYYMMDD dates.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loyalty_ml as lml
from loyalty_ml.exceptions import DataError, DataQualityWarning, LeakageError, SchemaError

CHURN = {"n_estimators": 15, "early_stopping_rounds": 3}
DUNNHUMBY_ORIGIN = pd.Timestamp("2020-01-01")  # DAY 1; the data set gives no calendar date
STARBUCKS_ORIGIN = pd.Timestamp("2018-07-26")  # time 0; the data set gives no calendar date


# -- the shapes ---------------------------------------------------------------------------------
def _dunnhumby(n_households: int = 150, seed: int = 0) -> pd.DataFrame:
    """``transaction_data``: one row per product line of a basket, DAY 1..711, discounts < 0."""
    rng = np.random.default_rng(seed)
    rows = []
    basket = 26_984_851_472
    for household in range(1, n_households + 1):
        for day in np.sort(rng.integers(1, 712, int(rng.integers(2, 30)))):
            basket += 1
            store, time = int(rng.choice([364, 31742, 412])), int(rng.integers(600, 2300))
            for _ in range(int(rng.integers(1, 4))):
                disc = -round(float(rng.random()), 2) if rng.random() < 0.4 else 0.0
                rows.append(
                    (
                        household,
                        basket,
                        int(day),
                        int(rng.integers(25_671, 26_000)),
                        int(rng.integers(1, 3)),
                        round(float(rng.gamma(2, 2)), 2),
                        store,
                        disc,
                        -0.5 if rng.random() < 0.02 else 0.0,
                        time,
                        int((day - 1) // 7 + 1),
                        0.0,
                    )
                )
    return pd.DataFrame(
        rows,
        columns=[
            "household_key",
            "BASKET_ID",
            "DAY",
            "PRODUCT_ID",
            "QUANTITY",
            "SALES_VALUE",
            "STORE_ID",
            "RETAIL_DISC",
            "COUPON_DISC",
            "TRANS_TIME",
            "WEEK_NO",
            "COUPON_MATCH_DISC",
        ],
    )


DUNNHUMBY_COLUMNS = lml.ColumnMap(
    customer_id="household_key",
    timestamp="DAY",
    amount="SALES_VALUE",
    order_id="BASKET_ID",
    product_id="PRODUCT_ID",
    quantity="QUANTITY",
    store_id="STORE_ID",
    discount="RETAIL_DISC",
)


def _dunnhumby_dates(raw: pd.DataFrame) -> pd.DataFrame:
    """What the user has to do: DAY + TRANS_TIME (HHMM) on a chosen origin, discounts made >= 0."""
    when = (
        DUNNHUMBY_ORIGIN
        + pd.to_timedelta(raw["DAY"] - 1, unit="D")
        + pd.to_timedelta(raw["TRANS_TIME"] // 100, unit="h")
        + pd.to_timedelta(raw["TRANS_TIME"] % 100, unit="min")
    )
    return raw.assign(DAY=when, RETAIL_DISC=-raw["RETAIL_DISC"])


def _dunnhumby_campaigns(households: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """``campaign_table`` merged with ``campaign_desc``: TypeA/B/C campaigns, no control group."""
    rng = np.random.default_rng(seed)
    desc = pd.DataFrame(
        {
            "DESCRIPTION": ["TypeA", "TypeB", "TypeC", "TypeB"],
            "CAMPAIGN": [8, 13, 15, 24],
            "START_DAY": [412, 504, 547, 600],
            "END_DAY": [460, 551, 608, 650],
        }
    )
    rows = [
        (c.DESCRIPTION, int(h), c.CAMPAIGN)
        for c in desc.itertuples()
        for h in rng.choice(households, len(households) // 2, replace=False)
    ]
    table = pd.DataFrame(rows, columns=["DESCRIPTION", "household_key", "CAMPAIGN"])
    return table.merge(desc.drop(columns="DESCRIPTION"), on="CAMPAIGN")


def _validated_dunnhumby_campaigns(raw: pd.DataFrame) -> pd.DataFrame:
    """dunnhumby's campaign table with START_DAY turned into dates, validated."""
    return lml.validate_campaigns(
        _dunnhumby_campaigns(raw["household_key"].unique()).assign(
            START_DAY=lambda t: DUNNHUMBY_ORIGIN + pd.to_timedelta(t["START_DAY"] - 1, unit="D")
        ),
        columns=lml.ColumnMap(
            customer_id="household_key",
            offer_id="DESCRIPTION",
            campaign_id="CAMPAIGN",
            sent_at="START_DAY",
        ),
    )


def _instacart(n_users: int = 120, seed: int = 1) -> pd.DataFrame:
    """``orders.csv``: order_number, order_dow, order_hour_of_day, days_since_prior_order."""
    rng = np.random.default_rng(seed)
    rows = []
    order_id = 2_539_329
    for user in range(1, n_users + 1):
        n = int(rng.integers(3, 20))
        for k in range(1, n + 1):
            order_id += 1
            gap = np.nan if k == 1 else float(min(30, rng.integers(0, 40)))  # capped at 30
            rows.append(
                (
                    order_id,
                    user,
                    "prior" if k < n else "train",
                    k,
                    int(rng.integers(0, 7)),
                    int(rng.integers(0, 24)),
                    gap,
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "order_id",
            "user_id",
            "eval_set",
            "order_number",
            "order_dow",
            "order_hour_of_day",
            "days_since_prior_order",
        ],
    )


def _hex(rng: np.random.Generator, digits: int = 32) -> str:
    return uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | int(rng.integers(0, 2**62))).hex[
        :digits
    ]


def _starbucks(n: int = 250, seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``profile``, ``portfolio`` and ``transcript`` of the Udacity Starbucks rewards data."""
    rng = np.random.default_rng(seed)
    ids = [_hex(rng) for _ in range(n)]
    gender = rng.choice(np.array(["M", "F", "O", None], dtype=object), n, p=[0.5, 0.36, 0.02, 0.12])
    unknown = pd.isna(gender)
    joined = pd.Timestamp("2013-08-01") + pd.to_timedelta(rng.integers(0, 1800, n), unit="D")
    profile = pd.DataFrame(
        {
            "gender": gender,
            "age": np.where(unknown, 118, rng.integers(18, 100, n)),  # 118: age not given
            "id": ids,
            "became_member_on": joined.strftime("%Y%m%d").astype(int),
            "income": np.where(unknown, np.nan, rng.integers(30, 120, n) * 1000.0),
        }
    )
    portfolio = pd.DataFrame(
        {
            "reward": [10, 10, 0, 5, 5, 3, 2, 0, 5, 2],
            "channels": [
                ["email", "mobile", "social"],
                ["web", "email", "mobile", "social"],
                ["web", "email", "mobile"],
                ["web", "email", "mobile"],
                ["web", "email"],
                ["web", "email", "mobile", "social"],
                ["web", "email", "mobile", "social"],
                ["email", "mobile", "social"],
                ["web", "email", "mobile", "social"],
                ["web", "email", "mobile"],
            ],
            "difficulty": [10, 10, 0, 5, 20, 7, 10, 0, 5, 10],
            "duration": [7, 5, 4, 7, 10, 7, 10, 3, 5, 7],
            "offer_type": [
                *["bogo", "bogo", "informational", "bogo", "discount"],
                *["discount", "discount", "informational", "bogo", "discount"],
            ],
            "id": [_hex(rng) for _ in range(10)],
        }
    )
    events = []
    for person in ids:
        for t in np.sort(rng.integers(0, 714, int(rng.integers(0, 15)))):
            events.append(
                (person, "transaction", {"amount": round(float(rng.gamma(2, 6)), 2)}, int(t))
            )
        for sent in (0, 168, 336, 408, 504, 576):
            if rng.random() < 0.6:
                offer = str(portfolio["id"].iloc[int(rng.integers(0, 10))])
                events.append((person, "offer received", {"offer id": offer}, sent))
                if rng.random() < 0.7:
                    seen = sent + int(rng.integers(0, 24))
                    events.append((person, "offer viewed", {"offer id": offer}, seen))
                if rng.random() < 0.4:
                    done = sent + int(rng.integers(0, 72))
                    value = {"offer_id": offer, "reward": 5}  # 'offer_id' here, 'offer id' above
                    events.append((person, "offer completed", value, done))
    transcript = pd.DataFrame(events, columns=["person", "event", "value", "time"])
    return profile, portfolio, transcript


def _starbucks_transactions(transcript: pd.DataFrame) -> pd.DataFrame:
    bought = transcript[transcript["event"] == "transaction"]
    return lml.validate_transactions(
        bought.assign(
            amount=bought["value"].str["amount"],
            timestamp=STARBUCKS_ORIGIN + pd.to_timedelta(bought["time"], unit="h"),
        ),
        columns=lml.ColumnMap(customer_id="person"),
    )


def _x5(n: int = 300, seed: int = 4) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``clients``, ``purchases`` (one row per product line) and ``uplift_train`` of X5 RetailHero."""
    rng = np.random.default_rng(seed)
    ids = [_hex(rng, 10) for _ in range(n)]
    issued = pd.Timestamp("2017-04-01") + pd.to_timedelta(rng.integers(0, 600 * 86400, n), "s")
    redeemed = pd.Series(
        (pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 400 * 86400, n), "s"))
        .strftime("%Y-%m-%d %H:%M:%S")
        .astype(object)
    )
    redeemed[rng.random(n) < 0.1] = np.nan
    age = rng.integers(18, 80, n)
    age[:3] = [-7, 1900, 118]
    clients = pd.DataFrame(
        {
            "client_id": ids,
            "first_issue_date": issued.strftime("%Y-%m-%d %H:%M:%S"),
            "first_redeem_date": redeemed,
            "age": age,
            "gender": rng.choice(["U", "F", "M"], n),
        }
    )
    stores = [_hex(rng, 10) for _ in range(20)]
    products = [_hex(rng, 10) for _ in range(200)]
    rows = []
    for client in ids:
        for _ in range(int(rng.integers(1, 12))):
            receipt = _hex(rng, 10)
            when = pd.Timestamp("2018-11-21") + pd.Timedelta(
                seconds=int(rng.integers(0, 118 * 86400))
            )
            lines = np.round(rng.gamma(2, 60, int(rng.integers(2, 5))), 2)
            total = float(lines.sum())
            spent = -float(rng.choice([0, 0, 10, 20]))
            store = stores[int(rng.integers(0, 20))]
            for line in lines:
                rows.append(
                    (
                        client,
                        receipt,
                        when.strftime("%Y-%m-%d %H:%M:%S"),
                        round(total * 0.01, 1),
                        0.0,
                        spent,
                        0.0,
                        total,  # the receipt's total, on every line
                        store,
                        products[int(rng.integers(0, 200))],
                        1.0,
                        float(line),
                        0.0,
                    )
                )
    purchases = pd.DataFrame(
        rows,
        columns=[
            "client_id",
            "transaction_id",
            "transaction_datetime",
            "regular_points_received",
            "express_points_received",
            "regular_points_spent",
            "express_points_spent",
            "purchase_sum",
            "store_id",
            "product_id",
            "product_quantity",
            "trn_sum_from_iss",
            "trn_sum_from_red",
        ],
    )
    train = pd.DataFrame(
        {
            "client_id": ids,
            "treatment_flg": rng.integers(0, 2, n),
            "target": (rng.random(n) < 0.6).astype(int),
        }
    )
    return clients, purchases, train


X5_COLUMNS = lml.ColumnMap(
    customer_id="client_id",
    timestamp="transaction_datetime",
    amount="trn_sum_from_iss",  # the line's sum; purchase_sum is the receipt's
    order_id="transaction_id",
    product_id="product_id",
    quantity="product_quantity",
    store_id="store_id",
)


def _criteo(n: int = 20_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"f{i}": rng.normal(10.0, 3.0, n) for i in range(12)})
    treatment = (rng.random(n) < 0.85).astype(int)
    visit = (rng.random(n) < 0.038 + 0.01 * treatment).astype(int)
    conversion = ((visit == 1) & (rng.random(n) < 0.065)).astype(int)
    exposure = ((treatment == 1) & (rng.random(n) < 0.036)).astype(int)
    return frame.assign(treatment=treatment, visit=visit, conversion=conversion, exposure=exposure)


def _cdnow_text(n_customers: int = 100, seed: int = 5) -> str:
    """CDNOW_master.txt: id (leading zeros), YYYYMMDD, number of CDs, dollars; blank-separated."""
    rng = np.random.default_rng(seed)
    lines = []
    for c in range(1, n_customers + 1):
        for day in np.sort(rng.integers(0, 540, int(rng.integers(1, 10)))):
            date = (pd.Timestamp("1997-01-01") + pd.Timedelta(days=int(day))).strftime("%Y%m%d")
            lines.append(f"{c:05d}   {date}   {int(rng.integers(1, 5))}   {rng.gamma(2, 15):8.2f}")
    return "\n".join(lines) + "\n"


def _message(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc.value)


# -- dunnhumby: day numbers, negative discounts, campaigns without control -------------------------
@pytest.mark.parametrize("shape", ["dunnhumby DAY", "instacart days_since_prior_order", "hours"])
def test_relative_day_or_hour_numbers_get_an_origin_fix(shape: str) -> None:
    if shape == "dunnhumby DAY":
        raw, columns = _dunnhumby(20), DUNNHUMBY_COLUMNS
    elif shape == "hours":  # Starbucks' transcript: hours since the start of the test
        bought = _starbucks(40)[2].query("event == 'transaction'")
        raw = bought.assign(amount=bought["value"].str["amount"]).drop(columns="value")
        columns = lml.ColumnMap(customer_id="person", timestamp="time")
    else:
        raw = _instacart(20).assign(amount=1.0)
        columns = lml.ColumnMap(customer_id="user_id", timestamp="days_since_prior_order")
    with pytest.raises(SchemaError) as info:
        lml.validate_transactions(raw, columns=columns)
    message = _message(info)
    assert "timestamp" in message
    # day or hour counts are not seconds since 1970: the fix adds them to a start date
    assert "origin" in message or "to_timedelta" in message, message


@pytest.mark.parametrize("column", ["RETAIL_DISC", "COUPON_DISC"])
def test_discounts_exported_as_negative_numbers_get_the_sign_fix(column: str) -> None:
    raw = _dunnhumby(30)
    raw = raw.assign(DAY=DUNNHUMBY_ORIGIN + pd.to_timedelta(raw["DAY"] - 1, unit="D"))
    columns = lml.ColumnMap(
        customer_id="household_key",
        timestamp="DAY",
        amount="SALES_VALUE",
        order_id="BASKET_ID",
        discount=column,
    )
    assert (raw[column] <= 0).all() and (raw[column] < 0).any()
    with pytest.raises(SchemaError, match="discount") as info:
        lml.validate_transactions(raw, columns=columns)
    message = _message(info)
    # every discount is <= 0: a sign convention, not surcharges; dropping them loses the discounts
    assert re.search(r"flip|negate|the sign|abs\(|\.abs|-col", message), message
    assert "set them to 0" not in message, message


def test_negative_discounts_with_a_few_positive_ones_get_the_sign_fix() -> None:
    # the real RETAIL_DISC holds a few positive values among its negative ones: they were read as
    # surcharges ("set them to 0"), which with the sign unflipped drops every discount
    raw = _dunnhumby(30)
    raw = raw.assign(DAY=DUNNHUMBY_ORIGIN + pd.to_timedelta(raw["DAY"] - 1, unit="D"))
    raw.loc[raw.index[:2], "RETAIL_DISC"] = [0.01, 0.25]
    assert (raw["RETAIL_DISC"] < 0).sum() > 100
    with pytest.raises(SchemaError, match="discount") as info:
        lml.validate_transactions(raw, columns=DUNNHUMBY_COLUMNS)
    message = _message(info)
    assert "flip the sign" in message and "[0.01, 0.25]" in message, message
    assert "(-df['RETAIL_DISC']).clip(lower=0)" in message, message
    fixed = raw.assign(RETAIL_DISC=(-raw["RETAIL_DISC"]).clip(lower=0))
    tx = lml.validate_transactions(fixed, columns=DUNNHUMBY_COLUMNS)
    assert (tx["discount"] > 0).sum() == (raw["RETAIL_DISC"] < 0).sum()


def test_dunnhumby_flow_once_days_and_discount_signs_are_converted() -> None:
    raw = _dunnhumby()
    tx, report = lml.validate_transactions(
        _dunnhumby_dates(raw), columns=DUNNHUMBY_COLUMNS, return_report=True
    )
    assert report.rows_out == len(raw) and tx["customer_id"].dtype == "int64"
    assert tx["timestamp"].min() >= DUNNHUMBY_ORIGIN
    assert tx["timestamp"].max() < DUNNHUMBY_ORIGIN + pd.Timedelta(days=712)
    campaigns = _validated_dunnhumby_campaigns(raw)
    as_of = DUNNHUMBY_ORIGIN + pd.Timedelta(days=640)
    X = lml.build_features(tx, as_of=as_of, campaigns=campaigns)
    before = raw[raw["DAY"] - 1 < 640]
    # one order per BASKET_ID, one customer per household
    assert X["n_orders"].sum() == before["BASKET_ID"].nunique()
    assert len(X) == before["household_key"].nunique()
    assert X["discount_share"].between(0, 1).all()
    assert X["offers_received"].max() <= 4
    cutoffs = pd.date_range(end=as_of - pd.Timedelta(days=90), periods=3, freq="45D")
    X_train, y_train = lml.training_table(tx, cutoffs=cutoffs, horizon_days=60)
    churn = lml.ChurnModel(random_state=0, **CHURN).fit(X_train, y_train)
    p = pd.Series(churn.predict_proba(X)[:, 1], index=X.index)
    assert p.between(0, 1).all() and p.notna().all()
    assert len(churn.explain(X.head(5), top_k=2)) == 5
    actions = lml.TriggerPolicy(boundaries=lml.estimate_boundaries(tx, as_of=as_of)).assign(X, p)
    assert actions.index.equals(X.index)


def test_dunnhumby_campaigns_without_a_control_arm_are_refused_by_name() -> None:
    raw = _dunnhumby(80)
    tx = lml.validate_transactions(_dunnhumby_dates(raw), columns=DUNNHUMBY_COLUMNS)
    campaigns = _validated_dunnhumby_campaigns(raw)
    X, y, t = lml.experiment_table(tx, campaigns, window_days=30)
    assert set(t) == {"TypeA", "TypeB", "TypeC"}
    # targeted campaigns, no randomised control: no uplift can be estimated, and it says so
    with pytest.raises(DataError, match=r"control label 'control' does not occur.*TypeA") as info:
        lml.UpliftModel(random_state=0, n_estimators=10).fit(X, y, treatment=t)
    # "pass control=<your label>" alone sent the user to name an offer arm the control group
    message = _message(info)
    assert "If nobody was held out" in message, message
    assert "no arm is a control group for another" in message, message
    assert "propensity='estimate'" in message, message


def test_column_map_maps_the_canonical_customer_attributes() -> None:
    # dunnhumby's hh_demographic: bands under their own names
    demographic = pd.DataFrame(
        {
            "AGE_DESC": ["45-54", "35-44", "25-34", "65+"],
            "MARITAL_STATUS_CODE": ["A", "U", "B", "A"],
            "INCOME_DESC": ["35-49K", "50-74K", "25-34K", "Under 15K"],
            "household_key": [1, 7, 8, 13],
        }
    )
    customers = lml.validate_customers(
        demographic,
        columns=lml.ColumnMap(
            customer_id="household_key", age_band="AGE_DESC", income_band="INCOME_DESC"
        ),
    )
    assert {"age_band", "income_band"} <= set(customers.columns)


# -- Instacart: no dates at all ------------------------------------------------------------------
def test_instacart_orders_without_dates_or_amounts_are_refused_by_column() -> None:
    orders = _instacart(30)
    with pytest.raises(
        SchemaError, match=r"missing required column\(s\) \['timestamp', 'amount'\]"
    ):
        lml.validate_transactions(orders, columns=lml.ColumnMap(customer_id="user_id"))


def test_instacart_timeline_rebuilt_from_gaps_gives_one_order_per_order_number() -> None:
    orders = _instacart().sort_values(["user_id", "order_number"])
    day = orders.groupby("user_id")["days_since_prior_order"].cumsum().fillna(0.0)
    when = (
        pd.Timestamp("2017-01-01")
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(orders["order_hour_of_day"], unit="h")
    )
    tx = lml.validate_transactions(
        orders.assign(when=when, amount=1.0),
        columns=lml.ColumnMap(customer_id="user_id", timestamp="when"),
    )
    assert len(tx) == len(orders)
    as_of = when.max() + pd.Timedelta(days=1)
    X = lml.build_features(tx, as_of=as_of)
    assert X["n_orders"].to_dict() == orders.groupby("user_id").size().astype(float).to_dict()


# -- Starbucks: YYYYMMDD ints, age 118, list and dict columns, hours -----------------------------
def _hinted_conversion(message: str, column: pd.Series) -> pd.Series:
    """Run the ``pd.to_datetime(...)`` fix a message gives on ``column`` (bound to ``col``)."""
    found = re.search(r"(pd\.to_datetime\(.*?\)) first", message)
    assert found, message
    return eval(found.group(1), {"pd": pd, "np": np, "col": column})


def test_starbucks_yyyymmdd_signup_ints_get_a_fix_that_works() -> None:
    profile = _starbucks(60)[0]
    columns = lml.ColumnMap(customer_id="id", signup_date="became_member_on")
    with pytest.raises(SchemaError, match=r"format='%Y%m%d'") as info:
        lml.validate_customers(profile, columns=columns)
    converted = _hinted_conversion(_message(info), profile["became_member_on"])
    assert converted.dt.strftime("%Y%m%d").astype(int).tolist() == (
        profile["became_member_on"].tolist()
    )


def test_yyyymmdd_floats_with_a_blank_get_a_fix_that_works() -> None:
    profile = _starbucks(60)[0]
    profile["became_member_on"] = profile["became_member_on"].astype(float)
    profile.loc[3, "became_member_on"] = np.nan  # one blank in the CSV: the column is float64
    columns = lml.ColumnMap(customer_id="id", signup_date="became_member_on")
    with pytest.raises(SchemaError, match=r"%Y%m%d") as info:
        lml.validate_customers(profile, columns=columns)
    converted = _hinted_conversion(_message(info), profile["became_member_on"])
    assert converted.isna().sum() == 1
    assert converted.dropna().dt.year.between(2013, 2019).all()


@pytest.mark.parametrize("shape", ["starbucks", "x5"])
def test_sentinel_and_impossible_ages_are_flagged(shape: str) -> None:
    if shape == "starbucks":
        raw = _starbucks(200)[0].drop(columns="became_member_on")
        columns = lml.ColumnMap(customer_id="id")
    else:
        raw = _x5(60)[0]
        columns = lml.ColumnMap(customer_id="client_id", signup_date="first_issue_date")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lml.validate_customers(raw, columns=columns)
    said = " ".join(str(w.message) for w in caught if issubclass(w.category, DataQualityWarning))
    assert "age" in said, said
    assert ("118" in said) if shape == "starbucks" else ("1900" in said and "-7" in said), said


def test_starbucks_profile_and_transactions_give_features() -> None:
    profile, _, transcript = _starbucks()
    tx = _starbucks_transactions(transcript)
    assert tx["customer_id"].str.fullmatch(r"[0-9a-f]{32}").all()  # hex ids stay text
    customers = lml.validate_customers(
        profile.assign(
            became_member_on=pd.to_datetime(
                profile["became_member_on"].astype(str), format="%Y%m%d"
            ),
            age=profile["age"].where(profile["age"].between(1, 110)),  # as the warning says
        ),
        columns=lml.ColumnMap(customer_id="id", signup_date="became_member_on"),
    )
    as_of = STARBUCKS_ORIGIN + pd.Timedelta(hours=500)
    X = lml.build_features(tx, as_of=as_of, customers=customers)
    assert X.index.isin(customers.index).all()
    assert (X["signup_tenure_days"].dropna() > 0).all()
    bought = transcript.query("event == 'transaction' and time < 500")
    # no order id: an order is a (customer, hour) pair, as documented
    assert X["n_orders"].sum() == len(bought[["person", "time"]].drop_duplicates())
    spent = bought["value"].str["amount"].groupby(bought["person"]).sum()
    assert np.allclose(X["spend"].sort_index(), spent.sort_index())


def test_dict_amount_cells_get_an_extraction_hint() -> None:
    bought = _starbucks(30)[2].query("event == 'transaction'")
    raw = bought.assign(when=STARBUCKS_ORIGIN + pd.to_timedelta(bought["time"], unit="h"))
    with pytest.raises(SchemaError, match="amount") as info:
        lml.validate_transactions(
            raw, columns=lml.ColumnMap(customer_id="person", timestamp="when", amount="value")
        )
    assert re.search(r"dict|mapping|json", _message(info), re.IGNORECASE), _message(info)


def test_dict_offer_id_cells_are_refused_not_turned_into_text() -> None:
    received = _starbucks(30)[2].query("event == 'offer received'")
    raw = received.assign(sent=STARBUCKS_ORIGIN + pd.to_timedelta(received["time"], unit="h"))
    columns = lml.ColumnMap(customer_id="person", offer_id="value", sent_at="sent")
    try:
        campaigns = lml.validate_campaigns(raw, columns=columns)
    except SchemaError as exc:
        assert "offer_id" in str(exc)
        return
    assert not campaigns["offer_id"].str.startswith("{").any(), campaigns["offer_id"].head()


def test_starbucks_offer_types_outside_the_kinds_are_named() -> None:
    portfolio = _starbucks(10)[1]
    columns = lml.ColumnMap(offer_id="id", cost_per_redemption="reward", kind="offer_type")
    with pytest.raises(SchemaError, match=r"kind must be one of .*\['bogo', 'informational'\]"):
        lml.validate_offers(portfolio, columns=columns)
    kinds = {"bogo": "free_item", "discount": "discount", "informational": "non_monetary"}
    offers = lml.validate_offers(
        portfolio.assign(offer_type=portfolio["offer_type"].map(kinds)), columns=columns
    )
    assert len(offers) == 10 and offers.index.str.fullmatch(r"[0-9a-f]{32}").all()


def test_offer_catalog_with_a_list_of_channels() -> None:
    """Once a bare numpy ValueError in OfferCatalog.from_frame; now refused with the fix."""
    portfolio = _starbucks(10)[1].drop(columns="offer_type")
    columns = lml.ColumnMap(
        offer_id="id", cost_per_redemption="reward", channel="channels", min_basket="difficulty"
    )
    for build in (lml.validate_offers, lml.OfferCatalog.from_frame):
        frame = portfolio.rename(columns={"id": "offer_id", "reward": "cost_per_redemption"})
        with pytest.raises(SchemaError, match=r"offers\.channel holds 10 list cell.*str\.join"):
            if build is lml.validate_offers:
                build(portfolio, columns=columns)
            else:
                build(frame.rename(columns={"channels": "channel"}))
    joined = portfolio.assign(channels=portfolio["channels"].str.join(", "))
    catalog = lml.OfferCatalog.from_frame(lml.validate_offers(joined, columns=columns))
    assert len(catalog) == 10


# -- X5 RetailHero: hex ids, receipts, an integer treatment flag, a four-month extract -----------
def test_x5_integer_treatment_flag_fits_and_plans() -> None:
    clients, purchases, train = _x5()
    tx = lml.validate_transactions(purchases, columns=X5_COLUMNS)
    assert tx["customer_id"].dtype == "str" and tx["order_id"].dtype == "str"
    customers = lml.validate_customers(
        clients.drop(columns="age"),
        columns=lml.ColumnMap(customer_id="client_id", signup_date="first_issue_date"),
    )
    X = lml.build_features(tx, as_of="2019-03-19", customers=customers)
    flags = train.set_index("client_id").reindex(X.index)
    uplift = lml.UpliftModel(random_state=0, n_estimators=20).fit(
        X, flags["target"], treatment=flags["treatment_flg"], control=0
    )
    effects, baseline = uplift.predict_effects(X), uplift.predict_baseline(X)
    assert effects.columns.tolist() == ["1"]
    assert np.isfinite(effects.to_numpy()).all() and baseline.between(0, 1).all()
    catalog = lml.OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["1"], "cost_per_redemption": [2.0], "cost_per_send": [0.1]})
    )
    plan = lml.choose_offers(
        effects, catalog, baseline=baseline, value_per_conversion=30.0, random_state=0
    )
    assert plan.index.equals(X.index)
    # the communication went out after the extract: its outcome cannot come from purchases
    sends = lml.validate_campaigns(
        train.assign(
            offer_id=np.where(train["treatment_flg"] == 1, "sms", "control"), sent_at="2019-03-19"
        ),
        columns=lml.ColumnMap(customer_id="client_id"),
    )
    with pytest.raises(LeakageError, match="ends after the data"):
        lml.experiment_table(tx, sends, window_days=30)


def test_readme_churn_flow_on_a_four_month_extract() -> None:
    _, purchases, _ = _x5()
    tx = lml.validate_transactions(purchases, columns=X5_COLUMNS)
    cutoffs = pd.date_range(end="2019-02-15", periods=3, freq="14D")
    X_train, y_train = lml.training_table(tx, cutoffs=cutoffs, horizon_days=30)
    assert X_train["aov_trend"].isna().all()  # no window before the first 90 days
    # train_and_register drops such a column with a DataQualityWarning; ChurnModel should do
    # the same, or say that the history is shorter than the trend windows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        churn = lml.ChurnModel(random_state=0, **CHURN).fit(X_train, y_train)
    assert churn.predict_proba(X_train)[:, 1].std() > 0


def test_receipt_total_repeated_on_every_line_is_flagged() -> None:
    _, purchases, _ = _x5(80)
    columns = lml.ColumnMap(
        customer_id="client_id",
        timestamp="transaction_datetime",
        amount="purchase_sum",
        order_id="transaction_id",
        product_id="product_id",
    )
    with pytest.warns(DataQualityWarning, match="amount"):
        lml.validate_transactions(purchases, columns=columns)


# -- Criteo: 85% treated, 0.3% conversions ------------------------------------------------------
@pytest.mark.parametrize("outcome", ["visit", "conversion"])
def test_criteo_imbalance_and_rare_outcome_give_finite_effects(outcome: str) -> None:
    data = _criteo()
    X = data[[f"f{i}" for i in range(12)]]
    assert 0.83 < data["treatment"].mean() < 0.87 and data["conversion"].mean() < 0.006
    with pytest.raises(DataError, match=r"control label 'control' does not occur.*'0', '1'"):
        lml.UpliftModel(random_state=0, n_estimators=10).fit(
            X, data[outcome], treatment=data["treatment"]
        )
    if outcome == "conversion":  # the 15% control arm holds a handful of conversions
        with pytest.warns(DataQualityWarning, match=r"\['0 \(\d+ rows, \d+ purchases\)'\]"):
            uplift = lml.UpliftModel(random_state=0, n_estimators=30).fit(
                X, data[outcome], treatment=data["treatment"], control=0
            )
    else:
        uplift = lml.UpliftModel(random_state=0, n_estimators=30).fit(
            X, data[outcome], treatment=data["treatment"], control=0
        )
    effects, baseline = uplift.predict_effects(X), uplift.predict_baseline(X)
    assert effects.columns.tolist() == ["1"]
    assert np.isfinite(effects.to_numpy()).all() and baseline.between(0, 1).all()
    observed = data.groupby("treatment")[outcome].mean()
    # the average effect is the size of the difference in means, not a NaN or a blow-up
    assert abs(effects["1"].mean() - (observed[1] - observed[0])) < 0.01
    catalog = lml.OfferCatalog.from_frame(
        pd.DataFrame({"offer_id": ["1"], "cost_per_redemption": [1.0]})
    )
    plan = lml.choose_offers(
        effects,
        catalog,
        baseline=baseline,
        value_per_conversion=200.0,
        holdout_fraction=0.1,
        random_state=0,
    )
    assert plan["offer_id"].notna().any() and plan["expected_net_value"].notna().all()


# -- CDNOW and Ta Feng: text files ----------------------------------------------------------------
def test_cdnow_file_with_yyyymmdd_ints_and_leading_zeros() -> None:
    raw = pd.read_csv(
        io.StringIO(_cdnow_text()),
        sep=r"\s+",
        header=None,
        names=["customer_id", "timestamp", "quantity", "amount"],
        dtype={"customer_id": str},
    )
    with pytest.raises(SchemaError, match=r"format='%Y%m%d'") as info:
        lml.validate_transactions(raw)
    raw["timestamp"] = _hinted_conversion(_message(info), raw["timestamp"])
    tx = lml.validate_transactions(raw)
    assert tx["timestamp"].min() >= pd.Timestamp("1997-01-01")
    assert tx["timestamp"].max() < pd.Timestamp("1998-07-01")
    X = lml.build_features(tx, as_of="1998-07-01")
    assert X.index[0] == "00001" and len(X) == raw["customer_id"].nunique()
    labels = lml.churn_labels(tx, as_of="1998-01-01", horizon_days=90)
    assert set(labels.unique()) <= {0, 1}


def test_ta_feng_semicolon_file_with_decimal_commas_and_zero_padded_ids() -> None:
    rng = np.random.default_rng(6)
    rows = ["TRANSACTION_DT;CUSTOMER_ID;AGE_GROUP;PIN_CODE;PRODUCT_SUBCLASS;PRODUCT_ID;AMOUNT;"]
    rows[0] += "ASSET;SALES_PRICE"
    ages = {}
    for c in range(60):
        cid = f"0{1_104_905 + 37 * c:07d}"
        ages[cid] = str(rng.choice(["<25", "30-34", "45-49", ">64", "Unknown"]))
        for _ in range(int(rng.integers(1, 6))):
            day = pd.Timestamp("2000-11-01") + pd.Timedelta(days=int(rng.integers(0, 120)))
            price = rng.gamma(2, 60)
            rows.append(
                f"{day:%Y-%m-%d} 00:00:00;{cid};{ages[cid]};115;110411;4710199010372;"
                f"{int(rng.integers(1, 4))};{price * 0.8:.2f};{price:.2f}".replace(".", ",")
            )  # decimal commas (the date has no dots)
    text = "\n".join(rows) + "\n"
    raw = pd.read_csv(
        io.StringIO(text), sep=";", decimal=",", dtype={"CUSTOMER_ID": str, "PRODUCT_ID": str}
    )
    tx = lml.validate_transactions(
        raw.assign(margin=raw["SALES_PRICE"] - raw["ASSET"]),
        columns=lml.ColumnMap(
            customer_id="CUSTOMER_ID",
            timestamp="TRANSACTION_DT",
            amount="SALES_PRICE",
            quantity="AMOUNT",
            product_id="PRODUCT_ID",
        ),
    )
    assert tx["customer_id"].str.startswith("0").all()
    customers = lml.validate_customers(
        pd.DataFrame({"customer_id": list(ages), "AGE_GROUP": list(ages.values())})
    )
    X = lml.build_features(tx, as_of="2001-03-01", customers=customers)
    assert len(X) == 60 and (X["margin_rate"].dropna() > 0).all()


# -- the command line -----------------------------------------------------------------------------
def _canonical_cdnow() -> pd.DataFrame:
    raw = pd.read_csv(
        io.StringIO(_cdnow_text(60)),
        sep=r"\s+",
        header=None,
        names=["customer_id", "timestamp", "quantity", "amount"],
        dtype={"customer_id": str},
    )
    return raw


def test_cli_refuses_yyyymmdd_dates_with_the_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from loyalty_ml.cli import main

    _canonical_cdnow().to_csv(tmp_path / "tx.csv", index=False)
    assert main(["report", str(tmp_path / "tx.csv"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "timestamp" in err and "%Y%m%d" in err and "Traceback" not in err


@pytest.mark.parametrize("sep", [";", " "])
def test_cli_reads_or_names_the_separator_of_a_csv(
    sep: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from loyalty_ml.cli import main

    raw = _canonical_cdnow()
    raw["timestamp"] = pd.to_datetime(raw["timestamp"].astype(str), format="%Y%m%d")
    raw.to_csv(tmp_path / "tx.csv", sep=sep, index=False)  # a European or fixed-width export
    status = main(["report", str(tmp_path / "tx.csv"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    if status != 0:
        assert re.search(r"separat|delimit", err), err
        assert "ColumnMap" not in err, err
