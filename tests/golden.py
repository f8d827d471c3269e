"""Golden fixtures: an input body and the answer it must get, side by side in one JSON file.

Words used here:

- *fixture*: ``{"about", "env", "input", "status", "results", "payloads", "personal"}``:
  ``env`` is added to the complete test configuration (dry run); ``input`` is the body posted
  (or ``input_text``, sent as it is); ``status`` is the HTTP status; ``results`` and ``payloads``
  are the exact ``results`` and ``payloads`` of the answer; ``personal`` lists clear-text values
  of the input (e-mails, phones, names, IPs …) that must not appear anywhere in the answer.
- *now*: an expected ``event_time`` of ``"now"`` stands for the time of the request (the input
  had none), checked to lie between the moments before and after the call.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tests.conftest import COMPLETE, FIXTURES, ROOT, post

TIKTOK_SCHEMA = Draft202012Validator(
    json.loads((ROOT / "schemas" / "tiktok.schema.json").read_text(encoding="utf-8"))
)


def fixtures(folder: str) -> list[Path]:
    return sorted((FIXTURES / folder).glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def run(make_client: Any, route: str, fixture: dict[str, Any]) -> None:
    """Post the fixture's input to ``route`` and check the whole answer against it."""
    client = make_client(**{**COMPLETE, "DRY_RUN": "true", **fixture.get("env", {})})
    body = fixture["input_text"] if "input_text" in fixture else fixture["input"]
    before = int(time.time())
    answer = post(client, route, body)
    after = int(time.time()) + 1
    got = answer.get_json()
    assert answer.status_code == fixture["status"], got
    assert got["results"] == fixture["results"]
    assert got.get("warnings", []) == fixture.get("warnings", [])
    payloads = got["payloads"]
    for payload in payloads:
        errors = [
            f"{list(e.absolute_path)}: {e.message}" for e in TIKTOK_SCHEMA.iter_errors(payload)
        ]
        assert not errors, errors
    for payload, expected in zip(payloads, fixture["payloads"], strict=False):
        for event, wanted in zip(payload["data"], expected["data"], strict=False):
            if wanted.get("event_time") == "now":
                assert before <= event["event_time"] <= after
                event["event_time"] = "now"
    assert payloads == fixture["payloads"]
    text = answer.get_data(as_text=True)
    for value in fixture.get("personal", []):
        assert value not in text, "a clear-text personal value is in the answer"
