"""The README's picture of the dashboard, drawn from a local run (``make picture``).

Words used here:

- *run*: the real function (``functions-framework`` on 127.0.0.1) delivering to the loopback
  TikTok fake of ``tests/fakes/``, while senders post events for :data:`SECONDS` seconds through
  *phases*: normal traffic, a spell where TikTok refuses some events (code 40002), an outage
  (HTTP 503, longer than the function's retry deadline, so it answers 503), throttling (code
  40100, retried), and normal traffic again.
- *line*: one request log line of the function, stamped with the second of the run it came at.
- *bucket*: :data:`BUCKET` seconds of the run; the dashboard's charts have one point a minute.
- *chart*: what a tile of ``monitoring/dashboard.json`` shows, computed from the lines the way
  its log-based metric reads them (the ``EXTRACT`` paths and label regexes of
  ``monitoring/metrics/``, a list read as its JSON text).

It writes ``monitoring/dashboard.svg``: an SVG drawn by hand, so no plotting library is needed.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from typing import Any
from xml.sax.saxutils import escape

import requests

from tests.conftest import COMPLETE, GUARD_ENV, ROOT
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN, FakeTikTok, Faults
from tests.load.harness import make_event
from tests.process import free_port, wait_for_health

SECONDS = 60
BUCKET = 5
SENDERS = 4
PHASES = ((0, "normal"), (18, "refusals"), (28, "outage"), (38, "throttled"), (46, "normal"))
METRICS = ROOT / "monitoring" / "metrics"
OUT = ROOT / "monitoring" / "dashboard.svg"
STATUS_COLOURS = {
    "sent": "#34a853", "queued": "#4285f4", "skipped": "#9aa0a6", "rejected": "#fbbc04",
    "failed": "#ea4335",
}  # fmt: skip
HTTP_COLOURS = {
    "200": "#34a853",
    "207": "#fbbc04",
    "400": "#f29900",
    "502": "#a142f4",
    "503": "#ea4335",
}
PALETTE = ("#4285f4", "#ea4335", "#fbbc04", "#34a853", "#a142f4", "#24c1e0", "#f538a0")


# ---- the run -------------------------------------------------------------------------------------


def phase_at(second: float) -> str:
    return [name for start, name in PHASES if second >= start][-1]


def body(route: str, number: int, chooser: random.Random, bad_ids: set[str]) -> list[Any]:
    """1 to 4 events for ``route``; a few invalid or without a TikTok event, some TikTok refuses."""
    events: list[Any] = []
    for index in range(chooser.randint(1, 4)):
        event_id = f"PIC-{number}-{index}"
        roll = chooser.random()
        if route == "/commandersact" and roll < 0.06:
            events.append({"event_name": "purchase", "value": "not a number"})
        elif route == "/commandersact" and roll < 0.14:
            events.append({"event_name": "scroll", "id": event_id})
        else:
            events.append(make_event(route, event_id)[0])
            if roll > 0.8:
                bad_ids.add(event_id)  # refused only while the phase says so
    return events


def set_phase(tiktok: FakeTikTok, name: str, bad_ids: set[str]) -> None:
    tiktok.always = Reply(503, b"<html>Service Unavailable</html>") if name == "outage" else None
    tiktok.faults = Faults(throttled=0.35) if name == "throttled" else None
    tiktok.bad_event_ids = bad_ids if name == "refusals" else set()


def send(base: str, started: float, seed: int, bad_ids: set[str]) -> None:
    chooser = random.Random(seed)  # noqa: S311 (traffic, not secrets)
    routes = ("/commandersact", "/ga4", "/tiktok")
    number = seed * 100_000
    with requests.Session() as session:
        while (elapsed := time.monotonic() - started) < SECONDS:
            number += 1
            route = routes[number % 3]
            session.post(base + route, json=body(route, number, chooser, bad_ids), timeout=30)
            time.sleep(max(0.0, 0.25 - (time.monotonic() - started - elapsed)))


def collect() -> list[tuple[float, dict[str, Any]]]:
    """The request lines of one run, each with the second it came at."""
    lines: list[tuple[float, dict[str, Any]]] = []
    bad_ids: set[str] = set()
    with FakeTikTok() as tiktok:
        environment = {
            **GUARD_ENV, **COMPLETE, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TIKTOK_ACCESS_TOKEN": TOKEN, "TIKTOK_API_URL": tiktok.endpoint,
            "TIKTOK_RETRY_DEADLINE_SECONDS": "2", "GOOGLE_CLOUD_PROJECT": "local-run",
        }  # fmt: skip
        port = free_port()
        server = subprocess.Popen(  # noqa: S603 (this Python, the project's own entry point)
            [sys.executable, "-m", "functions_framework", "--target", "tiktok_events",
             "--source", str(ROOT / "main.py"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        started = 0.0

        def read() -> None:
            assert server.stdout is not None
            lines.extend(
                (time.monotonic() - started, json.loads(text))
                for text in server.stdout
                if '"latency_ms"' in text and started
            )

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            wait_for_health(base, server)
            started = time.monotonic()
            senders = [
                threading.Thread(target=send, args=(base, started, seed, bad_ids))
                for seed in range(1, SENDERS + 1)
            ]
            for sender in senders:
                sender.start()
            for start, name in PHASES:
                time.sleep(max(0.0, started + start - time.monotonic()))
                set_phase(tiktok, name, bad_ids)
            for sender in senders:
                sender.join()
        finally:
            server.terminate()
            server.wait(timeout=10)
            reader.join(timeout=5)
    return lines


# ---- the charts, read as the metrics read the lines -----------------------------------------------


def extractor(text: str) -> tuple[list[str], re.Pattern[str] | None]:
    """The ``jsonPayload`` path of an ``EXTRACT`` or ``REGEXP_EXTRACT``, and its regex."""
    match = re.fullmatch(r'(?:REGEXP_)?EXTRACT\(jsonPayload\.([\w.]+)(?:, "(.*)")?\)', text)
    assert match, text
    path, regex = match.groups()
    return path.split("."), re.compile(regex) if regex else None


def extract(line: dict[str, Any], text: str) -> Any:
    path, regex = extractor(text)
    value: Any = line
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if regex is None or value is None:
        return value
    found = regex.search(value if isinstance(value, str) else json.dumps(value))
    return found.group(1) if found else ""


def metric(name: str) -> dict[str, Any]:
    return json.loads((METRICS / f"{name}.json").read_text())


def bucket_of(second: float) -> int:
    return min(int(second // BUCKET), SECONDS // BUCKET - 1)


def per_bucket(
    lines: list[tuple[float, dict[str, Any]]], name: str, label: str | None = None
) -> dict[str, list[float]]:
    """Sum of a metric's values per bucket (a count of lines for a counter), by a label."""
    definition = metric(name)
    buckets = SECONDS // BUCKET
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * buckets)
    for second, line in lines:
        value = extract(line, definition["valueExtractor"]) if "valueExtractor" in definition else 1
        if not value:
            continue
        key = str(extract(line, definition["labelExtractors"][label])) if label else name
        sums[key][bucket_of(second)] += value
    return dict(sums)


