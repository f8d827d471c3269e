"""A fuzzing campaign (``python -m tests.fuzz``, ``make fuzz``) on every core, then reproducers.

Cases ``0 … bodies-1`` of the fuzz seed are shared out in chunks to worker processes; each
keeps, for every class of failure, how often it came and its first case. At the end every class
gets one reproducer, reduced and written to ``--out`` (one JSON file per class, and
``summary.txt``). The exit status is 1 when anything was found.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import GUARD_ENV

os.environ.update(GUARD_ENV)  # before any Google library is imported, as tests/conftest.py does

from tests.fuzz import harness
from tests.fuzz.corpus import configurations, seeds
from tests.fuzz.mutators import case, config_case

CHUNK = 500
_DOOR: harness.Door | None = None


def work(task: tuple[str, str, int, int]) -> dict[str, Any]:
    """Cases ``start … stop-1`` of one kind (``bodies`` or ``configurations``): how many, the
    statuses, and for every class of failure how often it came and its first case."""
    global _DOOR  # one door per worker process, reused by every chunk
    if _DOOR is None:
        _DOOR = harness.Door()
    kind, fuzz_seed, start, stop = task
    classes: dict[str, dict[str, Any]] = {}
    statuses: Counter[int] = Counter()
    for index in range(start, stop):
        if kind == "configurations":
            env, cases = config_case(fuzz_seed, index)
            failures = harness.check_configuration(env, cases)
        else:
            one = case(fuzz_seed, index)
            env = configurations()[one.configuration]
            answer = _DOOR.post(one.route, one.body, env)
            statuses[answer.status] += 1
            failures = harness.check(one, answer, env)
        for failure in failures:
            found = classes.setdefault(
                failure.signature,
                {"count": 0, "kind": kind, "index": index, "detail": failure.detail},
            )
            found["count"] += 1
    return {"kind": kind, "cases": stop - start, "classes": classes, "statuses": statuses}


def campaign(fuzz_seed: str, bodies: int, settings: int, jobs: int, out: Path) -> int:
    tasks = [
        (kind, fuzz_seed, start, min(start + CHUNK, total))
        for kind, total in (("configurations", settings), ("bodies", bodies))
        for start in range(0, total, CHUNK)
    ]
    print(
        f"fuzz seed {fuzz_seed!r}: {bodies} bodies from {len(seeds())} seeds in "
        f"{len(configurations())} configurations, and {settings} fuzzed configurations; "
        f"{jobs} processes",
        flush=True,
    )
    classes: dict[str, dict[str, Any]] = {}
    statuses: Counter[int] = Counter()
    done: Counter[str] = Counter()
    started, last = time.perf_counter(), 0.0
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        for result in pool.imap_unordered(work, tasks):
            done[result["kind"]] += result["cases"]
            statuses.update(result["statuses"])
            for signature, found in result["classes"].items():
                kept = classes.setdefault(signature, {**found, "count": 0})
                kept["count"] += found["count"]
                if (found["kind"], found["index"]) < (kept["kind"], kept["index"]):
                    kept.update(kind=found["kind"], index=found["index"], detail=found["detail"])
            now = time.perf_counter()
            if now - last > 15 or done.total() == bodies + settings:
                last = now
                rate = done["bodies"] / (now - started)
                print(
                    f"{done['configurations']:>6} configurations {done['bodies']:>8} bodies "
                    f"({rate:5.0f} bodies/s overall)  {len(classes)} classes",
                    flush=True,
                )
    elapsed = time.perf_counter() - started
    print(f"\n{bodies} bodies and {settings} configurations in {elapsed:.0f} s")
    print("statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    write_findings(fuzz_seed, classes, out)
    return 1 if classes else 0


def write_findings(fuzz_seed: str, classes: dict[str, dict[str, Any]], out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    door = harness.Door()
    lines = []
    for signature, found in sorted(classes.items(), key=lambda item: -item[1]["count"]):
        if found["kind"] == "configurations":
            env, cases = config_case(fuzz_seed, found["index"])
            reproduced = harness.configuration_reproducer(env, cases, signature)
        else:
            one = case(fuzz_seed, found["index"])
            env = configurations()[one.configuration]
            reproduced = harness.reproducer(door, one, env, signature)
        reproduced["count"] = found["count"]
        name = harness.slug(signature) + ".json"
        text = json.dumps(reproduced, indent=2, ensure_ascii=False, default=str)
        (out / name).write_text(text, encoding="utf-8")
        body = json.dumps(abbreviated(reproduced["body"]), ensure_ascii=False)
        lines += [
            f"{found['count']:>7}  {signature}",
            f"         {found['kind']} case {fuzz_seed}:{found['index']} → {name}",
            f"         {reproduced['route']} env={reproduced['env']} body={body[:400]}",
        ]
    summary = "\n".join(lines) if lines else "no failures"
    (out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    print(f"\n{len(classes)} classes of failure (reproducers in {out}/):\n{summary}")


def abbreviated(value: Any) -> Any:
    """``value`` with long strings written as their length, for a summary one can read."""
    if isinstance(value, str) and len(value) > 40:
        return f"<{len(value)} characters: {value[:12]}…>"
    if isinstance(value, dict):
        return {key: abbreviated(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [abbreviated(inner) for inner in value]
    return value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--bodies", type=int, default=300_000)
    parser.add_argument("--configurations", type=int, default=None, help="default: bodies/50")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path(".fuzz-findings"))
    options = parser.parse_args(argv)
    settings = options.bodies // 50 if options.configurations is None else options.configurations
    return campaign(options.seed, options.bodies, settings, options.jobs, options.out)
