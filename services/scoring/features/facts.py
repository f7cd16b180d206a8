"""What scoring keeps of each incoming record: the facts its indicators count, and the
latest annual report. One function per source so that the consumer (one event at a time)
and the bulk loader (millions of registry rows) keep exactly the same facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.events import INSPECTION_RESULTS, PROBLEM_RESULTS, RESULT_BY_CHINESE

# Facts kept beside the countable kinds of indicators/spec.py: removals end a listing.
LIST_KINDS = {
    "abnormal_listed": "abnormal_removed",
    "dishonest_listed": "dishonest_removed",
}
DETAIL_MAX = 40


@dataclass(frozen=True)
class Fact:
    source_id: str
    code: str
    kind: str
    detail: str | None
    occurred_on: date
    amount: float | None = None

    def row(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "code": self.code,
            "kind": self.kind,
            "detail": self.detail,
            "occurred_on": self.occurred_on,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class AnnualReport:
    code: str
    year: int
    all_zero: bool
    reported_on: date


def latest_due_report_year(as_of: date) -> int:
    """The latest year whose annual report has fallen due on ``as_of``: the report for
    year Y is due by 30 June of Y + 1 (企业年度报告公示)."""
    return as_of.year - 1 if (as_of.month, as_of.day) > (6, 30) else as_of.year - 2


def _detail(value: Any) -> str | None:
    return None if value is None else str(value)[:DETAIL_MAX]


def result_key(value: str) -> str | None:
    """A result category as key, from the key itself or its Chinese wording."""
    if value in INSPECTION_RESULTS:
        return value
    return RESULT_BY_CHINESE.get(value)


def from_record(
    record_id: str, code: str, kind: str, occurred_on: date, payload: Mapping[str, Any]
) -> Fact | AnnualReport | None:
    """The fact (or annual report) of one registry record; None for records that no
    indicator reads (registration, filing, licence, pledges …)."""

    def fact(fact_kind: str, detail: Any = None, amount: float | None = None) -> Fact:
        return Fact(record_id, code, fact_kind, _detail(detail), occurred_on, amount)

    if kind == "penalty":
        amount = payload.get("amount")
        return fact("penalty", payload.get("severity"), float(amount) if amount else None)
    if kind in LIST_KINDS or kind in LIST_KINDS.values():
        return fact(kind)
    if kind == "complaint":
        return fact("complaint", payload.get("category"))
    if kind == "change":
        return fact("change", payload.get("field"))
    if kind == "inspection_result":
        key = result_key(str(payload.get("result", "")))
        if key is None:
            return None
        return fact("inspection_problem" if key in PROBLEM_RESULTS else "inspection_clean", key)
    if kind == "sampling_failure":
        return fact("sampling_failure", payload.get("item"))
    if kind == "department_push" and payload.get("adverse"):
        return fact("adverse_push", payload.get("category"))
    if kind == "annual_report" and "year" in payload:
        return AnnualReport(code, int(payload["year"]), bool(payload.get("all_zero")), occurred_on)
    return None


def from_inspection_result(
    visit_id: str, item: str, code: str, results: list[str], finished_on: date
) -> Fact:
    """One inspected item of a sampling visit (the closed loop): a problem raises risk."""
    problem = [r for r in results if r in PROBLEM_RESULTS]
    kind = "inspection_problem" if problem else "inspection_clean"
    detail = problem[0] if problem else results[0]
    return Fact(f"visit:{visit_id}:{item}"[:100], code, kind, detail, finished_on)
