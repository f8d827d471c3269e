"""The sandbox deploy.sh runs in for its tests: a ``gcloud`` that reaches the fake of
``tests/fake_gcloud.py``, and nothing else.

Words used here:

- *sandbox*: a temporary directory whose ``fake/gcloud`` is a small bash script (the *door*),
  and a PATH made of that directory plus symlinks to the few basic tools deploy.sh uses, and
  nothing else. The real Google Cloud SDK is installed on the development machines: with this
  PATH it cannot be found, and the proxy variables point at a closed loopback port, so even a
  call by absolute path could not reach the network. Every test checks the calls the fake
  recorded, so a gcloud call that did not reach the fake fails the test.
- *door*: it sends its working directory, stdin and arguments to the sandbox's *server* (a
  thread of the test process on a loopback port) and plays back the answer: stdout, stderr and
  the exit code. Bash's own ``/dev/tcp`` carries them, so a call costs a bash start, not a
  Python start (deploy.sh makes about 30 calls a run).
- *state*: the project as the fake sees it (``fresh_state``); tests set it before a run and read
  it after.
"""

from __future__ import annotations

import shutil
import socketserver
import subprocess
import threading
from pathlib import Path
from typing import Any

from tests.fake_gcloud import PROJECT, PROJECT_NUMBER, Fake, record

TOOLS = ("cat", "mktemp", "rm", "head", "od", "tr", "sleep")
DOOR = r"""#!/bin/bash
# The fake gcloud's door: the call goes to the test's server, the answer comes back.
export LC_ALL=C
stdin=""
if [[ ! -t 0 ]]; then
	stdin=$(cat; printf x)
	stdin=${stdin%x}
fi
exec 3<>/dev/tcp/127.0.0.1/PORT
printf '%s\0' "$PWD" "${#stdin}" "$#" "$@" >&3
printf '%s' "$stdin" >&3
IFS= read -r -d '' code <&3
IFS= read -r -d '' out <&3
IFS= read -r -d '' err <&3
printf '%s' "$out"
printf '%s' "$err" >&2
exit "$code"
"""


def fresh_state() -> dict[str, Any]:
    """A project where nothing of tiktok-events exists yet."""
    default_builder = f"serviceAccount:{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"
    return {
        "project": PROJECT,
        "account": "admin@example.com",
        "enabled_services": ["logging.googleapis.com", "monitoring.googleapis.com"],
        "service_accounts": [],
        "default_build_account": f"{PROJECT_NUMBER}-compute@developer.gserviceaccount.com",
        "project_roles": {default_builder: ["roles/cloudbuild.builds.builder"]},
        "secrets": {},
        "functions": {},
        "metrics": {},
        "dashboards": {},
        "policies": {},
    }


def read_field(stream: Any) -> str:
    field = bytearray()
    while (byte := stream.read(1)) not in (b"\0", b""):
        field += byte
    return field.decode()


class Sandbox:
    """The door, the server, the state, and a way to run deploy.sh (from ``root``) in them."""

    def __init__(self, tmp: Path, root: Path, guard_env: dict[str, str]) -> None:
        self.tmp = tmp
        self.root = root
        self.guard_env = guard_env
        self.state = fresh_state()
        self.log: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        sandbox = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                cwd, length, count = (read_field(self.rfile) for _ in range(3))
                args = [read_field(self.rfile) for _ in range(int(count))]
                stdin = self.rfile.read(int(length)).decode()
                answer = sandbox.answer(args, stdin, cwd)
                self.wfile.write(b"".join(str(part).encode() + b"\0" for part in answer))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        fake_dir, tools = tmp / "fake", tmp / "tools"
        fake_dir.mkdir()
        tools.mkdir()
        self.fake = fake_dir / "gcloud"
        self.fake.write_text(DOOR.replace("PORT", str(self.server.server_address[1])))
        self.fake.chmod(0o755)
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} is needed to run deploy.sh"
            (tools / tool).symlink_to(found)
        self.path = f"{fake_dir}:{tools}"

    def answer(self, args: list[str], stdin: str, cwd: str) -> tuple[int, str, str]:
        with self.lock:
            try:
                self.log.append(record(args, stdin, cwd))
                return Fake(self.state, args, stdin, cwd).answer()
            except AssertionError as error:
                self.errors.append(f"{' '.join(args)}: {error}")
                return 2, "", f"fake gcloud: {error}\n"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def environment(self, settings: dict[str, str]) -> dict[str, str]:
        return {
            **self.guard_env,
            "PATH": self.path,
            "HOME": str(self.tmp),
            "CLOUDSDK_CONFIG": str(self.tmp / "cloudsdk"),
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            **settings,
        }

    def run(
        self, *arguments: str, stdin: str = "", **settings: str
    ) -> subprocess.CompletedProcess[str]:
        """deploy.sh with these arguments, stdin and settings (environment variables). A call the
        fake did not expect fails the test here."""
        self.log.clear()
        done = subprocess.run(
            [shutil.which("bash") or "/bin/bash", str(self.root / "deploy.sh"), *arguments],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environment(settings),
            cwd=self.tmp,
            timeout=60,
            check=False,
        )
        assert not self.errors, self.errors
        return done

    def calls(self) -> list[dict[str, Any]]:
        return list(self.log)

    def calls_to(self, *words: str) -> list[dict[str, Any]]:
        """The calls whose leading words (flags aside) are ``words``."""
        return [
            call
            for call in self.log
            if [a for a in call["args"] if not a.startswith("--")][: len(words)] == list(words)
        ]

    def commands(self) -> list[str]:
        """Each call as its words without the flags, in order."""
        return [" ".join(a for a in call["args"] if not a.startswith("--")) for call in self.log]
