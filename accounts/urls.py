from django.urls import path

from . import views

urlpatterns = [
    path("token/", views.TokenView.as_view(), name="auth-token"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="auth-me"),
]
