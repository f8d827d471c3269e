"""A loopback HTTP server in a thread, shared by the fakes.

Words used here: a *reply* is what the fake sends back: HTTP status, JSON (or raw bytes) body,
extra headers and a delay before answering (to play a slow service); a *dropped* reply is no
reply at all: the fake closes the connection instead (a crash or a network cut after the
request arrived). A *streamed* reply has an iterator of byte pieces for a body, sent one after
the other (``pause`` seconds apart): chunked, unless the reply sets its own ``Content-Length``;
it ends when the pieces do or the client hangs up. A *trickled* reply is sent one byte at a
time, status line included, ``trickle`` seconds apart. :attr:`LoopbackServer.written` counts
the body bytes the fake managed to send; :attr:`LoopbackServer.read_pause` makes it read each
request body a KiB at a time, that many seconds apart (a peer slow to take what we send). Given
a TLS context, the server speaks HTTPS.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)  # the client hung up


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON value, bytes sent as they are, or an iterator of bytes (streamed)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    pause: float = 0.0  # seconds between the pieces of a streamed body
    trickle: float = 0.0  # seconds between the bytes of a trickled reply

    def head(self, length: int | None) -> bytes:
        """Status line and headers; ``length`` of the body, ``None`` when streamed."""
        headers = dict(self.headers)
        if not isinstance(self.body, bytes | Iterator):
            headers.setdefault("Content-Type", "application/json")
        if length is not None:
            headers.setdefault("Content-Length", str(length))
        elif "Content-Length" not in headers:
            headers["Transfer-Encoding"] = "chunked"
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {self.status} {phrase}"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Listener(ThreadingHTTPServer):
    request_queue_size = 128  # the stdlib's 5 refuses connections when many threads connect at once


class LoopbackServer:
    """Subclasses answer with :meth:`answer`; use as a context manager or call :meth:`close`."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.written = 0  # body bytes sent
        self.read_pause = 0.0  # seconds between the KiBs of a request body, when read slowly
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    request = Seen(
                        self.command, self.path, dict(self.headers.items()), self.read_body(length)
                    )
                except GONE:
                    self.close_connection = True
                    return
                with fake.lock:
                    fake.seen.append(request)
                reply = fake.answer(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                try:
                    self.send_reply(reply)
                except GONE:
                    self.close_connection = True  # the client gave up waiting (a timeout)

            def read_body(self, length: int) -> bytes:
                if not fake.read_pause:
                    return self.rfile.read(length)
                pieces = []
                while length > 0:
                    pieces.append(self.rfile.read(min(1024, length)))
                    if not pieces[-1]:
                        raise ConnectionAbortedError  # the client hung up before the end
                    length -= len(pieces[-1])
                    time.sleep(fake.read_pause)
                return b"".join(pieces)

            def send_reply(self, reply: Reply) -> None:
                if isinstance(reply.body, Iterator):
                    self.send_streamed(reply)
                    return
                raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
                raw = raw if isinstance(raw, bytes) else raw.encode()
                whole = reply.head(len(raw)) + raw
                if not reply.trickle:
                    self.wfile.write(whole)
                    fake.count(len(raw))
                    return
                self.close_connection = True  # a trickled reply is the connection's last
                for index in range(len(whole)):
                    self.wfile.write(whole[index : index + 1])
                    time.sleep(reply.trickle)

            def send_streamed(self, reply: Reply) -> None:
                self.close_connection = True
                chunked = "Content-Length" not in reply.headers
                self.wfile.write(reply.head(None))
                for piece in reply.body:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                    fake.count(len(piece))
                    time.sleep(reply.pause)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = handle_any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = Listener(("127.0.0.1", 0), Handler)
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, request: Seen) -> Reply:
        raise NotImplementedError

    def count(self, sent: int) -> None:
        with self.lock:
            self.written += sent

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
