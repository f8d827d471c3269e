"""JSON-aware mutators, and the cases they make: (fuzz seed, index) → route, configuration, bytes.

Words used here: see :mod:`tests.fuzz`. A *spot* is one value inside a body: its container and
key (or index), or the body itself; a *mutator* changes the body at a spot (or around it) and
takes every random choice from the ``random.Random`` it is given, so a case is the same on every
run and on every machine.
"""

from __future__ import annotations

import copy
import json
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.conftest import COMPLETE
from tests.fuzz.corpus import (
    MAPPING,
    PERSONAL,
    ROUTES,
    SMART,
    canary,
    configurations,
    events_of,
    schema_locations,
    seeds,
)

MAX_SPOTS = 4000  # spots looked at in a body: a 1000-event body need not be walked whole
MUTATIONS_PER_BODY = (1, 1, 2, 2, 3, 3, 4, 5, 6, 8)

# Strings a careless sender, a bad encoder or an attacker puts anywhere.
STRINGS = [
    "", " ", "\t\n", "x", "null", "true", "false", "NaN", "Infinity", "-Infinity", "undefined",
    "0", "-0", "1", "-1", "ads", "2", "web", "app", "crm", "offline", "ios", "android", "ANDROID",
    "native app", "product", "product_group", "EUR", "eur", "XXX", "€", "purchase", "page_view",
    "view_item", "CompletePayment", "completepayment", "PageView", "G100", "G111", "G1--", "G1",
    "a" * 10_000, "a" * 10_001, "é" * 10_000, "1" * 64, "A" * 64, "g" * 64,
    "\u0000", "\u0000x", "\u2028", "\ufeff", "\u200b", "\u00a0", "İ", "ß", "ﬃ", "Ⅻ", "½", "²",
    "\uff11\uff12", "٣", "߁", "🙂", "e\u0301", "\u202e", "%", "%%", "%ZZ", "%00", "&&&", "=&=", "a=b; c",
    "https://", "http://[", "https://[::1", "https://x:99999/", "//x?ttclid=%ZZ", "?ttclid=",
    "https://shop.example/?ttclid=a&ttclid=b", "https://a.example/p?ttclid=" + "z" * 9000,
    "_ttp=; ttclid=\"\"", "ttclid=%E9; _ttp=%", "\\", "\"", "'", "$", "${x}", "{{x}}", "[]", "{}",
]  # fmt: skip
NUMERIC_STRINGS = [
    "1e5", " 2 ", "0x10", "\uff11\uff12", "1_000", "+1", "-0", ".5", "5.", "1e400", "-1e400", "1E-400",
    "1,99", "€9.99", "9" * 99, "9" * 100, "9" * 101, "0.000", "2.0", "2.5", "  7  ", "\u00a03",
    "٣", "1e15", "1e16", "-1e15", "999999999999999.9", "1000000000000000", "00012", "1e", "e1",
]  # fmt: skip
DATES = [
    "2024-02-30", "2024-13-01T00:00:00Z", "0001-01-01", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999+00:00", "2024-01-01T00:00:00.123456789Z",
    "20240101", "20240101T000000Z", "2024-W01", "2024-W01-1", "2024-001", "T12:00", "12:00",
    "2024-01-01 00:00", "2024-01-01T24:00:00", "2024-01-01T00:00:00z", "2024-01-01t00:00:00",
    "1970-01-01T00:00:00Z", "1970-01-01T00:00:01Z", "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00-00:01", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+23:59:59.999999",
    "2024-01-01T00:00:00 UTC", "Mon, 01 Jan 2024 00:00:00 GMT", "1e11", "1e14", "99999999999",
    "100000000000", "99999999999999", "100000000000000", "1700000000", "1700000000.5", "-1",
]  # fmt: skip
NUMBERS = [
    0, -1, 1, 2, -0.0, 0.5, 1.5, 2.5, -2.5, 1e308, -1e308, 5e-324, 1e-7, 0.1 + 0.2,
    10**15, 10**15 + 1, 1e15, 1e15 + 0.5, -(10**15), 10**16, 2**53 + 1, 2**63, -(2**63), 2**64,
    10**20, 10**300, -(10**300), int("9" * 4300), 99999999999, 10**11, 10**14 - 1, 10**14,
    1.7e9, 1.7e12, 1.7e15, 1.7e18, 1e300, 12345.0, 1e16 + 2.0,
]  # fmt: skip
CONTAINERS: list[Any] = [
    [], {}, [[]], [{}], [None], [None, None], [None, "ads"], ["ads", None], [[None]], [[], {}],
    {"": None}, {"0": 1}, {"a": {"b": {"c": []}}}, [1, "1", None, True, [], {}], [""] * 5,
]  # fmt: skip
SCALARS: list[Any] = [None, True, False, *NUMBERS, *STRINGS]
KEY_VARIANTS: list[Callable[[str], str]] = [
    str.upper, str.title, lambda key: " " + key, lambda key: key + " ",
    lambda key: key.replace("_", "-"), lambda key: key.replace("-", "_"),
    lambda key: key.replace(".", "_"), lambda key: key + ".0", lambda key: "user." + key,
    lambda key: key[:-1], lambda key: key + "\u0000",
]  # fmt: skip
DOTTED_KEYS = [
    "user.email", "user_data.email_address", "context.page.url", "items.0.id", "partners.tiktok",
    "crm.emails.0", "x-ttq-ud-email", "x_ttq_ud_email", "event.name", "",
]  # fmt: skip
DEEP = (50, 200, 500, 800, 900, 950, 975, 990)


