"""No value we sent comes back through TikTok's answers, in any spelling: TikTok's text is never
passed on (``service.tiktok``), so a value quoted verbatim, trimmed, lower- or upper-cased,
JSON-escaped, percent-encoded or decoded, cut short, base64-encoded or split across fields
reaches neither the answer nor a log line, whichever way the answer travels (a refusal, a
split, a partial success, a retry, the 'not sent' of later requests). The check: no four
characters in a row of any personal value, in any case, appear anywhere in the answer or the
logs but in the field paths and numbers we write ourselves."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse

import pytest

from tests.conftest import post
from tests.delivery.conftest import PERSONAL, personal_event, purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import coded

# An e-mail in the page URL, percent-encoded as a browser sends it: TikTok may quote it decoded.
ENCODED = urllib.parse.quote(PERSONAL["email"], safe="")
PAGE = f"https://shop.example/thanks?email={ENCODED}"
VALUES = {**PERSONAL, "e-mail in the page URL": ENCODED}
# What we write ourselves: field paths, the event name, and numbers that vary from run to run.
OURS = re.compile(
    r"data(\[\d+\])(\.[a-z_]+|\[\d+\])*|CompletePayment"
    r"|\"latency_ms\": [\d.]+|retrying in \d+ ms|\(\d+ attempts?\)"
)


def spellings(value: str) -> list[str]:
    """The ways TikTok might quote ``value``."""
    half = len(value) // 2
    return [
        value,
        f"  {value}\t",
        value.lower(),
        value.upper(),
        json.dumps(value)[1:-1].replace("/", "\\/"),
        json.dumps(value, ensure_ascii=True).encode().hex(),
        urllib.parse.quote(value, safe=""),
        urllib.parse.unquote(value),
        value[:12] + "…",
        "…" + value[-12:],
        base64.b64encode(value.encode()).decode(),
        value[:half] + " " + value[half:],
    ]


QUOTED = "Batch.0.user.ip: invalid values " + " | ".join(
    spelling for value in VALUES.values() for spelling in spellings(value)
)


def event(order: str) -> dict:
    sent = personal_event(order)
    sent["context"]["page"]["url"] = PAGE
    return sent


def app_event() -> dict:
    return purchase(
        "APP-1",
        partners={"tiktok": {"event_source": "app"}},
        context={"app": {"namespace": "com.example.shop"}},
    )


def leaks(text: str) -> list[str]:
    """Runs of four characters of a personal value found in ``text``, in any case."""
    text = OURS.sub("", text).lower()
    return [
        f"{name}: {value[start : start + 4]!r}"
        for name, value in VALUES.items()
        for start in range(len(value) - 3)
        if value[start : start + 4].lower() in text
    ]


def check(answer, capsys) -> None:
    output = answer.get_data(as_text=True) + capsys.readouterr().out
    assert leaks(output) == []


def test_the_check_sees_a_quote():
    assert leaks(f"quoted: {PERSONAL['user agent'][4:8].upper()}") == ["user agent: 'lla/'"]


PLACES = {
    "a refusal": (coded(40002, QUOTED), None, 502),
    "a refusal on HTTP 400": (Reply(400, {"code": 40000, "message": QUOTED}), None, 502),
    "a partial success": (coded(20001, QUOTED), None, 200),
    "a retried answer": (coded(50002, QUOTED), coded(0, "OK"), 200),
    "an answer that is not TikTok's": (Reply(200, {"message": QUOTED, "data": QUOTED}), None, 503),
    "the data of an answer": (Reply(200, {"code": 0, "message": "OK", "data": QUOTED}), None, 200),
}


@pytest.mark.parametrize(("first", "then", "status"), PLACES.values(), ids=PLACES.keys())
def test_a_quote_in_any_answer_reaches_neither_answer_nor_log(
    live, tiktok, capsys, first, then, status
):
    if then is None:
        tiktok.always = first
    else:
        tiktok.then(first, then)
    capsys.readouterr()
    answer = post(live, "/commandersact", event("O-1"))
    assert answer.status_code == status
    check(answer, capsys)


def test_a_quote_in_an_outage_is_not_repeated_for_later_requests(live, tiktok, capsys):
    tiktok.always = coded(50002, QUOTED)
    capsys.readouterr()
    answer = post(live, "/commandersact", [event("O-1"), app_event()])
    assert answer.status_code == 503
    messages = [r["message"] for r in answer.get_json()["requests"]]
    assert messages[1] == "not sent: " + messages[0]
    check(answer, capsys)


def test_a_quote_in_the_refusals_of_a_split_request(live, tiktok, capsys):
    tiktok.always = coded(40002, QUOTED)
    capsys.readouterr()
    answer = post(live, "/commandersact", [event(f"O-{n}") for n in range(4)])
    assert answer.status_code == 502
    assert len(tiktok.posts()) == 7
    check(answer, capsys)


def test_the_message_keeps_the_code_our_words_and_the_field_path(live, tiktok):
    tiktok.always = coded(40002, QUOTED)
    answer = post(live, "/commandersact", event("O-1"))
    assert answer.get_json()["results"][0]["message"] == (
        "TikTok refused the request: code 40002 (invalid value) at data[0].user.ip"
    )


@pytest.mark.parametrize(
    ("said", "path"),
    [
        ("data[3].user.email: invalid", " at data[3].user.email"),
        (
            "Batch.0.properties.contents.12.content_id is empty",
            " at data[0].properties.contents[12].content_id",
        ),
        ("BATCH.1.USER.IP bad", " at data[1].user.ip"),
        ("data[0].properties.jane_doe: unknown", " at data[0].properties"),
        ("data.1234.user: bad", ""),
        ("metadata.0.user: bad", ""),
        ("nothing here", ""),
    ],
)
def test_a_field_path_is_rebuilt_from_tiktoks_field_names_only(live, tiktok, said, path):
    tiktok.always = coded(40002, said)
    answer = post(live, "/commandersact", purchase("O-1"))
    message = answer.get_json()["results"][0]["message"]
    assert message == "TikTok refused the request: code 40002 (invalid value)" + path


def request_ids() -> list[str]:
    """Every spelling of every personal value, and of its halves, that could pass for an id."""
    forms = set()
    for value in VALUES.values():
        half = len(value) // 2
        for part in (value, value[:half], value[half:]):
            forms.update(spellings(part))
            forms.update(spellings(part.replace(".", "").replace(" ", "")))
    ids = {f.strip().rstrip("=") for f in forms}
    return sorted(f for f in ids if re.fullmatch(r"[\w-]{1,64}", f))


@pytest.mark.parametrize("quoted", request_ids())
def test_a_request_id_that_quotes_a_value_is_left_out(live, tiktok, capsys, quoted):
    tiktok.then(Reply(200, {"code": 0, "message": "OK", "request_id": quoted}))
    capsys.readouterr()
    answer = post(live, "/commandersact", event("O-1"))
    assert answer.status_code == 200
    check(answer, capsys)


def test_a_real_request_id_is_kept(live, tiktok):
    real = "20240720103939AF0029465CF6A74E51EC"
    tiktok.then(Reply(200, {"code": 0, "message": "OK", "request_id": real}))
    answer = post(live, "/commandersact", event("O-1"))
    assert answer.get_json()["requests"][0]["request_id"] == real


@pytest.mark.parametrize("header", ["inf", "nan", "1e12", "Tue, 01 Jan 2999 00:00:00 GMT"])
def test_a_wild_retry_after_is_read_as_at_most_an_hour(live, tiktok, header):
    tiktok.always = Reply(429, b"", {"Retry-After": header})
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert 0 < int(answer.headers["Retry-After"]) <= 3600


def test_split_parts_are_not_sent_after_the_deadline(make_live, tiktok):
    live = make_live(TIKTOK_RETRY_DEADLINE_SECONDS="1")
    tiktok.always = Reply(200, {"code": 40002, "message": "invalid"}, {}, delay=0.6)
    answer = post(live, "/commandersact", [purchase(f"O-{n}") for n in range(64)])
    assert answer.status_code == 502
    assert answer.get_json()["failed"] == 64
    # the first request, then its first half; the deadline has passed when that is refused
    assert len(tiktok.posts()) == 2
