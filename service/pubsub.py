"""Pub/Sub through its REST API (``v1``), with google-auth's credentials over ``requests``.

Words used here:

- *topic name*: ``projects/P/topics/T``; a bare topic id ``T`` means project
  ``GOOGLE_CLOUD_PROJECT``. A *subscription name*: ``projects/P/subscriptions/S``, read the
  same way. A name of another shape stops the start-up (``ConfigError`` naming the variable).
- *emulator*: with ``PUBSUB_EMULATOR_HOST`` (``host:port``) set, every call goes there over
  plain HTTP without credentials, as Google's own client libraries do; otherwise to
  ``pubsub.googleapis.com`` with the instance's credentials (Application Default
  Credentials, scope ``pubsub``).
- *message*: bytes of data and string attributes. A *publish request* carries at most
  :data:`MAX_MESSAGES` messages and :data:`MAX_PUBLISH_BYTES` of data (Pub/Sub takes 10 MB);
  more messages go in several, in order, each all or nothing.
- *transient*: no connection, no answer in time, HTTP 408, 429 or 5xx, credentials that could
  not be refreshed for lack of an answer: retried with the backoff of ``service.retry`` within
  the deadline, then :class:`PubSubError` ``unavailable``. Any other refusal (the topic does
  not exist, permission denied) is ``misconfigured``, at once. Errors name the topic and
  Pub/Sub's status word, never a message's data.

``requests`` and ``google.auth`` are imported on the first call: a function that never
publishes never pays their import time.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.retry import Backoff
from service.secret_manager import PROJECT_RULE
from tiktok_mapper.config import ConfigError

API = "https://pubsub.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/pubsub"
DEADLINE = 5.0  # seconds of retries before Pub/Sub is reported unavailable
ATTEMPT_TIMEOUT = 5.0  # seconds one call may take (never past the deadline, but at least 1)
MAX_MESSAGES = 1000
# Data of one publish request, counted as base64 (as it travels): under Pub/Sub's 10 MB, with
# room for the attributes and the JSON around them.
MAX_PUBLISH_BYTES = 9_000_000
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

NAME_RULE = r"[A-Za-z][A-Za-z0-9._~+%-]{2,254}"  # Pub/Sub's rule for topic and subscription ids


class PubSubError(Exception):
    def __init__(self, kind: str, message: str, published: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.published = list(published)  # ids of the messages published before the failure


@dataclass(frozen=True)
class Message:
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """A message pulled from a subscription, with what acknowledges it."""

    ack_id: str
    message_id: str
    message: Message


def resource_name(variable: str, value: str, kind: str, project: str | None) -> str:
    """``projects/P/<kind>/N`` for ``value`` (a full name, or an id in ``project``); ``kind``
    is ``topics`` or ``subscriptions``. Raises ``ConfigError`` naming ``variable``."""
    value = value.strip()
    if re.fullmatch(rf"projects/{PROJECT_RULE}/{kind}/{NAME_RULE}", value):
        return value
    if not re.fullmatch(NAME_RULE, value) or value.startswith("goog"):
        one = kind[:-1]
        raise ConfigError(
            f"{variable} must be a {one} id (a letter, then 2 to 254 letters, digits or . _ ~ + "
            f"% -, not starting with goog) or projects/PROJECT/{kind}/ID"
        )
    if not project or not re.fullmatch(PROJECT_RULE, project):
        raise ConfigError(f"{variable} is a bare id: set GOOGLE_CLOUD_PROJECT to a project id")
    return f"projects/{project}/{kind}/{value}"


def encoded(message: Message) -> dict[str, Any]:
    """A message as the REST API takes it: data in base64."""
    found: dict[str, Any] = {"data": base64.b64encode(message.data).decode("ascii")}
    if message.attributes:
        found["attributes"] = dict(message.attributes)
    return found


def publish_requests(messages: Sequence[Message]) -> list[list[Message]]:
    """``messages`` in order, grouped into publish requests under Pub/Sub's limits."""
    groups: list[list[Message]] = []
    size = 0
    for message in messages:
        weight = (len(message.data) + 2) // 3 * 4 + 1024  # base64, and room for attributes
        if not groups or len(groups[-1]) >= MAX_MESSAGES or size + weight > MAX_PUBLISH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(message)
        size += weight
    return groups