def latency_percentiles(lines: list[tuple[float, dict[str, Any]]]) -> dict[str, list[float]]:
    definition = metric("latency")
    values: dict[int, list[float]] = defaultdict(list)
    for second, line in lines:
        values[bucket_of(second)].append(float(extract(line, definition["valueExtractor"])))
    result: dict[str, list[float]] = {}
    for share in (50, 95, 99):
        points = []
        for bucket in range(SECONDS // BUCKET):
            ordered = sorted(values.get(bucket, [0.0]))
            points.append(ordered[min(len(ordered) - 1, len(ordered) * share // 100)])
        result[f"p{share}"] = points
    return result


# ---- the drawing ---------------------------------------------------------------------------------

WIDTH, HEIGHT, PANEL_W, PANEL_H = 960, 650, 440, 230


def axis_top(values: list[float]) -> float:
    top = max([*values, 1.0])
    step = 10 ** (len(str(int(top))) - 1)
    return float((int(top / step) + 1) * step)


def panel(x: int, y: int, title: str, series: dict[str, list[float]], colours: dict[str, str],
          stacked: bool, unit: str) -> list[str]:  # fmt: skip
    """One chart: bars (stacked) or lines, an axis with its top value, a legend."""
    left, bottom, plot_w, plot_h = x + 46, y + PANEL_H - 34, PANEL_W - 60, PANEL_H - 84
    buckets = SECONDS // BUCKET
    totals = [sum(points[i] for points in series.values()) for i in range(buckets)]
    top = axis_top(totals if stacked else [v for points in series.values() for v in points])
    svg = [
        f'<text x="{x}" y="{y + 16}" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#5f6368"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{left}" y2="{bottom - plot_h}" stroke="#5f6368"/>',
        f'<text x="{left - 6}" y="{bottom - plot_h + 4}" font-size="10" text-anchor="end">{top:g}</text>',
        f'<text x="{left - 6}" y="{bottom + 4}" font-size="10" text-anchor="end">0</text>',
        f'<text x="{left - 6}" y="{bottom - plot_h - 8}" font-size="10" text-anchor="end">{escape(unit)}</text>',
    ]  # fmt: skip
    slot = plot_w / buckets
    for (start, name), end in zip(PHASES, [*(p[0] for p in PHASES[1:]), SECONDS], strict=True):
        if name != "normal":
            svg.append(
                f'<rect x="{left + start / BUCKET * slot:.1f}" y="{bottom - plot_h}" '
                f'width="{(end - start) / BUCKET * slot:.1f}" height="{plot_h}" fill="#f1f3f4"/>'
                f'<text x="{left + (start + end) / 2 / BUCKET * slot:.1f}" y="{bottom - plot_h + 10}" '
                f'font-size="9" fill="#5f6368" text-anchor="middle">{name}</text>'
            )  # fmt: skip
    svg += [
        f'<text x="{left + slot * (index + 0.5):.0f}" y="{bottom + 14}" font-size="10" '
        f'text-anchor="middle">{index * BUCKET}s</text>'
        for index in range(0, buckets, 2)
    ]
    base = [0.0] * buckets
    for name, points in series.items():
        colour = colours[name]
        if stacked:
            for index, value in enumerate(points):
                if value:
                    height = value / top * plot_h
                    svg.append(
                        f'<rect x="{left + slot * index + 2:.1f}" y="{bottom - (base[index] / top * plot_h) - height:.1f}" '
                        f'width="{slot - 4:.1f}" height="{height:.1f}" fill="{colour}"/>'
                    )  # fmt: skip
                    base[index] += value
        else:
            path = " ".join(
                f"{left + slot * (i + 0.5):.1f},{bottom - v / top * plot_h:.1f}" for i, v in enumerate(points)
            )  # fmt: skip
            svg.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
    legend_x = left
    for name in series:
        svg.append(
            f'<rect x="{legend_x}" y="{y + PANEL_H - 12}" width="10" height="10" fill="{colours[name]}"/>'
        )
        svg.append(
            f'<text x="{legend_x + 14}" y="{y + PANEL_H - 3}" font-size="11">{escape(name)}</text>'
        )
        legend_x += 24 + 7 * len(name)
    return svg


def colours_for(names: list[str], known: dict[str, str]) -> dict[str, str]:
    return {name: known.get(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)}


def draw(lines: list[tuple[float, dict[str, Any]]]) -> str:
    statuses = {s: per_bucket(lines, f"events_{s}").get(f"events_{s}", [0.0] * (SECONDS // BUCKET))
                for s in STATUS_COLOURS}  # fmt: skip
    codes = per_bucket(lines, "events_failed", "tiktok_code")
    codes = {(code or "none (deadline)"): points for code, points in sorted(codes.items())}
    http = dict(sorted(per_bucket(lines, "requests", "http_status").items()))
    latency = latency_percentiles(lines)
    per = f"per {BUCKET} s"
    phases = " · ".join(f"{start}s {name}" for start, name in PHASES)
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="Helvetica, Arial, sans-serif" fill="#202124">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        '<text x="20" y="28" font-size="17" font-weight="bold">tiktok-events: the dashboard\'s '
        "charts, drawn from a local run</text>",
        f'<text x="20" y="48" font-size="11" fill="#5f6368">{len(lines)} request log lines of '
        f"the real function against the TikTok fake, read as the log-based metrics read them; "
        f"{SECONDS} s in buckets of {BUCKET} s (the dashboard plots per minute).</text>",
        f'<text x="20" y="64" font-size="11" fill="#5f6368">Phases of TikTok (shaded): '
        f"{escape(phases)}.</text>",
    ]
    charts = (
        (20, 84, "Events by status", statuses, STATUS_COLOURS, True, per),
        (500, 84, "Failed events by TikTok code", codes, {}, True, per),
        (20, 394, "Requests by HTTP status", http, HTTP_COLOURS, True, per),
        (500, 394, "Latency percentiles", latency, {}, False, "ms"),
    )
    for x, y, title, series, known, stacked, unit in charts:
        svg += panel(x, y, title, series, colours_for(list(series), known), stacked, unit)
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main() -> None:
    lines = collect()
    OUT.write_text(draw(lines))
    answered = Counter(str(line["http_status"]) for _, line in lines)
    print(f"{len(lines)} request lines, HTTP {dict(sorted(answered.items()))}; wrote {OUT}")


if __name__ == "__main__":
    main()
