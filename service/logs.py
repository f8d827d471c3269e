"""Structured logs: one JSON object per line on stdout, which Cloud Logging reads as fields.

Words used here: *severity* is Cloud Logging's level (``INFO``, ``WARNING``, ``ERROR``); a
*trace* is ``projects/<project>/traces/<id>``, so a log line sits under its request in the
console; its *span* is the 16-hex-digit id of the caller's span, and *sampled* says whether the
caller records the trace. They come from the W3C ``traceparent`` header
(``00-<32 hex trace id>-<16 hex span id>-<2 hex flags>``) or, when that is absent or invalid,
from Google's ``X-Cloud-Trace-Context`` (``<hex trace id>/<decimal span id>;o=<0 or 1>``). A
header that does not have its exact form is ignored: its text is never logged.

What may be logged: counts, statuses, event names, TikTok codes and request ids, latencies,
variable names. What never is: e-mails, phones, names, addresses, ids of people, IPs, user
agents, click ids, cookies, tokens, keys, or request bodies.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}

TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
CLOUD_TRACE = re.compile(r"([0-9a-fA-F]{1,32})(?:/([0-9]{1,20}))?(?:;o=([01]))?")
LARGEST_SPAN = 2**64 - 1  # X-Cloud-Trace-Context span ids are unsigned 64-bit numbers


class Trace(str):
    """A trace name that also carries the span and the sampling flag of its request. It is a
    ``str`` so that the code that only hands a trace on keeps seeing the trace name."""

    span_id: str | None
    sampled: bool | None

    def __new__(cls, name: str, span_id: str | None, sampled: bool | None) -> Trace:
        trace = super().__new__(cls, name)
        trace.span_id = span_id
        trace.sampled = sampled
        return trace


def from_traceparent(header: str) -> tuple[str, str, bool] | None:
    """(trace id, span id, sampled) of a W3C ``traceparent``, or ``None`` when it is invalid."""
    match = TRACEPARENT.fullmatch(header.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    # Version ff is forbidden; version 00 has nothing after the flags; later versions may.
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if not trace_id.strip("0") or not span_id.strip("0"):
        return None
    return trace_id, span_id, bool(int(flags, 16) & 1)


def from_cloud_trace(header: str) -> tuple[str, str | None, bool | None] | None:
    """(trace id, span id as 16 hex digits, sampled) of an ``X-Cloud-Trace-Context``, or
    ``None`` when it is invalid; the span and the flag are optional in that header."""
    match = CLOUD_TRACE.fullmatch(header.strip())
    if match is None:
        return None
    trace_id, span, option = match.groups()
    if not trace_id.strip("0"):
        return None
    span_id = None
    if span is not None:
        number = int(span)
        if not 0 < number <= LARGEST_SPAN:
            return None
        span_id = f"{number:016x}"
    return trace_id.lower(), span_id, None if option is None else option == "1"


class Logger:
    def __init__(self, level: str = "INFO", project: str | None = None) -> None:
        self.threshold = LEVELS[level]
        self.project = project

    def trace(self, traceparent: str | None, cloud_trace: str | None = None) -> Trace | None:
        """The trace of a request: from ``traceparent`` first, then ``X-Cloud-Trace-Context``;
        ``None`` without a valid header or without a project to name the trace in."""
        if not self.project or not (traceparent or cloud_trace):
            return None
        found: tuple[str, str | None, bool | None] | None = None
        if traceparent:
            found = from_traceparent(traceparent)
        if found is None and cloud_trace:
            found = from_cloud_trace(cloud_trace)
        if found is None:
            return None
        trace_id, span_id, sampled = found
        return Trace(f"projects/{self.project}/traces/{trace_id}", span_id, sampled)

    def emit(self, severity: str, message: str, trace: str | None = None, **fields: Any) -> None:
        if LEVELS[severity] < self.threshold:
            return
        entry: dict[str, Any] = {"severity": severity, "message": message, **fields}
        if trace:
            entry["logging.googleapis.com/trace"] = str(trace)
            if isinstance(trace, Trace):
                if trace.span_id is not None:
                    entry["logging.googleapis.com/spanId"] = trace.span_id
                if trace.sampled is not None:
                    entry["logging.googleapis.com/trace_sampled"] = trace.sampled
        sys.stdout.write(json.dumps(entry, ensure_ascii=True, default=str) + "\n")
        sys.stdout.flush()
