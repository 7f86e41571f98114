from django.urls import path

from . import views

app_name = "patients"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:patient_id>/", views.detail, name="detail"),
    path("<int:patient_id>/contexte/", views.clinical_context, name="clinical_context"),
    path("<int:patient_id>/allergies/", views.allergy_add, name="allergy_add"),
    path(
        "<int:patient_id>/allergies/<int:allergy_id>/supprimer/",
        views.allergy_remove,
        name="allergy_remove",
    ),
    path("<int:patient_id>/traitements/", views.treatment_add, name="treatment_add"),
    path(
        "<int:patient_id>/traitements/<int:treatment_id>/supprimer/",
        views.treatment_remove,
        name="treatment_remove",
    ),
]
