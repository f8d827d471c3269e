"""The load harness: senders posting events to the real function, which delivers them to a
TikTok fake that injects faults; then the proof that nothing was lost.

Words used here:

- *function*: the real ``functions-framework`` server (gunicorn with threads) in a subprocess,
  live (not in dry run) against the loopback fakes of TikTok and Secret Manager.
- *sender*: a thread that posts bodies (1 to ``max_batch`` events, to ``/commandersact``,
  ``/ga4`` or ``/tiktok`` in turn) and, like a Pub/Sub push subscription, posts the same body
  again on HTTP 429 or 5xx after ``Retry-After`` seconds (capped at ``retry_cap``, with jitter),
  up to ``max_attempts`` times. A *retry* is such a second or later post.
- *delivery key*: (``event_source_id``, ``event``, ``event_id``), what TikTok deduplicates on.
  Every event the senders made has one key, known in advance.
- *lost*: a key the TikTok fake never accepted, though the senders are done (a body they gave
  up on counts too); *duplicates*: accepted more than once (TikTok drops the repeats).
- *secret fetches*: reads of Secret Manager: the token and the caller key are each cached per
  instance, so a run makes 2 however many threads need them.
- *unexpected answer*: any HTTP status but 200 and 503; every event is valid, so ``207``,
  ``400``, ``500`` … are bugs.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import requests

from tests.conftest import COMPLETE, GUARD_ENV
from tests.fakes.secret_manager import FakeSecretManager
from tests.fakes.tiktok import TOKEN, FakeTikTok, Faults
from tests.process import function_server

PROJECT = "load-project"
CALLER_KEY = "load-caller-key"
PIXEL = COMPLETE["TIKTOK_PIXEL_ID"]
ROUTES = ("/commandersact", "/ga4", "/tiktok")
Key = tuple[str, str, str]


def faults(rate: float, outage_period: float = 6.0, outage_seconds: float = 2.5) -> Faults:
    """Each fault at ``rate``, and TikTok down ``outage_seconds`` out of every ``outage_period``
    (longer than the function's retry deadline, so some senders get a 503 and post again)."""
    return Faults(
        unavailable=rate, throttled=rate, slow=rate, dropped=rate,
        outage_period=outage_period, outage_seconds=outage_seconds,
    )  # fmt: skip


@dataclass
class Plan:
    events: int = 10_000
    senders: int = 16
    max_batch: int = 10
    faults: Faults = field(default_factory=lambda: faults(0.04))
    deadline_seconds: int = 2  # TIKTOK_RETRY_DEADLINE_SECONDS of the function
    retry_cap: float = 0.25  # seconds a sender waits at most before posting again
    max_attempts: int = 40
    seed: int = 11


@dataclass
class Report:
    plan: Plan
    seconds: float
    bodies: int
    answers: Counter[int]
    retries: int
    gave_up: int
    lost: int
    unexpected_keys: int
    duplicates: int
    tiktok_posts: int
    tokens_seen: set[str]
    secret_fetches: int
    personal_in_log: bool

    @property
    def events_per_second(self) -> float:
        return self.plan.events / self.seconds

    @property
    def unexpected_answers(self) -> int:
        return sum(count for status, count in self.answers.items() if status not in (200, 503))

    def lines(self) -> list[str]:
        faults = self.plan.faults
        injected = ", ".join(f"{kind} {n}" for kind, n in sorted(faults.injected.items()))
        return [
            f"events             {self.plan.events} in {self.bodies} bodies, "
            f"{self.plan.senders} senders, 3 routes",
            f"TikTok faults      {injected or 'none'} (of {self.tiktok_posts} posts to TikTok)",
            f"time               {self.seconds:.1f} s",
            f"events/s           {self.events_per_second:.0f}",
            "answers            "
            + ", ".join(f"{status}: {n}" for status, n in sorted(self.answers.items())),
            f"sender retries     {self.retries} (bodies posted again after a 503)",
            f"500s               {self.answers[500]}",
            f"unexpected answers {self.unexpected_answers}",
            f"given up           {self.gave_up} bodies",
            f"lost               {self.lost} events (never reached TikTok)",
            f"duplicates         {self.duplicates} (accepted again, dropped by TikTok's dedup)",
            f"Secret Manager     {self.secret_fetches} fetches (the token and the caller key)",
        ]

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.unexpected_keys == 0
            and self.unexpected_answers == 0
            and self.gave_up == 0
            and self.tokens_seen == {TOKEN}
            and self.secret_fetches == 2
            and not self.personal_in_log
        )


def make_event(route: str, event_id: str) -> tuple[dict[str, Any], Key]:
    """An event for ``route`` whose TikTok ``event_id`` is ``event_id``, and its delivery key."""
    email = f"{event_id.lower()}@load.example"
    if route == "/commandersact":
        event = {"event_name": "purchase", "id": event_id, "value": 10, "currency": "EUR",
                 "user": {"email": email}}  # fmt: skip
        return event, (PIXEL, "CompletePayment", event_id)
    if route == "/ga4":
        event = {"event_name": "add_to_cart", "event_id": event_id, "value": 5, "currency": "EUR",
                 "user_data": {"email_address": email}}  # fmt: skip
        return event, (PIXEL, "AddToCart", event_id)
    event = {"event": "ViewContent", "event_id": event_id, "user": {"email": email},
             "properties": {"content_ids": ["SKU-1"]}}  # fmt: skip
    return event, (PIXEL, "ViewContent", event_id)


