"""The /tiktok route (TikTok pass-through) through the real entry point: golden fixtures in
``tests/fixtures/tiktok`` (see ``tests/golden.py``), and the body-level refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import post
from tests.golden import fixtures, load, run


@pytest.mark.parametrize("path", fixtures("tiktok"), ids=lambda path: path.stem)
def test_golden(make_client, path: Path):
    run(make_client, "/tiktok", load(path))


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"event_source": "web", "data": []}, 400, "no_events"),
        ({"event_source": "web", "data": {"event": "Purchase"}}, 400, "invalid_body"),
        ({"event_source": "web", "data": [{"event": "Purchase"}] * 1001}, 413, "too_many_events"),
        ([], 400, "no_events"),
    ],
    ids=["empty data", "data not an array", "over 1000 events", "empty list"],
)
def test_a_request_body_without_usable_events_is_refused(client, body, status, kind):
    answer = post(client, "/tiktok", body)
    assert answer.status_code == status
    assert answer.get_json()["error"] == kind


@pytest.mark.parametrize(
    ("event", "path"),
    [
        ({"event": "Purchase", "app": {"app_name": "Shop"}}, "$.app.app_id"),
        ({"event": "Purchase", "lead": {"lead_event_source": "HubSpot"}}, "$.lead.lead_id"),
    ],
)
def test_an_app_or_lead_object_without_its_id_rejects_the_event(client, event, path):
    """TikTok refuses the object without its id, and with it the whole request."""
    answer = post(client, "/tiktok", event)
    assert answer.status_code == 400
    assert answer.get_json()["results"][0]["errors"][0]["path"] == path


def test_an_unknown_key_that_is_not_a_plain_name_is_not_quoted(client):
    event = {"event": "Purchase", "user": {"jane.doe@example.com": "x"}}
    answer = post(client, "/tiktok", {"data": [event], "jane@example.com": 1})
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "jane.doe@example.com" not in text
    assert "jane@example.com" not in text
    assert (
        "$.user[…] left out: not a field of TikTok's event"
        in answer.get_json()["results"][0]["warnings"]
    )


def test_every_field_of_tiktoks_table_is_read_at_its_own_path(client):
    """The /tiktok rows come from TikTok's table: properties.status, a field the Commanders Act
    route sends, is read and sent like the others, with no warning."""
    event = {"event": "CompletePayment", "event_id": "S-1", "properties": {"status": "completed"}}
    answer = post(client, "/tiktok", event).get_json()
    assert answer["payloads"][0]["data"][0]["properties"] == {"status": "completed"}
    assert "warnings" not in answer["results"][0]


def test_an_app_object_with_its_id_goes_with_a_web_event(client):
    event = {"event": "ViewContent", "event_id": "W-1", "app": {"app_id": 7, "app_name": "Shop"}}
    answer = post(client, "/tiktok", event).get_json()
    assert answer["results"][0]["status"] == "would_send"
    assert answer["payloads"][0]["data"][0]["app"] == {"app_id": "7", "app_name": "Shop"}


def test_given_content_ids_are_kept_beside_the_contents(client):
    event = {
        "event": "AddToCart",
        "event_id": "C-1",
        "properties": {"content_ids": ["A"], "contents": [{"content_id": "B"}]},
    }
    properties = post(client, "/tiktok", event).get_json()["payloads"][0]["data"][0]["properties"]
    assert properties["content_ids"] == ["A"]


def test_a_warning_names_no_key_that_is_not_a_plain_name_at_any_depth(client):
    event = {"event": "X", "event_id": "K-1", "user": {"jane doe": {"bob smith": 1}}}
    warnings = post(client, "/tiktok", event).get_json()["results"][0]["warnings"]
    assert warnings == ["$.user[…] left out: not a field of TikTok's event"]
