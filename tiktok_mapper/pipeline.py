"""From a list of input events to TikTok requests and a per-event result.

Words used here:

- *route*: how events come in: the path a sender posts to (``/commandersact``, ``/ga4``,
  ``/tiktok``), named without its slash, with how its body is read (a *reader*: parsed JSON →
  events and envelope, see ``tiktok_mapper.body``), its input schema and the mapper for its
  shape; see :func:`configure`. (``event_source`` is only ever TikTok's: ``web``, ``app`` …)
- *result*: one per input event, in input order, as the caller will read it:
  ``{"index", "status", …}``. Here the status is ``would_send``, ``skipped``, ``rejected`` or
  ``failed`` (a configuration error); a result is never changed once made: what delivery (or a
  dry run) does with an event is told by a ``tiktok_mapper.report.TikTokRequest``, and the
  answer writes it into a copy.
- *batch*: the TikTok events of one request: one (event source, event source id, test event
  code), events in input order, at most :data:`MAX_EVENTS_PER_REQUEST`. Batches come in the
  order their first event appeared.
- *plan*: the results and the batches, and the warnings about the request as a whole (a
  TikTok request body's envelope), said once rather than for each event.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tiktok_mapper import commandersact, ga4, match, sizing
from tiktok_mapper.body import Body, events_body, parse_json, tiktok_request
from tiktok_mapper.commandersact import CommandersAct
from tiktok_mapper.config import SETTINGS as SHARED_SETTINGS
from tiktok_mapper.config import Config, event_source_id
from tiktok_mapper.config import from_environment as shared_settings
from tiktok_mapper.flat import Flattened
from tiktok_mapper.ga4 import FLATTENED, Ga4
from tiktok_mapper.model import Mapped, Rejected, Skipped
from tiktok_mapper.normalize import Context
from tiktok_mapper.passthrough import PassThrough, envelope_warnings
from tiktok_mapper.report import TikTokRequest
from tiktok_mapper.schemas import Schema, schema

MAX_EVENTS_PER_REQUEST = 1000
MAX_NOTES = 20  # errors, or warnings, kept for one event (and for the request)
T = TypeVar("T")


class Mapper(Protocol):
    def map(self, event: dict[str, Any], context: Context) -> Mapped | Skipped | Rejected: ...


@dataclass(frozen=True)
class Route:
    name: str
    schema: Schema
    mapper: Mapper
    read: Callable[[Any], Body] = events_body
    # what the request body's envelope calls for, said once for the request (see Plan)
    envelope_warnings: Callable[[Mapping[str, Any]], list[str]] | None = None
    flattened: Flattened | None = None  # the flattened keys it reads (see tiktok_mapper.flat)


@dataclass
class Batch:
    event_source: str
    event_source_id: str
    test_event_code: str | None
    indices: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def entry(self) -> dict[str, Any]:
        """What the caller reads about this request in ``requests[]``."""
        return {
            "event_source": self.event_source,
            "event_source_id": self.event_source_id,
            "events": len(self.events),
        }

    def body(self) -> dict[str, Any]:
        """The Events API 2.0 request body."""
        body: dict[str, Any] = {
            "event_source": self.event_source,
            "event_source_id": self.event_source_id,
        }
        if self.test_event_code:
            body["test_event_code"] = self.test_event_code
        body["data"] = self.events
        return body


@dataclass
class Plan:
    results: list[dict[str, Any]]
    batches: list[Batch]
    warnings: list[str] = field(default_factory=list)  # about the request, not one event
    # (index, user fields) of each mapped event, for the answer's match quality summary
    match_keys: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)


@dataclass(frozen=True)
class Setup:
    """Every mapping setting, read once: the shared ones and each route's own options."""

    config: Config
    commandersact: commandersact.Options
    ga4: ga4.Options


# Every variable of the mapping, shared settings first (the service's are service.settings)
SETTINGS = (*SHARED_SETTINGS, *commandersact.OPTIONS, *ga4.OPTIONS)


def from_environment(environment: Mapping[str, str]) -> Setup:
    """The setup of ``environment``; a bad value raises ``ConfigError`` naming the variable."""
    return Setup(
        shared_settings(environment),
        commandersact.options(environment),
        ga4.options(environment),
    )


def configure(setup: Setup) -> dict[str, Route]:
    """Every route this setup serves, by route name."""
    shared = setup.config
    mapper = CommandersAct.configure(shared, setup.commandersact)
    return {
        "commandersact": Route(
            "commandersact",
            schema("commandersact.schema.json"),
            mapper,
            flattened=mapper.flattened,
        ),
        "ga4": Route("ga4", schema("ga4.schema.json"), Ga4(shared, setup.ga4), flattened=FLATTENED),
        "tiktok": Route(
            "tiktok",
            schema("tiktok-input.schema.json"),
            PassThrough(shared),
            tiktok_request,
            envelope_warnings,
        ),
    }


