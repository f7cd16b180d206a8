"""Early-warning rules as data (监测预警规则): the shipped defaults in ``rules.json``, their
parameters as typed models, and the ``warning_rules`` rows that officers edit.

A rule's row is seeded from ``rules.json`` the first time the rules are read and the
table lacks it (``current_rules`` does this itself, so no start-up call is needed;
``seed_rules`` is there for one). Stored params are laid over the shipped ones, so a
parameter added in a later release takes its default until an officer sets it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.scoring.models import warning_rules

RULES_FILE = Path(__file__).with_name("rules.json")
SEEDED_BY = "system:rules.json"

ABNORMAL_REGISTRATION = "abnormal_registration"
ABNORMAL_CHANGES = "abnormal_changes"
COMPLAINT_SURGE = "complaint_surge"
ALL_ZERO_ANNUAL_REPORT = "all_zero_annual_report"
RELATED_HIGH_RISK = "related_high_risk"
LICENCES_AT_ADDRESS = "licences_at_address"


class RuleParams(BaseModel):
    # An unknown key is a typo that would silently keep the old threshold: refuse it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class AbnormalRegistrationParams(RuleParams):
    min_entities: int = Field(ge=2, le=10_000, description="entities in one cluster")
    window_days: int = Field(ge=1, le=3650, description="registered within the last N days")


class AbnormalChangesParams(RuleParams):
    min_changes: int = Field(ge=1, le=1000)
    window_days: int = Field(ge=1, le=3650)
    min_legal_representative_changes: int = Field(ge=1, le=1000)
    legal_representative_window_days: int = Field(ge=1, le=3650)


class ComplaintSurgeParams(RuleParams):
    recent_days: int = Field(ge=1, le=365)
    baseline_months: int = Field(ge=1, le=60, description="months before the recent window")
    factor: float = Field(gt=0, le=1000, description="times the monthly average")
    min_count: int = Field(ge=1, le=100_000)


class AllZeroAnnualReportParams(RuleParams):
    # Shipped as 1: only the report of the latest year that has fallen due (or one filed
    # early for the year after it). An older latest report is either about to be
    # superseded (an imported history replays every year since 2013, each the latest
    # for a moment) or means the entity missed the reports since, which the abnormal list
    # (未按规定报送年报) and the report-overdue indicator already cover. Warning on those
    # was 649 of 659 open warnings on the 2,000-entity demo, back to 2013.
    report_years: int = Field(
        ge=1,
        le=20,
        description="warn on reports of the last N report years that have fallen due "
        "(the report for year Y is due by 30 June of Y + 1); 1 = the latest due year only",
    )


class RelatedHighRiskParams(RuleParams):
    via_declared_relations: bool
    via_same_address: bool
    via_same_legal_representative: bool


class LicencesAtAddressParams(RuleParams):
    min_licences: int = Field(ge=2, le=100_000)


PARAMS_MODELS: dict[str, type[RuleParams]] = {
    ABNORMAL_REGISTRATION: AbnormalRegistrationParams,
    ABNORMAL_CHANGES: AbnormalChangesParams,
    COMPLAINT_SURGE: ComplaintSurgeParams,
    ALL_ZERO_ANNUAL_REPORT: AllZeroAnnualReportParams,
    RELATED_HIGH_RISK: RelatedHighRiskParams,
    LICENCES_AT_ADDRESS: LicencesAtAddressParams,
}


@dataclass(frozen=True)
class ShippedRule:
    rule_id: str
    name: str
    name_en: str
    description: str
    description_en: str
    enabled: bool
    params: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """A rule as it applies now: shipped wording, stored switch and thresholds."""

    shipped: ShippedRule
    enabled: bool
    params: Any  # the rule's RuleParams subclass
    updated_at: datetime
    updated_by: str

    @property
    def rule_id(self) -> str:
        return self.shipped.rule_id


@lru_cache(maxsize=1)
def shipped_rules() -> dict[str, ShippedRule]:
    """The defaults shipped in rules.json, checked against the parameter models."""
    raw = json.loads(RULES_FILE.read_text(encoding="utf-8"))["rules"]
    rules = {r["rule_id"]: ShippedRule(**r) for r in raw}
    if set(rules) != set(PARAMS_MODELS):
        raise ValueError(f"rules.json must define exactly {sorted(PARAMS_MODELS)}")
    for rule in rules.values():
        PARAMS_MODELS[rule.rule_id].model_validate(rule.params)
    return rules


def rule_name(rule_id: str) -> str:
    shipped = shipped_rules().get(rule_id)
    return shipped.name if shipped else rule_id


def parse_params(rule_id: str, stored: dict[str, Any]) -> RuleParams:
    """Stored params over the shipped ones (raises ValidationError when invalid)."""
    merged = {**shipped_rules()[rule_id].params, **stored}
    return PARAMS_MODELS[rule_id].model_validate(merged)


def seed_rules(session: Session) -> int:
    """Insert the shipped default of every rule the table lacks; returns how many.
    ON CONFLICT DO NOTHING: two consumers seeding at once cannot fail each other."""
    present = set(session.execute(select(warning_rules.c.rule_id)).scalars())
    now = datetime.now(UTC)
    rows = [
        {
            "rule_id": r.rule_id,
            "enabled": r.enabled,
            "params": r.params,
            "updated_at": now,
            "updated_by": SEEDED_BY,
        }
        for r in shipped_rules().values()
        if r.rule_id not in present
    ]
    if rows:
        insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
        session.execute(insert(warning_rules).on_conflict_do_nothing(), rows)
    return len(rows)


def current_rules(session: Session) -> dict[str, Rule]:
    """Every rule as stored now (seeding missing rows first); never cached."""
    rows = {r.rule_id: r for r in session.execute(select(warning_rules))}
    if any(rule_id not in rows for rule_id in shipped_rules()):
        seed_rules(session)
        rows = {r.rule_id: r for r in session.execute(select(warning_rules))}
    rules = {}
    for rule_id, shipped in shipped_rules().items():
        row = rows[rule_id]
        try:
            params = parse_params(rule_id, dict(row.params or {}))
        except ValidationError:
            # Only a hand-edited row can be invalid (the API validates): fall back to the
            # shipped thresholds rather than failing every event of the consumer.
            params = parse_params(rule_id, {})
        rules[rule_id] = Rule(shipped, bool(row.enabled), params, row.updated_at, row.updated_by)
    return rules


# The hooks read the rules on every event; a round trip to the store costs as much as the
# rule itself. Kept per database for a few seconds: an officer's change reaches this
# process at once (update_rule forgets it) and every other process within CACHE_SECONDS.
CACHE_SECONDS = 10.0
_cache: dict[str, tuple[float, dict[str, Rule]]] = {}


def load_rules(session: Session) -> dict[str, Rule]:
    """Every rule as it applies now, for evaluation (cached briefly, see above)."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    rules = current_rules(session)
    _cache[key] = (time.monotonic(), rules)
    return rules


def forget_cached_rules(session: Session) -> None:
    _cache.pop(session.get_bind().engine.url.render_as_string(hide_password=True), None)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
