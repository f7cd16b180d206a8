from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker


def audit_sessions(request: Request) -> sessionmaker[Session]:
    """The session factory, for audit rows committed on their own (audit.record_committed)."""
    return request.app.state.runtime.request_sessions


AuditSessions = Annotated[sessionmaker[Session], Depends(audit_sessions)]
