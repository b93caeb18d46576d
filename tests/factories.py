"""factory_boy factories: one place that knows how to build valid rows for tests."""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User
from backend.validators import credit_code_check_character
from buyers.models import BuyerOrganisation, Membership, Store
from products.models import (
    Category,
    Certification,
    Grade,
    Listing,
    Lot,
    LotContribution,
    PriceTier,
    Product,
    Unit,
)
from suppliers.models import Cooperative, Household

PASSWORD = "correct-horse-battery"


def _phone(n: int) -> str:
    return f"+86139{n:08d}"


def _credit_code(n: int) -> str:
    first17 = f"93522326MA{n:07d}"
    return first17 + credit_code_check_character(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(_phone)
    name = factory.Sequence(lambda n: f"用户{n}")
    role = User.Role.BUYER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CooperativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cooperative
        skip_postgeneration_save = True

    name_zh = factory.Sequence(lambda n: f"石屯镇第{n}专业合作社")
    name_en = factory.Sequence(lambda n: f"Shitun Cooperative {n}")
    credit_code = factory.Sequence(_credit_code)
    village = "石屯村"
    contact_phone = factory.Sequence(lambda n: _phone(50_000_000 + n))
    payout_reference = "bank:demo-****0001"

    @factory.post_generation
    def managers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.managers.set(extracted)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    cooperative = factory.SubFactory(CooperativeFactory)
    name = factory.Sequence(lambda n: f"农户{n}")
    village = "石屯村"
    phone = factory.Sequence(lambda n: _phone(60_000_000 + n))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    name_zh = factory.Sequence(lambda n: f"类别{n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification
        django_get_or_create = ["code"]

    code = "organic"
    name_zh = "有机产品"
    name_en = "Organic"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name_zh = factory.Sequence(lambda n: f"产品{n}")
    name_en = factory.Sequence(lambda n: f"Product {n}")
    unit = Unit.KG


class ListingFactory(factory.django.DjangoModelFactory):
    """An active listing with 100 kg on hand and two tiers (from 10 at 68.00, from 100 at
    60.00), unless told otherwise."""

    class Meta:
        model = Listing
        skip_postgeneration_save = True

    cooperative = factory.SubFactory(CooperativeFactory)
    product = factory.SubFactory(ProductFactory)
    grade = Grade.FIRST
    unit = Unit.KG
    packaging = "25 kg drum"
    min_order_quantity = Decimal("10")
    order_increment = Decimal("5")
    stock_on_hand = Decimal("100")
    status = Listing.Status.ACTIVE

    @factory.post_generation
    def tiers(obj, create, extracted, **kwargs):
        if not create:
            return
        rows = extracted if extracted is not None else [("10", "68.00"), ("100", "60.00")]
        PriceTier.objects.bulk_create(
            PriceTier(listing=obj, min_quantity=Decimal(q), unit_price=Decimal(p)) for q, p in rows
        )

    @factory.post_generation
    def certifications(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.certifications.set(extracted)


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    listing = factory.SubFactory(ListingFactory)
    code = factory.Sequence(lambda n: f"LOT-{n:05d}")
    harvest_date = factory.LazyFunction(lambda: timezone.localdate())
    quantity = Decimal("50")


class LotContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LotContribution

    lot = factory.SubFactory(LotFactory)
    household = factory.SubFactory(HouseholdFactory)
    quantity = Decimal("50")


def _buyer_credit_code(n: int) -> str:
    first17 = f"91520102MA{n:07d}"
    return first17 + credit_code_check_character(first17)


class BuyerOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuyerOrganisation

    name_zh = factory.Sequence(lambda n: f"南明区买家{n}")
    name_en = factory.Sequence(lambda n: f"Nanming Buyer {n}")
    kind = BuyerOrganisation.Kind.SUPERMARKET_CHAIN
    credit_code = factory.Sequence(_buyer_credit_code)
    contact_phone = factory.Sequence(lambda n: _phone(70_000_000 + n))
    approval_threshold = None


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    organisation = factory.SubFactory(BuyerOrganisationFactory)
    name = factory.Sequence(lambda n: f"门店{n}")
    address = factory.Sequence(lambda n: f"贵阳市南明区新华路 {n} 号")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(BuyerOrganisationFactory)
    user = factory.SubFactory(UserFactory, role=User.Role.BUYER)
    role = Membership.Role.PURCHASER


def place_order(user, store, *lines):
    """An order placed through the service, so stock is reserved as in real life; ``lines`` are
    (listing, quantity) pairs."""
    from orders.services.placement import LineRequest, order_place

    requests = [LineRequest(listing.pk, Decimal(quantity)) for listing, quantity in lines]
    return order_place(user=user, store=store, lines=requests).order
