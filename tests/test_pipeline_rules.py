"""The core's pipeline rules, with literal expected values: requests cut at 1 MiB (sizing),
events grouped into requests, the answer's counts and its HTTP status (report), the body forms
and their refusals (body).

Words used here: a *sized event* is a ``/tiktok`` event whose TikTok JSON is a known number of
bytes (:func:`sized`); the sizes below were measured once and are written out.
"""

from __future__ import annotations

import pytest

from tests.conftest import COMPLETE
from tests.dryrun import NOW, dry_run
from tiktok_mapper import pipeline, report
from tiktok_mapper.body import BodyError
from tiktok_mapper.report import TikTokRequest
from tiktok_mapper.schemas import rule_in_words, schema

PIXEL = "CPIXEL0000000000000A"
# '{"event_source":"web","event_source_id":"CPIXEL0000000000000A","data":[' and ']}': 73 bytes
CAP = 1024 * 1024


def sized(order: str, names: int, last: int) -> dict[str, object]:
    """A purchase of ``names`` contents named with 9,000 characters and one with ``last``."""
    contents = [{"content_id": "C", "content_name": "n" * 9000}] * names
    contents.append({"content_id": "C", "content_name": "n" * last})
    return {
        "event": "Purchase",
        "event_id": order,
        "event_time": 1767225000,
        "properties": {"contents": contents},
    }


def long_page(order: str) -> dict[str, object]:
    """A page view of exactly 10,000 bytes of TikTok JSON."""
    url = "https://shop.example/" + "p" * 9899
    return {"event": "Pageview", "event_id": order, "event_time": 1767225000, "page": {"url": url}}


def shapes(answer: dict[str, object]) -> list[tuple[int, str]]:
    return [(entry["events"], entry["status"]) for entry in answer["requests"]]  # type: ignore[index, union-attr]


def sizes(payloads: list[object]) -> list[int]:
    import json

    return [
        len(json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode()) for p in payloads
    ]


def test_an_event_whose_request_is_exactly_1_mib_is_sent_and_one_byte_more_is_refused():
    answer, payloads = dry_run("tiktok", [sized("B0", 115, 9087)])
    assert (shapes(answer), sizes(payloads)) == ([(1, "would_send")], [CAP])
    answer, payloads = dry_run("tiktok", [sized("B0", 115, 9088), sized("B1", 0, 10)])
    assert shapes(answer) == [(1, "failed"), (1, "would_send")]
    assert sizes(payloads) == [242]
    assert answer["results"][0] == {
        "index": 0,
        "status": "failed",
        "event": "Purchase",
        "event_id": "B0",
        "error": "refused",
        "message": "not sent: this event alone is 1048577 bytes of JSON, over the 1048576-byte "
        "limit of one TikTok request",
    }
    assert answer["results"][1]["status"] == "would_send"
    assert (answer["failed"], answer["would_send"]) == (1, 1)
    assert report.http_status(answer) == 207


def test_a_body_over_the_cap_is_cut_where_the_next_event_would_pass_it():
    """B0 and B1 fill a request to the byte; one byte more in B1 moves it to the next."""
    events = [sized("B0", 57, 100), sized("B1", 58, 8827), sized("B2", 0, 10)]
    answer, payloads = dry_run("tiktok", events)
    assert (shapes(answer), sizes(payloads)) == ([(2, "would_send"), (1, "would_send")], [CAP, 242])
    events[1] = sized("B1", 58, 8828)
    answer, payloads = dry_run("tiktok", events)
    assert shapes(answer) == [(1, "would_send"), (2, "would_send")]
    assert sizes(payloads) == [515442, 533377]
    assert [[e["event_id"] for e in p["data"]] for p in payloads] == [["B0"], ["B1", "B2"]]


def test_an_event_that_alone_fills_a_request_to_the_byte_is_sent_in_a_part_of_its_own():
    answer, payloads = dry_run("tiktok", [sized("B0", 115, 9087), sized("B1", 0, 10)])
    assert (shapes(answer), sizes(payloads)) == ([(1, "would_send"), (1, "would_send")], [CAP, 242])


def test_200_events_of_10000_bytes_go_in_two_requests_each_as_full_as_the_cap_allows():
    answer, payloads = dry_run("tiktok", [long_page(f"P{n:03}") for n in range(200)])
    assert shapes(answer) == [(104, "would_send"), (96, "would_send")]
    assert sizes(payloads) == [73 + 104 * 10_000 + 103, 73 + 96 * 10_000 + 95]
    ids = [event["event_id"] for payload in payloads for event in payload["data"]]
    assert ids == [f"P{n:03}" for n in range(200)]


