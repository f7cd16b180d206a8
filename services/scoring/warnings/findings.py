"""What a warning says: the details and evidence key (basis) of each rule's finding.

Both the per-event evaluation and the monthly scan build their findings here, so a
warning raised by either reads the same and carries the same basis — which is what keeps
a closed warning from being raised again on the same evidence.

A basis is a set of evidence items joined by newlines: a finding is new evidence only if
it has an item that no closed warning of the same entity and rule had. Details never
state a risk class or score (内部参考); "high-risk" covers class D and the
serious-dishonest list alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.scoring.features.facts import latest_due_report_year
from services.scoring.warnings import rules as R
from services.scoring.warnings.lifecycle import Finding

MAX_PEERS = 20  # enough to act on; the count says how many there are in all
BY_ADDRESS = "address"
BY_LEGAL_REPRESENTATIVE = "legal_representative"


def basis_of(items: Iterable[str]) -> str:
    return "\n".join(sorted(set(items)))


def _peers(refs: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(refs, key=lambda p: p["code"])[:MAX_PEERS]


@dataclass(frozen=True)
class RegistrationCluster:
    """Entities registered within the window at one address, or by one legal
    representative within one city (``value`` is then "city:name")."""

    by: str
    value: str
    members: tuple[dict[str, str], ...]  # peer refs, the target included
    first_registered_on: date
    last_registered_on: date

    def as_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "by": self.by,
            "entities": len(self.members),
            "first_registered_on": self.first_registered_on.isoformat(),
            "last_registered_on": self.last_registered_on.isoformat(),
            "peers": _peers(self.members),
        }
        if self.by == BY_ADDRESS:
            detail["address"] = self.value
        else:
            detail["legal_representative"] = self.value.split(":", 1)[1]
        return detail

    @property
    def basis_item(self) -> str:
        return f"{self.by}:{self.value}:{self.last_registered_on.isoformat()}"


def abnormal_registration(
    code: str,
    region_code: str,
    clusters: Sequence[RegistrationCluster],
    params: R.AbnormalRegistrationParams,
) -> Finding:
    parts_zh, parts_en = [], []
    for c in clusters:
        if c.by == BY_ADDRESS:
            parts_zh.append(f"{params.window_days}天内同一住所登记{len(c.members)}户主体")
            parts_en.append(f"{len(c.members)} entities registered at one address")
        else:
            parts_zh.append(
                f"同一法定代表人{params.window_days}天内在本市登记{len(c.members)}户主体"
            )
            parts_en.append(f"{len(c.members)} entities registered by one legal representative")
    details = {
        "summary": "；".join(parts_zh),
        "summary_en": "; ".join(parts_en) + f" within {params.window_days} days",
        "window_days": params.window_days,
        "clusters": [c.as_detail() for c in clusters],
        "basis": basis_of(c.basis_item for c in clusters),
    }
    return Finding(code, region_code, R.ABNORMAL_REGISTRATION, details)


def licences_at_address(
    code: str,
    region_code: str,
    *,
    address: str,
    licences: int,
    entities: int,
    holders: Sequence[dict[str, str]],
) -> Finding:
    details = {
        "summary": f"同一住所{entities}户在营主体合计持有{licences}张许可证",
        "summary_en": f"{entities} active entities at one address hold {licences} licences",
        "address": address,
        "licences": licences,
        "entities": entities,
        "holders": len(holders),
        "peers": _peers(holders),
        "basis": f"{address}:{licences}",
    }
    return Finding(code, region_code, R.LICENCES_AT_ADDRESS, details)


def abnormal_changes(
    code: str,
    region_code: str,
    *,
    changes: int,
    legal_representative_changes: int,
    last_change_on: date,
    params: R.AbnormalChangesParams,
) -> Finding:
    zh, en = [], []
    if changes >= params.min_changes:
        zh.append(f"{params.window_days}天内变更{changes}次")
        en.append(f"{changes} changes within {params.window_days} days")
    if legal_representative_changes >= params.min_legal_representative_changes:
        zh.append(
            f"{params.legal_representative_window_days}天内变更法定代表人"
            f"{legal_representative_changes}次"
        )
        en.append(
            f"{legal_representative_changes} changes of legal representative within "
            f"{params.legal_representative_window_days} days"
        )
    details = {
        "summary": "；".join(zh),
        "summary_en": "; ".join(en),
        "changes": changes,
        "window_days": params.window_days,
        "legal_representative_changes": legal_representative_changes,
        "legal_representative_window_days": params.legal_representative_window_days,
        "last_change_on": last_change_on.isoformat(),
        "basis": last_change_on.isoformat(),
    }
    return Finding(code, region_code, R.ABNORMAL_CHANGES, details)


def changes_qualify(changes: int, lr_changes: int, params: R.AbnormalChangesParams) -> bool:
    return changes >= params.min_changes or lr_changes >= params.min_legal_representative_changes


def complaint_threshold(baseline: int, params: R.ComplaintSurgeParams) -> float:
    """max(min_count, factor × the monthly average over the baseline months)."""
    return max(float(params.min_count), params.factor * baseline / params.baseline_months)


def complaint_surge(
    code: str,
    region_code: str,
    *,
    recent: int,
    baseline: int,
    last_complaint_on: date,
    params: R.ComplaintSurgeParams,
) -> Finding:
    average = baseline / params.baseline_months
    details = {
        "summary": (
            f"近{params.recent_days}天投诉{recent}件，"
            f"此前{params.baseline_months}个月月均{average:.1f}件"
        ),
        "summary_en": (
            f"{recent} complaints in the last {params.recent_days} days against a monthly "
            f"average of {average:.1f} over the {params.baseline_months} months before"
        ),
        "recent": recent,
        "recent_days": params.recent_days,
        "baseline": baseline,
        "baseline_months": params.baseline_months,
        "monthly_average": round(average, 2),
        "threshold": round(complaint_threshold(baseline, params), 2),
        "last_complaint_on": last_complaint_on.isoformat(),
        "basis": last_complaint_on.isoformat(),
    }
    return Finding(code, region_code, R.COMPLAINT_SURGE, details)


def first_warned_report_year(as_of: date, params: R.AllZeroAnnualReportParams) -> int:
    """The oldest report year the all-zero rule still warns on (see its params)."""
    return latest_due_report_year(as_of) - params.report_years + 1


def all_zero_annual_report(code: str, region_code: str, *, year: int) -> Finding:
    details = {
        "summary": f"{year}年度年报数据全部为零",
        "summary_en": f"the {year} annual report is all zeros",
        "year": year,
        "basis": str(year),
    }
    return Finding(code, region_code, R.ALL_ZERO_ANNUAL_REPORT, details)


def related_high_risk(code: str, region_code: str, links: Sequence[dict[str, str]]) -> Finding:
    """``links``: peer refs with ``via``. The wording is the same whether the other
    entity is class D or on the dishonest list, so the class cannot be read from it."""
    codes = {link["code"] for link in links}
    details = {
        "summary": f"与{len(codes)}户高风险或严重违法失信主体存在关联",
        "summary_en": f"related to {len(codes)} high-risk or serious-dishonest entity(ies)",
        "related": len(codes),
        "links": sorted(links, key=lambda p: (p["code"], p["via"]))[:MAX_PEERS],
        "basis": basis_of(codes),
    }
    return Finding(code, region_code, R.RELATED_HIGH_RISK, details)
