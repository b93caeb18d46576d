from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .health import healthz

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("", include("suppliers.urls")),
    path("", include("products.urls")),
    path("", include("buyers.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("", include("logistics.urls")),
    path("", include("partners.urls")),
    path("", include("notices.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("delivery/", include("logistics.page_urls")),
    # The cooperative manager's phone page (server-rendered, session sign-in).
    path("m/", include("mobile.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "backend.errors.bad_request"
handler403 = "backend.errors.permission_denied"
handler404 = "backend.errors.not_found"
handler500 = "backend.errors.server_error"
