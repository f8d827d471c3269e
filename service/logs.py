"""Structured logs: one JSON object per line on stdout, which Cloud Logging reads as fields.

Words used here: *severity* is Cloud Logging's level (``INFO``, ``WARNING``, ``ERROR``); *trace*
is ``projects/<project>/traces/<id>`` from the ``X-Cloud-Trace-Context`` header, so a log line
sits under its request in the console.

What may be logged: counts, statuses, event names, TikTok codes and request ids, latencies,
variable names. What never is: e-mails, phones, names, addresses, ids of people, IPs, user
agents, click ids, cookies, tokens, keys, or request bodies.
"""

from __future__ import annotations

import json
import sys
from typing import Any

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


class Logger:
    def __init__(self, level: str = "INFO", project: str | None = None) -> None:
        self.threshold = LEVELS[level]
        self.project = project

    def trace(self, header: str | None) -> str | None:
        """The trace name for an ``X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1`` header."""
        trace_id = (header or "").split("/", 1)[0].strip()
        if not trace_id or not self.project or not trace_id.isalnum():
            return None
        return f"projects/{self.project}/traces/{trace_id}"

    def emit(self, severity: str, message: str, trace: str | None = None, **fields: Any) -> None:
        if LEVELS[severity] < self.threshold:
            return
        entry: dict[str, Any] = {"severity": severity, "message": message, **fields}
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        sys.stdout.write(json.dumps(entry, ensure_ascii=True, default=str) + "\n")
        sys.stdout.flush()
