"""Our server-side GTM tag template, ``integrations/sgtm/tiktok-events.tpl``, read and run.

Words used here: the *template* is the .tpl file a server container imports; its *sections* are
the parts under ``___NAME___`` lines; its *code* is the ``___SANDBOXED_JS_FOR_SERVER___``
section. The *harness* (``integrations/sgtm/test/harness.js``) runs the code in Node as sGTM
does, against fakes of every sGTM API the code requires, each checking the template's declared
permission, with real HTTP for ``sendHttpRequest``; a *run* is one harness run of one scenario
and its *report* what the harness saw: the outcome (``success``: gtmOnSuccess was called,
``failure``: gtmOnFailure, ``error``: the code threw, as on a permission refusal), the requests
with the answers they got, the cookies set and the log lines. The function the code posts to is
the real one, on loopback, in dry run with a caller key: its answer holds the TikTok payload
built from what the template sent.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from tests.conftest import COMPLETE, GUARD_ENV, ROOT
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN, FakeTikTok
from tests.process import free_port, function_server

TEMPLATE = ROOT / "integrations" / "sgtm" / "tiktok-events.tpl"
HARNESS = ROOT / "integrations" / "sgtm" / "test" / "harness.js"
NODE = shutil.which("node")
KEY = "sgtm-caller-key-0001"
TTP_COOKIE = "01SGTMTTPCOOKIEVALUE0042"
CLICK_ID_COOKIE = "E.C.P.clickFromCookie0042"
CLICK_ID_OF_PAGE = "E.C.P.clickFromPage0042"
# The GA4 purchase example as the GA4 client builds it, without the TikTok keys: the template
# adds them from the request's cookies.
PURCHASE = json.loads((ROOT / "examples" / "ga4-purchase.json").read_text(encoding="utf-8"))
del PURCHASE["x-ttq-ttp"]
PURCHASE["page_location"] = "https://shop.example.com/checkout/confirmation"
PERSONAL = (
    "jane.sample@example.com", "+33600000001", "Jane", "Sample", "75011", "203.0.113.42",
    "Mozilla/5.0", "CUST-000123", TTP_COOKIE, CLICK_ID_COOKIE, CLICK_ID_OF_PAGE, KEY,
)  # fmt: skip


def sections(text: str) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    name = None
    for line in text.splitlines():
        header = re.fullmatch(r"___([A-Z_]+)___", line)
        if header:
            name = header.group(1)
            found[name] = []
        elif name:
            found[name].append(line)
    return {key: "\n".join(lines).strip() for key, lines in found.items()}


SECTIONS = sections(TEMPLATE.read_text(encoding="utf-8"))


def param_value(value: dict[str, Any]) -> Any:
    """A permission parameter value as plain data (types: 1 string, 2 list, 3 map, 8 boolean)."""
    kind = value["type"]
    if kind == 1:
        return value["string"]
    if kind == 2:
        return [param_value(item) for item in value.get("listItem", [])]
    if kind == 3:
        keys = [param_value(key) for key in value["mapKey"]]
        return dict(zip(keys, (param_value(item) for item in value["mapValue"]), strict=True))
    assert kind == 8, kind
    return value["boolean"]


def permissions() -> dict[str, dict[str, Any]]:
    declared: dict[str, dict[str, Any]] = {}
    for entry in json.loads(SECTIONS["SERVER_PERMISSIONS"]):
        instance = entry["instance"]
        assert entry["isRequired"] is True
        declared[instance["key"]["publicId"]] = {
            param["key"]: param_value(param["value"]) for param in instance.get("param", [])
        }
    return declared


def node(*arguments: str, scenario: Any = None) -> Any:
    assert NODE, "Node.js (18 or newer) is needed to run the sGTM template's code"
    finished = subprocess.run(
        [NODE, str(HARNESS), str(TEMPLATE), *arguments],
        input=None if scenario is None else json.dumps(scenario),
        capture_output=True, text=True, timeout=60, check=True, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return json.loads(finished.stdout)


def run(
    base: str, event: dict[str, Any], cookies: dict[str, list[str]], **data: Any
) -> dict[str, Any]:
    """A run posting to ``base``'s /ga4, with the caller key unless ``data`` says otherwise."""
    fields = {"functionUrl": base + "/ga4", "apiKey": KEY, "timeoutMs": "35000", **data}
    return node(
        "run",
        scenario={
            "data": fields,
            "eventData": event,
            "cookies": cookies,
            # The loopback function stands in for the deployed host the permission names.
            "extraUrlPatterns": [base + "/*"],
        },
    )


