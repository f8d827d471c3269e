"""Fixtures for delivery tests: the loopback fakes, and the entry point wired to them.

Words used here: *live* means not in dry run: the function reads its token from the fake
Secret Manager (through the real client library) and posts to the fake TikTok. The retry
deadline is 1 s so that outages turn into answers quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import COMPLETE
from tests.fakes.secret_manager import FakeSecretManager
from tests.fakes.tiktok import TOKEN, FakeTikTok

PROJECT = "test-project"
TOKEN_SECRET = "tiktok-token"


class FakeClock:
    """A monotonic clock whose sleep moves it on at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def secret_manager() -> Iterator[FakeSecretManager]:
    with FakeSecretManager() as fake:
        fake.add_version(PROJECT, TOKEN_SECRET, TOKEN)
        yield fake


@pytest.fixture
def tiktok() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        yield fake


def live_environment(tiktok: FakeTikTok, secret_manager: FakeSecretManager) -> dict[str, str]:
    return {
        **COMPLETE,
        "TIKTOK_API_URL": tiktok.endpoint,
        "SECRET_MANAGER_ENDPOINT": secret_manager.url,
        "TIKTOK_ACCESS_TOKEN_SECRET": TOKEN_SECRET,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TIKTOK_RETRY_DEADLINE_SECONDS": "1",
    }


@pytest.fixture
def make_live(
    make_client: Callable[..., Any], tiktok: FakeTikTok, secret_manager: FakeSecretManager
) -> Callable[..., Any]:
    """A test client of the real entry point, live against the fakes; keywords add variables."""

    def make(**environment: str) -> Any:
        return make_client(**{**live_environment(tiktok, secret_manager), **environment})

    return make


@pytest.fixture
def live(make_live: Callable[..., Any]) -> Any:
    return make_live()


def purchase(order: str, **extra: Any) -> dict[str, Any]:
    """A Commanders Act purchase whose TikTok ``event_id`` is ``order``."""
    return {"event_name": "purchase", "id": order, "value": 10, "currency": "EUR", **extra}


# Personal values, network identifiers and secrets that must never reach a log line.
PERSONAL = {
    "email": "jane.doe@example.com",
    "phone": "+33612345678",
    "user id": "USER-884422",
    "ip": "203.0.113.77",
    "user agent": "Mozilla/5.0 (PrivateBrowser 9)",
    "click id": "E.C.P.CLICKID998877",
    "ttp cookie": "TTPCOOKIE554433",
}


def personal_event(order: str) -> dict[str, Any]:
    """A purchase carrying every value of :data:`PERSONAL` where Commanders Act puts it."""
    return purchase(
        order,
        user={"email": PERSONAL["email"], "phone": PERSONAL["phone"], "id": PERSONAL["user id"]},
        context={
            "device": {
                "ip": PERSONAL["ip"],
                "user_agent": PERSONAL["user agent"],
                "cookie": f"ttclid={PERSONAL['click id']}; _ttp={PERSONAL['ttp cookie']}",
            },
            "page": {"url": f"https://shop.example/thanks?ttclid={PERSONAL['click id']}"},
        },
    )
