"""Sign-in limits, one rule for the API's token endpoint and the Django admin's login form:
attempts are counted per client address and per phone (however it is spelled), right and wrong
passwords alike."""

import math

from rest_framework.throttling import SimpleRateThrottle

from .serializers import parse_login_phone


def submitted_login_phone(request):
    """The phone a login attempt names: `phone` in the API's JSON body (a DRF request), or
    `username` in the admin's login form (a Django request)."""
    data = getattr(request, "data", None)
    if data is None:
        return request.POST.get("username")
    return data.get("phone") if hasattr(data, "get") else None


class CountingThrottle(SimpleRateThrottle):
    """A limit per fixed window of the rate's period, counted with one atomic increment per
    attempt. DRF's own throttle reads a history, appends and writes it back, so attempts that
    arrive together (one per gunicorn worker) all read the same history and all pass: a
    brute force only had to send its guesses in parallel. The price of a fixed window is that
    a burst straddling two windows may reach twice the rate once.

    When the cache is unreachable it fails open (backend/cache.py): the increment answers
    ValueError and the attempt is let through."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = f"{self.key}:{math.floor(self.now // self.duration)}"
        self.cache.add(window, 0, self.duration + 1)  # opens the window; a no-op if open
        try:
            count = self.cache.incr(window)
        except ValueError:  # the cache is unavailable, or the window closed in between
            return True
        return count <= self.num_requests

    def wait(self):
        """Seconds until the window closes."""
        return self.duration - (self.now % self.duration)


class LoginIpThrottle(CountingThrottle):
    """Limits login attempts per client address."""

    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginPhoneThrottle(CountingThrottle):
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
