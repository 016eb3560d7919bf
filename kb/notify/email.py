"""Email over SMTP: a Japanese or English message with an HTML and a text part, sent with ``smtplib``.

``KB_SMTP_URL`` says where and how: ``smtp://user:password@host:587`` upgrades
the connection with STARTTLS before logging in (and refuses to send a
password over a server that does not offer it), ``smtps://`` speaks TLS from
the start, ``smtp://host:25`` without a user sends without login (a local
relay). Certificates are checked against the system's trust store
(``SSL_CERT_FILE`` adds one). The message's ``Message-ID`` is made from the
outbox message's key, so a copy re-sent after a crash is recognisable as the
same message.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from urllib.parse import unquote, urlsplit

from kb.errors import InvalidInput
from kb.notify.content import Content, word

TIMEOUT = 30.0


def compose(content: Content, *, to: str, sender: str, key: str, domain: str = "kb.local") -> EmailMessage:
    """The email for ``content``: text and HTML alternatives, unsubscribe headers (RFC 2369, RFC 8058)."""
    msg = EmailMessage()
    msg["Subject"] = content.subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{key}@{domain}>"
    msg["X-KB-Idempotency-Key"] = key
    if content.unsubscribe:
        msg["List-Unsubscribe"] = f"<{content.unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(content.text())
    msg.add_alternative(html(content), subtype="html")
    return msg


def html(content: Content) -> str:
    """The HTML part: every value escaped, no script, no remote image."""
    rows = "".join(
        f'<li><a href="{escape(i.url)}">{escape(i.title)}</a> <small>[{escape(i.kind)}]</small>'
        + (f"<br><span>{escape(i.summary)}</span>" if i.summary else "")
        + "</li>"
        for i in content.items
    )
    link = f'<p><a href="{escape(content.link)}">{escape(content.link_label)}</a></p>' if content.link else ""
    unsubscribe = (
        f'<p><small><a href="{escape(content.unsubscribe)}">{escape(word("unsubscribe", content.language))}</a>'
        f"</small></p>"
        if content.unsubscribe
        else ""
    )
    footer = f"<p><small>{escape(content.footer)}</small></p>" if content.footer else ""
    return (
        f'<!doctype html><html lang="{escape(content.language)}"><body>'
        f"<p>{escape(content.intro)}</p><ul>{rows}</ul>{link}{unsubscribe}{footer}</body></html>"
    )


def send(url: str, msg: EmailMessage) -> None:
    """Send ``msg`` through the server ``url`` names (see the module's docstring); raises on any failure."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InvalidInput(f"KB_SMTP_URL must look like smtp://user:password@host:587, not {parts.scheme}://…")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else ""
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        with smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=TIMEOUT, context=context) as smtp:
            _login_and_send(smtp, user, password, msg)
        return
    with smtplib.SMTP(parts.hostname, parts.port or (587 if user else 25), timeout=TIMEOUT) as smtp:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        elif user:
            raise smtplib.SMTPNotSupportedError("the SMTP server offers no STARTTLS: refusing to send the password")
        _login_and_send(smtp, user, password, msg)


def _login_and_send(smtp: smtplib.SMTP, user: str | None, password: str, msg: EmailMessage) -> None:
    if user:
        smtp.login(user, password)
    smtp.send_message(msg)
