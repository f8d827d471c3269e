"""``POST /pubsub`` through the real entry point (IAM mode: Google checks the push token before
the function runs): queued messages are sent again, input messages are mapped and sent like a
request to their route, and the answer acknowledges (200) unless the message must come back
(503, 500) or can never be delivered (400: it ends in the dead-letter topic)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import COMPLETE, post
from tests.delivery.conftest import PERSONAL, personal_event
from tests.fakes.server import Reply
from tests.pubsub.push import envelope, queued, tiktok_request

DOWN = Reply(503, b"<html>Service Unavailable</html>")


def log_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_a_queued_message_is_posted_as_it_was_queued_and_acknowledged(live, tiktok, capsys):
    push = queued("Q-1", "Q-2", attempt=3)
    answer = post(live, "/pubsub", push)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["sent"], body["received"]) == (2, 2)
    assert [r["event_id"] for r in body["results"]] == ["Q-1", "Q-2"]
    (sent,) = tiktok.posts()
    assert sent.body == tiktok_request("Q-1", "Q-2")  # the bytes that were queued
    (line,) = [e for e in log_lines(capsys) if "http_status" in e]
    assert (line["source"], line["http_status"], line["counts"]) == ("pubsub", 200, {"sent": 2})
    assert line["pubsub"] == {"message_id": "1234567890", "attempt": 3, "input": "queued"}


def test_a_refusal_for_good_is_acknowledged_and_logged_with_the_event_ids(live, tiktok, capsys):
    tiktok.bad_event_ids.add("Q-BAD")
    answer = post(live, "/pubsub", queued("Q-OK", "Q-BAD"))
    assert answer.status_code == 200
    assert [r["status"] for r in answer.get_json()["results"]] == ["sent", "failed"]
    assert [e["event_id"] for e in tiktok.accepted] == ["Q-OK"]
    (refused,) = [e for e in log_lines(capsys) if "refused" in e["message"] and "pubsub" in e]
    assert refused["severity"] == "ERROR"
    assert (refused["event_ids"], refused["tiktok_codes"]) == (["Q-BAD"], [40002])


def test_tiktok_still_down_is_503_and_nothing_is_queued_again(durable, tiktok, emulator, queue):
    tiktok.always = DOWN
    answer = post(durable, "/pubsub", queued("Q-3"))
    assert answer.status_code == 503  # not acknowledged: Pub/Sub pushes it again later
    assert answer.headers["Retry-After"] == "30"
    assert answer.get_json()["results"][0]["error"] == "unavailable"
    assert emulator.pull(queue) == []  # Pub/Sub keeps it: the function does not queue it again


def test_secret_manager_down_is_503(live, tiktok, secret_manager):
    secret_manager.down = True
    assert post(live, "/pubsub", queued("Q-4")).status_code == 503
    assert tiktok.posts() == []


def test_no_token_configured_is_500_and_not_acknowledged(make_client, tiktok):
    client = make_client(**COMPLETE, TIKTOK_API_URL=tiktok.endpoint)
    answer = post(client, "/pubsub", queued("Q-5"))
    assert answer.status_code == 500
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in answer.get_json()["results"][0]["message"]


def test_a_queued_message_is_not_sent_in_dry_run(make_live, tiktok):
    client = make_live(DRY_RUN="true")
    answer = post(client, "/pubsub", queued("Q-6"))
    assert answer.status_code == 503
    assert answer.get_json()["error"] == "dry_run"
    assert tiktok.posts() == []


def bad_envelopes() -> dict[str, bytes | dict]:
    good = queued("Q-7")
    message = good["message"]
    return {
        "not JSON": b"{not json",
        "not an object": b"[1, 2]",
        "no message": {"subscription": "s"},
        "data not a string": {**good, "message": {**message, "data": 12}},
        "data not base64": {**good, "message": {**message, "data": "***not base64***"}},
        "attributes not strings": {**good, "message": {**message, "attributes": {"kind": 1}}},
        "neither kind nor source": envelope(b"{}"),
        "both kind and source": envelope(b"{}", kind="tiktok_request", source="ga4"),
        "unknown kind": envelope(b"{}", kind="something-else"),
        "unknown source": envelope(b"{}", source="shopify"),
        "queued body not JSON": envelope(b"\xff\xfe", kind="tiktok_request"),
        "queued body of another shape": envelope(
            json.dumps({"event_source": "web", "data": [{"email": PERSONAL["email"]}]}).encode(),
            kind="tiktok_request",
        ),
        "input body not JSON": envelope(b"{", source="commandersact"),
        "input body without events": envelope(b"[]", source="ga4"),
    }


@pytest.mark.parametrize("case", bad_envelopes())
def test_a_malformed_push_is_400_so_it_ends_in_the_dead_letters(live, tiktok, capsys, case):
    answer = post(live, "/pubsub", bad_envelopes()[case])
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"] in ("malformed_push", "invalid_json", "no_events")
    (line,) = log_lines(capsys)
    assert line["severity"] == "ERROR"
    assert "dead-letter topic" in line["message"]
    assert PERSONAL["email"] not in json.dumps(line) + answer.get_data(as_text=True)
    assert tiktok.posts() == []


GA4_PURCHASE = {
    "event_name": "purchase",
    "transaction_id": "IN-GA-1",
    "value": 5,
    "currency": "EUR",
    "user_data": {"email_address": PERSONAL["email"]},
}
TIKTOK_EVENTS = [
    {"event": "Purchase", "event_id": "IN-TT-1", "user": {"email": PERSONAL["email"]}},
    {"event": "Purchase", "event_id": "IN-TT-2", "user": {"email": {"a": PERSONAL["email"]}}},
]
# Per route: a body of one good event and one the route rejects, and where the rejection is.
INPUTS = {
    "commandersact": (
        [personal_event("IN-CA-1"), {"event_name": "purchase", "id": "IN-CA-2", "value": "ten"}],
        "$.value",
    ),
    "ga4": (
        [GA4_PURCHASE, {"event_name": "add_to_cart", "items": [{"item_id": "A", "quantity": 2.5}]}],
        "$.items[0].quantity",
    ),
    "tiktok": ({"event_source": "web", "data": TIKTOK_EVENTS}, "$.user.email"),
}


@pytest.mark.parametrize("route", INPUTS)
def test_an_input_message_is_delivered_like_a_request_to_its_route(live, tiktok, capsys, route):
    body, rejected_path = INPUTS[route]
    push = envelope(json.dumps(body).encode(), source=route)  # the attribute names the route
    answer = post(live, "/pubsub", push)
    assert answer.status_code == 200  # acknowledged: the rejected event can never be sent
    assert [r["status"] for r in answer.get_json()["results"]] == ["sent", "rejected"]
    (event,) = tiktok.accepted
    assert event["event_id"].startswith("IN-")
    lines = log_lines(capsys)
    (rejected,) = [e for e in lines if e["message"].startswith("pubsub: 1 events rejected")]
    assert rejected["severity"] == "WARNING"
    assert rejected["rejected"][0]["index"] == 1
    assert rejected["rejected"][0]["errors"][0]["path"].startswith(rejected_path)
    text = json.dumps(lines)
    assert PERSONAL["email"] not in text
    assert '"ten"' not in text
    (request_line,) = [e for e in lines if "http_status" in e]
    assert request_line["pubsub"]["input"] == route


def test_an_input_message_in_dry_run_is_mapped_and_acknowledged(make_live, tiktok):
    client = make_live(DRY_RUN="true")
    push = envelope(json.dumps(personal_event("IN-DRY")).encode(), source="commandersact")
    answer = post(client, "/pubsub", push)
    assert answer.status_code == 200
    assert answer.get_json()["would_send"] == 1
    assert tiktok.posts() == []


def test_the_request_checks_apply_to_pubsub_too(make_live):
    client = make_live(MAX_BODY_BYTES="3000")
    assert client.get("/pubsub").status_code == 405
    assert post(client, "/pubsub", queued("C-1"), content_type="text/plain").status_code == 415
    fits = envelope(b"[" + b" " * 2998 + b"]", source="commandersact")  # MAX_BODY_BYTES
    assert post(client, "/pubsub", fits).get_json()["error"] == "no_events"  # read, then refused
    body_too_large = envelope(b"[" + b" " * 2999 + b"]", source="commandersact")
    assert post(client, "/pubsub", body_too_large).status_code == 413
    envelope_too_large = {**fits, "padding": "x" * (3000 * 4 // 3 + 64 * 1024)}
    assert post(client, "/pubsub", envelope_too_large).status_code == 413
    assert (
        post(client, "/nowhere", {})
        .get_json()["message"]
        .endswith("POST /commandersact, /ga4, /tiktok, /pubsub; GET /health")
    )
