"""Each source's mapping rules through the core, as an operator configures them (environment
variables), with literal expected results: smart mapping, event source autodiscovery, consent,
ViewContent, the fields each event source needs, GA4's x-ttq parameters and consent state, and
the ``/tiktok`` request body's envelope.

An event's *derived id* is the first 32 hex digits of the SHA-256 of its canonical JSON
(``printf '%s' '{"event_name":"purchase"}' | sha256sum`` gives the one below).
"""

from __future__ import annotations

import json

import pytest

from tests.dryrun import NOW, dry_run, one

JOHN = "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"  # john.doe@example.com
PURCHASE_ID = "a3960c9bbf60f8a557af08cf03c92fe6"  # derived id of {"event_name":"purchase"}
NAME_RULE = "must be at most 50 letters, digits, '_' or '-', starting with a letter"
SOURCES = "must be one of web, app, offline, crm"


def without_data(result: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in result.items() if key != "data"}


# --- Commanders Act -------------------------------------------------------------------------

SMART = {
    "TIKTOK_SMART_MAPPING": json.dumps(
        {
            "event_source": "crm.source",
            "device_platform": "crm.os",
            "experience_type": "crm.exp",
            "user.email": "crm.mail",
        }
    ),
    "TIKTOK_AUTODISCOVER_EVENT_SOURCE": "true",
}
APP_CONTEXT = {"app": {"namespace": "com.example.shop"}}
AD_ID = "6d92078a-8246-4ba4-ae5b-76104861e7dc"


