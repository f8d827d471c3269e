"""The worst bodies we know: what a caller with access can send within the limits
(``MAX_BODY_BYTES``, 1000 events) to make one request cost the most.

Words used here:

- *worst body*: a body built to just under 4 MiB that makes one part of the work grow (many
  values, many errors, many keys, many items …); :data:`BODIES` names each with its route.
- *JSON floor*: ``json.loads`` then ``json.dumps`` of the same body, measured in the same run:
  no function that reads the body and answers can do less. The ratio to it says how much more
  the function does per byte than reading the body.
- *CPU*: the process's CPU seconds for the request through the entry point (dry run), which
  is what one core of an instance spends on it; the goal is under 5 s for any body.

Nothing here asserts a time: the figures are printed for the README.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

LIMIT = 4 * 1024 * 1024 - 1024  # a little under MAX_BODY_BYTES


def fill(
    make: Callable[[int], Any], wrap: Callable[[list[Any]], Any] = lambda events: events
) -> bytes:
    """The body of as many ``make(n)`` events (at most 1000) as fit under :data:`LIMIT`."""
    one = len(json.dumps(make(0))) + 2
    count = max(1, min(1000, LIMIT // one))
    while True:
        raw = json.dumps(wrap([make(n) for n in range(count)])).encode()
        if len(raw) <= LIMIT or count == 1:
            return raw
        count = count * LIMIT // len(raw) - 1


def values_fit(per_event: int, size: int) -> int:
    """How many values of ``size`` bytes one of 1000 events can carry under the limit."""
    return min(per_event, LIMIT // 1000 // (size + 2))


def worst_bodies() -> dict[str, tuple[str, bytes]]:
    """Name → (route, body)."""
    many = 1000
    return {
        "e-mails as arrays of empty arrays (rejected)": (
            "/tiktok",
            fill(lambda n: {"event": "Purchase", "user": {"email": [[]] * 300_000}}),
        ),
        "1000 distinct short e-mails an event": (
            "/tiktok",
            fill(lambda n: {"event": "Purchase", "user": {"email": [f"{n}.{i}@x.c" for i in range(many)]}}),
        ),
        "1000 unformatted phones an event": (
            "/tiktok",
            fill(lambda n: {"event": "Purchase", "user": {"phone": [f"+1 415 555 {i:04d}" for i in range(many)]}}),
        ),
        "5,000 unknown keys beside 1000 tiny events": (
            "/tiktok",
            json.dumps({**{f"k{i}": 1 for i in range(5000)}, "data": [{"event": "Purchase"}] * 1000}).encode(),
        ),
        "1000 unknown keys an event": (
            "/tiktok",
            fill(lambda n: {"event": "Purchase", **{f"k{i}": 0 for i in range(1000)}}),
        ),
        "1000 items an event, each breaking a schema rule (rejected)": (
            "/commandersact",
            fill(lambda n: {"event_name": "purchase", "items": [{"quantity": "x"}] * 1000}),
        ),
        "an error after 999 good values in every event (rejected)": (
            "/tiktok",
            fill(lambda n: {"event": "Purchase", "user": {"external_id": ["1"] * 999 + [[]]}}),
        ),
        "1000 empty items an event": (
            "/commandersact",
            fill(lambda n: {"event_name": "purchase", "items": [{}] * 1000}),
        ),
        "1000 items an event, each breaking a rule the schema misses (rejected)": (
            "/tiktok",
            fill(lambda n: {"event": "Purchase", "properties": {"contents": [{"price": "9e999"}] * 1000}}),
        ),
        "1000 priced items an event (GA4 sums the value)": (
            "/ga4",
            fill(lambda n: {"event_name": "purchase", "items": [{"price": 1.5, "quantity": 2}] * 1000}),
        ),
        "4 KB of custom data an event (derived event ids)": (
            "/commandersact",
            fill(lambda n: {"event_name": "purchase", "custom": {"blob": f"{n}" + "x" * 4000}}),
        ),
        "long URLs with click ids and referrers": (
            "/ga4",
            fill(lambda n: {"event_name": "page_view", "page_location": f"https://x.example/?a={'b' * 3000}&ttclid=E.C.P.{n}",
                            "page_referrer": f"https://x.example/r?ttclid={n}&{'c' * 900}"}),
        ),
    }  # fmt: skip


def measure(
    post: Callable[[str, bytes], Any],
) -> list[tuple[str, str, int, float, float, float, int]]:
    """For each worst body: name, route, body bytes, CPU seconds, ratio to the JSON floor,
    peak memory in MiB (tracemalloc), answer bytes. ``post(route, body)`` answers in dry run."""
    rows = []
    for name, (route, raw) in worst_bodies().items():
        floor = min(_cpu(json.dumps, json.loads(raw)) for _ in range(3))  # dumps of a parse…
        floor += min(_cpu(json.loads, raw) for _ in range(3))  # … and the parse itself
        cpu = min(_cpu(post, route, raw) for _ in range(2))
        tracemalloc.start()
        answer = post(route, raw)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((name, route, len(raw), cpu, cpu / floor, peak / 2**20, len(answer.get_data())))
    return rows


def _cpu(work: Callable[..., Any], *arguments: Any) -> float:
    started = time.process_time()
    work(*arguments)
    return time.process_time() - started
