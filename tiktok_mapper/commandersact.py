"""Commanders Act → TikTok: the destination's two tables, as data, and the mapper that reads them.

Words used here (the seed is Commanders Act's "TikTok Events API" destination page):

- *Commanders Act event*: one Platform X event object (``event_name``, ``user``, ``items``,
  ``context``, ``partners.tiktok`` …), valid against ``schemas/commandersact.schema.json``.
- *event_source*: TikTok's ``web``, ``app``, ``offline`` or ``crm``. ``offline`` and ``crm``
  events take their names from the web column of :data:`EVENTS`.
- *smart field*: a value the operator points at a path of their own data layer through
  ``TIKTOK_SMART_MAPPING``: ``event_source``, ``experience_type``, ``device_platform``. The same
  setting may also point any TikTok field of :data:`ROWS` at another input path.
- *tags*: the event_source, plus ``app:ios`` or ``app:android`` for app events from such a
  device; a field is sent when the event has one of its tags.
- *seed's notes*: the numbers in brackets in the comments of the tables, as the destination
  page numbers its notes: see the legend above :data:`ROWS` (the event table has notes of its
  own, named "event table note").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tiktok_mapper import normalize as n
from tiktok_mapper.config import Config, SettingsTable, boolean, json_object, one_of, parse_settings
from tiktok_mapper.events_api import REQUIRED, RULE
from tiktok_mapper.fields import (
    ALL,
    WEB,
    Cookie,
    FirstOf,
    Getter,
    Path,
    QueryParam,
    Row,
    Table,
    assemble,
    finish,
    missing,
    paths,
    with_overrides,
)
from tiktok_mapper.flat import Flattened, paths_read, underscore
from tiktok_mapper.model import Mapped, Rejected, Skipped

# Commanders Act event        web, offline, crm        app               (the seed's Quick reference)
EVENTS: dict[str, tuple[str | None, str | None]] = {
    "achieve_level":          (None,                   "AchieveLevel"),
    "add_payment_info":       ("AddPaymentInfo",       "AddPaymentInfo"),
    "add_to_cart":            ("AddToCart",            "AddToCart"),
    "add_to_wishlist":        ("AddToWishlist",        "AddToWishlist"),
    "application_approval":   ("ApplicationApproval",  None),
    "begin_checkout":         ("InitiateCheckout",     None),
    "click_button":           ("ViewContent",          "ViewContent"),
    "view_content":           ("ViewContent",          "ViewContent"),
    "complete_tutorial":      (None,                   "CompleteTutorial"),
    "create_group":           (None,                   "CreateGroup"),
    "create_role":            (None,                   "CreateRole"),
    "customize_product":      ("CustomizeProduct",     None),
    "purchase":               ("CompletePayment",      "Checkout"),
    "complete_payment":       ("CompletePayment",      "Purchase"),
    "contact":                ("Contact",              None),
    "download":               ("Download",             None),
    "find_location":          ("FindLocation",         None),
    "submit_form":            ("Lead",                 None),
    "generate_lead":          ("Lead",                 "GenerateLead"),
    "in_app_ad_click":        (None,                   "InAppADClick"),
    "in_app_ad_impr":         (None,                   "InAppADImpr"),
    "install_app":            (None,                   "InstallApp"),
    "join_group":             (None,                   "JoinGroup"),
    "launch_app":             (None,                   "LaunchAPP"),
    "loan_application":       (None,                   "LoanApplication"),
    "loan_approval":          (None,                   "LoanApproval"),
    "loan_disbursal":         (None,                   "LoanDisbursal"),
    "login":                  (None,                   "Login"),
    "page_view":              ("ViewContent",          "ViewContent"),  # event table note 3: VIEW_CONTENT
    "view_item":              ("ViewContent",          "ViewContent"),  # event table note 3: VIEW_CONTENT
    "rate":                   (None,                   "Rate"),
    "schedule":               ("Schedule",             None),
    "search":                 ("Search",               "Search"),
    "sign_up":                ("CompleteRegistration", "Registration"),
    "spend_credits":          (None,                   "SpendCredits"),
    "start_trial":            ("StartTrial",           "StartTrial"),
    "submit_application":     ("SubmitApplication",    None),
    "subscribe":              ("Subscribe",            "Subscribe"),
    "unlock_achievement":     (None,                   "UnlockAchievement"),
}  # fmt: skip

# Event table note 3: which of page_view and view_item send ViewContent, by
# TIKTOK_VIEW_CONTENT_EVENTS.
VIEW_CONTENT = {
    "page_view": frozenset({"page_view"}),
    "view_item": frozenset({"view_item"}),
    "both": frozenset({"page_view", "view_item"}),
}

SMART_FIELDS = ("event_source", "experience_type", "device_platform")

PAGE_URL = FirstOf(Path("context.page.url"), Path("url"))
EVENT_SOURCE = Path("partners.tiktok.event_source")
DEVICE_TYPE = Path("context.device.type")
CONTEXT_APP = Path("context.app")
CONSENT = Path("user.consent_categories")
OTHER_PATHS = (EVENT_SOURCE, DEVICE_TYPE, CONSENT)  # read besides the field table
IOS = frozenset({"app:ios"})
ANDROID = frozenset({"app:android"})
APP = frozenset({"app"})
CRM = frozenset({"crm"})

# The seed's notes on its field rows, in short:
# [*] TikTok needs it. [1] web, app, offline or crm: see event_source(). [2] see EVENTS.
# [3] the time of the request when absent. [4] deduplicates with the pixel's event of the same
# id. [5] else the ttclid cookie, else the page URL's ttclid. [6] hashed with SHA-256 when sent
# in clear. [7] else the _ttp cookie. [8] for iOS devices only. [9] one of TikTok's five ATT
# statuses. [10] for Android devices only. [11] app events need it. [12] E.164. [13] a BCP 47
# language tag. [14] limited data use. [15] product or product_group, product when absent.
# [16] the ids also make content_ids. [17] web events only.

# Commanders Act property, first found wins                                 TikTok property   sent for      # seed's notes
# items.X.…                                                                properties.contents.X.…
CONTENTS: tuple[Row, ...] = (
    Row(paths("content_type"),                                             "content_type", default="product"),  # [15]
    Row(paths("id", "product.id"),                                         "content_id"),     # [16] also content_ids
    Row(paths("product.price", "price"),                                   "price"),
    Row(paths("quantity"),                                                 "quantity"),
    Row(paths("product.name"),                                             "content_name"),
    Row(paths("product.category_1"),                                       "content_category"),
    Row(paths("product.brand"),                                            "brand"),
)  # fmt: skip

# The seed's "Field mappings", row for row (its rows that are no field are comments), then the
# fields this function reads beyond it.
# Commanders Act property, first found wins                                 TikTok property   sent for      # seed's notes
ROWS: tuple[Row, ...] = (
    # partners.tiktok.event_source                                         event_source                    # [*][1] event_source()
    # Pixel Id, App Id                                                     event_source_id                 # [*] TIKTOK_PIXEL_ID …
    # event_name                                                           event                           # [*][2] EVENTS
    Row(paths("context.event_timestamp"),                                  "event_time"),                  # [*][3]
    Row(paths("id", "context.event_id"),                                   "event_id"),                    # [4]
    Row((Path("partners.tiktok.ttclid"), Cookie("context.device.cookie", "ttclid"),
         QueryParam(PAGE_URL, "ttclid")),                                  "user.ttclid"),                 # [5]
    Row(paths("user.id"),                                                  "user.external_id"),            # [6]
    Row((Path("partners.tiktok.ttp"), Cookie("context.device.cookie", "_ttp")),
                                                                           "user.ttp"),                    # [7]
    Row((PAGE_URL,),                                                       "page.url"),
    Row(paths("context.page.referrer"),                                    "page.referrer"),
    Row(paths("context.device.advertising_id"),                            "user.idfa",        IOS),       # [8]
    Row(paths("context.device.idfv"),                                      "user.idfv",        IOS),       # [8]
    Row(paths("context.device.att_status"),                                "user.att_status",  IOS),       # [8][9]
    Row(paths("context.device.advertising_id"),                            "user.gaid",        ANDROID),   # [10]
    Row(paths("context.app.namespace"),                                    "app.app_id",       APP),       # [11]
    Row(paths("context.app.name"),                                         "app.app_name",     APP),
    Row(paths("context.app.version"),                                      "app.app_version",  APP),
    Row(paths("user.email", "user.email_sha256"),                          "user.email"),                  # [6]
    Row(paths("user.phone", "user.phone_sha256"),                          "user.phone"),                  # [6][12]
    Row(paths("context.device.ip"),                                        "user.ip"),
    Row(paths("context.device.user_agent"),                                "user.user_agent"),
    Row(paths("context.device.language", "context.device.lang"),          "user.locale"),                 # [13]
    Row(paths("partners.tiktok.ldu"),                                      "limited_data_use"),            # [14]
    Row(paths("items"),                                                    "properties.contents", each=CONTENTS),  # [15][16]
    Row(paths("search_term"),                                              "properties.search_string", WEB),  # [17]
    Row(paths("id"),                                                       "properties.order_id", WEB),    # [17]
    Row(paths("partners.tiktok.shop_id"),                                  "properties.shop_id", WEB),     # [17]
    Row(paths("status"),                                                   "properties.status", WEB),      # [17]
    Row(paths("content_type"),                                             "properties.content_type", WEB),  # [17]
    Row(paths("currency"),                                                 "properties.currency"),
    Row(paths("event_name"),                                               "properties.description"),
    Row(paths("value"),                                                    "properties.value"),
    Row(paths("items"),                                                    "properties.num_items"),        # items.length
    # Test Event Code                                                      test_event_code                 # TIKTOK_TEST_EVENT_CODE
    # Beyond the seed: what Segment and RudderStack send, hashed as TikTok asks, and leads.
    Row(paths("user.firstname", "user.firstname_sha256"),                  "user.first_name"),
    Row(paths("user.lastname", "user.lastname_sha256"),                    "user.last_name"),
    Row(paths("user.zipcode", "user.zipcode_sha256"),                      "user.zip_code"),
    Row(paths("user.city"),                                                "user.city"),
    Row(paths("user.state"),                                               "user.state"),
    Row(paths("user.country"),                                             "user.country"),
    Row(paths("partners.tiktok.lead_id"),                                  "lead.lead_id",     CRM),
    Row(paths("partners.tiktok.lead_event_source"),                        "lead.lead_event_source", CRM),
)  # fmt: skip

SMART_MAPPING_KEYS = frozenset(SMART_FIELDS) | {row.field for row in ROWS}


def smart_mapping(value: str) -> dict[str, str]:
    mapping = json_object(value)
    for key, path in mapping.items():
        if key not in SMART_MAPPING_KEYS:
            raise ValueError(
                f"has the unknown key {key!r}; known keys: " + ", ".join(sorted(SMART_MAPPING_KEYS))
            )
        if not isinstance(path, str) or not path.strip() or "" in path.split("."):
            raise ValueError(f"maps {key!r} to something that is not a dotted input path")
    return {key: path.strip() for key, path in mapping.items()}


def categories(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Options:
    """The settings of this route alone (see :data:`OPTIONS`)."""

    view_content_events: str = "view_item"
    autodiscover_event_source: bool = False
    smart_mapping: Mapping[str, str] = field(default_factory=dict)
    consent_categories: frozenset[str] = frozenset()


# variable                             attribute                    parser
OPTIONS: SettingsTable = (
    ("TIKTOK_VIEW_CONTENT_EVENTS",       "view_content_events",       one_of(*VIEW_CONTENT)),
    ("TIKTOK_AUTODISCOVER_EVENT_SOURCE", "autodiscover_event_source", boolean),
    ("TIKTOK_SMART_MAPPING",             "smart_mapping",             smart_mapping),
    ("TIKTOK_CONSENT_CATEGORIES",        "consent_categories",        categories),
)  # fmt: skip


def options(environment: Mapping[str, str]) -> Options:
    return Options(**parse_settings(OPTIONS, environment))


@dataclass(frozen=True)
class CommandersAct:
    """The Commanders Act mapper for one configuration: smart mapping and options applied once."""

    config: Config
    options: Options
    table: Table
    event_source_getters: tuple[
        Getter, ...
    ]  # smart event_source (if set), partners.tiktok.event_source
    platform_getters: tuple[Getter, ...]  # smart device_platform (if set), context.device.type
    experience: Getter | None  # smart experience_type
    view_content: frozenset[str]  # which of page_view, view_item send ViewContent
    required: dict[str, tuple[str, str]]  # event_source → (TikTok field it needs, input path)
    flattened: Flattened  # the flattened spellings of what this configuration reads

    @classmethod
    def configure(cls, config: Config, options: Options) -> CommandersAct:
        overrides = {k: v for k, v in options.smart_mapping.items() if k not in SMART_FIELDS}
        smart = {k: Path(v) for k, v in options.smart_mapping.items() if k in SMART_FIELDS}
        rows = with_overrides(ROWS, overrides)
        labels = {row.field: row.getters[0].label for row in rows}
        return cls(
            config,
            options,
            Table(rows, RULE),
            tuple(g for g in (smart.get("event_source"), EVENT_SOURCE) if g is not None),
            tuple(g for g in (smart.get("device_platform"), DEVICE_TYPE) if g is not None),
            smart.get("experience_type"),
            VIEW_CONTENT[options.view_content_events],
            {kind: (field, labels[field]) for kind, field in REQUIRED.items()},
            _flattened(rows, options.smart_mapping.values()),
        )

    def map(self, event: dict[str, Any], context: n.Context) -> Mapped | Skipped | Rejected:
        event_source = self.event_source(event)
        if isinstance(event_source, Rejected):
            return event_source
        name = event["event_name"]
        tiktok = self.event_name(name, event_source)
        if tiktok is None:
            return Skipped(self.why_skipped(name, event_source))
        consent = self.consent(event)
        if consent is not None:
            return consent
        tags = _tags(event_source, self.platform(event))
        built = assemble(self.table, event, tags, context)
        needed = self.required.get(event_source)
        if needed and missing(built.data, needed[0]):
            built.errors.append(
                {"path": needed[1], "message": f"is required for {event_source} events"}
            )
        if built.errors:
            return Rejected(built.errors)
        data = finish(tiktok, built.data, event, context, built.warnings)
        return Mapped(event_source, data, built.warnings)

    def event_source(self, event: dict[str, Any]) -> str | Rejected:
        """Smart ``event_source``, then ``partners.tiktok.event_source``, then autodiscovery."""
        for getter in self.event_source_getters:
            value = getter(event)
            if value is not None and str(value).strip():
                event_source = str(value).strip().lower()
                if event_source not in ALL:
                    message = "must be one of " + ", ".join(n.EVENT_SOURCES)
                    return Rejected([{"path": getter.label, "message": message}])
                return event_source
        if self.options.autodiscover_event_source:
            kind = self.experience(event) if self.experience else None
            app = CONTEXT_APP(event)
            if (isinstance(kind, str) and kind.strip().lower() == "native app") or (
                isinstance(app, dict) and app
            ):
                return "app"
        return "web"

    def event_name(self, name: str, event_source: str) -> str | None:
        mapping = self.config.event_mapping
        if name in mapping:
            return mapping[name]
        if name in VIEW_CONTENT["both"] and name not in self.view_content:
            return None
        web, app = EVENTS.get(name, (None, None))
        return app if event_source == "app" else web

    def why_skipped(self, name: str, event_source: str) -> str:
        if self.config.event_mapping.get(name, "") is None:
            return f"'{name}' is turned off by TIKTOK_EVENT_MAPPING"
        if name in VIEW_CONTENT["both"] and name in EVENTS:
            return (
                f"'{name}' does not send ViewContent with "
                f"TIKTOK_VIEW_CONTENT_EVENTS={self.options.view_content_events}"
            )
        return f"no TikTok event for '{name}' on {event_source}"

    def consent(self, event: dict[str, Any]) -> Skipped | None:
        wanted = self.options.consent_categories
        if not wanted:
            return None
        given = CONSENT(event)  # an array or null, as the schema says
        if isinstance(given, list) and any(_category(category) in wanted for category in given):
            return None
        return Skipped(
            "no consent: user.consent_categories holds none of TIKTOK_CONSENT_CATEGORIES"
        )

    def platform(self, event: dict[str, Any]) -> str:
        """The device's platform, lowercased (``ios``, ``android`` …; ``other`` when none is
        given): from the smart ``device_platform``, else ``context.device.type``."""
        for getter in self.platform_getters:
            value = getter(event)
            if isinstance(value, str) and value.strip():
                return value.strip().lower()
        return "other"


@lru_cache(maxsize=64)
def _tags(event_source: str, platform: str) -> frozenset[str]:
    """The tags of an event (see the module's words); cached: a batch repeats a few."""
    return frozenset({event_source, f"{event_source}:{platform}"})


def _category(value: Any) -> str | None:
    """A consent category as the setting writes it (``4`` and ``"4"`` alike); ``None`` for an
    element that names none (``null``, ``""``): the schema allows them, and they grant nothing."""
    try:
        return n.identifier(value)
    except n.Invalid:
        return None


def _flattened(rows: tuple[Row, ...], smart: Any) -> Flattened:
    """What Commanders Act's "Use flatten keys" may send for the paths this table reads:
    dotted keys (``user.email``, ``items.0.id``), or underscore keys (``user_email``,
    ``items_0_product_price``, ``user_consent_categories_0``). Arrays are the ones the schema
    has: ``items`` and ``user.consent_categories``."""
    read = [*paths_read(rows), *smart, *(path for g in OTHER_PATHS for path in g.paths())]
    elements = underscore(paths_read(CONTENTS))
    arrays: dict[str, tuple[tuple[str | int, ...], dict[str, tuple[str | int, ...]] | None]] = {
        "items": (("items",), elements)
    }
    arrays["user_consent_categories"] = (("user", "consent_categories"), None)
    roots = sorted({path.split(".")[0] for path in read if "." in path} | {"items"})
    return Flattened(
        roots=tuple(root + sep for root in roots for sep in "._"),
        arrays=arrays,
        objects=underscore(read),
        dotted=True,
        as_is=frozenset(),
    )
