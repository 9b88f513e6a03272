"""Domains (PLATFORM_API.md 4.5): registered with a remote endpoint, published, archived.

Better than hosted: every endpoint URL is checked (``sandbox`` mode too) after
resolving DNS, and a version's binding vow is frozen once runs exist on it: change the
version to change the vow.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.db import utcnow
from mesocosm_server.deps import AnyUser, Db, Member, Principal, Settings
from mesocosm_server.devenvs.records import may_use
from mesocosm_server.documents import domain_doc, list_items
from mesocosm_server.netcheck import url_problem
from mesocosm_server.paging import page
from mesocosm_server.route_class import SessionRoute
from mesocosm_server.routes import ERRORS

router = APIRouter(prefix="/v1/domains", tags=["domains"], responses=ERRORS,
                   route_class=SessionRoute)
Limit = Annotated[int, Query(ge=1, le=100)]


def get_domain(db: Session, domain_id: str) -> models.Domain:
    domain = db.get(models.Domain, domain_id)
    if domain is None:
        raise HTTPException(404, f"Domain '{domain_id}' not found")
    return domain


def _owned(db: Session, principal: Principal, domain_id: str) -> models.Domain:
    domain = get_domain(db, domain_id)
    if domain.owner_id != str(principal.user_id):
        raise HTTPException(403, "Not allowed to modify this domain")
    return domain


def _check(domain_id: str, vow: schemas.BindingVow | None, endpoint: schemas.Endpoint | None,
           settings: Settings) -> None:
    if vow is not None and vow.domain_id != domain_id:
        raise HTTPException(422, "binding_vow.domain_id must match domain id: "
                                 f"got {vow.domain_id}, expected {domain_id}")
    if endpoint is not None:
        problem = url_problem(endpoint.url, "endpoint.url",
                              allow_local=settings.allow_local_endpoints)
        if problem:
            raise HTTPException(422, problem)


def _data(body: schemas.DomainCreate) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude={"id"})


@router.post("", status_code=201, response_model=schemas.Domain)
def create_domain(body: schemas.DomainCreate, db: Db, principal: Member,
                  settings: Settings) -> schemas.Domain:
    if db.get(models.Domain, body.id) is not None:
        raise HTTPException(409, f"Domain '{body.id}' already exists")
    _check(body.id, body.binding_vow, body.endpoint, settings)
    domain = models.Domain(id=body.id, owner_id=str(principal.user_id), status="published",
                           data=_data(body), created_at=utcnow())
    db.add(domain)
    db.flush()
    return domain_doc(domain)


@router.get("", response_model=list[schemas.Domain])
def list_domains(db: Db, published: bool = False,
                 include_archived: bool = False) -> list[schemas.Domain]:
    query = select(models.Domain).order_by(models.Domain.created_at, models.Domain.id)
    if published:
        query = query.where(models.Domain.status == "published")
    elif not include_archived:
        query = query.where(models.Domain.status != "archived")
    return [domain_doc(d) for d in db.scalars(query)]


@router.get("/{domain_id}", response_model=schemas.Domain)
def get_one(domain_id: str, db: Db) -> schemas.Domain:
    return domain_doc(get_domain(db, domain_id))


@router.patch("/{domain_id}", response_model=schemas.Domain)
def patch_domain(domain_id: str, body: schemas.DomainUpdate, db: Db, principal: Member,
                 settings: Settings) -> schemas.Domain:
    domain = _owned(db, principal, domain_id)
    if domain.status != "draft":
        raise HTTPException(409, "Only draft domains can be updated")
    _check(domain_id, body.binding_vow, body.endpoint, settings)
    changes = body.model_dump(mode="json", exclude_none=True)
    old_vow = domain.data["binding_vow"]
    new_vow = changes.get("binding_vow")
    if new_vow is not None and new_vow != old_vow and new_vow["version"] == old_vow["version"]:
        runs = db.scalar(select(func.count()).select_from(models.Run).where(
            models.Run.domain_id == domain_id))
        if runs:
            raise HTTPException(
                409, f"Binding vow version {old_vow['version']} is frozen: runs exist on it; "
                     "give the changed vow a new version")
    domain.data = {**domain.data, **changes}
    domain.status = "published"
    return domain_doc(domain)


@router.post("/{domain_id}/publish", response_model=schemas.Domain)
def publish(domain_id: str, db: Db, principal: Member) -> schemas.Domain:
    domain = _owned(db, principal, domain_id)
    domain.status = "published"
    return domain_doc(domain)


@router.post("/{domain_id}/unpublish", response_model=schemas.Domain)
def unpublish(domain_id: str, db: Db, principal: Member) -> schemas.Domain:
    domain = _owned(db, principal, domain_id)
    if domain.status != "published":
        raise HTTPException(409, "Only published domains can be unpublished")
    domain.status = "draft"
    return domain_doc(domain)


@router.post("/{domain_id}/archive", response_model=schemas.Domain)
def archive(domain_id: str, db: Db, principal: Member) -> schemas.Domain:
    domain = _owned(db, principal, domain_id)
    if domain.status != "archived":
        domain.status = "archived"
        db.execute(update(models.Run).where(
            models.Run.domain_id == domain_id, models.Run.visibility == "gallery_public"
        ).values(visibility="private"))
    return domain_doc(domain)


@router.get("/{domain_id}/environments", response_model=list[dict[str, Any]])
def domain_environments(domain_id: str, db: Db, principal: Member) -> list[dict[str, Any]]:
    """The domain's developer environments the member may use (PLATFORM_API.md 4.5)."""
    get_domain(db, domain_id)
    rows = db.scalars(select(models.DeveloperEnvironment).where(
        models.DeveloperEnvironment.domain_id == domain_id)
        .order_by(models.DeveloperEnvironment.created_at.desc()))
    return [{"id": r.id, "name": r.name, "status": r.status, "domain_id": r.domain_id,
             "env_url": r.env_url, "scope": r.scope, "team_id": r.team_id}
            for r in rows if may_use(db, principal, r)]


@router.get("/{domain_id}/runs/mine", response_model=list[schemas.RunListItem])
def my_domain_runs(domain_id: str, db: Db, principal: AnyUser, limit: Limit = 20,
                   cursor: str | None = None,
                   created_before: str | None = None) -> list[schemas.RunListItem]:
    get_domain(db, domain_id)
    query = select(models.Run).where(
        models.Run.domain_id == domain_id, models.Run.actor_type == principal.kind,
        models.Run.actor_id == principal.actor_id)
    return list_items(db, page(db, query, limit=limit, cursor=cursor,
                               created_before=created_before))


@router.get("/{domain_id}/runs/gallery", response_model=list[schemas.RunListItem])
def gallery_domain_runs(domain_id: str, db: Db,
                        limit: Limit = 20) -> list[schemas.RunListItem]:
    get_domain(db, domain_id)
    query = select(models.Run).where(
        models.Run.domain_id == domain_id, models.Run.visibility == "gallery_public",
        models.Run.status == "completed")
    return list_items(db, page(db, query, limit=limit, cursor=None, created_before=None),
                      owned=set())
