"""The README's walk-through runs as written, so that the first code a newcomer copies never rots."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    match = re.search(r"```python\n(.*?)```", text[start:], flags=re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


@pytest.mark.filterwarnings("ignore::loyalty_ml.tracking.drift.DriftWarning")
def test_the_whole_flow_runs_on_the_simulator() -> None:
    setup = _block_after("## Using it")
    assert "n_customers=10_000" in setup
    namespace: dict[str, object] = {}
    exec(setup.replace("n_customers=10_000", "n_customers=1500"), namespace)  # the same, smaller
    exec(_block_after("From transactions to decisions"), namespace)
    plan, audit = namespace["plan"], namespace["audit"]
    assert plan["expected_cost"].sum() <= 150  # type: ignore[index]
    assert set(audit.by_group.index.get_level_values("attribute")) == {  # type: ignore[attr-defined]
        "age_band",
        "income_band",
    }


def test_the_own_data_block_runs_on_an_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    import loyalty_ml as lml

    pd.DataFrame(
        {
            "Invoice": ["A1", "C1", "A2"],
            "StockCode": ["p1", "p1", "p2"],
            "Quantity": [2, -2, 1],
            "InvoiceDate": ["2024-01-05 10:00", "2024-01-06 11:00", "2024-01-07 12:00"],
            "Price": [5.0, 5.0, 5.0],
            "Customer ID": [1, 1, 2],
        }
    ).to_csv(tmp_path / "transactions.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("Your own data goes through"), namespace)
    assert namespace["own_tx"]["customer_id"].tolist() == [1, 2]  # type: ignore[index]
    assert namespace["own_tx"]["amount"].tolist() == [10.0, 5.0]  # type: ignore[index]
    assert namespace["report"].removed("cancellation") == 1  # type: ignore[attr-defined]


def test_the_dunnhumby_block_runs_on_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    import loyalty_ml as lml

    pd.DataFrame(
        {
            "household_key": [1, 1, 2, 2],
            "BASKET_ID": [26984851472, 26984851472, 26984851516, 26984851999],
            "DAY": [1, 1, 3, 711],
            "PRODUCT_ID": [1004906, 1033142, 1036325, 1082185],
            "QUANTITY": [1, 0, 2, 1],
            "SALES_VALUE": [1.39, 0.82, 0.0, 2.5],
            "STORE_ID": [364, 364, 412, 412],
            "RETAIL_DISC": [-0.6, 0.0, -0.3, 0.01],
            "TRANS_TIME": [1631, 1631, 5, 2359],
            "WEEK_NO": [1, 1, 1, 102],
            "COUPON_DISC": [0.0, 0.0, 0.0, -0.55],
            "COUPON_MATCH_DISC": [0.0, 0.0, 0.0, 0.0],
        }
    ).to_csv(tmp_path / "transaction_data.csv", index=False)
    pd.DataFrame({"AGE_DESC": ["65+"], "INCOME_DESC": ["35-49K"], "household_key": [2]}).to_csv(
        tmp_path / "hh_demographic.csv", index=False
    )
    pd.DataFrame(
        {"DESCRIPTION": ["TypeA", "TypeB"], "household_key": [1, 2], "CAMPAIGN": [8, 13]}
    ).to_csv(tmp_path / "campaign_table.csv", index=False)
    pd.DataFrame(
        {
            "DESCRIPTION": ["TypeA", "TypeB"],
            "CAMPAIGN": [8, 13],
            "START_DAY": [412, 504],
            "END_DAY": [460, 551],
        }
    ).to_csv(tmp_path / "campaign_desc.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("### Day numbers, signed discounts"), namespace)
    tx = namespace["dh_tx"]
    assert tx["timestamp"].astype(str).tolist() == [  # type: ignore[index]
        "2020-01-01 16:31:00",
        "2020-01-01 16:31:00",
        "2021-12-11 23:59:00",
    ]  # DAY 1 is day1; the free line of DAY 3 (00:05) is dropped as zero_amount
    assert tx["discount"].tolist() == [0.6, 0.0, 0.0]  # type: ignore[index]
    assert set(namespace["dh_people"].columns) == {  # type: ignore[attr-defined]
        "customer_id",
        "age_band",
        "income_band",
    }
    sent = namespace["dh_campaigns"]["sent_at"]  # type: ignore[index]
    assert sent.astype(str).tolist() == ["2021-02-15", "2021-05-18"]


def test_the_olist_block_runs_on_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import loyalty_ml as lml

    pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "customer_id": ["c1", "c2", "c3", "c4"],  # new with every order
            "order_status": ["delivered", "delivered", "canceled", "unavailable"],
            "order_purchase_timestamp": [
                "2017-10-02 10:56:33",
                "2018-01-15 08:00:00",
                "2018-02-01 09:00:00",
                "2018-03-01 12:00:00",
            ],
        }
    ).to_csv(tmp_path / "olist_orders_dataset.csv", index=False)
    pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "customer_unique_id": ["u1", "u1", "u2", "u3"],
            "customer_zip_code_prefix": [3149, 3149, 13056, 1151],
            "customer_city": ["sao paulo", "sao paulo", "campinas", "sao paulo"],
            "customer_state": ["SP", "SP", "SP", "SP"],
        }
    ).to_csv(tmp_path / "olist_customers_dataset.csv", index=False)
    pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3"],
            "order_item_id": [1, 2, 1, 1],  # two units of one product in o1
            "product_id": ["p1", "p1", "p2", "p1"],
            "seller_id": ["s1", "s1", "s2", "s1"],
            "shipping_limit_date": ["2017-10-06 11:07:15"] * 2 + ["2018-01-19 08:00:00"] * 2,
            "price": [29.99, 29.99, 118.7, 29.99],
            "freight_value": [8.72, 8.72, 22.76, 8.72],
        }
    ).to_csv(tmp_path / "olist_order_items_dataset.csv", index=False)
    pd.DataFrame(
        {"product_id": ["p1", "p2"], "product_category_name": ["utilidades_domesticas", None]}
    ).to_csv(tmp_path / "olist_products_dataset.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("### Orders over several tables"), namespace)
    tx = namespace["olist_tx"]
    # the person's two orders, both units of o1; the canceled order left out
    assert tx["customer_id"].tolist() == ["u1", "u1", "u1"]  # type: ignore[index]
    assert tx["amount"].tolist() == [29.99, 29.99, 118.7]  # type: ignore[index]
    assert tx["order_id"].tolist() == ["o1", "o1", "o2"]  # type: ignore[index]


def test_the_hm_block_runs_on_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import loyalty_ml as lml

    a, b = "0a" * 32, "f3" * 32  # 64 hexadecimal characters
    (tmp_path / "transactions_train.csv").write_text(
        "t_dat,customer_id,article_id,price,sales_channel_id\n"
        f"2020-01-03,{a},108775015,0.0084576271186440,2\n"
        f"2020-01-03,{a},108775015,0.0084576271186440,2\n"  # two of one article: two rows
        f"2020-01-03,{a},956217002,0.0508474576271186,2\n"
        f"2020-02-10,{a},108775015,0.0084576271186440,1\n"
        f"2020-03-01,{b},956217002,0.0338813559322033,1\n",
        encoding="utf-8",
    )
    pd.DataFrame(
        {
            "article_id": [108775015, 956217002],
            "product_code": [108775, 956217],
            "product_type_name": ["Vest top", "Trousers"],
            "index_group_name": ["Ladieswear", "Divided"],
        }
    ).to_csv(tmp_path / "articles.csv", index=False)
    (tmp_path / "customers.csv").write_text(
        "customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code\n"
        f"{a},1.0,1.0,ACTIVE,Regularly,49.0,{'52' * 32}\n"
        f"{b},,,LEFT CLUB,None,,{'9d' * 32}\n"
        f"{'c4' * 32},,,ACTIVE,NONE,24.0,{'52' * 32}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("### A fashion retailer's export"), namespace)
    tx = namespace["hm_tx"]
    # the repeated row is a quantity of 2, not a duplicate: no row and no money lost
    first = tx[(tx["timestamp"] == "2020-01-03") & (tx["product_id"] == 108775015)]  # type: ignore[index]
    assert len(tx) == 4 and first["quantity"].tolist() == [2]  # type: ignore[arg-type]
    assert tx["amount"].sum() == pytest.approx(  # type: ignore[index]
        3 * 0.0084576271186440 + 0.0508474576271186 + 0.0338813559322033
    )
    people = namespace["hm_people"].set_index("customer_id")  # type: ignore[attr-defined]
    assert "postal_code" not in people.columns
    assert people["consent_marketing"].tolist() == [True, False, False]
    assert people["consent_profiling"].tolist() == [True, False, True]
    X = namespace["X_hm"]
    assert X.loc[a, "n_orders"] == 2  # type: ignore[index]
    assert X.loc[a, ["channel_share_online", "channel_share_store"]].tolist() == [0.5, 0.5]  # type: ignore[index]
    assert X.loc[a, "items_per_order"] == 2.0  # type: ignore[index]


def test_the_wide_table_block_runs_on_a_lenta_shaped_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import pandas as pd

    import loyalty_ml as lml

    rng = np.random.default_rng(0)
    n = 4000
    gender = rng.choice(np.array(["Ж", "М", "Не определен", None], dtype=object), n)
    group = rng.choice(["test", "control"], n, p=[0.75, 0.25])
    response_sms = rng.beta(1, 8, n)
    lift = 0.2 * response_sms * (group == "test")
    pd.DataFrame(
        {
            "age": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.normal(45, 13, n).round()),
            "gender": gender,
            "cheque_count_12m_g20": np.where(rng.uniform(size=n) < 0.5, np.nan, rng.poisson(3, n)),
            "response_sms": response_sms,
            "sms_consent": rng.uniform(size=n) < 0.85,
            "group": group,
            "response_att": (rng.uniform(size=n) < 0.1 + lift).astype(int),
        }
    ).to_parquet(tmp_path / "lenta.parquet")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("A feature table you built yourself"), namespace)
    plan, audit = namespace["plan"], namespace["audit"]
    assert plan.index.name == "customer_id"  # type: ignore[attr-defined]
    assert plan.attrs["budget_cost"] <= 2000  # type: ignore[attr-defined]
    groups = audit.by_group.xs("gender", level="attribute").index.tolist()  # type: ignore[attr-defined]
    assert groups == ["Ж", "М", "Не определен", "(missing)"]


def test_the_events_block_runs_and_leaves_the_text_out() -> None:
    import pandas as pd

    import loyalty_ml as lml
    from loyalty_ml.exceptions import DataQualityWarning

    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "timestamp": pd.to_datetime(["2024-05-01", "2024-05-03", "2024-06-01"]),
            "amount": [5.0, 8.0, 3.0],
        }
    )
    namespace: dict[str, object] = {"lml": lml, "pd": pd, "tx": tx}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(_block_after("### Engagement and feedback events"), namespace)
    said = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert any("comment" in m and "free text" in m for m in said)
    assert any("1 row(s) have no timestamp" in m for m in said)
    events = namespace["events"]
    assert "comment" not in events.columns and len(events) == 3  # type: ignore[attr-defined]
    X = namespace["X_events"]
    assert X.filter(like="event_").columns.tolist() == [  # type: ignore[attr-defined]
        "event_rare_30d",
        "event_rare_90d",
        "event_rare_365d",
        "event_rare_days_since",
    ]  # three customers: every kind pooled (min_level_customers=10)


def test_the_instacart_block_dates_orders_back_from_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import pandas as pd

    import loyalty_ml as lml

    rng = np.random.default_rng(0)
    rows = []
    for user in range(1, 61):
        n = int(rng.integers(4, 16))
        for number in range(1, n + 1):
            gap = np.nan if number == 1 else min(30.0, float(np.floor(rng.exponential(12))))
            eval_set = "prior" if number < n else str(rng.choice(["train", "test"]))
            hour = int(rng.integers(0, 24))
            rows.append((user * 100 + number, user, eval_set, number, 3, hour, gap))
    orders = pd.DataFrame(
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
    orders.sample(frac=1, random_state=0).to_csv(tmp_path / "orders.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small table: label warnings are not the point here
        exec(_block_after("### Orders without amounts or dates"), namespace)
    tx = namespace["ic_tx"]
    last = tx.groupby("customer_id")["timestamp"].max()  # type: ignore[attr-defined]
    # every user's last order on the last day, at its hour; the first order as many days before
    # as the user's gaps add up to
    assert (last.dt.normalize() == pd.Timestamp("2017-06-30")).all()
    first = tx.groupby("customer_id")["timestamp"].min().dt.normalize()  # type: ignore[attr-defined]
    span = orders.groupby("user_id")["days_since_prior_order"].sum()
    assert ((pd.Timestamp("2017-06-30") - first).dt.days == span).all()
    assert len(tx) == len(orders)  # type: ignore[arg-type]
    y = namespace["y_ic"]
    assert 0 < y.mean() < 1  # type: ignore[attr-defined]


def test_the_retail_rocket_block_reads_milliseconds_and_splits_purchases_from_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import pandas as pd

    import loyalty_ml as lml

    start = 1_430_622_000_000  # 2015-05-03 03:00 in epoch milliseconds
    day = 86_400_000
    pd.DataFrame(
        {
            "timestamp": [
                *(start, start + 60_000, start + 600_000, start + 600_000, start + day),
                *(start + 2 * day, start + 90 * day, start + 91 * day),
            ],
            "visitorid": [1, 1, 1, 1, 2, 3, 1, 1],
            "event": [
                *("view", "addtocart", "transaction", "transaction"),
                *("view", "view", "view", "transaction"),
            ],
            "itemid": [355908, 355908, 355908, 248676, 5, 6, 7, 7],
            "transactionid": [np.nan, np.nan, 4000.0, 4000.0, np.nan, np.nan, np.nan, 4001.0],
        }
    ).to_csv(tmp_path / "events.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("Retail Rocket's `events.csv` has one row"), namespace)
    tx, events = namespace["rr_tx"], namespace["rr_events"]
    assert tx["timestamp"].astype(str).tolist() == [  # type: ignore[index]
        "2015-05-03 03:10:00",
        "2015-05-03 03:10:00",
        "2015-08-02 03:00:00",
    ]
    assert tx["order_id"].tolist() == [4000, 4000, 4001]  # type: ignore[index]
    assert events["event"].tolist() == ["view", "addtocart", "view", "view", "view"]  # type: ignore[index]
    X = namespace["X_rr"]
    assert X.index.tolist() == [1]  # type: ignore[attr-defined]  # the visitors who only viewed: no row
    assert X.loc[1, "n_orders"] == 2 and X.loc[1, "spend"] == 3.0  # type: ignore[attr-defined]


def test_the_cafe_block_runs_on_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import loyalty_ml as lml

    header = (
        "transaction_id,transaction_date,transaction_time,sales_outlet_id,staff_id,customer_id,"
        "instore_yn,order,line_item_id,product_id,quantity,line_item_amount,unit_price,"
        "promo_item_yn\n"
    )
    rows = []
    for day in range(1, 31):  # April 2019; receipt numbers restart per outlet and day
        date = f"2019-04-{day:02d}"
        rows.append(f"1,{date},07:06:11,3,15,{1 + day % 3},Y,1,1,32,1,3.0,3.0,N")
        rows.append(f"1,{date},07:06:11,3,15,{1 + day % 3},Y,1,2,57,2,6.2,3.1,Y")
        rows.append(f"1,{date},08:15:02,5,12,0,N,1,1,22,1,2.0,2.0,N")  # a walk-in
        rows.append(
            f"2,{date},09:40:55,5,12,{1 + (day + 1) % 3},{' ' if day == 5 else 'N'},1,1,45,1,3.0,3.0,N"
        )
    (tmp_path / "sales_reciepts.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "home_store": [3, 5, 8],
            "customer_first-name": ["Kelly Key", "Clark Schroeder", "Amelia Mcintosh"],
            "customer_email": ["kelly@example.com", "clark@example.com", "amelia@example.com"],
            "customer_since": ["2017-01-04", "2017-01-07", "2017-01-10"],
            "loyalty_card_number": ["908-424-2890", "032-732-6308", "857-590-6263"],
            "birthdate": ["1950-05-29", "1989-05-08", "1990-03-17"],
            "gender": ["M", "F", "N"],
            "birth_year": [1950, 1989, 1990],
        }
    ).to_csv(tmp_path / "customer.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"lml": lml, "pd": pd}
    exec(_block_after("### A cafe chain's till export"), namespace)
    tx, report = namespace["cafe_tx"], namespace["cafe_report"]
    assert report.removed("missing_customer") == 30  # type: ignore[attr-defined]
    assert len(tx) == 90 and 0 not in set(tx["customer_id"])  # type: ignore[arg-type,index]
    # two lines of one receipt are one order; receipt 1 of outlets 3 and 5 on a day are two
    assert tx["order_id"].nunique() == 60  # type: ignore[index]
    assert tx["timestamp"].min() == pd.Timestamp("2019-04-01 07:06:11")  # type: ignore[index]
    assert tx["channel"].isna().sum() == 1  # type: ignore[index]  # the blank instore_yn
    people = namespace["cafe_people"].set_index("customer_id")  # type: ignore[attr-defined]
    assert sorted(people.columns) == ["age_band", "gender", "home_store", "signup_date"]
    assert people["age_band"].astype(str).tolist() == ["(65, 120]", "(25, 35]", "(25, 35]"]
    X, y = namespace["X_cafe"], namespace["y_cafe"]
    assert X.index.get_level_values("as_of").nunique() == 3  # type: ignore[attr-defined]
    assert len(X) == len(y) == 9  # type: ignore[arg-type]
