"""A loopback fake of Secret Manager's REST API: ``GET /v1/{version name}:access`` only.

It answers like Google: ``{"name": "projects/P/secrets/S/versions/N", "payload": {"data":
base64, "dataCrc32c": "<decimal>"}}``, and errors in Google's envelope ``{"error": {"code",
"message", "status"}}`` (404 ``NOT_FOUND`` for an unknown secret, 403 ``PERMISSION_DENIED`` for a
forbidden one, 503 ``UNAVAILABLE`` while :attr:`down`). Versions count from 1; ``latest`` is
the newest. Project ids in requests are used as given (Google would also accept numbers).

A test scripts other answers to access requests (HTML from a proxy, JSON of another shape …)
with :meth:`then`, one per request, or every answer with :attr:`always`.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict, deque

from tests.fakes.server import LoopbackServer, Reply, Seen

ACCESS = re.compile(r"^/v1/(projects/[^/]+/secrets/([^/]+))/versions/([^/:?]+):access(\?.*)?$")
STATUS_NAMES = {403: "PERMISSION_DENIED", 404: "NOT_FOUND", 500: "INTERNAL", 503: "UNAVAILABLE"}


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as Google sends it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def error(status: int, message: str) -> Reply:
    return Reply(
        status, {"error": {"code": status, "message": message, "status": STATUS_NAMES[status]}}
    )


class FakeSecretManager(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[str, list[bytes]] = defaultdict(list)  # "projects/P/secrets/S" → values
        self.forbidden: set[str] = set()
        self.down = False  # answer 503 UNAVAILABLE to everything
        self.delay = 0.0  # seconds before each answer
        self.script: deque[Reply] = deque()
        self.always: Reply | None = None

    def add_version(self, project: str, secret: str, value: str | bytes) -> str:
        """Store a new version (a rotation); returns its full name."""
        with self.lock:
            versions = self.versions[f"projects/{project}/secrets/{secret}"]
            versions.append(value if isinstance(value, bytes) else value.encode())
            return f"projects/{project}/secrets/{secret}/versions/{len(versions)}"

    def accesses(self) -> list[Seen]:
        return [request for request in self.seen if ACCESS.match(request.path)]

    def then(self, *replies: Reply) -> FakeSecretManager:
        self.script.extend(replies)
        return self

    def answer(self, request: Seen) -> Reply:
        reply = self.scripted(request) or self.access(request)
        reply.delay = max(reply.delay, self.delay)
        return reply

    def scripted(self, request: Seen) -> Reply | None:
        if not ACCESS.match(request.path):
            return None
        with self.lock:
            return self.always or (self.script.popleft() if self.script else None)

    def access(self, request: Seen) -> Reply:
        match = ACCESS.match(request.path)
        if request.method != "GET" or not match:
            return error(404, "no such method")
        if self.down:
            return error(503, "The service is currently unavailable.")
        secret, secret_id, version = match.group(1), match.group(2), match.group(3)
        if secret_id in self.forbidden:
            return error(403, f"Permission 'secretmanager.versions.access' denied for {secret}")
        with self.lock:
            values = list(self.versions.get(secret, ()))
        number = len(values) if version == "latest" else int(version) if version.isdigit() else 0
        if not 0 < number <= len(values):
            return error(404, f"Secret Version [{secret}/versions/{version}] not found.")
        data = values[number - 1]
        return Reply(
            200,
            {
                "name": f"{secret}/versions/{number}",
                "payload": {
                    "data": base64.b64encode(data).decode(),
                    "dataCrc32c": str(crc32c(data)),
                },
            },
        )
