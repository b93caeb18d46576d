"""Pages outside /api/v1/: the delivery note behind a signed link (no account: the signature
is the credential)."""

from django.urls import path

from . import views

urlpatterns = [
    path("notes/<str:token>/", views.delivery_note_signed, name="delivery-note-signed"),
]
