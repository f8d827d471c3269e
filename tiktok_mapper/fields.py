"""Where a route finds each TikTok field, and the one function that fills a TikTok event.

Words used here:

- *getter*: reads one input value from an event: a :class:`Path` such as ``context.page.url``, a
  :class:`Cookie` from the Cookie header a sender forwarded, a :class:`QueryParam` of a URL, a
  :class:`SameHostQueryParam` (a parameter of the referrer, when it is on the page's host), or
  :class:`FirstOf` several. Every getter has a ``label``, the JSON path named in errors and
  warnings, and ``shown``, how the README's mapping tables write it. JSON ``null`` and a missing
  key both read as absent.
- *row*: one line of a route's "where to find it" table: its getters (the first that finds a
  value wins), the TikTok field it fills (``user.email``), the *tags* of the events it is sent
  for (``web``, ``app``, or ``app:ios`` for an app event from an iOS device), and for
  ``properties.contents`` the rows of each element. How the value is then normalised, hashed
  or sent as a list is the field's rule in ``tiktok_mapper.events_api``, written once.
- *table*: a route's rows joined with TikTok's rules, made ready once per configuration
  (:class:`Table`); a *step* is one of its rows so joined. A *node* of a table is an object
  on the way to the values it reads (``context.device``): read once an event, then each
  *plain path* (a :class:`Path` that ends in a key) is one ``get`` from its node.
- *list field*: a field TikTok wants as an array of strings (``user.email``); the input may be
  one value or an array of values, each normalised on its own, repeats sent once; a user field
  reads at most :data:`MAX_USER_VALUES` of them.
- *assemble*: apply a table to one event, giving the TikTok event, warnings and errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol
from urllib.parse import unquote, unquote_plus, urlsplit

from tiktok_mapper.events_api import CONTENT_RULE, CONTENTS, LIST, Rule
from tiktok_mapper.normalize import (
    EVENT_SOURCES,
    MAX_AMOUNT,
    Context,
    Invalid,
    LeftOut,
    Normaliser,
    derived_event_id,
)

ALL = frozenset(EVENT_SOURCES)
WEB = frozenset({"web"})
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# TikTok matches a person on a few e-mails, phones or external ids; reading more only costs
# time (a phone takes 50 µs to check), so one event's user field is read up to this many values
# and the rest are left out with a warning.
MAX_USER_VALUES = 20
NOTHING: dict[str, Any] = {}  # an absent node: every key reads as absent; never written
CENT = Decimal("0.01")
MAX_ELEMENTS = 1000  # elements of the array read for properties.contents, as the schemas allow


def is_index(key: str) -> bool:
    """Whether a part of a dotted path indexes an array: ASCII digits only (``"²"`` is a digit
    to Python but no number), and short enough to be an index."""
    return key.isascii() and key.isdigit() and len(key) <= 9


def json_path(parts: Iterable[str | int]) -> str:
    """``["items", 0, "x-y"]`` → ``$.items[0]['x-y']``, as jsonschema writes paths."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif IDENTIFIER.fullmatch(part):
            path += "." + part
        else:
            path += "['" + part.replace("'", "\\'") + "']"
    return path


class Getter(Protocol):
    """What every getter has (see the module's words)."""

    label: str
    shown: str

    def __call__(self, event: Any) -> Any: ...

    def paths(self) -> tuple[str, ...]:
        """The dotted input paths it reads."""
        ...


class Path:
    """A dotted input path. Numeric parts index arrays (``items.0.id``)."""

    __slots__ = ("keys", "label", "shown")

    def __init__(self, dotted: str) -> None:
        self.keys = tuple(dotted.split("."))
        self.label = json_path(int(key) if is_index(key) else key for key in self.keys)
        self.shown = f"`{dotted}`"

    def paths(self) -> tuple[str, ...]:
        return (".".join(self.keys),)

    def __call__(self, event: Any) -> Any:
        node = event
        for key in self.keys:  # the hot loop of mapping: plain type checks, early exit
            if type(node) is dict:
                node = node.get(key)
                if node is None:
                    return None
            elif type(node) is list and is_index(key) and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node

    def __repr__(self) -> str:
        return f"Path({'.'.join(self.keys)!r})"


