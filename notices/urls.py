from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("notices", views.NoticeViewSet, basename="notice")
router.register("outbox", views.OutboxViewSet, basename="outbox")
urlpatterns = router.urls
