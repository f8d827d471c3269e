"""Properties of the HTTP door, checked on generated bodies (``tests/strategies.py``) through
the real entry point, with a complete configuration (every id set) in dry run.

Words used here: *strict JSON* is JSON the stdlib reads without ``NaN``/``Infinity`` tokens; a
*placeholder time* replaces an ``event_time`` that came from the clock (the input had none), so
two answers to the same body can be compared.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests import strategies as gen
from tests.conftest import COMPLETE, FUNCTION_VARIABLES, ROOT
from tiktok_mapper import pipeline
from tiktok_mapper.body import BodyError
from tiktok_mapper.pipeline import from_environment
from tiktok_mapper.schemas import schema

TIKTOK_SCHEMA = Draft202012Validator(
    json.loads((ROOT / "schemas" / "tiktok.schema.json").read_text(encoding="utf-8"))
)
INPUT_SCHEMAS = {
    "/commandersact": "commandersact.schema.json",
    "/ga4": "ga4.schema.json",
    "/tiktok": "tiktok-input.schema.json",
}
NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def door() -> Any:
    """One test client for the module (hypothesis runs a test body many times per fixture)."""
    import functions_framework

    with pytest.MonkeyPatch.context() as patch:
        for variable in FUNCTION_VARIABLES:
            patch.delenv(variable, raising=False)
        for variable, value in {**COMPLETE, "DRY_RUN": "true"}.items():
            patch.setenv(variable, value)
        app = functions_framework.create_app("tiktok_events", str(ROOT / "main.py"))
    return app.test_client()


def strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in an answer")

    return json.loads(text, parse_constant=refuse)


def send(door: Any, route: str, body: Any) -> tuple[int, str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = door.post(route, data=raw, content_type="application/json")
    return answer.status_code, answer.get_data(as_text=True)


def check_answer(status: int, text: str) -> Any:
    """What every answer to any body must be: strict JSON, never a 5xx."""
    assert status < 500, text[:500]
    assert status in {200, 207, 400, 413}, status
    return strict(text)


@pytest.mark.parametrize("route", gen.ROUTES)
@given(data=st.data())
def test_any_json_body_gets_a_strict_json_answer_and_never_a_5xx(door, route, data):
    body = data.draw(gen.bodies(route))
    status, text = send(door, route, body)
    answer = check_answer(status, text)
    if "error" in answer:
        assert set(answer) == {"error", "message"}
    else:
        assert answer["received"] == len(answer["results"])


@given(route=st.sampled_from(gen.ROUTES), raw=st.binary(max_size=200))
def test_any_bytes_get_a_strict_json_answer_and_never_a_5xx(door, route, raw):
    check_answer(*send(door, route, raw))


@given(
    path=st.sampled_from(["/health", "/", "/nowhere", "/commandersact/x", "/ga4x", "/TIKTOK"]),
    body=gen.any_json,
)
def test_other_paths_answer_json_and_never_a_5xx(door, path, body):
    answer = door.post(path, data=json.dumps(body), content_type="application/json")
    assert answer.status_code in {200, 404, 405}
    strict(answer.get_data(as_text=True))


@pytest.mark.parametrize("route", gen.ROUTES)
@given(data=st.data())
def test_submitted_emails_phones_and_ids_never_come_back(door, route, data):
    values = data.draw(gen.personal())
    events = data.draw(st.lists(gen.events(route), min_size=1, max_size=4))
    body = [gen.with_personal(route, event, values) for event in events]
    status, text = send(door, route, body)
    check_answer(status, text)
    for name, value in values.items():
        assert value not in text, name
    assert values["phone"].replace(" ", "") not in text


def placeholder_times(answer: dict[str, Any]) -> Any:
    """The answer with clock-made ``event_time`` values replaced (see the module docstring)."""
    for payload in answer.get("payloads", []):
        for event in payload["data"]:
            event["event_time"] = "clock-or-input"
    return answer


def planned(source: pipeline.Route, events: list[Any]) -> Any:
    """What the core makes of ``events`` at :data:`NOW`: results and request bodies, or the
    refusal of the whole body."""
    config = from_environment(COMPLETE)
    try:
        plan = pipeline.plan_body(source, json.dumps(events).encode(), config.config, NOW)
    except BodyError as error:
        return error.status, error.kind, error.message
    return plan.results, [batch.body() for batch in plan.batches]


@pytest.mark.parametrize("route", gen.ROUTES)
@given(data=st.data())
def test_mapping_is_deterministic_and_ignores_key_order(route, data):
    events = data.draw(st.lists(gen.events(route), min_size=1, max_size=4))
    source = pipeline.configure(from_environment(COMPLETE))[route.strip("/")]
    reordered = [dict(reversed(list(event.items()))) for event in events]
    first = planned(source, events)
    assert planned(source, events) == first
    assert planned(source, reordered) == first


@pytest.mark.parametrize("route", gen.ROUTES)
@given(data=st.data())
def test_the_same_body_posted_twice_gets_the_same_answer(door, route, data):
    body = data.draw(st.lists(gen.events(route), min_size=1, max_size=3))
    first, second = (strict(send(door, route, body)[1]) for _ in range(2))
    assert placeholder_times(first) == placeholder_times(second)


@pytest.mark.parametrize("route", gen.ROUTES)
@given(data=st.data())
def test_schema_valid_events_give_payloads_valid_against_the_tiktok_schema(door, route, data):
    values = data.draw(gen.personal())
    events = data.draw(st.lists(gen.events(route, valid=True), min_size=1, max_size=4))
    events = [gen.with_personal(route, event, values) for event in events]
    input_schema = schema(INPUT_SCHEMAS[route])
    assume(all(not input_schema.errors(event) for event in events))
    status, text = send(door, route, events)
    answer = check_answer(status, text)
    for payload in answer["payloads"]:
        errors = [
            f"{list(e.absolute_path)}: {e.message}" for e in TIKTOK_SCHEMA.iter_errors(payload)
        ]
        assert not errors, errors
    mapped = [r for r in answer["results"] if r["status"] == "would_send"]
    assert sum(len(p["data"]) for p in answer["payloads"]) == len(mapped)
