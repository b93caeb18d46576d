from django.contrib.auth.backends import ModelBackend

from .models import User
from .serializers import parse_login_phone


class PhoneBackend(ModelBackend):
    """Signs people in by phone however they type it, the same in the API and the admin: the
    phone is read once, by the login serializer's field, before the password is checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        phone = parse_login_phone(kwargs.pop(User.USERNAME_FIELD, username))
        if phone is None:
            return None
        return super().authenticate(request, username=phone, password=password, **kwargs)
