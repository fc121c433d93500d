"""``FeatureConfig``: the windows and options of ``build_features``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalty_ml._checks import is_int, is_real
from loyalty_ml.exceptions import ConfigError
from loyalty_ml.schema.tables import is_protected_attribute

__all__ = ["FeatureConfig"]


@dataclass(frozen=True, kw_only=True)
class FeatureConfig:
    """Options of :func:`~loyalty_ml.features.build_features`.

    Parameters
    ----------
    windows : tuple of int, default (30, 90, 365)
        Look-back windows in days for ``n_orders_{w}d`` and ``spend_{w}d``.
    trend_window_days : int, default 90
        Length of the latest window compared with the window just before it in the trend features.
    channels : tuple of str or None, default None
        Fixed list of channels for ``channel_share_<name>`` columns. ``None`` takes the channels seen
        before ``as_of`` (``training_table`` takes them once for all cutoffs), so fix it for scoring jobs
        whose columns must match a trained model.
    high_margin_threshold : float, default 0.3
        A category is high-margin when its margin rate (margin / amount over all customers before
        ``as_of``) is at least this.
    protected_as_features : bool, default False
        Include protected attributes (age band, gender, income band) as features. They are kept for
        fairness audits and are not features by default.
    include_points_balance : bool, default False
        Include ``points_balance`` from the customers table. It is a snapshot taken when the table was
        exported, not a value as of ``as_of``: in a training table over past cutoffs it leaks the future.
        Opt in only when the snapshot is taken at ``as_of`` (scoring today). ``tier``, when the
        customers table has it, is a feature at every cutoff and read as a status that does not
        change (a tier chosen at sign-up, as in the simulator). A tier the programme re-earns
        from recent spend, exported today, is the future at past cutoffs in the same way (on the
        simulator, a tier set from 2024's spend alone predicted churn in the last quarter of 2023
        with ROC AUC 0.78): drop the column from the customers table before ``training_table``,
        or give the tier as of each cutoff yourself.
    extra_attributes : tuple of str, default ()
        Further customers columns to use as features (categorical text columns become ``category``
        dtype, numbers float64). Columns that look like personal data are refused with a
        ``SchemaError`` when features are built; protected attributes need ``protected_as_features``.
        They are read as of the export at every cut-off, as ``points_balance`` is: a column
        summarising the customer's history (a mean review score, a count of reviews or orders)
        holds the future at past cut-offs. On an Olist-shaped stand-in (97% one-time buyers), the
        person's review count over the whole export took the backtest ROC AUC from 0.75 to 0.995,
        their mean review score to 0.85 (a mean that is not a whole number gives away a second,
        later order). Build such a column as of each cut-off (``training_table`` per cut-off,
        concatenated), or leave it out.
    event_kinds : tuple of str or None, default None
        Fixed list of the event kinds with columns of their own (``event_<kind>_...``) when
        ``build_features`` is given ``events``; every other kind is pooled into ``event_rare_*``.
        ``None`` takes the kinds held by ``min_level_customers`` customers before the (first)
        cut-off, at most 20. Fix it, as ``channels``, for scoring jobs whose columns must match a
        trained model (``train_and_register`` does).
    event_value_kinds : tuple of str, default ()
        With ``event_kinds``: the kinds among them whose value columns (``event_<kind>_mean_{w}d``
        and ``event_<kind>_last``) are built.
    min_level_customers : int, default 10
        A category feature's value held by fewer customers of the feature table than this is
        pooled into one level, ``"(rare)"`` (the last category of every such feature, present even
        when nothing was pooled), so that a value naming a handful of people (a tier of one, a
        free-text attribute) never reaches a model, its MLflow artifacts or its request contract.
        The customers counted are those with a purchase before ``as_of`` (``training_table`` and
        ``experiment_table``: before their first cut-off with a customer, whose levels the rows of every cut-off
        share), so that data after a cut-off never changes the features at it. A column left with
        at most one level of its own is warned about (an id-like column, such as a voucher code),
        and so is one left so by a table's first cut-off with few customers though the customers
        at its last cut-off would keep two levels or more.
        The default is the reports' minimum cell size (``loyalty_ml.privacy.cells.MIN_CELL_SIZE``).
        A model fitted on such features (``ChurnModel``, ``UpliftModel``, a registered policy)
        reads any value it has no level of its own for as ``"(rare)"``. ``1`` keeps every value as
        its own level (no ``"(rare)"`` level). The counts are those of the tables given:
        to score, build features from the table the model was trained with, or with
        ``min_level_customers=1`` (as ``score_customers`` does), so that a level kept at training
        is not pooled because a smaller table holds few of its customers (``ChurnModel`` and
        ``UpliftModel`` warn when they are given features pooled that way).

    Examples
    --------
    >>> FeatureConfig(windows=(7, 28), trend_window_days=28).windows
    (7, 28)
    """

    windows: tuple[int, ...] = (30, 90, 365)
    trend_window_days: int = 90
    channels: tuple[str, ...] | None = None
    high_margin_threshold: float = 0.3
    protected_as_features: bool = False
    include_points_balance: bool = False
    extra_attributes: tuple[str, ...] = ()
    min_level_customers: int = 10
    event_kinds: tuple[str, ...] | None = None
    event_value_kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        windows = tuple(self.windows) if isinstance(self.windows, list | tuple) else None
        if (
            not windows
            or any(
                isinstance(w, bool | np.bool_) or not isinstance(w, int | np.integer) or w < 1
                for w in windows
            )
            or len(set(windows)) != len(windows)
        ):
            raise ConfigError(
                "The 'windows' parameter of FeatureConfig must be a non-empty tuple of distinct "
                f"ints >= 1 (days). Got {self.windows!r} instead."
            )
        object.__setattr__(self, "windows", tuple(int(w) for w in windows))  # np.int64(30) -> 30
        if not is_int(self.trend_window_days) or self.trend_window_days < 1:
            raise ConfigError(
                "The 'trend_window_days' parameter of FeatureConfig must be an int >= 1. "
                f"Got {self.trend_window_days!r} instead."
            )
        object.__setattr__(self, "trend_window_days", int(self.trend_window_days))
        if self.channels is not None:
            if isinstance(self.channels, str) or not all(
                isinstance(c, str) and c for c in self.channels
            ):
                raise ConfigError(
                    "The 'channels' parameter of FeatureConfig must be None or a tuple of non-empty "
                    f"strings. Got {self.channels!r} instead."
                )
            object.__setattr__(self, "channels", tuple(self.channels))
        t = self.high_margin_threshold
        if not is_real(t, finite=True):
            raise ConfigError(
                "The 'high_margin_threshold' parameter of FeatureConfig must be a finite number "
                f"(a margin rate such as 0.3). Got {t!r} instead."
            )
        object.__setattr__(self, "high_margin_threshold", float(t))
        for name in ("protected_as_features", "include_points_balance"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(
                    f"The '{name}' parameter of FeatureConfig must be a bool. "
                    f"Got {getattr(self, name)!r} instead."
                )
        extra = self.extra_attributes
        if isinstance(extra, str) or not all(isinstance(c, str) for c in extra):
            raise ConfigError(
                "The 'extra_attributes' parameter of FeatureConfig must be a tuple of column names. "
                f"Got {extra!r} instead."
            )
        object.__setattr__(self, "extra_attributes", tuple(extra))
        if not is_int(self.min_level_customers) or self.min_level_customers < 1:
            raise ConfigError(
                "The 'min_level_customers' parameter of FeatureConfig must be an int >= 1 (1 keeps "
                f"every category level). Got {self.min_level_customers!r} instead."
            )
        object.__setattr__(self, "min_level_customers", int(self.min_level_customers))
        self._check_event_kinds()
        # any spelling or encoding of one (Gender, gender_code, sex), as the privacy checks read it
        protected = [c for c in extra if is_protected_attribute(c)]
        if protected and not self.protected_as_features:
            raise ConfigError(
                f"FeatureConfig.extra_attributes asks for protected attributes {protected}. They are "
                "for fairness audits; set protected_as_features=True to use them as features."
            )

    def _check_event_kinds(self) -> None:
        for name in ("event_kinds", "event_value_kinds"):
            kinds = getattr(self, name)
            if kinds is None and name == "event_kinds":
                continue
            if (
                isinstance(kinds, str)
                or not isinstance(kinds, list | tuple)
                or not all(isinstance(k, str) and k.strip() for k in kinds)
            ):
                raise ConfigError(
                    f"The '{name}' parameter of FeatureConfig must be a tuple of non-empty strings"
                    f"{' or None' if name == 'event_kinds' else ''}. Got {kinds!r} instead."
                )
            object.__setattr__(self, name, tuple(kinds))
        kinds, valued = self.event_kinds, self.event_value_kinds
        unknown = [k for k in valued if kinds is None or k not in kinds]
        if unknown:
            raise ConfigError(
                "The 'event_value_kinds' parameter of FeatureConfig must name kinds of "
                f"'event_kinds' ({kinds!r}). Got {unknown!r}, which are not."
            )

    def __setstate__(self, state: dict[str, object]) -> None:
        # a config pickled before min_level_customers existed built its levels unpooled: keep that,
        # so a model registered then is scored with the features it was fitted on
        object.__setattr__(self, "__dict__", dict(state))
        self.__dict__.setdefault("min_level_customers", 1)
        self.__dict__.setdefault("event_kinds", None)  # before the events table existed
        self.__dict__.setdefault("event_value_kinds", ())

    @property
    def max_window_days(self) -> int:
        """The longest look-back any window feature needs, in days."""
        return max(max(self.windows), 2 * self.trend_window_days)
