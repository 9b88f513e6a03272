"""Refuse env URLs that reach into the server's own network (PLATFORM_API.md 11.4).

The hosted check looks at literal hosts only; this one resolves the name and refuses
if any address it resolves to is loopback, private, link-local, reserved or multicast,
unless the server runs with ``--allow-local-endpoints``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def url_problem(url: str | None, field: str, *, allow_local: bool) -> str | None:
    """The hosted 422 message for ``url``, or None when it may be used."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https"):
        return f"{field} must be an http(s) URL"
    host = parts.hostname
    if not host:
        return f"{field} must include a hostname"
    if allow_local:
        return None
    if host.lower() in LOCAL_NAMES or host.lower().endswith(".localhost"):
        return f"{field} cannot target a local hostname"
    try:
        infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"{field} host '{host}' does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return f"{field} cannot target a private IP"
    return None
