"""Secrets: the TikTok token and the caller key, from an environment variable or Secret Manager.

Words used here:

- *secret*: anything with ``get()`` (the current value) and ``invalidate(refused)`` (drop a value
  the far end refused, so the next ``get()`` fetches again). :class:`Fixed` holds a value given
  in the environment, :class:`Missing` a configuration error, :class:`CachedSecret` a value read
  from Secret Manager.
- *version name*: ``projects/P/secrets/S/versions/V``, what Secret Manager reads; a bare secret
  id ``S`` means project ``GOOGLE_CLOUD_PROJECT`` and version ``latest``. A name of another
  shape stops the start-up (``ConfigError`` naming the variable).
- *value*: what a secret holds: visible ASCII only (``0x21``-``0x7E``: TikTok tokens and our
  caller keys are), so that nothing else can reach an HTTP header. Whitespace around a stored
  value (the newline ``echo`` adds) is *trimmed*, with a warning once per version; any other
  character is a configuration error, at start-up for a value in the environment.
- *fresh*: fetched less than the TTL ago. *Stale*: older, but still served for up to
  :data:`STALE_FOR` seconds while refreshes fail for transient reasons, so a Secret Manager
  outage does not stop delivery. A value TikTok refused is dropped, never served stale.
- *single flight*: one fetch per secret at a time (a :class:`Flight`); threads that need the
  value meanwhile wait for that fetch and share its outcome (or get the stale value at once
  when there is one).
- *confirmed refusal*: a refused value that the fetch after it returned again (revoked, and no
  new version yet). More refusals of it within :data:`REFUSED_QUIET` seconds fetch nothing:
  a burst of refused requests costs one read, not one per request.

Errors are :class:`SecretError` with the ``kind`` of ``tiktok_mapper.report``: ``misconfigured``
(the secret or its version does not exist, access is denied, no credentials, a value that is not
visible ASCII: the operator must act; HTTP 500 naming the variable) or ``unavailable`` (Secret
Manager did not answer, or answered with something that is not its JSON, for
:data:`FETCH_DEADLINE` seconds of retries; HTTP 503). A value is never logged or put in a
message; the secret's name and version are.

``google.cloud.secretmanager`` is imported on the first fetch: a run with the token in the
environment never pays its import time. It always uses the REST transport, as tests do.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from service.logs import Logger
from service.retry import Backoff
from tiktok_mapper.config import ConfigError

FETCH_DEADLINE = 5.0  # seconds of retries before an outage is reported (the library's is 60)
ATTEMPT_TIMEOUT = 2.0  # seconds one access call may take
STALE_FOR = 3600.0  # seconds past its TTL a value is still served while Secret Manager fails
QUIET_AFTER_FAILURE = 10.0  # seconds a stale value is served before the next refresh attempt
# Seconds during which a confirmed refusal fetches nothing more. Long enough to cover a burst
# and its retries; short enough that a version added while TikTok refuses the old one is
# picked up within a minute even with a long TTL.
REFUSED_QUIET = 60.0

ID_RULE = r"[A-Za-z0-9_-]{1,255}"  # Secret Manager's own rule for secret ids
PROJECT_RULE = r"[A-Za-z0-9.:_-]+"  # project ids, numbers, old domain-scoped ids (example.com:p)
FULL_NAME = re.compile(rf"projects/{PROJECT_RULE}/secrets/{ID_RULE}(/versions/([0-9]+|latest))?")
VERSION_ANSWERED = re.compile(rf"projects/{PROJECT_RULE}/secrets/{ID_RULE}/versions/[0-9]+")
VISIBLE_ASCII = re.compile(rb"[\x21-\x7e]+")
AROUND = b" \t\r\n\v\f"  # ASCII whitespace: trimmed from a stored value, with a warning


class SecretError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class Secret(Protocol):
    def get(self) -> str: ...

    def invalidate(self, refused: str) -> None: ...


@dataclass(frozen=True)
class Fixed:
    """A value from the environment: never refetched."""

    value: str

    def get(self) -> str:
        return self.value

    def invalidate(self, refused: str) -> None:
        pass


@dataclass(frozen=True)
class Missing:
    """A secret the configuration does not provide: every use is a configuration error."""

    message: str

    def get(self) -> str:
        raise SecretError("misconfigured", self.message)

    def invalidate(self, refused: str) -> None:
        pass


def version_name(variable: str, value: str, project: str | None) -> str | None:
    """The full version name that the value of ``variable`` gives; ``None`` for a bare secret id
    without a project. A value of neither shape raises ``ConfigError``: it stops the start-up."""
    full = FULL_NAME.fullmatch(value)
    if full:
        return value if full.group(1) else value + "/versions/latest"
    if not re.fullmatch(ID_RULE, value):
        raise ConfigError(
            f"{variable} must be a secret id (letters, digits, _ and -, at most 255) or "
            "projects/P/secrets/S/versions/V (V a number or latest)"
        )
    if not project:
        return None
    name = f"projects/{project}/secrets/{value}/versions/latest"
    if not FULL_NAME.fullmatch(name):
        raise ConfigError(f"GOOGLE_CLOUD_PROJECT must be a project id, to read {variable}")
    return name


def flaw(value: bytes) -> str | None:
    """What keeps a trimmed ``value`` from being a value, in words that quote none of it."""
    if VISIBLE_ASCII.fullmatch(value):
        return None
    if not value:
        return "is empty"
    if value.startswith(b"\xef\xbb\xbf"):
        return "starts with a byte-order mark"
    if any(byte < 0x20 or byte == 0x7F for byte in value):
        return "holds a control character or a line break"
    if b" " in value:
        return "holds a space"
    return "holds a character that is not ASCII"


def checked_setting(variable: str, value: str) -> str:
    """A value given in the environment, as it is; raises ``ConfigError`` when it may not be."""
    problem = flaw(value.encode("utf-8", "surrogatepass"))
    if problem:
        raise ConfigError(f"{variable} {problem}: only visible ASCII (0x21-0x7E) is allowed")
    return value


def stored_value(variable: str, version: str, data: bytes) -> tuple[str, bool]:
    """The value a version holds, and whether whitespace around it was trimmed."""
    value = data.strip(AROUND)
    problem = flaw(value)
    if problem:
        raise SecretError(
            "misconfigured",
            f"{variable}: {version} {problem}; only visible ASCII (0x21-0x7E) is allowed",
        )
    return value.decode("ascii"), len(value) != len(data)


class SecretManager:
    """Reads secret versions with bounded retries; one client (created lazily) per instance."""

    def __init__(
        self,
        endpoint: str | None = None,
        backoff: Backoff | None = None,
        deadline: float = FETCH_DEADLINE,
        attempt_timeout: float = ATTEMPT_TIMEOUT,
    ) -> None:
        self.endpoint = endpoint
        self.backoff = backoff or Backoff.within(deadline)
        self.deadline = deadline
        self.attempt_timeout = attempt_timeout
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self, variable: str) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._create(variable)
            return self._client

    def _create(self, variable: str) -> Any:
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import secretmanager

        if self.endpoint:  # an emulator or a test's fake: no Google credentials
            from google.api_core.client_options import ClientOptions
            from google.auth.credentials import AnonymousCredentials

            return secretmanager.SecretManagerServiceClient(
                transport="rest",
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options=ClientOptions(api_endpoint=self.endpoint),
            )
        try:
            return secretmanager.SecretManagerServiceClient(transport="rest")
        except DefaultCredentialsError:
            raise SecretError(
                "misconfigured", f"no Google credentials to read {variable} from Secret Manager"
            ) from None

    def fetch(self, variable: str, name: str) -> tuple[bytes, str]:
        """The bytes stored and the version name that answered (``…/versions/7``)."""
        import requests
        from google.api_core import exceptions as google
        from google.auth import exceptions as auth
        from google.protobuf import json_format  # type: ignore[import-untyped]

        transient = (
            google.ServiceUnavailable,
            google.InternalServerError,
            google.TooManyRequests,
            google.DeadlineExceeded,
            google.GatewayTimeout,
            google.BadGateway,
            requests.RequestException,  # the REST transport lets connection errors through
            auth.TransportError,  # the credentials could not be refreshed: no answer
        )
        # What the REST transport raises for an answer that is not Secret Manager's JSON (a
        # proxy's HTML page, JSON of another shape, nesting too deep), found by running it
        # against the loopback fake. HTTP 200: the body goes to json_format.Parse, which raises
        # ParseError, or UnicodeDecodeError when the body is not UTF-8. An error status:
        # google.api_core reads the body as {"error": {…, "details": [{…}]}} and raises
        # AttributeError or TypeError when it is not, RecursionError when it is nested too deep.
        garbled = (
            json_format.ParseError,
            UnicodeDecodeError,
            AttributeError,
            TypeError,
            RecursionError,
        )
        client = self.client(variable)
        deadline = self.backoff.deadline(self.deadline)
        attempt = 0
        while True:
            timeout = min(self.attempt_timeout, max(deadline.remaining(), 0.5))
            try:
                response = client.access_secret_version(name=name, retry=None, timeout=timeout)
            except (*transient, auth.RefreshError) as error:
                if isinstance(error, auth.RefreshError) and not getattr(error, "retryable", False):
                    raise SecretError(
                        "misconfigured", f"{variable}: the Google credentials were refused"
                    ) from None
                problem = type(error).__name__
            except garbled as error:
                problem = f"not its JSON: {type(error).__name__}"
            except google.GoogleAPICallError as error:
                if not (isinstance(error.code, int) and error.code >= 500):
                    raise SecretError(
                        "misconfigured",
                        f"{variable}: Secret Manager refused to read {name} "
                        f"({type(error).__name__})",
                    ) from None
                problem = f"HTTP {error.code}"  # a 5xx with no class of its own (a proxy's 520)
            else:
                data, version = bytes(response.payload.data), str(response.name)
                # Secret Manager names the version it read and stores no empty payload.
                if data and VERSION_ANSWERED.fullmatch(version):
                    return data, version
                problem = "JSON of another shape"
            if self.backoff.pause(attempt, deadline) is None:
                raise SecretError(
                    "unavailable",
                    f"Secret Manager did not answer for {variable} "
                    f"({problem}, {attempt + 1} attempts)",
                )
            attempt += 1


@dataclass(frozen=True)
class Held:
    value: str
    version: str
    fetched_at: float


@dataclass
class Flight:
    """One fetch under way; the threads that need the value meanwhile wait for its outcome."""

    done: threading.Event = field(default_factory=threading.Event)
    value: str | None = None
    error: SecretError | None = None

    def outcome(self) -> str:
        self.done.wait()
        if self.value is None:
            raise self.error or SecretError("unavailable", "the secret could not be read")
        return self.value


@dataclass(frozen=True)
class Secrets:
    """What reading any secret needs: where from, for which project, kept how long, told where."""

    manager: SecretManager
    project: str | None
    ttl: float
    logger: Logger


@dataclass(frozen=True)
class Pair:
    """The two variables that configure one secret: its value (local runs), or its name in
    Secret Manager; the value wins."""

    value_variable: str
    value: str | None
    name_variable: str
    name: str | None


class CachedSecret:
    """One Secret Manager secret, cached for the TTL; safe to share between threads.

    One lock guards the state and is never held while fetching: a thread that must fetch
    starts a :class:`Flight` under the lock and fetches outside it; the others wait on that
    flight, or take the stale value at once when there is one.
    """

    def __init__(
        self,
        variable: str,
        name: str,
        secrets: Secrets,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.variable = variable
        self.name = name
        self.manager = secrets.manager
        self.ttl = secrets.ttl
        self.logger = secrets.logger
        self.clock = clock
        self._lock = threading.Lock()
        self._held: Held | None = None
        self._flight: Flight | None = None
        self._quiet_until = 0.0  # no refresh before this: one failed, the stale value serves
        self._refused: str | None = None  # the value dropped by invalidate(), until a fetch
        self._confirmed: tuple[str, float] = ("", 0.0)  # a confirmed refusal, and its quiet's end
        self._trimmed: str | None = None  # the last version whose value was trimmed

    def _stale_usable(self, held: Held | None, now: float) -> bool:
        return held is not None and now < held.fetched_at + self.ttl + STALE_FOR

    def get(self) -> str:
        with self._lock:
            held, now = self._held, self.clock()
            if held is not None and now - held.fetched_at < self.ttl:
                return held.value
            quiet = now < self._quiet_until or self._flight is not None
            if held is not None and quiet and self._stale_usable(held, now):
                return held.value  # a refresh is under way, or failed a moment ago
            flight, leads = self._flight, self._flight is None
            if flight is None:
                flight = self._flight = Flight()
        if leads:
            self._fetch(flight)
        return flight.outcome()

    def _fetch(self, flight: Flight) -> None:
        """Fetch once, outside the lock; the outcome goes to the flight and its waiters."""
        try:
            flight.value = self._read()
        except SecretError as error:
            flight.error = error
        finally:  # whatever happened, even a bug: nobody waits for a flight that has ended
            with self._lock:
                self._flight = None
            flight.done.set()

    def _read(self) -> str:
        """A fresh value; the stale one while Secret Manager is unavailable; else raises."""
        try:
            data, version = self.manager.fetch(self.variable, self.name)
            value, trimmed = stored_value(self.variable, version, data)
        except SecretError as error:
            return self._failed(error)
        return self._stored(value, version, trimmed)

    def _failed(self, error: SecretError) -> str:
        """The stale value while Secret Manager is unavailable, if there is one; else raises."""
        with self._lock:
            held, now = self._held, self.clock()
            if error.kind == "unavailable" and held is not None and self._stale_usable(held, now):
                self._quiet_until = now + QUIET_AFTER_FAILURE
                self.logger.emit(
                    "WARNING",
                    f"{self.variable}: {error.message}; using the value fetched "
                    f"{round(now - held.fetched_at)} s ago",
                    secret=self.name,
                    version=held.version,
                )
                return held.value
        self.logger.emit("ERROR", error.message, secret=self.name)
        raise error

    def _stored(self, value: str, version: str, trimmed: bool) -> str:
        with self._lock:
            now = self.clock()
            self._held = Held(value, version, now)
            self._quiet_until = 0.0
            confirmed = value == self._refused
            if confirmed:
                self._confirmed = (value, now + REFUSED_QUIET)
            self._refused = None
            newly_trimmed = trimmed and version != self._trimmed
            if newly_trimmed:
                self._trimmed = version
        self.logger.emit("INFO", f"{self.variable}: read from Secret Manager", version=version)
        if newly_trimmed:
            self.logger.emit(
                "WARNING",
                f"{self.variable}: whitespace around the stored value was trimmed; "
                "add versions with printf '%s', not echo",
                version=version,
            )
        if confirmed:
            self.logger.emit(
                "WARNING",
                f"{self.variable}: Secret Manager still holds the refused value; "
                f"its next refusals read nothing for {REFUSED_QUIET:.0f} s",
                version=version,
            )
        return value

    def invalidate(self, refused: str) -> None:
        """Forget the value if it still is ``refused``, so the next ``get()`` fetches again;
        unless it is a confirmed refusal in its quiet."""
        with self._lock:
            if self._held is None or self._held.value != refused:
                return  # already dropped or replaced: another thread's stale news
            confirmed, quiet_until = self._confirmed
            if refused == confirmed and self.clock() < quiet_until:
                return  # read again a moment ago, and unchanged: a new read would be too
            self._held = None
            self._refused = refused
            self._quiet_until = 0.0
        self.logger.emit("WARNING", f"{self.variable}: refused, fetching it again")


def secret(pair: Pair, secrets: Secrets) -> Secret | None:
    """The secret a pair of variables configures; ``None`` when neither is set. A bad value or
    secret name raises ``ConfigError``: it stops the start-up."""
    if pair.value:
        return Fixed(checked_setting(pair.value_variable, pair.value))
    if not pair.name:
        return None
    name = version_name(pair.name_variable, pair.name, secrets.project)
    if name is None:
        return Missing(f"{pair.name_variable} is a bare secret id: set GOOGLE_CLOUD_PROJECT too")
    return CachedSecret(pair.name_variable, name, secrets)
