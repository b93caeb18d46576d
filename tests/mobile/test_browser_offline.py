"""The phone page with no signal, in headless Chromium (as tests/mobile/test_browser.py: a
360×740 zh-CN phone against a live server on PostgreSQL): the service worker keeps the
pages the manager opened; an action taken offline waits on the phone, is sent when the
network returns and applies exactly once; a refusal on sending is shown with the server's
reason until the manager dismisses it."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import FulfilmentStatus as S
from orders.models import OrderEvent
from orders.services.transitions import order_cancel
from tests.factories import PASSWORD
from tests.mobile import test_browser
from tests.mobile.conftest import placed_part

pytestmark = pytest.mark.django_db(transaction=True)

phone_browser = test_browser.phone_browser  # the same phone: 360×740, touch, zh-CN


def open_offline_ready(page, url: str, part) -> None:
    """Sign in, open the part, and wait until the service worker controls the page and has
    kept it (it keeps the pages it serves)."""
    page.goto(f"{url}/m/login/?next=/m/f/{part.pk}/")
    page.get_by_label("手机号").fill("13800000002")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile(f"分单 {part.pk}"))).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready")
    # Today, then the part again, now through the worker, which keeps them.
    page.goto(f"{url}/m/")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.goto(f"{url}/m/f/{part.pk}/")
    for path in ("/m/", f"/m/f/{part.pk}/"):
        page.wait_for_function(
            f"caches.open('m-pages').then(c => c.match('{url}{path}')).then(Boolean)"
        )


def confirm_offline(page, part) -> None:
    page.context.set_offline(True)
    # The kept page opens without a signal, from the phone.
    response = page.reload()
    assert response.from_service_worker
    expect(page.get_by_role("heading", name=re.compile(f"分单 {part.pk}"))).to_be_visible()
    page.get_by_role("button", name="全部确认").click()
    expect(page.locator("#outbox .waiting")).to_contain_text("1 项待发送")
    expect(page.get_by_role("button", name="全部确认")).to_be_disabled()  # not sent twice


def test_an_action_taken_offline_is_sent_when_the_network_returns_and_applies_once(
    live_server, phone_browser, manager_user, purchaser_user, store, cooperative
):
    page = phone_browser
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    open_offline_ready(page, live_server.url, part)
    confirm_offline(page, part)
    part.refresh_from_db()
    assert part.status == S.PLACED  # nothing reached the server

    # Another screen still says what waits.
    page.get_by_role("link", name="返回今日").click()
    expect(page.get_by_role("heading", name="今日")).to_be_visible()
    expect(page.locator("#outbox .waiting")).to_contain_text("1 项待发送")

    page.context.set_offline(False)
    expect(page.locator("#outbox .sent")).to_contain_text("已发送 1 项")
    expect(page.locator("#outbox .waiting")).to_have_count(0)
    part.refresh_from_db()
    assert part.status == S.CONFIRMED
    assert OrderEvent.objects.filter(fulfilment=part, to_status=S.CONFIRMED).count() == 1
    assert page.evaluate("localStorage.getItem('m-outbox')") == "[]"

    # Sent once more (a reply lost on the way): the server's key makes it apply nothing.
    page.goto(f"{live_server.url}/m/f/{part.pk}/")
    expect(page.locator("#status")).to_have_text("已确认")
    assert OrderEvent.objects.filter(fulfilment=part, to_status=S.CONFIRMED).count() == 1

    # Signing out forgets the pages kept: they were this manager's.
    assert page.evaluate("caches.has('m-pages')")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/m/login/"))
    page.wait_for_function("caches.has('m-pages').then(kept => !kept)")


def test_a_refusal_on_sending_is_shown_until_dismissed(
    live_server, phone_browser, manager_user, purchaser_user, store, cooperative
):
    page = phone_browser
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    open_offline_ready(page, live_server.url, part)
    confirm_offline(page, part)
    # Meanwhile the buyer cancels the order.
    order_cancel(order=part.order, user=purchaser_user, reason="门店暂停营业")

    page.context.set_offline(False)
    refused = page.locator("#outbox .refused")
    expect(refused).to_contain_text(f"发送后被拒绝：分单 {part.pk} · 全部确认")
    expect(refused).to_contain_text("已取消")  # the server's reason, in Chinese
    expect(page.locator("#outbox .waiting")).to_have_count(0)
    part.refresh_from_db()
    assert part.status == S.CANCELLED
    assert not OrderEvent.objects.filter(fulfilment=part, to_status=S.CONFIRMED).exists()

    # Kept until the manager dismisses it.
    page.reload()
    expect(refused).to_contain_text(f"分单 {part.pk} · 全部确认")
    refused.get_by_role("button", name="知道了").click()
    expect(refused).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name=re.compile(f"分单 {part.pk}"))).to_be_visible()
    expect(refused).to_have_count(0)


def test_an_answer_lost_on_a_weak_signal_is_sent_again_and_applies_once(
    live_server, phone_browser, manager_user, purchaser_user, store, cooperative
):
    """Online, but the answer never reaches the phone: the server did the work, the phone
    cannot know it. The action is kept and sent again with its key, and applies once."""
    page = phone_browser
    part = placed_part(purchaser=purchaser_user, store=store, cooperative=cooperative)
    open_offline_ready(page, live_server.url, part)

    def lose_the_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        route.fetch()  # the server gets it and confirms...
        route.abort("internetdisconnected")  # ...and the answer is lost on the way

    page.route(re.compile(r"/m/f/\d+/$"), lose_the_answer)
    page.get_by_role("button", name="全部确认").click()
    expect(page.locator("#outbox .waiting")).to_contain_text("1 项待发送")
    part.refresh_from_db()
    assert part.status == S.CONFIRMED

    page.unroute_all()
    page.reload()  # the signal is back: the page sends what waits as it opens
    expect(page.locator("#outbox .sent")).to_contain_text("已发送 1 项")
    expect(page.locator("#status")).to_have_text("已确认")
    assert OrderEvent.objects.filter(fulfilment=part, to_status=S.CONFIRMED).count() == 1
