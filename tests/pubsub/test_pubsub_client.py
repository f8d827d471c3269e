"""The parts of the Pub/Sub client that need no server: names, and how messages are grouped into
publish requests under Pub/Sub's limits (the calls themselves run against the emulator in the
other tests)."""

from __future__ import annotations

import pytest

from service.pubsub import MAX_MESSAGES, MAX_PUBLISH_BYTES, Message, publish_requests, resource_name
from tiktok_mapper.config import ConfigError


def test_messages_are_grouped_in_order_under_the_limits():
    big = [Message(b"x" * 2**20, {"n": str(n)}) for n in range(10)]  # 1.4 MB each in base64
    groups = publish_requests(big)
    assert [m.attributes["n"] for group in groups for m in group] == [str(n) for n in range(10)]
    assert all(sum(len(m.data) * 4 / 3 for m in group) <= MAX_PUBLISH_BYTES for group in groups)
    assert len(groups) == 2
    small = [Message(b"{}") for _ in range(MAX_MESSAGES + 1)]
    assert [len(group) for group in publish_requests(small)] == [MAX_MESSAGES, 1]


@pytest.mark.parametrize(
    ("value", "project", "expected"),
    [
        ("retry", "my-project", "projects/my-project/topics/retry"),
        (
            "projects/other/topics/tiktok-events-retry",
            None,
            "projects/other/topics/tiktok-events-retry",
        ),
    ],
)
def test_a_topic_is_a_full_name_or_an_id_in_the_project(value, project, expected):
    assert resource_name("TIKTOK_RETRY_TOPIC", value, "topics", project) == expected


@pytest.mark.parametrize(
    ("value", "project", "message"),
    [
        ("retry", None, "TIKTOK_RETRY_TOPIC is a bare id: set GOOGLE_CLOUD_PROJECT"),
        ("ab", "p-1", "TIKTOK_RETRY_TOPIC must be a topic id"),
        ("google-topic", "p-1", "TIKTOK_RETRY_TOPIC must be a topic id"),
        ("projects/p/subscriptions/s", "p-1", "TIKTOK_RETRY_TOPIC must be a topic id"),
        ("projects/p/topics/a/b", "p-1", "TIKTOK_RETRY_TOPIC must be a topic id"),
    ],
)
def test_a_topic_of_another_shape_stops_the_start_naming_the_variable(value, project, message):
    with pytest.raises(ConfigError) as raised:
        resource_name("TIKTOK_RETRY_TOPIC", value, "topics", project)
    assert str(raised.value).startswith(message)


def test_a_bad_topic_stops_the_function_at_start(make_client):
    from tests.conftest import COMPLETE

    with pytest.raises(ConfigError) as raised:
        make_client(**COMPLETE, TIKTOK_RETRY_TOPIC="projects//topics/x")
    assert "TIKTOK_RETRY_TOPIC" in str(raised.value)
