from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class VerifyReport(BaseModel):
    ok: bool
    rows: int = Field(description="rows checked (all of them when ok)")
    first_bad_seq: int | None = Field(
        default=None, description="seq of the first row that breaks the chain"
    )
    reason: str | None = None
    reason_zh: str | None = None
    head_seq: int | None = Field(
        default=None,
        description="last row of the chain; note (seq, hash) elsewhere and pass it back as "
        "the anchor to detect a deleted tail",
    )
    head_hash: str | None = None


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_after_seq: int | None = Field(
        default=None, description="pass as after_seq for the next page; null on the last page"
    )
