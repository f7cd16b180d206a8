"""Scoring and classing a feature frame with the active indicator models, vectorised.

For each general model (one per kind of entity) the score is the sum of its indicators'
points; where a professional model applies ("通用+专业"), the score is the blend
``(1 - b) × general + b × professional`` and every point is scaled the same way, so the
points shown to an officer still add up to the score. Cut-offs turn the score into
A/B/C/D; hard overrides (serious dishonest → D) come last."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.scoring.classify.features import Frame
from services.scoring.indicators.spec import Bins, Categories, Indicator, ModelSpec

CLASSES = np.array(["A", "B", "C", "D"], dtype=object)


@dataclass(frozen=True)
class ModelSet:
    """The active models: general ones by entity type, professional ones beside them."""

    general: tuple[ModelSpec, ...]
    professional: tuple[ModelSpec, ...]
    versions: dict[str, int]


@dataclass
class Classified:
    """Outcome for the classified entities of a frame (positions ``index`` in it)."""

    index: np.ndarray
    risk_class: np.ndarray  # object: "A".."D"
    score: np.ndarray
    model_id: np.ndarray  # object: "general" or "general+food_production"
    model_version: np.ndarray  # the general model's version
    overridden_by: np.ndarray  # object: None or the override's rule
    # Per group of entities scored alike: positions (into index), indicator keys, points.
    groups: list[tuple[np.ndarray, list[str], np.ndarray]]

    def points_of(self) -> list[dict[str, float]]:
        """{indicator: points} per classified entity, in ``index`` order, without the
        indicators that gave no points: most give none to most entities, and a monthly
        run stores a million of these (explanations add the zeros back from the model)."""
        out: list[dict[str, float]] = [{} for _ in range(len(self.index))]
        for rows, keys, pts in self.groups:
            rounded = np.round(pts, 2).tolist()
            for r, values in zip(rows.tolist(), rounded, strict=True):
                out[r] = {k: v for k, v in zip(keys, values, strict=True) if v}
        return out


def bin_risk(bins: Bins, x: np.ndarray) -> np.ndarray:
    risk = np.asarray(bins.risk)[np.searchsorted(np.asarray(bins.edges), x, side="right")]
    return np.where(np.isnan(x), bins.missing_risk, risk)


def indicator_values(indicator: Indicator, frame: Frame) -> np.ndarray:
    if indicator.attribute is not None:
        return frame.attributes[indicator.attribute]
    facts = indicator.facts
    assert facts is not None
    return frame.fact_count(
        facts.kinds,
        window_days=facts.window_days,
        half_life_days=facts.half_life_days,
        details=facts.details,
    )


def category_risk(categories: Categories, codes: np.ndarray) -> np.ndarray:
    table = categories.risk_by_prefix
    lengths = sorted({len(p) for p in table}, reverse=True)

    def one(code: str | None) -> float:
        if not code:
            return categories.missing_risk
        for n in lengths:
            hit = table.get(code[:n])
            if hit is not None:
                return hit
        return categories.default_risk

    # Few distinct codes (industries): look each up once (a dict, not np.unique, which
    # sorts a million strings).
    seen: dict[str | None, float] = {}
    return np.fromiter(
        (seen[c] if c in seen else seen.setdefault(c, one(c)) for c in codes.tolist()),
        dtype=float,
        count=len(codes),
    )


def indicator_risk(indicator: Indicator, frame: Frame, rows: np.ndarray) -> np.ndarray:
    """Risk between 0 and 1 of ``indicator`` for the entities at ``rows``."""
    if indicator.category_attribute is not None:
        assert indicator.categories is not None
        codes = getattr(frame, indicator.category_attribute)[rows]
        return category_risk(indicator.categories, codes)
    assert indicator.bins is not None
    return bin_risk(indicator.bins, indicator_values(indicator, frame)[rows])


def points(model: ModelSpec, frame: Frame, rows: np.ndarray) -> np.ndarray:
    """Points of each indicator of ``model`` for the entities at ``rows``: len(rows) × k."""
    return np.column_stack([i.weight * indicator_risk(i, frame, rows) for i in model.indicators])


def applies(model: ModelSpec, frame: Frame, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` a professional model covers (industry prefix or licence)."""
    scope = model.applies_to
    prefixes = tuple(scope.industry_prefixes)
    licences = set(scope.licences)
    return np.array(
        [
            bool(prefixes and (frame.industry_code[r] or "").startswith(prefixes))
            or bool(licences.intersection(frame.licences[r]))
            for r in rows.tolist()
        ],
        dtype=bool,
    )


def classify(models: ModelSet, frame: Frame) -> Classified:
    parts = []
    for general in models.general:
        rows = np.flatnonzero(np.isin(frame.entity_type, list(general.applies_to.entity_types)))
        if len(rows):
            parts.append(_classify_general(general, models, frame, rows))
    index = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    order = np.argsort(index, kind="stable")
    offset = 0
    groups: list[tuple[np.ndarray, list[str], np.ndarray]] = []
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    for p in parts:
        for rows, keys, pts in p[6]:
            groups.append((inverse[offset + rows], keys, pts))
        offset += len(p[0])

    def cat(i: int, dtype: object = object) -> np.ndarray:
        if not parts:
            return np.empty(0, dtype=dtype)  # type: ignore[call-overload]
        return np.concatenate([p[i] for p in parts])[order]

    return Classified(
        index=index[order],
        risk_class=cat(1),
        score=cat(2, float),
        model_id=cat(3),
        model_version=cat(4, np.int64),
        overridden_by=cat(5),
        groups=groups,
    )


def _classify_general(
    general: ModelSpec, models: ModelSet, frame: Frame, rows: np.ndarray
) -> tuple:
    n = len(rows)
    keys = [i.id for i in general.indicators]
    base = points(general, frame, rows)
    score = base.sum(axis=1)
    model_id = np.full(n, general.model_id, dtype=object)
    plain = np.ones(n, dtype=bool)
    groups = []
    for prof in models.professional:
        if not set(prof.applies_to.entity_types) & set(general.applies_to.entity_types):
            continue
        hit = np.flatnonzero(plain & applies(prof, frame, rows))
        if not len(hit):
            continue
        plain[hit] = False
        b = prof.blend or 0.0
        extra = points(prof, frame, rows[hit])
        combined = np.hstack([(1 - b) * base[hit], b * extra])
        score[hit] = combined.sum(axis=1)
        model_id[hit] = f"{general.model_id}+{prof.model_id}"
        groups.append((hit, keys + [f"{prof.model_id}.{i.id}" for i in prof.indicators], combined))
    rest = np.flatnonzero(plain)
    groups.append((rest, keys, base[rest]))

    cut = general.cutoffs
    assert cut is not None
    level = np.searchsorted(np.array([cut.B, cut.C, cut.D]), score, side="right")
    overridden = np.full(n, None, dtype=object)
    for rule in general.overrides:
        hit = frame.attributes[rule.when][rows] > 0
        forced = "ABCD".index(rule.risk_class)
        raise_to = hit & (level < forced)
        level[raise_to] = forced
        overridden[raise_to] = rule.when
    version = np.full(n, models.versions[general.model_id], dtype=np.int64)
    return rows, CLASSES[level], score, model_id, version, overridden, groups