def test_nine_small_events_go_in_one_request():
    answer, payloads = dry_run("tiktok", [sized(f"S{n}", 0, 10) for n in range(9)])
    assert shapes(answer) == [(9, "would_send")]
    assert [e["event_id"] for e in payloads[0]["data"]] == [f"S{n}" for n in range(9)]


# --- grouping into requests ---------------------------------------------------------------


def test_events_are_grouped_by_source_and_test_event_code_in_order_of_first_appearance():
    app = {"event_source": "app", "event_source_id": "7000000000000000001"}
    events = [
        {"event_name": "search", "id": "W1"},
        {"event_name": "search", "id": "A1", "partners": {"tiktok": app},
         "context": {"app": {"namespace": "com.example"}}},
        {"event_name": "search", "id": "W2"},
        {"event_name": "sign_up", "id": "C1", "partners": {"tiktok": {"event_source": "crm", "lead_id": "L1"}}},
        {"event_name": "search", "id": "O1", "partners": {"tiktok": {"event_source": "offline"}}},
    ]  # fmt: skip
    answer, payloads = dry_run("commandersact", events, TIKTOK_TEST_EVENT_CODE="TEST1")
    envelopes = [{k: v for k, v in p.items() if k != "data"} for p in payloads]
    assert envelopes == [
        {"event_source": "web", "event_source_id": PIXEL, "test_event_code": "TEST1"},
        {"event_source": "app", "event_source_id": "7000000000000000001"},
        {"event_source": "crm", "event_source_id": "CRM0000000000000001"},
        {"event_source": "offline", "event_source_id": "OFFLINE000000000001"},
    ]
    assert [[e["event_id"] for e in p["data"]] for p in payloads] == [
        ["W1", "W2"],
        ["A1"],
        ["C1"],
        ["O1"],
    ]
    assert answer["requests"] == [
        {"event_source": "web", "event_source_id": PIXEL, "events": 2, "status": "would_send"},
        {"event_source": "app", "event_source_id": "7000000000000000001", "events": 1, "status": "would_send"},
        {"event_source": "crm", "event_source_id": "CRM0000000000000001", "events": 1, "status": "would_send"},
        {"event_source": "offline", "event_source_id": "OFFLINE000000000001", "events": 1, "status": "would_send"},
    ]  # fmt: skip


def test_a_tiktok_request_bodys_test_event_code_goes_with_its_events_of_any_source():
    body = {"event_source": "app", "test_event_code": " T9 ", "data": [
        {"event": "Purchase", "event_id": "1", "app": {"app_id": "7000000000000000001"}}]}  # fmt: skip
    _, payloads = dry_run("tiktok", body, TIKTOK_TEST_EVENT_CODE="WEBONLY")
    assert payloads[0]["test_event_code"] == "T9"
    assert payloads[0]["event_source"] == "app"


@pytest.mark.parametrize(
    ("source", "variable"),
    [
        ("app", "TIKTOK_APP_ID"),
        ("offline", "TIKTOK_OFFLINE_EVENT_SET_ID"),
        ("crm", "TIKTOK_CRM_EVENT_SET_ID"),
        ("web", "TIKTOK_PIXEL_ID"),
    ],
)
def test_an_event_source_without_its_id_fails_misconfigured_naming_the_variable(source, variable):
    tiktok = {"event_source": source, "lead_id": "L1"}
    event = {"event_name": "search", "id": "M1", "partners": {"tiktok": tiktok},
             "context": {"app": {"namespace": "com.example"}}}  # fmt: skip
    answer, payloads = dry_run("commandersact", event, **{variable: " "})
    assert payloads == []
    (result,) = answer["results"]
    assert result["status"] == "failed"
    assert result["error"] == "misconfigured"
    assert result["message"] == f"{variable} is not set ({source} events need it)"
    assert report.http_status(answer) == 500


SMART_CONTENTS = {"TIKTOK_SMART_MAPPING": '{"properties.contents": "crm.items"}'}


