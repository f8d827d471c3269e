"""A TikTok that answers slowly, without end, or takes its time reading what we send cannot hold
a call past its retry deadline: the whole call, answer body included, ends within the deadline
and the window of one last attempt (``service.tiktok.MIN_ATTEMPT_SECONDS``). The bound checked
here is generous (deadline + 5 s): it is a bound, not a speed benchmark."""

from __future__ import annotations

import itertools
import time

import pytest
import requests

from tests.conftest import GUARD_ENV, post
from tests.delivery.conftest import live_environment, purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import FakeTikTok
from tests.process import function_server

DEADLINE = 2
BOUND = DEADLINE + 5
ANSWER = b'{"code": 0, "message": "OK", "request_id": "fake-request-9", "data": {}}'

MISBEHAVIOURS = {
    # one byte every 0.9 s, from the status line on: 88 s before the deadline held
    "the whole answer trickled": Reply(200, ANSWER, trickle=0.9),
    # headers at once, then the body a byte at a time
    "the body trickled": Reply(
        200, iter([bytes([b]) for b in ANSWER]), {"Content-Length": str(len(ANSWER))}, pause=0.9
    ),
    # a chunked answer that never ends, a little at a time: it hung past 120 s
    "an endless chunked answer": Reply(
        200, itertools.chain([b'{"code": 0, "message": "'], itertools.repeat(b"x" * 64)), pause=0.05
    ),
    "no answer at all": Reply(200, {"code": 0, "message": "OK"}, delay=30),
}


@pytest.mark.parametrize("reply", MISBEHAVIOURS.values(), ids=MISBEHAVIOURS.keys())
def test_a_slow_or_endless_answer_ends_the_call_by_the_deadline(make_live, tiktok, reply):
    live = make_live(TIKTOK_RETRY_DEADLINE_SECONDS=str(DEADLINE))
    tiktok.always = reply
    started = time.monotonic()
    answer = post(live, "/commandersact", purchase("O-1"))
    elapsed = time.monotonic() - started
    assert elapsed < BOUND
    assert answer.status_code == 503
    (result,) = answer.get_json()["results"]
    assert (result["status"], result["error"]) == ("failed", "unavailable")
    assert "no answer in time" in result["message"]


def test_a_tiktok_slow_to_read_the_request_cannot_hold_the_call(make_live, tiktok):
    live = make_live(TIKTOK_RETRY_DEADLINE_SECONDS=str(DEADLINE))
    tiktok.read_pause = 0.5  # a KiB every half second: 100 events take a minute to read
    started = time.monotonic()
    answer = post(live, "/commandersact", [purchase(f"O-{n}") for n in range(100)])
    assert time.monotonic() - started < BOUND
    assert answer.status_code == 503


def test_the_real_server_ends_a_trickled_answer_by_the_deadline(secret_manager, tmp_path):
    with FakeTikTok() as tiktok:
        tiktok.always = Reply(200, ANSWER, trickle=0.9)
        environment = {
            **GUARD_ENV,
            **live_environment(tiktok, secret_manager),
            "TIKTOK_RETRY_DEADLINE_SECONDS": str(DEADLINE),
            "PATH": "/usr/bin:/bin",
        }
        with function_server(environment, tmp_path / "stdout.log") as base:
            started = time.monotonic()
            answer = requests.post(base + "/commandersact", json=purchase("O-1"), timeout=60)
            elapsed = time.monotonic() - started
    assert elapsed < BOUND
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