class Cookie:
    """One cookie from a forwarded Cookie header (``a=1; _ttp=xyz``)."""

    __slots__ = ("header", "label", "name", "shown")

    def __init__(self, header: str, name: str) -> None:
        self.header = Path(header)
        self.name = name
        self.label = self.header.label
        self.shown = f"cookie `{name}` of {self.header.shown}"

    def paths(self) -> tuple[str, ...]:
        return self.header.paths()

    def __call__(self, event: Any) -> str | None:
        header = self.header(event)
        if not isinstance(header, str):
            return None
        for pair in header.split(";"):
            name, _, value = pair.strip().partition("=")
            if name == self.name:
                return unquote(value.strip().strip('"')) or None
        return None


class QueryParam:
    """One query parameter of a URL found at ``url`` (e.g. ``ttclid`` of the page URL)."""

    __slots__ = ("label", "name", "shown", "url")

    def __init__(self, url: Getter, name: str) -> None:
        self.url = url
        self.name = name
        self.label = url.label
        self.shown = f"query `{name}` of {url.shown}"

    def paths(self) -> tuple[str, ...]:
        return self.url.paths()

    def __call__(self, event: Any) -> str | None:
        url = self.url(event)
        if not isinstance(url, str) or self.name not in url:
            return None
        return query_param(url, self.name)


def query_param(url: str, name: str) -> str | None:
    """The first value of query parameter ``name`` of ``url``, decoded as a form value.

    Written out rather than ``parse_qs(urlsplit(url).query)``, which reads every parameter
    and is ten times slower; the result is the same.
    """
    query = url.partition("#")[0].partition("?")[2]
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        # Only a key as long as the name, or as its percent-encoding, can decode to it: the
        # others are not decoded (a URL of thousands of "%" keys must not cost a decode each).
        if value and (
            key == name or (len(name) < len(key) <= 3 * len(name) and unquote_plus(key) == name)
        ):
            # like parse_qs, blank values are skipped; most values have nothing to decode
            return value if "%" not in value and "+" not in value else unquote_plus(value)
    return None


class SameHostQueryParam:
    """A query parameter of the URL at ``url`` when its host is the host of the URL at ``page``.

    TikTok's own sGTM tag reads ``ttclid`` from the referrer this way: a click id in the URL
    the visitor came from on the same site still belongs to this visit.
    """

    __slots__ = ("label", "name", "page", "shown", "url")

    def __init__(self, url: Getter, page: Getter, name: str) -> None:
        self.url = url
        self.page = page
        self.name = name
        self.shown = f"query `{name}` of {url.shown} on the page's host"
        self.label = url.label

    def paths(self) -> tuple[str, ...]:
        return (*self.url.paths(), *self.page.paths())

    def __call__(self, event: Any) -> str | None:
        url, page = self.url(event), self.page(event)
        if not (isinstance(url, str) and isinstance(page, str)) or self.name not in url:
            return None
        host = _host(url)
        if host is None or host != _host(page):
            return None
        return query_param(url, self.name)


def _host(url: str) -> str | None:
    try:
        return urlsplit(url.strip()).hostname or None
    except ValueError:
        return None


class FirstOf:
    """The first getter that finds a value; labelled by the first getter."""

    __slots__ = ("getters", "label", "shown")

    def __init__(self, *getters: Getter) -> None:
        self.getters = getters
        self.label = getters[0].label
        self.shown = " else ".join(getter.shown for getter in getters)

    def paths(self) -> tuple[str, ...]:
        return tuple(path for getter in self.getters for path in getter.paths())

    def __call__(self, event: Any) -> Any:
        for getter in self.getters:
            value = getter(event)
            if value is not None:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Row:
    """Where a route finds one TikTok field: its getters, first found wins (see the module's
    words)."""

    getters: tuple[Getter, ...]
    field: str  # the TikTok field (tiktok_mapper.events_api), or a content's field
    sent_for: frozenset[str] = ALL  # the tags of the events it is sent for
    each: tuple[Row, ...] = ()  # properties.contents: where each element's fields are found
    default: Any = None  # sent when no getter finds a value


def paths(*dotted: str) -> tuple[Getter, ...]:
    return tuple(Path(item) for item in dotted)


def readme_row(row: Row) -> str:
    """The README row of a field: TikTok field, getters in order, and the events it is sent for."""
    found = ", then ".join(getter.shown for getter in row.getters)
    sent_for = "all" if row.sent_for == ALL else ", ".join(sorted(row.sent_for))
    return f"| `{row.field}` | {found} | {sent_for} |"