def test_an_event_with_many_errors_keeps_19_and_says_how_many_more():
    """Errors of the mapping (a smart-mapped path, which no schema checks): 30 of them."""
    event = {"event_name": "purchase", "crm": {"items": [{"quantity": 0.5}] * 30}}
    answer, _ = dry_run("commandersact", event, **SMART_CONTENTS)
    errors = answer["results"][0]["errors"]
    assert len(errors) == 20
    assert errors[0] == {"path": "$.crm.items[0].quantity", "message": "must be a whole number"}
    assert errors[18]["path"] == "$.crm.items[18].quantity"
    assert errors[19] == {"path": "$", "message": "and 11 more errors"}


def test_an_event_with_many_warnings_keeps_19_and_says_how_many_more():
    event = {"event": "Purchase", "properties": {"contents": [{"content_type": "x"}] * 25}}
    answer, _ = dry_run("tiktok", event)
    warnings = answer["results"][0]["warnings"]
    assert len(warnings) == 20
    assert warnings[19] == "and 6 more warnings"


def test_an_event_with_exactly_20_notes_keeps_them_all():
    event = {"event_name": "purchase", "crm": {"items": [{"quantity": 0.5}] * 20}}
    errors = dry_run("commandersact", event, **SMART_CONTENTS)[0]["results"][0]["errors"]
    assert [e["path"] for e in errors] == [f"$.crm.items[{n}].quantity" for n in range(20)]


def test_what_is_not_an_object_is_rejected_and_the_rest_goes():
    answer, _ = dry_run("tiktok", [3, {"event": "Search", "event_id": "K"}, None])
    assert answer["results"] == [
        {"index": 0, "status": "rejected", "errors": [{"path": "$", "message": "must be an object"}]},
        {"index": 1, "status": "would_send", "event": "Search", "event_id": "K"},
        {"index": 2, "status": "rejected", "errors": [{"path": "$", "message": "must be an object"}]},
    ]  # fmt: skip
    assert (answer["received"], answer["rejected"], answer["would_send"]) == (3, 2, 1)
    assert report.http_status(answer) == 207


def test_an_event_that_breaks_the_mapping_names_the_line_that_raised():
    """The innermost frame: where the exception was raised, not where it was called from."""

    def deep(event: dict[str, object]) -> None:
        raise KeyError(event["event"])  # the line named

    class Fragile:
        def map(self, event: dict[str, object], context: object) -> None:
            deep(event)

    line = deep.__code__.co_firstlineno + 1
    route = pipeline.Route("test", schema("tiktok-input.schema.json"), Fragile())
    config = pipeline.from_environment(COMPLETE).config
    plan = pipeline.plan(route, [{"event": "jane@example.com"}], config, NOW)
    assert plan.results[0]["errors"] == [
        {
            "path": "$",
            "message": f"could not be mapped (KeyError at test_pipeline_rules.py:{line}): "
            "please report this event's shape",
        }
    ]


# --- the body --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "kind", "message"),
    [
        (b"\xff", 400, "invalid_json", "the body is not valid UTF-8"),
        (b'{"a": NaN}', 400, "invalid_json", "numbers must be finite: NaN, Infinity and 1e400 are not JSON"),
        (b'{"a": 1e400}', 400, "invalid_json", "numbers must be finite: NaN, Infinity and 1e400 are not JSON"),
        (b"[" * 100_000, 400, "invalid_json", "the body is nested too deeply"),
        (b'{"a":\n 1,}', 400, "invalid_json", "the body is not valid JSON (line 2 column 3)"),
        (b"1" * 5000, 400, "invalid_json", "the body has a number that is too long"),
        (b'{"event": "\\ud800"}', 400, "invalid_json", "the body has a lone surrogate escape"),
        (b'"text"', 400, "invalid_body", "the body must be a JSON object or an array"),
        (b"[]", 400, "no_events", "the body holds no events"),
        (b'{"events": []}', 400, "no_events", "the body holds no events"),
        (b'{"data": {}}', 400, "invalid_body", "$.data must be an array of events"),
    ],
)  # fmt: skip
def test_a_body_that_cannot_be_read_says_why_without_quoting_it(raw, status, kind, message):
    with pytest.raises(BodyError) as refused:
        dry_run("tiktok", raw)
    assert (refused.value.status, refused.value.kind, refused.value.message) == (
        status,
        kind,
        message,
    )


def test_1000_events_are_read_and_1001_are_refused_413():
    answer, _ = dry_run("tiktok", [{"event": "Search", "event_id": "1"}] * 1000)
    assert answer["received"] == 1000
    with pytest.raises(BodyError) as refused:
        dry_run("tiktok", [{"event": "Search"}] * 1001)
    assert (refused.value.status, refused.value.kind, refused.value.message) == (
        413,
        "too_many_events",
        "the body holds 1001 events; at most 1000",
    )


