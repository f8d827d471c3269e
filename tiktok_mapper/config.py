"""The mapping configuration: what an operator sets in environment variables, read once.

Words used here:

- *environment*: a mapping of variable names to strings. The core never reads ``os.environ``:
  the edges (``main.py``, the preview command) pass it in.
- *setting*: one row of :data:`SETTINGS`: the variable, the :class:`Config` attribute it fills,
  and the parser that turns its text into a value. A parser raises ``ValueError`` with the rule;
  :func:`from_environment` turns that into a :class:`ConfigError` naming the variable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tiktok_mapper.commandersact import SMART_MAPPING_KEYS
from tiktok_mapper.normalize import MAX_TEXT, Invalid, explicit_event_name, flag

VIEW_CONTENT_CHOICES = ("page_view", "view_item", "both")
GA4_PURCHASE_CHOICES = ("PlaceAnOrder", "CompletePayment")


Table = tuple[tuple[str, str, Callable[[str], Any]], ...]  # (variable, attribute, parser) rows


class ConfigError(ValueError):
    """A setting has a value the function cannot run with; the message names the variable."""


@dataclass(frozen=True)
class Config:
    pixel_id: str | None = None
    app_id: str | None = None
    offline_event_set_id: str | None = None
    crm_event_set_id: str | None = None
    test_event_code: str | None = None
    event_mapping: Mapping[str, str | None] = field(default_factory=dict)
    view_content_events: str = "view_item"
    autodiscover_event_source: bool = False
    smart_mapping: Mapping[str, str] = field(default_factory=dict)
    ga4_purchase_event: str = "PlaceAnOrder"
    consent_categories: frozenset[str] = frozenset()
    ga4_require_ad_storage: bool = False
    default_phone_region: str | None = None


def text(value: str) -> str:
    return value.strip()


def sent_text(value: str) -> str:
    """Text sent in every request as it is (an event source id, the test event code): at most
    what a text field of TikTok's request holds."""
    if len(value.strip()) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters long")
    return value.strip()


def boolean(value: str) -> bool:
    return flag(value)  # its Invalid is a ValueError: the variable gets named


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.strip() not in choices:
            raise ValueError("must be one of " + ", ".join(choices))
        return value.strip()

    return parse


def json_object(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: nested beyond what json can read
        raise ValueError("must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object")
    return parsed


def event_mapping(value: str) -> dict[str, str | None]:
    """Names checked, and a standard TikTok name in another casing (``completepayment``) written
    in TikTok's (``CompletePayment``): TikTok would take the first for a custom event."""
    mapping = json_object(value)
    for name, tiktok in mapping.items():
        if tiktok is None:
            continue
        try:
            if not isinstance(tiktok, str):  # true would otherwise be sent as the event "True"
                raise Invalid("not a string")
            mapping[name], _ = explicit_event_name(tiktok)
        except Invalid:
            raise ValueError(
                f"maps {name!r} to an invalid TikTok event name: use null, or up to 50 letters, "
                "digits, '_' or '-' starting with a letter"
            ) from None
    return mapping


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


def phone_region(value: str) -> str:
    import phonenumbers  # here: only a configured region needs the library at start-up

    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("must be a two-letter country code such as FR or US")
    return region


# variable                         attribute                    parser
SETTINGS: Table = (
    ("TIKTOK_PIXEL_ID",                "pixel_id",                  sent_text),
    ("TIKTOK_APP_ID",                  "app_id",                    sent_text),
    ("TIKTOK_OFFLINE_EVENT_SET_ID",    "offline_event_set_id",      sent_text),
    ("TIKTOK_CRM_EVENT_SET_ID",        "crm_event_set_id",          sent_text),
    ("TIKTOK_TEST_EVENT_CODE",         "test_event_code",           sent_text),
    ("TIKTOK_EVENT_MAPPING",           "event_mapping",             event_mapping),
    ("TIKTOK_VIEW_CONTENT_EVENTS",     "view_content_events",       one_of(*VIEW_CONTENT_CHOICES)),
    ("TIKTOK_AUTODISCOVER_EVENT_SOURCE", "autodiscover_event_source", boolean),
    ("TIKTOK_SMART_MAPPING",           "smart_mapping",             smart_mapping),
    ("TIKTOK_GA4_PURCHASE_EVENT",      "ga4_purchase_event",        one_of(*GA4_PURCHASE_CHOICES)),
    ("TIKTOK_CONSENT_CATEGORIES",      "consent_categories",        categories),
    ("TIKTOK_GA4_REQUIRE_AD_STORAGE",  "ga4_require_ad_storage",    boolean),
    ("TIKTOK_DEFAULT_PHONE_REGION",    "default_phone_region",      phone_region),
)  # fmt: skip

# The id each event source is sent with, and the variable that sets it.
SOURCE_ID_VARIABLES = {
    "web": ("pixel_id", "TIKTOK_PIXEL_ID"),
    "app": ("app_id", "TIKTOK_APP_ID"),
    "offline": ("offline_event_set_id", "TIKTOK_OFFLINE_EVENT_SET_ID"),
    "crm": ("crm_event_set_id", "TIKTOK_CRM_EVENT_SET_ID"),
}


def from_environment(environment: Mapping[str, str]) -> Config:
    return Config(**parse_settings(SETTINGS, environment))


def parse_settings(table: Table, environment: Mapping[str, str]) -> dict[str, Any]:
    """Attribute values of every setting that is set and not blank.

    A bad value raises :class:`ConfigError`, naming the variable and the rule (not the value).
    """
    values: dict[str, Any] = {}
    for variable, attribute, parse in table:
        raw = environment.get(variable)
        if raw is None or not raw.strip():
            continue
        try:
            values[attribute] = parse(raw)
        except ValueError as why:
            raise ConfigError(f"{variable} {why}") from None
    return values


def source_id(config: Config, event_source: str) -> tuple[str | None, str]:
    """The configured ``event_source_id`` for an event source, and the variable that sets it."""
    attribute, variable = SOURCE_ID_VARIABLES[event_source]
    return getattr(config, attribute), variable
