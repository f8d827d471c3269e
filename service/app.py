"""The HTTP door: routes, the order of checks, dry run, and the answer (CONTRACT §2).

Words used here: a *route* is a path a sender posts to (``/commandersact`` …), a
``tiktok_mapper.pipeline.Route`` (the log line names it under the key ``source``, which the
log-based metrics read); *dry run* maps and answers with the TikTok request
bodies (``payloads``) without sending anything or needing a token. ``/pubsub`` is where a Pub/Sub
push subscription posts (``service.push``): it goes through the same checks, with the push
token in place of the caller key, and is *acknowledged* (HTTP 200) unless the message must come
back: TikTok or Secret Manager still unavailable (503), the configuration incomplete (500), or
the message malformed (400: it ends in the dead-letter topic).
"""

from __future__ import annotations

import hmac
import json
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import flask

import tiktok_mapper
from service.admission import Admission
from service.delivery import Delivery
from service.logs import Logger
from service.secret_manager import (
    FETCH_DEADLINE,
    Pair,
    Secret,
    SecretError,
    SecretManager,
    Secrets,
    secret,
)
from service.settings import Settings, read
from tiktok_mapper import pipeline, report
from tiktok_mapper.body import BodyError
from tiktok_mapper.normalize import TRUE_WORDS
from tiktok_mapper.pipeline import unexpected

if TYPE_CHECKING:
    from service.push import PushCheck

RETRY_AFTER = 30  # seconds a sender waits after a 503 when TikTok gave no Retry-After
PUSH_PATH = "/pubsub"
PUSH_ENVELOPE_BYTES = 64 * 1024  # a push's envelope and attributes around the message's data
MAX_LOGGED = 20  # rejected events whose errors one log line carries (the rest are counted)


def reply(
    body: Mapping[str, Any],
    status: int,
    headers: Mapping[str, str] | None = None,
    payloads: list[bytes] | None = None,
) -> flask.Response:
    """The JSON answer, in UTF-8 (an emoji is 4 bytes, not a 12-byte escape: the answer stays
    about as large as what it repeats of the body); a dry run's ``payloads`` (already JSON, as
    they would be posted) are written in as they are, last, rather than parsed again."""
    text = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    if payloads is not None:
        text = text[:-1] + b', "payloads": [' + b", ".join(payloads) + b"]}"
    return flask.Response(text, status, headers=dict(headers or {}), mimetype="application/json")


def refusal(status: int, kind: str, message: str, **headers: str) -> flask.Response:
    """An error answer. It is *streamed* (an iterator body) for one reason: functions-framework
    reads whatever is left of the request body after every other answer, and a refused body
    (too large, or from a caller without the key) must never be read into memory."""
    text = json.dumps({"error": kind, "message": message}, ensure_ascii=True)
    return flask.Response(iter([text]), status, headers=headers, mimetype="application/json")


