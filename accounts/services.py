from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken
from knox.settings import knox_settings

from backend.errors import DomainError

from .models import User


def user_create(
    *, phone: str, name: str, role: str, password: str | None = None, email: str = ""
) -> User:
    """Create a person or partner account. Partner accounts never get a password: they sign
    in with API keys only."""
    if role == User.Role.STAFF:
        return User.objects.create_superuser(phone, password, name=name, email=email)
    if role == User.Role.PARTNER:
        password = None
    return User.objects.create_user(phone, password, name=name, email=email, role=role)


def token_issue(*, phone: str, password: str) -> tuple[AuthToken, str]:
    """Exchange phone and password for a bearer token. The same message for an unknown phone
    and a wrong password, so the endpoint does not reveal who has an account."""
    user = authenticate(phone=phone, password=password)
    if user is None or user.role == User.Role.PARTNER:
        raise DomainError(
            _("Phone number or password is wrong."), fields={"password": [_("Wrong.")]}
        )
    return token_create(user=user)


@transaction.atomic
def token_create(*, user: User) -> tuple[AuthToken, str]:
    """Issue a bearer token; every path that issues one goes through here. A user holds at most
    TOKEN_LIMIT_PER_USER live tokens: the oldest are revoked to make room, so a phone that never
    logs out cannot lock its owner out, and the cap still holds."""
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit:
        # Serialise one user's concurrent logins so two cannot both see room for one more.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        tokens = AuthToken.objects.filter(user=user)
        tokens.filter(expiry__lt=timezone.now()).delete()
        keep = tokens.filter(Q(expiry__isnull=True) | Q(expiry__gte=timezone.now()))
        surplus = keep.order_by("-created").values_list("pk", flat=True)[limit - 1 :]
        AuthToken.objects.filter(pk__in=list(surplus)).delete()
    return AuthToken.objects.create(user)


def token_revoke(*, token: AuthToken) -> None:
    token.delete()


def tokens_revoke_all(*, user: User) -> int:
    """Sign the user out everywhere (their password changed)."""
    deleted, _per_model = AuthToken.objects.filter(user=user).delete()
    return deleted
