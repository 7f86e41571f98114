"""Login (password, then TOTP code), logout, logout everywhere."""

from django.urls import path

from . import views

urlpatterns = [
    path("connexion/", views.login_password, name="login"),
    path("connexion/code/", views.login_otp, name="login_otp"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("deconnexion/partout/", views.logout_everywhere, name="logout_everywhere"),
]
