"""A loopback fake of TikTok's Events API endpoint (``POST /open_api/v1.3/event/track/``).

It answers like TikTok: HTTP 200 with ``{"code", "message", "request_id", "data"}``, where a
non-zero ``code`` is a refusal. Its normal behaviour: ``40001`` for a token not in
:attr:`tokens`; ``40002`` for a request that holds any event whose ``event_id`` is in
:attr:`bad_event_ids` (TikTok refuses the whole request for one bad event; the message names the
batch index and quotes the event's IP, as a validation message may); else ``0``, and the events
are recorded in :attr:`accepted`. A test scripts other answers (HTTP 503, 429 with
``Retry-After``, code 40100, a slow answer …) with :meth:`then`, or every answer with
:attr:`always` (an outage).
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from tests.fakes.server import LoopbackServer, Reply, Seen

PATH = "/open_api/v1.3/event/track/"
TOKEN = "tt-live-token-0001"


def coded(code: int, message: str = "", **headers: str) -> Reply:
    """An HTTP 200 answer carrying TikTok ``code`` (request ids are filled in by the fake)."""
    return Reply(200, {"code": code, "message": message, "data": {}}, headers)


class FakeTikTok(LoopbackServer):
    def __init__(self, tokens: tuple[str, ...] = (TOKEN,)) -> None:
        super().__init__()
        self.tokens = set(tokens)
        self.bad_event_ids: set[str] = set()
        self.script: deque[Reply] = deque()
        self.always: Reply | None = None
        self.accepted: list[dict[str, Any]] = []  # events of requests answered with code 0
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
        if reply is None:
            reply = self.judge(request)
        if isinstance(reply.body, dict) and "code" in reply.body:
            reply = Reply(
                reply.status, {**reply.body, "request_id": request_id}, reply.headers, reply.delay
            )
        if reply.status == 200 and isinstance(reply.body, dict) and reply.body.get("code") == 0:
            with self.lock:
                self.accepted.extend(request.json()["data"])
        return reply

    def judge(self, request: Seen) -> Reply:
        if request.path != PATH or request.method != "POST":
            return Reply(404, b"<html>404 Not Found</html>", {"Content-Type": "text/html"})
        if request.headers.get("Access-Token") not in self.tokens:
            return coded(
                40001,
                "No permission to operate pixel code. You must be an admin or operator of this advertiser account.",
            )
        for index, event in enumerate(request.json()["data"]):
            if event.get("event_id") in self.bad_event_ids:
                ip = event.get("user", {}).get("ip", "")
                return coded(40002, f"Batch.{index}.user.ip: Not a valid value {ip}".strip())
        return coded(0, "OK")
