"""No TikTok request is larger than ``tiktok_mapper.sizing.MAX_REQUEST_BYTES``, the dry run shows
the very requests delivery posts, TikTok's size refusals split a request, and one incoming
request causes at most ``service.delivery.MAX_REQUESTS_PER_CALL`` TikTok requests."""

from __future__ import annotations

import json

from service.delivery import MAX_REQUESTS_PER_CALL
from tests.conftest import post
from tests.delivery.conftest import purchase
from tests.fakes.tiktok import coded
from tiktok_mapper import sizing
from tiktok_mapper.sizing import MAX_REQUEST_BYTES

WHEN = 1744955619974  # a fixed event time: the dry run and delivery map the same events


def long_purchase(order: str, url_length: int = 9000) -> dict:
    """A purchase whose page URL makes it about ``url_length`` bytes long once mapped."""
    page = {"url": "https://shop.example/" + "p" * url_length}
    return purchase(order, context={"event_timestamp": WHEN, "page": page})


def huge_purchase(order: str) -> dict:
    """A purchase whose items alone make more than a TikTok request may hold."""
    items = [{"id": f"SKU-{n}", "product": {"name": "n" * 9000}} for n in range(130)]
    return purchase(order, items=items, context={"event_timestamp": WHEN})


def test_a_body_over_the_cap_is_posted_in_parts_that_fit(live, tiktok):
    events = [long_purchase(f"O-{n}") for n in range(200)]  # about 1.8 MiB once mapped
    answer = post(live, "/commandersact", events)
    assert answer.status_code == 200
    posts = tiktok.posts()
    assert len(posts) == 2
    assert all(len(p.body) <= MAX_REQUEST_BYTES for p in posts)
    assert [e["event_id"] for p in posts for e in p.json()["data"]] == [
        f"O-{n}" for n in range(200)
    ]
    first = posts[0].json()["data"]
    assert len(posts[0].body) + 1 + len(sizing.payload(posts[1].json()["data"][0])) > (
        MAX_REQUEST_BYTES
    )  # the first part is as full as it can be
    assert [r["events"] for r in answer.get_json()["requests"]] == [len(first), 200 - len(first)]


def test_the_dry_run_shows_exactly_the_requests_delivery_posts(live, tiktok):
    events = [long_purchase(f"O-{n}") for n in range(200)] + [huge_purchase("BIG")]
    dry = post(live, "/commandersact", events, headers={"X-Dry-Run": "true"}).get_json()
    sent = post(live, "/commandersact", events).get_json()
    assert dry["payloads"] == [p.json() for p in tiktok.posts()]
    assert [p.body for p in tiktok.posts()] == [sizing.payload(p) for p in dry["payloads"]]
    assert all(len(p.body) <= MAX_REQUEST_BYTES for p in tiktok.posts())
    shown = [(r["events"], r["status"].replace("would_send", "sent")) for r in dry["requests"]]
    assert shown == [(r["events"], r["status"]) for r in sent["requests"]]
    assert shown[-1] == (1, "failed")
    assert dry["results"][200] == sent["results"][200]


def test_an_event_too_large_for_any_request_fails_alone_naming_no_value(live, tiktok):
    answer = post(live, "/commandersact", [purchase("O-1"), huge_purchase("BIG")])
    assert answer.status_code == 207
    body = answer.get_json()
    assert [r["status"] for r in body["results"]] == ["sent", "failed"]
    big = body["results"][1]
    assert big["error"] == "refused"
    assert big["message"].startswith("not sent: this event alone is ")
    assert big["message"].endswith(f"over the {MAX_REQUEST_BYTES}-byte limit of one TikTok request")
    assert "nnnn" not in answer.get_data(as_text=True)
    assert [e["event_id"] for e in tiktok.accepted] == ["O-1"]