def test_smart_mapping_reads_the_event_source_platform_and_a_field_from_the_data_layer():
    event = {
        "event_name": "add_to_cart",
        "id": "1",
        "crm": {"source": " APP ", "os": "iOS", "mail": "John.Doe@Example.com"},
        "user": {"email": "other@example.com"},
        "context": {**APP_CONTEXT, "device": {"advertising_id": AD_ID, "type": "android"}},
    }
    data = one("commandersact", event, **SMART)["data"]
    assert data == {
        "event": "AddToCart",
        "event_id": "1",
        "user": {"email": [JOHN], "idfa": "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
        "app": {"app_id": "com.example.shop"},
        "properties": {"description": "add_to_cart"},
        "event_time": 1767225600,
    }


def test_without_a_smart_platform_the_device_type_chooses_ios_or_android_fields():
    event = {
        "event_name": "add_to_cart",
        "id": "1",
        "partners": {"tiktok": {"event_source": "app"}},
        "context": {**APP_CONTEXT, "device": {"advertising_id": AD_ID, "type": " Android "}},
    }
    assert one("commandersact", event)["data"]["user"] == {"gaid": AD_ID}
    event["context"]["device"]["type"] = "tv"
    assert "user" not in one("commandersact", event)["data"]


@pytest.mark.parametrize(
    ("event", "environment", "source"),
    [
        ({"crm": {"exp": " Native App "}, "context": APP_CONTEXT}, SMART, "app"),
        ({"crm": {"exp": "web"}}, SMART, "web"),
        ({"context": {"app": {"name": "Shop", "namespace": "x"}}}, {"TIKTOK_AUTODISCOVER_EVENT_SOURCE": "true"}, "app"),
        ({"context": {"app": {}}}, {"TIKTOK_AUTODISCOVER_EVENT_SOURCE": "true"}, "web"),
        ({"context": {"app": {"name": "Shop"}}}, {}, "web"),
        ({"partners": {"tiktok": {"event_source": "offline"}}, "context": APP_CONTEXT}, {"TIKTOK_AUTODISCOVER_EVENT_SOURCE": "true"}, "offline"),
        ({"partners": {"tiktok": {"event_source": " "}}}, {}, "web"),
    ],
)  # fmt: skip
def test_the_event_source_given_else_autodiscovered_else_web(event, environment, source):
    answer, payloads = dry_run(
        "commandersact", {"event_name": "search", "id": "1", **event}, **environment
    )
    assert answer["results"][0]["status"] == "would_send", answer["results"]
    assert payloads[0]["event_source"] == source


@pytest.mark.parametrize(
    ("event", "environment", "path"),
    [
        ({"crm": {"source": "tv"}}, SMART, "$.crm.source"),
        ({"partners": {"tiktok": {"event_source": "tv"}}}, {}, "$.partners.tiktok.event_source"),
    ],
)
def test_an_unknown_event_source_rejects_the_event_naming_where_it_was_read(
    event, environment, path
):
    result = one("commandersact", {"event_name": "search", "id": "1", **event}, **environment)
    assert without_data(result) == {
        "index": 0,
        "status": "rejected",
        "errors": [{"path": path, "message": SOURCES}],
    }


@pytest.mark.parametrize(
    ("tiktok", "environment", "error"),
    [
        ({"event_source": "app"}, {}, {"path": "$.context.app.namespace", "message": "is required for app events"}),
        ({"event_source": "crm"}, {}, {"path": "$.partners.tiktok.lead_id", "message": "is required for crm events"}),
        ({"event_source": "app"}, {"TIKTOK_SMART_MAPPING": '{"app.app_id": "crm.app"}'}, {"path": "$.crm.app", "message": "is required for app events"}),
    ],
)  # fmt: skip
def test_app_and_crm_events_need_their_id(tiktok, environment, error):
    event = {"event_name": "sign_up", "id": "1", "partners": {"tiktok": tiktok}}
    assert one("commandersact", event, **environment)["errors"] == [error]


def test_crm_and_app_events_with_their_ids_carry_them():
    crm = {"event_name": "sign_up", "id": "1",
           "partners": {"tiktok": {"event_source": "crm", "lead_id": 42, "lead_event_source": "HubSpot"}}}  # fmt: skip
    data = one("commandersact", crm)["data"]
    assert (data["event"], data["lead"]) == (
        "CompleteRegistration",
        {"lead_id": "42", "lead_event_source": "HubSpot"},
    )
    app = {"event_name": "sign_up", "id": "1", "partners": {"tiktok": {"event_source": "app"}},
           "context": {"app": {"namespace": "com.x", "name": "Shop", "version": 2}}}  # fmt: skip
    data = one("commandersact", app)["data"]
    assert (data["event"], data["app"]) == (
        "Registration",
        {"app_id": "com.x", "app_name": "Shop", "app_version": "2"},
    )


@pytest.mark.parametrize(
    ("name", "environment", "reason"),
    [
        ("page_view", {}, "'page_view' does not send ViewContent with TIKTOK_VIEW_CONTENT_EVENTS=view_item"),
        ("view_item", {"TIKTOK_VIEW_CONTENT_EVENTS": "page_view"}, "'view_item' does not send ViewContent with TIKTOK_VIEW_CONTENT_EVENTS=page_view"),
        ("foo", {}, "no TikTok event for 'foo' on web"),
        ("login", {}, "no TikTok event for 'login' on web"),
        ("search", {"TIKTOK_EVENT_MAPPING": '{"search": null}'}, "'search' is turned off by TIKTOK_EVENT_MAPPING"),
        ("page_view", {"TIKTOK_EVENT_MAPPING": '{"page_view": null}', "TIKTOK_VIEW_CONTENT_EVENTS": "both"}, "'page_view' is turned off by TIKTOK_EVENT_MAPPING"),
    ],
)  # fmt: skip
def test_why_a_commanders_act_event_is_skipped(name, environment, reason):
    result = one("commandersact", {"event_name": name, "id": "1"}, **environment)
    assert without_data(result) == {"index": 0, "status": "skipped", "reason": reason}


@pytest.mark.parametrize(
    ("name", "environment", "event"),
    [
        ("page_view", {"TIKTOK_VIEW_CONTENT_EVENTS": "page_view"}, "ViewContent"),
        ("page_view", {"TIKTOK_VIEW_CONTENT_EVENTS": "both"}, "ViewContent"),
        ("view_item", {"TIKTOK_VIEW_CONTENT_EVENTS": "both"}, "ViewContent"),
        ("view_item", {}, "ViewContent"),
        ("foo", {"TIKTOK_EVENT_MAPPING": '{"foo": "completepayment"}'}, "CompletePayment"),
        ("page_view", {"TIKTOK_EVENT_MAPPING": '{"page_view": "PageView"}'}, "PageView"),
    ],
)  # fmt: skip
def test_which_commanders_act_events_are_sent_as_what(name, environment, event):
    assert one("commandersact", {"event_name": name, "id": "1"}, **environment)["event"] == event


CONSENT = {"TIKTOK_CONSENT_CATEGORIES": " 4, 7 ,"}
NO_CONSENT = "no consent: user.consent_categories holds none of TIKTOK_CONSENT_CATEGORIES"


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (["7"], True), ([4], True), ([" 4 "], True), (["1", "7"], True), ([4.0], True),
        (["1"], False), ([None, "", 1], False), ([], False), (None, False), ("absent", False),
        (["47"], False),
    ],
)  # fmt: skip
def test_consent_categories(given, sent):
    event: dict[str, object] = {"event_name": "search", "id": "1"}
    if given != "absent":
        event["user"] = {"consent_categories": given}
    result = one("commandersact", event, **CONSENT)
    if sent:
        assert result["status"] == "would_send"
    else:
        assert without_data(result) == {"index": 0, "status": "skipped", "reason": NO_CONSENT}


