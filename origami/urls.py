from django.contrib import admin
from django.urls import include, path

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page links: answer it, never a 404 in the console.
    path("favicon.ico", views.favicon, name="favicon"),
    # Also answered by origami.health.ProbeMiddleware before host checks and sessions.
    path("sante/", health.health_live, name="health_live"),
    path("sante/pret/", health.health_ready, name="health_ready"),
    path("metriques/", health.metrics, name="metrics"),
    path("session/ping/", views.session_ping, name="session_ping"),
    path("", include("origami.accounts_urls")),
    path("patients/", include("origami.patients.urls")),
    path("praticiens/", include("practitioners.urls")),
    path("ordonnances/", include("prescriptions.urls")),
    path("fhir/", include("prescriptions.fhir.urls")),
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
