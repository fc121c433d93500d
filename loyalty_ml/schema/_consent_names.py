"""Column names that read like a consent flag without being one of the library's two.

Without ``consent_marketing`` (or ``consent_profiling``) the library reads consent as managed
upstream: every customer may be offered (or profiled). A customers table that carries the
customers' answer under another name (Shopify's ``Accepts Email Marketing``, a CRM's
``email_opt_in`` or ``do_not_contact``) would then contact everyone who said no, so such a name is
refused until it is mapped or dropped (:func:`consent_look_alikes`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from loyalty_ml._warn import warn_user
from loyalty_ml.exceptions import DataQualityWarning, SchemaError, format_examples
from loyalty_ml.schema import columns as C

__all__ = [
    "NO_CONSENT_MEANS",
    "consent_look_alikes",
    "reads_as_refusal",
    "refuse_consent_look_alikes",
    "warn_all_consent_missing",
]

# a marketing answer under a CRM's or a shop's name, matched on the whole name in snake case
_MARKETING = re.compile(
    r"(?:is_|has_|customer_|email_|e_mail_|sms_|marketing_|newsletter_|promo_|mail_)*"
    r"(?:opt(?:ed)?_?(?:in|out)|(?:un)?subscribed|subscriber|newsletter|gdpr(?:_[a-z]+)?"
    r"|accepts?(?:_[a-z]+)?_(?:marketing|e?mails?|sms|newsletters?|offers|promotions|contact)"
    r"|do_?not_?(?:contact|e?mail|market|call|sms|disturb)|dnc|no_?marketing"
    r"|(?:marketing|contact|e?mail|sms)_?(?:allowed|permitted|permission|ok|agreed|accepted"
    r"|preference)"
    r"|can_?(?:contact|e?mail|market)|contactable|permission_?(?:e?mail|sms|marketing|contact))"
    r"(?:_(?:flag|status|yn|y_n|bool|ind|indicator|email|sms|marketing))*"
)
# a profiling answer: a purpose word and an answer word anywhere in the name
_PROFILING_PURPOSE = re.compile(r"profil|personali[sz]|analytic|tracking")
_ANSWER = re.compile(r"consent|opt_?in|opt_?out|allow|permission|agreed|accepted")
# names whose True is a refusal: their negation is the consent flag
_REFUSAL = re.compile(r"out|unsubscri|do_?not|dnc|no_?marketing")
_PURPOSE_STEM = {C.CONSENT_MARKETING: "market", C.CONSENT_PROFILING: "profil"}
#: What a customer without each consent does not get (the consent split's reasons say it too).
NO_CONSENT_MEANS = {
    C.CONSENT_MARKETING: "no offer",
    C.CONSENT_PROFILING: "not profiled (no training, no personalised score)",
}


def _snake(name: object) -> str:
    """``name`` in snake case: ``"AcceptsMarketing"`` and ``"Accepts Marketing"`` are
    ``"accepts_marketing"``."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def consent_look_alikes(columns: Iterable[object], flag: str) -> list[str]:
    """The columns that read like consent flag ``flag`` (``consent_marketing`` or
    ``consent_profiling``) when the table lacks it: ``flag``'s stem beside "consent"
    (``Consent_Marketing``, ``marketing_consent``), a near spelling (``consent_profilng``), and for
    marketing a shop's or a CRM's name for the answer (``Accepts Email Marketing``,
    ``email_opt_in``, ``unsubscribed``, ``do_not_contact``).

    Examples
    --------
    >>> consent_look_alikes(["tier", "Accepts Email Marketing", "DoNotContact"], "consent_marketing")
    ['Accepts Email Marketing', 'DoNotContact']
    >>> consent_look_alikes(["n_contactable", "newsletter_opens", "subscription_tier"],
    ...                     "consent_marketing")
    []
    >>> consent_look_alikes(["analytics_opt_in", "tracking_events"], "consent_profiling")
    ['analytics_opt_in']
    """
    names = [str(c) for c in columns]
    alike = [name for name in names if _reads_like(_snake(name), flag)]
    close = difflib.get_close_matches(flag, names, n=3, cutoff=0.8)
    return alike + [c for c in close if c not in alike]


def _reads_like(words: str, flag: str) -> bool:
    """Whether the snake-case name ``words`` reads like consent flag ``flag``."""
    if "consent" in words and _PURPOSE_STEM[flag] in words:
        return True
    if flag == C.CONSENT_MARKETING:
        return _MARKETING.fullmatch(words) is not None
    return bool(_PROFILING_PURPOSE.search(words) and _ANSWER.search(words))


def reads_as_refusal(name: object) -> bool:
    """Whether a look-alike's True reads as a refusal (``unsubscribed``, ``do_not_contact``,
    ``opted_out``), so that the consent flag is its negation.

    >>> [reads_as_refusal(c) for c in ("email_opt_in", "Unsubscribed", "DNC", "accepts_marketing")]
    [False, True, True, False]
    """
    return bool(_REFUSAL.search(_snake(name)))


def refuse_consent_look_alikes(
    columns: Iterable[object], *, caller: str, flags: Iterable[str] = C.CONSENT_COLUMNS
) -> None:
    """SchemaError when a consent flag is absent from ``columns`` but a column reads like it
    (:func:`consent_look_alikes`): taken as "consent managed upstream", it would send offers to, or
    profile, every customer who said no. The message says how to map it, or to negate a refusal."""
    names = [str(c) for c in columns]
    for flag in flags:
        if flag in names:
            continue
        alike = consent_look_alikes(names, flag)
        if not alike:
            continue
        purpose = "offers" if flag == C.CONSENT_MARKETING else "profiling"
        refusal = [c for c in alike if reads_as_refusal(c)]
        negate = (
            f" {format_examples(refusal)} read(s) as a refusal (True where the customer said no): "
            f"give its negation, customers[{flag!r}] = ~customers[{refusal[0]!r}]."
            if refusal
            else ""
        )
        raise SchemaError(
            f"{caller}: customers has no {flag!r} column but has {format_examples(alike)}, which "
            f"looks like it: without {flag!r} consent for {purpose} is taken as managed upstream, "
            f"and every customer who said no would be included. Map it (validate_customers(raw, "
            f"columns=ColumnMap({flag}={alike[0]!r})) or rename it to {flag!r}, True where the "
            f"customer agreed), or drop it if consent is managed upstream.{negate}",
            table="customers",
            column=flag,
        )


def warn_all_consent_missing(flag: str, rows: int) -> None:
    """DataQualityWarning when consent flag ``flag`` has no value on any of ``rows`` customers:
    read as no consent (opt-in), so nobody is included, which a broken export looks like."""
    warn_user(
        f"customers.{flag} has no value on any of its {rows:,} rows: each is read as no consent "
        f"({NO_CONSENT_MEANS[flag]}), so nobody is included. A broken export or join? Fill the flags, or drop "
        "the column if consent is managed upstream.",
        DataQualityWarning,
    )
