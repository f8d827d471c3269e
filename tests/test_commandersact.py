"""Every feature of the Commanders Act destination, through /commandersact, as golden fixtures."""

from __future__ import annotations

import pytest

from tests.conftest import post
from tests.golden import fixtures, load, run
from tiktok_mapper.commandersact import EVENTS


@pytest.mark.parametrize("path", fixtures("commandersact"), ids=lambda path: path.stem)
def test_golden(make_client, path):
    run(make_client, "/commandersact", load(path))


@pytest.mark.parametrize("name", sorted(EVENTS))
@pytest.mark.parametrize("source", ["web", "app"])
def test_each_row_of_the_event_table(client, name, source):
    web, app = EVENTS[name]
    expected = app if source == "app" else web
    if name == "page_view":
        expected = None  # [3]: by default only view_item sends ViewContent
    event = {
        "event_name": name,
        "id": "E-1",
        "partners": {"tiktok": {"event_source": source}},
        "context": {"app": {"namespace": "com.example.shop"}},
    }
    result = post(client, "/commandersact", event).get_json()["results"][0]
    if expected is None:
        assert result["status"] == "skipped"
    else:
        assert (result["status"], result["event"]) == ("would_send", expected)
