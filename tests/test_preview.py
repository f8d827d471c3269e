"""The preview command, run as a user runs it: ``python -m tiktok_mapper preview --route R FILE``.

Each test starts the command as a subprocess with the guard variables of ``conftest`` and only
the configuration it names; the examples in ``examples/`` are previewed as shipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMPLETE, GUARD_ENV, ROOT, post

EXAMPLES = ROOT / "examples"
PURCHASE = EXAMPLES / "commandersact-purchase.json"


def preview(
    route: str, file: str | Path, stdin: str = "", **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tiktok_mapper", "preview", "--route", route, str(file)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**GUARD_ENV, "PATH": os.environ.get("PATH", ""), **settings},
        timeout=60,
        check=False,
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_preview_prints_the_tiktok_bodies_and_the_report():
    done = preview("commandersact", PURCHASE, **COMPLETE)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["dry_run"] is True
    assert answer["results"] == [
        {
            "index": 0,
            "status": "would_send",
            "event": "CompletePayment",
            "event_id": "ORDER-20250418-0042",
        }
    ]
    (body,) = answer["payloads"]
    assert body["event_source_id"] == COMPLETE["TIKTOK_PIXEL_ID"]
    (event,) = body["data"]
    assert event["user"]["email"] == [sha256("jane.sample@example.com")]
    assert event["properties"]["order_id"] == "ORDER-20250418-0042"
    assert done.stderr.strip() == "HTTP 200: 1 would_send"
    for clear in ("Jane.Sample@Example.com", "CUST-000123", "Sample", "+33"):
        assert clear not in done.stdout + done.stderr


def test_preview_uses_the_same_configuration_variables_as_the_function():
    done = preview(
        "commandersact",
        PURCHASE,
        **COMPLETE,
        TIKTOK_EVENT_MAPPING='{"purchase": "Purchase"}',
        TIKTOK_TEST_EVENT_CODE="TEST41234",
    )
    assert done.returncode == 0, done.stderr
    (body,) = json.loads(done.stdout)["payloads"]
    assert body["test_event_code"] == "TEST41234"
    assert body["data"][0]["event"] == "Purchase"


def test_a_rejected_event_read_from_stdin_exits_non_zero():
    body = [{"event_name": "add_to_cart", "items": [{"quantity": "1,5"}]}, {"event_name": "scroll"}]
    done = preview("commandersact", "-", stdin=json.dumps(body), **COMPLETE)
    assert done.returncode == 1
    results = json.loads(done.stdout)["results"]
    assert results[0]["status"] == "rejected"
    assert results[0]["errors"][0]["path"] == "$.items[0].quantity"
    assert results[1]["status"] == "skipped"
    assert done.stderr.strip() == "HTTP 207: 1 skipped, 1 rejected"


def test_a_missing_id_fails_the_event_and_names_the_variable():
    done = preview("commandersact", PURCHASE)
    assert done.returncode == 1
    (result,) = json.loads(done.stdout)["results"]
    assert result["status"] == "failed"
    assert "TIKTOK_PIXEL_ID" in result["message"]
    assert done.stderr.startswith("HTTP 500")


@pytest.mark.parametrize(
    ("settings", "body", "message"),
    [
        ({"TIKTOK_EVENT_MAPPING": "[1, 2]"}, None, "TIKTOK_EVENT_MAPPING must be a JSON object"),
        ({}, '{"event_name": "purchase", "user": {"email": "x@example.com"', "not valid JSON"),
        ({}, "[]", "the body holds no events"),
    ],
)
def test_a_bad_configuration_or_body_is_a_clear_error(settings, body, message):
    done = preview("commandersact", "-" if body else PURCHASE, stdin=body or "", **settings)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
    assert "x@example.com" not in done.stderr


def test_an_unknown_route_or_file_is_a_clear_error():
    done = preview("nosuchroute", PURCHASE)
    assert done.returncode == 2
    assert "unknown route 'nosuchroute'; known: commandersact" in done.stderr
    missing = preview("commandersact", EXAMPLES / "no-such-file.json")
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


@pytest.mark.parametrize(
    "example", sorted(EXAMPLES.glob("commandersact*.json")), ids=lambda p: p.name
)
def test_every_commanders_act_example_previews_without_rejection(example, client):
    done = preview("commandersact", example, **COMPLETE)
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["rejected"] == answer["failed"] == 0
    # The preview is what the deployed function answers in dry run (the examples carry their
    # own timestamps, so the clocks of the two do not matter).
    dry_run = post(client, "/commandersact", example.read_bytes())
    assert dry_run.get_json() == answer


def route_of(example: Path) -> str:
    return example.name.split("-", 1)[0]


@pytest.mark.parametrize(
    "example",
    sorted(p for p in EXAMPLES.glob("*.json") if route_of(p) != "commandersact"),
    ids=lambda p: p.name,
)
def test_the_other_examples_preview_without_rejection(example):
    done = preview(
        route_of(example), example, **{**COMPLETE, "TIKTOK_PIXEL_ID": "CDEMOPIXEL000000000X"}
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_example_is_a_json_request_body():
    examples = sorted(EXAMPLES.glob("*.json"))
    assert {route_of(p) for p in examples} == {"commandersact", "ga4", "tiktok"}
    for example in examples:
        document: Any = json.loads(example.read_text())
        assert isinstance(document, dict | list), example.name
