"""The offers catalog: the rewards a programme can give, with what each costs.

An :class:`Offer` is one reward (validated when built); an :class:`OfferCatalog` is a validated set of
offers, looked up by id, never by position. Costs follow DESIGN.md section 5:
``expected cost = P(buy | offer) * cost_per_redemption * (1 - breakage) + cost_per_send``.

Breakage: a share of issued loyalty points is never spent (typically 15-20%), so a points offer costs
less than its face value in expectation. ``breakage`` is therefore allowed only on ``kind="points"``
offers; every other reward is paid in full when it is redeemed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from loyalty_ml._checks import MAX_MONEY
from loyalty_ml.exceptions import ConfigError, PolicyError, SchemaError, format_examples
from loyalty_ml.schema import columns as C
from loyalty_ml.schema.tables import validate_offers

__all__ = ["BREAKAGE", "Offer", "OfferCatalog"]

#: Catalog column: share of a points reward that expires unused (0 <= breakage < 1).
BREAKAGE = C.BREAKAGE


@dataclass(frozen=True, kw_only=True)
class Offer:
    """One reward of the catalog.

    Parameters
    ----------
    offer_id : str
        Unique id; ``"control"`` is reserved for the control arm.
    cost_per_redemption : float
        What the business gives away when the reward is used (>= 0, at most 1e15).
    cost_per_send : float
        Contact cost per customer offered (>= 0, at most 1e15).
    kind : str, optional
        One of ``schema.columns.OFFER_KINDS``.
    channel : str, optional
        Delivery channel (push, e-mail, SMS...).
    min_basket : float, optional
        Smallest basket the reward applies to (informative; not used in the choice).
    max_per_month : int, optional
        Cap on how often a customer may receive this offer in a calendar month. ``0`` retires
        the offer: it keeps its costs, so that its past campaigns still train the offer model
        and are measured, but it is never offered again.
    breakage : float
        Share of the reward never redeemed (points expiring unused); only for ``kind="points"``.
    name : str, optional
        Human-readable name.

    Examples
    --------
    >>> Offer(offer_id="pts100", cost_per_redemption=2.0, kind="points", breakage=0.2).expected_cost(0.5)
    0.8
    """

    offer_id: str
    cost_per_redemption: float
    cost_per_send: float = 0.0
    kind: str | None = None
    channel: str | None = None
    min_basket: float | None = None
    max_per_month: int | None = None
    breakage: float = 0.0
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.offer_id, str) or not self.offer_id:
            raise ConfigError(f"Offer.offer_id must be a non-empty string; got {self.offer_id!r}.")
        if self.offer_id == C.CONTROL:
            raise ConfigError(
                f"Offer.offer_id {C.CONTROL!r} is reserved for the control arm; rename the offer."
            )
        if self.offer_id == C.CONTACT:
            raise ConfigError(
                f"Offer.offer_id {C.CONTACT!r} is reserved for the contacts made without an offer "
                "(nightly_sends writes them); rename the offer."
            )
        for name in (C.COST_PER_REDEMPTION, C.COST_PER_SEND):
            value = getattr(self, name)
            if not _finite_number(value) or value < 0:
                raise ConfigError(
                    f"Offer {self.offer_id!r}: {name} must be a finite number >= 0; got {value!r}."
                )
            if value > MAX_MONEY:
                # a plan sums costs over customers: 1e300 passed as finite and the budget's
                # knapsack died on an OverflowError
                raise ConfigError(
                    f"Offer {self.offer_id!r}: {name} is {value!r}, more than {MAX_MONEY:.0e}: "
                    "no reward costs that much in any currency, and a plan's sums of such costs "
                    "overflow. A unit mix-up, or a placeholder for 'never send'? Fix the cost, or "
                    "leave the offer out of the catalog to withhold it."
                )
        if self.kind is not None and self.kind not in C.OFFER_KINDS:
            raise ConfigError(
                f"Offer {self.offer_id!r}: kind must be one of {list(C.OFFER_KINDS)}; got "
                f"{self.kind!r}."
            )
        if self.min_basket is not None and (
            not _finite_number(self.min_basket) or self.min_basket < 0
        ):
            raise ConfigError(
                f"Offer {self.offer_id!r}: min_basket must be >= 0 or None; got {self.min_basket!r}."
            )
        if self.max_per_month is not None and (
            isinstance(self.max_per_month, bool)
            or not isinstance(self.max_per_month, int | np.integer)
            or self.max_per_month < 0
        ):
            raise ConfigError(
                f"Offer {self.offer_id!r}: max_per_month must be an int >= 0 (0 retires the "
                f"offer) or None; got {self.max_per_month!r}."
            )
        if not _finite_number(self.breakage) or not 0 <= self.breakage < 1:
            raise ConfigError(
                f"Offer {self.offer_id!r}: breakage must be in [0, 1); got {self.breakage!r}."
            )
        if self.breakage > 0 and self.kind != "points":
            raise ConfigError(
                f"Offer {self.offer_id!r}: breakage={self.breakage} applies only to kind='points' "
                f"(unspent points); this offer has kind={self.kind!r}. Set breakage=0 or kind='points'."
            )

    @property
    def redemption_cost(self) -> float:
        """Expected cost of one redemption after breakage."""
        return self.cost_per_redemption * (1.0 - self.breakage)

    def expected_cost(self, p_buy: float | np.ndarray) -> float | np.ndarray:
        """Expected cost when the customer buys (and so redeems) with probability ``p_buy``."""
        return p_buy * self.redemption_cost + self.cost_per_send


def _finite_number(value: object) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


class OfferCatalog:
    """A validated set of offers, looked up by id.

    Build it with :meth:`from_frame` (a catalog table) or from :class:`Offer` objects; iterate over it to
    get the offers in catalog order; ``catalog["d5"]`` returns one offer.

    Examples
    --------
    >>> catalog = OfferCatalog.from_frame(pd.DataFrame({
    ...     "offer_id": ["d5", "pts"], "cost_per_redemption": [5.0, 4.0],
    ...     "kind": ["discount", "points"], "breakage": [0.0, 0.25]}))
    >>> [o.offer_id for o in catalog], catalog["pts"].redemption_cost
    (['d5', 'pts'], 3.0)
    """

    def __init__(self, offers: Iterable[Offer]) -> None:
        if isinstance(offers, str | pd.DataFrame) or not isinstance(offers, Iterable):
            raise PolicyError(
                f"OfferCatalog takes an iterable of Offer objects; got {type(offers).__name__}. "
                "Build it from a table with OfferCatalog.from_frame(offers)."
            )
        items = tuple(offers)
        if not items:
            raise PolicyError("OfferCatalog needs at least one offer; got none.")
        bad = [o for o in items if not isinstance(o, Offer)]
        if bad:
            raise PolicyError(
                f"OfferCatalog takes Offer objects; got {format_examples([type(o).__name__ for o in bad])}."
            )
        ids = [o.offer_id for o in items]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise PolicyError(
                f"OfferCatalog offer ids must be unique; {format_examples(dup)} repeat."
            )
        self._offers = items
        self._by_id = {o.offer_id: o for o in items}

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> OfferCatalog:
        """Build a catalog from a table with the canonical offer columns (see ``validate_offers``).

        Recognised columns: ``offer_id`` (or the index), ``cost_per_redemption``, ``cost_per_send``,
        ``kind``, ``channel``, ``min_basket``, ``max_per_month``, ``breakage``, ``name``; others are
        ignored.

        Raises
        ------
        SchemaError
            Duplicate or reserved ids, negative or absurdly large costs, unknown kinds, bad
            breakage.
        """
        table = validate_offers(frame)
        offers = []
        # row by row with each column's own type: iterrows would make a row of numbers floats,
        # and a channel or name written as 1 or 2024 would read "1.0" or "2024.0"
        for offer_id, row in table.to_dict("index").items():
            kwargs: dict[str, object] = {"offer_id": str(offer_id)}
            for f in fields(Offer):
                if f.name == C.OFFER_ID or f.name not in table.columns:
                    continue
                value = row[f.name]
                if pd.isna(value):
                    continue
                if f.name == C.MAX_PER_MONTH:
                    value = int(value)
                elif f.name in (C.COST_PER_REDEMPTION, C.COST_PER_SEND, C.MIN_BASKET, BREAKAGE):
                    value = float(value)
                else:
                    value = str(value)
                kwargs[f.name] = value
            try:
                offers.append(Offer(**kwargs))  # type: ignore[arg-type]
            except ConfigError as err:
                raise SchemaError(f"offers: {err}", table="offers") from err
        return cls(offers)

    def to_frame(self) -> pd.DataFrame:
        """The catalog as a table indexed by ``offer_id`` (one column per :class:`Offer` field)."""
        rows = [asdict(o) for o in self._offers]
        frame = pd.DataFrame(rows).set_index(C.OFFER_ID)
        frame[C.MAX_PER_MONTH] = frame[C.MAX_PER_MONTH].astype("Int64")
        return frame

    @property
    def ids(self) -> tuple[str, ...]:
        """Offer ids in catalog order."""
        return tuple(self._by_id)

    def __iter__(self) -> Iterator[Offer]:
        return iter(self._offers)

    def __len__(self) -> int:
        return len(self._offers)

    def __contains__(self, offer_id: object) -> bool:
        return offer_id in self._by_id

    def __getitem__(self, offer_id: str) -> Offer:
        try:
            return self._by_id[offer_id]
        except KeyError:
            raise PolicyError(
                f"Offer {offer_id!r} is not in the catalog; known offers: "
                f"{format_examples(list(self._by_id), total=len(self._by_id))}."
            ) from None

    def __repr__(self) -> str:
        return f"OfferCatalog({list(self._by_id)})"
