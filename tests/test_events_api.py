"""TikTok's field table (tiktok_mapper.events_api) against the two schemas of TikTok's event.

A rule is only half of a new field: the payload schema must let it through, and /tiktok's input
schema must name it (a field it does not name is sent and also warned about as unknown).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ROOT
from tiktok_mapper.events_api import CONTENT_RULES, CONTENTS, LIST, RULES, Rule


def load(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))


SENT = load("tiktok.schema.json")
TAKEN = load("tiktok-input.schema.json")


def resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def at(document: dict[str, Any], start: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The schema of ``dotted`` under the object schema ``start``; an array on the way is
    read as its elements (``properties.contents.price``)."""
    node = resolved(document, start)
    for part in dotted.split("."):
        if "items" in node:  # an array (or an array or null)
            node = resolved(document, node["items"])
        node = resolved(document, node["properties"][part])
    return node


def sent(rule: Rule) -> dict[str, Any]:
    return at(SENT, SENT["$defs"]["event"], rule.field)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.field)
def test_every_field_is_in_both_schemas_and_hashed_ones_are_sent_as_hashes(rule):
    assert at(TAKEN, TAKEN, rule.field) is not None
    schema = sent(rule)
    hashes = resolved(SENT, schema["items"]) if rule.form == LIST else schema
    if rule.hashed:
        assert hashes.get("pattern") == "^[0-9a-f]{64}$", rule.field
    else:
        assert hashes.get("pattern") != "^[0-9a-f]{64}$", rule.field
    if rule.form in (LIST, CONTENTS):
        assert schema["type"] == "array", rule.field


@pytest.mark.parametrize("rule", CONTENT_RULES, ids=lambda rule: rule.field)
def test_every_content_field_is_in_both_schemas(rule):
    assert at(TAKEN, TAKEN, "properties.contents." + rule.field) is not None
    assert at(SENT, SENT["$defs"]["event"], "properties.contents." + rule.field) is not None


def test_the_payload_schema_names_no_field_the_table_has_not():
    event = SENT["$defs"]["event"]
    named = {
        f"{outer}.{inner}" if inner else outer
        for outer, schema in event["properties"].items()
        for inner in (schema.get("properties") or {"": None})
    }
    assert named - {"event"} == {rule.field for rule in RULES}
