from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("fulfilments", views.FulfilmentViewSet, basename="fulfilment")
router.register("standing-orders", views.StandingOrderViewSet, basename="standing-order")
urlpatterns = router.urls