def test_without_consent_categories_set_every_event_goes():
    event = {"event_name": "search", "id": "1", "user": {"consent_categories": []}}
    assert one("commandersact", event)["status"] == "would_send"


# --- GA4 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "environment", "expected"),
    [
        ({"event_name": "purchase"}, {}, "PlaceAnOrder"),
        ({"event_name": "purchase"}, {"TIKTOK_GA4_PURCHASE_EVENT": "CompletePayment"}, "CompletePayment"),
        ({"event_name": "purchase"}, {"TIKTOK_EVENT_MAPPING": '{"purchase": "Subscribe"}'}, "Subscribe"),
        ({"event_name": "add_to_wishlist"}, {}, "AddToWishlist"),
        ({"event_name": "x", "x-ttq-event-name": " Search "}, {}, "Search"),
        ({"event_name": "x", "x_ttq_event_name": "MyCustom-1"}, {}, "MyCustom-1"),
    ],
)  # fmt: skip
def test_the_tiktok_name_of_a_ga4_event(event, environment, expected):
    assert one("ga4", event, **environment)["event"] == expected


def test_an_explicit_name_in_another_casing_is_sent_in_tiktoks_with_a_warning():
    result = one("ga4", {"x-ttq-event-name": "completepayment", "event_name": "purchase"})
    assert result["event"] == "CompletePayment"
    assert result["warnings"] == [
        "event: $['x-ttq-event-name'] sent as TikTok's CompletePayment (names are case sensitive)"
    ]


@pytest.mark.parametrize(
    ("event", "path"),
    [
        ({"x-ttq-event-name": "Bad name!"}, "$['x-ttq-event-name']"),
        ({"x_ttq_event_name": "9Lives"}, "$.x_ttq_event_name"),
    ],
)
def test_an_invalid_explicit_name_rejects_the_ga4_event(event, path):
    result = one("ga4", event)
    assert without_data(result) == {
        "index": 0,
        "status": "rejected",
        "errors": [{"path": path, "message": NAME_RULE}],
    }


@pytest.mark.parametrize(
    ("event", "environment", "reason"),
    [
        ({"event_name": "scroll"}, {}, "no TikTok event for 'scroll' on web"),
        ({"event_name": "scroll"}, {"TIKTOK_EVENT_MAPPING": '{"scroll": null}'}, "'scroll' is turned off by TIKTOK_EVENT_MAPPING"),
    ],
)  # fmt: skip
def test_why_a_ga4_event_is_skipped(event, environment, reason):
    assert without_data(one("ga4", event, **environment)) == {
        "index": 0,
        "status": "skipped",
        "reason": reason,
    }


