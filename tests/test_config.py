"""Configuration: read once at start-up; a bad value stops the start naming the variable."""

from __future__ import annotations

import pytest

from tests.conftest import COMPLETE
from tests.dryrun import dry_run
from tiktok_mapper.config import ConfigError
from tiktok_mapper.pipeline import from_environment


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("TIKTOK_EVENT_MAPPING", "{not json", "must be a JSON object"),
        ("TIKTOK_EVENT_MAPPING", '["purchase"]', "must be a JSON object"),
        ("TIKTOK_EVENT_MAPPING", '{"purchase": "Buy Now!"}', "invalid TikTok event name"),
        ("TIKTOK_EVENT_MAPPING", '{"purchase": "' + "A" * 51 + '"}', "invalid TikTok event name"),
        ("TIKTOK_EVENT_MAPPING", '{"purchase": "9Lives"}', "invalid TikTok event name"),
        ("TIKTOK_VIEW_CONTENT_EVENTS", "page_views", "must be one of page_view, view_item, both"),
        ("TIKTOK_AUTODISCOVER_EVENT_SOURCE", "maybe", "must be true or false"),
        ("TIKTOK_SMART_MAPPING", '{"user.mail": "crm.email"}', "unknown key 'user.mail'"),
        ("TIKTOK_SMART_MAPPING", '{"user.email": 5}', "not a dotted input path"),
        ("TIKTOK_SMART_MAPPING", '{"user.email": "crm..email"}', "not a dotted input path"),
        ("TIKTOK_GA4_PURCHASE_EVENT", "Purchase", "must be one of PlaceAnOrder, CompletePayment"),
        ("TIKTOK_DEFAULT_PHONE_REGION", "France", "two-letter country code"),
        ("DRY_RUN", "perhaps", "must be true or false"),
        ("MAX_BODY_BYTES", "4MB", "must be a whole number"),
        ("MAX_BODY_BYTES", "0", "must be greater than 0"),
        ("MAX_BODY_BYTES", "99999999999999999999999", "must be at most 33554432 bytes"),
        ("TIKTOK_RETRY_DEADLINE_SECONDS", "86400", "must be at most 3600 seconds"),
        ("TIKTOK_TOKEN_TTL_SECONDS", "999999999", "must be at most 86400 seconds"),
        ("ADMISSION_BUDGET_BYTES", "9" * 30, "must be at most 1073741824 bytes"),
        ("TIKTOK_API_URL", "ftp://x", "must be an http(s) URL"),
        ("LOG_LEVEL", "LOUD", "must be DEBUG, INFO, WARNING or ERROR"),
    ],
)
def test_bad_values_stop_the_start_naming_the_variable(make_client, variable, value, words):
    with pytest.raises(ConfigError) as raised:
        make_client(**COMPLETE, **{variable: value})
    message = str(raised.value)
    assert message.startswith(variable + " ")
    assert words in message


def test_good_values_are_read():
    setup = from_environment(
        {
            "TIKTOK_PIXEL_ID": " C123 ",
            "TIKTOK_EVENT_MAPPING": '{"purchase": "Purchase", "scroll": null, "x": "My-Event_2"}',
            "TIKTOK_VIEW_CONTENT_EVENTS": "both",
            "TIKTOK_AUTODISCOVER_EVENT_SOURCE": "TRUE",
            "TIKTOK_SMART_MAPPING": '{"event_source": "site.src", "user.email": " crm.email "}',
            "TIKTOK_DEFAULT_PHONE_REGION": "fr",
            "TIKTOK_CONSENT_CATEGORIES": "1, 3,,",
            "TIKTOK_TEST_EVENT_CODE": "   ",
        }
    )
    config, options = setup.config, setup.commandersact
    assert config.pixel_id == "C123"
    assert config.event_mapping == {"purchase": "Purchase", "scroll": None, "x": "My-Event_2"}
    assert options.view_content_events == "both"
    assert options.autodiscover_event_source is True
    assert options.smart_mapping == {"event_source": "site.src", "user.email": "crm.email"}
    assert config.default_phone_region == "FR"
    assert options.consent_categories == frozenset({"1", "3"})
    assert config.test_event_code is None  # blank is unset


def test_defaults():
    setup = from_environment({})
    assert setup.commandersact.view_content_events == "view_item"
    assert setup.ga4.purchase_event == "PlaceAnOrder"
    assert setup.config.event_mapping == {}
    assert setup.config.pixel_id is None


def test_a_standard_name_in_another_casing_is_written_in_tiktoks():
    config = from_environment(
        {"TIKTOK_EVENT_MAPPING": '{"purchase": "completepayment", "optin": "Newsletter_Optin"}'}
    ).config
    assert config.event_mapping == {"purchase": "CompletePayment", "optin": "Newsletter_Optin"}


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"TIKTOK_EVENT_MAPPING": '{"purchase": true}'}, "TIKTOK_EVENT_MAPPING maps 'purchase' to an invalid TikTok event name: use null, or up to 50 letters, digits, '_' or '-' starting with a letter"),
        ({"TIKTOK_EVENT_MAPPING": "[" * 100_000}, "TIKTOK_EVENT_MAPPING must be a JSON object"),
        ({"TIKTOK_DEFAULT_PHONE_REGION": "France"}, "TIKTOK_DEFAULT_PHONE_REGION must be a two-letter country code such as FR or US"),
        ({"TIKTOK_PIXEL_ID": "C" * 10_001}, "TIKTOK_PIXEL_ID must be at most 10000 characters long"),
        ({"TIKTOK_GA4_PURCHASE_EVENT": "Buy"}, "TIKTOK_GA4_PURCHASE_EVENT must be one of PlaceAnOrder, CompletePayment"),
        ({"TIKTOK_SMART_MAPPING": '{"user.email": " "}'}, "TIKTOK_SMART_MAPPING maps 'user.email' to something that is not a dotted input path"),
        ({"TIKTOK_GA4_REQUIRE_AD_STORAGE": "2"}, "TIKTOK_GA4_REQUIRE_AD_STORAGE must be true or false"),
    ],
)  # fmt: skip
def test_the_whole_message_of_a_bad_mapping_setting(environment, message):
    with pytest.raises(ConfigError) as raised:
        from_environment(environment)
    assert str(raised.value) == message


def test_a_pixel_id_of_10000_characters_is_sent_trimmed():
    pixel = " " + "C" * 10_000 + " "
    _, payloads = dry_run("tiktok", {"event": "Search"}, TIKTOK_PIXEL_ID=pixel)
    assert payloads[0]["event_source_id"] == "C" * 10_000


def test_an_unknown_smart_mapping_key_is_named_with_the_known_ones():
    with pytest.raises(ConfigError) as raised:
        from_environment({"TIKTOK_SMART_MAPPING": '{"user.mail": "crm.email"}'})
    message = str(raised.value)
    assert message.startswith("TIKTOK_SMART_MAPPING has the unknown key 'user.mail'; known keys: ")
    known = message.split("known keys: ")[1].split(", ")
    assert {"device_platform", "user.email", "properties.value", "app.app_id"} <= set(known)
    assert known == sorted(known)
