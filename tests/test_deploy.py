"""deploy.sh against a fake ``gcloud``: what it checks, creates, grants and deploys, in what order,
and where the token goes. The fake and its sandbox are described in ``tests/fake_gcloud.py``;
the settings file and the upload set have their own files (``test_deploy_settings.py``,
``test_deploy_upload.py``), and so do the metrics, alerts and dashboard
(``test_deploy_monitoring.py``).

Words used here: a *change* is a gcloud command that changes the project (create, add, enable,
deploy, update, a policy binding); a *check* only reads.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from service.settings import SETTINGS as SERVICE_SETTINGS
from tests.conftest import GUARD_ENV, ROOT
from tests.fake_gcloud import PROJECT, PROJECT_NUMBER, URL
from tests.gcloud_sandbox import Sandbox
from tiktok_mapper.pipeline import SETTINGS as MAPPING_SETTINGS

TOKEN = "tt-TOKEN-do-not-print-9f3a1c"
SA = f"tiktok-events@{PROJECT}.iam.gserviceaccount.com"
PIXEL = "CPIXEL0000000000000A"
BASE = {"PROJECT_ID": PROJECT, "TIKTOK_PIXEL_ID": PIXEL}
# Variables deploy.sh sets itself, and the ones it never deploys (credentials in clear, the
# emulator endpoint).
MANAGED = {
    "GOOGLE_CLOUD_PROJECT", "TIKTOK_ACCESS_TOKEN_SECRET", "API_KEY_SECRET", "THREADS", "MALLOC_ARENA_MAX",
    "TIKTOK_RETRY_TOPIC", "PUBSUB_PUSH_SERVICE_ACCOUNT",
}  # fmt: skip
LOCAL_ONLY = {
    "TIKTOK_ACCESS_TOKEN", "API_KEY", "SECRET_MANAGER_ENDPOINT", "PUBSUB_EMULATOR_HOST",
    "PUBSUB_PUSH_CERTS_URL",
}  # fmt: skip
CHANGES = re.compile(
    r"(create|enable|deploy|update|versions add|add-iam-policy-binding|add-invoker-policy-binding"
    r"|remove-invoker-policy-binding)( |$)"
)
CHECKS = ("auth list", "projects describe", "meta list-files-for-upload", "info")


@pytest.fixture
def deploy(tmp_path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path, ROOT, GUARD_ENV)
    yield sandbox
    sandbox.close()


@pytest.fixture
def deployed(deploy) -> Sandbox:
    """A sandbox where a first deploy (IAM mode) has run."""
    done = deploy.run(stdin=TOKEN, **BASE)
    assert done.returncode == 0, done.stderr
    return deploy


def env_file(call: dict[str, Any]) -> dict[str, str]:
    """The variables of an --env-vars-file as written by deploy.sh: ``NAME: "json string"``."""
    variables = {}
    for line in call["files"]["env-vars-file"].splitlines():
        name, _, value = line.partition(": ")
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), line
        variables[name] = json.loads(value)
    return variables


def flag(call: dict[str, Any], name: str) -> str:
    values = [a.split("=", 1)[1] for a in call["args"] if a.startswith(f"--{name}=")]
    assert len(values) == 1, (name, call["args"])
    return values[0]


def changes(deploy: Sandbox) -> list[str]:
    return [command for command in deploy.commands() if CHANGES.search(command)]


def test_the_sandbox_finds_only_the_fake_gcloud(deploy):
    found = subprocess.run(
        ["/bin/bash", "-c", "type -P gcloud; type -P python3 || true"],
        capture_output=True,
        text=True,
        env=deploy.environment({}),
        check=True,
    )
    assert found.stdout.splitlines() == [str(deploy.fake)]


def test_a_first_deploy_checks_first_then_creates_everything(deploy):
    done = deploy.run(stdin=TOKEN + "\n", **BASE)
    assert done.returncode == 0, done.stderr
    commands = deploy.commands()
    first_change = next(i for i, c in enumerate(commands) if CHANGES.search(c))
    for check in CHECKS:
        assert any(c.startswith(check) for c in commands[:first_change]), check
    assert changes(deploy) == [
        "services enable cloudfunctions.googleapis.com run.googleapis.com "
        "cloudbuild.googleapis.com artifactregistry.googleapis.com "
        "secretmanager.googleapis.com iam.googleapis.com",
        "iam service-accounts create tiktok-events",
        "secrets create tiktok-access-token",
        "secrets versions add tiktok-access-token",
        "secrets add-iam-policy-binding tiktok-access-token",
        *[f"logging metrics create tiktok-events/{m}" for m in sorted(METRICS)],
        "alpha monitoring policies create",
        "alpha monitoring policies create",
        "monitoring dashboards create",
        "functions deploy tiktok-events",
    ]
    assert deploy.state["service_accounts"] == [SA]

    # The token reached Secret Manager on stdin, trimmed, and nowhere else.
    (added,) = deploy.calls_to("secrets", "versions", "add")
    assert added["stdin"] == TOKEN
    assert "--data-file=-" in added["args"]
    for call in deploy.calls():
        assert not any(TOKEN in argument for argument in call["args"])
        assert not any(TOKEN in text for text in call["files"].values())
    assert TOKEN not in done.stdout + done.stderr

    # Read access on that one secret, for the function's own service account.
    (binding,) = deploy.calls_to("secrets", "add-iam-policy-binding")
    assert flag(binding, "role") == "roles/secretmanager.secretAccessor"
    assert flag(binding, "member") == f"serviceAccount:{SA}"
    assert deploy.state["secrets"]["tiktok-access-token"]["accessors"] == [f"serviceAccount:{SA}"]

    (deployed,) = deploy.calls_to("functions", "deploy")
    for expected in ("--gen2", "--trigger-http", "--source=.", "--quiet"):
        assert expected in deployed["args"]
    assert not any("allow-unauthenticated" in a for a in deployed["args"])
    assert flag(deployed, "runtime") == "python313"
    assert flag(deployed, "entry-point") == "tiktok_events"
    assert flag(deployed, "region") == "europe-west1"
    assert flag(deployed, "service-account") == SA
    assert (flag(deployed, "memory"), flag(deployed, "cpu")) == ("1Gi", "1")
    assert (flag(deployed, "timeout"), flag(deployed, "concurrency")) == ("60s", "20")
    assert deployed["cwd"] == str(ROOT)  # --source=. is the project, wherever deploy.sh runs from
    assert env_file(deployed) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TIKTOK_ACCESS_TOKEN_SECRET": f"projects/{PROJECT}/secrets/tiktok-access-token/versions/latest",
        "THREADS": "20",
        "MALLOC_ARENA_MAX": "2",
        "TIKTOK_PIXEL_ID": PIXEL,
    }
    assert deploy.state["functions"]["tiktok-events"]["invokers"] == []  # private

    # What the admin needs next: the URL, the invoker grant, a curl with an identity token.
    output = done.stdout
    assert f"Deployed: {URL}" in output
    assert "gcloud functions add-invoker-policy-binding tiktok-events" in output
    assert "Authorization: Bearer $(gcloud auth print-identity-token)" in output
    assert f"monitoring/dashboards/custom/tiktok-events?project={PROJECT}" in output
    assert "TIKTOK_TEST_EVENT_CODE" in output


METRICS = [p.stem for p in (ROOT / "monitoring" / "metrics").glob("*.json")]


def test_every_function_setting_set_in_the_environment_is_deployed_intact(deploy):
    variables = [row[0] for row in (*MAPPING_SETTINGS, *SERVICE_SETTINGS)]
    # Values a shell, YAML or a comma-separated flag would break: commas, quotes, braces, $, a
    # backslash, a colon, line breaks, a tab, a backspace, a form feed and another control
    # character, non-ASCII text.
    settings = {
        name: f'{{"{name}": "a,b", "q": "it\'s \\"x\\"", "d": "$HOME \\\\ ;"}}: #x\n\t\b\f\x07é'
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
    # The file states every variable: no --set/--update-env-vars that would keep old ones.
    assert not any(a.startswith(("--set-env-vars", "--update-env-vars")) for a in deployed["args"])

    # Deployed again unchanged, the values compare equal to what gcloud shows: no difference.
    again = deploy.run(PROJECT_ID=PROJECT, **settings)
    assert again.returncode == 0, again.stderr
    assert "  (no change)" in again.stderr


def test_a_re_deploy_creates_nothing_needs_no_token_and_re_states_the_rest(deployed):
    done = deployed.run(**BASE, REGION="europe-west1", CONCURRENCY="8", MEMORY="1Gi")
    assert done.returncode == 0, done.stderr
    assert changes(deployed) == [
        "secrets add-iam-policy-binding tiktok-access-token",
        *[f"logging metrics update tiktok-events/{m}" for m in sorted(METRICS)],
        f"alpha monitoring policies update projects/{PROJECT}/alertPolicies/1",
        f"alpha monitoring policies update projects/{PROJECT}/alertPolicies/2",
        f"monitoring dashboards update projects/{PROJECT}/dashboards/tiktok-events",
        "functions deploy tiktok-events",
    ]
    (deployed_call,) = deployed.calls_to("functions", "deploy")
    assert flag(deployed_call, "memory") == "1Gi"
    assert flag(deployed_call, "concurrency") == "8"
    assert env_file(deployed_call)["THREADS"] == "8"
    assert "  MEMORY=1Gi   (environment)" in done.stderr  # settings are printed before acting
    assert '  ~ THREADS: "20" -> "8"' in done.stderr
    # An IAM-mode re-deploy of a private function reads who may call it and changes nothing.
    assert deployed.calls_to("run", "services", "get-iam-policy")
    assert deployed.state["functions"]["tiktok-events"]["deploys"] == 2


def test_it_refuses_to_deploy_when_the_secret_has_no_version(deploy):
    deploy.state["service_accounts"] = [SA]
    deploy.state["secrets"] = {"tiktok-access-token": {"versions": [], "accessors": []}}
    done = deploy.run(stdin="  \n", **BASE)
    assert done.returncode != 0
    assert "the secret tiktok-access-token has no version" in done.stderr
    assert "./deploy.sh ... < ~/tiktok-token.txt" in done.stderr  # a file outside the upload
    assert not deploy.calls_to("secrets", "versions", "add")
    assert not deploy.calls_to("functions", "deploy")


@pytest.mark.parametrize("state", ["DISABLED", "DESTROYED"])
def test_it_refuses_when_the_newest_token_version_is_not_enabled(deployed, state):
    """versions/latest is the newest version even when it is disabled: rolling back by disabling
    the newest version would break the function."""
    deployed.state["secrets"]["tiktok-access-token"]["versions"] = ["ENABLED", state]
    done = deployed.run(**BASE)
    assert done.returncode != 0
    assert f"the newest version (2) of the secret tiktok-access-token is {state}" in done.stderr
    assert "gcloud secrets versions enable 2 --secret=tiktok-access-token" in done.stderr
    assert not deployed.calls_to("functions", "deploy")

    # Adding a version (the token piped in) is the way out: it becomes the newest.
    fixed = deployed.run(stdin=TOKEN, **BASE)
    assert fixed.returncode == 0, fixed.stderr
    assert deployed.state["secrets"]["tiktok-access-token"]["versions"][-1] == "ENABLED"


def run_on_a_terminal(deploy: Sandbox, **settings: str) -> tuple[int, str]:
    """deploy.sh with its stdout on a pseudo-terminal: what a person at a terminal sees."""
    deploy.log.clear()
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        ["/bin/bash", str(ROOT / "deploy.sh")],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=deploy.environment(settings),
        cwd=deploy.tmp,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    code = process.wait(timeout=60)
    assert not deploy.errors, deploy.errors
    return code, seen.decode()


def test_public_mode_creates_a_caller_key_once_and_shows_it_only_on_a_terminal(deploy):
    deploy.state["service_accounts"] = [SA]
    deploy.state["secrets"] = {"tiktok-access-token": {"versions": ["ENABLED"], "accessors": []}}
    code, screen = run_on_a_terminal(deploy, **BASE, PUBLIC_WITH_API_KEY="true")
    assert code == 0
    (key,) = deploy.state["secrets"]["tiktok-events-api-key"]["values"]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert screen.count(key) == 1
    assert not any(key in a for call in deploy.calls() for a in call["args"])
    function = deploy.state["functions"]["tiktok-events"]
    assert function["env"]["API_KEY_SECRET"] == (
        f"projects/{PROJECT}/secrets/tiktok-events-api-key/versions/latest"
    )
    # The revision with the key check is deployed before allUsers may call it.
    assert changes(deploy)[-2:] == [
        "functions deploy tiktok-events",
        "functions add-invoker-policy-binding tiktok-events",
    ]
    assert function["invokers"] == ["allUsers"]

    again = deploy.run(**BASE, PUBLIC_WITH_API_KEY="true")
    assert again.returncode == 0, again.stderr
    assert not deploy.calls_to("secrets", "versions", "add")
    assert not deploy.calls_to("functions", "add-invoker-policy-binding")  # already public
    assert key not in again.stdout + again.stderr


def test_a_new_caller_key_is_not_printed_when_the_output_is_not_a_terminal(deploy):
    done = deploy.run(stdin=TOKEN, **BASE, PUBLIC_WITH_API_KEY="true")
    assert done.returncode == 0, done.stderr
    (key,) = deploy.state["secrets"]["tiktok-events-api-key"]["values"]
    assert key not in done.stdout + done.stderr
    assert "not shown: this output is not a terminal" in done.stdout
    assert "gcloud secrets versions access latest --secret=tiktok-events-api-key" in done.stdout


def test_public_mode_refuses_a_disabled_newest_caller_key(deployed):
    deployed.state["secrets"]["tiktok-events-api-key"] = {
        "versions": ["ENABLED", "DISABLED"],
        "accessors": [],
    }
    done = deployed.run(**BASE, PUBLIC_WITH_API_KEY="true")
    assert done.returncode != 0
    assert "the newest version (2) of the secret tiktok-events-api-key is DISABLED" in done.stderr
    assert not deployed.calls_to("secrets", "versions", "add")  # no silent new key
    assert not deployed.calls_to("functions", "deploy")


def test_going_back_to_iam_closes_the_function_before_its_key_check_goes(deployed):
    public = deployed.run(**BASE, PUBLIC_WITH_API_KEY="true")
    assert public.returncode == 0, public.stderr
    assert deployed.state["functions"]["tiktok-events"]["invokers"] == ["allUsers"]

    done = deployed.run(**BASE)
    assert done.returncode == 0, done.stderr
    tail = changes(deployed)[-2:]
    assert tail == [
        "functions remove-invoker-policy-binding tiktok-events",
        "functions deploy tiktok-events",
    ]
    (removed,) = deployed.calls_to("functions", "remove-invoker-policy-binding")
    assert flag(removed, "member") == "allUsers"
    function = deployed.state["functions"]["tiktok-events"]
    assert function["invokers"] == []
    assert "API_KEY_SECRET" not in function["env"]
    assert "  - API_KEY_SECRET" in done.stderr


def test_when_closing_fails_the_revision_with_the_key_check_stays(deployed):
    assert deployed.run(**BASE, PUBLIC_WITH_API_KEY="true").returncode == 0
    deployed.state["failures"] = {
        "functions remove-invoker-policy-binding": "PERMISSION_DENIED: run.services.setIamPolicy"
    }
    done = deployed.run(**BASE)
    assert done.returncode != 0
    assert not deployed.calls_to("functions", "deploy")
    function = deployed.state["functions"]["tiktok-events"]
    assert function["invokers"] == ["allUsers"]
    assert "API_KEY_SECRET" in function["env"]  # still public, but still checking the key


def test_when_who_may_call_cannot_be_read_iam_mode_stops(deployed):
    deployed.state["failures"] = {"run services get-iam-policy": "PERMISSION_DENIED: no"}
    done = deployed.run(**BASE)
    assert done.returncode != 0
    assert "cannot read who may call tiktok-events" in done.stderr
    assert not deployed.calls_to("functions", "deploy")


def test_a_build_service_account_is_passed_as_gcloud_wants_it(deploy):
    builder = f"builder@{PROJECT}.iam.gserviceaccount.com"
    deploy.state["service_accounts"] = [builder]
    deploy.state["project_roles"][f"serviceAccount:{builder}"] = ["roles/cloudbuild.builds.builder"]
    done = deploy.run(stdin=TOKEN, **BASE, BUILD_SERVICE_ACCOUNT=builder)
    assert done.returncode == 0, done.stderr
    (deployed,) = deploy.calls_to("functions", "deploy")
    assert (
        flag(deployed, "build-service-account") == f"projects/{PROJECT}/serviceAccounts/{builder}"
    )
    assert not deploy.calls_to("builds", "get-default-service-account")


def test_a_build_account_that_cannot_build_stops_the_deploy_with_the_fix(deploy):
    default = f"{PROJECT_NUMBER}-compute@developer.gserviceaccount.com"
    deploy.state["project_roles"] = {f"serviceAccount:{default}": ["roles/logging.logWriter"]}
    done = deploy.run(stdin=TOKEN, **BASE)
    assert done.returncode != 0
    assert f"the build account {default} lacks roles/cloudbuild.builds.builder" in done.stderr
    assert (
        f"gcloud projects add-iam-policy-binding {PROJECT} --member=serviceAccount:{default} "
        "--role=roles/cloudbuild.builds.builder"
    ) in done.stderr
    assert not deploy.calls_to("secrets", "create")  # stopped before the secrets
    assert not deploy.calls_to("functions", "deploy")

    missing = deploy.run(
        stdin=TOKEN, **BASE, BUILD_SERVICE_ACCOUNT="nobody@x.iam.gserviceaccount.com"
    )
    assert missing.returncode != 0
    assert "BUILD_SERVICE_ACCOUNT nobody@x.iam.gserviceaccount.com not found" in missing.stderr


def test_an_unreadable_project_policy_only_warns_about_the_build_account(deploy):
    deploy.state["project_policy_forbidden"] = True
    done = deploy.run(stdin=TOKEN, **BASE)
    assert done.returncode == 0, done.stderr
    assert "Warning: cannot read the project's IAM policy" in done.stderr
    assert "roles/cloudbuild.builds.builder" in done.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"account": ""}, "gcloud has no active account: run gcloud auth login"),
        ({"project": "another-project"}, f"the project {PROJECT} does not exist"),
    ],
)
def test_nothing_changes_when_a_check_fails(deploy, change, message):
    deploy.state.update(change)
    done = deploy.run(stdin=TOKEN, **BASE)
    assert done.returncode != 0
    assert message in done.stderr
    assert changes(deploy) == []


def test_without_gcloud_it_says_how_to_get_it(deploy):
    deploy.fake.unlink()
    done = deploy.run(**BASE)
    assert done.returncode != 0
    assert "gcloud is not installed" in done.stderr


def test_dry_run_runs_every_check_prints_every_change_and_changes_nothing(deploy):
    before = json.dumps(deploy.state, sort_keys=True)
    done = deploy.run("--dry-run", stdin=TOKEN, **BASE, PUBLIC_WITH_API_KEY="true")
    assert done.returncode == 0, done.stderr
    assert changes(deploy) == []
    assert json.dumps(deploy.state, sort_keys=True) == before
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
        "gcloud logging metrics create",
        "gcloud alpha monitoring policies",
        "gcloud monitoring dashboards create",
        "gcloud functions deploy tiktok-events",
        "gcloud functions add-invoker-policy-binding tiktok-events",
    ):
        assert expected in starts, expected
    assert TOKEN not in done.stdout + done.stderr
    assert "Deployed:" not in done.stdout
    assert "Dry run: nothing was changed" in done.stdout


def test_a_dry_run_on_a_project_with_every_api_off_shows_the_whole_first_deploy(deploy):
    deploy.state["enabled_services"] = []
    done = deploy.run("--dry-run", stdin=TOKEN, **BASE)
    assert done.returncode == 0, done.stderr
    assert changes(deploy) == []
    printed = [line for line in done.stderr.splitlines() if line.startswith("+ gcloud ")]
    assert "monitoring.googleapis.com" in printed[0]
    assert len([line for line in printed if "logging metrics create" in line]) == len(METRICS)
    assert printed[-1].startswith("+ gcloud functions deploy tiktok-events")


@pytest.mark.parametrize(
    ("settings", "configured", "expected"),
    [
        (
            {"PROJECT_ID": PROJECT, "GOOGLE_CLOUD_PROJECT": "other-project"},
            "cfg-project",
            PROJECT,
        ),
        ({"GOOGLE_CLOUD_PROJECT": PROJECT}, "cfg-project", PROJECT),
        ({}, PROJECT, PROJECT),
    ],
)
def test_the_project_comes_from_the_environment_then_gcloud(deploy, settings, configured, expected):
    deploy.state["configured_project"] = configured
    done = deploy.run("--dry-run", TIKTOK_PIXEL_ID=PIXEL, **settings)
    assert done.returncode == 0, done.stderr
    assert f"  PROJECT_ID={expected}   (" in done.stderr
    asked = deploy.calls_to("config", "get-value", "project")
    assert len(asked) == (0 if settings else 1)


def test_no_project_at_all_is_a_clear_error(deploy):
    done = deploy.run("--dry-run", TIKTOK_PIXEL_ID=PIXEL)
    assert done.returncode != 0
    assert "no project: set PROJECT_ID" in done.stderr


def test_deploy_sh_is_executable():
    assert os.access(ROOT / "deploy.sh", os.X_OK)


def test_the_malloc_arenas_are_capped_as_measured(deployed):
    """Sizing (README): the worst request mix fits 1 GiB with glibc's arenas capped at 2."""
    done = deployed.run(**BASE)
    assert done.returncode == 0, done.stderr
    (deploy,) = deployed.calls_to("functions", "deploy")
    assert env_file(deploy)["MALLOC_ARENA_MAX"] == "2"
    assert flag(deploy, "memory") == "1Gi"
