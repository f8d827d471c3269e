"""Delivery: posting the planned requests to the TikTok Events API and reading its answers.

Words used here: a *batch* is one planned request (``tiktok_mapper.pipeline.Batch``); its
*request entry* is what the caller reads in ``requests[]``. TikTok answers HTTP 200 with a JSON
``code``: 0 is success, 20001 partial success, anything else a refusal.
"""

from __future__ import annotations

from typing import Any

import requests

from service.settings import Settings
from tiktok_mapper.pipeline import Plan

TIMEOUT = (3.05, 10)  # (connect, read) seconds


class Delivery:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = requests.Session()

    def deliver(self, plan: Plan) -> list[dict[str, Any]]:
        """Send every batch; mark each event ``sent`` or ``failed``; return the request entries."""
        entries = []
        for batch in plan.batches:
            entry = batch.entry()
            token = self.settings.access_token
            if not token:
                outcome = {
                    "status": "failed",
                    "error": "misconfigured",
                    "message": "TIKTOK_ACCESS_TOKEN_SECRET is not set",
                }
            else:
                outcome = self._post(batch.body(), token)
            entry.update(outcome)
            entries.append(entry)
            for index in batch.indices:
                result = plan.results[index]
                result["status"] = outcome["status"]
                result.update(
                    {k: v for k, v in outcome.items() if k in {"error", "code", "message"}}
                )
        return entries

    def _post(self, body: dict[str, Any], token: str) -> dict[str, Any]:
        try:
            response = self.session.post(
                self.settings.api_url, json=body, headers={"Access-Token": token}, timeout=TIMEOUT
            )
            answer = response.json()
        except (requests.RequestException, ValueError):
            return {"status": "failed", "error": "unavailable", "message": "TikTok did not answer"}
        code = answer.get("code") if isinstance(answer, dict) else None
        if response.ok and code in (0, 20001):
            return {"status": "sent", "request_id": answer.get("request_id")}
        if response.status_code == 429 or response.status_code >= 500:
            return {"status": "failed", "error": "unavailable", "message": "TikTok is unavailable"}
        return {
            "status": "failed",
            "error": "refused",
            "code": code,
            "message": str(answer.get("message", ""))[:500],
        }
