"""A loopback fake of TikTok's Events API endpoint (``POST /open_api/v1.3/event/track/``).

It answers like TikTok: HTTP 200 with ``{"code", "message", "request_id", "data"}``, where a
non-zero ``code`` is a refusal. Its normal behaviour: HTTP 413 for a request body over
:attr:`max_body` bytes (a gateway's limit), when set; ``40001`` for a token not in
:attr:`tokens`; ``40061`` for a request of more than :attr:`max_events` events, when set;
``40002`` for a request that holds any event whose ``event_id`` is in :attr:`bad_event_ids`
(TikTok refuses the whole request for one bad event; the message names the batch index and
quotes the event's IP, as a validation message may); else ``0``, and the events are recorded
in :attr:`accepted`. A test scripts other answers (HTTP 503, 429 with ``Retry-After``, code
40100, a slow, trickled or endless answer, a redirect …, see ``tests.fakes.server``) with
:meth:`then`, or every answer with :attr:`always` (an outage). A scripted answer keeps its own
``request_id``, if it has one.

*Faults* (:class:`Faults`) are injected at set rates instead, for load tests: HTTP 503, code
40100, a slow answer, or a dropped connection *after* the events were accepted (the answer is
lost, so the sender will send them again); and *outages*: for the last ``outage_seconds`` of
every ``outage_period`` (counted from the first request), every request gets HTTP 503. Like TikTok, the fake deduplicates: :attr:`delivered`
counts each *delivery key* (``event_source_id``, ``event``, ``event_id``) it accepted, so a test
can check that every event arrived exactly once after deduplication, and how many repeats
TikTok would have dropped.
"""

from __future__ import annotations

import itertools
import random
import ssl
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fakes.server import LoopbackServer, Reply, Seen

PATH = "/open_api/v1.3/event/track/"
TOKEN = "tt-live-token-0001"


def coded(code: int, message: str = "", **headers: str) -> Reply:
    """An HTTP 200 answer carrying TikTok ``code`` (request ids are filled in by the fake)."""
    return Reply(200, {"code": code, "message": message, "data": {}}, headers)


@dataclass
class Faults:
    """The share of requests (0 to 1) that meet each fault; the rest are judged as usual."""

    unavailable: float = 0.0  # HTTP 503, an HTML body
    throttled: float = 0.0  # HTTP 200, code 40100
    slow: float = 0.0  # answered normally after slow_seconds
    dropped: float = 0.0  # accepted, then the connection is closed without an answer
    slow_seconds: float = 0.5
    outage_period: float = 0.0  # seconds; 0: no outages
    outage_seconds: float = 0.0
    seed: int = 7
    injected: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.started: float | None = None

    def draw(self) -> str | None:
        """The fault the next request meets, if any."""
        with self.lock:
            now = time.monotonic()
            self.started = self.started or now
            if self.outage_period:
                into = (now - self.started) % self.outage_period
                if into >= self.outage_period - self.outage_seconds:
                    self.injected["outage"] += 1
                    return "unavailable"
            roll = self.random.random()
            for kind in ("unavailable", "throttled", "slow", "dropped"):
                roll -= getattr(self, kind)
                if roll < 0:
                    self.injected[kind] += 1
                    return kind
        return None


class FakeTikTok(LoopbackServer):
    def __init__(
        self, tokens: tuple[str, ...] = (TOKEN,), tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(tls)
        self.tokens = set(tokens)
        self.bad_event_ids: set[str] = set()
        self.max_body: int | None = None
        self.max_events: int | None = None
        self.script: deque[Reply] = deque()
        self.always: Reply | None = None
        self.accepted: list[dict[str, Any]] = []  # events of requests answered with code 0
        self.delivered: Counter[tuple[str, str, str]] = Counter()  # delivery key → times accepted
        self.faults: Faults | None = None
        self.numbers = itertools.count(1)

    @property
    def endpoint(self) -> str:
        return self.url + PATH

    def then(self, *replies: Reply) -> FakeTikTok:
        self.script.extend(replies)
        return self

    def posts(self) -> list[Seen]:
        return [request for request in self.seen if request.method == "POST"]

    def answer(self, request: Seen) -> Reply:
        request_id = f"fake-request-{next(self.numbers)}"
        with self.lock:
            reply = self.always or (self.script.popleft() if self.script else None)
        fault = self.faults.draw() if reply is None and self.faults else None
        if fault == "unavailable":
            reply = Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})
        elif fault == "throttled":
            reply = coded(40100, "Too many requests. Please retry in some time.")
        if reply is None:
            reply = self.judge(request)
        if isinstance(reply.body, dict) and "code" in reply.body:
            reply = replace(reply, body={"request_id": request_id, **reply.body})
        code = reply.body.get("code") if isinstance(reply.body, dict) else None
        if reply.status == 200 and type(code) is int and code == 0:
            self.accept(request.json())
        if fault == "slow" and self.faults is not None:  # a fault is drawn from faults only
            reply.delay = self.faults.slow_seconds
        reply.drop = fault == "dropped"
        return reply

    def accept(self, body: dict[str, Any]) -> None:
        source_id = str(body.get("event_source_id"))
        with self.lock:
            self.accepted.extend(body["data"])
            self.delivered.update((source_id, e["event"], e["event_id"]) for e in body["data"])

    def judge(self, request: Seen) -> Reply:
        if request.path != PATH or request.method != "POST":
            return Reply(404, b"<html>404 Not Found</html>", {"Content-Type": "text/html"})
        if self.max_body is not None and len(request.body) > self.max_body:
            return Reply(
                413, b"<html>413 Request Entity Too Large</html>", {"Content-Type": "text/html"}
            )
        if request.headers.get("Access-Token") not in self.tokens:
            return coded(
                40001,
                "No permission to operate pixel code. You must be an admin or operator of this advertiser account.",
            )
        events = request.json()["data"]
        if self.max_events is not None and len(events) > self.max_events:
            return coded(40061, f"The batch holds {len(events)} events, over {self.max_events}")
        for index, event in enumerate(events):
            if event.get("event_id") in self.bad_event_ids:
                ip = event.get("user", {}).get("ip", "")
                return coded(40002, f"Batch.{index}.user.ip: Not a valid value {ip}".strip())
        return coded(0, "OK")
