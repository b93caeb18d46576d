"""The outbox: notices are written with the event, sent after commit, once, retried with
backoff, failed and replayed; nothing is sent for a change that rolled back."""

import datetime
import threading
from contextlib import contextmanager
from decimal import Decimal

import pytest
from celery.signals import before_task_publish
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from backend.celery import app as celery_app
from notices import catalog, services
from notices.models import Notice
from orders.services import transitions
from tests.conftest import assert_error, wait_for
from tests.factories import ListingFactory, place_order
from tests.notices.conftest import free_port, sent_sms

Status = Notice.Status


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("500"))


@pytest.mark.django_db
def test_placing_an_order_tells_the_cooperative_and_the_buyers_in_the_same_transaction(
    purchaser_user, approver_user, manager_user, store, listing, with_email
):
    order = place_order(purchaser_user, store, (listing, "10"))

    notices = Notice.objects.filter(event_type=catalog.ORDER_PLACED)
    part_key = f"order_event:{order.events.get().pk}"  # the cooperative hears of its part
    order_key = f"order:{order.pk}:placed"  # the buyer's side, of the whole order, once
    got = {(n.event_key, n.recipient_key, n.channel) for n in notices}
    manager, purchaser, approver = (
        f"user:{u.pk}" for u in (manager_user, purchaser_user, approver_user)
    )
    assert got == {
        (part_key, manager, "inbox"),
        (part_key, manager, "sms"),
        (part_key, manager, "email"),
        (order_key, purchaser, "inbox"),
        (order_key, purchaser, "email"),
        (order_key, approver, "inbox"),  # no address: no e-mail
    }
    inbox = notices.get(recipient_key=manager, channel="inbox")
    assert inbox.status == Status.SENT and inbox.sent_at  # the row is the message
    assert notices.get(recipient_key=manager, channel="sms").status == Status.PENDING
    assert inbox.payload == {
        "id": part_key,
        "type": "order.placed",
        "created_at": inbox.payload["created_at"],
        "data": {
            "order": order.pk,
            "organisation": order.organisation_id,
            "store": store.pk,
            "fulfilment": order.fulfilments.get().pk,
            "cooperative": listing.cooperative_id,
            "status": "placed",
            "total": str(order.total),
            "note": "",
        },
    }
    buyers = notices.get(recipient_key=purchaser, channel="inbox")
    assert buyers.payload["data"]["fulfilments"] == [
        {
            "fulfilment": order.fulfilments.get().pk,
            "cooperative": listing.cooperative_id,
            "status": "placed",
        }
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_order_writes_and_sends_nothing(
    purchaser_user, manager_user, store, listing, sms_file, worker
):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            place_order(purchaser_user, store, (listing, "10"))
            assert Notice.objects.exists()  # written with the order...
            raise RuntimeError("the request failed after placing")

    assert not Notice.objects.exists()  # ...and gone with it
    # A later order's SMS arrives: the worker is listening, and it got nothing else.
    place_order(purchaser_user, store, (listing, "10"))
    assert wait_for(lambda: sent_sms(sms_file))
    assert len(sent_sms(sms_file)) == 1


@pytest.mark.django_db(transaction=True)
def test_each_notice_is_delivered_once_when_its_task_runs_twice(
    purchaser_user, manager_user, store, listing, sms_file, worker, finished_tasks
):
    from notices.tasks import send_notice

    place_order(purchaser_user, store, (listing, "10"))  # queues the SMS after commit
    notice = Notice.objects.get(channel="sms")
    send_notice.delay(notice.pk)  # and a duplicate message (a redelivery, a sweep)
    send_notice.delay(notice.pk)

    assert wait_for(lambda: len([t for t in finished_tasks if t[0].endswith("send_notice")]) >= 3)
    notice.refresh_from_db()
    assert notice.status == Status.SENT and notice.attempts == 1
    assert len(sent_sms(sms_file)) == 1
    results = [result for name, result in finished_tasks if name.endswith("send_notice")]
    assert results.count("sent") == 1 and results.count("skipped") >= 2


def sends_of(finished_tasks) -> list:
    return [result for name, result in finished_tasks if name.endswith("send_notice")]


@contextmanager
def publishes_of_this_thread():
    """Names of the tasks published by this thread (not by a worker thread's fan-out)."""
    published, me = [], threading.get_ident()

    def record(sender=None, **kwargs):
        if threading.get_ident() == me:
            published.append(sender)

    before_task_publish.connect(record, weak=False)
    try:
        yield published
    finally:
        before_task_publish.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_an_order_hands_its_notices_to_the_broker_in_one_message_and_each_is_sent_once(
    purchaser_user,
    manager_user,
    other_manager_user,
    store,
    listing,
    other_cooperative,
    with_email,
    sms_file,
    worker,
    finished_tasks,
):
    """Two cooperatives' managers (SMS and e-mail each) and the purchaser (e-mail): five
    notices to send, one publish from the request; the worker gives each its own task."""
    User.objects.filter(pk=other_manager_user.pk).update(email="hezuoshe2@example.cn")
    other = ListingFactory(cooperative=other_cooperative, stock_on_hand=Decimal("500"))
    celery_app.control.purge()  # no message of an earlier test in this Redis database
    with publishes_of_this_thread() as published:
        place_order(purchaser_user, store, (listing, "10"), (other, "10"))

    to_send = Notice.objects.exclude(channel="inbox")
    assert to_send.count() == 5
    assert published == ["notices.tasks.queue_notices"]
    assert wait_for(lambda: not to_send.filter(status=Status.PENDING).exists())
    assert set(to_send.values_list("status", "attempts")) == {(Status.SENT, 1)}
    assert len(sent_sms(sms_file)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "caigou@example.cn",
        "hezuoshe2@example.cn",
        "hezuoshe@example.cn",
    ]
    # task_postrun fires after the task's own commit: wait for the record, not the rows.
    assert wait_for(lambda: sends_of(finished_tasks).count("sent") == 5)
    assert ("notices.tasks.queue_notices", 5) in finished_tasks


@pytest.mark.django_db(transaction=True)
def test_a_single_notice_goes_to_its_send_task_directly(
    purchaser_user, manager_user, store, listing, sms_file, worker, finished_tasks
):
    celery_app.control.purge()  # no message of an earlier test in this Redis database
    with publishes_of_this_thread() as published:
        place_order(purchaser_user, store, (listing, "10"))  # the manager's SMS only
    assert published == ["notices.tasks.send_notice"]
    assert wait_for(lambda: sends_of(finished_tasks).count("sent") == 1)
    assert len(sent_sms(sms_file)) == 1


@pytest.mark.django_db
def test_a_locked_notice_is_left_to_the_worker_holding_it(
    purchaser_user, manager_user, store, listing, sms_file
):
    """Two workers at once: the second skips the row the first has locked (skip_locked)."""
    import threading

    place_order(purchaser_user, store, (listing, "10"))
    notice = Notice.objects.get(channel="sms")
    outcome = {}

    def other_worker():
        from django.db import connection

        outcome["result"] = services.notice_send(notice_id=notice.pk)
        connection.close()

    Notice.objects.select_for_update().get(pk=notice.pk)  # this test holds the row
    thread = threading.Thread(target=other_worker)
    thread.start()
    thread.join(timeout=20)
    assert outcome["result"] == "skipped"


@pytest.mark.django_db
def test_failures_back_off_exponentially_then_fail_then_replay_sends(
    settings, purchaser_user, manager_user, store, listing, with_email, staff
):
    """E-mail to an SMTP port where nobody listens: every try is refused by the network."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.NOTICE_MAX_ATTEMPTS = 4
    settings.NOTICE_RETRY_BASE_SECONDS = 10
    place_order(purchaser_user, store, (listing, "10"))
    notice = Notice.objects.get(channel="email", user=manager_user)

    waits = []
    for attempt in range(1, 4):
        before = timezone.now()
        assert services.notice_send(notice_id=notice.pk) == Status.PENDING
        notice.refresh_from_db()
        assert notice.attempts == attempt
        assert "Connection refused" in notice.last_error or "111" in notice.last_error
        wait = (notice.next_attempt_at - before).total_seconds()
        ceiling = 10 * 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling + 1, (attempt, wait)
        waits.append(wait)
        # Not due yet: a second message for it does nothing.
        assert services.notice_send(notice_id=notice.pk) == "skipped"
        Notice.objects.filter(pk=notice.pk).update(next_attempt_at=timezone.now())
    assert waits[0] < waits[2]

    assert services.notice_send(notice_id=notice.pk) == Status.FAILED
    notice.refresh_from_db()
    assert notice.attempts == 4 and notice.status == Status.FAILED

    failed = staff.get("/api/v1/outbox/", {"status": "failed"}).json()["results"]
    assert [row["id"] for row in failed] == [notice.pk]
    assert failed[0]["attempts"] == 4 and failed[0]["last_error"]

    # The mail server is back; staff replay.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = staff.post(f"/api/v1/outbox/{notice.pk}/replay/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending" and response.json()["attempts"] == 0
    assert services.notice_send(notice_id=notice.pk) == Status.SENT
    assert [m.to for m in mail.outbox] == [["hezuoshe@example.cn"]]

    again = staff.post(f"/api/v1/outbox/{notice.pk}/replay/")
    assert_error(again, 409, "conflict", "status")


def test_backoff_grows_with_jitter_and_respects_retry_after(settings):
    settings.NOTICE_RETRY_BASE_SECONDS, settings.NOTICE_RETRY_MAX_SECONDS = 30, 600
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (6, 600), (9, 600)]:
        delays = {services.backoff(attempts) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered: not all in step
    assert services.backoff(1, retry_after=200) >= 200


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_what_was_never_queued(
    settings, purchaser_user, manager_user, store, listing, sms_file, worker
):
    settings.NOTICE_SWEEP_AFTER_SECONDS = 0
    with transaction.atomic():
        place_order(purchaser_user, store, (listing, "10"))
        # Forget the after-commit queueing: as if the broker had been unreachable.
        transaction.get_connection().run_on_commit.clear()
    assert Notice.objects.get(channel="sms").status == Status.PENDING

    assert services.notices_sweep() == 1
    assert wait_for(lambda: Notice.objects.get(channel="sms").status == Status.SENT)
    assert len(sent_sms(sms_file)) == 1


@pytest.mark.django_db
def test_each_reminder_is_written_once_however_often_the_job_runs(
    settings, purchaser_user, manager_user, store, listing
):
    from notices.reminders import reminders_send

    order = place_order(purchaser_user, store, (listing, "10"))
    later = timezone.now() + datetime.timedelta(hours=settings.NOTICE_CONFIRM_REMINDER_HOURS + 1)

    reminders_send(now=later)
    reminders_send(now=later)

    reminders = Notice.objects.filter(event_type=catalog.REMINDER_CONFIRM)
    part = order.fulfilments.get()
    assert {(n.event_key, n.channel) for n in reminders} == {
        (f"reminder:confirm:{part.pk}", "inbox"),
        (f"reminder:confirm:{part.pk}", "sms"),
    }
    assert {n.user_id for n in reminders} == {manager_user.pk}

    transitions.fulfilment_confirm(fulfilment=part, user=manager_user)
    reminders_send(now=later + datetime.timedelta(hours=1))
    assert reminders.count() == 2  # confirmed: nothing more


@pytest.mark.django_db
def test_the_lifecycle_tells_each_move_once_with_its_type(
    purchaser_user, manager_user, store, cooperative
):
    honey = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("500"))
    order = place_order(purchaser_user, store, (honey, "10"))
    part = order.fulfilments.get()
    line = part.lines.get()
    transitions.fulfilment_confirm(
        fulfilment=part, user=manager_user, quantities={line.pk: Decimal("8")}
    )

    types = list(
        Notice.objects.filter(channel="inbox").order_by("pk").values_list("event_type", flat=True)
    )
    assert "fulfilment.short_confirmed" in types and "fulfilment.confirmed" not in types
    short = Notice.objects.get(event_type="fulfilment.short_confirmed", channel="inbox")
    assert short.user == purchaser_user
