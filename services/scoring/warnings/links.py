"""How entities hang together for the rules of one event: the entities at one address,
those of one legal representative within one city, declared relations, and which of a
set of entities is high-risk.

Every lookup goes through an index (entity_projection.address, .legal_representative,
relations' primary key and counterpart_code, facts.code, entity_classes' primary key),
because these run for every event in a province of a million entities.

"High-risk" is class D or on the serious-illegal-and-dishonest list. The two are never
told apart outside this module: the class is an internal reference (内部参考)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, case, func, or_, select, union
from sqlalchemy.orm import Session

from services.scoring.models import entity_classes, entity_projection, facts, relations
from shared.db import IN_LIST_CHUNK, chunks

HIGH_RISK_CLASS = "D"
ACTIVE = "active"
# Objects that are not registered bodies have no registration, address or representative
# that could cluster.
NOT_REGISTERED_BODIES = ("product", "project", "behaviour")
DISHONEST_KINDS = ("dishonest_listed", "dishonest_removed")

VIA_DECLARED = "declared_relation"
VIA_ADDRESS = "same_address"
VIA_LEGAL_REPRESENTATIVE = "same_legal_representative"

_COLUMNS = (
    entity_projection.c.code,
    entity_projection.c.region_code,
    entity_projection.c.status,
    entity_projection.c.entity_type,
    entity_projection.c.address,
    entity_projection.c.legal_representative,
    entity_projection.c.registered_on,
    entity_projection.c.licences,
)


@dataclass(frozen=True)
class EntityRef:
    code: str
    region_code: str
    status: str
    entity_type: str
    address: str | None
    legal_representative: str | None
    registered_on: date | None
    licences: tuple[str, ...]

    @classmethod
    def of(cls, row: Any) -> EntityRef:
        return cls(
            code=row.code,
            region_code=row.region_code,
            status=row.status,
            entity_type=row.entity_type,
            address=row.address or None,
            legal_representative=row.legal_representative or None,
            registered_on=row.registered_on,
            licences=tuple(row.licences or ()),
        )

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def city(self) -> str:
        """The city part of the region code (1405 for 140502): a legal representative's
        name identifies a person only within a city."""
        return self.region_code[:4]

    @property
    def registered_body(self) -> bool:
        return self.entity_type not in NOT_REGISTERED_BODIES


@dataclass(frozen=True)
class Link:
    """``entity`` is linked to the entity under evaluation ``via`` one of the VIA_*."""

    entity: EntityRef
    via: str


def peer_ref(e: EntityRef) -> dict[str, str]:
    """How another entity appears in a warning's details (its region lets the API hide
    it from officers outside that region's jurisdiction)."""
    return {"code": e.code, "region_code": e.region_code}


# The statements of the per-event path are built once, with bound parameters: they run on
# every event, and building a statement costs more Python time than running it.
_ENTITY = select(*_COLUMNS).where(entity_projection.c.code == bindparam("code"))
_DECLARED = select(*_COLUMNS).where(
    entity_projection.c.code.in_(
        union(
            select(relations.c.counterpart_code).where(
                relations.c.code == bindparam("code"), relations.c.counterpart_code.is_not(None)
            ),
            select(relations.c.code).where(relations.c.counterpart_code == bindparam("code")),
        )
    ),
    entity_projection.c.code != bindparam("code"),
)
_SAME_ADDRESS = entity_projection.c.address == bindparam("address")
# The city is 4 digits: nothing in it needs escaping for LIKE.
_SAME_PERSON = and_(
    entity_projection.c.legal_representative == bindparam("name"),
    entity_projection.c.region_code.startswith(bindparam("city")),
)
_REGISTERED = entity_projection.c.entity_type.not_in(NOT_REGISTERED_BODIES)
# An OR of the two indexed lookups (BitmapOr on PostgreSQL, MULTI-INDEX OR on SQLite).
_NEIGHBOURHOOD = {
    (True, True): select(*_COLUMNS).where(or_(_SAME_ADDRESS, _SAME_PERSON), _REGISTERED),
    (True, False): select(*_COLUMNS).where(_SAME_ADDRESS, _REGISTERED),
    (False, True): select(*_COLUMNS).where(_SAME_PERSON, _REGISTERED),
}


def entity(session: Session, code: str) -> EntityRef | None:
    row = session.execute(_ENTITY, {"code": code}).first()
    return EntityRef.of(row) if row is not None else None


def declared_counterparts(session: Session, code: str) -> list[EntityRef]:
    """Entities in a declared relation with ``code``, in either direction: a relation
    ties both ends, whichever of them declared it. One query (both indexes)."""
    return [EntityRef.of(r) for r in session.execute(_DECLARED, {"code": code})]


@dataclass(frozen=True)
class Neighbourhood:
    """The groups an entity belongs to, fetched once per event and shared by the rules."""

    at_address: list[EntityRef]
    same_legal_representative: list[EntityRef]


def neighbourhood(session: Session, e: EntityRef) -> Neighbourhood:
    """The registered bodies at ``e``'s address and those of its legal representative
    within its city, in one query."""
    key = (e.address is not None, e.legal_representative is not None)
    if not e.registered_body or key == (False, False):
        return Neighbourhood([], [])
    params = {"address": e.address, "name": e.legal_representative, "city": e.city}
    rows = [EntityRef.of(r) for r in session.execute(_NEIGHBOURHOOD[key], params)]
    return Neighbourhood(
        at_address=[r for r in rows if e.address and r.address == e.address],
        same_legal_representative=[
            r
            for r in rows
            if e.legal_representative
            and r.legal_representative == e.legal_representative
            and r.city == e.city
        ],
    )


