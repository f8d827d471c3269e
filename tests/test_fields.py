"""fields.Table and assemble() on their own: small tables, each showing one rule of applying one.

The routes' golden fixtures show the same through the entry point; here a newcomer can see what
the engine does with a row, one behaviour a test.
"""

from __future__ import annotations

import pytest

from tiktok_mapper.events_api import RULE
from tiktok_mapper.fields import (
    ALL,
    WEB,
    Cookie,
    FirstOf,
    Path,
    QueryParam,
    Row,
    Table,
    assemble,
    paths,
)
from tiktok_mapper.normalize import Context

CONTEXT = Context(now=1767225600.0)
EMAIL_HASH = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"  # test@example.com


def applied(rows: tuple[Row, ...], event: object, tags: frozenset[str] = ALL) -> object:
    built = assemble(Table(rows, RULE), event, tags, CONTEXT)
    return built.data, built.warnings, built.errors


def test_the_first_getter_that_finds_a_value_wins_and_names_the_path():
    rows = (Row(paths("a.ip", "b.ip", "c"), "user.ip"),)
    assert applied(rows, {"b": {"ip": "2"}, "c": "3"})[0] == {"user": {"ip": "2"}}
    assert applied(rows, {"a": {"ip": "1"}, "b": {"ip": "2"}})[0] == {"user": {"ip": "1"}}
    rows = (Row(paths("a.t", "b.t"), "event_time"),)
    assert applied(rows, {"b": {"t": "yesterday"}})[2] == [
        {"path": "$.b.t", "message": "must be Unix time or an ISO 8601 date-time"}
    ]


def test_null_and_a_missing_key_read_alike_and_a_non_object_on_the_way_reads_nothing():
    rows = (Row(paths("a.b.ip", "x"), "user.ip"),)
    for event in ({"a": None, "x": "9"}, {"a": {"b": None}, "x": "9"}, {"a": "text", "x": "9"}):
        assert applied(rows, event)[0] == {"user": {"ip": "9"}}
    assert applied(rows, {"a": [{"b": {"ip": "1"}}]})[0] == {}  # no index in the path


def test_a_numeric_part_indexes_an_array_and_reads_a_key_of_an_object():
    rows = (Row(paths("items.0.currency"), "properties.currency"),)
    assert applied(rows, {"items": [{"currency": "eur"}]})[0] == {"properties": {"currency": "EUR"}}
    assert applied(rows, {"items": {"0": {"currency": "usd"}}})[0] == {
        "properties": {"currency": "USD"}
    }
    assert applied(rows, {"items": []})[0] == {}


def test_getters_that_are_not_paths_are_tried_in_their_turn():
    url = FirstOf(Path("page.url"), Path("url"))
    rows = (
        Row(
            (Path("ids.ttclid"), Cookie("headers.cookie", "ttclid"), QueryParam(url, "ttclid")),
            "user.ttclid",
        ),
    )
    by_query = {"url": "https://x.example/?a=1&ttclid=Q%2B1"}
    assert applied(rows, by_query)[0] == {"user": {"ttclid": "Q+1"}}
    by_cookie = {**by_query, "headers": {"cookie": "a=1; ttclid=C1"}}
    assert applied(rows, by_cookie)[0] == {"user": {"ttclid": "C1"}}
    assert applied(rows, {**by_cookie, "ids": {"ttclid": "P1"}})[0] == {"user": {"ttclid": "P1"}}


def test_a_row_is_sent_only_for_the_events_it_is_sent_for():
    rows = (Row(paths("q"), "properties.search_string", WEB),)
    assert applied(rows, {"q": "shoes"}, frozenset({"web"}))[0] == {
        "properties": {"search_string": "shoes"}
    }
    assert applied(rows, {"q": "shoes"}, frozenset({"app", "app:ios"}))[0] == {}


def test_a_list_field_takes_one_value_or_an_array_each_normalised_repeats_sent_once():
    rows = (Row(paths("mail"), "user.email"),)
    assert applied(rows, {"mail": " Test@Example.com "})[0] == {"user": {"email": [EMAIL_HASH]}}
    data, warnings, _ = applied(rows, {"mail": ["test@example.com", "TEST@example.com ", None]})
    assert data == {"user": {"email": [EMAIL_HASH]}}
    assert warnings == []


def test_contents_are_filled_element_by_element_and_their_notes_name_the_element():
    each = (
        Row(paths("sku"), "content_id"),
        Row(paths("qty"), "quantity"),
        Row(paths("kind"), "content_type", default="product"),
    )
    rows = (Row(paths("lines"), "properties.contents", each=each),)
    data, warnings, errors = applied(
        rows, {"lines": [{"sku": 7, "qty": "2"}, {"sku": "B", "kind": "box"}, {"qty": 1.5}]}
    )
    assert data == {
        "properties": {
            "contents": [
                {"content_id": "7", "quantity": 2, "content_type": "product"},
                {"content_id": "B"},
                {"content_type": "product"},
            ]
        }
    }
    assert warnings == [
        "properties.contents[1].content_type left out: $.lines[1].kind is not product or "
        "product_group"
    ]
    assert errors == [{"path": "$.lines[2].qty", "message": "must be a whole number"}]


