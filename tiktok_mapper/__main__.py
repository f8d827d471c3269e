"""The command line: ``python -m tiktok_mapper preview --route commandersact FILE``.

*Preview* shows what the function would do with a request body, offline: it prints to stdout the
answer the function gives in dry run (the per-event report and, under ``payloads``, the TikTok
request bodies exactly as they would be POSTed, personal data hashed), and on stderr the HTTP
status the function would answer with. It reads the same configuration variables as the
function (``TIKTOK_PIXEL_ID``, ``TIKTOK_EVENT_MAPPING`` …), nothing is sent and no token is needed.

Like ``main.py`` this module is an edge: it reads the environment, the clock and the file, and
hands them to the pure core (``body``, ``config``, ``pipeline``, ``report``). Nothing in the core
imports it.

Exit status: 0 when every event would go through (sent or skipped), 1 when an event is rejected
or failed (a configuration error such as a missing pixel id), 2 when the command, the
configuration or the body as a whole is wrong (the reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import BinaryIO, TextIO

from tiktok_mapper import pipeline, report
from tiktok_mapper.body import BodyError
from tiktok_mapper.config import ConfigError

OK, EVENT_NOT_THROUGH, UNUSABLE = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="python -m tiktok_mapper",
        description="Offline tools for tiktok-events (the configuration comes from the environment).",
    )
    commands = command.add_subparsers(dest="command", required=True)
    preview = commands.add_parser(
        "preview",
        help="print the TikTok request bodies and the per-event report for a request body",
        description=(
            "Print what the function would answer in dry run for this request body: the "
            "per-event report, and the TikTok request bodies under 'payloads'. Nothing is sent."
        ),
    )
    preview.add_argument(
        "--route",
        required=True,
        help="the route the body would be posted to, without the slash (commandersact, …)",
    )
    preview.add_argument("file", help="a JSON request body; '-' reads stdin")
    return command


def main(
    argv: Sequence[str] | None = None,
    environment: Mapping[str, str] = os.environ,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    arguments = parser().parse_args(argv)

    def unusable(message: str) -> int:
        print(f"preview: {message}", file=err)
        return UNUSABLE

    try:
        setup = pipeline.from_environment(environment)
    except ConfigError as error:
        return unusable(str(error))
    routes = pipeline.configure(setup)
    route = routes.get(arguments.route)
    if route is None:
        return unusable(f"unknown route {arguments.route!r}; known: " + ", ".join(routes))
    try:
        if arguments.file == "-":
            raw = (stdin or sys.stdin.buffer).read()
        else:
            with open(arguments.file, "rb") as file:
                raw = file.read()
    except OSError as error:
        return unusable(f"cannot read {arguments.file}: {error.strerror}")
    try:
        plan = pipeline.plan_body(route, raw, setup.config, clock())
    except BodyError as error:
        return unusable(f"{error.message} (the function would answer HTTP {error.status})")

    requests, payloads = pipeline.would_send(plan)
    answer = report.answer(
        plan.results,
        requests,
        dry_run=True,
        payloads=[json.loads(payload) for payload in payloads],
        warnings=plan.warnings,
        match_keys=plan.match_keys,
    )
    print(json.dumps(answer, indent=2, ensure_ascii=False), file=out)
    counts = ", ".join(f"{answer[s]} {s}" for s in report.STATUSES if answer[s])
    print(f"HTTP {report.http_status(answer)}: {counts}", file=err)
    went_through = all(r["status"] in report.WENT_THROUGH for r in answer["results"])
    return OK if went_through else EVENT_NOT_THROUGH


if __name__ == "__main__":
    sys.exit(main())
