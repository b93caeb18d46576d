from django.utils.cache import patch_cache_control, patch_vary_headers


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
