"""The README's tables are the code's tables: a test fails when they drift apart."""

from __future__ import annotations

import re

import pytest

from service.settings import SETTINGS as SERVICE_SETTINGS
from tests.conftest import ROOT
from tiktok_mapper.commandersact import CONTENT_FIELDS, EVENTS, FIELDS
from tiktok_mapper.config import SETTINGS as MAPPING_SETTINGS
from tiktok_mapper.fields import describe

README = (ROOT / "README.md").read_text(encoding="utf-8")


def table_rows(heading: str) -> list[str]:
    """The body rows of every table under ``heading`` (until the next heading of any level)."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#)", README + "\n#", re.M | re.S)
    assert match, f"README has no section {heading!r}"
    rows = [line.strip() for line in match.group(1).splitlines() if line.startswith("|")]
    return [row for row in rows if not re.fullmatch(r"\|[-| ]+\|", row)][1:]


def cell(name: str | None) -> str:
    return f"`{name}`" if name else "\u2013"  # an en dash: "none"


def test_commandersact_event_table():
    expected = [f"| `{name}` | {cell(web)} | {cell(app)} |" for name, (web, app) in EVENTS.items()]
    assert table_rows("Commanders Act events") == expected


def test_commandersact_field_tables():
    rows = table_rows("Commanders Act fields")
    header = "| TikTok field | `items[]` source | sent for |"
    split = rows.index(header)
    assert rows[:split] == [describe(spec) for spec in FIELDS]
    assert rows[split + 1 :] == [describe(spec) for spec in CONTENT_FIELDS]


@pytest.mark.parametrize(
    "variable", [variable for variable, _, _ in (*MAPPING_SETTINGS, *SERVICE_SETTINGS)]
)
def test_every_setting_is_in_the_configuration_table(variable):
    assert any(row.startswith(f"| `{variable}` |") for row in table_rows("Configuration"))