def test_a_valid_surrogate_pair_is_read():
    _, payloads = dry_run("tiktok", b'{"event": "Search", "event_id": "\\ud83d\\ude00"}')
    assert payloads[0]["data"][0]["event_id"] == "\U0001f600"


@pytest.mark.parametrize(
    ("body", "events"),
    [
        ({"events": [{"event_name": "search"}, {"event_name": "login"}]}, 2),
        ({"event_name": "search", "events": [1, 2, 3]}, 1),  # an event with an events array
        ({"x-ttq-event-name": "Search", "events": [1, 2, 3]}, 1),
        ({"x_ttq_event_name": "Search", "events": [1, 2, 3]}, 1),
        ({"events": "not a list", "event_name": "search"}, 1),
        ([{"event_name": "search"}] * 3, 3),
    ],
)
def test_the_body_forms_of_ga4(body, events):
    assert dry_run("ga4", body)[0]["received"] == events


def test_a_tiktok_event_with_data_is_an_event_not_a_request_body():
    answer, _ = dry_run("tiktok", {"event": "Search", "event_id": "E", "data": [1]})
    assert answer["received"] == 1
    assert answer["results"][0]["warnings"] == ["$.data left out: not a field of TikTok's event"]


def test_the_envelopes_unknown_keys_are_said_once_for_the_request():
    body = {"event_source": "web", "partner": "x", "data": [{"event": "Search", "event_id": "1"}]}
    answer, payloads = dry_run("tiktok", body)
    assert answer["warnings"] == [
        "$.partner of the request body left out: not sent by this function"
    ]
    assert "warnings" not in answer["results"][0]
    assert "partner" not in payloads[0]


# --- the answer and its status --------------------------------------------------------------


def results(*statuses: str) -> list[dict[str, object]]:
    return [{"index": i, "status": s} for i, s in enumerate(statuses)]


def request(indices: list[int], status: str, **failure: object) -> TikTokRequest:
    entry = {"event_source": "web", "event_source_id": PIXEL, "events": len(indices)}
    return TikTokRequest(indices, {**entry, "status": status, **failure})


REFUSED = {"error": "refused", "code": 40002, "message": "bad"}
UNAVAILABLE = {"error": "unavailable", "message": "TikTok did not answer"}


@pytest.mark.parametrize(
    ("statuses", "requests", "status"),
    [
        (("would_send", "would_send"), [request([0, 1], "would_send")], 200),
        (("would_send", "would_send"), [request([0, 1], "sent")], 200),
        (("skipped",), [], 200),
        (("would_send", "skipped"), [request([0], "queued")], 202),
        (("would_send", "rejected"), [request([0], "sent")], 207),
        (("would_send", "would_send"), [request([0], "sent"), request([1], "failed", **REFUSED)], 207),
        (("would_send", "skipped"), [request([0], "failed", **REFUSED)], 207),
        (("would_send",), [request([0], "failed", **REFUSED)], 502),
        (("rejected", "rejected"), [], 400),
        (("rejected", "would_send"), [request([1], "failed", **REFUSED)], 502),
        (("would_send", "rejected"), [request([0], "failed", **UNAVAILABLE)], 503),
        (("would_send", "would_send"), [request([0], "failed", **UNAVAILABLE), request([1], "failed", **REFUSED)], 503),
    ],
)  # fmt: skip
def test_the_http_status_of_an_answer(statuses, requests, status):
    assert report.http_status(report.answer(results(*statuses), requests, False)) == status


def test_a_failed_request_writes_its_failure_into_its_events_only():
    given = results("would_send", "would_send", "would_send")
    failure = {**REFUSED, "extra": "not copied"}
    answer = report.answer(
        given, [request([0, 2], "failed", **failure), request([1], "sent")], False
    )
    assert answer["results"] == [
        {"index": 0, "status": "failed", "error": "refused", "code": 40002, "message": "bad"},
        {"index": 1, "status": "sent"},
        {"index": 2, "status": "failed", "error": "refused", "code": 40002, "message": "bad"},
    ]
    assert given == results("would_send", "would_send", "would_send")  # the plan's, unchanged
    assert {k: answer[k] for k in report.STATUSES} == {
        "sent": 1, "would_send": 0, "queued": 0, "skipped": 0, "rejected": 0, "failed": 2,
    }  # fmt: skip
    assert (answer["dry_run"], answer["received"]) == (False, 3)


