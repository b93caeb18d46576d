from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from backend.validators import normalize_cn_phone


class UserManager(BaseUserManager):
    def create_user(self, phone, password=None, **fields):
        user = self.model(phone=normalize_cn_phone(phone), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, phone, password=None, **fields):
        fields.update(role=User.Role.STAFF, is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person or a partner system. People log in with their phone number."""

    class Role(models.TextChoices):
        STAFF = "staff", _("Platform staff")
        COOPERATIVE_MANAGER = "cooperative_manager", _("Cooperative manager")
        BUYER = "buyer", _("Buyer member")  # organisations arrive with the orders issue
        PARTNER = "partner", _("Partner system")

    phone = models.CharField(_("phone"), max_length=16, unique=True, help_text="E.164, +86…")
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Requests follow their Accept-Language; what is sent later (e-mails, notices) has no
    # request to follow, so it reads in this.
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("For e-mails and notices; empty: the platform's default language."),
    )

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Admin access (is_staff) and the platform-staff role are one and the same.
            models.CheckConstraint(
                condition=Q(is_staff=True, role="staff") | (Q(is_staff=False) & ~Q(role="staff")),
                name="user_staff_role_matches_is_staff",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["staff", "cooperative_manager", "buyer", "partner"]),
                name="user_role_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.phone})"

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_made_unusable = True

    def save(self, *args, **kwargs):
        # A new password ends every bearer token issued under the old one. It is enforced here
        # rather than in a service because Django's own paths (the admin, changepassword,
        # password reset) call set_password() and save() directly. A hash upgrade at login
        # clears _password first: the same password, not a change.
        password_changed = self.pk is not None and (
            self._password is not None or getattr(self, "_password_made_unusable", False)
        )
        super().save(*args, **kwargs)
        self._password_made_unusable = False
        if password_changed:
            from .services import tokens_revoke_all  # services import this module

            tokens_revoke_all(user=self)

    @property
    def language_for_notices(self) -> str:
        return self.language or settings.LANGUAGE_CODE

    @property
    def is_platform_staff(self) -> bool:
        return self.role == self.Role.STAFF


class PartnerApiKey(AbstractAPIKey):
    """A partner system's API key (``Authorization: Api-Key <key>``), stored hashed. It acts
    as its partner account; the orders issue ties partner accounts to a buyer organisation."""

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="api_keys",
        limit_choices_to={"role": User.Role.PARTNER},
        verbose_name=_("partner account"),
    )
    # Written at most once per PARTNER_KEY_LAST_USED_RESOLUTION (a conditional UPDATE), not on
    # every request: enough to tell a key still in use from one safe to revoke.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")
