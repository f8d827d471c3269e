"""The HTTP surface through the real entry point: routes, order of checks, body forms, dry run,
answer codes, and that no answer or log line carries personal data."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import COMPLETE, post

PURCHASE = {"event_name": "purchase", "id": "O-1", "value": 10, "currency": "EUR"}
PII = {
    "event_name": "purchase",
    "id": "O-2",
    "user": {"id": "customer-8812", "email": "jane.roe@example.com", "phone": "+33612345678",
             "firstname": "Jane", "lastname": "Roe", "zipcode": "75011", "city": "Paris"},
    "context": {"device": {"ip": "203.0.113.9", "user_agent": "UA-SECRET/1.0",
                           "cookie": "_ttp=TTP-SECRET; ttclid=CLICK-SECRET"}},
}  # fmt: skip
CLEAR_VALUES = ("customer-8812", "jane.roe@example.com", "+33612345678", "Jane", "Roe", "75011")


def test_health_is_open_and_summarises_the_configuration(client):
    answer = client.get("/health")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["event_source_ids"]["web"] == COMPLETE["TIKTOK_PIXEL_ID"]
    assert "/commandersact" in body["routes"]
    assert client.post("/health").status_code == 405


def test_dry_run_answers_with_the_payload(client):
    answer = post(client, "/commandersact", PURCHASE)
    assert answer.status_code == 200
    assert answer.content_type == "application/json"
    body = answer.get_json()
    assert body["dry_run"] is True
    assert (body["received"], body["would_send"], body["sent"]) == (1, 1, 0)
    assert body["results"] == [
        {"index": 0, "status": "would_send", "event": "CompletePayment", "event_id": "O-1"}
    ]
    assert body["requests"] == [
        {"event_source": "web", "event_source_id": COMPLETE["TIKTOK_PIXEL_ID"], "events": 1,
         "status": "would_send"}
    ]  # fmt: skip
    assert body["payloads"][0]["data"][0]["properties"]["order_id"] == "O-1"


@pytest.mark.parametrize(
    ("how", "kwargs"),
    [
        ("query", {"query_string": {"dry_run": "true"}}),
        ("header", {"headers": {"X-Dry-Run": "1"}}),
        ("header yes", {"headers": {"X-Dry-Run": "yes"}}),
    ],
)
def test_a_request_can_ask_for_a_dry_run(make_client, how, kwargs):
    client = make_client(**COMPLETE, TIKTOK_ACCESS_TOKEN="tok")
    body = post(client, "/commandersact", PURCHASE, **kwargs).get_json()
    assert body["dry_run"] is True, how
    assert body["payloads"][0]["event_source_id"] == COMPLETE["TIKTOK_PIXEL_ID"]


def test_a_request_cannot_turn_off_the_dry_run_of_the_environment(client):
    body = post(client, "/commandersact", PURCHASE, query_string={"dry_run": "false"}).get_json()
    assert body["dry_run"] is True


def test_without_dry_run_or_token_it_is_a_configuration_error(make_client):
    client = make_client(**COMPLETE)
    answer = post(client, "/commandersact", PURCHASE)
    assert answer.status_code == 500
    result = answer.get_json()["results"][0]
    assert (result["status"], result["error"]) == ("failed", "misconfigured")
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in result["message"]


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("POST", "/nowhere", 404, "not_found"),
        ("POST", "/", 404, "not_found"),
        ("GET", "/commandersact", 405, "method_not_allowed"),
        ("PUT", "/commandersact", 405, "method_not_allowed"),
    ],
)
def test_routes(client, method, path, status, kind):
    answer = client.open(path, method=method, data="{}", content_type="application/json")
    assert answer.status_code == status
    assert answer.get_json()["error"] == kind


def test_method_is_checked_before_the_body(client):
    answer = client.get("/commandersact", data=b"x" * 10, content_type="text/plain")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"


def test_a_trailing_slash_is_the_same_route(client):
    assert post(client, "/commandersact/", PURCHASE).status_code == 200


def test_body_over_the_limit_is_413_before_anything_else(make_client):
    client = make_client(**COMPLETE, DRY_RUN="true", MAX_BODY_BYTES="100")
    big = json.dumps({**PURCHASE, "padding": "x" * 200})
    answer = post(client, "/commandersact", big, content_type="text/plain")
    assert answer.status_code == 413
    assert answer.get_json()["error"] == "body_too_large"


def test_body_without_content_length_is_read_up_to_the_limit(make_client):
    client = make_client(**COMPLETE, DRY_RUN="true", MAX_BODY_BYTES="100")
    body = io.BytesIO(b'{"event_name": "purchase", "padding": "' + b"x" * 200 + b'"}')
    answer = client.post(
        "/commandersact",
        input_stream=body,
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
def test_content_type_must_be_json(client, content_type):
    answer = client.post("/commandersact", data=json.dumps(PURCHASE), content_type=content_type)
    assert answer.status_code == 415


def test_content_type_parameters_are_allowed(client):
    answer = client.post(
        "/commandersact", data=json.dumps(PURCHASE), content_type="application/json; charset=utf-8"
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"{not json", "invalid_json"),
        (b'{"event_name": "purchase", "value": NaN}', "invalid_json"),
        (b'{"event_name": "purchase", "value": Infinity}', "invalid_json"),
        (b'{"event_name": "purchase", "value": 1e400}', "invalid_json"),
        (b'{"event_name": "purchase", "value": ' + b"9" * 5000 + b"}", "invalid_json"),
        (b'{"event_name": "purchase\xff"}', "invalid_json"),
        (b'{"event_name": "purchase", "x": "\\ud800"}', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        (b'"purchase"', "invalid_body"),
        (b"42", "invalid_body"),
        (b"null", "invalid_body"),
        (b"[]", "no_events"),
        (b'{"events": []}', "no_events"),
    ],
)
def test_bodies_that_cannot_be_read_are_400(client, raw, kind):
    answer = post(client, "/commandersact", raw)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == kind
    assert "purchase" not in body["message"]


def test_a_valid_surrogate_pair_is_fine(client):
    raw = b'{"event_name": "purchase", "id": "O-\\ud83d\\ude00"}'
    body = post(client, "/commandersact", raw).get_json()
    assert body["results"][0]["event_id"] == "O-\U0001f600"


def test_more_than_1000_events_is_413(client):
    answer = post(client, "/commandersact", [PURCHASE] * 1001)
    assert answer.status_code == 413
    assert answer.get_json()["error"] == "too_many_events"


def test_1000_events_of_one_pixel_make_one_request(client):
    events = [{**PURCHASE, "id": f"O-{i}"} for i in range(1000)]
    body = post(client, "/commandersact", events).get_json()
    assert body["would_send"] == 1000
    assert [r["events"] for r in body["requests"]] == [1000]
    assert [e["event_id"] for e in body["payloads"][0]["data"]] == [f"O-{i}" for i in range(1000)]


@pytest.mark.parametrize(
    ("body", "received"),
    [
        (PURCHASE, 1),
        ([PURCHASE, PURCHASE], 2),
        ({"events": [PURCHASE, PURCHASE, PURCHASE]}, 3),
        # an event that carries its own "events" array is an event, not a wrapper
        ({**PURCHASE, "events": [1, 2]}, 1),
        ({"events": {"event_name": "purchase"}}, 1),
    ],
)
def test_body_forms(client, body, received):
    assert post(client, "/commandersact", body).get_json()["received"] == received


def test_every_event_rejected_is_400_with_paths_not_values(client):
    events = [
        {"user": {"email": "jane.roe@example.com"}},
        {"event_name": "purchase", "value": "jane.roe@example.com"},
        {"event_name": "purchase", "user": {"email_sha256": "jane.roe@example.com"}},
    ]
    answer = post(client, "/commandersact", events)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "jane.roe" not in text
    errors = [r["errors"] for r in answer.get_json()["results"]]
    assert errors == [
        [{"path": "$.event_name", "message": "is required"}],
        [{"path": "$.value", "message": "must be a number or a numeric string"}],
        [
            {
                "path": "$.user.email_sha256",
                "message": "must be a SHA-256 hash in hex (64 characters)",
            }
        ],
    ]


def test_some_rejected_and_some_through_is_207(client):
    answer = post(client, "/commandersact", [PURCHASE, {"event_name": 5}])
    assert answer.status_code == 207


def test_all_skipped_is_200(client):
    answer = post(client, "/commandersact", [{"event_name": "scroll"}, {"event_name": "login"}])
    assert answer.status_code == 200
    assert answer.get_json()["skipped"] == 2


def test_no_personal_data_in_answers_or_logs(client, capsys):
    answer = post(client, "/commandersact", [PII, {**PII, "value": "not a number"}])
    text = answer.get_data(as_text=True)
    logs = capsys.readouterr()
    for value in (*CLEAR_VALUES, "203.0.113.9", "UA-SECRET", "TTP-SECRET", "CLICK-SECRET"):
        assert value not in logs.out + logs.err
    for value in CLEAR_VALUES:
        assert value not in text
    line = json.loads(logs.out.strip().splitlines()[-1])
    assert line["severity"] == "INFO"
    assert line["counts"] == {"would_send": 1, "rejected": 1}
    assert line["events"] == ["CompletePayment"]


def test_log_lines_carry_the_trace(make_client, capsys):
    client = make_client(**COMPLETE, DRY_RUN="true", GOOGLE_CLOUD_PROJECT="proj-1")
    post(client, "/commandersact", PURCHASE, headers={"X-Cloud-Trace-Context": "abc123/1;o=1"})
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["logging.googleapis.com/trace"] == "projects/proj-1/traces/abc123"


def test_either_the_query_or_the_header_asks_for_a_dry_run(make_client):
    client = make_client(**COMPLETE, TIKTOK_ACCESS_TOKEN="tok")
    answer = post(
        client, "/commandersact", PURCHASE, query_string={"dry_run": "no"},
        headers={"X-Dry-Run": "true"},
    )  # fmt: skip
    assert answer.get_json()["dry_run"] is True


def test_refusals_and_rejections_are_logged_at_warning_without_values(make_client, capsys):
    """``LOG_LEVEL=WARNING`` still shows what was refused (kind, route, size) and which events
    were rejected (paths and rules), and never a value, nor a path the sender made up."""
    client = make_client(**COMPLETE, DRY_RUN="true", LOG_LEVEL="WARNING")
    post(client, "/commandersact", "{not json")
    post(client, "/jane.doe@example.com", PURCHASE)
    post(client, "/commandersact", PURCHASE, content_type="text/plain")
    post(client, "/commandersact", [PII, {**PII, "value": "not a number"}])
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    refused = [
        (line["http_status"], line["error"], line["route"]) for line in lines if "error" in line
    ]
    assert refused == [
        (400, "invalid_json", "/commandersact"),
        (404, "not_found", "unknown"),
        (415, "unsupported_media_type", "/commandersact"),
    ]
    assert all(
        line["severity"] == "WARNING" and line["size"] > 0 for line in lines if "error" in line
    )
    (rejected,) = [line for line in lines if "rejected" in line]
    assert rejected["rejected"] == [
        {
            "index": 1,
            "errors": [{"path": "$.value", "message": "must be a number or a numeric string"}],
        }
    ]
    text = json.dumps(lines)
    for value in (*CLEAR_VALUES, "jane.doe", "not a number"):
        assert value not in text
