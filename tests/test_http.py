"""The HTTP surface through the real entry point: routes, order of checks, body forms, dry run."""

from __future__ import annotations

from tests.conftest import COMPLETE, post

PURCHASE = {"event_name": "purchase", "id": "O-1", "value": 10, "currency": "EUR"}


def test_health_answers_without_a_body(client):
    answer = client.get("/health")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ok"
    assert body["event_source_ids"]["web"] == COMPLETE["TIKTOK_PIXEL_ID"]
    assert "/commandersact" in body["routes"]


def test_dry_run_answers_with_the_payload(client):
    answer = post(client, "/commandersact", PURCHASE)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["dry_run"] is True
    assert body["results"] == [
        {"index": 0, "status": "would_send", "event": "CompletePayment", "event_id": "O-1"}
    ]
    assert body["payloads"][0]["data"][0]["properties"]["order_id"] == "O-1"
