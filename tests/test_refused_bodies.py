"""A body the function refuses before reading it is never read into memory, on the real server.

functions-framework reads whatever is left of a request body after the answer (to spare the
sender a reset connection), which would put a refused body in memory whole; the function's
refusals are streamed answers, which it leaves alone. Measured on the real server (gunicorn
with threads) by its peak resident memory.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import COMPLETE, GUARD_ENV
from tests.process import function_process, peak_memory

LARGE = 96 * 1024 * 1024  # bytes sent in each refused body
CHUNK = b"[" + b" " * (1024 * 1024 - 1)


@pytest.fixture
def server(tmp_path_factory) -> Iterator[tuple[str, object]]:
    """A new server for each case: peak memory only ever grows, so cases must not share one."""
    environment = {**GUARD_ENV, **COMPLETE, "DRY_RUN": "true", "API_KEY": "caller-key-0001"}
    environment["PATH"] = "/usr/bin:/bin"
    log = tmp_path_factory.mktemp("refused") / "server.log"
    with function_process(environment, log) as (base, process):
        yield base, process


def send(base: str, headers: dict[str, str], chunked: bool) -> int:
    """POST :data:`LARGE` bytes of a JSON-looking body; the answer's status."""
    where = urlsplit(base)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        headers = {"Content-Type": "application/json", **headers}
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(LARGE)
        connection.putrequest("POST", "/commandersact")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            for _ in range(LARGE // len(CHUNK)):
                if chunked:
                    connection.send(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                else:
                    connection.send(CHUNK)
            if chunked:
                connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close once it has answered: the answer is still there
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("case", "headers", "chunked", "status"),
    [
        ("no caller key", {}, False, 401),
        ("wrong caller key", {"X-Api-Key": "wrong"}, False, 401),
        ("over MAX_BODY_BYTES, with its length", {"X-Api-Key": "caller-key-0001"}, False, 413),
        ("over MAX_BODY_BYTES, chunked", {"X-Api-Key": "caller-key-0001"}, True, 413),
    ],
)
def test_a_refused_body_is_not_read_into_memory(server, case, headers, chunked, status):
    base, process = server
    before = peak_memory(process)
    assert send(base, headers, chunked) == status, case
    grown = peak_memory(process) - before
    assert grown < LARGE // 4, f"{case}: the server grew by {grown // 2**20} MiB"
