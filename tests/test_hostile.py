"""Hostile input on every route, each case named, with the answer CONTRACT §2 and §4 give it:
``400`` (or ``413``) for a body that cannot be read, else the event ``rejected`` with the JSON
path of the rule it broke, and never the value. ``tests/test_http.py`` covers the body cases on
``/commandersact``; the body cases here run on the two other routes, the new ones on all three.

Words used here: the *time field*, *value field* … of a route are where its source reads
``event_time``, ``value`` … (see :data:`FIELDS`); an *event of a route* is a minimal valid one
(:func:`event`) that a case then spoils.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import post

ROUTES = ("/commandersact", "/ga4", "/tiktok")
OTHER_ROUTES = ("/ga4", "/tiktok")  # test_http.py has the body cases for /commandersact
# route            time field                     value field               text field
FIELDS = {
    "/commandersact": (("context", "event_timestamp"), ("value",),               ("context", "page", "url")),
    "/ga4":           (("event_time",),               ("value",),               ("page_location",)),
    "/tiktok":        (("event_time",),               ("properties", "value"),  ("page", "url")),
}  # fmt: skip
ITEMS = {"/commandersact": ("items",), "/ga4": ("items",), "/tiktok": ("properties", "contents")}
EMAIL = {
    "/commandersact": ("user", "email"),
    "/ga4": ("user_data", "email_address"),
    "/tiktok": ("user", "email"),
}
TOO_LONG = "must be at most 10000 characters long"


def event(route: str, **extra: Any) -> dict[str, Any]:
    """A purchase the route's source sends, with a fixed id and time."""
    if route == "/tiktok":
        base = {"event": "CompletePayment", "event_id": "H-1", "event_time": 1_700_000_000}
    else:
        base = {"event_name": "purchase", "event_id": "H-1", "id": "H-1"}
    return {**base, **extra}


def spoiled(route: str, where: tuple[str, ...], value: Any) -> dict[str, Any]:
    """The event of ``route`` with ``value`` put at the path ``where``."""
    built = event(route)
    node = built
    for key in where[:-1]:
        node = node.setdefault(key, {})
    node[where[-1]] = value
    return built


def json_path(where: tuple[str, ...]) -> str:
    return "$." + ".".join(where)


def refused_body(client: Any, route: str, raw: bytes | str, status: int = 400) -> dict[str, Any]:
    answer = post(client, route, raw)
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    body = answer.get_json()
    assert set(body) == {"error", "message"}
    return body


def rejected(client: Any, route: str, body: Any, text: str | None = None) -> list[dict[str, str]]:
    """The errors of the one event of ``body``, which must be rejected (HTTP 400)."""
    answer = post(client, route, body)
    got = answer.get_json()
    assert answer.status_code == 400, got
    (result,) = got["results"]
    assert result["status"] == "rejected"
    if text is not None:
        assert text not in answer.get_data(as_text=True)
    return result["errors"]


def sent(client: Any, route: str, body: Any) -> dict[str, Any]:
    """The one TikTok event a dry run would send for ``body``."""
    answer = post(client, route, body)
    got = answer.get_json()
    assert answer.status_code == 200, got
    assert got["results"][0]["status"] == "would_send", got["results"]
    return got["payloads"][0]["data"][0]


# --- bodies that cannot be read: 400 ----------------------------------------------------------


@pytest.mark.parametrize("route", OTHER_ROUTES)
@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_tokens_are_400(client, route, token):
    raw = b'{"event_name": "purchase", "event": "Purchase", "value": ' + token + b"}"
    assert refused_body(client, route, raw)["error"] == "invalid_json"


@pytest.mark.parametrize("route", ROUTES)
def test_a_nan_token_deep_inside_is_400(client, route):
    raw = b'[{"event_name": "purchase", "event": "Purchase", "x": [[{"y": [1, -Infinity]}]]}]'
    assert refused_body(client, route, raw)["error"] == "invalid_json"


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"1E+999", b"0.1e310"])
def test_numbers_beyond_a_double_are_400(client, route, number):
    raw = b'{"event_name": "purchase", "event": "Purchase", "x": ' + number + b"}"
    assert "finite" in refused_body(client, route, raw)["message"]


