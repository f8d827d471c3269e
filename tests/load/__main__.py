"""``make load``: the full load with faults; prints the figures, exits 1 if anything was lost.

Options: ``--events`` (10000), ``--senders`` (16), ``--fault-rate`` (share of TikTok requests
meeting each of the four faults: 0.04), ``--deadline`` (the function's
TIKTOK_RETRY_DEADLINE_SECONDS: 2); TikTok is also down 2.5 s out of every 6.
"""

from __future__ import annotations

import argparse
import sys

from tests.load.harness import Plan, faults, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--fault-rate", type=float, default=0.04)
    parser.add_argument("--deadline", type=int, default=2)
    options = parser.parse_args()
    plan = Plan(
        events=options.events,
        senders=options.senders,
        faults=faults(options.fault_rate),
        deadline_seconds=options.deadline,
    )
    report = run(plan)
    print("\n".join(report.lines()))
    print("OK: nothing lost, no 500" if report.ok else "FAILED: see the figures above")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