def test_a_dry_run_answer_keeps_the_results_as_they_are():
    given = results("would_send", "skipped")
    answer = report.answer(given, [request([0], "would_send")], True, payloads=[{"p": 1}])
    assert answer["results"] is given
    assert answer["payloads"] == [{"p": 1}]
    assert answer["dry_run"] is True
    assert "warnings" not in answer
    assert list(answer) == [
        "dry_run", "received", "sent", "would_send", "queued", "skipped", "rejected", "failed",
        "match", "results", "requests", "payloads",
    ]  # fmt: skip


def test_match_counts_only_events_that_go():
    given = results("would_send", "would_send", "would_send", "rejected")
    keys = [(0, ("email", "ip")), (1, ("ip", "user_agent")), (2, ("idfa", "idfv"))]
    answer = report.answer(given, [request([0], "sent"), request([1], "queued"),
                                   request([2], "failed", **REFUSED)], False, match_keys=keys)  # fmt: skip
    assert answer["match"] == {
        "events": 2, "email": 1, "phone": 0, "external_id": 0, "ttclid": 0, "ttp": 0,
        "advertising_id": 0, "ip": 2, "ua": 1, "unmatched": 0,
    }  # fmt: skip


def test_match_names_the_first_20_unmatched_events_and_counts_the_rest():
    given = results(*["would_send"] * 25)
    keys = [(i, ("ip",) if i % 2 else ()) for i in range(25)]
    answer = report.answer(given, [request(list(range(25)), "would_send")], True, match_keys=keys)
    match = answer["match"]
    assert (match["events"], match["ip"], match["unmatched"]) == (25, 12, 25)
    assert len(match["warnings"]) == 20
    assert match["warnings"][0] == (
        "event 0: no key TikTok can match on: email, phone, external_id, ttclid, ttp, "
        "advertising_id, ip, ua missing (ip counts with ua)"
    )
    assert match["warnings"][1] == (
        "event 1: no key TikTok can match on: email, phone, external_id, ttclid, ttp, "
        "advertising_id, ua missing (ip counts with ua)"
    )
    assert match["warnings"][19].startswith("event 19: ")


@pytest.mark.parametrize(
    ("fields", "matchable"),
    [
        (("email",), True), (("phone",), True), (("external_id",), True), (("ttclid",), True),
        (("ttp",), True), (("idfa",), True), (("idfv",), True), (("gaid",), True),
        (("ip", "user_agent"), True), (("ip",), False), (("user_agent",), False),
        (("locale", "city"), False), ((), False),
    ],
)  # fmt: skip
def test_which_user_fields_make_an_event_matchable(fields, matchable):
    answer = report.answer(results("would_send"), [], True, match_keys=[(0, fields)])
    assert answer["match"]["unmatched"] == (0 if matchable else 1)


# --- the schemas' rules, in words ------------------------------------------------------------

WHOLE = "must be a whole number (0 or more)"


@pytest.mark.parametrize(
    ("route", "event", "errors"),
    [
        ("commandersact", {"event_name": ""}, [("$.event_name", "must not be empty")]),
        ("commandersact", {"id": 1}, [("$.event_name", "is required")]),
        ("commandersact", {"event_name": "x", "user": {"email_sha256": "xyz"}}, [("$.user.email_sha256", "must be a SHA-256 hash in hex (64 characters)")]),
        ("commandersact", {"event_name": "x", "items": [{"quantity": -1}]}, [("$.items[0].quantity", WHOLE)]),
        ("commandersact", {"event_name": "x", "partners": {"tiktok": {"ldu": "maybe"}}}, [("$.partners.tiktok.ldu", "must be true or false")]),
        ("commandersact", {"event_name": "x", "user": {"consent_categories": "4"}}, [("$.user.consent_categories", "must be an array of category ids")]),
        ("ga4", {"page_location": "x"}, [("$", "must be an event with event_name or x-ttq-event-name")]),
        ("tiktok", {"user": {}}, [("$.event", "is required")]),
        ("tiktok", {"event": "Search", "properties": {"contents": [{"price": "abc"}]}, "event_time": True},
         [("$.event_time", "must be Unix time (seconds, milliseconds or microseconds) or an ISO 8601 date-time"),
          ("$.properties.contents[0].price", "must be a number or a numeric string")]),
    ],
)  # fmt: skip
def test_the_rule_of_the_schema_in_words(route, event, errors):
    result = dry_run(route, event)[0]["results"][0]
    assert result["status"] == "rejected"
    assert [(e["path"], e["message"]) for e in result["errors"]] == errors


