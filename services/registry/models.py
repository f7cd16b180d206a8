"""The registry's store. Child tables reference an entity by its code (the natural key
every other system uses), which also lets bulk imports insert children without first
reading generated ids back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, service_metadata
from shared.inbox import inbox_table
from shared.outbox import outbox_table

BigId = BigInteger().with_variant(Integer, "sqlite")


class RegistryBase(DeclarativeBase):
    metadata = service_metadata()


outbox = outbox_table(RegistryBase.metadata)
inbox = inbox_table(RegistryBase.metadata)


class Entity(RegistryBase):
    """An inspection object (检查对象): a market entity or a product/project/behaviour."""

    __tablename__ = "entities"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    code_kind: Mapped[str] = mapped_column(String(8))  # uscc | legacy | object
    # No index on name (searched by substring, which no B-tree serves), entity_type or
    # status (a handful of values): each index costs every one of millions of imported rows.
    name: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(32))
    # Indexed: relations derive shared addresses (一址多照) and shared legal representatives.
    legal_representative: Mapped[str | None] = mapped_column(String(100), index=True)
    address: Mapped[str | None] = mapped_column(String(300), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    industry_code: Mapped[str | None] = mapped_column(String(5), index=True)
    registered_on: Mapped[date | None] = mapped_column(Date)
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))  # 万元
    status: Mapped[str] = mapped_column(String(16))  # active | deregistered | revoked
    # sha256 of the declared fields: a re-import of an unchanged row is recognised and skipped.
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class EntityLicence(RegistryBase):
    """A licence kind an entity holds (食品生产许可, CCC, 特种设备 …); searchable by kind."""

    __tablename__ = "entity_licences"

    code: Mapped[str] = mapped_column(
        ForeignKey("entities.code", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Tag(RegistryBase):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class EntityTag(RegistryBase):
    """A tag on an entity, set by hand or by a rule; the same tag may hold for both reasons."""

    __tablename__ = "entity_tags"

    code: Mapped[str] = mapped_column(
        ForeignKey("entities.code", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    source: Mapped[str] = mapped_column(String(8), primary_key=True)  # manual | rule


class TagRule(RegistryBase):
    """Maps industry-code prefixes and/or licence kinds to a tag. An entity matches when
    each non-empty condition has at least one hit."""

    __tablename__ = "tag_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    industry_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    licence_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class CreditRecord(RegistryBase):
    """A credit-relevant record (信用相关信息): immutable once collected."""

    __tablename__ = "credit_records"

    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("entities.code"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    source_department: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    # 信息归集 rule: collected within 7 working days of occurring; late ones are flagged.
    collected_late: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class ListEntry(RegistryBase):
    """Listing in the abnormal-operations (经营异常名录) or serious-illegal-and-dishonest
    (严重违法失信名单) list, with its removal once removed."""

    __tablename__ = "list_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(ForeignKey("entities.code"), index=True)
    list_kind: Mapped[str] = mapped_column(String(24))  # abnormal_operations | serious_dishonest
    listed_on: Mapped[date] = mapped_column(Date)
    listing_reason: Mapped[str | None] = mapped_column(String(300))
    listing_record_id: Mapped[str] = mapped_column(String(64), unique=True)
    removed_on: Mapped[date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(String(300))
    removal_record_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_list_entries_code_kind", "code", "list_kind"),)


class Relation(RegistryBase):
    __tablename__ = "relations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(ForeignKey("entities.code"), index=True)
    kind: Mapped[str] = mapped_column(
        String(24)
    )  # shareholder | legal_representative | same_address
    counterpart_name: Mapped[str] = mapped_column(String(200))
    counterpart_code: Mapped[str | None] = mapped_column(String(40), index=True)
    since: Mapped[date | None] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("code", "kind", "counterpart_name", name="uq_relations_key"),
    )


class Inspector(RegistryBase):
    """An inspector (执法检查人员) or professional technical staff (专业技术人员)."""

    __tablename__ = "inspectors"

    certificate_no: Mapped[str] = mapped_column(String(40), primary_key=True)  # 执法证号
    name: Mapped[str] = mapped_column(String(60))
    department: Mapped[str] = mapped_column(String(100), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    certificate_expires_on: Mapped[date | None] = mapped_column(Date)
    specialties: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)  # on_duty | transferred | retired
    is_professional: Mapped[bool] = mapped_column(Boolean, default=False)
    avoid_entities: Mapped[list[str]] = mapped_column(JSON, default=list)
    avoid_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    avoid_persons: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class ImportJob(RegistryBase):
    """An uploaded file imported in the background (an officer's upload of a whole
    county takes minutes): status, progress and counts, read by polling."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # entities | records | inspectors
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    submitted_by: Mapped[str] = mapped_column(String(100))
    # host:pid of the process that holds the spooled upload and runs the job: a later
    # process on that host marks the job failed if it finds it unfinished and that one gone.
    worker: Mapped[str] = mapped_column(String(100))
    # Region prefix of the submitter's jurisdiction: the rows the job may write, and who
    # may see the job.
    scope: Mapped[str] = mapped_column(String(6), index=True)
    bytes_total: Mapped[int] = mapped_column(BigInteger)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failure_zh: Mapped[str | None] = mapped_column(String(300))
    failure_en: Mapped[str | None] = mapped_column(String(300))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Touched by the worker after every batch of any job, for all of its unfinished jobs:
    # an unfinished job not touched for a while has no worker left, wherever it ran.
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ImportJobError(RegistryBase):
    """A rejected row of an import job: every one, for the downloadable report."""

    __tablename__ = "import_job_errors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), index=True
    )
    row: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(200))
    reason_zh: Mapped[str] = mapped_column(String(500))
    reason_en: Mapped[str] = mapped_column(String(500))
