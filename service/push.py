"""``POST /pubsub``: reading what a Pub/Sub push subscription sends, and checking who sent it.

Words used here:

- *push*: a POST from a push subscription, in Pub/Sub's envelope: ``{"message": {"data":
  base64, "attributes": {…}, "messageId": …, "publishTime": …}, "subscription": …,
  "deliveryAttempt": n}`` (the attempt only with a dead-letter policy). Pub/Sub takes HTTP
  102, 200, 201, 202 and 204 as an acknowledgement and pushes the message again on anything
  else; the function acknowledges with 200.
- *pushed message* (:class:`Pushed`): the data, the attributes, and what identifies it.
- *queued message*: attribute ``kind`` = ``tiktok_request`` (``service.durable``): a TikTok
  request body the function queued; it is checked against ``schemas/tiktok.schema.json`` and
  sent again as it is. *Input message*: attribute ``source`` names a route (``commandersact``,
  ``ga4`` or ``tiktok``): a body as that route takes it. (The attribute keeps the name messages
  already published with it carry.)
- *malformed*: not the envelope, data that is not base64, neither ``kind`` nor ``source`` (or
  both), an unknown one, a queued message that is not a TikTok request body: :class:`PushError`,
  answered 400 so that Pub/Sub ends the message in the dead-letter topic, where someone can
  look at it. Its message names what is wrong, never a value.
- *push token*: the OIDC ID token Pub/Sub signs for the subscription's service account and
  sends as ``Authorization: Bearer``. In IAM mode Google checks it before the function runs.
  In public mode (a caller key is configured) push requests cannot send ``X-Api-Key``, so
  :class:`PushCheck` verifies the token itself with google-auth: Google's signature (the
  certificates of ``PUBSUB_PUSH_CERTS_URL``, kept :data:`CERTS_TTL` seconds), the issuer
  ``accounts.google.com``, the audience ``PUBSUB_PUSH_AUDIENCE`` (by default the function's URL
  as the request names it, ``https://HOST``) and the verified e-mail
  ``PUBSUB_PUSH_SERVICE_ACCOUNT``. Without that e-mail setting, every push is refused.
"""

from __future__ import annotations

import base64
import binascii
import functools
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from service.durable import KIND
from tiktok_mapper.body import BodyError, parse_json
from tiktok_mapper.pipeline import Batch, Plan
from tiktok_mapper.schemas import Schema, schema

if TYPE_CHECKING:
    from google.auth import transport

ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
CERTS_TTL = 300.0  # seconds; Google publishes a new key days before signing with it
CERTS_TIMEOUT = 5.0  # seconds to fetch the certificates
CLOCK_SKEW = 10  # seconds of difference between Google's clock and ours that a token may show


