"""Live delivery through the real entry point: the token from the fake Secret Manager, requests
to the fake TikTok, retries, splitting, the answer codes, token rotation, the caller key, logs."""

from __future__ import annotations

import json

import pytest

from tests.conftest import COMPLETE, post
from tests.delivery.conftest import PERSONAL, PROJECT, TOKEN_SECRET, personal_event, purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN, coded

APP_PURCHASE = purchase(
    "APP-1",
    partners={"tiktok": {"event_source": "app"}},
    context={"app": {"namespace": "com.example.shop"}},
)


def test_events_are_sent_with_the_token_from_secret_manager(live, tiktok, secret_manager):
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["dry_run"], body["sent"], body["failed"]) == (False, 1, 0)
    assert body["results"] == [
        {"index": 0, "status": "sent", "event": "CompletePayment", "event_id": "O-1"}
    ]
    assert body["requests"] == [
        {
            "event_source": "web",
            "event_source_id": COMPLETE["TIKTOK_PIXEL_ID"],
            "events": 1,
            "status": "sent",
            "request_id": "fake-request-1",
        }
    ]
    (sent,) = tiktok.posts()
    assert sent.headers["Access-Token"] == TOKEN
    assert sent.json()["event_source_id"] == COMPLETE["TIKTOK_PIXEL_ID"]
    assert [event["event_id"] for event in sent.json()["data"]] == ["O-1"]
    assert len(secret_manager.accesses()) == 1
    post(live, "/commandersact", purchase("O-2"))
    assert len(secret_manager.accesses()) == 1  # cached


def test_a_thousand_events_of_one_pixel_make_one_request(live, tiktok):
    answer = post(live, "/commandersact", [purchase(f"O-{n}") for n in range(1000)])
    assert answer.status_code == 200
    assert answer.get_json()["sent"] == 1000
    (sent,) = tiktok.posts()
    assert len(sent.json()["data"]) == 1000


def test_web_and_app_events_in_one_call_make_two_requests(live, tiktok):
    answer = post(live, "/commandersact", [purchase("WEB-1"), APP_PURCHASE, purchase("WEB-2")])
    assert answer.status_code == 200
    body = answer.get_json()
    assert [(r["event_source"], r["events"], r["status"]) for r in body["requests"]] == [
        ("web", 2, "sent"),
        ("app", 1, "sent"),
    ]
    assert [p.json()["event_source"] for p in tiktok.posts()] == ["web", "app"]
    assert [e["event_id"] for e in tiktok.accepted] == ["WEB-1", "WEB-2", "APP-1"]


RETRYABLE = {
    "HTTP 503": Reply(503, b"<html>Service Unavailable</html>"),
    "HTTP 429 with Retry-After": Reply(429, b"", {"Retry-After": "0"}),
    "code 40100": coded(40100, "Too many requests. Please retry in some time."),
    "code 50002": coded(50002, "system timeout"),
    "not JSON": Reply(200, b"<html>oops</html>"),
}


@pytest.mark.parametrize("first", RETRYABLE.values(), ids=RETRYABLE.keys())
def test_a_passing_failure_is_retried_and_the_events_are_sent(live, tiktok, first):
    tiktok.then(first)
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 200
    assert answer.get_json()["results"][0]["status"] == "sent"
    assert len(tiktok.posts()) == 2
    assert answer.get_json()["requests"][0]["request_id"] == "fake-request-2"


def test_a_refused_single_event_is_502_and_not_retried(live, tiktok):
    tiktok.bad_event_ids.add("O-1")
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 502
    (result,) = answer.get_json()["results"]
    assert (result["status"], result["error"], result["code"]) == ("failed", "refused", 40002)
    assert result["message"] == (
        "TikTok refused the request: code 40002 (invalid value) at data[0].user.ip"
    )
    assert answer.get_json()["requests"][0]["request_id"] == "fake-request-1"
    assert len(tiktok.posts()) == 1


