"""Real receivers for push tests: an SMTP server (aiosmtpd, STARTTLS and login required) and a webhook
receiver (http.server), both on 127.0.0.1, recording what they got."""

from __future__ import annotations

import email
import email.policy
import functools
import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, copied into ``folder``.

    The pair is made once a test process (an RSA key takes the openssl command a few tenths of a second):
    the tests trust or distrust it by pointing SSL_CERT_FILE at it or not, never by telling two apart.
    """
    made = Path(_made_once().name)
    return Path(shutil.copy(made / "cert.pem", folder)), Path(shutil.copy(made / "key.pem", folder))


@functools.cache
def _made_once() -> tempfile.TemporaryDirectory[str]:
    """The pair in a folder of its own; the cache keeps it until the process exits, which removes it."""
    scratch = tempfile.TemporaryDirectory(prefix="kb-test-cert-")
    folder = Path(scratch.name)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    return scratch


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        data = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append(email.message_from_bytes(data, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok, handled=False)

    def bodies(self) -> list[str]:
        out = []
        for m in self.messages:
            part = m.get_body(("plain",))
            out.append(part.get_content() if part is not None else "")
        return out


@contextmanager
def smtp_server(folder: Path) -> Iterator[tuple[str, Mailbox, Path]]:
    """(KB_SMTP_URL, mailbox, CA file to trust): STARTTLS is required before AUTH, AUTH before MAIL."""
    cert, key = self_signed(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=box.authenticate, auth_required=True, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        yield f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}", box, cert
    finally:
        controller.stop()


@dataclass
class Hooked:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Hooked] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@contextmanager
def webhook_receiver(tls: tuple[Path, Path] | None = None) -> Iterator[Receiver]:
    """An HTTP receiver on 127.0.0.1 (HTTPS with ``tls``: a certificate and its key, from ``self_signed``)."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if receiver.delay:
                threading.Event().wait(receiver.delay)
            if receiver.status < 300:
                receiver.received.append(Hooked({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    receiver.url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
