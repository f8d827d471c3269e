"""Every feature of the Commanders Act destination, through /commandersact, as golden fixtures."""

from __future__ import annotations

import re

import pytest

from tests.conftest import COMPLETE, ROOT, post
from tests.golden import fixtures, load, run

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", fixtures("commandersact"), ids=lambda path: path.stem)
def test_golden(make_client, path):
    run(make_client, "/commandersact", load(path))


def readme_event_table() -> dict[str, tuple[str | None, str | None]]:
    """The README's "Commanders Act events" table: event_name → (web, app), ``None`` for a dash.

    The expected names come from the README, the operator's documentation, not from the code's
    own table: a row changed in the code alone fails here (``tests/test_readme.py`` checks the
    two tables match; this test checks what the function really sends)."""
    section = README[README.index("### Commanders Act events") :]
    section = section[: section.index("\n### ")]
    cell = r"(`[A-Za-z]+`|\u2013)"
    rows = re.findall(rf"^\| `([a-z_]+)` \| {cell} \| {cell} \|$", section, re.M)
    return {name: (_name(web), _name(app)) for name, web, app in rows}


def _name(cell: str) -> str | None:
    return None if cell == "\u2013" else cell.strip("`")


README_EVENTS = readme_event_table()


def test_the_readme_event_table_is_read_whole():
    assert len(README_EVENTS) == 39
    assert README_EVENTS["purchase"] == ("CompletePayment", "Checkout")
    assert README_EVENTS["achieve_level"] == (None, "AchieveLevel")


@pytest.mark.parametrize("name", sorted(README_EVENTS))
@pytest.mark.parametrize("source", ["web", "app"])
def test_each_row_of_the_readme_event_table(client, name, source):
    web, app = README_EVENTS[name]
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


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("properties.num_items", 2.5, "must be a whole number"),
        ("properties.contents", 7, "must be an array"),
        ("page.url", "x" * 10_001, "must be at most 10000 characters long"),
        ("user.email", {"address": "jane@example.com"}, "must be a string or a number"),
        ("user.external_id", True, "must be a string or a number"),
        ("properties.value", [1], "must be a number"),
    ],
)
def test_a_smart_mapped_value_of_the_wrong_kind_rejects_the_event(
    make_client, field, value, message
):
    """The schema checks the standard sources; a smart-mapped path may point anywhere."""
    client = make_client(**COMPLETE, DRY_RUN="true", TIKTOK_SMART_MAPPING=f'{{"{field}": "crm.x"}}')
    answer = post(client, "/commandersact", {"event_name": "purchase", "crm": {"x": value}})
    assert answer.status_code == 400
    assert answer.get_json()["results"][0]["errors"] == [{"path": "$.crm.x", "message": message}]
    assert "jane@example.com" not in answer.get_data(as_text=True)


def test_num_items_smart_mapped_to_a_count_sends_that_count(make_client):
    """num_items has one rule: an array is counted, a whole number is taken as it is."""
    client = make_client(
        **COMPLETE, DRY_RUN="true", TIKTOK_SMART_MAPPING='{"properties.num_items": "cart.count"}'
    )
    answer = post(client, "/commandersact", {"event_name": "purchase", "cart": {"count": "3"}})
    assert answer.get_json()["payloads"][0]["data"][0]["properties"]["num_items"] == 3


def test_a_phone_with_the_international_prefix_00_needs_no_region(client):
    event = {"event_name": "contact", "id": "P-1", "user": {"phone": "0033 6 12 34 56 78"}}
    data = post(client, "/commandersact", event).get_json()["payloads"][0]["data"][0]
    assert data["user"]["phone"] == [
        "42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"
    ]
