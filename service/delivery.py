"""Delivery: posting the planned requests to the TikTok Events API and settling every event.

Words used here:

- *batch*: one planned request (``tiktok_mapper.pipeline.Batch``), cut into *parts* no larger
  than ``tiktok_mapper.sizing.MAX_REQUEST_BYTES`` (the same parts a dry run shows); a part is
  also a half of a refused part, sent on its own.
- *call*: one ``deliver(plan)``; it has one token, one retry deadline
  (``TIKTOK_RETRY_DEADLINE_SECONDS``) and one budget of :data:`MAX_REQUESTS_PER_CALL` TikTok
  requests for all its parts, retries and splits.
- *splitting*: TikTok refuses a whole request when one of its events is bad, or when it is too
  large. When a part of several events is refused so (``service.tiktok.Outcome.splittable``),
  each half is sent on its own, recursively, so only the guilty events end ``failed``.
  Splitting stops when the deadline has passed or the budget is spent: what is left fails with
  the refusal of the part that carried it.
- *settled part*: a part whose answer decides the status of its events; each is one entry of
  ``requests[]`` (with TikTok's ``request_id``, or ``code`` and ``message``).
- *giving up*: once a part ran out of retries, TikTok is taken as down for the rest of the call:
  later parts are not tried and fail ``unavailable`` too (the sender will send everything again).
  So are parts not yet tried when the deadline has passed or the budget is spent.

A failed event carries ``error``: ``unavailable`` (HTTP 503), ``misconfigured`` (500) or
``refused`` (502 or 207), as ``tiktok_mapper.report`` expects. Messages and logs carry no text
of TikTok's (``service.tiktok``): nothing we sent can come back through them.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from service.logs import Logger
from service.retry import Backoff, Budget, Deadline
from service.secret_manager import Missing, Secret, SecretError
from service.settings import Settings
from service.tiktok import Outcome, TikTokClient
from tiktok_mapper import sizing
from tiktok_mapper.pipeline import Batch, Plan

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


@dataclass
class Call:
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
        if self.budget.left <= 0:
            return BUDGET_SPENT
        return None


class Delivery:
    def __init__(
        self,
        settings: Settings,
        token: Secret | None = None,
        logger: Logger | None = None,
    ) -> None:
        self.settings = settings
        self.token: Secret = token or Missing(UNCONFIGURED)
        self.backoff = Backoff.within(settings.retry_deadline_seconds)
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

    def deliver(self, plan: Plan, trace: str | None = None) -> list[dict[str, Any]]:
        """Send every batch; mark each event ``sent`` or ``failed``; return the request entries."""
        if not plan.batches:
            return []
        deadline = self.backoff.deadline(self.settings.retry_deadline_seconds)
        call = Call(deadline, trace, Budget(MAX_REQUESTS_PER_CALL))
        try:
            call.token = self.token.get()
        except SecretError as error:
            outcome = Outcome(error.kind, message=error.message)
            return [
                self.settle(plan, batch, batch.indices, batch.events, outcome, call)
                for batch in plan.batches
            ]
        entries: list[dict[str, Any]] = []
        for batch in plan.batches:
            for part in sizing.parts(batch.body()):
                indices = batch.indices[part.start : part.end]
                events = batch.events[part.start : part.end]
                if part.too_large:
                    outcome = Outcome("refused", message=sizing.too_large(part.size))
                    entries.append(self.settle(plan, batch, indices, events, outcome, call))
                else:
                    entries.extend(self.send(plan, batch, indices, events, call, part.payload))
        return entries

    def send(
        self,
        plan: Plan,
        batch: Batch,
        indices: list[int],
        events: list[dict[str, Any]],
        call: Call,
        payload: bytes | None = None,
        refusal: Outcome | None = None,
    ) -> list[dict[str, Any]]:
        """Send one part; split it when TikTok refuses it so; the settled entries.

        ``payload`` is the part serialized, when the caller has it; ``refusal`` is the answer to
        the request this part was split from: when no new request may start, the part is not
        sent and keeps that answer.
        """
        if call.gave_up is not None:
            outcome = Outcome("unavailable", message="not sent: " + call.gave_up.message)
            outcome.retry_after = call.gave_up.retry_after
            return [self.settle(plan, batch, indices, events, outcome, call)]
        stopped = call.stopped()
        if stopped is not None:
            outcome = refusal or Outcome("unavailable", message=stopped)
            return [self.settle(plan, batch, indices, events, outcome, call)]
        payload = payload or sizing.payload({**batch.body(), "data": events})
        outcome = self.post(batch, events, payload, call)
        if outcome.auth_refused and not call.token_refreshed and call.stopped() is None:
            outcome = self.with_fresh_token(batch, events, payload, call, outcome)
        if outcome.splittable and len(events) > 1 and call.stopped() is None:
            half = len(events) // 2
            self.log(
                call, "WARNING", "TikTok refused a request: splitting it", batch, events, outcome
            )
            return self.send(
                plan, batch, indices[:half], events[:half], call, refusal=outcome
            ) + self.send(plan, batch, indices[half:], events[half:], call, refusal=outcome)
        if outcome.kind == "unavailable":
            call.gave_up = outcome
        return [self.settle(plan, batch, indices, events, outcome, call)]

    def post(
        self, batch: Batch, events: list[dict[str, Any]], payload: bytes, call: Call
    ) -> Outcome:
        def on_retry(outcome: Outcome, wait: float) -> None:
            self.log(
                call,
                "WARNING",
                f"TikTok: retrying in {round(wait * 1000)} ms",
                batch,
                events,
                outcome,
            )

        return self.client.send(payload, call.token, call.deadline, on_retry, call.budget)

    def with_fresh_token(
        self,
        batch: Batch,
        events: list[dict[str, Any]],
        payload: bytes,
        call: Call,
        refusal: Outcome,
    ) -> Outcome:
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
        self.log(
            call,
            "WARNING",
            "TikTok refused the token: sending again with the new one",
            batch,
            events,
            refusal,
        )
        return self.post(batch, events, payload, call)

    def settle(
        self,
        plan: Plan,
        batch: Batch,
        indices: list[int],
        events: list[dict[str, Any]],
        outcome: Outcome,
        call: Call,
    ) -> dict[str, Any]:
        """Write the outcome into the events' results; the ``requests[]`` entry of the part."""
        entry = {**batch.entry(), "events": len(events)}
        if outcome.kind == "sent":
            entry.update(status="sent", request_id=outcome.request_id)
            if outcome.warnings:
                entry["warnings"] = outcome.warnings
                self.log(
                    call, "WARNING", "TikTok accepted a request in part", batch, events, outcome
                )
            for index in indices:
                plan.results[index]["status"] = "sent"
            return entry
        failure: dict[str, Any] = {"status": "failed", "error": outcome.kind}
        if outcome.code is not None:
            failure["code"] = outcome.code
        failure["message"] = outcome.message
        entry.update(failure)
        if outcome.request_id:
            entry["request_id"] = outcome.request_id
        if outcome.kind == "unavailable" and outcome.retry_after:
            entry["retry_after"] = math.ceil(outcome.retry_after)
        for index in indices:
            plan.results[index].update(failure)
        self.log(call, "ERROR", FAILURES[outcome.kind], batch, events, outcome)
        return entry

    def log(
        self,
        call: Call,
        severity: str,
        message: str,
        batch: Batch,
        events: list[dict[str, Any]],
        outcome: Outcome,
    ) -> None:
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
        )
