"""``properties.value`` filled in from the contents on ``/ga4`` and ``/tiktok``: the sum of
price * quantity (quantity 1 when absent) of the contents that have a price, to 2 decimals; a
value given is sent as given. Expected values are written out (README: TikTok pass-through)."""

from __future__ import annotations

import pytest

from tests.dryrun import one

# (prices and quantities of the contents, the value sent)
SUMS = [
    ([(0.1, None), (0.2, None)], 0.3),  # not 0.30000000000000004
    ([(19.999, 3)], 60.0),  # 59.997
    ([(19.999, 3), (5, None)], 65.0),  # 64.997
    ([(10.1, 3), (0.1, None)], 30.4),  # 30.299999999999997 + 0.1
    ([(1.234, 1), (1.111, 2)], 3.46),  # 3.456
    ([(0.004, None)], 0.0),
    ([(-2.5, 2), (10, None)], 5.0),  # a refund line counts negative
    ([(7, 0)], 0),  # a quantity of 0 counts for nothing
    ([(3, 2), (4, 5)], 26),  # whole prices: a whole number
]


def ga4_event(contents: list[tuple[float, int | None]], **more: object) -> dict[str, object]:
    items = [
        {"item_id": f"I{n}", "price": price, **({} if quantity is None else {"quantity": quantity})}
        for n, (price, quantity) in enumerate(contents)
    ]
    return {"event_name": "add_to_cart", "currency": "EUR", "items": items, **more}


def tiktok_event(contents: list[tuple[float, int | None]], **more: object) -> dict[str, object]:
    lines = [
        {
            "content_id": f"I{n}",
            "price": price,
            **({} if quantity is None else {"quantity": quantity}),
        }
        for n, (price, quantity) in enumerate(contents)
    ]
    properties = {"currency": "EUR", "contents": lines, **more}
    return {"event": "AddToCart", "event_id": "V-1", "properties": properties}


@pytest.mark.parametrize(("contents", "value"), SUMS)
def test_ga4_sums_the_items_to_2_decimals(contents, value):
    properties = one("ga4", ga4_event(contents))["data"]["properties"]
    assert properties["value"] == value
    assert type(properties["value"]) is type(value)


@pytest.mark.parametrize(("contents", "value"), SUMS)
def test_tiktok_sums_the_contents_to_2_decimals(contents, value):
    properties = one("tiktok", tiktok_event(contents))["data"]["properties"]
    assert properties["value"] == value
    assert type(properties["value"]) is type(value)


def test_contents_without_a_price_count_for_nothing_and_none_priced_sends_no_value():
    mixed = ga4_event([(2.5, 2)])
    mixed["items"].append({"item_id": "NOPRICE", "quantity": 9})
    assert one("ga4", mixed)["data"]["properties"]["value"] == 5.0
    unpriced = {"event_name": "add_to_cart", "items": [{"item_id": "A", "quantity": 2}]}
    assert "value" not in one("ga4", unpriced)["data"]["properties"]
    lines = {"event": "AddToCart", "properties": {"contents": [{"content_id": "A"}]}}
    assert "value" not in one("tiktok", lines)["data"]["properties"]


@pytest.mark.parametrize("value", [12.3456, 0, 0.30000000000000004, 99999.999])
def test_a_value_given_is_sent_as_given_never_rounded_nor_replaced(value):
    contents = [(0.1, None), (0.2, None)]
    sent = one("ga4", ga4_event(contents, value=value))["data"]["properties"]["value"]
    assert (sent, type(sent)) == (value, type(value))
    sent = one("tiktok", tiktok_event(contents, value=value))["data"]["properties"]["value"]
    assert (sent, type(sent)) == (value, type(value))


def test_a_value_given_as_a_numeric_string_is_sent_as_its_number():
    event = ga4_event([(1, None)], value="12.3456")
    assert one("ga4", event)["data"]["properties"]["value"] == 12.3456
    event = tiktok_event([(1, None)], value=" 7 ")
    assert one("tiktok", event)["data"]["properties"]["value"] == 7.0


def test_a_sum_beyond_10_to_the_15_is_left_out_with_a_warning():
    result = one("tiktok", tiktok_event([(1e15, 2)]))
    assert "value" not in result["data"]["properties"]
    assert result["warnings"] == [
        "properties.value left out: the sum of the contents is beyond 10^15"
    ]
    result = one("ga4", ga4_event([(1e15, 1)]))
    assert result["data"]["properties"]["value"] == 1e15
    assert "warnings" not in result


@pytest.mark.parametrize(("price", "value"), [(2.675, 2.68), (1.015, 1.02)])
def test_a_price_halfway_between_two_cents_rounds_as_written_in_decimal(price, value):
    assert one("ga4", ga4_event([(price, None)]))["data"]["properties"]["value"] == value
