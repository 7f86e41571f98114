from django.urls import path

from . import views

app_name = "fhir"
urlpatterns = [
    path("MedicationRequest", views.medication_requests, name="medication_requests"),
    path("Bundle/<str:bundle_id>", views.bundle, name="bundle"),
]
