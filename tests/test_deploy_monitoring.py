"""What deploy.sh creates to watch the function: the log-based metrics, the alert policies and the
dashboard of ``monitoring/``, checked against the formats of the APIs that take them, against the
request log line they read, and as deploy.sh hands them to gcloud.

Words used here:

- *format*: the fields of a message of a Google API, with their types, as the API reference
  gives them (Cloud Monitoring v1 ``projects.dashboards``, v3 ``projects.alertPolicies``, Cloud
  Logging v2 ``projects.metrics``), for the messages the files use. A field the format does not
  have is a mistake the API would refuse (or worse, ignore).
- *template*: a file of ``monitoring/`` with ``{{FUNCTION_NAME}}``, ``{{PROJECT_ID}}`` or
  ``{{REGION}}`` where deploy.sh puts the deployment's values.
- *PromQL name*: how a Cloud Monitoring metric is named in PromQL: the first ``/`` becomes ``:``
  and every other character that is not a letter, digit or ``_`` becomes ``_``; a distribution
  is read through its ``_sum``, ``_count`` and ``_bucket`` series.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COMPLETE, GUARD_ENV, ROOT, post
from tests.fake_gcloud import PROJECT
from tests.gcloud_sandbox import Sandbox

MONITORING = ROOT / "monitoring"
METRICS = sorted((MONITORING / "metrics").glob("*.json"))
ALERTS = sorted((MONITORING / "alerts").glob("*.json"))
DASHBOARD = MONITORING / "dashboard.json"
PLACEHOLDERS = {"{{FUNCTION_NAME}}", "{{PROJECT_ID}}", "{{REGION}}"}
TOKEN = "tt-TOKEN-1"
BASE = {"PROJECT_ID": PROJECT, "TIKTOK_PIXEL_ID": "CPIXEL0000000000000A"}

# ---- the formats ---------------------------------------------------------------------------------
# A type is "str", "int", "float", "bool", "map" (string to string), ("enum", values), the name
# of another message, or a one-element list for a repeated field.
PLOT_TYPES = ("PLOT_TYPE_UNSPECIFIED", "LINE", "STACKED_AREA", "STACKED_BAR", "HEATMAP")
FORMATS: dict[str, dict[str, Any]] = {
    # Cloud Monitoring v1: dashboards
    "Dashboard": {
        "name": "str", "displayName": "str", "etag": "str", "labels": "map",
        "mosaicLayout": "MosaicLayout", "gridLayout": "-", "rowLayout": "-", "columnLayout": "-",
        "dashboardFilters": "-", "annotations": "-",
    },
    "MosaicLayout": {"columns": "int", "tiles": ["Tile"]},
    "Tile": {"xPos": "int", "yPos": "int", "width": "int", "height": "int", "widget": "Widget"},
    "Widget": {
        "title": "str", "id": "str", "xyChart": "XyChart", "text": "Text", "logsPanel": "LogsPanel",
        "scorecard": "-", "timeSeriesTable": "-", "alertChart": "-", "incidentList": "-",
        "pieChart": "-", "sectionHeader": "-", "singleViewGroup": "-", "collapsibleGroup": "-",
        "errorReportingPanel": "-", "blank": "-", "visibilityCondition": "-",
    },
    "XyChart": {
        "dataSets": ["DataSet"], "timeshiftDuration": "str", "thresholds": "-",
        "xAxis": "Axis", "yAxis": "Axis", "y2Axis": "Axis", "chartOptions": "ChartOptions",
    },
    "DataSet": {
        "timeSeriesQuery": "TimeSeriesQuery", "plotType": ("enum", PLOT_TYPES),
        "legendTemplate": "str", "minAlignmentPeriod": "str",
        "targetAxis": ("enum", ("TARGET_AXIS_UNSPECIFIED", "Y1", "Y2")),
        "breakdowns": "-", "dimensions": "-", "measures": "-", "sort": "-",
    },
    "TimeSeriesQuery": {
        "prometheusQuery": "str", "unitOverride": "str", "outputFullDuration": "bool",
        "timeSeriesFilter": "-", "timeSeriesFilterRatio": "-", "timeSeriesQueryLanguage": "str",
        "opsAnalyticsQuery": "-",
    },
    "Axis": {"label": "str", "scale": ("enum", ("SCALE_UNSPECIFIED", "LINEAR", "LOG10"))},
    "ChartOptions": {
        "mode": ("enum", ("MODE_UNSPECIFIED", "COLOR", "X_RAY", "STATS")),
        "displayHorizontal": "bool",
    },
    "Text": {"content": "str", "format": ("enum", ("FORMAT_UNSPECIFIED", "MARKDOWN", "RAW")), "style": "-"},
    "LogsPanel": {"filter": "str", "resourceNames": ["str"]},
    # Cloud Monitoring v3: alert policies
    "AlertPolicy": {
        "name": "str", "displayName": "str", "documentation": "Documentation", "userLabels": "map",
        "conditions": ["Condition"], "combiner": ("enum", ("COMBINE_UNSPECIFIED", "AND", "OR", "AND_WITH_MATCHING_RESOURCE")),
        "enabled": "bool", "validity": "-", "notificationChannels": ["str"], "creationRecord": "-",
        "mutationRecord": "-", "alertStrategy": "AlertStrategy",
        "severity": ("enum", ("SEVERITY_UNSPECIFIED", "CRITICAL", "ERROR", "WARNING")),
    },
    "Documentation": {"content": "str", "mimeType": "str", "subject": "str", "links": "-"},
    "Condition": {
        "name": "str", "displayName": "str",
        "conditionPrometheusQueryLanguage": "PrometheusQueryLanguageCondition",
        "conditionThreshold": "-", "conditionAbsent": "-", "conditionMatchedLog": "-",
        "conditionMonitoringQueryLanguage": "-", "conditionSql": "-",
    },
    "PrometheusQueryLanguageCondition": {
        "query": "str", "duration": "str", "evaluationInterval": "str", "labels": "map",
        "ruleGroup": "str", "alertRule": "str", "disableMetricValidation": "bool",
    },
    "AlertStrategy": {
        "autoClose": "str", "notificationRateLimit": "-", "notificationPrompts": "-",
        "notificationChannelStrategy": "-",
    },
    # Cloud Logging v2: log-based metrics
    "LogMetric": {
        "name": "str", "description": "str", "filter": "str", "bucketName": "str",
        "disabled": "bool", "metricDescriptor": "MetricDescriptor", "valueExtractor": "str",
        "labelExtractors": "map", "bucketOptions": "BucketOptions", "createTime": "-",
        "updateTime": "-", "version": "-", "resourceName": "-",
    },
    "MetricDescriptor": {
        "name": "-", "type": "-", "labels": ["LabelDescriptor"],
        "metricKind": ("enum", ("METRIC_KIND_UNSPECIFIED", "GAUGE", "DELTA", "CUMULATIVE")),
        "valueType": ("enum", ("VALUE_TYPE_UNSPECIFIED", "BOOL", "INT64", "DOUBLE", "STRING", "DISTRIBUTION", "MONEY")),
        "unit": "str", "description": "str", "displayName": "str", "metadata": "-",
        "launchStage": "-", "monitoredResourceTypes": "-",
    },
    "LabelDescriptor": {"key": "str", "valueType": ("enum", ("STRING", "BOOL", "INT64")), "description": "str"},
    "BucketOptions": {"exponentialBuckets": "Exponential", "linearBuckets": "-", "explicitBuckets": "-"},
    "Exponential": {"numFiniteBuckets": "int", "growthFactor": "float", "scale": "float"},
}  # fmt: skip


def conforms(value: Any, kind: Any, path: str) -> list[str]:
    """Every way ``value`` is not of ``kind`` (a type of :data:`FORMATS`), by JSON path."""
    if isinstance(kind, list):
        if not isinstance(value, list):
            return [f"{path}: a list is expected"]
        return [p for i, item in enumerate(value) for p in conforms(item, kind[0], f"{path}[{i}]")]
    if isinstance(kind, tuple):
        return [] if value in kind[1] else [f"{path}: {value!r} is not one of {kind[1]}"]
    simple = {"str": str, "bool": bool, "int": int, "float": (int, float)}
    if kind in simple:
        ok = isinstance(value, simple[kind]) and not (kind != "bool" and isinstance(value, bool))
        return [] if ok else [f"{path}: a {kind} is expected"]
    if kind == "map":
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        return [] if ok else [f"{path}: a map of strings is expected"]
    if kind == "-":
        return [f"{path}: a field of the format these files do not use (describe it first)"]
    if not isinstance(value, dict):
        return [f"{path}: an object ({kind}) is expected"]
    fields = FORMATS[kind]
    problems = [f"{path}.{name}: {kind} has no such field" for name in value if name not in fields]
    for name, item in value.items():
        if name in fields:
            problems += conforms(item, fields[name], f"{path}.{name}")
    return problems


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def filled(path: Path) -> Any:
    """A template as deploy.sh fills it (the values are JSON-safe, deploy.sh checks them)."""
    text = path.read_text()
    for placeholder in PLACEHOLDERS:
        text = text.replace(placeholder, "x")
    assert "{{" not in text, f"{path.name} has a placeholder deploy.sh does not fill"
    return json.loads(text)


@pytest.mark.parametrize(
    ("path", "kind"),
    [(DASHBOARD, "Dashboard")]
    + [(path, "AlertPolicy") for path in ALERTS]
    + [(path, "LogMetric") for path in METRICS],
    ids=lambda item: item.name if isinstance(item, Path) else item,
)
def test_each_file_has_the_format_of_its_api(path, kind):
    assert conforms(filled(path), kind, "$") == []


def test_the_format_check_finds_a_misspelt_field():
    broken = {
        "displayName": "d",
        "mosaicLayout": {"columns": 48, "tiles": [{"widget": {"xyCart": {}}}]},
    }
    assert conforms(broken, "Dashboard", "$") == [
        "$.mosaicLayout.tiles[0].widget.xyCart: Widget has no such field"
    ]


# ---- the metrics ---------------------------------------------------------------------------------


def promql_name(metric: str) -> str:
    return re.sub(r"[^A-Za-z0-9_:]", "_", metric.replace("/", ":", 1))


DEFINED = {
    promql_name(f"logging.googleapis.com/user/{load(path)['name']}"): load(path) for path in METRICS
}


def test_each_metric_is_named_by_its_file_and_extracts_every_label():
    for path in METRICS:
        metric = load(path)
        assert metric["name"] == f"tiktok-events/{path.stem}"
        descriptor = metric["metricDescriptor"]
        labels = {label["key"] for label in descriptor["labels"]}
        assert labels == set(metric.get("labelExtractors", {})), path.name
        assert len(labels) <= 10  # the most a log-based metric may have
        distribution = descriptor["valueType"] == "DISTRIBUTION"
        assert distribution == ("valueExtractor" in metric) == ("bucketOptions" in metric)
        assert descriptor["metricKind"] == "DELTA"
        assert metric["filter"].startswith('resource.type="cloud_run_revision"')


def test_there_is_an_event_metric_for_every_status_the_dashboard_shows():
    statuses = {
        path.stem.removeprefix("events_") for path in METRICS if path.stem.startswith("events_")
    }
    assert statuses == {"sent", "queued", "skipped", "rejected", "failed"}


def series(query: str) -> set[str]:
    """The metric names a PromQL query reads."""
    return set(re.findall(r"([a-z_]+:[A-Za-z0-9_]+)\{", query))


def dashboard_queries() -> list[str]:
    tiles = load(DASHBOARD)["mosaicLayout"]["tiles"]
    return [
        data_set["timeSeriesQuery"]["prometheusQuery"]
        for tile in tiles
        for data_set in tile["widget"].get("xyChart", {}).get("dataSets", [])
    ]


def test_every_query_reads_a_metric_deploy_sh_creates_or_a_google_one():
    google = {"pubsub_googleapis_com:subscription_dead_letter_message_count"}
    queries = dashboard_queries() + [
        condition["conditionPrometheusQueryLanguage"]["query"]
        for path in ALERTS
        for condition in load(path)["conditions"]
    ]
    for query in queries:
        for name in series(query):
            if name in google:
                continue
            base, suffix = re.fullmatch(r"(.*?)(_sum|_count|_bucket)?", name).groups()
            assert base in DEFINED, name
            distribution = DEFINED[base]["metricDescriptor"]["valueType"] == "DISTRIBUTION"
            assert distribution == (suffix is not None), name  # a distribution is read by series
            assert 'service_name="{{FUNCTION_NAME}}"' in query


def test_the_dashboard_tiles_fit_the_grid_without_overlapping():
    layout = load(DASHBOARD)["mosaicLayout"]
    taken: set[tuple[int, int]] = set()
    for tile in layout["tiles"]:
        assert tile["xPos"] + tile["width"] <= layout["columns"]
        cells = {
            (x, y)
            for x in range(tile["xPos"], tile["xPos"] + tile["width"])
            for y in range(tile["yPos"], tile["yPos"] + tile["height"])
        }
        assert not cells & taken, tile["widget"]["title"]
        taken |= cells
    assert DASHBOARD.read_text().startswith("{\n")  # deploy.sh adds name and etag after the brace


def test_each_alert_is_found_again_by_its_labels():
    for path in ALERTS:
        policy = load(path)
        assert policy["userLabels"] == {
            "app": "tiktok-events", "function": "{{FUNCTION_NAME}}", "alert": path.stem,
        }  # fmt: skip
        assert '"notificationChannels": []' in path.read_text()  # where deploy.sh puts them


# ---- the request line they read ------------------------------------------------------------------

FIELD = re.compile(r"jsonPayload\.([a-z_]+(?:\.[a-z_]+)?)")


def fields_read(metric: dict[str, Any]) -> set[str]:
    """Every ``jsonPayload.<field>`` a metric's filter and extractors name."""
    texts = [metric["filter"], metric.get("valueExtractor", "")]
    texts += metric.get("labelExtractors", {}).values()
    return {found for text in texts for found in FIELD.findall(text)}