@pytest.mark.parametrize("route", OTHER_ROUTES)
def test_an_integer_of_5000_digits_is_400(client, route):
    raw = b'{"event_name": "purchase", "event": "Purchase", "value": ' + b"9" * 5000 + b"}"
    assert "too long" in refused_body(client, route, raw)["message"]


@pytest.mark.parametrize("route", ROUTES)
def test_an_integer_of_4300_digits_parses_and_the_event_is_rejected(client, route):
    where = FIELDS[route][1]
    body = json.dumps(spoiled(route, where, int("9" * 4300)))
    errors = rejected(client, route, body, text="9" * 20)
    assert errors == [{"path": json_path(where), "message": "must be a number below 10^15"}]


@pytest.mark.parametrize("route", OTHER_ROUTES)
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"event_name": "purchase\xff"}', id="0xff"),
        pytest.param(b'{"event_name": "\xc0\xaf"}', id="overlong"),
        pytest.param(b'{"event_name": "\xed\xa0\x80"}', id="encoded-surrogate"),
        pytest.param(b'{"event_name": "purchase", "x": "\xe2\x82"}', id="truncated"),
        pytest.param(b"\xff\xfe{\x00}\x00", id="utf-16"),
    ],
)
def test_invalid_utf8_is_400(client, route, raw):
    assert refused_body(client, route, raw)["message"] == "the body is not valid UTF-8"


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "escape",
    [
        pytest.param(r"\ud800", id="high-alone"),
        pytest.param(r"\uDC00", id="low-alone"),
        pytest.param(r"\udc00\ud800", id="reversed-pair"),
        pytest.param(r"a\ud83d", id="high-at-end"),
    ],
)
def test_lone_surrogate_escapes_are_400(client, route, escape):
    raw = (
        '{"event_name": "purchase", "event": "Purchase", "user": {"email": "x' + escape + '@y.z"}}'
    )
    assert "surrogate" in refused_body(client, route, raw)["message"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_lone_surrogate_in_a_key_is_400(client, route):
    raw = r'{"event_name": "purchase", "event": "Purchase", "\udfff": 1}'
    assert "surrogate" in refused_body(client, route, raw)["message"]


def test_a_lone_surrogate_in_the_tiktok_envelope_is_400(client):
    raw = r'{"event_source": "web", "test_event_code": "\ud800", "data": [{"event": "Purchase"}]}'
    assert "surrogate" in refused_body(client, "/tiktok", raw)["message"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("depth", [20_000, 100_000])
@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ('{"a":', "}")])
def test_nesting_thousands_deep_is_400(client, route, depth, opening, closing):
    deep = opening * depth + "1" + closing * depth
    raw = '[{"event_name": "purchase", "event": "Purchase", "x": ' + deep + "}]"
    assert refused_body(client, route, raw)["message"] == "the body is nested too deeply"


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("raw", [b"true", b"false", b"3.5", b"-0", b'""'])
def test_top_level_scalars_are_400(client, route, raw):
    assert refused_body(client, route, raw)["error"] == "invalid_body"


@pytest.mark.parametrize("route", OTHER_ROUTES)
@pytest.mark.parametrize("raw", [b'"purchase"', b"42", b"null", b"[]", b'{"events": []}'])
def test_top_level_strings_numbers_null_and_empty_lists(client, route, raw):
    kind = "no_events" if raw.startswith((b"[", b"{")) else "invalid_body"
    assert refused_body(client, route, raw)["error"] == kind


@pytest.mark.parametrize("route", ROUTES)
def test_events_as_an_object_is_one_event_without_a_name_so_rejected(client, route):
    errors = rejected(client, route, {"events": {}})
    name = "$.event" if route == "/tiktok" else "$.event_name"
    assert {"path": name, "message": "is required"} in errors or errors[0]["path"] == "$"