def test_one_bad_event_in_a_hundred_fails_alone(live, tiktok):
    tiktok.bad_event_ids.add("O-37")
    answer = post(live, "/commandersact", [purchase(f"O-{n}") for n in range(100)])
    assert answer.status_code == 207
    body = answer.get_json()
    assert (body["sent"], body["failed"]) == (99, 1)
    failed = [r for r in body["results"] if r["status"] == "failed"]
    assert [(r["index"], r["error"], r["code"]) for r in failed] == [(37, "refused", 40002)]
    assert sorted(e["event_id"] for e in tiktok.accepted) == sorted(
        f"O-{n}" for n in range(100) if n != 37
    )
    assert sum(r["events"] for r in body["requests"]) == 100  # each event in one settled request
    assert [r["events"] for r in body["requests"] if r["status"] == "failed"] == [1]
    assert len(tiktok.posts()) <= 2 * 7 + 1  # halving: two requests per level, seven levels


def test_a_persistent_outage_is_503_with_retry_after(live, tiktok):
    tiktok.always = Reply(503, b"<html>Service Unavailable</html>")
    answer = post(live, "/commandersact", [purchase("WEB-1"), APP_PURCHASE])
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    body = answer.get_json()
    assert {(r["status"], r["error"]) for r in body["results"]} == {("failed", "unavailable")}
    assert len(tiktok.posts()) > 2  # retried …
    assert {p.json()["event_source"] for p in tiktok.posts()} == {"web"}  # … and then given up


def test_a_retry_after_longer_than_the_deadline_is_passed_on(live, tiktok):
    tiktok.always = Reply(429, b"", {"Retry-After": "120"})
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "120"
    assert answer.get_json()["requests"][0]["retry_after"] == 120
    assert len(tiktok.posts()) == 1


def test_a_tiktok_that_does_not_answer_in_time_is_503(live, tiktok):
    tiktok.always = Reply(200, {"code": 0, "message": "OK"}, delay=1.5)
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert "no answer in time" in answer.get_json()["results"][0]["message"]


def test_partial_success_is_sent_and_the_request_carries_a_warning(live, tiktok):
    tiktok.then(coded(20001, "partial success: Batch.0.user.ip is not valid"))
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 200
    (entry,) = answer.get_json()["requests"]
    assert entry["status"] == "sent"
    assert entry["warnings"] == ["TikTok answered 20001 (partial success) at data[0].user.ip"]


def test_a_rotated_token_is_picked_up_at_once(live, tiktok, secret_manager):
    assert post(live, "/commandersact", purchase("O-1")).status_code == 200
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "tt-live-token-0002")
    tiktok.tokens = {"tt-live-token-0002"}
    answer = post(live, "/commandersact", purchase("O-2"))
    assert answer.status_code == 200
    assert [p.headers["Access-Token"] for p in tiktok.posts()] == [
        TOKEN,
        TOKEN,
        "tt-live-token-0002",
    ]
    assert len(secret_manager.accesses()) == 2


def test_a_token_refused_for_good_is_502_after_one_fresh_read(live, tiktok, secret_manager):
    tiktok.tokens = set()
    answer = post(live, "/commandersact", [purchase("WEB-1"), APP_PURCHASE])
    assert answer.status_code == 502
    assert {r["code"] for r in answer.get_json()["results"]} == {40001}
    assert len(secret_manager.accesses()) == 2  # read again once; unchanged, so not resent
    assert len(tiktok.posts()) == 2  # one per request


def test_a_token_from_the_environment_wins_over_the_secret(make_live, tiktok, secret_manager):
    live = make_live(TIKTOK_ACCESS_TOKEN="tt-env-token")
    tiktok.tokens = {"tt-env-token"}
    assert post(live, "/commandersact", purchase("O-1")).status_code == 200
    assert tiktok.posts()[0].headers["Access-Token"] == "tt-env-token"
    assert secret_manager.accesses() == []


def test_secret_manager_down_is_503_then_delivery_recovers(live, tiktok, secret_manager):
    secret_manager.down = True
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in answer.get_json()["results"][0]["message"]
    assert tiktok.posts() == []
    secret_manager.down = False
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 200
    assert len(tiktok.posts()) == 1


def test_a_missing_secret_is_500_naming_the_variable(make_live, secret_manager):
    answer = post(
        make_live(TIKTOK_ACCESS_TOKEN_SECRET="no-such-secret"), "/commandersact", purchase("O-1")
    )
    assert answer.status_code == 500
    (result,) = answer.get_json()["results"]
    assert (result["error"], "TIKTOK_ACCESS_TOKEN_SECRET" in result["message"]) == (
        "misconfigured",
        True,
    )


