"""Who may call scoring: credit officers (信用监管) and admins, each within jurisdiction.
Classes are internal (内部参考): no scoring endpoint is open to the public."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require_roles
from shared.errors import Forbidden

CreditOfficer = Annotated[Principal, Depends(require_roles(Role.CREDIT_OFFICER))]


def ensure_province_level(principal: Principal) -> None:
    """Province-wide acts (model changes, monthly runs, national export) need a
    province-level officer (region 14xxxx → prefix "14") or an admin."""
    if principal.role != Role.ADMIN and len(principal.region_prefix) > 2:
        raise Forbidden(
            "仅省级信用监管人员可执行此操作",
            message_en="only province-level credit officers may do this",
        )
