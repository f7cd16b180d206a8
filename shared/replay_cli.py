"""``python -m services.<owner> replay --stream S [--from auto|outbox|snapshot] [--since T]``:
queue a stream for the relay again (``shared.replay``), then show the relay publishing it
until done. The relay is the running service's (or ``python -m services.<owner> relay``);
this command only writes to the store, so it runs beside the service."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tqdm import tqdm

from shared.errors import AppError
from shared.replay import ReplayStream, progress, replay
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings


def replay_command(
    settings_cls: type[ServiceSettings],
    runtime_factory: Callable[[Any], ServiceRuntime],
    streams: list[ReplayStream],
) -> tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]:
    by_name = {s.name: s for s in streams}

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stream", required=True, choices=sorted(by_name))
        p.add_argument(
            "--from",
            dest="source",
            choices=["auto", "outbox", "snapshot"],
            default="auto",
            help="auto (default): the outbox if --since is within its retention, else a "
            "snapshot of the current state",
        )
        p.add_argument(
            "--since",
            type=datetime.fromisoformat,
            help="replay the outbox rows created since this moment (ISO 8601 with a zone, "
            "e.g. 2026-12-01T08:00:00+08:00)",
        )
        p.add_argument(
            "--no-wait", action="store_true", help="return once queued, not once published"
        )
        p.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the relay")

    def run(args: argparse.Namespace) -> int:
        settings = settings_cls()
        runtime = runtime_factory(settings)
        runtime.migrate()
        stream = by_name[args.stream]
        written = tqdm(desc=f"{stream.topic} queued", unit="ev", file=sys.stderr)
        try:
            ticket = replay(
                runtime.sessions,
                runtime.outbox,
                stream,
                source=args.source,
                since=args.since,
                retention=timedelta(days=settings.outbox_retention_days),
                on_rows=written.update,
            )
        except AppError as exc:
            print(
                f"replay refused ({exc.field}): {exc.message} / {exc.message_en}", file=sys.stderr
            )
            return 2
        finally:
            written.close()
        print(" ".join(f"{k}={v}" for k, v in ticket.model_dump().items()), flush=True)
        if args.no_wait:
            return 0
        return _wait_published(runtime, ticket, args.timeout)

    return "publish a stream again, from the outbox or a snapshot (resync)", configure, run


def _wait_published(runtime: ServiceRuntime, ticket: Any, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    bar = tqdm(desc=f"{ticket.topic} published", total=ticket.rows, unit="ev", file=sys.stderr)
    try:
        while True:
            with runtime.sessions() as session:
                p = progress(session, runtime.outbox.table, ticket)
            bar.total = p.rows
            bar.update(p.published - bar.n)
            if p.done:
                print(f"published={p.published}", flush=True)
                return 0
            if time.monotonic() > deadline:
                print(
                    f"published={p.published} of {p.rows}: is the relay running?",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.5)
    finally:
        bar.close()
