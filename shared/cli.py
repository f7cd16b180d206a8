"""Command-line entry shared by the services: ``python -m services.<name> [command]``.

``serve`` (default) runs the API with its relay and consumers; ``migrate`` applies the
Alembic migrations; ``relay`` runs the outbox relay alone. A service adds its own
commands (import, generate …) through ``extra``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence

import uvicorn
from fastapi import FastAPI

from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings, env_help

Extra = dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
]


def run_service_cli(
    *,
    settings_cls: type[ServiceSettings],
    app_factory: Callable[[ServiceSettings], FastAPI],
    runtime_factory: Callable[[ServiceSettings], ServiceRuntime],
    argv: Sequence[str] | None = None,
    extra: Extra | None = None,
) -> int:
    extra = extra or {}
    name = settings_cls.model_fields["service_name"].default
    parser = argparse.ArgumentParser(
        prog=f"python -m services.{name}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="environment variables:\n" + env_help(settings_cls),
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the HTTP API with its outbox relay and consumers (default)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("relay", help="run the outbox relay alone (no HTTP)")
    for cmd, (help_text, configure, _) in extra.items():
        configure(sub.add_parser(cmd, help=help_text))
    args = parser.parse_args(argv)
    settings = settings_cls()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    command = args.command or "serve"
    if command == "serve":
        uvicorn.run(
            app_factory(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            # SIGTERM: open requests get 2 s, then the lifespan stops the background work
            # (runtime.STOP_DEADLINE_S): the process is gone within 10 s.
            timeout_graceful_shutdown=2,
        )
        return 0
    if command == "migrate":
        runtime_factory(settings).migrate()
        print(f"{name}: migrations applied")
        return 0
    if command == "relay":
        return _run_relay(runtime_factory(settings))
    return extra[command][2](args)


def _run_relay(runtime: ServiceRuntime) -> int:
    runtime.migrate()
    relay = runtime.make_relay()  # connects, and reconnects, by itself
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        relay.run(stop)  # closes its producer when it returns
    except KeyboardInterrupt:
        relay.close()
    return 0


def main_guard(fn: Callable[[], int]) -> None:
    sys.exit(fn())
