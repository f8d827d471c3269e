"""The TLS path, as in production: the fake TikTok speaks HTTPS with a certificate made for the
test (trusted in place of the public roots), the function sends through it, and a trickled
answer over TLS still ends the call by the deadline. Needs the ``openssl`` command."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time

import certifi
import pytest

from tests.conftest import post
from tests.delivery.conftest import purchase
from tests.fakes.server import Reply
from tests.fakes.tiktok import TOKEN, FakeTikTok

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def make_certificate(folder, name: str) -> tuple[str, str]:
    """``(certificate, key)`` files for 127.0.0.1, self-signed."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"), "tiktok")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory):
    """A certificate that is not the fake's."""
    return make_certificate(tmp_path_factory.mktemp("tls"), "stranger")[0]


@pytest.fixture
def tls_tiktok(certificate, monkeypatch):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setattr(certifi, "where", lambda: cert)  # the roots the client trusts
    with FakeTikTok(tls=context) as fake:
        yield fake


def test_events_are_sent_over_tls(make_live, tls_tiktok):
    live = make_live(TIKTOK_API_URL=tls_tiktok.endpoint)
    answer = post(live, "/commandersact", [purchase("O-1"), purchase("O-2")])
    assert answer.status_code == 200
    assert tls_tiktok.posts()[0].headers["Access-Token"] == TOKEN
    post(live, "/commandersact", purchase("O-3"))
    assert [e["event_id"] for e in tls_tiktok.accepted] == ["O-1", "O-2", "O-3"]


def test_a_trickled_answer_over_tls_ends_by_the_deadline(make_live, tls_tiktok):
    live = make_live(TIKTOK_API_URL=tls_tiktok.endpoint, TIKTOK_RETRY_DEADLINE_SECONDS="2")
    tls_tiktok.always = Reply(200, b'{"code": 0, "message": "OK"}', trickle=0.5)
    started = time.monotonic()
    answer = post(live, "/commandersact", purchase("O-1"))
    assert time.monotonic() - started < 2 + 5
    assert answer.status_code == 503


def test_a_certificate_not_trusted_is_a_failed_connection(
    make_live, tls_tiktok, stranger, monkeypatch
):
    monkeypatch.setattr(certifi, "where", lambda: stranger)
    live = make_live(TIKTOK_API_URL=tls_tiktok.endpoint)
    answer = post(live, "/commandersact", purchase("O-1"))
    assert answer.status_code == 503
    assert "connection failed" in answer.get_json()["results"][0]["message"]
    assert tls_tiktok.posts() == []
