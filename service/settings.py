"""Service settings: the environment variables of the edges (delivery, secrets, HTTP limits).

The mapping settings are ``tiktok_mapper.pipeline.Setup`` (shared ones in
``tiktok_mapper.config``, each route's options in its module); both are read once, at start-up,
and a bad value stops the function with a message that names the variable.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tiktok_mapper.config import SettingsTable, boolean, parse_settings, stripped
from tiktok_mapper.pipeline import Setup, from_environment

DEFAULT_API_URL = "https://business-api.tiktok.com/open_api/v1.3/event/track/"
GOOGLE_CERTS = (
    "https://www.googleapis.com/oauth2/v1/certs"  # the certificates of Google's ID tokens
)


def positive_int(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError("must be a whole number") from None
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def at_most(most: int, unit: str) -> Callable[[str], int]:
    """A positive whole number up to ``most``: past it, a setting would only make requests
    unbounded (or overflow), never better."""

    def parse(value: str) -> int:
        number = positive_int(value)
        if number > most:
            raise ValueError(f"must be at most {most} {unit}")
        return number

    return parse


def log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


def url(value: str) -> str:
    address = value.strip()
    if not address.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return address


def secure_url(value: str) -> str:
    """A URL secrets are sent to (the TikTok token) or trust is read from (Google's
    certificates): https, or http to this machine only (a local fake), so that neither crosses
    a network in clear."""
    address = url(value)
    parts = urllib.parse.urlsplit(address)
    try:
        host, scheme = parts.hostname or "", parts.scheme.lower()
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:
        raise ValueError("must be an http(s) URL with a valid host and port") from None
    if not host or parts.username is not None or parts.password is not None:
        raise ValueError("must be an http(s) URL with a host and no user or password")
    if scheme != "https" and not loopback(host):
        raise ValueError(
            "must be an http(s) URL: https://, or http:// only for a loopback host "
            "(127.0.0.0/8, ::1, localhost)"
        )
    return address


def host_port(value: str) -> str:
    """``host:port`` without a scheme, as Google's clients read ``PUBSUB_EMULATOR_HOST``."""
    address = value.strip()
    if not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}", address):
        raise ValueError("must be host:port (the emulator's address, without http://)")
    return address


def email(value: str) -> str:
    address = value.strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
        raise ValueError("must be an e-mail address (a service account's)")
    return address


def loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    dry_run: bool = False
    max_body_bytes: int = 4 * 1024 * 1024
    log_level: str = "INFO"
    access_token: str | None = None
    access_token_secret: str | None = None
    token_ttl_seconds: int = 600
    api_url: str = DEFAULT_API_URL
    retry_deadline_seconds: int = 20
    secret_manager_endpoint: str | None = None
    api_key: str | None = None
    api_key_secret: str | None = None
    google_cloud_project: str | None = None
    admission_budget_bytes: int = 8 * 1024 * 1024
    retry_topic: str | None = None
    pubsub_emulator_host: str | None = None
    push_audience: str | None = None
    push_service_account: str | None = None
    push_certs_url: str = GOOGLE_CERTS


# variable                         attribute                   parser
SETTINGS: SettingsTable = (
    ("DRY_RUN",                        "dry_run",                  boolean),
    ("MAX_BODY_BYTES",                 "max_body_bytes",           at_most(32 * 2**20, "bytes")),
    ("LOG_LEVEL",                      "log_level",                log_level),
    ("TIKTOK_ACCESS_TOKEN",            "access_token",             stripped),
    ("TIKTOK_ACCESS_TOKEN_SECRET",     "access_token_secret",      stripped),
    ("TIKTOK_TOKEN_TTL_SECONDS",       "token_ttl_seconds",        at_most(86400, "seconds")),
    ("TIKTOK_API_URL",                 "api_url",                  secure_url),
    ("TIKTOK_RETRY_DEADLINE_SECONDS",  "retry_deadline_seconds",   at_most(3600, "seconds")),
    ("SECRET_MANAGER_ENDPOINT",        "secret_manager_endpoint",  url),
    ("API_KEY",                        "api_key",                  stripped),
    ("API_KEY_SECRET",                 "api_key_secret",           stripped),
    ("GOOGLE_CLOUD_PROJECT",           "google_cloud_project",     stripped),
    ("ADMISSION_BUDGET_BYTES",         "admission_budget_bytes",   at_most(2**30, "bytes")),
    ("TIKTOK_RETRY_TOPIC",             "retry_topic",              stripped),
    ("PUBSUB_EMULATOR_HOST",           "pubsub_emulator_host",     host_port),
    ("PUBSUB_PUSH_AUDIENCE",           "push_audience",            stripped),
    ("PUBSUB_PUSH_SERVICE_ACCOUNT",    "push_service_account",     email),
    ("PUBSUB_PUSH_CERTS_URL",          "push_certs_url",           secure_url),
)  # fmt: skip


def read(environment: Mapping[str, str]) -> tuple[Setup, Settings]:
    """Both halves of the configuration; raises :class:`ConfigError` on the first bad value."""
    return from_environment(environment), Settings(**parse_settings(SETTINGS, environment))