Spot = tuple[Any, Any]  # (container, key) — a (None, None) spot is the body itself


@dataclass(frozen=True)
class Case:
    fuzz_seed: str
    index: int
    seed: str  # the name of the seed it was made from
    route: str
    configuration: str
    body: bytes
    mutations: tuple[str, ...]

    def label(self) -> str:
        return f"{self.fuzz_seed}:{self.index}"


@cache
def foreign_values() -> tuple[tuple[tuple[str, ...], Any], ...]:
    """(location, value) of every value in every seed's events, of every source, plus the
    inputs the smart mapping of :data:`tests.fuzz.corpus.SMART` reads."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for seed in seeds():
        for event in events_of(json.loads(seed.text), seed.route):
            if isinstance(event, dict):
                _collect(event, (), found)
    for number, path in enumerate(SMART.values()):
        found.append((tuple(path.split(".")), canary("email", 900_000 + number)))
        found.append((tuple(path.split(".")), [{"id": "L1", "quantity": 1, "price": 2}]))
    found += [(("site", "channel"), "app"), (("xp",), "native app"), (("os",), "iOS")]
    found += [(("user", "consent_categories"), [None, "ads"]), (("x-ga-gcs",), "G100")]
    return tuple(found)


def _collect(node: Any, where: tuple[str, ...], found: list[Any]) -> None:
    for key, value in node.items() if isinstance(node, dict) else enumerate(node):
        inner = (*where, key if isinstance(key, str) else "0")
        found.append((inner, value))
        if isinstance(value, dict | list) and len(found) < 20_000:
            _collect(value, inner, found)


@cache
def known_locations() -> tuple[tuple[str, ...], ...]:
    """Every location any input schema names: what some source reads, or validates."""
    found = {location for route in ROUTES for location in schema_locations(route)}
    found |= {location for table in PERSONAL.values() for location in table}
    found |= {tuple(path.split(".")) for path in SMART.values()}
    return tuple(sorted(found))


def spots(body: Any) -> list[Spot]:
    """The body itself, then every value inside it, breadth first (at most :data:`MAX_SPOTS`)."""
    found: list[Spot] = [(None, None)]
    queue = deque([body])
    while queue and len(found) < MAX_SPOTS:
        node = queue.popleft()
        if isinstance(node, dict):
            pairs: Any = list(node.items())
        elif isinstance(node, list):
            pairs = list(enumerate(node))
        else:
            continue
        for key, value in pairs:
            found.append((node, key))
            queue.append(value)
    return found


def value_at(body: Any, spot: Spot) -> Any:
    container, key = spot
    return body if container is None else container[key]


def put(body: Any, spot: Spot, value: Any) -> Any:
    """The body with ``value`` at ``spot`` (a new body when the spot is the body itself)."""
    container, key = spot
    if container is None:
        return value
    container[key] = value
    return body


def hostile(rng: random.Random) -> Any:
    """A value of any type, chosen to break a reader that trusts types, sizes or encodings."""
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(SCALARS)
    if roll < 0.6:
        return rng.choice(NUMERIC_STRINGS)
    if roll < 0.7:
        return rng.choice(DATES)
    if roll < 0.85:
        return copy.deepcopy(rng.choice(CONTAINERS))
    if roll < 0.95:
        return copy.deepcopy(rng.choice(foreign_values())[1])
    return rng.choice(["\ud800", "x\udfff", "\ud83d\ude42"])  # lone surrogates too: a 400


def nested(value: Any, depth: int, rng: random.Random) -> Any:
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"a": value}
    return value


# --- mutators: (body, spot, rng, route) → body ---------------------------------------------------


def replace(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    return put(body, spot, hostile(rng))


def delete(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    container, key = spot
    if isinstance(container, dict) or (isinstance(container, list) and len(container) > 1):
        del container[key]
    return body


def wrap_in_list(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    return put(body, spot, [value_at(body, spot)])


def into_array(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """The value duplicated into an array, alone or with nulls or a hostile value beside it."""
    value = value_at(body, spot)
    partner = rng.choice([None, None, hostile(rng), copy.deepcopy(value)])
    pair = [copy.deepcopy(value), partner]
    rng.shuffle(pair)
    return put(body, spot, pair)


def swap_in_list(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """In the nearest list: an element of another type swapped in, added, or the list reordered."""
    container = spot[0]
    target = value_at(body, spot) if isinstance(value_at(body, spot), list) else container
    if not isinstance(target, list):
        return put(body, spot, [None, value_at(body, spot), hostile(rng)])
    roll = rng.random()
    if roll < 0.4 and target:
        target[rng.randrange(len(target))] = hostile(rng)
    elif roll < 0.8:
        target.insert(rng.randint(0, len(target)), rng.choice([None, hostile(rng), [], {}]))
    else:
        rng.shuffle(target)
    return body


def insert_foreign(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """A key and value from another seed (of any source) put at its own location in an event."""
    location, value = rng.choice(foreign_values())
    return _set_in_event(body, route, location, copy.deepcopy(value), rng)


def set_known(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """A location some input schema names, set to a hostile value."""
    location = rng.choice(known_locations())
    return _set_in_event(body, route, location, hostile(rng), rng)


def plant_canary(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """A fresh canary where this route reads personal data, as it is or in an array."""
    location, kind = rng.choice(sorted(PERSONAL[route].items()))
    value: Any = canary(kind, rng.randrange(500_000, 900_000))
    if rng.random() < 0.3:
        value = [None, value] if rng.random() < 0.5 else [value]
    return _set_in_event(body, route, location, value, rng)


def _set_in_event(
    body: Any, route: str, location: tuple[str, ...], value: Any, rng: random.Random
) -> Any:
    events = [event for event in events_of(body, route) if isinstance(event, dict)]
    if not events:
        return body
    node: Any = rng.choice(events)
    for key in location[:-1]:
        if isinstance(node, list):
            if not node:
                node.append({})
            node = node[0]
            if key == "0":
                continue
        if not isinstance(node, dict):
            return body
        inner = node.get(key)
        if not isinstance(inner, dict | list):
            inner = node[key] = {}
        node = inner
    if isinstance(node, dict):
        node[location[-1]] = value
    elif isinstance(node, list):
        node.append(value)
    return body


ENVELOPE: dict[str, list[Any]] = {
    "event_source": ["web", "app", "APP", " crm ", "offline", "x", "", None, 1, []],
    "event_source_id": [*COMPLETE.values(), int(COMPLETE["TIKTOK_APP_ID"]), "", " ", None, {}],
    "test_event_code": ["T1", "", " ", None, 1, "x" * 10_001, "\u0000"],
}


def set_envelope(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """/tiktok only: the body made a request body, and one of its envelope fields set."""
    if route != "/tiktok":
        return body
    if not (isinstance(body, dict) and isinstance(body.get("data"), list) and "event" not in body):
        body = {"data": events_of(body, route) or [body]}
    key = rng.choice(sorted(ENVELOPE))
    body[key] = rng.choice([*ENVELOPE[key], hostile(rng)])
    return body


def numeric_string(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    return put(body, spot, rng.choice(NUMERIC_STRINGS))


def odd_date(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    return put(body, spot, rng.choice(DATES))


def edit_scalar(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """A string or number changed a little: case, padding, length, sign, size, type."""
    value = value_at(body, spot)
    if isinstance(value, str):
        edits: list[Callable[[str], Any]] = [
            str.upper, str.lower, str.swapcase, lambda s: f"  {s}\t", lambda s: s[: len(s) // 2],
            lambda s: s * 2, lambda s: s + rng.choice(STRINGS[:80]), lambda s: s.replace("@", ""),
            lambda s: s.replace("+", "00"), lambda s: s.replace("+33 ", "0"), lambda s: s + "\u0000",
            lambda s: s.ljust(10_001, "x"), lambda s: s.encode().hex(), lambda s: [s],
            lambda s: s.replace(".", ","), lambda s: "+" + s, lambda s: s.replace(" ", ""),
        ]  # fmt: skip
    elif isinstance(value, bool):
        edits = [lambda b: not b, lambda b: str(b).lower(), int]
    elif isinstance(value, int | float):
        edits = [
            lambda x: -x, lambda x: x * 10**10, lambda x: x + 0.5, float, str,
            lambda x: int(x) if abs(x) < 1e300 else 0, lambda x: x * 1000, lambda x: x / 1000,
            lambda x: f" {x} ", lambda x: [x],
        ]  # fmt: skip
    else:
        return put(body, spot, hostile(rng))
    return put(body, spot, rng.choice(edits)(value))


def rename_key(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    container, key = spot
    if not isinstance(container, dict):
        return body
    variant = rng.choice(KEY_VARIANTS)(key)
    container[variant] = container.pop(key)
    return body


def dotted_key(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """A key with dots (or another source's flattened key) beside the value at the spot."""
    container = spot[0]
    target = container if isinstance(container, dict) else body
    if isinstance(target, dict):
        target[rng.choice(DOTTED_KEYS)] = copy.deepcopy(value_at(body, spot))
    return body


def change_container(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """An object into the list of its values, a list into an object keyed by index."""
    value = value_at(body, spot)
    if isinstance(value, dict):
        return put(body, spot, list(value.values()))
    if isinstance(value, list):
        return put(body, spot, {str(i): item for i, item in enumerate(value)})
    return put(body, spot, {"value": value})


def copy_subtree(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """Another part of the same body copied over the value at the spot."""
    others = spots(body)[1:]
    if not others:
        return body
    return put(body, spot, copy.deepcopy(value_at(body, rng.choice(others))))


def deep_nest(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    return put(body, spot, nested(value_at(body, spot), rng.choice(DEEP), rng))


def many_items(body: Any, spot: Spot, rng: random.Random, route: str) -> Any:
    """A list made very long (up to and just past the limits of 1000 events or items)."""
    value = value_at(body, spot)
    element = value[0] if isinstance(value, list) and value else value
    size = rng.choice([100, 999, 1000, 1001])
    return put(body, spot, [copy.deepcopy(element) for _ in range(size)])


# (mutator, weight): the ones that reach mapping code most are weighted up.
MUTATORS: tuple[tuple[Callable[..., Any], int], ...] = (
    (replace, 20),
    (delete, 8),
    (wrap_in_list, 4),
    (into_array, 6),
    (swap_in_list, 5),
    (insert_foreign, 12),
    (set_known, 14),
    (plant_canary, 4),
    (set_envelope, 3),
    (numeric_string, 4),
    (odd_date, 3),
    (edit_scalar, 10),
    (rename_key, 3),
    (dotted_key, 2),
    (change_container, 3),
    (copy_subtree, 3),
    (deep_nest, 1),
)
RARE = (many_items,)  # one body in a few hundred: big bodies are slow to map


def mutate(body: Any, route: str, rng: random.Random) -> tuple[Any, list[str]]:
    """``body`` after a few mutations, and their names."""
    names = []
    functions, weights = zip(*MUTATORS, strict=True)
    for _ in range(rng.choice(MUTATIONS_PER_BODY)):
        mutator = rng.choice(RARE) if rng.random() < 0.003 else rng.choices(functions, weights)[0]
        where = rng.choice(spots(body))
        try:
            body = mutator(body, where, rng, route)
        except (ArithmeticError, ValueError, RecursionError):  # 1e308 * 10**10 and the like
            continue
        names.append(mutator.__name__)
    return body, names


def encode(body: Any, rng: random.Random) -> bytes:
    """The body as JSON bytes: ASCII escapes or UTF-8, rarely with a key written twice."""
    try:
        text = json.dumps(body, ensure_ascii=rng.random() < 0.5)
    except (RecursionError, ValueError):
        return b""
    if rng.random() < 0.02 and text.startswith("{") and len(text) > 2:
        text = '{"event_name": "duplicate", ' + text[1:]  # duplicate keys: the last one wins
    return text.encode("utf-8", "surrogatepass")


def case(fuzz_seed: str, index: int) -> Case:
    """The ``index``-th case of the campaign ``fuzz_seed``: the same on every run."""
    rng = random.Random(f"{fuzz_seed}:{index}")
    seed = rng.choice(seeds())
    route = seed.route if rng.random() < 0.95 else rng.choice(ROUTES)
    names = sorted(configurations())
    own = "fixture:" + seed.name
    configuration = own if own in names and rng.random() < 0.3 else rng.choice(names)
    for _ in range(3):
        body, mutations = mutate(json.loads(seed.text), route, rng)
        raw = encode(body, rng)
        if raw:
            break
    else:
        raw, mutations = seed.text.encode(), []
    return Case(fuzz_seed, index, seed.name, route, configuration, raw, tuple(mutations))


# --- configurations: the environment fuzzed, bodies kept -----------------------------------------

# The variables fuzzed; the ids, DRY_RUN, tokens and caller keys stay as the base sets them.
CONFIG_VARIABLES = (
    "TIKTOK_EVENT_MAPPING", "TIKTOK_SMART_MAPPING", "TIKTOK_CONSENT_CATEGORIES",
    "TIKTOK_VIEW_CONTENT_EVENTS", "TIKTOK_AUTODISCOVER_EVENT_SOURCE", "TIKTOK_GA4_PURCHASE_EVENT",
    "TIKTOK_GA4_REQUIRE_AD_STORAGE", "TIKTOK_DEFAULT_PHONE_REGION", "TIKTOK_TEST_EVENT_CODE",
    "MAX_BODY_BYTES", "LOG_LEVEL", "TIKTOK_TOKEN_TTL_SECONDS", "TIKTOK_RETRY_DEADLINE_SECONDS",
    "GOOGLE_CLOUD_PROJECT",
)  # fmt: skip
PATHS = [
    "", ".", "a..b", "0", "items", "items.0", "items.0.id", "items.-1", "items.99999999999999999999",
    "user", "user.consent_categories", "context.app", "context.device", "user.email.0", " x ",
    "a.b.c.d.e.f.g", "event_name", "id", "partners.tiktok", "x-ttq-ud-email", "0.0.0", "_", "é",
]  # fmt: skip
CONFIG_TEXTS = [
    "[]", "{}", "null", "true", "1", '""', "[" * 5000, '{"a": ' * 3000, "{" + '"a": 1, ' * 3 + "}",
    "both", "page_view", "view_item", "PlaceAnOrder", "CompletePayment", "FR", "fr", "XX", "ZZZ",
    "0", "-1", "1e3", "99999999999999999999999", "DEBUG", "debug", "true", "no", "maybe", ",,,",
    " , ads ,, 4 ", "TEST123", "x" * 10_001,
]  # fmt: skip


def config_value(variable: str, rng: random.Random) -> str:
    """A value for ``variable``: a mutated version of a good one, or any text (but NUL, which
    no environment variable can hold)."""
    return _config_value(variable, rng).replace("\x00", "")


def _config_value(variable: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(CONFIG_TEXTS + STRINGS[:60])
    if variable == "TIKTOK_SMART_MAPPING":
        from tiktok_mapper.commandersact import SMART_MAPPING_KEYS

        keys = sorted(SMART_MAPPING_KEYS)
        smart = {rng.choice(keys): rng.choice(PATHS) for _ in range(rng.randint(1, 6))}
        base: Any = smart if roll < 0.7 else dict(SMART)
    elif variable == "TIKTOK_EVENT_MAPPING":
        names = ["purchase", "page_view", "PageView", "CompletePayment", "", " ", "Legacy", "x"]
        values = [None, "Purchase", "pageview", "Custom_1", "", "1x", True, 1, ["Purchase"], {}]
        mapping = {rng.choice(names): rng.choice(values) for _ in range(rng.randint(1, 4))}
        base = mapping if roll < 0.7 else dict(MAPPING)
    else:
        return rng.choice(CONFIG_TEXTS)
    if rng.random() < 0.5:
        base, _ = mutate(base, "/commandersact", rng)
    try:
        return json.dumps(base)
    except (RecursionError, ValueError):
        return "{}"


def config_case(fuzz_seed: str, index: int) -> tuple[dict[str, str], list[Case]]:
    """A fuzzed configuration and three seed bodies to post with it, one per route."""
    rng = random.Random(f"{fuzz_seed}:configuration:{index}")
    env = dict(configurations()[rng.choice(sorted(configurations()))])
    for _ in range(rng.randint(1, 3)):
        variable = rng.choice(CONFIG_VARIABLES)
        env[variable] = config_value(variable, rng)
    bodies = []
    for route in ROUTES:
        seed = rng.choice([seed for seed in seeds() if seed.route == route])
        bodies.append(Case(fuzz_seed, index, seed.name, route, "", seed.text.encode(), ()))
    return env, bodies
