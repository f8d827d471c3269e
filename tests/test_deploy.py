"""deploy.sh against a fake ``gcloud``: what it creates, grants and deploys, and where the token goes.

Words used here:

- *fake*: a small Python script named ``gcloud``, written by the test into a directory that is
  the first entry of PATH. It records each call (arguments, stdin, working directory, and the
  content of an ``--env-vars-file``) and answers like gcloud from a JSON *state* (which service
  accounts and secrets exist, how many versions each secret has).
- *sandbox PATH*: the fake's directory plus a directory of symlinks to the few basic tools
  deploy.sh uses, and nothing else. The real Google Cloud SDK is installed on the development
  machines: with this PATH it cannot be found, and the proxy variables point at a closed loopback
  port, so even a call by absolute path could not reach the network. Every test checks the calls
  the fake recorded, so a gcloud call that did not reach the fake fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.settings import SETTINGS as SERVICE_SETTINGS
from tests.conftest import GUARD_ENV, ROOT
from tiktok_mapper.config import SETTINGS as MAPPING_SETTINGS

TOKEN = "tt-TOKEN-do-not-print-9f3a1c"
PROJECT = "acme-events"
SA = f"tiktok-events@{PROJECT}.iam.gserviceaccount.com"
TOOLS = ("cat", "mktemp", "rm", "head", "od", "tr", "sleep")
# Variables deploy.sh sets itself, and the ones it never deploys (credentials in clear, the
# emulator endpoint).
MANAGED = {"GOOGLE_CLOUD_PROJECT", "TIKTOK_ACCESS_TOKEN_SECRET", "API_KEY_SECRET", "THREADS"}
LOCAL_ONLY = {"TIKTOK_ACCESS_TOKEN", "API_KEY", "SECRET_MANAGER_ENDPOINT"}

FAKE_GCLOUD = r"""
import json, os, sys

state_path, log_path = os.environ["FAKE_GCLOUD_STATE"], os.environ["FAKE_GCLOUD_LOG"]
with open(state_path) as f:
    state = json.load(f)
args = sys.argv[1:]
stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
record = {"args": args, "stdin": stdin, "cwd": os.getcwd()}
for arg in args:
    if arg.startswith("--env-vars-file="):
        with open(arg.split("=", 1)[1]) as f:
            record["env_file"] = f.read()
with open(log_path, "a") as f:
    f.write(json.dumps(record) + "\n")

def save():
    with open(state_path, "w") as f:
        json.dump(state, f)

def missing(what):
    sys.stderr.write(f"ERROR: NOT_FOUND: {what}\n")
    sys.exit(1)

words = [a for a in args if not a.startswith("--")]
if words[:3] == ["config", "get-value", "project"]:
    print(state.get("configured_project", ""))
elif words[:2] == ["services", "enable"]:
    pass
elif words[:3] == ["iam", "service-accounts", "describe"]:
    if words[3] not in state["service_accounts"]:
        missing(words[3])
elif words[:3] == ["iam", "service-accounts", "create"]:
    state["service_accounts"].append(words[3] + "@" + state["project"] + ".iam.gserviceaccount.com")
    save()
elif words[:2] == ["secrets", "describe"]:
    if words[2] not in state["secrets"]:
        missing(words[2])
elif words[:2] == ["secrets", "create"]:
    state["secrets"][words[2]] = 0
    save()
elif words[:3] == ["secrets", "versions", "add"]:
    if "--data-file=-" not in args or not stdin:
        sys.exit("fake gcloud: expected the data on stdin")
    state["secrets"][words[3]] += 1
    save()
    sys.stderr.write(f"Created version [{state['secrets'][words[3]]}] of the secret [{words[3]}].\n")
elif words[:3] == ["secrets", "versions", "list"]:
    count = state["secrets"].get(words[3], 0)
    if count:
        print(f"projects/{state['project']}/secrets/{words[3]}/versions/{count}")
elif words[:2] == ["secrets", "add-iam-policy-binding"]:
    print("bindings: []")
elif words[:2] == ["functions", "deploy"]:
    pass
elif words[:2] == ["functions", "describe"]:
    print(state["url"])
else:
    sys.exit("fake gcloud: unexpected call " + " ".join(args))
