"""Real receivers for push tests: an SMTP server (aiosmtpd, STARTTLS and login required), a webhook
receiver (http.server) and an outbound HTTP proxy (http.server), all on 127.0.0.1, recording what they got."""

from __future__ import annotations

import base64
import email
import email.policy
import functools
import http.client
import json
import select
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
from urllib.parse import urlsplit

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
    with serving(server):
        yield receiver


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """``server`` answering on a thread of its own while the block runs, then shut and closed."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Proxied:
    """One request the proxy was asked to forward: ``CONNECT host:port`` or ``POST http://host:port/path``."""

    method: str
    target: str
    headers: dict[str, str]


@dataclass
class ForwardProxy:
    url: str
    seen: list[Proxied] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)  # the proxy's own name lookups (no DNS in tests)


@contextmanager
def forwarding_proxy(credentials: tuple[str, str] | None = None) -> Iterator[ForwardProxy]:
    """A minimal outbound proxy on 127.0.0.1, as a company's: CONNECT tunnels and absolute-URI POSTs, recorded.

    Written here rather than taken from PyPI: about fifty lines of the standard
    library do what the tests need (record each request as the proxy saw it,
    answer 407 without the right Basic ``credentials``, resolve names through
    ``hosts``), where a full proxy package would bring its own plugin machinery.
    The proxy resolves the target itself, as a real one does.
    """
    proxy = ForwardProxy(url="")
    expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode() if credentials else None

    class Handler(BaseHTTPRequestHandler):
        def admitted(self) -> bool:
            proxy.seen.append(Proxied(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            if expected is None or self.headers.get("proxy-authorization") == expected:
                return True
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="corp"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False

        def do_CONNECT(self) -> None:
            if not self.admitted():
                return
            host, _, port = self.path.rpartition(":")
            try:
                upstream = socket.create_connection((proxy.hosts.get(host, host), int(port)), timeout=10)
            except OSError:
                self.send_error(502)
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            with upstream:  # relay bytes both ways until either side closes (or 10 s of silence)
                ends = {self.connection: upstream, upstream: self.connection}
                while True:
                    ready, _, _ = select.select(list(ends), [], [], 10)
                    if not ready:
                        return
                    for end in ready:
                        data = end.recv(65536)
                        if not data:
                            return
                        ends[end].sendall(data)

        def do_POST(self) -> None:
            if not self.admitted():
                return
            parts = urlsplit(self.path)
            if parts.scheme != "http" or not parts.hostname:
                self.send_error(400, "a proxy takes absolute URIs")
                return
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            dropped = ("proxy-authorization", "proxy-connection", "connection")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
            far = http.client.HTTPConnection(
                proxy.hosts.get(parts.hostname, parts.hostname), parts.port or 80, timeout=10
            )
            try:
                far.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
                answer = far.getresponse()
                answer.read()
            finally:
                far.close()
            self.send_response(answer.status, answer.reason)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield proxy
