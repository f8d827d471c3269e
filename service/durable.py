"""Durable delivery: what TikTok (or Secret Manager) would not take in time goes to Pub/Sub.

Words used here:

- *retry topic*: ``TIKTOK_RETRY_TOPIC``. A push subscription on it hands every message back
  to the function (``POST /pubsub``) until TikTok takes it, then a dead-letter topic keeps it.
- *queued message*: one TikTok request body, exactly the bytes that would have been posted
  (personal data hashed as TikTok gets it; the token is never in a request body), with the
  attributes :data:`KIND` and the request's ``event_source``, ``event_source_id``, ``events``
  (how many) and ``queued_at`` (when it was first queued, RFC 3339 in UTC). A TikTok request
  is at most 1 MiB (``tiktok_mapper.sizing``), so a message is always far under Pub/Sub's
  10 MB: no compression.
- *keeping*: publishing the ``unavailable`` spans of a call (``service.delivery``) at its end,
  in as few publish requests as Pub/Sub's limits allow; each one published is ``queued``. A
  span whose publishing failed stays ``unavailable`` (the answer is the 503 it was without a
  retry topic, so a resend stays safe), and the failure is logged with the topic's name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from service.delivery import Settled
from service.logs import Logger
from service.pubsub import Message, PubSub, PubSubError
from service.tiktok import Outcome

KIND = "tiktok_request"  # the attribute "kind" of a queued message


def queued_at(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message(settled: Settled, now: float) -> Message:
    """The queued message of a span that could not be delivered."""
    batch = settled.span.batch
    attributes = {
        "kind": KIND,
        "event_source": batch.event_source,
        "event_source_id": batch.event_source_id,
        "events": str(settled.span.size),
        "queued_at": queued_at(now),
    }
    return Message(settled.payload, attributes)


class RetryTopic:
    def __init__(
        self,
        topic: str,
        pubsub: PubSub,
        logger: Logger,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.topic = topic
        self.pubsub = pubsub
        self.logger = logger
        self.clock = clock

    def keep(self, settled: list[Settled], trace: str | None = None) -> list[Settled]:
        """``settled`` with each ``unavailable`` span published and ``queued``, as far as
        publishing went."""
        waiting = [index for index, one in enumerate(settled) if one.outcome.kind == "unavailable"]
        if not waiting:
            return settled
        now = self.clock()
        try:
            ids = self.pubsub.publish(self.topic, [message(settled[i], now) for i in waiting])
        except PubSubError as error:
            ids = error.published
            self.logger.emit(
                "ERROR",
                f"TIKTOK_RETRY_TOPIC: {error.message}; "
                f"{len(waiting) - len(ids)} TikTok requests were not queued",
                trace=trace,
                topic=self.topic,
                error=error.kind,
            )
        kept = list(settled)
        for index, message_id in zip(waiting, ids, strict=False):
            was = settled[index].outcome
            outcome = Outcome("queued", message=f"queued: {was.message}", attempts=was.attempts)
            kept[index] = replace(settled[index], outcome=outcome, message_id=message_id)
        return kept
