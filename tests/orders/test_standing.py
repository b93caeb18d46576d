"""Standing orders: each due occurrence is placed once per period as a normal order, in part
when stock is short, and the purchasing team is told when it could not be placed in full."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orders.models import FulfilmentStatus, Order, StandingOrder, StandingOrderRun
from orders.services.standing import (
    standing_order_create,
    standing_order_run,
    standing_orders_place_due,
)
from orders.tasks import place_standing_orders
from tests.conftest import assert_error, deliver_mail, wait_for
from tests.factories import ListingFactory, MembershipFactory

Outcome = StandingOrderRun.Outcome


def make_standing(user, store, *lines, weekday=0, lead_days=2, is_active=True) -> StandingOrder:
    """A standing order of (listing, quantity) lines, made as ``user``."""
    standing = standing_order_create(
        user=user,
        store=store,
        weekday=weekday,
        lead_days=lead_days,
        lines=[{"listing": listing, "quantity": Decimal(q)} for listing, q in lines],
    )
    if not is_active:
        StandingOrder.objects.filter(pk=standing.pk).update(is_active=False)
        standing.refresh_from_db()
    return standing


def reserved(listing) -> Decimal:
    listing.refresh_from_db()
    return listing.stock_reserved


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


def team_mail():
    """The standing-order reports e-mailed to the team (orders placed are told apart)."""
    return deliver_mail("standing_order.report")


@pytest.fixture(autouse=True)
def _english_notices(settings):
    """These tests read what the team is told in English; its members chose no language, so
    they get the notices' default, set here (zh-Hans otherwise: tests/notices)."""
    settings.NOTICE_LANGUAGE = "en"


@pytest.fixture
def team_emails(organisation, purchaser_user):
    """Two members of `organisation` with an address, one without; and an outsider with one."""
    purchaser_user.email = "caigou@example.cn"
    purchaser_user.save(update_fields=["email"])
    MembershipFactory(organisation=organisation, user__email="shenpi@example.cn")
    MembershipFactory(organisation=organisation, user__email="")
    MembershipFactory(user__email="outsider@example.cn")
    return {"caigou@example.cn", "shenpi@example.cn"}


# --- Placing one occurrence ----------------------------------------------------------------


@pytest.mark.django_db
def test_run_places_a_normal_order(
    purchaser_user, store, listing, django_capture_on_commit_callbacks
):
    standing = make_standing(purchaser_user, store, (listing, "50"), lead_days=2)
    period = timezone.localdate()

    with django_capture_on_commit_callbacks(execute=True):
        run = standing_order_run(standing=standing, period=period)

    assert run.outcome == Outcome.PLACED
    order = run.order
    assert order.status == FulfilmentStatus.PLACED
    assert order.standing_order == standing
    assert order.store == store
    assert order.placed_by == purchaser_user
    assert order.requested_delivery_date == period + datetime.timedelta(days=2)
    assert [(line.listing_id, line.quantity) for line in order.lines.all()] == [
        (listing.pk, Decimal("50"))
    ]
    assert reserved(listing) == 50
    assert team_mail() == []  # placed in full: nothing to tell


