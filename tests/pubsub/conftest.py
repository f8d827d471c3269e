"""Fixtures for the Pub/Sub tests: one emulator for the session, fresh names for each test, and
the live entry point (``tests.delivery.conftest``) publishing to a retry topic on it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.delivery.conftest import (  # noqa: F401  (fixtures used by these tests)
    clock,
    live,
    make_live,
    secret_manager,
    tiktok,
)
from tests.pubsub.emulator import Emulator

NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    try:
        started = Emulator(tmp_path_factory.mktemp("pubsub") / "emulator.log")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield started
    started.close()


@pytest.fixture
def name() -> Callable[[str], str]:
    """A name no other test uses: ``name("retry")`` → ``retry-7``."""
    number = next(NUMBERS)
    return lambda stem: f"{stem}-{number}"


@pytest.fixture
def retry_topic(emulator: Emulator, name: Callable[[str], str]) -> str:
    return emulator.topic(name("retry"))


@pytest.fixture
def queue(emulator: Emulator, retry_topic: str, name: Callable[[str], str]) -> str:
    """A pull subscription on the retry topic: what the function queued can be read there."""
    return emulator.subscription(name("queue"), retry_topic)


@pytest.fixture
def durable(make_live: Callable[..., Any], emulator: Emulator, retry_topic: str) -> Any:  # noqa: F811  (the fixture imported above)
    """The live entry point with durable delivery to the retry topic on the emulator."""
    return make_live(TIKTOK_RETRY_TOPIC=retry_topic, PUBSUB_EMULATOR_HOST=emulator.host)
