"""Admission through the real entry point: a body that does not fit the instance's budget
while another is being delivered waits, and is answered 503 with ``Retry-After`` when its
patience (the retry deadline) runs out; nothing of it was sent, so sending it again is safe."""

from __future__ import annotations

import threading

from tests.conftest import post
from tests.delivery.conftest import purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import coded


def test_a_body_that_waits_too_long_is_503_with_retry_after(make_live, tiktok):
    # The second body's patience is half the deadline (2.5 s); the first holds the budget for
    # the 3.5 s TikTok takes to answer it, within its deadline.
    client = make_live(ADMISSION_BUDGET_BYTES="3000", TIKTOK_RETRY_DEADLINE_SECONDS="5")
    tiktok.then(Reply(200, coded(0).body, delay=3.5))
    first_body = [purchase(f"A{n}") for n in range(40)]  # about 2,400 bytes
    second_body = [purchase(f"B{n}") for n in range(40)]
    first: list[int] = []
    sender = threading.Thread(
        target=lambda: first.append(post(client, "/commandersact", first_body).status_code)
    )
    sender.start()
    while not tiktok.posts():  # the first body is being delivered
        threading.Event().wait(0.01)
    second = post(client, "/commandersact", second_body)
    sender.join(10)
    assert second.status_code == 503
    assert second.headers["Retry-After"] == "30"
    assert second.get_json()["error"] == "busy"
    assert first == [200]
    sent = [event["event_id"] for seen in tiktok.posts() for event in seen.json()["data"]]
    assert not any(event_id.startswith("B") for event_id in sent)


def test_a_request_id_that_echoes_the_token_is_not_kept(live, tiktok):
    """TikTok (or whatever answers in its place) quoting the token as its request id: the id
    is dropped, so the token reaches neither the answer nor the logs."""
    from tests.fakes.tiktok import TOKEN

    tiktok.then(Reply(200, {"code": 0, "message": "OK", "request_id": TOKEN, "data": {}}))
    answer = post(live, "/commandersact", [purchase("T1")])
    assert answer.status_code == 200
    assert TOKEN not in answer.get_data(as_text=True)
    assert answer.get_json()["requests"][0].get("request_id") is None
