"""TIKTOK_API_URL, where the token goes: https, or plain http to this machine only; anything
else stops the start with a message naming the variable (never the value)."""

from __future__ import annotations

import pytest

from tests.conftest import COMPLETE
from tiktok_mapper.config import ConfigError


@pytest.mark.parametrize(
    "url",
    [
        "http://tiktok.example/open_api/v1.3/event/track/",
        "http://10.0.0.8:8080/track/",
        "http://127.0.0.1.evil.example/",
        "http://127.0.0.1@evil.example/",
        "http://localhost.evil.example/",
        "http://0.0.0.0/",
        "http://user:secret@127.0.0.1/",
        "https://",
        "http://127.0.0.1:99999/",
        "ftp://127.0.0.1/",
    ],
)
def test_a_url_that_could_carry_the_token_elsewhere_stops_the_start(make_client, url):
    with pytest.raises(ConfigError) as raised:
        make_client(**COMPLETE, DRY_RUN="true", TIKTOK_API_URL=url)
    message = str(raised.value)
    assert message.startswith("TIKTOK_API_URL must be an http(s) URL")
    for part in ("evil", "secret", "tiktok.example", "10.0.0.8", "99999"):
        assert part not in message


@pytest.mark.parametrize(
    "url",
    [
        "https://business-api.tiktok.com/open_api/v1.3/event/track/",
        "https://tiktok.example:8443/track/",
        "http://127.0.0.1:8080/open_api/v1.3/event/track/",
        "http://127.3.2.1/track/",
        "http://[::1]:8080/track/",
        "http://localhost:8080/track/",
    ],
)
def test_https_or_loopback_http_is_taken(make_client, url):
    client = make_client(**COMPLETE, DRY_RUN="true", TIKTOK_API_URL=url)
    assert client.get("/health").status_code == 200
