"""Indicator models (指标体系): read by credit officers, changed by province-level ones.
Every change is a new version (old ones kept) and goes to the audit log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.scoring.audit import log as audit
from services.scoring.indicators import store
from services.scoring.indicators.spec import ModelSpec
from shared.access import CreditOfficer
from shared.app import SessionDep
from shared.auth import ensure_province_level
from shared.errors import InvalidInput
from shared.validation import StoredId

router = APIRouter(prefix="/v1/models", tags=["models · 指标体系"])


class ModelRead(BaseModel):
    model_id: str
    version: int
    active: bool
    created_at: datetime
    created_by: str
    note: str | None
    spec: ModelSpec


class ModelChange(BaseModel):
    base_version: StoredId = Field(description="the version this edit started from")
    note: str = Field(min_length=1, max_length=500, description="why (记录修改原因)")
    spec: ModelSpec


class Activation(BaseModel):
    version: StoredId
    note: str = Field(min_length=1, max_length=500)


def _read(m: store.StoredModel) -> ModelRead:
    return ModelRead(
        model_id=m.spec.model_id,
        version=m.version,
        active=m.active,
        created_at=m.created_at,
        created_by=m.created_by,
        note=m.note,
        spec=m.spec,
    )


@router.get("", response_model=list[ModelRead], summary="Active models")
def list_models(session: SessionDep, principal: CreditOfficer) -> list[ModelRead]:
    return [_read(m) for m in store.list_active(session)]


@router.get("/{model_id}", response_model=ModelRead, summary="A model (active version)")
def read_model(model_id: str, session: SessionDep, principal: CreditOfficer) -> ModelRead:
    return _read(store.get(session, model_id))


@router.get("/{model_id}/versions", response_model=list[ModelRead], summary="Every version")
def list_versions(model_id: str, session: SessionDep, principal: CreditOfficer) -> list[ModelRead]:
    return [_read(m) for m in store.versions(session, model_id)]


@router.put("/{model_id}", response_model=ModelRead, summary="Save a new version and activate it")
def change_model(
    model_id: str, body: ModelChange, session: SessionDep, principal: CreditOfficer
) -> ModelRead:
    ensure_province_level(principal)
    if body.spec.model_id != model_id:
        raise InvalidInput(
            "模型编号与路径不一致",
            message_en="spec.model_id differs from the path",
            field="spec.model_id",
        )
    before = store.get(session, model_id)
    saved = store.save_new_version(
        session, body.spec, actor=principal.subject, note=body.note, base_version=body.base_version
    )
    audit.record(
        session,
        principal,
        "change_model",
        model_id,
        {"from_version": before.version, "to_version": saved.version, "note": body.note},
    )
    return _read(saved)


@router.post("/{model_id}/activate", response_model=ModelRead, summary="Re-activate a version")
def activate(
    model_id: str, body: Activation, session: SessionDep, principal: CreditOfficer
) -> ModelRead:
    ensure_province_level(principal)
    before = store.get(session, model_id)
    saved = store.activate(session, model_id, body.version)
    audit.record(
        session,
        principal,
        "activate_model",
        model_id,
        {"from_version": before.version, "to_version": saved.version, "note": body.note},
    )
    return _read(saved)
