"""One webhook delivery over HTTP: sign, POST, classify the answer.

``deliver`` never raises for what the receiver or the network does; it answers an
``Attempt`` that the caller (the outbox's webhook channel, or a test ping) records:

- 2xx: ``sent``;
- 429: ``retry``, honouring ``Retry-After`` (seconds or an HTTP date);
- any other 4xx, a redirect, or a URL the SSRF guard refuses now: ``failed``, no retry (the
  receiver said no, or it cannot be called safely);
- 5xx, a timeout, a refused or reset connection, a host that does not resolve: ``retry``.

The connection goes to an address the SSRF guard checked just before (url_guard.check), with
the URL's host in the Host header and TLS's server name; redirects are never followed.
"""

import json
import time
from email.utils import parsedate_to_datetime

import urllib3
from django.conf import settings
from django.utils import timezone

from notices.channels import Attempt

from . import signing, url_guard

USER_AGENT = "ShitunMarket-Webhooks/1.0"
DETAIL_BYTES = 300  # of the receiver's answer, kept for the delivery log


def encode(payload: dict) -> bytes:
    """The raw body: compact JSON, UTF-8 (Chinese stays readable). Signed as sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def _pool(target: url_guard.Target, address: str, timeout: float):
    options = {
        "host": address,
        "port": target.port,
        "timeout": urllib3.Timeout(total=timeout),
        "retries": False,
        "maxsize": 1,
    }
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            **options, server_hostname=target.host, assert_hostname=target.host
        )
    return urllib3.HTTPConnectionPool(**options)


def _host_header(target: url_guard.Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = url_guard.SCHEMES[target.scheme]
    return host if target.port == default else f"{host}:{target.port}"


def _classify(status: int, headers, body: bytes, latency_ms: int) -> Attempt:
    detail = body[:DETAIL_BYTES].decode("utf-8", "replace")
    if 200 <= status < 300:
        return Attempt("sent", status, latency_ms, detail)
    if status == 429:
        return Attempt(
            "retry", status, latency_ms, detail, _retry_after(headers.get("Retry-After"))
        )
    if status >= 500:
        return Attempt("retry", status, latency_ms, detail)
    if 300 <= status < 400:
        return Attempt("failed", status, latency_ms, f"redirect not followed: {detail}"[:300])
    return Attempt("failed", status, latency_ms, detail)  # 4xx (and 1xx, which is no answer)


def deliver(
    endpoint,
    *,
    event_id: str,
    event_type: str,
    payload: dict,
    timeout: float | None = None,
) -> Attempt:
    """POST the payload to the endpoint, signed with its secret; classify what happened."""
    timeout = settings.PARTNER_WEBHOOK_TIMEOUT if timeout is None else timeout
    try:
        target = url_guard.check(endpoint.url)
    except url_guard.UnsafeUrl as exc:
        return Attempt("retry" if exc.transient else "failed", detail=str(exc))
    body = encode(payload)
    headers = {
        "Host": _host_header(target),
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        signing.EVENT_ID_HEADER: event_id,
        signing.EVENT_TYPE_HEADER: event_type,
        signing.SIGNATURE_HEADER: signing.sign(endpoint.secret, body),
    }
    started = time.monotonic()
    try:
        with _pool(target, target.addresses[0], timeout) as pool:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
            )
            try:
                answer = response.read(DETAIL_BYTES, decode_content=True) or b""
            finally:
                response.release_conn()
    except urllib3.exceptions.TimeoutError:
        return Attempt("retry", latency_ms=_ms(started), detail="timeout")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Attempt("retry", latency_ms=_ms(started), detail=_short(exc))
    return _classify(response.status, response.headers, answer, _ms(started))


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:DETAIL_BYTES]
