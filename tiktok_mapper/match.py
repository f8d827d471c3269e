"""Match quality: which keys TikTok can match a person on, counted over a request's events.

Words used here:

- *match key*: a field of a TikTok event's ``user`` that TikTok uses to find the person:
  ``email``, ``phone``, ``external_id``, ``ttclid`` (the click id), ``ttp`` (the ``_ttp``
  cookie), ``advertising_id`` (any of ``idfa``, ``idfv``, ``gaid``), ``ip``, and ``ua`` (the
  user agent).
- *matchable*: an event with a click id, a ``ttp`` cookie, an e-mail, a phone, an external id
  or an advertising id, or with both ``ip`` and ``ua``; TikTok can attribute no other.
- *summary*: for each match key, how many of the events that are sent (or would be) carry it,
  with ``events``, how many such events there are, and ``unmatched``, how many are not
  matchable, with a warning for each of the first :data:`MOST`, naming its index and the keys
  it lacks: counts and key names only, never values.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

KEYS = ("email", "phone", "external_id", "ttclid", "ttp", "advertising_id", "ip", "ua")
# match key → the TikTok user fields that count for it
FIELDS = {"email": ("email",), "phone": ("phone",), "external_id": ("external_id",),
          "ttclid": ("ttclid",), "ttp": ("ttp",), "advertising_id": ("idfa", "idfv", "gaid"),
          "ip": ("ip",), "ua": ("user_agent",)}  # fmt: skip
NAMES = tuple((key, frozenset(FIELDS[key])) for key in KEYS)
ALONE = frozenset(f for key in KEYS if key not in ("ip", "ua") for f in FIELDS[key])
NONE: tuple[str, ...] = ()
MOST = 20  # unmatched events named in the summary; the rest are counted


def keys_of(event: dict[str, Any]) -> tuple[str, ...]:
    """The fields of a TikTok event's ``user`` (the summary picks the match keys out of them;
    a tuple: it stays JSON on a plan's result, and costs one step for the ordinary path)."""
    user = event.get("user")
    return tuple(user) if user else NONE


def matchable(fields: tuple[str, ...]) -> bool:
    return not ALONE.isdisjoint(fields) or ("ip" in fields and "user_agent" in fields)


def warning(index: int, fields: tuple[str, ...]) -> str:
    """The warning for an event TikTok cannot match on, naming the keys it lacks."""
    missing = ", ".join(key for key in KEYS if not any(f in fields for f in FIELDS[key]))
    return f"event {index}: no key TikTok can match on: {missing} missing (ip counts with ua)"


def summary(carried: Sequence[tuple[int, tuple[str, ...]]]) -> dict[str, Any]:
    """``{"events": n, "email": …, …, "unmatched": k}`` for the events sent (index, fields)."""
    # The events of a batch mostly carry the same fields: count each set of fields once.
    by_fields: dict[tuple[str, ...], int] = {}
    for _, fields in carried:
        by_fields[fields] = by_fields.get(fields, 0) + 1
    found: dict[str, Any] = dict.fromkeys(KEYS, 0)
    unmatched = 0
    for fields, times in by_fields.items():
        for key, names in NAMES:
            if not names.isdisjoint(fields):  # idfa and idfv on one event count once
                found[key] += times
        if not matchable(fields):
            unmatched += times
    found = {"events": len(carried), **found, "unmatched": unmatched}
    if unmatched:
        lacking = (warning(index, fields) for index, fields in carried if not matchable(fields))
        found["warnings"] = list(islice(lacking, MOST))
    return found
