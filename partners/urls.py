from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("partner-keys", views.PartnerKeyViewSet, basename="partner-key")
router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")
urlpatterns = router.urls
