"""TikTok pass-through: events already in the shape of TikTok's ``data[]``, made safe to send.

Words used here:

- *TikTok-shaped event*: one element of an Events API 2.0 request's ``data[]`` (``event``,
  ``event_time``, ``event_id``, ``user``, ``properties``, ``page``, ``app``, ``ad``, ``lead``,
  ``limited_data_use``), valid against the lenient ``schemas/tiktok-input.schema.json``: a
  single string where TikTok wants an array, numbers where it wants id strings.
- *envelope*: the request body's own fields (``event_source``, ``event_source_id``,
  ``test_event_code``) when the sender posted a whole request body; a bare list of events is
  ``web``. The ``event_source_id`` may only repeat the configured one: a caller cannot use our
  token for another pixel or app.
- *pass-through*: every field TikTok documents is normalised exactly as for the other routes
  (clear-text personal data hashed, hashes passed, ids as strings); a field the input schema
  does not name is left out with a warning, never silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tiktok_mapper import events_api
from tiktok_mapper import normalize as n
from tiktok_mapper.config import Config, event_source_id
from tiktok_mapper.events_api import CONTENT_RULES, REQUIRED, RULE, RULES
from tiktok_mapper.fields import (
    ALL,
    Getter,
    Path,
    QueryParam,
    Row,
    Table,
    assemble,
    finish,
    json_path,
    missing,
    paths,
    sum_value,
)
from tiktok_mapper.model import Mapped, Rejected, Skipped
from tiktok_mapper.schemas import schema

INPUT_SCHEMA = "tiktok-input.schema.json"
MAX_UNKNOWN = 10  # unknown keys named in an event's warnings; the rest are counted
ENVELOPE_KEYS = ("event_source", "event_source_id", "test_event_code")


# Beyond reading each TikTok field at its own path: a click id from the page URL, and the
# search text under the name TikTok's pixel gives it.
ALSO: dict[str, tuple[Getter, ...]] = {
    "user.ttclid": (QueryParam(Path("page.url"), "ttclid"),),
    "properties.search_string": paths("properties.query"),
}
# Every field of TikTok's table, read at its own path (then ALSO's getters)
CONTENTS = tuple(Row(paths(rule.field), rule.field) for rule in CONTENT_RULES)
ROWS = tuple(
    Row(
        (Path(rule.field), *ALSO.get(rule.field, ())),
        rule.field,
        each=CONTENTS if rule.form == events_api.CONTENTS else (),
    )
    for rule in RULES
)
TABLE = Table(ROWS, RULE)


@dataclass(frozen=True)
class Envelope:
    """What the request body says for all its events, once checked."""

    event_source: str
    test_event_code: str | None


@dataclass(frozen=True)
class PassThrough:
    config: Config

    def map(self, event: dict[str, Any], context: n.Context) -> Mapped | Skipped | Rejected:
        envelope = self.envelope(context.envelope)
        if isinstance(envelope, Rejected):
            return envelope
        given = event["event"]
        if isinstance(given, str) and given in self.config.event_mapping:
            name = self.config.event_mapping[given]
            if name is None:
                return Skipped(f"'{given}' is turned off by TIKTOK_EVENT_MAPPING")
            note = None
        else:
            try:
                name, note = n.explicit_event_name(given)
            except n.Invalid as why:
                return Rejected([{"path": "$.event", "message": str(why)}])
        built = assemble(TABLE, event, ALL, context)
        needed = REQUIRED.get(envelope.event_source)
        if needed and missing(built.data, needed):
            where = json_path(needed.split("."))
            built.errors.append(
                {"path": where, "message": f"is required for {envelope.event_source} events"}
            )
        for inner in REQUIRED.values():  # TikTok refuses an app or lead object without its id
            outer = inner.split(".")[0]
            if outer in built.data and missing(built.data, inner) and inner != needed:
                path = json_path(inner.split("."))
                built.errors.append(
                    {"path": path, "message": f"is required when $.{outer} is given"}
                )
        if built.errors:
            return Rejected(built.errors)
        warnings = []
        if note:
            warnings.append(f"event: $.event {note}")
        warnings.extend(built.warnings)
        warnings.extend(_left_out(event))
        _count_contents(built.data)
        sum_value(built.data, warnings)
        data = finish(name, built.data, event, context, warnings)
        return Mapped(envelope.event_source, data, warnings, envelope.test_event_code)

    def envelope(self, given: Mapping[str, Any]) -> Envelope | Rejected:
        """The checked envelope; errors name the request body's own fields."""
        errors: list[dict[str, str]] = []
        event_source = given.get("event_source")
        event_source = "web" if event_source is None else str(event_source).strip().lower()
        if event_source not in ALL:
            message = "of the request body must be one of " + ", ".join(n.EVENT_SOURCES)
            errors.append({"path": "$.event_source", "message": message})
        else:
            asked = given.get("event_source_id")
            configured, variable = event_source_id(self.config, event_source)
            if asked is not None and configured and _text_or_none(asked) != configured:
                message = (
                    f"of the request body must be {variable} (this function sends to its own only)"
                )
                errors.append({"path": "$.event_source_id", "message": message})
        code = given.get("test_event_code")
        if code is not None and not isinstance(code, str):
            errors.append({"path": "$.test_event_code", "message": "must be a string"})
        elif isinstance(code, str) and len(code) > n.MAX_TEXT:
            message = f"must be at most {n.MAX_TEXT} characters long"
            errors.append({"path": "$.test_event_code", "message": message})
        if errors:
            return Rejected(errors)
        return Envelope(event_source, (code or "").strip() or None)


def envelope_warnings(given: Mapping[str, Any]) -> list[str]:
    """The keys of the request body that are not sent (said once for the request)."""
    return [
        f"{_named(json_path([key]))} of the request body left out: not sent by this function"
        for key in given
        if key not in ENVELOPE_KEYS
    ]


def _text_or_none(value: Any) -> str | None:
    try:
        return n.identifier(value)
    except n.Invalid:
        return None


def _named(path: str) -> str:
    """``path``, unless a key in it is not a plain name: a sender's key may be personal data
    (``$.user['jane@example.com']``), so only its parent is named."""
    return path if "['" not in path else path[: path.index("['")] + "[…]"


def _count_contents(data: dict[str, Any]) -> None:
    """No ``num_items`` given: how many contents are sent (as for the other routes)."""
    properties = data.get("properties")
    if properties and "contents" in properties and "num_items" not in properties:
        properties["num_items"] = len(properties["contents"])


def _left_out(event: dict[str, Any]) -> list[str]:
    """Warnings for the fields of ``event`` that are not sent."""
    paths, total = schema(INPUT_SCHEMA).unknown(event, most=MAX_UNKNOWN)
    left = [f"{_named(path)} left out: not a field of TikTok's event" for path in paths]
    if total > len(paths):
        left.append(f"and {total - len(paths)} more fields left out: not fields of TikTok's event")
    properties = event.get("properties")
    if isinstance(properties, dict) and None not in (
        properties.get("search_string"),
        properties.get("query"),
    ):
        left.append("$.properties.query left out: $.properties.search_string is sent")
    return left
