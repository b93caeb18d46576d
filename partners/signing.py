"""How webhook deliveries are signed, and how a receiver checks them.

Header ``Shitun-Signature: t=<unix seconds>,v1=<hex>``, where the hex is
HMAC-SHA256(key = the endpoint's secret as UTF-8, message = "<t>.<raw body>"). Signing the
timestamp with the body lets a receiver refuse an old delivery replayed
(``tolerance``). A header may carry several ``v1=`` values; one that matches is enough. The
receivers in the tests verify with this module, and docs/integration.md shows the same check
in plain Python (tests/partners/test_docs.py runs it against ``sign``).
"""

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Shitun-Signature"
EVENT_ID_HEADER = "Shitun-Event-Id"
EVENT_TYPE_HEADER = "Shitun-Event-Type"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds


class SignatureError(ValueError):
    """The header is missing, malformed, stale, or no signature in it matches."""


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The Shitun-Signature header's value for this raw body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},{SCHEME}={_digest(secret, timestamp, body)}"


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """The signed timestamp if the header signs this body with this secret within
    ``tolerance`` seconds of now; else SignatureError."""
    if not header:
        raise SignatureError("no signature header")
    timestamp, signatures = None, []
    for item in header.split(","):
        name, _eq, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed signature header")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("no signature matches")
    return timestamp
