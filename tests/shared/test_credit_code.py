from __future__ import annotations

import pytest

from shared.credit_code import (
    CHARSET,
    CodeKind,
    InvalidCreditCode,
    make_legacy,
    make_uscc,
    parse_credit_code,
    uscc_check_char,
)

# Published codes of real companies (from their own business licences).
REAL_CODES = ["91440300708461136T", "91110108551385082Q", "91350100M000100Y43"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    parsed = parse_credit_code(code.lower())  # case does not matter on input
    assert parsed.value == code and parsed.kind is CodeKind.USCC


@pytest.mark.parametrize("code", REAL_CODES)
def test_any_single_character_change_is_caught(code: str) -> None:
    for i in range(17):
        for c in CHARSET:
            if c == code[i]:
                continue
            broken = code[:i] + c + code[i + 1 :]
            # Changing one body character always changes the check character (weights are
            # coprime with 31), so the broken code must be refused, for one reason or another.
            with pytest.raises(InvalidCreditCode):
                parse_credit_code(broken)


def test_reasons_are_bilingual_and_specific() -> None:
    with pytest.raises(InvalidCreditCode) as e:
        parse_credit_code("91440300708461136")
    assert "18位" in e.value.zh and "18 characters" in e.value.en
    with pytest.raises(InvalidCreditCode) as e:
        parse_credit_code("91440300708461136I")  # I is not in the GB 32100 charset
    assert "I" in e.value.zh
    with pytest.raises(InvalidCreditCode) as e:
        parse_credit_code("B1440300708461136T")  # B is no registration authority
    assert "登记管理部门" in e.value.zh


def test_made_codes_round_trip_and_carry_their_region() -> None:
    code = make_uscc("9", "2", "140502", "MA0K1X2Y")
    parsed = parse_credit_code(code)
    assert parsed.region_code == "140502"
    assert code[-1] == uscc_check_char(code[:17])


def test_legacy_registration_numbers_are_accepted_and_flagged() -> None:
    legacy = make_legacy("14050200012345")
    parsed = parse_credit_code(legacy)
    assert parsed.kind is CodeKind.LEGACY and parsed.region_code == "140502"
    wrong = legacy[:-1] + str((int(legacy[-1]) + 1) % 10)
    with pytest.raises(InvalidCreditCode):
        parse_credit_code(wrong)
    with pytest.raises(InvalidCreditCode):
        parse_credit_code(legacy, allow_legacy=False)
