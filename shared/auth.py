"""Bearer-token auth carrying role and jurisdiction (a GB/T 2260 region code).

Tokens are HS256 JWTs signed with AUTH_SECRET. Jurisdiction: a province code (140000)
covers every region starting with "14", a city (140500) every one starting with "1405",
a county (140521) itself only. Mint local tokens with ``python -m shared.auth mint``.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request

from shared.errors import Forbidden, Unauthorized

REGION_CODE = re.compile(r"[0-9]{6}")


class Role(StrEnum):
    ADMIN = "admin"  # system administrator, everything in jurisdiction
    REGISTRY_CLERK = "registry_clerk"  # maintains the two directories (两库)
    CREDIT_OFFICER = "credit_officer"  # 信用监管科: models, classes, warnings
    BUSINESS_OFFICER = "business_officer"  # 业务条线: plans, tasks, draws
    INSPECTOR = "inspector"  # 执法检查人员: assignments and results
    SERVICE = "service"  # another government system or one of our services


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    region: str

    @property
    def region_prefix(self) -> str:
        return region_prefix(self.region)

    def covers(self, region_code: str | None) -> bool:
        return region_code is not None and region_code.startswith(self.region_prefix)


def region_prefix(code: str) -> str:
    """140000 -> "14", 140500 -> "1405", 140521 -> "140521"."""
    code = code.strip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def checked_region(region: str) -> str:
    """A jurisdiction must be a 6-digit GB/T 2260 code: a shorter or empty one would turn
    into a prefix covering other provinces (or everything)."""
    if not REGION_CODE.fullmatch(region):
        raise ValueError(f"jurisdiction must be a 6-digit region code, not {region!r}")
    return region


def mint_token(
    secret: str, *, subject: str, role: Role | str, region: str, ttl_seconds: int = 8 * 3600
) -> str:
    checked_region(region)
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": str(Role(role)),
        "region": region,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
        region = checked_region(str(claims["region"]))
        return Principal(subject=claims["sub"], role=Role(claims["role"]), region=region)
    except jwt.ExpiredSignatureError as e:
        raise Unauthorized("令牌已过期", message_en="token expired") from e
    except (jwt.InvalidTokenError, KeyError, ValueError) as e:
        raise Unauthorized("令牌无效", message_en="invalid token") from e


def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "需要登录令牌 (Authorization: Bearer …)", message_en="bearer token required"
        )
    secret = request.app.state.settings.auth_secret
    return decode_token(secret, token.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


ROLE_ZH = {
    Role.ADMIN: "系统管理员",
    Role.REGISTRY_CLERK: "名录库管理人员",
    Role.CREDIT_OFFICER: "信用监管人员",
    Role.BUSINESS_OFFICER: "业务科室人员",
    Role.INSPECTOR: "执法检查人员",
    Role.SERVICE: "系统对接",
}


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """Dependency factory: the caller must hold one of ``roles`` (admin always may). Use
    the guards of ``shared.access`` in routes; they name the data each one protects."""
    allowed = sorted({*roles, Role.ADMIN})

    def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"当前角色（{ROLE_ZH[principal.role]}）无权执行此操作，需要："
                + "、".join(ROLE_ZH[r] for r in allowed),
                message_en=f"role {principal.role.value} may not do this; needs one of "
                + ", ".join(r.value for r in allowed),
            )
        return principal

    return dependency


def ensure_province_level(principal: Principal) -> None:
    """Province-wide acts (models, monthly runs, warning rules, the audit log, tag rules,
    the tag list, the national export) need a token of the province itself (prefix "14").
    An admin of a county is a county's admin: the role does not widen the region."""
    if len(principal.region_prefix) > 2:
        raise Forbidden(
            "仅省级人员可执行此操作", message_en="only province-level officers may do this"
        )


def ensure_covers(principal: Principal, region_code: str | None) -> None:
    if not principal.covers(region_code):
        raise Forbidden("该对象不在您的辖区内", message_en="object outside your jurisdiction")


def main(argv: Iterable[str] | None = None) -> None:
    from shared.settings import ServiceSettings

    parser = argparse.ArgumentParser(
        prog="python -m shared.auth", description="Mint a local bearer token"
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    mint = sub.add_parser("mint", help="print a token signed with AUTH_SECRET")
    mint.add_argument("--subject", default="local-officer")
    mint.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    mint.add_argument("--region", default="140000", help="GB/T 2260 code of the jurisdiction")
    mint.add_argument("--ttl-hours", type=float, default=8)
    args = parser.parse_args(list(argv) if argv is not None else None)
    secret = ServiceSettings().auth_secret
    print(
        mint_token(
            secret,
            subject=args.subject,
            role=args.role,
            region=args.region,
            ttl_seconds=int(args.ttl_hours * 3600),
        )
    )


if __name__ == "__main__":
    main()