def plan(
    route: Route,
    events: Sequence[Any],
    config: Config,
    now: float,
    envelope: Mapping[str, Any] | None = None,
) -> Plan:
    """Validate, map and group ``events``; ``now`` is the Unix time of the request.

    ``envelope`` is what the body said for all its events (a TikTok request body's fields).
    """
    context = Context(now=now, phone_region=config.default_phone_region, envelope=envelope or {})
    results: list[dict[str, Any]] = []
    groups: dict[tuple[str, str, str | None], Batch] = {}
    batches: list[Batch] = []
    match_keys: list[tuple[int, tuple[str, ...]]] = []
    for index, event in enumerate(events):
        result: dict[str, Any] = {"index": index, "status": "would_send"}
        results.append(result)
        if not isinstance(event, dict):
            result.update(status="rejected", errors=[{"path": "$", "message": "must be an object"}])
            continue
        outcome = _checked_and_mapped(route, event, context)
        if isinstance(outcome, Rejected):
            result.update(status="rejected", errors=at_most(outcome.errors, _more_errors))
            continue
        if isinstance(outcome, Skipped):
            result.update(status="skipped", reason=outcome.reason)
            continue
        data = outcome.data
        result["event"], result["event_id"] = data["event"], data["event_id"]
        match_keys.append((index, match.keys_of(data)))
        if outcome.warnings:
            result["warnings"] = at_most(outcome.warnings, _more_warnings)
        configured_id, variable = event_source_id(config, outcome.event_source)
        if not configured_id:
            result.update(
                status="failed",
                error="misconfigured",
                message=f"{variable} is not set ({outcome.event_source} events need it)",
            )
            continue
        test_code = outcome.test_event_code or (
            config.test_event_code if outcome.event_source == "web" else None
        )
        key = (outcome.event_source, configured_id, test_code)
        batch = groups.get(key)
        if batch is None or len(batch.events) >= MAX_EVENTS_PER_REQUEST:
            batch = groups[key] = Batch(outcome.event_source, configured_id, test_code)
            batches.append(batch)
        batch.indices.append(index)
        batch.events.append(data)
    said = route.envelope_warnings(envelope) if envelope and route.envelope_warnings else []
    return Plan(results, batches, at_most(said, _more_warnings), match_keys)


def at_most(notes: list[T], more: Callable[[int], T]) -> list[T]:
    """``notes`` cut to :data:`MAX_NOTES`, the last saying how many more there were: an
    answer grows with the events, never with how many ways one event can be wrong."""
    if len(notes) <= MAX_NOTES:
        return notes
    return [*notes[: MAX_NOTES - 1], more(len(notes) - MAX_NOTES + 1)]


def _more_errors(count: int) -> dict[str, str]:
    return {"path": "$", "message": f"and {count} more errors"}


def _more_warnings(count: int) -> str:
    return f"and {count} more warnings"


def plan_body(route: Route, raw: bytes, config: Config, now: float) -> Plan:
    """:func:`plan` for the raw bytes of a request body; raises ``BodyError`` when unreadable."""
    body = route.read(parse_json(raw))
    return plan(route, body.events, config, now, body.envelope)


def would_send(plan: Plan) -> tuple[list[TikTokRequest], list[bytes]]:
    """A dry run's TikTok requests and payloads: the parts delivery would post, cut the same
    way (``tiktok_mapper.sizing``), as the JSON bytes it would post; an event too large for any
    request fails here as there."""
    requests: list[TikTokRequest] = []
    payloads: list[bytes] = []
    for batch, part in parts(plan.batches):
        entry = {**batch.entry(), "events": part.end - part.start}
        if part.too_large:
            entry.update(status="failed", error="refused", message=sizing.too_large(part.size))
        else:
            entry["status"] = "would_send"
            payloads.append(part.payload)
        requests.append(TikTokRequest(batch.indices[part.start : part.end], entry))
    return requests, payloads


def parts(batches: Sequence[Batch]) -> list[tuple[Batch, sizing.Part]]:
    """Every TikTok request of ``batches``, in order: each batch cut by size. The dry run and
    delivery both take them from here, so the payloads a dry run shows are those posted."""
    return [(batch, part) for batch in batches for part in sizing.parts(batch.body())]


def _checked_and_mapped(
    route: Route, event: dict[str, Any], context: Context
) -> Mapped | Skipped | Rejected:
    """The event's flattened keys read (see ``tiktok_mapper.flat``), the event checked against
    the route's schema, then mapped.

    Whatever goes wrong here is this event's alone: an unexpected exception (a shape no test
    foresaw) rejects the event with a rule that names the exception's type and where it was
    raised, never its message (which may quote a value), so the rest of the batch still goes.
    """
    try:
        read: list[str] = []
        if route.flattened is not None:
            event, read = route.flattened.unflatten(event)
        errors = route.schema.errors(event)
        outcome = Rejected(errors) if errors else route.mapper.map(event, context)
        if read and isinstance(outcome, Mapped):
            outcome.warnings[:0] = read
        return outcome
    except RecursionError:  # a valid event can still nest custom data beyond what we can hash
        return Rejected([{"path": "$", "message": "is nested too deeply"}])
    except Exception as error:  # one event's failure must stay that event's
        return Rejected([{"path": "$", "message": unexpected(error)}])


def unexpected(error: BaseException) -> str:
    """The rule for an event that broke the mapping: the exception's type and the place (file
    and line) it came from; its message is left out, as it may quote the value."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"could not be mapped ({type(error).__name__}{where}): please report this event's shape"
