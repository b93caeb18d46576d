from django.urls import path

from .views import account, fulfilment, lots, today

app_name = "mobile"

urlpatterns = [
    path("", today.today, name="today"),
    path("login/", account.login, name="login"),
    path("logout/", account.logout, name="logout"),
    path("f/<int:fulfilment_id>/", fulfilment.fulfilment, name="fulfilment"),
    path("f/<int:fulfilment_id>/note/", fulfilment.delivery_note, name="delivery-note"),
    path("lots/new/", lots.lot_new, name="lot-new"),
    path("lots/new/hits/", lots.hits, name="lot-hits"),
    path("lots/new/row/", lots.row, name="lot-row"),
    path("lots/<int:lot_id>/", lots.lot, name="lot"),
]