@pytest.mark.parametrize(
    ("state", "sent"),
    [
        ("G100", False), ("G101", False), ("G10-", False), ("G110", True), ("G111", True),
        ("G1-0", True), ("X100", True), ("", True), ("G1", True),
    ],
)  # fmt: skip
def test_ga4_consent_state_with_ad_storage_required(state, sent):
    event = {"event_name": "page_view", "x-ga-gcs": state}
    result = one("ga4", event, TIKTOK_GA4_REQUIRE_AD_STORAGE="true")
    if sent:
        assert result["status"] == "would_send"
    else:
        assert without_data(result) == {
            "index": 0,
            "status": "skipped",
            "reason": "no consent: x-ga-gcs says ad storage was denied",
        }


def test_ga4_consent_state_is_read_flattened_and_only_when_required():
    flattened = {"event_name": "page_view", "x_ga_gcs": "G100"}
    assert one("ga4", flattened, TIKTOK_GA4_REQUIRE_AD_STORAGE="true")["status"] == "skipped"
    assert one("ga4", {"event_name": "page_view", "x-ga-gcs": "G100"})["status"] == "would_send"


def test_contents_as_json_text_are_read_as_their_array():
    text = '[{"content_id": "A", "price": "2", "quantity": 3}]'
    data = one("ga4", {"event_name": "add_to_cart", "x-ttq-pt-contents": text})["data"]
    assert data["properties"] == {
        "contents": [{"content_id": "A", "price": 2.0, "quantity": 3, "content_type": "product"}],
        "num_items": 1,
        "value": 6.0,
        "content_type": "product",
        "content_ids": ["A"],
    }
    flat = {"event_name": "add_to_cart", "x_ttq_pt_contents": '[{"content_id": "A"}]',
            "x-ttq-pt-content-type": "product_group"}  # fmt: skip
    assert one("ga4", flat)["data"]["properties"] == {
        "contents": [{"content_id": "A", "content_type": "product"}],
        "num_items": 1,
        "content_type": "product_group",
        "content_ids": ["A"],
    }


def test_blank_contents_text_is_no_contents():
    """(its derived id: of ``{"event_name":"purchase","tt_contents":"  "}``)"""
    data = one("ga4", {"event_name": "purchase", "tt_contents": "  "})["data"]
    assert data == {"event": "PlaceAnOrder", "event_time": 1767225600, "event_id": "3db70ea5df5a697816df700ae0d0ef60"}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("nope", {"path": "$['x-ttq-pt-contents']", "message": "must be an array, or JSON text of an array"}),
        ('{"a": 1}', {"path": "$['x-ttq-pt-contents']", "message": "must be an array, or JSON text of an array"}),
        ('[{"quantity": "x"}]', {"path": "$['x-ttq-pt-contents'][0].quantity", "message": "must be a whole number"}),
    ],
)  # fmt: skip
def test_contents_text_that_is_not_an_array_of_contents_rejects_the_event(text, error):
    result = one("ga4", {"event_name": "add_to_cart", "x-ttq-pt-contents": text})
    assert without_data(result) == {"index": 0, "status": "rejected", "errors": [error]}


def test_a_ga4_event_without_contents_has_no_content_type():
    data = one("ga4", {"event_name": "purchase"})["data"]
    assert data == {"event": "PlaceAnOrder", "event_time": int(NOW), "event_id": PURCHASE_ID}


# --- /tiktok: the request body's envelope -----------------------------------------------------

SEARCH = {"event": "Search", "event_id": "1"}


def envelope_of(body: dict[str, object], **environment: str) -> tuple[list[object], list[object]]:
    answer, payloads = dry_run("tiktok", body, **environment)
    return answer["results"], [{k: v for k, v in p.items() if k != "data"} for p in payloads]


