"""Demo data from Shitun (sellers) and Nanming (buyers), written through the services so it
obeys every rule real data does. Loading twice changes nothing.

Villages, names and numbers are made up; the products, places and partners are the ones the
pairing of Shitun town (Wangmo County) with Nanming District of Guiyang names: honey,
tongcao, farmers' markets and fresh-food chains.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import PartnerApiKey, User
from accounts.services import user_create
from backend.validators import credit_code_check_character
from buyers import services as buyers
from buyers.models import BuyerOrganisation, Membership
from logistics.services import runs_plan, schedule_create, shipment_record
from notices.catalog import BUYER_SUBSCRIBABLE
from notices.models import Notice
from notices.services import notice_send
from orders.services import transitions
from orders.services.placement import LineRequest, order_place
from orders.services.standing import standing_order_create
from partners.services import webhook_endpoint_create
from payments.selectors import order_balance
from payments.services import collecting, payouts, refunds, settlement
from products import services as products
from products.models import Category, Certification, Grade, Listing, Unit
from suppliers import services as suppliers
from suppliers.models import Cooperative

PASSWORD = "shitun-demo-2026"
# Fixed so the README can show it; a real partner key is generated and shown once.
PARTNER_API_KEY = "DemoHema.hema-nanming-demo-key-not-for-production"

USERS = [
    # phone, name, role
    ("13800000001", "平台运营 Platform Ops", User.Role.STAFF),
    ("13800000002", "王建华 (蜜源合作社)", User.Role.COOPERATIVE_MANAGER),
    ("13800000003", "罗秀英 (通草合作社)", User.Role.COOPERATIVE_MANAGER),
    ("13800000004", "张丽 南明区农贸市场采购", User.Role.BUYER),
    ("13800000005", "陈强 惠民生鲜采购", User.Role.BUYER),
    ("13800000007", "刘芳 惠民生鲜审批", User.Role.BUYER),
]


def demo_credit_code(body: str, prefix: str = "93522326") -> str:
    """93 = farmers' cooperative, 522326 = Wangmo county (91520102: a company in Nanming);
    the check character is computed."""
    first17 = f"{prefix}{body}"
    return first17 + credit_code_check_character(first17)


class DemoRefused(Exception):
    pass


def holds_other_data() -> bool:
    """Whether the database already holds people, cooperatives, buyers or a catalog (asked
    before the demo is there, so none of it is the demo's)."""
    return any(model.objects.exists() for model in (User, Cooperative, BuyerOrganisation, Category))


@transaction.atomic
def load_demo(*, force: bool = False) -> bool:
    """Load the demo data; False when it is already there. The demo installs known passwords
    and a published API key, so a database that holds other data is refused unless forced."""
    if User.objects.filter(phone="+8613800000001").exists():
        return False
    if not force and holds_other_data():
        raise DemoRefused(
            gettext(
                "This database already holds data that is not the demo's. The demo would add "
                "logins with a published password and API key; use --force to load it anyway."
            )
        )
    users = {
        phone: user_create(phone=phone, name=name, role=role, password=PASSWORD)
        for phone, name, role in USERS
    }
    partner = user_create(
        phone="13800000006", name="盒马鲜生 Hema (partner system)", role=User.Role.PARTNER
    )
    api_key = PartnerApiKey(user=partner, name="Hema store replenishment")
    prefix, _, _ = PARTNER_API_KEY.partition(".")
    hashed = PartnerApiKey.objects.key_generator.hash(PARTNER_API_KEY)
    api_key.id, api_key.prefix, api_key.hashed_key = f"{prefix}.{hashed}", prefix, hashed
    api_key.save()

    honey_coop = suppliers.cooperative_create(
        name_zh="望谟县石屯镇蜜源养蜂专业合作社",
        name_en="Shitun Miyuan Beekeeping Cooperative",
        credit_code=demo_credit_code("MA6HMY01X"),
        village="石屯村",
        contact_phone="13985900001",
        payout_reference="bank:ICBC-Wangmo-****6621",
        min_order_value=Decimal("500.00"),
        managers=[users["13800000002"]],
    )
    tongcao_coop = suppliers.cooperative_create(
        name_zh="望谟县石屯镇通草种植专业合作社",
        name_en="Shitun Tongcao Growers' Cooperative",
        credit_code=demo_credit_code("MA6HTC02Y"),
        village="岜赖村",
        contact_phone="13985900002",
        payout_reference="bank:RCC-Guizhou-****3408",
        managers=[users["13800000003"]],
    )

    def households(coop, rows):
        return [
            suppliers.household_create(
                cooperative=coop,
                name=name,
                village=village,
                phone=phone,
                on_poverty_list=bool(reg),
                poverty_registration_no=reg,
            )
            for name, village, phone, reg in rows
        ]

    bee = households(
        honey_coop,
        [
            ("韦光明", "石屯村", "13985911001", "5223262018000121"),
            ("黄秀兰", "石屯村", "13985911002", "5223262018000133"),
            ("罗成才", "岜赖村", "", "5223262018000147"),
            ("王德全", "石屯村", "13985911004", ""),
            ("杨正富", "纳包村", "13985911005", ""),
            ("岑玉芬", "纳包村", "", "5223262018000162"),
        ],
    )
    herb = households(
        tongcao_coop,
        [
            ("陆明军", "岜赖村", "13985922001", "5223262018000208"),
            ("班永红", "岜赖村", "13985922002", ""),
            ("韦小梅", "石屯村", "", "5223262018000215"),
            ("黄正国", "纳包村", "13985922004", ""),
            ("王金花", "岜赖村", "13985922005", ""),
        ],
    )

    organic = Certification.objects.create(code="organic", name_zh="有机产品", name_en="Organic")
    gi = Certification.objects.create(
        code="gi", name_zh="地理标志产品", name_en="Geographical indication"
    )
    Certification.objects.create(code="green-food", name_zh="绿色食品", name_en="Green food")

    bee_products = products.category_create(
        slug="bee-products", name_zh="蜂产品", name_en="Bee products"
    )
    honey_cat = products.category_create(
        slug="honey", name_zh="蜂蜜", name_en="Honey", parent=bee_products
    )
    herbs = products.category_create(
        slug="medicinal", name_zh="中药材", name_en="Medicinal materials"
    )
    tongcao_cat = products.category_create(
        slug="tongcao", name_zh="通草", name_en="Tongcao", parent=herbs
    )
    mountain = products.category_create(
        slug="mountain-produce", name_zh="山货", name_en="Mountain produce"
    )

    honey = products.product_create(
        category=honey_cat,
        name_zh="土蜂蜜",
        name_en="Wild honey",
        unit=Unit.KG,
        description="中华蜂百花蜜 Chinese honeybee, multi-floral",
    )
    comb = products.product_create(
        category=honey_cat, name_zh="蜂巢蜜", name_en="Comb honey", unit=Unit.BOX
    )
    tongcao = products.product_create(
        category=tongcao_cat,
        name_zh="通草",
        name_en="Tongcao (rice-paper plant pith)",
        unit=Unit.KG,
    )
    tongcao_slices = products.product_create(
        category=tongcao_cat, name_zh="通草片", name_en="Tongcao slices", unit=Unit.JIN
    )
    products.product_create(
        category=mountain, name_zh="野生菌干", name_en="Dried wild mushrooms", unit=Unit.JIN
    )

    def tiers(*rows):
        return [{"min_quantity": Decimal(q), "unit_price": Decimal(p)} for q, p in rows]

    honey_cases = products.listing_create(
        cooperative=honey_coop,
        product=honey,
        grade=Grade.SPECIAL,
        unit=Unit.CASE,
        packaging="24 × 500 g 玻璃瓶/箱 (24 × 500 g jars per case)",
        min_order_quantity=Decimal(5),
        order_increment=Decimal(1),
        lead_time_days=2,
        tiers=tiers(("5", "960.00"), ("20", "912.00"), ("50", "864.00")),
        certifications=[gi],
        status=Listing.Status.ACTIVE,
    )
    honey_bulk = products.listing_create(
        cooperative=honey_coop,
        product=honey,
        grade=Grade.FIRST,
        packaging="25 kg 食品级桶 (25 kg food-grade drum)",
        min_order_quantity=Decimal(50),
        order_increment=Decimal(25),
        lead_time_days=3,
        tiers=tiers(("50", "68.00"), ("200", "62.00"), ("500", "58.50")),
        certifications=[organic],
        status=Listing.Status.ACTIVE,
    )
    products.listing_create(
        cooperative=honey_coop,
        product=comb,
        grade=Grade.SPECIAL,
        packaging="500 g 礼盒 (500 g gift box)",
        min_order_quantity=Decimal(10),
        order_increment=Decimal(10),
        lead_time_days=5,
        tiers=tiers(("10", "88.00")),
        status=Listing.Status.DRAFT,
    )
    tongcao_first = products.listing_create(
        cooperative=tongcao_coop,
        product=tongcao,
        grade=Grade.FIRST,
        packaging="5 kg 编织袋 (5 kg woven bag)",
        min_order_quantity=Decimal(10),
        order_increment=Decimal(5),
        lead_time_days=4,
        tiers=tiers(("10", "120.00"), ("50", "110.00"), ("200", "98.00")),
        certifications=[gi],
        status=Listing.Status.ACTIVE,
    )
    products.listing_create(
        cooperative=tongcao_coop,
        product=tongcao_slices,
        grade=Grade.SECOND,
        packaging="1 斤 袋装 (1 jin bag)",
        min_order_quantity=Decimal(20),
        order_increment=Decimal(10),
        lead_time_days=4,
        tiers=tiers(("20", "45.00"), ("100", "41.00")),
        status=Listing.Status.ACTIVE,  # no lot yet: shows as sold out
    )

    def lot(listing, code, days_ago, shares):
        contributions = [{"household": h, "quantity": Decimal(q)} for h, q in shares]
        total = sum((c["quantity"] for c in contributions), Decimal(0))
        products.lot_receive(
            listing=listing,
            code=code,
            quantity=total,
            contributions=contributions,
            harvest_date=datetime.date.today() - datetime.timedelta(days=days_ago),
        )

    lot(honey_cases, "FM-2026-09-A", 80, [(bee[0], "40"), (bee[1], "35"), (bee[3], "45")])
    lot(honey_cases, "FM-2026-10-B", 45, [(bee[2], "30"), (bee[5], "25"), (bee[4], "20")])
    lot(honey_bulk, "FM-2026-10-T1", 40, [(bee[0], "300"), (bee[3], "450"), (bee[5], "250")])
    lot(
        tongcao_first,
        "TC-2026-11-01",
        20,
        [(herb[0], "180"), (herb[1], "120"), (herb[2], "90.5"), (herb[4], "60")],
    )

    # Nanming's buyers: a farmers' market, a fresh-food supermarket chain (orders above
    # ¥20,000 need its approver) and Hema's replenishment system.
    market = buyers.organisation_create(
        name_zh="南明区农贸市场",
        name_en="Nanming Farmers' Market",
        kind=BuyerOrganisation.Kind.FARMERS_MARKET,
        credit_code=demo_credit_code("MA6DNM01K", prefix="91520102"),
        contact_phone="085185550001",
    )
    huimin = buyers.organisation_create(
        name_zh="惠民生鲜超市",
        name_en="Huimin Fresh Supermarkets",
        kind=BuyerOrganisation.Kind.SUPERMARKET_CHAIN,
        credit_code=demo_credit_code("MA6DHM02L", prefix="91520102"),
        contact_phone="085185550002",
        approval_threshold=Decimal("20000.00"),
    )
    hema = buyers.organisation_create(
        name_zh="盒马鲜生(贵阳)",
        name_en="Hema Fresh (Guiyang)",
        kind=BuyerOrganisation.Kind.SUPERMARKET_CHAIN,
        credit_code=demo_credit_code("MA6DHX03M", prefix="91520102"),
        contact_phone="085185550003",
    )
    market_hall = buyers.store_create(
        organisation=market, name="花果园农贸市场", address="贵阳市南明区花果园大街 1 号"
    )
    xinhua = buyers.store_create(
        organisation=huimin,
        name="新华路店",
        address="贵阳市南明区新华路 88 号",
        contact_name="周店长",
        contact_phone="13885100001",
    )
    buyers.store_create(organisation=huimin, name="油榨街店", address="贵阳市南明区油榨街 12 号")
    buyers.store_create(organisation=hema, name="南明万象汇店", address="贵阳市南明区花果园万象汇")
    buyers.membership_set(
        organisation=market, user=users["13800000004"], role=Membership.Role.PURCHASER
    )
    buyers.membership_set(
        organisation=huimin, user=users["13800000005"], role=Membership.Role.PURCHASER
    )
    buyers.membership_set(
        organisation=huimin, user=users["13800000007"], role=Membership.Role.APPROVER
    )
    buyers.membership_set(organisation=hema, user=partner, role=Membership.Role.PURCHASER)
    # 惠民生鲜's purchasing system: a partner account whose keys its approver (刘芳) issues
    # herself (POST /api/v1/partner-keys/), and a webhook endpoint telling it of its orders:
    # a receiver on this machine (docs/integration.md has one), so only where loopback
    # addresses are allowed (the embedded default), never in production.
    erp = user_create(
        phone="13800000008", name="惠民生鲜 ERP (partner system)", role=User.Role.PARTNER
    )
    buyers.membership_set(organisation=huimin, user=erp, role=Membership.Role.PURCHASER)
    if settings.PARTNER_WEBHOOKS_ALLOW_LOOPBACK:
        webhook_endpoint_create(
            user=users["13800000007"],
            organisation=huimin,
            url="http://127.0.0.1:9000/shitun/webhooks",
            event_types=list(BUYER_SUBSCRIBABLE),
            description="惠民生鲜 ERP (local receiver)",
        )

    today = timezone.localdate()
    products.negotiated_price_create(
        listing=honey_bulk,
        organisation=huimin,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=90),
        tiers=tiers(("50", "64.00"), ("200", "59.00")),
        note="2026 年度框架协议",
    )
    standing_order_create(
        user=users["13800000005"],
        store=xinhua,
        weekday=0,
        lead_days=3,
        lines=[{"listing": honey_bulk, "quantity": Decimal("200")}],
        note="每周一 200 公斤一级土蜂蜜 (every Monday, 200 kg grade-one honey)",
    )
    order_place(
        user=users["13800000004"],
        store=market_hall,
        lines=[
            LineRequest(honey_cases.pk, Decimal("10")),
            LineRequest(tongcao_first.pk, Decimal("20")),
        ],
        note="demo order",
    )
    _settled_order(
        staff=users["13800000001"],
        buyer=users["13800000004"],
        store=market_hall,
        honey=honey_cases,
        tongcao=tongcao_first,
    )

    # The Tuesday and Friday truck from Shitun to Nanming, and a confirmed honey order on its
    # next run with its shipment recorded: GET /api/v1/delivery-runs/ and its manifest.
    schedule_create(
        name="石屯 → 南明 周二、周五 (Tuesdays and Fridays)",
        weekdays=[1, 4],
        departure_time=datetime.time(6, 0),
        cutoff_hours=12,
    )
    travelling = order_place(
        user=users["13800000005"],
        store=xinhua,
        lines=[LineRequest(honey_bulk.pk, Decimal("100"))],
        note="demo order on the next delivery run",
    ).order.fulfilments.get()
    transitions.fulfilment_confirm(fulfilment=travelling, user=users["13800000002"])
    runs_plan()
    run = travelling.run_assignment.run
    shipment_record(
        user=users["13800000002"],
        fulfilment=travelling,
        mode="carrier",
        carrier_name="贵州长和长远物流",
        vehicle_plate="贵E·A1234",
        driver_name="韦师傅",
        driver_phone="13908590001",
        package_count=4,
        weight_kg=Decimal("104.00"),
        window_start=run.departs_at + datetime.timedelta(hours=5),
        window_end=run.departs_at + datetime.timedelta(hours=8),
    )
    _send_notices_of(travelling)
    return True


