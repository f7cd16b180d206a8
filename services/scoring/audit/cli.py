"""``python -m services.scoring audit-verify [--anchor SEQ:HASH]``: exit 0 when the chain
is intact, 1 when it is broken, 2 when the store cannot be read."""

from __future__ import annotations

import argparse
import re
import sys

from sqlalchemy.exc import DBAPIError

from shared.cli import Extra

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _anchor(value: str) -> tuple[int, str]:
    m = _ANCHOR.match(value.strip())
    if m is None:
        raise argparse.ArgumentTypeError("expected SEQ:HASH (64 lower-case hex digits)")
    return int(m.group(1)), m.group(2)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--anchor",
        type=_anchor,
        help="SEQ:HASH of a head printed by an earlier run; detects rows cut from the end",
    )


def audit_verify_command(args: argparse.Namespace) -> int:
    from services.scoring.app import build_runtime
    from services.scoring.audit.log import verify
    from services.scoring.settings import ScoringSettings
    from shared.db import transaction

    # No migrate: verifying must not change the store it checks.
    runtime = build_runtime(ScoringSettings())
    try:
        with transaction(runtime.sessions) as session:
            report = verify(session, anchor=args.anchor)
    except DBAPIError as e:
        print(f"audit-verify: cannot read the audit log: {type(e.orig).__name__}", file=sys.stderr)
        return 2
    finally:
        runtime.engine.dispose()
    if report.ok:
        print(f"audit log OK: {report.rows} rows")
        if report.head_seq is not None:
            print(f"head {report.head_seq}:{report.head_hash}  (keep it; pass as --anchor later)")
        return 0
    print(f"audit log TAMPERED at seq {report.first_bad_seq} after {report.rows} rows")
    print(f"  {report.reason}")
    print(f"  {report.reason_zh}")
    return 1


EXTRA: Extra = {
    "audit-verify": (
        "verify the audit log's hash chain (exit 0 intact, 1 tampered)",
        configure,
        audit_verify_command,
    )
}
