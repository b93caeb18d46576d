from django.urls import re_path
from rest_framework.routers import SimpleRouter

from backend.api import bounded_id_regex

from . import views

ID = bounded_id_regex()
router = SimpleRouter()
router.register("delivery-schedules", views.DeliveryScheduleViewSet, basename="delivery-schedule")
router.register("delivery-runs", views.DeliveryRunViewSet, basename="delivery-run")
router.register("shipments", views.ShipmentViewSet, basename="shipment")
urlpatterns = [
    *router.urls,
    re_path(
        r"^delivery-notes/csv/$", views.DeliveryNoteCsvView.as_view(), name="delivery-notes-csv"
    ),
    re_path(
        r"^delivery-notes/xlsx/$", views.DeliveryNoteXlsxView.as_view(), name="delivery-notes-xlsx"
    ),
    re_path(
        rf"^delivery-notes/(?P<fulfilment>{ID})/$",
        views.DeliveryNoteView.as_view(),
        name="delivery-note",
    ),
    re_path(
        rf"^delivery-notes/(?P<fulfilment>{ID})/link/$",
        views.DeliveryNoteLinkView.as_view(),
        name="delivery-note-link",
    ),
]
