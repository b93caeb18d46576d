"""The Money screens: the cooperative's statements, one statement's household split, one
household's earnings by month, as payments' selectors give them under payments.access."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mobile.views import money
from notices.selectors import inbox
from payments.models import Statement
from payments.services.payouts import bank_batch_create, bank_batch_mark_paid
from payments.services.settlement import settlement_run
from tests.conftest import client_for
from tests.factories import HouseholdFactory, place_order
from tests.payments.conftest import deliver, paid_by_transfer, traced_listing

pytestmark = pytest.mark.django_db


def settled(*, staff_user, purchaser_user, store, listing, quantity="10") -> Statement:
    """An order of ``listing`` delivered, completed, paid by bank transfer and settled by a
    run of its own: one new statement for the listing's cooperative."""
    order = deliver(place_order(purchaser_user, store, (listing, quantity)), staff_user)
    paid_by_transfer(order, staff_user)
    settlement_run(user=staff_user)
    return Statement.objects.get(lines__fulfilment__order=order)


@pytest.fixture
def households(cooperative):
    """Three households; the first on the poverty list."""
    return [
        HouseholdFactory(
            cooperative=cooperative,
            name="王家",
            on_poverty_list=True,
            poverty_registration_no="522326-0001",
        ),
        HouseholdFactory(cooperative=cooperative, name="李家"),
        HouseholdFactory(cooperative=cooperative, name="罗家"),
    ]


@pytest.fixture
def honey(cooperative, households):
    """68.00/kg from one 100 kg lot: 50, 30 and 20 kg from the three households."""
    return traced_listing(
        cooperative, [(households[0], "50"), (households[1], "30"), (households[2], "20")]
    )


@pytest.fixture
def statement(staff_user, purchaser_user, store, honey):
    """10 kg of honey at 68.00: 680.00, 3% commission 20.40, net 659.60."""
    return settled(staff_user=staff_user, purchaser_user=purchaser_user, store=store, listing=honey)


def test_the_statements_show_their_figures_in_chinese(phone, statement):
    response = phone.get("/m/money/")
    assert response.status_code == 200 and response["Content-Language"] == "zh-hans"
    assert list(response.context["page"]) == [statement]
    page = response.content.decode()
    assert "结算单" in page and f'href="/m/money/{statement.pk}/"' in page
    assert (statement.goods_value, statement.commission, statement.net_payable) == (
        Decimal("680.00"),
        Decimal("20.40"),
        Decimal("659.60"),
    )
    assert "¥680.00" in page and "¥20.40" in page and "¥659.60" in page
    assert "待处理" in page  # pending: the bank batch has not paid it yet


def test_newest_first_and_paginated(
    phone, statement, staff_user, purchaser_user, store, honey, monkeypatch
):
    later = settled(
        staff_user=staff_user, purchaser_user=purchaser_user, store=store, listing=honey
    )
    assert [s.pk for s in phone.get("/m/money/").context["page"]] == [later.pk, statement.pk]
    monkeypatch.setattr(money, "STATEMENTS_PER_PAGE", 1)
    first = phone.get("/m/money/")
    assert list(first.context["page"]) == [later]
    assert 'href="?page=2"' in first.content.decode()
    assert list(phone.get("/m/money/?page=2").context["page"]) == [statement]
    assert list(phone.get("/m/money/?page=x").context["page"]) == [later]


def test_a_statement_shows_its_household_split(phone, statement, households):
    response = phone.get(f"/m/money/{statement.pk}/")
    assert response.status_code == 200
    shares = {share.household_id: share.amount for share in response.context["shares"]}
    # 659.60 split 50/30/20 by what each household's contributions supplied.
    assert [shares[h.pk] for h in households] == [
        Decimal("329.80"),
        Decimal("197.88"),
        Decimal("131.92"),
    ]
    page = response.content.decode()
    assert "农户分账" in page and "王家" in page and "建档立卡贫困户" in page
    assert f'href="/m/money/households/{households[0].pk}/"' in page
    # The poverty-list subtotal as the API shows it.
    api = client_for(statement.cooperative.managers.get())
    detail = api.get(f"/api/v1/statements/{statement.pk}/").json()
    assert detail["poverty_list_subtotal"] == "329.80"
    assert 'id="poverty-subtotal">¥329.80<' in page
    assert "¥659.60" in page


