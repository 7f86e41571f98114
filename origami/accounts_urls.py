"""Login, second factor and logout. Replaced by the practitioners' login flow."""

from django.contrib.auth import views as auth_views
from django.urls import path

urlpatterns = [
    path("connexion/", auth_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
]
