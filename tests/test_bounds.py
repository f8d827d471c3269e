"""What one request may cost, whatever its body: bounded answers, bounded work, bounded waiting.

Words used here: a *hostile body* is one a caller with access can send within the limits
(``MAX_BODY_BYTES``, 1000 events) that makes some part of the work grow: many unknown keys,
many values of one field, many errors. Each test checks the *shape* that keeps the cost
bounded (how many warnings, errors or values are kept, which body is not read); the figures in
CPU seconds and memory are measured by ``make bench``, not asserted here.
"""

from __future__ import annotations

import json
import threading
import time

from service.admission import Admission
from tests.conftest import post
from tiktok_mapper.fields import MAX_USER_VALUES
from tiktok_mapper.normalize import sha256_hex
from tiktok_mapper.passthrough import MAX_UNKNOWN
from tiktok_mapper.pipeline import MAX_NOTES


def test_envelope_warnings_are_said_once_for_the_request(client):
    """5,000 unknown keys beside ``data`` are one request's warnings (kept to MAX_NOTES), not
    5,000 warnings repeated for each event."""
    body = {f"k{n}": 1 for n in range(5000)}
    body["data"] = [{"event": "Purchase", "event_id": str(n)} for n in range(1000)]
    answer = post(client, "/tiktok", body)
    got = answer.get_json()
    assert answer.status_code == 200
    assert len(got["warnings"]) == MAX_NOTES
    assert got["warnings"][0] == "$.k0 of the request body left out: not sent by this function"
    assert got["warnings"][-1] == f"and {5000 - MAX_NOTES + 1} more warnings"
    assert all("warnings" not in result for result in got["results"])
    assert len(answer.data) < 400_000


def test_an_events_warnings_and_errors_are_kept_to_a_few(client):
    many_unknown = {"event": "Purchase", "event_id": "1", **{f"x{n}": n for n in range(500)}}
    # 2.5 breaks the schema (its report stops at MAX_NOTES); "1e400" passes it and breaks the
    # mapping, which lists every error: the answer keeps MAX_NOTES and counts the rest
    bad_quantities = {"event": "Purchase", "properties": {"contents": [{"quantity": 2.5}] * 300}}
    bad_prices = {"event": "Purchase", "properties": {"contents": [{"price": "1e400"}] * 300}}
    got = post(client, "/tiktok", [many_unknown, bad_quantities, bad_prices]).get_json()
    warned, schema_rejected, map_rejected = got["results"]
    assert len(warned["warnings"]) == MAX_UNKNOWN + 1
    assert warned["warnings"][-1] == "and 490 more fields left out: not fields of TikTok's event"
    assert len(schema_rejected["errors"]) == MAX_NOTES
    assert schema_rejected["errors"][0] == {
        "path": "$.properties.contents[0].quantity",
        "message": "must be a whole number",
    }
    assert len(map_rejected["errors"]) == MAX_NOTES
    assert map_rejected["errors"][0] == {
        "path": "$.properties.contents[0].price",
        "message": "must be a finite number below 10^15",
    }
    assert map_rejected["errors"][-1] == {"path": "$", "message": "and 281 more errors"}


def test_a_rule_broken_a_million_times_is_reported_like_one_broken_twenty_times(client):
    """An array of 300,000 empty arrays where e-mails go: the report stops at MAX_NOTES."""
    body = {"event": "Purchase", "user": {"email": [[]] * 300_000}}
    got = post(client, "/tiktok", body).get_json()
    (result,) = got["results"]
    assert result["status"] == "rejected"
    assert result["errors"][0] == {
        "path": "$.user.email",
        "message": "must have at most 1000 elements",
    }
    assert len(result["errors"]) <= MAX_NOTES


