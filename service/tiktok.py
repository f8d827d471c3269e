"""The TikTok Events API client: POST one payload, read the answer, retry what can be retried.

Words used here:

- *payload*: a serialized request body (``tiktok_mapper.sizing``), posted as it is.
- *answer*: TikTok's JSON envelope ``{"code", "message", "request_id", "data"}``, read up to
  :data:`MAX_ANSWER_BYTES`. TikTok answers HTTP 200 for its own refusals, so success is HTTP 2xx
  **and** ``code`` the integer 0; ``code`` :data:`PARTIAL` (partial success) counts as sent,
  with a warning. A body that is not JSON, is longer than the cap, nests deeper than the parser
  goes, or has no integer ``code`` of at most five digits is *not TikTok's answer*.
- *retryable*: a connection error, a timeout, HTTP 429 or 5xx, a 2xx that is not TikTok's
  answer, a throttling code (:data:`RETRY_CODES`) or a server code (5xxxx). Retried with the
  backoff of ``service.retry``, honouring ``Retry-After``, until the call's deadline or budget.
- *refusal*: any other answer; final. :data:`AUTH_CODES` say the token is wrong (the caller of
  this client fetches it again once); :data:`CONTENT_CODES` and HTTP 413 say something in the
  events is wrong or too big: the request is *splittable* (the caller sends each half on its
  own). HTTP 3xx is a refusal too: redirects are never followed, so the token and the events
  go to the configured URL's host and nowhere else (the connection pool is bound to it).
- *window*: the time one attempt may take, from connecting to the last byte of the answer:
  what is left of the deadline, but at least :data:`MIN_ATTEMPT_SECONDS`. Every send and
  receive on the socket ends by the window's end (:class:`BoundedSocket`), so a TikTok that
  trickles its answer a byte at a time, or never ends it, cannot hold a call past it.
- *message*: what we say about an answer: made only of our constants, numbers, and a *field
  path* rebuilt from the names in :data:`FIELDS`. TikTok's own text is never passed on: it may
  quote what we sent, in any spelling, and no scrubbing can know every spelling.
- *outcome*: what one :meth:`TikTokClient.send` came to, retries included.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from service.retry import Backoff, Budget, Deadline
from tiktok_mapper import sizing

if TYPE_CHECKING:
    import urllib3

PARTIAL = 20001
RETRY_CODES = frozenset({40100, 40132})  # too many requests, request frequency limited
SERVER_CODES = range(50000, 100000)  # TikTok's own systems failed
AUTH_CODES = frozenset({40001, 40102, 40104, 40105})  # no permission, expired, empty, invalid
CONTENT_CODES = frozenset({40000, 40002, 40061, 40062})  # params, value, batch size, not hashed
MAX_CODE = 99_999  # TikTok's codes have five digits: a longer number is not TikTok's answer
# Our words for the codes TikTok documents: the only description of an answer passed on.
CODES = {
    0: "OK",
    PARTIAL: "partial success",
    40000: "invalid parameters",
    40001: "no permission for this pixel or app",
    40002: "invalid value",
    40061: "too many events in one request",
    40062: "personal data not hashed",
    40100: "too many requests",
    40102: "access token expired",
    40104: "access token empty",
    40105: "access token invalid",
    40132: "request frequency limited",
}
# Field names of a TikTok event (schemas/tiktok.schema.json): a field path in TikTok's message
# is passed on only as these names and indices.
FIELDS = {
    name: name
    for name in (
        "event", "event_time", "event_id", "limited_data_use", "user", "email", "phone",
        "external_id", "first_name", "last_name", "zip_code", "city", "state", "country",
        "ttclid", "ttp", "ip", "user_agent", "locale", "idfa", "idfv", "gaid", "att_status",
        "page", "url", "referrer", "properties", "contents", "content_id", "content_type",
        "content_name", "content_category", "brand", "price", "quantity", "content_ids",
        "currency", "value", "query", "description", "order_id", "shop_id", "search_string",
        "num_items", "status", "app", "app_id", "app_name", "app_version", "ad", "callback",
        "campaign_id", "ad_id", "creative_id", "is_retargeting", "attributed",
        "attribution_type", "attribution_provider", "lead", "lead_id", "lead_event_source",
    )
}  # fmt: skip
# ``data[3].user.email``, ``Batch.0.properties.contents.0.content_id``: an index first, then
# names and indices; an index has at most three digits (a request holds at most 1000 events).
PATH = re.compile(
    r"\b(?:data|batch)((?:\[\d{1,3}\]|\.\d{1,3}(?!\d)|\.[A-Za-z_]{1,40}(?![\w]))+)", re.I
)
STEP = re.compile(r"\[(\d{1,3})\]|\.(\d{1,3})|\.([A-Za-z_]{1,40})")
MAX_SCAN = 10_000  # characters of TikTok's message searched for a field path
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
QUOTE = 8  # characters in a row of what we sent that make a request id a quote of it

CONNECT_TIMEOUT = 3.05  # seconds; just over a TCP retransmission window
READ_TIMEOUT = 10.0  # seconds one receive may wait; never past the window
MIN_ATTEMPT_SECONDS = 1.0  # the window of an attempt that starts just before the deadline
POOL_SIZE = 32  # kept-alive connections, for the threads of one instance
# TikTok's answers are a few hundred bytes; reading more is reading something else.
MAX_ANSWER_BYTES = 1024 * 1024
MAX_RETRY_AFTER = 3600.0  # seconds; a longer Retry-After is read as this
UNBUDGETED = 1_000_000  # requests a send without a call's budget may make: the deadline binds


@dataclass(frozen=True)
class Outcome:
    # "sent", "refused", "unavailable", or "retry" between attempts; delivery adds
    # "misconfigured" (no token) and "queued" (kept in Pub/Sub for later delivery)
    kind: str
    code: int | None = None
    message: str = ""
    request_id: str | None = None
    retry_after: float | None = None  # seconds, from TikTok's Retry-After header
    attempts: int = 1
    warnings: tuple[str, ...] = ()
    status: int | None = None  # HTTP status of the answer

    @property
    def auth_refused(self) -> bool:
        return self.kind == "refused" and self.code in AUTH_CODES

    @property
    def splittable(self) -> bool:
        return self.kind == "refused" and (self.code in CONTENT_CODES or self.status == 413)


def retry_after(header: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not header:
        return None
    text = header.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(text).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def describe(code: int) -> str:
    """``code 40002 (invalid value)``: the code and our words for it."""
    if code in CODES:
        return f"code {code} ({CODES[code]})"
    if code in SERVER_CODES:
        return f"code {code} (TikTok internal error)"
    return f"code {code} (not documented)"


def field_path(message: object) -> str:
    """`` at data[3].user.email`` for the first field path TikTok's message names, rebuilt from
    :data:`FIELDS` and the digits of its indices; empty when it names none."""
    if not isinstance(message, str):
        return ""
    for found in PATH.finditer(message[:MAX_SCAN]):
        steps = STEP.findall(found.group(1))
        first, dotted = steps[0][0] or steps[0][1], []
        if not first:
            continue
        for bracket, dot, name in steps[1:]:
            if name and name.lower() in FIELDS:
                dotted.append("." + FIELDS[name.lower()])
            elif name:
                break
            else:
                dotted.append(f"[{int(bracket or dot)}]")
        return f" at data[{int(first)}]" + "".join(dotted)
    return ""


def request_id(value: object, payload: bytes) -> str | None:
    """TikTok's request id when it looks like one (a timestamp and hex: letters and digits
    both, up to 64 of them with ``_`` and ``-``) and quotes nothing we sent: no
    :data:`QUOTE` characters in a row of the payload, in any case, no part of it, and not a
    value we sent hashed (an external id)."""
    if not isinstance(value, str) or not REQUEST_ID.fullmatch(value):
        return None
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return None
    own, sent = value.lower().encode(), payload.lower()
    starts = range(max(1, len(own) - QUOTE + 1))
    if any(own[start : start + QUOTE] in sent for start in starts):
        return None
    hashes = {
        hashlib.sha256(form.encode()).hexdigest() for form in (value, own.decode(), value.upper())
    }
    return None if any(digest.encode() in sent for digest in hashes) else value


def read_answer(status: int, headers: Any, read: Callable[[], bytes], payload: bytes) -> Outcome:
    """Classify one HTTP response (see the module's words); ``read`` gives the body, at most
    :data:`MAX_ANSWER_BYTES` + 1 bytes of it, and is called only when the body matters."""
    hint = retry_after(headers.get("Retry-After"))
    if status == 429 or status >= 500:
        return Outcome("retry", message=f"HTTP {status}", retry_after=hint, status=status)
    if 300 <= status < 400:
        return Outcome("refused", message=f"HTTP {status}, a redirect: not followed", status=status)
    if status == 413:
        return Outcome("refused", message="HTTP 413: the request is too large", status=status)
    answer, why = parse(read())
    ok = 200 <= status < 300
    if answer is None:
        if ok:
            return Outcome("retry", message=f"HTTP {status} {why}", status=status)
        return Outcome("refused", message=f"HTTP {status} from TikTok", status=status)
    code: int = answer["code"]
    kept = request_id(answer.get("request_id"), payload)
    where = field_path(answer.get("message"))
    if ok and code in (0, PARTIAL):
        warnings = (f"TikTok answered {PARTIAL} (partial success){where}",) if code else ()
        return Outcome("sent", code, "OK", kept, warnings=warnings, status=status)
    if code in RETRY_CODES or code in SERVER_CODES:
        message = f"TikTok answered {describe(code)}"
        return Outcome("retry", code, message, kept, hint, status=status)
    refusal = describe(code) if ok else f"HTTP {status}, {describe(code)}"
    return Outcome(
        "refused", code, f"TikTok refused the request: {refusal}{where}", kept, status=status
    )


def parse(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """TikTok's answer in ``body``, or ``None`` and why it is not one."""
    if len(body) > MAX_ANSWER_BYTES:
        return None, f"with an answer over {MAX_ANSWER_BYTES} bytes"
    try:
        answer = json.loads(body)
    except RecursionError:
        return None, "with an answer nested too deeply"
    except ValueError:
        return None, "without TikTok's JSON answer"
    code = answer.get("code") if isinstance(answer, dict) else None
    # type() and not isinstance(): JSON's true and false are bools, and bools are ints.
    if type(code) is not int or not 0 <= code <= MAX_CODE:
        return None, "without an integer code"
    return answer, ""


# The end of the window of the attempt running in this thread (time.monotonic()); unset
# outside an attempt. Per thread: the threads of an instance share the pool, each one
# attempt at a time.
_WINDOW = threading.local()


class BoundedSocket(socket.socket):
    """A socket whose every send and receive ends by the end of the window: each gets the time
    left (or its own timeout, when shorter), and none starts once the window is over.

    http.client reads a status line, headers and a body in as many receives as the peer
    chooses to send pieces; bounding each receive by what is left bounds them all together.
    """

    _timeout: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._timeout = value
        super().settimeout(value)

    def _bound(self) -> None:
        end = getattr(_WINDOW, "end", None)
        if end is None:
            return
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the attempt's window is over")
        super().settimeout(left if self._timeout is None else min(self._timeout, left))

    def recv_into(self, *args: Any, **kwargs: Any) -> int:
        self._bound()
        return super().recv_into(*args, **kwargs)

    def recv(self, *args: Any, **kwargs: Any) -> bytes:
        self._bound()
        return super().recv(*args, **kwargs)

    def send(self, *args: Any, **kwargs: Any) -> int:
        self._bound()
        return super().send(*args, **kwargs)

    def sendall(self, *args: Any, **kwargs: Any) -> None:
        self._bound()
        super().sendall(*args, **kwargs)


def connection_pool(url: str) -> urllib3.HTTPConnectionPool:
    """A pool of kept-alive connections to the host of ``url``, and to no other: its sockets
    are :class:`BoundedSocket` (TLS ones too). urllib3 is imported here: a dry run never needs
    it."""
    import logging
    import ssl

    import certifi
    import urllib3
    from urllib3.connection import HTTPConnection, HTTPSConnection

    # urllib3 logs what it cannot parse in an answer's headers, quoting them: TikTok's text.
    quiet = logging.getLogger("urllib3")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False

    def bounded(sock: socket.socket, timeout: float | None) -> socket.socket:
        own = BoundedSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        own.settimeout(timeout)
        return own

    class Connection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return bounded(super()._new_conn(), self.timeout)

    class TlsConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return bounded(super()._new_conn(), self.timeout)

    class TlsSocket(BoundedSocket, ssl.SSLSocket):
        """What the TLS context wraps a bounded socket into: bounded the same way."""

    class Pool(urllib3.HTTPConnectionPool):
        ConnectionCls = Connection

    class TlsPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = TlsConnection

    address = urllib3.util.parse_url(url)
    options: dict[str, Any] = {"maxsize": POOL_SIZE, "block": False, "retries": False}
    if address.scheme != "https":
        return Pool(address.host or "", address.port, **options)
    context = urllib3.util.ssl_.create_urllib3_context()
    context.load_verify_locations(certifi.where())  # the roots requests used before
    context.sslsocket_class = TlsSocket
    return TlsPool(address.host or "", address.port, ssl_context=context, **options)


class TikTokClient:
    """Posts payloads to ``url``; one instance (and one connection pool) per process."""

    def __init__(self, url: str, backoff: Backoff, read_timeout: float = READ_TIMEOUT) -> None:
        import http.client

        import urllib3

        self.url = url
        self.path = urllib3.util.parse_url(url).request_uri
        self.backoff = backoff
        self.read_timeout = read_timeout
        self.pool = connection_pool(url)
        self.errors = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)

    def send(
        self,
        payload: bytes | dict[str, Any],
        token: str,
        deadline: Deadline,
        on_retry: Callable[[Outcome, float], None] | None = None,
        budget: Budget | None = None,
    ) -> Outcome:
        """Post ``payload`` (or a body, serialized here) until it is sent, refused, or the
        deadline or the ``budget`` of the call leave no room to try again."""
        if isinstance(payload, dict):
            payload = sizing.payload(payload)
        budget = budget or Budget(UNBUDGETED)
        attempt = 0
        while True:
            if not budget.take():
                return Outcome("unavailable", message="not sent: no requests left in this call")
            outcome = replace(self._post(payload, token, deadline), attempts=attempt + 1)
            if outcome.kind != "retry":
                return outcome
            wait = (
                self.backoff.pause(attempt, deadline, outcome.retry_after)
                if budget.spare > 0
                else None
            )
            if wait is None:
                tries = f"{attempt + 1} attempts" if attempt else "1 attempt"
                message = f"TikTok unavailable: {outcome.message} ({tries})"
                return replace(outcome, kind="unavailable", message=message)
            if on_retry is not None:
                on_retry(outcome, wait)
            attempt += 1

    def _post(self, payload: bytes, token: str, deadline: Deadline) -> Outcome:
        import urllib3

        window = max(deadline.remaining(), MIN_ATTEMPT_SECONDS)
        _WINDOW.end = time.monotonic() + window
        timeout = urllib3.Timeout(
            connect=min(CONNECT_TIMEOUT, window), read=min(self.read_timeout, window)
        )
        headers = {
            "Access-Token": token,
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",  # a compressed answer could unpack past the cap
        }
        response: urllib3.BaseHTTPResponse | None = None
        try:
            response = self.pool.urlopen(
                "POST", self.path, body=payload, headers=headers, timeout=timeout,
                retries=False, redirect=False, preload_content=False, decode_content=False,
            )  # fmt: skip
            answer = response

            def read() -> bytes:
                return answer.read(MAX_ANSWER_BYTES + 1, decode_content=False)

            # What we sent, for the request id's quote check: the payload and the token too (a
            # TikTok, or something in its place, that echoes the token must not get it logged).
            sent = payload + b"\n" + token.encode("ascii", "replace")
            return read_answer(response.status, response.headers, read, sent)
        except urllib3.exceptions.NewConnectionError:  # a subclass of its TimeoutError
            return Outcome("retry", message="connection failed (NewConnectionError)")
        except (TimeoutError, urllib3.exceptions.TimeoutError):
            return Outcome("retry", message="no answer in time")
        except self.errors as error:
            return Outcome("retry", message=f"connection failed ({type(error).__name__})")
        finally:
            _WINDOW.end = None
            if response is not None:
                if not response.closed:  # an answer not read to its end cannot be reused
                    response.close()
                response.release_conn()
