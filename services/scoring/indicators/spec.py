"""An indicator model (指标体系) as data: what it applies to, its indicators in the five
groups, how each turns a feature into risk points, and the class cut-offs.

Scoring is a points scorecard. Each indicator reads one feature (an entity attribute, or a
time-decayed count of facts), puts it in a bin, and scores ``weight × risk(bin)``; the
entity's score is the sum, so an explanation is the list of points and always adds up.
A missing value has its own explicit risk, never a silent zero.

Cut-offs are by score, not by target share: a class then says how risky the entity looks,
and if a whole county improves its D share falls. Target shares would always put the same
share of firms into D, whatever they did. The shipped cut-offs were set once against the
mix that local practice reports (about 65% A, 26% B, 8% C, 1.5% D); every monthly run
reports the mix it produced and its drift (PSI)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Group = Literal["basic", "dynamic", "regulatory", "relationship", "social"]
GROUP_NAMES = {
    "basic": "基础属性",
    "dynamic": "动态信息",
    "regulatory": "监管信息",
    "relationship": "关联关系",
    "social": "社会评价",
}

# Facts an indicator can count (services/scoring/features/facts.py makes them).
FactKind = Literal[
    "penalty",
    "abnormal_listed",
    "dishonest_listed",
    "complaint",
    "change",
    "inspection_problem",
    "inspection_clean",
    "sampling_failure",
    "adverse_push",
]

# Entity attributes an indicator can read (services/scoring/classify/features.py).
Attribute = Literal[
    "age_years",
    "registered_capital",
    "licence_count",
    "on_abnormal_list",
    "on_dishonest_list",
    "last_report_all_zero",
    "report_overdue",
    "complaint_growth_3m",
    "related_listed_share",
    "entities_at_address",  # other active entities at the same address (一址多照)
    "entities_of_legal_rep",  # other entities of the same legal representative in the city
]
# Text attributes read through ``categories`` instead of bins.
CategoryAttribute = Literal["industry_code"]

EntityKind = Literal["enterprise", "individual_business", "farmer_cooperative"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactCount(_Strict):
    """A count of facts that fades with age: a fact ``age`` days old counts
    ``0.5 ** (age / half_life_days)`` (1 without a half-life) and drops out after
    ``window_days`` — e.g. a penalty weighs less each year and is gone after three."""

    kinds: list[FactKind] = Field(min_length=1)
    details: list[str] | None = None  # only facts with one of these details (change fields …)
    window_days: int = Field(gt=0, le=3650)
    half_life_days: int | None = Field(default=None, gt=0, le=3650)


class Bins(_Strict):
    """``edges`` ascending; value x falls in bin i where edges[i-1] <= x < edges[i]. ``risk``
    has one entry per bin (len(edges) + 1), each between 0 (no risk) and 1 (full weight)."""

    edges: list[float]
    risk: list[float]
    missing_risk: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("edges must be strictly ascending")
        if len(self.risk) != len(self.edges) + 1:
            raise ValueError("risk needs one value per bin: len(edges) + 1")
        if any(not 0 <= r <= 1 for r in self.risk):
            raise ValueError("every risk value must lie between 0 and 1")
        return self


class Categories(_Strict):
    """Risk by code prefix, the longest matching prefix wins (e.g. GB/T 4754 industries:
    food manufacturing "14" riskier than retail "52"); ``default`` for the rest."""

    risk_by_prefix: dict[str, float]
    default_risk: float = Field(ge=0, le=1)
    missing_risk: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _range(self) -> Self:
        if any(not 0 <= r <= 1 for r in self.risk_by_prefix.values()):
            raise ValueError("every risk value must lie between 0 and 1")
        return self


class Indicator(_Strict):
    """Reads one feature — a numeric attribute or a fact count through ``bins``, or a
    code attribute through ``categories`` — and scores ``weight × risk``."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    group: Group
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    attribute: Attribute | None = None
    facts: FactCount | None = None
    category_attribute: CategoryAttribute | None = None
    bins: Bins | None = None
    categories: Categories | None = None
    weight: float = Field(gt=0, le=100)  # points at full risk

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        numeric = (self.attribute is not None) + (self.facts is not None)
        if numeric + (self.category_attribute is not None) != 1:
            raise ValueError(
                "an indicator reads exactly one of attribute, facts, category_attribute"
            )
        if numeric and self.bins is None:
            raise ValueError("a numeric indicator needs bins")
        if self.category_attribute is not None and self.categories is None:
            raise ValueError("a category indicator needs categories")
        return self


class Cutoffs(_Strict):
    """Lowest score of classes B, C and D (below B is A)."""

    method: Literal["score"] = "score"
    B: float
    C: float
    D: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.B < self.C < self.D:
            raise ValueError("cut-offs must rise: B < C < D")
        return self


class Override(_Strict):
    """A hard rule beside the score: e.g. on the serious-dishonest list → D (严重违法失信)."""

    when: Literal["on_dishonest_list"]
    risk_class: Literal["C", "D"]


class AppliesTo(_Strict):
    entity_types: list[EntityKind] = Field(min_length=1)
    # Professional models only: the entity is in scope if its industry starts with one of
    # these GB/T 4754 prefixes or it holds one of these licences.
    industry_prefixes: list[str] = Field(default_factory=list)
    licences: list[str] = Field(default_factory=list)


class ModelSpec(_Strict):
    model_id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    kind: Literal["general", "professional"]
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    applies_to: AppliesTo
    indicators: list[Indicator] = Field(min_length=1)
    cutoffs: Cutoffs | None = None  # general models: their own; professional: the base's
    overrides: list[Override] = Field(default_factory=list)
    # Professional models ("通用+专业"): combined = (1 - blend) × general + blend × this.
    blend: float | None = Field(default=None, gt=0, lt=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [i.id for i in self.indicators]
        if len(set(ids)) != len(ids):
            raise ValueError("indicator ids must be unique within a model")
        if self.kind == "general" and self.cutoffs is None:
            raise ValueError("a general model needs cut-offs")
        if self.kind == "professional":
            if self.blend is None:
                raise ValueError("a professional model needs a blend share")
            if not (self.applies_to.industry_prefixes or self.applies_to.licences):
                raise ValueError("a professional model needs industry prefixes or licences")
        return self

    @property
    def max_score(self) -> float:
        return sum(i.weight for i in self.indicators)
