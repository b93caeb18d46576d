from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.fields import PhoneField
from backend.validators import CREDIT_CODE_REGEX, validate_credit_code


class BuyerOrganisation(models.Model):
    """A Nanming buyer: a farmers' market, a supermarket or convenience chain, a food maker."""

    class Kind(models.TextChoices):
        FARMERS_MARKET = "farmers_market", _("farmers' market")
        SUPERMARKET_CHAIN = "supermarket_chain", _("supermarket chain")
        CONVENIENCE_CHAIN = "convenience_chain", _("convenience chain")
        FOOD_MAKER = "food_maker", _("food maker")
        RESTAURANT_GROUP = "restaurant_group", _("restaurant group")

    name_zh = models.CharField(_("name (Chinese)"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
    )
    contact_phone = PhoneField(_("contact phone"))
    # Orders above this total wait for an approver before cooperatives see them; null: never.
    approval_threshold = models.DecimalField(
        _("approval threshold (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # 账期: days after delivery the organisation may take to pay. 0 (the default) means it pays
    # before or at delivery; supermarkets usually get 30 or 60.
    net_terms_days = models.PositiveSmallIntegerField(
        _("net terms (days)"),
        default=0,
        help_text=_("Days after delivery the organisation may take to pay; 0: at delivery."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("buyer organisation")
        verbose_name_plural = _("buyer organisations")
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_code__regex=CREDIT_CODE_REGEX), name="buyer_credit_code_format"
            ),
            models.CheckConstraint(
                condition=Q(approval_threshold__isnull=True) | Q(approval_threshold__gte=0),
                name="buyer_approval_threshold_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(net_terms_days__lte=180), name="buyer_net_terms_days_lte_180"
            ),
        ]

    def __str__(self):
        return self.name_zh


class Store(models.Model):
    """门店: where a buyer's orders are delivered."""

    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.PROTECT,
        related_name="stores",
        verbose_name=_("buyer organisation"),
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    district = models.CharField(_("district"), max_length=50, default="南明区")
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = PhoneField(_("contact phone"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="store_name_unique"),
        ]

    def __str__(self):
        return f"{self.organisation} · {self.name}"


class Membership(models.Model):
    """A person (or partner system) acting for one buyer organisation."""

    class Role(models.TextChoices):
        PURCHASER = "purchaser", _("purchaser")
        APPROVER = "approver", _("approver")

    organisation = models.ForeignKey(
        BuyerOrganisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("buyer organisation"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="buyer_membership",
        limit_choices_to={"role__in": ["buyer", "partner"]},
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["purchaser", "approver"]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.organisation} ({self.get_role_display()})"
