"""What a secret may hold, and what may name one: checked before anything reaches an HTTP header.

A stored value with a byte-order mark, a control character, a line break, a space or a character
that is not ASCII inside is a configuration error (HTTP 500 naming the variable); one in the
environment, or a malformed secret name, stops the start-up. Whitespace around a stored value is
trimmed, with a warning once per version. No answer, error or log line quotes the value.
"""

from __future__ import annotations

import pytest

from service.logs import Logger
from service.retry import Backoff
from service.secret_manager import CachedSecret, SecretManager, Secrets, version_name
from tests.conftest import COMPLETE, post
from tests.delivery.conftest import PROJECT, TOKEN_SECRET, purchase
from tests.fakes.tiktok import TOKEN
from tiktok_mapper.config import ConfigError

# Values no part of which may be shown: each has a distinctive run of letters around the flaw.
BAD_VALUES = {
    "byte-order mark": "\ufeffQz7XvR9kWp2m",
    "not Latin-1": "Qz7Xv\u20acR9kWp2m",
    "Latin-1, not ASCII": "Qz7Xv\u00e9R9kWp2m",
    "control character": "Qz7Xv\x07R9kWp2m",
    "line break inside": "Qz7Xv\nR9kWp2m",
    "carriage return inside": "Qz7Xv\rR9kWp2m",
    "tab inside": "Qz7Xv\tR9kWp2m",
    "space inside": "Qz7Xv R9kWp2m",
    "delete": "Qz7Xv\x7fR9kWp2m",
    "zero-width space": "Qz7Xv\u200bR9kWp2m",
}


def shown(value, *texts):
    """The runs of 4 or more characters of ``value`` that appear in any of ``texts``."""
    runs = {value[i : i + 4] for i in range(len(value) - 3)}
    return sorted(run for run in runs for text in texts if run in text)


def cached(secret_manager, clock, ttl=600):
    """The token's secret read from the fake, on the fake clock (retries take no time)."""
    manager = SecretManager(
        secret_manager.url, Backoff.within(1.0, clock=clock, sleep=clock.sleep), deadline=1.0
    )
    name = f"projects/{PROJECT}/secrets/{TOKEN_SECRET}/versions/latest"
    return CachedSecret(
        "TIKTOK_ACCESS_TOKEN_SECRET", name, Secrets(manager, PROJECT, ttl, Logger()), clock
    )


def test_a_stored_token_that_is_not_visible_ascii_is_500_naming_the_variable(
    make_live, tiktok, secret_manager, capsys, caplog
):
    for number, (label, value) in enumerate(BAD_VALUES.items(), start=2):
        secret_manager.add_version(PROJECT, TOKEN_SECRET, value)
        live = make_live(TIKTOK_ACCESS_TOKEN_SECRET=f"{TOKEN_SECRET}")  # a new instance: no cache
        answer = post(live, "/commandersact", purchase("O-1"))
        assert (answer.status_code, answer.mimetype) == (500, "application/json"), label
        (result,) = answer.get_json()["results"]
        assert result["error"] == "misconfigured", label
        assert "TIKTOK_ACCESS_TOKEN_SECRET" in result["message"], label
        assert f"versions/{number}" in result["message"], label
        logs = capsys.readouterr()
        assert shown(value, answer.get_data(as_text=True), logs.out, logs.err, caplog.text) == []
    assert tiktok.posts() == []  # nothing reached the header code


@pytest.mark.parametrize("label", ["byte-order mark", "not Latin-1", "line break inside"])
def test_a_stored_caller_key_that_is_not_visible_ascii_is_500_naming_the_variable(
    make_live, secret_manager, capsys, caplog, label
):
    value = BAD_VALUES[label]
    secret_manager.add_version(PROJECT, "caller-key", value)
    live = make_live(API_KEY_SECRET="caller-key")
    answer = post(live, "/commandersact", purchase("O-1"), headers={"X-Api-Key": "Qz7Xv"})
    assert (answer.status_code, answer.mimetype) == (500, "application/json")
    body = answer.get_json()
    assert body["error"] == "misconfigured"
    assert "API_KEY_SECRET" in body["message"]
    logs = capsys.readouterr()
    assert shown(value, answer.get_data(as_text=True), logs.out, logs.err, caplog.text) == []


@pytest.mark.parametrize("variable", ["TIKTOK_ACCESS_TOKEN", "API_KEY"])
@pytest.mark.parametrize("label", list(BAD_VALUES))
def test_a_value_in_the_environment_that_is_not_visible_ascii_stops_the_start(
    make_client, variable, label
):
    value = BAD_VALUES[label]
    with pytest.raises(ConfigError) as raised:
        make_client(**COMPLETE, **{variable: value})
    message = str(raised.value)
    assert message.startswith(variable + " ")
    assert shown(value, message) == []


def test_whitespace_around_a_value_in_the_environment_is_dropped(make_live, tiktok):
    live = make_live(TIKTOK_ACCESS_TOKEN=" \ttt-env-token\n")
    tiktok.tokens = {"tt-env-token"}
    assert post(live, "/commandersact", purchase("O-1")).status_code == 200


