"""The JSON Schemas in ``schemas/`` and the errors they report.

Words used here:

- *schema*: a Draft 2020-12 JSON Schema file; the single source of truth for what an input
  event (or the TikTok request body) may look like.
- *fast check*: the schema compiled by jsonschema-rs (Rust, Draft 2020-12), which answers
  valid/invalid in a few microseconds. Only an event that fails it is run through jsonschema,
  which lists every error (about 50 times slower).
- *unknown key*: a key of an object in the instance that the schema's ``properties`` for that
  object do not name (the lenient input schemas allow them; a source may warn about them).
- *error*: ``{"path": "$.items[0].quantity", "message": "must be a whole number"}``. The message
  is built from the rule in the schema (keyword and its value), never from the submitted value,
  which jsonschema's own messages quote.

Both validators implement Draft 2020-12; ``format`` is not asserted by either, and the schemas
do not use it. A test checks that they agree on every golden input.
"""

from __future__ import annotations

import json
import re
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from tiktok_mapper.fields import json_path

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

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
    """One schema file, compiled once for the fast check and once for the error report."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.document = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        self._fast = jsonschema_rs.validator_for(self.document)

    @cached_property
    def _full(self) -> Draft202012Validator:
        """The reporting validator, made when an instance first fails the fast check."""
        from jsonschema import Draft202012Validator  # 80 ms of import a valid event never needs

        return Draft202012Validator(self.document)

    def errors(self, instance: Any) -> list[dict[str, str]]:
        """Every rule ``instance`` breaks (at most :data:`MAX_ERRORS`); ``[]`` when valid."""
        if self._fast.is_valid(instance):
            return []
        found: dict[tuple[str, str], None] = {}
        # iter_errors is lazy: stopping at MAX_ERRORS bounds the work of an event that breaks
        # a rule a million times (an array of a million empty arrays) to that of one that
        # breaks it twenty times. The errors are ordered by path once the few are kept.
        for error in self._full.iter_errors(instance):
            for described in describe(error):
                found[(described["path"], described["message"])] = None
            if len(found) >= MAX_ERRORS:
                break
        if not found:  # the two validators disagree: trust the stricter, without detail
            found[("$", "does not match " + self.name)] = None
        return [
            {"path": path, "message": message} for path, message in sorted(found, key=_path_order)
        ]

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
    return [(0, part.zfill(12)) if part.isdigit() else (1, part) for part in parts], message


@cache
def schema(name: str) -> Schema:
    return Schema(name)


def describe(error: ValidationError) -> list[dict[str, str]]:
    """Our message for one jsonschema error: the path, and the rule in words."""
    path = json_path(error.absolute_path)
    keyword, where = error.validator, error.schema
    rule: Any = error.validator_value
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        return [
            {"path": json_path([*error.absolute_path, name]), "message": "is required"}
            for name in rule
            if name not in instance
        ]
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
    return [{"path": path, "message": message}]
