"""Campaign response: offers received and redeemed before ``as_of``, and how recently."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty_ml.exceptions import SchemaError, format_examples
from loyalty_ml.features._prepared import (
    Prepared,
    Snapshot,
    days_since_latest,
    nanoseconds,
    require,
    side_table_ids,
    snapshot_rows,
    timestamp_values,
)
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import (
    coerce_bool,
    refuse_repeated,
)
from loyalty_ml.schema.tables import (
    drop_repeated_sends,
    refuse_early_redemptions,
    strip_offer_ids,
)

__all__ = [
    "CAMPAIGN_FEATURES",
    "PreparedCampaigns",
    "campaign_features",
    "missing_campaign_hint",
    "prepare_campaigns",
]

#: The features this family can produce (the redemption ones only with ``redeemed_at``).
CAMPAIGN_FEATURES = (
    "offers_received",
    "days_since_last_offer",
    "offers_redeemed",
    "redemption_rate",
    "days_since_last_redemption",
)


def missing_campaign_hint(missing: list[str]) -> str:
    """A sentence for a model's "X lacks feature columns" error when every missing column is a
    campaign-response feature: the features were built without ``campaigns=`` (``experiment_table``
    and ``training_table`` with campaigns always build them), e.g. ``build_features(tx, as_of=...)``
    for a model fitted on ``experiment_table``'s rows. Empty text otherwise."""
    if not missing or not set(missing) <= set(CAMPAIGN_FEATURES):
        return ""
    return (
        " They are the campaign-response features, which the rows the model was fitted on had "
        "(experiment_table builds them, as does training_table with campaigns=): build these "
        "features with the same campaign history, build_features(tx, as_of=..., campaigns=...)."
    )


TABLE = "campaigns"
_NEVER = np.iinfo(np.int64).max  # a redemption time that is never before any as_of


@dataclass(frozen=True)
class PreparedCampaigns:
    """Treated campaign rows (control rows dropped) as arrays keyed by transactions customer codes."""

    cust: np.ndarray  # code into Prepared.customer_ids
    sent: np.ndarray  # int64 ns
    redeemed_at: np.ndarray | None  # int64 ns, _NEVER when not redeemed; None when undatable


def prepare_campaigns(campaigns: object, prepared: Prepared) -> PreparedCampaigns:
    """Check the campaigns table and key its treated rows by the transactions' customer codes.

    Rows whose ``offer_id`` is the control label are not offers and are dropped, as are the
    contacts made without an offer (``"contact"``, see :func:`loyalty_ml.nightly_sends`). Redemptions are dated
    by ``redeemed_at`` (a missing value means not redeemed); when ``redeemed`` exists too, only rows
    with ``redeemed`` true count. Without ``redeemed_at`` a redemption cannot be placed before or after
    ``as_of``, so the redemption features are left out rather than risk leaking the future. A row
    that repeats another exactly is counted once, with a warning (``drop_repeated_sends``).
    """
    frame = require(campaigns, (C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT), table=TABLE)
    frame = strip_offer_ids(frame)  # "control   " from a fixed-width export is the control
    refuse_repeated(frame, (C.REDEEMED_AT, C.REDEEMED), table=TABLE)
    frame = drop_repeated_sends(frame, table=TABLE)  # a night's sends appended twice
    # integer ids written as text ("123" from a CSV) read as the transactions' integers, and back
    frame, ids = side_table_ids(frame, prepared, table=TABLE)
    no_offer = frame[C.OFFER_ID].isna().to_numpy(dtype=bool)
    if no_offer.any():
        # neither an offer nor the control: silently reading them as "not treated" loses sends
        raise SchemaError(
            f"{TABLE}.{C.OFFER_ID} is missing on {int(no_offer.sum())} rows (e.g. rows "
            f"{format_examples(frame.index[no_offer].tolist(), total=int(no_offer.sum()))}). Each "
            f"row is an offer sent or the control ({C.CONTROL!r}); fill them or drop those rows "
            "(loyalty_ml.validate_campaigns names them too).",
            table=TABLE,
            column=C.OFFER_ID,
        )
    # nor are the contacts made without one (nightly_sends' "contact" rows): the features count
    # offers, as the tables the models were trained on held them
    treated = (
        (~frame[C.OFFER_ID].astype("string").isin([C.CONTROL, C.CONTACT]))
        .fillna(False)
        .to_numpy(dtype=bool)
    )
    cust = prepared.customer_ids.get_indexer(pd.Index(ids))
    keep = treated & (cust >= 0)  # campaign rows of customers without transactions cannot be used
    all_sent = timestamp_values(frame[C.SENT_AT], table=TABLE, column=C.SENT_AT)
    sent = all_sent[keep]
    redeemed_at: np.ndarray | None = None
    if C.REDEEMED_AT in frame.columns:
        column = frame[C.REDEEMED_AT]
        if not pd.api.types.is_datetime64_dtype(column.dtype):
            raise SchemaError(
                f"{TABLE}.{C.REDEEMED_AT} must be tz-naive datetime64 (NaT when not redeemed); got "
                f"dtype {column.dtype}. Convert it with pd.to_datetime.",
                table=TABLE,
                column=C.REDEEMED_AT,
            )
        when = nanoseconds(column, table=TABLE, column=C.REDEEMED_AT).copy()
        when[when == np.iinfo(np.int64).min] = _NEVER
        refuse_early_redemptions(
            (when != _NEVER) & (when < all_sent),
            frame.index,
            table=TABLE,
            hint=" (loyalty_ml.validate_campaigns refuses them too)",
        )
        if C.REDEEMED in frame.columns:
            # text flags as validate_campaigns reads them: "no" is False, not a truthy string
            flag = (
                coerce_bool(frame[C.REDEEMED], table=TABLE, column=C.REDEEMED)
                .fillna(False)
                .to_numpy(dtype=bool)
            )
            when[~flag] = _NEVER
        redeemed_at = when[keep]
    return PreparedCampaigns(cust[keep].astype("int64"), sent, redeemed_at)


def campaign_features(snap: Snapshot, campaigns: PreparedCampaigns) -> dict[str, np.ndarray]:
    """Campaign features of every customer in ``snap``, counting only what was known before ``as_of``.

    ``offers_received`` counts offers with ``sent_at < as_of`` and ``days_since_last_offer`` dates the
    latest (NaN if none). When redemptions can be dated: ``offers_redeemed`` counts offers sent and
    redeemed before ``as_of``, ``redemption_rate`` is redeemed / received (NaN with no offer) and
    ``days_since_last_redemption`` dates the latest redemption (NaN if none).
    """
    n = snap.n_customers
    ordinal = snapshot_rows(snap, campaigns.cust)  # -1: no purchase before as_of yet
    sent = (ordinal >= 0) & (campaigns.sent < snap.as_of_ns)
    received = np.bincount(ordinal[sent], minlength=n).astype("float64")
    out = {
        "offers_received": received,
        "days_since_last_offer": days_since_latest(snap, ordinal[sent], campaigns.sent[sent]),
    }
    if campaigns.redeemed_at is not None:
        done = sent & (campaigns.redeemed_at < snap.as_of_ns)
        redeemed = np.bincount(ordinal[done], minlength=n).astype("float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            out["offers_redeemed"] = redeemed
            out["redemption_rate"] = np.where(received > 0, redeemed / received, np.nan)
        out["days_since_last_redemption"] = days_since_latest(
            snap, ordinal[done], campaigns.redeemed_at[done]
        )
    return out
