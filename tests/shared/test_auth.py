from __future__ import annotations

import time

import jwt
import pytest

from shared.auth import Principal, Role, decode_token, mint_token, region_prefix
from shared.errors import Unauthorized
from shared.settings import DEV_AUTH_SECRET, ServiceSettings

SECRET = "x" * 40


@pytest.mark.parametrize(
    ("code", "prefix"), [("140000", "14"), ("140500", "1405"), ("140502", "140502")]
)
def test_region_prefix(code: str, prefix: str) -> None:
    assert region_prefix(code) == prefix


def test_jurisdiction_province_city_county() -> None:
    province = Principal("p", Role.CREDIT_OFFICER, "140000")
    city = Principal("c", Role.CREDIT_OFFICER, "140500")
    county = Principal("k", Role.CREDIT_OFFICER, "140502")
    assert province.covers("141102") and city.covers("140521") and county.covers("140502")
    assert not city.covers("140105") and not county.covers("140521") and not county.covers(None)


def test_tokens_round_trip_and_refuse_tampering_and_expiry() -> None:
    token = mint_token(SECRET, subject="officer-1", role="business_officer", region="140500")
    assert decode_token(SECRET, token) == Principal("officer-1", Role.BUSINESS_OFFICER, "140500")
    with pytest.raises(Unauthorized):
        decode_token("y" * 40, token)
    forged = jwt.encode(
        {"sub": "x", "role": "admin", "region": "140000", "exp": int(time.time()) + 60},
        "not-the-secret-but-long-enough-0123456789",
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        decode_token(SECRET, forged)
    expired = mint_token(SECRET, subject="o", role="admin", region="140000", ttl_seconds=-10)
    with pytest.raises(Unauthorized):
        decode_token(SECRET, expired)


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_SECRET", raising=False)
    with pytest.raises(ValueError, match="AUTH_SECRET"):
        ServiceSettings(environment="production")
    assert (
        ServiceSettings(environment="production", auth_secret="s" * 40).auth_secret
        != DEV_AUTH_SECRET
    )


@pytest.mark.parametrize("region", ["", "14", "1405", "14050", "1400000", "14O500"])
def test_a_jurisdiction_that_is_not_a_region_code_is_refused(region: str) -> None:
    """An empty or short region would be a prefix covering every region (or several
    provinces): neither minted nor accepted from a token signed elsewhere."""
    with pytest.raises(ValueError, match="6-digit"):
        mint_token(SECRET, subject="o", role="admin", region=region)
    claims = {"sub": "o", "role": "admin", "region": region, "exp": int(time.time()) + 60}
    with pytest.raises(Unauthorized):
        decode_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"))