def test_every_field_the_metrics_read_is_on_the_request_line(make_client, capsys):
    """A live request whose events end sent, skipped, rejected and failed: every count is there.
    ``queued`` (durable delivery) is on the line of a request whose events were queued
    (``tests/pubsub/test_queue.py`` reads it there)."""
    from tests.fakes.tiktok import TOKEN as TIKTOK_TOKEN
    from tests.fakes.tiktok import FakeTikTok

    purchase = {"event_name": "purchase", "id": "O_1", "value": 10, "currency": "EUR"}
    with FakeTikTok() as tiktok:
        tiktok.bad_event_ids.add("O_BAD")
        client = make_client(
            **COMPLETE, TIKTOK_ACCESS_TOKEN=TIKTOK_TOKEN, TIKTOK_API_URL=tiktok.endpoint
        )
        events = [
            purchase,
            {**purchase, "id": "O_BAD"},
            {"event_name": "purchase", "value": "x"},
            {"event_name": "scroll"},
        ]
        answer = post(client, "/commandersact", events)
    assert answer.status_code == 207
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    read = set().union(*(fields_read(load(path)) for path in METRICS))
    assert "counts.queued" in read
    for name in sorted(read - {"counts.queued"}):
        value: Any = line
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        assert value is not None, f"the request line has no {name}"
    assert line["counts"] == {"sent": 1, "skipped": 1, "rejected": 1, "failed": 1}
    assert line["tiktok_codes"] == [40002]
    assert line["events"] == ["CompletePayment"]
    # What the label extractors take from it, the lists read as their JSON text.
    failed = load(MONITORING / "metrics" / "events_failed.json")["labelExtractors"]
    for label, expected in (("event", "CompletePayment"), ("tiktok_code", "40002")):
        field, regex = re.fullmatch(
            r'REGEXP_EXTRACT\(jsonPayload\.(\w+), "(.*)"\)', failed[label]
        ).groups()
        assert re.search(regex, json.dumps(line[field])).group(1) == expected


