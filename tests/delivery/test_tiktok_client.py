"""The TikTok client against the loopback fake: what is sent, how each answer is read, what is
retried, and how the waits fit the deadline (a fake clock: nothing sleeps)."""

from __future__ import annotations

import socket

import pytest

from service.retry import Backoff
from service.tiktok import TikTokClient, retry_after
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN, coded
from tiktok_mapper import sizing

BODY = {
    "event_source": "web",
    "event_source_id": "CPIXEL",
    "data": [{"event": "Purchase", "event_id": "E1"}],
}
DEADLINE = 20.0


@pytest.fixture
def client(tiktok, clock):
    return TikTokClient(
        tiktok.endpoint, Backoff.within(DEADLINE, clock=clock, sleep=clock.sleep), read_timeout=0.3
    )


def send(client, token=TOKEN):
    return client.send(BODY, token, client.backoff.deadline(DEADLINE))


def test_a_request_is_posted_with_the_token_and_json(client, tiktok):
    outcome = send(client)
    assert (outcome.kind, outcome.code, outcome.attempts) == ("sent", 0, 1)
    (post,) = tiktok.posts()
    assert outcome.request_id == "fake-request-1"
    assert post.headers["Access-Token"] == TOKEN
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["Accept-Encoding"] == "identity"
    assert post.body == sizing.payload(BODY)  # compact JSON, serialized once
    assert post.json() == BODY


RETRYABLE = {
    "HTTP 503 with an HTML page": Reply(
        503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"}
    ),
    "HTTP 500 with code 50000": Reply(500, {"code": 50000, "message": "system error"}),
    "HTTP 429": Reply(429, b""),
    "code 40100 (throttled)": coded(40100, "Too many requests. Please retry in some time."),
    "code 40132 (frequency limited)": coded(40132, "request frequency limited"),
    "code 51010 (internal timeout)": coded(51010, "internal time out"),
    "HTTP 200 that is not JSON": Reply(200, b"<html>gateway</html>", {"Content-Type": "text/html"}),
    "a slow answer": Reply(200, {"code": 0, "message": "OK"}, delay=0.6),
}


@pytest.mark.parametrize("first", RETRYABLE.values(), ids=RETRYABLE.keys())
def test_a_retryable_answer_is_retried(client, tiktok, clock, first):
    tiktok.then(first)
    outcome = send(client)
    assert (outcome.kind, outcome.attempts) == ("sent", 2)
    assert len(tiktok.posts()) == 2
    assert tiktok.posts()[0].body == tiktok.posts()[1].body
    assert len(clock.slept) == 1


def test_retry_after_is_honoured(client, tiktok, clock):
    tiktok.then(Reply(429, b"", {"Retry-After": "7"}), coded(40100, "", **{"Retry-After": "3"}))
    assert send(client).kind == "sent"
    assert clock.slept[0] >= 7
    assert clock.slept[1] >= 3


def test_a_retry_after_beyond_the_deadline_ends_the_call_at_once(client, tiktok, clock):
    tiktok.always = Reply(429, b"", {"Retry-After": "120"})
    outcome = send(client)
    assert (outcome.kind, outcome.retry_after, outcome.attempts) == ("unavailable", 120, 1)
    assert clock.slept == []


def test_a_persistent_outage_ends_within_the_deadline(client, tiktok, clock):
    tiktok.always = Reply(503, b"busy")
    outcome = send(client)
    assert outcome.kind == "unavailable"
    assert "HTTP 503" in outcome.message
    assert 3 <= outcome.attempts == len(tiktok.posts()) == len(clock.slept) + 1
    assert sum(clock.slept) < DEADLINE
    assert max(clock.slept) <= DEADLINE / 4  # the cap of one wait


def test_an_unreachable_endpoint_is_unavailable(clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = TikTokClient(
        f"http://127.0.0.1:{port}/", Backoff.within(DEADLINE, clock=clock, sleep=clock.sleep)
    )
    outcome = send(client)
    assert outcome.kind == "unavailable"
    assert "connection failed" in outcome.message


REFUSALS = {
    "code 40002 (bad parameter)": (coded(40002, "Batch.0.event_id: Not a valid string."), 40002),
    "code 40001 (no permission)": (coded(40001, "No permission to operate pixel code"), 40001),
    "code 40105 (invalid token)": (coded(40105, "invalid access token"), 40105),
    "code 40300 (no advertiser)": (coded(40300, "advertiser does not exist"), 40300),
    "HTTP 404 with an HTML page": (Reply(404, b"<html>Not Found</html>"), None),
}


@pytest.mark.parametrize(("reply", "code"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_is_final(client, tiktok, clock, reply, code):
    tiktok.then(reply)
    outcome = send(client)
    assert (outcome.kind, outcome.code, outcome.attempts) == ("refused", code, 1)
    assert len(tiktok.posts()) == 1
    assert clock.slept == []


def test_auth_and_content_refusals_are_told_apart(client, tiktok):
    assert send(client, token="wrong-token").auth_refused
    tiktok.then(coded(40002, "bad"))
    outcome = send(client)
    assert outcome.splittable
    assert not outcome.auth_refused


def test_partial_success_is_sent_with_a_warning(client, tiktok):
    tiktok.then(coded(20001, "partial success"))
    outcome = send(client)
    assert (outcome.kind, outcome.code) == ("sent", 20001)
    assert outcome.warnings == ("TikTok answered 20001 (partial success)",)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("12", 12.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_header_forms(header, seconds):
    assert retry_after(header) == seconds