"""


class Deploy:
    """One sandbox: the fake gcloud, its state, and a way to run deploy.sh in it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        fake_dir, tools = tmp / "fake", tmp / "tools"
        fake_dir.mkdir()
        tools.mkdir()
        self.fake = fake_dir / "gcloud"
        self.fake.write_text(f"#!{sys.executable} -I\n{FAKE_GCLOUD}")
        self.fake.chmod(0o755)
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, f"{tool} is needed to run deploy.sh"
            (tools / tool).symlink_to(found)
        self.path = f"{fake_dir}:{tools}"
        self.state_file = tmp / "state.json"
        self.log_file = tmp / "calls.jsonl"
        self.state: dict[str, Any] = {
            "project": PROJECT,
            "service_accounts": [],
            "secrets": {},
            "url": "https://tiktok-events-abc123-ew.a.run.app",
        }

    def environment(self, settings: dict[str, str]) -> dict[str, str]:
        return {
            **GUARD_ENV,
            "PATH": self.path,
            "HOME": str(self.tmp),
            "CLOUDSDK_CONFIG": str(self.tmp / "cloudsdk"),
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "FAKE_GCLOUD_STATE": str(self.state_file),
            "FAKE_GCLOUD_LOG": str(self.log_file),
            **settings,
        }

    def run(
        self, *arguments: str, stdin: str = "", **settings: str
    ) -> subprocess.CompletedProcess[str]:
        self.state_file.write_text(json.dumps(self.state))
        self.log_file.write_text("")
        done = subprocess.run(
            [shutil.which("bash") or "/bin/bash", str(ROOT / "deploy.sh"), *arguments],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environment(settings),
            cwd=self.tmp,
            timeout=60,
            check=False,
        )
        self.state = json.loads(self.state_file.read_text())
        return done

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def calls_to(self, *words: str) -> list[dict[str, Any]]:
        return [c for c in self.calls() if c["args"][: len(words)] == list(words)]


@pytest.fixture
def deploy(tmp_path: Path) -> Deploy:
    return Deploy(tmp_path)


def env_file(call: dict[str, Any]) -> dict[str, str]:
    """The variables of an --env-vars-file as written by deploy.sh: ``NAME: "json string"``."""
    variables = {}
    for line in call["env_file"].splitlines():
        name, _, value = line.partition(": ")
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), line
        variables[name] = json.loads(value)
    return variables


def flag(call: dict[str, Any], name: str) -> str:
    values = [a.split("=", 1)[1] for a in call["args"] if a.startswith(f"--{name}=")]
    assert len(values) == 1, (name, call["args"])
    return values[0]


def test_the_sandbox_finds_only_the_fake_gcloud(deploy):
    found = subprocess.run(
        ["/bin/bash", "-c", "type -P gcloud; type -P python3 || true"],
        capture_output=True,
        text=True,
        env=deploy.environment({}),
        check=True,
    )
    assert found.stdout.splitlines() == [str(deploy.fake)]


def test_a_first_deploy_creates_everything_and_stores_the_piped_token(deploy):
    done = deploy.run(
        stdin=TOKEN + "\n", PROJECT_ID=PROJECT, TIKTOK_PIXEL_ID="CPIXEL0000000000000A"
    )
    assert done.returncode == 0, done.stderr
    calls = deploy.calls()
    commands = [c["args"][:3] for c in calls]
    assert commands == [
        ["services", "enable", "cloudfunctions.googleapis.com"],
        ["iam", "service-accounts", "describe"],
        ["iam", "service-accounts", "create"],
        ["secrets", "describe", "tiktok-access-token"],
        ["secrets", "create", "tiktok-access-token"],
        ["secrets", "versions", "add"],
        ["secrets", "versions", "list"],
        ["secrets", "add-iam-policy-binding", "tiktok-access-token"],
        ["functions", "deploy", "tiktok-events"],
        ["functions", "describe", "tiktok-events"],
    ]
    enabled = set(calls[0]["args"])
    for api in ("run", "cloudbuild", "artifactregistry", "secretmanager", "iam"):
        assert f"{api}.googleapis.com" in enabled
    assert deploy.state["service_accounts"] == [SA]

    # The token reached Secret Manager on stdin, trimmed, and nowhere else.
    (added,) = deploy.calls_to("secrets", "versions", "add")
    assert added["args"][3] == "tiktok-access-token"
    assert "--data-file=-" in added["args"]
    assert added["stdin"] == TOKEN
    for call in calls:
        assert not any(TOKEN in argument for argument in call["args"])
        assert TOKEN not in call.get("env_file", "")
    assert TOKEN not in done.stdout + done.stderr

    # Read access on that one secret, for the function's own service account.
    (binding,) = deploy.calls_to("secrets", "add-iam-policy-binding")
    assert flag(binding, "role") == "roles/secretmanager.secretAccessor"
    assert flag(binding, "member") == f"serviceAccount:{SA}"
    assert flag(binding, "project") == PROJECT

    (deployed,) = deploy.calls_to("functions", "deploy")
    arguments = deployed["args"]
    for expected in ("--gen2", "--trigger-http", "--no-allow-unauthenticated", "--source=."):
        assert expected in arguments
    assert "--allow-unauthenticated" not in arguments
    assert flag(deployed, "runtime") == "python313"
    assert flag(deployed, "entry-point") == "tiktok_events"
    assert flag(deployed, "region") == "europe-west1"
    assert flag(deployed, "service-account") == SA
    assert deployed["cwd"] == str(ROOT)  # --source=. is the project, wherever deploy.sh runs from
    assert env_file(deployed) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TIKTOK_ACCESS_TOKEN_SECRET": f"projects/{PROJECT}/secrets/tiktok-access-token/versions/latest",
        "THREADS": flag(deployed, "concurrency"),
        "TIKTOK_PIXEL_ID": "CPIXEL0000000000000A",
    }

    # What the admin needs next: the URL, the invoker grant, a curl with an identity token.
    output = done.stdout
    assert deploy.state["url"] in output
    assert "gcloud functions add-invoker-policy-binding tiktok-events" in output
    assert "roles/run.invoker" in output
    assert "Authorization: Bearer $(gcloud auth print-identity-token)" in output
    assert "TIKTOK_TEST_EVENT_CODE" in output


