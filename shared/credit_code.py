"""Unified social credit code (统一社会信用代码, GB 32100-2015) and the 15-digit registration
numbers (注册号, GS 15-2006) that older imports still carry.

The 18-character code is: registration authority (1) + entity type (1) + administrative
division (6, GB/T 2260) + organisation code (9, GB 11714) + check character (1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.validation import BilingualError

# GB 32100-2015 table 1: the 31 characters allowed (no I, O, S, V, Z).
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
# Weight of position i is 3**i mod 31.
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# value * weight per (position, character), precomputed: imports check millions of codes.
_TERMS = [{c: v * w for c, v in _VALUE.items()} for w in _WEIGHTS]

# Registration authority (登记管理部门) -> allowed entity-type characters (机构类别).
AUTHORITY_TYPES: dict[str, str] = {
    "1": "1239",  # 机构编制
    "2": "19",  # 外交
    "3": "12345679",  # 司法行政
    "4": "19",  # 文化
    "5": "1239",  # 民政
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商 / 市场监管
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业
    "Y": "1",  # 其他
}


class CodeKind(StrEnum):
    USCC = "uscc"  # 18-character unified social credit code
    LEGACY = "legacy"  # 15-digit registration number, accepted on import and flagged


class InvalidCreditCode(BilingualError):
    """Raised with a Chinese + English reason; callers attach the field name."""


@dataclass(frozen=True)
class CreditCode:
    value: str
    kind: CodeKind

    @property
    def region_code(self) -> str | None:
        """Administrative division embedded in the code (positions 3-8 of a USCC,
        1-6 of a registration number)."""
        return self.value[2:8] if self.kind is CodeKind.USCC else self.value[:6]


def uscc_check_char(body17: str) -> str:
    total = sum(map(dict.__getitem__, _TERMS, body17))
    return CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714 organisation-code check character for the 8-character body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, weights, strict=True)
    )
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def legacy_check_digit(body14: str) -> str:
    """ISO 7064 MOD 11,10 (GB/T 17710), used by the 15-digit registration number."""
    p = 10
    for c in body14:
        s = (p + int(c)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def fold_code(raw: str) -> str:
    """A code as typed, trimmed, with plain ASCII letters upper-cased and nothing else
    changed. ``str.upper`` would fold other characters into the alphabet ("ﬀ" into "FF",
    "ı" into "I"), so a code nobody registered could pass as one that exists."""
    return raw.strip().translate(_ASCII_UPPER)


def parse_credit_code(raw: str, *, allow_legacy: bool = True) -> CreditCode:
    """Normalise and check a code; raises InvalidCreditCode naming what is wrong. Only
    the GB 32100 alphabet is accepted, as typed (lower-case ASCII letters are upper-cased);
    full-width characters and ligatures are refused, not folded."""
    code = fold_code(raw)
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise InvalidCreditCode(
            f"含有不允许的字符: {''.join(bad)}（只允许数字和大写字母，不含 I、O、S、V、Z，且须为半角）",
            f"contains characters not allowed by GB 32100: {''.join(bad)} "
            "(digits and upper-case letters except I, O, S, V, Z, half-width only)",
        )
    if len(code) == 15 and code.isdigit():
        if not allow_legacy:
            raise InvalidCreditCode(
                "不接受15位旧注册号", "15-digit registration numbers are not accepted here"
            )
        if legacy_check_digit(code[:14]) != code[14]:
            raise InvalidCreditCode(
                "15位注册号校验位错误", "registration number check digit is wrong"
            )
        return CreditCode(code, CodeKind.LEGACY)
    if len(code) != 18:
        raise InvalidCreditCode(
            f"统一社会信用代码应为18位，实为{len(code)}位",
            f"a unified social credit code has 18 characters, got {len(code)}",
        )
    allowed_types = AUTHORITY_TYPES.get(code[0])
    if allowed_types is None or code[1] not in allowed_types:
        raise InvalidCreditCode(
            "登记管理部门或机构类别代码无效", "registration authority or entity type is invalid"
        )
    if not code[2:8].isdigit():
        raise InvalidCreditCode(
            "行政区划码应为6位数字", "the administrative division must be 6 digits"
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidCreditCode("统一社会信用代码校验位错误", "check character is wrong")
    return CreditCode(code, CodeKind.USCC)


def make_uscc(authority: str, entity_type: str, region: str, org_body8: str) -> str:
    """Build a valid code from its parts (used by the data generator and tests)."""
    if len(org_body8) != 8 or len(region) != 6:
        raise ValueError("organisation body must have 8 characters and region 6 digits")
    org = org_body8 + org_code_check_char(org_body8)
    body = authority + entity_type + region + org
    return body + uscc_check_char(body)


def make_legacy(body14: str) -> str:
    return body14 + legacy_check_digit(body14)
