"""Durable delivery through the real entry point: what TikTok or Secret Manager would not take
in time is published to the retry topic (on the emulator) exactly as it would have been posted,
its events are ``queued`` and the answer is 202; when publishing fails too, the answer is the
503 of a function without a retry topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.conftest import COMPLETE, post
from tests.delivery.conftest import PERSONAL, personal_event, purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN
from tests.process import free_port

DOWN = Reply(503, b"<html>Service Unavailable</html>")
APP_PURCHASE = purchase(
    "APP-1",
    partners={"tiktok": {"event_source": "app"}},
    context={"app": {"namespace": "com.example.shop"}},
)


def test_an_outage_queues_the_requests_as_they_would_have_been_posted(
    durable, tiktok, emulator, queue, capsys
):
    tiktok.always = DOWN
    answer = post(durable, "/commandersact", [personal_event("Q-1"), APP_PURCHASE])
    assert answer.status_code == 202
    body = answer.get_json()
    assert (body["queued"], body["sent"], body["failed"]) == (2, 0, 0)
    assert [r["status"] for r in body["results"]] == ["queued", "queued"]
    assert [(r["event_source"], r["status"]) for r in body["requests"]] == [
        ("web", "queued"),
        ("app", "queued"),
    ]
    assert all(r["message"].startswith("queued: ") for r in body["requests"])
    assert "Retry-After" not in answer.headers

    posted = [seen.body for seen in tiktok.posts()]
    messages = emulator.wait_for(queue, 2, 10)
    assert sorted(m["messageId"] for m in messages) == sorted(
        r["message_id"] for r in body["requests"]
    )
    web, app = sorted(messages, key=lambda m: m["attributes"]["event_source"] != "web")
    assert web["data"] == posted[0]  # the very bytes TikTok was sent (and failed to take)
    assert json.loads(app["data"])["event_source_id"] == COMPLETE["TIKTOK_APP_ID"]
    attributes = dict(web["attributes"])
    queued_at = datetime.strptime(attributes.pop("queued_at"), "%Y-%m-%dT%H:%M:%S.%f%z")
    assert abs(queued_at.timestamp() - datetime.now(UTC).timestamp()) < 60
    assert attributes == {
        "kind": "tiktok_request",
        "event_source": "web",
        "event_source_id": COMPLETE["TIKTOK_PIXEL_ID"],
        "events": "1",
    }
    everything = b"".join(m["data"] for m in messages) + json.dumps(messages, default=str).encode()
    for value in (PERSONAL["email"], PERSONAL["phone"], PERSONAL["user id"], TOKEN):
        assert value.encode() not in everything  # hashed as TikTok gets it; never the token
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["http_status"], line["counts"]) == (202, {"queued": 2})


def test_secret_manager_down_queues_the_requests_too(
    durable, tiktok, secret_manager, queue, emulator
):
    secret_manager.down = True
    answer = post(durable, "/commandersact", purchase("Q-2"))
    assert answer.status_code == 202
    (request,) = answer.get_json()["requests"]
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in request["message"]
    assert tiktok.posts() == []
    (message,) = emulator.wait_for(queue, 1, 10)
    assert [e["event_id"] for e in json.loads(message["data"])["data"]] == ["Q-2"]


def test_queued_counts_as_gone_through_beside_rejected_and_sent(durable, tiktok, emulator, queue):
    tiktok.then(Reply(200, {"code": 0, "message": "OK"}), *[DOWN] * 20)
    events = [purchase("WEB-OK"), APP_PURCHASE, {"event_name": "purchase", "value": "x"}]
    answer = post(durable, "/commandersact", events)
    body = answer.get_json()
    assert [r["status"] for r in body["results"]] == ["sent", "queued", "rejected"]
    assert answer.status_code == 207  # some rejected: today's rule
    assert len(emulator.wait_for(queue, 1, 10)) == 1


def test_a_refusal_for_good_is_not_queued(durable, tiktok, emulator, queue):
    tiktok.bad_event_ids.add("BAD-1")
    answer = post(durable, "/commandersact", purchase("BAD-1"))
    assert answer.status_code == 502
    assert emulator.pull(queue) == []


def test_dry_run_never_publishes(durable, tiktok, emulator, queue):
    tiktok.always = DOWN
    answer = post(durable, "/commandersact?dry_run=true", purchase("DRY-1"))
    assert answer.status_code == 200
    assert answer.get_json()["would_send"] == 1
    assert emulator.pull(queue) == []
    assert tiktok.posts() == []


def test_pubsub_unavailable_too_is_503_with_retry_after_and_nothing_is_lost(
    make_live, tiktok, retry_topic, queue, emulator, capsys
):
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    function = make_live(TIKTOK_RETRY_TOPIC=retry_topic, PUBSUB_EMULATOR_HOST=closed)
    tiktok.always = DOWN
    answer = post(function, "/commandersact", purchase("LOST-NOT-1"))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    (result,) = answer.get_json()["results"]
    assert (result["status"], result["error"]) == ("failed", "unavailable")
    errors = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(
        e["severity"] == "ERROR" and e["message"].startswith("TIKTOK_RETRY_TOPIC: Pub/Sub did not")
        for e in errors
    )
    # The sender sends the same request again once TikTok is back: it arrives.
    tiktok.always = None
    assert post(function, "/commandersact", purchase("LOST-NOT-1")).status_code == 200
    assert [e["event_id"] for e in tiktok.accepted] == ["LOST-NOT-1"]
    assert emulator.pull(queue) == []


def test_a_topic_that_does_not_exist_is_503_and_says_so(make_live, tiktok, emulator, capsys):
    function = make_live(TIKTOK_RETRY_TOPIC="no-such-topic", PUBSUB_EMULATOR_HOST=emulator.host)
    tiktok.always = DOWN
    answer = post(function, "/commandersact", purchase("NT-1"))
    assert answer.status_code == 503
    logged = capsys.readouterr().out
    assert "Pub/Sub refused the call on projects/test-project/topics/no-such-topic" in logged
    assert "NOT_FOUND" in logged


def test_requests_over_pubsubs_10_mb_go_in_several_publish_requests(
    make_live, tiktok, retry_topic, queue, emulator
):
    """Ten 1 MiB TikTok requests (one body of 1000 events with long descriptions) are more than
    one publish request may carry: they are published in two, each message whole."""
    function = make_live(
        TIKTOK_RETRY_TOPIC=retry_topic,
        PUBSUB_EMULATOR_HOST=emulator.host,
        MAX_BODY_BYTES=str(16 * 2**20),
        ADMISSION_BUDGET_BYTES=str(32 * 2**20),
    )
    tiktok.always = DOWN
    events = [
        {"event": "Purchase", "event_id": f"BIG-{n}", "properties": {"description": "d" * 9900}}
        for n in range(1000)
    ]
    answer = post(function, "/tiktok", {"event_source": "web", "data": events})
    assert answer.status_code == 202
    requests = answer.get_json()["requests"]
    assert len(requests) >= 10
    assert {r["status"] for r in requests} == {"queued"}
    messages = emulator.wait_for(queue, len(requests), 20)
    assert len({m["messageId"] for m in messages}) == len(requests)
    assert all(len(m["data"]) <= 2**20 for m in messages)
    queued = [e["event_id"] for m in messages for e in json.loads(m["data"])["data"]]
    assert sorted(queued) == sorted(f"BIG-{n}" for n in range(1000))
