"""TikTok's event, field by field: each field's rule written once, in TikTok's words.

Words used here:

- *TikTok field*: a dotted name in one element of an Events API 2.0 request's ``data[]``
  (``user.email``, ``properties.value``, ``app.app_id``); a content's own fields (``price``)
  are named inside ``properties.contents``.
- *rule*: one row of :data:`RULES`: the TikTok field, its normaliser (see
  ``tiktok_mapper.normalize``), whether TikTok wants it hashed, its *form*, and the
  ``event_source`` (TikTok's ``web``, ``app``, ``offline`` or ``crm``) whose events TikTok
  refuses without it.
- *form*: ``one`` value; ``list``, an array of strings (several e-mails: each normalised on
  its own, repeats sent once); ``contents``, the array of objects whose fields follow
  :data:`CONTENT_RULES`.

A route (``commandersact``, ``ga4``, ``tiktok`` in ``passthrough``) says only where it finds each field
(see ``tiktok_mapper.fields``); everything else about the field comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tiktok_mapper import normalize as n

ONE, LIST, CONTENTS = "one", "list", "contents"


@dataclass(frozen=True, slots=True)
class Rule:
    field: str
    normalise: n.Normaliser | None  # None for properties.contents: its elements have rules
    hashed: bool
    form: str = ONE
    required_for: str | None = None  # the event_source whose events TikTok refuses without it


# A content: one element of properties.contents.
# content field         normaliser       hashed
CONTENT_RULES: tuple[Rule, ...] = (
    Rule("content_id",       n.identifier,    False),
    Rule("content_name",     n.text,          False),
    Rule("content_category", n.text,          False),
    Rule("brand",            n.text,          False),
    Rule("price",            n.number,        False),
    Rule("quantity",         n.integer,       False),
    Rule("content_type",     n.content_type,  False),
)  # fmt: skip

# TikTok field                  normaliser             hashed  form      required for
RULES: tuple[Rule, ...] = (
    Rule("event_time",              n.event_time,          False),
    Rule("event_id",                n.identifier,          False),
    Rule("user.ttclid",             n.text,                False),
    Rule("user.ttp",                n.text,                False),
    Rule("user.external_id",        n.hash_external_id,    True,   LIST),
    Rule("user.email",              n.hash_email,          True,   LIST),
    Rule("user.phone",              n.hash_phone,          True,   LIST),
    Rule("user.first_name",         n.hash_name,           True),
    Rule("user.last_name",          n.hash_name,           True),
    Rule("user.zip_code",           n.hash_zip,            True),
    Rule("user.city",               n.place,               False),
    Rule("user.state",              n.place,               False),
    Rule("user.country",            n.place,               False),
    Rule("user.ip",                 n.text,                False),
    Rule("user.user_agent",         n.text,                False),
    Rule("user.locale",             n.text,                False),
    Rule("user.idfa",               n.idfa,                False),  # or its SHA-256, passed on
    Rule("user.idfv",               n.text,                False),
    Rule("user.att_status",         n.att_status,          False),
    Rule("user.gaid",               n.gaid,                False),  # or its SHA-256, passed on
    Rule("page.url",                n.text,                False),
    Rule("page.referrer",           n.text,                False),
    Rule("app.app_id",              n.identifier,          False,  ONE,      "app"),
    Rule("app.app_name",            n.text,                False),
    Rule("app.app_version",         n.identifier,          False),
    Rule("limited_data_use",        n.flag,                False),
    Rule("lead.lead_id",            n.identifier,          False,  ONE,      "crm"),
    Rule("lead.lead_event_source",  n.text,                False),
    Rule("properties.contents",     None,                  False,  CONTENTS),
    Rule("properties.num_items",    n.count,               False),
    Rule("properties.content_ids",  n.identifier,          False,  LIST),
    Rule("properties.search_string", n.text,               False),
    Rule("properties.order_id",     n.identifier,          False),
    Rule("properties.shop_id",      n.identifier,          False),
    Rule("properties.status",       n.text,                False),
    Rule("properties.content_type", n.content_type,        False),
    Rule("properties.currency",     n.currency,            False),
    Rule("properties.description",  n.text,                False),
    Rule("properties.value",        n.number,              False),
    Rule("ad.callback",             n.text,                False),
    Rule("ad.campaign_id",          n.identifier,          False),
    Rule("ad.ad_id",                n.identifier,          False),
    Rule("ad.creative_id",          n.identifier,          False),
    Rule("ad.is_retargeting",       n.flag,                False),
    Rule("ad.attributed",           n.flag,                False),
    Rule("ad.attribution_type",     n.text,                False),
    Rule("ad.attribution_provider", n.text,                False),
)  # fmt: skip

RULE = {rule.field: rule for rule in RULES}
CONTENT_RULE = {rule.field: rule for rule in CONTENT_RULES}
# event_source → the TikTok field its events need
REQUIRED = {rule.required_for: rule.field for rule in RULES if rule.required_for}

NONE = "\u2013"  # an en dash: "none", in a table cell
# Each normaliser by its name in tiktok_mapper.normalize, for the README's table
NAMES = {value: name for name, value in vars(n).items() if callable(value) and name[0] != "_"}


def readme_row(rule: Rule) -> str:
    """The README row of a rule: field, normaliser, hashed, form, required for."""
    normaliser = f"`{NAMES[rule.normalise]}`" if rule.normalise else "each content by its rules"
    hashed = "SHA-256" if rule.hashed else NONE
    required = rule.required_for or NONE
    return f"| `{rule.field}` | {normaliser} | {hashed} | {rule.form} | {required} |"
