"""Who may call scoring: credit officers (信用监管) and admins, each within jurisdiction.
Classes are internal (内部参考): no scoring endpoint is open to the public."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require_roles

CreditOfficer = Annotated[Principal, Depends(require_roles(Role.CREDIT_OFFICER))]
