"""The seeds and configurations the fuzzer starts from, and where each source reads personal data.

Words used here: see :mod:`tests.fuzz`. A *location* is the path of a value inside one event,
as a tuple of object keys with array indices left out (``("user", "email")`` for
``user.email[1]``), so that one entry of :data:`PERSONAL` covers every element of an array.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import COMPLETE, FIXTURES, ROOT

ROUTES = ("/commandersact", "/ga4", "/tiktok")
BASE = {**COMPLETE, "DRY_RUN": "true"}

# Smart mapping of every kind: smart fields, personal fields, an array index, a list field.
SMART = {
    "event_source": "site.channel",
    "experience_type": "xp",
    "device_platform": "os",
    "event_id": "meta.ids.0",
    "user.external_id": "crm.customer_no",
    "user.email": "crm.emails.0",
    "user.phone": "crm.phones",
    "user.first_name": "crm.name.first",
    "properties.value": "order.total",
    "properties.contents": "basket.lines",
    "properties.num_items": "basket.lines",
    "app.app_id": "app_info.bundle",
}
# Smart mapping at paths no sender should use: arrays, objects, other sources' fields.
ODD_SMART = {
    "event_source": "0",
    "device_platform": "items.0.id",
    "experience_type": "context.app",
    "event_time": "user.consent_categories.0",
    "event_id": "items",
    "user.email": "user",
    "user.phone": "context.device.cookie",
    "user.zip_code": "items.0.quantity",
    "properties.contents": "user.consent_categories",
    "properties.num_items": "context",
    "properties.value": "items.0.price",
    "properties.currency": "currency.0",
    "lead.lead_id": "partners.tiktok",
}
MAPPING = {
    "purchase": "Purchase",
    "page_view": None,
    "add_to_cart": "addtocart",
    "scroll": "Scroll_Depth",
    "Legacy": None,
    "CompletePayment": "Purchase",
    "ViewContent": None,
    "login": "pageview",
}
# name → variables over BASE; each one changes which code runs for some route.
CONFIGURATIONS: dict[str, dict[str, str]] = {
    "plain": {},
    "consent": {"TIKTOK_CONSENT_CATEGORIES": "2, 4, ads, 0"},
    "smart": {"TIKTOK_SMART_MAPPING": json.dumps(SMART)},
    "smart_odd": {
        "TIKTOK_SMART_MAPPING": json.dumps(ODD_SMART),
        "TIKTOK_AUTODISCOVER_EVENT_SOURCE": "true",
    },
    "autodiscover": {
        "TIKTOK_AUTODISCOVER_EVENT_SOURCE": "true",
        "TIKTOK_SMART_MAPPING": json.dumps({"experience_type": "xp"}),
    },
    "view_both": {"TIKTOK_VIEW_CONTENT_EVENTS": "both"},
    "view_page": {"TIKTOK_VIEW_CONTENT_EVENTS": "page_view"},
    "phone_fr": {"TIKTOK_DEFAULT_PHONE_REGION": "FR"},
    "phone_us": {"TIKTOK_DEFAULT_PHONE_REGION": "us"},
    "ga4_options": {
        "TIKTOK_GA4_REQUIRE_AD_STORAGE": "true",
        "TIKTOK_GA4_PURCHASE_EVENT": "CompletePayment",
    },
    "mapping": {"TIKTOK_EVENT_MAPPING": json.dumps(MAPPING)},
    "test_code": {"TIKTOK_TEST_EVENT_CODE": "TEST123"},
    "everything": {
        "TIKTOK_CONSENT_CATEGORIES": "2, 4, ads",
        "TIKTOK_SMART_MAPPING": json.dumps(SMART),
        "TIKTOK_AUTODISCOVER_EVENT_SOURCE": "true",
        "TIKTOK_VIEW_CONTENT_EVENTS": "both",
        "TIKTOK_DEFAULT_PHONE_REGION": "DE",
        "TIKTOK_GA4_REQUIRE_AD_STORAGE": "true",
        "TIKTOK_GA4_PURCHASE_EVENT": "CompletePayment",
        "TIKTOK_EVENT_MAPPING": json.dumps(MAPPING),
        "TIKTOK_TEST_EVENT_CODE": "TEST123",
    },
}

# Where each source reads personal data (the README's field tables), by kind of canary.
PERSONAL: dict[str, dict[tuple[str, ...], str]] = {
    "/commandersact": {
        ("user", "email"): "email",
        ("user", "phone"): "phone",
        ("user", "id"): "external_id",
        ("user", "firstname"): "first_name",
        ("user", "lastname"): "last_name",
        ("user", "zipcode"): "zip",
    },
    "/ga4": {
        **{(key,): "email" for key in ("x-ttq-ud-email", "x_ttq_ud_email")},
        **{(key,): "phone" for key in ("x-ttq-ud-phone-number", "x_ttq_ud_phone_number")},
        **{(key,): "external_id" for key in ("x-ttq-ud-external-id", "x_ttq_ud_external_id")},
        ("user_id",): "external_id",
        ("user_data", "email_address"): "email",
        ("user_data_email_address",): "email",
        ("user_data", "phone_number"): "phone",
        ("user_data_phone_number",): "phone",
        ("user_data", "address", "first_name"): "first_name",
        ("user_data_address_first_name",): "first_name",
        ("user_data", "address", "last_name"): "last_name",
        ("user_data_address_last_name",): "last_name",
        ("user_data", "address", "postal_code"): "zip",
        ("user_data_address_postal_code",): "zip",
        ("user_data", "address", "street"): "street",
        ("user_data_address_street",): "street",
    },
    "/tiktok": {
        ("user", "email"): "email",
        ("user", "phone"): "phone",
        ("user", "external_id"): "external_id",
        ("user", "first_name"): "first_name",
        ("user", "last_name"): "last_name",
        ("user", "zip_code"): "zip",
    },
}
# The TikTok personal fields a smart mapping may point elsewhere, by kind of canary.
SMART_PERSONAL = {
    "user.email": "email",
    "user.phone": "phone",
    "user.external_id": "external_id",
    "user.first_name": "first_name",
    "user.last_name": "last_name",
    "user.zip_code": "zip",
}
HEX64 = re.compile(r"[0-9A-Fa-f]{64}")


@dataclass(frozen=True)
class Seed:
    name: str  # "commandersact/consent_categories" (a fixture) or "examples/ga4-batch.json"
    route: str
    text: str  # the body as JSON text, canaries planted
    env: tuple[tuple[str, str], ...]  # its fixture's variables, every event source id kept


def personal_locations(route: str, env: dict[str, str]) -> dict[tuple[str, ...], str]:
    """Where ``route`` reads personal data under the variables ``env``, by kind of canary."""
    found = dict(PERSONAL[route])
    if route == "/commandersact":
        for target, path in _smart_mapping(env.get("TIKTOK_SMART_MAPPING", "")).items():
            if target in SMART_PERSONAL:
                location = tuple(key for key in path.split(".") if not key.isdigit())
                found[location] = SMART_PERSONAL[target]
    return found


@cache
def _smart_mapping(value: str) -> dict[str, str]:
    from tiktok_mapper.pipeline import from_environment

    return dict(from_environment({"TIKTOK_SMART_MAPPING": value}).commandersact.smart_mapping)


def canary(kind: str, number: int) -> str:
    """A personal value of ``kind`` that no other part of a body can hold by chance."""
    if kind == "phone":
        return f"+33 {699000000 + number % 1000000}"
    if kind == "email":
        return f"Kanarie{number:06d}@Fuzz.example"
    letter = {"external_id": "x", "first_name": "f", "last_name": "l", "zip": "z"}.get(kind, "s")
    return f"Kanari{letter}{number:06d}" + (" Street" if kind == "street" else "")


def events_of(body: Any, route: str) -> list[Any]:
    """The events ``body`` holds, as ``tiktok_mapper.body`` reads them (references, not copies)."""
    if isinstance(body, list):
        return body
    if not isinstance(body, dict):
        return []
    if route == "/tiktok" and isinstance(body.get("data"), list) and "event" not in body:
        return body["data"]
    names = ("event_name", "x-ttq-event-name", "x_ttq_event_name")
    if isinstance(body.get("events"), list) and not any(name in body for name in names):
        return body["events"]
    return [body]


def plant(body: Any, route: str, env: dict[str, str], counter: list[int]) -> None:
    """Replace each clear-text personal string of ``body`` by a canary of its kind, in place."""
    where = personal_locations(route, env)
    for event in events_of(body, route):
        _plant_in(event, (), where, counter)


def _plant_in(
    node: Any, location: tuple[str, ...], where: dict[Any, str], counter: list[int]
) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        inner = (*location, key) if isinstance(key, str) else location
        if isinstance(value, dict | list):
            _plant_in(value, inner, where, counter)
        elif isinstance(value, str) and inner in where and not HEX64.fullmatch(value.strip()):
            counter[0] += 1
            node[key] = canary(where[inner], counter[0])


def _fixture_seed(path: Path, counter: list[int]) -> Seed | None:
    fixture = json.loads(path.read_text(encoding="utf-8"))
    if "input" not in fixture:  # a body sent as raw text is for the body reader, not for us
        return None
    env = {**fixture.get("env", {}), **COMPLETE}  # a missing id fails on purpose: not ours
    route = "/" + path.parent.name
    body = fixture["input"]
    plant(body, route, env, counter)
    name = f"{path.parent.name}/{path.stem}"
    return Seed(name, route, json.dumps(body, ensure_ascii=False), tuple(sorted(env.items())))


def _example_seed(path: Path, counter: list[int]) -> Seed:
    route = "/" + path.name.split("-", 1)[0]
    body = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(body, dict) and body.get("event_source_id") == "CDEMOPIXEL000000000X":
        body["event_source_id"] = COMPLETE["TIKTOK_PIXEL_ID"]  # the README's demo pixel: ours here
    plant(body, route, {}, counter)
    return Seed(f"examples/{path.name}", route, json.dumps(body, ensure_ascii=False), ())


@cache
def seeds() -> tuple[Seed, ...]:
    """Every golden fixture input of every source, then every example, in a fixed order."""
    counter = [0]
    found = [
        seed
        for path in sorted(FIXTURES.glob("*/*.json"))
        if (seed := _fixture_seed(path, counter)) is not None
    ]
    found += [_example_seed(path, counter) for path in sorted((ROOT / "examples").glob("*.json"))]
    return tuple(found)


@cache
def configurations() -> dict[str, dict[str, str]]:
    """Every configuration by name: :data:`CONFIGURATIONS`, then each fixture's own."""
    found = {name: {**BASE, **env} for name, env in CONFIGURATIONS.items()}
    for seed in seeds():
        if seed.env and dict(seed.env) != COMPLETE:
            found["fixture:" + seed.name] = {**BASE, **dict(seed.env)}
    return found


def schema_locations(route: str) -> list[tuple[str, ...]]:
    """Every path the input schema of ``route`` names (array elements as ``"0"``)."""
    name = {"/commandersact": "commandersact", "/ga4": "ga4", "/tiktok": "tiktok-input"}[route]
    document = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
    found: list[tuple[str, ...]] = []
    _schema_walk(document, document, (), found)
    return found


def _schema_walk(document: Any, node: Any, where: tuple[str, ...], found: list[Any]) -> None:
    if len(where) > 6 or not isinstance(node, dict):
        return
    if "$ref" in node:
        node = document["$defs"][node["$ref"].rpartition("/")[2]]
    for branch in node.get("anyOf", ()):
        _schema_walk(document, branch, where, found)
    for key, inner in node.get("properties", {}).items():
        found.append((*where, key))
        _schema_walk(document, inner, (*where, key), found)
    if isinstance(node.get("items"), dict):
        _schema_walk(document, node["items"], (*where, "0"), found)
