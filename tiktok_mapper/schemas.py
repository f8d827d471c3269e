"""The JSON Schemas in ``schemas/`` and the errors they report.

Words used here:

- *schema*: a Draft 2020-12 JSON Schema file; the single source of truth for what an input
  event (or the TikTok request body) may look like.
- *check*: the schema, or one of its nodes, compiled by jsonschema-rs (Rust, Draft 2020-12),
  which answers valid/invalid in a few microseconds and lists the errors of an instance.
- *sample*: the instance with every array cut to its first ``MAX_ERRORS + 1`` elements. Its
  errors are errors of the instance, and there are few of them, however long the arrays.
- *explain*: list the errors of an invalid instance: those of its sample, then, for each array
  that was cut, too many elements and the elements past the sample that fail the check of the
  array's ``items`` (each explained the same way), until ``MAX_ERRORS`` are found. An event
  with a million bad values costs what one with twenty does, and a rejected event about what
  an accepted one does.
- *unknown key*: a key of an object in the instance that the schema's ``properties`` for that
  object do not name (the lenient input schemas allow them; a route may warn about them).
- *error*: ``{"path": "$.items[0].quantity", "message": "must be a whole number"}``. The message
  is built from the rule in the schema (keyword and its value), never from the submitted value,
  which the validator's own messages quote.

``format`` is not asserted, and the schemas do not use it. The schemas use no ``anyOf`` over
types (a type list with the keywords of each type instead), so that every error points at the
value that breaks a rule.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from tiktok_mapper.fields import is_index, json_path

Where = list[str | int]  # a path in an instance: keys and indices
PATH_PARTS = re.compile(r"[^.\[\]']+")
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
MAX_ERRORS = 20
# The rules a schema node's "description" says in words (``"a number or a numeric string"``):
# for these, "must be <description>" is clearer than the rule itself. A length limit is not
# among them: "must be at most 100 characters long" says more.
DESCRIBED_KEYWORDS = frozenset({"type", "pattern", "enum", "minimum", "anyOf", "oneOf"})
TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "object": "an object",
    "array": "an array",
    "boolean": "true or false",
}


class Schema:
    """One schema file; its root and the nodes the explanation needs, each compiled once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.document = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        self._fast = jsonschema_rs.validator_for(self.document)
        self._checks: dict[int, tuple[dict[str, Any], Any]] = {}  # by id of a resolved node
        self._merged: dict[int, dict[str, Any]] = {}  # by id of a node of the document

    def errors(self, instance: Any) -> list[dict[str, str]]:
        """Rules ``instance`` breaks (at most :data:`MAX_ERRORS`), in document order; ``[]``
        when valid (see *explain*)."""
        if self._fast.is_valid(instance):
            return []
        found: dict[tuple[str, str], None] = {}
        self._explain(self.document, self.document, self._fast, instance, [], found)
        if not found:  # cannot happen for our schemas; said plainly rather than not at all
            found[("$", "does not match " + self.name)] = None
        ordered = sorted(found, key=_path_order)[:MAX_ERRORS]
        return [{"path": path, "message": message} for path, message in ordered]

    def _explain(
        self,
        node: dict[str, Any],
        document: dict[str, Any],
        check: Any,
        instance: Any,
        where: Where,
        found: dict[tuple[str, str], None],
    ) -> None:
        """Add to ``found`` the errors of ``instance`` (at ``where``) against ``node``, whose
        compiled ``check`` was made from ``document`` (the node with the schema's ``$defs``)."""
        cut: list[tuple[Where, int]] = []
        sample = _sample(instance, MAX_ERRORS + 1, [], cut)
        if not check.is_valid(sample):
            for error in check.iter_errors(sample):
                for path, message in _described(error, document, where):
                    found[(path, message)] = None
        arrays = [(inner, length, self._node_at(node, inner)) for inner, length in cut]
        for inner, length, array_node in arrays:  # what the sample does not show: too long …
            most = array_node.get("maxItems") if array_node else None
            if isinstance(most, int) and length > most:
                found[(json_path([*where, *inner]), rule_in_words("maxItems", {}, most))] = None
        for inner, length, array_node in arrays:  # … and bad elements past the sample
            if len(found) >= MAX_ERRORS:
                return
            if array_node is None:
                continue
            items = self._resolved(array_node.get("items"))
            if not isinstance(items, dict):
                continue
            items_document, items_check = self._check(items)
            array = _at(instance, inner)
            for index in range(MAX_ERRORS + 1, min(length, len(array))):
                if not items_check.is_valid(array[index]):
                    at = [*where, *inner, index]
                    self._explain(items, items_document, items_check, array[index], at, found)
                    if len(found) >= MAX_ERRORS:
                        return

    def _check(self, node: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """The compiled check of a node of this schema (made once: nodes come from
        :meth:`_resolved`, which gives the same object for the same node every time)."""
        made = self._checks.get(id(node))
        if made is None:
            document = {**node, "$defs": self.document.get("$defs", {})}
            made = self._checks[id(node)] = (document, jsonschema_rs.validator_for(document))
        return made

    def _node_at(self, node: Any, where: Where) -> dict[str, Any] | None:
        """The schema node under ``node`` that governs the instance path ``where`` (through
        ``properties``, ``items`` and local ``$ref``s); ``None`` where no node does."""
        node = self._resolved(node)
        for part in where:
            if not isinstance(node, dict):
                return None
            node = (
                node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
            )
            node = self._resolved(node)
        return node if isinstance(node, dict) else None

    def _resolved(self, node: Any) -> Any:
        """``node`` with its local ``$ref`` followed (its own keys win over the target's); the
        same object each time for the same node of the document."""
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        merged = self._merged.get(id(node))
        if merged is None:
            target = self._resolved(self.document["$defs"][node["$ref"].rpartition("/")[2]])
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            self._merged[id(node)] = merged
        return merged

    def unknown(self, instance: Any, most: int) -> tuple[list[str], int]:
        """The JSON paths of the first ``most`` unknown keys of ``instance``, in document order,
        and how many there are in all (only the paths named are built: an event of 5,000
        unknown keys costs little more than one of ``most``)."""
        found: list[str] = []
        total = self._walk(self.document, instance, [], found, most)
        return found, total

    def _walk(
        self, node: Any, instance: Any, where: list[str | int], found: list[str], most: int
    ) -> int:
        while isinstance(node, dict) and "$ref" in node:  # only local refs: "#/$defs/name"
            node = self.document["$defs"][node["$ref"].rpartition("/")[2]]
        if not isinstance(node, dict):
            return 0
        total = 0
        if isinstance(instance, dict) and "properties" in node:
            known = node["properties"]
            for key, value in instance.items():
                if key in known:
                    total += self._walk(known[key], value, [*where, key], found, most)
                else:
                    total += 1
                    if len(found) < most:
                        found.append(json_path([*where, key]))
        elif isinstance(instance, list) and isinstance(node.get("items"), dict):
            for index, value in enumerate(instance):
                total += self._walk(node["items"], value, [*where, index], found, most)
        return total


def _path_order(error: tuple[str, str]) -> tuple[list[tuple[int, str]], str]:
    """Errors in document order: ``$.items[2]`` before ``$.items[10]`` (indices compare as
    numbers, padded, so that an index and a key at the same place still compare)."""
    path, message = error
    parts = PATH_PARTS.findall(path)
    return [(0, part.zfill(12)) if is_index(part) else (1, part) for part in parts], message


@cache
def schema(name: str) -> Schema:
    return Schema(name)


def rule_in_words(keyword: str, where: Any, rule: Any) -> str:
    """The rule ``keyword`` (with its value ``rule``) of the schema node ``where``, in words."""
    described = where.get("description") if isinstance(where, dict) else None
    if described and keyword in DESCRIBED_KEYWORDS:
        message = "must be " + described
    elif keyword == "type":
        kinds = [rule] if isinstance(rule, str) else [k for k in rule if k != "null"]
        message = "must be " + " or ".join(TYPE_NAMES.get(kind, kind) for kind in kinds)
    elif keyword == "enum":
        message = "must be one of " + ", ".join(json.dumps(choice) for choice in rule)
    elif keyword == "pattern":
        message = "must match the pattern " + rule
    elif keyword == "maxLength":
        message = f"must be at most {rule} characters long"
    elif keyword == "minLength":
        message = "must not be empty" if rule == 1 else f"must be at least {rule} characters long"
    elif keyword == "maxItems":
        message = f"must have at most {rule} elements"
    elif keyword == "minItems":
        message = f"must have at least {rule} element" + ("s" if rule != 1 else "")
    elif keyword in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        sign = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        message = f"must be {sign[keyword]} {rule}"
    elif keyword == "additionalProperties":
        message = "has properties that are not allowed"
    else:
        message = f"breaks the rule '{keyword}' of the schema"
    return str(message)


def _sample(
    value: Any, width: int, where: list[str | int], cut: list[tuple[list[str | int], int]]
) -> Any:
    """``value`` with every array cut to its first ``width`` elements; the path and length of
    each array that was cut are added to ``cut``."""
    if type(value) is dict:
        return {key: _sample(item, width, [*where, key], cut) for key, item in value.items()}
    if type(value) is list:
        if len(value) > width:
            cut.append((where, len(value)))
        return [_sample(item, width, [*where, n], cut) for n, item in enumerate(value[:width])]
    return value


def _described(
    error: jsonschema_rs.ValidationError, document: dict[str, Any], where: Where
) -> list[tuple[str, str]]:
    """Path and words of one error of a check made from ``document``; its schema path points
    into that document (``$defs/amount/pattern``), its instance path is below ``where``."""
    *inside, keyword = error.schema_path
    node: Any = document
    for part in inside:
        node = node[part]
    at = [*where, *error.instance_path]
    if keyword == "required":  # one error per missing key, which the error names
        return [(json_path([*at, getattr(error.kind, "property", "")]), "is required")]
    rule = node.get(keyword) if isinstance(node, dict) else None
    return [(json_path(at), rule_in_words(str(keyword), node, rule))]


def _at(instance: Any, where: Where) -> Any:
    for part in where:
        instance = instance[part]
    return instance