class PushError(Exception):
    """A malformed push: answered 400."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Pushed:
    data: bytes
    attributes: Mapping[str, str]
    message_id: str | None
    attempt: int | None  # Pub/Sub's count of deliveries, with a dead-letter policy
    route: str | None  # an input message's route name; None for a queued message

    @property
    def input(self) -> str:
        """What the message holds: ``queued``, or the route name of an input message."""
        return self.route or "queued"


def read_push(raw: bytes, routes: Collection[str]) -> Pushed:
    """The pushed message in ``raw``; raises :class:`PushError` when it is malformed."""
    try:
        document = parse_json(raw)
    except BodyError as error:
        raise PushError(f"not a push envelope: {error.message}") from None
    message = document.get("message") if isinstance(document, dict) else None
    if not isinstance(message, dict):
        raise PushError("not a push envelope: no message object")
    data = message.get("data", "")
    if not isinstance(data, str):
        raise PushError("message.data must be a base64 string")
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PushError("message.data is not base64") from None
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(value, str) for value in attributes.values()
    ):
        raise PushError("message.attributes must be an object of strings")
    message_id = message.get("messageId")
    attempt = document.get("deliveryAttempt")
    return Pushed(
        decoded,
        attributes,
        message_id if isinstance(message_id, str) else None,
        attempt if type(attempt) is int else None,
        input_route(attributes, routes),
    )


def input_route(attributes: Mapping[str, str], routes: Collection[str]) -> str | None:
    """The route an input message names (its attribute ``source``); ``None`` for a queued
    message."""
    kind, route = attributes.get("kind"), attributes.get("source")
    known = ", ".join(sorted(routes))
    if (kind is None) == (route is None):
        raise PushError(
            f"a message needs the attribute kind ({KIND}) or source ({known}), and not both"
        )
    if kind is not None and kind != KIND:
        raise PushError(f"unknown kind: the function queues {KIND} messages only")
    if route is not None and route not in routes:
        raise PushError(f"unknown route in the attribute source: the routes are {known}")
    return route


@functools.cache
def tiktok_schema() -> Schema:
    """The schema of a TikTok request body, compiled on the first queued message."""
    return schema("tiktok.schema.json")


def queued_plan(data: bytes) -> Plan:
    """A queued message as a plan of one batch, its events as they were queued."""
    try:
        body = parse_json(data)
    except BodyError as error:
        raise PushError(
            f"the queued message is not a TikTok request body: {error.message}"
        ) from None
    errors = tiktok_schema().errors(body)
    if errors:
        first = errors[0]
        raise PushError(
            f"the queued message is not a TikTok request body: {first['path']} {first['message']}"
        )
    events: list[dict[str, Any]] = body["data"]
    batch = Batch(
        body["event_source"],
        body["event_source_id"],
        body.get("test_event_code"),
        list(range(len(events))),
        events,
    )
    results = [
        {
            "index": index,
            "status": "would_send",
            "event": event["event"],
            "event_id": event["event_id"],
        }
        for index, event in enumerate(events)
    ]
    return Plan(results, [batch])


class Certificates:
    """google-auth's HTTP request for :func:`google.oauth2.id_token.verify_token`, keeping the
    certificates it fetched for :data:`CERTS_TTL` seconds (Google's answer says it may be kept
    for hours): one fetch serves every push for a while."""

    def __init__(self, ttl: float = CERTS_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, Any]] = {}
        self._request: Any = None

    def __call__(self, url: str, method: str = "GET", **kwargs: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(url)
            if kept is not None and now - kept[0] < self.ttl:
                return kept[1]
            if self._request is None:
                from google.auth.transport.requests import Request

                self._request = Request()
            request = self._request
        kwargs.setdefault("timeout", CERTS_TIMEOUT)
        response = request(url, method=method, **kwargs)
        if response.status == 200:
            with self._lock:
                self._kept[url] = (now, response)
        return response


@dataclass(frozen=True)
class Refused:
    status: int  # 401, or 503 when Google's certificates could not be fetched
    message: str


class PushCheck:
    def __init__(self, service_account: str | None, audience: str | None, certs_url: str) -> None:
        self.service_account = service_account
        self.audience = audience
        self.certs_url = certs_url
        self.certificates = Certificates()

    def refused(self, authorization: str, host: str) -> Refused | None:
        """``None`` when ``authorization`` carries a push token of the configured account for
        the audience (``host`` gives the default one); else why not."""
        from google.auth import exceptions
        from google.oauth2 import id_token

        if not self.service_account:
            return Refused(
                401, "POST /pubsub in public mode needs PUBSUB_PUSH_SERVICE_ACCOUNT (the push "
                "subscription's service account)",
            )  # fmt: skip
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Refused(401, "send the push subscription's OIDC token (Authorization: Bearer)")
        audience = self.audience or f"https://{host}"
        try:
            # Certificates answers as google.auth.transport.Request does (duck-typed: its
            # module is imported only when a push comes).
            request = cast("transport.Request", self.certificates)
            claims = id_token.verify_token(
                token.strip(), request, audience, self.certs_url, CLOCK_SKEW
            )
        except exceptions.TransportError:
            return Refused(503, "Google's certificates could not be fetched to check the token")
        except (ValueError, exceptions.GoogleAuthError) as error:
            return Refused(401, f"the push token was refused ({type(error).__name__})")
        if claims.get("iss") not in ISSUERS:
            return Refused(401, "the push token was not issued by Google")
        if claims.get("email") != self.service_account or claims.get("email_verified") is not True:
            return Refused(401, "the push token is not the push subscription's service account")
        return None
