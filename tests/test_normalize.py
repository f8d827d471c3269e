"""The normalisers, with literal SHA-256 values (TikTok's own examples where it gives them)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiktok_mapper import normalize as n

NOW = n.Context(now=1767225600.0)
FR = n.Context(now=1767225600.0, phone_region="FR")
US = n.Context(now=1767225600.0, phone_region="US")


@pytest.mark.parametrize(
    ("normaliser", "value", "expected"),
    [
        # TikTok's examples (Events API 2.0 reference)
        (n.hash_email, " ALICE_abc@gmail.com ", "848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f"),
        (n.hash_phone, "(+1)2133734253", "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"),
        (n.hash_phone, "+12133734253", "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"),
        (n.hash_external_id, "user_123", "80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b"),
        # Commanders Act's documented hashes of john.doe@example.com and +33612345678
        (n.hash_email, "John.Doe@Example.com", "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"),
        (n.hash_phone, "+33 6 12 34 56 78", "42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"),
        # external ids keep their case, numbers are written out
        (n.hash_external_id, " User_123 ", hashlib.sha256(b"User_123").hexdigest()),
        (n.hash_external_id, 845454, "40a04623cb93d2047869d42f58bc8ca5991ff668df0aa0f42d24ab8638739c8f"),
        (n.hash_name, " John ", "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a"),
        (n.hash_zip, "94105-1234", hashlib.sha256(b"941051234").hexdigest()),
        # already hashed: passed through, lowercased
        (n.hash_email, "836F82DB99121B3481011F16B49DFA5FBC714A0D1B1B9F784A1EBBBF5B39577F", "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"),
        (n.hash_phone, "9F7EC22D72092CD3C0B58726ED9C2D91B92E51A3F29837508FB2948BB22DD2FD", "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"),
        # empty values are not hashed
        (n.hash_email, "   ", None),
        (n.hash_external_id, "", None),
        (n.place, "Saint-Étienne", "saintétienne"),
        (n.place, "US", "us"),
        (n.idfa, "7a3cbea0-bdf5-11e4-8dfc-aa07a5b093db", "7A3CBEA0-BDF5-11E4-8DFC-AA07A5B093DB"),
        (n.gaid, "38400000-8CF0-11BD-B23E-10B96E40000D", "38400000-8cf0-11bd-b23e-10b96e40000d"),
        (n.currency, " eur ", "EUR"),
        (n.identifier, 9179124954957, "9179124954957"),
        (n.identifier, 12345.0, "12345"),
        (n.number, "22.53", 22.53),
        (n.number, 0, 0),
        (n.integer, "2", 2),
        (n.integer, 2.0, 2),
        (n.flag, "false", False),
        (n.flag, 1, True),
        (n.att_status, "authorized", "AUTHORIZED"),
    ],
)  # fmt: skip
def test_normalisers(normaliser, value, expected):
    assert normaliser(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "context", "expected"),
    [
        ("+33612345678", NOW, "+33612345678"),
        ("06 12 34 56 78", FR, "+33612345678"),
        ("0033 6 12 34 56 78", FR, "+33612345678"),
        ("(+1) 213-373-4253", NOW, "+12133734253"),
        ("\uff0b33612345678", NOW, "+33612345678"),  # a full-width plus sign, with or without
        ("\uff0b33612345678", US, "+33612345678"),  # a region: one rule
        ("0033612345678", US, "+33612345678"),  # 00 starts an international number everywhere
    ],
)
def test_phone_numbers_become_e164(value, context, expected):
    assert n.e164(value, context.phone_region) == expected


@pytest.mark.parametrize(
    ("value", "context"),
    [
        ("06 12 34 56 78", NOW),
        ("call me", FR),
        ("+1 2", NOW),
        # one rule whatever the spelling: no US number has area code 342
        ("+134234325", NOW),
        ("+1 34234325", NOW),
        ("+1-342-34325", NOW),
        ("+4915123456789012", NOW),  # 16 digits: E.164 has at most 15
        ("06 12 34 56 78", US),  # a French mobile read in the US is no US number
        ("+33 6 12 34 56 78 9", NOW),  # one digit too many for France
        # text no phone has: never handed to libphonenumber, whose patterns backtrack on it
        ("+1;phone-context=" + "aaaaa." * 12 + "-", NOW),
        ("1" * 197, US),
        ("+33 6 12 34 56 78 ext. 12", NOW),
    ],
)
def test_unusable_phones_are_left_out(value, context):
    with pytest.raises(n.LeftOut):
        n.hash_phone(value, context)


SPELLINGS = (
    lambda digits: "+" + digits,
    lambda digits: "+" + " ".join(digits[i : i + 2] for i in range(0, len(digits), 2)),
    lambda digits: "+" + digits[:2] + "-" + digits[2:],
    lambda digits: f"(+{digits[:2]}) {digits[2:]}",
    lambda digits: "00" + digits,
)


def near_real_numbers() -> st.SearchStrategy[str]:
    """The digits of a real country's example number, often spoiled: a digit dropped, added or
    changed, so that valid and invalid numbers both come up."""
    import phonenumbers

    examples = [
        f"{number.country_code}{number.national_number}"
        for region in ("US", "FR", "DE", "GB", "CN", "BR", "IN", "JP", "AU", "NG")
        if (number := phonenumbers.example_number(region)) is not None
    ]
    spoils = st.sampled_from(["keep", "drop", "add", "change"])
    return st.tuples(
        st.sampled_from(examples), spoils, st.integers(0, 20), st.sampled_from("0123456789")
    ).map(
        lambda t: {
            "keep": t[0],
            "drop": t[0][:-1],
            "add": t[0] + t[3],
            "change": t[0][: t[2] % len(t[0])] + t[3] + t[0][t[2] % len(t[0]) + 1 :],
        }[t[1]]
    )


@given(
    digits=st.one_of(st.text(alphabet="0123456789", min_size=1, max_size=17), near_real_numbers())
)
def test_a_phone_gets_one_answer_whatever_its_spelling(digits):
    """The same digits after a country's ``+`` are kept, or left out, alike in every spelling."""

    def outcome(text):
        try:
            return n.e164(text, None)
        except n.LeftOut:
            return "left out"

    outcomes = {outcome(spell(digits)) for spell in SPELLINGS}
    assert len(outcomes) == 1, (digits, outcomes)


