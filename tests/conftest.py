"""Shared test set-up: no network but loopback, no metadata-server probe, a fresh environment.

The guard variables are set before anything imports a Google library (google.auth reads them at
import), and are handed to every server a test starts as a subprocess (see ``GUARD_ENV``).
"""

from __future__ import annotations

import os

GUARD_ENV = {
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
}
os.environ.update(GUARD_ENV)

import json  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from service.settings import SETTINGS as SERVICE_SETTINGS  # noqa: E402
from tiktok_mapper.pipeline import SETTINGS as MAPPING_SETTINGS  # noqa: E402

# Property tests: "ci" (the default) is derandomized, so every run tries the same examples and a
# failure reproduces; HYPOTHESIS_PROFILE=thorough searches longer, with fresh examples each run.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", deadline=None, max_examples=2000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Every variable the function reads, from its own tables: cleared before each test so the
# machine's own settings (a developer's TIKTOK_ACCESS_TOKEN, say) never leak into a test.
FUNCTION_VARIABLES = tuple(row[0] for row in (*MAPPING_SETTINGS, *SERVICE_SETTINGS))
# A complete configuration: every event source has its id.
COMPLETE = {
    "TIKTOK_PIXEL_ID": "CPIXEL0000000000000A",
    "TIKTOK_APP_ID": "7000000000000000001",
    "TIKTOK_OFFLINE_EVENT_SET_ID": "OFFLINE000000000001",
    "TIKTOK_CRM_EVENT_SET_ID": "CRM0000000000000001",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in FUNCTION_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """A test client of the real entry point, configured by environment variables."""
    import functions_framework

    def make(**environment: str) -> Any:
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        app = functions_framework.create_app("tiktok_events", str(ROOT / "main.py"))
        return app.test_client()

    return make


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    """The entry point with a complete configuration, in dry run."""
    return make_client(**COMPLETE, DRY_RUN="true")


def post(client: Any, path: str, body: Any, **kwargs: Any) -> Any:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    kwargs.setdefault("content_type", "application/json")
    return client.post(path, data=data, **kwargs)
