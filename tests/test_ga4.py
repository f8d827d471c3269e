"""The /ga4 route (server-side GTM) through the real entry point: golden fixtures in
``tests/fixtures/ga4`` (see ``tests/golden.py``), and the limits no fixture file should hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import post
from tests.golden import fixtures, load, run


@pytest.mark.parametrize("path", fixtures("ga4"), ids=lambda path: path.stem)
def test_golden(make_client, path: Path):
    run(make_client, "/ga4", load(path))


def test_an_event_with_more_than_1000_items_is_rejected(client):
    event = {"event_name": "purchase", "items": [{"item_id": "A"}] * 1001}
    answer = post(client, "/ga4", event)
    assert answer.status_code == 400
    assert answer.get_json()["results"][0]["errors"] == [
        {"path": "$.items", "message": "must have at most 1000 elements"}
    ]


def test_a_string_over_10000_characters_is_rejected(client):
    answer = post(client, "/ga4", {"event_name": "page_view", "page_location": "x" * 10001})
    assert answer.get_json()["results"][0]["errors"] == [
        {"path": "$.page_location", "message": "must be at most 10000 characters long"}
    ]


def test_a_blank_contents_parameter_leaves_the_next_one_read(client):
    """x-ttq-pt-contents given blank: tt_contents, TikTok's own tag's key, is still read."""
    event = {
        "event_name": "add_to_cart",
        "x-ttq-pt-contents": " ",
        "tt_contents": '[{"content_id": "A", "price": 2, "quantity": 3}]',
    }
    data = post(client, "/ga4", event).get_json()["payloads"][0]["data"][0]
    assert data["properties"]["contents"] == [
        {"content_id": "A", "price": 2, "quantity": 3, "content_type": "product"}
    ]
    assert data["properties"]["value"] == 6


def test_a_summed_value_beyond_10_15_is_left_out_with_a_warning(client):
    event = {"event_name": "purchase", "items": [{"item_id": "A", "price": 1e15, "quantity": 2}]}
    result = post(client, "/ga4", event).get_json()
    assert "value" not in result["payloads"][0]["data"][0]["properties"]
    assert result["results"][0]["warnings"] == [
        "properties.value left out: the sum of the contents is beyond 10^15"
    ]


def test_a_summed_value_rounds_half_a_cent_up_not_to_even(client):
    """2.665 is 2.67 (half up); rounding half to even would give 2.66."""
    event = {"event_name": "purchase", "items": [{"item_id": "A", "price": 2.665}]}
    data = post(client, "/ga4", event).get_json()["payloads"][0]["data"][0]
    assert data["properties"]["value"] == 2.67