class PubSub:
    """One client per instance (its HTTP session is made on the first call)."""

    def __init__(
        self,
        emulator_host: str | None = None,
        deadline: float = DEADLINE,
        attempt_timeout: float = ATTEMPT_TIMEOUT,
        backoff: Backoff | None = None,
    ) -> None:
        self.emulator_host = emulator_host
        self.base = f"http://{emulator_host}" if emulator_host else API
        self.deadline = deadline
        self.attempt_timeout = attempt_timeout
        self.backoff = backoff or Backoff.within(deadline)
        self._session: Any = None
        self._lock = threading.Lock()

    def publish(self, topic: str, messages: Sequence[Message]) -> list[str]:
        """Pub/Sub's message ids, in order. On a failure, the :class:`PubSubError` holds the
        ids of the messages published before it (``published``)."""
        published: list[str] = []
        for group in publish_requests(messages):
            try:
                answer = self.call(f"{topic}:publish", {"messages": [encoded(m) for m in group]})
            except PubSubError as error:
                raise PubSubError(error.kind, error.message, published) from None
            ids = answer.get("messageIds")
            if not isinstance(ids, list) or len(ids) != len(group):
                raise PubSubError(
                    "unavailable", f"Pub/Sub answered a publish to {topic} without its ids",
                    published,
                )  # fmt: skip
            published += [str(one) for one in ids]
        return published

    def pull(self, subscription: str, most: int) -> list[Received]:
        """Up to ``most`` messages of ``subscription`` that are waiting now: the pull does not
        wait for more (``returnImmediately``, which Pub/Sub still honours), so it may also come
        back empty while some are on their way."""
        body = {"maxMessages": most, "returnImmediately": True}
        answer = self.call(f"{subscription}:pull", body)
        found = []
        for received in answer.get("receivedMessages", []):
            message = received.get("message", {})
            data = base64.b64decode(message.get("data", ""))
            attributes = message.get("attributes", {})
            found.append(
                Received(received["ackId"], message.get("messageId", ""), Message(data, attributes))
            )
        return found

    def acknowledge(self, subscription: str, ack_ids: Sequence[str]) -> None:
        if ack_ids:
            self.call(f"{subscription}:acknowledge", {"ackIds": list(ack_ids)})

    def release(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Give pulled messages back at once (an acknowledgement deadline of 0)."""
        if ack_ids:
            body = {"ackIds": list(ack_ids), "ackDeadlineSeconds": 0}
            self.call(f"{subscription}:modifyAckDeadline", body)

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``v1/<path>``, retrying what is transient within the deadline."""
        import requests
        from google.auth import exceptions as auth

        what = path.rpartition(":")[0] or path
        deadline = self.backoff.deadline(self.deadline)
        attempt = 0
        while True:
            timeout = min(self.attempt_timeout, max(deadline.remaining(), 1.0))
            try:
                response = self.session().post(f"{self.base}/v1/{path}", json=body, timeout=timeout)
            except auth.RefreshError as error:
                if not getattr(error, "retryable", False):
                    raise PubSubError(
                        "misconfigured", f"Pub/Sub: the Google credentials were refused ({what})"
                    ) from None
                problem = type(error).__name__
            except (requests.RequestException, auth.TransportError) as error:
                problem = type(error).__name__
            else:
                if response.status_code == 200:
                    try:
                        answer = response.json()
                    except ValueError:
                        answer = None
                    if isinstance(answer, dict):
                        return answer
                    problem = "an answer that is not its JSON"
                elif response.status_code in TRANSIENT_STATUSES:
                    problem = f"HTTP {response.status_code}"
                else:
                    raise PubSubError(
                        "misconfigured",
                        f"Pub/Sub refused the call on {what} "
                        f"(HTTP {response.status_code} {status_word(response)})",
                    )
            if self.backoff.pause(attempt, deadline) is None:
                raise PubSubError(
                    "unavailable",
                    f"Pub/Sub did not answer for {what} ({problem}, {attempt + 1} attempts)",
                )
            attempt += 1

    def session(self) -> Any:
        """The HTTP session: plain against the emulator, else with the instance's credentials."""
        with self._lock:
            if self._session is None:
                self._session = self._create()
            return self._session

    def _create(self) -> Any:
        import requests

        if self.emulator_host:
            return requests.Session()
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
        from google.auth.transport.requests import AuthorizedSession

        try:
            credentials, _ = google.auth.default(scopes=[SCOPE])
        except DefaultCredentialsError:
            raise PubSubError("misconfigured", "no Google credentials to call Pub/Sub") from None
        return AuthorizedSession(credentials)  # type: ignore[no-untyped-call]


def status_word(response: Any) -> str:
    """Pub/Sub's status word (``NOT_FOUND``, ``PERMISSION_DENIED``) of an error answer; never
    its message, which may quote what was sent."""
    try:
        word = response.json()["error"]["status"]
    except (ValueError, KeyError, TypeError):
        return "without Pub/Sub's error"
    return word if isinstance(word, str) and re.fullmatch(r"[A-Z_]{1,40}", word) else "?"
