"""Admission: how many body bytes one instance works on at once, so its memory stays bounded.

Words used here:

- *weight*: what a request asks of the instance's memory: the length of its body in bytes. A
  parsed and mapped body takes several times its length (about 8 times for real events, up to
  about 70 times for a body made of a million empty objects: see the README's Performance),
  for as long as the request is worked on, TikTok's answers included.
- *budget*: the weight all requests of the instance may hold together
  (``ADMISSION_BUDGET_BYTES``). A request waits until its weight fits; one heavier than the
  whole budget waits until it is alone. Small requests (one event, a few kilobytes) never wait
  in practice: the budget is the size of a few of the largest bodies.
- *waiting*: bounded by ``patience`` seconds (half ``TIKTOK_RETRY_DEADLINE_SECONDS``, see
  ``service.app``); a request still not admitted then is answered 503
  with ``Retry-After``, so the sender sends it again later and nothing is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Admission:
    def __init__(self, budget: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self.held = 0
        self.clock = clock
        self._changed = threading.Condition()

    def enter(self, weight: int, patience: float) -> bool:
        """Hold ``weight`` (capped at the budget); ``False`` if it did not fit in time."""
        weight = min(weight, self.budget)
        give_up = self.clock() + patience
        with self._changed:
            while self.held + weight > self.budget:
                left = give_up - self.clock()
                if left <= 0:
                    return False
                self._changed.wait(left)
            self.held += weight
            return True

    def leave(self, weight: int) -> None:
        """Give back what :meth:`enter` held for ``weight``."""
        with self._changed:
            self.held -= min(weight, self.budget)
            self._changed.notify_all()
