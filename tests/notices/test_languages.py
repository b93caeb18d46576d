"""Notices read in zh-Hans unless the reader's account prefers English: texts, money, names
and the SMS template's variables."""

from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import User
from notices import services
from notices.models import Notice
from tests.factories import ListingFactory, place_order
from tests.languages import CJK

pytestmark = pytest.mark.django_db
HONEY = ("蜜源养蜂专业合作社", "Miyuan Bee-keeping Cooperative")


@pytest.fixture
def placed(purchaser_user, store, cooperative, manager_user, with_email):
    cooperative.name_zh, cooperative.name_en = (
        "蜜源养蜂专业合作社",
        "Miyuan Bee-keeping Cooperative",
    )
    cooperative.save()
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    return place_order(purchaser_user, store, (listing, "10"))


def test_zh_hans_by_default(placed, manager_user):
    notice = Notice.objects.get(user=manager_user, channel="inbox")
    total = f"¥{placed.total:,.2f}"
    assert notice.language == "zh-hans"
    assert notice.subject == f"订单 {placed.pk} 已下单：蜜源养蜂专业合作社，{total}"
    assert "蜜源养蜂专业合作社" in notice.body and total in notice.body
    sms = Notice.objects.get(user=manager_user, channel="sms")
    assert sms.params["cooperative"] == "蜜源养蜂专业合作社" and sms.params["total"] == total


def test_english_when_the_reader_prefers_it(
    purchaser_user, store, cooperative, manager_user, with_email, locmem_email
):
    User.objects.filter(pk=manager_user.pk).update(language="en")
    cooperative.name_zh, cooperative.name_en = (
        "蜜源养蜂专业合作社",
        "Miyuan Bee-keeping Cooperative",
    )
    cooperative.save()
    listing = ListingFactory(cooperative=cooperative, stock_on_hand=Decimal("100"))
    order = place_order(purchaser_user, store, (listing, "10"))

    notice = Notice.objects.get(user=manager_user, channel="email")
    assert notice.language == "en"
    assert notice.subject == (
        f"Order {order.pk} placed: Miyuan Bee-keeping Cooperative, ¥{order.total:,.2f}"
    )
    assert not CJK.search(
        notice.body.replace(order.store.name, "").replace(order.organisation.name_zh, "")
    )
    assert services.notice_send(notice_id=notice.pk) == "sent"
    [message] = mail.outbox
    assert message.to == ["hezuoshe@example.cn"] and message.subject == notice.subject
    # The purchaser has no preference: Chinese.
    assert Notice.objects.get(user=purchaser_user, channel="email").language == "zh-hans"
