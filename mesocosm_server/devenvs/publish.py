"""The last step of onboarding: the manifest becomes the environment's domain
(PLATFORM_API.md 4.4 step 4-5), created, or updated on a resubmission.

A resubmission with a new vow version appends a ``version_history`` entry and makes the
new version the one runs are created on; runs made on the old version keep their rows,
episodes, traces and export. The same version with a different vow is refused once runs
exist on it, as ``PATCH /v1/domains`` refuses it: the vow of a version is frozen.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mesocosm_platform import schemas
from mesocosm_server import models
from mesocosm_server.db import utcnow
from mesocosm_server.devenvs.steps import StepFailed

RESUBMITTED = "Environment resubmitted from GitHub"


def _document(env: models.DeveloperEnvironment, domain_id: str, manifest: dict[str, Any],
              url: str, old: dict[str, Any] | None) -> dict[str, Any]:
    vow = {**manifest["binding_vow"], "id": f"{domain_id}-vow", "domain_id": domain_id}
    history = list((old or {}).get("version_history") or [])
    old_version = ((old or {}).get("binding_vow") or {}).get("version")
    if old is not None and old_version != vow.get("version"):
        history.append({"version": vow.get("version"), "date": date.today().isoformat(),
                        "changes": RESUBMITTED})
    body = {
        **{k: v for k, v in (old or {}).items() if k in ("tags", "pricing", "image_url",
                                                          "profile_picture_url",
                                                          "has_gold_benchmark")},
        "id": domain_id, "name": manifest.get("name") or env.name, "binding_vow": vow,
        "endpoint": {"mode": "sandbox", "url": url}, "scoring": manifest["scoring"],
        "detail": manifest.get("description") or env.description,
        "version_history": history,
    }
    try:
        checked = schemas.DomainCreate.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise StepFailed(f"Domain creation failed: {problems}") from None
    return checked.model_dump(mode="json", exclude={"id"})


def publish_domain(db: Session, env: models.DeveloperEnvironment, manifest: dict[str, Any],
                   url: str) -> str:
    """Create or update the env's domain, published; its id."""
    domain = db.get(models.Domain, env.domain_id) if env.domain_id else None
    domain_id = domain.id if domain is not None else (env.domain_id or str(uuid.uuid4()))
    data = _document(env, domain_id, manifest, url, domain.data if domain else None)
    if domain is None:
        db.add(models.Domain(id=domain_id, owner_id=str(env.created_by_user_id),
                             status="published", data=data, created_at=utcnow()))
        db.flush()  # the env row points at it
        return domain_id
    old_vow, new_vow = domain.data["binding_vow"], data["binding_vow"]
    if old_vow["version"] == new_vow["version"] and old_vow != new_vow:
        runs = db.scalar(select(func.count()).select_from(models.Run).where(
            models.Run.domain_id == domain_id))
        if runs:
            raise StepFailed(f"Binding vow version {old_vow['version']} is frozen: runs exist "
                             "on it; give the changed vow a new version")
    domain.data = data
    domain.status = "published"
    return domain_id
