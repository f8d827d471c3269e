"""``make bench``: how close the function is to the cheapest work for the same input.

Every figure is a ratio against a baseline measured in the same run, on the same machine,
interleaved with it (a baseline round, then ours, again and again) so that load from elsewhere
touches both alike; each side keeps its best round. Words used here:

- *entry point*: ``tiktok_events`` of ``main.py`` served by functions-framework's Flask app,
  called through its test client (no socket), in dry run.
- *minimal function*: ``bench/minimal/main.py``, which parses the body and answers it back.
- *cold start*: from starting a new ``functions-framework`` process until its first answer.

Nothing here is a test: timings vary with the machine, so they are printed, never asserted
(the request count of the last row is exact).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUARD_ENV = {
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
}
SETTINGS = {"TIKTOK_PIXEL_ID": "CBENCHPIXEL00000000X", "TIKTOK_APP_ID": "7000000000000000001"}
os.environ.update(GUARD_ENV)
sys.path.insert(0, str(ROOT))

import functions_framework  # noqa: E402


def realistic_event(number: int) -> dict[str, Any]:
    """A Commanders Act purchase like the README's: two items, e-mail, phone, user, context."""
    return {
        "event_name": "purchase",
        "id": f"ORDER-{number:06d}",
        "value": 42.5,
        "currency": "EUR",
        "status": "in_progress",
        "user": {"id": f"customer-{number}", "email": f"Customer.{number}@Example.com",
                 "phone": "+33612345678", "consent_categories": ["1", "3"]},
        "items": [
            {"id": "SKU-TEE-RED-M", "quantity": 2, "product": {"name": "Organic tee", "price": 12.5,
             "category_1": "clothes", "brand": "Acme"}},
            {"id": "SKU-SOCKS", "quantity": 1, "product": {"name": "Socks", "price": 17.5}},
        ],
        "partners": {"tiktok": {"ttp": "2F7h37YkS1j57AYSKTI7IHhJPYH"}},
        "context": {
            "event_timestamp": 1744955619974,
            "page": {"url": "https://shop.example.fr/checkout/confirmation?ttclid=E.C.P.v3X9kQ2",
                     "referrer": "https://shop.example.fr/checkout/payment"},
            "device": {"ip": "203.0.113.7", "lang": "fr",
                       "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15"},
        },
    }  # fmt: skip


def best(rounds: int, *functions: Callable[[], Any]) -> list[float]:
    """The best wall time of each function over ``rounds`` interleaved rounds, in seconds."""
    times = [float("inf")] * len(functions)
    for _ in range(rounds):
        for index, function in enumerate(functions):
            started = time.perf_counter()
            function()
            times[index] = min(times[index], time.perf_counter() - started)
    return times


def client(source: Path, target: str, **environment: str) -> Any:
    os.environ.update(environment)
    return functions_framework.create_app(target, str(source)).test_client()


