"""``LoyaltyPolicy``: the whole decision chain as one plain, picklable object.

feature rows -> churn probability -> trigger (risk band, segment, action, channel) -> offer (uplift model
and offer catalog, when trained with campaigns and offers) -> reasons. The registered MLflow model
(:mod:`loyalty_ml.tracking.pyfunc`) is a thin wrapper around one of these; the nightly scoring job calls
:meth:`LoyaltyPolicy.decide` directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from loyalty_ml._checks import MAX_MONEY
from loyalty_ml.exceptions import ConfigError, DataError, SchemaError, format_examples, format_ids
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.policy._plan_reasons import (
    BUDGET_OUT,
    CAPPED,
    COOL_DOWN,
    HOLDOUT,
    HOLDOUT_OFFER,
    IN_CONTROL,
    NOT_EFFECTIVE,
    NOT_ELIGIBLE,
    NOT_PROFILED,
)
from loyalty_ml.policy.triggers import risk_bands
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._bad_rows import bad_rows
from loyalty_ml.schema._coerce import coerce_bool, refuse_repeated_ids, to_timestamp
from loyalty_ml.schema._id_text import id_hash_units, id_texts
from loyalty_ml.schema._ids import suggest_id_matches
from loyalty_ml.tracking.drift import DriftProfile

__all__ = [
    "DECISION_COLUMNS",
    "NOT_PROFILED",
    "NUMERIC_DECISION_COLUMNS",
    "N_REASONS",
    "LoyaltyPolicy",
    "not_profiled_decisions",
    "scoring_config",
    "unseen_levels",
]

N_REASONS = 3
#: Columns of :meth:`LoyaltyPolicy.decide`, in order.
DECISION_COLUMNS: tuple[str, ...] = (
    "churn_probability",
    "risk_band",
    "boundary_state",
    "segment",
    "action",
    "channel",
    "rule",
    C.OFFER_ID,
    "offer_channel",
    "expected_cost",
    "expected_net_value",
    "offer_reason",
    "holdout_offer_id",
    *(f"reason_{k}" for k in range(1, N_REASONS + 1)),
)
NO_TRIGGER = "no trigger fired"
NO_OFFER_MODEL = "no offer model"
#: offer_reason values of decide besides choose_offers' REASONS.
POLICY_REASONS = (NO_TRIGGER, NO_OFFER_MODEL)
#: The numeric decision columns (float64); every other one is text.
NUMERIC_DECISION_COLUMNS: tuple[str, ...] = (
    "churn_probability",
    "expected_cost",
    "expected_net_value",
)
_BASELINE = "baseline__"
#: offer_reason of the customers the contact rule rests (min_days_between_offers): no offer, and
#: no contact through the trigger's channel either.
_RESTING = (COOL_DOWN, IN_CONTROL)
#: offer_reason of the customers the offer model found nothing for: no offer, so no contact
#: either (the programme records a contact as an offer's send, see :meth:`LoyaltyPolicy.decide`).
_NOTHING_TO_SEND = (NOT_EFFECTIVE, CAPPED, NOT_ELIGIBLE, BUDGET_OUT)
_TEXT_COLUMNS = tuple(c for c in DECISION_COLUMNS if c not in NUMERIC_DECISION_COLUMNS)


@dataclass(frozen=True, kw_only=True)
class LoyaltyPolicy:
    """Everything needed to turn customer feature rows into decisions.

    Parameters
    ----------
    feature_config : FeatureConfig
        How the features were built (scoring must build them the same way).
    feature_names : tuple of str
        The feature columns, in training order; :meth:`decide` requires all of them.
    feature_categories : dict of str to tuple of str
        Levels of the categorical features (``category`` dtype at training). Text input (e.g. JSON sent
        to a served model) is coerced back to these levels. A value with no level of its own is
        read as ``"(rare)"`` when the levels have it (features built with
        ``FeatureConfig.min_level_customers`` > 1 pool the values held by few customers there), and
        as missing otherwise.
    churn_model : ChurnModel
        Fitted churn classifier.
    trigger_policy : TriggerPolicy or None
        Assigns risk band, boundary state, segment, action and channel. ``None`` uses risk bands only
        (``high_risk_threshold``/``medium_risk_threshold``) and a ``retention_offer`` by e-mail for high
        risk.
    uplift_model, catalog : optional
        Fitted ``UpliftModel`` and its ``OfferCatalog``; without them no offer is chosen.
    value_per_conversion : float
        Margin of one conversion, the value side of offer economics.
    holdout_fraction : float
        Share of customers kept out of offers (a stable control group: the same customer is always in
        or out, chosen by a hash of the customer id).
    min_days_between_offers : int or None
        Contact frequency: a customer sent any offer in this many days before the decision date gets
        none (reason ``"contacted recently"``), when :meth:`decide` is given the send history;
        nor any contact: its ``channel`` is ``"none"`` and its ``rule`` says why, as without
        marketing consent (the same for a customer kept in a recent control group).
        ``None``: no such rule (policies registered before it existed).
    consent_flags : tuple of str
        The consent columns (``consent_marketing``, ``consent_profiling``) of the customers table
        the model was trained with. Scoring refuses a customers table without them: read as consent
        managed upstream, a flag renamed or dropped upstream would offer to, and profile, every
        customer who said no. Empty for policies registered before it was recorded.
    drift_profile : DriftProfile or None
        Training distribution of the features and the churn score, for PSI at scoring.
    high_risk_threshold, medium_risk_threshold : float
        Risk bands of the fallback trigger rule.
    training_summary : dict
        Aggregates about the training run (as_of, row counts, backtest metrics) for the model card.
    """

    feature_config: FeatureConfig
    feature_names: tuple[str, ...]
    churn_model: Any
    feature_categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    trigger_policy: Any | None = None
    uplift_model: Any | None = None
    catalog: Any | None = None
    value_per_conversion: float = 0.0
    holdout_fraction: float = 0.1
    min_days_between_offers: int | None = None
    consent_flags: tuple[str, ...] = ()
    drift_profile: DriftProfile | None = None
    high_risk_threshold: float = 0.6
    medium_risk_threshold: float = 0.3
    training_summary: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.feature_config, FeatureConfig):
            raise ConfigError(
                "The 'feature_config' parameter of LoyaltyPolicy must be a FeatureConfig. "
                f"Got {type(self.feature_config).__name__} instead."
            )
        if not self.feature_names or not all(isinstance(n, str) for n in self.feature_names):
            raise ConfigError(
                "The 'feature_names' parameter of LoyaltyPolicy must be a non-empty tuple of column "
                f"names. Got {self.feature_names!r} instead."
            )
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        if (self.uplift_model is None) != (self.catalog is None):
            raise ConfigError(
                "LoyaltyPolicy needs both 'uplift_model' and 'catalog' to choose offers, or neither."
            )
        if getattr(self.uplift_model, "outcome_", "binary") == "continuous":
            raise ConfigError(
                "LoyaltyPolicy: the uplift_model was fitted on a continuous outcome (spend or "
                "margin), but offers are priced with the probability of a purchase (DESIGN "
                "section 5). Fit it on a 0/1 purchase outcome (UpliftModel(outcome='binary') or "
                "the default on 0/1 labels) and pass the margin as value_per_conversion."
            )
        for name in ("holdout_fraction", "high_risk_threshold", "medium_risk_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError(
                    f"The '{name}' parameter of LoyaltyPolicy must be a number in [0, 1]. "
                    f"Got {value!r} instead."
                )
        from loyalty_ml.policy.offers import check_rest_days

        check_rest_days(self.min_days_between_offers, owner="LoyaltyPolicy")
        if self.medium_risk_threshold > self.high_risk_threshold:
            raise ConfigError(
                "LoyaltyPolicy: 'medium_risk_threshold' must not exceed 'high_risk_threshold'; got "
                f"{self.medium_risk_threshold} > {self.high_risk_threshold}."
            )
        v = self.value_per_conversion
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or not math.isfinite(v)
            or not 0 <= v <= MAX_MONEY
        ):
            # above the bound choose_offers refuses every plan of the policy
            raise ConfigError(
                "The 'value_per_conversion' parameter of LoyaltyPolicy must be a finite number >= 0 "
                f"and at most {MAX_MONEY:.0e}. Got {v!r} instead."
            )

    # -- input ---------------------------------------------------------------------------------
    def prepare(self, features: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of ``features`` in training order and dtypes (extra columns dropped).

        Raises :class:`SchemaError` listing the missing feature columns.
        """
        if not isinstance(features, pd.DataFrame):
            raise SchemaError(
                f"features must be a pandas DataFrame; got {type(features).__name__}.",
                table="features",
            )
        missing = [c for c in self.feature_names if c not in features.columns]
        if missing:
            raise SchemaError(
                f"features lack {len(missing)} column(s) the model needs: "
                f"{format_examples(missing, total=len(missing), limit=10)}. Build them with "
                "loyalty_ml.build_features and the model's feature configuration "
                "(the same customers/campaigns tables as at training).",
                table="features",
                column=missing[0],
            )
        refuse_repeated_ids(features.index, what="features")  # each would get its own offer
        repeated = sorted({str(c) for c in features.columns[features.columns.duplicated()]})
        if repeated:
            raise SchemaError(
                f"features have repeated columns {format_examples(repeated, total=len(repeated))}; "
                "keep one column of each name.",
                table="features",
                column=repeated[0],
            )
        columns: dict[str, Any] = {}
        for name in self.feature_names:
            values = features[name]
            if name in self.feature_categories:
                levels = list(self.feature_categories[name])
                if (
                    isinstance(values.dtype, pd.CategoricalDtype)
                    and list(values.cat.categories) == levels
                ):
                    columns[name] = values.array  # prepared already: nothing to read again
                    continue
                dtype = pd.CategoricalDtype(levels)
                if isinstance(values.dtype, pd.CategoricalDtype):
                    # read each category once, not each row (the nightly job: 1M rows, a few
                    # categories): a row takes its category's reading, a missing row stays missing
                    read = _read_levels(pd.Series(values.cat.categories, dtype=object), levels)
                    lookup = np.append(pd.Categorical(read, dtype=dtype).codes, -1)
                    codes = lookup[values.cat.codes.to_numpy()]
                    columns[name] = pd.Categorical.from_codes(codes, dtype=dtype)
                else:
                    columns[name] = pd.Categorical(_read_levels(values, levels), dtype=dtype)
            elif values.dtype == np.float64:
                columns[name] = values.to_numpy()  # prepared already
            else:
                columns[name] = _numbers(values, name)
        return pd.DataFrame(columns, index=features.index.copy())

    # -- decisions -----------------------------------------------------------------------------
    def decide(
        self,
        features: pd.DataFrame,
        *,
        consent_marketing: pd.Series | None = None,
        reasons: Literal["all", "actioned", "none"] = "all",
        batch_size: int = 100_000,
        progress: bool = False,
        history: pd.DataFrame | None = None,
        as_of: object = None,
        budget: float | None = None,
        strategy: Literal["cheapest_effective", "max_net_value"] = "cheapest_effective",
    ) -> pd.DataFrame:
        """Decisions for every row of ``features`` (indexed like it).

        A customer's offer depends on his own row only (the holdout is drawn by a hash of his id),
        unless a ``budget`` is given: it is shared by the rows decided together; segments and VIP
        status use the trigger policy's reference population when it has one (``train_and_register``
        freezes it at the training date), else these rows. The heavy steps run in chunks of ``batch_size`` rows (bounded memory), and
        only where they matter: uplift effects for the customers who could receive an offer (a trigger
        fired, marketing consent; the holdout too, for ``holdout_offer_id``), reason codes for the
        rows ``reasons`` selects.

        Parameters
        ----------
        features : DataFrame
            One row per customer with (at least) the columns in ``feature_names``, indexed by
            ``customer_id``.
        consent_marketing : Series of bool, optional
            Marketing consent by customer id; customers not listed, or False, get no offer and
            no channel (``"none"``; their action still says what their risk calls for). ``None``:
            everybody may receive offers.
        reasons : {"all", "actioned", "none"}
            Rows that get reason codes (TreeSHAP costs a few milliseconds per row): everyone, the
            customers with a triggered action (with or without consent to contact), or nobody.
            Rows left out have missing ``reason_1..3``.
        batch_size : int
            Rows per chunk of the heavy steps.
        progress : bool
            Show progress bars over chunks.
        history, as_of : DataFrame and date, optional
            Past sends (``customer_id``, ``offer_id``, ``sent_at``; a campaigns table) and the decision
            date: offers whose ``max_per_month`` is reached in the month of ``as_of`` are not offered
            again, nor any offer to a customer sent one in the last ``min_days_between_offers`` days
            (see :func:`~loyalty_ml.policy.offers.choose_offers`), whose ``channel`` is then
            ``"none"`` (no contact) and whose ``rule`` ends with ``"; contacted recently: no
            contact"``. Without them neither rule is applied.
        budget : float, optional
            Cap on the total prudent cost of the offers made to these rows (see
            :func:`~loyalty_ml.policy.offers.choose_offers`: redemptions the offers cause count
            twice, so the expected cost stays within it too); customers left out by it get
            ``offer_reason="budget exhausted"``. ``None``: no cap.
        strategy : {"cheapest_effective", "max_net_value"}
            Which of a customer's effective offers to make (see ``choose_offers``).

        Returns
        -------
        DataFrame
            :data:`DECISION_COLUMNS`: ``churn_probability``, ``risk_band``, ``boundary_state``,
            ``segment``, ``action``, ``channel`` (the trigger's contact channel; ``"none"``, with
            the ``rule`` ending ``"; <reason>: no contact"``, where the offer model found nothing
            to send: ``"no effective offer"``, ``"monthly cap reached"``, ``"not eligible"``,
            ``"budget exhausted"``, since the contacts the programme records, and the contact
            rule rests, are the offers sent; a policy without an offer model contacts through
            the trigger's channel alone, which ``nightly_sends`` records as ``"contact"`` rows
            and the contact rule rests alike: ``offer_reason`` ``"contacted recently"`` instead
            of ``"no offer model"``), ``rule``,
            ``offer_id`` (missing = no offer), ``offer_channel`` (the catalog's channel of the
            offer, whose send ``expected_cost`` prices: deliver the offer there; missing without
            an offer or where the catalog names none), ``expected_cost`` and ``expected_net_value`` (as ``choose_offers`` prices them, at face
            value; 0 without an offer), ``offer_reason`` (``"holdout"`` where an offer was
            withheld, the one ``holdout_offer_id`` names; a customer of the holdout who would have
            got nothing has the reason he would have had, and one resting after his offer was
            withheld ``"in a recent control group"``), ``holdout_offer_id`` (for a customer of
            the holdout, the offer the same rules would have made, with a budget in proportion to
            the holdout's rows; missing for everyone else: see
            :func:`~loyalty_ml.tracking.sends.nightly_sends`) and ``reason_1..3``.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(
                f"The 'batch_size' parameter of decide must be an int >= 1. Got {batch_size!r} instead."
            )
        if reasons not in ("all", "actioned", "none"):
            raise ConfigError(
                "The 'reasons' parameter of decide must be 'all', 'actioned' or 'none'. "
                f"Got {reasons!r} instead."
            )
        from loyalty_ml.policy.offers import check_plan_options

        check_plan_options(budget, strategy, owner="decide")
        X = self.prepare(features)
        if len(X) == 0:
            return _empty(X.index)
        churn = _chunked(
            X,
            lambda rows: pd.DataFrame(
                {"churn_probability": self.churn_model.predict_proba(rows)[:, 1]}, index=rows.index
            ),
            batch_size=batch_size,
            progress=progress,
            desc="churn scores",
        )
        p = churn["churn_probability"].to_numpy(dtype=np.float64)
        out = pd.DataFrame({"churn_probability": p}, index=X.index)
        triggers = self._triggers(X, p)
        for column in ("risk_band", "boundary_state", "segment", "action", "channel", "rule"):
            out[column] = triggers[column].astype("str").to_numpy()
        triggered = out["action"].to_numpy() != "none"
        # without marketing consent: the action stays (who is at risk, and why), but no channel
        consent = _consent_mask(consent_marketing, X.index)
        silent = triggered & ~consent
        out.loc[silent, "channel"] = "none"
        out.loc[silent, "rule"] = out.loc[silent, "rule"] + "; no marketing consent: no contact"
        offers = self._offers(
            X,
            triggered,
            consent,
            batch_size=batch_size,
            progress=progress,
            history=history,
            as_of=as_of,
            budget=budget,
            strategy=strategy,
        )
        out[C.OFFER_ID] = offers[C.OFFER_ID].astype("str").to_numpy()
        out["offer_channel"] = self._offer_channels(out[C.OFFER_ID])
        out["expected_cost"] = offers["expected_cost"].to_numpy(dtype=np.float64)
        out["expected_net_value"] = offers["expected_net_value"].to_numpy(dtype=np.float64)
        out["offer_reason"] = offers["reason"].to_numpy()
        # the contact rule rests a customer as a withdrawn consent does: a row whose channel names
        # a contact would have the CRM team call or e-mail someone offered a week ago, every night
        # of the rest (the action still says what the customer's risk calls for); and the holdout
        # rests when its withheld plan does (its reason is then the plan's), or the control group
        # would be the customers who hear from the programme while the offered rest
        reason = offers["reason"].to_numpy()
        for why in _RESTING:
            rested = triggered & (reason == why)
            out.loc[rested, "channel"] = "none"
            out.loc[rested, "rule"] = out.loc[rested, "rule"] + f"; {why}: no contact"
        # nor is a customer the offer model found nothing for: the contacts the programme records
        # are the offers' sends (and the holdout's withheld ones), which nightly_sends writes and
        # the contact rule reads back; a channel named without an offer is a contact nothing
        # records, so nothing rests it, and the same customers would be told to be e-mailed or
        # called every night (a customer on all 35 of 35 simulated nights). A customer of the
        # holdout from whom nothing was withheld reads so too (his reason is what he would have had).
        for why in _NOTHING_TO_SEND:
            idle = triggered & (reason == why) & (out["channel"].to_numpy() != "none")
            out.loc[idle, "channel"] = "none"
            out.loc[idle, "rule"] = out.loc[idle, "rule"] + f"; {why}: no contact"
        out[HOLDOUT_OFFER] = offers[HOLDOUT_OFFER].astype("str").to_numpy()
        explain_rows = {
            "all": np.ones(len(X), dtype=bool),
            "actioned": triggered,
            "none": np.zeros(len(X), dtype=bool),
        }[reasons]
        reason_columns = [f"reason_{k}" for k in range(1, N_REASONS + 1)]
        for column in reason_columns:
            out[column] = pd.Series(pd.NA, index=X.index, dtype="str")
        if explain_rows.any():
            explained = _chunked(
                X.loc[explain_rows],
                lambda rows: self._reasons(rows)[reason_columns],
                batch_size=batch_size,
                progress=progress,
                desc="reasons",
            )
            for column in reason_columns:
                out.loc[explain_rows, column] = explained[column].astype("str").to_numpy()
        for column in _TEXT_COLUMNS:
            out[column] = out[column].astype("str")
        return out[list(DECISION_COLUMNS)]

    def _triggers(self, X: pd.DataFrame, p: np.ndarray) -> pd.DataFrame:
        if self.trigger_policy is not None:
            assigned: pd.DataFrame = self.trigger_policy.assign(X, p)
            return assigned.reindex(X.index)
        band = risk_bands(p, medium=self.medium_risk_threshold, high=self.high_risk_threshold)
        high = band == "high"
        return pd.DataFrame(
            {
                "risk_band": band,
                "boundary_state": "unknown",
                "segment": "all",
                "action": np.where(high, "retention_offer", "none"),
                "channel": np.where(high, "email", "none"),
                "rule": np.where(
                    high,
                    f"churn probability >= {self.high_risk_threshold}: retention offer",
                    NO_TRIGGER,
                ),
            },
            index=X.index,
        )

    def _offers(
        self,
        X: pd.DataFrame,
        triggered: np.ndarray,
        consent: np.ndarray,
        *,
        batch_size: int,
        progress: bool,
        history: pd.DataFrame | None = None,
        as_of: object = None,
        budget: float | None = None,
        strategy: Literal["cheapest_effective", "max_net_value"] = "cheapest_effective",
    ) -> pd.DataFrame:
        if self.uplift_model is None or self.catalog is None:
            return pd.DataFrame(
                {
                    C.OFFER_ID: pd.Series(pd.NA, index=X.index, dtype="str"),
                    "expected_cost": 0.0,
                    "expected_net_value": 0.0,
                    "reason": self._contacts_without_offers(
                        X.index, triggered, consent, history=history, as_of=as_of
                    ),
                    HOLDOUT_OFFER: pd.Series(pd.NA, index=X.index, dtype="str"),
                },
                index=X.index,
            )
        from loyalty_ml.policy.offers import NO_CONSENT, choose_offers

        holdout = self.holdout_mask(X.index)
        reason = np.where(~triggered, NO_TRIGGER, np.where(~consent, NO_CONSENT, HOLDOUT)).astype(
            object
        )
        plan = pd.DataFrame(
            {
                C.OFFER_ID: pd.Series(pd.NA, index=X.index, dtype="str"),
                "expected_cost": 0.0,
                "expected_net_value": 0.0,
                "reason": reason,
                HOLDOUT_OFFER: pd.Series(pd.NA, index=X.index, dtype="str"),
            },
            index=X.index,
        )
        # Effects are estimated only where an offer can be made or is withheld: the expensive part
        # at scale.
        candidates = triggered & consent & ~holdout
        held = triggered & consent & holdout
        pool = candidates | held
        if not pool.any():
            return plan
        effects = _chunked(
            X.loc[pool],
            lambda part: self.uplift_model.predict_effects(part).assign(  # type: ignore[union-attr]
                **{_BASELINE: self.uplift_model.predict_baseline(part).to_numpy()}  # type: ignore[union-attr]
            ),
            batch_size=batch_size,
            progress=progress,
            desc="offer effects",
        )
        from loyalty_ml.models.uplift import planning_attrs

        noise = _arm_mean_se(self.uplift_model)
        # the control's noise, each offer's average effect and the held-out check of the model's
        # purchase probabilities, whatever the chunks' attrs kept
        levels = planning_attrs(self.uplift_model)

        def plan_for(
            rows: np.ndarray, cap: float | None, sends: pd.DataFrame | None = history
        ) -> pd.DataFrame:
            part = effects.iloc[np.flatnonzero(rows[pool])]
            offer_effects = part.drop(columns=_BASELINE)
            offer_effects.attrs.update(levels)
            return choose_offers(
                offer_effects,
                self.catalog,  # type: ignore[arg-type]
                baseline=part[_BASELINE],
                value_per_conversion=self.value_per_conversion,
                history=sends,
                budget=cap,
                strategy=strategy,
                arm_mean_se=noise,
                min_days_between_offers=None if history is None else self.min_days_between_offers,
                # kept as given: choose_offers reads a zone-aware as_of on the clock of the sends
                # (a UTC reading could put 20:00 on Feb 29 in Los Angeles into March)
                as_of=None if as_of is None else to_timestamp(as_of, keep_zone=True),
            )

        if candidates.any():
            chosen = plan_for(candidates, budget)
            plan.loc[candidates, C.OFFER_ID] = chosen[C.OFFER_ID].astype("str").to_numpy()
            plan.loc[candidates, "expected_cost"] = chosen["expected_cost"].to_numpy()
            plan.loc[candidates, "expected_net_value"] = chosen["expected_net_value"].to_numpy()
            plan.loc[candidates, "reason"] = chosen["reason"].astype("str").to_numpy()
        if held.any():
            # What the holdout would have been offered, by the same rules (a budget in proportion
            # to its rows): the offered and the withheld customers of one offer are then alike,
            # and their outcomes measure what that offer does (see nightly_sends).
            share = (
                None
                if budget is None
                else budget * held.sum() / candidates.sum()
                if candidates.any()
                else budget
            )
            withheld = plan_for(held, share, _withheld_as_sent(history))
            offer_ids = withheld[C.OFFER_ID].astype("str")
            plan.loc[held, HOLDOUT_OFFER] = offer_ids.to_numpy()
            # "holdout" says an offer was withheld; a customer of the holdout who would have got
            # nothing keeps the reason he would have had (over 35 simulated nights 1,852 rows said
            # "holdout" where 105 offers were withheld)
            would_have = withheld["reason"].astype(object).to_numpy()
            would_have = _not_contacted(
                would_have,
                X.index[held],
                history=history,
                as_of=as_of,
                days=self.min_days_between_offers,
            )
            plan.loc[held, "reason"] = np.where(offer_ids.notna(), HOLDOUT, would_have)
        return plan

    def _contacts_without_offers(
        self,
        index: pd.Index,
        triggered: np.ndarray,
        consent: np.ndarray,
        *,
        history: pd.DataFrame | None,
        as_of: object,
    ) -> np.ndarray:
        """``offer_reason`` of a policy without an offer model: ``"no offer model"`` where a
        trigger fired, but ``"contacted recently"`` (or ``"in a recent control group"``) for a
        triggered customer with marketing consent whom the send history shows
        contacted (or kept in a control group) in the ``min_days_between_offers`` days before
        ``as_of``. Its contacts are the trigger's, which ``nightly_sends`` records (offer
        ``"contact"``): without the rule a customer in the re-engagement or win-back window was
        told to be contacted every night (35 simulated nights, seed 1: 757 customers on more than
        one night, 15,902 contacts within 30 days of the same customer's previous one)."""
        reason = np.where(triggered, NO_OFFER_MODEL, NO_TRIGGER).astype(object)
        reachable = triggered & consent
        recent = (
            _recently_reached(history, as_of, self.min_days_between_offers, index)
            if reachable.any()
            else None
        )
        if recent is None:
            return reason
        contacted, controlled = recent
        reason[reachable & controlled] = IN_CONTROL
        reason[reachable & contacted] = COOL_DOWN
        return reason

    def _offer_channels(self, offer_ids: pd.Series) -> np.ndarray:
        """The catalog's channel of each customer's offer (missing without an offer, or where the
        catalog names no channel): the send ``expected_cost`` prices."""
        channels = {} if self.catalog is None else {o.offer_id: o.channel for o in self.catalog}
        return offer_ids.map(channels).astype("str").to_numpy()

    def _reasons(self, X: pd.DataFrame) -> pd.DataFrame:
        explained: pd.DataFrame = self.churn_model.explain(X, top_k=N_REASONS)
        return explained

    def holdout_mask(self, index: pd.Index) -> np.ndarray:
        """True for customers in the stable holdout group (no offers), by a hash of the id."""
        if self.holdout_fraction <= 0 or len(index) == 0:
            return np.zeros(len(index), dtype=bool)
        # ids by value, as the pyfunc reads them: 13085.0 (a CSV round trip) is customer 13085
        # by id text: 12346, 12346.0 and "12346.0" (a JSON double formatted by a client) are
        # one customer, drawn alike (id_texts)
        unit = id_hash_units(id_texts(index, caller="LoyaltyPolicy"), key="loyaltymlholdout")
        return np.asarray(unit < self.holdout_fraction)


def _read_levels(values: pd.Series, levels: list[str]) -> pd.Series:
    """Each value of a category feature read as one of the model's ``levels`` (missing where none
    fits): by its text, or as ids are read (1.0, a JSON number or a CSV read back, is level "1"
    when the levels were written "1"; " gold " is "gold"). With ``"(rare)"`` among the levels
    (features built with pooled levels) a value with no level of its own is one of the rare ones,
    or unseen, the closest the model has; blanks and "nan"-like text stay missing. Without it,
    unseen values are missing, as the churn model treats them."""
    plain = values.astype("str")
    text = plain.where(plain.isin(levels), plain.str.strip())  # " 1.0" is "1.0"
    normal = pd.Series(id_texts(values, caller="LoyaltyPolicy"), index=values.index)
    text = text.where(text.isin(levels), normal)
    known = values.notna() & text.isin(levels)
    if C.RARE_LEVEL not in levels:
        return text.where(known)
    given = values.notna() & ~text.str.lower().isin(_MISSING_WORDS)
    return text.where(known, C.RARE_LEVEL).where(known | given)


def scoring_config(policy: LoyaltyPolicy) -> FeatureConfig:
    """The config to build a fitted policy's features with when scoring: its own, with every
    category value kept as its own level, so that :meth:`LoyaltyPolicy.prepare` reads each against
    the training's levels. Built with the training's ``min_level_customers``, the levels would be
    pooled by the counts of the table being scored: a level held by enough customers at training
    but fewer in the batch (a subset, customers who withdrew consent) would silently be scored as
    ``"(rare)"``."""
    return replace(policy.feature_config or FeatureConfig(), min_level_customers=1)


def unseen_levels(
    policy: LoyaltyPolicy, raw: pd.DataFrame, prepared: pd.DataFrame, *, table: str = "model_input"
) -> list[str]:
    """A warning text for each category feature of ``raw`` holding levels the model never saw,
    which :meth:`LoyaltyPolicy.prepare` (``prepared``) read as missing, or as ``"(rare)"`` when the
    model pools rare levels: the column, the levels, a case-only match, the model's levels. Missing
    values and "nan"-like text are not reported. Where the model pools (its levels hold
    ``"(rare)"``), a value rarer in ``raw`` than the pooling threshold is not reported either: it
    reads as the training's rare values did, and the model keeps no list of those to tell them
    from new ones; one that differs from a level only in case or blanks still is, in a note of
    its own that says so (not as a level the model never saw: it may have been there, pooled)."""
    notes = []
    for name, levels in policy.feature_categories.items():
        if name not in raw.columns or name not in prepared.columns:
            continue
        pooled = C.RARE_LEVEL in levels
        # only the values prepare read as missing (or rare) are read as text (the nightly job: 1M
        # rows)
        stand_in = prepared[name].eq(C.RARE_LEVEL) if pooled else prepared[name].isna()
        read_missing = raw[name].notna().to_numpy() & stand_in.to_numpy()
        if not read_missing.any():
            continue
        text = raw[name][read_missing].astype("str").str.strip()
        text = text[~text.str.lower().isin(_MISSING_WORDS).to_numpy() & (text != C.RARE_LEVEL)]
        if text.empty:
            continue
        counts = text.value_counts()
        if pooled:
            fewest = policy.feature_config.min_level_customers
            rare = counts.to_numpy() < fewest
            close = np.array([bool(suggest_id_matches([v], levels)) for v in counts.index])
            if (rare & close).any():
                # as rare as the values pooled at training, maybe one of them: not "new"
                variants = counts[rare & close]
                notes.append(_variant_note(f"{table}.{name}", variants, levels, len(raw), fewest))
            counts = counts[~rare]
            if counts.empty:
                continue
        new = [str(level) for level in counts.index]
        shown = [str(level) for level in levels if level != C.RARE_LEVEL]
        outcome = (
            f'they are read as "{C.RARE_LEVEL}", the level of the values rare at training'
            if pooled
            else "they are read as missing"
        )
        notes.append(
            f"{table}.{name} holds levels the model never saw at training "
            f"{format_examples(new, total=len(new))} in {int(counts.sum())} of {len(raw)} rows: "
            f"{outcome}, which changes those customers' scores."
            f"{suggest_id_matches(new, levels)} The model's levels are "
            f"{format_examples(shown, total=len(shown), limit=10)}; send one of them (a "
            "missing value as null), or retrain on data with the new levels."
        )
    return notes


def _variant_note(
    column: str, counts: pd.Series, levels: Sequence[str], rows: int, fewest: int
) -> str:
    """The warning of values of ``column`` that differ from one of the model's ``levels`` only in
    case or blanks, each in fewer than ``fewest`` rows (``counts``): read as ``"(rare)"``, as at
    training, where the model has no count of them to tell a new value from an old one."""
    variants = [str(value) for value in counts.index]
    return (
        f"{column} holds values that differ from a level of the model only in case or blanks "
        f"{format_examples(variants, total=len(variants))} in {int(counts.sum())} of {rows} "
        f'rows, each in fewer than {fewest}: read as "{C.RARE_LEVEL}", as the values held by '
        f"fewer than {fewest} customers were at training (it may have been one of them), not as "
        f"the level it may be a spelling of.{suggest_id_matches(variants, levels)} If it means that "
        "level, send the level's spelling (correct the source)."
    )


def _arm_mean_se(model: object) -> pd.Series | None:
    """The uplift model's noise in each arm's level (the control's first, as ``arm_summary_``
    lists it), for ``choose_offers(arm_mean_se=)``; None for a model without it (one fitted before
    it was recorded, or not an UpliftModel)."""
    summary = getattr(model, "arm_summary_", None)
    if isinstance(summary, pd.DataFrame) and "mean_outcome_se" in summary:
        return summary["mean_outcome_se"]
    return None


def _not_contacted(
    reasons: np.ndarray,
    ids: pd.Index,
    *,
    history: pd.DataFrame | None,
    as_of: object,
    days: int | None,
) -> np.ndarray:
    """``reasons`` of the holdout's withheld plan, with ``"contacted recently"`` read as ``"in a
    recent control group"`` for the customers no offer was sent to in the ``days`` before
    ``as_of``: that plan reads each withheld offer as sent (:func:`_withheld_as_sent`), so that
    the holdout rests as the offered do, but a customer of the holdout was kept in a control
    group then, not contacted."""
    rested = reasons == COOL_DOWN
    recent = _recently_reached(history, as_of, days, ids) if rested.any() else None
    if recent is None:
        return reasons
    contacted, _ = recent
    return np.where(rested & ~contacted, IN_CONTROL, reasons)


def _recently_reached(
    history: pd.DataFrame | None, as_of: object, days: int | None, ids: pd.Index
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per id of ``ids``: ``(contacted, kept in a control group)`` in the ``days`` before
    ``as_of``, as the send ``history`` records them (the contact rule's reading); None without a
    history, ``as_of``, a rule, or any send in those days."""
    if history is None or as_of is None or days is None:
        return None
    from loyalty_ml.policy._send_history import cooling_down, customer_texts, read_sends

    sends = read_sends(history, to_timestamp(as_of, keep_zone=True), days)
    if sends is None:
        return None
    return cooling_down(sends, customer_texts(ids), days)


def _withheld_as_sent(history: pd.DataFrame | None) -> pd.DataFrame | None:
    """``history`` with each withheld offer (a control row of ``nightly_sends``, which names it
    in ``policy_offer_id``) read as sent: the holdout's plan counts them towards the monthly caps
    as the treated customers' plan counts their sends, so the two stay alike."""
    from loyalty_ml.tracking.sends import POLICY_OFFER

    if history is None or POLICY_OFFER not in history.columns or C.OFFER_ID not in history:
        return history
    planned = history[POLICY_OFFER]
    control = history[C.OFFER_ID].astype("string").str.strip().eq(C.CONTROL).fillna(False)
    withheld = (control & planned.notna()).to_numpy(dtype=bool)
    if not withheld.any():
        return history
    offer_ids = history[C.OFFER_ID].astype(object).copy()
    offer_ids[withheld] = planned[withheld].astype(object).to_numpy()
    return history.assign(**{C.OFFER_ID: offer_ids})


def _consent_mask(consent_marketing: pd.Series | None, index: pd.Index) -> np.ndarray:
    """Marketing consent per row of ``index``: unlisted customers have none; None: everyone has.

    Consent is opt-in: a missing flag is no consent, and flags are read as validate_customers
    reads them (True/False, 1/0, yes/no; text "False" is not consent). Ids match by value, so
    ``"17"``, ``17`` and ``17.0`` are one customer.
    """
    if consent_marketing is None:
        return np.ones(len(index), dtype=bool)
    if not isinstance(consent_marketing, pd.Series):
        raise DataError(
            "LoyaltyPolicy.decide: consent_marketing must be a boolean Series indexed by "
            f"customer_id; got {type(consent_marketing).__name__}. Wrap an array in the features' "
            "row order as pd.Series(values, index=features.index)."
        )
    where = "consent_marketing"
    flags = coerce_bool(consent_marketing, table=where, column=where).fillna(False)
    keys = pd.Index(id_texts(consent_marketing.index, caller="LoyaltyPolicy.decide"))
    if keys.has_duplicates:
        twice = consent_marketing.index[keys.duplicated()].unique().tolist()
        raise DataError(
            f"LoyaltyPolicy.decide: consent_marketing lists customers more than once "
            f"{format_ids(twice, total=len(twice))}; give one flag per customer."
        )
    wanted = pd.Index(id_texts(index, caller="LoyaltyPolicy.decide"))
    found = wanted.isin(keys)
    if len(index) and len(keys) and not found.any():
        # every customer would silently lose the contact
        raise DataError(
            f"LoyaltyPolicy.decide: consent_marketing is indexed by "
            f"{format_ids(consent_marketing.index.tolist(), total=len(keys))}, none of which "
            f"is a customer of the features ({format_ids(index.tolist(), total=len(index))})."
            " Index it by customer_id, like the features."
        )
    lookup = pd.Series(flags.to_numpy(dtype=bool), index=keys)
    return lookup.reindex(wanted, fill_value=False).to_numpy(dtype=bool)


#: Text that means a missing number (lower-case, stripped).
_MISSING_WORDS = frozenset({"", "nan", "null", "none", "<na>"})


def _numbers(values: pd.Series, name: str) -> pd.Series:
    """A numeric feature as float64: numbers, booleans and numeric text; blank text is missing.

    So are the words clients write for a missing value ("NaN", "null", "None", "<NA>"); other
    words ("n/a") are refused.

    Raises :class:`SchemaError` showing the first rows whose values are not numbers (dates, words),
    never turning them silently into missing values.
    """
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        raise SchemaError(
            f"features.{name} holds {values.dtype} values; the model needs numbers. Build the "
            "features with loyalty_ml.build_features, which turns dates into day counts.",
            table="features",
            column=name,
        )
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    bad = numbers.isna().to_numpy() & values.notna().to_numpy()
    if bad.any():
        text = values[bad].astype("str").str.strip().str.lower()
        bad[bad] = ~text.isin(_MISSING_WORDS).to_numpy()
    if bad.any():
        raise SchemaError(
            f"features.{name} has values that are not numbers {bad_rows(values, bad)}. Send "
            "numbers (missing values as null/NaN), without units, currency symbols or thousands "
            "separators.",
            table="features",
            column=name,
        )
    return numbers


def _chunked(
    X: pd.DataFrame,
    step: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    batch_size: int,
    progress: bool,
    desc: str,
) -> pd.DataFrame:
    """``step`` applied to consecutive chunks of ``X``, concatenated (indexed like ``X``)."""
    from tqdm.auto import tqdm

    starts = range(0, len(X), batch_size)
    parts = [
        step(X.iloc[start : start + batch_size])
        for start in tqdm(starts, desc=desc, unit="batch", disable=not progress)
    ]
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _empty(index: pd.Index) -> pd.DataFrame:
    out = pd.DataFrame(index=index)
    for column in DECISION_COLUMNS:
        out[column] = pd.Series(dtype=np.float64 if column in NUMERIC_DECISION_COLUMNS else "str")
    return out


def not_profiled_decisions(index: pd.Index, unlisted: np.ndarray | None = None) -> pd.DataFrame:
    """Decision rows (:data:`DECISION_COLUMNS`) of customers who may not be profiled.

    No churn probability, risk band, segment or offer (the customer's features are not read:
    scoring them is the profiling refused), ``action="none"``, ``offer_reason="no profiling
    consent"`` and a ``reason_1`` that says so. ``unlisted``: True where consent is unknown
    because the customers table has no row for the customer (read as no consent).

    Examples
    --------
    >>> rows = not_profiled_decisions(pd.Index([7], name="customer_id"))
    >>> rows.loc[7, ["action", "offer_reason", "reason_1"]].tolist()
    ['none', 'no profiling consent', 'not scored: the customer has not consented to profiling']
    >>> bool(rows.loc[7, ["churn_probability", "risk_band", "offer_id"]].isna().all())
    True
    """
    out = pd.DataFrame(index=index)
    for column in DECISION_COLUMNS:
        if column in NUMERIC_DECISION_COLUMNS:
            out[column] = np.nan
        else:
            out[column] = pd.Series(pd.NA, index=index, dtype="str")
    out["action"] = "none"
    out["offer_reason"] = NOT_PROFILED
    out["reason_1"] = np.where(
        np.zeros(len(index), dtype=bool) if unlisted is None else unlisted,
        "not scored: not in the customers table, so consent is unknown and read as no consent",
        "not scored: the customer has not consented to profiling",
    )
    return out.astype({c: "str" for c in _TEXT_COLUMNS})
