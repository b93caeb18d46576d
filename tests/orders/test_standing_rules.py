"""Standing orders keep the buyer's rules: the approval threshold, the creator's standing in
the organisation, missed days, cooperatives' minimum order values, listings the buyer can
see, and their run history."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.utils import formats, timezone

from buyers.models import Membership
from orders.models import FulfilmentStatus, Order, StandingOrder, StandingOrderRun
from orders.services import standing_runs
from orders.services.standing import (
    standing_order_run,
    standing_order_update,
    standing_orders_place_due,
)
from tests.conftest import assert_error
from tests.factories import CooperativeFactory, ListingFactory, MembershipFactory
from tests.orders.test_standing import make_standing, reserved, team_mail

Outcome = StandingOrderRun.Outcome
S = FulfilmentStatus
URL = "/api/v1/standing-orders/"


@pytest.fixture
def listing(cooperative):
    return ListingFactory(cooperative=cooperative)


@pytest.fixture
def team_email(organisation):
    """A member of `organisation` with an address, who hears about every run."""
    return MembershipFactory(organisation=organisation, user__email="team@example.cn").user.email


@pytest.fixture
def threshold(organisation):
    """Orders above ¥1,000 wait for an approver; 50 kg of the listing come to ¥3,400."""
    organisation.approval_threshold = Decimal("1000.00")
    organisation.save()
    return organisation.approval_threshold


@pytest.fixture(autouse=True)
def _english_notices(settings):
    """What the team is told is read in English here (its members chose no language)."""
    settings.NOTICE_LANGUAGE = "en"


def run_today(standing):
    return standing_order_run(standing=standing, period=timezone.localdate())


# --- The approval threshold ----------------------------------------------------------------


@pytest.mark.django_db
def test_an_approvers_run_above_the_threshold_waits_for_approval(
    approver_user, store, listing, threshold, team_email, django_capture_on_commit_callbacks
):
    standing = make_standing(approver_user, store, (listing, "50"))

    with django_capture_on_commit_callbacks(execute=True):
        run = run_today(standing)

    assert run.order.total == Decimal("3400.00")
    assert run.order.status == S.PENDING_APPROVAL
    assert run.order.approved_by is None
    assert set(run.order.fulfilments.values_list("released_at", flat=True)) == {None}
    assert "approver" in run.message
    assert [m.to for m in team_mail()] == [[team_email]]  # an approver has something to do


@pytest.mark.django_db
def test_a_run_within_the_pre_approved_cap_is_placed_approved_by_the_approver(
    purchaser_user, approver_user, store, listing, threshold
):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    standing_order_update(
        standing=standing, data={"approved_cap": Decimal("3400.00")}, user=approver_user
    )
    standing.refresh_from_db()

    run = run_today(standing)

    assert run.order.status == S.PLACED
    assert run.order.approved_by == approver_user
    assert run.order.approved_at is not None


@pytest.mark.django_db
def test_a_run_above_the_pre_approved_cap_waits_for_approval(
    purchaser_user, approver_user, store, listing, threshold
):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    standing_order_update(
        standing=standing, data={"approved_cap": Decimal("3399.99")}, user=approver_user
    )
    standing.refresh_from_db()

    assert run_today(standing).order.status == S.PENDING_APPROVAL


@pytest.mark.django_db
def test_a_cap_counts_only_while_its_setter_is_still_an_approver(
    purchaser_user, approver_user, store, listing, threshold
):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    standing_order_update(
        standing=standing, data={"approved_cap": Decimal("5000")}, user=approver_user
    )
    Membership.objects.filter(user=approver_user).update(role=Membership.Role.PURCHASER)
    standing = StandingOrder.objects.select_related("approved_cap_by").get(pk=standing.pk)

    assert run_today(standing).order.status == S.PENDING_APPROVAL


@pytest.mark.django_db
def test_a_purchaser_changing_the_lines_ends_the_pre_approval(
    purchaser, purchaser_user, approver_user, store, listing, threshold
):
    """The approver pre-approved what the standing order ordered; a purchaser who changes what
    or how much it orders must not carry that approval over to goods nobody approved."""
    standing = make_standing(purchaser_user, store, (listing, "50"))
    standing_order_update(
        standing=standing, data={"approved_cap": Decimal("10000")}, user=approver_user
    )
    lines = [{"listing": listing.pk, "quantity": "140"}]  # ¥9,520, within the cap

    response = purchaser.patch(f"{URL}{standing.pk}/", {"lines": lines}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["approved_cap"] is None
    standing = StandingOrder.objects.select_related("approved_cap_by").get(pk=standing.pk)
    assert run_today(standing).order.status == S.PENDING_APPROVAL


@pytest.mark.django_db
def test_the_same_lines_again_or_an_approvers_change_keep_the_pre_approval(
    purchaser, approver, purchaser_user, approver_user, store, listing, threshold
):
    standing = make_standing(purchaser_user, store, (listing, "50"))
    standing_order_update(
        standing=standing, data={"approved_cap": Decimal("10000")}, user=approver_user
    )
    url = f"{URL}{standing.pk}/"

    same = [{"listing": listing.pk, "quantity": "50.000"}]
    more = [{"listing": listing.pk, "quantity": "140"}]
    same = purchaser.patch(url, {"lines": same}, format="json")
    by_approver = approver.patch(url, {"lines": more}, format="json")

    assert same.json()["approved_cap"] == "10000.00", same.content
    assert by_approver.json()["approved_cap"] == "10000.00", by_approver.content
    standing = StandingOrder.objects.select_related("approved_cap_by").get(pk=standing.pk)
    assert run_today(standing).order.status == S.PLACED


@pytest.mark.django_db
def test_a_purchaser_cannot_set_the_cap(purchaser, purchaser_user, store, listing):
    standing = make_standing(purchaser_user, store, (listing, "50"))

    response = purchaser.patch(f"{URL}{standing.pk}/", {"approved_cap": "99999"}, format="json")

    assert_error(response, 403, "permission_denied", field="approved_cap")
    standing.refresh_from_db()
    assert standing.approved_cap is None
    body = {"store": store.pk, "weekday": 0, "lead_days": 2, "approved_cap": "1.00"}
    body["lines"] = [{"listing": listing.pk, "quantity": "50"}]
    assert_error(purchaser.post(URL, body, format="json"), 403, field="approved_cap")
    assert StandingOrder.objects.count() == 1


@pytest.mark.django_db
def test_an_approver_sets_the_cap_through_the_api(
    approver, approver_user, purchaser_user, store, listing
):
    standing = make_standing(purchaser_user, store, (listing, "50"))

    response = approver.patch(f"{URL}{standing.pk}/", {"approved_cap": "5000"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["approved_cap"] == "5000.00"
    assert response.json()["approved_cap_by"] == approver_user.pk


# --- The creator deactivated or gone ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["deactivated", "left"])
def test_a_standing_order_stops_when_its_creator_goes_and_the_team_is_told(
    how, purchaser_user, store, listing, team_email, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    standing = make_standing(purchaser_user, store, (listing, "50"), weekday=today.weekday())
    if how == "deactivated":
        purchaser_user.is_active = False
        purchaser_user.save()
    else:
        Membership.objects.filter(user=purchaser_user).delete()

    with django_capture_on_commit_callbacks(execute=True):
        assert standing_orders_place_due(today=today) == 0

    standing.refresh_from_db()
    assert standing.is_active is False
    assert how in standing.stopped_reason
    assert not standing.runs.exists()
    assert not Order.objects.exists()
    [mail] = team_mail()
    assert mail.to == [team_email]
    assert "stopped" in mail.subject


@pytest.mark.django_db
def test_a_standing_order_whose_creator_left_cannot_be_switched_back_on(
    approver, purchaser_user, store, listing, django_capture_on_commit_callbacks
):
    """It orders in its creator's name: switched back on, it would only stop again at the next
    run and tell the team a second time. The team makes a new one instead."""
    standing = make_standing(purchaser_user, store, (listing, "50"))
    Membership.objects.filter(user=purchaser_user).delete()
    standing_orders_place_due()

    response = approver.patch(f"{URL}{standing.pk}/", {"is_active": True}, format="json")

    assert_error(response, 400, "validation_error", field="is_active")
    standing.refresh_from_db()
    assert standing.is_active is False
    assert "left" in standing.stopped_reason


# --- Missed days -----------------------------------------------------------------------------


def started(standing, days_ago: int) -> None:
    StandingOrder.objects.filter(pk=standing.pk).update(
        runs_from=timezone.localdate() - datetime.timedelta(days=days_ago)
    )


@pytest.mark.django_db
def test_a_period_missed_within_the_limit_is_placed_on_the_next_run(
    settings, purchaser_user, store, listing
):
    settings.STANDING_ORDER_CATCH_UP_DAYS = 2
    today = timezone.localdate()
    missed = today - datetime.timedelta(days=2)
    standing = make_standing(
        purchaser_user, store, (listing, "50"), weekday=missed.weekday(), lead_days=1
    )
    started(standing, days_ago=6)

    assert standing_orders_place_due(today=today) == 1

    run = standing.runs.get()
    assert (run.period, run.outcome) == (missed, Outcome.PLACED)
    # Placed late, it still gives the cooperative its lead day from today.
    assert run.order.requested_delivery_date == today + datetime.timedelta(days=1)
    assert standing_orders_place_due(today=today) == 0


@pytest.mark.django_db
def test_a_period_missed_beyond_the_limit_is_recorded_and_the_team_told(
    settings, purchaser_user, store, listing, team_email, django_capture_on_commit_callbacks
):
    settings.STANDING_ORDER_CATCH_UP_DAYS = 2
    today = timezone.localdate()
    missed = today - datetime.timedelta(days=3)
    standing = make_standing(purchaser_user, store, (listing, "50"), weekday=missed.weekday())
    started(standing, days_ago=9)  # a week earlier it was not running yet

    with django_capture_on_commit_callbacks(execute=True):
        assert standing_orders_place_due(today=today) == 0

    run = standing.runs.get()
    assert (run.period, run.outcome, run.order) == (missed, Outcome.MISSED, None)
    assert reserved(listing) == 0
    [mail] = team_mail()
    assert formats.date_format(missed) in mail.subject  # as the reader writes dates
    with django_capture_on_commit_callbacks(execute=True):
        standing_orders_place_due(today=today)
    assert standing.runs.count() == 1 and len(team_mail()) == 1


@pytest.mark.django_db
def test_weeks_a_standing_order_was_switched_off_are_not_missed(
    purchaser, purchaser_user, store, listing
):
    today = timezone.localdate()
    standing = make_standing(
        purchaser_user, store, (listing, "50"), weekday=(today.weekday() - 1) % 7, is_active=False
    )
    started(standing, days_ago=30)

    response = purchaser.patch(f"{URL}{standing.pk}/", {"is_active": True}, format="json")

    assert response.status_code == 200, response.content
    assert standing_orders_place_due(today=today) == 0
    assert not standing.runs.exists()


@pytest.mark.django_db
def test_moving_the_weekday_back_does_not_place_the_day_just_passed_as_missed(
    settings, purchaser, purchaser_user, store, listing
):
    """It ran three days ago; moved to yesterday's weekday, it runs from next week. Catching
    yesterday up would order twice in one week what the team asked for once a week."""
    settings.STANDING_ORDER_CATCH_UP_DAYS = 2
    today = timezone.localdate()
    three_days_ago = today - datetime.timedelta(days=3)
    standing = make_standing(
        purchaser_user, store, (listing, "50"), weekday=three_days_ago.weekday(), lead_days=1
    )
    started(standing, days_ago=3)
    StandingOrderRun.objects.create(
        standing_order=standing, period=three_days_ago, outcome=Outcome.PLACED
    )

    yesterday = (today - datetime.timedelta(days=1)).weekday()
    response = purchaser.patch(f"{URL}{standing.pk}/", {"weekday": yesterday}, format="json")

    assert response.status_code == 200, response.content
    assert standing_orders_place_due(today=today) == 0
    assert list(standing.runs.values_list("period", flat=True)) == [three_days_ago]


# --- Partial mode and minimum order values ---------------------------------------------------


@pytest.mark.django_db
def test_only_the_part_below_a_cooperatives_minimum_is_left_out_and_said_so(
    purchaser_user, store, listing, team_email, django_capture_on_commit_callbacks
):
    demanding = CooperativeFactory(min_order_value=Decimal("10000"))
    small = ListingFactory(cooperative=demanding)
    standing = make_standing(purchaser_user, store, (listing, "50"), (small, "10"))

    with django_capture_on_commit_callbacks(execute=True):
        run = run_today(standing)

    assert run.outcome == Outcome.PARTIAL
    assert list(run.order.lines.values_list("listing_id", flat=True)) == [listing.pk]
    assert list(run.order.fulfilments.values_list("cooperative", flat=True)) == [
        listing.cooperative_id
    ]
    assert run.order.total == Decimal("3400.00")
    assert demanding.name_zh in run.message and "¥10,000.00" in run.message
    assert (reserved(listing), reserved(small)) == (50, 0)
    assert len(team_mail()) == 1


# --- One failing standing order does not block the rest --------------------------------------


@pytest.mark.django_db
def test_one_failing_standing_order_is_logged_skipped_and_retried_next_run(
    monkeypatch, caplog, purchaser_user, store, listing
):
    today = timezone.localdate()
    broken = make_standing(purchaser_user, store, (listing, "10"), weekday=today.weekday())
    fine = make_standing(purchaser_user, store, (listing, "20"), weekday=today.weekday())
    real_place = standing_runs.order_place

    def place(**kwargs):
        if kwargs["standing_order"].pk == broken.pk:
            raise RuntimeError("database hiccup")
        return real_place(**kwargs)

    monkeypatch.setattr(standing_runs, "order_place", place)
    with caplog.at_level(logging.ERROR, logger=standing_runs.logger.name):
        assert standing_orders_place_due(today=today) == 1

    assert fine.runs.get().outcome == Outcome.PLACED
    assert not broken.runs.exists()  # nothing half-written: the next run tries again
    assert f"standing order {broken.pk} failed" in caplog.text

    monkeypatch.setattr(standing_runs, "order_place", real_place)
    assert standing_orders_place_due(today=today) == 1
    assert broken.runs.get().outcome == Outcome.PLACED