def answer_of(report: dict[str, Any]) -> dict[str, Any]:
    (request,) = report["requests"]
    return json.loads(request["answer"])


@pytest.fixture(scope="module")
def function(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the real function: dry run, a complete configuration, a caller key."""
    environment = {
        **GUARD_ENV,
        **COMPLETE,
        "DRY_RUN": "true",
        "API_KEY": KEY,
        "PATH": "/usr/bin:/bin",
    }
    with function_server(environment, tmp_path_factory.mktemp("sgtm") / "function.log") as base:
        yield base


# --- the template as a file ----------------------------------------------------------------


def test_the_template_has_the_sections_a_server_container_imports():
    assert list(SECTIONS) == [
        "INFO", "TEMPLATE_PARAMETERS", "SANDBOXED_JS_FOR_SERVER", "SERVER_PERMISSIONS", "TESTS",
    ]  # fmt: skip
    info = json.loads(SECTIONS["INFO"])
    assert info["type"] == "TAG"
    assert info["containerContexts"] == ["SERVER"]


def test_permissions_are_exactly_the_declared_ones():
    assert permissions() == {
        "read_event_data": {"eventDataAccess": "any"},
        "get_cookies": {"cookieAccess": "specific", "cookieNames": ["_ttp", "ttclid"]},
        "set_cookies": {
            "allowedCookies": [
                {
                    "name": "ttclid",
                    "domain": "*",
                    "path": "/",
                    "secure": "secure",
                    "session": "non_session",
                },
            ]
        },
        "send_http": {
            "allowedUrls": "specific",
            "urls": ["https://*.cloudfunctions.net/*", "https://*.run.app/*"],
        },
        "logging": {"environments": "debug"},
    }


# The permission each sGTM API of the code needs (none for the others).
NEEDS = {
    "getAllEventData": "read_event_data",
    "getCookieValues": "get_cookies",
    "setCookie": "set_cookies",
    "sendHttpRequest": "send_http",
    "logToConsole": "logging",
}


def test_the_code_requires_only_what_the_permissions_cover_and_they_cover_nothing_more():
    required = set(re.findall(r"require\('([A-Za-z]+)'\)", SECTIONS["SANDBOXED_JS_FOR_SERVER"]))
    assert required == {
        "JSON", "getAllEventData", "getCookieValues", "getType", "logToConsole", "makeInteger",
        "makeString", "parseUrl", "sendHttpRequest", "setCookie",
    }  # fmt: skip
    assert {NEEDS[api] for api in required if api in NEEDS} == set(permissions())


def test_requests_may_go_to_the_deployed_function_only():
    verdicts = node(
        "allowed",
        "https://europe-west1-my-project.cloudfunctions.net/tiktok-events/ga4",
        "https://tiktok-events-abc123-ew.a.run.app/ga4",
        "https://tiktok-events-123456789.europe-west1.run.app/ga4?dry_run=true",
        "https://collector.example.com/ga4",
        "https://cloudfunctions.net.example.com/ga4",
        "http://tiktok-events-abc123-ew.a.run.app/ga4",
    )
    assert list(verdicts.values()) == [True, True, True, False, False, False]


def test_fields_url_key_timeout_and_dry_run():
    fields = {field["name"]: field for field in json.loads(SECTIONS["TEMPLATE_PARAMETERS"])}
    assert list(fields) == ["functionUrl", "apiKey", "timeoutMs", "dryRun"]
    # Above the function's retry deadline plus 15 s (README, Retries: the sender timeout).
    deadline_ms = Settings().retry_deadline_seconds * 1000
    assert int(fields["timeoutMs"]["defaultValue"]) >= deadline_ms + 15_000
    validators = fields["functionUrl"]["valueValidators"]
    (pattern,) = (v["args"][0] for v in validators if v["type"] == "REGEX")
    for url in (
        "https://europe-west1-my-project.cloudfunctions.net/tiktok-events/ga4",
        "https://tiktok-events-abc123-ew.a.run.app/ga4",
        "https://tiktok-events-abc123-ew.a.run.app/ga4?dry_run=true",
    ):
        assert re.fullmatch(pattern, url), url
    for url in (
        "https://europe-west1-my-project.cloudfunctions.net/tiktok-events",
        "https://tiktok-events-abc123-ew.a.run.app/commandersact",
        "http://tiktok-events-abc123-ew.a.run.app/ga4",
    ):
        assert not re.fullmatch(pattern, url), url


def test_the_templates_own_test_scenarios_pass_under_a_fake_of_the_test_api():
    results = node("tests")
    assert {result["name"]: result["failures"] for result in results} == {
        result["name"]: [] for result in results
    }
    names = " / ".join(result["name"] for result in results)
    for needed in ("200", "207", "202", "503", "cookies are added", "30-day cookie"):
        assert needed in names


# --- the code run against the real function --------------------------------------------------


def test_an_event_reaches_the_function_with_the_tiktok_cookies(function):
    report = run(function, PURCHASE, {"_ttp": [TTP_COOKIE], "ttclid": [CLICK_ID_COOKIE]})
    assert report["outcome"] == "success", report
    (request,) = report["requests"]
    assert request["status"] == 200
    assert request["headers"] == {"Content-Type": "application/json", "X-Api-Key": KEY}
    assert request["timeout"] == 35000
    (payload,) = answer_of(report)["payloads"]
    (sent,) = payload["data"]
    assert sent["event"] == "PlaceAnOrder"
    assert sent["user"]["ttp"] == TTP_COOKIE
    assert sent["user"]["ttclid"] == CLICK_ID_COOKIE
    assert report["cookiesSet"] == []  # no click id in the page URL: the cookie stays as it is
    assert report["logs"] == ["tiktok-events /ga4: HTTP 200"]


def test_a_click_id_in_the_page_url_wins_and_is_kept_30_days(function):
    event = {**PURCHASE, "page_location": f"https://shop.example.com/?ttclid={CLICK_ID_OF_PAGE}"}
    report = run(function, event, {"ttclid": [CLICK_ID_COOKIE]})
    assert report["outcome"] == "success", report
    (sent,) = answer_of(report)["payloads"][0]["data"]
    assert sent["user"]["ttclid"] == CLICK_ID_OF_PAGE
    assert "ttp" not in sent["user"]
    assert report["cookiesSet"] == [
        {"name": "ttclid", "value": CLICK_ID_OF_PAGE,
         "options": {"domain": "auto", "path": "/", "max-age": 30 * 24 * 3600, "secure": True,
                     "samesite": "Lax", "httpOnly": False}},
    ]  # fmt: skip


def test_a_207_is_a_success(function):
    # One sGTM event is one event; a client that builds event data holding an `events` array
    # makes a batch, which is how the function can answer 207 to this template.
    bad = {"event_name": "purchase", "value": "lots"}
    report = run(function, {"events": [copy.deepcopy(PURCHASE), bad]}, {})
    assert report["outcome"] == "success", report
    assert report["requests"][0]["status"] == 207
    statuses = [result["status"] for result in answer_of(report)["results"]]
    assert statuses == ["would_send", "rejected"]


def test_a_wrong_key_is_a_failure(function):
    report = run(function, PURCHASE, {}, apiKey="not-the-key")
    assert report["outcome"] == "failure"
    assert report["requests"][0]["status"] == 401
    assert report["logs"] == ["tiktok-events /ga4: HTTP 401"]


def test_the_dry_run_box_asks_for_a_dry_run(tmp_path):
    # A live function (not in dry run) answers with payloads only when the request asks.
    with FakeTikTok() as tiktok:
        environment = {
            **GUARD_ENV, **COMPLETE, "API_KEY": KEY, "PATH": "/usr/bin:/bin",
            "TIKTOK_API_URL": tiktok.endpoint, "TIKTOK_ACCESS_TOKEN": TOKEN,
            "TIKTOK_RETRY_DEADLINE_SECONDS": "1",
        }  # fmt: skip
        with function_server(environment, tmp_path / "function.log") as base:
            dry = run(base, PURCHASE, {"_ttp": [TTP_COOKIE]}, dryRun=True)
            assert dry["outcome"] == "success", dry
            assert answer_of(dry)["dry_run"] is True
            assert tiktok.posts() == []
            tiktok.always = Reply(503, b"<html>Service Unavailable</html>")
            down = run(base, PURCHASE, {"_ttp": [TTP_COOKIE]})
    # TikTok stays unavailable past the deadline: the function answers 503, the tag fails.
    assert down["outcome"] == "failure"
    assert down["requests"][0]["status"] == 503
    assert tiktok.posts()


def test_no_answer_is_a_failure():
    unreachable = run(f"http://127.0.0.1:{free_port()}", PURCHASE, {})
    assert unreachable["outcome"] == "failure"
    assert unreachable["logs"] == ["tiktok-events /ga4: no answer (failed)"]
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        late = run(base, PURCHASE, {}, timeoutMs="300")
    assert late["outcome"] == "failure"
    assert late["requests"][0]["timeout"] == 300
    assert late["logs"] == ["tiktok-events /ga4: no answer (timed_out)"]


def test_a_host_the_permission_does_not_name_is_refused_before_any_request():
    report = node(
        "run",
        scenario={
            "data": {"functionUrl": "https://collector.example.com/ga4", "apiKey": KEY},
            "eventData": PURCHASE,
        },
    )
    assert report["outcome"] == "error"
    assert "send_http" in report["error"]
    assert report["requests"] == []


def test_nothing_personal_is_logged(function):
    event = {**PURCHASE, "page_location": f"https://shop.example.com/?ttclid={CLICK_ID_OF_PAGE}"}
    cookies = {"_ttp": [TTP_COOKIE], "ttclid": [CLICK_ID_COOKIE]}
    logs: list[str] = []
    for key in (KEY, "wrong-key"):
        logs += run(function, event, cookies, apiKey=key)["logs"]
    logs += run(f"http://127.0.0.1:{free_port()}", event, cookies)["logs"]
    assert len(logs) == 3
    for value in PERSONAL:
        assert all(value not in line for line in logs), value


def test_the_harness_reads_the_template_it_is_given(tmp_path: Path):
    # The harness must refuse what the permissions do not declare, or the tests above prove
    # nothing about them: a template that also reads another cookie throws.
    text = TEMPLATE.read_text(encoding="utf-8").replace(
        "firstCookie('_ttp')", "firstCookie('_ttp') || firstCookie('_fbp')"
    )
    widened = tmp_path / "widened.tpl"
    widened.write_text(text, encoding="utf-8")
    finished = subprocess.run(
        [str(NODE), str(HARNESS), str(widened), "run"],
        input=json.dumps({"data": {"functionUrl": "https://x.run.app/ga4", "apiKey": KEY}}),
        capture_output=True, text=True, timeout=60, check=True, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    report = json.loads(finished.stdout)
    assert report["outcome"] == "error"
    assert "get_cookies refuses _fbp" in report["error"]
