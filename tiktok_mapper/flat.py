"""Flattened keys: nested input sent as single top-level keys, rebuilt before validation.

Words used here:

- *flattened key*: a top-level key that joins the path of a nested value, as a sender's
  "flatten" option writes it: ``items_0_item_id`` (Stape's JSON HTTP tag), ``items.0.id``
  (Commanders Act's webhook with dot notation), ``user_email`` or ``items_0_product_price``
  (Commanders Act without dot notation). Array indices appear as numbers.
- *root*: the start of a flattened key that says it may be one (``items_``, ``user.``); only
  events with a key that starts with a root are looked at, so other events cost one scan of
  their top-level keys.
- *readable*: a flattened key whose path is known without guessing: a dotted key (the dots are
  the path), or an underscore key whose path is one the route reads (for ``user_email`` the
  route reads ``user.email``; ``user_first_name`` could be ``user.first.name`` or
  ``user.first_name`` and is read only if the route reads one of them).
- *unflatten*: build the event with readable keys put at their path (a value already nested at
  that path wins), with one warning that the flattened shape was read, and one warning naming
  the pattern of each root whose keys could not be read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import methodcaller
from typing import Any

from tiktok_mapper.fields import Row, is_index

Parts = tuple[str | int, ...]
MAX_PLAIN = 10_000  # top-level keys remembered as not flattened
INDEX = re.compile(r"([0-9]{1,4})(?:_(.+))?")  # an array index, then the element's own key


@dataclass(frozen=True)
class Flattened:
    """What one route reads in flattened form.

    ``arrays``: underscore prefix → path of an array, and the underscore spellings of its
    elements' nested keys (→ parts; another key of an element is its own key), or ``None`` for
    an array of scalars. ``objects``: underscore spelling of a nested path → its parts.
    ``dotted``: dotted keys are read. ``as_is``: keys read as they are (a route's own flat
    spellings).
    """

    roots: tuple[str, ...]
    arrays: dict[str, tuple[Parts, dict[str, Parts] | None]]
    objects: dict[str, Parts]
    dotted: bool
    as_is: frozenset[str]
    # Whether a key starts with a root
    _looks: Callable[[str], bool] = field(init=False, repr=False, compare=False)
    # Keys seen that are not flattened: most events have only such keys, and a set answers
    # for all of them at once, in C (bounded: a sender's keys may be anything).
    _plain: set[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_looks", methodcaller("startswith", self.roots))
        object.__setattr__(self, "_plain", set(self.as_is))

    def unflatten(self, event: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """``event`` with its readable flattened keys nested, and the warnings (none, and the
        same object, when it has no flattened key)."""
        plain = self._plain
        if plain.issuperset(event):
            return event, []
        looks = self._looks
        if not any(map(looks, event)):
            if len(plain) < MAX_PLAIN:
                plain.update(event)
            return event, []
        nested: dict[str, Any] = {}
        rebuilt: dict[str, Any] = {}
        unread: dict[str, None] = {}
        for key, value in event.items():
            if key in self.as_is or not looks(key):
                nested[key] = value
                continue
            parts = self.parts(key)
            if parts is None:
                unread[self.pattern(key)] = None
                nested[key] = value
            else:
                _put(rebuilt, parts, value)
        warnings = []
        if rebuilt:
            for key, value in _as_arrays(rebuilt).items():
                nested[key] = _merged(nested.get(key), value)
            warnings.append("$: flattened keys read as nested objects and arrays")
        warnings.extend(
            f"{pattern} left out: a flattened shape this function does not read"
            for pattern in unread
        )
        return nested, warnings

    def parts(self, key: str) -> Parts | None:
        if self.dotted and "." in key:
            return tuple(int(p) if is_index(p) else p for p in key.split("."))
        if key in self.objects:
            return self.objects[key]
        for prefix, (path, elements) in self.arrays.items():
            if not key.startswith(prefix + "_"):
                continue
            found = INDEX.fullmatch(key, len(prefix) + 1)
            if found is None:
                continue
            index, rest = int(found.group(1)), found.group(2)
            if elements is None:
                return (*path, index) if rest is None else None
            if rest is not None:
                return (*path, index, *elements.get(rest, (rest,)))
        return None

    def pattern(self, key: str) -> str:
        """How the warning names a key that was not read: its root only (the rest of a key
        may be anything a sender wrote, personal data included)."""
        root = next(root for root in self.roots if key.startswith(root))
        return f"$.{root}*"


def _put(tree: dict[Any, Any], parts: Parts, value: Any) -> None:
    """Put ``value`` at ``parts``; array indices are dict keys until :func:`_as_arrays`."""
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node.setdefault(parts[-1], value)


def _as_arrays(tree: Any) -> Any:
    """Dicts keyed by indices become arrays, elements in index order (gaps closed)."""
    if not isinstance(tree, dict):
        return tree
    if tree and all(isinstance(key, int) for key in tree):
        return [_as_arrays(tree[index]) for index in sorted(tree)]
    return {key: _as_arrays(value) for key, value in tree.items() if not isinstance(key, int)}


def _merged(given: Any, rebuilt: Any) -> Any:
    """A value already nested wins; objects are merged key by key."""
    if given is None:
        return rebuilt
    if isinstance(given, dict) and isinstance(rebuilt, dict):
        return {**rebuilt, **{k: _merged(v, rebuilt.get(k)) for k, v in given.items()}}
    return given


def underscore(paths: Iterable[str]) -> dict[str, Parts]:
    """Each nested dotted path (two parts or more) by its underscore spelling."""
    return {p.replace(".", "_"): tuple(p.split(".")) for p in paths if "." in p}


def paths_read(rows: Iterable[Row]) -> list[str]:
    """The dotted input paths a table's rows read (the rows of each element of a list field
    are the caller's to add, under its own prefix)."""
    return [path for row in rows for getter in row.getters for path in getter.paths()]
