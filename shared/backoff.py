"""Retry pacing for the background loops (relay, consumers): exponential backoff with full
jitter, so services that lost the same broker do not all knock on it in the same instant
when it comes back (AWS Architecture Blog, "Exponential Backoff And Jitter")."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base_s: float = 0.5
    cap_s: float = 30.0
    failures: int = field(default=0, init=False)

    def next_delay(self) -> float:
        """The wait before the next attempt after one more failure: uniform in
        [0, min(cap, base * 2^failures))."""
        ceiling = min(self.cap_s, self.base_s * 2**self.failures)
        self.failures += 1
        return random.uniform(0, ceiling)

    def reset(self) -> None:
        self.failures = 0