def with_overrides(rows: Sequence[Row], overrides: Mapping[str, str]) -> tuple[Row, ...]:
    """``rows`` with ``overrides`` (TikTok field → input path) read before the usual getters."""
    return tuple(
        replace(row, getters=(Path(overrides[row.field]), *row.getters))
        if row.field in overrides
        else row
        for row in rows
    )


class Step:
    """One row joined with its TikTok rule, as :func:`assemble` applies it.

    Its first getter reads ``key`` from node ``node`` (see :class:`Table`); ``later`` is what is
    tried, in order, when that finds nothing: the other getters, then the default (``None``
    when there is neither). A first getter that is not a plain path reads node 0, which finds
    nothing, and is tried first of the later ones.
    """

    __slots__ = (
        "default", "each", "field", "key", "label", "later", "many", "most", "name", "node",
        "normalise", "outer", "sent_for", "special",
    )  # fmt: skip

    def __init__(self, row: Row, rule: Rule, reads: tuple[Read, ...]) -> None:
        if row.default is not None and row.sent_for != ALL:
            raise ValueError(f"{row.field}: a default is for a field sent for every event")
        if (rule.form == CONTENTS) != bool(row.each):
            raise ValueError(f"{row.field}: rows for each content go with properties.contents only")
        self.field = row.field
        self.node, self.key, call, self.label = reads[0]
        later = reads if call is not None else reads[1:]
        self.later = later if later or row.default is not None else None
        self.default = row.default
        self.sent_for = None if row.sent_for == ALL else row.sent_for
        # properties.contents has no normaliser: its elements are filled by their own table
        self.normalise: Normaliser = rule.normalise or _by_elements
        self.many = rule.form == LIST
        # TikTok matches a person on a few values; a user field reads at most this many
        self.most = MAX_USER_VALUES if self.many and row.field.startswith("user.") else None
        self.each = Table(row.each, CONTENT_RULE) if rule.form == CONTENTS else None
        # what a step sent for every event as one value need not look at (see _fill)
        self.special = self.sent_for is not None or self.many or self.each is not None
        outer, _, name = row.field.rpartition(".")
        self.outer = outer or None  # where it is put: TikTok fields are at most two deep
        self.name = name


# How a step reads one getter: (node, key, None) of a plain path; else (0, "", the getter to
# call); and the getter's label.
Read = tuple[int, str, Getter | None, str]


