"""Reservation expiry: parts nobody confirmed (or approved) in time are cancelled by the
system and give their stock back; the beat job's task is run by a real Celery worker."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orders.models import Fulfilment, FulfilmentStatus, Order, OrderEvent
from orders.selectors import expired_reservations
from orders.services import transitions as fulfilment_services
from orders.services.placement import LineRequest, order_place
from orders.services.transitions import expire_reservations, fulfilment_confirm, order_approve
from orders.tasks import expire_reservations as expire_reservations_task
from tests.conftest import wait_for
from tests.factories import ListingFactory

S = FulfilmentStatus
SECOND = datetime.timedelta(seconds=1)


def place(user, store, *lines) -> Order:
    """Place an order of (listing, quantity) lines as ``user``."""
    requests = [LineRequest(listing.pk, Decimal(quantity)) for listing, quantity in lines]
    return order_place(user=user, store=store, lines=requests).order


def reserved(listing) -> Decimal:
    listing.refresh_from_db()
    return listing.stock_reserved


def expire_now(order: Order) -> None:
    """Move the order's reservation window into the past, as time passing would."""
    Order.objects.filter(pk=order.pk).update(
        reservation_expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


@pytest.fixture
def other_listing(other_cooperative):
    return ListingFactory(cooperative=other_cooperative)


@pytest.mark.django_db
def test_expired_placed_part_is_cancelled_and_gives_stock_back(purchaser_user, store, listing):
    order = place(purchaser_user, store, (listing, "20"))
    assert reserved(listing) == 20

    assert expire_reservations(now=order.reservation_expires_at + SECOND) == 1

    fulfilment = order.fulfilments.get()
    assert fulfilment.status == S.CANCELLED
    assert fulfilment.reason == "reservation expired"
    assert reserved(listing) == 0
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.total == 0


@pytest.mark.django_db
def test_expiry_is_an_event_by_the_system(purchaser_user, store, listing):
    order = place(purchaser_user, store, (listing, "20"))

    expire_reservations(now=order.reservation_expires_at + SECOND)

    event = OrderEvent.objects.filter(order=order).last()
    assert event.actor is None
    assert (event.from_status, event.to_status) == (S.PLACED, S.CANCELLED)
    assert event.note == "reservation expired"


@pytest.mark.django_db
def test_expired_part_waiting_for_approval_is_cancelled(
    organisation, purchaser_user, store, listing
):
    organisation.approval_threshold = Decimal("100.00")
    organisation.save()
    order = place(purchaser_user, store, (listing, "20"))
    assert order.status == S.PENDING_APPROVAL

    assert expire_reservations(now=order.reservation_expires_at + SECOND) == 1

    fulfilment = order.fulfilments.get()
    assert fulfilment.status == S.CANCELLED
    assert fulfilment.reason == "reservation expired"
    assert reserved(listing) == 0


@pytest.mark.django_db
def test_confirmed_part_of_an_expired_order_is_untouched(
    purchaser_user, manager_user, store, cooperative, listing, other_listing
):
    order = place(purchaser_user, store, (listing, "20"), (other_listing, "30"))
    confirmed = order.fulfilments.get(cooperative=cooperative)
    fulfilment_confirm(fulfilment=confirmed, user=manager_user)

    assert expire_reservations(now=order.reservation_expires_at + SECOND) == 1

    statuses = dict(Fulfilment.objects.filter(order=order).values_list("cooperative", "status"))
    assert statuses == {cooperative.pk: S.CONFIRMED, other_listing.cooperative_id: S.CANCELLED}
    assert reserved(listing) == 20
    assert reserved(other_listing) == 0
    order.refresh_from_db()
    assert order.status == S.CONFIRMED
    assert order.total == Decimal("1360.00")  # 20 × 68.00; the cancelled part counts nothing


@pytest.mark.django_db
def test_orders_not_yet_expired_are_untouched(purchaser_user, store, listing):
    order = place(purchaser_user, store, (listing, "20"))

    assert expire_reservations() == 0
    assert expire_reservations(now=order.reservation_expires_at - SECOND) == 0

    assert order.fulfilments.get().status == S.PLACED
    assert reserved(listing) == 20


@pytest.mark.django_db
def test_approving_starts_a_new_reservation_window(
    settings, organisation, purchaser_user, approver_user, store, listing
):
    settings.ORDER_RESERVATION_TTL = datetime.timedelta(hours=3)
    organisation.approval_threshold = Decimal("100.00")
    organisation.save()
    order = place(purchaser_user, store, (listing, "20"))
    expire_now(order)

    order = order_approve(order=order, user=approver_user)

    assert order.reservation_expires_at == order.approved_at + datetime.timedelta(hours=3)
    assert expire_reservations() == 0
    assert order.fulfilments.get().status == S.PLACED
    assert reserved(listing) == 20
    assert expire_reservations(now=order.reservation_expires_at + SECOND) == 1
    assert reserved(listing) == 0


@pytest.mark.django_db
def test_expiring_twice_gives_the_same_result(purchaser_user, store, listing, other_listing):
    order = place(purchaser_user, store, (listing, "20"), (other_listing, "30"))
    later = order.reservation_expires_at + SECOND

    assert expire_reservations(now=later) == 2
    assert expire_reservations(now=later) == 0

    assert set(order.fulfilments.values_list("status", flat=True)) == {S.CANCELLED}
    assert reserved(listing) == 0
    assert reserved(other_listing) == 0
    assert OrderEvent.objects.filter(order=order, to_status=S.CANCELLED).count() == 2


# --- The beat job's task, run by a real worker against Redis ------------------------------


def expiry_runs(finished_tasks) -> list:
    return [retval for name, retval in finished_tasks if name == expire_reservations_task.name]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_cancels_expired_order_and_releases_stock(
    worker, finished_tasks, purchaser_user, store, listing
):
    order = place(purchaser_user, store, (listing, "20"))
    expire_now(order)

    expire_reservations_task.delay()

    assert wait_for(lambda: len(expiry_runs(finished_tasks)) == 1)
    assert expiry_runs(finished_tasks) == [1]
    fulfilment = order.fulfilments.get()
    assert fulfilment.status == S.CANCELLED
    assert fulfilment.reason == "reservation expired"
    assert reserved(listing) == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_running_expiry_twice_leaves_the_same_state(
    worker, finished_tasks, purchaser_user, store, listing
):
    order = place(purchaser_user, store, (listing, "20"))
    expire_now(order)

    expire_reservations_task.delay()
    expire_reservations_task.delay()

    assert wait_for(lambda: len(expiry_runs(finished_tasks)) == 2)
    assert sorted(expiry_runs(finished_tasks)) == [0, 1]
    assert order.fulfilments.get().status == S.CANCELLED
    assert reserved(listing) == 0
    assert OrderEvent.objects.filter(order=order, to_status=S.CANCELLED).count() == 1


# --- One failing part never blocks the rest; the query has an index --------------------------


@pytest.mark.django_db
def test_one_failing_part_is_logged_skipped_and_expired_next_run(
    monkeypatch, caplog, purchaser_user, store, listing, other_listing
):
    first = place(purchaser_user, store, (listing, "20"))
    second = place(purchaser_user, store, (other_listing, "30"))
    later = second.reservation_expires_at + SECOND
    broken = first.fulfilments.get().pk
    real_cancel = fulfilment_services._cancel

    def cancel(fulfilment, user, reason):
        if fulfilment.pk == broken:
            raise RuntimeError("lock timeout")
        return real_cancel(fulfilment, user, reason)

    monkeypatch.setattr(fulfilment_services, "_cancel", cancel)
    with caplog.at_level(logging.ERROR):
        assert expire_reservations(now=later) == 1

    assert second.fulfilments.get().status == S.CANCELLED
    assert first.fulfilments.get().status == S.PLACED  # rolled back, not half-cancelled
    assert reserved(listing) == 20
    assert f"expiring fulfilment {broken} failed" in caplog.text

    monkeypatch.setattr(fulfilment_services, "_cancel", real_cancel)
    assert expire_reservations(now=later) == 1
    assert first.fulfilments.get().status == S.CANCELLED
    assert reserved(listing) == 0


@pytest.mark.django_db
def test_the_expiry_query_uses_an_index_that_matches_it(
    purchaser_user, store, listing, other_listing
):
    place(purchaser_user, store, (listing, "20"), (other_listing, "30"))
    query = expired_reservations(now=timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        # A table this small is read whole whatever indexes exist; without sequential scans
        # the planner shows which index it would pick as the table grows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()

    assert "fulfilment_awaiting_idx" in plan, plan
    assert "Seq Scan" not in plan, plan
