"""The webhook address guard: which addresses the server refuses to post to, and what it allows when told."""

from __future__ import annotations

import socket

import pytest

from kb.notify.egress import Allowed, Refused, Resolver, Unresolvable, resolve

NOTHING = Allowed.of([])


def answers(*addresses: str) -> Resolver:
    """A resolver that answers ``addresses`` for any name (no DNS in tests)."""
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("url", "ip", "kind"),
    [
        ("http://127.0.0.1:8000/hook", "127.0.0.1", "loopback"),
        ("http://10.1.2.3/hook", "10.1.2.3", "private"),
        ("http://192.168.0.10/hook", "192.168.0.10", "private"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"),
        ("http://0.0.0.0:9000/", "0.0.0.0", "unspecified"),
        ("http://224.0.0.1/", "224.0.0.1", "multicast"),
        ("http://100.64.0.1/", "100.64.0.1", "shared"),
        ("http://[::1]:8000/hook", "::1", "loopback"),
        ("http://[fd00::5]/hook", "fd00::5", "private"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:7f00:1", "loopback"),  # IPv4-mapped: judged as 127.0.0.1
        ("http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe", "link-local"),
    ],
)
def test_an_internal_address_is_refused_naming_it_and_why(url: str, ip: str, kind: str) -> None:
    with pytest.raises(Refused) as refused:
        resolve(url, NOTHING, resolver=answers())
    assert refused.value.message.startswith(f"the webhook address {url} is not allowed: it leads to {ip}, ")
    assert f"({kind})" in refused.value.message and "KB_WEBHOOK_ALLOW_HOSTS" in refused.value.message
    assert refused.value.status == 422


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    with pytest.raises(Refused, match=r"leads to 10\.0\.0\.7, a non-public address \(private\)"):
        resolve("https://hooks.example.com/x", NOTHING, resolver=answers("93.184.216.34", "10.0.0.7"))
    with pytest.raises(Refused, match=r"a non-public address \(loopback\)"):  # localhost, by the real resolver
        resolve("http://localhost:8000/hook", NOTHING)
    # integer and hex spellings of 127.0.0.1 are not IP literals to Python, but they resolve to it
    with pytest.raises(Refused, match="loopback"):
        resolve("http://2130706433/hook", NOTHING)


def test_a_public_address_passes_and_the_checked_addresses_are_what_to_connect_to() -> None:
    found = resolve("https://hooks.example.com/services/T0/B0?x=1", NOTHING, resolver=answers("93.184.216.34"))
    assert (found.scheme, found.host, found.port, found.target) == (
        "https",
        "hooks.example.com",
        443,
        "/services/T0/B0?x=1",
    )
    assert found.addresses == ("93.184.216.34",)
    assert resolve("http://8.8.8.8", NOTHING).addresses == ("8.8.8.8",)


def test_the_allowed_list_admits_hosts_and_networks() -> None:
    relay = resolve("http://Chat-Relay.corp.example/hook", Allowed.of(["chat-relay.corp.example"]),
                    resolver=answers("10.20.0.5"))  # fmt: skip
    assert relay.addresses == ("10.20.0.5",)
    lan = Allowed.of(["10.20.0.0/16", "127.0.0.1"])
    assert resolve("http://relay.corp.example/hook", lan, resolver=answers("10.20.3.4")).addresses == ("10.20.3.4",)
    assert resolve("http://127.0.0.1:9/hook", lan).addresses == ("127.0.0.1",)
    with pytest.raises(Refused, match=r"10\.21\.0\.1"):  # outside the allowed network
        resolve("http://relay.corp.example/hook", lan, resolver=answers("10.21.0.1"))
    with pytest.raises(Refused, match=r"169\.254\.169\.254"):  # another name resolving inside is not the allowed one
        resolve(
            "http://other.corp.example/", Allowed.of(["chat-relay.corp.example"]), resolver=answers("169.254.169.254")
        )


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:25/", "example.com/hook", "http:///x", ""]
)
def test_only_http_and_https_addresses_with_a_host(url: str) -> None:
    with pytest.raises(Refused, match=r"^give the webhook's http:// or https:// address$"):
        resolve(url, Allowed.of(["example.com"]), resolver=answers("93.184.216.34"))


def test_a_host_that_is_not_found_is_said_so() -> None:
    with pytest.raises(Unresolvable, match=r"^the webhook address http://nowhere\.invalid/ cannot be used: its host "
                                           r"nowhere\.invalid was not found"):  # fmt: skip
        resolve("http://nowhere.invalid/", NOTHING, resolver=missing)


def missing(host: str, port: int) -> list[str]:
    """A resolver that finds nothing, as a server whose DNS knows only the company's own names."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_through_a_proxy_a_name_the_server_cannot_resolve_is_left_to_the_proxy() -> None:
    for resolver in (missing, answers()):  # not found, or found with no address
        found = resolve("https://hooks.example.invalid/services/T0", NOTHING, proxied=True, resolver=resolver)
        assert (found.scheme, found.host, found.port, found.target) == (
            "https",
            "hooks.example.invalid",
            443,
            "/services/T0",
        )
        assert found.addresses == ()  # nothing checked, nothing to connect to but the proxy
        with pytest.raises(Unresolvable, match="was not found"):  # without the proxy: refused as before
            resolve("https://hooks.example.invalid/services/T0", NOTHING, resolver=resolver)


def test_through_a_proxy_what_the_server_can_resolve_or_read_as_an_address_is_still_checked() -> None:
    with pytest.raises(Refused, match=r"leads to 127\.0\.0\.1, a non-public address \(loopback\)"):
        resolve("http://hooks.example.com/x", NOTHING, proxied=True, resolver=answers("127.0.0.1"))
    with pytest.raises(Refused, match=r"169\.254\.169\.254"):  # a literal is never looked up, never handed on
        resolve("http://169.254.169.254/latest/meta-data/", NOTHING, proxied=True, resolver=missing)
    relay = resolve(
        "http://relay.corp.example/", Allowed.of(["127.0.0.1"]), proxied=True, resolver=answers("127.0.0.1")
    )
    assert relay.addresses == ("127.0.0.1",)  # allowed, and connected to as checked


@pytest.mark.parametrize(
    "host",
    ["0x7f.1", "0x7f000001", "127.1", "2130706433", "localhost", "kb.localhost", "a_b.c%00", "x" * 64 + ".example"],
)
def test_through_a_proxy_an_address_spelling_or_a_malformed_name_is_not_handed_on(host: str) -> None:
    """Names a proxy's parser may read as an address, loopback names, and names that are not DNS names at all."""
    with pytest.raises(Unresolvable, match="was not found"):
        resolve(f"http://{host}/hook", NOTHING, proxied=True, resolver=missing)
