from __future__ import annotations

from fastapi import APIRouter, status

from services.registry.tags import service
from services.registry.tags.schemas import TagCreate, TagRead, TagRuleCreate, TagRuleRead
from shared.access import DirectoryReader, DirectoryWriter
from shared.app import OutboxDep, SessionDep
from shared.auth import ensure_province_level
from shared.validation import StoredId

router = APIRouter(prefix="/v1/tags", tags=["tags · 标签"])


@router.get(
    "", response_model=list[TagRead], summary="Tags with the number of objects carrying each"
)
def list_tags(session: SessionDep, principal: DirectoryReader) -> list[TagRead]:
    """The province's tag list; each count covers the caller's jurisdiction only."""
    return service.list_tags(session, principal.region_prefix)


@router.post(
    "", response_model=TagRead, status_code=status.HTTP_201_CREATED, summary="Create a tag"
)
def create_tag(body: TagCreate, session: SessionDep, principal: DirectoryWriter) -> TagRead:
    """The tag list is the province's: kept by province-level clerks."""
    ensure_province_level(principal)
    return service.create_tag(session, body)


@router.get("/rules", response_model=list[TagRuleRead], summary="Tag rules")
def list_rules(session: SessionDep, _: DirectoryReader) -> list[TagRuleRead]:
    return service.list_rules(session)


@router.post(
    "/rules",
    response_model=TagRuleRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a rule (industry prefixes and/or licence kinds → tag) and apply it now",
)
def create_rule(
    body: TagRuleCreate, session: SessionDep, outbox: OutboxDep, principal: DirectoryWriter
) -> TagRuleRead:
    """A rule tags objects across the province, so only province-level clerks set one."""
    ensure_province_level(principal)
    return service.create_rule(session, outbox, body)


@router.delete(
    "/rules/{rule_id}", response_model=TagRuleRead, summary="Deactivate a rule and untag"
)
def deactivate_rule(
    rule_id: StoredId, session: SessionDep, outbox: OutboxDep, principal: DirectoryWriter
) -> TagRuleRead:
    ensure_province_level(principal)
    return service.deactivate_rule(session, outbox, rule_id)