def test_whitespace_around_a_stored_value_is_trimmed_with_a_warning(
    make_live, tiktok, secret_manager, capsys
):
    secret_manager.add_version(PROJECT, TOKEN_SECRET, " \tQz7XvR9kWp2m\r\n")
    tiktok.tokens = {"Qz7XvR9kWp2m"}
    answer = post(make_live(), "/commandersact", purchase("O-1"))
    assert answer.status_code == 200
    assert tiktok.posts()[0].headers["Access-Token"] == "Qz7XvR9kWp2m"
    out = capsys.readouterr().out
    (warning,) = [line for line in out.splitlines() if "trimmed" in line]
    assert '"WARNING"' in warning
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in warning
    assert "versions/2" in warning
    assert shown("Qz7XvR9kWp2m", out) == []


def test_the_trimming_warning_comes_once_per_version(secret_manager, clock, capsys):
    token = cached(secret_manager, clock)
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "second\n")
    assert token.get() == "second"
    clock.now += 600
    assert token.get() == "second"  # the same version read again: no new warning
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "third\n")
    clock.now += 600
    assert token.get() == "third"
    assert len(secret_manager.accesses()) == 3
    warnings = [line for line in capsys.readouterr().out.splitlines() if "trimmed" in line]
    assert len(warnings) == 2
    assert "versions/2" in warnings[0]
    assert "versions/3" in warnings[1]


@pytest.mark.parametrize("blank", ["\n", " \t \r\n"])
def test_a_stored_value_of_whitespace_only_is_a_configuration_error(
    make_live, secret_manager, blank
):
    secret_manager.add_version(PROJECT, TOKEN_SECRET, blank)
    answer = post(make_live(), "/commandersact", purchase("O-1"))
    assert answer.status_code == 500
    assert "TIKTOK_ACCESS_TOKEN_SECRET" in answer.get_json()["results"][0]["message"]


def test_a_stored_value_that_is_not_utf8_is_a_configuration_error(make_live, secret_manager):
    secret_manager.add_version(PROJECT, TOKEN_SECRET, b"Qz7Xv\xffR9kWp2m")
    answer = post(make_live(), "/commandersact", purchase("O-1"))
    assert answer.status_code == 500
    (result,) = answer.get_json()["results"]
    assert (result["error"], "TIKTOK_ACCESS_TOKEN_SECRET" in result["message"]) == (
        "misconfigured",
        True,
    )


BAD_NAMES = [
    "projects/p/secrets/s/",
    "projects/p//secrets/s",
    "projects/p/secrets/s/versions/",
    "projects/p/secrets/s/versions/latest/",
    "projects/p/secrets/s//versions/1",
    "projects//secrets/s",
    "projects/p/secrets/",
    "projects/p/secrets//versions/1",
    "projects/p/secrets/s/versions/one",
    "projects/p/secrets/s/versions/1/extra",
    "projects/p/secrets/s:access",
    "projects/p/locations/europe-west1/secrets/s",
    "projects/p?x/secrets/s",
    "/projects/p/secrets/s",
    "s/",
    "/s",
    "a b",
    "s?alt=json",
    "s\u00e9",
    "a" * 256,
]


@pytest.mark.parametrize("variable", ["TIKTOK_ACCESS_TOKEN_SECRET", "API_KEY_SECRET"])
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_malformed_secret_name_stops_the_start(make_client, secret_manager, variable, name):
    with pytest.raises(ConfigError) as raised:
        make_client(
            **COMPLETE,
            GOOGLE_CLOUD_PROJECT=PROJECT,
            SECRET_MANAGER_ENDPOINT=secret_manager.url,
            **{variable: name},
        )
    assert str(raised.value).startswith(variable + " ")
    assert secret_manager.accesses() == []


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("projects/p/secrets/s", "projects/p/secrets/s/versions/latest"),
        ("projects/p/secrets/s/versions/latest", "projects/p/secrets/s/versions/latest"),
        ("projects/123456/secrets/A_b-9/versions/12", "projects/123456/secrets/A_b-9/versions/12"),
        ("projects/example.com:p/secrets/s", "projects/example.com:p/secrets/s/versions/latest"),
        ("A_b-9", f"projects/{PROJECT}/secrets/A_b-9/versions/latest"),
        ("a" * 255, f"projects/{PROJECT}/secrets/{'a' * 255}/versions/latest"),
    ],
)
def test_well_formed_names(name, read):
    assert version_name("TIKTOK_ACCESS_TOKEN_SECRET", name, PROJECT) == read


def test_a_full_name_is_read_as_given_through_the_entry_point(make_live, tiktok, secret_manager):
    name = f"projects/{PROJECT}/secrets/{TOKEN_SECRET}/versions/1"
    secret_manager.add_version(PROJECT, TOKEN_SECRET, "second")
    live = make_live(TIKTOK_ACCESS_TOKEN_SECRET=name)
    assert post(live, "/commandersact", purchase("O-1")).status_code == 200
    (access,) = secret_manager.accesses()
    assert access.path.startswith(f"/v1/{name}:access")
    assert tiktok.posts()[0].headers["Access-Token"] == TOKEN


def test_a_bare_id_with_a_malformed_project_stops_the_start(make_client):
    with pytest.raises(ConfigError) as raised:
        make_client(**COMPLETE, GOOGLE_CLOUD_PROJECT="p/x", TIKTOK_ACCESS_TOKEN_SECRET="s")
    assert str(raised.value).startswith("GOOGLE_CLOUD_PROJECT ")
