"""Delivery: posting the planned requests to the TikTok Events API, and saying what happened.

Words used here:

- *batch*: one planned request (``tiktok_mapper.pipeline.Batch``), cut into *parts* no larger
  than ``tiktok_mapper.sizing.MAX_REQUEST_BYTES`` (the same parts a dry run shows). A *span*
  is a run of a batch's events sent as one request: a part, or a half of a refused span.
- *call*: one :meth:`Delivery.deliver`; its context (:class:`Call`) has one token, one retry
  deadline (``TIKTOK_RETRY_DEADLINE_SECONDS``) and one budget of :data:`MAX_REQUESTS_PER_CALL`
  TikTok requests for all its spans, retries and splits.
- *splitting*: TikTok refuses a whole request when one of its events is bad, or when it is too
  large. When a span of several events is refused so (``service.tiktok.Outcome.splittable``),
  each half is sent on its own, recursively, so only the guilty events end ``failed``.
  Splitting stops when the deadline has passed or the budget is spent: what is left fails with
  the refusal of the span that carried it.
- *settled span* (:class:`Settled`): a span, its payload and the outcome that decides the
  status of its events. A call returns them, in event order; each is one entry of
  ``requests[]`` (``tiktok_mapper.report.TikTokRequest``). Nothing else is written anywhere:
  the pipeline's results and the outcomes are never changed.
- *giving up*: once a span ran out of retries, TikTok is taken as down for the rest of the
  call: later spans are not tried and are ``unavailable`` too (the sender will send everything
  again, or they are queued). So are spans not yet tried when the deadline has passed or the
  budget is spent.
- *queued*: with a retry topic (``service.durable``), the ``unavailable`` spans of a call are
  published to Pub/Sub at its end, exactly as they would have been posted, and become
  ``queued``; a call made for a message Pub/Sub pushed back never queues (Pub/Sub itself
  delivers it again).

An outcome that is not ``sent`` or ``queued`` is a failure, whose ``error`` is its kind:
``unavailable`` (HTTP 503), ``misconfigured`` (500) or ``refused`` (502 or 207), as
``tiktok_mapper.report`` expects. Messages and logs carry no text of TikTok's
(``service.tiktok``): nothing we sent can come back through them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.logs import Logger
from service.retry import Backoff, Budget, Deadline
from service.secret_manager import Missing, Secret, SecretError
from service.settings import Settings
from service.tiktok import Outcome, TikTokClient
from tiktok_mapper import pipeline, sizing
from tiktok_mapper.pipeline import Batch
from tiktok_mapper.report import TikTokRequest

if TYPE_CHECKING:
    from service.durable import RetryTopic

UNCONFIGURED = "TIKTOK_ACCESS_TOKEN_SECRET (or TIKTOK_ACCESS_TOKEN) is not set"
# TikTok requests one incoming request may cause, retries and splits together: finding one bad
# event among 1000 takes about 20, a few retries on top fit; without a bound, a batch TikTok
# refuses whole is split down to every event (1999 requests) against TikTok's rate limits.
MAX_REQUESTS_PER_CALL = 100
FAILURES = {
    "refused": "a request was refused",
    "unavailable": "a request could not be delivered in time",
    "misconfigured": "a request was not sent: the configuration is incomplete",
}
DEADLINE_PASSED = "not sent: the retry deadline had passed"
BUDGET_SPENT = f"not sent: the call had made its {MAX_REQUESTS_PER_CALL} TikTok requests"


@dataclass(frozen=True, slots=True)
class Span:
    batch: Batch
    start: int
    end: int

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.batch.events[self.start : self.end]

    @property
    def indices(self) -> list[int]:
        return self.batch.indices[self.start : self.end]

    @property
    def size(self) -> int:
        """How many events."""
        return self.end - self.start

    def halves(self) -> tuple[Span, Span]:
        middle = self.start + self.size // 2
        return Span(self.batch, self.start, middle), Span(self.batch, middle, self.end)

    def payload(self) -> bytes:
        return sizing.payload({**self.batch.body(), "data": self.events})


@dataclass(frozen=True, slots=True)
class Settled:
    span: Span
    payload: bytes  # as posted, or as it would have been; empty for an event too large
    outcome: Outcome
    message_id: str | None = None  # Pub/Sub's, once queued

    def request(self) -> TikTokRequest:
        """Its entry of ``requests[]``, and the results it settles."""
        outcome = self.outcome
        entry: dict[str, Any] = {**self.span.batch.entry(), "events": self.span.size}
        if outcome.kind == "sent":
            entry.update(status="sent", request_id=outcome.request_id)
            if outcome.warnings:
                entry["warnings"] = list(outcome.warnings)
        elif outcome.kind == "queued":
            entry.update(status="queued", message=outcome.message, message_id=self.message_id)
        else:
            entry.update(status="failed", error=outcome.kind)
            if outcome.code is not None:
                entry["code"] = outcome.code
            entry["message"] = outcome.message
            if outcome.request_id:
                entry["request_id"] = outcome.request_id
            if outcome.kind == "unavailable" and outcome.retry_after:
                entry["retry_after"] = math.ceil(outcome.retry_after)
        return TikTokRequest(self.span.indices, entry)


@dataclass
class Call:
    """What one call shares between its spans."""

    deadline: Deadline
    trace: str | None
    budget: Budget
    token: str = ""
    token_refreshed: bool = False
    gave_up: Outcome | None = None

    def stopped(self) -> str | None:
        """Why no new request may start, if none may."""
        if self.deadline.remaining() <= 0:
            return DEADLINE_PASSED
        if self.budget.spare <= 0:
            return BUDGET_SPENT
        return None


class Delivery:
    def __init__(
        self,
        settings: Settings,
        token: Secret | None = None,
        logger: Logger | None = None,
        retry_topic: RetryTopic | None = None,
    ) -> None:
        self.settings = settings
        self.token: Secret = token or Missing(UNCONFIGURED)
        self.backoff = Backoff.within(settings.retry_deadline_seconds)
        self.retry_topic = retry_topic
        self._client: TikTokClient | None = None
        self._client_lock = threading.Lock()
        self.logger = logger or Logger(settings.log_level, settings.google_cloud_project)

    @property
    def client(self) -> TikTokClient:
        """The one client of this instance, made on first use (a dry run never needs it)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = TikTokClient(self.settings.api_url, self.backoff)
        return self._client

    def deliver(
        self, batches: Sequence[Batch], trace: str | None = None, queue: bool = True
    ) -> list[Settled]:
        """Send every batch; what happened to each span, in event order. ``queue``: publish
        what could not be delivered to the retry topic, when there is one."""
        if not batches:
            return []
        deadline = self.backoff.deadline(self.settings.retry_deadline_seconds)
        call = Call(deadline, trace, Budget(MAX_REQUESTS_PER_CALL))
        no_token = None
        try:
            call.token = self.token.get()
        except SecretError as error:
            no_token = Outcome(error.kind, message=error.message)
        settled: list[Settled] = []
        parts = pipeline.parts(batches)
        for number, (batch, part) in enumerate(parts):
            call.budget.held = len(parts) - number - 1  # one first try for each part after it
            span = Span(batch, part.start, part.end)
            if part.too_large:
                outcome = Outcome("refused", message=sizing.too_large(part.size))
                settled.append(Settled(span, b"", outcome))
            elif no_token is not None:
                settled.append(Settled(span, part.payload, no_token))
            else:
                settled.extend(self.send(span, call, part.payload))
        if queue and self.retry_topic is not None:
            settled = self.retry_topic.keep(settled, trace)
        for one in settled:
            self.log_settled(call, one)
        return settled

    def send(
        self, span: Span, call: Call, payload: bytes = b"", refusal: Outcome | None = None
    ) -> list[Settled]:
        """Send one span; split it when TikTok refuses it so; the settled spans.

        ``payload`` is the span serialized, when the caller has it; ``refusal`` is the answer
        to the request this span was split from: when no new request may start, the span is
        not sent and keeps that answer.
        """
        payload = payload or span.payload()
        if call.gave_up is not None:
            gave_up = call.gave_up
            outcome = Outcome(
                "unavailable",
                message="not sent: " + gave_up.message,
                retry_after=gave_up.retry_after,
            )
            return [Settled(span, payload, outcome)]
        stopped = call.stopped()
        if stopped is not None:
            return [Settled(span, payload, refusal or Outcome("unavailable", message=stopped))]
        outcome = self.post(span, payload, call)
        if outcome.auth_refused and not call.token_refreshed and call.stopped() is None:
            outcome = self.with_fresh_token(span, payload, call, outcome)
        if outcome.splittable and span.size > 1 and call.stopped() is None:
            self.log(call, "WARNING", "TikTok refused a request: splitting it", span, outcome)
            first, second = span.halves()
            return self.send(first, call, refusal=outcome) + self.send(
                second, call, refusal=outcome
            )
        if outcome.kind == "unavailable":
            call.gave_up = outcome
        return [Settled(span, payload, outcome)]

    def post(self, span: Span, payload: bytes, call: Call) -> Outcome:
        def on_retry(outcome: Outcome, wait: float) -> None:
            message = f"TikTok: retrying in {round(wait * 1000)} ms"
            self.log(call, "WARNING", message, span, outcome)

        return self.client.send(payload, call.token, call.deadline, on_retry, call.budget)

    def with_fresh_token(self, span: Span, payload: bytes, call: Call, refusal: Outcome) -> Outcome:
        """After an auth refusal: fetch the token again and, if it changed, send once more."""
        call.token_refreshed = True
        refused = call.token
        self.token.invalidate(refused)
        try:
            call.token = self.token.get()
        except SecretError as error:
            return Outcome(error.kind, message=error.message)
        if call.token == refused or call.stopped() is not None:
            return refusal
        message = "TikTok refused the token: sending again with the new one"
        self.log(call, "WARNING", message, span, refusal)
        return self.post(span, payload, call)

    def log_settled(self, call: Call, settled: Settled) -> None:
        """The log line of a span's end, when it is worth one."""
        outcome = settled.outcome
        if outcome.kind == "sent":
            if outcome.warnings:
                message = "TikTok accepted a request in part"
                self.log(call, "WARNING", message, settled.span, outcome)
        elif outcome.kind == "queued":
            message = "TikTok unavailable: a request was queued for later delivery"
            self.log(call, "WARNING", message, settled.span, outcome, settled.message_id)
        else:
            self.log(call, "ERROR", FAILURES[outcome.kind], settled.span, outcome)

    def log(
        self,
        call: Call,
        severity: str,
        message: str,
        span: Span,
        outcome: Outcome,
        message_id: str | None = None,
    ) -> None:
        batch, events = span.batch, span.events
        fields = {"message_id": message_id} if message_id else {}
        self.logger.emit(
            severity,
            message,
            trace=call.trace,
            event_source=batch.event_source,
            event_source_id=batch.event_source_id,
            events=len(events),
            event_names=sorted({event["event"] for event in events}),
            outcome=outcome.kind,
            code=outcome.code,
            detail=outcome.message,
            request_id=outcome.request_id,
            attempts=outcome.attempts,
            **fields,
        )
