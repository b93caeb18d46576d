from django.core.exceptions import ValidationError
from rest_framework.throttling import SimpleRateThrottle

from backend.validators import normalize_cn_phone


class LoginIpThrottle(SimpleRateThrottle):
    """Limits login attempts per client address."""

    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginPhoneThrottle(SimpleRateThrottle):
    """Limits login attempts per account, so guessing one password from many addresses is slow
    too."""

    scope = "login_phone"

    def get_cache_key(self, request, view):
        phone = request.data.get("phone") if hasattr(request.data, "get") else None
        if not isinstance(phone, str):
            return None
        try:
            ident = normalize_cn_phone(phone)
        except ValidationError:
            return None  # the serializer refuses it
        return self.cache_format % {"scope": self.scope, "ident": ident}