@pytest.mark.parametrize("body", [{"data": {}}, {"data": "x"}, {"data": None}])
def test_a_tiktok_request_body_whose_data_is_not_an_array_is_400(client, body):
    assert refused_body(client, "/tiktok", json.dumps(body))["error"] == "invalid_body"


@pytest.mark.parametrize("route", OTHER_ROUTES)
def test_more_than_1000_events_is_413(client, route):
    body = json.dumps([event(route)] * 1001)
    assert refused_body(client, route, body, status=413)["error"] == "too_many_events"


def test_a_tiktok_request_body_with_more_than_1000_events_is_413(client):
    body = json.dumps({"event_source": "web", "data": [event("/tiktok")] * 1001})
    assert refused_body(client, "/tiktok", body, status=413)["error"] == "too_many_events"


# --- events that are read and rejected --------------------------------------------------------

OUT_OF_RANGE_TIMES = [
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(-1e300, id="minus-1e300"),
    pytest.param(int("9" * 400), id="400-digits"),
    pytest.param("1e400", id="string-1e400"),
    pytest.param("-5", id="string-negative"),
    pytest.param("nan", id="string-nan"),
    pytest.param("inf", id="string-inf"),
    pytest.param("0001-01-01T00:00:00", id="year-1"),
    pytest.param("1969-12-31T23:59:59Z", id="before-1970"),
    pytest.param("10000-01-01T00:00:00", id="year-10000"),
    pytest.param("9999-12-31T23:59:60", id="second-60"),
    pytest.param("2024-02-30", id="february-30"),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("when", OUT_OF_RANGE_TIMES)
def test_out_of_range_times_reject_the_event(client, route, when):
    where = FIELDS[route][0]
    errors = rejected(client, route, json.dumps(spoiled(route, where, when)))
    assert [e["path"] for e in errors] == [json_path(where)]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "when", [1e300, 10**40, "9999-12-31T23:59:59", "9999-12-31T23:59:59-14:00"]
)
def test_times_far_in_the_future_are_sent_as_now(client, route, when):
    before = int(time.time())
    data = sent(client, route, spoiled(route, FIELDS[route][0], when))
    assert before <= data["event_time"] <= time.time() + 1


OUT_OF_RANGE_VALUES = [
    pytest.param(1e308, "must be a finite number below 10^15", id="1e308"),
    pytest.param(-1e16, "must be a finite number below 10^15", id="minus-1e16"),
    pytest.param(10**16, "must be a number below 10^15", id="10^16"),
    pytest.param("1e400", "must be a finite number below 10^15", id="string-1e400"),
    pytest.param("9" * 99, "must be a finite number below 10^15", id="string-99-digits"),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("value", "message"), OUT_OF_RANGE_VALUES)
def test_out_of_range_values_reject_the_event(client, route, value, message):
    where = FIELDS[route][1]
    errors = rejected(client, route, json.dumps(spoiled(route, where, value)))
    assert errors == [{"path": json_path(where), "message": message}]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("quantity", [10**20, 1e300, "1e400", -1])
def test_out_of_range_quantities_reject_the_event(client, route, quantity):
    key = "content_id" if route == "/tiktok" else "id"
    body = spoiled(route, ITEMS[route], [{key: "A", "price": 1, "quantity": quantity}])
    errors = rejected(client, route, json.dumps(body))
    assert [e["path"] for e in errors] == [json_path(ITEMS[route]) + "[0].quantity"]


def test_a_ga4_sum_of_prices_past_the_limit_leaves_value_out_with_a_warning(client):
    # Found by the property tests: each price and quantity is in range, their product is not.
    body = event("/ga4", items=[{"item_id": "A", "price": 990335.0, "quantity": 1_009_759_324}])
    answer = post(client, "/ga4", body).get_json()
    assert answer["results"][0]["status"] == "would_send"
    assert "value" not in answer["payloads"][0]["data"][0]["properties"]
    assert answer["results"][0]["warnings"] == [
        "properties.value left out: the sum of the contents is beyond 10^15"
    ]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("field", ["text", "email", "event name"])
