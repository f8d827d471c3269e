"""Golden fixtures: one JSON file per feature, the input and the expected answer side by side.

A fixture holds ``description``, ``env`` (settings on top of a complete configuration in dry
run), ``input`` (the body posted), and the expected ``status``, ``results`` and ``payloads``.
An ``event_time`` of ``"<now>"`` stands for the time of the request.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.conftest import COMPLETE, FIXTURES, post
from tiktok_mapper.schemas import schema


def load(source: str) -> list[Any]:
    """``pytest.param``-ready (id, fixture) pairs for every fixture of a source."""
    folder = FIXTURES / source
    return [
        (path.stem, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.json"))
    ]


def check(make_client: Any, route: str, fixture: dict[str, Any]) -> None:
    """Post the fixture's input through the real entry point and compare the whole answer."""
    client = make_client(**{**COMPLETE, "DRY_RUN": "true", **fixture["env"]})
    before = int(time.time())
    answer = post(client, route, fixture["input"])
    after = int(time.time())
    body = answer.get_json()
    payloads = body.get("payloads") or []
    for payload in payloads:
        assert schema("tiktok.schema.json").errors(payload) == []
        for event in payload["data"]:
            if before <= event["event_time"] <= after and fixture_says_now(fixture, event):
                event["event_time"] = "<now>"
    assert answer.status_code == fixture["status"]
    assert body["results"] == fixture["results"]
    assert payloads == (fixture["payloads"] or [])


def fixture_says_now(fixture: dict[str, Any], event: dict[str, Any]) -> bool:
    for payload in fixture["payloads"] or []:
        for expected in payload["data"]:
            if expected["event_id"] == event["event_id"]:
                return bool(expected["event_time"] == "<now>")
    return False


def fixture_files(source: str) -> list[Path]:
    return sorted((FIXTURES / source).glob("*.json"))