def test_http_413_splits_the_request_until_the_parts_pass(live, tiktok):
    tiktok.max_body = 20_000
    events = [purchase(f"O-{n}") for n in range(200)]
    answer = post(live, "/commandersact", events)
    assert answer.status_code == 200
    assert answer.get_json()["sent"] == 200
    assert sorted(e["event_id"] for e in tiktok.accepted) == sorted(f"O-{n}" for n in range(200))
    assert max(len(p.body) for p in tiktok.posts()[-2:]) <= 20_000


def test_http_413_for_a_single_event_is_its_refusal(live, tiktok):
    tiktok.max_body = 100
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 502
    result = answer.get_json()["results"][0]
    assert (result["error"], result["message"]) == ("refused", "HTTP 413: the request is too large")


def test_a_batch_size_refusal_splits_the_request(live, tiktok):
    tiktok.max_events = 300
    answer = post(live, "/commandersact", [purchase(f"O-{n}") for n in range(1000)])
    assert answer.status_code == 200
    assert answer.get_json()["sent"] == 1000
    assert [len(p.json()["data"]) for p in tiktok.posts()] == [1000, 500, 250, 250, 500, 250, 250]


def test_a_batch_refused_whole_costs_at_most_the_budget_of_requests(make_live, tiktok):
    live = make_live(TIKTOK_RETRY_DEADLINE_SECONDS="60")  # the budget binds, not the deadline
    tiktok.always = coded(40002, "invalid")
    answer = post(live, "/commandersact", [purchase(f"O-{n}") for n in range(1000)])
    assert len(tiktok.posts()) == MAX_REQUESTS_PER_CALL == 100  # 452 before, 1999 unbounded
    assert answer.status_code == 502
    body = answer.get_json()
    assert {(r["status"], r["error"], r["code"]) for r in body["results"]} == {
        ("failed", "refused", 40002)
    }
    assert sum(r["events"] for r in body["requests"]) == 1000


def test_splitting_one_request_never_spends_the_first_try_of_another(make_live, tiktok):
    """One first try is kept for each request not tried yet: a batch TikTok refuses whole
    splits only with what is left, and the good batch after it is still sent (else it would
    be unavailable, and so on every resend)."""
    live = make_live(TIKTOK_RETRY_DEADLINE_SECONDS="60")
    tiktok.bad_event_ids = {f"O-{n}" for n in range(999)}
    app_event = purchase(
        "APP-1",
        partners={"tiktok": {"event_source": "app"}},
        context={"app": {"namespace": "com.example.shop"}},
    )
    answer = post(live, "/commandersact", [purchase(f"O-{n}") for n in range(999)] + [app_event])
    assert answer.status_code == 207
    assert len(tiktok.posts()) == 100
    assert [p.json()["event_source"] for p in tiktok.posts()].count("app") == 1
    results = answer.get_json()["results"]
    assert results[999]["status"] == "sent"
    assert {(r["status"], r.get("code")) for r in results[:999]} == {("failed", 40002)}


def test_parts_are_as_full_as_the_cap_allows_and_an_event_too_large_stands_alone():
    small = {"event_source": "web", "event_source_id": "P", "data": [{"e": n} for n in range(9)]}
    (part,) = sizing.parts(small)
    assert (part.start, part.end, json.loads(part.payload)) == (0, 9, small)
    assert part.payload == json.dumps(small, separators=(",", ":")).encode()
    big = {**small, "data": [{"e": "x" * 200_000} for _ in range(9)]}  # 1.8 MB
    parts = sizing.parts(big)
    assert [(p.start, p.end) for p in parts] == [(0, 5), (5, 9)]
    for part in parts:
        assert part.size == len(part.payload) <= MAX_REQUEST_BYTES
        assert part.payload == sizing.payload({**big, "data": big["data"][part.start : part.end]})
    alone = {**small, "data": [{"e": 1}, {"e": "x" * MAX_REQUEST_BYTES}, {"e": 3}]}
    first, too_large, last = sizing.parts(alone)
    assert [(p.start, p.end) for p in (first, too_large, last)] == [(0, 1), (1, 2), (2, 3)]
    assert too_large.too_large
    assert too_large.payload == b""
    assert too_large.size == len(sizing.payload({**alone, "data": alone["data"][1:2]}))