def entities(session: Session, codes: Collection[str]) -> dict[str, EntityRef]:
    """``entity`` of each of ``codes`` that is projected, in one query per chunk."""
    found: dict[str, EntityRef] = {}
    for chunk in chunks(sorted(set(codes))):
        query = select(*_COLUMNS).where(entity_projection.c.code.in_(chunk))
        found.update((r.code, EntityRef.of(r)) for r in session.execute(query))
    return found


def declared_counterparts_of(
    session: Session, codes: Collection[str]
) -> dict[str, list[EntityRef]]:
    """``declared_counterparts`` of each of ``codes``, with one read of each direction."""
    wanted = sorted(set(codes))
    pairs: set[tuple[str, str]] = set()
    r = relations.c
    for chunk in chunks(wanted):
        forward = select(r.code, r.counterpart_code).where(
            r.code.in_(chunk), r.counterpart_code.is_not(None)
        )
        backward = select(r.counterpart_code, r.code).where(r.counterpart_code.in_(chunk))
        pairs.update((a, b) for a, b in session.execute(forward) if a != b)
        pairs.update((a, b) for a, b in session.execute(backward) if a != b)
    refs = entities(session, {b for _, b in pairs})
    out: dict[str, list[EntityRef]] = {c: [] for c in wanted}
    for a, b in sorted(pairs):
        if b in refs:
            out[a].append(refs[b])
    return out


def neighbourhoods(session: Session, refs: Collection[EntityRef]) -> dict[str, Neighbourhood]:
    """``neighbourhood`` of each of ``refs``, from one query per chunk of them."""
    askers = [
        e
        for e in refs
        if e.registered_body and (e.address is not None or e.legal_representative is not None)
    ]
    by_address: dict[str, list[EntityRef]] = {}
    by_person: dict[tuple[str, str], list[EntityRef]] = {}
    p = entity_projection.c
    for chunk in chunks(askers, IN_LIST_CHUNK // 2):  # two lists bound per chunk
        addresses = sorted({e.address for e in chunk if e.address})
        names = sorted({e.legal_representative for e in chunk if e.legal_representative})
        query = select(*_COLUMNS).where(
            or_(p.address.in_(addresses), p.legal_representative.in_(names)), _REGISTERED
        )
        for row in session.execute(query):
            ref = EntityRef.of(row)
            if ref.address:
                by_address.setdefault(ref.address, []).append(ref)
            if ref.legal_representative:
                by_person.setdefault((ref.legal_representative, ref.city), []).append(ref)
    out = {e.code: Neighbourhood([], []) for e in refs}
    for e in askers:
        # Each row once per group even where chunks asked for the same address twice.
        at = {r.code: r for r in by_address.get(e.address, [])} if e.address else {}
        person = (
            by_person.get((e.legal_representative, e.city), []) if e.legal_representative else []
        )
        out[e.code] = Neighbourhood(list(at.values()), list({r.code: r for r in person}.values()))
    return out


def links_of(
    session: Session,
    e: EntityRef,
    hood: Neighbourhood,
    *,
    declared: bool = True,
    address: bool = True,
    legal_representative: bool = True,
    counterparts: list[EntityRef] | None = None,
) -> list[Link]:
    """The links of ``e`` by the ways asked for; ``counterparts``: its declared ones, if
    read already (``declared_counterparts_of``)."""
    out: list[Link] = []
    if declared:
        if counterparts is None:
            counterparts = declared_counterparts(session, e.code)
        out += [Link(p, VIA_DECLARED) for p in counterparts]
    if address:
        out += [Link(p, VIA_ADDRESS) for p in hood.at_address if p.code != e.code]
    if legal_representative:
        out += [
            Link(p, VIA_LEGAL_REPRESENTATIVE)
            for p in hood.same_legal_representative
            if p.code != e.code
        ]
    return out


def high_risk_codes(as_of: Any, among: Any = None, *, listings: Any = None) -> Select[Any]:
    """The codes that are class D or on the serious-dishonest list on ``as_of`` (of
    ``among``, or all of them). One definition for the hooks and the monthly scan;
    ``listings`` may stand in for the facts table (the scan passes its listing facts).

    On the list: the latest listing is later than any removal; a removal on the day of
    a listing ends it (a removal needs a standing listing), as in the classifier."""
    f = facts if listings is None else listings
    listed = func.max(case((f.c.kind == "dishonest_listed", f.c.occurred_on)))
    removed = func.max(case((f.c.kind == "dishonest_removed", f.c.occurred_on)))
    dishonest = (
        select(f.c.code)
        .where(f.c.kind.in_(DISHONEST_KINDS), f.c.occurred_on <= as_of)
        .group_by(f.c.code)
        .having(and_(listed.is_not(None), or_(removed.is_(None), listed > removed)))
    )
    d_class = select(entity_classes.c.code).where(entity_classes.c.risk_class == HIGH_RISK_CLASS)
    if among is not None:
        dishonest = dishonest.where(f.c.code.in_(among))
        d_class = d_class.where(entity_classes.c.code.in_(among))
    return union(d_class, dishonest)  # type: ignore[return-value]


# Built once: the hooks run it on every event, and building the statement costs more
# Python time than running it.
_HIGH_RISK_AMONG = high_risk_codes(
    bindparam("as_of", type_=Date), bindparam("codes", expanding=True)
)


def high_risk_among(session: Session, codes: Collection[str], *, as_of: date) -> set[str]:
    """The codes of ``codes`` that are high-risk now (indexed by code in both tables)."""
    found: set[str] = set()
    # The codes are bound twice (classes and facts): half a chunk keeps under the limit.
    for chunk in chunks(sorted(set(codes)), IN_LIST_CHUNK // 2):
        params = {"as_of": as_of, "codes": list(chunk)}
        found.update(session.execute(_HIGH_RISK_AMONG, params).scalars())
    return found
