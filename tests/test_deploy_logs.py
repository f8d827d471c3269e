"""The trace of the request log line, as Cloud Logging reads it.

Words used here: the *request line* is the one JSON line the function logs per request
(``log_request`` in ``service/app.py``); its *trace fields* are the ``logging.googleapis.com/*``
keys (trace, spanId, trace_sampled) that put it under its request in the console.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import COMPLETE, post

PROJECT = "proj-1"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
PURCHASE = {"event_name": "purchase", "id": "O_1", "value": 10, "currency": "EUR"}
TRACE_KEYS = ("trace", "spanId", "trace_sampled")


def request_line(
    make_client, capsys, headers: dict[str, str], never_logged: str = "", **environment: str
) -> dict:
    client = make_client(**COMPLETE, DRY_RUN="true", **environment)
    answer = post(client, "/commandersact", PURCHASE, headers=headers)
    assert answer.status_code == 200
    out = capsys.readouterr().out
    if never_logged:
        assert never_logged not in out
    return json.loads(out.strip().splitlines()[-1])


def trace_fields(line: dict[str, Any]) -> dict[str, Any]:
    return {
        key: line[f"logging.googleapis.com/{key}"]
        for key in TRACE_KEYS
        if f"logging.googleapis.com/{key}" in line
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"traceparent": f"00-{TRACE}-{SPAN}-01"},
            {"trace": f"projects/{PROJECT}/traces/{TRACE}", "spanId": SPAN, "trace_sampled": True},
        ),
        (
            {"traceparent": f"00-{TRACE}-{SPAN}-00"},
            {"trace": f"projects/{PROJECT}/traces/{TRACE}", "spanId": SPAN, "trace_sampled": False},
        ),
        (  # a later version may add fields after the flags
            {"traceparent": f"cc-{TRACE}-{SPAN}-03-what-the-future-brings"},
            {"trace": f"projects/{PROJECT}/traces/{TRACE}", "spanId": SPAN, "trace_sampled": True},
        ),
        (  # traceparent wins over X-Cloud-Trace-Context
            {"traceparent": f"00-{TRACE}-{SPAN}-01", "X-Cloud-Trace-Context": "abc123/1;o=0"},
            {"trace": f"projects/{PROJECT}/traces/{TRACE}", "spanId": SPAN, "trace_sampled": True},
        ),
        (  # the decimal span id of X-Cloud-Trace-Context becomes 16 hex digits
            {"X-Cloud-Trace-Context": f"{TRACE.upper()}/67667974448284343;o=1"},
            {
                "trace": f"projects/{PROJECT}/traces/{TRACE}",
                "spanId": "00f067aa0ba902b7",
                "trace_sampled": True,
            },
        ),
        (
            {"X-Cloud-Trace-Context": f"{TRACE}/18446744073709551615;o=0"},
            {
                "trace": f"projects/{PROJECT}/traces/{TRACE}",
                "spanId": "ffffffffffffffff",
                "trace_sampled": False,
            },
        ),
        (  # span and option are optional in that header
            {"X-Cloud-Trace-Context": TRACE},
            {"trace": f"projects/{PROJECT}/traces/{TRACE}"},
        ),
    ],
)
def test_the_request_line_carries_trace_span_and_sampling(make_client, capsys, headers, expected):
    line = request_line(make_client, capsys, headers, GOOGLE_CLOUD_PROJECT=PROJECT)
    assert trace_fields(line) == expected


INVALID_TRACEPARENTS = [
    f"00-{TRACE}-{SPAN}-01-extra",  # version 00 ends at the flags
    f"ff-{TRACE}-{SPAN}-01",  # version ff is forbidden
    f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
    f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
    f"00-{TRACE.upper()}-{SPAN}-01",  # upper case
    f"00-{TRACE[:-1]}-{SPAN}-01",  # a digit short
    f"00-{TRACE}-{SPAN}-1",
    "00-<script>-x-01",
]
INVALID_CLOUD_TRACES = [
    f"{TRACE}/0;o=1",  # span 0
    f"{TRACE}/18446744073709551616;o=1",  # over 64 bits
    f"{TRACE}/12;o=2",
    f"{TRACE}0/1",  # 33 digits
    "zz-not-hex/1;o=1",
    "0/1;o=1",
    f"{TRACE}/1;o=1 user@example.com",
]


@pytest.mark.parametrize("header", INVALID_TRACEPARENTS)
def test_an_invalid_traceparent_falls_back_to_the_cloud_header(make_client, capsys, header):
    headers = {"traceparent": header, "X-Cloud-Trace-Context": "abc123/1;o=1"}
    line = request_line(make_client, capsys, headers, header, GOOGLE_CLOUD_PROJECT=PROJECT)
    assert trace_fields(line) == {
        "trace": f"projects/{PROJECT}/traces/abc123",
        "spanId": "0000000000000001",
        "trace_sampled": True,
    }


@pytest.mark.parametrize("header", INVALID_CLOUD_TRACES)
def test_an_invalid_header_is_ignored(make_client, capsys, header):
    headers = {"traceparent": "garbage", "X-Cloud-Trace-Context": header}
    line = request_line(make_client, capsys, headers, header, GOOGLE_CLOUD_PROJECT=PROJECT)
    assert trace_fields(line) == {}


def test_without_a_project_there_is_no_trace_to_name(make_client, capsys):
    line = request_line(make_client, capsys, {"traceparent": f"00-{TRACE}-{SPAN}-01"})
    assert trace_fields(line) == {}