@pytest.mark.parametrize(
    ("normaliser", "value"),
    [
        (n.integer, 2.5),
        (n.integer, "1,99"),
        (n.number, "€9.99"),
        (n.number, "1,99"),
        (n.number, True),
        (n.number, 10**400),
        (n.flag, "sometimes"),
    ],
)
def test_values_that_reject_the_event(normaliser, value):
    with pytest.raises(n.Invalid):
        normaliser(value, NOW)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1744955619, 1744955619),  # seconds
        (1744955619974, 1744955619),  # milliseconds
        ("1744955619974.0", 1744955619),  # a numeric string
        (1744955619974000, 1744955619),  # microseconds
        ("2025-04-18T07:53:39.974+02:00", 1744955619),
        ("2025-04-18T05:53:39Z", 1744955619),
        ("2025-04-18T05:53:39", 1744955619),  # no offset: UTC
        (4102444800, 1767225600),  # the future becomes now
    ],
)
def test_event_time(value, expected):
    assert n.event_time(value, NOW) == expected


@pytest.mark.parametrize("value", [0, -1, "soon", "2025-13-01", 10**400, "nan"])
def test_event_time_refused(value):
    with pytest.raises(n.Invalid):
        n.event_time(value, NOW)


def test_derived_event_id_is_the_hash_of_canonical_json():
    event = {"b": 1, "a": "é", "event_name": "purchase"}
    canonical = '{"a":"é","b":1,"event_name":"purchase"}'
    expected = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    assert n.derived_event_id(event) == expected
    assert n.derived_event_id(json.loads(json.dumps(event))) == expected
    assert n.derived_event_id({**event, "b": 2}) != expected


