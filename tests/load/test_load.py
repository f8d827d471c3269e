"""The short load with faults, in ``make test``: the real function, 8 senders, 600 events, the
TikTok fake failing often and down 1.2 s out of every 1.5 s; nothing may be lost.

``make load`` runs the full size (``python -m tests.load``) and prints the figures.
"""

from __future__ import annotations

from tests.fakes.tiktok import TOKEN
from tests.load.harness import Plan, faults, run


def test_under_load_and_faults_every_event_reaches_tiktok_once_after_its_deduplication(tmp_path):
    """At least once, not exactly once: an answer TikTok lost (a dropped connection) makes the
    same events go again, so TikTok receives some twice; each repeat carries the same delivery key
    (``event_source_id``, ``event``, ``event_id``), which TikTok deduplicates on, so after that
    deduplication every event counts once and none is missing."""
    plan = Plan(
        events=600,
        senders=8,
        faults=faults(0.05, outage_period=1.5, outage_seconds=1.2),
        deadline_seconds=1,
    )
    report = run(plan, tmp_path / "function.log")
    print("\n".join(report.lines()))  # shown with pytest -s
    assert report.lost == 0
    assert report.unexpected_keys == 0
    assert report.answers[500] == 0
    assert set(report.answers) <= {200, 503}, report.answers
    assert report.gave_up == 0
    # The faults really happened: TikTok's outages reached some senders, who posted again, and
    # every answer TikTok lost (a dropped connection) made at least one repeat TikTok dropped.
    assert report.answers[503] > 0
    assert report.retries == report.answers[503]
    assert report.duplicates >= plan.faults.injected["dropped"] > 0
    # Shared per-instance state held up under gunicorn's threads: one fetch of each secret (the
    # token, the caller key), and every post to TikTok carried that token.
    assert report.secret_fetches == 2
    assert report.tokens_seen == {TOKEN}
    assert not report.personal_in_log