def test_every_function_setting_set_in_the_environment_is_deployed_intact(deploy):
    variables = [row[0] for row in (*MAPPING_SETTINGS, *SERVICE_SETTINGS)]
    # Values a shell, YAML or a comma-separated flag would break: commas, quotes, braces, $, a
    # backslash, a colon, line breaks, a tab and another control character, non-ASCII text.
    settings = {
        name: f'{{"{name}": "a,b", "q": "it\'s \\"x\\"", "d": "$HOME \\\\ ;"}}: #x\n\t\x07é'
        for name in variables
    }
    done = deploy.run(stdin=TOKEN, PROJECT_ID=PROJECT, **settings)
    assert done.returncode == 0, done.stderr
    (deployed,) = deploy.calls_to("functions", "deploy")
    deployed_variables = env_file(deployed)
    for name in variables:
        if name in LOCAL_ONLY:
            assert name not in deployed_variables, name
            assert settings[name] not in done.stdout + done.stderr
        elif name not in MANAGED:
            assert deployed_variables.get(name) == settings[name], name
    assert deployed_variables["GOOGLE_CLOUD_PROJECT"] == PROJECT
    # The file states every variable: no --set/--update-env-vars that would keep old ones.
    assert not any(a.startswith(("--set-env-vars", "--update-env-vars")) for a in deployed["args"])


def test_a_re_deploy_creates_nothing_and_needs_no_token(deploy):
    deploy.state["service_accounts"] = [SA]
    deploy.state["secrets"] = {"tiktok-access-token": 2}
    done = deploy.run(PROJECT_ID=PROJECT, REGION="us-central1", CONCURRENCY="8", MEMORY="1Gi")
    assert done.returncode == 0, done.stderr
    for creating in (("iam", "service-accounts", "create"), ("secrets", "create")):
        assert not deploy.calls_to(*creating)
    assert not deploy.calls_to("secrets", "versions", "add")
    (deployed,) = deploy.calls_to("functions", "deploy")
    assert flag(deployed, "region") == "us-central1"
    assert flag(deployed, "memory") == "1Gi"
    assert flag(deployed, "concurrency") == "8"
    assert env_file(deployed)["THREADS"] == "8"
    assert "  REGION=us-central1" in done.stderr  # settings are printed before acting


def test_it_refuses_to_deploy_when_the_secret_has_no_version(deploy):
    deploy.state["service_accounts"] = [SA]
    deploy.state["secrets"] = {"tiktok-access-token": 0}
    done = deploy.run(stdin="  \n", PROJECT_ID=PROJECT)
    assert done.returncode != 0
    assert "tiktok-access-token has no enabled version" in done.stderr
    assert "./deploy.sh" in done.stderr  # says how to give the token
    assert not deploy.calls_to("secrets", "versions", "add")
    assert not deploy.calls_to("functions", "deploy")