def test_a_user_field_reads_its_first_values_and_warns_about_the_rest(client):
    phones = [f"+1 415 555 {n:04d}" for n in range(1000)]
    emails = [f"u{n}@example.com" for n in range(999)] + ["u0@example.com"]
    body = {"event": "Purchase", "event_id": "1", "user": {"phone": phones, "email": emails}}
    got = post(client, "/tiktok", body).get_json()
    (result,) = got["results"]
    user = got["payloads"][0]["data"][0]["user"]
    assert len(user["phone"]) == MAX_USER_VALUES
    assert user["email"][:2] == [sha256_hex("u0@example.com"), sha256_hex("u1@example.com")]
    assert len(user["email"]) == MAX_USER_VALUES
    assert (
        f"user.phone left out after {MAX_USER_VALUES} values: $.user.phone holds 1000"
        in (result["warnings"])
    )


def test_repeated_values_are_sent_once_in_their_first_order(client):
    emails = ["b@example.com", "A@example.com", "a@example.com ", "b@example.com"]
    body = {"event": "Purchase", "event_id": "1", "user": {"email": emails}}
    user = post(client, "/tiktok", body).get_json()["payloads"][0]["data"][0]["user"]
    assert user["email"] == [sha256_hex("b@example.com"), sha256_hex("a@example.com")]


def test_a_bad_event_among_good_ones_fails_alone_on_every_route(make_client):
    """The adversary's first example: a schema-valid consent list with a null in it."""
    client = make_client(
        TIKTOK_PIXEL_ID="C1", DRY_RUN="true", TIKTOK_CONSENT_CATEGORIES="ads,analytics"
    )
    good = {"event_name": "purchase", "id": "G", "user": {"consent_categories": ["ads"]}}
    odd = {"event_name": "purchase", "id": "O", "user": {"consent_categories": [None, "ads"]}}
    answer = post(client, "/commandersact", [good, odd, good])
    assert answer.status_code in {200, 207}
    got = answer.get_json()
    assert [r["status"] for r in got["results"]][0::2] == ["would_send", "would_send"]


def test_admission_lets_a_body_wait_until_its_weight_fits_then_gives_up():
    admission = Admission(budget=100)
    assert admission.enter(60, patience=0)
    assert not admission.enter(60, patience=0.05)  # 120 > 100: waits, then gives up
    entered: list[bool] = []
    waiter = threading.Thread(target=lambda: entered.append(admission.enter(60, patience=5)))
    waiter.start()
    time.sleep(0.05)
    assert entered == []  # still waiting
    admission.leave(60)
    waiter.join(5)
    assert entered == [True]
    assert admission.enter(1000, patience=0) is False  # heavier than all: waits to be alone
    admission.leave(60)
    assert admission.enter(1000, patience=0)
    admission.leave(1000)
    assert admission.held == 0


def test_a_list_a_smart_mapping_points_at_is_bounded_like_items(make_client):
    client = make_client(
        TIKTOK_PIXEL_ID="C1",
        DRY_RUN="true",
        TIKTOK_SMART_MAPPING='{"properties.contents": "custom"}',
    )
    body = {"event_name": "purchase", "custom": [0] * 5000}
    got = post(client, "/commandersact", body).get_json()
    (result,) = got["results"]
    assert result["status"] == "rejected"
    assert result["errors"] == [{"path": "$.custom", "message": "must have at most 1000 elements"}]


def test_a_url_of_many_encoded_keys_still_gives_its_click_id(client):
    """Only keys that could decode to ``ttclid`` are decoded (the others cost nothing)."""
    url = "https://shop.example/?" + "%=1&" * 2400 + "ttclid=E.C.P.abc"
    body = {"event_name": "purchase", "id": "U1", "context": {"page": {"url": url}}}
    payload = post(client, "/commandersact", body).get_json()["payloads"][0]
    assert payload["data"][0]["user"]["ttclid"] == "E.C.P.abc"


def test_a_content_length_that_is_no_number_is_read_up_to_the_limit(client):
    body = json.dumps({"event_name": "purchase", "id": "L1"})
    for length in ("²", "1" * 5000):
        answer = client.post(
            "/commandersact",
            data=body,
            content_type="application/json",
            environ_overrides={"CONTENT_LENGTH": length},
        )
        assert answer.status_code < 500, (length, answer.get_data(as_text=True)[:200])
