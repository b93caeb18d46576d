from django.urls import path

from . import views

app_name = "mobile"

urlpatterns = [
    path("", views.today, name="today"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("f/<int:fulfilment_id>/", views.fulfilment, name="fulfilment"),
    path("f/<int:fulfilment_id>/note/", views.delivery_note, name="delivery-note"),
]
