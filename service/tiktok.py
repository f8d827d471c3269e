"""The TikTok Events API client: POST one request body, read the answer, retry what can be retried.

Words used here:

- *answer*: TikTok's JSON envelope ``{"code", "message", "request_id", "data"}``. TikTok answers
  HTTP 200 for its own refusals, so success is HTTP 2xx **and** ``code`` 0; ``code``
  :data:`PARTIAL` (partial success) counts as sent, with a warning.
- *retryable*: a connection error, a timeout, HTTP 429 or 5xx, a 2xx body that is not TikTok's
  JSON, a throttling code (:data:`RETRY_CODES`) or a server code (≥ 50000). Retried with the
  backoff of ``service.retry``, honouring ``Retry-After``, until the call's deadline.
- *refusal*: any other answer; final. :data:`AUTH_CODES` say the token is wrong (the caller of
  this client fetches it again once); :data:`CONTENT_CODES` say something in the events is wrong
  (the caller splits a request of several events to find which).
- *outcome*: what one :meth:`TikTokClient.send` came to, retries included.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.retry import Backoff, Deadline

if TYPE_CHECKING:
    import requests

PARTIAL = 20001
RETRY_CODES = frozenset({40100, 40132})  # too many requests, request frequency limited
SERVER_CODES = 50000  # and above: TikTok's own systems failed
AUTH_CODES = frozenset({40001, 40102, 40104, 40105})  # no permission, expired, empty, invalid
CONTENT_CODES = frozenset(
    {40000, 40002, 40061, 40062}
)  # invalid params, batch size, PII not hashed
CONNECT_TIMEOUT = 3.05  # seconds; just over a TCP retransmission window
READ_TIMEOUT = 10.0  # seconds; also never more than what is left of the deadline (at least 1 s)
POOL_SIZE = 32  # kept-alive connections, for the threads of one instance
MAX_READ = 100_000  # characters of TikTok's message kept until it is scrubbed and cut
MAX_RETRY_AFTER = 3600.0  # seconds; a longer Retry-After is read as this


@dataclass
class Outcome:
    kind: str  # "sent", "refused", "unavailable", or "retry" between attempts
    code: int | None = None
    message: str = ""
    request_id: str | None = None
    retry_after: float | None = None  # seconds, from TikTok's Retry-After header
    attempts: int = 1
    warnings: list[str] = field(default_factory=list)

    @property
    def auth_refused(self) -> bool:
        return self.kind == "refused" and self.code in AUTH_CODES

    @property
    def content_refused(self) -> bool:
        return self.kind == "refused" and self.code in CONTENT_CODES


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


def read_answer(response: requests.Response) -> Outcome:
    """Classify one HTTP response (see the module's words)."""
    hint = retry_after(response.headers.get("Retry-After"))
    status = response.status_code
    if status == 429 or status >= 500:
        return Outcome("retry", message=f"HTTP {status}", retry_after=hint)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    code = answer.get("code") if isinstance(answer, dict) else None
    if not isinstance(answer, dict) or not isinstance(code, int):
        if response.ok:
            return Outcome("retry", message=f"HTTP {status} without TikTok's JSON answer")
        return Outcome("refused", message=f"HTTP {status} from TikTok")
    message = str(answer.get("message") or "")[:MAX_READ]
    request_id = answer.get("request_id")
    request_id = str(request_id) if request_id else None
    if response.ok and code in (0, PARTIAL):
        warnings = [f"TikTok answered {code} (partial success): {message}"] if code else []
        return Outcome("sent", code, message, request_id, warnings=warnings)
    if code in RETRY_CODES or code >= SERVER_CODES:
        return Outcome("retry", code, message, request_id, retry_after=hint)
    return Outcome("refused", code, message, request_id)


class TikTokClient:
    """Posts request bodies to ``url``; one instance (and one connection pool) per process."""

    def __init__(self, url: str, backoff: Backoff, read_timeout: float = READ_TIMEOUT) -> None:
        self.url = url
        self.backoff = backoff
        self.read_timeout = read_timeout
        import requests  # here: a dry run never needs it, and it costs 80 ms of cold start
        from requests.adapters import HTTPAdapter

        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def send(
        self,
        body: dict[str, Any],
        token: str,
        deadline: Deadline,
        on_retry: Callable[[Outcome, float], None] | None = None,
    ) -> Outcome:
        """Post ``body`` until it is sent, refused, or the deadline leaves no time to retry."""
        attempt = 0
        while True:
            outcome = self._post(body, token, deadline)
            outcome.attempts = attempt + 1
            if outcome.kind != "retry":
                return outcome
            wait = self.backoff.pause(attempt, deadline, outcome.retry_after)
            if wait is None:
                outcome.kind = "unavailable"
                outcome.message = (
                    f"TikTok unavailable: {outcome.message} after {attempt + 1} attempts"
                )
                return outcome
            if on_retry is not None:
                on_retry(outcome, wait)
            attempt += 1

    def _post(self, body: dict[str, Any], token: str, deadline: Deadline) -> Outcome:
        import requests

        read_timeout = min(self.read_timeout, max(deadline.remaining(), 1.0))
        try:
            response = self.session.post(
                self.url,
                json=body,
                headers={"Access-Token": token, "Content-Type": "application/json"},
                timeout=(CONNECT_TIMEOUT, read_timeout),
            )
        except requests.Timeout:
            return Outcome("retry", message="no answer in time")
        except requests.RequestException as error:
            return Outcome("retry", message=f"connection failed ({type(error).__name__})")
        with response:
            return read_answer(response)
