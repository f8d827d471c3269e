"""Cutting a batch into requests no larger than :data:`MAX_REQUEST_BYTES`.

Words used here:

- *body*: a TikTok request body as a dict (``pipeline.Batch.body()``): the envelope
  (``event_source``, ``event_source_id``, ``test_event_code``) and ``data``, its events.
- *payload*: a body serialized as it is posted: compact JSON in UTF-8, as bytes. Its length
  is the *size* of the request.
- *part*: consecutive events ``data[start:end]`` of one body that go out as one request, with
  their payload; parts are filled in event order, each as full as the cap allows. A part of
  one event whose payload alone is over the cap is *too large*: it is never sent (its payload
  is left empty), and its event fails ``refused``.

The dry run and delivery both cut with :func:`parts`, so the payloads a dry run shows are the
requests delivery posts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# TikTok documents no size limit for an Events API request; peers that post to it cap theirs
# at 1 MB (Tealium's connector). 1 MiB of JSON keeps every request well inside what such APIs
# take, and bounds what one refused request makes us send again.
MAX_REQUEST_BYTES = 1024 * 1024

# check_circular=False: bodies are trees built from parsed JSON, and the check costs a fifth.
# ensure_ascii=False: UTF-8, so that a character outside ASCII is its 2-4 bytes, not a 6- or
# 12-byte escape (the answer, which carries the dry run's payloads, grows no faster than them).
ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)
TAIL = b"]}"  # what closes a payload after its last event: ``data`` is its last key
SAMPLE = 8  # events serialized to foretell whether a larger body fits


def payload(body: dict[str, Any]) -> bytes:
    return ENCODER.encode(body).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Part:
    start: int
    end: int
    payload: bytes
    size: int

    @property
    def too_large(self) -> bool:
        return self.size > MAX_REQUEST_BYTES


def parts(body: dict[str, Any]) -> list[Part]:
    """The parts of ``body``, in event order, each as full as the cap allows.

    A body that fits is serialized once, whole; one that does not (as a sample of its first
    events foretells, or its serialization shows), event by event, each event once.
    """
    events = body["data"]
    if len(events) > SAMPLE:
        sample = len(ENCODER.encode(events[:SAMPLE]).encode("utf-8")) * len(events) / SAMPLE
        if sample > MAX_REQUEST_BYTES:
            return _filled(body)
    whole = payload(body)
    if len(whole) <= MAX_REQUEST_BYTES:
        return [Part(0, len(events), whole, len(whole))]
    return _filled(body)


def _filled(body: dict[str, Any]) -> list[Part]:
    envelope = {key: value for key, value in body.items() if key != "data"}
    head = payload({**envelope, "data": []})[: -len(TAIL)]
    room = MAX_REQUEST_BYTES - len(head) - len(TAIL)
    events = [ENCODER.encode(event).encode("utf-8") for event in body["data"]]
    found: list[Part] = []
    start, used = 0, -1  # -1: the first event of a part has no comma before it

    def close(end: int) -> None:
        if end > start:
            data = head + b",".join(events[start:end]) + TAIL
            found.append(Part(start, end, data, len(data)))

    for index, event in enumerate(events):
        if len(event) > room:
            close(index)
            found.append(Part(index, index + 1, b"", len(head) + len(event) + len(TAIL)))
            start, used = index + 1, -1
            continue
        if used + 1 + len(event) > room:
            close(index)
            start, used = index, -1
        used += 1 + len(event)
    close(len(events))
    return found


def too_large(size: int) -> str:
    """Why a too-large event was not sent; it names sizes, never a value."""
    return (
        f"not sent: this event alone is {size} bytes of JSON, over the {MAX_REQUEST_BYTES}-byte "
        "limit of one TikTok request"
    )
