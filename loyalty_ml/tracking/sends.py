"""The night's decisions as campaign rows: the send history the next night reads, and an experiment.

``score_customers`` reads the campaigns table as the send history (monthly caps, the contact rule),
so each night's offers must be appended to it. :func:`nightly_sends` writes them (and the contacts
a policy without an offer model makes through the trigger's channel, as ``"contact"`` rows),
together with the customers of the holdout who would have been made an offer, as that offer's
control rows: the holdout is drawn by a hash of the id, so within one offer the customers sent it
and those withheld are alike, and each night becomes one small randomised experiment per offer. Its outcomes are then
measured by :func:`loyalty_ml.kpis.measure_campaign`: pooled over nights with
``by=["policy_offer_id", "offer_id"]`` (the holdout's share is the same every night), or night by
night with ``by=["campaign_id", "offer_id"]`` once a night holds enough customers, on the offers
that have control rows (a rare offer may have no withheld customer yet: its arm is refused); a
later ``train_and_register`` learns from them as from any campaign with a control group.
"""

from __future__ import annotations

import pandas as pd

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import ConfigError, DataQualityWarning, SchemaError, withhold_ids
from loyalty_ml.policy._plan_reasons import HOLDOUT
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    coerce_label,
    refuse_missing_ids,
    refuse_repeated_ids,
    to_timestamp,
)
from loyalty_ml.tracking.policy import HOLDOUT_OFFER

__all__ = ["POLICY_OFFER", "nightly_sends"]

#: Column of the sends: the offer the policy chose for the row's customer, sent or withheld.
POLICY_OFFER = "policy_offer_id"


