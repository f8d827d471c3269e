"""Hand-written hypothesis strategies for request bodies: any JSON, events of each source, and
the personal values they carry.

Words used here:

- *any JSON*: every JSON value the stdlib can write: nulls, booleans, integers up to a few
  hundred digits, finite floats, any text (lone surrogates included: they are written as
  ``\\udXXX`` escapes), arrays and objects, a few levels deep.
- *hostile value*: a value a careless sender (or an attacker) puts where a field is read: the
  wrong type, a huge or tiny number, an empty or padded string, a timestamp from year 1 or 9999.
- *event of a source*: an object shaped like that source's events (its keys, at their paths),
  each value either plausible or hostile, so that mapping code is reached and stressed.
- *valid event*: an event built only from values the source's input schema accepts; the
  caller still checks it against the schema (see ``tests/test_properties.py``).
- *personal values*: a distinctive e-mail, phone and user id put where each source reads them,
  so that a test can search the answer for them.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

ROUTES = ("/commandersact", "/ga4", "/tiktok")
NAME_KEY = {"/commandersact": "event_name", "/ga4": "event_name", "/tiktok": "event"}

# Text that includes lone surrogates (category Cs), which st.text() leaves out by default.
SURROGATE_TEXT = st.text(st.characters(codec=None, categories=["Cs", "Ll", "Nd"]), max_size=5)
TEXT = st.text(max_size=20) | SURROGATE_TEXT
KEYS = st.text(max_size=8) | st.sampled_from(["event_name", "event", "events", "data", "user"])

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**300), max_value=10**300)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
any_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)

# Times: seconds, milliseconds, microseconds, numeric strings, ISO strings, and the edges.
timestamps = st.one_of(
    st.integers(min_value=1, max_value=2_000_000_000),
    st.integers(min_value=10**11, max_value=2 * 10**12),
    st.integers(min_value=10**14, max_value=2 * 10**15),
    st.floats(min_value=1e9, max_value=2e9),
    st.integers(min_value=1_000_000_000, max_value=2_000_000_000).map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00", "9999-12-31T23:59:59", "1970-01-01T00:00:00Z",
                     "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]),
    st.sampled_from([0, -1, 1e300, -1e300, 10**30, "1e308", "nan", "inf", " 12 ", ""]),
)  # fmt: skip
amounts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.sampled_from(["1,99", "€9.99", "1e400", "-0", " 3.5 ", "", "9" * 99]),
)
counts = st.one_of(
    st.integers(min_value=-5, max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e20, max_value=1e20),
    st.sampled_from(["2", "2.0", "2.5", "x", "1e3"]),
)
# What the input schemas accept for amounts and counts, up to the 10^15 the mapping allows.
VALID_AMOUNTS = st.one_of(
    st.floats(min_value=0, max_value=1e6),
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=-1e15, max_value=1e15),
    st.integers(min_value=-(10**15), max_value=10**15),
)
VALID_COUNTS = st.integers(min_value=0, max_value=100) | st.integers(min_value=0, max_value=10**15)
hostile = any_json | timestamps | amounts | st.text(min_size=0, max_size=3)


def plausible_or_hostile(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return plausible | plausible | hostile


# --- personal values -------------------------------------------------------------------------
LOCAL = st.text(string.ascii_lowercase + string.digits, min_size=4, max_size=10)
emails = st.builds(lambda local, domain: f"{local}.x@{domain}.example", LOCAL, LOCAL)
phones = st.one_of(
    st.integers(min_value=10_000_000, max_value=99_999_999).map(lambda n: f"+336{n}"),
    st.integers(min_value=2_000_000, max_value=9_999_999).map(lambda n: f"+1 213 {n}"),
)
user_ids = LOCAL.map(lambda text: f"uid-{text}")


@st.composite
def personal(draw: st.DrawFn) -> dict[str, str]:
    return {"email": draw(emails), "phone": draw(phones), "id": draw(user_ids)}


def with_personal(route: str, event: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """``event`` with the personal ``values`` where ``route``'s source reads them."""
    event = dict(event)
    if route == "/commandersact":
        user = event.get("user") if isinstance(event.get("user"), dict) else {}
        event["user"] = {**user, "email": values["email"], "phone": values["phone"],
                         "id": values["id"]}  # fmt: skip
    elif route == "/ga4":
        event["user_data"] = {"email_address": values["email"], "phone_number": values["phone"]}
        event["user_id"] = values["id"]
    else:
        user = event.get("user") if isinstance(event.get("user"), dict) else {}
        event["user"] = {**user, "email": [values["email"]], "phone": values["phone"],
                         "external_id": values["id"]}  # fmt: skip
    return event


