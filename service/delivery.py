"""Delivery: posting the planned requests to the TikTok Events API and settling every event.

Words used here:

- *batch*: one planned request (``tiktok_mapper.pipeline.Batch``); a *part* is a batch or a
  half of a refused part, sent on its own.
- *call*: one ``deliver(plan)``; it has one token and one retry deadline
  (``TIKTOK_RETRY_DEADLINE_SECONDS``) for all its requests.
- *splitting*: TikTok refuses a whole request when one of its events is bad. When a part of
  several events is refused for its content (``service.tiktok.CONTENT_CODES``), each half is
  sent on its own, recursively, so only the guilty events end ``failed``. Splitting stops when
  the deadline has passed: what is left fails with the refusal of the part that carried it.
- *settled part*: a part whose answer decides the status of its events; each is one entry of
  ``requests[]`` (with TikTok's ``request_id``, or ``code`` and ``message``).
- *giving up*: once a part ran out of retries, TikTok is taken as down for the rest of the call:
  later parts are not tried and fail ``unavailable`` too (the sender will send everything again).

A failed event carries ``error``: ``unavailable`` (HTTP 503), ``misconfigured`` (500) or
``refused`` (502 or 207), as ``tiktok_mapper.report`` expects.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from typing import Any

from service.logs import Logger
from service.retry import Backoff, Deadline
from service.secret_manager import Missing, Secret, SecretError
from service.settings import Settings
from service.tiktok import Outcome, TikTokClient
from tiktok_mapper.pipeline import Batch, Plan

UNCONFIGURED = "TIKTOK_ACCESS_TOKEN_SECRET (or TIKTOK_ACCESS_TOKEN) is not set"
SCRUB_MIN = 4  # shorter strings are too common to be telling, and too common to scrub
SCRUBBED = "…"
MAX_MESSAGE = 500  # characters of TikTok's message passed on
FAILURES = {
    "refused": "TikTok refused a request",
    "unavailable": "a request could not be delivered in time",
    "misconfigured": "a request was not sent: the configuration is incomplete",
}


@dataclass
class Call:
    deadline: Deadline
    trace: str | None
    token: str = ""
    token_refreshed: bool = False
    gave_up: Outcome | None = None


def scrub(message: str, events: list[dict[str, Any]]) -> str:
    """TikTok's ``message`` with any string we sent in ``events`` cut out, event names aside,
    then cut to :data:`MAX_MESSAGE`: TikTok may quote a value (an IP, a URL) and answers and
    logs must not carry it. Cutting comes last, so that no value is left half-quoted."""
    values: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= SCRUB_MIN:
            values.add(value)

    for event in events:
        walk({key: value for key, value in event.items() if key != "event"})
    for value in sorted(values, key=len, reverse=True):
        message = message.replace(value, SCRUBBED)
    return message[:MAX_MESSAGE]


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
        call = Call(self.backoff.deadline(self.settings.retry_deadline_seconds), trace)
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
            entries.extend(self.send(plan, batch, batch.indices, batch.events, call))
        return entries

    def send(
        self,
        plan: Plan,
        batch: Batch,
        indices: list[int],
        events: list[dict[str, Any]],
        call: Call,
        refusal: Outcome | None = None,
    ) -> list[dict[str, Any]]:
        """Send one part; split it when TikTok refuses its content; the settled entries.

        ``refusal`` is the answer to the request this part was split from: once the deadline
        has passed, the part is not sent and keeps that answer.
        """
        if refusal is not None and call.deadline.remaining() <= 0:
            return [self.settle(plan, batch, indices, events, refusal, call)]
        if call.gave_up is not None:
            outcome = Outcome("unavailable", message="not sent: " + call.gave_up.message)
            outcome.retry_after = call.gave_up.retry_after
            return [self.settle(plan, batch, indices, events, outcome, call)]
        outcome = self.post(batch, events, call)
        if outcome.auth_refused and not call.token_refreshed:
            outcome = self.with_fresh_token(batch, events, call, outcome)
        if outcome.content_refused and len(events) > 1 and call.deadline.remaining() > 0:
            half = len(events) // 2
            self.log(
                call,
                "WARNING",
                "TikTok refused a request for its content: splitting it",
                batch,
                events,
                outcome,
            )
            return self.send(plan, batch, indices[:half], events[:half], call, outcome) + self.send(
                plan, batch, indices[half:], events[half:], call, outcome
            )
        if outcome.kind == "unavailable":
            call.gave_up = outcome
        return [self.settle(plan, batch, indices, events, outcome, call)]

    def post(self, batch: Batch, events: list[dict[str, Any]], call: Call) -> Outcome:
        def on_retry(outcome: Outcome, wait: float) -> None:
            heard = replace(outcome, message=scrub(outcome.message, events))
            self.log(call, "WARNING", f"TikTok: retrying in {wait:.2f} s", batch, events, heard)

        body = {**batch.body(), "data": events}
        outcome = self.client.send(body, call.token, call.deadline, on_retry)
        # Scrubbed here, once, so that nothing downstream (a later part's "not sent", the
        # warnings of a partial success, the answer, the logs) can carry a value TikTok quoted:
        # every outcome that reaches settle() and log() is clean.
        outcome.message = scrub(outcome.message, events)
        outcome.warnings = [scrub(warning, events) for warning in outcome.warnings]
        return outcome

    def with_fresh_token(
        self, batch: Batch, events: list[dict[str, Any]], call: Call, refusal: Outcome
    ) -> Outcome:
        """After an auth refusal: fetch the token again and, if it changed, send once more."""
        call.token_refreshed = True
        refused = call.token
        self.token.invalidate(refused)
        try:
            call.token = self.token.get()
        except SecretError as error:
            return Outcome(error.kind, message=error.message)
        if call.token == refused:
            return refusal
        self.log(
            call,
            "WARNING",
            "TikTok refused the token: sending again with the new one",
            batch,
            events,
            refusal,
        )
        return self.post(batch, events, call)

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
            tiktok_message=outcome.message,
            request_id=outcome.request_id,
            attempts=outcome.attempts,
        )
