"""Writes of cooperatives and households."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from backend.errors import Conflict
from backend.services import model_create, model_update

from .models import Cooperative, Household


@transaction.atomic
def cooperative_create(
    *,
    name_zh: str,
    credit_code: str,
    contact_phone: str,
    name_en: str = "",
    township: str = "石屯镇",
    village: str = "",
    payout_reference: str = "",
    stripe_account: str = "",
    commission_rate: Decimal = Decimal("0.0300"),
    min_order_value: Decimal = Decimal("0"),
    is_active: bool = True,
    managers=(),
) -> Cooperative:
    cooperative = model_create(
        Cooperative,
        name_zh=name_zh,
        name_en=name_en,
        credit_code=credit_code,
        township=township,
        village=village,
        contact_phone=contact_phone,
        payout_reference=payout_reference,
        stripe_account=stripe_account,
        commission_rate=commission_rate,
        min_order_value=min_order_value,
        is_active=is_active,
    )
    cooperative.managers.set(managers)
    return cooperative


@transaction.atomic
def cooperative_update(*, cooperative: Cooperative, data: dict) -> Cooperative:
    data = dict(data)
    managers = data.pop("managers", None)
    cooperative, _changed = model_update(instance=cooperative, data=data)
    if managers is not None:
        cooperative.managers.set(managers)
    return cooperative


def household_create(
    *,
    cooperative: Cooperative,
    name: str,
    village: str,
    phone: str = "",
    on_poverty_list: bool = False,
    poverty_registration_no: str = "",
) -> Household:
    return model_create(
        Household,
        cooperative=cooperative,
        name=name,
        village=village,
        phone=phone,
        on_poverty_list=on_poverty_list,
        poverty_registration_no=poverty_registration_no,
    )


def household_update(*, household: Household, data: dict) -> Household:
    household, _changed = model_update(instance=household, data=data)
    return household


def household_delete(*, household: Household) -> None:
    """Remove a household entered by mistake. One that supplied a lot stays: traceability and
    household shares depend on it."""
    if household.contributions.exists():
        raise Conflict(
            _("This household supplied lots and cannot be deleted."),
            fields={"id": [_("Has lot contributions.")]},
        )
    household.delete()