def test_strings_over_10000_characters_reject_the_event(client, route, field):
    long = "jane." + "x" * 10_000 + "@example.com"
    if field == "event name":
        where: tuple[str, ...] = ("event",) if route == "/tiktok" else ("event_name",)
    else:
        where = FIELDS[route][2] if field == "text" else EMAIL[route]
    errors = rejected(client, route, json.dumps(spoiled(route, where, long)), text="x" * 100)
    assert errors == [{"path": json_path(where), "message": TOO_LONG}]


@pytest.mark.parametrize("route", ROUTES)
def test_a_string_of_exactly_10000_characters_is_sent(client, route):
    url = "https://shop.example/" + "x" * (10_000 - 21)
    data = sent(client, route, spoiled(route, FIELDS[route][2], url))
    assert data["page"]["url"] == url


@pytest.mark.parametrize("route", ROUTES)
def test_more_than_1000_items_in_one_event_reject_it(client, route):
    key = "content_id" if route == "/tiktok" else "id"
    body = spoiled(route, ITEMS[route], [{key: "A", "price": 1}] * 1001)
    errors = rejected(client, route, json.dumps(body))
    assert errors == [
        {"path": json_path(ITEMS[route]), "message": "must have at most 1000 elements"}
    ]


@pytest.mark.parametrize("route", ROUTES)
def test_1000_items_in_one_event_are_sent(client, route):
    key = "content_id" if route == "/tiktok" else "id"
    data = sent(client, route, spoiled(route, ITEMS[route], [{key: "A", "price": 1}] * 1000))
    assert len(data["properties"]["contents"]) == 1000


@pytest.mark.parametrize("as_text", [False, True])
def test_more_than_1000_ga4_contents_reject_the_event_even_as_json_text(client, as_text):
    contents: Any = [{"content_id": "A", "price": 1}] * 1001
    body = event("/ga4", **{"x-ttq-pt-contents": json.dumps(contents) if as_text else contents})
    errors = rejected(client, "/ga4", json.dumps(body))
    assert errors == [
        {"path": "$['x-ttq-pt-contents']", "message": "must have at most 1000 elements"}
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('[{"price": NaN}]', id="nan"),
        pytest.param('[{"price": 1e400}]', id="1e400"),
        pytest.param('["\\ud800"]', id="lone-surrogate"),
        pytest.param("[" * 50_000 + "]" * 50_000, id="50000-deep"),
        pytest.param("[" + "9" * 5000 + "]", id="5000-digits"),
        pytest.param("{}", id="object"),
    ],
)
def test_hostile_ga4_contents_json_text_rejects_the_event(client, text):
    body = event("/ga4", **{"x-ttq-pt-contents": text})
    errors = rejected(client, "/ga4", json.dumps(body))
    assert errors == [
        {"path": "$['x-ttq-pt-contents']", "message": "must be an array, or JSON text of an array"}
    ]


def test_more_than_1000_tiktok_emails_in_one_event_reject_it(client):
    emails = [f"user{n}@example.com" for n in range(1001)]
    errors = rejected(client, "/tiktok", json.dumps(event("/tiktok", user={"email": emails})))
    assert errors == [{"path": "$.user.email", "message": "must have at most 1000 elements"}]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("moment", [1e-07, 0.5, ".5", "1970-01-01T00:00:00.5Z"])
def test_a_time_under_one_second_after_1970_rejects_the_event(client, route, moment):
    """TikTok takes whole seconds from 1: half a second after 1970 would be sent as 0."""
    where = FIELDS[route][0]
    errors = rejected(client, route, json.dumps(spoiled(route, where, moment)))
    assert errors == [{"path": json_path(where), "message": "must be a time after 1970"}]


def test_a_test_event_code_over_10000_characters_rejects_the_events(client):
    body = {"test_event_code": "x" * 10_001, "data": [event("/tiktok")]}
    errors = rejected(client, "/tiktok", json.dumps(body))
    assert errors == [{"path": "$.test_event_code", "message": TOO_LONG}]
