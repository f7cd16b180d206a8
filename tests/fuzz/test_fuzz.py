"""Every operation of every service, fuzzed with valid tokens (a province admin and a
county officer): no 5xx, every answer conforms to the schema the service publishes, and
every error answer is the shared error format.

What fails the run:
- a 5xx answer (``not_a_server_error``). In-process an unhandled exception reaches the
  test itself (Starlette sends the 500, then re-raises): it fails the operation with its
  traceback and the request that caused it;
- a body or content type outside the operation's declared response schema
  (``response_schema_conformance``, ``content_type_conformance``);
- a 4xx/5xx body that is not ``{"error": {"code", "message", "message_en", …}}``
  (``error_envelope``, below): the statuses the services answer on purpose (401, 403, 404,
  409) are not declared in their OpenAPI, so ``status_code_conformance`` would fail on
  every refused or missing object and is not run; this checks what they send instead;
- an exception in a thread the request started (a monthly run that crashes after its 202).

Bounded: ``max_examples`` per operation for the fuzzing phase, plus schemathesis' finite
example and coverage phases; derandomized, so CI is reproducible. ``CS_FUZZ_EXAMPLES``
raises the bound for a longer local run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import Target

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

schema = schemathesis.pytest.from_fixture("fuzz_schema")

ERROR_FIELDS = ("code", "message", "message_en")


def error_envelope(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Error answers carry the one error format of shared/errors.py."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and all(isinstance(error.get(k), str) for k in ERROR_FIELDS)):
        raise AssertionError(
            f"{response.status_code} answer is not the shared error format "
            f'{{"error": {{"code", "message", "message_en"}}}}: {response.text[:300]!r}'
        )


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
    negative_data_rejection,
    error_envelope,
]


@settings(
    max_examples=int(os.environ.get("CS_FUZZ_EXAMPLES", "50")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@schema.parametrize()
def test_fuzz(case: schemathesis.Case, fuzz_target: Target) -> None:
    case.call_and_validate(headers=fuzz_target.headers, checks=CHECKS)
