"""The pure core: purity, grouping, time passed in, schemas valid and read alike by both validators."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import ROOT
from tests.golden import fixtures, load
from tiktok_mapper import commandersact, ga4, pipeline
from tiktok_mapper.config import Config
from tiktok_mapper.model import Mapped
from tiktok_mapper.schemas import SCHEMA_DIR, schema

CONFIG = Config(pixel_id="CPIXEL", app_id="APP1", test_event_code="T1")
SETUP = pipeline.Setup(CONFIG, commandersact.Options(), ga4.Options())
NOW = 1767225600.0
FORBIDDEN = {
    "flask",
    "functions_framework",
    "requests",
    "google",
    "os",
    "time",
    "socket",
    "service",
}


def _core_modules() -> list[Path]:
    return [p for p in (ROOT / "tiktok_mapper").glob("*.py") if p.name != "__main__.py"]


@pytest.mark.parametrize("module", _core_modules(), ids=lambda p: p.name)
def test_core_is_pure(module):
    """No web framework, environment, network or clock in the core (the CLI is an edge)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN


def test_time_is_passed_in():
    source = pipeline.configure(SETUP)["commandersact"]
    plan = pipeline.plan(source, [{"event_name": "purchase", "id": "1"}], CONFIG, NOW)
    assert plan.batches[0].events[0]["event_time"] == int(NOW)


def test_requests_hold_at_most_1000_events_grouped_in_order():
    source = pipeline.configure(SETUP)["commandersact"]
    app = {"partners": {"tiktok": {"event_source": "app"}}, "context": {"app": {"namespace": "a"}}}
    events = [{"event_name": "search", "id": str(i)} for i in range(2500)]
    events.insert(1, {"event_name": "search", "id": "app-1", **app})
    plan = pipeline.plan(source, events, CONFIG, NOW)
    shapes = [(b.event_source, b.test_event_code, len(b.events)) for b in plan.batches]
    assert shapes == [
        ("web", "T1", 1000),
        ("app", None, 1),
        ("web", "T1", 1000),
        ("web", "T1", 500),
    ]
    bodies = [b.body() for b in plan.batches]
    assert "test_event_code" not in bodies[1]
    assert bodies[0]["data"][0]["event_id"] == "0"
    assert plan.batches[1].indices == [1]


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.json")), ids=lambda p: p.name)
def test_schemas_are_valid_draft_2020_12(path):
    Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


SCHEMAS = {
    "commandersact": "commandersact.schema.json",
    "ga4": "ga4.schema.json",
    "tiktok": "tiktok-input.schema.json",
}


def _golden_inputs(source: str) -> list[object]:
    events: list[object] = []
    for path in fixtures(source):
        body = load(path).get("input")
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            body = body["data"]  # a TikTok request body
        events.extend(body if isinstance(body, list) else [body])
    return events


@pytest.mark.parametrize("source", sorted(SCHEMAS))
def test_fast_and_full_validators_agree_on_the_golden_corpus(source):
    compiled = schema(SCHEMAS[source])
    full = Draft202012Validator(compiled.document)
    for event in _golden_inputs(source):
        assert compiled._fast.is_valid(event) == full.is_valid(event), event


def test_error_messages_never_quote_the_value():
    commandersact = schema("commandersact.schema.json")
    secret = "jane.secret@example.com"
    event = {"event_name": "x", "id": [secret], "value": secret,
             "user": {"email": [secret], "email_sha256": secret, "consent_categories": secret},
             "items": [{"quantity": secret, "product": {"price": secret}}, secret],
             "context": {"event_timestamp": [secret], "page": secret}}  # fmt: skip
    errors = commandersact.errors(event)
    assert len(errors) >= 8
    assert secret not in json.dumps(errors)


def test_an_event_that_breaks_the_mapping_is_rejected_alone():
    """Any exception while mapping one event rejects that event (type and place, never the
    message, which may quote a value); the others of the batch are mapped as usual."""

    class Fragile:
        def map(self, event, context):
            if event.get("boom"):
                raise KeyError("jane@example.com")  # a message that quotes a value
            return Mapped("web", {"event": "Purchase", "event_id": "1"})

    route = pipeline.Route("test", schema("tiktok-input.schema.json"), Fragile())
    events = [{"event": "a"}, {"event": "b", "boom": True}, {"event": "c"}]
    plan = pipeline.plan(route, events, Config(pixel_id="C1"), 1_700_000_000.0)
    statuses = [result["status"] for result in plan.results]
    assert statuses == ["would_send", "rejected", "would_send"]
    (error,) = plan.results[1]["errors"]
    assert error["path"] == "$"
    assert error["message"].startswith("could not be mapped (KeyError at test_core.py:")
    assert "jane" not in json.dumps(plan.results)
    assert [len(batch.events) for batch in plan.batches] == [2]
