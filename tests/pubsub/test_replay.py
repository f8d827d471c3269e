"""The replay command (``python -m service.replay``) against the emulator: the dead letters go
back to the retry topic as they were, only what was published is acknowledged, and a failure
leaves the rest in the dead-letter subscription."""

from __future__ import annotations

import pytest

from service.replay import main

LETTER = {
    "kind": "tiktok_request",
    "event_source": "web",
    "event_source_id": "CPIXEL0000000000000A",
    "events": "1",
    "queued_at": "2026-11-30T10:00:00.000000Z",
}
FROM_PUBSUB = {  # what Pub/Sub adds when it dead-letters a message
    "CloudPubSubDeadLetterSourceDeliveryCount": "5",
    "CloudPubSubDeadLetterSourceSubscription": "tiktok-events-retry-push",
}


@pytest.fixture
def dead(emulator, name):
    """(the dead-letter topic, its pull subscription), three letters waiting."""
    topic = emulator.topic(name("dead-letter"))
    subscription = emulator.subscription(name("dead-letters"), topic)
    for number in range(3):
        emulator.publish(topic, b'{"n": %d}' % number, {**LETTER, **FROM_PUBSUB})
    return topic, subscription


def run(emulator, *arguments: str) -> int:
    environment = {"PUBSUB_EMULATOR_HOST": emulator.host, "GOOGLE_CLOUD_PROJECT": "test-project"}
    return main(list(arguments), environment)


def test_the_dead_letters_go_back_to_the_retry_topic_as_they_were(
    emulator, dead, retry_topic, queue, capsys
):
    _, subscription = dead
    assert (
        run(emulator, "--subscription", subscription.rpartition("/")[2], "--topic", retry_topic)
        == 0
    )
    assert "done: 3 messages replayed" in capsys.readouterr().out
    replayed = emulator.wait_for(queue, 3, 10)
    assert sorted(m["data"] for m in replayed) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    assert all(m["attributes"] == LETTER for m in replayed)  # queued_at kept; Pub/Sub's left out
    assert emulator.pull(subscription) == []  # acknowledged


def test_a_limit_replays_that_many(emulator, dead, retry_topic, queue):
    _, subscription = dead
    assert (
        run(emulator, "--subscription", subscription, "--topic", retry_topic, "--limit", "2") == 0
    )
    assert len(emulator.wait_for(queue, 2, 10)) == 2
    assert len(emulator.pull(subscription)) == 1


def test_a_failure_acknowledges_nothing_it_did_not_publish(emulator, dead, capsys):
    _, subscription = dead
    missing = "projects/test-project/topics/no-such-retry-topic"
    assert run(emulator, "--subscription", subscription, "--topic", missing) == 1
    assert "NOT_FOUND" in capsys.readouterr().err
    assert len(emulator.pull(subscription)) == 3  # released at once, for the next run


def test_bad_names_are_refused_before_anything_is_pulled(emulator, dead, capsys):
    with pytest.raises(SystemExit) as stopped:
        run(emulator, "--subscription", "projects//subscriptions/x", "--topic", "retry")
    assert stopped.value.code == 2
    assert "--subscription must be a subscription id" in capsys.readouterr().err
