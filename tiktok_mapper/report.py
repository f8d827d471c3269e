"""The answer to the caller: counts, per-event results, requests, and the HTTP status.

Words used here:

- *result*: one per input event, as the pipeline made it (``tiktok_mapper.pipeline``); never
  changed afterwards. The answer's results are those, each event of a settled TikTok request
  written into a copy of its result.
- *TikTok request*: what happened to one request body for TikTok (:class:`TikTokRequest`): the
  results it settles (``indices``) and its entry of ``requests[]``, whose ``status`` is
  ``would_send`` (dry run: the events keep their result), ``sent``, ``queued`` or ``failed``
  (with ``error``, ``code`` and ``message``, written into its events' results too).
- *queued*: kept for later delivery: TikTok or Secret Manager stayed unavailable, and the
  request body was published to Pub/Sub (``TIKTOK_RETRY_TOPIC``), which hands it back to the
  function until TikTok takes it. Nothing more for the sender to do.
- *went through*: an event that is ``sent``, ``would_send``, ``queued`` or ``skipped``: nothing
  more for the sender to do about it.
- *refused*: ``failed`` because TikTok said no for good (``error`` is ``refused``).
- *unavailable*: ``failed`` because TikTok or Secret Manager could not be reached in time (and
  the request could not be queued); the sender should send the whole request again (event ids
  are stable, TikTok drops repeats).
- *misconfigured*: ``failed`` because the operator must set something (an id, a token).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tiktok_mapper import match

STATUSES = ("sent", "would_send", "queued", "skipped", "rejected", "failed")
WENT_THROUGH = frozenset({"sent", "would_send", "queued", "skipped"})
FAILURE_KEYS = ("error", "code", "message")  # what a failed request writes into its events


@dataclass(frozen=True, slots=True)
class TikTokRequest:
    indices: Sequence[int]  # the results of its events
    entry: dict[str, Any]  # its line of requests[]

    def settles(self) -> dict[str, Any]:
        """What this request writes into each of its events' results (nothing in dry run)."""
        status = self.entry["status"]
        if status == "would_send":
            return {}
        if status != "failed":
            return {"status": status}
        found = {key: self.entry[key] for key in FAILURE_KEYS if key in self.entry}
        return {"status": "failed", **found}


def settled(
    results: list[dict[str, Any]], requests: Sequence[TikTokRequest]
) -> list[dict[str, Any]]:
    """The results with each request's outcome written into copies of its events' results; the
    list itself when no request changes any (a dry run that fits)."""
    final = results
    for request in requests:
        change = request.settles()
        if not change:
            continue
        if final is results:
            final = list(results)
        for index in request.indices:
            final[index] = {**results[index], **change}
    return final


def answer(
    results: list[dict[str, Any]],
    requests: Sequence[TikTokRequest],
    dry_run: bool,
    payloads: list[dict[str, Any]] | None = None,
    warnings: list[str] | None = None,
    match_keys: Sequence[tuple[int, tuple[str, ...]]] = (),
) -> dict[str, Any]:
    """The answer; ``warnings`` are about the request as a whole (said once, not per event).

    ``match`` counts the match keys (``match_keys``: index and user fields of each mapped
    event) of the events sent, queued or that would be sent: how many carried a key, never
    which."""
    final = settled(results, requests)
    counts = Counter(result["status"] for result in final)
    carried = [
        (index, fields)
        for index, fields in match_keys
        if final[index]["status"] in {"sent", "would_send", "queued"}
    ]
    body: dict[str, Any] = {"dry_run": dry_run, "received": len(final)}
    body.update((status, counts[status]) for status in STATUSES)
    if warnings:
        body["warnings"] = warnings
    body["match"] = match.summary(carried)
    body["results"] = final
    body["requests"] = [request.entry for request in requests]
    if payloads is not None:
        body["payloads"] = payloads
    return body


def http_status(answer: dict[str, Any]) -> int:
    """The first that applies to an :func:`answer`: 503, 500, 400, 502, 207, 202, 200
    (CONTRACT §2; 202: every event went through and some are queued)."""
    errors = {r.get("error") for r in answer["results"] if r["status"] == "failed"}
    went_through = sum(answer[status] for status in WENT_THROUGH)
    if "unavailable" in errors:
        return 503
    if "misconfigured" in errors:
        return 500
    if answer["received"] and answer["rejected"] == answer["received"]:
        return 400
    if "refused" in errors and not went_through:
        return 502
    if answer["rejected"] or "refused" in errors:
        return 207
    if answer["queued"]:
        return 202
    return 200
