"""The scoring service's store. Classes, scores and warnings are scoring's own and
INTERNAL (内部参考); the entity projection is a read-only copy of the registry's directory.

Tables are SQLAlchemy Core: the monthly run reads and writes a million rows at a time
with numpy, and the ORM would only stand in the way."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase

from shared.db import UtcDateTime, service_metadata
from shared.inbox import inbox_table
from shared.outbox import outbox_table
from shared.projections import entity_projection_table


class ScoringBase(DeclarativeBase):
    metadata = service_metadata()


_META = ScoringBase.metadata
_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only

outbox = outbox_table(_META)
inbox = inbox_table(_META)
entity_projection = entity_projection_table(_META)
# Early-warning rules look entities up by address and by legal representative.
Index("ix_entity_projection_address", entity_projection.c.address)
Index("ix_entity_projection_legal_representative", entity_projection.c.legal_representative)

# Entities whose facts changed since they were last classified. The consumers only keep
# facts and mark the entities here, in their own transaction; the reclassifier
# (classify/pending.py) scores the marked ones in large batches and removes the marks
# with the class it wrote. An entity with an entity event and twenty records in flight is
# scored once, not once per batch that touched it. ``touches`` counts the marks: the
# reclassifier removes a mark only if nobody marked it again meanwhile.
pending_reclassification = Table(
    "pending_reclassification",
    _META,
    Column("code", String(40), primary_key=True),
    # The directory entry itself changed: the entity warning rules run too.
    Column("entity_changed", Boolean, nullable=False),
    Column("touches", Integer, nullable=False),
    Column("marked_at", UtcDateTime, nullable=False, index=True),
)

# One row per credit-relevant fact that an indicator can count: penalties, list entries and
# removals, complaints, changes, inspection problems (registry records and sampling
# results alike), failed product sampling, adverse pushes from other departments.
# ``source_id`` (record id, or visit:item) makes a fact count once even if it arrives by
# two paths. Facts that no indicator reads (filings, licences …) are not kept.
facts = Table(
    "facts",
    _META,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("source_id", String(100), nullable=False, unique=True),
    Column("code", String(40), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("detail", String(40), nullable=True),  # change field, result category, severity
    Column("occurred_on", Date, nullable=False),
    Column("amount", Float, nullable=True),  # penalty amount (元)
)

# The latest annual report of each entity (年报): year and whether it was all zeros.
annual_reports = Table(
    "annual_reports",
    _META,
    Column("code", String(40), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("all_zero", Boolean, nullable=False),
    Column("reported_on", Date, nullable=False),
)

# Declared relations (shareholder, legal representative, same address) from the registry.
relations = Table(
    "relations",
    _META,
    Column("code", String(40), primary_key=True),
    Column("kind", String(24), primary_key=True),
    Column("counterpart_name", String(200), primary_key=True),
    Column("counterpart_code", String(40), nullable=True, index=True),
)

# Indicator models (指标体系) as data: every version kept, one active per model id.
indicator_models = Table(
    "indicator_models",
    _META,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("model_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("note", Text, nullable=True),
    UniqueConstraint("model_id", "version"),
)

# The current class of each classified entity, with the points behind it.
entity_classes = Table(
    "entity_classes",
    _META,
    Column("code", String(40), primary_key=True),
    Column("risk_class", String(1), nullable=False),
    Column("score", Float, nullable=False),
    Column("model_id", String(40), nullable=False),
    Column("model_version", Integer, nullable=False),
    # {indicator id: points}; professional indicators are prefixed with their model id.
    Column("points", JSON, nullable=False),
    Column("overridden_by", String(40), nullable=True),  # e.g. serious_dishonest
    Column("as_of", Date, nullable=False),
    Column("cause", String(16), nullable=False),  # incremental | monthly_run
    # Copied from the projection so that analysis and jurisdiction need no join.
    Column("region_code", String(6), nullable=False, index=True),
    Column("industry_code", String(5), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Every dated class: one row per entity per monthly run, plus incremental changes.
class_history = Table(
    "class_history",
    _META,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, index=True),
    Column("run_id", Integer, nullable=True),
    Column("risk_class", String(1), nullable=False),
    Column("score", Float, nullable=False),
    Column("model_id", String(40), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("cause", String(16), nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("industry_code", String(5), nullable=True),
    # An entity's row in a given run: analysis joins two runs on code. With run_id indexed
    # alone, each entity's lookup in the other run read all that run's rows (PostgreSQL
    # too, while its statistics predate the run): quadratic, measured 2 s per analysis
    # request at 5,000 entities on SQLite, 0.3 s on PostgreSQL. Replaces the index on
    # run_id alone, whose every use (a run's rows) this one serves as well.
    Index("ix_class_history_run_id_code", "run_id", "code"),
)

# Monthly full runs (按月动态更新) and their stability report.
class_runs = Table(
    "class_runs",
    _META,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False, unique=True),  # 2026-11
    Column("as_of", Date, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("entities", Integer, nullable=False, default=0),
    Column("class_counts", JSON, nullable=False),
    Column("model_versions", JSON, nullable=False),
    Column("psi_classes", Float, nullable=True),  # against the previous run
    Column("psi_indicators", JSON, nullable=True),
    Column("changed", Integer, nullable=False, default=0),
)

# Early-warning rules (监测预警规则): thresholds are data, editable by credit officers.
warning_rules = Table(
    "warning_rules",
    _META,
    Column("rule_id", String(40), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("params", JSON, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("updated_by", String(100), nullable=False),
)

# Warnings and their lifecycle: raised → actioned (提醒/警示/约谈/检查) → closed.
warnings = Table(
    "warnings",
    _META,
    Column("warning_id", String(36), primary_key=True),
    Column("code", String(40), nullable=False, index=True),
    Column("rule_id", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("region_code", String(6), nullable=False, index=True),
    Column("details", JSON, nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("action", String(10), nullable=True),
    Column("actioned_by", String(100), nullable=True),
    Column("actioned_at", UtcDateTime(), nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("note", Text, nullable=True),
    # At most one open warning per entity and rule: a repeated trigger does not pile up.
    Index(
        "uq_warnings_open",
        "code",
        "rule_id",
        unique=True,
        sqlite_where=text("status != 'closed'"),
        postgresql_where=text("status != 'closed'"),
    ),
)

# Append-only, hash-chained audit log of class reads and model changes.
audit_log = Table(
    "audit_log",
    _META,
    Column("seq", _ID, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(200), nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON, hashed as stored
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
