"""The GA4 / server-side GTM source through the real entry point: golden fixtures in
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
