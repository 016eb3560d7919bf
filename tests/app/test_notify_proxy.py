"""Webhooks through an outbound proxy (``KB_WEBHOOK_PROXY``), against a real proxy and a real receiver.

The target is checked at the server before the proxy hears of it; https is a
CONNECT tunnel with TLS to the target, http an absolute-URI request.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from app import notify, subscriptions
from kb.config import Settings
from kb.engine import KnowledgeBase
from kb.notify import egress
from kb.record.models import Role
from tests.app.test_notify import ADMIN, caller, follow, lesson, verify
from tests.conftest import HashingEmbedder
from tests.receivers import ForwardProxy, Receiver, forwarding_proxy, self_signed, webhook_receiver

CREDENTIALS = ("kb-sender", "p@ss word")
BASIC = "Basic " + base64.b64encode(b"kb-sender:p@ss word").decode()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with forwarding_proxy(credentials=CREDENTIALS) as running:
        yield running


@pytest.fixture
def kb(settings: Settings, proxy: ForwardProxy) -> Iterator[KnowledgeBase]:
    # the receiver listens on 127.0.0.1: allowed, as a company allows its chat relay on the LAN
    address = proxy.url.replace("http://", "http://kb-sender:p%40ss%20word@")  # percent-encoded, as URLs carry it
    configured = settings.model_copy(
        update={"public_url": "http://kb.example", "min_dense_score": 0.5, "webhook_allow_hosts": ["127.0.0.1"],
                "webhook_proxy": address}
    )  # fmt: skip
    base = KnowledgeBase.open(configured, embedder=HashingEmbedder())
    for login in ("alice", "bob"):
        base.accounts.add_user(login, role=Role.contributor)
    yield base
    base.close()


def test_an_http_webhook_goes_through_the_proxy_as_an_absolute_uri_with_the_proxy_credentials(
    kb: KnowledgeBase, hook: Receiver, proxy: ForwardProxy
) -> None:
    sub_id = follow(kb, "alice", "webhook", hook.url)
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"sent": 1}
    assert [(p.method, p.target) for p in proxy.seen] == [("POST", hook.url)]
    assert proxy.seen[0].headers["proxy-authorization"] == BASIC
    assert len(hook.received) == 1
    got = hook.received[0]
    assert verify(subscriptions.own(kb, caller=ADMIN, subscription_id=sub_id).secret, got)
    assert got.headers["host"] == hook.url.split("/")[2]  # the target's name, not the proxy's
    assert "proxy-authorization" not in got.headers


def test_an_https_webhook_is_tunnelled_and_verified_against_the_host_name(
    kb: KnowledgeBase, proxy: ForwardProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)  # for localhost and 127.0.0.1 only
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    kb.settings.webhook_allow_hosts = ["127.0.0.1", "other.corp.example"]
    with webhook_receiver(tls=(cert, key)) as secure:
        port = secure.url.split(":")[2].split("/")[0]
        good = follow(kb, "alice", "webhook", secure.url)
        monkeypatch.setattr(egress, "lookup", lambda host, p: ["127.0.0.1"])
        proxy.hosts["other.corp.example"] = "127.0.0.1"  # the same server under a name its certificate lacks
        bad = follow(kb, "bob", "webhook", f"https://other.corp.example:{port}/hook")
        lesson(kb, "Vendor selection delays the schedule")
        assert notify.run(kb).outcomes == {"sent": 1, "pending": 1}
        assert len(secure.received) == 1
        assert verify(subscriptions.own(kb, caller=ADMIN, subscription_id=good).secret, secure.received[0])
    # the proxy saw only the tunnels it was asked for, with its credentials, never the request inside them
    assert sorted((p.method, p.target) for p in proxy.seen) == [
        ("CONNECT", f"127.0.0.1:{port}"),
        ("CONNECT", f"other.corp.example:{port}"),
    ]
    assert {p.headers["proxy-authorization"] for p in proxy.seen} == {BASIC}
    retried = subscriptions.mine(kb, caller=caller(kb, "bob"))[0].messages[0]
    assert retried.subscription_id == bad and "CERTIFICATE_VERIFY_FAILED" in retried.last_error


def test_an_internal_target_is_refused_before_the_proxy_hears_of_it(
    kb: KnowledgeBase, hook: Receiver, proxy: ForwardProxy
) -> None:
    follow(kb, "alice", "webhook", hook.url)  # allowed when made …
    kb.settings.webhook_allow_hosts = []  # … and no more: with a proxy too, the server's check comes first
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"failed": 1}
    assert proxy.seen == [] and hook.received == []
    failed = subscriptions.mine(kb, caller=caller(kb, "alice"))[0].failed[0]
    assert "it leads to 127.0.0.1, a non-public address (loopback)" in failed.last_error


def only_the_proxy_resolves(host: str, port: int) -> list[str]:
    """The server's DNS in a split-DNS network: no outside name is found (IP literals are never looked up)."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_a_name_only_the_proxy_can_resolve_is_accepted_and_left_to_the_proxy(
    kb: KnowledgeBase, hook: Receiver, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(egress, "lookup", only_the_proxy_resolves)
    kb.settings.webhook_allow_hosts = []  # the proxy's answer (127.0.0.1 here) is the proxy's rules' business
    port = hook.url.split(":")[2].split("/")[0]
    proxy.hosts["hooks.example.invalid"] = "127.0.0.1"
    plain = f"http://hooks.example.invalid:{port}/hook"
    good = follow(kb, "alice", "webhook", plain)  # accepted when made, though the server found no address
    follow(kb, "bob", "webhook", f"https://hooks.example.invalid:{port}/hook")  # TLS to a plain receiver: fails
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"sent": 1, "pending": 1}
    # the proxy got the name, not an address the server chose: a request for the absolute URI, and a tunnel
    assert sorted((p.method, p.target) for p in proxy.seen) == [
        ("CONNECT", f"hooks.example.invalid:{port}"),
        ("POST", plain),
    ]
    assert len(hook.received) == 1
    assert verify(subscriptions.own(kb, caller=ADMIN, subscription_id=good).secret, hook.received[0])
    assert hook.received[0].headers["host"] == f"hooks.example.invalid:{port}"


