"""``POST /pubsub`` in public mode (a caller key is configured): push requests cannot send
``X-Api-Key``, so the function checks the push subscription's OIDC token itself, with
google-auth against a loopback fake of Google's certificates: signature, issuer, audience
(``PUBSUB_PUSH_AUDIENCE``, by default ``https://`` and the host the request names) and the
verified e-mail ``PUBSUB_PUSH_SERVICE_ACCOUNT``. Anything else is 401."""

from __future__ import annotations

import pytest

from tests.conftest import post
from tests.fakes.google_certs import PUSH_ACCOUNT, FakeGoogleCerts, push_token
from tests.pubsub.push import queued

HOST = "https://localhost"  # what Flask's test client names as the host


@pytest.fixture
def certs():
    with FakeGoogleCerts() as fake:
        yield fake


@pytest.fixture
def public(make_live, certs):
    return make_live(
        API_KEY="caller-key-1",
        PUBSUB_PUSH_SERVICE_ACCOUNT=PUSH_ACCOUNT,
        PUBSUB_PUSH_CERTS_URL=certs.url,
    )


def push(client, token: str | None, **headers: str):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return post(client, "/pubsub", queued("AUTH-1"), headers=headers)


def test_a_push_token_of_the_push_account_is_taken(public, tiktok, certs):
    answer = push(public, push_token(HOST))
    assert answer.status_code == 200
    assert [e["event_id"] for e in tiktok.accepted] == ["AUTH-1"]
    for _ in range(3):
        assert push(public, push_token(HOST)).status_code == 200
    assert len(certs.fetches()) == 1  # Google's certificates are kept a while


BAD_TOKENS = {
    "no token": lambda: None,
    "not a JWT": lambda: "not-a-token",
    "another audience": lambda: push_token("https://elsewhere.example"),
    "another account": lambda: push_token(HOST, email="someone@example.com"),
    "e-mail not verified": lambda: push_token(HOST, email_verified=False),
    "no e-mail": lambda: push_token(HOST, email=None),
    "another issuer": lambda: push_token(HOST, iss="https://evil.example"),
    "expired": lambda: push_token(HOST, iat=1_700_000_000, exp=1_700_003_600),
    "signed by another key": lambda: push_token(HOST, other_key=True),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_anything_but_that_token_is_401(public, tiktok, case):
    answer = push(public, BAD_TOKENS[case]())
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "unauthorized"
    assert tiktok.posts() == []


def test_the_caller_key_does_not_open_pubsub(public, tiktok):
    assert push(public, None, **{"X-Api-Key": "caller-key-1"}).status_code == 401
    assert tiktok.posts() == []


def test_a_configured_audience_is_the_one_taken(make_live, certs, tiktok):
    client = make_live(
        API_KEY="caller-key-1",
        PUBSUB_PUSH_SERVICE_ACCOUNT=PUSH_ACCOUNT,
        PUBSUB_PUSH_CERTS_URL=certs.url,
        PUBSUB_PUSH_AUDIENCE="https://tiktok-events-abc123-ew.a.run.app",
    )
    assert push(client, push_token(HOST)).status_code == 401
    token = push_token("https://tiktok-events-abc123-ew.a.run.app")
    assert push(client, token).status_code == 200


def test_without_the_push_account_setting_pubsub_is_closed(make_live, certs, tiktok):
    client = make_live(API_KEY="caller-key-1", PUBSUB_PUSH_CERTS_URL=certs.url)
    answer = push(client, push_token(HOST))
    assert answer.status_code == 401
    assert "PUBSUB_PUSH_SERVICE_ACCOUNT" in answer.get_json()["message"]
    assert tiktok.posts() == []


def test_certificates_that_cannot_be_fetched_are_503(public, certs, tiktok):
    certs.down = True
    answer = push(public, push_token(HOST))
    assert answer.status_code == 503  # not acknowledged: Pub/Sub pushes it again
    assert "Retry-After" in answer.headers
    assert tiktok.posts() == []


def test_the_push_check_comes_after_404_and_405_and_before_the_body(public):
    assert post(public, "/pubsub", "x", content_type="text/plain").status_code == 401
    assert public.get("/pubsub").status_code == 405
