"""What `./dev up` (deploy/local.py) prints for a newcomer: a token for each role a person
holds, each line naming its role and region, as the README says."""

from __future__ import annotations

import re
from pathlib import Path

from deploy.local import tokens_text
from shared.auth import Role, decode_token

SECRET = "a-test-secret-of-at-least-32-characters"
README = Path(__file__).resolve().parents[2] / "README.md"
PEOPLES_ROLES = [r for r in Role if r is not Role.SERVICE]


def test_one_token_per_role_each_with_its_region():
    printed = {}
    for line in tokens_text(SECRET).splitlines():
        m = re.fullmatch(r"  (\w+) +(\d{6})  (\S+)", line)
        if m:
            printed[m[1]] = (m[2], decode_token(SECRET, m[3]))
    assert sorted(printed) == sorted(r.value for r in PEOPLES_ROLES)
    for role, (region, principal) in printed.items():
        assert (principal.role, principal.region) == (role, region)
        assert region == "140000"  # the whole demo province is in reach


def test_the_readme_says_what_dev_up_prints():
    text = README.read_text(encoding="utf-8")
    start = text.index("`./dev up` starts")
    paragraph = text[start : text.index("\n\n", start)]
    assert "an officer token" not in paragraph
    for role in PEOPLES_ROLES:
        assert f"`{role.value}`" in paragraph, role
    assert "`140000`" in paragraph
