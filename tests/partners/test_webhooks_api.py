"""Webhook endpoints through the API: approvers (and staff) manage their organisation's; the
secret is answered once (creation, rotation); DELETE deactivates; a URL that is not http(s)
or reaches a private or loopback address is a 400 naming ``url``, and nothing is written."""

import pytest

from partners import url_guard
from partners.models import WebhookEndpoint
from tests.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"


def body(organisation, url, **extra):
    return {
        "organisation": organisation.pk,
        "url": url,
        "event_types": ["order.placed", "fulfilment.shipped"],
        **extra,
    }


def test_an_approver_adds_an_endpoint_and_sees_the_secret_once(approver, organisation, receiver):
    response = approver.post(URL, body(organisation, receiver.url()), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["is_active"] is True and created["consecutive_failures"] == 0
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.created_by_id == approver.user.pk

    read = approver.get(f"{URL}{created['id']}/").json()
    assert "secret" not in read and created["secret"] not in str(read)
    assert "secret" not in approver.get(URL).json()["results"][0]


def test_rotation_answers_a_new_secret_once(approver, endpoint):
    old = endpoint.secret
    response = approver.post(f"{URL}{endpoint.pk}/rotate-secret/")
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert response.json()["secret"] == endpoint.secret != old


def test_delete_deactivates_and_patch_switches_it_back_on(approver, endpoint):
    response = approver.delete(f"{URL}{endpoint.pk}/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert approver.user.name in response.json()["disabled_reason"]
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=4)
    response = approver.patch(f"{URL}{endpoint.pk}/", {"is_active": True}, format="json")
    assert response.json()["is_active"] is True
    assert response.json()["disabled_reason"] == ""
    assert response.json()["consecutive_failures"] == 0


def test_patch_changes_subscriptions_and_checks_them(approver, endpoint):
    response = approver.patch(
        f"{URL}{endpoint.pk}/", {"event_types": ["payment.received"]}, format="json"
    )
    assert response.json()["event_types"] == ["payment.received"]
    for wrong in (["statement.paid"], ["order.placed", "order.placed"], [], ["nope"]):
        error = assert_error(
            approver.patch(f"{URL}{endpoint.pk}/", {"event_types": wrong}, format="json"),
            400,
            "validation_error",
        )
        assert [name.split(".")[0] for name in error["fields"]] == ["event_types"], error
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["payment.received"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hook",
        "http://192.168.1.20:8080/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "ftp://partner.example/hook",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://user:secret@partner.example/hook",
        "http:///no-host",
    ],
)
def test_unsafe_urls_are_a_400_naming_url(approver, organisation, url):
    response = approver.post(URL, body(organisation, url), format="json")
    assert_error(response, 400, "validation_error", "url")
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://[::1]:9/hook", "http://localhost/"]
)
def test_loopback_is_refused_unless_the_setting_allows_it(approver, organisation, settings, url):
    settings.PARTNER_WEBHOOKS_ALLOW_LOOPBACK = False
    error = assert_error(
        approver.post(URL, body(organisation, url), format="json"), 400, "validation_error", "url"
    )
    assert any(word in error["fields"]["url"][0] for word in ("loopback", "回环"))
    assert WebhookEndpoint.objects.count() == 0
    settings.PARTNER_WEBHOOKS_ALLOW_LOOPBACK = True
    assert approver.post(URL, body(organisation, url), format="json").status_code == 201


def test_a_hostname_resolving_to_a_private_address_is_refused(approver, organisation, monkeypatch):
    """Every address the name resolves to is checked: one private address among public ones
    is enough to refuse it."""
    monkeypatch.setattr(url_guard, "resolve", lambda host, port: ["93.184.216.34", "10.1.2.3"])
    error = assert_error(
        approver.post(URL, body(organisation, "https://hooks.partner.example/x"), format="json"),
        400,
        "validation_error",
        "url",
    )
    assert "10.1.2.3" in error["fields"]["url"][0]
    monkeypatch.setattr(url_guard, "resolve", lambda host, port: ["93.184.216.34"])
    response = approver.post(
        URL, body(organisation, "https://hooks.partner.example/x"), format="json"
    )
    assert response.status_code == 201


def test_a_host_that_does_not_resolve_is_refused(approver, organisation):
    response = approver.post(URL, body(organisation, "https://nowhere.invalid/x"), format="json")
    assert_error(response, 400, "validation_error", "url")


def test_a_url_changed_by_patch_is_checked_too(approver, endpoint):
    response = approver.patch(f"{URL}{endpoint.pk}/", {"url": "http://10.0.0.1/"}, format="json")
    assert_error(response, 400, "validation_error", "url")
    endpoint.refresh_from_db()
    assert endpoint.url.startswith("http://127.0.0.1:")


