"""The feature frame: every feature an indicator can read, for a population of entities
as of one day, in numpy columns. The monthly run builds it for everyone; incremental
reclassification builds it for one entity and the entities it relates to, with the same
code, so both give the same class for the same facts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, get_args

import numpy as np
import orjson
from sqlalchemy import Connection, Text, cast, or_, select

from services.scoring.features.facts import latest_due_report_year
from services.scoring.indicators.spec import FactKind
from services.scoring.models import annual_reports, entity_projection, facts, relations

# Kinds kept in the facts table, as small integers in the frame: those indicators count,
# and the removals that end a listing.
FACT_KINDS = (*get_args(FactKind), "abnormal_removed", "dishonest_removed")
KIND_CODE = {k: i for i, k in enumerate(FACT_KINDS)}
COMPLAINT_WINDOW_DAYS = 90  # complaint growth: the last 3 months against the 3 before

_P = entity_projection.c
_ENTITY_COLUMNS = (
    _P.code,
    _P.entity_type,
    _P.region_code,
    _P.industry_code,
    _P.address,
    _P.legal_representative,
    _P.registered_on,
    _P.registered_capital,
    # As text, parsed with orjson in build_frame: the JSON type's per-row stdlib decoding
    # was a third of the full run's feature time.
    cast(_P.licences, Text).label("licences"),
)


@dataclass
class Frame:
    as_of: date
    codes: np.ndarray  # object
    entity_type: np.ndarray
    region_code: np.ndarray
    industry_code: np.ndarray
    licences: list[list[str]]
    attributes: dict[str, np.ndarray] = field(default_factory=dict)  # float, NaN = missing
    # One entry per fact up to as_of: entity position, kind code, detail, age in days.
    fact_idx: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    fact_kind: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))
    fact_detail: np.ndarray = field(default_factory=lambda: np.empty(0, object))
    fact_age: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    _counts: dict[Any, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.codes)

    def fact_count(
        self,
        kinds: Sequence[str],
        *,
        window_days: int,
        half_life_days: int | None = None,
        details: Sequence[str] | None = None,
        min_age_days: int = 0,
    ) -> np.ndarray:
        """Per entity: facts of ``kinds`` younger than ``window_days`` (and at least
        ``min_age_days`` old), each weighted ``0.5 ** (age / half_life_days)``."""
        key = (tuple(kinds), window_days, half_life_days, tuple(details or ()), min_age_days)
        if key not in self._counts:
            mask = np.isin(self.fact_kind, [KIND_CODE[k] for k in kinds])
            mask &= (self.fact_age < window_days) & (self.fact_age >= min_age_days)
            if details:
                mask &= np.isin(self.fact_detail, list(details))
            weights = None
            if half_life_days:
                weights = 0.5 ** (self.fact_age[mask] / half_life_days)
            self._counts[key] = np.bincount(
                self.fact_idx[mask], weights=weights, minlength=len(self)
            ).astype(float)
        return self._counts[key]


def load_frame(conn: Connection, as_of: date, codes: Iterable[str] | None = None) -> Frame:
    """Everyone active (``codes`` None), or ``codes`` plus the entities they relate to."""
    rows: Sequence[Any]
    if codes is None:
        rows = conn.execute(select(*_ENTITY_COLUMNS).where(_P.status == "active")).all()
    else:
        # By code alone, the active ones kept here: given both conditions, SQLite (no
        # statistics) walks the status index — most of the province — instead of the
        # few codes (measured: 300 ms of every incremental event at 1M entities).
        query = select(*_ENTITY_COLUMNS, _P.status).where(
            _P.code.in_(_with_related(conn, list(codes)))
        )
        rows = [r[:-1] for r in conn.execute(query).all() if r[-1] == "active"]
    return build_frame(conn, as_of, rows)


def _with_related(conn: Connection, codes: list[str]) -> list[str]:
    """``codes`` and the entities at the same address, with the same legal representative
    or declared related: the population their relation indicator is computed over."""
    own = conn.execute(
        select(_P.address, _P.legal_representative, _P.region_code).where(_P.code.in_(codes))
    ).all()
    addresses = [r.address for r in own if r.address]
    reps = [r.legal_representative for r in own if r.legal_representative]
    related = set(codes)
    if addresses or reps:
        related.update(
            conn.execute(
                select(_P.code).where(
                    or_(_P.address.in_(addresses), _P.legal_representative.in_(reps))
                )
            ).scalars()
        )
    related.update(
        c
        for c in conn.execute(
            select(relations.c.counterpart_code).where(relations.c.code.in_(codes))
        ).scalars()
        if c
    )
    return sorted(related)


def build_frame(conn: Connection, as_of: date, rows: Sequence[Any]) -> Frame:
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(_ENTITY_COLUMNS)
    code, etype, region, industry, address, rep, reg_on, capital, licences = cols
    frame = Frame(
        as_of=as_of,
        codes=np.array(code, dtype=object),
        entity_type=np.array(etype, dtype=object),
        region_code=np.array(region, dtype=object),
        industry_code=np.array(industry, dtype=object),
        licences=[orjson.loads(x) if x else [] for x in licences],
    )
    position = {c: i for i, c in enumerate(code)}
    _load_facts(conn, frame, position, as_of)
    today = as_of.toordinal()
    reg = np.array([d.toordinal() if d else np.nan for d in reg_on], dtype=float)
    a = frame.attributes
    a["age_years"] = (today - reg) / 365.25
    a["registered_capital"] = np.array([np.nan if c is None else c for c in capital], dtype=float)
    a["licence_count"] = np.array([len(x) for x in frame.licences], dtype=float)
    a["on_abnormal_list"] = _on_list(frame, "abnormal_listed", "abnormal_removed")
    a["on_dishonest_list"] = _on_list(frame, "dishonest_listed", "dishonest_removed")
    recent = frame.fact_count(["complaint"], window_days=COMPLAINT_WINDOW_DAYS)
    before = frame.fact_count(
        ["complaint"], window_days=2 * COMPLAINT_WINDOW_DAYS, min_age_days=COMPLAINT_WINDOW_DAYS
    )
    a["complaint_growth_3m"] = recent - before
    _annual_report_attributes(conn, frame, position, reg)
    _relation_attributes(
        conn, frame, position, np.array(address, dtype=object), np.array(rep, dtype=object)
    )
    assert all(len(v) == n for v in a.values())
    return frame


def _load_facts(conn: Connection, frame: Frame, position: dict[str, int], as_of: date) -> None:
    query = select(facts.c.code, facts.c.kind, facts.c.detail, facts.c.occurred_on).where(
        facts.c.occurred_on <= as_of
    )
    if len(position) < 50_000:  # a small population: fetch only its facts
        query = query.where(facts.c.code.in_(list(position)))
    # Whole columns at once: iterating the result fetched one row at a time, and a loop
    # appending per fact cost seconds per million.
    rows = [r for r in conn.execute(query).all() if r[0] in position and r[1] in KIND_CODE]
    today = as_of.toordinal()
    frame.fact_idx = np.array([position[r[0]] for r in rows], dtype=np.int64)
    frame.fact_kind = np.array([KIND_CODE[r[1]] for r in rows], dtype=np.int8)
    frame.fact_detail = np.array([r[2] for r in rows], dtype=object)
    frame.fact_age = np.array([today - r[3].toordinal() for r in rows], dtype=np.int64)


def _last(frame: Frame, kind: str) -> np.ndarray:
    """Per entity: the smallest age (most recent) of a fact of ``kind``; inf if none."""
    out = np.full(len(frame), np.inf)
    mask = frame.fact_kind == KIND_CODE[kind]
    np.minimum.at(out, frame.fact_idx[mask], frame.fact_age[mask])
    return out


def _on_list(frame: Frame, listed: str, removed: str) -> np.ndarray:
    last_listed, last_removed = _last(frame, listed), _last(frame, removed)
    # Listed more recently than removed (a removal the same day as a listing ends it).
    return (last_listed < last_removed).astype(float)


def _annual_report_attributes(
    conn: Connection, frame: Frame, position: dict[str, int], reg_ordinal: np.ndarray
) -> None:
    n = len(frame)
    year = np.full(n, np.nan)
    zero = np.full(n, np.nan)
    query = select(annual_reports.c.code, annual_reports.c.year, annual_reports.c.all_zero)
    if n < 50_000:
        query = query.where(annual_reports.c.code.in_(list(position)))
    rows = [(position.get(c, -1), y, z) for c, y, z in conn.execute(query).all()]
    rows = [r for r in rows if r[0] >= 0]
    if rows:
        at = np.array([r[0] for r in rows], dtype=np.int64)
        year[at] = np.array([r[1] for r in rows], dtype=float)
        zero[at] = np.array([float(bool(r[2])) for r in rows])
    as_of = frame.as_of
    due_year = latest_due_report_year(as_of)
    existed = reg_ordinal < date(due_year + 1, 1, 1).toordinal()
    overdue = existed & ~(year >= due_year)
    frame.attributes["last_report_all_zero"] = zero
    frame.attributes["report_overdue"] = overdue.astype(float)


def _relation_attributes(
    conn: Connection,
    frame: Frame,
    position: dict[str, int],
    address: np.ndarray,
    rep: np.ndarray,
) -> None:
    """How many others share the entity's address, or its legal representative in the
    same city; and the share of all related entities (those, plus declared relations)
    that are on the abnormal or dishonest list."""
    listed = np.maximum(frame.attributes["on_abnormal_list"], frame.attributes["on_dishonest_list"])
    n = len(frame)
    others = np.zeros(n)
    others_listed = np.zeros(n)
    # A name alone is shared by thousands in a province: same name within one city.
    rep_key = np.array(
        [f"{r}|{c[:4]}" if r else None for r, c in zip(rep, frame.region_code, strict=True)],
        dtype=object,
    )
    for name, keys in (("entities_at_address", address), ("entities_of_legal_rep", rep_key)):
        group_others = np.zeros(n)
        has = np.array([k is not None and k != "" for k in keys], dtype=bool)
        if has.any():
            inverse = _group_numbers(keys[has].tolist())
            size = np.bincount(inverse)
            hits = np.bincount(inverse, weights=listed[has])
            group_others[has] = size[inverse] - 1
            others_listed[has] += hits[inverse] - listed[has]
        others += group_others
        frame.attributes[name] = group_others
    query = select(relations.c.code, relations.c.counterpart_code).where(
        relations.c.counterpart_code.is_not(None)
    )
    if n < 50_000:
        query = query.where(relations.c.code.in_(list(position)))
    for c, other in conn.execute(query):
        i, j = position.get(c), position.get(other)
        if i is not None and j is not None:
            others[i] += 1
            others_listed[i] += listed[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        frame.attributes["related_listed_share"] = np.where(
            others > 0, others_listed / others, np.nan
        )


def _group_numbers(keys: list[Any]) -> np.ndarray:
    """A group number per key, equal keys alike (first-seen order): what ``np.unique(...,
    return_inverse=True)`` gives up to numbering, without sorting a million strings."""
    numbers: dict[Any, int] = {}
    return np.fromiter(
        (numbers.setdefault(k, len(numbers)) for k in keys), dtype=np.int64, count=len(keys)
    )
