"""``python -m service.replay``: send the dead letters back through the retry topic.

Once the cause is fixed (TikTok back, the token or a setting corrected), this pulls the
dead-letter subscription, publishes each message again to the retry topic (its data and its
attributes as they were, so ``queued_at`` still says when it was first queued; Pub/Sub's own
``CloudPubSubDeadLetter…`` attributes are left out) and acknowledges only what was published:
a message whose publishing failed is released at once, for the next run.

Words used here: a *round* is one pull (up to :data:`ROUND` messages), their publishing and the
acknowledgement of what was published. The replay stops when a pull finds nothing (twice, a
second apart: a pull may come back empty while messages remain), when ``--limit`` messages
were replayed, or at the first failure (exit status 1).

It runs with your Application Default Credentials (``gcloud auth application-default login``):
you need ``roles/pubsub.subscriber`` on the dead-letter subscription and
``roles/pubsub.publisher`` on the retry topic. With ``PUBSUB_EMULATOR_HOST`` set it talks to
the emulator. Nothing of a message's data is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from service.pubsub import Message, PubSub, PubSubError, Received, resource_name
from tiktok_mapper.config import ConfigError

ROUND = 100
EMPTY_PULLS = 2  # pulls in a row that find nothing before the replay ends
DEAD_LETTER_PREFIX = "CloudPubSubDeadLetter"


def republished(received: Received) -> Message:
    attributes = {
        name: value
        for name, value in received.message.attributes.items()
        if not name.startswith(DEAD_LETTER_PREFIX)
    }
    return Message(received.message.data, attributes)


def replay(
    pubsub: PubSub,
    subscription: str,
    topic: str,
    limit: int | None = None,
    say: Callable[[str], None] = print,
    pause: float = 1.0,
) -> int:
    """Replay up to ``limit`` dead letters; how many were replayed. Raises ``PubSubError`` at
    the first failure, after acknowledging what was published before it."""
    replayed, empty = 0, 0
    while limit is None or replayed < limit:
        most = ROUND if limit is None else min(ROUND, limit - replayed)
        received = pubsub.pull(subscription, most)
        if not received:
            empty += 1
            if empty >= EMPTY_PULLS:
                break
            time.sleep(pause)
            continue
        empty = 0
        try:
            ids = pubsub.publish(topic, [republished(one) for one in received])
        except PubSubError as error:
            done = len(error.published)
            pubsub.acknowledge(subscription, [one.ack_id for one in received[:done]])
            pubsub.release(subscription, [one.ack_id for one in received[done:]])
            say(f"replayed {replayed + done} messages, then: {error.message}")
            raise
        pubsub.acknowledge(subscription, [one.ack_id for one in received])
        replayed += len(ids)
        say(f"replayed {replayed} messages so far")
    return replayed


def main(
    arguments: Sequence[str] | None = None, environment: Mapping[str, str] | None = None
) -> int:
    environment = os.environ if environment is None else environment
    parser = argparse.ArgumentParser(
        prog="python -m service.replay",
        description="Publish the messages of the dead-letter subscription to the retry topic "
        "again, acknowledging only what was published.",
    )
    parser.add_argument(
        "--subscription", required=True,
        help="the dead-letter subscription: projects/P/subscriptions/S, or S in --project",
    )  # fmt: skip
    parser.add_argument(
        "--topic", default=environment.get("TIKTOK_RETRY_TOPIC"),
        help="the retry topic: projects/P/topics/T, or T in --project (default: "
        "TIKTOK_RETRY_TOPIC)",
    )  # fmt: skip
    parser.add_argument(
        "--project", default=environment.get("GOOGLE_CLOUD_PROJECT"),
        help="the project of bare ids (default: GOOGLE_CLOUD_PROJECT)",
    )  # fmt: skip
    parser.add_argument("--limit", type=int, help="replay at most this many messages")
    options = parser.parse_args(arguments)
    if not options.topic:
        parser.error("--topic is needed (or TIKTOK_RETRY_TOPIC)")
    try:
        subscription = resource_name(
            "--subscription", options.subscription, "subscriptions", options.project
        )
        topic = resource_name("--topic", options.topic, "topics", options.project)
    except ConfigError as error:
        parser.error(str(error))
    pubsub = PubSub(environment.get("PUBSUB_EMULATOR_HOST") or None)
    print(f"replaying {subscription} to {topic}")
    try:
        replayed = replay(pubsub, subscription, topic, options.limit)
    except PubSubError as error:
        print(f"stopped: {error.message}", file=sys.stderr)
        return 1
    print(f"done: {replayed} messages replayed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
