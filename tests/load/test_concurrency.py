"""One TikTok client (one urllib3 connection pool) shared by 32 threads, as gunicorn's threads
share it: every thread gets the answer to its own request.

The token cache under 64 threads is ``tests/delivery/test_secret_manager.py``
(``test_64_threads_wanting_the_value_on_a_cold_start_make_one_fetch``); both caches under the real server's
threads are checked by the load test (one fetch per secret for the whole run).
"""

from __future__ import annotations

import threading

from service.retry import Backoff
from service.tiktok import TikTokClient
from tests.fakes.tiktok import TOKEN, FakeTikTok, Faults

THREADS = 32
SENDS = 8


def test_32_threads_sharing_one_client_each_get_their_own_answer():
    with FakeTikTok() as tiktok:
        # Slow answers keep many connections of the pool busy at once; a few are dropped, so
        # some threads retry while others are answered (rare enough never to exhaust a retry).
        tiktok.faults = Faults(slow=0.3, dropped=0.05, slow_seconds=0.05)
        tiktok.bad_event_ids = {f"T{thread}-{send}" for thread in range(0, THREADS, 4)
                                for send in range(SENDS)}  # fmt: skip
        client = TikTokClient(tiktok.endpoint, Backoff.within(2.0), read_timeout=1.0)
        start = threading.Barrier(THREADS)
        outcomes: dict[str, str] = {}

        def worker(thread: int) -> None:
            start.wait()
            for send in range(SENDS):
                event_id = f"T{thread}-{send}"
                body = {"event_source": "web", "event_source_id": "CPIXEL",
                        "data": [{"event": "Purchase", "event_id": event_id}]}  # fmt: skip
                outcome = client.send(body, TOKEN, client.backoff.deadline(2.0))
                outcomes[event_id] = outcome.kind

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    refused = {event_id for event_id, kind in outcomes.items() if kind == "refused"}
    sent = {event_id for event_id, kind in outcomes.items() if kind == "sent"}
    assert refused == tiktok.bad_event_ids
    assert len(sent) == THREADS * SENDS - len(refused)
    assert {key[2] for key in tiktok.delivered} == sent
    assert tiktok.faults.injected["slow"] > 0
