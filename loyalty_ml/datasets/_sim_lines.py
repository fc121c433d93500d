"""Order lines of the simulator: categories, products, prices, discounts, margins, channel, store.

Orders must arrive sorted by time; lines come out in the same order, so the transactions table is
sorted by timestamp. Each order has 1 to ``max_lines_per_order`` lines (fewer while the customer
fades towards dropout), categories drawn from the customer's Dirichlet preferences (price-sensitive
customers favour private label), products by popularity within the category, and a discount on a
line with a probability that rises with price sensitivity. ``margin`` is the category margin rate
times the gross value minus the discount, so heavily discounted staples can lose money.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from loyalty_ml.datasets._sim_config import SimulationConfig
from loyalty_ml.datasets._sim_customers import (
    CATEGORIES,
    CHANNELS,
    MARGIN_RATE,
    UNIT_PRICE,
    Population,
)
from loyalty_ml.schema import columns as C

__all__ = ["ONLINE_STORE", "build_lines", "text_column"]

#: ``store_id`` of orders placed online (app, web, delivery).
ONLINE_STORE = "online"
_PRODUCTS_PER_CATEGORY = 40
_EXTRA_QUANTITY = np.array([0.9, 0.8, 0.3, 1.0, 0.6, 0.2, 0.7, 0.3])
_DISCOUNT_RATES = np.array([0.1, 0.2, 0.3])
_HOME_STORE_SHARE = 0.85


def text_column(codes: np.ndarray, labels: list[str] | tuple[str, ...]) -> pd.Series:
    """A pandas ``str`` column from integer codes, built in Arrow (fast at millions of rows)."""
    values = pa.array(list(labels), type=pa.large_string()).take(pa.array(codes))
    return pd.Series(values, dtype="str")


def _draw_columns(rng: np.random.Generator, cum: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row, a column index drawn from that row's cumulative probabilities."""
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int64)
    for j in range(cum.shape[1] - 1):
        out += cum[rows, j] < u
    return out


def _distinct_products(
    rng: np.random.Generator, order: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """Product rank within the category, by popularity, distinct within an order.

    A product drawn twice for one order is redrawn a few times; the rare line still clashing is
    marked -1 (dropped), so an order never holds two identical lines.
    """
    popularity = 1.0 / np.arange(1, _PRODUCTS_PER_CATEGORY + 1) ** 1.1
    popularity /= popularity.sum()
    rank = rng.choice(_PRODUCTS_PER_CATEGORY, len(order), p=popularity)
    for attempt in range(4):
        key = (order * len(CATEGORIES) + category) * _PRODUCTS_PER_CATEGORY + rank
        sorter = np.argsort(key, kind="stable")
        clash = np.zeros(len(key), dtype=bool)
        clash[sorter[1:]] = key[sorter[1:]] == key[sorter[:-1]]
        if not clash.any():
            break
        if attempt == 3:
            rank[clash] = -1
        else:
            rank[clash] = rng.choice(_PRODUCTS_PER_CATEGORY, int(clash.sum()), p=popularity)
    return rank


def build_lines(
    rng: np.random.Generator,
    pop: Population,
    *,
    customer: np.ndarray,
    seconds: np.ndarray,
    basket_factor: np.ndarray,
    start: pd.Timestamp,
    config: SimulationConfig,
) -> pd.DataFrame:
    """The transactions table (one row per line) for orders sorted by ``seconds`` since start."""
    n_orders = len(customer)
    line_p = pop.line_prob[customer] * (0.4 + 0.6 * basket_factor)
    n_lines = 1 + rng.binomial(config.max_lines_per_order - 1, line_p)
    order_of_line = np.repeat(np.arange(n_orders), n_lines)
    cust = customer[order_of_line]

    category = _draw_columns(rng, pop.category_cum, cust)
    rank = _distinct_products(rng, order_of_line, category)
    keep = rank >= 0
    order_of_line, cust, category, rank = (
        order_of_line[keep],
        cust[keep],
        category[keep],
        rank[keep],
    )
    price_table = UNIT_PRICE[:, None] * rng.lognormal(
        0.0, 0.35, (len(CATEGORIES), _PRODUCTS_PER_CATEGORY)
    )
    unit_price = np.maximum(np.round(price_table[category, rank], 2), 0.3)
    quantity = 1 + rng.poisson(_EXTRA_QUANTITY[category])
    gross = np.round(quantity * unit_price, 2)
    ps = pop.price_sensitivity[cust]
    discounted = rng.random(len(cust)) < 0.03 + 0.45 * ps
    rate = _DISCOUNT_RATES[rng.choice(3, len(cust), p=[0.5, 0.35, 0.15])]
    discount = np.where(discounted, np.round(gross * rate, 2), 0.0)
    amount = np.round(gross - discount, 2)
    margin = np.round(gross * MARGIN_RATE[category] - discount, 2)

    channel = _draw_columns(rng, pop.channel_cum, customer)
    home = rng.random(n_orders) < _HOME_STORE_SHARE
    store = np.where(home, pop.home_store[customer], rng.integers(0, config.n_stores, n_orders))
    store_labels = [f"S{i + 1:03d}" for i in range(config.n_stores)] + [ONLINE_STORE]
    store = np.where(channel == 0, store, config.n_stores)

    timestamp = (start + pd.to_timedelta(seconds[order_of_line], unit="s")).as_unit("ns")
    return pd.DataFrame(
        {
            C.CUSTOMER_ID: (cust + 1).astype(np.int64),
            C.TIMESTAMP: timestamp,
            C.AMOUNT: amount,
            C.ORDER_ID: (order_of_line + 1).astype(np.int64),
            C.QUANTITY: quantity.astype(np.float64),  # the canonical dtype
            C.PRODUCT_ID: ((category + 1) * 1000 + rank + 1).astype(np.int64),
            C.CATEGORY: text_column(category, CATEGORIES),
            C.CHANNEL: text_column(channel[order_of_line], CHANNELS),
            C.STORE_ID: text_column(store[order_of_line], store_labels),
            C.DISCOUNT: discount,
            C.MARGIN: margin,
        }
    )