def test_fields_come_in_tiktoks_order_whatever_the_rows_order():
    rows = (Row(paths("v"), "properties.value"), Row(paths("t"), "event_time"))
    data = applied(rows, {"v": 1, "t": 1767225000})[0]
    assert list(data) == ["event_time", "properties"]  # event_time is TikTok's first field


def test_a_row_for_a_field_tiktok_does_not_have_is_refused_when_the_table_is_made():
    with pytest.raises(
        ValueError, match=r"user\.mail is not a field of TikTok.s event or of a content"
    ):
        Table((Row(paths("mail"), "user.mail"),), RULE)


def test_a_default_is_only_for_a_field_sent_for_every_event():
    with pytest.raises(ValueError, match="a default is for a field sent for every event"):
        Table((Row(paths("k"), "properties.content_type", WEB, default="product"),), RULE)


def test_an_error_names_the_path_the_value_came_from_even_inside_first_of():
    rows = (Row((FirstOf(Path("page.url"), Path("url")),), "page.url"),)
    assert applied(rows, {"url": 5.5})[0] == {"page": {"url": "5.5"}}
    assert applied(rows, {"url": ["a"]})[2] == [
        {"path": "$.url", "message": "must be a string or a number"}
    ]


def test_a_first_getter_that_is_called_is_tried_before_the_others():
    rows = (Row(paths("crm.emails.0", "user.email"), "user.email"),)  # a smart-mapped path first
    both = {"crm": {"emails": ["test@example.com"]}, "user": {"email": "x@example.com"}}
    assert applied(rows, both)[0] == {"user": {"email": [EMAIL_HASH]}}
    assert applied(rows, {"crm": {"emails": []}, "user": {"email": "test@example.com"}})[0] == {
        "user": {"email": [EMAIL_HASH]}
    }


def test_indices_nest():
    rows = (Row(paths("a.0.1.x"), "user.city"),)
    assert applied(rows, {"a": [[{}, {"x": "Lyon"}]]})[0] == {"user": {"city": "lyon"}}
    assert applied(rows, {"a": [[{"x": "Lyon"}]]})[0] == {}


def test_notes_come_in_tiktoks_order_whatever_the_rows_order():
    rows = (Row(paths("v"), "properties.value"), Row(paths("t"), "event_time"))
    errors = applied(rows, {"v": "ten", "t": "yesterday"})[2]
    assert [error["path"] for error in errors] == ["$.t", "$.v"]


def test_no_event_writes_into_the_absent_node():
    """Absent nodes all read one shared empty object, which is only ever read."""
    import tiktok_mapper.fields as fields

    rows = (Row(paths("a.b.c"), "user.city"), Row(paths("a.b.d", "e"), "user.state"))
    applied(rows, {"a": None, "e": "x"})
    assert fields.NOTHING == {}


def test_an_event_or_an_element_that_is_not_an_object_finds_nothing():
    each = (Row(paths("sku"), "content_id"),)
    rows = (Row(paths("lines"), "properties.contents", each=each), Row(paths("t"), "user.ip"))
    assert applied(rows, ["not", "an", "object"]) == ({}, [], [])
    assert applied(rows, {"lines": ["a", 1, None, {"sku": "S"}]})[0] == {
        "properties": {"contents": [{"content_id": "S"}]}
    }


def test_contents_take_1000_elements_and_no_more():
    rows = (Row(paths("lines"), "properties.contents", each=(Row(paths("sku"), "content_id"),)),)
    data, _, errors = applied(rows, {"lines": [{"sku": "S"}] * 1000})
    assert (len(data["properties"]["contents"]), errors) == (1000, [])
    assert applied(rows, {"lines": [{"sku": "S"}] * 1001})[2] == [
        {"path": "$.lines", "message": "must have at most 1000 elements"}
    ]


def test_cookies_and_query_values_are_decoded_as_a_browser_sends_them():
    rows = (
        Row((Cookie("h", "_ttp"),), "user.ttp"),
        Row((QueryParam(Path("u"), "t"),), "user.ttclid"),
    )
    event = {"h": 'a=1; _ttp="x=y%2Fz"', "u": "https://x.example/p?t=a+b%21"}
    assert applied(rows, event)[0] == {"user": {"ttp": "x=y/z", "ttclid": "a b!"}}


def test_a_label_quotes_a_key_that_is_not_a_plain_name():
    assert Path("crm.it's.0.x").label == "$.crm['it\\'s'][0].x"
