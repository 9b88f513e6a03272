"""Domains: register at a remote endpoint, the hosted messages, publish/unpublish/archive,
the endpoint check that resolves names, the vow frozen once runs exist.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import httpx
import pytest
from platform_kit import Platform, wordle_domain

from mesocosm_server.netcheck import url_problem


@pytest.fixture(scope="module")
def alice(platform: Platform) -> Iterator[httpx.Client]:
    with platform.client(platform.login("alice")) as client:
        yield client


def test_create_get_and_list(alice: httpx.Client, platform: Platform) -> None:
    created = alice.post("/v1/domains", json=wordle_domain("dom-a", "http://127.0.0.1:9"))
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "published" and body["owner_id"] == "1"
    assert body["pricing"] == "free" and body["tags"] == [] and body["has_gold_benchmark"] is False
    assert httpx.get(f"{platform.bench}/v1/domains/dom-a").json() == body
    assert "dom-a" in [d["id"] for d in httpx.get(f"{platform.bench}/v1/domains").json()]
    again = alice.post("/v1/domains", json=wordle_domain("dom-a", "http://127.0.0.1:9"))
    assert (again.status_code, again.json()) == (409, {"detail": "Domain 'dom-a' already exists"})
    missing = httpx.get(f"{platform.bench}/v1/domains/nope")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Domain 'nope' not found"})


def test_vow_domain_id_must_match(alice: httpx.Client) -> None:
    body = wordle_domain("dom-b", "http://127.0.0.1:9")
    body["binding_vow"]["domain_id"] = "other"
    answer = alice.post("/v1/domains", json=body)
    assert (answer.status_code, answer.json()) == (422, {
        "detail": "binding_vow.domain_id must match domain id: got other, expected dom-b"})


def test_life_cycle_and_owner_guard(alice: httpx.Client, platform: Platform) -> None:
    alice.post("/v1/domains", json=wordle_domain("dom-c", "http://127.0.0.1:9"))
    assert alice.post("/v1/domains/dom-c/unpublish").json()["status"] == "draft"
    again = alice.post("/v1/domains/dom-c/unpublish")
    assert (again.status_code, again.json()) == (
        409, {"detail": "Only published domains can be unpublished"})
    patched = alice.patch("/v1/domains/dom-c", json={"detail": "now with detail", "name": None})
    assert patched.json()["detail"] == "now with detail"
    assert patched.json()["status"] == "published"  # PATCH publishes again, as hosted
    locked = alice.patch("/v1/domains/dom-c", json={"detail": "x"})
    assert (locked.status_code, locked.json()) == (
        409, {"detail": "Only draft domains can be updated"})
    with platform.client(platform.login("bob")) as bob:
        denied = bob.post("/v1/domains/dom-c/archive")
    assert (denied.status_code, denied.json()) == (
        403, {"detail": "Not allowed to modify this domain"})
    assert alice.post("/v1/domains/dom-c/archive").json()["status"] == "archived"
    listed = [d["id"] for d in httpx.get(f"{platform.bench}/v1/domains").json()]
    assert "dom-c" not in listed
    listed = [d["id"] for d in httpx.get(f"{platform.bench}/v1/domains",
                                         params={"include_archived": "true"}).json()]
    assert "dom-c" in listed


def test_vow_is_frozen_once_runs_exist(alice: httpx.Client) -> None:
    alice.post("/v1/domains", json=wordle_domain("dom-d", "http://127.0.0.1:9"))
    run = alice.post("/v1/runs", json={"domain_id": "dom-d", "binding_vow_version": "1.0.0",
                                       "agent_config": {"model": "script:x.py:f"}})
    assert run.status_code == 202
    alice.post("/v1/domains/dom-d/unpublish")
    vow = wordle_domain("dom-d", "http://127.0.0.1:9")["binding_vow"]
    frozen = alice.patch("/v1/domains/dom-d", json={"binding_vow": {**vow, "description": "x"}})
    assert frozen.status_code == 409
    assert frozen.json()["detail"].startswith("Binding vow version 1.0.0 is frozen")
    bumped = alice.patch("/v1/domains/dom-d", json={
        "binding_vow": {**vow, "version": "1.1.0", "description": "x"}})
    assert bumped.status_code == 200
    assert bumped.json()["binding_vow"]["version"] == "1.1.0"


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com", "endpoint.url must be an http(s) URL"),
    ("http://", "endpoint.url must include a hostname"),
    ("http://localhost:8000", "endpoint.url cannot target a local hostname"),
    ("http://127.0.0.1:8000", "endpoint.url cannot target a private IP"),
    ("http://10.1.2.3", "endpoint.url cannot target a private IP"),
    ("http://169.254.169.254/latest", "endpoint.url cannot target a private IP"),
])
def test_endpoint_url_messages(url: str, message: str) -> None:
    assert url_problem(url, "endpoint.url", allow_local=False) == message
    if message.startswith("endpoint.url cannot"):
        assert url_problem(url, "endpoint.url", allow_local=True) is None


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    """The machine's own host name is no literal IP, yet resolves to one of its addresses."""
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    if all(ipaddress.ip_address(a).is_global for a in addresses):
        pytest.fail(f"host name {name} resolves to public {addresses}; pick another name")
    assert url_problem(f"http://{name}:8000", "endpoint.url", allow_local=False) == (
        "endpoint.url cannot target a private IP")


def test_refused_endpoint_over_http(alice: httpx.Client) -> None:
    answer = alice.post("/v1/domains", json=wordle_domain("dom-e", "http://10.0.0.1:80"))
    # the server under test runs with --allow-local-endpoints: private addresses pass
    assert answer.status_code == 201
    answer = alice.post("/v1/domains", json=wordle_domain("dom-f", "file:///etc/passwd"))
    assert (answer.status_code, answer.json()) == (
        422, {"detail": "endpoint.url must be an http(s) URL"})
