from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("buyers", views.BuyerOrganisationViewSet, basename="buyer")
router.register("stores", views.StoreViewSet, basename="store")
urlpatterns = router.urls