@withhold_ids
def nightly_sends(
    decisions: pd.DataFrame, *, sent_at: object, campaign_id: str | None = None
) -> pd.DataFrame:
    """Campaign rows for the offers in ``decisions`` and for the holdout they were withheld from.

    Parameters
    ----------
    decisions : DataFrame
        What :func:`~loyalty_ml.tracking.scoring.score_customers` (or ``LoyaltyPolicy.decide``, or
        the registered model with ids) returned: indexed by ``customer_id`` (or with it as a
        column), with ``offer_id`` and, for the control rows, ``holdout_offer_id``.
    sent_at : date-like
        When the offers go out (on the clock of the campaigns table).
    campaign_id : str, optional
        Name of the night's campaign; default ``"nightly-<date of sent_at>"``. Each offer gets its
        own campaign, ``"<campaign_id>:<offer_id>"``, shared by its sends and its control rows.

    Returns
    -------
    DataFrame
        The campaigns table's columns (``campaign_id``, ``customer_id``, ``offer_id``, ``sent_at``,
        ``redeemed`` = False, ``redeemed_at`` missing) and ``policy_offer_id`` (the offer chosen
        for the customer, sent or withheld): one row per customer sent an offer, and one
        ``offer_id="control"`` row per customer of the holdout who would have been sent one.
        Append it to the campaigns table (``pd.concat``) before the next night's scoring; fill in
        redemptions as they come. Decisions from a policy older than ``holdout_offer_id`` give
        sends only. A customer whose ``channel`` names a contact but who has no offer, sent or
        withheld (a policy without an offer model contacts through the trigger's channel alone),
        gets an ``offer_id="contact"`` row in campaign ``"<campaign_id>:contact:<channel>"``,
        ``policy_offer_id`` missing: the contact rule rests him after it as after an offer, and
        it is no offer to the campaign features or the offer model.

    Raises
    ------
    SchemaError
        ``decisions`` is not a DataFrame, or lacks ``offer_id`` or the customer ids.
    DataError
        A customer is listed more than once.
    ConfigError
        ``campaign_id`` is not a non-empty string, or ``sent_at`` is before the decisions' scoring
        date (``attrs["as_of"]``, which ``score_customers`` records), or has a time zone where
        that date has none (or none where it has one): the rows must be on the clock of the
        campaigns table they are appended to.

    Like the jobs it runs after, its messages give counts, not customer ids (they end in logs);
    set ``LOYALTY_ML_SHOW_IDS=1`` to see the ids while debugging.
    """
    if not isinstance(decisions, pd.DataFrame):
        raise SchemaError(
            f"nightly_sends: decisions must be a DataFrame (what score_customers returns); got "
            f"{type(decisions).__name__}."
        )
    frame = decisions
    if C.CUSTOMER_ID in frame.columns:
        frame = frame.set_index(C.CUSTOMER_ID)
    elif frame.index.name != C.CUSTOMER_ID:
        raise SchemaError(
            "nightly_sends: decisions need the customer ids, as the index named 'customer_id' "
            "(what score_customers returns) or a 'customer_id' column.",
            table="decisions",
            column=C.CUSTOMER_ID,
        )
    if C.OFFER_ID not in frame.columns:
        raise SchemaError(
            f"nightly_sends: decisions lack the column 'offer_id'; they have {list(frame.columns)}.",
            table="decisions",
            column=C.OFFER_ID,
        )
    when = to_timestamp(sent_at, name="sent_at", keep_zone=True)
    decided = decisions.attrs.get("as_of")  # score_customers records it, on the data's clock
    if decided is not None:
        scored = pd.Timestamp(str(decided))
        if (when.tzinfo is None) != (scored.tzinfo is None):
            # the rows are appended to the campaigns table the next night reads on that clock
            raise ConfigError(
                f"nightly_sends: sent_at={when} "
                + (
                    f"has a time zone ({when.tzinfo}) but the decisions were scored on a clock "
                    f"without one (as_of {decided}): rows with a zone appended to the campaigns "
                    "table make the next night's scoring refuse it. Pass sent_at on the "
                    "transactions' clock, without a zone: e.g. "
                    "pd.Timestamp(sent_at).tz_convert('<the zone the data are recorded in>')"
                    ".tz_localize(None)."
                    if when.tzinfo is not None
                    else f"has no time zone but the decisions were scored on a clock with one "
                    f"(as_of {decided}). Pass sent_at with that zone: e.g. "
                    f"pd.Timestamp(sent_at).tz_localize('{scored.tzinfo}')."
                )
            )
        if when < scored:
            raise ConfigError(
                f"nightly_sends: sent_at={when} is before the decisions' as_of ({decided}): "
                "offers decided on the data up to as_of go out at or after it. Pass the time "
                "they are sent."
            )
    if campaign_id is None:
        campaign_id = f"nightly-{when.date()}"
    elif not isinstance(campaign_id, str) or not campaign_id.strip():
        raise ConfigError(
            f"The 'campaign_id' parameter of nightly_sends must be a non-empty string. Got "
            f"{campaign_id!r} instead."
        )
    # one row per customer: one customer sent two offers in one night would be two campaigns'
    # row each, which validate_campaigns cannot see
    # a row without its customer would be a sends row the next night's validate_campaigns refuses
    refuse_missing_ids(pd.DataFrame({C.CUSTOMER_ID: frame.index}), table="decisions")
    refuse_repeated_ids(frame.index, what="nightly_sends: decisions")
    # offer ids as the campaigns table reads them: 101.0 (read back from a CSV) is offer "101"
    sent = coerce_label(frame[C.OFFER_ID], table="decisions", column=C.OFFER_ID).dropna()
    parts = [pd.DataFrame({C.OFFER_ID: sent, "arm": sent})]
    if HOLDOUT_OFFER in frame.columns:
        withheld = coerce_label(
            frame[HOLDOUT_OFFER], table="decisions", column=HOLDOUT_OFFER
        ).dropna()
        withheld = withheld.loc[~withheld.index.isin(sent.index)]
        parts.append(pd.DataFrame({C.OFFER_ID: C.CONTROL, "arm": withheld}))
    elif "reason" in frame.columns and (
        n_held := int(frame["reason"].astype("string").eq(HOLDOUT).sum())
    ):
        # a choose_offers plan: its holdout says who was held out, not from which offer
        warn_user(
            f"nightly_sends: {n_held:,} customers were held out (reason 'holdout') but the "
            f"decisions have no {HOLDOUT_OFFER!r} column (what the policy would have offered "
            "them; choose_offers' plans do not say), so no control rows are written and the "
            "night's offers cannot be measured against them. Send the decisions of "
            "score_customers or the registered model, or write the control rows yourself.",
            DataQualityWarning,
        )
    contacts = _contacts_without_offers(frame, parts)
    if len(contacts):
        parts.append(
            pd.DataFrame(
                {C.OFFER_ID: C.CONTACT, "arm": pd.NA, "campaign": C.CONTACT + ":" + contacts}
            )
        )
    rows = pd.concat(parts).rename_axis(C.CUSTOMER_ID).reset_index()
    arm = rows["arm"].astype("str")
    suffix = rows["campaign"].astype("str").fillna(arm) if "campaign" in rows else arm
    out = pd.DataFrame(
        {
            C.CAMPAIGN_ID: (campaign_id + ":" + suffix).astype("str"),
            C.CUSTOMER_ID: rows[C.CUSTOMER_ID].to_numpy(),
            C.OFFER_ID: rows[C.OFFER_ID].astype("str"),
            C.SENT_AT: pd.Series(when, index=rows.index),
            C.REDEEMED: False,
            C.REDEEMED_AT: pd.Series(pd.NaT, index=rows.index, dtype=pd.Series(when).dtype),
            POLICY_OFFER: arm,
        }
    )
    return out.sort_values([C.CAMPAIGN_ID, C.OFFER_ID, C.CUSTOMER_ID], ignore_index=True)


def _contacts_without_offers(frame: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.Series:
    """The channel of each customer the decisions tell to be contacted (``channel`` names one)
    who has no row in ``parts`` (no offer sent, none withheld): the trigger's contact of a policy
    without an offer model. Recorded as offer ``"contact"``, the contact rule rests the customer
    after it as after an offer; unrecorded, the same customers in the re-engagement or win-back
    window were told to be e-mailed or called every night."""
    if "channel" not in frame.columns:
        return pd.Series(dtype="str")
    channel = frame["channel"].astype("string").str.strip()
    named = channel.notna() & ~channel.str.lower().isin(["", "none", "nan", "<na>"])
    recorded = pd.Index([]).append([part.index for part in parts])
    unrecorded = named.fillna(False).to_numpy(dtype=bool) & ~frame.index.isin(recorded)
    return channel[unrecorded].astype("str")
