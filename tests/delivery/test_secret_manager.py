"""Reading secrets through the real google-cloud-secret-manager client (REST) from the loopback
fake: names, caching, single flight, errors, outages, stale values and invalidation."""

from __future__ import annotations

import socket
import threading

import pytest

from service.logs import Logger
from service.retry import Backoff
from service.secret_manager import (
    QUIET_AFTER_FAILURE,
    STALE_FOR,
    CachedSecret,
    Fixed,
    Pair,
    SecretError,
    SecretManager,
    Secrets,
    secret,
)
from tests.delivery.conftest import PROJECT, TOKEN_SECRET
from tests.fakes.tiktok import TOKEN

TTL = 600
THREADS = 64
VARIABLE = "TIKTOK_ACCESS_TOKEN_SECRET"


@pytest.fixture
def manager(secret_manager, clock):
    return SecretManager(
        secret_manager.url, Backoff.within(1.0, clock=clock, sleep=clock.sleep), deadline=1.0
    )


def secrets(manager, project=PROJECT):
    return Secrets(manager, project, TTL, Logger())


def cached(manager, clock, value=TOKEN_SECRET, project=PROJECT):
    made = secret(Pair("TIKTOK_ACCESS_TOKEN", None, VARIABLE, value), secrets(manager, project))
    if isinstance(made, CachedSecret):
        made.clock = clock
    return made


def test_a_bare_id_reads_the_latest_version_in_the_project(secret_manager, manager, clock):
    assert cached(manager, clock).get() == TOKEN
    (access,) = secret_manager.accesses()
    assert access.path.startswith(
        f"/v1/projects/{PROJECT}/secrets/{TOKEN_SECRET}/versions/latest:access"
    )
    assert "Authorization" not in access.headers  # anonymous credentials against the fake


def test_a_full_version_name_is_read_as_given(secret_manager, manager, clock):
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "second-token")
    name = f"projects/{PROJECT}/secrets/{TOKEN_SECRET}/versions/1"
    assert cached(manager, clock, name, project=None).get() == TOKEN
    assert (
        cached(manager, clock, f"projects/{PROJECT}/secrets/{TOKEN_SECRET}").get() == "second-token"
    )


def test_surrounding_whitespace_of_a_stored_value_is_dropped(secret_manager, manager, clock):
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "  with-newline\n")
    assert cached(manager, clock).get() == "with-newline"


def test_the_value_in_the_environment_wins_and_nothing_is_fetched(secret_manager, manager):
    made = secret(Pair("TIKTOK_ACCESS_TOKEN", "from-env", VARIABLE, TOKEN_SECRET), secrets(manager))
    assert made == Fixed("from-env")
    assert made.get() == "from-env"
    assert secret_manager.accesses() == []


def test_nothing_configured_is_no_secret(manager):
    assert secret(Pair("API_KEY", None, "API_KEY_SECRET", None), secrets(manager)) is None


def test_a_value_is_reused_for_the_ttl_then_fetched_again(secret_manager, manager, clock):
    token = cached(manager, clock)
    assert token.get() == TOKEN
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "rotated-token")
    clock.now += TTL - 1
    assert token.get() == TOKEN
    assert len(secret_manager.accesses()) == 1
    clock.now += 1
    assert token.get() == "rotated-token"
    assert len(secret_manager.accesses()) == 2


def test_64_threads_wanting_the_value_on_a_cold_start_make_one_fetch(
    secret_manager, manager, clock
):
    secret_manager.delay = 0.3  # the first fetch is still under way when the others ask
    token = cached(manager, clock)
    start = threading.Barrier(THREADS)
    values: list[str] = []

    def worker():
        start.wait()
        values.append(token.get())

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert values == [TOKEN] * THREADS
    assert len(secret_manager.accesses()) == 1


def test_threads_waiting_on_a_failed_fetch_share_its_failure(secret_manager, manager, clock):
    secret_manager.down = True
    secret_manager.delay = 0.05  # the others queue up while the first fetch retries
    token = cached(manager, clock)
    start = threading.Barrier(THREADS)
    kinds: list[str] = []

    def worker():
        start.wait()
        try:
            token.get()
        except SecretError as error:
            kinds.append(error.kind)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert kinds == ["unavailable"] * THREADS
    assert len(secret_manager.accesses()) == len(clock.slept) + 1  # the retries of one fetch


