from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("fulfilments", views.FulfilmentViewSet, basename="fulfilment")
router.register("purchase-imports", views.PurchaseImportViewSet, basename="purchase-import")
router.register("standing-orders", views.StandingOrderViewSet, basename="standing-order")
urlpatterns = router.urls