def test_errors_come_in_document_order_including_elements_past_the_first_21():
    items = [{"quantity": 1}] * 25
    for index, bad in ((24, "x"), (10, 0.5), (2, "y"), (0, -1)):
        items[index] = {"quantity": bad}
    result = dry_run("commandersact", {"event_name": "x", "items": items})[0]["results"][0]
    assert [(e["path"], e["message"]) for e in result["errors"]] == [
        ("$.items[0].quantity", WHOLE),
        ("$.items[2].quantity", WHOLE),
        ("$.items[10].quantity", WHOLE),
        ("$.items[24].quantity", WHOLE),
    ]


def test_an_array_over_its_limit_is_said_first_then_its_bad_elements_up_to_20_errors():
    event = {"event_name": "x", "items": [{"quantity": "x"}] * 1001}
    errors = dry_run("commandersact", event)[0]["results"][0]["errors"]
    assert errors == [
        {"path": "$.items", "message": "must have at most 1000 elements"},
        *[{"path": f"$.items[{n}].quantity", "message": WHOLE} for n in range(19)],
    ]


def test_1000_elements_are_within_the_limit_and_the_last_is_still_checked():
    items = [{"quantity": 1}] * 999 + [{"quantity": "x"}]
    errors = dry_run("commandersact", {"event_name": "x", "items": items})[0]["results"][0][
        "errors"
    ]
    assert errors == [{"path": "$.items[999].quantity", "message": WHOLE}]


def test_unknown_keys_are_counted_at_every_depth():
    event = {
        "event": "Search",
        "event_id": "1",
        "user": {f"u{n}": n for n in range(6)},
        "properties": {"contents": [{"content_id": "A", "x": 1}, {"y": 2}]},
        **{f"k{n}": n for n in range(6)},
    }
    warnings = dry_run("tiktok", event)[0]["results"][0]["warnings"]
    assert warnings == [
        *[f"$.user.u{n} left out: not a field of TikTok's event" for n in range(6)],
        "$.properties.contents[0].x left out: not a field of TikTok's event",
        "$.properties.contents[1].y left out: not a field of TikTok's event",
        "$.k0 left out: not a field of TikTok's event",
        "$.k1 left out: not a field of TikTok's event",
        "and 4 more fields left out: not fields of TikTok's event",
    ]


@pytest.mark.parametrize(
    ("keyword", "node", "rule", "words"),
    [
        ("type", {}, "string", "must be a string"),
        ("type", {}, ["integer", "null"], "must be a whole number"),
        ("type", {}, ["string", "number", "boolean"], "must be a string or a number or true or false"),
        ("type", {}, ["object", "array"], "must be an object or an array"),
        ("enum", {}, ["a", 1, None], 'must be one of "a", 1, null'),
        ("pattern", {}, "^x$", "must match the pattern ^x$"),
        ("minLength", {}, 1, "must not be empty"),
        ("minLength", {}, 3, "must be at least 3 characters long"),
        ("maxLength", {}, 10, "must be at most 10 characters long"),
        ("maxItems", {}, 5, "must have at most 5 elements"),
        ("minItems", {}, 1, "must have at least 1 element"),
        ("minItems", {}, 2, "must have at least 2 elements"),
        ("minimum", {}, 0, "must be ≥ 0"),
        ("maximum", {}, 9, "must be ≤ 9"),
        ("exclusiveMinimum", {}, 0, "must be > 0"),
        ("exclusiveMaximum", {}, 1.5, "must be < 1.5"),
        ("additionalProperties", {}, False, "has properties that are not allowed"),
        ("const", {}, 1, "breaks the rule 'const' of the schema"),
        ("type", {"description": "a thing"}, "string", "must be a thing"),
        ("enum", {"description": "yes or no"}, [1], "must be yes or no"),
        ("maxLength", {"description": "a thing"}, 5, "must be at most 5 characters long"),
        ("minimum", True, 0, "must be ≥ 0"),  # a node that is no object has no description
    ],
)  # fmt: skip
def test_each_rule_of_a_schema_in_words(keyword, node, rule, words):
    assert rule_in_words(keyword, node, rule) == words