# ---- as deploy.sh hands them to gcloud -----------------------------------------------------------


@pytest.fixture
def deploy(tmp_path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path, ROOT, GUARD_ENV)
    yield sandbox
    sandbox.close()


def test_deploy_fills_the_templates_and_names_what_it_creates(deploy):
    channels = (
        f"projects/{PROJECT}/notificationChannels/11,projects/{PROJECT}/notificationChannels/22"
    )
    done = deploy.run(
        stdin=TOKEN, **BASE, FUNCTION_NAME="tiktok-staging", ALERT_NOTIFICATION_CHANNELS=channels
    )
    assert done.returncode == 0, done.stderr
    assert sorted(deploy.state["metrics"]) == sorted(f"tiktok-events/{p.stem}" for p in METRICS)
    for path in METRICS:
        assert deploy.state["metrics"][f"tiktok-events/{path.stem}"] == load(path)

    name = f"projects/{PROJECT}/dashboards/tiktok-staging"
    dashboard = deploy.state["dashboards"][name]
    assert dashboard["displayName"] == "tiktok-events (tiktok-staging)"
    assert 'service_name=\\"tiktok-staging\\"' in json.dumps(dashboard)
    assert f"projects/{PROJECT}" in json.dumps(dashboard)  # the logs panel's project

    policies = list(deploy.state["policies"].values())
    assert sorted(p["userLabels"]["alert"] for p in policies) == sorted(p.stem for p in ALERTS)
    for policy in policies:
        assert policy["userLabels"]["function"] == "tiktok-staging"
        assert policy["notificationChannels"] == channels.split(",")
        assert conforms(policy, "AlertPolicy", "$") == []
    assert f"monitoring/dashboards/custom/tiktok-staging?project={PROJECT}" in done.stdout


