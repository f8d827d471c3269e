"""Normalisers: tiny pure functions that turn one input value into what TikTok expects.

Words used here:

- *value*: what a sender gave for one field, any JSON type (the schemas already checked its type).
- *normaliser*: ``f(value, context) -> output``; the :class:`Context` carries what a few of them
  need besides the value (the current time, the default phone region). It returns ``None`` when there is nothing to send (an
  empty string), raises :class:`LeftOut` when the field must be left out of the event with a
  warning (a phone that is not a number, a currency TikTok does not know), and raises
  :class:`Invalid` when the value makes the whole event unusable (a quantity of 2.5).
- *explicit event name*: a TikTok event name the sender wrote itself (``x-ttq-event-name``, the
  ``event`` of ``/tiktok``), not looked up in a table: it must follow TikTok's rule for custom
  names, and a standard name in another casing is sent in TikTok's (names are case sensitive).
- *hashed*: SHA-256 of the normalised text, as 64 lowercase hex characters. A value that already
  is 64 hex characters is taken as hashed by the sender and passed through, lowercased.

Messages name the rule that failed, never the value: values are personal data.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


class Invalid(ValueError):
    """The value breaks a rule, so the event is rejected. The message is the rule."""


class LeftOut(ValueError):
    """The field is left out of the event; the message says why, for a warning."""


@dataclass(frozen=True, slots=True)
class Context:
    """What mapping may need besides the event: passed in, never read from the world.

    ``envelope`` holds the request-level fields of a body that has them (a TikTok request
    body's ``event_source``, ``event_source_id``, ``test_event_code``); else it is empty.
    """

    now: float
    phone_region: str | None = None
    envelope: Mapping[str, Any] = field(default_factory=dict)


Normaliser = Callable[[Any, Context], Any]

HEX64 = re.compile(r"[0-9A-Fa-f]{64}")
NUMERIC = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")

# TikTok's accepted currencies (Events API 2.0 reference, properties.currency).
CURRENCIES = frozenset(  # a table to read, not to type out as a list
    "AED ARS AUD BDT BHD BIF BOB BRL CAD CHF CLP CNY COP CRC CZK DKK DZD EGP EUR GBP GTQ HKD HNL "  # noqa: SIM905
    "HUF IDR ILS INR ISK JPY KES KHR KRW KWD KZT MAD MOP MXN MYR NGN NIO NOK NZD OMR PEN PHP PKR "
    "PLN PYG QAR RON RUB SAR SEK SGD THB TRY TWD UAH USD VES VND ZAR".split()
)
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})
ATT_STATUSES = frozenset({"AUTHORIZED", "DENIED", "NOT_DETERMINED", "RESTRICTED", "NOT_APPLICABLE"})
CONTENT_TYPES = frozenset({"product", "product_group"})
EVENT_SOURCES = ("web", "app", "offline", "crm")
CUSTOM_EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,49}")
# TikTok's standard event names in its casing: web (2025 list and the 14 names of the older list
# the seeds use), app, and PageView.
STANDARD_EVENTS = {
    name.lower(): name
    for name in (  # noqa: SIM905 - a table to read, not to type out as a list
        "AddPaymentInfo AddToCart AddToWishlist ApplicationApproval ClickButton CompletePayment "
        "CompleteRegistration Contact CustomizeProduct Download FindLocation InitiateCheckout Lead "
        "PageView PlaceAnOrder Purchase Schedule Search StartTrial SubmitApplication SubmitForm "
        "Subscribe ViewContent AchieveLevel Checkout CompleteTutorial CreateGroup CreateRole "
        "GenerateLead InAppADClick InAppADImpr InstallApp JoinGroup LaunchAPP LoanApplication "
        "LoanApproval LoanDisbursal Login Rate Registration SpendCredits UnlockAchievement"
    ).split()
}
MAX_AMOUNT = 1e15  # the largest value, price or quantity TikTok's schema lets through
# Past this, a Unix time in seconds is read as milliseconds, then as microseconds.
MILLISECONDS_FROM = 1e11
MICROSECONDS_FROM = 1e14


MAX_TEXT = 10_000  # characters: the longest string any field may hold


def scalar(value: Any) -> str:
    """The text of a string or a number. Anything else (an object, an array, true) is refused:
    the schemas allow only these where a field is read, but ``TIKTOK_SMART_MAPPING`` may point
    a field anywhere in an event.

    The normalisers that run for most values test its first case themselves, ``value if
    type(value) is str and len(value) <= MAX_TEXT else scalar(value)``: a call less a value.
    """
    if type(value) is str:
        if len(value) > MAX_TEXT:
            raise Invalid(f"must be at most {MAX_TEXT} characters long")
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    raise Invalid("must be a string or a number")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _unless_hashed(convert: Callable[[str], str | None]) -> Normaliser:
    """A normaliser that passes hashes through and gives ``convert(text)`` otherwise."""

    def normalise(value: Any, _context: Context) -> str | None:
        text = (value if type(value) is str and len(value) <= MAX_TEXT else scalar(value)).strip()
        if not text:
            return None
        if len(text) == 64 and HEX64.fullmatch(text):
            return text.lower()
        return convert(text)

    return normalise


def _hash_with(prepare: Callable[[str], str]) -> Normaliser:
    """A normaliser that passes hashes through and hashes ``prepare(text)`` otherwise."""

    def hashed(text: str) -> str | None:
        prepared = prepare(text)
        return hashlib.sha256(prepared.encode("utf-8")).hexdigest() if prepared else None

    return _unless_hashed(hashed)


hash_email = _hash_with(str.lower)
hash_external_id = _hash_with(lambda text: text)  # case kept: it must match what the pixel hashes
hash_name = _hash_with(str.lower)
hash_zip = _hash_with(lambda text: re.sub(r"[\s-]+", "", text).lower())


def e164(value: Any, region: str | None) -> str | None:
    """The phone number in E.164 form (``+`` and digits), or ``None`` for an empty value.

    One rule for every spelling: the text is read in its compatibility form (full-width plus signs
    and digits are ``+`` and digits), must look like a phone (digits, ``+``, spaces and
    ``()-./``, at most :data:`PHONE_TEXT` characters: the library is never handed anything
    else), ``00`` starts an international number, and libphonenumber reads the rest (a number
    written without ``+`` needs ``region``) and must find a valid number of its country. So
    ``+134234325``, ``+1 34234325`` and ``+1-342-34325`` are all left out alike, and a number
    already in E.164 takes the same path.
    """
    text = str(value).strip()
    if not text:
        return None
    number, why = _read_phone(text, region)
    if number is None:
        raise LeftOut(why)
    return number


PHONE_TEXT = 40  # characters: 15 digits of E.164 and room for its usual punctuation
PHONE = re.compile(rf"[0-9+() ./-]{{1,{PHONE_TEXT}}}")


@lru_cache(maxsize=4096)
def _read_phone(text: str, region: str | None) -> tuple[str | None, str]:
    """``(E.164, "")`` or ``(None, why)``. Cached: parsing and checking a number costs about
    50 µs, and a batch often repeats one (a shop's own number, a test phone); the result only
    depends on the arguments."""
    text = unicodedata.normalize("NFKC", text)
    if not PHONE.fullmatch(text):  # libphonenumber's own patterns backtrack on other text
        return None, "is not a phone number"
    if text.startswith("00"):
        text = "+" + text[2:]  # 00 is the international prefix of most countries
    if "+" not in text and region is None:
        return None, "has no country code and TIKTOK_DEFAULT_PHONE_REGION is not set"
    import phonenumbers  # here: a batch without clear-text phones never needs the library

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, "is not a phone number"
    if not phonenumbers.is_valid_number(number):
        return None, "is not a valid phone number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


def hash_phone(value: Any, context: Context) -> str | None:
    """SHA-256 of the E.164 form, ``+`` included; hashes pass through."""
    text = (value if type(value) is str and len(value) <= MAX_TEXT else scalar(value)).strip()
    if len(text) == 64 and HEX64.fullmatch(text):
        return text.lower()
    number = e164(text, context.phone_region)
    return sha256_hex(number) if number else None


def text(value: Any, _context: Context | None = None) -> str | None:
    """A string as given (numbers written out); empty strings are not sent."""
    return (value if type(value) is str and len(value) <= MAX_TEXT else scalar(value)) or None


def identifier(value: Any, _context: Context | None = None) -> str | None:
    """An id TikTok wants as a string (``content_id``, ``order_id``, ``event_id``): trimmed."""
    return (
        value if type(value) is str and len(value) <= MAX_TEXT else scalar(value)
    ).strip() or None


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # 12345.0 from a JSON encoder is the id 12345
    return str(value)


def place(value: Any, _context: Context | None = None) -> str | None:
    """City, state, country: sent in clear, lowercased, letters and digits only."""
    return "".join(char for char in scalar(value).lower() if char.isalnum()) or None


ADVERTISING_ID = re.compile(r"[0-9A-Fa-f-]+")


def _advertising_id(case: Callable[[str], str]) -> Normaliser:
    """IDFA (uppercase) or GAID (lowercase): a UUID in that case, or a SHA-256 of it, lowercased."""

    def checked(text: str) -> str:
        if not ADVERTISING_ID.fullmatch(text):
            raise LeftOut("is not an advertising id (hex digits and dashes) or its SHA-256")
        return case(text)

    return _unless_hashed(checked)


idfa = _advertising_id(str.upper)
gaid = _advertising_id(str.lower)


def _one_of(choices: frozenset[str], case: Callable[[str], str], why: str) -> Normaliser:
    """A normaliser for a word TikTok knows (in ``case``); another word is left out, ``why``."""

    def normalise(value: Any, _context: Context | None = None) -> str | None:
        word = case(
            (value if type(value) is str and len(value) <= MAX_TEXT else scalar(value)).strip()
        )
        if not word:
            return None
        if word not in choices:
            raise LeftOut(why)
        return word

    return normalise


att_status = _one_of(ATT_STATUSES, str.upper, "is not one of " + ", ".join(sorted(ATT_STATUSES)))
content_type = _one_of(CONTENT_TYPES, str.lower, "is not product or product_group")
currency = _one_of(CURRENCIES, str.upper, "is not a currency TikTok accepts")


def number(value: Any, _context: Context | None = None) -> float | int:
    """A finite number; numeric strings are read as numbers."""
    kind = type(value)
    if (kind is float or kind is int) and -MAX_AMOUNT <= value <= MAX_AMOUNT:  # the common case
        found: float | int = value
        return found
    if isinstance(value, str):
        if not NUMERIC.fullmatch(value):
            raise Invalid("must be a number or a numeric string")
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("must be a number")
    if isinstance(value, int) and abs(value) > MAX_AMOUNT:
        raise Invalid("must be a number below 10^15")
    if isinstance(value, float) and not (math.isfinite(value) and abs(value) <= MAX_AMOUNT):
        raise Invalid("must be a finite number below 10^15")
    return value


def integer(value: Any, _context: Context | None = None) -> int:
    """A whole number: ``2``, ``2.0`` and ``"2"`` are 2; ``2.5`` is refused."""
    if type(value) is int and -MAX_AMOUNT <= value <= MAX_AMOUNT:  # the common case
        return value
    result = number(value)
    if isinstance(result, float):
        if not result.is_integer():
            raise Invalid("must be a whole number")
        return int(result)
    return result


def count(value: Any, _context: Context | None = None) -> int:
    """How many (``num_items``): the length of an array (the items a route reads), or a whole
    number given as it is."""
    if isinstance(value, list):
        return len(value)
    return integer(value)


def flag(value: Any, _context: Context | None = None) -> bool:
    """A boolean from ``true``/``false``, ``"true"``/``"false"``, ``1``/``0``."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Invalid("must be true or false")


def event_time(value: Any, context: Context) -> int:
    """``event_time``: whole Unix seconds, never in the future.

    Numbers and numeric strings are seconds, milliseconds (from 1e11) or microseconds (from
    1e14); strings may be ISO 8601 (no offset means UTC). Zero, negative, non-finite and
    unreadable times are refused.
    """
    if isinstance(value, str) and not NUMERIC.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise Invalid("must be Unix time or an ISO 8601 date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    else:
        try:
            seconds = float(value)
        except (OverflowError, ValueError, TypeError):
            raise Invalid("must be Unix time or an ISO 8601 date-time") from None
        if seconds >= MICROSECONDS_FROM:
            seconds /= 1e6
        elif seconds >= MILLISECONDS_FROM:
            seconds /= 1e3
    if not math.isfinite(seconds) or seconds < 1:  # whole seconds: 0.5 would be sent as 0
        raise Invalid("must be a time after 1970")
    return int(min(seconds, context.now))


def explicit_event_name(value: Any) -> tuple[str, str | None]:
    """The name to send, and a note when its casing was corrected to TikTok's."""
    name = str(value).strip()
    if not CUSTOM_EVENT_NAME.fullmatch(name):
        raise Invalid("must be at most 50 letters, digits, '_' or '-', starting with a letter")
    canonical = STANDARD_EVENTS.get(name.lower(), name)
    note = None if canonical == name else f"sent as TikTok's {canonical} (names are case sensitive)"
    return canonical, note


def derived_event_id(event: Any) -> str:
    """An id that is the same every time the same input event is sent again."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(canonical)[:32]