class App:
    def __init__(
        self,
        setup: pipeline.Setup,
        settings: Settings,
        delivery: Delivery,
        logger: Logger,
        api_key: Secret | None = None,
    ) -> None:
        self.config = setup.config
        self.settings = settings
        self.routes = pipeline.configure(setup)  # by name
        self.paths = {"/" + name: route for name, route in self.routes.items()}
        self.known_paths = frozenset([*self.paths, PUSH_PATH, "/health"])
        self.delivery = delivery
        self.logger = logger
        self.api_key = api_key
        self.admission = Admission(settings.admission_budget_bytes)
        self._push_check: PushCheck | None = None  # made on the first push in public mode
        # A push carries a body of up to MAX_BODY_BYTES in base64 (4 bytes for 3).
        self.push_limit = settings.max_body_bytes * 4 // 3 + PUSH_ENVELOPE_BYTES

    @classmethod
    def from_environment(cls, environment: Mapping[str, str]) -> App:
        setup, settings = read(environment)
        logger = Logger(settings.log_level, settings.google_cloud_project)
        # Secret Manager gets no more time than TikTok: both bound how long a sender waits.
        fetch_deadline = min(FETCH_DEADLINE, settings.retry_deadline_seconds)
        manager = SecretManager(settings.secret_manager_endpoint, deadline=fetch_deadline)
        secrets = Secrets(
            manager, settings.google_cloud_project, settings.token_ttl_seconds, logger
        )
        token = secret(
            Pair(
                "TIKTOK_ACCESS_TOKEN", settings.access_token,
                "TIKTOK_ACCESS_TOKEN_SECRET", settings.access_token_secret,
            ),
            secrets,
        )  # fmt: skip
        api_key = secret(
            Pair("API_KEY", settings.api_key, "API_KEY_SECRET", settings.api_key_secret), secrets
        )
        retry_topic = None
        if settings.retry_topic:  # imported only then: a cold start without it never pays
            from service.durable import RetryTopic
            from service.pubsub import PubSub, resource_name

            topic = resource_name(
                "TIKTOK_RETRY_TOPIC", settings.retry_topic, "topics", settings.google_cloud_project
            )
            # Publishing, like reading a secret, gets no more time than TikTok got.
            pubsub = PubSub(settings.pubsub_emulator_host, deadline=fetch_deadline)
            retry_topic = RetryTopic(topic, pubsub, logger)
        delivery = Delivery(settings, token, logger, retry_topic)
        return cls(setup, settings, delivery, logger, api_key=api_key)

    def handle(self, request: flask.Request) -> flask.Response:
        """The answer to one request; never an exception (see :meth:`answer`)."""
        try:
            return self.answer(request)
        except Exception as error:  # a bug: the sender gets JSON and the log says where
            where = unexpected(error)
            self.logger.emit("ERROR", f"unexpected error: {where}", trace=self.trace(request))
            return refusal(500, "internal_error", f"an unexpected error ({where}); see the logs")

    def answer(self, request: flask.Request) -> flask.Response:
        path = request.path.rstrip("/") or "/"
        if path == "/health":
            if request.method not in {"GET", "HEAD"}:
                return self.refused(
                    request, 405, "method_not_allowed", "use GET", Allow="GET, HEAD"
                )
            return reply(self.health(), 200)
        route = self.paths.get(path)
        if route is None and path != PUSH_PATH:
            routes = ", ".join([*self.paths, PUSH_PATH])
            return self.refused(request, 404, "not_found", f"routes: POST {routes}; GET /health")
        if request.method != "POST":
            return self.refused(request, 405, "method_not_allowed", "use POST", Allow="POST")
        denied = self.check_caller(request) if route else self.check_pusher(request)
        if denied is not None:
            return denied
        limit = self.settings.max_body_bytes if route else self.push_limit
        length = declared_length(request)
        if length is not None and length > limit:
            return self.refused(request, 413, "body_too_large", f"the body is over {limit} bytes")
        # Admitted before it is read: a body waiting for its turn stays in the socket, not in
        # memory. One without a length may be as large as the limit.
        weight = limit if length is None else length
        # Half the retry deadline: a sender's timeout covers the wait, the work and TikTok's.
        if not self.admission.enter(weight, self.settings.retry_deadline_seconds / 2):
            self.logger.emit(
                "WARNING", "busy: body not admitted in time", trace=self.trace(request), size=weight
            )
            return refusal(
                503, "busy", "too many large bodies at once: send it again later",
                **{"Retry-After": str(RETRY_AFTER)},
            )  # fmt: skip
        try:
            raw = request.stream.read(limit + 1)
            if len(raw) > limit:
                return self.refused(
                    request, 413, "body_too_large", f"the body is over {limit} bytes"
                )
            if not is_json(request.environ.get("CONTENT_TYPE", "")):
                message = "send Content-Type: application/json"
                return self.refused(request, 415, "unsupported_media_type", message, len(raw))
            return self.work(request, route, raw) if route else self.pushed(request, raw)
        finally:
            self.admission.leave(weight)

    def work(self, request: flask.Request, route: pipeline.Route, raw: bytes) -> flask.Response:
        """Plan, send (or not, in dry run) and answer one admitted body."""
        started = time.perf_counter()
        try:
            plan = pipeline.plan_body(route, raw, self.config, time.time())
        except BodyError as error:
            return self.refused(request, error.status, error.kind, error.message, len(raw))
        dry_run = self.settings.dry_run or self.asked_for_dry_run(request)
        trace = self.trace(request)
        body, payloads = self.run_plan(plan, dry_run, trace)
        status = report.http_status(body)
        self.log_request(trace, route.name, body, status, started)
        return reply(body, status, retry_headers(status, body), payloads)

    def run_plan(
        self, plan: pipeline.Plan, dry_run: bool, trace: str | None, queue: bool = True
    ) -> tuple[dict[str, Any], list[bytes] | None]:
        """The answer to ``plan``, sent (``queue``: what TikTok would not take is queued, when
        there is a retry topic) or not (dry run: with the payloads it would have posted)."""
        payloads = None
        if dry_run:
            requests, payloads = pipeline.would_send(plan)
        else:
            settled = self.delivery.deliver(plan.batches, trace, queue)
            requests = [one.request() for one in settled]
        body = report.answer(
            plan.results, requests, dry_run, warnings=plan.warnings, match_keys=plan.match_keys
        )
        return body, payloads

    def pushed(self, request: flask.Request, raw: bytes) -> flask.Response:
        """Deliver one pushed message; acknowledge it unless it must come back."""
        from service.push import PushError, queued_plan, read_push

        started = time.perf_counter()
        trace = self.trace(request)
        try:
            message = read_push(raw, self.routes)
        except PushError as error:
            return self.malformed(trace, None, 400, "malformed_push", error.message)
        about = {"message_id": message.message_id, "attempt": message.attempt}
        about["input"] = message.input
        limit = self.settings.max_body_bytes
        if message.route is not None and len(message.data) > limit:
            why = f"the message's body is over {limit} bytes"
            return self.malformed(trace, about, 413, "body_too_large", why)
        try:
            if message.route is None:
                plan = queued_plan(message.data)
            else:
                route = self.routes[message.route]
                plan = pipeline.plan_body(route, message.data, self.config, time.time())
        except PushError as error:
            return self.malformed(trace, about, 400, "malformed_push", error.message)
        except BodyError as error:
            return self.malformed(trace, about, error.status, error.kind, error.message)
        dry_run = self.settings.dry_run or self.asked_for_dry_run(request)
        if dry_run and message.route is None:
            why = "dry run: a queued TikTok request is sent only by a function not in dry run"
            self.logger.emit("WARNING", f"pubsub: {why}", trace=trace, pubsub=about)
            return refusal(503, "dry_run", why, **{"Retry-After": str(RETRY_AFTER)})
        body, _ = self.run_plan(plan, dry_run, trace, queue=False)  # Pub/Sub holds it already
        delivered = report.http_status(body)
        status = delivered if delivered in (500, 503) else 200
        self.log_request(trace, "pubsub", body, status, started, pubsub=about)
        if status == 200:
            self.log_acknowledged(trace, body, about)
        return reply(body, status, retry_headers(status, body))

    def malformed(
        self, trace: str | None, about: dict[str, Any] | None, status: int, kind: str, why: str
    ) -> flask.Response:
        """A push that can never be delivered: refused, so that it ends in the dead letters."""
        self.logger.emit(
            "ERROR",
            f"pubsub: {why}; not acknowledged (it ends in the dead-letter topic)",
            trace=trace,
            http_status=status,
            pubsub=about,
        )
        return refusal(status, kind, why)

    def log_acknowledged(
        self, trace: str | None, body: dict[str, Any], about: dict[str, Any]
    ) -> None:
        """What an acknowledged push leaves undelivered for good, since no sender reads its
        answer: the refused events (their ids and TikTok's codes); the rejected ones (paths
        and rules) are in :meth:`log_request`'s WARNING line, as for any request."""
        refused = [r for r in body["results"] if r.get("error") == "refused"]
        if refused:
            self.logger.emit(
                "ERROR",
                f"pubsub: TikTok refused {len(refused)} events for good; acknowledged",
                trace=trace,
                pubsub=about,
                event_ids=[r["event_id"] for r in refused if "event_id" in r],
                tiktok_codes=sorted({r["code"] for r in refused if "code" in r}),
            )

    def refused(
        self,
        request: flask.Request,
        status: int,
        kind: str,
        message: str,
        size: int | None = None,
        **headers: str,
    ) -> flask.Response:
        """:func:`refusal`, with one WARNING line that says what was refused: the kind, the
        route (an unknown path is not written: a sender may put anything in it) and the size
        of the body (declared, or read), never anything in it."""
        self.logger.emit(
            "WARNING",
            f"refused: HTTP {status} {kind}",
            trace=self.trace(request),
            http_status=status,
            error=kind,
            route=known if (known := request.path.rstrip("/")) in self.known_paths else "unknown",
            size=declared_length(request) if size is None else size,
        )
        return refusal(status, kind, message, **headers)

    def trace(self, request: flask.Request) -> str | None:
        environ = request.environ
        return self.logger.trace(
            environ.get("HTTP_TRACEPARENT"), environ.get("HTTP_X_CLOUD_TRACE_CONTEXT")
        )

    def check_pusher(self, request: flask.Request) -> flask.Response | None:
        """``None`` when a push may go on: in IAM mode Google checked its token before the
        function ran; in public mode (a caller key) the function checks it."""
        if self.api_key is None:
            return None
        if self._push_check is None:
            from service.push import PushCheck

            settings = self.settings
            self._push_check = PushCheck(
                settings.push_service_account, settings.push_audience, settings.push_certs_url
            )
        refused = self._push_check.refused(
            request.headers.get("Authorization", ""), request.environ.get("HTTP_HOST", "")
        )
        if refused is None:
            return None
        self.logger.emit("WARNING", f"pubsub: {refused.message}", trace=self.trace(request))
        if refused.status == 503:
            return refusal(503, "unavailable", refused.message, **{"Retry-After": str(RETRY_AFTER)})
        return refusal(401, "unauthorized", refused.message)

    def check_caller(self, request: flask.Request) -> flask.Response | None:
        """``None`` when the caller may go on: no key is configured, or ``X-Api-Key`` is it."""
        if self.api_key is None:
            return None
        try:
            expected = self.api_key.get()
        except SecretError as error:
            self.logger.emit("ERROR", error.message, trace=self.trace(request))
            if error.kind == "unavailable":
                return refusal(
                    503, "unavailable", error.message, **{"Retry-After": str(RETRY_AFTER)}
                )
            return refusal(500, "misconfigured", error.message)
        given = request.headers.get("X-Api-Key", "")
        if hmac.compare_digest(given.encode(), expected.encode()):
            return None
        self.logger.emit(
            "WARNING",
            "caller key " + ("wrong" if given else "missing"),
            trace=self.trace(request),
            path=request.path,
        )
        return refusal(401, "unauthorized", "send the caller key in header X-Api-Key")

    @staticmethod
    def asked_for_dry_run(request: flask.Request) -> bool:
        environ = request.environ  # read directly: parsing every query and header costs 15 µs
        query = (
            request.args.get("dry_run", "") if "dry_run" in environ.get("QUERY_STRING", "") else ""
        )
        asked = (query, environ.get("HTTP_X_DRY_RUN", ""))
        return any(word.strip().lower() in TRUE_WORDS for word in asked)

    def health(self) -> dict[str, Any]:
        config = self.config
        return {
            "status": "ok",
            "version": tiktok_mapper.__version__,
            "routes": sorted(self.paths),
            "dry_run": self.settings.dry_run,
            "event_source_ids": {
                "web": config.pixel_id,
                "app": config.app_id,
                "offline": config.offline_event_set_id,
                "crm": config.crm_event_set_id,
            },
            "test_event_code": bool(config.test_event_code),
            "retry_topic": self.delivery.retry_topic.topic if self.delivery.retry_topic else None,
            "token": "TIKTOK_ACCESS_TOKEN"
            if self.settings.access_token
            else "TIKTOK_ACCESS_TOKEN_SECRET"
            if self.settings.access_token_secret
            else None,
        }

    def log_request(
        self,
        trace: str | None,
        route: str,
        body: dict[str, Any],
        status: int,
        started: float,
        **more: Any,
    ) -> None:
        rejected = [r for r in body["results"] if r["status"] == "rejected"]
        if rejected:  # at WARNING, so LOG_LEVEL=WARNING shows them: paths and rules, no values
            self.logger.emit(
                "WARNING",
                f"{route}: {len(rejected)} events rejected",
                trace=trace,
                source=route,
                rejected=[
                    {"index": r["index"], "errors": r["errors"]} for r in rejected[:MAX_LOGGED]
                ],
                **more,
            )
        events = sorted({r["event"] for r in body["results"] if "event" in r})
        self.logger.emit(
            "INFO" if status < 500 else "ERROR",
            f"{route}: {body['received']} events, HTTP {status}",
            trace=trace,
            source=route,
            http_status=status,
            dry_run=body["dry_run"],
            counts={key: body[key] for key in report.STATUSES if body[key]},
            events=events,
            request_ids=[r["request_id"] for r in body["requests"] if r.get("request_id")],
            requests=len(body["requests"]),
            tiktok_codes=sorted({r["code"] for r in body["requests"] if r.get("code")}),
            warnings=len(body.get("warnings", ()))
            + sum(len(r.get("warnings", ())) for r in body["results"] + body["requests"]),
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            match=body["match"],
            **more,
        )


def declared_length(request: flask.Request) -> int | None:
    """The body's ``Content-Length``; ``None`` without one (chunked) or when it is not a number
    (then the body is read up to the limit, and one over it is refused all the same)."""
    length = request.environ.get("CONTENT_LENGTH", "")
    # ASCII digits, and few enough to be a length: "²" is a digit to Python, and int() of over
    # 4300 digits raises
    return int(length) if length.isascii() and length.isdigit() and len(length) <= 15 else None


def is_json(content_type: str) -> bool:
    """``application/json``, parameters (``; charset=utf-8``) allowed, in any case."""
    return content_type.partition(";")[0].strip().lower() == "application/json"


def retry_headers(status: int, body: dict[str, Any]) -> dict[str, str] | None:
    """The ``Retry-After`` of a 503 answer; nothing for any other."""
    return {"Retry-After": retry_after_header(body["requests"])} if status == 503 else None


def retry_after_header(requests: list[dict[str, Any]]) -> str:
    """The ``Retry-After`` of a 503: the longest TikTok asked for, else :data:`RETRY_AFTER`."""
    asked = [entry["retry_after"] for entry in requests if entry.get("retry_after")]
    return str(math.ceil(max(asked)) if asked else RETRY_AFTER)
