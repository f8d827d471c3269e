"""Cutting a batch into requests no larger than :data:`MAX_REQUEST_BYTES`.

Words used here:

- *body*: a TikTok request body as a dict (``pipeline.Batch.body()``): the envelope
  (``event_source``, ``event_source_id``, ``test_event_code``) and ``data``, its events.
- *payload*: a body serialized as it is posted: compact JSON, ASCII only (other characters as
  ``\\u`` escapes), as bytes. Its length is the *size* of the request.
- *part*: consecutive events ``data[start:end]`` of one body that go out as one request, with
  their payload. A part of one event whose payload alone is over the cap is *too large*: it is
  never sent (its payload is left empty), and its event fails ``refused``.

The dry run and delivery both cut with :func:`parts`, so the payloads a dry run shows are the
requests delivery posts.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

# TikTok documents no size limit for an Events API request; peers that post to it cap theirs
# at 1 MB (Tealium's connector). 1 MiB of JSON keeps every request well inside what such APIs
# take, and bounds what one bad answer can make us send again.
MAX_REQUEST_BYTES = 1024 * 1024
# A body over the cap is cut into pieces of equal event counts sized for this share of the
# cap, so that, events being of uneven size, most pieces fit at the first try.
FILL = 0.9

# check_circular=False: bodies are trees built from parsed JSON, and the check costs a fifth.
ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, check_circular=False)


def payload(body: dict[str, Any]) -> bytes:
    return ENCODER.encode(body).encode("ascii")


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
    """The parts of ``body``, in event order; one when it fits (the usual case: one encoding)."""
    return _fit(body, 0, len(body["data"]))


def _fit(body: dict[str, Any], start: int, end: int) -> list[Part]:
    encoded = payload({**body, "data": body["data"][start:end]})
    if len(encoded) <= MAX_REQUEST_BYTES:
        return [Part(start, end, encoded, len(encoded))]
    if end - start == 1:
        return [Part(start, end, b"", len(encoded))]
    count = end - start
    pieces = min(count, max(2, math.ceil(len(encoded) / (MAX_REQUEST_BYTES * FILL))))
    bounds = [start + count * k // pieces for k in range(pieces + 1)]
    return [part for a, b in itertools.pairwise(bounds) for part in _fit(body, a, b)]


def too_large(size: int) -> str:
    """Why a too-large event was not sent; it names sizes, never a value."""
    return (
        f"not sent: this event alone is {size} bytes of JSON, over the {MAX_REQUEST_BYTES}-byte "
        "limit of one TikTok request"
    )
