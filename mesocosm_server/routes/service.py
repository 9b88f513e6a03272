"""``/health`` and ``/``: what ``mesocosm doctor`` probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mesocosm_platform import schemas
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.version import API_VERSION

router = APIRouter(tags=["service"], route_class=SessionRoute)


@router.get("/health", response_model=schemas.Service)
def health() -> schemas.Service:
    return schemas.Service(status="ok", version=API_VERSION)


@router.get("/", response_model=dict[str, Any])
def root(request: Request) -> dict[str, Any]:
    prefix = request.scope.get("root_path", "")
    return {"service": "BenchAnything", "version": API_VERSION, "docs": f"{prefix}/docs",
            "redoc": f"{prefix}/redoc", "health": f"{prefix}/health"}