# --- events of each source -------------------------------------------------------------------
EVENT_NAMES = {
    "/commandersact": ["purchase", "add_to_cart", "page_view", "view_item", "login", "scroll",
                       "search", "generate_lead", "complete_payment", "launch_app"],
    "/ga4": ["purchase", "add_to_cart", "page_view", "view_item", "sign_up", "generate_lead",
             "search", "begin_checkout", "scroll"],
    "/tiktok": ["CompletePayment", "AddToCart", "ViewContent", "PageView", "Search", "Lead",
                "My_Custom-Event", "purchase"],
}  # fmt: skip
CURRENCIES = st.sampled_from(["EUR", "usd", "GBP", "XXX", ""])
IDS = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12) | st.integers(
    min_value=0, max_value=10**12
)
WORDS = st.text(string.ascii_letters + " -", max_size=12)
URLS = st.builds(lambda path, click: f"https://shop.example/{path}?ttclid={click}", LOCAL, LOCAL)


def optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def commandersact_event(valid: bool) -> st.SearchStrategy[dict[str, Any]]:
    wrap = (lambda s: s) if valid else plausible_or_hostile
    amount = VALID_AMOUNTS if valid else amounts
    count = VALID_COUNTS if valid else counts
    item = optional(
        {"id": wrap(IDS), "quantity": wrap(count), "price": wrap(amount),
         "product": optional({"id": wrap(IDS), "name": wrap(WORDS), "price": wrap(amount),
                              "category_1": wrap(WORDS), "brand": wrap(WORDS)})}
    )  # fmt: skip
    return st.fixed_dictionaries(
        {"event_name": st.sampled_from(EVENT_NAMES["/commandersact"])},
        optional={
            "id": wrap(IDS),
            "value": wrap(amount),
            "currency": wrap(CURRENCIES),
            "search_term": wrap(WORDS),
            "url": wrap(URLS),
            "items": st.lists(item, max_size=4),
            "user": optional({"city": wrap(WORDS), "country": wrap(WORDS),
                              "zipcode": wrap(IDS), "firstname": wrap(WORDS),
                              "consent_categories": st.lists(IDS, max_size=3)}),
            "context": optional({"event_timestamp": timestamps if not valid else
                                 st.integers(min_value=10**12, max_value=17 * 10**11),
                                 "event_id": wrap(IDS),
                                 "page": optional({"url": wrap(URLS), "referrer": wrap(URLS)}),
                                 "device": optional({"ip": wrap(st.ip_addresses().map(str)),
                                                     "user_agent": wrap(WORDS),
                                                     "language": wrap(WORDS)})}),
            "partners": optional({"tiktok": optional({
                "event_source": st.sampled_from(["web", "app", "offline", "crm", "tv"]),
                "ldu": st.sampled_from([True, False, "true", "0", 1]),
                "lead_id": wrap(IDS), "ttclid": wrap(LOCAL)})}),
        },
    )  # fmt: skip


