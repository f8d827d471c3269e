"""Server-side GTM → TikTok: the sGTM TikTok tag's event table and its parameters, as data.

Words used here (the seed is the server-side GTM "TikTok Events API" tag's documentation):

- *GA4 event*: the event data object the sGTM GA4 client builds from one hit (GA4 *common event
  data*: ``event_name``, ``page_location``, ``user_data`` …), as a sGTM tag forwards it, valid
  against ``schemas/ga4.schema.json``.
- *x-ttq parameter*: a key ``x-ttq-…`` in the event data that sets one TikTok field and wins
  over the GA4 value; an event with only x-ttq parameters is valid too.
- *flattened*: a key as Stape's JSON HTTP tag writes it with "flatten" on: ``-`` and ``.``
  become ``_`` (``x_ttq_event_name``, ``user_data_email_address``). Both spellings are read.
- *ad storage denied*: the consent state ``x-ga-gcs`` (``G1`` then one character for ad
  storage and one for analytics storage, ``1`` granted, ``0`` denied, ``-`` not set) has ``0``
  as its third character, e.g. ``G100`` or ``G101``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tiktok_mapper import normalize as n
from tiktok_mapper.body import BodyError, parse_json
from tiktok_mapper.config import Config, SettingsTable, boolean, one_of, parse_settings
from tiktok_mapper.events_api import RULE
from tiktok_mapper.fields import (
    WEB,
    FirstOf,
    Getter,
    QueryParam,
    Row,
    SameHostQueryParam,
    Table,
    assemble,
    finish,
    json_path,
    paths,
    sum_value,
)
from tiktok_mapper.flat import Flattened
from tiktok_mapper.model import Mapped, Rejected, Skipped
from tiktok_mapper.schemas import schema

PURCHASE = "purchase"  # its TikTok event is TIKTOK_GA4_PURCHASE_EVENT

# GA4 event                 TikTok event             (the seed writes)
EVENTS: dict[str, str] = {
    "page_view":             "PageView",
    "view_item":             "ViewContent",
    "click":                 "ClickButton",
    "search":                "Search",
    "add_to_wishlist":       "AddToWishlist",         # AddToWishList
    "add_to_cart":           "AddToCart",
    "begin_checkout":        "InitiateCheckout",
    "add_payment_info":      "AddPaymentInfo",
    "purchase":              "PlaceAnOrder",          # PlaceAnOrder or CompletePayment: TIKTOK_GA4_PURCHASE_EVENT
    "contact":               "Contact",
    "file_download":         "Download",
    "download":              "Download",
    "generate_lead":         "SubmitForm",            # Submitform
    "complete_registration": "CompleteRegistration",
    "sign_up":               "CompleteRegistration",  # as TikTok's own sGTM tag and Stape's map it
    "subscribe":             "Subscribe",
}  # fmt: skip


def keys(*names: str) -> tuple[Getter, ...]:
    """Each name as sent, then as flattened (``x-ttq-ud-email``, ``x_ttq_ud_email``)."""
    getters: list[Getter] = []
    for name in names:
        flat = name.replace("-", "_").replace(".", "_")
        getters.extend(paths(name) if flat == name else paths(name, flat))
    return tuple(getters)


def address(*names: str) -> tuple[Getter, ...]:
    """``user_data.address.<name>``: the address is an object, or an array (its first one)."""
    getters: list[Getter] = []
    for name in names:
        getters.extend((*keys(f"user_data.address.{name}"), *paths(f"user_data.address.0.{name}")))
    return tuple(getters)


EVENT_NAME = keys("x-ttq-event-name")
# The contents as x-ttq parameters (tt_contents: TikTok's own tag), JSON text or an array
CONTENT_LISTS = (*keys("x-ttq-pt-contents"), *paths("tt_contents"))
CONTENT_KEYS = tuple(path for getter in CONTENT_LISTS for path in getter.paths())
CONSENT = FirstOf(*keys("x-ga-gcs"))
PAGE_URL = keys("x-ttq-ct-page-url", "page_location")
REFERRER = keys("x-ttq-ct-page-referrer", "x-ttq-ct-page-referer", "page_referrer")

# x-ttq-pt-contents element or GA4 item, first found wins (TikTok's names first)   content field
CONTENTS: tuple[Row, ...] = (
    Row(paths("content_id", "item_id", "id"),                                     "content_id"),
    Row(paths("content_name", "item_name", "name"),                               "content_name"),
    Row(paths("content_category", "item_category"),                               "content_category"),
    Row(paths("brand", "item_brand"),                                             "brand"),
    Row(paths("price"),                                                           "price"),
    Row(paths("quantity"),                                                        "quantity"),
    Row(paths("content_type"),                                                    "content_type", default="product"),
)  # fmt: skip

# The seed's request parameters in its order (x-ttq-event-name names the event: see Ga4.map),
# each with the GA4 common event data read when it is absent; then the fields read beyond it.
# x-ttq parameter(s) first, then GA4 event data, first found wins                TikTok field
ROWS: tuple[Row, ...] = (
    # General
    Row((*keys("x-ttq-timestamp"), *paths("event_time", "timestamp_micros")),    "event_time"),
    Row((*keys("x-ttq-event-id"), *paths("event_id", "transaction_id")),         "event_id"),
    # Context
    Row(keys("x-ttq-ct-ip-adress", "x-ttq-ct-ip-address", "ip_override"),        "user.ip"),
    Row(keys("x-ttq-ct-user-agent", "user_agent"),                               "user.user_agent"),
    Row(PAGE_URL,                                                                "page.url"),
    Row(REFERRER,                                                                "page.referrer"),
    Row((*keys("x-ttq-ttclid"), QueryParam(FirstOf(*PAGE_URL), "ttclid"),
         SameHostQueryParam(FirstOf(*REFERRER), FirstOf(*PAGE_URL), "ttclid"),
         *paths("ttclid")),                                                      "user.ttclid"),
    # User Data
    Row((*keys("x-ttq-ud-external-id"), *paths("user_id")),                      "user.external_id"),
    Row(keys("x-ttq-ud-email", "user_data.email_address",
             "user_data.sha256_email_address"),                                  "user.email"),
    Row(keys("x-ttq-ud-phone-number", "user_data.phone_number",
             "user_data.sha256_phone_number"),                                   "user.phone"),
    # Properties
    Row((*CONTENT_LISTS, *paths("items")),                                       "properties.contents", each=CONTENTS),
    Row((*keys("x-ttq-pt-currency", "currency"), *paths("items.0.currency")),   "properties.currency"),
    Row(keys("x-ttq-pt-value", "value"),                                         "properties.value"),
    Row(keys("x-ttq-pt-description"),                                            "properties.description"),
    Row((*keys("x-ttq-pt-query"), *paths("search_term")),                        "properties.search_string"),
    # Beyond the seed: TikTok's own sGTM tag and Stape's read these too
    Row(keys("x-ttq-ldu"),                                                       "limited_data_use"),
    Row((*keys("x-ttq-ttp"), *paths("ttp")),                                     "user.ttp"),
    Row(address("first_name", "sha256_first_name"),                             "user.first_name"),
    Row(address("last_name", "sha256_last_name"),                               "user.last_name"),
    Row(address("postal_code"),                                                  "user.zip_code"),
    Row(address("city"),                                                         "user.city"),
    Row(address("region"),                                                       "user.state"),
    Row(address("country"),                                                      "user.country"),
    Row(paths("language"),                                                       "user.locale"),
    Row((*CONTENT_LISTS, *paths("items")),                                       "properties.num_items"),
    Row(keys("x-ttq-pt-content-type"),                                           "properties.content_type"),
    Row(paths("transaction_id"),                                                 "properties.order_id"),
)  # fmt: skip
TABLE = Table(ROWS, RULE)


# Stape's "flatten": arrays as items_0_item_id, user_data_address_0_first_name … (see flat.py)
ARRAYS = ("items", "user_data_address", "tt_contents", "x_ttq_pt_contents", "x-ttq-pt-contents")
FLATTENED = Flattened(
    roots=tuple(f"{prefix}_" for prefix in ARRAYS),
    arrays={
        prefix: (("user_data", "address") if prefix == "user_data_address" else (prefix,), {})
        for prefix in ARRAYS
    },
    objects={},
    dotted=False,
    as_is=frozenset(schema("ga4.schema.json").document["properties"]),
)


@dataclass(frozen=True)
class Options:
    """The settings of this route alone (see :data:`OPTIONS`)."""

    purchase_event: str = "PlaceAnOrder"  # what a GA4 purchase is sent as
    require_ad_storage: bool = False  # skip events whose x-ga-gcs denies ad storage


# variable                          attribute            parser
OPTIONS: SettingsTable = (
    ("TIKTOK_GA4_PURCHASE_EVENT",     "purchase_event",     one_of("PlaceAnOrder", "CompletePayment")),
    ("TIKTOK_GA4_REQUIRE_AD_STORAGE", "require_ad_storage", boolean),
)  # fmt: skip


def options(environment: Mapping[str, str]) -> Options:
    return Options(**parse_settings(OPTIONS, environment))


@dataclass(frozen=True)
class Ga4:
    """The GA4 / sGTM mapper for one configuration. Every event is a web event."""

    config: Config
    options: Options
    flattened: Flattened = FLATTENED

    def map(self, event: dict[str, Any], context: n.Context) -> Mapped | Skipped | Rejected:
        warnings: list[str] = []
        explicit = _first(EVENT_NAME, event)
        if explicit is not None:
            getter, value = explicit
            try:
                tiktok, note = n.explicit_event_name(value)
            except n.Invalid as why:
                return Rejected([{"path": getter.label, "message": str(why)}])
            if note:
                warnings.append(f"event: {getter.label} {note}")
        else:
            name = event["event_name"]
            found = self.event_name(name)
            if found is None:
                return Skipped(self.why_skipped(name))
            tiktok = found
        if self.options.require_ad_storage and _ad_storage_denied(event):
            return Skipped("no consent: x-ga-gcs says ad storage was denied")
        readable = _contents_parsed(event)
        if isinstance(readable, Rejected):
            return readable
        built = assemble(TABLE, readable, WEB, context)
        if built.errors:
            return Rejected(built.errors)
        warnings.extend(built.warnings)
        sum_value(built.data, warnings)
        _content_type(built.data)
        data = finish(tiktok, built.data, event, context, warnings)
        return Mapped("web", data, warnings)

    def event_name(self, name: str) -> str | None:
        """``TIKTOK_EVENT_MAPPING``, then the table (purchase: ``TIKTOK_GA4_PURCHASE_EVENT``)."""
        mapping = self.config.event_mapping
        if name in mapping:
            return mapping[name]
        if name == PURCHASE:
            return self.options.purchase_event
        return EVENTS.get(name)

    def why_skipped(self, name: str) -> str:
        if self.config.event_mapping.get(name, "") is None:
            return f"'{name}' is turned off by TIKTOK_EVENT_MAPPING"
        return f"no TikTok event for '{name}' on web"


def _first(getters: Sequence[Getter], event: Any) -> tuple[Getter, Any] | None:
    for getter in getters:
        value = getter(event)
        if value is not None:
            return getter, value
    return None


def _ad_storage_denied(event: dict[str, Any]) -> bool:
    state = CONSENT(event)
    return isinstance(state, str) and state.startswith("G1") and state[2:3] == "0"


def _contents_parsed(event: dict[str, Any]) -> dict[str, Any] | Rejected:
    """The event with an ``x-ttq-pt-contents`` JSON string read as the array it holds.

    What the string held is checked against the schema like the rest of the event.
    """
    texts = {key for key in CONTENT_KEYS if isinstance(event.get(key), str)}
    if not texts:
        return event
    parsed = dict(event)
    for key in texts:
        label = json_path([key])
        if not event[key].strip():
            parsed[key] = None
            continue
        try:
            contents = parse_json(event[key].encode("utf-8"))
        except BodyError:
            contents = None
        if not isinstance(contents, list):
            return Rejected(
                [{"path": label, "message": "must be an array, or JSON text of an array"}]
            )
        parsed[key] = contents
    errors = schema("ga4.schema.json").errors(parsed)
    return Rejected(errors) if errors else parsed


def _content_type(data: dict[str, Any]) -> None:
    """Contents sent without a request-level ``content_type``: ``product``, as Stape's tag,
    Segment, RudderStack and PostHog send it."""
    properties = data.get("properties")
    if properties and "contents" in properties and "content_type" not in properties:
        properties["content_type"] = "product"
