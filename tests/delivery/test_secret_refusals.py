"""A token TikTok refuses: Secret Manager is read again once per burst of refused requests, not
once per request; a confirmed refusal stays quiet for REFUSED_QUIET seconds; a new value that
is refused later is read again once; a rotation is still picked up at once."""

from __future__ import annotations

import threading
import time

from service.secret_manager import REFUSED_QUIET
from tests.conftest import post
from tests.delivery.conftest import PROJECT, TOKEN_SECRET, purchase
from tests.delivery.test_secret_values import cached
from tests.fakes.tiktok import TOKEN

BURST = 64
TTL = 600


def burst(live, count=BURST):
    """``count`` requests at once, each from its own test client; their HTTP statuses."""
    start = threading.Barrier(count)
    statuses: list[int] = []

    def worker(number):
        client = live.application.test_client()
        start.wait()
        statuses.append(post(client, "/commandersact", purchase(f"B-{number}")).status_code)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_revoked_token_is_read_again_once_for_a_burst(live, tiktok, secret_manager):
    tiktok.tokens = set()  # revoked, and nobody has added a version
    assert burst(live) == [502] * BURST
    assert len(secret_manager.accesses()) == 2  # the cold start's read, and one read again
    assert len(tiktok.posts()) == BURST  # not sent again: the value did not change


def test_a_rotation_during_a_burst_is_picked_up_with_one_read(live, tiktok, secret_manager):
    assert post(live, "/commandersact", purchase("warm")).status_code == 200
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "tt-live-token-0002")
    tiktok.tokens = {"tt-live-token-0002"}
    assert burst(live) == [200] * BURST
    assert len(secret_manager.accesses()) == 2


def test_a_new_value_refused_later_is_read_again_once(make_live, tiktok, secret_manager):
    live = make_live(TIKTOK_TOKEN_TTL_SECONDS="1")
    tiktok.tokens = set()
    assert burst(live, 16) == [502] * 16
    assert len(secret_manager.accesses()) == 2
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "tt-live-token-0002")  # refused too
    time.sleep(1.1)  # past the TTL: the next request reads the new version
    assert burst(live, 16) == [502] * 16
    assert len(secret_manager.accesses()) == 4  # the new version, and one read again
    sent = {p.headers["Access-Token"] for p in tiktok.posts()}
    assert sent == {TOKEN, "tt-live-token-0002"}


def test_a_confirmed_refusal_is_quiet_for_a_while(secret_manager, clock, capsys):
    token = cached(secret_manager, clock, TTL)
    assert token.get() == TOKEN
    token.invalidate(TOKEN)
    assert token.get() == TOKEN  # read again: unchanged, the refusal is confirmed
    assert len(secret_manager.accesses()) == 2
    for _ in range(50):
        token.invalidate(TOKEN)
        assert token.get() == TOKEN
    clock.now += REFUSED_QUIET - 1
    token.invalidate(TOKEN)
    assert token.get() == TOKEN
    assert len(secret_manager.accesses()) == 2
    clock.now += 1  # the quiet is over: one more read
    token.invalidate(TOKEN)
    token.invalidate(TOKEN)
    assert token.get() == TOKEN
    assert len(secret_manager.accesses()) == 3
    warnings = [line for line in capsys.readouterr().out.splitlines() if "still holds" in line]
    assert len(warnings) == 2
    assert all("TIKTOK_ACCESS_TOKEN_SECRET" in line and TOKEN not in line for line in warnings)


def test_a_confirmed_refusal_does_not_hide_a_new_value(secret_manager, clock):
    token = cached(secret_manager, clock, TTL)
    token.get()
    token.invalidate(TOKEN)
    token.get()  # confirmed
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "second")
    clock.now += TTL  # expired as usual
    assert token.get() == "second"
    token.invalidate("second")  # the new value is refused too: read again once
    assert token.get() == "second"
    token.invalidate("second")
    assert token.get() == "second"
    assert len(secret_manager.accesses()) == 4


def test_a_refusal_read_again_that_finds_a_new_value_confirms_nothing(secret_manager, clock):
    token = cached(secret_manager, clock, TTL)
    token.get()
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "second")
    token.invalidate(TOKEN)
    assert token.get() == "second"
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "third")
    token.invalidate("second")
    assert token.get() == "third"
    assert len(secret_manager.accesses()) == 3
