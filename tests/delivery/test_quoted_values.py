"""TikTok may quote what we sent in its messages: no such value reaches an answer or a log line,
whichever way the message travels (a refusal, a partial success, the 'not sent' of a later
request, a message longer than what is passed on)."""

from __future__ import annotations

import pytest

from tests.conftest import post
from tests.delivery.conftest import PERSONAL, purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import coded

IP = PERSONAL["ip"]
UA = PERSONAL["user agent"]


def web_and_app() -> list[dict]:
    """A web event that carries an IP and a user agent, then an app event that does not."""
    return [
        purchase("WEB-1", context={"device": {"ip": IP, "user_agent": UA}}),
        purchase(
            "APP-1",
            partners={"tiktok": {"event_source": "app"}},
            context={"app": {"namespace": "com.example.shop"}},
        ),
    ]


def assert_clean(answer, capsys):
    text = answer.get_data(as_text=True) + capsys.readouterr().out
    assert IP not in text
    assert UA[:20] not in text


def test_an_outage_message_quoting_a_value_is_not_repeated_for_later_requests(live, tiktok, capsys):
    tiktok.always = coded(50002, f"System error processing user.ip {IP}")
    answer = post(live, "/commandersact", web_and_app())
    assert answer.status_code == 503
    messages = [r["message"] for r in answer.get_json()["requests"]]
    assert len(messages) == 2
    assert messages[1].startswith("not sent: ")
    assert_clean(answer, capsys)


def test_the_warning_of_a_partial_success_quotes_no_value(live, tiktok, capsys):
    tiktok.then(coded(20001, f"Partial success. Not a valid value {IP}"))
    answer = post(live, "/commandersact", web_and_app()[:1])
    assert answer.status_code == 200
    (request,) = answer.get_json()["requests"]
    assert request["warnings"][0].startswith("TikTok answered 20001 (partial success)")
    assert_clean(answer, capsys)


def test_a_value_across_the_cut_of_a_long_message_is_still_cut_out(live, tiktok, capsys):
    tiktok.then(coded(40002, "x" * 470 + f" ua {UA}"))  # the cut at 500 falls inside the value
    answer = post(live, "/commandersact", web_and_app()[:1])
    assert answer.status_code == 502
    assert len(answer.get_json()["results"][0]["message"]) <= 500
    assert_clean(answer, capsys)


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
