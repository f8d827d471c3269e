"""The README's tables are the code's tables: a test fails when they drift apart."""

from __future__ import annotations

import re

import pytest

from service.settings import SETTINGS as SERVICE_SETTINGS
from tests.conftest import ROOT
from tiktok_mapper import ga4
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


def test_ga4_event_table():
    rows = table_rows("GA4 events")
    read: dict[str, str] = {}
    for row in rows:
        names, tiktok, _ = (part.strip() for part in row.strip("|").split("|"))
        for name in re.findall(r"`([a-z_]+)`", names):
            read[name] = re.findall(r"`([A-Za-z]+)`", tiktok)[0]
    assert read == ga4.EVENTS


def _keys(fields) -> set[str]:
    found: set[str] = set()
    for spec in fields:
        for getter in spec.getters:
            found.update(".".join(getter.keys) for getter in _paths_in(getter))
    return found


def _paths_in(getter):
    if hasattr(getter, "keys"):
        return [getter]
    inner = [getattr(getter, name, None) for name in ("getters", "url", "referrer", "page")]
    found = []
    for part in inner:
        if isinstance(part, tuple):
            for item in part:
                found.extend(_paths_in(item))
        elif part is not None:
            found.extend(_paths_in(part))
    return found


def test_every_ga4_and_x_ttq_key_the_code_reads_is_in_the_readme():
    section = README[README.index("### Fields: x-ttq parameters") :]
    section = section[: section.index("\n### ")]
    for key in sorted(_keys(ga4.FIELDS) | _keys(ga4.CONTENT_FIELDS)):
        if "_" in key and key.replace("_", "-").startswith("x-ttq"):
            continue  # a flattened spelling; the README says every key is read flattened too
        if key.startswith("user_data_") or key.startswith("user_data.address.0"):
            continue  # flattened GA4 keys and the array form of the address
        leaf = key.split(".")[-1]
        assert f"`{key}`" in section or f"`{leaf}`" in section, key
