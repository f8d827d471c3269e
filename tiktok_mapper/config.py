"""The mapping settings every route shares, read once; and how any setting is read.

Words used here:

- *environment*: a mapping of variable names to strings. The core never reads ``os.environ``:
  the edges (``main.py``, the preview command) pass it in.
- *setting*: one row of a settings table: the variable, the attribute it fills, and the parser
  that turns its text into a value. A parser raises ``ValueError`` with the rule;
  :func:`parse_settings` turns that into a :class:`ConfigError` naming the variable.
- *shared settings*: :class:`Config`, what every route reads (the ids of TikTok's event
  sources, ``event_source_id``, the test event code, the event mapping, the default phone region), from
  :data:`SETTINGS`. A route's own settings are its *options*, in its module (``OPTIONS`` and
  ``Options`` of ``commandersact`` and ``ga4``); ``pipeline.Setup`` holds them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tiktok_mapper.normalize import MAX_TEXT, Invalid, explicit_event_name, flag

SettingsTable = tuple[
    tuple[str, str, Callable[[str], Any]], ...
]  # (variable, attribute, parser) rows


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
    default_phone_region: str | None = None


def stripped(value: str) -> str:
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


def phone_region(value: str) -> str:
    import phonenumbers  # here: only a configured region needs the library at start-up

    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("must be a two-letter country code such as FR or US")
    return region


# variable                         attribute                    parser
SETTINGS: SettingsTable = (
    ("TIKTOK_PIXEL_ID",                "pixel_id",                  sent_text),
    ("TIKTOK_APP_ID",                  "app_id",                    sent_text),
    ("TIKTOK_OFFLINE_EVENT_SET_ID",    "offline_event_set_id",      sent_text),
    ("TIKTOK_CRM_EVENT_SET_ID",        "crm_event_set_id",          sent_text),
    ("TIKTOK_TEST_EVENT_CODE",         "test_event_code",           sent_text),
    ("TIKTOK_EVENT_MAPPING",           "event_mapping",             event_mapping),
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


def parse_settings(table: SettingsTable, environment: Mapping[str, str]) -> dict[str, Any]:
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


def event_source_id(config: Config, event_source: str) -> tuple[str | None, str]:
    """The configured ``event_source_id`` for an event source, and the variable that sets it."""
    attribute, variable = SOURCE_ID_VARIABLES[event_source]
    return getattr(config, attribute), variable
