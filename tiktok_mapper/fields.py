"""Field tables and the one function that applies them.

Words used here:

- *getter*: reads one input value from an event: a :class:`Path` such as ``context.page.url``, a
  :class:`Cookie` from the Cookie header a sender forwarded, a :class:`QueryParam` of a URL, or a
  :class:`SameHostQueryParam` (a parameter of the referrer, when it is on the page's host).
  Every getter has a ``label``, the JSON path named in errors and warnings, and a ``text``, how
  the README's mapping tables name it. JSON ``null`` and a missing key both read as absent.
- *field*: one row of a source's table: the TikTok field it fills (``user.email``), its getters
  (the first that finds a value wins), its normaliser, and the *tags* of the events it is sent
  for (``web``, ``app``, or ``app:ios`` for an app event from an iOS device).
- *list field*: a field whose getter finds an array; each element is filled by its own table
  (items become ``properties.contents``).
- *many*: a field TikTok wants as an array of strings (``user.email``); the input may be one
  value or an array of values, each normalised on its own, repeats sent once; a user field
  reads at most :data:`MAX_USER_VALUES` of them.
- *assemble*: apply a table to one event, giving the TikTok event, warnings and errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

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
MAX_ELEMENTS = 1000  # elements of a list field (items), as the input schemas allow


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


class Path:
    """A dotted input path. Numeric parts index arrays (``items.0.id``)."""

    __slots__ = ("keys", "label", "text")

    def __init__(self, dotted: str) -> None:
        self.keys = tuple(dotted.split("."))
        self.label = json_path(int(key) if is_index(key) else key for key in self.keys)
        self.text = f"`{dotted}`"

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

    __slots__ = ("header", "label", "name", "text")

    def __init__(self, header: str, name: str) -> None:
        self.header = Path(header)
        self.name = name
        self.label = self.header.label
        self.text = f"cookie `{name}` of {self.header.text}"

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

    __slots__ = ("label", "name", "text", "url")

    def __init__(self, url: Callable[[Any], Any], name: str) -> None:
        self.url = url
        self.name = name
        self.label: str = getattr(url, "label", "$")
        self.text = f"query `{name}` of {getattr(url, 'text', 'the URL')}"

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
        if value and len(name) <= len(key) <= 3 * len(name) and unquote_plus(key) == name:
            return unquote_plus(value)  # like parse_qs, blank values are skipped
    return None


class SameHostQueryParam:
    """A query parameter of the URL at ``url`` when its host is the host of the URL at ``page``.

    TikTok's own sGTM tag reads ``ttclid`` from the referrer this way: a click id in the URL
    the visitor came from on the same site still belongs to this visit.
    """

    __slots__ = ("label", "name", "page", "text", "url")

    def __init__(self, url: Callable[[Any], Any], page: Callable[[Any], Any], name: str) -> None:
        self.url = url
        self.page = page
        self.name = name
        self.text = f"query `{name}` of {getattr(url, 'text', 'the URL')} on the page's host"
        self.label: str = getattr(url, "label", "$")

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

    __slots__ = ("getters", "label", "text")

    def __init__(self, *getters: Callable[[Any], Any]) -> None:
        self.getters = getters
        self.label: str = getattr(getters[0], "label", "$")
        self.text = " else ".join(getattr(getter, "text", "?") for getter in getters)

    def __call__(self, event: Any) -> Any:
        for getter in self.getters:
            value = getter(event)
            if value is not None:
                return value
        return None


Getter = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Field:
    target: str
    getters: tuple[Getter, ...]
    normalise: Normaliser | None  # None for a list field, whose elements have their own table
    tags: frozenset[str] = ALL
    many: bool = False  # TikTok wants an array of strings (email, phone, external_id)
    each: tuple[Field, ...] = ()  # a list field: the table for each element
    default: Any = None  # sent when no getter finds a value
    parts: tuple[str, ...] = field(init=False, default=())
    everywhere: bool = field(init=False, default=True)
    most: int | None = field(init=False, default=None)  # of a *many* field's values read

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.target.split(".")))
        object.__setattr__(self, "everywhere", self.tags == ALL)
        if self.many and self.target.startswith("user."):
            object.__setattr__(self, "most", MAX_USER_VALUES)


def describe(spec: Field) -> str:
    """The README row of a field: TikTok field, sources in order, and the events it is sent for."""
    sources = ", then ".join(getattr(getter, "text", "?") for getter in spec.getters)
    sent_for = "all" if spec.tags == ALL else ", ".join(sorted(spec.tags))
    return f"| `{spec.target}` | {sources} | {sent_for} |"


def paths(*dotted: str) -> tuple[Getter, ...]:
    return tuple(Path(item) for item in dotted)


def with_overrides(fields: Sequence[Field], overrides: Mapping[str, str]) -> tuple[Field, ...]:
    """The table with ``overrides`` (TikTok field → input path) read before the usual getters."""
    return tuple(
        Field(
            f.target,
            (Path(overrides[f.target]), *f.getters),
            f.normalise,
            f.tags,
            f.many,
            f.each,
            f.default,
        )
        if f.target in overrides
        else f
        for f in fields
    )


@dataclass(slots=True)
class Assembled:
    data: dict[str, Any]
    warnings: list[str]
    errors: list[dict[str, str]]


def assemble(
    fields: Sequence[Field], event: Any, tags: frozenset[str], context: Context
) -> Assembled:
    """Fill the TikTok fields of ``fields`` (those whose tags the event has) from ``event``.

    For each field: the first getter that finds a value wins; no value sends the default (if
    any); a list field assembles each element with its own table; otherwise the normaliser's
    result is put at the field's target (in a one-element array for a *many* field), or a
    warning or error is recorded, naming the getter's label.
    """
    result = Assembled({}, [], [])
    _compiled(fields)(event if type(event) is dict else {}, tags, context, result)
    return result


_COMPILED: dict[int, tuple[Sequence[Field], Callable[..., None]]] = {}


def _compiled(fields: Sequence[Field]) -> Callable[..., None]:
    """``fields`` written out as one straight-line function, made once per table.

    Mapping reads about fifty paths an event, most of them sharing prefixes
    (``context.device.…``). The function reads each shared prefix once and then each field
    with no loop and no generic call, which makes mapping about twice as fast as walking the
    table. It does exactly what the docstring of :func:`assemble` says; ``source_of(fields)``
    shows it.
    """
    found = _COMPILED.get(id(fields))
    if found is None:
        scope: dict[str, Any] = {
            "Invalid": Invalid,
            "LeftOut": LeftOut,
            "_put": _put,
            "_assemble_list": _assemble_list,
            "_assemble_many": _assemble_many,
        }
        exec(source_of(fields, scope), scope)  # noqa: S102 - source built from our own tables
        function: Callable[..., None] = scope["assemble_table"]
        found = _COMPILED[id(fields)] = (fields, function)
    return found[1]


def source_of(fields: Sequence[Field], scope: dict[str, Any] | None = None) -> str:
    """The Python source of the function that assembles ``fields`` (see :func:`_compiled`).

    Objects the source refers to (getters, normalisers, tables) are put into ``scope``.
    """
    scope = {} if scope is None else scope
    prefixes: dict[tuple[str, ...], str] = {(): "event"}
    head: list[str] = []

    def node(keys: tuple[str, ...]) -> str:
        """The variable holding the value at ``keys``, read once for the whole function."""
        if keys not in prefixes:
            name = prefixes[keys] = f"p{len(prefixes)}"
            head.append(f"    {name} = {get(node(keys[:-1]), keys[-1])}")
        return prefixes[keys]

    def get(parent: str, key: str) -> str:
        if parent == "event":  # an event is always an object
            return f"event.get({key!r})"
        return f"({parent}.get({key!r}) if type({parent}) is dict else None)"

    def read(getter: Getter, name: str) -> str:
        keys = getattr(getter, "keys", None)
        if type(getter) is Path and keys and not any(is_index(key) for key in keys):
            return get(node(keys[:-1]), keys[-1])
        scope[name] = getter
        return f"{name}(event)"

    body: list[str] = []
    for i, spec in enumerate(fields):
        scope[f"S{i}"], scope[f"N{i}"], scope[f"T{i}"] = spec, spec.normalise, spec.tags
        lines = [f"# {spec.target}"]
        for j, getter in enumerate(spec.getters):
            label = getattr(getter, "label", "$")
            if j:
                lines.append("if v is None:")
            lines.append(f"{'    ' if j else ''}v = {read(getter, f'G{i}_{j}')}; l = {label!r}")
        if spec.default is not None:
            scope[f"D{i}"] = spec.default
            lines.append(f"if v is None:\n    _put(data, S{i}.parts, D{i})")
        if spec.each:
            lines.append(
                f"if v is not None:\n    _assemble_list(S{i}, v, l, tags, context, result)"
            )
        else:
            lines.append("if v is None:\n    pass")
            if spec.many:
                lines.append(
                    f"elif isinstance(v, list):\n    _assemble_many(S{i}, v, l, context, result)"
                )
            put = _put_source(spec, "[o]" if spec.many else "o", f"S{i}")
            lines += [
                "else:",
                "    try:",
                f"        o = N{i}(v, context)",
                "    except LeftOut as why:",
                f"        result.warnings.append({spec.target + ' left out: '!r} + l + ' ' + str(why))",
                "    except Invalid as why:",
                "        result.errors.append({'path': l, 'message': str(why)})",
                "    else:",
                "        if o is not None:",
                *("            " + line for line in put),
            ]
        indent = "    " if spec.everywhere else "        "
        if not spec.everywhere:
            body.append(f"    if T{i} & tags:")
        body += [indent + line for line in "\n".join(lines).splitlines()]
    return "\n".join(
        [
            "def assemble_table(event, tags, context, result):",
            "    data = result.data",
            *head,
            *body,
            "",
        ]
    )


def _put_source(spec: Field, value: str, name: str) -> list[str]:
    parts = spec.parts
    if len(parts) == 1:
        return [f"data[{parts[0]!r}] = {value}"]
    if len(parts) == 2:
        return [
            f"d = data.get({parts[0]!r})",
            f"if d is None: d = data[{parts[0]!r}] = {{}}",
            f"d[{parts[1]!r}] = {value}",
        ]
    return [f"_put(data, {name}.parts, {value})"]


def _normalised(
    spec: Field, target: str, value: Any, label: str, context: Context, result: Assembled
) -> Any:
    """The normalised value, or ``None`` with the warning or error recorded in ``result``."""
    try:
        return spec.normalise(value, context)  # type: ignore[misc]
    except LeftOut as why:
        result.warnings.append(f"{target} left out: {label} {why}")
    except Invalid as why:
        result.errors.append({"path": label, "message": str(why)})
    return None


def _assemble_list(
    spec: Field,
    elements: list[Any],
    label: str,
    tags: frozenset[str],
    context: Context,
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
    built = []
    for index, element in enumerate(elements):
        one = assemble(spec.each, element, tags, context)
        if one.warnings or one.errors:
            where = f"{label}[{index}]"
            result.warnings.extend(
                f"{spec.target}[{index}].{warning.replace(': $', ': ' + where, 1)}"
                for warning in one.warnings
            )
            result.errors.extend(
                {"path": where + error["path"][1:], "message": error["message"]}
                for error in one.errors
            )
        if one.data:
            built.append(one.data)
    if built:
        _put(result.data, spec.parts, built)


def _assemble_many(
    spec: Field, values: list[Any], label: str, context: Context, result: Assembled
) -> None:
    if spec.most is not None and len(values) > spec.most:
        result.warnings.append(
            f"{spec.target} left out after {spec.most} values: {label} holds {len(values)}"
        )
        values = values[: spec.most]
    built: dict[Any, None] = {}  # an ordered set: repeats are sent once
    for index, value in enumerate(values):
        if value is None:
            continue
        where = f"{label}[{index}]"
        out = _normalised(spec, f"{spec.target}[{index}]", value, where, context, result)
        if out is not None:
            built[out] = None
    if built:
        _put(result.data, spec.parts, list(built))


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
    to 2 decimals; left out, with a warning, when it is beyond what TikTok takes."""
    properties = data.get("properties")
    if not properties or "value" in properties:
        return
    priced = [c for c in properties.get("contents", ()) if "price" in c]
    if priced:
        total = round(sum(c["price"] * c.get("quantity", 1) for c in priced), 2)
        if abs(total) <= MAX_AMOUNT:
            properties["value"] = total
        else:
            warnings.append("properties.value left out: the sum of the contents is beyond 10^15")


def _put(data: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    if len(parts) == 2:  # most TikTok fields: user.email, properties.value …
        inner = data.get(parts[0])
        if inner is None:
            inner = data[parts[0]] = {}
        inner[parts[1]] = value
        return
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value
