"""Uplift training data from past randomised campaigns: who got which arm, what they were, what they did.

Each campaign row becomes one row of the experiment table: the customer's features as of the send date
(only what was known then, as :func:`~loyalty_ml.features.build_features` computes them), the arm the
customer was randomised to (``offer_id``, or the control label), and the outcome in the response window
(:func:`~loyalty_ml.features.responses.campaign_responses`). The transactions are prepared once and
every campaign is a snapshot of them, as in :func:`~loyalty_ml.features.training_table`.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from tqdm import tqdm

from loyalty_ml.exceptions import LeakageError, SchemaError, format_examples
from loyalty_ml.features._prepared import id_table, require
from loyalty_ml.features.build import check_config, features_at, prepare_inputs
from loyalty_ml.features.config import FeatureConfig
from loyalty_ml.features.labels import observed_until
from loyalty_ml.features.responses import Outcome, campaign_responses, check_window_days
from loyalty_ml.schema import columns as C
from loyalty_ml.schema._coerce import with_decoded_ids
from loyalty_ml.schema._data_end import stated_before
from loyalty_ml.schema._ids import align_customer_ids
from loyalty_ml.schema.tables import is_contact, strip_offer_ids

__all__ = ["experiment_table"]

_TABLE = "campaigns"


def experiment_table(
    transactions: pd.DataFrame,
    campaigns: pd.DataFrame,
    *,
    window_days: int,
    customers: pd.DataFrame | None = None,
    config: FeatureConfig | None = None,
    outcome: Outcome = "purchase",
    observation_end: object = None,
    progress: bool | None = None,
    history: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """``(X, y, treatment)`` for :meth:`UpliftModel.fit` from a campaign history.

    A campaign is one ``campaign_id`` (or, when there is no such column, one calendar day of
    ``sent_at``, as ``validate_campaigns`` and ``train_and_register`` group sends: a send log with
    one time per recipient is one campaign, not one per second); its customers are described as
    of its first ``sent_at``. Rows of customers without a purchase before
    that date have no features and are left out; ``X.attrs["n_without_history"]`` counts them.
    Rows of ``"contact"`` (contacts made without an offer, which :func:`loyalty_ml.nightly_sends`
    records for a policy without an offer model) are no experiment's arm and are left out too;
    ``X.attrs["n_contacts"]`` counts them.
    The text attributes' levels are counted at the earliest campaign start with a customer and
    shared by every row, as in :func:`training_table`.

    Parameters
    ----------
    transactions : DataFrame
        Canonical transactions (see :func:`loyalty_ml.validate_transactions`).
    campaigns : DataFrame
        Campaign history with ``customer_id``, ``offer_id`` (the control label for the control
        group) and ``sent_at``; also used for the campaign-response features.
    window_days : int
        Response window in days after ``sent_at``.
    customers : DataFrame, optional
        Customer attributes, as for ``build_features``.
    config : FeatureConfig, optional
        Feature configuration (the defaults when None). Use the one of the model the table is for.
    outcome : {"purchase", "spend", "margin"}
        What ``y`` measures in the window (see ``campaign_responses``).
    observation_end : date-like, optional
        End of the observed data when it runs past the last purchase, read as in
        :func:`churn_labels` (on dates without times a midnight names a day observed to its end);
        by default the last transaction, or the end of its day on dates without times. A
        campaign whose window ends after it is refused (its outcome is censored).
    progress : bool, optional
        Show a progress bar over campaigns (default: when stderr is a terminal).
    history : DataFrame, optional
        The whole campaign history the campaign-response features read (``offers_received``,
        ``days_since_last_offer``...), when ``campaigns`` holds only the experiments to learn
        from: sends without a control group, left out of the rows, still happened, and
        ``build_features`` counts them when the model scores. Default: ``campaigns``. Each row
        reads only the sends before its campaign's start, as always.
    events : DataFrame, optional
        Engagement and feedback events, as in :func:`build_features`: each row reads only the
        events before its campaign's start.

    Returns
    -------
    X : DataFrame
        Features, indexed like the kept rows of ``campaigns``.
    y : Series
        The outcome of each row, same index.
    treatment : Series
        ``offer_id`` of each row as text, same index.

    Raises
    ------
    SchemaError
        ``campaigns`` lacks a required column or has rows without ``sent_at``.
    LeakageError
        A campaign's response window runs past the end of the data.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1, 2],
    ...                    "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03",
    ...                                                 "2024-02-03", "2024-03-01"]),
    ...                    "amount": [5.0, 8.0, 6.0, 2.0]})
    >>> campaigns = pd.DataFrame({"campaign_id": ["c1", "c1"], "customer_id": [1, 2],
    ...                           "offer_id": ["coupon", "control"],
    ...                           "sent_at": pd.to_datetime(["2024-02-01", "2024-02-01"])})
    >>> X, y, t = experiment_table(tx, campaigns, window_days=7)
    >>> y.tolist(), t.tolist(), X["recency_days"].round(1).tolist()
    ([1, 0], ['coupon', 'control'], [30.0, 29.0])
    """
    rows = require(campaigns, (C.CUSTOMER_ID, C.OFFER_ID, C.SENT_AT), table=_TABLE)
    rows = with_decoded_ids(rows)  # categorical ids match the features' index by value
    rows = strip_offer_ids(rows)  # "control   " from a fixed-width export is the control arm
    contact = is_contact(rows[C.OFFER_ID])  # no arm (train_and_register leaves them out too)
    n_contacts = int(contact.sum())
    if n_contacts:
        rows = rows.loc[~contact]
    window_days = check_window_days(window_days, owner="experiment_table")
    if not rows.index.is_unique:
        raise SchemaError(
            f"{_TABLE} has a repeated index; the experiment table is indexed by campaign row. "
            "Use campaigns.reset_index(drop=True) (validate_campaigns returns a unique index).",
            table=_TABLE,
        )
    try:
        sent = pd.to_datetime(rows[C.SENT_AT])
    except (ValueError, TypeError) as exc:  # text that is no date: pandas' own error is bare
        raise SchemaError(
            f"{_TABLE}.{C.SENT_AT} holds values that are not dates ({str(exc).splitlines()[0]}). "
            "Run validate_campaigns first: it names the rows and reads day-first dates.",
            table=_TABLE,
            column=C.SENT_AT,
        ) from None
    if sent.isna().any():
        bad = sent.isna().to_numpy()
        raise SchemaError(
            f"{_TABLE}.{C.SENT_AT} is missing at rows "
            f"{format_examples(rows.index[bad], total=int(bad.sum()))}; every campaign row needs "
            "its send date. Drop those rows or run validate_campaigns first.",
            table=_TABLE,
            column=C.SENT_AT,
        )
    key = rows[C.CAMPAIGN_ID] if C.CAMPAIGN_ID in rows.columns else sent.dt.floor("D")
    if key.isna().any():
        # a row of no campaign has no campaign start to take features at: it was dropped and
        # counted among the customers without a purchase before the send
        bad = key.isna().to_numpy()
        raise SchemaError(
            f"{_TABLE}.{C.CAMPAIGN_ID} is missing at rows "
            f"{format_examples(rows.index[bad], total=int(bad.sum()))}; each row's features are "
            "taken at its campaign's first send. Fill them (e.g. with the send date) or drop the "
            "campaign_id column to group the rows by the day they were sent.",
            table=_TABLE,
            column=C.CAMPAIGN_ID,
        )
    arms = pd.DataFrame(
        {
            "campaign": key.to_numpy(),
            "customer": rows[C.CUSTOMER_ID].to_numpy(),
            "arm": rows[C.OFFER_ID].astype("string").to_numpy(),
        }
    )
    grouped = arms.groupby(["campaign", "customer"], dropna=False)["arm"]
    # randomised once per campaign: a customer in two arms (control and an offer) breaks the
    # comparison and would count their purchases for both
    _refuse_repeated(
        grouped.nunique(),
        "with different arms",
        "A campaign randomises each customer to one arm; fix those rows (validate_campaigns "
        "names them too).",
        column=C.OFFER_ID,
    )
    # the same arm twice: two rows of one customer's features, their outcome counted twice
    _refuse_repeated(
        grouped.size(),
        "in the same arm",
        "Each would weigh double in the fit: keep one row per (campaign, customer), e.g. "
        "campaigns.drop_duplicates([campaign_id, customer_id]) (validate_campaigns refuses them "
        "too).",
        column=C.CUSTOMER_ID,
    )
    starts = sent.groupby(key.to_numpy(), sort=False).transform("min")
    config = check_config(config)
    if len(rows) == 0:
        raise SchemaError(
            f"{_TABLE} has no rows: there is no experiment to learn from.", table=_TABLE
        )
    inputs = prepare_inputs(
        transactions,
        customers=customers,
        campaigns=campaigns if history is None else history,
        config=config,
        channels_as_of=pd.Timestamp(starts.max()),
        cutoffs=[pd.Timestamp(start) for start in pd.unique(starts)],
        events=events,
    )
    # integer ids written as text ("123") are the transactions' integers, as in build_features
    rows = align_customer_ids(
        rows, id_table(inputs.transactions), table=_TABLE, caller="experiment_table"
    )
    end = observed_until(inputs.transactions, observation_end)
    closes = sent + pd.Timedelta(days=window_days)
    late = (closes > end).to_numpy() if end is not None else np.ones(len(rows), dtype=bool)
    if late.any():
        campaigns_late = sorted(map(str, pd.unique(key.to_numpy()[late])))
        raise LeakageError(
            f"The response window of {int(late.sum())} campaign row(s) (campaigns "
            f"{format_examples(campaigns_late, total=len(campaigns_late))}) ends after the data "
            f"({end}): their outcome is not known yet. Keep only campaigns with sent_at + "
            f"{window_days} days <= the end of the data, or pass observation_end=."
        )
    show = sys.stderr.isatty() if progress is None else bool(progress)
    parts: list[pd.DataFrame] = []
    for start in tqdm(
        sorted(pd.unique(starts)), desc="experiment_table", unit="campaign", disable=not show
    ):
        mine = rows.loc[(starts == start).to_numpy()]
        # the campaign's customers only: a nightly job's small campaigns would otherwise cost a
        # feature table of every customer each
        features = features_at(inputs, pd.Timestamp(start), mine[C.CUSTOMER_ID].to_numpy())
        known = mine[C.CUSTOMER_ID].isin(features.index).to_numpy()
        ids = mine[C.CUSTOMER_ID].to_numpy()[known]
        parts.append(features.loc[ids].set_axis(mine.index[known], axis=0))
    X = pd.concat(parts)
    X = X.loc[rows.index[rows.index.isin(X.index)]]  # in the order of the campaign rows
    X.attrs["n_without_history"] = int(len(rows) - len(X))
    X.attrs["n_contacts"] = n_contacts
    kept = rows.loc[X.index]
    # end is where the data are complete until (observed_until); stated as campaign_responses
    # reads a stated end, it must not claim end's day on dates without times (schema._data_end)
    y = campaign_responses(
        kept,
        transactions,
        window_days=window_days,
        outcome=outcome,
        observation_end=None if end is None else stated_before(end, transactions[C.TIMESTAMP]),
    )
    treatment = kept[C.OFFER_ID].astype("str").rename(C.OFFER_ID)
    return X, y, treatment


def _refuse_repeated(counts: pd.Series, how: str, fix: str, *, column: str) -> None:
    """SchemaError naming the (campaign, customer) pairs whose count is over 1."""
    over = counts[counts > 1]
    if len(over):
        pairs = [(str(c), k) for c, k in over.index[:5]]
        raise SchemaError(
            f"{_TABLE} lists {len(over)} customer(s) more than once in one campaign {how} "
            f"(campaign, customer_id): {pairs}. {fix}",
            table=_TABLE,
            column=column,
        )
