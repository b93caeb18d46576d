from django.urls import path

from .views import account, fulfilment, offline, today

app_name = "mobile"

urlpatterns = [
    path("", today.today, name="today"),
    path("login/", account.login, name="login"),
    path("logout/", account.logout, name="logout"),
    path("f/<int:fulfilment_id>/", fulfilment.fulfilment, name="fulfilment"),
    path("f/<int:fulfilment_id>/note/", fulfilment.delivery_note, name="delivery-note"),
    path("sw.js", offline.service_worker, name="service-worker"),
]
