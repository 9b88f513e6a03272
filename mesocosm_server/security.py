"""Signing keys, tokens and password hashes.

Member and guest tokens carry the hosted claims (PLATFORM_API.md 2.3, 2.4) so clients
read them the same, but unlike the hosted service each kind is signed with its own key
(derived from one secret kept 0600 beside the database) and carries a checked ``aud``
and ``type``: a guest token can never pass as a member token, nor the reverse.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MEMBER_AUDIENCE = "mesocosm-member"
GUEST_AUDIENCE = "mesocosm-guest"
GUEST_TYPE = "bench_guest"
SESSION_AUDIENCE = "mesocosm-login-session"
_hasher = PasswordHasher()


def load_or_create_secret(path: Path) -> bytes:
    """The server's secret: read it, or make one and keep it readable by the owner only."""
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex())
    return secret


@dataclass(frozen=True)
class TokenKeys:
    """One key per token kind, derived from the server secret."""

    member: bytes
    guest: bytes
    session: bytes  # the login server's session cookie

    @classmethod
    def from_secret(cls, secret: bytes) -> TokenKeys:
        def derive(label: bytes) -> bytes:
            return hmac.new(secret, label, hashlib.sha256).digest()

        return cls(member=derive(b"member-token"), guest=derive(b"guest-token"),
                   session=derive(b"login-session"))


def issue_member_token(keys: TokenKeys, user_id: int, username: str, lifetime: int) -> str:
    claims = {"user_id": user_id, "username": username, "groups": ["is_authenticated"],
              "exp": int(time.time()) + lifetime, "aud": MEMBER_AUDIENCE, "type": "member"}
    return jwt.encode(claims, keys.member, algorithm="HS256")


def issue_guest_token(keys: TokenKeys, session_id: str, expires: int) -> str:
    claims = {"type": GUEST_TYPE, "guest_session_id": session_id, "exp": expires,
              "aud": GUEST_AUDIENCE}
    return jwt.encode(claims, keys.guest, algorithm="HS256")


def _decode(token: str, key: bytes, audience: str) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=["HS256"], audience=audience,
            options={"require": ["exp", "aud", "type"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


def read_member_token(keys: TokenKeys, token: str) -> dict[str, Any] | None:
    claims = _decode(token, keys.member, MEMBER_AUDIENCE)
    if claims is None or claims.get("type") != "member":
        return None
    if not isinstance(claims.get("user_id"), int) or not isinstance(claims.get("username"), str):
        return None
    return claims


def read_guest_token(keys: TokenKeys, token: str) -> str | None:
    """The guest session id the token names, or None."""
    claims = _decode(token, keys.guest, GUEST_AUDIENCE)
    if claims is None or claims.get("type") != GUEST_TYPE:
        return None
    session_id = claims.get("guest_session_id")
    return session_id if isinstance(session_id, str) else None


def issue_session(keys: TokenKeys, user_id: int, lifetime: int) -> str:
    claims = {"user_id": user_id, "exp": int(time.time()) + lifetime,
              "aud": SESSION_AUDIENCE, "type": "session"}
    return jwt.encode(claims, keys.session, algorithm="HS256")


def read_session(keys: TokenKeys, token: str) -> int | None:
    """The user id a login session cookie names, or None."""
    claims = _decode(token, keys.session, SESSION_AUDIENCE)
    if claims is None or claims.get("type") != "session":
        return None
    user_id = claims.get("user_id")
    return user_id if isinstance(user_id, int) else None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
