"""Secret Manager answering with something that is not its JSON — a proxy's HTML page with
HTTP 200, JSON of another shape, a body nested very deep, an error whose body is not Google's
envelope — is treated as Secret Manager being unavailable: retried within the fetch deadline,
then HTTP 503 with Retry-After and JSON naming the variable. Nothing of the body is shown."""

from __future__ import annotations

import pytest

from service.secret_manager import STALE_FOR, SecretError
from tests.conftest import post
from tests.delivery.conftest import PROJECT, TOKEN_SECRET, purchase
from tests.delivery.test_secret_values import cached, shown
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN

TTL = 600
VERSION = f"projects/{PROJECT}/secrets/{TOKEN_SECRET}/versions/1"
MARK = "Qz7XvR9kWp2m"  # stands for anything a body holds: it must not be shown
DEEP_LIST = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
HTML = Reply(200, f"<html>Sign in {MARK}</html>".encode(), {"Content-Type": "text/html"})

GARBLED = {
    "200, HTML": HTML,
    "200, empty body": Reply(200, b""),
    "200, not UTF-8": Reply(200, b"\xff\xfe" + MARK.encode()),
    "200, a JSON list": Reply(200, [MARK]),
    "200, a JSON string": Reply(200, MARK),
    "200, a JSON number": Reply(200, 5),
    "200, JSON null": Reply(200, None),
    "200, an empty object": Reply(200, {}),
    "200, no payload": Reply(200, {"name": VERSION}),
    "200, payload a string": Reply(200, {"name": VERSION, "payload": MARK}),
    "200, data a number": Reply(200, {"name": VERSION, "payload": {"data": 5}}),
    "200, name a number": Reply(200, {"name": 5, "payload": {"data": "UXo3WHZSOWtXcDJt"}}),
    "200, name of another shape": Reply(200, {"name": MARK, "payload": {"data": "YWJj"}}),
    "200, name with the value in it": Reply(
        200, {"name": f"{VERSION}/{MARK}", "payload": {"data": "YWJj"}}
    ),
    "200, duplicate keys": Reply(200, b'{"name": "a", "name": "b"}'),
    "200, nested deep (list)": Reply(200, DEEP_LIST),
    "200, nested deep (object)": Reply(200, DEEP_OBJECT),
    "503, a number": Reply(503, 5),
    "503, error a string": Reply(503, {"error": MARK}),
    "503, error null": Reply(503, {"error": None}),
    "503, details a number": Reply(503, {"error": {"details": 5}}),
    "503, details not objects": Reply(503, {"error": {"details": [MARK]}}),
    "503, errors a number": Reply(503, {"error": {"errors": 5, "message": MARK}}),
    "503, nested deep": Reply(503, DEEP_LIST),
    "404, nested deep": Reply(404, DEEP_LIST),
    "403, error a string": Reply(403, {"error": MARK}),
    "404, details a number": Reply(404, {"error": {"details": 5}}),
    "502, HTML": Reply(502, f"<html>{MARK}</html>".encode(), {"Content-Type": "text/html"}),
    "an unknown 5xx": Reply(599, f"<html>{MARK}</html>".encode()),
}


@pytest.mark.parametrize("label", list(GARBLED))
def test_an_answer_that_is_not_secret_managers_json_is_an_outage(
    secret_manager, clock, capsys, caplog, label
):
    secret_manager.always = GARBLED[label]
    with pytest.raises(SecretError) as raised:
        cached(secret_manager, clock, TTL).get()
    assert raised.value.kind == "unavailable"
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in raised.value.message
    assert len(secret_manager.accesses()) == len(clock.slept) + 1 > 2  # retried
    logs = capsys.readouterr()
    assert shown(MARK, raised.value.message, logs.out, logs.err, caplog.text) == []


def test_one_garbled_answer_is_retried_and_the_next_one_read(secret_manager, clock):
    secret_manager.then(HTML, GARBLED["503, nested deep"])
    assert cached(secret_manager, clock, TTL).get() == TOKEN
    assert len(secret_manager.accesses()) == 3


def test_a_cached_value_is_served_while_the_answers_are_garbled(secret_manager, clock):
    token = cached(secret_manager, clock, TTL)
    assert token.get() == TOKEN
    secret_manager.always = HTML
    clock.now += TTL + 1
    assert token.get() == TOKEN  # stale, as during an outage
    clock.now += STALE_FOR
    with pytest.raises(SecretError) as raised:
        token.get()
    assert raised.value.kind == "unavailable"


@pytest.mark.parametrize("label", ["200, HTML", "200, nested deep (object)", "503, a number"])
def test_a_garbled_answer_for_the_token_is_503_with_retry_after(
    live, tiktok, secret_manager, capsys, label
):
    secret_manager.always = GARBLED[label]
    answer = post(live, "/commandersact", purchase("O-1"))
    assert (answer.status_code, answer.mimetype) == (503, "application/json")
    assert answer.headers["Retry-After"].isdigit()
    (result,) = answer.get_json()["results"]
    assert result["error"] == "unavailable"
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in result["message"]
    assert tiktok.posts() == []
    logs = capsys.readouterr()
    assert shown(MARK, answer.get_data(as_text=True), logs.out, logs.err) == []


def test_a_garbled_answer_for_the_caller_key_is_503_with_retry_after(make_live, secret_manager):
    live = make_live(API_KEY_SECRET="caller-key")
    secret_manager.always = HTML
    answer = post(live, "/commandersact", purchase("O-1"), headers={"X-Api-Key": "k"})
    assert (answer.status_code, answer.mimetype) == (503, "application/json")
    assert answer.headers["Retry-After"].isdigit()
    assert answer.get_json()["error"] == "unavailable"
    assert "API_KEY_SECRET" in answer.get_json()["message"]
    assert MARK not in answer.get_data(as_text=True)