def test_no_token_at_all_is_500_naming_the_variables(make_client, tiktok):
    client = make_client(**COMPLETE, TIKTOK_API_URL=tiktok.endpoint)
    answer = post(client, "/commandersact", purchase("O-1"))
    assert answer.status_code == 500
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in answer.get_json()["results"][0]["message"]
    assert tiktok.posts() == []


@pytest.fixture(params=["API_KEY", "API_KEY_SECRET"])
def keyed(request, make_live, secret_manager):
    """The function with a caller key, given as a value or as a Secret Manager secret."""
    if request.param == "API_KEY":
        return make_live(API_KEY="caller-key-1")
    secret_manager.add_version(PROJECT, "caller-key", "caller-key-1")
    return make_live(API_KEY_SECRET="caller-key")


def test_the_caller_key_is_required_when_configured(keyed):
    for headers in ({}, {"X-Api-Key": "caller-key-2"}, {"X-Api-Key": ""}):
        answer = post(keyed, "/commandersact", purchase("O-1"), headers=headers)
        assert answer.status_code == 401
        assert answer.get_json() == {
            "error": "unauthorized",
            "message": "send the caller key in header X-Api-Key",
        }
    answer = post(keyed, "/commandersact", purchase("O-1"), headers={"X-Api-Key": "caller-key-1"})
    assert answer.status_code == 200


def test_the_caller_key_comes_after_404_and_405_and_before_the_body_checks(keyed):
    assert keyed.get("/health").status_code == 200  # open
    assert post(keyed, "/nowhere", {}).status_code == 404
    assert keyed.get("/commandersact").status_code == 405
    assert post(keyed, "/commandersact", "x", content_type="text/plain").status_code == 401
    answer = post(
        keyed,
        "/commandersact",
        "x",
        content_type="text/plain",
        headers={"X-Api-Key": "caller-key-1"},
    )
    assert answer.status_code == 415


def test_a_caller_key_secret_that_cannot_be_read(make_live, secret_manager):
    keyed = make_live(API_KEY_SECRET="caller-key")
    answer = post(keyed, "/commandersact", purchase("O-1"), headers={"X-Api-Key": "anything"})
    assert answer.status_code == 500
    assert answer.get_json()["error"] == "misconfigured"
    assert "API_KEY_SECRET" in answer.get_json()["message"]
    secret_manager.down = True
    answer = post(keyed, "/commandersact", purchase("O-1"), headers={"X-Api-Key": "anything"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"


def test_logs_carry_the_facts_and_no_personal_value_or_token(make_live, tiktok, capsys):
    live = make_live(GOOGLE_CLOUD_PROJECT=PROJECT, API_KEY="caller-key-1")
    tiktok.bad_event_ids.add("O-2")  # its refusal quotes the event's IP
    tiktok.then(Reply(503, b"busy"))  # and the first attempt is retried
    capsys.readouterr()
    headers = {"X-Api-Key": "caller-key-1", "X-Cloud-Trace-Context": "abc123def/1;o=1"}
    answer = post(
        live, "/commandersact", [personal_event("O-1"), personal_event("O-2")], headers=headers
    )
    assert answer.status_code == 207
    post(live, "/commandersact", purchase("O-3"), headers={"X-Api-Key": "wrong-key"})
    output = capsys.readouterr().out
    for name, value in {**PERSONAL, "token": TOKEN, "caller key": "caller-key-1"}.items():
        assert value not in output, name
        assert value not in answer.get_data(as_text=True), name
    lines = [json.loads(line) for line in output.splitlines()]
    severities = [line["severity"] for line in lines]
    assert "WARNING" in severities  # the retry, the split, the wrong key
    assert "ERROR" in severities  # the refusal
    (summary,) = [line for line in lines if line["message"].startswith("commandersact:")]
    assert summary["logging.googleapis.com/trace"] == f"projects/{PROJECT}/traces/abc123def"
    assert summary["counts"] == {"sent": 1, "failed": 1}
    assert summary["events"] == ["CompletePayment"]
    assert summary["tiktok_codes"] == [40002]
    assert len(summary["request_ids"]) == 2
    assert summary["latency_ms"] >= 0
    refusal = next(line for line in lines if line["severity"] == "ERROR")
    assert (refusal["code"], refusal["events"], refusal["logging.googleapis.com/trace"]) == (
        40002,
        1,
        summary["logging.googleapis.com/trace"],
    )
