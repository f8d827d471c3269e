"""What a push subscription posts to ``/pubsub``: Pub/Sub's envelope around one message."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.conftest import COMPLETE


def envelope(data: bytes, attempt: int | None = None, **attributes: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": "1234567890",
            "publishTime": "2026-11-30T10:00:00.000Z",
        },
        "subscription": "projects/test-project/subscriptions/tiktok-events-retry-push",
    }
    if attempt is not None:
        found["deliveryAttempt"] = attempt
    return found


def tiktok_request(*event_ids: str, event_source: str = "web") -> bytes:
    """A TikTok request body as the function queues it: compact JSON, ASCII."""
    events = [
        {"event": "CompletePayment", "event_time": 1764496800, "event_id": event_id,
         "properties": {"currency": "EUR", "value": 10.0}}
        for event_id in event_ids
    ]  # fmt: skip
    body = {"event_source": event_source, "event_source_id": COMPLETE["TIKTOK_PIXEL_ID"]}
    return json.dumps({**body, "data": events}, separators=(",", ":")).encode()


def queued(*event_ids: str, attempt: int | None = None) -> dict[str, Any]:
    """The push of a queued message holding ``event_ids``."""
    return envelope(
        tiktok_request(*event_ids),
        attempt,
        kind="tiktok_request",
        event_source="web",
        event_source_id=COMPLETE["TIKTOK_PIXEL_ID"],
        events=str(len(event_ids)),
        queued_at="2026-11-30T10:00:00.000000Z",
    )
