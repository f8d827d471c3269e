"""Match quality through the real entry point: the answer's ``match`` counts and the log line."""

from __future__ import annotations

import json

from tests.conftest import post


def test_match_counts_the_keys_of_the_events_sent_and_names_the_unmatched(client, capsys):
    events = [
        {"event": "AddToCart", "event_id": "1", "user": {"email": "a@example.com", "ttp": "T1"}},
        {"event": "AddToCart", "event_id": "2", "user": {"ip": "203.0.113.7", "user_agent": "M"}},
        {"event": "AddToCart", "event_id": "3", "user": {"ip": "203.0.113.7"}},
        {"event": "AddToCart", "event_id": "4", "page": {"url": "https://x.example/?ttclid=C"}},
        {
            "event": "AddToCart",
            "event_id": "5",
            "user": {"idfa": "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
        },
        {"event": "Bad name!", "user": {"email": "b@example.com"}},
    ]
    answer = post(client, "/tiktok", events)
    body = answer.get_json()
    assert body["match"] == {
        "events": 5,
        "email": 1,
        "phone": 0,
        "external_id": 0,
        "ttclid": 1,
        "ttp": 1,
        "advertising_id": 1,
        "ip": 2,
        "ua": 1,
        "unmatched": 1,
        "warnings": [
            "event 2: no key TikTok can match on: email, phone, external_id, ttclid, ttp, "
            "advertising_id, ua missing (ip counts with ua)"
        ],
    }
    assert all("match_keys" not in result for result in body["results"])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["match"] == body["match"]
    assert "203.0.113.7" not in json.dumps(body["match"]) + json.dumps(line)


def test_a_request_with_no_event_sent_counts_none(client):
    answer = post(client, "/ga4", {"event_name": "scroll"})
    assert answer.get_json()["match"] == {
        "events": 0, "email": 0, "phone": 0, "external_id": 0, "ttclid": 0, "ttp": 0,
        "advertising_id": 0, "ip": 0, "ua": 0, "unmatched": 0,
    }  # fmt: skip
