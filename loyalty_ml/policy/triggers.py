"""Churn triggers: who to contact, how, and why, from churn risk, activity boundaries and value.

Rules (DESIGN.md section 6), first match wins; every decision carries the rule that fired:

====  ======================================================  ===================  ================
rule  condition                                               action               channel
====  ======================================================  ===================  ================
1     ``lost``: from ``churn_days + winback_window[1]`` on    ``none``             --
2     past the churn boundary, inside the win-back window     ``win_back``         cheap only
3     past the churn boundary, before the win-back window     ``none`` (wait)      --
4     valuable, inside the boundaries, high risk              ``vip_contact``      ``call``
5     valuable, inside the boundaries, medium risk            ``vip_contact``      ``sms``
6     high risk, inside the boundaries                        ``retention_offer``  ``email``
7     sleeping (between the boundaries), medium risk          ``re_engagement``    ``push``
8     active, medium risk                                     ``none`` (monitor)   --
9     low risk                                                ``none``             --
====  ======================================================  ===================  ================

The win-back window is measured from the churn boundary (default 30-90 days past it, day 30
included and day 90 not, as every state includes its first day); win-back goes
through cheap channels only (push, e-mail); expensive channels (SMS, a manager's call) are kept for
valuable customers still inside the boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from loyalty_ml._checks import is_real
from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import (
    ConfigError,
    DataError,
    DataQualityWarning,
    PolicyError,
    SchemaError,
    format_examples,
)
from loyalty_ml.features.boundaries import recency_in_days
from loyalty_ml.features.segments import RFMEdges, rfm_edges, rfm_segments
from loyalty_ml.schema._coerce import numbers_or_refuse, refuse_repeated_ids

if TYPE_CHECKING:
    from loyalty_ml.features.boundaries import Boundaries

__all__ = [
    "ACTIONS",
    "TriggerPolicy",
    "risk_bands",
    "threshold_for_capacity",
    "threshold_for_precision",
    "threshold_for_profit",
]

ACTIONS = ("vip_contact", "retention_offer", "re_engagement", "win_back", "none")
#: Used when neither ``boundaries`` nor explicit days are given; prefer ``estimate_boundaries(tx)``.
DEFAULT_SLEEP_DAYS = 60.0
DEFAULT_CHURN_DAYS = 90.0
#: assign warns when this share of the customers inside the churn boundary is high risk ...
HIGH_BAND_SHARE_WARNING = 0.9
#: ... and there are at least this many of them (below, a small batch can be all high by chance).
MIN_CUSTOMERS_FOR_BAND_CHECK = 100
_RECENCY = "recency_days"


@dataclass(frozen=True, kw_only=True)
class TriggerPolicy:
    """Rules that turn churn probabilities into actions and channels (see the module docstring).

    Parameters
    ----------
    high_risk, medium_risk : float
        Risk bands: ``high`` when p >= ``high_risk``, ``medium`` when p >= ``medium_risk``.
    boundaries : Boundaries, optional
        From :func:`loyalty_ml.features.estimate_boundaries`; supplies ``sleep_days``/``churn_days``.
    sleep_days, churn_days : float, optional
        Explicit boundaries (not together with ``boundaries``). Without either, 60 and 90 days.
    winback_window : tuple of float
        Win-back starts and ends this many days past the churn boundary: ``[start, end)``.
    vip_rule : {"top_m", "spend_quantile"}
        Valuable customers: the top RFM money class (M3, the best quarter by spend) or spend
        strictly above the ``vip_spend_quantile`` of the reference population (so at most the top
        ``1 - vip_spend_quantile`` share; nobody when everyone spends the same).
    vip_spend_quantile : float
        Quantile used by ``vip_rule="spend_quantile"``.
    rfm_edges : RFMEdges, optional
        RFM class edges of a reference population (segments and ``top_m``); None: the customers
        being assigned are their own reference. Set by :meth:`with_reference`.
    vip_spend_threshold : float, optional
        The ``vip_spend_quantile`` of the reference population's spend; None: of the customers being
        assigned. Set by :meth:`with_reference`.
    cheap_channels, expensive_channels : tuple of str
        Channel classes; win-back, retention and re-engagement must use cheap ones.
    retention_channel, reengagement_channel, winback_channel : str
        Channels of the non-VIP actions.
    vip_channel_high, vip_channel_medium : str
        Channels of VIP contact for high and medium risk.

    Examples
    --------
    >>> X = pd.DataFrame(
    ...     {
    ...         "recency_days": [10.0, 70.0, 150.0, 20.0],
    ...         "n_orders": [5.0, 2.0, 1.0, 3.0],
    ...         "spend": [500.0, 80.0, 20.0, 90.0],
    ...     },
    ...     index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    ... )
    >>> TriggerPolicy().assign(X, [0.7, 0.4, 0.9, 0.1])["action"].tolist()
    ['vip_contact', 're_engagement', 'win_back', 'none']
    """

    high_risk: float = 0.6
    medium_risk: float = 0.3
    boundaries: Boundaries | None = None
    sleep_days: float | None = None
    churn_days: float | None = None
    winback_window: tuple[float, float] = (30.0, 90.0)
    vip_rule: Literal["top_m", "spend_quantile"] = "top_m"
    vip_spend_quantile: float = 0.9
    cheap_channels: tuple[str, ...] = ("push", "email")
    expensive_channels: tuple[str, ...] = ("sms", "call")
    retention_channel: str = "email"
    reengagement_channel: str = "push"
    winback_channel: str = "email"
    vip_channel_high: str = "call"
    vip_channel_medium: str = "sms"
    rfm_edges: RFMEdges | None = None
    vip_spend_threshold: float | None = None

    def __post_init__(self) -> None:
        if not (
            is_real(self.medium_risk, finite=True) and is_real(self.high_risk, finite=True)
        ) or not (0 < self.medium_risk < self.high_risk <= 1):
            raise ConfigError(
                "TriggerPolicy needs 0 < medium_risk < high_risk <= 1. "
                f"Got medium_risk={self.medium_risk!r}, high_risk={self.high_risk!r}."
            )
        if self.boundaries is not None and not (
            hasattr(self.boundaries, "sleep_days") and hasattr(self.boundaries, "churn_days")
        ):
            raise ConfigError(
                "The 'boundaries' parameter of TriggerPolicy must be the result of "
                f"estimate_boundaries (sleep_days, churn_days) or None. Got {self.boundaries!r} "
                "instead."
            )
        if self.boundaries is not None and (
            self.sleep_days is not None or self.churn_days is not None
        ):
            raise ConfigError(
                "TriggerPolicy: give either 'boundaries' or explicit 'sleep_days'/'churn_days', not both."
            )
        sleep, churn = self.resolved_boundaries()
        if (
            not (is_real(sleep, finite=True) and is_real(churn, finite=True))
            or not 0 <= sleep < churn
        ):
            raise ConfigError(
                f"TriggerPolicy needs 0 <= sleep_days < churn_days. Got sleep_days={sleep!r}, churn_days={churn!r}."
            )
        window = self.winback_window
        start, end = (
            window
            if isinstance(window, tuple | list) and len(window) == 2
            else (math.nan, math.nan)
        )
        if not (is_real(start, finite=True) and is_real(end, finite=True)) or not 0 <= start < end:
            raise ConfigError(
                "The 'winback_window' parameter of TriggerPolicy must be (start, end) days past the churn "
                f"boundary with 0 <= start < end. Got {self.winback_window!r} instead."
            )
        if self.vip_rule not in ("top_m", "spend_quantile"):
            raise ConfigError(
                "The 'vip_rule' parameter of TriggerPolicy must be one of ('top_m', 'spend_quantile'). "
                f"Got {self.vip_rule!r} instead."
            )
        if not (is_real(self.vip_spend_quantile, finite=True) and 0 < self.vip_spend_quantile < 1):
            raise ConfigError(
                "The 'vip_spend_quantile' parameter of TriggerPolicy must be in (0, 1). "
                f"Got {self.vip_spend_quantile!r} instead."
            )
        if self.rfm_edges is not None and not isinstance(self.rfm_edges, RFMEdges):
            raise ConfigError(
                "The 'rfm_edges' parameter of TriggerPolicy must be an RFMEdges (from rfm_edges) or "
                f"None. Got {type(self.rfm_edges).__name__} instead."
            )
        if self.vip_spend_threshold is not None and not is_real(
            self.vip_spend_threshold, finite=True
        ):
            raise ConfigError(
                "The 'vip_spend_threshold' parameter of TriggerPolicy must be a finite number or "
                f"None. Got {self.vip_spend_threshold!r} instead."
            )
        for name in ("cheap_channels", "expensive_channels"):
            channels = getattr(self, name)
            if not isinstance(channels, tuple | list) or not all(
                isinstance(c, str) for c in channels
            ):
                raise ConfigError(
                    f"The {name!r} parameter of TriggerPolicy must be a tuple of channel names, "
                    f"e.g. ('push', 'email'). Got {channels!r} instead."
                )
        both = set(self.cheap_channels) & set(self.expensive_channels)
        if both:
            raise ConfigError(
                f"TriggerPolicy: channels {sorted(both)} are listed as both cheap and expensive."
            )
        for name in ("retention_channel", "reengagement_channel", "winback_channel"):
            if getattr(self, name) not in self.cheap_channels:
                raise ConfigError(
                    f"The {name!r} parameter of TriggerPolicy must be a cheap channel "
                    f"{self.cheap_channels}. Got {getattr(self, name)!r} instead."
                )
        for name in ("vip_channel_high", "vip_channel_medium"):
            if getattr(self, name) not in (*self.cheap_channels, *self.expensive_channels):
                raise ConfigError(
                    f"The {name!r} parameter of TriggerPolicy must be one of the channels "
                    f"{(*self.cheap_channels, *self.expensive_channels)}. Got {getattr(self, name)!r} instead."
                )

    def with_reference(self, X: pd.DataFrame) -> TriggerPolicy:
        """This policy with its RFM edges and VIP spend threshold frozen on the customers of ``X``.

        By default a batch is its own reference: RFM quarters and the VIP spend quantile are those
        of the customers being assigned, so a customer's segment and VIP status depend on who else
        is in the batch. A model that serves batches of any size should be judged against one
        population instead, e.g. every customer at the training date (``train_and_register`` does
        this).

        Examples
        --------
        >>> X = pd.DataFrame({"recency_days": [5.0, 40, 90, 200], "n_orders": [6.0, 3, 2, 1],
        ...                   "spend": [900.0, 300, 120, 40]}, index=pd.Index([1, 2, 3, 4], name="customer_id"))
        >>> policy = TriggerPolicy().with_reference(X)
        >>> policy.assign(X.iloc[[0]], [0.7])["action"].item()  # alone, still the best customer
        'vip_contact'
        >>> TriggerPolicy().assign(X.iloc[[0]], [0.7])["action"].item()  # alone, its own bottom quarter
        'retention_offer'
        """
        edges = rfm_edges(X)  # checks the RFM columns, spend included
        spend = X["spend"].to_numpy(dtype=np.float64, na_value=np.nan)
        threshold = _vip_threshold(spend, self.vip_spend_quantile)
        return replace(self, rfm_edges=edges, vip_spend_threshold=threshold)

    def resolved_boundaries(self) -> tuple[float, float]:
        """The ``(sleep_days, churn_days)`` in use."""
        if self.boundaries is not None:
            return float(self.boundaries.sleep_days), float(self.boundaries.churn_days)
        sleep = DEFAULT_SLEEP_DAYS if self.sleep_days is None else self.sleep_days
        churn = DEFAULT_CHURN_DAYS if self.churn_days is None else self.churn_days
        return sleep, churn

    def assign(self, X: pd.DataFrame, p: Any) -> pd.DataFrame:
        """Risk band, boundary state, segment, action, channel and the rule that fired, per customer.

        Parameters
        ----------
        X : DataFrame
            Features indexed by ``customer_id`` with ``recency_days``, ``n_orders`` and ``spend``
            (as :func:`loyalty_ml.features.build_features` returns).
        p : array-like or Series
            Churn probabilities, one per row of ``X`` (a Series or one-column DataFrame is aligned
            on ``X``'s index; an array is taken in ``X``'s row order).

        Returns
        -------
        DataFrame
            Indexed like ``X``: ``churn_probability``, ``risk_band`` (low/medium/high),
            ``boundary_state`` (active/sleeping/churned/lost), ``segment``, ``valuable``, ``action``,
            ``channel`` (missing for ``none``) and ``rule``.
        """
        prob = self._check_inputs(X, p)
        sleep, churn = self.resolved_boundaries()
        start, end = self.winback_window
        recency = recency_in_days(X[_RECENCY], what=f"TriggerPolicy.assign: X[{_RECENCY!r}]")
        segments = rfm_segments(X, edges=self.rfm_edges)
        state = np.select(
            [recency < sleep, recency < churn, recency < churn + end],
            ["active", "sleeping", "churned"],
            default="lost",
        )
        band = risk_bands(prob, medium=self.medium_risk, high=self.high_risk)
        valuable = self._valuable(X, segments)
        inside = (state == "active") | (state == "sleeping")
        self._warn_if_bands_do_not_separate(band, inside)
        vip_text = (
            "top quarter by spend (M3)"
            if self.vip_rule == "top_m"
            else f"spend in the top {1 - self.vip_spend_quantile:.0%}"
        )
        rules: list[tuple[np.ndarray, str, str | None, str]] = [
            (
                state == "lost",
                "none",
                None,
                f"lost: no purchase for {churn + end:g}+ days, past the win-back window; no contact",
            ),
            (
                (state == "churned") & (recency >= churn + start),
                "win_back",
                self.winback_channel,
                f"win-back: {start:g}-{end:g} days past the churn boundary ({churn:g} days); cheap channel only",
            ),
            (
                state == "churned",
                "none",
                None,
                f"past the churn boundary ({churn:g} days), under {start:g} days past it: wait for the win-back window",
            ),
            (
                valuable & inside & (band == "high"),
                "vip_contact",
                self.vip_channel_high,
                f"valuable ({vip_text}) inside the boundaries with high churn risk (p >= {self.high_risk:g}): personal contact",
            ),
            (
                valuable & inside & (band == "medium"),
                "vip_contact",
                self.vip_channel_medium,
                f"valuable ({vip_text}) inside the boundaries with medium churn risk (p >= {self.medium_risk:g})",
            ),
            (
                band == "high",
                "retention_offer",
                self.retention_channel,
                f"high churn risk (p >= {self.high_risk:g}) inside the churn boundary ({churn:g} days): retention offer",
            ),
            (
                (state == "sleeping") & (band == "medium"),
                "re_engagement",
                self.reengagement_channel,
                f"sleeping ({sleep:g}-{churn:g} days since the last purchase) with medium churn risk: re-engagement",
            ),
            (
                band == "medium",
                "none",
                None,
                f"medium churn risk but active (under {sleep:g} days since the last purchase): monitor",
            ),
        ]
        conditions = [r[0] for r in rules]
        low_rule = f"low churn risk (p < {self.medium_risk:g}): no contact"
        action = np.select(conditions, [r[1] for r in rules], default="none")
        channel = np.select(conditions, [r[2] or "" for r in rules], default="")
        rule = np.select(conditions, [r[3] for r in rules], default=low_rule)
        out = pd.DataFrame(
            {
                "churn_probability": prob,
                "risk_band": band,
                "boundary_state": state,
                "segment": segments["segment"].to_numpy(),
                "valuable": valuable,
                "action": action,
                "channel": pd.Series(channel).replace("", pd.NA).to_numpy(),
                "rule": rule,
            },
            index=X.index,
        )
        return out.astype(
            {
                c: "str"
                for c in ("risk_band", "boundary_state", "segment", "action", "channel", "rule")
            }
        )

    def _warn_if_bands_do_not_separate(self, band: np.ndarray, inside: np.ndarray) -> None:
        """DataQualityWarning when nearly every customer the bands act on is high risk."""
        n_inside = int(np.count_nonzero(inside))
        n_high = int(np.count_nonzero(inside & (band == "high")))
        if n_inside < MIN_CUSTOMERS_FOR_BAND_CHECK or n_high < HIGH_BAND_SHARE_WARNING * n_inside:
            return
        warn_user(
            f"TriggerPolicy.assign: {n_high:,} of the {n_inside:,} customers inside the churn "
            f"boundary ({n_high / n_inside:.0%}) are high risk (p >= {self.high_risk:g}), so the "
            "risk bands no longer tell them apart and every one of them gets a retention or VIP "
            "contact. A churn base rate this high is usual where most customers buy once. Set "
            "high_risk and medium_risk from what the team can act on: "
            "threshold_for_capacity(p, k) for k contacts, or threshold_for_precision(y, p, target) "
            "on a labelled hold-out.",
            DataQualityWarning,
        )

    def _valuable(self, X: pd.DataFrame, segments: pd.DataFrame) -> np.ndarray:
        if self.vip_rule == "top_m":
            return np.asarray(segments["M"].to_numpy() == 3)
        values = X["spend"].to_numpy(dtype=np.float64, na_value=np.nan)
        threshold = (
            _vip_threshold(values, self.vip_spend_quantile)
            if self.vip_spend_threshold is None
            else self.vip_spend_threshold
        )
        # strictly above: with flat spend (a fixed-price plan) nobody is in the top, as with top_m
        return np.asarray(values > threshold)

    def _check_inputs(self, X: pd.DataFrame, p: Any) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise SchemaError(
                f"TriggerPolicy.assign: X must be a DataFrame; got {type(X).__name__}.",
                table="features",
            )
        if isinstance(X.index, pd.MultiIndex):
            raise PolicyError(
                "TriggerPolicy.assign: X has a MultiIndex "
                f"{list(X.index.names)}; pass one cutoff's features indexed by customer_id "
                "(e.g. X.xs(as_of, level='as_of'))."
            )
        if _RECENCY not in X.columns:
            raise SchemaError(
                f"TriggerPolicy.assign: X lacks column {_RECENCY!r}; it has {format_examples(list(X.columns), total=X.shape[1])}. "
                "Pass the output of build_features.",
                table="features",
                column=_RECENCY,
            )
        refuse_repeated_ids(X.index, what="TriggerPolicy.assign: X")
        numbers_or_refuse(
            X[_RECENCY],
            what=f"TriggerPolicy.assign: X[{_RECENCY!r}]",
            hint="Pass the output of build_features.",
            table="features",
        )
        if p is None:
            raise DataError(
                "TriggerPolicy.assign: p is None; pass the churn probabilities, one per row of X "
                "(e.g. model.predict_proba(X)[:, 1])."
            )
        if isinstance(p, pd.DataFrame):
            if p.shape[1] != 1:
                raise DataError(
                    f"TriggerPolicy.assign: p is a DataFrame with {p.shape[1]} columns "
                    f"{format_examples(list(p.columns))}; pass one column of churn probabilities "
                    "(a Series indexed by customer_id), e.g. p['churn_probability']."
                )
            p = p.iloc[:, 0]  # aligned on its index below, like a Series, never by position
        if isinstance(p, pd.Series):
            refuse_repeated_ids(p.index, what="TriggerPolicy.assign: p")
            if not p.index.sort_values().equals(X.index.sort_values()):
                only_p = p.index.difference(X.index)
                only_x = X.index.difference(p.index)
                raise DataError(
                    "TriggerPolicy.assign: p is a Series whose index differs from X's index: "
                    f"{format_examples(only_p.tolist(), total=len(only_p))} only in p, "
                    f"{format_examples(only_x.tolist(), total=len(only_x))} only in X. Pass one "
                    "probability per customer of X, indexed by customer_id."
                )
            p = p.reindex(X.index)
        prob = _floats(p, "p", "TriggerPolicy.assign")
        if prob.size != len(X):
            raise DataError(
                f"TriggerPolicy.assign: p has {prob.size} values but X has {len(X)} rows."
            )
        bad = ~((prob >= 0) & (prob <= 1))
        if bad.any():
            raise DataError(
                "TriggerPolicy.assign: p must be probabilities in [0, 1]; found "
                f"{format_examples(prob[bad].tolist(), total=int(bad.sum()))}."
            )
        return prob


# -- thresholds ------------------------------------------------------------------------------
def risk_bands(p: np.ndarray, *, medium: float, high: float) -> np.ndarray:
    """``"high"`` where ``p >= high``, ``"medium"`` where ``p >= medium``, else ``"low"``.

    Examples
    --------
    >>> risk_bands(np.array([0.1, 0.3, 0.7]), medium=0.3, high=0.6).tolist()
    ['low', 'medium', 'high']
    """
    return np.where(p >= high, "high", np.where(p >= medium, "medium", "low"))


def threshold_for_capacity(p: Any, k: int) -> float:
    """The lowest threshold that selects at most ``k`` customers (``p >= threshold``).

    Ties at the cut are all left out rather than exceeding ``k``; when that leaves fewer than half
    of ``k`` selected, a DataQualityWarning says how many tie and how many taking them all would
    select. Customers the trees cannot tell apart tie under any calibration (pick among them by a
    rule of your own); an isotonic calibrator's steps add ties, which
    ``ChurnModel.predict_proba_uncalibrated`` (same order) breaks.

    Examples
    --------
    >>> threshold_for_capacity([0.9, 0.8, 0.8, 0.1], 2)
    0.9
    >>> threshold_for_capacity([0.9, 0.8, 0.8, 0.1], 3)
    0.8
    """
    prob = _probabilities(p, "threshold_for_capacity")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ConfigError(
            f"The 'k' parameter of threshold_for_capacity must be an int >= 0. Got {k!r} instead."
        )
    ordered = np.sort(prob)[::-1]
    if k >= ordered.size:
        return float(ordered[-1])
    if k == 0:
        return float(np.nextafter(ordered[0], np.inf))
    cut = ordered[k - 1]
    if ordered[k] < cut:
        return float(cut)
    above = ordered[ordered > cut]
    if above.size < k / 2:
        tied = int(np.sum(ordered == cut))
        warn_user(
            f"threshold_for_capacity: {tied} customers share the score {cut:.6g} at the cut, so "
            f"the threshold selects {above.size} of the k={k} asked for (ties are left out rather "
            f"than exceeding k; taking them all would select {above.size + tied}). The model "
            "cannot tell these customers apart: pick among them by a rule of your own (e.g. "
            "highest spend first) or choose the threshold yourself. If the model's calibration_ "
            "is 'isotonic', its steps add ties: ChurnModel.predict_proba_uncalibrated ranks in "
            "the same order with fewer.",
            DataQualityWarning,
        )
    return float(above[-1]) if above.size else float(np.nextafter(cut, np.inf))


def threshold_for_precision(y_true: Any, p: Any, target: float) -> float:
    """The lowest threshold whose selection ``p >= threshold`` has precision >= ``target``.

    The lowest such threshold contacts the most churners (the highest recall) at that precision.
    ``y_true`` holds the observed labels (0/1, churned = 1) of the customers scored ``p`` (churn
    probabilities), e.g. a backtest's; two Series are paired by their index. Tied scores are never
    split. Raises :class:`PolicyError` when no threshold reaches ``target``.

    Examples
    --------
    >>> threshold_for_precision([1, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.2], 0.75)
    0.6
    """
    if (
        isinstance(y_true, pd.Series)
        and isinstance(p, pd.Series)
        and not y_true.index.equals(p.index)
    ):
        # two Series by customer id are paired by id, never by position
        if (
            y_true.index.has_duplicates
            or p.index.has_duplicates
            or set(y_true.index) != set(p.index)
        ):
            raise DataError(
                "threshold_for_precision: y_true and p are Series with different indexes "
                f"({len(y_true)} and {len(p)} rows, {len(set(y_true.index) ^ set(p.index))} ids in "
                "only one of them, or repeated ids); pass them indexed by the same customer ids."
            )
        y_true = y_true.reindex(p.index)
    prob = _probabilities(p, "threshold_for_precision")
    y = _floats(y_true, "y_true", "threshold_for_precision")
    if y.size != prob.size or not np.isin(y, (0.0, 1.0)).all():
        bad = y[~np.isin(y, (0.0, 1.0))]
        found = (
            f" with {format_examples(pd.unique(bad).tolist(), total=bad.size)} ({bad.size} not 0/1;"
            " NaN is a missing label)"
            if bad.size
            else ""
        )
        raise DataError(
            f"threshold_for_precision: y_true must be {prob.size} values of 0/1 like p; got "
            f"{y.size} values{found}."
        )
    if not (is_real(target, finite=True) and 0 < target <= 1):
        raise ConfigError(
            f"The 'target' parameter of threshold_for_precision must be in (0, 1]. Got {target!r} instead."
        )
    order = np.argsort(-prob, kind="stable")
    ordered_p, ordered_y = prob[order], y[order]
    # evaluate only at the last row of each tie group: a threshold cannot split tied scores
    last_of_group = np.r_[ordered_p[1:] != ordered_p[:-1], True]
    precision = (np.cumsum(ordered_y) / np.arange(1, y.size + 1))[last_of_group]
    candidates = ordered_p[last_of_group]
    ok = precision >= target
    if not ok.any():
        raise PolicyError(
            f"threshold_for_precision: no threshold reaches precision {target:g}; the best is "
            f"{precision.max():.3f}. Lower the target."
        )
    return float(candidates[np.flatnonzero(ok)[-1]])


def threshold_for_profit(
    p: Any, *, value_saved: float, save_rate: float, contact_cost: float
) -> float:
    """The break-even churn probability of a contact: ``contact_cost / (value_saved * save_rate)``.

    A contact's expected profit is ``p * value_saved * save_rate - contact_cost``; it is positive
    exactly when ``p`` exceeds the returned threshold (which may be above 1: then nobody is worth
    contacting). Assumes calibrated ``p``.

    Examples
    --------
    >>> threshold_for_profit([0.2, 0.8], value_saved=100.0, save_rate=0.25, contact_cost=5.0)
    0.2
    """
    _probabilities(p, "threshold_for_profit")
    for name, value in {"value_saved": value_saved, "save_rate": save_rate}.items():
        if not (is_real(value, finite=True) and value > 0):
            raise ConfigError(
                f"The {name!r} parameter of threshold_for_profit must be > 0. Got {value!r} instead."
            )
    if not (is_real(contact_cost, finite=True) and contact_cost >= 0):
        raise ConfigError(
            f"The 'contact_cost' parameter of threshold_for_profit must be >= 0. Got {contact_cost!r} instead."
        )
    if save_rate > 1:
        raise ConfigError(
            f"The 'save_rate' parameter of threshold_for_profit must be <= 1. Got {save_rate!r} instead."
        )
    return float(contact_cost / (value_saved * save_rate))


def _floats(values: Any, name: str, where: str) -> np.ndarray:
    """``values`` as a flat float64 array; DataError naming ``name`` when they are not numbers
    (or, for ``p``, when they are True/False: a 0/1 prediction, not a probability)."""
    if name == "p" and np.asarray(values).dtype == np.bool_:
        raise DataError(
            f"{where}: p holds True/False, not churn probabilities; a yes/no prediction would put "
            "every customer at 0 or 1. Pass ChurnModel.predict_proba(X)[:, 1]."
        )
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        fix = (
            "Convert text labels first, e.g. (y == 'Y').astype(int)."
            if name == "y_true"
            else "Pass churn probabilities, e.g. ChurnModel.predict_proba(X)[:, 1]."
        )
        raise DataError(f"{where}: {name} must be numeric; {exc}. {fix}") from None
    if array.ndim > 1 and sum(size > 1 for size in array.shape) > 1:
        # predict_proba's two columns, flattened, would be read as twice the customers
        raise DataError(
            f"{where}: {name} has shape {array.shape}; pass one value per customer (a column "
            "of churn probabilities, e.g. ChurnModel.predict_proba(X)[:, 1])."
        )
    return array.ravel()


def _probabilities(p: Any, where: str) -> np.ndarray:
    if p is None:
        raise DataError(f"{where}: p is None; pass the churn probabilities, one per customer.")
    prob = _floats(p, "p", where)
    if prob.size == 0:
        raise DataError(f"{where}: p is empty.")
    bad = ~((prob >= 0) & (prob <= 1))
    if bad.any():
        raise DataError(
            f"{where}: p must be probabilities in [0, 1]; found {format_examples(prob[bad].tolist(), total=int(bad.sum()))}."
        )
    return prob


def _vip_threshold(spend: np.ndarray, quantile: float) -> float:
    """The spend a valuable customer must exceed: the ``quantile`` of ``spend`` taken at an
    observed value at or above it (NumPy's ``"higher"``), so that at most the top
    ``1 - quantile`` share is strictly above it in any batch. An interpolated quantile put one
    customer too many above it in small batches (2 of 12 at 0.9)."""
    return float(np.nanquantile(spend, quantile, method="higher"))
