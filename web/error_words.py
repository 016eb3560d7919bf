"""Domain errors in the reader's language on the HTML pages.

``kb/`` raises errors with English messages (the API and the CLI show them
as they are). A page shows the reader a heading for the status and, for the
errors people meet in the browser (a role they lack, a document they may not
change, an expired form), the message in their language with what to do
next. The patterns below match the messages raised in ``kb.identity.access``,
``kb.pmo``, ``kb.notify.egress`` and ``web.deps``; ``tests/web/test_localisation.py`` raises each
for real, so a reworded message fails there instead of silently falling back.
Any other message is shown under "technical details", after the heading.

Why a notification could not be delivered (``delivery_reason``) is put in
words the same way, on the subscription owner's page and the PMO dashboard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from web.i18n import MESSAGES, translate

# (pattern, catalog key): named groups become the message's values; ``role``/``you`` are role codes.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # the guidance kb.identity.access appends ("Ask your PMO admin for …") is the catalog's, in the reader's language
    (
        re.compile(r"^this needs the (?P<role>\w+) role; you are (?P<you>\w+)(?:\. Ask your PMO admin .*)?$"),
        "error_role",
    ),
    (re.compile(r"^log in first: this needs an account$"), "error_login_first"),
    (re.compile(r"^only its creator or a PMO admin may change or delete this document$"), "error_not_owner"),
    (
        re.compile(r"^you are not a member of the group\(s\) (?P<groups>.+); you cannot restrict to them$"),
        "error_not_member",
    ),
    (re.compile(r"^no document with id '(?P<id>[^']*)'$"), "error_no_document"),
    (re.compile(r"^the form expired or came from another site"), "error_form_expired"),
    (re.compile(r"^this request came from another site"), "error_cross_site"),
    (re.compile(r"^this request says neither where it came from"), "error_no_origin"),
    (re.compile(r"^only a PMO admin may (?P<action>\w+) a template or procedure$"), "error_standard_admin"),
    (re.compile(r"^only its owner, its creator or a PMO admin may verify it$"), "error_verify"),
    (re.compile(r"^only whoever saved the brief or a PMO admin may change it$"), "error_brief_owner"),
    # kb.notify.egress: a webhook address that leads inside, or nowhere
    (
        re.compile(
            r"^the webhook address (?P<url>.+) is not allowed: it leads to (?P<ip>\S+), "
            r"a non-public address \((?P<kind>[\w-]+)\)"
        ),
        "error_webhook_refused",
    ),
    (
        re.compile(r"^the webhook address (?P<url>.+) cannot be used: its host (?P<host>\S+) was not found"),
        "error_webhook_unknown_host",
    ),
    (re.compile(r"^give the webhook's http:// or https:// address$"), "error_webhook_http"),
]
# Starlette's own reason phrases (an unknown path, a wrong method, a crash): replaced by a sentence in words.
GENERIC = {"Not Found": "error_404", "Method Not Allowed": "error_405", "internal error": "error_500"}


@dataclass(frozen=True)
class ErrorText:
    title: str  # the heading: what kind of problem, in words
    message: str  # what happened and what to do, in the reader's language ("" when only details are known)
    details: str  # the original message when it could not be put in words ("" otherwise)


def error_text(status: int, message: str, lang: str) -> ErrorText:
    """The heading and message a page shows for an error with ``status`` and the domain ``message``."""
    title_key = f"error_{status}_title"
    title = translate(title_key if title_key in MESSAGES else "error_title_other", lang)
    if message in GENERIC:
        return ErrorText(title, translate(GENERIC[message], lang), "")
    words = _in_words(PATTERNS, message, lang)
    return ErrorText(title, words, "") if words else ErrorText(title, "", message)


def _in_words(patterns: list[tuple[re.Pattern[str], str]], message: str, lang: str) -> str:
    """The catalog's text for the first pattern ``message`` matches, its named groups filled in; "" if none."""
    for pattern, key in patterns:
        match = pattern.search(message)
        if match:
            values = {k: _words(k, v, lang) for k, v in match.groupdict().items()}
            return translate(key, lang, **values)
    return ""


def _words(name: str, value: str, lang: str) -> str:
    if name in ("role", "you") and f"role_{value}" in MESSAGES:
        return translate(f"role_{value}", lang)
    if name == "action" and f"move_{value}" in MESSAGES:
        return translate(f"move_{value}", lang)
    if name == "kind" and (key := f"address_{value.replace('-', '_')}") in MESSAGES:
        return translate(key, lang)
    return value


# -- why a notification could not be delivered --------------------------------------------------------------
# app.notify keeps the reason as "<exception type>: <message>" in English (Message.last_error; the CLI and the
# logs show it as it is). Messages this code writes are matched by their words (as PATTERNS above, which also
# put kb.notify.egress's refusals in words); messages the OS or a library writes (errno texts, SMTP replies)
# vary by platform, so their exception type says what happened. tests/web/test_delivery_reasons.py makes each
# failure happen for real where it can, so a reworded message fails there instead of falling back.
DELIVERY_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^the webhook answered HTTP (?P<status>\d{3})\b"), "delivery_http"),  # kb.notify.webhook.post
    (re.compile(r"^KB_SMTP_URL is not set"), "delivery_no_smtp"),  # app.notify
]
DELIVERY_TYPES = {
    "ConnectionRefusedError": "delivery_connection_refused",
    "TimeoutError": "delivery_timeout",  # socket.timeout is TimeoutError since Python 3.10
    "ConnectionResetError": "delivery_disconnected",
    "ConnectionAbortedError": "delivery_disconnected",
    "BrokenPipeError": "delivery_disconnected",
    "RemoteDisconnected": "delivery_disconnected",  # http.client: closed before answering
    "SMTPServerDisconnected": "delivery_disconnected",
    "SSLCertVerificationError": "delivery_certificate",
    "SMTPAuthenticationError": "delivery_smtp_login",
    "SMTPRecipientsRefused": "delivery_smtp_recipient",
    "SMTPSenderRefused": "delivery_smtp_sender",
    "SMTPNotSupportedError": "delivery_smtp_no_tls",  # kb.notify.email: no STARTTLS, the password kept back
    "SMTPConnectError": "delivery_unreachable",
    "gaierror": "delivery_unreachable",  # the mail server's name not found
    "OSError": "delivery_unreachable",  # no route, network unreachable, no address to connect to
}
_STORED = re.compile(r"^(?P<type>\w+): ?(?P<message>.*)$", re.S)


@dataclass(frozen=True)
class DeliveryReason:
    message: str  # what went wrong, in the reader's language ("" when the stored reason is not one we know)
    stored: str  # the reason as kept: the technical detail under ``message``, or all there is to show


def delivery_reason(stored: str, lang: str) -> DeliveryReason:
    """Why a delivery failed, in ``lang``; a reason no pattern knows (an older row, a new library's error) is
    shown as stored, never hidden."""
    parsed = _STORED.match(stored)
    kind, message = (parsed["type"], parsed["message"]) if parsed else ("", stored)
    words = _in_words(PATTERNS + DELIVERY_PATTERNS, message, lang)
    if not words and kind in DELIVERY_TYPES:
        words = translate(DELIVERY_TYPES[kind], lang)
    return DeliveryReason(words, stored)