def test_a_households_earnings_by_month(
    phone, statement, staff_user, purchaser_user, store, honey, households
):
    earlier = settled(
        staff_user=staff_user, purchaser_user=purchaser_user, store=store, listing=honey
    )
    Statement.objects.filter(pk=earlier.pk).update(
        period_start=datetime.date(2026, 9, 1), period_end=datetime.date(2026, 9, 30)
    )
    response = phone.get(f"/m/money/households/{households[0].pk}/")
    assert response.status_code == 200
    months = [(row["month"], row["amount"]) for row in response.context["months"]]
    assert months == [
        (statement.period_end.replace(day=1), Decimal("329.80")),
        (datetime.date(2026, 9, 1), Decimal("329.80")),
    ]
    page = response.content.decode()
    assert "按月收入" in page and "2026年9月" in page and "¥329.80" in page


def test_another_cooperatives_statement_and_household_are_not_found(
    phone, staff_user, purchaser_user, store, other_cooperative
):
    other_household = HouseholdFactory(cooperative=other_cooperative)
    listing = traced_listing(other_cooperative, [(other_household, "100")])
    foreign = settled(
        staff_user=staff_user, purchaser_user=purchaser_user, store=store, listing=listing
    )
    for url in (
        f"/m/money/{foreign.pk}/",
        f"/m/money/households/{other_household.pk}/",
        "/m/money/999999/",
        "/m/money/households/999999/",
    ):
        response = phone.get(url)
        assert response.status_code == 404, url
        assert other_household.name not in response.content.decode()
    assert list(phone.get("/m/money/").context["page"]) == []


def test_buyers_and_signed_out_visitors_are_kept_out(statement, purchaser_user, households):
    for url in (
        "/m/money/",
        f"/m/money/{statement.pk}/",
        f"/m/money/households/{households[0].pk}/",
    ):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"] == f"/m/login/?next={url}"
        buyer = Client()
        buyer.force_login(purchaser_user)
        response = buyer.get(url)
        assert response.status_code == 403 and "王家" not in response.content.decode()


def test_the_query_counts_do_not_grow_with_the_rows(
    phone, statement, staff_user, purchaser_user, store, honey, cooperative, households
):
    def queries(url) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert phone.get(url).status_code == 200
        return len(captured)

    household_url = f"/m/money/households/{households[0].pk}/"
    before = {url: queries(url) for url in ("/m/money/", household_url)}
    detail_before = queries(f"/m/money/{statement.pk}/")
    # More statements, more months, and a statement with more parts and households.
    for month in (7, 8):
        older = settled(
            staff_user=staff_user, purchaser_user=purchaser_user, store=store, listing=honey
        )
        Statement.objects.filter(pk=older.pk).update(
            period_start=datetime.date(2026, month, 1),
            period_end=datetime.date(2026, month, 28),
        )
    more = [HouseholdFactory(cooperative=cooperative) for _ in range(3)]
    other_honey = traced_listing(cooperative, [(h, "20") for h in [households[0], *more]])
    orders = [
        deliver(place_order(purchaser_user, store, (listing, "10")), staff_user)
        for listing in (honey, other_honey)
    ]
    for order in orders:
        paid_by_transfer(order, staff_user)
    settlement_run(user=staff_user)
    big = Statement.objects.get(lines__fulfilment__order=orders[0])
    assert big.lines.count() == 2 and big.shares.count() == 6
    assert {url: queries(url) for url in before} == before
    assert queries(f"/m/money/{big.pk}/") == detail_before


def test_the_screens_fit_in_20_kb(phone, staff_user, purchaser_user, store, cooperative):
    """A full page of statements, and a statement split among 40 households."""
    many = [HouseholdFactory(cooperative=cooperative) for _ in range(40)]
    listing = traced_listing(cooperative, [(h, "5") for h in many], lot_quantity="200")
    statements = [
        settled(staff_user=staff_user, purchaser_user=purchaser_user, store=store, listing=listing)
        for _ in range(money.STATEMENTS_PER_PAGE)
    ]
    assert statements[0].shares.count() == 40
    for url in ("/m/money/", f"/m/money/{statements[0].pk}/"):
        response = phone.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response["Content-Encoding"] == "gzip"
        assert len(response.content) <= 20_000, (url, len(response.content))


def test_a_paid_statement_says_so_and_its_notice_links_to_it(
    phone, statement, staff_user, manager_user
):
    bank_batch_mark_paid(batch=bank_batch_create(user=staff_user), user=staff_user)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID
    page = phone.get("/m/money/").content.decode()
    assert "已付款" in page and "待处理" not in page
    notice = next(n for n in inbox(user=manager_user) if n.event_type == "statement.paid")
    opened = phone.get(f"/m/notices/{notice.pk}/").content.decode()
    assert f'href="/m/money/{statement.pk}/"' in opened and "查看结算单" in opened