def test_a_second_function_gets_its_own_dashboard_and_alerts_and_shares_the_metrics(deploy):
    assert deploy.run(stdin=TOKEN, **BASE).returncode == 0
    done = deploy.run(
        **BASE, FUNCTION_NAME="tiktok-staging", SECRET_ID="tiktok-staging-token", stdin=TOKEN
    )
    assert done.returncode == 0, done.stderr
    assert len(deploy.state["dashboards"]) == 2
    assert len(deploy.state["policies"]) == 2 * len(ALERTS)
    assert len(deploy.state["metrics"]) == len(METRICS)
    assert not deploy.calls_to("logging", "metrics", "create")


def test_a_re_deploy_updates_the_dashboard_with_its_etag(deploy):
    assert deploy.run(stdin=TOKEN, **BASE).returncode == 0
    assert deploy.run(**BASE).returncode == 0
    (update,) = deploy.calls_to("monitoring", "dashboards", "update")
    config = json.loads(update["files"]["config-from-file"])
    assert (config["name"], config["etag"]) == (
        f"projects/{PROJECT}/dashboards/tiktok-events",
        "etag1",
    )


def test_monitoring_off_creates_none_of_it(deploy):
    done = deploy.run(stdin=TOKEN, **BASE, MONITORING="false")
    assert done.returncode == 0, done.stderr
    watching = ("logging", "monitoring", "alpha", "info")
    assert not [c for c in deploy.commands() if c.startswith(watching)]
    (enabled,) = deploy.calls_to("services", "enable")
    assert "monitoring.googleapis.com" not in enabled["args"]
    assert "dashboard" not in done.stdout


