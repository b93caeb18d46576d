"""Partner webhooks through the one outbox, end to end: an order placed on PostgreSQL, the
notice sent by a real Celery worker on Redis, to a real HTTP receiver on 127.0.0.1 that
verifies each signature with partners.signing."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction

from notices import catalog
from notices.models import Notice
from notices.tasks import send_notice
from partners.models import WebhookEndpoint
from tests.conftest import wait_for
from tests.factories import ListingFactory, place_order

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def quick_retries(settings):
    """Seconds, not minutes, between tries (the worker thread reads the same settings)."""
    settings.NOTICE_RETRY_BASE_SECONDS = 0.2
    settings.NOTICE_RETRY_MAX_SECONDS = 5


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("500"))


def webhook_notice(order) -> Notice:
    return Notice.objects.get(channel=catalog.WEBHOOK, event_key=f"order:{order.pk}:placed")


def ended(notice) -> bool:
    notice.refresh_from_db()
    return notice.status != Notice.Status.PENDING


def test_a_placed_order_reaches_the_subscribed_endpoint_signed_and_once(
    purchaser_user, store, listing, endpoint, receiver, worker
):
    order = place_order(purchaser_user, store, (listing, "10"))
    notice = webhook_notice(order)
    assert notice.recipient_key == f"webhook:{endpoint.pk}"
    assert wait_for(lambda: ended(notice))

    (delivery,) = receiver.deliveries
    assert delivery.verified, delivery.why_not
    body = delivery.payload
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "order.placed" and body["data"]["order"] == order.pk
    # The event id is the notice's event key: the same on any retry, so receivers drop repeats.
    assert delivery.headers["Shitun-Event-Id"] == body["id"] == notice.event_key
    assert notice.status == Notice.Status.SENT and notice.last_status_code == 200
    assert notice.last_latency_ms is not None


def test_a_500_then_200_is_retried_with_backoff_and_delivered_once(
    purchaser_user, store, listing, endpoint, receiver, worker
):
    receiver.script = [(500, {})]
    notice = webhook_notice(place_order(purchaser_user, store, (listing, "10")))
    assert wait_for(lambda: ended(notice))

    assert [d.verified for d in receiver.deliveries] == [True, True]
    assert len({d.headers["Shitun-Event-Id"] for d in receiver.deliveries}) == 1
    assert (notice.status, notice.attempts, notice.last_status_code) == ("sent", 2, 200)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0  # a retry counts nothing, the success resets


def test_a_404_is_not_retried_and_counts_against_the_endpoint(
    purchaser_user, store, listing, endpoint, receiver, worker
):
    receiver.answer(404)
    notice = webhook_notice(place_order(purchaser_user, store, (listing, "10")))
    assert wait_for(lambda: ended(notice))

    assert len(receiver.deliveries) == 1
    assert (notice.status, notice.attempts, notice.last_status_code) == ("failed", 1, 404)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.is_active


def test_a_429_is_retried_no_sooner_than_its_retry_after(
    purchaser_user, store, listing, endpoint, receiver, worker
):
    receiver.script = [(429, {"Retry-After": "2"})]
    notice = webhook_notice(place_order(purchaser_user, store, (listing, "10")))
    assert wait_for(lambda: ended(notice))

    first, second = receiver.deliveries
    assert notice.status == "sent" and notice.attempts == 2
    # A lower bound the sender guarantees (the base backoff here is 0.2 s), not a speed.
    assert second.at - first.at >= 2


def test_the_send_task_run_twice_delivers_once(
    purchaser_user, store, listing, endpoint, receiver, worker, finished_tasks
):
    notice = webhook_notice(place_order(purchaser_user, store, (listing, "10")))
    send_notice.delay(notice.pk)  # a duplicate message: a redelivery, a sweep
    send_notice.delay(notice.pk)
    assert wait_for(lambda: len([t for t in finished_tasks if t[0].endswith("send_notice")]) >= 3)
    assert wait_for(lambda: ended(notice))

    assert len(receiver.deliveries) == 1
    notice.refresh_from_db()
    assert notice.status == "sent" and notice.attempts == 1


def test_an_endpoint_failing_n_times_is_disabled_and_its_approvers_emailed(
    purchaser_user, approver_user, store, listing, endpoint, receiver, worker, settings
):
    settings.PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES = 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    approver_user.email = "shenpi@example.cn"
    approver_user.save()
    receiver.answer(410)
    for _ in range(2):
        notice = webhook_notice(place_order(purchaser_user, store, (listing, "10")))
        assert wait_for(lambda notice=notice: ended(notice))

    endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    told = Notice.objects.get(
        event_type=catalog.WEBHOOK_ENDPOINT_DISABLED, user=approver_user, channel="email"
    )
    assert wait_for(lambda: ended(told))
    assert told.status == "sent"
    (email,) = [m for m in mail.outbox if endpoint.url in m.subject]
    assert email.to == [approver_user.email] and endpoint.url in email.body

    # Switched off, it gets nothing new: a third order writes no notice to it.
    order = place_order(purchaser_user, store, (listing, "10"))
    assert not Notice.objects.filter(channel=catalog.WEBHOOK, event_key=f"order:{order.pk}:placed")
    assert len(receiver.deliveries) == 2


def test_a_pending_notice_to_an_endpoint_disabled_since_ends_failed_uncounted(
    purchaser_user, store, listing, endpoint, receiver
):
    """Written while the endpoint was on, sent after it was switched off: failed, with the
    reason, and not one more failure of the endpoint."""
    from notices.services import notice_send

    notice = webhook_notice(place_order(purchaser_user, store, (listing, "10")))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="Deactivated by 刘芳."
    )
    assert notice_send(notice_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert "disabled" in notice.last_error and "刘芳" in notice.last_error
    assert receiver.deliveries == []
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


def test_a_rolled_back_order_sends_nothing_to_the_receiver(
    purchaser_user, store, listing, endpoint, receiver, worker
):
    with pytest.raises(RuntimeError), transaction.atomic():
        place_order(purchaser_user, store, (listing, "10"))
        assert Notice.objects.filter(channel=catalog.WEBHOOK).exists()
        raise RuntimeError
    assert not Notice.objects.exists()
    # A committed order after it: once its delivery is in, nothing else came before it.
    order = place_order(purchaser_user, store, (listing, "10"))
    assert wait_for(lambda: receiver.deliveries)
    assert [d.payload["data"]["order"] for d in receiver.deliveries] == [order.pk]
