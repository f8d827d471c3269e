"""The answer to the caller: counts, per-event results, requests, and the HTTP status.

Words used here:

- *went through*: an event that is ``sent``, ``would_send`` or ``skipped``: nothing more for the
  sender to do about it.
- *refused*: ``failed`` because TikTok said no for good (``error`` is ``refused``).
- *unavailable*: ``failed`` because TikTok or Secret Manager could not be reached in time; the
  sender should send the whole request again (event ids are stable, TikTok drops repeats).
- *misconfigured*: ``failed`` because the operator must set something (an id, a token).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tiktok_mapper import match

STATUSES = ("sent", "would_send", "skipped", "rejected", "failed")
MATCH_KEYS = "match_keys"  # what tiktok_mapper.pipeline keeps on a mapped event's result
WENT_THROUGH = frozenset({"sent", "would_send", "skipped"})


def answer(
    results: list[dict[str, Any]],
    requests: list[dict[str, Any]],
    dry_run: bool,
    payloads: list[dict[str, Any]] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The answer; ``warnings`` are about the request as a whole (said once, not per event).

    ``match`` counts the match keys of the events sent or that would be (taken out of their
    results here: the answer says how many events carried a key, never which)."""
    counts = Counter(result["status"] for result in results)
    carried = [
        (result["index"], keys)
        for result in results
        if (keys := result.pop(MATCH_KEYS, None)) is not None
        and result["status"] in {"sent", "would_send"}
    ]
    body: dict[str, Any] = {"dry_run": dry_run, "received": len(results)}
    body.update((status, counts[status]) for status in STATUSES)
    if warnings:
        body["warnings"] = warnings
    body["match"] = match.summary(carried)
    body["results"] = results
    body["requests"] = requests
    if payloads is not None:
        body["payloads"] = payloads
    return body


def http_status(answer: dict[str, Any]) -> int:
    """The first that applies to an :func:`answer`: 503, 500, 400, 502, 207, 200 (CONTRACT §2)."""
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
    return 200
