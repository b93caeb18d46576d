"""Receiving a lot in real headless Chromium at 360×740, zh-CN, as the demo's manager
(13800000002): the households found by pinyin as the manager types and added in place
(htmx), a refusal beside the field, then the lot saved; the database then holds the lot,
its three contributions and the listing's new stock. Set up as tests/mobile/test_browser.py."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from products.models import Lot
from tests.factories import PASSWORD, HouseholdFactory, ListingFactory, ProductFactory
from tests.mobile.test_browser import assert_fits_a_phone, phone_browser  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def honey(cooperative, other_cooperative):
    """A honey listing with 100 kg on hand, three member households, and another
    cooperative's household whose name also answers "zhang"."""
    listing = ListingFactory(
        cooperative=cooperative,
        product=ProductFactory(name_zh="土蜂蜜", name_en="Wild honey"),
        stock_on_hand=Decimal("100"),
    )
    households = [
        HouseholdFactory(cooperative=cooperative, name=name, village=village)
        for name, village in (("张三", "石屯村"), ("李四", "纳夜村"), ("王五", "石屯村"))
    ]
    HouseholdFactory(cooperative=other_cooperative, name="张三丰", village="石屯村")
    return listing, households


def add(page, typed: str, name: str):
    """Type into the search, wait for the hit, add it: its row appears in place."""
    search = page.get_by_label("按姓名或村名查找农户")
    with page.expect_response(re.compile(r"/m/lots/new/hits/\?q=")):  # htmx, as typed
        search.fill(typed)
    hit = page.locator("#hits li", has_text=name)
    expect(hit).to_have_count(1)
    with page.expect_response(re.compile(r"/m/lots/new/row/\?add=\d+$")) as answer:
        hit.get_by_role("button").click()
    assert answer.value.status == 200, answer.value.url  # the row alone, not the page
    expect(page.locator("#rows li", has_text=name)).to_have_count(1)
    expect(hit).to_have_count(0)  # taken off the hits


def assert_fits(page, width: int):
    """At ``width`` px nothing runs off the screen and every control is 44 px tall (as
    test_browser.assert_fits_a_phone at 360), then back to 360."""
    page.set_viewport_size({"width": width, "height": 740})
    layout = page.evaluate(
        """() => ({
          scrollWidth: document.documentElement.scrollWidth,
          small: [...document.querySelectorAll('a, button, input, select, summary')]
            .filter(el => el.offsetParent !== null && el.type !== 'hidden'
                    && !el.closest('header') && el.getBoundingClientRect().height < 44)
            .map(el => el.outerHTML.slice(0, 80)),
        })"""
    )
    assert layout == {"scrollWidth": width, "small": []}, layout
    page.set_viewport_size({"width": 360, "height": 740})


def share(page, name: str):
    """A household's share, by its label (the household's name and village)."""
    return page.get_by_role("spinbutton", name=re.compile(f"^{name} "))


def test_receive_a_lot_on_the_phone(live_server, phone_browser, honey, manager_user):  # noqa: F811
    page = phone_browser
    listing, (zhang, li, wang) = honey
    page.goto(f"{live_server.url}/m/")
    page.get_by_label("手机号").fill("13800000002")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    # From Today's button to the screen.
    page.get_by_role("main").get_by_role("link", name="收货").click()
    expect(page.get_by_role("heading", name="收货", exact=True)).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_label("商品").select_option(str(listing.pk))
    page.get_by_label("批次号").fill("FM-2026-031")
    harvest = timezone.localdate() - datetime.timedelta(days=2)
    page.get_by_label("采收日期").fill(harvest.isoformat())
    page.get_by_label("数量").fill("100")

    # Households by pinyin, initials and a village's pinyin; never another cooperative's.
    page.get_by_label("按姓名或村名查找农户").fill("zhang")
    expect(page.locator("#hits li")).to_have_count(1)
    expect(page.locator("#hits")).not_to_contain_text("张三丰")
    add(page, "zs", "张三")
    add(page, "nayecun", "李四")
    add(page, "wang", "王五")
    assert_fits(page, 320)  # the narrowest phone the page serves, with three rows
    share(page, "张三").fill("50")
    share(page, "李四").fill("30")
    share(page, "王五").fill("10")
    assert_fits_a_phone(page)

    # 10 kg short: said beside the households, what was typed kept, nothing saved.
    page.get_by_role("button", name="保存批次").click()
    expect(page.locator("#contributions-errors")).to_contain_text("比批次数量少 10 公斤")
    expect(page.get_by_label("批次号")).to_have_value("FM-2026-031")
    expect(share(page, "李四")).to_have_value("30")
    assert not Lot.objects.exists()
    share(page, "王五").fill("20")
    page.get_by_role("button", name="保存批次").click()

    # Saved: the lot and its households shown, and a way to receive another.
    expect(page.get_by_text("批次 FM-2026-031 已收货。")).to_be_visible()
    expect(page.get_by_role("heading", name="批次 FM-2026-031")).to_be_visible()
    expect(page.locator("#lot")).to_contain_text("纳夜村")
    expect(page).to_have_url(re.compile(r"/m/lots/\d+/$"))
    assert_fits_a_phone(page)
    expect(page.get_by_role("link", name="再收一批")).to_be_visible()

    lot = Lot.objects.get()
    assert (lot.listing_id, lot.code, lot.harvest_date, lot.quantity) == (
        listing.pk,
        "FM-2026-031",
        harvest,
        Decimal("100"),
    )
    assert {c.household_id: c.quantity for c in lot.contributions.all()} == {
        zhang.pk: Decimal("50"),
        li.pk: Decimal("30"),
        wang.pk: Decimal("20"),
    }
    listing.refresh_from_db()
    assert listing.stock_on_hand == Decimal("200")
