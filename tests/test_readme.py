"""The README's tables are the code's tables: a test fails when they drift apart."""

from __future__ import annotations

import re

import pytest

from service.settings import SETTINGS as SERVICE_SETTINGS
from tests.conftest import ROOT
from tiktok_mapper import events_api, ga4
from tiktok_mapper.commandersact import CONTENTS, EVENTS, ROWS
from tiktok_mapper.fields import readme_row
from tiktok_mapper.pipeline import SETTINGS as MAPPING_SETTINGS

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
    header = "| TikTok field | `items[]` property | sent for |"
    split = rows.index(header)
    assert rows[:split] == [readme_row(row) for row in ROWS]
    assert rows[split + 1 :] == [readme_row(row) for row in CONTENTS]


def test_tiktok_field_tables():
    rows = table_rows("TikTok's fields")
    header = "| content field | normaliser | hashed | form | required for |"
    split = rows.index(header)
    assert rows[:split] == [events_api.readme_row(rule) for rule in events_api.RULES]
    assert rows[split + 1 :] == [events_api.readme_row(rule) for rule in events_api.CONTENT_RULES]


@pytest.mark.parametrize(
    "variable", [variable for variable, _, _ in (*MAPPING_SETTINGS, *SERVICE_SETTINGS)]
)
def test_every_setting_is_in_the_configuration_table(variable):
    assert any(row.startswith(f"| `{variable}` |") for row in table_rows("Configuration"))


def test_ga4_event_table():
    rows = table_rows("GA4 events")
    read: dict[str, str] = {}
    for row in rows:
        names, tiktok, _ = (part.strip() for part in row.strip("|").split("|"))
        for name in re.findall(r"`([a-z_]+)`", names):
            read[name] = re.findall(r"`([A-Za-z]+)`", tiktok)[0]
    assert read == ga4.EVENTS


def _keys(rows) -> set[str]:
    return {path for row in rows for getter in row.getters for path in getter.paths()}


def test_every_ga4_and_x_ttq_key_the_code_reads_is_in_the_readme():
    section = README[README.index("### Fields: x-ttq parameters") :]
    section = section[: section.index("\n### ")]
    for key in sorted(_keys(ga4.ROWS) | _keys(ga4.CONTENTS)):
        if "_" in key and key.replace("_", "-").startswith("x-ttq"):
            continue  # a flattened spelling; the README says every key is read flattened too
        if key.startswith("user_data_") or key.startswith("user_data.address.0"):
            continue  # flattened GA4 keys and the array form of the address
        leaf = key.split(".")[-1]
        assert f"`{key}`" in section or f"`{leaf}`" in section, key