@pytest.mark.parametrize("problem", ["missing", "forbidden"])
def test_a_missing_or_forbidden_secret_is_a_configuration_error(
    secret_manager, manager, clock, problem
):
    if problem == "forbidden":
        secret_manager.forbidden.add(TOKEN_SECRET)
    token = cached(manager, clock, TOKEN_SECRET if problem == "forbidden" else "no-such-secret")
    with pytest.raises(SecretError) as raised:
        token.get()
    assert raised.value.kind == "misconfigured"
    assert VARIABLE in raised.value.message
    assert len(secret_manager.accesses()) == 1  # not retried


def test_a_bare_id_without_a_project_is_a_configuration_error(manager, clock):
    with pytest.raises(SecretError) as raised:
        cached(manager, clock, project=None).get()
    assert raised.value.kind == "misconfigured"
    assert "GOOGLE_CLOUD_PROJECT" in raised.value.message


def test_an_outage_is_retried_within_the_deadline_then_reported(secret_manager, manager, clock):
    secret_manager.down = True
    with pytest.raises(SecretError) as raised:
        cached(manager, clock).get()
    assert raised.value.kind == "unavailable"
    assert len(secret_manager.accesses()) == len(clock.slept) + 1 > 2
    assert sum(clock.slept) < 1.0


def test_an_unreachable_endpoint_is_unavailable(clock):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    manager = SecretManager(
        f"http://127.0.0.1:{port}",
        Backoff.within(1.0, clock=clock, sleep=clock.sleep),
        deadline=1.0,
    )
    with pytest.raises(SecretError) as raised:
        cached(manager, clock).get()
    assert raised.value.kind == "unavailable"


def test_after_an_outage_the_next_read_recovers(secret_manager, manager, clock):
    token = cached(manager, clock)
    secret_manager.down = True
    with pytest.raises(SecretError):
        token.get()
    secret_manager.down = False
    assert token.get() == TOKEN


def test_an_expired_value_is_served_for_an_hour_while_refreshes_fail(
    secret_manager, manager, clock
):
    token = cached(manager, clock)
    assert token.get() == TOKEN
    secret_manager.down = True
    clock.now += TTL + 1
    assert token.get() == TOKEN  # refresh failed: the old value is served
    failed = len(secret_manager.accesses())
    clock.now += QUIET_AFTER_FAILURE / 2
    assert token.get() == TOKEN
    assert len(secret_manager.accesses()) == failed  # no new attempt right after a failure
    clock.now = clock.now - QUIET_AFTER_FAILURE / 2 + TTL + STALE_FOR  # past the hour
    with pytest.raises(SecretError) as raised:
        token.get()
    assert raised.value.kind == "unavailable"


def test_a_refused_value_is_dropped_and_the_next_read_fetches_again(secret_manager, manager, clock):
    token = cached(manager, clock)
    assert token.get() == TOKEN
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "rotated-token")
    token.invalidate("some-older-token")  # another thread's stale news: kept
    assert token.get() == TOKEN
    token.invalidate(TOKEN)
    assert token.get() == "rotated-token"
    assert len(secret_manager.accesses()) == 2


def test_a_refused_value_is_not_served_stale(secret_manager, manager, clock):
    token = cached(manager, clock)
    token.get()
    token.invalidate(TOKEN)
    secret_manager.down = True
    with pytest.raises(SecretError):
        token.get()


class _FailingCredentials(SecretManager):
    """A manager whose client fails as Google credentials do when they cannot be refreshed
    (no real credentials can run here: the metadata server is out of reach on purpose)."""

    def __init__(self, error, clock):
        super().__init__(None, Backoff.within(1.0, clock=clock, sleep=clock.sleep), deadline=1.0)
        self.error = error
        self.calls = 0

    def client(self, variable):
        manager = self

        class Client:
            def access_secret_version(self, **_):
                manager.calls += 1
                raise manager.error

        return Client()


def test_credentials_that_cannot_be_refreshed_in_time_are_an_outage(clock):
    from google.auth.exceptions import TransportError

    manager = _FailingCredentials(TransportError("metadata server unreachable"), clock)
    with pytest.raises(SecretError) as raised:
        cached(manager, clock).get()
    assert raised.value.kind == "unavailable"
    assert manager.calls > 1  # retried within the deadline


def test_credentials_refused_for_good_are_a_configuration_error(clock):
    from google.auth.exceptions import RefreshError

    manager = _FailingCredentials(RefreshError("invalid_grant"), clock)
    with pytest.raises(SecretError) as raised:
        cached(manager, clock).get()
    assert (raised.value.kind, manager.calls) == ("misconfigured", 1)
    assert VARIABLE in raised.value.message
