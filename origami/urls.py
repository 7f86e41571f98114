from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("session/ping/", views.session_ping, name="session_ping"),
    path("", include("origami.accounts_urls")),
    path("patients/", include("origami.patients.urls")),
    path("praticiens/", include("practitioners.urls")),
    path("ordonnances/", include("prescriptions.urls")),
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