def ga4_event(valid: bool) -> st.SearchStrategy[dict[str, Any]]:
    wrap = (lambda s: s) if valid else plausible_or_hostile
    amount = VALID_AMOUNTS if valid else amounts
    count = VALID_COUNTS if valid else counts
    item = optional({"item_id": wrap(IDS), "item_name": wrap(WORDS), "price": wrap(amount),
                     "quantity": wrap(count), "item_brand": wrap(WORDS)})  # fmt: skip
    names = st.sampled_from(EVENT_NAMES["/ga4"])
    return st.fixed_dictionaries(
        {"event_name": names},
        optional={
            "x-ttq-event-name": st.sampled_from(EVENT_NAMES["/tiktok"]),
            "event_id": wrap(IDS),
            "transaction_id": wrap(IDS),
            "event_time": timestamps if not valid else st.integers(10**9, 1_700_000_000),
            "x-ttq-timestamp": timestamps if not valid else st.integers(10**9, 1_700_000_000),
            "value": wrap(amount),
            "currency": wrap(CURRENCIES),
            "items": st.lists(item, max_size=4),
            "x-ttq-pt-contents": st.lists(item, max_size=3)
            | (st.just("[{\"content_id\": \"A\", \"price\": 2}]") if valid else st.text()),
            "page_location": wrap(URLS),
            "page_referrer": wrap(URLS),
            "ip_override": wrap(st.ip_addresses().map(str)),
            "x-ga-gcs": st.sampled_from(["G100", "G111", "G101"]),
            "user_data": optional({"address": optional({"first_name": wrap(WORDS),
                                                        "postal_code": wrap(IDS),
                                                        "country": wrap(WORDS)})}),
        },
    )  # fmt: skip


def tiktok_event(valid: bool) -> st.SearchStrategy[dict[str, Any]]:
    wrap = (lambda s: s) if valid else plausible_or_hostile
    amount = VALID_AMOUNTS if valid else amounts
    count = VALID_COUNTS if valid else counts
    content = optional(
        {
            "content_id": wrap(IDS),
            "price": wrap(amount),
            "quantity": wrap(count),
            "content_type": st.sampled_from(["product", "product_group", "x"]),
        }
    )
    return st.fixed_dictionaries(
        {"event": st.sampled_from(EVENT_NAMES["/tiktok"])},
        optional={
            "event_id": wrap(IDS),
            "event_time": timestamps if not valid else st.integers(10**9, 1_700_000_000),
            "limited_data_use": st.booleans(),
            "user": optional({"ip": wrap(st.ip_addresses().map(str)), "ttclid": wrap(LOCAL),
                              "idfa": wrap(st.uuids().map(str)), "att_status": wrap(WORDS),
                              "city": wrap(WORDS), "zip_code": wrap(IDS)}),
            "properties": optional({"contents": st.lists(content, max_size=4),
                                    "currency": wrap(CURRENCIES), "value": wrap(amount),
                                    "order_id": wrap(IDS), "content_ids": st.lists(IDS, max_size=3),
                                    "num_items": wrap(count)}),
            "page": optional({"url": wrap(URLS)}),
            "lead": optional({"lead_id": wrap(IDS)}),
        },
    )  # fmt: skip


EVENTS = {"/commandersact": commandersact_event, "/ga4": ga4_event, "/tiktok": tiktok_event}


def events(route: str, valid: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    return EVENTS[route](valid)


def bodies(route: str) -> st.SearchStrategy[Any]:
    """Any body a sender could post to ``route``: one event, a list, a wrapper, or any JSON."""
    event = events(route) | any_json
    return st.one_of(
        event,
        st.lists(event, max_size=5),
        st.fixed_dictionaries({"events": st.lists(event, max_size=5) | any_json}),
        st.fixed_dictionaries(
            {"data": st.lists(event, max_size=5) | any_json},
            optional={
                "event_source": st.sampled_from(["web", "app", "crm", 7]),
                "event_source_id": IDS,
                "test_event_code": IDS | st.none(),
            },
        ),
        any_json,
    )
