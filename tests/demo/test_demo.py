"""demo.data.load_demo: Shitun cooperatives and Nanming buyers, loaded through the services,
once."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.db.models.functions import Coalesce
from rest_framework.test import APIClient

from accounts.models import PartnerApiKey, User
from buyers.models import BuyerOrganisation
from demo.data import PARTNER_API_KEY, PASSWORD, USERS, load_demo
from orders.lifecycle import HOLDS_RESERVATION
from orders.models import Order, OrderLine, StandingOrder
from payments.models import Refund, Statement
from payments.selectors import order_balance
from products.models import (
    Category,
    Certification,
    Listing,
    Lot,
    LotContribution,
    NegotiatedPrice,
    PriceTier,
    Product,
)
from suppliers.models import Cooperative, Household
from tests import factories
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db

MODELS = [
    User,
    PartnerApiKey,
    Cooperative,
    Household,
    Category,
    Certification,
    Product,
    Listing,
    PriceTier,
    Lot,
    LotContribution,
]


@pytest.fixture
def demo():
    assert load_demo() is True


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_second_load_returns_false_and_changes_nothing(demo):
    before = counts()
    stock = dict(Listing.objects.values_list("pk", "stock_on_hand"))
    assert load_demo() is False
    assert counts() == before
    assert dict(Listing.objects.values_list("pk", "stock_on_hand")) == stock


def test_honey_and_tongcao_cooperatives_with_managers(demo):
    assert Cooperative.objects.count() >= 2
    names = set(Cooperative.objects.values_list("name_en", flat=True))
    assert any("Beekeeping" in name for name in names)
    assert any("Tongcao" in name for name in names)
    for cooperative in Cooperative.objects.all():
        assert cooperative.managers.filter(role=User.Role.COOPERATIVE_MANAGER).exists()
        assert cooperative.households.exists()


def test_some_households_are_on_the_poverty_list(demo):
    for cooperative in Cooperative.objects.all():
        poor = cooperative.households.filter(on_poverty_list=True)
        assert poor.exists()
        assert cooperative.households.filter(on_poverty_list=False).exists()
        assert "" not in poor.values_list("poverty_registration_no", flat=True)


def test_products_have_pinyin_for_search(demo):
    honey = Product.objects.get(name_zh="土蜂蜜")
    assert honey.pinyin == "tufengmi tfm"
    assert Product.objects.filter(name_zh="通草").exists()


def test_live_listings_have_tiers_and_stock_from_lots(demo):
    live = Listing.objects.filter(status=Listing.Status.ACTIVE)
    assert live.count() >= 3
    for listing in live:
        assert listing.tiers.exists()
        received = listing.lots.aggregate(total=Sum("quantity"))["total"]
        # The settled demo order shipped what it confirmed; nothing else left the stock.
        lines = OrderLine.objects.filter(listing=listing)
        shipped = lines.filter(order__status="completed").aggregate(total=Sum("confirmed_quantity"))
        assert received is not None
        assert listing.stock_on_hand == received - (shipped["total"] or Decimal(0))
        # The placed demo order and the confirmed one on the truck hold their lines' stock,
        # nothing else does.
        held = lines.filter(fulfilment__status__in=HOLDS_RESERVATION).aggregate(
            total=Sum(Coalesce("confirmed_quantity", "quantity"))
        )
        assert listing.stock_reserved == (held["total"] or Decimal(0))


def test_buyers_stores_standing_order_and_a_placed_order(demo):
    huimin = BuyerOrganisation.objects.get(name_zh="惠民生鲜超市")
    assert huimin.approval_threshold == Decimal("20000.00")
    assert {m.role for m in huimin.memberships.all()} == {"purchaser", "approver"}
    assert huimin.stores.filter(name="新华路店").exists()
    assert StandingOrder.objects.filter(organisation=huimin, weekday=0).exists()
    assert NegotiatedPrice.objects.filter(organisation=huimin).exists()
    order = Order.objects.get(note="demo order")
    assert order.status == "placed" and order.fulfilments.count() == 2


def test_a_settled_order_shows_statements_with_a_household_split(demo):
    statements = Statement.objects.all()
    assert statements.count() == 2  # honey and tongcao
    for statement in statements:
        shares = statement.shares.all()
        assert shares and sum(s.amount for s in shares) == statement.net_payable
        assert statement.payout.batch is not None
        assert (statement.status, statement.payout.status) == ("paid", "paid")
    assert statements.filter(shares__on_poverty_list=True).exists()
    # The rejected honey, paid for before delivery, went back to the buyer.
    (refund,) = Refund.objects.all()
    assert (refund.reason, refund.status) == ("quality", "succeeded")
    assert order_balance(order=refund.payment.order).overpaid == 0
    honey = statements.get(cooperative__name_zh__contains="蜜源")
    assert honey.goods_value < honey.lines.get().fulfilment.lines.get().quantity * (
        honey.lines.get().fulfilment.lines.get().unit_price
    )  # the quality rejection lowered it


def test_a_delivery_run_with_its_manifest(demo, anon):
    from logistics.models import DeliveryRun

    run = DeliveryRun.objects.get(assignments__isnull=False)
    assert run.date.weekday() in (1, 4)  # the Tuesday and Friday truck
    login = {"phone": "13800000001", "password": PASSWORD}
    token = anon.post("/api/v1/auth/token/", login, format="json").json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    rows = anon.get(f"/api/v1/delivery-runs/{run.pk}/manifest/").json()["rows"]
    assert [(row["stop"], row["store"], row["package_count"]) for row in rows] == [
        (1, "新华路店", 4)
    ]


def test_a_few_notices_were_sent_to_the_console(demo):
    """The travelling part's notices: in the manager's and buyers' inboxes, and sent as SMS
    to the console backend (demo people have no e-mail addresses)."""
    from notices.models import Notice

    sent = Notice.objects.filter(status="sent")
    assert {"inbox", "sms"} <= set(sent.values_list("channel", flat=True))
    manager_inbox = sent.filter(user__phone="+8613800000002", channel="inbox")
    assert "fulfilment.assigned_to_run" in set(manager_inbox.values_list("event_type", flat=True))
    assert all(n.subject and n.body for n in sent)


def test_every_lot_is_traced_to_households_of_its_cooperative(demo):
    assert Lot.objects.exists()
    for lot in Lot.objects.select_related("listing"):
        contributions = lot.contributions.select_related("household")
        assert sum(c.quantity for c in contributions) == lot.quantity
        assert {c.household.cooperative_id for c in contributions} == {lot.listing.cooperative_id}


def test_a_live_listing_without_lots_shows_sold_out(demo):
    sold_out = Listing.objects.filter(status=Listing.Status.SOLD_OUT)
    assert sold_out.exists()
    assert all(listing.stock_on_hand == 0 for listing in sold_out)


def test_buyers_and_every_role_have_logins(demo):
    roles = {role for _phone, _name, role in USERS}
    assert roles == {User.Role.STAFF, User.Role.COOPERATIVE_MANAGER, User.Role.BUYER}
    assert User.objects.filter(role=User.Role.BUYER).count() >= 2
    # Hema's system (with the published key) and 惠民生鲜's (its approver issues the keys).
    assert User.objects.filter(role=User.Role.PARTNER).count() == 2


def test_the_approver_issues_keys_for_her_organisations_system(demo):
    from partners.models import WebhookEndpoint
    from tests.conftest import client_for

    approver = client_for(User.objects.get(phone="+8613800000007"))
    response = approver.post("/api/v1/partner-keys/", {"name": "ERP"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["partner_name"].startswith("惠民生鲜 ERP")
    # Its endpoint (a local receiver: loopback is allowed here, as on the embedded default).
    (endpoint,) = approver.get("/api/v1/webhook-endpoints/").json()["results"]
    assert WebhookEndpoint.objects.get().url == endpoint["url"]


@pytest.mark.parametrize(("phone", "role"), [(phone, role) for phone, _name, role in USERS])
def test_demo_login_gets_a_token(demo, anon, phone, role):
    response = anon.post(
        "/api/v1/auth/token/", {"phone": phone, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    me = client.get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json()["role"] == role


def test_partner_api_key_authenticates(demo, anon):
    anon.credentials(HTTP_AUTHORIZATION=f"Api-Key {PARTNER_API_KEY}")
    me = anon.get("/api/v1/auth/me/")
    assert me.status_code == 200, me.content
    assert me.json()["role"] == User.Role.PARTNER
    listings = anon.get("/api/v1/listings/")
    assert listings.status_code == 200
    assert listings.json()["results"]


def test_partner_accounts_cannot_log_in_with_a_password(demo, anon):
    for partner in User.objects.filter(role=User.Role.PARTNER):
        assert not partner.has_usable_password()
    partner = User.objects.filter(role=User.Role.PARTNER).first()
    response = anon.post(
        "/api/v1/auth/token/", {"phone": partner.phone, "password": PASSWORD}, format="json"
    )
    assert_error(response, 400, field="password")


# --- Refusing a database that holds other data ----------------------------------------------


@pytest.mark.parametrize(
    "existing",
    ["UserFactory", "CooperativeFactory", "BuyerOrganisationFactory", "CategoryFactory"],
)
def test_load_demo_refuses_a_database_with_other_data(existing):
    """The demo installs known passwords and a published API key: never into real data."""
    getattr(factories, existing)()
    before = counts()
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo", stdout=io.StringIO())
    assert counts() == before
    assert not User.objects.filter(phone="+8613800000001").exists()
    assert not PartnerApiKey.objects.exists()


def test_load_demo_into_other_data_when_forced():
    factories.UserFactory()
    call_command("load_demo", "--force", stdout=io.StringIO())
    assert User.objects.filter(phone="+8613800000001").exists()
    assert PartnerApiKey.objects.count() == 1


def test_load_demo_command_loads_an_empty_database_once():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=out)  # the demo itself is not "other data"
    assert "loaded" in out.getvalue()
    assert "already present" in out.getvalue()
