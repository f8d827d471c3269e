"""The fuzzer in the test suite: a short derandomised slice of the campaign (``make fuzz`` runs
the long one), the reproducers of the classes fixed so far, and checks that the fuzzer's own
invariants can fail.

Words used here: see :mod:`tests.fuzz`. The *slice* is cases ``0 … SLICE_BODIES-1`` (and
``0 … SLICE_CONFIGURATIONS-1`` of fuzzed configurations) of the fuzz seed ``pytest``: the same
cases on every run, so a failure names a case that ``python -m tests.fuzz`` can reduce.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fuzz.corpus import BASE, configurations, seeds
from tests.fuzz.harness import Answer, Door, check, check_configuration, run
from tests.fuzz.mutators import Case, case, config_case

SLICE_SEED = "pytest"
SLICE_BODIES = 1500
SLICE_CONFIGURATIONS = 40
CONSENT = {**BASE, "TIKTOK_CONSENT_CATEGORIES": "ads"}


@pytest.fixture(scope="module")
def door() -> Door:
    return Door()


def failures_of(door: Door, route: str, body: Any, env: dict[str, str]) -> list[str]:
    one = Case("test", 0, "test", route, "", json.dumps(body).encode(), ())
    return [failure.signature for failure in run(door, one, env)]


def test_a_derandomised_slice_of_bodies_keeps_every_invariant(door):
    found: dict[str, str] = {}
    for index in range(SLICE_BODIES):
        one = case(SLICE_SEED, index)
        for failure in run(door, one, configurations()[one.configuration]):
            found.setdefault(failure.signature, one.label())
    assert not found, "\n".join(f"{label}  {signature}" for signature, label in found.items())


def test_a_derandomised_slice_of_configurations_keeps_every_invariant():
    found: dict[str, int] = {}
    for index in range(SLICE_CONFIGURATIONS):
        env, cases = config_case(SLICE_SEED, index)
        for failure in check_configuration(env, cases):
            found.setdefault(failure.signature, index)
    assert not found, found


# --- the classes fixed so far, each by its reduced reproducer ---------------------------------


def test_a_null_consent_category_among_1000_events_sinks_nothing(door):
    events = [
        {"event_name": "purchase", "id": f"O-{i}", "user": {"consent_categories": ["ads"]}}
        for i in range(999)
    ]
    events.insert(
        500, {"event_name": "purchase", "id": "N", "user": {"consent_categories": [None, "ads"]}}
    )
    one = Case("test", 0, "test", "/commandersact", "", json.dumps(events).encode(), ())
    answer = door.post(one.route, one.body, CONSENT)
    assert check(one, answer, CONSENT) == []
    assert json.loads(answer.text)["would_send"] == 1000


@pytest.mark.parametrize("given", [[None], [None, ""], [""], None])
def test_consent_categories_that_name_nothing_grant_nothing(door, given):
    body = {"event_name": "purchase", "id": "C-1", "user": {"consent_categories": given}}
    assert failures_of(door, "/commandersact", body, CONSENT) == []
    answer = door.post(
        "/commandersact",
        json.dumps(body).encode(),
        {**CONSENT, "TIKTOK_CONSENT_CATEGORIES": "None"},
    )
    assert json.loads(answer.text)["skipped"] == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TIKTOK_EVENT_MAPPING", "[" * 100_000),
        ("TIKTOK_SMART_MAPPING", '{"a": ' * 100_000),
        ("TIKTOK_EVENT_MAPPING", '{"purchase": true}'),
        ("TIKTOK_EVENT_MAPPING", '{"purchase": ["Purchase"]}'),
        ("TIKTOK_TEST_EVENT_CODE", "T" * 10_001),
        ("TIKTOK_PIXEL_ID", "C" * 10_001),
    ],
)
def test_a_setting_the_function_cannot_run_with_stops_it_naming_the_variable(variable, value):
    from tiktok_mapper.config import ConfigError
    from tiktok_mapper.pipeline import from_environment

    with pytest.raises(ConfigError, match=f"^{variable} ") as refused:
        from_environment({**BASE, variable: value})
    assert value[:20] not in str(refused.value)


# --- the fuzzer itself --------------------------------------------------------------------------


def test_cases_are_the_same_on_every_run_and_differ_from_each_other():
    assert case(SLICE_SEED, 7) == case(SLICE_SEED, 7)
    bodies = {case(SLICE_SEED, index).body for index in range(60)}
    assert len(bodies) > 50


def test_every_seed_keeps_every_invariant_before_mutation(door):
    for seed in seeds():
        one = Case("seed", 0, seed.name, seed.route, "", seed.text.encode(), ())
        env = {**BASE, **dict(seed.env)}
        assert run(door, one, env) == [], seed.name


def planted_answer(**changes: Any) -> tuple[Case, Answer]:
    """A real answer to a purchase carrying a canary e-mail, then changed as ``changes`` say."""
    body = {"event_name": "purchase", "id": "P-1", "user": {"email": "Kanarie000001@Fuzz.example"}}
    one = Case("test", 0, "test", "/commandersact", "", json.dumps(body).encode(), ())
    answer = Door().post(one.route, one.body, BASE)
    got = json.loads(answer.text)
    for key, value in changes.items():
        got["payloads"][0]["data"][0][key] = value
    answer.text = json.dumps(got)
    return one, answer


def test_the_checks_pass_a_good_answer():
    assert check(*planted_answer(), BASE) == []


def test_the_checks_see_a_clear_text_canary():
    one, answer = planted_answer(page={"url": "https://x.example/?e=kanarie000001@fuzz.example"})
    assert [f.signature for f in check(one, answer, BASE)] == [
        "canary: email in the answer at $.payloads[*].data[*].page.url"
    ]


def test_the_checks_see_a_payload_tiktok_would_refuse():
    one, answer = planted_answer(event_time=0)
    assert [f.signature for f in check(one, answer, BASE)] == [
        "schema: payload data.*.event_time: minimum"
    ]


def test_the_checks_see_an_exception_and_its_line():
    one, answer = planted_answer()
    try:
        json.loads("{")
    except ValueError as error:
        answer.exception, answer.status, answer.content_type = error, 500, "text/html"
    (failure,) = check(one, answer, BASE)
    assert failure.signature.startswith("exception: JSONDecodeError at outside the project")