@pytest.mark.django_db
def test_run_without_lead_days_asks_for_delivery_on_the_day(purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"), lead_days=0)
    period = timezone.localdate()

    run = standing_order_run(standing=standing, period=period)

    assert run.order.requested_delivery_date == period


@pytest.mark.django_db
def test_running_the_same_period_twice_places_one_order(purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    period = timezone.localdate()

    first = standing_order_run(standing=standing, period=period)
    second = standing_order_run(standing=standing, period=period)

    assert first is not None
    assert second is None
    assert Order.objects.filter(standing_order=standing).count() == 1
    assert standing.runs.count() == 1
    assert reserved(listing) == 50


@pytest.mark.django_db
def test_a_run_refused_by_another_constraint_is_a_bug_not_already_ran(
    purchaser_user, store, listing
):
    """Only the once-per-period constraint means "this period already ran"; any other
    violation (here a constraint that is not the project's) must surface, not be swallowed as
    a run that happened."""
    standing = make_standing(purchaser_user, store, (listing, "50"))
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "ALTER TABLE orders_standingorderrun "
            "ADD CONSTRAINT test_no_runs CHECK (false) NOT VALID"
        )

    with pytest.raises(IntegrityError):
        standing_order_run(standing=standing, period=timezone.localdate())


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_for_one_period_place_one_order(purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    period = timezone.localdate()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            mine = StandingOrder.objects.select_related("store", "created_by").get(pk=standing.pk)
            barrier.wait(timeout=10)
            results.append(standing_order_run(standing=mine, period=period))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(result is None for result in results) == [False, True]
    assert Order.objects.filter(standing_order=standing).count() == 1
    assert StandingOrderRun.objects.filter(standing_order=standing).count() == 1
    assert reserved(listing) == 50


# --- The daily job ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_place_due_places_only_active_standing_orders_due_that_day_and_not_yet_run(
    purchaser_user, store, listing
):
    day = timezone.localdate() + datetime.timedelta(days=1)
    due = make_standing(purchaser_user, store, (listing, "10"), weekday=day.weekday())
    other_day = make_standing(
        purchaser_user, store, (listing, "10"), weekday=(day.weekday() + 1) % 7
    )
    paused = make_standing(
        purchaser_user, store, (listing, "10"), weekday=day.weekday(), is_active=False
    )
    already_ran = make_standing(purchaser_user, store, (listing, "10"), weekday=day.weekday())
    standing_order_run(standing=already_ran, period=day)

    assert standing_orders_place_due(today=day) == 1

    assert due.runs.get().period == day
    assert Order.objects.filter(standing_order=due).count() == 1
    assert not other_day.runs.exists()
    assert not paused.runs.exists()
    assert Order.objects.filter(standing_order=already_ran).count() == 1
    assert standing_orders_place_due(today=day) == 0


# --- Short stock: in part, or not at all, and the team is told ------------------------------


@pytest.mark.django_db
def test_short_stock_places_the_largest_allowed_quantity_and_tells_the_team(
    purchaser_user, store, cooperative, team_emails, django_capture_on_commit_callbacks
):
    short = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("37"))
    plenty = ListingFactory(cooperative=cooperative)
    standing = make_standing(purchaser_user, store, (short, "50"), (plenty, "20"))

    with django_capture_on_commit_callbacks(execute=True):
        run = standing_order_run(standing=standing, period=timezone.localdate())

    assert run.outcome == Outcome.PARTIAL
    # MOQ 10, steps of 5: of 37 available, 35 is the most that can be ordered.
    quantities = dict(run.order.lines.values_list("listing_id", "quantity"))
    assert quantities == {short.pk: Decimal("35"), plenty.pk: Decimal("20")}
    assert reserved(short) == 35
    assert "35 of 50" in run.message
    mails = team_mail()
    assert sorted(to for m in mails for to in m.to) == sorted(team_emails)  # one each
    for message in mails:
        assert "placed in part" in message.subject
        assert message.body == run.message


@pytest.mark.django_db
def test_nothing_available_fails_without_an_order_and_tells_the_team(
    purchaser_user, store, cooperative, team_emails, django_capture_on_commit_callbacks
):
    short = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("5"))
    standing = make_standing(purchaser_user, store, (short, "50"))

    with django_capture_on_commit_callbacks(execute=True):
        run = standing_order_run(standing=standing, period=timezone.localdate())

    assert run.outcome == Outcome.FAILED
    assert run.order is None
    assert not Order.objects.filter(standing_order=standing).exists()
    assert reserved(short) == 0
    mails = team_mail()
    assert sorted(to for m in mails for to in m.to) == sorted(team_emails)
    assert all("could not be placed" in m.subject for m in mails)


@pytest.mark.django_db
def test_a_closed_store_fails_the_run_and_tells_the_team(
    purchaser_user, store, listing, team_emails, django_capture_on_commit_callbacks
):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    store.is_active = False
    store.save()

    with django_capture_on_commit_callbacks(execute=True):
        run = standing_order_run(standing=standing, period=timezone.localdate())

    assert run.outcome == Outcome.FAILED
    assert "store" in run.message
    assert not Order.objects.filter(standing_order=standing).exists()
    assert reserved(listing) == 0
    assert len(team_mail()) == len(team_emails)


