"""The pure core run as the function runs it in dry run, without the HTTP door: for the tests of
the core's behaviour (``tests/test_*_rules.py``), which ``make mutate`` runs against mutants.

Words used here:

- *environment*: the variables of the test configuration (``COMPLETE``: every event source has
  its id) with the test's own added, read by ``tiktok_mapper.pipeline.from_environment``.
- *dry run*: :func:`dry_run`: the body planned at the fixed time :data:`NOW`, then answered as
  ``service.app`` answers in dry run; the answer and the TikTok request bodies it would post.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import COMPLETE
from tiktok_mapper import pipeline, report

NOW = 1767225600.0  # 2026-01-01T00:00:00Z: the time of every dry run here


def dry_run(route: str, body: Any, **environment: str) -> tuple[dict[str, Any], list[Any]]:
    """The answer to ``body`` posted to ``route`` (``commandersact``, ``ga4``, ``tiktok``) and
    the request bodies it would post, as parsed JSON."""
    setup = pipeline.from_environment({**COMPLETE, **environment})
    source = pipeline.configure(setup)[route]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    plan = pipeline.plan_body(source, raw, setup.config, NOW)
    requests, payloads = pipeline.would_send(plan)
    answer = report.answer(
        plan.results, requests, True, warnings=plan.warnings, match_keys=plan.match_keys
    )
    return answer, [json.loads(payload) for payload in payloads]


def one(route: str, event: Any, **environment: str) -> dict[str, Any]:
    """The result of one event, with ``data``, the TikTok event it would send (if any)."""
    answer, payloads = dry_run(route, event, **environment)
    (result,) = answer["results"]
    if payloads:
        (payload,) = payloads
        (result["data"],) = payload["data"]
    return result
