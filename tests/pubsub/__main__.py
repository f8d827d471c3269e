"""``make outage``: the issue's full test, a minute-long TikTok outage while 5,000 events come
from senders that never resend; prints the figures, exits 1 if anything was lost.

Options: ``--events`` (5000), ``--outage`` (seconds TikTok is down: 60), ``--senders`` (48),
``--deadline`` (the function's TIKTOK_RETRY_DEADLINE_SECONDS: 1). ``make test`` runs the same
with a 12-second outage (``test_flow.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.pubsub.emulator import Emulator
from tests.pubsub.outage import Plan, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pubsub", description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--outage", type=float, default=60.0)
    parser.add_argument("--senders", type=int, default=48)
    parser.add_argument("--deadline", type=int, default=1)
    options = parser.parse_args()
    plan = Plan(
        events=options.events,
        outage=options.outage,
        senders=options.senders,
        deadline_seconds=options.deadline,
    )
    with tempfile.TemporaryDirectory() as scratch:
        emulator = Emulator(Path(scratch) / "emulator.log")
        try:
            report = run(plan, emulator)
        finally:
            emulator.close()
    print("\n".join(report.lines()))
    print("OK: nothing lost" if report.ok else "FAILED: see the figures above")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