def test_without_a_proxy_a_name_the_server_cannot_resolve_is_refused_then_retried(
    kb: KnowledgeBase, hook: Receiver, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(egress, "lookup", only_the_proxy_resolves)
    address = "http://hooks.example.invalid/hook"
    follow(kb, "alice", "webhook", address)  # made through the proxy …
    kb.settings.webhook_proxy = None  # … which is then taken away
    with pytest.raises(egress.Unresolvable, match=r"its host hooks\.example\.invalid was not found"):
        follow(kb, "bob", "webhook", address)
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"pending": 1}  # not found at this moment: an ordinary failure, retried
    assert proxy.seen == [] and hook.received == []
    assert "was not found" in subscriptions.mine(kb, caller=caller(kb, "alice"))[0].messages[0].last_error


def test_through_a_proxy_a_name_the_server_resolves_to_an_internal_address_is_still_refused(
    kb: KnowledgeBase, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(egress, "lookup", lambda host, port: ["127.0.0.1"])
    kb.settings.webhook_allow_hosts = []
    with pytest.raises(egress.Refused, match=r"it leads to 127\.0\.0\.1, a non-public address \(loopback\)"):
        follow(kb, "alice", "webhook", "http://relay.corp.example/hook")
    kb.settings.webhook_allow_hosts = ["127.0.0.1"]  # unless allowed
    assert follow(kb, "alice", "webhook", "http://relay.corp.example/hook")
    assert proxy.seen == []


def test_a_proxy_refusing_the_credentials_is_a_failure_to_retry(
    kb: KnowledgeBase, hook: Receiver, proxy: ForwardProxy
) -> None:
    kb.settings.webhook_proxy = proxy.url  # no credentials
    follow(kb, "alice", "webhook", hook.url)
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"pending": 1}
    assert hook.received == [] and [p.method for p in proxy.seen] == ["POST"]
    assert "HTTP 407" in subscriptions.mine(kb, caller=caller(kb, "alice"))[0].messages[0].last_error


def test_the_proxy_environment_variables_are_not_read(
    kb: KnowledgeBase, hook: Receiver, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only KB_WEBHOOK_PROXY sends webhooks through a proxy: HTTP(S)_PROXY set for other tools changes nothing."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy.url)
    kb.settings.webhook_proxy = None
    follow(kb, "alice", "webhook", hook.url)
    lesson(kb, "Vendor selection delays the schedule")
    assert notify.run(kb).outcomes == {"sent": 1}
    assert proxy.seen == [] and len(hook.received) == 1


@pytest.mark.parametrize(
    "address",
    ["https://proxy.corp.example:8080", "proxy.corp.example:8080", "http://proxy.corp.example:99999",
     "http://proxy.corp.example:8080/path", "http://:8080"],
)  # fmt: skip
def test_a_proxy_setting_that_is_not_an_http_proxy_address_stops_the_start(tmp_path: Path, address: str) -> None:
    with pytest.raises(ValidationError, match="give the proxy as http://"):
        Settings(data_dir=tmp_path, webhook_proxy=address)


def test_an_empty_proxy_setting_means_none(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, webhook_proxy=" ").webhook_proxy is None
    assert Settings(data_dir=tmp_path, webhook_proxy="http://u:p@proxy:8080/").webhook_proxy == "http://u:p@proxy:8080/"
