"""What a misbehaving TikTok answers cannot fool the function: a redirect sends nothing elsewhere
and is no success, an answer too long is not read whole, one nested past the parser is
TikTok's fault (503, never a 500), and only the integer code 0 on HTTP 2xx is success."""

from __future__ import annotations

import itertools

import pytest

from service.tiktok import MAX_ANSWER_BYTES
from tests.conftest import post
from tests.delivery.conftest import purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN, FakeTikTok


@pytest.fixture
def elsewhere():
    """Another loopback server, which records whether anything reached it."""
    with FakeTikTok() as fake:
        yield fake


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_refusal_and_is_not_followed(live, tiktok, elsewhere, status):
    tiktok.always = Reply(status, b"", {"Location": elsewhere.endpoint})
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 502
    (result,) = answer.get_json()["results"]
    assert (result["status"], result["error"]) == ("failed", "refused")
    assert result["message"] == f"HTTP {status}, a redirect: not followed"
    assert len(tiktok.posts()) == 1  # not retried either
    assert elsewhere.seen == []  # neither the events nor the token went there
    assert TOKEN not in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "reply",
    [
        # 300 MB announced and streamed: today it was read whole
        Reply(200, itertools.repeat(b" " * 65536, 4800), {"Content-Length": str(300 * 2**20)}),
        # a chunked answer that never ends, as fast as it can
        Reply(200, itertools.chain([b'{"code": 0, "x": "'], itertools.repeat(b"y" * 65536))),
    ],
    ids=["300 MB with a length", "endless and chunked"],
)
def test_an_answer_over_the_cap_is_not_read_whole(live, tiktok, reply):
    tiktok.then(reply)
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 200  # not TikTok's answer: retried, then sent
    assert len(tiktok.posts()) == 2
    assert tiktok.written < 64 * MAX_ANSWER_BYTES  # what socket buffers take before the hang-up


def test_an_answer_just_over_the_cap_is_not_tiktoks(live, tiktok):
    padding = MAX_ANSWER_BYTES - len('{"code": 0, "message": ""}') + 1
    tiktok.always = Reply(200, {"code": 0, "message": "x" * padding})
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert "answer over 1048576 bytes" in answer.get_json()["results"][0]["message"]


def test_json_nested_100000_deep_is_tiktoks_fault_never_a_500(live, tiktok):
    tiktok.always = Reply(200, b'{"code": 0, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert answer.is_json
    assert "nested too deeply" in answer.get_json()["results"][0]["message"]


NOT_ZERO = {
    "false": False,
    "true": True,
    'the string "0"': "0",
    "null": None,
    "0.0": 0.0,
    "[0]": [0],
    '{"code": 0}': {"code": 0},
    "-1": -1,
    "a number of 6 digits": 100_000,
}


@pytest.mark.parametrize("code", NOT_ZERO.values(), ids=NOT_ZERO.keys())
def test_only_the_integer_0_is_success(live, tiktok, code):
    tiktok.then(Reply(200, {"code": code, "message": "OK"}))
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 200  # the first answer was not taken for success: retried
    assert len(tiktok.posts()) == 2
    assert answer.get_json()["requests"][0]["request_id"] == "fake-request-2"


def test_a_missing_code_is_no_success_and_ends_unavailable(live, tiktok):
    tiktok.always = Reply(200, {"message": "OK", "data": {}})
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert "without an integer code" in answer.get_json()["results"][0]["message"]


def test_code_0_on_an_http_error_is_no_success(live, tiktok):
    tiktok.always = Reply(400, {"code": 0, "message": "OK"})
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 502
    assert answer.get_json()["results"][0]["message"] == (
        "TikTok refused the request: HTTP 400, code 0 (OK)"
    )


def test_a_compressed_answer_is_not_asked_for(live, tiktok):
    post(live, "/commandersact", purchase("O-1"))
    assert tiktok.posts()[0].headers["Accept-Encoding"] == "identity"
