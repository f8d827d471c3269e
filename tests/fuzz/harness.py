"""Posting cases to the real entry point, the invariants every answer must keep, and reproducers.

Words used here: see :mod:`tests.fuzz`. The *door* is ``main.py`` served by functions-framework's
Flask app (``functions_framework.create_app``, as Cloud Functions runs it), one per
configuration, called through Flask's test client; an *answer* is what it gave for one case:
status, content type, text, the log lines it wrote, and the exception Flask caught, if any. A
*failure* is one broken invariant; its *signature* names its class.

The invariants, for a complete configuration in dry run:

- no exception escapes, and the status is never 5xx (a 500 would need a missing event source
  id, and every one is set);
- the answer is strict JSON with ``Content-Type: application/json``: either a refusal
  ``{"error", "message"}`` with 400 or 413, or a report whose counts add up (``received``, each
  status, ``requests``, ``payloads``), whose results are well formed and in order, whose
  ``would_send`` events are exactly the payloads' events, and whose status is the one the
  results give (400 all rejected, 207 some, else 200);
- every payload is valid against ``schemas/tiktok.schema.json``, the strict TikTok schema;
- no canary token that the body carries only where personal data is read appears in the
  answer (hashes aside) or in a log line;
- an answer takes less than :data:`SLOW_SECONDS`.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from tests.conftest import FUNCTION_VARIABLES, ROOT
from tests.fuzz.corpus import BASE, events_of, personal_locations
from tests.fuzz.mutators import Case
from tiktok_mapper.config import SOURCE_ID_VARIABLES
from tiktok_mapper.report import STATUSES

SLOW_SECONDS = 5.0
LETTER_TOKEN = re.compile(r"kanari[efxlzs]\d{6}")
PHONE_TOKEN = re.compile(r"699\d{6}")
HASH = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")  # derived event ids and SHA-256 values
NOW = 1_767_225_600.0


@dataclass
class Answer:
    status: int
    content_type: str
    text: str
    logs: str
    seconds: float
    exception: BaseException | None = None


@dataclass
class Failure:
    kind: str  # exception, 5xx, not_json, error_shape, counts, status, failed, schema, canary, slow
    where: str  # what places the class: the raising lines, or the invariant's rule and path
    detail: str = ""  # the traceback or an excerpt of the answer, for the reproducer

    @property
    def signature(self) -> str:
        return f"{self.kind}: {self.where}"


@dataclass
class Door:
    """One test client of the real entry point per environment, made when first needed."""

    clients: dict[tuple[tuple[str, str], ...], tuple[Any, list[BaseException]]] = field(
        default_factory=dict
    )

    def client(self, env: dict[str, str]) -> tuple[Any, list[BaseException]]:
        key = tuple(sorted(env.items()))
        if key not in self.clients:
            self.clients[key] = _make_client(env)
        return self.clients[key]

    def post(self, route: str, raw: bytes, env: dict[str, str]) -> Answer:
        client, caught = self.client(env)
        caught.clear()
        logs = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(logs):
            response = client.post(route, data=raw, content_type="application/json")
        seconds = time.perf_counter() - started
        return Answer(
            response.status_code,
            response.content_type or "",
            response.get_data(as_text=True),
            logs.getvalue(),
            seconds,
            caught[0] if caught else None,
        )


def _make_client(env: dict[str, str]) -> tuple[Any, list[BaseException]]:
    """``main.py`` loaded by functions-framework with exactly ``env`` set, and a list that
    collects what Flask catches (it answers 500 for it)."""
    import flask
    import functions_framework

    saved = dict(os.environ)
    try:
        for variable in FUNCTION_VARIABLES:
            os.environ.pop(variable, None)
        os.environ.update(env)
        app = functions_framework.create_app("tiktok_events", str(ROOT / "main.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    app.logger.disabled = True  # the traceback is kept below; stderr stays readable
    caught: list[BaseException] = []

    def keep(_sender: Any, exception: BaseException, **_extra: Any) -> None:
        caught.append(exception)

    flask.got_request_exception.connect(keep, app, weak=False)
    return app.test_client(), caught


# --- the invariants ----------------------------------------------------------------------------


@cache
def tiktok_schema() -> tuple[Any, Draft202012Validator]:
    document = json.loads((ROOT / "schemas" / "tiktok.schema.json").read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(document), Draft202012Validator(document)


def check(case: Case, answer: Answer, env: dict[str, str]) -> list[Failure]:
    """Every invariant ``answer`` breaks (see the module docstring)."""
    failures: list[Failure] = []
    if answer.exception is not None:
        failures.append(exception_failure(answer.exception))
    elif answer.status >= 500:
        failures.append(Failure("5xx", f"HTTP {answer.status} on {case.route}", answer.text[:300]))
    if answer.seconds > SLOW_SECONDS:
        failures.append(Failure("slow", case.route, f"{answer.seconds:.1f} s"))
    if answer.status >= 500:
        return failures
    if answer.content_type != "application/json":
        return [*failures, Failure("not_json", f"content type {answer.content_type!r}")]
    try:
        got = json.loads(answer.text, parse_constant=_refuse_constant)
    except ValueError:
        return [*failures, Failure("not_json", "the text is not strict JSON", answer.text[:300])]
    if not isinstance(got, dict):
        return [*failures, Failure("not_json", "the answer is not an object")]
    if "error" in got:
        if set(got) != {"error", "message"} or answer.status not in {400, 413}:
            failures.append(Failure("error_shape", f"HTTP {answer.status} {sorted(got)}"))
    else:
        failures += report_failures(got, answer.status, env)
    failures += canary_failures(case, got, answer.logs, env)
    return failures


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def report_failures(got: dict[str, Any], status: int, env: dict[str, str]) -> list[Failure]:
    """The counts, results, requests, payloads and status of a report agree with each other."""
    try:
        return list(_report_failures(got, status, env))
    except (KeyError, TypeError, AttributeError) as why:  # the answer lacks a part it must have
        return [Failure("counts", f"the report is malformed ({type(why).__name__}: {why})")]


def _report_failures(got: dict[str, Any], status: int, env: dict[str, str]) -> Iterator[Failure]:
    results, requests, payloads = got["results"], got["requests"], got["payloads"]
    counted = Counter(result["status"] for result in results)
    if got["dry_run"] is not True or got["sent"]:
        yield Failure("counts", "a dry run that is not one")
    if got["received"] != len(results) or [r["index"] for r in results] != list(
        range(len(results))
    ):
        yield Failure("counts", "received and indices do not match the results")
    if any(got[name] != counted[name] for name in STATUSES) or set(counted) - set(STATUSES):
        yield Failure("counts", "a status count differs from the results")
    for result in results:
        yield from _result_failures(result)
    if len(requests) != len(payloads) or sum(r["events"] for r in requests) != got["would_send"]:
        yield Failure("counts", "requests do not add up to would_send")
    sent = Counter((r["event"], r["event_id"]) for r in results if r["status"] == "would_send")
    carried = Counter((e.get("event"), e.get("event_id")) for p in payloads for e in p["data"])
    if sent != carried:
        yield Failure("counts", "would_send results are not the payloads' events")
    for request, payload in zip(requests, payloads, strict=False):
        if len(payload["data"]) != request["events"] or len(payload["data"]) > 1000:
            yield Failure("counts", "a payload's size is not its request's")
        _, variable = SOURCE_ID_VARIABLES[payload["event_source"]]
        if payload["event_source_id"] != env.get(variable):
            yield Failure("counts", f"a {payload['event_source']} payload for another id")
        yield from schema_failures(payload)
    expected = 400 if results and counted["rejected"] == len(results) else 200
    expected = 207 if expected == 200 and counted["rejected"] else expected
    if status != expected and not counted["failed"]:
        yield Failure("status", f"HTTP {status} where the results give {expected}")


def _result_failures(result: dict[str, Any]) -> Iterator[Failure]:
    kind = result["status"]
    if kind == "failed":
        yield Failure("failed", f"an event failed: {result.get('error')}", str(result)[:300])
    elif kind == "would_send":
        if not (isinstance(result.get("event"), str) and isinstance(result.get("event_id"), str)):
            yield Failure("counts", "a would_send result without event and event_id")
    elif kind == "skipped":
        if not isinstance(result.get("reason"), str):
            yield Failure("counts", "a skipped result without a reason")
    elif kind == "rejected":
        errors = result.get("errors")
        if not errors or not all(
            isinstance(e.get("path"), str) and e["path"].startswith("$") and e.get("message")
            for e in errors
        ):
            yield Failure("counts", "a rejected result without errors naming a path")


def schema_failures(payload: dict[str, Any]) -> Iterator[Failure]:
    fast, full = tiktok_schema()
    if fast.is_valid(payload):
        return
    error = next(iter(full.iter_errors(payload)), None)
    if error is None:
        yield Failure("schema", "jsonschema-rs refuses what jsonschema accepts")
        return
    path = ".".join("*" if isinstance(part, int) else str(part) for part in error.absolute_path)
    value = json.dumps(error.instance)[:200]
    yield Failure("schema", f"payload {path or '$'}: {error.validator}", value)


def tokens(text: str) -> set[str]:
    lowered = text.lower()
    return set(LETTER_TOKEN.findall(lowered)) | set(PHONE_TOKEN.findall(lowered))


def personal_tokens(route: str, raw: bytes, env: dict[str, str]) -> dict[str, str]:
    """Canary tokens the body carries only where ``route`` reads personal data, by kind."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    where = personal_locations(route, env)
    personal: dict[str, str] = {}
    elsewhere: set[str] = set()
    events = events_of(body, route)
    for event in events:
        for location, text, is_key in _strings(event, ()):
            found = tokens(text)
            if is_key or location not in where:
                elsewhere |= found
            else:
                personal.update((token, where[location]) for token in found)
    inside = {id(event) for event in events}
    for _, text, _ in _strings(body, (), skip=inside):  # the envelope or wrapper around them
        elsewhere |= tokens(text)
    return {token: kind for token, kind in personal.items() if token not in elsewhere}