def make_bodies(plan: Plan) -> tuple[list[tuple[str, list[dict[str, Any]]]], set[Key]]:
    """The bodies the senders post, and every delivery key they hold."""
    chooser = random.Random(plan.seed)
    bodies: list[tuple[str, list[dict[str, Any]]]] = []
    keys: set[Key] = set()
    made = 0
    while made < plan.events:
        route = ROUTES[len(bodies) % len(ROUTES)]
        size = min(chooser.randint(1, plan.max_batch), plan.events - made)
        events = []
        for number in range(made, made + size):
            event, key = make_event(route, f"LOAD-{plan.seed}-{number}")
            events.append(event)
            keys.add(key)
        bodies.append((route, events))
        made += size
    return bodies, keys


class Senders:
    def __init__(self, base: str, plan: Plan) -> None:
        self.base = base
        self.plan = plan
        self.lock = threading.Lock()
        self.answers: Counter[int] = Counter()
        self.retries = 0
        self.gave_up = 0

    def run(self, bodies: list[tuple[str, list[dict[str, Any]]]]) -> None:
        work: Queue[tuple[str, list[dict[str, Any]]]] = Queue()
        for body in bodies:
            work.put(body)
        threads = [
            threading.Thread(target=self.sender, args=(work, number), daemon=True)
            for number in range(self.plan.senders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def sender(self, work: Queue[tuple[str, list[dict[str, Any]]]], number: int) -> None:
        jitter = random.Random(self.plan.seed * 1000 + number)
        with requests.Session() as session:
            session.headers["X-Api-Key"] = CALLER_KEY
            while True:
                try:
                    route, events = work.get_nowait()
                except Empty:
                    return
                self.deliver(session, route, events, jitter)

    def deliver(
        self,
        session: requests.Session,
        route: str,
        events: list[dict[str, Any]],
        jitter: random.Random,
    ) -> None:
        for attempt in range(self.plan.max_attempts):
            if attempt:
                with self.lock:
                    self.retries += 1
            try:
                answer = session.post(self.base + route, json=events, timeout=60)
            except requests.RequestException:
                status, wait = 0, 1.0  # the function did not answer: post again, as Pub/Sub does
            else:
                status = answer.status_code
                wait = float(answer.headers.get("Retry-After") or 1)
            with self.lock:
                self.answers[status] += 1
            if status and status != 429 and status < 500:
                if status >= 300:
                    with self.lock:
                        self.gave_up += 1  # nothing a sender can resend fixes these
                return
            time.sleep(min(wait, self.plan.retry_cap) * (0.5 + jitter.random() / 2))
        with self.lock:
            self.gave_up += 1


def run(plan: Plan, log: Path | None = None) -> Report:
    """Start the fakes and the function, send everything, and count what reached TikTok."""
    bodies, keys = make_bodies(plan)
    with FakeTikTok() as tiktok, FakeSecretManager() as secret_manager:
        secret_manager.add_version(PROJECT, "tiktok-token", TOKEN)
        secret_manager.add_version(PROJECT, "caller-key", CALLER_KEY)
        tiktok.faults = plan.faults
        environment = {
            **GUARD_ENV,
            **COMPLETE,
            "PATH": "/usr/bin:/bin",
            "TIKTOK_API_URL": tiktok.endpoint,
            "SECRET_MANAGER_ENDPOINT": secret_manager.url,
            "TIKTOK_ACCESS_TOKEN_SECRET": "tiktok-token",
            "API_KEY_SECRET": "caller-key",
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "TIKTOK_RETRY_DEADLINE_SECONDS": str(plan.deadline_seconds),
        }
        with tempfile.TemporaryDirectory() as scratch:
            log = log or Path(scratch) / "function.log"
            with function_server(environment, log) as base:
                senders = Senders(base, plan)
                started = time.perf_counter()
                senders.run(bodies)
                seconds = time.perf_counter() - started
            personal_in_log = "@load.example" in log.read_text()
        delivered = tiktok.delivered
        return Report(
            plan=plan,
            seconds=seconds,
            bodies=len(bodies),
            answers=senders.answers,
            retries=senders.retries,
            gave_up=senders.gave_up,
            lost=len(keys - delivered.keys()),
            unexpected_keys=len(delivered.keys() - keys),
            duplicates=sum(delivered.values()) - len(delivered),
            tiktok_posts=len(tiktok.posts()),
            tokens_seen={post.headers.get("Access-Token", "") for post in tiktok.posts()},
            secret_fetches=len(secret_manager.accesses()),
            personal_in_log=personal_in_log,
        )