@pytest.mark.parametrize(
    ("body", "environment", "envelope"),
    [
        ({"event_source": " APP ", "data": [{**SEARCH, "app": {"app_id": 7}}]}, {}, {"event_source": "app", "event_source_id": "7000000000000000001"}),
        ({"event_source_id": "CPIXEL0000000000000A", "data": [SEARCH]}, {}, {"event_source": "web", "event_source_id": "CPIXEL0000000000000A"}),
        ({"event_source": "app", "event_source_id": 7000000000000000001, "data": [{**SEARCH, "app": {"app_id": "A"}}]}, {}, {"event_source": "app", "event_source_id": "7000000000000000001"}),
        ({"test_event_code": "  ", "data": [SEARCH]}, {"TIKTOK_TEST_EVENT_CODE": "CFG"}, {"event_source": "web", "event_source_id": "CPIXEL0000000000000A", "test_event_code": "CFG"}),
        ({"test_event_code": "x" * 10000, "data": [SEARCH]}, {}, {"event_source": "web", "event_source_id": "CPIXEL0000000000000A", "test_event_code": "x" * 10000}),
        ({"partner": "x", "data": [SEARCH]}, {}, {"event_source": "web", "event_source_id": "CPIXEL0000000000000A"}),
    ],
)  # fmt: skip
def test_an_envelope_that_is_accepted(body, environment, envelope):
    results, envelopes = envelope_of(body, **environment)
    assert results[0]["status"] == "would_send"
    assert envelopes == [envelope]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"event_source": "tv"}, [{"path": "$.event_source", "message": "of the request body must be one of web, app, offline, crm"}]),
        ({"event_source_id": "OTHER"}, [{"path": "$.event_source_id", "message": "of the request body must be TIKTOK_PIXEL_ID (this function sends to its own only)"}]),
        ({"event_source": "crm", "event_source_id": "X"}, [{"path": "$.event_source_id", "message": "of the request body must be TIKTOK_CRM_EVENT_SET_ID (this function sends to its own only)"}]),
        ({"test_event_code": 5}, [{"path": "$.test_event_code", "message": "must be a string"}]),
        ({"test_event_code": "x" * 10001}, [{"path": "$.test_event_code", "message": "must be at most 10000 characters long"}]),
        ({"event_source": "tv", "test_event_code": 1}, [{"path": "$.event_source", "message": "of the request body must be one of web, app, offline, crm"}, {"path": "$.test_event_code", "message": "must be a string"}]),
    ],
)  # fmt: skip
def test_an_envelope_that_is_refused_rejects_every_event(body, errors):
    results, envelopes = envelope_of({**body, "data": [SEARCH, SEARCH]})
    assert results == [
        {"index": 0, "status": "rejected", "errors": errors},
        {"index": 1, "status": "rejected", "errors": errors},
    ]
    assert envelopes == []


def test_any_event_source_id_is_taken_when_none_is_configured_and_then_fails_misconfigured():
    results, _ = envelope_of({"event_source_id": "ANY", "data": [SEARCH]}, TIKTOK_PIXEL_ID="")
    assert results[0]["error"] == "misconfigured"
    assert results[0]["message"] == "TIKTOK_PIXEL_ID is not set (web events need it)"


@pytest.mark.parametrize(
    ("source", "event", "errors"),
    [
        ("app", SEARCH, [{"path": "$.app.app_id", "message": "is required for app events"}]),
        ("crm", SEARCH, [{"path": "$.lead.lead_id", "message": "is required for crm events"}]),
        ("web", {**SEARCH, "app": {"app_name": "x"}, "lead": {"lead_event_source": "y"}},
         [{"path": "$.app.app_id", "message": "is required when $.app is given"},
          {"path": "$.lead.lead_id", "message": "is required when $.lead is given"}]),
        ("app", {**SEARCH, "lead": {"lead_event_source": "y"}},
         [{"path": "$.app.app_id", "message": "is required for app events"},
          {"path": "$.lead.lead_id", "message": "is required when $.lead is given"}]),
    ],
)  # fmt: skip
def test_tiktok_app_and_crm_events_need_their_ids(source, event, errors):
    results, _ = envelope_of({"event_source": source, "data": [event]})
    assert results == [{"index": 0, "status": "rejected", "errors": errors}]


