"""The Pub/Sub emulator, started from the tests: its ``cloud-pubsub-emulator`` script (Java 17)
on a free loopback port, never through ``gcloud``.

Words used here: the *emulator* serves Pub/Sub's REST API over plain HTTP, pushes to loopback
endpoints and pushes again about a second after a refusal; it is one process group (the script
starts a Java child), stopped by its id. Tests talk to it with plain ``requests`` here, apart
from the function's own client, so a fault in that client cannot hide itself. Two habits of
the emulator as installed: it does not take HTTP 202 as an acknowledgement (Pub/Sub does), and
with a ``retryPolicy`` it lost messages refused together, so test subscriptions have none.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

from tests.process import free_port

PROJECT = "test-project"
SCRIPT = "platform/pubsub-emulator/bin/cloud-pubsub-emulator"
SDK_HOMES = ("/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "~/google-cloud-sdk")
START_TIMEOUT = 60.0


def find_script() -> Path | None:
    """The emulator's start script: ``PUBSUB_EMULATOR_SCRIPT``, else under a Google Cloud SDK."""
    given = os.environ.get("PUBSUB_EMULATOR_SCRIPT")
    candidates = [Path(given)] if given else []
    candidates += [Path(home).expanduser() / SCRIPT for home in SDK_HOMES]
    return next((path for path in candidates if path.is_file()), None)


MISSING = (
    "the Pub/Sub emulator is not installed: install the Debian package "
    "google-cloud-cli-pubsub-emulator (it needs Java 17: openjdk-17-jre-headless), or set "
    f"PUBSUB_EMULATOR_SCRIPT to its cloud-pubsub-emulator script (looked under {SDK_HOMES})"
)


class Emulator:
    def __init__(self, log: Path) -> None:
        script = find_script()
        if script is None or shutil.which("java") is None:
            raise RuntimeError(MISSING)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.base = f"http://{self.host}/v1"
        self.log = log
        with log.open("w") as stream:
            self.process = subprocess.Popen(
                [str(script), "--host=127.0.0.1", f"--port={self.port}"],
                stdout=stream, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.session = requests.Session()
        try:
            self.wait_until_up()
        except BaseException:
            self.close()
            raise

    def wait_until_up(self) -> None:
        give_up = time.monotonic() + START_TIMEOUT
        while time.monotonic() < give_up:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Pub/Sub emulator stopped: see {self.log}")
            try:
                self.session.get(f"{self.base}/projects/{PROJECT}/topics", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError(f"the Pub/Sub emulator did not start in time: see {self.log}")

    def close(self) -> None:
        """Stop the script and its Java child: the whole process group, by its id."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.session.request(method, f"{self.base}/{path}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def topic(self, name: str) -> str:
        full = f"projects/{PROJECT}/topics/{name}"
        self.call("PUT", full, {})
        return full

    def subscription(
        self,
        name: str,
        topic: str,
        push: str | None = None,
        dead_letter: str | None = None,
        attempts: int = 5,
        ack_deadline: int = 30,
    ) -> str:
        """A subscription (push when ``push`` is an endpoint) without a retry policy."""
        full = f"projects/{PROJECT}/subscriptions/{name}"
        body: dict[str, Any] = {"topic": topic, "ackDeadlineSeconds": ack_deadline}
        if push:
            body["pushConfig"] = {"pushEndpoint": push}
        if dead_letter:
            body["deadLetterPolicy"] = {
                "deadLetterTopic": dead_letter, "maxDeliveryAttempts": attempts,
            }  # fmt: skip
        self.call("PUT", full, body)
        return full

    def publish(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        message = {"data": base64.b64encode(data).decode(), "attributes": attributes}
        return str(self.call("POST", f"{topic}:publish", {"messages": [message]})["messageIds"][0])

    def pull(self, subscription: str, most: int = 100) -> list[dict[str, Any]]:
        """What is waiting now (without waiting for more), acknowledged."""
        body = {"maxMessages": most, "returnImmediately": True}
        received = self.call("POST", f"{subscription}:pull", body).get("receivedMessages", [])
        if received:
            ack_ids = [one["ackId"] for one in received]
            self.call("POST", f"{subscription}:acknowledge", {"ackIds": ack_ids})
        return [
            {**one["message"], "data": base64.b64decode(one["message"].get("data", ""))}
            for one in received
        ]

    def peek(self, subscription: str, most: int = 100) -> list[dict[str, Any]]:
        """What is waiting now, left waiting (pulled, then given back at once)."""
        body = {"maxMessages": most, "returnImmediately": True}
        received = self.call("POST", f"{subscription}:pull", body).get("receivedMessages", [])
        if received:
            release = {"ackIds": [one["ackId"] for one in received], "ackDeadlineSeconds": 0}
            self.call("POST", f"{subscription}:modifyAckDeadline", release)
        return [one["message"] for one in received]

    def wait_for(self, subscription: str, count: int, seconds: float) -> list[dict[str, Any]]:
        """Pull until ``count`` messages came, or ``seconds`` passed."""
        found: list[dict[str, Any]] = []
        give_up = time.monotonic() + seconds
        while len(found) < count and time.monotonic() < give_up:
            found += self.pull(subscription)
            if len(found) < count:
                time.sleep(0.2)
        return found
