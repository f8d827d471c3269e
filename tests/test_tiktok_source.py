"""The ``/tiktok`` pass-through through the real entry point: golden fixtures in
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
