"""``GET /v1/techniques`` and ``/v1/techniques/{id}`` (PLATFORM_API.md 4.7), public: the
engine's catalogue, the techniques a run may ask for in ``agent_config.techniques``.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from mesocosm_platform import schemas
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS
from pytest_mesocosm.agents.techniques import CATALOGUE, Technique

router = APIRouter(prefix="/v1/techniques", tags=["techniques"], responses=ERRORS,
                   route_class=SessionRoute)


def _doc(technique: Technique) -> schemas.Technique:
    return schemas.Technique(id=technique.id, version=technique.version,
                             description=technique.description,
                             config_schema=technique.config_schema)


@router.get("", response_model=list[schemas.Technique])
def techniques() -> list[schemas.Technique]:
    return [_doc(t) for t in CATALOGUE.values()]


@router.get("/{technique_id}", response_model=schemas.Technique)
def technique(technique_id: str) -> schemas.Technique:
    found = CATALOGUE.get(technique_id)
    if found is None:
        raise HTTPException(404, f"Technique '{technique_id}' not found")
    return _doc(found)
