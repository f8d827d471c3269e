"""A loopback fake of Google's ID token certificates (``https://www.googleapis.com/oauth2/v1/certs``)
and the push tokens Pub/Sub would sign with them.

It answers like Google: ``{"<key id>": "<PEM X.509 certificate>"}``. The key is made once per
process (RSA 2048, as Google's are); :func:`push_token` signs a token with it the way Pub/Sub
signs its push tokens: RS256, the key id in the header, Google as the issuer, the push
subscription's service account as the verified e-mail. ``other_key`` signs with another key
under the same key id (a forgery).
"""

from __future__ import annotations

import datetime
import functools
import time
from typing import Any

from tests.fakes.server import LoopbackServer, Reply, Seen

KEY_ID = "fake-google-key-1"
PUSH_ACCOUNT = "tiktok-events-push@test-project.iam.gserviceaccount.com"


@functools.cache
def key_pair(name: str = "google") -> tuple[bytes, bytes]:
    """(private key PEM, self-signed certificate PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private, certificate.public_bytes(serialization.Encoding.PEM)


def push_token(audience: str, other_key: bool = False, **claims: Any) -> str:
    """A push token for ``audience``; ``claims`` replace or add claims (``None`` drops one)."""
    from google.auth import crypt, jwt

    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": audience,
        "azp": "100000000000000000001",
        "sub": "100000000000000000001",
        "email": PUSH_ACCOUNT,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    private, _ = key_pair("forger" if other_key else "google")
    signer = crypt.RSASigner.from_string(private, key_id=KEY_ID)
    return jwt.encode(signer, payload).decode()


class FakeGoogleCerts(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def fetches(self) -> list[Seen]:
        return list(self.seen)

    def answer(self, request: Seen) -> Reply:
        if self.down:
            return Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})
        return Reply(200, {KEY_ID: key_pair("google")[1].decode()})
