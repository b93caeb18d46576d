from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("cooperatives", views.CooperativeViewSet, basename="cooperative")
router.register("households", views.HouseholdViewSet, basename="household")
urlpatterns = router.urls