def _strings(
    node: Any, where: tuple[str, ...], skip: frozenset[int] | set[int] = frozenset()
) -> Iterator[tuple[tuple[str, ...], str, bool]]:
    """(location, text, is a key) of every key, string and number inside ``node``, except
    inside the objects whose ``id`` is in ``skip``."""
    stack = [(node, where)]
    while stack:
        value, location = stack.pop()
        if id(value) in skip:
            continue
        if isinstance(value, dict):
            for key, inner in value.items():
                yield location, key, True
                stack.append((inner, (*location, key)))
        elif isinstance(value, list):
            stack.extend((inner, location) for inner in value)
        elif isinstance(value, str):
            yield location, value, False
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield location, repr(value), False


def canary_failures(case: Case, got: Any, logs: str, env: dict[str, str]) -> list[Failure]:
    watched = personal_tokens(case.route, case.body, env)
    if not watched:
        return []
    failures = [
        Failure("canary", f"{watched[token]} in the answer at {path}")
        for path, text in _answer_strings(got, "$")
        if not HASH.fullmatch(text)
        for token in tokens(text) & watched.keys()
    ]
    in_logs = tokens(HASH.sub("", logs.lower())) & watched.keys()
    return failures + [Failure("canary", f"{watched[token]} in a log line") for token in in_logs]