def test_without_gclouds_alpha_commands_it_stops_before_changing_anything(deploy):
    deploy.state["alpha"] = ""
    done = deploy.run(stdin=TOKEN, **BASE)
    assert done.returncode != 0
    assert "the alert policies need gcloud's alpha commands" in done.stderr
    assert "MONITORING=false" in done.stderr
    assert not deploy.calls_to("services", "enable")


def test_the_picture_reads_the_lines_as_the_metrics_do():
    """``make picture`` charts the lines through the metrics' own extractors."""
    from xml.etree import ElementTree

    from monitoring import picture

    def line(http: int, counts: dict[str, int], codes: list[int], latency: float) -> dict:
        return {"source": "ga4", "http_status": http, "counts": counts, "events": ["AddToCart"],
                "tiktok_codes": codes, "latency_ms": latency}  # fmt: skip

    lines = [
        (1.0, line(200, {"sent": 3}, [], 10.0)),
        (2.0, line(207, {"sent": 1, "failed": 2}, [40002], 30.0)),
        (7.0, line(503, {"failed": 4}, [], 2000.0)),
    ]
    zeros = [0.0] * (picture.SECONDS // picture.BUCKET)
    assert picture.per_bucket(lines, "events_sent") == {"events_sent": [4.0, *zeros[1:]]}
    assert picture.per_bucket(lines, "events_failed", "tiktok_code") == {
        "40002": [2.0, *zeros[1:]],
        "": [0.0, 4.0, *zeros[2:]],
    }
    assert picture.per_bucket(lines, "requests", "http_status")["503"][1] == 1
    assert picture.latency_percentiles(lines)["p99"][:2] == [30.0, 2000.0]
    svg = ElementTree.fromstring(picture.draw(lines))  # noqa: S314 (the SVG this test just drew)
    titles = {"Events by status", "Failed events by TikTok code", "Requests by HTTP status"}
    assert titles <= {text.text for text in svg.iter("{http://www.w3.org/2000/svg}text")}
