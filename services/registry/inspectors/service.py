"""Reading, searching and changing inspectors. Writes go through the writer; every read is
limited to the caller's jurisdiction through the inspector's region."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session

from services.registry.inspectors.schemas import InspectorCreate, InspectorRead, InspectorUpdate
from services.registry.inspectors.writer import InspectorOutcome, content_hash, write_inspectors
from services.registry.models import Inspector
from shared.auth import Principal, ensure_covers, region_prefix
from shared.errors import Conflict, NotFound
from shared.outbox import Outbox
from shared.workdays import china_today


@dataclass(frozen=True)
class InspectorFilter:
    region: str | None = None
    department: str | None = None
    specialty: str | None = None
    status: str | None = None
    professional: bool | None = None
    certificate_valid: bool | None = None


def certificate_valid(expires_on: date | None, today: date) -> bool:
    """Valid through its expiry day. Expiry is optional in the directory, and an inspector
    whose expiry was never recorded is not treated as expired."""
    return expires_on is None or expires_on >= today


def apply_filter(query: Select, f: InspectorFilter, principal: Principal, today: date) -> Select:
    query = query.where(Inspector.region_code.startswith(principal.region_prefix, autoescape=True))
    if f.region:
        query = query.where(
            Inspector.region_code.startswith(region_prefix(f.region), autoescape=True)
        )
    if f.department:
        query = query.where(Inspector.department == f.department.strip())
    if f.specialty:
        # JSON arrays of vocabulary keys: matching the quoted key works on SQLite and
        # PostgreSQL alike (keys are plain ASCII words, never escaped in JSON).
        query = query.where(cast(Inspector.specialties, String).like(f'%"{f.specialty}"%'))
    if f.status:
        query = query.where(Inspector.status == f.status)
    if f.professional is not None:
        query = query.where(Inspector.is_professional.is_(f.professional))
    if f.certificate_valid is True:
        query = query.where(
            or_(
                Inspector.certificate_expires_on.is_(None),
                Inspector.certificate_expires_on >= today,
            )
        )
    elif f.certificate_valid is False:
        query = query.where(Inspector.certificate_expires_on < today)
    return query


def search(
    session: Session, *, principal: Principal, f: InspectorFilter, after: str | None, limit: int
) -> tuple[list[InspectorRead], str | None]:
    """Keyset pagination on the certificate number."""
    today = china_today()
    query = apply_filter(select(Inspector), f, principal, today).order_by(Inspector.certificate_no)
    if after:
        query = query.where(Inspector.certificate_no > after)
    rows = list(session.execute(query.limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return [to_read(r, today) for r in rows], (rows[-1].certificate_no if more and rows else None)


def to_read(r: Inspector, today: date | None = None) -> InspectorRead:
    valid = certificate_valid(r.certificate_expires_on, today or china_today())
    return InspectorRead(
        certificate_no=r.certificate_no,
        name=r.name,
        department=r.department,
        region_code=r.region_code,
        certificate_expires_on=r.certificate_expires_on,
        specialties=r.specialties,
        status=r.status,
        is_professional=r.is_professional,
        avoid_entities=r.avoid_entities,
        avoid_regions=r.avoid_regions,
        avoid_persons=r.avoid_persons,
        certificate_valid=valid,
        can_act_alone=r.status == "on_duty" and valid and not r.is_professional,
        version=r.version,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _get(session: Session, certificate_no: str, principal: Principal) -> Inspector:
    inspector = session.get(Inspector, certificate_no.strip(), populate_existing=True)
    if inspector is None:
        raise NotFound(
            f"未找到执法证号为 {certificate_no} 的人员",
            message_en=f"no inspector with certificate {certificate_no}",
            field="certificate_no",
        )
    ensure_covers(principal, inspector.region_code)
    return inspector


def get_inspector(session: Session, certificate_no: str, principal: Principal) -> InspectorRead:
    return to_read(_get(session, certificate_no, principal))


def create_inspector(
    session: Session, outbox: Outbox, *, item: InspectorCreate, principal: Principal
) -> tuple[InspectorRead, bool]:
    """Add an inspector. Posting exactly what is held again is a no-op (returns False);
    posting other content under a held certificate number is a conflict — use PATCH."""
    ensure_covers(principal, item.region_code)
    held = session.get(Inspector, item.certificate_no)
    if held is not None:
        ensure_covers(principal, held.region_code)
        if held.content_hash != content_hash(item):
            raise Conflict(
                f"执法证号 {item.certificate_no} 已存在且内容不同，请用 PATCH 修改",
                message_en=f"inspector {item.certificate_no} exists with other content; use PATCH",
                field="certificate_no",
            )
    outcome = _write(session, outbox, item)
    return get_inspector(session, item.certificate_no, principal), outcome.action == "created"


def update_inspector(
    session: Session,
    outbox: Outbox,
    *,
    certificate_no: str,
    patch: InspectorUpdate,
    principal: Principal,
) -> InspectorRead:
    current = get_inspector(session, certificate_no, principal)
    merged = InspectorCreate.model_validate(
        {
            **current.model_dump(include=set(InspectorCreate.model_fields)),
            **patch.model_dump(exclude_unset=True),
        }
    )
    ensure_covers(principal, merged.region_code)
    _write(session, outbox, merged)
    return get_inspector(session, merged.certificate_no, principal)


def change_status(
    session: Session, outbox: Outbox, *, certificate_no: str, status: str, principal: Principal
) -> InspectorRead:
    return update_inspector(
        session,
        outbox,
        certificate_no=certificate_no,
        patch=InspectorUpdate(status=status),
        principal=principal,
    )


def _write(session: Session, outbox: Outbox, item: InspectorCreate) -> InspectorOutcome:
    outcome = write_inspectors(session, outbox, [item])[0]
    session.flush()
    session.expire_all()
    return outcome