class Table:
    """A route's rows made ready to apply, once per configuration.

    The *nodes* of a table are the objects on the way to the values it reads
    (``context.device``): each is fetched once an event, from its parent, and a step then
    reads its value from its node with one ``get``. A getter that is not a plain path (a
    cookie, a query parameter) is called. Steps come in the order of TikTok's table, whatever
    the route's order: a TikTok event's fields, and an event's warnings, always come in one
    order.
    """

    __slots__ = ("nodes", "plan")

    def __init__(self, rows: Sequence[Row], rules: Mapping[str, Rule]) -> None:
        for row in rows:
            if row.field not in rules:
                raise ValueError(f"{row.field} is not a field of TikTok's event or of a content")
        position = {name: index for index, name in enumerate(rules)}
        # node 0 is no node (read as NOTHING), node 1 the event; every other is (its parent
        # node, key, array index or None), after its parent
        node_of: dict[tuple[str, ...], int] = {(): 1}
        nodes: list[tuple[int, str, int | None]] = []

        def node(keys: tuple[str, ...]) -> int:
            if keys not in node_of:
                parent = node(keys[:-1])
                nodes.append((parent, keys[-1], int(keys[-1]) if is_index(keys[-1]) else None))
                node_of[keys] = len(nodes) + 1
            return node_of[keys]

        def read(getter: Getter) -> Read:
            if isinstance(getter, Path) and not is_index(getter.keys[-1]):
                return (node(getter.keys[:-1]), getter.keys[-1], None, getter.label)
            return (0, "", getter, getter.label)

        steps = [
            Step(row, rules[row.field], tuple(read(getter) for getter in _spread(row.getters)))
            for row in sorted(rows, key=lambda row: position[row.field])
        ]
        self.nodes = tuple(nodes)
        # What _fill walks: each step with what it reads first, unpacked by the loop itself
        # (faster than reading the step's attributes, for every step of every event).
        self.plan = tuple((step, step.node, step.key, step.label, step.later) for step in steps)

    def nodes_of(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Each node of ``event`` by node number: the object it holds, or :data:`NOTHING`
        (absent, or not an object), so that reading a value from a node is one ``get``."""
        objects: list[dict[str, Any]] = [NOTHING, event]
        arrays: dict[int, list[Any]] = {}  # the nodes that hold an array, for their elements
        for parent, key, index in self.nodes:
            if index is None:
                node = objects[parent].get(key)
            else:  # an element of an array, or the key "0" of an object
                array = arrays.get(parent)
                if array is None:
                    node = objects[parent].get(key)
                else:
                    node = array[index] if index < len(array) else None
            if type(node) is dict:
                objects.append(node)
            else:
                if type(node) is list:
                    arrays[len(objects)] = node
                objects.append(NOTHING)
        return objects


def _by_elements(value: Any, context: Context) -> Any:
    """The normaliser of properties.contents, never called: its elements are filled by the
    table of each element (see _fill)."""
    raise TypeError("properties.contents is filled element by element")


def _spread(getters: Sequence[Getter]) -> list[Getter]:
    """The getters in the order they are tried, a :class:`FirstOf` opened up."""
    found: list[Getter] = []
    for getter in getters:
        found.extend(_spread(getter.getters) if isinstance(getter, FirstOf) else (getter,))
    return found


@dataclass(slots=True)
class Assembled:
    data: dict[str, Any]
    warnings: list[str]
    errors: list[dict[str, str]]


def assemble(table: Table, event: Any, tags: frozenset[str], context: Context) -> Assembled:
    """Fill the TikTok fields of ``table`` (those sent for one of the event's tags) from ``event``.

    For each step: the first getter that finds a value wins; no value sends the default (if
    any); properties.contents assembles each element with its own table; otherwise the
    normaliser's result is put at the field (in a one-element array for a list field), or a
    warning or error is recorded, naming the getter's label.
    """
    result = Assembled({}, [], [])
    _fill(table, event if type(event) is dict else {}, tags, context, result.data, result)
    return result


def _fill(
    table: Table,
    event: dict[str, Any],
    tags: frozenset[str],
    context: Context,
    data: dict[str, Any],
    result: Assembled,
) -> None:
    """:func:`assemble` into ``data``; warnings and errors go to ``result``."""
    nodes = table.nodes_of(event)
    for step, node, key, label, later in table.plan:
        value = nodes[node].get(key)  # the first getter
        if value is None:
            if later is None:
                continue
            for node, key, call, label in later:  # noqa: B007 - label: of the getter found
                value = nodes[node].get(key) if call is None else call(event)
                if value is not None:
                    break
            else:
                if step.default is not None:
                    _put(data, step, step.default)
                continue
        if step.special:
            if step.sent_for is not None and step.sent_for.isdisjoint(tags):
                continue
            if step.each is not None:
                _assemble_contents(step, step.each, value, label, tags, context, data, result)
                continue
            if step.many and type(value) is list:
                _assemble_list_field(step, value, label, context, data, result)
                continue
        # _normalised, written out: a call less for almost every value mapped
        try:
            normalised = step.normalise(value, context)
        except LeftOut as why:
            result.warnings.append(f"{step.field} left out: {label} {why}")
            continue
        except Invalid as why:
            result.errors.append({"path": label, "message": str(why)})
            continue
        if normalised is None:
            continue
        if step.many:  # one value given for a list field
            normalised = [normalised]
        if step.outer is None:
            data[step.name] = normalised
        else:
            inner = data.get(step.outer)
            if inner is None:
                inner = data[step.outer] = {}
            inner[step.name] = normalised


def _normalised(
    step: Step, field: str, value: Any, label: str, context: Context, result: Assembled
) -> Any:
    """The normalised value, or ``None`` with the warning or error recorded in ``result``."""
    try:
        return step.normalise(value, context)
    except LeftOut as why:
        result.warnings.append(f"{field} left out: {label} {why}")
    except Invalid as why:
        result.errors.append({"path": label, "message": str(why)})
    return None


def _assemble_contents(
    step: Step,
    table: Table,
    elements: Any,
    label: str,
    tags: frozenset[str],
    context: Context,
    data: dict[str, Any],
    result: Assembled,
) -> None:
    if not isinstance(elements, list):  # the schemas say array; a smart mapping may not
        result.errors.append({"path": label, "message": "must be an array"})
        return
    if len(elements) > MAX_ELEMENTS:  # the schemas' limit, for a list a smart mapping points at
        result.errors.append(
            {"path": label, "message": f"must have at most {MAX_ELEMENTS} elements"}
        )
        return
    warnings, errors = result.warnings, result.errors
    built = []
    for index, element in enumerate(elements):
        warned, erred = len(warnings), len(errors)
        one: dict[str, Any] = {}
        _fill(table, element if type(element) is dict else {}, tags, context, one, result)
        if len(warnings) != warned or len(errors) != erred:  # notes name the element
            where = f"{label}[{index}]"
            warnings[warned:] = [
                f"{step.field}[{index}].{warning.replace(': $', ': ' + where, 1)}"
                for warning in warnings[warned:]
            ]
            errors[erred:] = [
                {"path": where + error["path"][1:], "message": error["message"]}
                for error in errors[erred:]
            ]
        if one:
            built.append(one)
    if built:
        _put(data, step, built)


def _assemble_list_field(
    step: Step,
    values: list[Any],
    label: str,
    context: Context,
    data: dict[str, Any],
    result: Assembled,
) -> None:
    """A list field given an array: each value normalised on its own, repeats sent once."""
    if step.most is not None and len(values) > step.most:
        result.warnings.append(
            f"{step.field} left out after {step.most} values: {label} holds {len(values)}"
        )
        values = values[: step.most]
    built: dict[Any, None] = {}  # an ordered set: repeats are sent once
    for index, each in enumerate(values):
        if each is None:
            continue
        where = f"{label}[{index}]"
        out = _normalised(step, f"{step.field}[{index}]", each, where, context, result)
        if out is not None:
            built[out] = None
    if built:
        _put(data, step, list(built))


def _put(data: dict[str, Any], step: Step, value: Any) -> None:
    if step.outer is None:
        data[step.name] = value
        return
    inner = data.get(step.outer)
    if inner is None:
        inner = data[step.outer] = {}
    inner[step.name] = value


def missing(data: dict[str, Any], target: str) -> bool:
    """Whether the TikTok event ``data`` lacks the dotted field ``target``."""
    node: Any = data
    for part in target.split("."):
        if not isinstance(node, dict) or part not in node:
            return True
        node = node[part]
    return False


def finish(
    name: str, data: dict[str, Any], event: Any, context: Context, warnings: list[str]
) -> dict[str, Any]:
    """The TikTok event named ``name``: time and id filled in when the input had none.

    ``event_time`` is then the time of the request; ``event_id`` is derived from the input
    event, so that the same event sent again gets the same id.
    """
    finished = {"event": name, **data}
    finished.setdefault("event_time", int(context.now))
    if "event_id" not in finished:  # not setdefault: hashing the whole event is not free
        finished["event_id"] = derived_event_id(event)
    finish_properties(finished, warnings)
    return finished


def finish_properties(data: dict[str, Any], warnings: list[str]) -> None:
    """``content_ids`` from the contents; ``value`` goes when its currency was left out."""
    properties = data.get("properties")
    if not properties:
        return
    ids = [c["content_id"] for c in properties.get("contents", ()) if "content_id" in c]
    if ids and "content_ids" not in properties:
        properties["content_ids"] = list(dict.fromkeys(ids))
    if "value" in properties and any(w.startswith("properties.currency ") for w in warnings):
        del properties["value"]
        warnings.append("properties.value left out: its currency was left out")


def sum_value(data: dict[str, Any], warnings: list[str]) -> None:
    """No value given, but priced contents: the sum of price * quantity (1 when not given),
    to 2 decimals, half a cent up; left out, with a warning, when it is beyond what TikTok
    takes."""
    properties = data.get("properties")
    if not properties or "value" in properties:
        return
    priced = [c for c in properties.get("contents", ()) if "price" in c]
    if not priced:
        return
    total = sum(c["price"] * c.get("quantity", 1) for c in priced)
    if abs(total) > MAX_AMOUNT:
        warnings.append("properties.value left out: the sum of the contents is beyond 10^15")
        return
    if type(total) is float:
        # Rounded as the decimal the sum is written as: 2.675 is 2.67499… in binary, which
        # round() would make 2.67; a sender who wrote 2.675 expects 2.68.
        total = float(Decimal(repr(total)).quantize(CENT, ROUND_HALF_UP))
    properties["value"] = total
