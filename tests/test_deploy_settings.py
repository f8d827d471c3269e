"""deploy.sh's settings: the settings file, the environment over it, the checks of each value, and
the difference from the function's current environment printed before deploying.

Words used here: the *settings file* is what ``--settings FILE`` names (``deploy.env.example`` is
its template); the *difference* is the block deploy.sh prints before deploying, one line per
function setting added (``+``), changed (``~``) or removed (``-``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.settings import SETTINGS as SERVICE_SETTINGS
from tests.conftest import GUARD_ENV, ROOT
from tests.fake_gcloud import PROJECT
from tests.gcloud_sandbox import Sandbox
from tiktok_mapper.pipeline import SETTINGS as MAPPING_SETTINGS

TOKEN = "tt-TOKEN-do-not-print-9f3a1c"
PIXEL = "CPIXEL0000000000000A"
SA = f"tiktok-events@{PROJECT}.iam.gserviceaccount.com"
MAPPING = '{"purchase": "CompletePayment", "scroll": null, "note": "a # is not a comment"}'
SET_BY_DEPLOY = {
    "GOOGLE_CLOUD_PROJECT", "TIKTOK_ACCESS_TOKEN_SECRET", "API_KEY_SECRET", "TIKTOK_RETRY_TOPIC",
    "PUBSUB_PUSH_SERVICE_ACCOUNT",
}  # fmt: skip
LOCAL_ONLY = {
    "TIKTOK_ACCESS_TOKEN", "API_KEY", "SECRET_MANAGER_ENDPOINT", "PUBSUB_EMULATOR_HOST",
    "PUBSUB_PUSH_CERTS_URL",
}  # fmt: skip


@pytest.fixture
def deploy(tmp_path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path, ROOT, GUARD_ENV)
    yield sandbox
    sandbox.close()


def settings_file(deploy: Sandbox, text: str, name: str = "deploy.env") -> Path:
    path = deploy.tmp / name
    path.write_text(text)
    return path


def deployed_env(deploy: Sandbox) -> dict[str, str]:
    env = dict(deploy.state["functions"]["tiktok-events"]["env"])
    env.pop("LOG_EXECUTION_ID")  # added by Cloud Functions itself
    return env


def test_the_settings_file_is_read_as_written_and_the_environment_wins(deploy):
    path = settings_file(
        deploy,
        "# a comment\n\n"
        f"PROJECT_ID={PROJECT}\r\n"
        "export REGION=us-central1\n"
        f"  TIKTOK_PIXEL_ID='{PIXEL}'\n"
        f"TIKTOK_EVENT_MAPPING='{MAPPING}'\n"
        'TIKTOK_CONSENT_CATEGORIES="ads, analytics"\n'
        "TIKTOK_DEFAULT_PHONE_REGION=FR\n"
        "LOG_LEVEL=$HOME\n"
        "MEMORY=1Gi\n"
        "TIKTOK_TEST_EVENT_CODE=",
    )
    done = deploy.run("--settings", str(path), stdin=TOKEN, TIKTOK_DEFAULT_PHONE_REGION="BE")
    assert done.returncode == 0, done.stderr
    assert deployed_env(deploy) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "TIKTOK_ACCESS_TOKEN_SECRET": f"projects/{PROJECT}/secrets/tiktok-access-token/versions/latest",
        "THREADS": "20",
        "MALLOC_ARENA_MAX": "2",
        "TIKTOK_PIXEL_ID": PIXEL,
        "TIKTOK_EVENT_MAPPING": MAPPING,
        "TIKTOK_CONSENT_CATEGORIES": "ads, analytics",
        "TIKTOK_DEFAULT_PHONE_REGION": "BE",  # the environment wins
        "LOG_LEVEL": "$HOME",  # read, never run
    }
    (deployed,) = deploy.calls_to("functions", "deploy")
    assert "--region=us-central1" in deployed["args"]
    assert "--memory=1Gi" in deployed["args"]
    assert "  REGION=us-central1   (deploy.env)" in done.stderr
    assert "  CPU=1   (default)" in done.stderr


def test_a_relative_settings_path_is_read_from_where_deploy_sh_is_run(deploy):
    settings_file(deploy, f"PROJECT_ID={PROJECT}\nTIKTOK_APP_ID=7000000000000000001\n")
    done = deploy.run("--settings=deploy.env", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert '  + TIKTOK_APP_ID="7000000000000000001"' in done.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("TIKTOK_PIXELID=C1", "deploy.env line 2: TIKTOK_PIXELID is not a setting"),
        ("this is not a setting", "deploy.env line 2: expected NAME=value"),
        (
            f"TIKTOK_ACCESS_TOKEN={TOKEN}",
            "deploy.env line 2: TIKTOK_ACCESS_TOKEN is never deployed",
        ),
        ("API_KEY=k-123", "deploy.env line 2: API_KEY is never deployed"),
        (f"TIKTOK_PIXEL_ID={PIXEL}", "deploy.env line 2: TIKTOK_PIXEL_ID is set twice"),
    ],
)
def test_a_bad_line_stops_before_any_call(deploy, line, message):
    path = settings_file(deploy, f"TIKTOK_PIXEL_ID={PIXEL}\n{line}\n")
    done = deploy.run("--settings", str(path), PROJECT_ID=PROJECT)
    assert done.returncode != 0
    assert message in done.stderr
    assert TOKEN not in done.stderr
    assert deploy.calls() == []


def test_a_missing_settings_file_is_a_clear_error(deploy):
    done = deploy.run("--settings", "nowhere.env", PROJECT_ID=PROJECT)
    assert done.returncode != 0
    assert "cannot read the settings file" in done.stderr


def test_no_event_source_id_at_all_is_refused(deploy):
    done = deploy.run(stdin=TOKEN, PROJECT_ID=PROJECT, TIKTOK_TEST_EVENT_CODE="TEST1")
    assert done.returncode != 0
    assert "no event source id: set at least one of TIKTOK_PIXEL_ID" in done.stderr
    assert deploy.calls() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEMORY", "512"),
        ("CPU", "one"),
        ("TIMEOUT", "-1s"),
        ("CONCURRENCY", "0"),
        ("MAX_INSTANCES", "ten"),
        ("FUNCTION_NAME", 'x"y'),
        ("FUNCTION_NAME", "Tiktok_Events"),
        ("REGION", "europe west1"),
        ("PROJECT_ID", "My Project"),
        ("BUILD_SERVICE_ACCOUNT", "projects/p/serviceAccounts/b@p.iam.gserviceaccount.com"),
        ("PUBLIC_WITH_API_KEY", "maybe"),
        ("ALERT_NOTIFICATION_CHANNELS", "ops@example.com"),
    ],
)
def test_a_deployment_setting_out_of_its_form_is_named(deploy, name, value):
    settings = {"PROJECT_ID": PROJECT, "TIKTOK_PIXEL_ID": PIXEL, name: value}
    done = deploy.run(stdin=TOKEN, **settings)
    assert done.returncode != 0
    assert f"deploy.sh: {name} must be" in done.stderr
    assert deploy.calls() == []


def test_sizing_settings_reach_the_deploy_command(deploy):
    done = deploy.run(
        stdin=TOKEN, PROJECT_ID=PROJECT, TIKTOK_PIXEL_ID=PIXEL,
        MEMORY="1Gi", CPU="2", CONCURRENCY="8", THREADS="4", TIMEOUT="120s", MAX_INSTANCES="3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (deployed,) = deploy.calls_to("functions", "deploy")
    for expected in (
        "--memory=1Gi", "--cpu=2", "--concurrency=8", "--timeout=120s", "--max-instances=3",
    ):  # fmt: skip
        assert expected in deployed["args"]
    assert deployed_env(deploy)["THREADS"] == "4"


def test_the_difference_from_the_current_environment_is_printed_before_deploying(deploy):
    first = deploy.run(
        stdin=TOKEN, PROJECT_ID=PROJECT, TIKTOK_PIXEL_ID=PIXEL, TIKTOK_TEST_EVENT_CODE="TEST1",
        TIKTOK_EVENT_MAPPING=MAPPING,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "Function settings of the new function tiktok-events" in first.stderr
    # Someone once put the token itself on the function: its value is never shown.
    deploy.state["functions"]["tiktok-events"]["env"]["TIKTOK_ACCESS_TOKEN"] = TOKEN

    done = deploy.run(
        PROJECT_ID=PROJECT, TIKTOK_PIXEL_ID="CPIXEL0000000000000B", TIKTOK_APP_ID="7000000000000000001",
        TIKTOK_EVENT_MAPPING=MAPPING,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    block = done.stderr.split("compared with what tiktok-events has now")[1].split("\n\n")[0]
    lines = sorted(block.strip().splitlines()[1:])
    assert lines == sorted(
        [
            '  ~ TIKTOK_PIXEL_ID: "CPIXEL0000000000000A" -> "CPIXEL0000000000000B"',
            '  + TIKTOK_APP_ID="7000000000000000001"',
            '  - TIKTOK_TEST_EVENT_CODE (was "TEST1"; it goes back to its default)',
            "  - TIKTOK_ACCESS_TOKEN (was (value hidden); it goes back to its default)",
        ]
    )
    assert TOKEN not in done.stderr + done.stdout
    # The difference comes before the deploy.
    assert done.stderr.index("compared with what") < done.stderr.index("+ gcloud functions deploy")


def test_going_live_by_removing_the_test_code_keeps_every_other_setting(deploy):
    """The README's "before going live" step: remove TIKTOK_TEST_EVENT_CODE from the settings file
    and deploy again. The pixel stays; the difference names the one removal."""
    text = f"PROJECT_ID={PROJECT}\nTIKTOK_PIXEL_ID={PIXEL}\nTIKTOK_APP_ID=7000000000000000001\n"
    path = settings_file(deploy, text + "TIKTOK_TEST_EVENT_CODE=TEST1\n")
    assert deploy.run("--settings", str(path), stdin=TOKEN).returncode == 0
    assert deployed_env(deploy)["TIKTOK_TEST_EVENT_CODE"] == "TEST1"

    settings_file(deploy, text)
    done = deploy.run("--settings", str(path))
    assert done.returncode == 0, done.stderr
    env = deployed_env(deploy)
    assert "TIKTOK_TEST_EVENT_CODE" not in env
    assert (env["TIKTOK_PIXEL_ID"], env["TIKTOK_APP_ID"]) == (PIXEL, "7000000000000000001")
    block = done.stderr.split("compared with what tiktok-events has now")[1].split("\n\n")[0]
    assert block.strip().splitlines()[1:] == [
        '  - TIKTOK_TEST_EVENT_CODE (was "TEST1"; it goes back to its default)'
    ]


def deploy_sh_list(name: str) -> list[str]:
    """The names of a bash array of deploy.sh (``NAME=( ... )``)."""
    text = (ROOT / "deploy.sh").read_text()
    match = re.search(rf"^{name}=\(\n?(.*?)\)", text, re.M | re.S)
    assert match, name
    return match.group(1).split()


def test_the_template_names_every_setting_and_deploys_as_is(deploy):
    template = (ROOT / "deploy.env.example").read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", template, re.M))
    function_settings = {row[0] for row in (*MAPPING_SETTINGS, *SERVICE_SETTINGS)}
    expected = (
        set(deploy_sh_list("DEPLOYMENT_SETTINGS"))
        | set(deploy_sh_list("FUNCTION_SETTINGS"))
        | (function_settings - SET_BY_DEPLOY - LOCAL_ONLY)
    )
    assert named == expected
    assert set(
        deploy_sh_list("FUNCTION_SETTINGS")
    ) == function_settings - SET_BY_DEPLOY - LOCAL_ONLY - {"THREADS"}
    # As shipped (its project replaced by the environment's), it deploys.
    done = deploy.run(
        "--settings", str(ROOT / "deploy.env.example"), stdin=TOKEN, PROJECT_ID=PROJECT
    )
    assert done.returncode == 0, done.stderr
    assert deployed_env(deploy)["TIKTOK_PIXEL_ID"] == "C0123456789ABCDEFGHI"
    assert "  PROJECT_ID=acme-events   (environment)" in done.stderr


def readme_section(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n### {heading}\n")
    return text[start : text.index("\n### ", start + 1)]


def test_the_readme_lists_every_deployment_setting_and_every_role_deploy_sh_relies_on():
    settings = readme_section("Settings")
    for name in deploy_sh_list("DEPLOYMENT_SETTINGS"):
        assert f"`{name}`" in settings, name
    roles = readme_section("Roles")
    script = (ROOT / "deploy.sh").read_text()
    for role in sorted(
        set(re.findall(r"roles/[a-zA-Z.]+[a-zA-Z]", script)) - {"roles/editor", "roles/owner"}
    ):
        assert f"`{role}`" in roles or role in roles, role
