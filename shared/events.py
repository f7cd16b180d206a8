"""The event contract between services: a CloudEvents-style envelope and one pydantic
model per event type. Topics are keyed by the aggregate id (credit code), so one entity's
events stay in order on one partition."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

# Topics (architecture.md). scoring.classes is INTERNAL: never consumed by publication.
TOPIC_ENTITIES = "registry.entities"
TOPIC_RECORDS = "registry.records"
TOPIC_INSPECTORS = "registry.inspectors"
TOPIC_CLASSES = "scoring.classes"
TOPIC_WARNINGS = "scoring.warnings"
TOPIC_PLANS = "sampling.plans"
TOPIC_RESULTS = "sampling.results"
ALL_TOPICS = (
    TOPIC_ENTITIES,
    TOPIC_RECORDS,
    TOPIC_INSPECTORS,
    TOPIC_CLASSES,
    TOPIC_WARNINGS,
    TOPIC_PLANS,
    TOPIC_RESULTS,
)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    source: str
    time: datetime
    subject: str
    schema_version: int = 1
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate(orjson.loads(raw))


def envelope_json(
    event: type[EventData],
    source: str,
    event_id: str,
    at: datetime,
    subject: str,
    data: dict[str, Any],
) -> bytes:
    """An event's serialised envelope from its plain ``data`` (what ``model_dump()``
    holds, in field order), without building the model: the hot path of bulk writes
    (orjson encodes dates and lists natively; payloads are flat)."""
    return orjson.dumps(
        {
            "id": event_id,
            "type": event.TYPE,
            "source": source,
            "time": at,
            "subject": subject,
            "schema_version": event.SCHEMA_VERSION,
            "data": data,
        }
    )


class EventData(BaseModel):
    """Base of every event payload. ``TYPE`` and ``TOPIC`` tie it to the envelope."""

    model_config = ConfigDict(extra="ignore")
    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    def subject(self) -> str:
        raise NotImplementedError

    def envelope_bytes(self, source: str, event_id: str, at: datetime) -> bytes:
        """The serialised envelope without a validation round trip."""
        return envelope_json(type(self), source, event_id, at, self.subject(), self.__dict__)

    def envelope(
        self, source: str, *, event_id: str | None = None, at: datetime | None = None
    ) -> Envelope:
        return Envelope(
            id=event_id or str(uuid.uuid4()),
            type=self.TYPE,
            source=source,
            time=at or datetime.now(UTC),
            subject=self.subject(),
            schema_version=self.SCHEMA_VERSION,
            data=self.model_dump(mode="json"),
        )


EntityType = Literal[
    "enterprise",
    "individual_business",
    "farmer_cooperative",
    "social_organisation",
    "product",
    "project",
    "behaviour",
]
EntityStatus = Literal["active", "deregistered", "revoked"]


class EntitySnapshot(EventData):
    """Full state of an inspection object after a change (registered/changed/deregistered).

    ``version`` grows with every change, so a projection keeps the newest snapshot even
    if an older one is redelivered later."""

    TYPE: ClassVar[str] = "registry.entity.changed"
    TOPIC: ClassVar[str] = TOPIC_ENTITIES

    change: Literal["registered", "changed", "deregistered"]
    code: str
    code_kind: Literal["uscc", "legacy", "object"]
    version: int
    name: str
    entity_type: EntityType
    legal_representative: str | None = None
    address: str | None = None
    region_code: str
    industry_code: str | None = None
    registered_on: date | None = None
    registered_capital: float | None = None
    status: EntityStatus
    licences: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    def subject(self) -> str:
        return self.code


class CreditRecordEvent(EventData):
    """A credit-relevant record (penalty, licence, list entry, complaint, annual report …)."""

    TYPE: ClassVar[str] = "registry.record.added"
    TOPIC: ClassVar[str] = TOPIC_RECORDS

    record_id: str
    code: str
    kind: str
    occurred_on: date
    source_department: str
    payload: dict[str, Any] = Field(default_factory=dict)

    def subject(self) -> str:
        return self.code


class RelationChanged(EventData):
    """A relation between an entity and a person or another entity (shareholder, legal
    representative, shared address) was added or removed."""

    TYPE: ClassVar[str] = "registry.relation.changed"
    TOPIC: ClassVar[str] = TOPIC_RECORDS

    change: Literal["added", "removed"]
    code: str
    kind: Literal["shareholder", "legal_representative", "same_address"]
    counterpart_name: str
    counterpart_code: str | None = None
    since: date | None = None

    def subject(self) -> str:
        return self.code


class InspectorSnapshot(EventData):
    TYPE: ClassVar[str] = "registry.inspector.changed"
    TOPIC: ClassVar[str] = TOPIC_INSPECTORS

    certificate_no: str
    version: int
    name: str
    department: str
    region_code: str
    certificate_expires_on: date | None
    specialties: list[str] = Field(default_factory=list)
    status: Literal["on_duty", "transferred", "retired"]
    is_professional: bool = False
    avoid_entities: list[str] = Field(default_factory=list)
    avoid_regions: list[str] = Field(default_factory=list)
    avoid_persons: list[str] = Field(default_factory=list)

    def subject(self) -> str:
        return self.certificate_no


# The standard inspection-result categories (seed 002, 抽查检查结果). The ninth category,
# 合格/不合格, is two keys. A visit may carry several categories, but 未发现问题 excludes
# every other. The registry's imported inspection records use the Chinese words.
INSPECTION_RESULTS: dict[str, str] = {
    "no_problem": "未发现问题",
    "unpublished_information": "未按规定公示应当公示的信息",
    "unreachable": "通过登记的住所(经营场所)无法联系",
    "refused_inspection": "不配合检查情节严重",
    "no_relevant_activity": "未发现开展本次抽查涉及的经营活动",
    "ordered_to_rectify": "发现问题，依法责令立即改正或者限期改正",
    "further_investigation": "发现问题，待后续调查处理",
    "qualified": "合格",
    "unqualified": "不合格",
    "other": "其他情况",
}
InspectionResultCategory = Literal[
    "no_problem",
    "unpublished_information",
    "unreachable",
    "refused_inspection",
    "no_relevant_activity",
    "ordered_to_rectify",
    "further_investigation",
    "qualified",
    "unqualified",
    "other",
]
# The categories that mean the inspection found a problem (the closed loop raises risk).
PROBLEM_RESULTS = frozenset(
    {
        "unpublished_information",
        "unreachable",
        "refused_inspection",
        "ordered_to_rectify",
        "further_investigation",
        "unqualified",
    }
)
RESULT_BY_CHINESE = {zh: key for key, zh in INSPECTION_RESULTS.items()}


class InspectionResultEvent(EventData):
    """The result of one inspection item at one visit (sampling → scoring, publication)."""

    TYPE: ClassVar[str] = "sampling.result.recorded"
    TOPIC: ClassVar[str] = TOPIC_RESULTS

    visit_id: str
    task_no: str
    code: str
    item: str
    results: list[InspectionResultCategory] = Field(min_length=1)
    finished_on: date

    @model_validator(mode="after")
    def _no_problem_stands_alone(self) -> InspectionResultEvent:
        if "no_problem" in self.results and len(set(self.results)) > 1:
            raise ValueError("未发现问题 excludes every other result category")
        return self

    @property
    def problem_found(self) -> bool:
        return any(r in PROBLEM_RESULTS for r in self.results)

    def subject(self) -> str:
        return self.code


RiskClass = Literal["A", "B", "C", "D"]


class ClassChanged(EventData):
    """An entity's risk class was assigned or changed. INTERNAL (内部参考): only sampling
    consumes it; publication must never subscribe to ``scoring.classes``."""

    TYPE: ClassVar[str] = "scoring.class.changed"
    TOPIC: ClassVar[str] = TOPIC_CLASSES

    code: str
    risk_class: RiskClass
    previous_class: RiskClass | None = None
    model_id: str
    model_version: int
    as_of: date
    cause: Literal["incremental", "monthly_run"]

    def subject(self) -> str:
        return self.code


class WarningChanged(EventData):
    """An early warning (监测预警) was raised, acted on or closed."""

    TYPE: ClassVar[str] = "scoring.warning.changed"
    TOPIC: ClassVar[str] = TOPIC_WARNINGS

    warning_id: str
    code: str
    rule: str
    status: Literal["raised", "actioned", "closed"]
    action: Literal["remind", "warn", "interview", "inspect"] | None = None
    raised_on: date

    def subject(self) -> str:
        return self.code


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.TYPE: cls
    for cls in (
        EntitySnapshot,
        CreditRecordEvent,
        RelationChanged,
        InspectorSnapshot,
        InspectionResultEvent,
        ClassChanged,
        WarningChanged,
    )
}


def parse_data(envelope: Envelope) -> EventData:
    """Typed payload of an envelope; raises KeyError for an unknown type, ValidationError
    for a malformed payload (both go to the dead-letter topic)."""
    return EVENT_TYPES[envelope.type].model_validate(envelope.data)
