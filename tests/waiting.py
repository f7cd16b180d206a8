from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})"
            )
        time.sleep(interval)
        last = probe()
    return last


def wait_while_progressing(
    probe: Callable[[], T],
    *,
    progress: Callable[[], object],
    stall: float,
    what: str,
    alive: Callable[[], str | None] = lambda: None,
    interval: float = 0.1,
) -> T:
    """Poll ``probe`` until it returns something truthy. Fails at once when ``alive``
    names a death (a process that exited), and when ``progress()`` has not changed for
    ``stall`` seconds: a loaded machine that is slow but moving waits as long as it
    needs, a stuck one fails without waiting out a fixed total."""
    last_progress = progress()
    moved = time.monotonic()
    while not (last := probe()):
        if death := alive():
            raise AssertionError(f"{death} while waiting for {what} (last: {last!r})")
        now_progress = progress()
        if now_progress != last_progress:
            last_progress, moved = now_progress, time.monotonic()
        elif time.monotonic() - moved > stall:
            raise AssertionError(
                f"no progress for {stall:.0f}s waiting for {what} "
                f"(last: {last!r}, progress: {last_progress!r})"
            )
        time.sleep(interval)
    return last
