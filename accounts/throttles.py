"""Sign-in limits, one rule for the API's token endpoint and the Django admin's login form:
attempts are counted per client address and per phone (however it is spelled), right and wrong
passwords alike."""

from rest_framework.throttling import SimpleRateThrottle

from .serializers import parse_login_phone


def submitted_login_phone(request):
    """The phone a login attempt names: `phone` in the API's JSON body (a DRF request), or
    `username` in the admin's login form (a Django request)."""
    data = getattr(request, "data", None)
    if data is None:
        return request.POST.get("username")
    return data.get("phone") if hasattr(data, "get") else None


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
        ident = parse_login_phone(submitted_login_phone(request))
        if ident is None:
            return None  # no account has it; the serializer or the form refuses it
        return self.cache_format % {"scope": self.scope, "ident": ident}


LOGIN_THROTTLES = (LoginIpThrottle, LoginPhoneThrottle)


def login_attempt_wait(request) -> float | None:
    """Count this login attempt; seconds to wait if a limit is reached, else None. Every
    throttle counts the attempt, as DRF does for the API view."""
    waits = []
    for throttle_class in LOGIN_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None
