"""One delivery to a real receiver on 127.0.0.1: signed so the receiver verifies it, carrying
the event id and type; classified 2xx sent, 4xx failed (no retry), 429 retry after what the
receiver asked, 5xx, timeouts and refused connections retry; redirects are not followed; the
SSRF guard is asked again at send time."""

import socket

import pytest

from partners import url_guard
from partners.transport import Attempt, deliver

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "id": "evt_1",
    "type": "order.placed",
    "created_at": "2026-03-02T08:00:00+08:00",
    "data": {"order": 7, "buyer": "惠民生鲜超市"},
}


def send(endpoint, **kwargs):
    return deliver(endpoint, event_id="evt_1", event_type="order.placed", payload=PAYLOAD, **kwargs)


def test_a_delivery_is_signed_and_the_receiver_verifies_it(endpoint, receiver):
    attempt = send(endpoint)
    assert attempt.outcome == "sent" and attempt.status_code == 200
    assert attempt.latency_ms is not None and attempt.latency_ms >= 0
    (delivery,) = receiver.deliveries
    assert delivery.verified, delivery.why_not
    assert delivery.path == "/hooks/shitun"
    assert delivery.headers["Shitun-Event-Id"] == "evt_1"
    assert delivery.headers["Shitun-Event-Type"] == "order.placed"
    assert delivery.headers["Content-Type"].startswith("application/json")
    assert delivery.payload == PAYLOAD  # Chinese as UTF-8, as signed


def test_another_secret_does_not_verify(endpoint, receiver):
    receiver.secret = "whsec_not-the-endpoints"
    send(endpoint)
    assert not receiver.deliveries[0].verified


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, {}, Attempt("sent", 200)),
        (204, {}, Attempt("sent", 204)),
        (400, {}, Attempt("failed", 400)),
        (404, {}, Attempt("failed", 404)),
        (410, {}, Attempt("failed", 410)),
        (429, {"Retry-After": "30"}, Attempt("retry", 429, retry_after=30.0)),
        (429, {}, Attempt("retry", 429)),
        (500, {}, Attempt("retry", 500)),
        (503, {"Retry-After": "5"}, Attempt("retry", 503)),
        (302, {"Location": "http://10.0.0.1/"}, Attempt("failed", 302)),
    ],
)
def test_answers_are_classified(endpoint, receiver, status, headers, expected):
    receiver.answer(status, headers=headers)
    attempt = send(endpoint)
    assert (attempt.outcome, attempt.status_code, attempt.retry_after) == (
        expected.outcome,
        expected.status_code,
        expected.retry_after,
    )
    assert len(receiver.deliveries) == 1  # a redirect is not followed


def test_retry_after_as_an_http_date(endpoint, receiver):
    receiver.answer(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    assert send(endpoint).retry_after > 0


def test_a_slow_receiver_is_a_timeout_to_retry(endpoint, receiver):
    receiver.answer(200, delay=2)
    attempt = send(endpoint, timeout=0.3)
    assert attempt == Attempt("retry", None, attempt.latency_ms, "timeout")
    assert attempt.latency_ms < 2000


def test_nobody_listening_is_a_retry(endpoint):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint.url = f"http://127.0.0.1:{port}/hook"
    attempt = send(endpoint)
    assert attempt.outcome == "retry" and attempt.status_code is None
    assert attempt.detail


def test_the_guard_is_asked_again_at_send_time(endpoint, receiver, settings, monkeypatch):
    """A name that resolved to a public address when saved may point inside later."""
    settings.PARTNER_WEBHOOKS_ALLOW_LOOPBACK = False
    attempt = send(endpoint)
    assert attempt.outcome == "failed" and "loopback" in attempt.detail
    assert receiver.deliveries == []

    endpoint.url = "https://hooks.partner.example/x"
    monkeypatch.setattr(url_guard, "resolve", lambda host, port: ["192.168.0.7"])
    attempt = send(endpoint)
    assert attempt.outcome == "failed" and "192.168.0.7" in attempt.detail


def test_a_name_that_does_not_resolve_now_is_retried(endpoint):
    endpoint.url = "https://nowhere.invalid/x"
    assert send(endpoint).outcome == "retry"


def test_the_connection_goes_to_the_checked_address(endpoint, receiver, monkeypatch):
    """The name is resolved once, by the guard; the connection uses that address and sends
    the name as Host (a second lookup could answer differently)."""
    monkeypatch.setattr(url_guard, "resolve", lambda host, port: ["127.0.0.1"])
    port = receiver.server.server_address[1]
    endpoint.url = f"http://partner.test:{port}/hooks/shitun"
    assert send(endpoint).outcome == "sent"
    assert receiver.deliveries[0].headers["Host"] == f"partner.test:{port}"
    assert receiver.deliveries[0].verified
