"""The real function in a subprocess: ``functions-framework`` (gunicorn with threads) on a free
loopback port, started the way Cloud Functions starts it.

Words used here: the *environment* is the whole environment of the subprocess: it inherits
nothing from the test's, so the caller passes the guard variables (``tests.conftest.GUARD_ENV``)
and loopback URLs itself; *started* means ``GET /health`` answered 200.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.conftest import ROOT

START_TIMEOUT = 30.0


def peak_memory(process: subprocess.Popen[bytes]) -> int:
    """The most resident memory a process of the server has had, in bytes (Linux's ``VmHWM``):
    gunicorn serves from a worker process forked from the one started, so its children count."""
    pids = [process.pid]
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        pids += [int(child) for child in (task / "children").read_text().split()]
    return max(_vm_hwm(pid) for pid in pids)


def _vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc: not Linux?")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(base: str, process: subprocess.Popen[bytes]) -> None:
    give_up = time.monotonic() + START_TIMEOUT
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped with code {process.returncode}")
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer /health in time")


@contextmanager
def function_server(environment: Mapping[str, str], log: Path) -> Iterator[str]:
    """The base URL of the started function; its stdout and stderr go to the file ``log``."""
    with function_process(environment, log) as (base, _process):
        yield base


@contextmanager
def function_process(
    environment: Mapping[str, str], log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`function_server`, with the server's process (to read its memory, say)."""
    port = free_port()
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--target", "tiktok_events",
             "--source", str(ROOT / "main.py"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=dict(environment), stdout=stream, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(base, process)
            yield base, process
        finally:
            process.terminate()
            process.wait(timeout=10)