def test_an_approver_adds_none_for_another_organisation(approver, other_organisation, receiver):
    response = approver.post(URL, body(other_organisation, receiver.url()), format="json")
    assert_error(response, 403, "permission_denied", "organisation")
    assert WebhookEndpoint.objects.count() == 0


def test_others_see_no_endpoint(endpoint, purchaser, partner, other_approver_user, staff):
    assert_error(purchaser.get(URL), 403, "permission_denied")
    assert_error(partner.get(URL), 403, "permission_denied")
    other = client_for(other_approver_user)
    assert other.get(URL).json()["results"] == []
    assert_error(other.get(f"{URL}{endpoint.pk}/"), 404, "not_found")
    assert_error(other.post(f"{URL}{endpoint.pk}/ping/"), 404, "not_found")
    assert [row["id"] for row in staff.get(URL).json()["results"]] == [endpoint.pk]


def test_an_organisation_has_a_bounded_number_of_endpoints(
    approver, organisation, receiver, settings
):
    settings.PARTNER_WEBHOOKS_PER_ORGANISATION = 2
    for _ in range(2):
        assert (
            approver.post(URL, body(organisation, receiver.url()), format="json").status_code == 201
        )
    response = approver.post(URL, body(organisation, receiver.url()), format="json")
    assert_error(response, 400, "validation_error", "organisation")
    assert WebhookEndpoint.objects.count() == 2


def test_ping_sends_a_signed_sample_and_answers_the_attempt(approver, endpoint, receiver):
    response = approver.post(f"{URL}{endpoint.pk}/ping/")
    assert response.status_code == 200
    attempt = response.json()
    assert attempt["outcome"] == "sent" and attempt["status_code"] == 200
    assert attempt["latency_ms"] >= 0
    (delivery,) = receiver.deliveries
    assert delivery.verified, delivery.why_not
    assert delivery.headers["Shitun-Event-Type"] == "ping"
    assert delivery.payload["type"] == "ping"
    assert delivery.payload["id"] == delivery.headers["Shitun-Event-Id"]
    assert delivery.payload["data"]["endpoint"] == endpoint.pk


def test_a_failing_ping_says_so_and_counts_nothing(approver, endpoint, receiver):
    receiver.answer(500)
    attempt = approver.post(f"{URL}{endpoint.pk}/ping/").json()
    assert attempt["outcome"] == "retry" and attempt["status_code"] == 500
    receiver.answer(410)
    assert approver.post(f"{URL}{endpoint.pk}/ping/").json()["outcome"] == "failed"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.is_active


def test_a_slow_receiver_is_a_bounded_ping(approver, endpoint, receiver, settings):
    settings.PARTNER_WEBHOOK_PING_TIMEOUT = 0.5
    receiver.answer(200, delay=3)
    attempt = approver.post(f"{URL}{endpoint.pk}/ping/").json()
    assert attempt["outcome"] == "retry"
    assert attempt["detail"] == "timeout"


def test_the_delivery_log_lists_the_endpoints_notices_paginated(
    approver, staff, endpoint, other_approver_user, purchaser_user, store, cooperative
):
    from decimal import Decimal

    from notices.services import notice_send
    from tests.factories import ListingFactory, place_order

    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    orders = [place_order(purchaser_user, store, (listing, "10")) for _ in range(3)]
    first = WebhookEndpoint.objects.get(pk=endpoint.pk)
    from notices.models import Notice

    sent = Notice.objects.get(event_key=f"order:{orders[0].pk}:placed", channel="webhook")
    assert notice_send(notice_id=sent.pk) == "sent"

    page = approver.get(f"{URL}{first.pk}/deliveries/", {"page_size": 2}).json()
    assert [d["event_id"] for d in page["results"]] == [
        f"order:{orders[2].pk}:placed",
        f"order:{orders[1].pk}:placed",
    ]
    assert page["next"] and page["results"][0]["status"] == "pending"
    rest = approver.get(page["next"]).json()
    (oldest,) = rest["results"]
    assert oldest["event_type"] == "order.placed" and oldest["status"] == "sent"
    assert oldest["attempts"] == 1 and oldest["last_status_code"] == 200
    assert oldest["last_latency_ms"] is not None and oldest["sent_at"]
    assert staff.get(f"{URL}{first.pk}/deliveries/").status_code == 200
    # Another organisation's approver does not see the endpoint, nor its log.
    other = client_for(other_approver_user)
    assert other.get(f"{URL}{first.pk}/deliveries/").status_code == 404
