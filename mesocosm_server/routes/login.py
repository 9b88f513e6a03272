"""The login server's exchange at the root (PLATFORM_API.md 2.2): csrf, login, jwt.

A CSRF cookie and header must match on login; the session is a signed cookie with its
own key, and ``/auth/jwt/`` turns it into a member token.
"""

from __future__ import annotations

import json
import secrets

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.deps import Db, Keys, Settings
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS
from mesocosm_server.security import (
    check_password,
    issue_member_token,
    issue_session,
    read_session,
)

router = APIRouter(prefix="/auth", tags=["login"], responses=ERRORS, route_class=SessionRoute)
SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"
SESSION_SECONDS = 14 * 24 * 3600


@router.get("/csrf/", response_model=schemas.CsrfAnswer)
def csrf(response: Response) -> schemas.CsrfAnswer:
    token = secrets.token_urlsafe(32)
    response.set_cookie(CSRF_COOKIE, token, samesite="lax")
    response.headers["X-CSRFToken"] = token
    return schemas.CsrfAnswer()


@router.post("/login/", response_model=schemas.Detail)
async def login(request: Request, response: Response, db: Db, keys: Keys) -> schemas.Detail:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or request.headers.get("x-csrftoken") != cookie:
        raise HTTPException(403, "CSRF Failed: CSRF token missing or incorrect.")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise HTTPException(400, "Request body must be JSON.") from exc
    body = body if isinstance(body, dict) else {}
    username = str(body.get("username") or "").strip()
    password = body.get("password")
    if not username or not password:
        raise HTTPException(400, "Please provide username and password.")
    user = db.scalar(select(models.User).where(models.User.username == username))
    if user is None or not check_password(user.password_hash, str(password)):
        raise HTTPException(400, "Invalid credentials.")
    response.set_cookie(SESSION_COOKIE, issue_session(keys, user.id, SESSION_SECONDS),
                        httponly=True, samesite="lax", max_age=SESSION_SECONDS)
    return schemas.Detail(detail="Successfully logged in.")


@router.get("/jwt/", response_model=schemas.JwtAnswer)
def member_jwt(request: Request, db: Db, keys: Keys, settings: Settings) -> schemas.JwtAnswer:
    user_id = read_session(keys, request.cookies.get(SESSION_COOKIE, ""))
    user = db.get(models.User, user_id) if user_id is not None else None
    if user is None:
        raise HTTPException(403, "Authentication credentials were not provided.")
    return schemas.JwtAnswer(
        token=issue_member_token(keys, user.id, user.username, settings.member_token_seconds)
    )
