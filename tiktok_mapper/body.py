"""Reading a request body into a list of input events.

Words used here:

- *body*: the raw bytes a sender POSTed.
- *events*: what the body holds: one event object, a JSON array of events, or a *wrapper*
  ``{"events": [...]}``: an object whose ``events`` is an array and that has none of the keys
  that name an event (``event_name``, ``x-ttq-event-name``, ``x_ttq_event_name``), so that an
  event that happens to carry an ``events`` array is still read as an event.
- *request body*: for ``/tiktok``, an Events API request body: an object whose ``data`` is the
  array of events; its other keys (``event_source``, ``event_source_id``, ``test_event_code``)
  are the *envelope*, which applies to every event (see :func:`tiktok_request`).
- :class:`BodyError`: why the body as a whole cannot be read: an HTTP status, a short kind
  and a message that never quotes the body.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

MAX_EVENTS = 1000
EVENT_NAME_KEYS = ("event_name", "x-ttq-event-name", "x_ttq_event_name")
# A \uD800-\uDFFF escape: it may be a lone surrogate, which no UTF-8 text can hold.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class BodyError(ValueError):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotFinite(text)
    return number


# Made once: json.loads with hooks would build a new decoder for every body.
DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, finite numbers only, no lone surrogates."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "invalid_json", "the body is not valid UTF-8") from None
    try:
        document = DECODER.decode(text)
    except _NotFinite:
        raise BodyError(
            400, "invalid_json", "numbers must be finite: NaN, Infinity and 1e400 are not JSON"
        ) from None
    except RecursionError:
        raise BodyError(400, "invalid_json", "the body is nested too deeply") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise BodyError(400, "invalid_json", f"the body is not valid JSON ({where})") from None
    except ValueError:  # an integer too long for Python to read (over 4300 digits)
        raise BodyError(400, "invalid_json", "the body has a number that is too long") from None
    if SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BodyError(400, "invalid_json", "the body has a lone surrogate escape") from None
    return document


@dataclass(slots=True)
class Body:
    """The events a body holds, and its envelope (empty unless the body is a request body)."""

    events: list[Any]
    envelope: dict[str, Any] = field(default_factory=dict)


def events_of(document: Any) -> list[Any]:
    """The input events a parsed body holds (see the module docstring)."""
    if isinstance(document, list):
        events = document
    elif isinstance(document, dict):
        is_wrapper = isinstance(document.get("events"), list) and not any(
            key in document for key in EVENT_NAME_KEYS
        )
        events = document["events"] if is_wrapper else [document]
    else:
        raise BodyError(400, "invalid_body", "the body must be a JSON object or an array")
    return counted(events)


def events_body(document: Any) -> Body:
    """A body of events, with no envelope: what every route but ``/tiktok`` reads."""
    return Body(events_of(document))


def tiktok_request(document: Any) -> Body:
    """A TikTok request body (an object with ``data``, and no ``event``), else events as usual."""
    if isinstance(document, dict) and "data" in document and "event" not in document:
        data = document["data"]
        if not isinstance(data, list):
            raise BodyError(400, "invalid_body", "$.data must be an array of events")
        return Body(counted(data), {k: v for k, v in document.items() if k != "data"})
    return events_body(document)


def counted(events: list[Any]) -> list[Any]:
    """``events``, once it is known to hold between 1 and :data:`MAX_EVENTS` of them."""
    if not events:
        raise BodyError(400, "no_events", "the body holds no events")
    if len(events) > MAX_EVENTS:
        raise BodyError(
            413, "too_many_events", f"the body holds {len(events)} events; at most {MAX_EVENTS}"
        )
    return events
