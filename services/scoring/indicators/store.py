"""Indicator models in the store: the shipped files are version 1; every change through
the API is a new version (old ones kept, one active per model), recorded in the audit log
by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.scoring.classify.engine import ModelSet
from services.scoring.indicators.spec import ModelSpec
from services.scoring.models import indicator_models
from shared.errors import Conflict, NotFound

SHIPPED = Path(__file__).parent / "files"
_T = indicator_models.c


@dataclass(frozen=True)
class StoredModel:
    spec: ModelSpec
    version: int
    active: bool
    created_at: datetime
    created_by: str
    note: str | None


def shipped_models() -> list[ModelSpec]:
    return [
        ModelSpec.model_validate(orjson.loads(p.read_bytes()))
        for p in sorted(SHIPPED.glob("*.json"))
    ]


def seed_shipped(session: Session) -> int:
    """Store each shipped model that the store does not know yet, as version 1."""
    known = set(session.execute(select(_T.model_id).distinct()).scalars())
    added = 0
    for spec in shipped_models():
        if spec.model_id not in known:
            _insert(session, spec, version=1, actor="system", note="随系统发布 (shipped)")
            added += 1
    return added


def _insert(
    session: Session, spec: ModelSpec, *, version: int, actor: str, note: str | None
) -> None:
    session.execute(
        indicator_models.insert().values(
            model_id=spec.model_id,
            version=version,
            spec=spec.model_dump(mode="json"),
            active=True,
            created_at=datetime.now(UTC),
            created_by=actor,
            note=note,
        )
    )


# Parsed active models, keyed by the ids of the active rows: the consumer reclassifies on
# every event, and parsing four JSON specs each time would be most of its work.
_cache: dict[tuple[object, ...], ModelSet] = {}


def active_models(session: Session) -> ModelSet:
    rows = session.execute(
        select(_T.id, _T.model_id, _T.version).where(_T.active).order_by(_T.id)
    ).all()
    ids = [r.id for r in rows]
    key = (str(session.get_bind().engine.url), *ids)
    if key not in _cache:
        specs = {
            r.model_id: ModelSpec.model_validate(r.spec)
            for r in session.execute(select(_T.model_id, _T.spec).where(_T.id.in_(ids)))
        }
        _cache.clear()
        _cache[key] = ModelSet(
            general=tuple(s for s in specs.values() if s.kind == "general"),
            professional=tuple(s for s in specs.values() if s.kind == "professional"),
            versions={r.model_id: r.version for r in rows},
        )
    return _cache[key]


def _stored(row: object) -> StoredModel:
    return StoredModel(
        spec=ModelSpec.model_validate(row.spec),  # type: ignore[attr-defined]
        version=row.version,  # type: ignore[attr-defined]
        active=row.active,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        created_by=row.created_by,  # type: ignore[attr-defined]
        note=row.note,  # type: ignore[attr-defined]
    )


def list_active(session: Session) -> list[StoredModel]:
    rows = session.execute(select(indicator_models).where(_T.active).order_by(_T.model_id))
    return [_stored(r) for r in rows]


def versions(session: Session, model_id: str) -> list[StoredModel]:
    rows = session.execute(
        select(indicator_models).where(_T.model_id == model_id).order_by(_T.version)
    ).all()
    if not rows:
        raise NotFound(
            f"未找到指标模型 {model_id}", message_en=f"no model {model_id}", field="model_id"
        )
    return [_stored(r) for r in rows]


def get(session: Session, model_id: str, version: int | None = None) -> StoredModel:
    all_versions = versions(session, model_id)
    if version is None:
        return next(m for m in all_versions if m.active)
    for m in all_versions:
        if m.version == version:
            return m
    raise NotFound(
        f"指标模型 {model_id} 没有第 {version} 版",
        message_en=f"model {model_id} has no version {version}",
        field="version",
    )


def save_new_version(
    session: Session, spec: ModelSpec, *, actor: str, note: str | None, base_version: int
) -> StoredModel:
    """Store ``spec`` as the next version and make it active. ``base_version`` is the
    version the editor started from: if someone saved another meanwhile, refuse (409)
    rather than silently overwrite their change."""
    current = get(session, spec.model_id)
    if current.spec.kind != spec.kind:
        raise Conflict("不能改变模型类型", message_en="a model's kind cannot change", field="kind")
    if base_version != current.version:
        raise Conflict(
            f"模型已被他人修改为第 {current.version} 版，请在最新版本上修改",
            message_en=f"model changed meanwhile (now version {current.version})",
            field="base_version",
        )
    latest = session.execute(
        select(func.max(_T.version)).where(_T.model_id == spec.model_id)
    ).scalar_one()
    session.execute(
        update(indicator_models).where(_T.model_id == spec.model_id).values(active=False)
    )
    _insert(session, spec, version=latest + 1, actor=actor, note=note)
    return get(session, spec.model_id)


def activate(session: Session, model_id: str, version: int) -> StoredModel:
    """Make an older version active again (a rollback keeps every version)."""
    get(session, model_id, version)
    session.execute(update(indicator_models).where(_T.model_id == model_id).values(active=False))
    session.execute(
        update(indicator_models)
        .where((_T.model_id == model_id) & (_T.version == version))
        .values(active=True)
    )
    return get(session, model_id)
