"""What a standing order's run tells people reads in each reader's language: the e-mail in the
language of each recipient's account (User.language, else the default), the run's stored
message in the language of the standing order's creator, in whose name it orders."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from buyers.models import Membership
from orders.models import StandingOrderRun
from orders.services.standing import standing_order_run, standing_orders_place_due
from tests.conftest import deliver_mail
from tests.factories import ListingFactory, MembershipFactory
from tests.languages import CJK
from tests.orders.test_standing import make_standing

Outcome = StandingOrderRun.Outcome


@pytest.fixture
def bilingual_team(organisation, purchaser_user):
    """The purchaser reads Chinese; an approver chose English."""
    User.objects.filter(pk=purchaser_user.pk).update(email="caigou@example.cn", language="zh-hans")
    purchaser_user.refresh_from_db()
    MembershipFactory(
        organisation=organisation,
        role=Membership.Role.APPROVER,
        user__email="shenpi@example.cn",
        user__language="en",
    )
    return purchaser_user


def by_recipient() -> dict[str, mail.EmailMessage]:
    """The standing-order reports, sent through the outbox: one e-mail per reader."""
    sent = deliver_mail("standing_order.report")
    return {to: message for message in sent for to in message.to}


@pytest.mark.django_db
def test_a_short_run_is_e_mailed_to_each_reader_in_their_language(
    bilingual_team, store, cooperative, django_capture_on_commit_callbacks
):
    short = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("37.000"))
    standing = make_standing(bilingual_team, store, (short, "50"))

    with django_capture_on_commit_callbacks(execute=True):
        run = standing_order_run(standing=standing, period=timezone.localdate())

    assert run.outcome == Outcome.PARTIAL
    mails = by_recipient()
    assert set(mails) == {"caigou@example.cn", "shenpi@example.cn"}
    chinese, english = mails["caigou@example.cn"], mails["shenpi@example.cn"]
    assert "部分下单" in chinese.subject and "订购 50 公斤，实下 35" in chinese.body
    assert "placed in part" in english.subject and "35 of 50 kg" in english.body
    assert not CJK.search(english.body.replace(short.product.name_zh, ""))
    # Kept in the creator's language: the purchaser reads Chinese.
    assert run.message == chinese.body


@pytest.mark.django_db
def test_a_run_waiting_for_approval_says_its_total_as_money(
    bilingual_team, organisation, store, cooperative, django_capture_on_commit_callbacks
):
    organisation.approval_threshold = Decimal("1000.00")
    organisation.save()
    listing = ListingFactory(cooperative=cooperative)
    standing = make_standing(bilingual_team, store, (listing, "50"))

    with django_capture_on_commit_callbacks(execute=True):
        run = standing_order_run(standing=standing, period=timezone.localdate())

    total = f"¥{run.order.total:,.2f}"
    mails = by_recipient()
    assert f"订单金额 {total} 超过审批金额门槛" in mails["caigou@example.cn"].body
    assert f"It comes to {total}, above the approval threshold" in mails["shenpi@example.cn"].body


@pytest.mark.django_db
def test_missed_periods_are_dated_as_each_reader_writes_dates(
    settings, bilingual_team, store, cooperative, django_capture_on_commit_callbacks
):
    settings.STANDING_ORDER_CATCH_UP_DAYS = 2
    today = datetime.date(2026, 3, 9)
    missed = today - datetime.timedelta(days=3)  # 2026-03-06
    listing = ListingFactory(cooperative=cooperative)
    standing = make_standing(bilingual_team, store, (listing, "50"), weekday=missed.weekday())
    type(standing).objects.filter(pk=standing.pk).update(runs_from=missed)

    with django_capture_on_commit_callbacks(execute=True):
        standing_orders_place_due(today=today)

    mails = by_recipient()
    assert mails["caigou@example.cn"].subject.endswith("错过了 2026年3月6日")
    assert mails["shenpi@example.cn"].subject.endswith("missed March 6, 2026")
    run = standing.runs.get()
    assert run.outcome == Outcome.MISSED
    assert run.message.startswith("未下单")
