"""Listings, Money and Notices in real headless Chromium on the narrowest phone the page is
for (320 px wide, zh-CN), against a live server on PostgreSQL: the nav and every screen fit,
every control is a thumb's size, and the actions work through htmx as a manager taps them."""

import re

import pytest
from playwright.sync_api import expect

from notices import selectors as notices_selectors
from payments.services.settlement import settlement_run
from products.models import Listing
from tests.factories import PASSWORD, HouseholdFactory, place_order
from tests.mobile.test_browser import open_phone
from tests.payments.conftest import deliver, paid_by_transfer, traced_listing

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 320


@pytest.fixture
def narrow_phone(monkeypatch):
    """320×640, touch, zh-CN (as tests/mobile/test_browser.py's phone, narrower)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with open_phone(width=WIDTH, height=640, device_scale_factor=1) as page:
        yield page


@pytest.fixture
def settled_honey(manager_user, staff_user, purchaser_user, store, cooperative):
    """Honey from two households (one on the poverty list), one order of it settled; the
    manager's inbox holds the order's notice."""
    households = [
        HouseholdFactory(
            cooperative=cooperative,
            name="王家",
            on_poverty_list=True,
            poverty_registration_no="522326-0001",
        ),
        HouseholdFactory(cooperative=cooperative, name="李家"),
    ]
    honey = traced_listing(cooperative, [(households[0], "60"), (households[1], "40")])
    order = deliver(place_order(purchaser_user, store, (honey, "10")), staff_user)
    paid_by_transfer(order, staff_user)
    settlement_run(user=staff_user)
    return honey


def assert_fits(page):
    """Nothing runs off the 320 px screen; every control, the nav's and header's too, is at
    least 44 px tall."""
    layout = page.evaluate(
        """() => ({
          scrollWidth: document.documentElement.scrollWidth,
          small: [...document.querySelectorAll('a, button, input, select, summary')]
            .filter(el => el.offsetParent !== null && el.type !== 'hidden'
                    && el.getBoundingClientRect().height < 44)
            .map(el => el.outerHTML.slice(0, 80)),
        })"""
    )
    assert layout["scrollWidth"] <= WIDTH, layout
    assert layout["small"] == [], layout


def test_listings_money_and_notices_on_a_320_px_phone(
    live_server, narrow_phone, settled_honey, manager_user
):
    page = narrow_phone
    honey = settled_honey
    page.goto(f"{live_server.url}/m/login/")
    page.get_by_label("手机号").fill("13800000002")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="今日")).to_be_visible()
    nav = page.get_by_role("navigation", name="页面")
    assert nav.get_by_role("link").all_inner_texts() == ["今日", "收货", "商品", "结算", "通知"]
    assert_fits(page)

    # Listings: pause the honey, and it says so.
    nav.get_by_role("link", name="商品").click()
    card = page.locator(f"#listing-{honey.pk}")
    expect(card).to_contain_text("可售")
    assert_fits(page)
    card.get_by_role("button", name="暂停销售").click()
    expect(page.get_by_text("已暂停销售：买家不再看到该商品。")).to_be_visible()
    expect(page.locator(f"#listing-{honey.pk}")).to_contain_text("暂停")
    honey.refresh_from_db()
    assert honey.status == Listing.Status.PAUSED

    # Money: the statement, its split, a household's months.
    page.get_by_role("navigation", name="页面").get_by_role("link", name="结算").click()
    expect(page.get_by_role("heading", name="结算单")).to_be_visible()
    assert_fits(page)
    page.locator("ul.parts a").first.click()
    expect(page.locator("#split")).to_contain_text("王家")
    assert_fits(page)
    page.get_by_role("link", name=re.compile("王家")).click()
    expect(page.get_by_role("heading", name="王家")).to_be_visible()
    expect(page.get_by_text("按月收入")).to_be_visible()
    assert_fits(page)

    # Notices: from the header's count; marking read lowers it.
    unread = notices_selectors.unread_count(user=manager_user)
    assert unread > 0
    expect(page.locator("#unread")).to_have_text(str(unread))
    page.locator("header a.unread").click()
    expect(page.get_by_role("heading", name="通知")).to_be_visible()
    assert_fits(page)
    page.locator("li.unread").first.get_by_role("button", name="标为已读").click()
    expect(page.get_by_text("已标为已读。")).to_be_visible()
    expect(page.locator("#unread")).to_have_text(str(unread - 1))
    assert notices_selectors.unread_count(user=manager_user) == unread - 1
    expect(page).to_have_url(re.compile(r"/m/notices/$"))