def _answer_strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path with indices as ``*``, text) of every key and string of an answer."""
    if isinstance(node, dict):
        for key, inner in node.items():
            yield path, key
            yield from _answer_strings(inner, f"{path}.{key}")
    elif isinstance(node, list):
        for inner in node:
            yield from _answer_strings(inner, f"{path}[*]")
    elif isinstance(node, str):
        yield path, node


# --- exceptions ---------------------------------------------------------------------------------


def project_frames(error: BaseException) -> list[traceback.FrameSummary]:
    """The frames of ``error``'s traceback in the function's own code, outermost first."""
    root = str(ROOT) + os.sep
    return [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith(root)
        and not frame.filename.startswith((str(ROOT / ".venv"), str(ROOT / "tests")))
    ]


def exception_failure(error: BaseException) -> Failure:
    """The class of an exception: its type, the project line that raised it, and the chain of
    project functions it went through (from where mapping starts)."""
    frames = project_frames(error)
    chain = [f for f in frames if "tiktok_mapper" in f.filename] or frames
    names = [f"{os.path.basename(f.filename)}:{f.name}" for f in chain]
    last = chain[-1] if chain else None
    at = f"{os.path.relpath(last.filename, ROOT)}:{last.lineno}" if last else "outside the project"
    text = "".join(traceback.format_exception(error))
    return Failure("exception", f"{type(error).__name__} at {at} via {' > '.join(names)}", text)


def mapper_exception(route: str, raw: bytes, env: dict[str, str]) -> BaseException | None:
    """What ``pipeline.plan_body`` raises for the body, called directly (``None``: nothing but
    the ``BodyError`` of a body that cannot be read)."""
    from tiktok_mapper import pipeline
    from tiktok_mapper.body import BodyError
    from tiktok_mapper.pipeline import from_environment

    setup = from_environment(env)
    source = pipeline.configure(setup)[route.strip("/")]
    try:
        pipeline.plan_body(source, raw, setup.config, NOW)
    except BodyError:
        return None
    except Exception as error:  # any other exception is what we look for
        return error
    return None


def check_configuration(env: dict[str, str], cases: list[Case]) -> list[Failure]:
    """A configuration either stops the start with a ``ConfigError`` naming its variable, or
    serves the cases keeping every invariant; nothing else may happen."""
    from service.settings import read
    from tiktok_mapper.config import ConfigError

    try:
        read(env)
    except ConfigError as error:
        if not str(error).startswith(tuple(env)):
            return [Failure("config", "a ConfigError that names no variable", str(error))]
        return []
    except Exception as error:  # any other exception is what we look for
        return [_as_config(exception_failure(error))]
    door = Door()  # not kept: each configuration is used once
    failures = []
    for case in cases:
        try:
            answer = door.post(case.route, case.body, env)
        except Exception as error:  # main.py itself failed to start
            return [_as_config(exception_failure(error))]
        failures += [_as_config(failure) for failure in check(case, answer, env)]
    return failures


def _as_config(failure: Failure) -> Failure:
    return Failure("config " + failure.kind, failure.where, failure.detail)


# --- running and reducing cases -----------------------------------------------------------------


def run(door: Door, case: Case, env: dict[str, str]) -> list[Failure]:
    return check(case, door.post(case.route, case.body, env), env)


def encoded(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=True).encode()


def reduce_body(body: Any, still: Callable[[Any], bool], budget: int = 3000) -> Any:
    """A smaller body for which ``still(body)`` holds: one event, then greedy deletions and
    simplifications, each kept only when ``still`` holds, until none is left or the budget."""
    tries = [0]

    def holds(candidate: Any) -> bool:
        tries[0] += 1
        return tries[0] <= budget and still(candidate)

    body = _one_event(body, holds)
    changed = True
    while changed and tries[0] <= budget:
        changed = False
        for path in _paths(body):
            for candidate in _simpler(body, path):
                if holds(candidate):
                    body, changed = candidate, True
                    break
            if changed:
                break
    return body


def _one_event(body: Any, holds: Callable[[Any], bool]) -> Any:
    for key in ("events", "data"):
        if isinstance(body, dict) and isinstance(body.get(key), list) and len(body[key]) > 1:
            for event in body[key]:
                candidate = {**body, key: [event]}
                if holds(candidate):
                    return candidate
    if isinstance(body, list) and len(body) > 1:
        for event in body:
            for candidate in (event, [event]):
                if holds(candidate):
                    return candidate
    return body


def _paths(body: Any) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(body, ())]
    while stack and len(found) < 2000:
        node, path = stack.pop()
        if isinstance(node, dict | list):
            pairs = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in pairs:
                found.append((*path, key))
                stack.append((value, (*path, key)))
    return sorted(found, key=len)


def _simpler(body: Any, path: tuple[Any, ...]) -> Iterator[Any]:
    """Bodies one step simpler at ``path``: without it, or with a smaller value there."""
    value = _get(body, path)
    yield _without(body, path)
    if isinstance(value, dict | list):
        children = list(value.values()) if isinstance(value, dict) else list(value)
        for child in children:
            yield _with(body, path, child)
        yield _with(body, path, {} if isinstance(value, dict) else [])
    elif isinstance(value, str) and len(value) > 8:
        yield _with(body, path, value[: len(value) // 2])
        yield _with(body, path, value[:8])


def _get(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


def _without(body: Any, path: tuple[Any, ...]) -> Any:
    copied = copy.deepcopy(body)
    parent = _get(copied, path[:-1])
    del parent[path[-1]]
    return copied


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    copied = copy.deepcopy(body)
    _get(copied, path[:-1])[path[-1]] = copy.deepcopy(value)
    return copied


def reduce_env(env: dict[str, str], still: Callable[[dict[str, str]], bool]) -> dict[str, str]:
    """``env`` without each variable beyond :data:`BASE` that ``still`` does not need."""
    for variable in sorted(set(env) - set(BASE)):
        candidate = {k: v for k, v in env.items() if k != variable}
        if still(candidate):
            env = candidate
    return env


def reproducer(door: Door, case: Case, env: dict[str, str], signature: str) -> dict[str, Any]:
    """The smallest body and environment found that still fail with ``signature``."""

    def fails(raw: bytes, environment: dict[str, str]) -> list[Failure]:
        probe = Case(case.fuzz_seed, case.index, case.seed, case.route, "", raw, ())
        return [f for f in run(door, probe, environment) if f.signature == signature]

    try:
        body = json.loads(case.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        body = None
    small_env = reduce_env(env, lambda e: bool(fails(case.body, e)))
    if body is not None and fails(encoded(body), small_env):
        body = reduce_body(body, lambda b: bool(fails(encoded(b), small_env)))
        raw = encoded(body)
    else:
        raw = case.body
    found = fails(raw, small_env)
    mapper = mapper_exception(case.route, raw, small_env)
    return {
        "signature": signature,
        "case": case.label(),
        "seed": case.seed,
        "configuration": case.configuration,
        "mutations": list(case.mutations),
        "route": case.route,
        "env": {k: v for k, v in small_env.items() if BASE.get(k) != v},
        "body": body if body is not None else raw.decode("utf-8", "replace"),
        "detail": found[0].detail if found else "(did not reproduce after reduction)",
        "mapper_traceback": "".join(traceback.format_exception(mapper)) if mapper else None,
    }


def configuration_reproducer(
    env: dict[str, str], cases: list[Case], signature: str
) -> dict[str, Any]:
    """The fewest variables (over the base) and the one body that still fail with ``signature``."""

    def fails(environment: dict[str, str], some: list[Case]) -> list[Failure]:
        found = check_configuration(environment, some)
        return [failure for failure in found if failure.signature == signature]

    chosen = next((c for c in cases if fails(env, [c])), cases[0])
    small_env = reduce_env(env, lambda e: bool(fails(e, [chosen])))
    found = fails(small_env, [chosen])
    return {
        "signature": signature,
        "case": chosen.label(),
        "seed": chosen.seed,
        "route": chosen.route,
        "env": {k: v for k, v in small_env.items() if BASE.get(k) != v},
        "body": json.loads(chosen.body),
        "detail": found[0].detail if found else "(did not reproduce after reduction)",
    }


def slug(signature: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "-", signature).strip("-")[:60]
    return f"{words}-{hashlib.sha256(signature.encode()).hexdigest()[:8]}"