@pytest.mark.parametrize(
    ("event", "environment", "expected"),
    [
        ({"event": "purchase", "event_id": "1"}, {}, {"index": 0, "status": "would_send", "event": "Purchase", "event_id": "1", "warnings": ["event: $.event sent as TikTok's Purchase (names are case sensitive)"]}),
        ({"event": "Buy", "event_id": "1"}, {"TIKTOK_EVENT_MAPPING": '{"Buy": "Purchase"}'}, {"index": 0, "status": "would_send", "event": "Purchase", "event_id": "1"}),
        ({"event": "Buy", "event_id": "1"}, {"TIKTOK_EVENT_MAPPING": '{"Buy": null}'}, {"index": 0, "status": "skipped", "reason": "'Buy' is turned off by TIKTOK_EVENT_MAPPING"}),
        ({"event": "Bad name!"}, {}, {"index": 0, "status": "rejected", "errors": [{"path": "$.event", "message": NAME_RULE}]}),
    ],
)  # fmt: skip
def test_the_name_of_a_tiktok_event(event, environment, expected):
    assert without_data(one("tiktok", event, **environment)) == expected


def test_a_tiktok_event_gets_its_counts_and_ids_filled_in_and_its_extras_warned():
    event = {
        "event": "Search",
        "event_id": "1",
        "properties": {"contents": [{"content_id": "A"}, {"content_id": "A"}, {"content_id": 7}],
                       "query": "shoes", "search_string": "boots", "custom": 1},
        "page": {"url": "https://shop.example/?a=1&ttclid=CLICK%201"},
    }  # fmt: skip
    result = one("tiktok", event)
    assert result["data"] == {
        "event": "Search",
        "event_id": "1",
        "user": {"ttclid": "CLICK 1"},
        "properties": {
            "contents": [{"content_id": "A"}, {"content_id": "A"}, {"content_id": "7"}],
            "search_string": "boots",
            "num_items": 3,
            "content_ids": ["A", "7"],
        },
        "page": {"url": "https://shop.example/?a=1&ttclid=CLICK%201"},
        "event_time": 1767225600,
    }
    assert result["warnings"] == [
        "$.properties.custom left out: not a field of TikTok's event",
        "$.properties.query left out: $.properties.search_string is sent",
    ]


def test_more_than_10_unknown_fields_are_named_then_counted():
    event = {"event": "Search", "event_id": "1", **{f"k{n:02}": n for n in range(13)}}
    warnings = one("tiktok", event)["warnings"]
    assert warnings == [
        *[f"$.k{n:02} left out: not a field of TikTok's event" for n in range(10)],
        "and 3 more fields left out: not fields of TikTok's event",
    ]


# --- flattened keys -------------------------------------------------------------------------

FLAT_READ = "$: flattened keys read as nested objects and arrays"


def test_commanders_act_flattened_consent_categories_are_read_as_their_array():
    event = {"event_name": "search", "id": "1",
             "user_consent_categories_0": "9", "user_consent_categories_1": "4"}  # fmt: skip
    result = one("commandersact", event, TIKTOK_CONSENT_CATEGORIES="4")
    assert (result["status"], result["warnings"]) == ("would_send", [FLAT_READ])
    event["user_consent_categories_1"] = "5"
    assert one("commandersact", event, TIKTOK_CONSENT_CATEGORIES="4")["status"] == "skipped"


def test_flattened_keys_that_cannot_be_read_are_named_by_their_root_only():
    event = {"event_name": "search", "id": "1", "user_consent_categories_0_x": "4",
             "user_consent_categories_x": "4", "items_x": 1}  # fmt: skip
    assert one("commandersact", event)["warnings"] == [
        "$.user_* left out: a flattened shape this function does not read",
        "$.items_* left out: a flattened shape this function does not read",
    ]


