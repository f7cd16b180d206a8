"""What `./dev up` (deploy/local.py) prints for a newcomer: a token for each role a person
holds, each line naming its role and region, as the README says."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from deploy.local import DemoReach, DemoTarget, demo_target, still_missing, tokens_text
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


def test_ready_only_once_the_demo_has_reached_every_service():
    target = demo_target(
        {
            "entities": {"created": 1990, "updated": 0, "unchanged": 10},
            "records": {"created": 16000, "updated": 0, "unchanged": 0},
            "inspectors": {"created": 0, "updated": 0, "unchanged": 40},
        }
    )
    assert target == DemoTarget(entities=2000, inspectors=40, records=16000)
    everywhere = DemoReach(2000, 16000, 0, 2000, 40, 2000)
    assert still_missing(target, everywhere) == []
    # Every projection full but scoring still applying records: not ready, and said so.
    assert still_missing(target, replace(everywhere, scoring_records=15999)) == [
        "scoring 15,999/16,000 records"
    ]
    # Every record applied but entities still to be scored again: not ready either.
    assert still_missing(target, replace(everywhere, scoring_unclassified=310)) == [
        "scoring 310 entities awaiting classification"
    ]
    lagging = replace(everywhere, sampling_inspectors=0, publication_entities=1200)
    assert still_missing(target, lagging) == [
        "sampling 0/40 inspectors",
        "publication 1,200/2,000 entities",
    ]