def post(test_client: Any, path: str, raw: bytes) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):  # our per-request log line
        answer = test_client.post(path, data=raw, content_type="application/json")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cold_start(source: Path, target: str, path: str, raw: bytes) -> float:
    """Seconds from starting a server process until it answers ``raw`` at ``path``."""
    port = free_port()
    environment = {**os.environ, **GUARD_ENV, **SETTINGS, "DRY_RUN": "true"}
    command = [sys.executable, "-m", "functions_framework", "--target", target,
               "--source", str(source), "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", raw, {"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    answer.read()
                    return time.perf_counter() - started
            except OSError:
                if time.perf_counter() - started > 30:
                    raise
                time.sleep(0.002)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    ours_source, minimal_source = ROOT / "main.py", ROOT / "bench" / "minimal" / "main.py"
    ours = client(ours_source, "tiktok_events", **SETTINGS, DRY_RUN="true")
    minimal = client(minimal_source, "echo")
    rows: list[tuple[str, str, str, float, str]] = []

    batch = json.dumps([realistic_event(i) for i in range(1000)]).encode()
    base, mine = best(
        15,
        lambda: json.dumps(json.loads(batch)),
        lambda: post(ours, "/commandersact", batch),
    )
    rows.append(("dry run, 1000 events, entry point", f"{mine * 1e3:.1f} ms",
                 f"json.loads + json.dumps: {base * 1e3:.1f} ms", mine / base, "≤ 4×"))  # fmt: skip

    one = json.dumps(realistic_event(1)).encode()
    base, mine = best(
        400, lambda: post(minimal, "/", one), lambda: post(ours, "/commandersact", one)
    )
    rows.append(("dry run, 1 event, entry point", f"{mine * 1e6:.0f} µs",
                 f"minimal function: {base * 1e6:.0f} µs", mine / base, "≤ 1.3×"))  # fmt: skip

    starts: dict[str, list[float]] = {"ours": [], "minimal": []}
    for _ in range(7):
        starts["minimal"].append(cold_start(minimal_source, "echo", "/", one))
        starts["ours"].append(cold_start(ours_source, "tiktok_events", "/commandersact", one))
    base, mine = statistics.median(starts["minimal"]), statistics.median(starts["ours"])
    rows.append(("cold start to first answer (median of 7)", f"{mine * 1e3:.0f} ms",
                 f"minimal function: {base * 1e3:.0f} ms", mine / base, "≤ 1.5×"))  # fmt: skip

    requests = len(post(ours, "/commandersact", batch).get_json()["requests"])
    rows.append(("TikTok requests for 1000 events of one pixel", str(requests), "–",
                 float(requests), "1"))  # fmt: skip

    tracemalloc.start()
    post(ours, "/commandersact", batch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    print("| measure | ours | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    for name, value, baseline, ratio, target in rows:
        shown = f"{ratio:.0f}" if name.startswith("TikTok requests") else f"{ratio:.2f}×"
        print(f"| {name} | {value} | {baseline} | {shown} | {target} |")
    print(f"\npeak memory of a 1000-event dry run (tracemalloc): {peak / 2**20:.1f} MiB "
          f"for a {len(batch) / 2**20:.1f} MiB body")  # fmt: skip
    print(throughput())
    worst_table(ours)
    from bench import memory

    memory.main()


def worst_table(ours: Any) -> None:
    """The worst bodies of ``bench/worst.py``: CPU of one request, ratio to the JSON floor of
    the same body, peak memory and answer size."""
    from bench.worst import measure

    def send(route: str, raw: bytes) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            return ours.post(route, data=raw, content_type="application/json")

    print("\n| worst body (dry run, entry point) | route | body | CPU | × JSON floor "
          "| peak memory | answer |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, route, size, cpu, ratio, peak, answer in measure(send):
        print(f"| {name} | `{route}` | {size / 2**20:.1f} MiB | {cpu:.2f} s | {ratio:.1f}× "
              f"| {peak:.0f} MiB | {answer / 2**20:.2f} MiB |")  # fmt: skip


def throughput(seconds: float = 5.0, senders: int = 8, per_request: int = 100) -> str:
    """Events per second through the real server (gunicorn) to the loopback TikTok fake."""
    from tests.fakes.tiktok import TOKEN, FakeTikTok

    with FakeTikTok() as tiktok:
        port = free_port()
        environment = {**os.environ, **GUARD_ENV, **SETTINGS, "TIKTOK_ACCESS_TOKEN": TOKEN,
                       "TIKTOK_API_URL": tiktok.endpoint, "LOG_LEVEL": "WARNING"}  # fmt: skip
        environment.pop("DRY_RUN", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--target", "tiktok_events",
             "--source", str(ROOT / "main.py"), "--host", "127.0.0.1", "--port", str(port)],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/commandersact"
            sent = [0] * senders
            stop = time.perf_counter() + 60
            while time.perf_counter() < stop:  # wait for the server
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.05)

            def sender(number: int, until: float) -> None:
                counter = 0
                while time.perf_counter() < until:
                    body = json.dumps([realistic_event(number * 10**7 + counter + i)
                                       for i in range(per_request)]).encode()  # fmt: skip
                    counter += per_request
                    request = urllib.request.Request(
                        url, body, {"Content-Type": "application/json"}
                    )
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        assert json.loads(answer.read())["sent"] == per_request
                    sent[number] += per_request

            started = time.perf_counter()
            until = started + seconds
            threads = [threading.Thread(target=sender, args=(n, until)) for n in range(senders)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=10)
        accepted = len(tiktok.accepted)
    return (
        f"through the real server to the loopback TikTok fake: {sum(sent) / elapsed:,.0f} "
        f"events/s ({senders} senders, {per_request} events a request, {elapsed:.1f} s; "
        f"the fake accepted {accepted:,} events)"
    )


if __name__ == "__main__":
    main()
