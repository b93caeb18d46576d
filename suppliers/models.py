from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.fields import PhoneField
from backend.validators import CREDIT_CODE_REGEX, validate_credit_code

# A Stripe Connect account id as Stripe writes it: "acct_" and letters or digits.
STRIPE_ACCOUNT_REGEX = r"^acct_[A-Za-z0-9]{1,250}$"
validate_stripe_account = RegexValidator(
    STRIPE_ACCOUNT_REGEX,
    message=_("Enter a Stripe connected account id: acct_ followed by letters and digits."),
    code="invalid_stripe_account",
)
validate_stripe_account.openapi = {"pattern": STRIPE_ACCOUNT_REGEX}  # request schemas too


class Cooperative(models.Model):
    """A farmers' cooperative (农民专业合作社): the legal seller; households sell through it."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
    )
    township = models.CharField(_("township"), max_length=50, default="石屯镇")
    village = models.CharField(_("village"), max_length=50, blank=True)
    contact_phone = PhoneField(_("contact phone"))
    # Where payouts go: a bank account reference or a Stripe connected account id. Never card
    # data or full account numbers in clear.
    payout_reference = models.CharField(_("payout reference"), max_length=64, blank=True)
    # Its own field, not a kind of payout_reference: a cooperative paid by Stripe keeps its
    # bank details, which the bank batch falls back to when Stripe is off here.
    stripe_account = models.CharField(
        _("Stripe connected account"),
        max_length=255,
        blank=True,
        validators=[validate_stripe_account],
        help_text=_("acct_… when the cooperative is paid by Stripe Connect transfers."),
    )
    commission_rate = models.DecimalField(
        _("commission rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.0300"),
        help_text=_("Platform commission as a fraction of the goods value, e.g. 0.0300 = 3%."),
    )
    # A cooperative's part of an order below this value is refused (not worth a delivery run).
    min_order_value = models.DecimalField(
        _("minimum order value (CNY)"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="managed_cooperatives",
        blank=True,
        limit_choices_to={"role": "cooperative_manager"},
        verbose_name=_("managers"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("cooperative")
        verbose_name_plural = _("cooperatives")
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0) & Q(commission_rate__lt=1),
                name="cooperative_commission_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(credit_code__regex=CREDIT_CODE_REGEX),
                name="cooperative_credit_code_format",
            ),
            models.CheckConstraint(
                condition=Q(min_order_value__gte=0), name="cooperative_min_order_value_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(stripe_account="") | Q(stripe_account__regex=STRIPE_ACCOUNT_REGEX),
                name="cooperative_stripe_account_format",
            ),
            models.UniqueConstraint(
                fields=["stripe_account"],
                condition=~Q(stripe_account=""),
                name="cooperative_stripe_account_unique",
            ),
        ]

    def __str__(self):
        return self.name_zh


class Household(models.Model):
    """A member household (农户) supplying one cooperative. Personal data: visible to that
    cooperative's managers and platform staff only."""

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("cooperative"),
    )
    name = models.CharField(_("head of household"), max_length=50)
    village = models.CharField(_("village"), max_length=50)
    phone = PhoneField(_("phone"), blank=True)
    on_poverty_list = models.BooleanField(
        _("on the registered poverty list"),
        default=False,
        help_text=_("建档立卡贫困户: officially registered poor household."),
    )
    poverty_registration_no = models.CharField(
        _("poverty registration number"),
        max_length=32,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            # A household is on the list exactly when it has a registration number.
            models.CheckConstraint(
                condition=(Q(on_poverty_list=True) & ~Q(poverty_registration_no=""))
                | Q(on_poverty_list=False, poverty_registration_no=""),
                name="household_poverty_registration_consistent",
            ),
            models.UniqueConstraint(
                fields=["poverty_registration_no"],
                condition=~Q(poverty_registration_no=""),
                name="household_poverty_registration_unique",
            ),
        ]
        indexes = [models.Index(fields=["cooperative", "name"])]

    def __str__(self):
        return f"{self.name} ({self.village})"

    def clean(self):
        if self.on_poverty_list and not self.poverty_registration_no:
            raise ValidationError(
                {
                    "poverty_registration_no": _(
                        "A household on the registered poverty list needs its registration number."
                    )
                }
            )
        if not self.on_poverty_list and self.poverty_registration_no:
            raise ValidationError(
                {
                    "poverty_registration_no": _(
                        "Only households on the registered poverty list have a registration number."
                    )
                }
            )
