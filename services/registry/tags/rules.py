"""Rule-based tags: a rule maps industry-code prefixes and/or licence kinds to a tag."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.registry.models import Tag, TagRule


@dataclass(frozen=True)
class CompiledRule:
    rule_id: int
    tag_id: int
    tag_name: str
    industry_prefixes: tuple[str, ...]
    licence_kinds: frozenset[str]

    def matches(self, industry_code: str | None, licences: Iterable[str]) -> bool:
        """Each condition the rule sets must hold; a rule with no condition matches nothing."""
        if not self.industry_prefixes and not self.licence_kinds:
            return False
        if self.industry_prefixes and not (
            industry_code and industry_code.startswith(self.industry_prefixes)
        ):
            return False
        return not self.licence_kinds or not self.licence_kinds.isdisjoint(licences)


class RuleSet:
    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = rules

    @classmethod
    def load(cls, session: Session) -> RuleSet:
        rows = session.execute(
            select(TagRule, Tag.name)
            .join(Tag, Tag.id == TagRule.tag_id)
            .where(TagRule.active.is_(True))
        ).all()
        return cls(
            [
                CompiledRule(
                    r.id,
                    r.tag_id,
                    name,
                    tuple(r.industry_prefixes or ()),
                    frozenset(r.licence_kinds or ()),
                )
                for r, name in rows
            ]
        )

    def tags_for(self, industry_code: str | None, licences: Iterable[str]) -> dict[int, str]:
        """tag id -> tag name of every rule the entity matches."""
        lic = frozenset(licences)
        return {r.tag_id: r.tag_name for r in self.rules if r.matches(industry_code, lic)}