def _send_notices_of(fulfilment) -> None:
    """The travelling part's notices, sent now when they only reach the console (the demo's
    e-mail and SMS backends): the outbox then shows sent e-mails and SMS beside the inbox
    messages. With a real mail server or SMS provider configured they stay pending, for the
    worker; the demo never mails its made-up addresses by itself."""
    console = settings.EMAIL_BACKEND.rsplit(".", 2)[-2] in ("console", "locmem")
    if not (console and settings.SMS_BACKEND == "notices.sms.ConsoleSmsBackend"):
        return
    keys = [f"order_event:{pk}" for pk in fulfilment.events.values_list("pk", flat=True)]
    for notice in Notice.objects.filter(event_key__in=keys, status=Notice.Status.PENDING):
        notice_send(notice_id=notice.pk)


def _settled_order(*, staff, buyer, store, honey, tongcao) -> None:
    """An order taken all the way through the real services: paid by bank transfer once
    confirmed (a little over: the rest stays on the transfer), delivered with a quality
    rejection, the rejected goods refunded, settled, and paid out in a bank batch file the
    bank has paid, so the statements show a household split and a paid payout."""
    order = order_place(
        user=buyer,
        store=store,
        lines=[LineRequest(honey.pk, Decimal("20")), LineRequest(tongcao.pk, Decimal("40"))],
        note="demo order, settled",
    ).order
    parts = list(order.fulfilments.order_by("pk"))
    for fulfilment in parts:
        transitions.fulfilment_confirm(fulfilment=fulfilment, user=staff)
    order.refresh_from_db()
    collecting.bank_transfer_record(
        user=staff,
        organisation=order.organisation,
        bank_reference="GYB-20261120-0001",
        amount=order.total + Decimal("100.00"),  # an overpayment, kept on the transfer
        received_on=timezone.localdate(),
        payer_name=str(order.organisation),
        allocations=[collecting.AllocationRequest(order.pk)],
    )
    for fulfilment in parts:
        transitions.fulfilment_pack(fulfilment=fulfilment, user=staff)
        transitions.fulfilment_ship(fulfilment=fulfilment, user=staff)
        accepted = {
            line.pk: (line.confirmed_quantity - 2, "quality", "2 箱结晶 (2 cases crystallised)")
            for line in fulfilment.lines.filter(listing=honey)
        }
        transitions.fulfilment_deliver(fulfilment=fulfilment, user=staff, accepted=accepted)
        transitions.fulfilment_complete(fulfilment=fulfilment, user=staff)
    order.refresh_from_db()
    # The rejected honey was paid for: staff give it back (by bank, recorded as done).
    refunds.refund_give(
        user=staff,
        payment=order.payments.get(),
        amount=order_balance(order=order).overpaid,
        reason="quality",
        note="2 箱结晶退款 (2 cases crystallised, refunded)",
    )
    settlement.settlement_run(user=staff)
    payouts.bank_batch_mark_paid(batch=payouts.bank_batch_create(user=staff), user=staff)