@pytest.mark.django_db
def test_team_mail_waits_for_the_commit(
    purchaser_user, store, cooperative, team_emails, django_capture_on_commit_callbacks
):
    short = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("5"))
    standing = make_standing(purchaser_user, store, (short, "50"))

    with pytest.raises(RuntimeError), transaction.atomic():
        standing_order_run(standing=standing, period=timezone.localdate())
        raise RuntimeError("rolled back")
    assert team_mail() == []  # a run that rolled back tells nobody anything

    with django_capture_on_commit_callbacks(execute=True):
        standing_order_run(standing=standing, period=timezone.localdate())
    assert len(team_mail()) == len(team_emails)


# --- The API ---------------------------------------------------------------------------------

URL = "/api/v1/standing-orders/"


def body(store, listing, **extra):
    return {
        "store": store.pk,
        "weekday": 0,
        "lead_days": 2,
        "lines": [{"listing": listing.pk, "quantity": "200"}],
        **extra,
    }


@pytest.mark.django_db
def test_purchaser_creates_a_standing_order(purchaser, purchaser_user, organisation, store):
    listing = ListingFactory(stock_on_hand=Decimal("500"))

    response = purchaser.post(URL, body(store, listing), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["organisation"] == organisation.pk
    assert (data["store"], data["weekday"], data["lead_days"]) == (store.pk, 0, 2)
    assert data["is_active"] is True
    assert data["lines"] == [{"listing": listing.pk, "quantity": "200.000"}]
    standing = StandingOrder.objects.get(pk=data["id"])
    assert standing.created_by == purchaser_user
    assert list(standing.lines.values_list("listing_id", "quantity")) == [
        (listing.pk, Decimal("200"))
    ]


@pytest.mark.django_db
def test_purchaser_sees_the_runs(purchaser, purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    run = standing_order_run(standing=standing, period=timezone.localdate())

    response = purchaser.get(f"{URL}{standing.pk}/")

    assert response.status_code == 200, response.content
    [shown] = response.json()["runs"]
    assert shown["outcome"] == Outcome.PLACED
    assert shown["order"] == run.order.pk
    assert shown["period"] == timezone.localdate().isoformat()


@pytest.mark.django_db
def test_purchaser_pauses_a_standing_order_and_it_stops_running(
    purchaser, purchaser_user, store, listing
):
    today = timezone.localdate()
    standing = make_standing(purchaser_user, store, (listing, "50"), weekday=today.weekday())

    response = purchaser.patch(f"{URL}{standing.pk}/", {"is_active": False}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    standing.refresh_from_db()
    assert standing.is_active is False
    assert standing_orders_place_due(today=today) == 0
    assert not standing.runs.exists()


@pytest.mark.django_db
def test_store_of_another_organisation_is_refused(purchaser, other_store, listing):
    response = purchaser.post(URL, body(other_store, listing), format="json")

    assert_error(response, 400, field="store")
    assert not StandingOrder.objects.exists()


@pytest.mark.django_db
def test_other_organisations_cannot_see_it(other_purchaser, purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))

    assert_error(other_purchaser.get(f"{URL}{standing.pk}/"), 404)
    assert_error(
        other_purchaser.patch(f"{URL}{standing.pk}/", {"is_active": False}, format="json"), 404
    )
    assert other_purchaser.get(URL).json()["results"] == []
    standing.refresh_from_db()
    assert standing.is_active is True


@pytest.mark.django_db
def test_cooperative_managers_are_refused(manager, purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))

    assert_error(manager.get(URL), 403)
    assert_error(manager.get(f"{URL}{standing.pk}/"), 403)
    assert_error(manager.post(URL, body(store, listing), format="json"), 403)


# --- The beat job's task, run by a real worker against Redis ------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_places_a_due_standing_order_once_even_when_sent_twice(
    worker, finished_tasks, purchaser_user, store, listing
):
    standing = make_standing(
        purchaser_user, store, (listing, "50"), weekday=timezone.localdate().weekday()
    )

    place_standing_orders.delay()
    place_standing_orders.delay()

    def runs():
        return [ret for name, ret in finished_tasks if name == place_standing_orders.name]

    assert wait_for(lambda: len(runs()) == 2)
    assert sorted(runs()) == [0, 1]
    order = Order.objects.get(standing_order=standing)
    assert order.status == FulfilmentStatus.PLACED
    assert standing.runs.get().order == order
    assert reserved(listing) == 50
