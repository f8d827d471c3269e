"""The outage harness: a TikTok outage while senders that never resend post events to the real
function with durable delivery on, the Pub/Sub emulator pushing the queued requests back; then
the proof that nothing was lost.

Words used here:

- *function*: the real ``functions-framework`` server (gunicorn with threads) in a subprocess,
  live against the loopback fakes of TikTok and Secret Manager, publishing to a retry topic on
  the emulator, whose push subscription (no retry policy: the emulator pushes again about a
  second after a refusal) posts to the function's ``/pubsub``.
- *sender*: a thread that posts bodies of 1 to 10 events (to ``/commandersact``, ``/ga4`` and
  ``/tiktok`` in turn, as ``tests.load.harness`` makes them) at their planned moments, spread
  evenly over the run, **once**: like an sGTM HTTP tag or a webhook, it never posts again, so
  any answer but 200 or 202 loses its events.
- *outage*: TikTok answers HTTP 503 to everything from ``before`` seconds into the run for
  ``outage`` seconds; the run goes on ``after`` seconds past it.
- *lost*: a delivery key (``event_source_id``, ``event``, ``event_id``) that TikTok never
  accepted once everything has drained; *duplicates*: accepted more than once, which TikTok's
  deduplication drops (a push whose acknowledgement was lost, say). After deduplication every
  event must have arrived exactly once.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import requests

from tests.conftest import GUARD_ENV
from tests.delivery.conftest import PROJECT, live_environment
from tests.fakes.secret_manager import FakeSecretManager
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN, FakeTikTok
from tests.load import harness
from tests.process import function_server
from tests.pubsub.emulator import Emulator

DOWN = Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})


@dataclass
class Plan:
    events: int = 5000
    outage: float = 60.0  # seconds TikTok is down
    before: float = 5.0  # seconds of posting before the outage
    after: float = 5.0  # seconds of posting after it
    senders: int = 48
    deadline_seconds: int = 1  # TIKTOK_RETRY_DEADLINE_SECONDS of the function
    threads: int = 64  # THREADS of the function
    drain_seconds: float = 180.0  # how long to wait for the queued events after the outage
    seed: int = 17


@dataclass
class Report:
    plan: Plan
    bodies: int
    answers: Counter[int]
    queued: int  # events the answers said were queued
    lost: int
    unexpected_keys: int
    duplicates: int
    drained_after: float  # seconds from the end of the outage until the last event arrived
    pushes: int  # POSTs to /pubsub the function logged
    pushes_refused: int  # of which not acknowledged (TikTok still down)

    def lines(self) -> list[str]:
        plan = self.plan
        return [
            f"events             {plan.events} in {self.bodies} bodies, {plan.senders} senders "
            "that never resend, 3 routes",
            f"TikTok outage      {plan.outage:.0f} s (posting from {plan.before:.0f} s before "
            f"to {plan.after:.0f} s after)",
            "answers            "
            + ", ".join(f"{status}: {n}" for status, n in sorted(self.answers.items())),
            f"queued             {self.queued} events (published to the retry topic)",
            f"pushes to /pubsub  {self.pushes}, of which {self.pushes_refused} not acknowledged "
            "(TikTok still down)",
            f"drained            {self.drained_after:.1f} s after TikTok came back",
            f"lost               {self.lost} events (never reached TikTok)",
            f"duplicates         {self.duplicates} (accepted again, dropped by TikTok's dedup)",
            f"after dedup        {'every event exactly once' if self.ok else 'NOT exactly once'}",
        ]

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.unexpected_keys == 0
            and set(self.answers) <= {200, 202}
            and self.queued > 0
        )


class Senders:
    """Threads posting each body once, at its moment."""

    def __init__(self, base: str, plan: Plan) -> None:
        self.base = base
        self.plan = plan
        self.lock = threading.Lock()
        self.answers: Counter[int] = Counter()
        self.queued = 0

    def run(self, bodies: list[tuple[str, list[dict[str, Any]]]], started: float) -> None:
        span = self.plan.before + self.plan.outage + self.plan.after
        work: Queue[tuple[float, str, list[dict[str, Any]]]] = Queue()
        for number, (route, events) in enumerate(bodies):
            work.put((started + span * number / len(bodies), route, events))
        threads = [
            threading.Thread(target=self.sender, args=(work,), daemon=True)
            for _ in range(self.plan.senders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def sender(self, work: Queue[tuple[float, str, list[dict[str, Any]]]]) -> None:
        with requests.Session() as session:
            while True:
                try:
                    at, route, events = work.get_nowait()
                except Empty:
                    return
                time.sleep(max(0.0, at - time.monotonic()))
                try:
                    answer = session.post(self.base + route, json=events, timeout=60)
                except requests.RequestException:
                    status, queued = 0, 0
                else:
                    status = answer.status_code
                    queued = answer.json().get("queued", 0) if status < 300 else 0
                with self.lock:
                    self.answers[status] += 1
                    self.queued += queued


def outage(tiktok: FakeTikTok, plan: Plan, started: float) -> float:
    """TikTok down for the planned window; the moment it came back (monotonic)."""
    time.sleep(max(0.0, started + plan.before - time.monotonic()))
    tiktok.always = DOWN
    time.sleep(plan.outage)
    tiktok.always = None
    return time.monotonic()


def run(plan: Plan, emulator: Emulator, log: Path | None = None) -> Report:
    """Start the fakes and the function, post everything once, and count what reached TikTok."""
    bodies, keys = harness.make_bodies(harness.Plan(events=plan.events, seed=plan.seed))
    suffix = f"outage-{plan.seed}-{time.monotonic_ns()}"
    topic = emulator.topic(f"retry-{suffix}")
    with FakeTikTok() as tiktok, FakeSecretManager() as secret_manager:
        secret_manager.add_version(PROJECT, "tiktok-token", TOKEN)
        environment = {
            **GUARD_ENV,
            **live_environment(tiktok, secret_manager),
            "PATH": "/usr/bin:/bin",
            "TIKTOK_RETRY_DEADLINE_SECONDS": str(plan.deadline_seconds),
            "TIKTOK_RETRY_TOPIC": topic,
            "PUBSUB_EMULATOR_HOST": emulator.host,
            "THREADS": str(plan.threads),
            "LOG_LEVEL": "INFO",
        }
        with tempfile.TemporaryDirectory() as scratch:
            log = log or Path(scratch) / "function.log"
            with function_server(environment, log) as base:
                emulator.subscription(f"push-{suffix}", topic, push=base + "/pubsub")
                senders = Senders(base, plan)
                started = time.monotonic()
                back: list[float] = []
                switch = threading.Thread(
                    target=lambda: back.append(outage(tiktok, plan, started)), daemon=True
                )
                switch.start()
                senders.run(bodies, started)
                switch.join()
                give_up = time.monotonic() + plan.drain_seconds
                while keys - tiktok.delivered.keys() and time.monotonic() < give_up:
                    time.sleep(0.2)
                drained = time.monotonic() - back[0]
                time.sleep(2.0)  # pushes on their way still count, as duplicates
            pushes = [line for line in log.read_text().splitlines() if '"source": "pubsub"' in line]
        delivered = tiktok.delivered
        return Report(
            plan=plan,
            bodies=len(bodies),
            answers=senders.answers,
            queued=senders.queued,
            lost=len(keys - delivered.keys()),
            unexpected_keys=len(delivered.keys() - keys),
            duplicates=sum(delivered.values()) - len(delivered),
            drained_after=drained,
            pushes=len(pushes),
            pushes_refused=sum('"http_status": 503' in line for line in pushes),
        )
