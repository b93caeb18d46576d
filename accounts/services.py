from django.contrib.auth import authenticate
from knox.models import AuthToken

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
        raise DomainError("Phone number or password is wrong.", fields={"password": ["Wrong."]})
    return AuthToken.objects.create(user)


def token_revoke(*, token: AuthToken) -> None:
    token.delete()
