"""Bounded retrying: exponential backoff with jitter, inside a deadline and a budget.

Words used here:

- *deadline*: the instant (on a monotonic clock) after which no new attempt starts; one deadline
  covers a whole call, however many requests and retries it takes.
- *budget*: how many requests a call may still make, retries and splits together; spent, no new
  request starts, whatever time is left.
- *backoff*: the wait before attempt ``n + 1`` is ``base · 2ⁿ`` capped at ``cap``, with *jitter*
  (a random half to whole of it, so instances that failed together do not retry together), and
  never less than what the service asked for (``Retry-After``, the *hint*).

The clock and the sleep are injectable, so tests of the arithmetic neither sleep nor race.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    at: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        return self.at - self.clock()


@dataclass
class Budget:
    left: int
    # Kept for the requests not tried yet (one each), so that retrying or splitting one request
    # cannot spend what the others need for their first try.
    held: int = 0

    @property
    def spare(self) -> int:
        """What the current request may still spend."""
        return self.left - self.held

    def take(self) -> bool:
        """Spend one request: ``False`` (nothing spent) when none is spare."""
        if self.spare <= 0:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True)
class Backoff:
    base: float
    cap: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    @classmethod
    def within(
        cls,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Backoff:
        """The backoff for a deadline of ``seconds``: five or six retries fit in it."""
        return cls(base=seconds / 40, cap=seconds / 4, clock=clock, sleep=sleep)

    def deadline(self, seconds: float) -> Deadline:
        return Deadline(self.clock() + seconds, self.clock)

    def pause(self, attempt: int, deadline: Deadline, hint: float | None = None) -> float | None:
        """Sleep before retry number ``attempt + 1``; ``None`` (no sleep) when it would end
        past the deadline."""
        wait = min(self.cap, self.base * 2.0**attempt) * (0.5 + self.jitter() / 2)
        if hint is not None:
            wait = max(wait, hint)
        if wait >= deadline.remaining():
            return None
        self.sleep(wait)
        return wait