def test_public_mode_creates_a_caller_key_once_and_shows_it_once(deploy):
    done = deploy.run(stdin=TOKEN, PROJECT_ID=PROJECT, PUBLIC_WITH_API_KEY="true")
    assert done.returncode == 0, done.stderr
    adds = deploy.calls_to("secrets", "versions", "add")
    assert [a["args"][3] for a in adds] == ["tiktok-access-token", "tiktok-events-api-key"]
    key = adds[1]["stdin"]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert done.stdout.count(key) == 1
    assert key not in done.stderr
    assert not any(key in a for call in deploy.calls() for a in call["args"])
    bindings = deploy.calls_to("secrets", "add-iam-policy-binding")
    assert [b["args"][2] for b in bindings] == ["tiktok-access-token", "tiktok-events-api-key"]
    assert {flag(b, "member") for b in bindings} == {f"serviceAccount:{SA}"}
    (deployed,) = deploy.calls_to("functions", "deploy")
    assert "--allow-unauthenticated" in deployed["args"]
    assert "--no-allow-unauthenticated" not in deployed["args"]
    assert env_file(deployed)["API_KEY_SECRET"] == (
        f"projects/{PROJECT}/secrets/tiktok-events-api-key/versions/latest"
    )
    assert "X-Api-Key" in done.stdout

    again = deploy.run(PROJECT_ID=PROJECT, PUBLIC_WITH_API_KEY="true")
    assert again.returncode == 0, again.stderr
    assert not deploy.calls_to("secrets", "versions", "add")
    assert key not in again.stdout
    assert len(deploy.calls_to("secrets", "add-iam-policy-binding")) == 2


def test_iam_mode_drops_the_caller_key_of_an_earlier_public_deploy(deploy):
    deploy.state["service_accounts"] = [SA]
    deploy.state["secrets"] = {"tiktok-access-token": 1, "tiktok-events-api-key": 1}
    done = deploy.run(PROJECT_ID=PROJECT, API_KEY_SECRET="projects/x/secrets/y/versions/1")
    assert done.returncode == 0, done.stderr
    (deployed,) = deploy.calls_to("functions", "deploy")
    assert "API_KEY_SECRET" not in env_file(deployed)
    assert "--no-allow-unauthenticated" in deployed["args"]


def test_dry_run_prints_every_command_and_runs_none(deploy):
    done = deploy.run("--dry-run", stdin=TOKEN, PROJECT_ID=PROJECT, PUBLIC_WITH_API_KEY="true")
    assert done.returncode == 0, done.stderr
    assert deploy.calls() == []
    printed = [line[2:] for line in done.stderr.splitlines() if line.startswith("+ gcloud ")]
    starts = [" ".join(line.split()[:4]) for line in printed]
    for expected in (
        "gcloud services enable cloudfunctions.googleapis.com",
        "gcloud iam service-accounts create",
        "gcloud secrets create tiktok-access-token",
        "gcloud secrets versions add",
        "gcloud secrets add-iam-policy-binding tiktok-access-token",
        "gcloud secrets create tiktok-events-api-key",
        "gcloud secrets add-iam-policy-binding tiktok-events-api-key",
        "gcloud functions deploy tiktok-events",
    ):
        assert expected in starts, expected
    assert TOKEN not in done.stdout + done.stderr
    assert not deploy.state["secrets"]


@pytest.mark.parametrize(
    ("settings", "configured", "expected"),
    [
        (
            {"PROJECT_ID": "from-project-id", "GOOGLE_CLOUD_PROJECT": "other"},
            "cfg",
            "from-project-id",
        ),
        ({"GOOGLE_CLOUD_PROJECT": "from-google-cloud-project"}, "cfg", "from-google-cloud-project"),
        ({}, "from-gcloud-config", "from-gcloud-config"),
    ],
)
def test_the_project_comes_from_the_environment_then_gcloud(deploy, settings, configured, expected):
    deploy.state["configured_project"] = configured
    done = deploy.run("--dry-run", **settings)
    assert done.returncode == 0, done.stderr
    assert f"  PROJECT_ID={expected}\n" in done.stderr
    asked = deploy.calls_to("config", "get-value", "project")
    assert len(asked) == (0 if settings else 1)


def test_no_project_at_all_is_a_clear_error(deploy):
    done = deploy.run("--dry-run")
    assert done.returncode != 0
    assert "no project: set PROJECT_ID" in done.stderr


def test_gcloudignore_keeps_the_tooling_out_and_the_function_in():
    patterns = {
        line.strip()
        for line in (ROOT / ".gcloudignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for left_out in ("tests/", ".ci/", ".venv/", "bench/", ".git/"):
        assert left_out in patterns
    for needed in ("schemas", "tiktok_mapper", "service", "main.py", "requirements.txt"):
        assert not any(p.rstrip("/") == needed or needed.startswith(p) for p in patterns), needed


def test_deploy_sh_is_executable():
    assert os.access(ROOT / "deploy.sh", os.X_OK)
