"""Peak memory of one instance under the worst request mix, at the deployed concurrency.

Words used here:

- *instance*: the real server (functions-framework, gunicorn with ``THREADS`` threads, as
  ``deploy.sh`` starts it) in a subprocess, live against the loopback TikTok fake, which
  answers after ``TIKTOK_DELAY`` seconds so that requests overlap as they do in production.
- *worst mix*: ``THREADS`` senders at once, each posting the worst bodies of ``bench.worst``
  (largest memory first) and a body of 32 MiB without the caller key, twice over.
- *peak*: the largest resident memory (``VmHWM``) of the server's processes, with glibc's
  malloc arenas capped at 2 as deployed (``MALLOC_ARENA_MAX``), and without the cap: each
  thread's arena otherwise keeps freed memory of its own.

Run by ``make bench``; prints one line per mix for the README's sizing arithmetic.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.worst import worst_bodies  # noqa: E402
from tests.fakes.server import Reply  # noqa: E402
from tests.fakes.tiktok import TOKEN, FakeTikTok, coded  # noqa: E402
from tests.process import function_process, peak_memory  # noqa: E402

GUARD_ENV = {
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
}
KEY = "bench-caller-key-0001"
TIKTOK_DELAY = 0.5


def post(base: str, route: str, body: bytes, key: str | None) -> int:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        if key:
            headers["X-Api-Key"] = key
        # the server may answer (401) and close before the body is all sent
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request("POST", route, body, headers)
        return connection.getresponse().status
    finally:
        connection.close()


def peak_under_mix(threads: int, arenas: str | None, log: Path) -> tuple[int, int, dict[int, int]]:
    """(idle peak, peak under the mix, HTTP statuses counted) for one configuration."""
    bodies = sorted(worst_bodies().values(), key=lambda item: -len(item[1]))
    unauthenticated = b"[" + b" " * (32 * 2**20)
    with FakeTikTok() as tiktok:
        tiktok.always = Reply(200, coded(0).body, delay=TIKTOK_DELAY)
        environment = {
            **GUARD_ENV, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TIKTOK_PIXEL_ID": "CBENCHPIXEL00000000X", "TIKTOK_APP_ID": "7000000000000000001",
            "TIKTOK_ACCESS_TOKEN": TOKEN, "TIKTOK_API_URL": tiktok.endpoint, "API_KEY": KEY,
            "THREADS": str(threads), "LOG_LEVEL": "ERROR", "TIKTOK_RETRY_DEADLINE_SECONDS": "20",
        }  # fmt: skip
        if arenas is not None:  # glibc's malloc arenas: deploy.sh sets MALLOC_ARENA_MAX=2
            environment["MALLOC_ARENA_MAX"] = arenas
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        with function_process(environment, log) as (base, process):
            idle = peak_memory(process)

            def sender(number: int) -> None:
                for round_ in range(2):
                    route, body = bodies[(number + round_) % len(bodies)]
                    plan = [(route, body, KEY), ("/commandersact", unauthenticated, None)]
                    for route, body, key in plan:
                        status = post(base, route, body, key)
                        with lock:
                            statuses[status] = statuses.get(status, 0) + 1

            senders = [threading.Thread(target=sender, args=(n,)) for n in range(threads)]
            for thread in senders:
                thread.start()
            for thread in senders:
                thread.join()
            return idle, peak_memory(process), statuses


def main() -> None:
    log = Path(tempfile.gettempdir()) / "bench-memory.log"
    for arenas in ("2", None):
        idle, peak, statuses = peak_under_mix(20, arenas, log)
        shown = "MALLOC_ARENA_MAX=2 (as deployed)" if arenas else "glibc's default arenas"
        print(
            f"20 senders at once (THREADS=20), worst bodies and 32 MiB bodies without the key, "
            f"{shown}: peak {peak / 2**20:.0f} MiB (idle {idle / 2**20:.0f} MiB); "
            f"answers {dict(sorted(statuses.items()))}"
        )


if __name__ == "__main__":
    main()