def test_a_value_already_nested_wins_over_its_flattened_key():
    event = {"event_name": "search", "id": "1", "user": {"email": "a@b.co"},
             "user_email": "John.Doe@Example.com", "user_city": "Paris"}  # fmt: skip
    result = one("commandersact", event)
    assert result["data"]["user"] == {
        "email": ["80305c9bb1bb2480e03894350e0a8a366dcbdeb302e69e0817aa0743abd77054"],
        "city": "paris",
    }
    assert result["warnings"] == [FLAT_READ]
    event["user"] = "x"  # not an object: it wins too, and the schema says what is wrong
    assert one("commandersact", event)["errors"] == [
        {"path": "$.user", "message": "must be an object"}
    ]


def test_flattened_items_dotted_and_underscored_make_one_array_in_index_order():
    event = {"event_name": "search", "id": "1", "items.1.product.name": "N", "items_1_id": "B",
             "items_0_product_price": "2", "items_0_quantity": 3}  # fmt: skip
    assert one("commandersact", event)["data"]["properties"]["contents"] == [
        {"price": 2.0, "quantity": 3, "content_type": "product"},
        {"content_id": "B", "content_name": "N", "content_type": "product"},
    ]


def test_ga4_flattened_arrays():
    event = {"event_name": "add_to_cart", "user_data_address_0_city": "Paris",
             "user_data_address_0_first_name": "John", "items_0_item_id": "A",
             "items_0_price": 2, "tt_contents_0_content_id": "T"}  # fmt: skip
    data = one("ga4", event)["data"]
    assert data["user"] == {
        "first_name": "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a",
        "city": "paris",
    }
    assert data["properties"]["contents"] == [{"content_id": "T", "content_type": "product"}]


# --- values read from URLs and lists --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "ttclid"),
    [
        ("https://x.example/?ttclid=A#frag", "A"),
        ("https://x.example/?ttclid=abc==", "abc=="),
        ("https://x.example/?ttclid=a+b%20c", "a b c"),
        ("https://x.example/?ttclid=&ttclid=SECOND", "SECOND"),  # blank values are skipped
        ("https://x.example/ttclid/?%74%74%63%6C%69%64=ENC", "ENC"),  # the name percent-encoded
        ("https://x.example/p?a=1?ttclid=NO", None),  # part of the value of a
        ("https://x.example/#?ttclid=F", None),  # in the fragment
        ("https://x.example/?xttclid=X", None),
    ],
)
def test_the_click_id_read_from_the_page_url(url, ttclid):
    data = one("tiktok", {"event": "Search", "event_id": "1", "page": {"url": url}})["data"]
    assert data.get("user", {}).get("ttclid") == ttclid


def test_a_list_value_is_read_value_by_value_and_repeats_are_sent_once():
    event = {"event": "Search", "event_id": "1", "user": {"email": [None, "a@b.co", "A@B.CO "]}}
    data = one("tiktok", event)["data"]
    assert data["user"] == {
        "email": ["80305c9bb1bb2480e03894350e0a8a366dcbdeb302e69e0817aa0743abd77054"]
    }


def test_a_value_of_a_smart_mapped_list_that_is_not_text_rejects_the_event():
    event = {"event_name": "search", "id": "1", "crm": {"mails": ["a@b.co", True]}}
    result = one("commandersact", event, TIKTOK_SMART_MAPPING='{"user.email": "crm.mails"}')
    assert without_data(result) == {
        "index": 0,
        "status": "rejected",
        "errors": [{"path": "$.crm.mails[1]", "message": "must be a string or a number"}],
    }


def test_a_user_field_reads_20_values_and_leaves_out_the_rest_with_a_warning():
    emails = [f"u{n}@b.co" for n in range(21)]
    result = one("tiktok", {"event": "Search", "event_id": "1", "user": {"email": emails[:20]}})
    assert (len(result["data"]["user"]["email"]), "warnings" in result) == (20, False)
    result = one("tiktok", {"event": "Search", "event_id": "1", "user": {"email": emails}})
    assert len(result["data"]["user"]["email"]) == 20
    assert result["warnings"] == ["user.email left out after 20 values: $.user.email holds 21"]
