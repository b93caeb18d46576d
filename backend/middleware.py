from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

from .errors import error_body


class PrivateRevalidateMiddleware:
    """API answers depend on who asks: shared caches must not keep them, and phones should
    revalidate with If-None-Match (a cheap 304) rather than reuse a stale copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/"):
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Authorization", "Accept-Language"])
        return response


class RequestLimitsMiddleware:
    """Refuse an over-long URL (414) or request header (431) in the one error shape.

    gunicorn is configured (docker/gunicorn.conf.py) to let such requests through to Django
    rather than answer with its own HTML page, so the limits are enforced here, where the
    answer is JSON a client can parse. First in MIDDLEWARE: nothing else reads them before."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Before LocaleMiddleware: the refusal reads in the language the request asks for.
        with translation.override(translation.get_language_from_request(request)):
            refusal = self._check(request)
        return refusal if refusal is not None else self.get_response(request)

    def _check(self, request) -> JsonResponse | None:
        # The raw path and query as the client sent them (percent-encoded), in bytes.
        url = request.META.get("RAW_URI") or request.get_full_path()
        if len(url.encode("latin-1", "replace")) > settings.MAX_URL_BYTES:
            return _refusal(
                414,
                error_body(
                    "uri_too_long",
                    _("The URL is longer than %(limit)s bytes.")
                    % {"limit": settings.MAX_URL_BYTES},
                ),
            )
        for key, value in request.META.items():
            if key.startswith("HTTP_") and len(value) > settings.MAX_HEADER_BYTES:
                name = key.removeprefix("HTTP_").replace("_", "-").title()
                return _refusal(
                    431,
                    error_body(
                        "header_too_large",
                        _("The %(header)s header is longer than %(limit)s bytes.")
                        % {"header": name, "limit": settings.MAX_HEADER_BYTES},
                        {name: [str(_("Too long."))]},
                    ),
                )
        return None


def _refusal(status: int, body: dict) -> JsonResponse:
    return JsonResponse(body, status=status)
