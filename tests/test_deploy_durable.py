"""deploy.sh with DURABLE=true, against the fake ``gcloud``: the retry and dead-letter topics,
the push subscription to ``URL/pubsub`` with its own identity, its retry policy, dead-letter
policy, acknowledgement deadline and retention, the pull subscription that keeps the dead
letters, the narrowest grants, and ``TIKTOK_RETRY_TOPIC`` on the function; idempotent and shown
by ``--dry-run``. The fake checks the flags as Pub/Sub does (``tests/fake_gcloud.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import GUARD_ENV, ROOT
from tests.fake_gcloud import PROJECT, PROJECT_NUMBER, URL
from tests.gcloud_sandbox import Sandbox
from tests.test_deploy import BASE, SA, TOKEN, changes, env_file, flag

DURABLE = {**BASE, "DURABLE": "true"}
PUSH = f"tiktok-events-push@{PROJECT}.iam.gserviceaccount.com"
AGENT = f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
PUBSUB_CHANGES = [
    "pubsub topics create tiktok-events-retry",
    "pubsub topics create tiktok-events-dead-letter",
    "pubsub topics add-iam-policy-binding tiktok-events-retry",
    "pubsub subscriptions create tiktok-events-dead-letters",
    "pubsub topics add-iam-policy-binding tiktok-events-dead-letter",
    "iam service-accounts create tiktok-events-push",
    f"iam service-accounts add-iam-policy-binding {PUSH}",
]


@pytest.fixture
def deploy(tmp_path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path, ROOT, GUARD_ENV)
    yield sandbox
    sandbox.close()


def test_a_first_durable_deploy_creates_the_whole_route(deploy):
    done = deploy.run(stdin=TOKEN, **DURABLE)
    assert done.returncode == 0, done.stderr
    made = changes(deploy)
    assert "pubsub.googleapis.com" in made[0]  # the API is enabled with the others
    start = made.index(PUBSUB_CHANGES[0])
    assert made[start : start + len(PUBSUB_CHANGES)] == PUBSUB_CHANGES
    assert made[-3:] == [
        "functions add-invoker-policy-binding tiktok-events",
        "pubsub subscriptions create tiktok-events-retry-push",
        "pubsub subscriptions add-iam-policy-binding tiktok-events-retry-push",
    ]
    assert made.index("functions deploy tiktok-events") < len(made) - 3  # URL known first

    (deployed,) = deploy.calls_to("functions", "deploy")
    assert (
        env_file(deployed)["TIKTOK_RETRY_TOPIC"] == f"projects/{PROJECT}/topics/tiktok-events-retry"
    )
    assert "PUBSUB_PUSH_SERVICE_ACCOUNT" not in env_file(deployed)  # IAM mode: Google checks

    state = deploy.state
    topics, subscriptions = state["topics"], state["subscriptions"]
    publisher = "roles/pubsub.publisher"
    assert topics["tiktok-events-retry"]["bindings"] == {publisher: [f"serviceAccount:{SA}"]}
    assert topics["tiktok-events-dead-letter"]["bindings"] == {publisher: [AGENT]}
    push = subscriptions["tiktok-events-retry-push"]
    assert push["topic"] == "tiktok-events-retry"
    assert push["options"] == {
        "push-endpoint": f"{URL}/pubsub",
        "push-auth-service-account": PUSH,
        "push-auth-token-audience": URL,
        "min-retry-delay": "10s",
        "max-retry-delay": "600s",
        "dead-letter-topic": f"projects/{PROJECT}/topics/tiktok-events-dead-letter",
        "max-delivery-attempts": "50",
        "ack-deadline": "90",  # above TIMEOUT (60s)
        "message-retention-duration": "7d",
        "expiration-period": "never",
    }
    assert push["bindings"] == {"roles/pubsub.subscriber": [AGENT]}
    kept = subscriptions["tiktok-events-dead-letters"]
    assert kept["topic"] == "tiktok-events-dead-letter"
    assert kept["options"]["message-retention-duration"] == "7d"
    assert kept["options"]["expiration-period"] == "never"
    assert state["account_bindings"] == {PUSH: {"roles/iam.serviceAccountTokenCreator": [AGENT]}}
    assert state["functions"]["tiktok-events"]["invokers"] == [f"serviceAccount:{PUSH}"]
    # The runtime account may publish to the retry topic and to nothing else.
    everywhere = json.dumps([topics, subscriptions, state.get("account_bindings")])
    assert everywhere.count(f"serviceAccount:{SA}") == 1
    assert "python -m service.replay" in done.stdout
    assert "tiktok-events-dead-letters" in done.stdout


def test_a_durable_re_deploy_creates_nothing_and_re_states_the_rest(deploy):
    assert deploy.run(stdin=TOKEN, **DURABLE).returncode == 0
    before = json.dumps(deploy.state["topics"], sort_keys=True)
    done = deploy.run(**DURABLE, MAX_DELIVERY_ATTEMPTS="100", TIMEOUT="120s")
    assert done.returncode == 0, done.stderr
    made = changes(deploy)
    assert not [c for c in made if " create " in f" {c} "]
    assert "pubsub subscriptions update tiktok-events-retry-push" in made
    assert "pubsub subscriptions update tiktok-events-dead-letters" in made
    options = deploy.state["subscriptions"]["tiktok-events-retry-push"]["options"]
    assert (options["max-delivery-attempts"], options["ack-deadline"]) == ("100", "150")
    assert json.dumps(deploy.state["topics"], sort_keys=True) == before  # bindings not doubled
    assert "  (no change)" in done.stderr  # the function's settings did not change


def test_public_mode_tells_the_function_whose_push_tokens_to_take(deploy):
    done = deploy.run(stdin=TOKEN, **DURABLE, PUBLIC_WITH_API_KEY="true")
    assert done.returncode == 0, done.stderr
    env = deploy.state["functions"]["tiktok-events"]["env"]
    assert env["PUBSUB_PUSH_SERVICE_ACCOUNT"] == PUSH
    assert "PUBSUB_PUSH_AUDIENCE" not in env  # the function's URL, by default


def test_a_dry_run_shows_the_durable_route_and_changes_nothing(deploy):
    before = json.dumps(deploy.state, sort_keys=True)
    done = deploy.run("--dry-run", stdin=TOKEN, **DURABLE)
    assert done.returncode == 0, done.stderr
    assert changes(deploy) == []
    assert json.dumps(deploy.state, sort_keys=True) == before
    printed = [line[2:] for line in done.stderr.splitlines() if line.startswith("+ gcloud ")]
    for expected in [*PUBSUB_CHANGES, "pubsub subscriptions create tiktok-events-retry-push"]:
        words = expected.split()
        assert any(line.split()[1 : 1 + len(words)] == words for line in printed), expected
    push = next(line for line in printed if "tiktok-events-retry-push" in line and "create" in line)
    assert "--push-endpoint=https://FUNCTION-URL/pubsub" in push


def test_a_timeout_pubsub_cannot_wait_for_is_refused_before_any_change(deploy):
    done = deploy.run(stdin=TOKEN, **DURABLE, TIMEOUT="10m")
    assert done.returncode != 0
    assert "TIMEOUT must be at most 570s" in done.stderr
    assert changes(deploy) == []


@pytest.mark.parametrize(("name", "value"), [("MAX_DELIVERY_ATTEMPTS", "4"), ("DURABLE", "sure")])
def test_a_durable_setting_out_of_its_form_is_named(deploy, name, value):
    done = deploy.run(stdin=TOKEN, **{**DURABLE, name: value})
    assert done.returncode != 0
    assert f"deploy.sh: {name} must be" in done.stderr
    assert deploy.calls() == []


def test_the_retry_topic_is_not_a_setting_of_the_settings_file(deploy):
    settings = deploy.tmp / "deploy.env"
    settings.write_text("TIKTOK_PIXEL_ID=CPIXEL0000000000000A\nTIKTOK_RETRY_TOPIC=mine\n")
    done = deploy.run("--settings", str(settings), stdin=TOKEN, PROJECT_ID=PROJECT)
    assert done.returncode != 0
    assert "TIKTOK_RETRY_TOPIC is set by deploy.sh: set DURABLE=true" in done.stderr
    assert deploy.calls() == []


def test_without_durable_nothing_of_pubsub_is_touched(deploy):
    done = deploy.run(stdin=TOKEN, **BASE)
    assert done.returncode == 0, done.stderr
    assert not [call for call in deploy.calls() if "pubsub" in " ".join(call["args"])]
    assert "TIKTOK_RETRY_TOPIC" not in deploy.state["functions"]["tiktok-events"]["env"]


def test_the_push_token_flag_is_what_the_push_subscription_uses(deploy):
    assert deploy.run(stdin=TOKEN, **DURABLE).returncode == 0
    (created,) = [
        call for call in deploy.calls_to("pubsub", "subscriptions", "create")
        if "tiktok-events-retry-push" in call["args"]
    ]  # fmt: skip
    assert flag(created, "push-auth-service-account") == PUSH
    assert flag(created, "labels") == "app=tiktok-events,function=tiktok-events"