# The rule each refusal names: what the answer's error or warning says, word for word.
@pytest.mark.parametrize(
    ("normaliser", "value", "refusal", "rule"),
    [
        (n.text, "x" * 10_001, n.Invalid, "must be at most 10000 characters long"),
        (n.text, True, n.Invalid, "must be a string or a number"),
        (n.hash_email, {"a": 1}, n.Invalid, "must be a string or a number"),
        (n.number, "€9.99", n.Invalid, "must be a number or a numeric string"),
        (n.number, True, n.Invalid, "must be a number"),
        (n.number, 10**15 + 1, n.Invalid, "must be a number below 10^15"),
        (n.number, -(10**15) - 1, n.Invalid, "must be a number below 10^15"),
        (n.number, 1.5e15, n.Invalid, "must be a finite number below 10^15"),
        (n.number, "1e16", n.Invalid, "must be a finite number below 10^15"),
        (n.integer, 2.5, n.Invalid, "must be a whole number"),
        (n.integer, "7.25", n.Invalid, "must be a whole number"),
        (n.count, 2.5, n.Invalid, "must be a whole number"),
        (n.flag, "sometimes", n.Invalid, "must be true or false"),
        (n.event_time, "soon", n.Invalid, "must be Unix time or an ISO 8601 date-time"),
        (n.event_time, [1], n.Invalid, "must be Unix time or an ISO 8601 date-time"),
        (n.event_time, 0.99, n.Invalid, "must be a time after 1970"),
        (n.event_time, "1969-12-31T23:59:59Z", n.Invalid, "must be a time after 1970"),
        (n.hash_phone, "z" * 64, n.LeftOut, "is not a phone number"),
        (n.hash_phone, "06 12 34 56 78", n.LeftOut, "has no country code and TIKTOK_DEFAULT_PHONE_REGION is not set"),
        (n.hash_phone, "+1 2", n.LeftOut, "is not a phone number"),
        (n.hash_phone, "+134234325", n.LeftOut, "is not a valid phone number"),
        (n.idfa, "not-an-id!", n.LeftOut, "is not an advertising id (hex digits and dashes) or its SHA-256"),
        (n.gaid, "g" * 64, n.LeftOut, "is not an advertising id (hex digits and dashes) or its SHA-256"),
        (n.currency, "XXX", n.LeftOut, "is not a currency TikTok accepts"),
        (n.att_status, "maybe", n.LeftOut, "is not one of AUTHORIZED, DENIED, NOT_APPLICABLE, NOT_DETERMINED, RESTRICTED"),
        (n.content_type, "sku", n.LeftOut, "is not product or product_group"),
    ],
)  # fmt: skip
def test_the_rule_a_refused_value_breaks(normaliser, value, refusal, rule):
    with pytest.raises(refusal) as refused:
        normaliser(value, NOW)
    assert str(refused.value) == rule


@pytest.mark.parametrize(
    ("normaliser", "value", "context", "expected"),
    [
        (n.text, "x" * 10_000, NOW, "x" * 10_000),
        (n.text, 0, NOW, "0"),
        (n.text, "", NOW, None),
        (n.text, 1e16, NOW, "1e+16"),  # past 10^16 a float is no exact id
        (n.text, 9999999999999998.0, NOW, "9999999999999998"),
        (n.text, -3.0, NOW, "-3"),
        (n.text, 12345.5, NOW, "12345.5"),
        (n.identifier, "  ", NOW, None),
        (n.place, "!!", NOW, None),
        (n.hash_zip, "SW1A 1AA", NOW, "830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614"),
        (n.hash_phone, "   ", FR, None),
        (n.hash_phone, "0612345678", FR, "42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8"),
        (n.number, 10**15, NOW, 10**15),
        (n.number, -1e15, NOW, -1e15),
        (n.number, " 1e15 ", NOW, 1e15),
        (n.number, ".5", NOW, 0.5),
        (n.integer, "-3", NOW, -3),
        (n.flag, " YES ", NOW, True),
        (n.flag, "No", NOW, False),
        (n.flag, 0, NOW, False),
        (n.count, [1, 2], NOW, 2),
        (n.count, "3", NOW, 3),
        (n.event_time, 1, NOW, 1),
        (n.event_time, 1.5, NOW, 1),
        (n.event_time, 99_999_999_999, NOW, 1767225600),  # seconds, in the future: now
        (n.event_time, 100_000_000_000, NOW, 100_000_000),  # from 10^11: milliseconds
        (n.event_time, 99_999_999_999_999, NOW, 1767225600),  # milliseconds, in the future
        (n.event_time, 100_000_000_000_000, NOW, 100_000_000),  # from 10^14: microseconds
        (n.event_time, "2025-04-18T05:53:39z", NOW, 1744955619),
        (n.event_time, " 1744955619 ", NOW, 1744955619),
    ],
)  # fmt: skip
def test_normalised_values_at_the_edges(normaliser, value, context, expected):
    got = normaliser(value, context)
    assert (got, type(got)) == (expected, type(expected))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (" Purchase ", ("Purchase", None)),
        ("purchase", ("Purchase", "sent as TikTok's Purchase (names are case sensitive)")),
        ("LAUNCHAPP", ("LaunchAPP", "sent as TikTok's LaunchAPP (names are case sensitive)")),
        ("My_Event-2", ("My_Event-2", None)),
        ("A" * 50, ("A" * 50, None)),
    ],
)
def test_explicit_event_names(name, expected):
    assert n.explicit_event_name(name) == expected


@pytest.mark.parametrize("name", ["A" * 51, "9Lives", "_x", "Buy now", "", "é"])
def test_explicit_event_names_refused(name):
    with pytest.raises(n.Invalid) as refused:
        n.explicit_event_name(name)
    assert str(refused.value) == (
        "must be at most 50 letters, digits, '_' or '-', starting with a letter"
    )
